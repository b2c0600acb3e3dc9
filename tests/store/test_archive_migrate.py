"""Processes opening an archive at once migrate it once (issue 14, item 7): 5 real processes, both databases.

Each process imports gongwen, then waits for the word to go, so that all five open the
archive in the same instant: a fresh archive, and one a migration behind (an upgrade of gongwen).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pipeline.db import MIGRATIONS, make_engine, upgrade
from tests.store.conftest import PG_URL, _pg_available

ROOT = Path(__file__).resolve().parents[2]
OPEN = """
import sys
import alembic.command
from pipeline.db import open_archive, current_revision
print("ready", flush=True)
sys.stdin.readline()  # everyone ready: go
archive = open_archive(sys.argv[1], sys.argv[2])
print(current_revision(archive.engine))
"""
PROCESSES = 5


def revisions() -> tuple[str, str]:
    """(head, the revision before it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    head = script.get_revision("head")
    assert head is not None and isinstance(head.down_revision, str)
    return head.revision, head.down_revision


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an archive that does not exist yet (PostgreSQL: an empty schema of its own)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/archive.sqlite"
        return
    why = _pg_available()
    if why is not None:
        pytest.skip(f"no PostgreSQL server: {why}")
    schema = f"gw_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema},public"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def open_at_once(url: str, files: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGWEN_")} | {"PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, url, str(files)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        for _ in range(PROCESSES)
    ]
    for p in procs:  # the imports take longest: wait until every process is past them
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=180) for p in procs]
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


def assert_migrated_once(url: str, results: list[subprocess.CompletedProcess[str]]) -> None:
    head, _ = revisions()
    for r in results:
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
        assert r.stdout.split() == [head]
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
        assert conn.execute(text("SELECT count(*) FROM documents")).scalar_one() == 0
    engine.dispose()


def test_five_processes_open_a_fresh_archive_at_once(fresh_url: str, tmp_path: Path) -> None:
    assert_migrated_once(fresh_url, open_at_once(fresh_url, tmp_path / "files"))


def test_five_processes_upgrade_an_archive_at_once(fresh_url: str, tmp_path: Path) -> None:
    """The archive is one migration behind the code, as after an upgrade of gongwen."""
    _, previous = revisions()
    engine = make_engine(fresh_url)
    upgrade(engine, previous)
    engine.dispose()
    assert_migrated_once(fresh_url, open_at_once(fresh_url, tmp_path / "files"))


def test_the_gram_index_is_rebuilt_from_the_stored_text_both_ways(fresh_url: str, tmp_path: Path) -> None:
    """Migration 0005 re-indexes existing letters (per-column grams with single characters): an archive
    filled, taken back to 0004 (the old bigram index, rebuilt from the text) and upgraded again finds and
    ranks the same documents as before, one character, two, many and the subject/parties ranks alike."""
    from pipeline.db import Archive
    from pipeline.extract import extract_file
    from pipeline.search import search
    from pipeline.store import ingest_file

    engine = make_engine(fresh_url)
    upgrade(engine)
    archive = Archive(engine, tmp_path / "files")
    for name in ("seed_000", "seed_003", "own_05"):
        path = ROOT / "samples" / "born_digital" / f"{name}.pdf"
        assert ingest_file(archive, path, extract=extract_file).status == "stored"
    queries = ["警", "細胞", "醫策會", "換發醫事人員卡", "台中 美容", "衛福部", "(一", "go"]

    def results() -> list[tuple[int, list[tuple[int, int]]]]:
        with archive.session() as s:
            return [(r.total, [(h.id, h.score) for h in r.hits]) for r in (search(s, q, limit=50) for q in queries)]

    before = results()
    assert all(total for total, _ in before[:6])
    from alembic import command

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
    upgrade(engine)
    assert results() == before
    engine.dispose()
