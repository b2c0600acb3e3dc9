"""The sender's 機關代碼: `documents.sender_code`, given by a DI file (docs/document-json.md#letters-from-di-files).

A printed letter does not carry it, so existing rows (all read from PDFs until now) keep null;
`gongwen export --format di` writes it back into 發文機關/機關代碼.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("sender_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+): a batch copy of `documents` would break the tables citing it
    op.drop_column("documents", "sender_code")
