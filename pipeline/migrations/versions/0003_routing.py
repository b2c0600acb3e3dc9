"""Routing: the associations registry, forwarding tasks, their audit log, routed documents.

Tasks are never deleted and the audit log is append-only: triggers refuse a DELETE of a
task and any UPDATE or DELETE of an event, on SQLite and PostgreSQL alike, so a bug or a
hand-typed SQL statement cannot rewrite what a clerk did.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER task_events_no_update BEFORE UPDATE ON task_events
       BEGIN SELECT RAISE(ABORT, 'task_events is append-only'); END""",
    """CREATE TRIGGER task_events_no_delete BEFORE DELETE ON task_events
       BEGIN SELECT RAISE(ABORT, 'task_events is append-only'); END""",
    """CREATE TRIGGER routing_tasks_no_delete BEFORE DELETE ON routing_tasks
       BEGIN SELECT RAISE(ABORT, 'routing tasks are never deleted'); END""",
]
_PG_TRIGGERS = [
    """CREATE FUNCTION gongwen_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$""",
    """CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE ON task_events
       FOR EACH ROW EXECUTE FUNCTION gongwen_refuse()""",
    """CREATE TRIGGER routing_tasks_no_delete BEFORE DELETE ON routing_tasks
       FOR EACH ROW EXECUTE FUNCTION gongwen_refuse()""",
]


def upgrade() -> None:
    op.create_table(
        "associations",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "routed_documents",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("due", sa.Date()),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_routed_documents_outcome_document_id", "routed_documents", ["outcome", "document_id"])
    op.create_table(
        "routing_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("association_id", sa.String(80), sa.ForeignKey("associations.id"), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("due", sa.Date()),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("document_id", "association_id", name="uq_routing_tasks_document_id_association_id"),
    )
    op.create_index("ix_routing_tasks_status_due_id", "routing_tasks", ["status", "due", "id"])
    op.create_index("ix_routing_tasks_association_id", "routing_tasks", ["association_id"])
    op.create_index("ix_routing_tasks_assignee", "routing_tasks", ["assignee"])
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("routing_tasks.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(12)),
        sa.Column("to_status", sa.String(12)),
        sa.Column("from_assignee", sa.String(200)),
        sa.Column("to_assignee", sa.String(200)),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_task_events_task_id_id", "task_events", ["task_id", "id"])
    for statement in _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS task_events_append_only ON task_events")
        op.execute("DROP TRIGGER IF EXISTS routing_tasks_no_delete ON routing_tasks")
        op.execute("DROP FUNCTION IF EXISTS gongwen_refuse()")
    op.drop_table("task_events")
    op.drop_table("routing_tasks")
    op.drop_table("routed_documents")
    op.drop_table("associations")
