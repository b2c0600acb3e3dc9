"""Drafts: which tasks an outgoing 轉知 letter covers (docs/routing.md#drafts).

`drafts` holds each draft `gongwen draft` (or the web queue) wrote: its letter, format, sha256,
where its bytes are kept (the file store's `drafts/` folder) and where it was written, when and
by whom; `draft_tasks` the tasks it covers (one draft with a 正本 list covers every task of
the letter it names). Nothing existing changes: older archives simply have no drafts yet.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("routing_tasks.id"), nullable=False),
        sa.Column("format", sa.String(4), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("store_path", sa.String(200), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("number", sa.String(200), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_drafts_document_id", "drafts", ["document_id"])
    op.create_table(
        "draft_tasks",
        sa.Column("draft_id", sa.Integer(), sa.ForeignKey("drafts.id"), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("routing_tasks.id"), primary_key=True),
    )
    op.create_index("ix_draft_tasks_task_id", "draft_tasks", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_draft_tasks_task_id", table_name="draft_tasks")
    op.drop_table("draft_tasks")
    op.drop_index("ix_drafts_document_id", table_name="drafts")
    op.drop_table("drafts")
