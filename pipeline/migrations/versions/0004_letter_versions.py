"""Letter versions: a letter that arrives again with other text is kept as another version.

`documents.version_of` points a later version at the letter's first stored row (the one
with `letter_key`, which citations resolve to); `documents.text_key` tells a copy (same
text: linked) from a version (other text: stored). Existing rows get their text key from
their stored search text, as ingest computes it (pipeline/rows.py `text_key`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _key(subject: str, parties: str, meta: str, body: str) -> str:
    # the same as pipeline.rows.text_key (copied: a migration does not change with the code)
    return hashlib.sha256("\x1f".join((subject, parties, meta, body)).encode()).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":  # ADD COLUMN with REFERENCES: no table rebuild
        op.execute(
            "ALTER TABLE documents ADD COLUMN version_of INTEGER "
            "CONSTRAINT fk_documents_version_of_documents REFERENCES documents (id)"
        )
    else:
        op.add_column("documents", sa.Column("version_of", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_documents_version_of_documents"), "documents", "documents", ["version_of"], ["id"])
    op.add_column("documents", sa.Column("text_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_documents_version_of"), "documents", ["version_of"], unique=False)
    page = sa.text(
        "SELECT document_id, subject, parties, meta, body FROM document_text "
        "WHERE document_id > :last ORDER BY document_id LIMIT 1000"
    )
    update = sa.text("UPDATE documents SET text_key = :k WHERE id = :i")
    last = 0
    while rows := bind.execute(page, {"last": last}).all():
        bind.execute(update, [{"i": r[0], "k": _key(*(v or "" for v in r[1:]))} for r in rows])
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_documents_version_of"), table_name="documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("text_key")
        batch.drop_column("version_of")
