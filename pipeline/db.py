"""Where the archive lives: database URL, engine, sessions, migrations and the file store.

`GONGWEN_DATABASE_URL` selects the database (docs/archive.md#where-the-archive-lives); the default is an SQLite file
in the working directory's `data/`. PostgreSQL is the production target. Opening an archive
for writing upgrades its schema to the newest Alembic revision, so `gongwen ingest` works on
an empty database and after an upgrade of gongwen alike; migrations hold a lock (PostgreSQL
advisory lock, SQLite's write lock taken at BEGIN) so that processes opening a fresh archive
at once migrate it once. Read-only commands open with `create=False`: a missing archive is
an `ArchiveMissing` error, never a new empty one.

Writes are serialised per archive (`Archive.write`): a file's transaction decides whether
its letters are new by reading what is already stored, and two concurrent writers would
both decide "new".

Durability: a commit means the letter is on disk. SQLite runs in WAL mode with
synchronous=FULL (each commit syncs the WAL) and PostgreSQL with its default
synchronous_commit=on; the original PDF is fsynced, renamed into place and its folder
fsynced before the row that names it commits (pipeline/filestore.py). A letter's rows never
point at a missing or empty original, short of a disk that lies; `gongwen fsck` finds and
repairs what other accidents leave (pipeline/fsck.py).

Errors a user can fix (a missing archive, a URL that is not one, an unreachable server, a
read-only archive) are `ArchiveError`s with a one-line message; the CLI prints that line.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from pipeline.errors import CommandError

DEFAULT_DATABASE_URL = "sqlite:///data/gongwen.sqlite"
DEFAULT_FILES_DIR = "data/files"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# any fixed numbers: the keys of the PostgreSQL advisory locks that serialise archive writes
# and migrations (per database: every schema of one database shares them)
_PG_WRITE_LOCK = 0x6F6E6777656E  # "gongwen"
_PG_MIGRATE_LOCK = 0x6F6E6777656E + 1


class ArchiveError(CommandError):
    """A problem with the archive that the user can fix: its message is one line saying what to do."""

    exit_code = 1


class ArchiveMissing(ArchiveError):
    """A read-only command found no archive where it looked."""

    exit_code = 2


class BadDatabaseUrl(ArchiveError):
    exit_code = 2


class ArchiveUnreachable(ArchiveError):
    pass


class ArchiveReadOnly(ArchiveError):
    pass


def _url_source(url: str | None) -> str:
    if url:
        return "the database URL"
    if os.environ.get("GONGWEN_DATABASE_URL"):
        return "GONGWEN_DATABASE_URL"
    return "the default archive"


def database_url(url: str | None = None) -> str:
    """The archive's SQLAlchemy URL: `url`, else $GONGWEN_DATABASE_URL, else the SQLite default.

    A bare `postgresql://` URL means psycopg 3 (the driver gongwen ships with).
    """
    chosen = url or os.environ.get("GONGWEN_DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(chosen)
    except ArgumentError:
        hint = f"sqlite:///{Path(chosen).expanduser().resolve()}" if "://" not in chosen else "postgresql://user@host/db"
        raise BadDatabaseUrl(
            f"{_url_source(url)} is not a database URL: {chosen!r}; give an SQLAlchemy URL, e.g. {hint}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def files_dir(path: str | Path | None = None, url: str | None = None) -> Path:
    """The content-addressed store of original PDFs.

    `path`, else $GONGWEN_FILES_DIR, else `files/` beside an SQLite archive (so the two
    travel together: data/files for the default), else data/files.
    """
    chosen = path or os.environ.get("GONGWEN_FILES_DIR")
    if chosen:
        return Path(chosen)
    database = sqlite_path(url, absolute=False)
    return database.parent / "files" if database is not None else Path(DEFAULT_FILES_DIR)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # the driver's own transaction handling is switched off: `_sqlite_begin` emits BEGIN itself
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout = 60000")  # first: switching a fresh file to WAL waits for the lock
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")  # readers (search) do not block the ingest
    cur.execute("PRAGMA synchronous = FULL")  # WAL + FULL: a commit is on disk when it returns
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # a writer takes the write lock when it begins, not at its first write: a deferred
    # transaction that read before another writer committed could not upgrade its lock
    mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("gongwen_write") else "BEGIN"
    conn.exec_driver_sql(mode)


def sqlite_path(url: str | None = None, *, absolute: bool = True) -> Path | None:
    """The file of an SQLite archive, None for another database or `:memory:`.

    `sqlite:///file:PATH?mode=ro&uri=true` (SQLite's URI form, e.g. a read-only archive) names PATH.
    """
    parsed = make_url(database_url(url))
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:")
    path = Path(database).expanduser()
    return path.resolve() if absolute else path


def make_engine(url: str | None = None, *, create: bool = True) -> Engine:
    """An engine for the archive at `url` (see `database_url`); creates SQLite's folder if `create`."""
    resolved = make_url(database_url(url))
    try:
        if resolved.get_backend_name() == "sqlite":
            database = sqlite_path(url)
            if create and database is not None:
                database.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(resolved, poolclass=NullPool if resolved.database == ":memory:" else None)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        # no server-side prepared statements: psycopg prepares a statement after five runs, and a
        # plan made while the archive was nearly empty (sequential scans) then stays as it grows
        return create_engine(resolved, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    except (NoSuchModuleError, ArgumentError) as exc:
        raise BadDatabaseUrl(f"{_url_source(url)}: {exc}; use sqlite:///PATH or postgresql://user@host/db") from None
    except PermissionError as exc:
        raise ArchiveReadOnly(f"cannot create the archive's folder {exc.filename}: permission denied") from None


# `revision = "0004"`, `down_revision: str | None = "0003"` (or None) in a migration file
_REVISION_LINE = re.compile(r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(None|'[^'\n]*'|"[^"\n]*")\s*$""", re.M)


def _head_from_files() -> str | None:
    """The head of the migration files read as text, when they form one plain chain; None otherwise.

    Every command that opens the archive compares its revision with the head: Alembic's script
    loader would cost it 0.1-0.2 s of imports (a third of `gongwen search`). Anything this
    reading does not know (a merge, a branch, a file without the two lines) is left to Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        if path.name.startswith(("__init__", ".#")):  # what Alembic skips too
            continue
        found = {m[1]: m[2] for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))}
        if set(found) != {"revision", "down_revision"} or found["revision"] == "None":
            return None
        revisions.add(found["revision"][1:-1])
        if found["down_revision"] != "None":
            parents.add(found["down_revision"][1:-1])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents < revisions else None


@cache
def head_revision() -> str:
    """The newest migration gongwen ships."""
    head = _head_from_files()
    if head is not None:
        return head
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the archive's schema to `revision` with Alembic (no alembic.ini needed).

    One process at a time: the transaction takes the migration lock first (PostgreSQL: an
    advisory lock; SQLite: BEGIN IMMEDIATE), so a process that waited finds the schema
    already at `revision` and does nothing.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.execution_options(gongwen_write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The archive's revision, None for a database Alembic never migrated.

    Alembic's version table read directly (Alembic itself is imported only to migrate); it
    holds one row, except after a branched migration, where Alembic's own error says so.
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@dataclass
class Archive:
    """An open archive: its engine, a session factory and the file store folder."""

    engine: Engine
    files: Path
    # what writers may remember between transactions (committed rows only: never rolled back)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _sessions: sessionmaker[Session] = field(init=False, repr=False)
    _writer: Engine = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = self.engine.execution_options(gongwen_write=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        """A session for reading (search, show)."""
        return self._sessions()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction holding the archive's write lock; commits, or rolls back on error."""
        with self._writer.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_WRITE_LOCK})
            yield conn

    def check_writable(self) -> None:
        """Raise `ArchiveReadOnly` unless both the database and the file store take writes.

        Asked once before a batch, so that a read-only archive is one line, not one error per file.
        """
        try:
            with self.write() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                raise _Undo  # nothing is written
        except _Undo:
            pass
        except DBAPIError as exc:  # SQLite: a read-only file; PostgreSQL: a role without rights, a read-only server
            raise ArchiveReadOnly(
                f"the archive {self.url} does not take writes ({_first_line(exc)}): "
                "check its permissions, or ingest into another archive (GONGWEN_DATABASE_URL)"
            ) from None
        try:
            self.files.mkdir(parents=True, exist_ok=True)
            probe = self.files / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ArchiveReadOnly(
                f"the file store {self.files.resolve()} does not take writes ({exc.strerror or exc}): "
                "check its permissions, or set GONGWEN_FILES_DIR"
            ) from None


class _Undo(Exception):
    """Rolls a probe transaction back."""


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


_open: dict[tuple[str, str], Archive] = {}
_open_lock = threading.Lock()


def open_archive(
    url: str | None = None, files: str | Path | None = None, *, migrate: bool = True, create: bool = True
) -> Archive:
    """The archive at `url` with its schema at head; one engine per URL and process.

    `create=False` (read-only commands): a missing archive raises `ArchiveMissing` saying where
    it was looked for, and nothing is created. An existing archive is still upgraded.
    """
    key = (database_url(url), str(files_dir(files, url)))
    with _open_lock:
        archive = _open.get(key)
        if archive is None:
            sqlite_file = sqlite_path(key[0])
            if not create and sqlite_file is not None and not sqlite_file.is_file():
                raise ArchiveMissing(_missing(url, str(sqlite_file)))
            engine = make_engine(key[0], create=create)
            try:
                found = current_revision(engine)
                if not create and found is None:
                    raise ArchiveMissing(_missing(url, str(sqlite_file or engine.url.render_as_string(hide_password=True))))
                if migrate and found != head_revision():
                    upgrade(engine)
            except OperationalError as exc:
                engine.dispose()
                where = sqlite_file or engine.url.render_as_string(hide_password=True)
                if "readonly" in str(exc).replace("-", "").replace(" ", "").lower():
                    raise ArchiveReadOnly(
                        f"the archive {where} needs an upgrade and does not take writes ({_first_line(exc)}): "
                        "run gongwen ingest once with write access"
                    ) from None
                raise ArchiveUnreachable(
                    f"cannot open the archive database {where} ({_first_line(exc)}): "
                    "check GONGWEN_DATABASE_URL and that the database server is running"
                ) from None
            except ArchiveError:
                engine.dispose()
                raise
            archive = Archive(engine, Path(key[1]))
            _open[key] = archive
        return archive


def _missing(url: str | None, where: str) -> str:
    return (
        f"no archive at {where} ({_url_source(url)}, looked for from {Path.cwd()}): "
        "run gongwen ingest first, or set GONGWEN_DATABASE_URL to the archive"
    )


def close_archives() -> None:
    """Dispose every engine `open_archive` made (tests, and before a process forks)."""
    with _open_lock:
        for archive in _open.values():
            archive.engine.dispose()
        _open.clear()
