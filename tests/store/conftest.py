"""Archive fixtures: every store test runs on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database `test`, user `postgres`;
$GONGWEN_TEST_POSTGRES_URL overrides it). Each test session migrates a schema of its own
(dropped at the end) so parallel runs do not collide; each test starts from empty tables.
A PostgreSQL test is skipped only when no server answers, and fails instead when
$GONGWEN_REQUIRE_POSTGRES is set (`.ci/run` sets it: CI must run them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pipeline.db import Archive, close_archives, make_engine, upgrade
from pipeline.extract import extract_file
from schemas.letter import FileResult
from schemas.orm import Base

PG_URL = os.environ.get("GONGWEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", "postgresql"]
# every table a test may fill, children first
TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]


def _pg_available() -> str | None:
    """None when a server answers, else why not."""
    engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A migrated schema of this session's own on the PostgreSQL server; its URL sets search_path."""
    why = _pg_available()
    if why is not None and os.environ.get("GONGWEN_REQUIRE_POSTGRES"):
        pytest.fail(f"GONGWEN_REQUIRE_POSTGRES is set (CI) and no PostgreSQL server answers at {PG_URL}: {why}")
    if why is not None:
        pytest.skip(f"no PostgreSQL server answers at {make_url(PG_URL).render_as_string()}: {why}")
    schema = f"gw_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # in public, so that every session's schema sees its operator classes; another
        # session may create it at the same moment
        with contextlib.suppress(Exception):
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema},public"})
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    upgrade(engine)
    engine.dispose()
    try:
        yield rendered
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite archive, copied for each test (migrating each time costs more)."""
    path = tmp_path_factory.mktemp("template") / "archive.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated archive database of the parametrised backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "archive.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_schema_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join([*TABLES, 'document_grams'])} RESTART IDENTITY CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def archive(db_url: str, tmp_path: Path) -> Iterator[Archive]:
    arch = Archive(make_engine(db_url), tmp_path / "files")
    yield arch
    arch.engine.dispose()


@pytest.fixture
def env(db_url: str, archive: Archive, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The CLI's archive is the test's (`archive`): for commands run with CliRunner."""
    monkeypatch.setenv("GONGWEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(archive.files))
    yield
    close_archives()


_extracted: dict[Path, FileResult] = {}


@pytest.fixture(scope="session")
def extract() -> Callable[[Path], FileResult]:
    """The real extractor, run once per file per session (a fresh copy each call)."""

    def cached(path: Path, *, sha256: str | None = None) -> FileResult:
        key = path.resolve()
        if key not in _extracted:
            _extracted[key] = extract_file(path, sha256=sha256)
        result = _extracted[key].model_copy(deep=True)
        result.file = str(path)
        return result

    return cached


@pytest.fixture(scope="session")
def forwarded_letter_pdf(tmp_path_factory: pytest.TempPathFactory, samples_dir: Path) -> Path:
    """Pages 3-4 of seed_000 on their own: 醫評字第1120100216A號, the letter the cover letter forwards."""
    out = tmp_path_factory.mktemp("pdfs") / "forwarded_A.pdf"
    src = pdfium.PdfDocument(samples_dir / "seed_000.pdf")
    new = pdfium.PdfDocument.new()
    new.import_pages(src, [2, 3])
    new.save(out)
    new.close()
    src.close()
    return out


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Inputs that fail: not a PDF, an empty file, and a PDF with no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    root = tmp_path_factory.mktemp("bad")
    not_pdf = root / "notes.pdf"
    not_pdf.write_text("this is not a PDF", encoding="utf-8")
    empty = root / "empty.pdf"
    empty.write_bytes(b"")
    blank = root / "blank.pdf"
    c = canvas.Canvas(str(blank), pagesize=A4)
    c.rect(100, 100, 200, 200)
    c.showPage()
    c.save()
    return {"not_pdf": not_pdf, "empty": empty, "blank": blank}
