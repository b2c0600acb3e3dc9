"""What users type and where they run it: any input gets a result or one line (issue 14, items 6, 8, 9).

Every known failure is one line on stderr, exit 1 or 2 (docs/cli.md#exit-codes), no traceback unless
`gongwen --debug`; read-only commands never create an archive.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import Archive, close_archives
from pipeline.store import ingest_file
from schemas.letter import FileResult
from tests.store.conftest import PG_URL

Extract = Callable[[Path], FileResult]
runner = CliRunner()
GONGWEN = [sys.executable, "-m", "pipeline.cli"]
ROOT = Path(__file__).resolve().parents[2]


def one_line(output: str) -> str:
    """The output, asserted to be exactly one line without a traceback."""
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    return lines[0]


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"GONGWEN_DATABASE_URL": db_url, "GONGWEN_FILES_DIR": str(tmp_path / "files")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    yield values
    close_archives()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("GONGWEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("GONGWEN_FILES_DIR", raising=False)
    yield
    close_archives()


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """`gongwen ARGS` in a real process (what a user runs: no test harness between)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("GONGWEN_")} | env
    full["PYTHONPATH"] = str(ROOT)
    return subprocess.run([*GONGWEN, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


@pytest.fixture
def fresh_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose schema exists but holds no archive."""
    schema = f"gw_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server: the SQLite half of the test still runs elsewhere
        admin.dispose()
        pytest.skip(f"no PostgreSQL server: {exc}")
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# -- item 8: show takes anything ------------------------------------------------------------


def test_show_answers_any_input_with_a_result_or_not_found(
    env: dict[str, str], archive: Archive, extract: Extract, samples_dir: Path
) -> None:
    ingest_file(archive, samples_dir / "seed_003.pdf", extract=extract)
    for ref in ["²", "١٢", "99999999999999999999999", "11238765400", "2147483648", "0", "  ", "\x00", "%", "字第號"]:
        result = runner.invoke(app, ["show", ref])
        assert result.exit_code == 1, (ref, result.output, result.exception)
        assert one_line(result.output).startswith("not in the archive"), ref
    found = runner.invoke(app, ["show", "1"])
    assert found.exit_code == 0 and "#1 letter" in found.stdout


# -- item 6: read-only commands never create an archive --------------------------------------


def test_search_and_show_refuse_a_missing_sqlite_archive_and_create_nothing(
    clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default archive is data/gongwen.sqlite under the working directory
    for args in (["search", "醫"], ["show", "1"], ["search", "--sender", "衛福部"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        line = one_line(result.output)
        assert str(tmp_path / "data" / "gongwen.sqlite") in line and "gongwen ingest" in line
    monkeypatch.setenv("GONGWEN_DATABASE_URL", f"sqlite:///{tmp_path}/typo/archive.sqlite")
    result = runner.invoke(app, ["show", "1"])
    assert result.exit_code == 2 and str(tmp_path / "typo" / "archive.sqlite") in one_line(result.output)
    assert "GONGWEN_DATABASE_URL" in result.output
    assert list(tmp_path.iterdir()) == []  # no data/, no typo/, no files/


def test_search_refuses_a_postgresql_database_without_an_archive(
    clean_env: None, fresh_pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGWEN_DATABASE_URL", fresh_pg_schema)
    result = runner.invoke(app, ["search", "醫"])
    assert result.exit_code == 2 and one_line(result.output).startswith("gongwen: no archive at")
    engine = create_engine(fresh_pg_schema)
    with engine.connect() as conn:  # nothing was created in the schema
        assert conn.execute(text("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")).scalar_one() == 0
    engine.dispose()


# -- item 9: unusable databases --------------------------------------------------------------


def test_a_plain_path_as_the_database_url_is_a_usage_error(tmp_path: Path, samples_dir: Path) -> None:
    for args in (["search", "醫"], ["ingest", str(samples_dir / "seed_003.pdf")]):
        result = run(*args, cwd=tmp_path, GONGWEN_DATABASE_URL="data/archive.sqlite")
        assert result.returncode == 2, result.stderr
        line = one_line(result.stderr)
        assert "not a database URL" in line and f"sqlite:///{tmp_path}/data/archive.sqlite" in line
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_one_line_and_debug_shows_the_traceback(tmp_path: Path, samples_dir: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:9/test"  # the discard port: nothing listens
    for args in (["search", "醫"], ["show", "1"], ["ingest", str(samples_dir / "seed_003.pdf")]):
        result = run(*args, cwd=tmp_path, GONGWEN_DATABASE_URL=url)
        assert result.returncode == 1, result.stderr
        line = one_line(result.stderr)
        assert "cannot open the archive database" in line and "127.0.0.1:9" in line and "GONGWEN_DATABASE_URL" in line
    debug = run("--debug", "search", "醫", cwd=tmp_path, GONGWEN_DATABASE_URL=url)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_ingest_into_a_read_only_archive_is_one_line(
    backend: str, db_url: str, tmp_path: Path, samples_dir: Path
) -> None:
    """SQLite opened read-only (as a file without write permission is); a read-only PostgreSQL session."""
    if backend == "sqlite":
        path = make_url(db_url).database
        url = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        url = make_url(db_url).update_query_dict(
            {"options": f"{make_url(db_url).query['options']} -cdefault_transaction_read_only=on"}
        ).render_as_string(hide_password=False)
    result = run("ingest", str(samples_dir / "seed_003.pdf"), GONGWEN_DATABASE_URL=url,
                 GONGWEN_FILES_DIR=str(tmp_path / "files"))
    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert "does not take writes" in line and "readonly" in line.replace("-", "").replace(" ", "")
