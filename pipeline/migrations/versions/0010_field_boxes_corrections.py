"""Where each field was printed (`field_boxes`) and the reviewers' corrections (`field_corrections`).

`field_boxes`: one row per field and page of a document's first file, the box in fractions of the
page (docs/document-json.md#boxes). Letters stored before have none (the letter page then draws
no box); ingesting their PDF again does not add them (the file is a duplicate).

`field_corrections`: a value a reviewer corrected in the web app's review page (docs/web.md#review),
kept apart from what the extractor stored (both kept: the documents row is never rewritten), with
who and when; append-only like the task audit log, the latest row for a field is its value.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER field_corrections_no_update BEFORE UPDATE ON field_corrections
       BEGIN SELECT RAISE(ABORT, 'field_corrections is append-only'); END""",
    """CREATE TRIGGER field_corrections_no_delete BEFORE DELETE ON field_corrections
       BEGIN SELECT RAISE(ABORT, 'field_corrections is append-only'); END""",
]
# gongwen_refuse() is migration 0003's
_PG_TRIGGERS = [
    """CREATE TRIGGER field_corrections_append_only BEFORE UPDATE OR DELETE ON field_corrections
       FOR EACH ROW EXECUTE FUNCTION gongwen_refuse()""",
]


def upgrade() -> None:
    op.create_table(
        "field_boxes",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id", name="fk_field_boxes_document_id_documents"),
                  nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("x0", sa.Float(), nullable=False),
        sa.Column("y0", sa.Float(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("document_id", "field", "position", name="pk_field_boxes"),
    )
    op.create_table(
        "field_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(),
                  sa.ForeignKey("documents.id", name="fk_field_corrections_document_id_documents"), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_field_corrections_document_id_field", "field_corrections", ["document_id", "field", "id"])
    for statement in _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS field_corrections_append_only ON field_corrections")
    op.drop_index("ix_field_corrections_document_id_field", "field_corrections")
    op.drop_table("field_corrections")
    op.drop_table("field_boxes")
