"""The mail room's flow `ingest-inbox`: files stored then moved, bad files quarantined with a reason,
and a run killed with SIGKILL finished by the next one (every file stored once, none lost)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
from pipeline.db import close_archives
from pipeline.flows import inbox_flow, list_inbox, move_file
from pipeline.reader import sha256_of
from schemas.orm import StoredFile

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "samples" / "born_digital"
KILL_FILES = ["own_03", "own_05", "own_06", "own_07", "own_11", "own_14", "own_16", "own_20", "own_21", "own_24"]


def _inbox(root: Path, names: list[str]) -> Path:
    inbox = root / "inbox"
    (inbox / "scanner-2").mkdir(parents=True)
    for i, name in enumerate(names):
        target = inbox / ("scanner-2" if i % 3 == 2 else "") / f"{name}.pdf"
        shutil.copyfile(SAMPLES / f"{name}.pdf", target)
        os.utime(target, (time.time() - 7200, time.time() - 7200))
    return inbox


def test_inbox_run_moves_done_files_and_quarantines_bad_ones(tmp_path: Path, sqlite_template: Path,
                                                             bad_files: dict[str, Path],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "archive.sqlite"
    shutil.copyfile(sqlite_template, db)
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))
    inbox = _inbox(tmp_path, ["seed_003", "own_05"])
    shutil.copyfile(SAMPLES / "own_05.pdf", inbox / "own_05 again.pdf")
    for name in ("not_pdf", "empty"):
        shutil.copyfile(bad_files[name], inbox / bad_files[name].name)
    fresh = inbox / "still-scanning.pdf"
    shutil.copyfile(SAMPLES / "own_14.pdf", fresh)  # written just now: left for the next run
    for p in inbox.glob("*.pdf"):
        if p != fresh:
            os.utime(p, (time.time() - 7200, time.time() - 7200))
    run = inbox_flow([str(inbox)], database_url=f"sqlite:///{db}", files_dir=str(tmp_path / "files"), settle_s=600)
    close_archives()
    by_name = {Path(f.report.path).name: f for f in run.files}
    assert set(by_name) == {"seed_003.pdf", "own_05.pdf", "own_05 again.pdf", "notes.pdf", "empty.pdf"}
    day = sorted((inbox / "processed").iterdir())
    assert len(day) == 1 and len(day[0].name) == 10  # processed/YYYY-MM-DD/
    assert sorted(p.name for p in day[0].iterdir()) == ["own_05 again.pdf", "own_05.pdf", "seed_003.pdf"]
    assert sorted(p.name for p in (inbox / "quarantine").iterdir()) == ["empty.pdf", "empty.pdf.json", "notes.pdf",
                                                                        "notes.pdf.json"]
    sidecar = json.loads((inbox / "quarantine" / "notes.pdf.json").read_text(encoding="utf-8"))
    assert sidecar["status"] == "quarantined" and "not a PDF" in sidecar["reason"] and sidecar["sha256"]
    assert [p.name for p in list_inbox(inbox, inbox / "processed", inbox / "quarantine", settle_s=0)] == [
        "still-scanning.pdf"]
    assert run.summary.stored == 2 and run.summary.duplicate == 1 and len(run.quarantined()) == 2
    assert run.routing is not None and run.routing.tasks_created == 22 and run.routing.triage == 1
    assert run.pages == 5 and "| 5 |" in run.markdown() and "not a PDF" in run.markdown()


def test_move_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.pdf").write_bytes(b"one")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.pdf").write_bytes(b"two")
    moved = move_file(tmp_path / "a" / "x.pdf", tmp_path / "b", "abcdef0123456789")
    assert moved.name == "x-abcdef012345.pdf" and moved.read_bytes() == b"one"
    assert (tmp_path / "b" / "x.pdf").read_bytes() == b"two" and not (tmp_path / "a" / "x.pdf").exists()


def _stored(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='files'")).first():
                return []
            return list(conn.scalars(select(StoredFile.sha256).where(StoredFile.status == "stored")))
    finally:
        engine.dispose()


def test_killed_with_sigkill_mid_run_the_next_run_finishes(tmp_path: Path, sqlite_template: Path) -> None:
    """A real process killed with SIGKILL while storing; the next run stores every file exactly once."""
    db = tmp_path / "archive.sqlite"
    shutil.copyfile(sqlite_template, db)
    url = f"sqlite:///{db}"
    inbox = _inbox(tmp_path, KILL_FILES)
    shas = {sha256_of(p) for p in inbox.rglob("*.pdf")}
    env = {**os.environ, "GONGWEN_DATABASE_URL": url, "GONGWEN_FILES_DIR": str(tmp_path / "files"),
           "GONGWEN_CONFIG_DIR": str(ROOT / "config"), "PREFECT_LOGGING_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "pipeline.cli", "ingest", "--inbox", str(inbox)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None and len(_stored(url)) < 2:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the run and Prefect's temporary server with it
    proc.wait(timeout=60)
    killed_at = len(_stored(url))
    assert 2 <= killed_at < len(KILL_FILES)
    again = subprocess.run([*cmd, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-2000:]
    stored = _stored(url)
    assert sorted(stored) == sorted(shas)  # every file stored, and once
    left = [p for p in inbox.rglob("*") if p.is_file() and "processed" not in p.parts]
    assert left == []  # nothing in the inbox, nothing quarantined
    done = [p for p in (inbox / "processed").rglob("*") if p.is_file()]
    assert sorted(sha256_of(p) for p in done) == sorted(shas) and not [p for p in done if p.name.startswith(".")]
    payload = json.loads(again.stdout)
    assert {f["status"] for f in payload["files"]} <= {"stored", "duplicate"}
    engine = create_engine(url)
    with engine.connect() as conn:  # nothing half-stored: every stored file has its documents
        orphans = conn.scalar(text(
            "SELECT count(*) FROM files f WHERE f.status = 'stored' AND NOT EXISTS "
            "(SELECT 1 FROM appearances a WHERE a.file_id = f.id)"))
        assert orphans == 0
        assert conn.scalar(select(func.count()).select_from(StoredFile)) == len(shas)
    engine.dispose()


def test_serve_flows_runs_the_inbox_on_its_schedule(tmp_path: Path, sqlite_template: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded scheduler (no Prefect server): a 6-field cron (seconds last) fires, the run files the inbox."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    db = tmp_path / "archive.sqlite"
    shutil.copyfile(sqlite_template, db)
    monkeypatch.setenv("GONGWEN_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    inbox = _inbox(tmp_path, ["own_05"])
    runner = CliRunner()
    bad = runner.invoke(app, ["serve-flows", "--inbox", str(inbox), "--cron", "every morning"])
    assert bad.exit_code == 2 and "not a cron expression" in bad.stderr
    result = runner.invoke(app, ["serve-flows", "--inbox", str(inbox), "--cron", "* * * * * */2", "--max-runs", "1"])
    close_archives()
    assert result.exit_code == 0, result.output
    assert "1 files: 1 new" in result.stdout
    assert [p.name for p in (inbox / "processed").rglob("*.pdf")] == ["own_05.pdf"]
