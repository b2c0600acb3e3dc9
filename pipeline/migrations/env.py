"""Alembic environment: run on the connection `pipeline.db.upgrade` passes, or on a URL.

`alembic -c pipeline/migrations/alembic.ini upgrade head` works too; it takes the URL
from GONGWEN_DATABASE_URL (or the SQLite default), like the `gongwen` command.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pipeline.db import make_engine
from schemas.orm import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: the schema differs per dialect")
run_migrations_online()
