"""A notice's numbered 主旨 blocks: `documents.notices`, the `notices` list as JSON text (docs/document-json.md).

A notice printing several 主旨 (`一、主旨：…說明：…　二、主旨：…`) kept only its first block in the
`subject` column and the items; the others were lost to `show`, the golden export and the search
text written anew after a correction. One column of JSON text, like a correction's value: the
blocks are read back whole and never filtered on (their words are in `document_text`).

Letters stored before have null (no notices), as a letter with one 主旨 has.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("notices", sa.Text(), nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+): a batch copy of `documents` would break the tables citing it
    op.drop_column("documents", "notices")
