"""Where the archive lives: database URL, engine, sessions, migrations and the file store.

`GONGWEN_DATABASE_URL` selects the database (GONGWEN.md §7); the default is an SQLite file
in the working directory's `data/`. PostgreSQL is the production target. Opening an archive
upgrades its schema to the newest Alembic revision, so `gongwen ingest` works on an empty
database and after an upgrade of gongwen alike.

Writes are serialised per archive (`Archive.write`): a file's transaction decides whether
its letters are new by reading what is already stored, and two concurrent writers would
both decide "new".

Durability: SQLite runs in WAL mode with synchronous=NORMAL and PostgreSQL writers commit
with synchronous_commit=off. Both make the same promise: a power cut or server crash may
undo the last instant of committed transactions, never half of one, and never corrupts.
The archive is derived from PDFs that stay where they are, and ingest is idempotent, so
the next run stores such files again; in exchange a commit costs no disk flush (on this
machine kind ~4 ms a file in PostgreSQL).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

DEFAULT_DATABASE_URL = "sqlite:///data/gongwen.sqlite"
DEFAULT_FILES_DIR = "data/files"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# any fixed number: the key of the PostgreSQL advisory lock that serialises archive writes
_PG_WRITE_LOCK = 0x6F6E6777656E  # "gongwen"


def database_url(url: str | None = None) -> str:
    """The archive's SQLAlchemy URL: `url`, else $GONGWEN_DATABASE_URL, else the SQLite default.

    A bare `postgresql://` URL means psycopg 3 (the driver gongwen ships with).
    """
    chosen = url or os.environ.get("GONGWEN_DATABASE_URL") or DEFAULT_DATABASE_URL
    parsed = make_url(chosen)
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
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database).expanduser().parent / "files"
    return Path(DEFAULT_FILES_DIR)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # the driver's own transaction handling is switched off: `_sqlite_begin` emits BEGIN itself
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")  # readers (search) do not block the ingest
    cur.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: durable at checkpoints, never corrupt
    cur.execute("PRAGMA busy_timeout = 60000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # a writer takes the write lock when it begins, not at its first write: a deferred
    # transaction that read before another writer committed could not upgrade its lock
    mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("gongwen_write") else "BEGIN"
    conn.exec_driver_sql(mode)


def make_engine(url: str | None = None) -> Engine:
    """An engine for the archive at `url` (see `database_url`); creates SQLite's folder."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        if resolved.database and resolved.database != ":memory:":
            Path(resolved.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, poolclass=NullPool if resolved.database == ":memory:" else None)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # no server-side prepared statements: psycopg prepares a statement after five runs, and a
    # plan made while the archive was nearly empty (sequential scans) then stays as it grows
    return create_engine(resolved, pool_pre_ping=True, connect_args={"prepare_threshold": None})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the archive's schema to `revision` with Alembic (no alembic.ini needed)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
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
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k), set_config('synchronous_commit', 'off', true)"),
                    {"k": _PG_WRITE_LOCK},
                )
            yield conn


_open: dict[tuple[str, str], Archive] = {}
_open_lock = threading.Lock()


def open_archive(url: str | None = None, files: str | Path | None = None, *, migrate: bool = True) -> Archive:
    """The archive at `url` with its schema at head; one engine per URL and process."""
    key = (database_url(url), str(files_dir(files, url)))
    with _open_lock:
        archive = _open.get(key)
        if archive is None:
            engine = make_engine(key[0])
            if migrate:
                upgrade(engine)
            archive = Archive(engine, Path(key[1]))
            _open[key] = archive
        return archive


def close_archives() -> None:
    """Dispose every engine `open_archive` made (tests, and before a process forks)."""
    with _open_lock:
        for archive in _open.values():
            archive.engine.dispose()
        _open.clear()
