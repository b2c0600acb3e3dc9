"""A commit means the letter and its original are on disk; `gongwen fsck` repairs the rest (issue 14, item 2).

Fault injection with real processes: a child stores one extracted PDF and is killed
(SIGKILL, nothing runs after) at each step of storing it; then the archive's rows and its
file store must agree (no row without its original, ever), or `fsck --fix` makes them agree
and the next ingest stores the file. Both databases.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import Archive, close_archives
from pipeline.fsck import ORPHANED, fsck
from pipeline.store import ingest_file, store_result
from schemas.letter import FileResult
from schemas.orm import DocumentRow, StoredFile

Extract = Callable[[Path], FileResult]
ROOT = Path(__file__).resolve().parents[2]
# the child: store one extracted file, killed at STEP
CHILD = """
import os, signal, sys
from pathlib import Path
from sqlalchemy import event
import pipeline.filestore as filestore
import pipeline.store as store
import pipeline.writer as writer
from pipeline.db import Archive, make_engine
from schemas.letter import FileResult

step, url, files, result_json, pdf = sys.argv[1:]
def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)

def after(fn):
    def wrapped(*a, **k):
        out = fn(*a, **k)
        die()
        return out
    return wrapped

archive = Archive(make_engine(url), Path(files))
if step == "mid-copy":  # the copy is written, not yet renamed into place
    filestore.os.replace = die
elif step == "after-copy":
    store.keep_original = after(store.keep_original)
elif step == "after-rows":  # every row written, the transaction open
    writer._SQLite.write = after(writer._SQLite.write)
    writer._PostgreSQL.write = after(writer._PostgreSQL.write)
elif step == "before-commit":
    event.listen(archive.engine, "commit", die)
elif step == "after-commit":
    store._store = after(store._store)
result = FileResult.model_validate_json(Path(result_json).read_text())
store.store_result(archive, result, Path(pdf))
print("not killed")
"""
STEPS = ["mid-copy", "after-copy", "after-rows", "before-commit", "after-commit"]


def file_rows(archive: Archive) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count()).select_from(StoredFile)) or 0


@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_of_storing_a_file_rows_and_store_agree(
    archive: Archive, db_url: str, extract: Extract, samples_dir: Path, tmp_path: Path, step: str
) -> None:
    pdf = samples_dir / "seed_003.pdf"
    result = extract(pdf)
    (tmp_path / "result.json").write_text(result.model_dump_json())
    child = subprocess.run(
        [sys.executable, "-c", CHILD, step, db_url, str(archive.files), str(tmp_path / "result.json"), str(pdf)],
        env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-3000:]

    found = fsck(archive)
    assert found.missing == []  # never a row without its original
    committed = step == "after-commit"
    assert file_rows(archive) == (1 if committed else 0)
    if committed:
        assert found.clean and found.originals == 1
    else:  # the copy was made (or begun) before the rows: an orphan, which --fix moves aside
        assert len(found.orphans) == 1 and found.rows == 0
        repaired = fsck(archive, fix=True)
        assert len(repaired.moved) == 1 and Path(repaired.moved[0]).is_relative_to(archive.files / ORPHANED)
        assert fsck(archive).clean

    again = ingest_file(archive, pdf, extract=extract)
    assert again.status == ("duplicate" if committed else "stored")
    after = fsck(archive)
    assert after.clean and after.rows == after.originals == 1
    with archive.session() as s:
        stored = s.scalars(select(StoredFile)).one()
        assert s.scalar(select(func.count()).select_from(DocumentRow)) == 2
    assert (archive.files / str(stored.store_path)).read_bytes() == pdf.read_bytes()


def test_fsck_marks_a_row_whose_original_is_lost_and_a_reingest_restores_it(
    archive: Archive, extract: Extract, samples_dir: Path
) -> None:
    lost, damaged = samples_dir / "seed_003.pdf", samples_dir / "seed_000.pdf"
    reports = [ingest_file(archive, p, extract=extract) for p in (lost, damaged)]
    with archive.session() as s:
        where = {r.path: archive.files / str(r.store_path) for r in s.scalars(select(StoredFile))}
    where[str(lost)].unlink()
    where[str(damaged)].write_bytes(b"")  # what a power cut without fsync could leave
    found = fsck(archive)
    assert {(m.path, m.problem) for m in found.missing} == {
        (str(lost), "missing"), (str(damaged), f"size 0, expected {damaged.stat().st_size}")}
    fixed = fsck(archive, fix=True)
    assert sorted(fixed.marked) == sorted(r.file_id for r in reports if r.file_id is not None)
    assert len(fixed.moved) == 1  # the damaged file, moved aside
    assert fsck(archive).clean  # nothing claims an original any more
    for p in (lost, damaged):
        again = ingest_file(archive, p, extract=extract)
        assert (again.status, again.restored) == ("duplicate", True)
        assert where[str(p)].read_bytes() == p.read_bytes()
    final = fsck(archive)
    assert final.clean and final.rows == 2


def test_commits_wait_for_the_disk(archive: Archive) -> None:
    """SQLite syncs the WAL at each commit (synchronous=FULL); PostgreSQL keeps synchronous_commit on."""
    with archive.write() as conn:
        if archive.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        else:
            assert conn.execute(text("SHOW synchronous_commit")).scalar_one() == "on"


def test_fsck_command(
    archive: Archive, db_url: str, extract: Extract, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGWEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(archive.files))
    store_result(archive, extract(samples_dir / "seed_003.pdf"), samples_dir / "seed_003.pdf")
    stray = archive.files / "ab" / "stray.pdf"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"%PDF-1.4")
    runner = CliRunner()
    try:
        checked = runner.invoke(app, ["fsck", "--json"])
        assert checked.exit_code == 1, checked.output
        assert json.loads(checked.stdout)["orphans"] == ["ab/stray.pdf"]
        fixed = runner.invoke(app, ["fsck", "--fix"])
        assert fixed.exit_code == 0 and "moved" in fixed.stdout and not stray.exists()
        clean = runner.invoke(app, ["fsck"])
        assert clean.exit_code == 0 and "clean" in clean.stdout
    finally:
        close_archives()
