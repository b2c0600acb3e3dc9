"""The routing queue in the archive: route stored documents into tasks, and clear tasks.

`route_archive` reads stored documents in batches (plain column reads, no ORM objects: a
100,000-letter archive routes in under a minute), decides with `Router.route` and writes
tasks, their `created` events and a `routed_documents` row per document in one
transaction per batch, under the archive's write lock: a document is routed whole or not
at all, and two `gongwen route` runs never make a task twice (one task per document and
association, enforced by a unique constraint as well).

Clerks' actions (`claim`, `done`, `reject`, `reassign`) read the task with a row lock
(PostgreSQL `FOR UPDATE`; SQLite takes the database write lock when the transaction
begins), check it and write it with an audit event in the same transaction: of two clerks
claiming one task at the same moment exactly one wins, the other is told who holds it.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update
from sqlalchemy.orm import Session

from pipeline.db import Archive
from pipeline.errors import CommandError
from pipeline.routing.engine import Router
from schemas.orm import (
    AssociationRow,
    Citation,
    DocumentRow,
    Draft,
    DraftTask,
    ItemRow,
    Party,
    ReceivedStamp,
    RoutedDocument,
    RoutingTask,
    TaskEvent,
)
from schemas.routing import OPEN_STATUSES, Association, Decision, RoutingInput

TAIPEI = ZoneInfo("Asia/Taipei")
BATCH = 1000
SYSTEM_ACTOR = "gongwen route"
MANUAL_RULE = "manual"  # the rule name of a task a clerk adds by hand (from triage)


class QueueError(CommandError):
    """A clerk's action that cannot be done; `exit_code` per docs/cli.md#exit-codes (1: refused, 2: usage)."""


def actor_name(given: str | None = None) -> str:
    """Who is acting: `--as`, else $GONGWEN_USER, else the login name."""
    if given and given.strip():
        return given.strip()
    env = os.environ.get("GONGWEN_USER", "").strip()
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def today() -> datetime.date:
    """The office's calendar day (Taiwan), whatever the server's time zone."""
    return datetime.datetime.now(TAIPEI).date()


# -- registry -------------------------------------------------------------------


def sync_associations(conn: Connection, associations: Sequence[Association]) -> dict[str, int]:
    """Make the associations table match the registry; a body no longer listed becomes inactive."""
    stored = {r.id: r for r in conn.execute(select(AssociationRow.id, AssociationRow.name, AssociationRow.aliases,
                                                   AssociationRow.tags, AssociationRow.contact, AssociationRow.active))}
    counts = {"added": 0, "changed": 0, "deactivated": 0}
    now = _now()
    for a in associations:
        values = {
            "name": a.name,
            "aliases": json.dumps(a.aliases, ensure_ascii=False),
            "tags": json.dumps(a.tags, ensure_ascii=False),
            "contact": json.dumps(a.contact.model_dump(exclude_none=True), ensure_ascii=False) if a.contact else None,
            "active": True,
        }
        old = stored.get(a.id)
        if old is None:
            conn.execute(insert(AssociationRow).values(id=a.id, updated_at=now, **values))
            counts["added"] += 1
        elif any(getattr(old, k) != v for k, v in values.items()):
            conn.execute(update(AssociationRow).where(AssociationRow.id == a.id).values(updated_at=now, **values))
            counts["changed"] += 1
    gone = [i for i, r in stored.items() if r.active and i not in {a.id for a in associations}]
    if gone:
        conn.execute(update(AssociationRow).where(AssociationRow.id.in_(gone)).values(active=False, updated_at=now))
        counts["deactivated"] = len(gone)
    return counts


# -- reading documents ------------------------------------------------------------


def _to_taipei_date(value: datetime.datetime) -> datetime.date:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(TAIPEI).date()


def _among(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`, or the range they span when they are dense (a batch of consecutive documents):
    building and parsing an IN list of 1,000 parameters (SQLAlchemy, psycopg) costs more than skipping
    the few rows in between. Callers keep only the rows of `ids`."""
    if ids and max(ids) - min(ids) < 2 * len(ids):
        return column.between(min(ids), max(ids))  # type: ignore[no-any-return]
    return column.in_(ids)  # type: ignore[no-any-return]


def load_inputs(conn: Connection, ids: Sequence[int]) -> list[RoutingInput]:
    """What routing reads of the documents `ids`, in five reads for the whole batch."""
    d = DocumentRow
    wanted = set(ids)
    docs: dict[int, RoutingInput] = {}
    for r in conn.execute(
        select(d.id, d.kind, d.created_at, d.doc_number, d.form_number, d.sender, d.recipient, d.doc_type, d.speed,
               d.security, d.subject, d.attachments, d.title, d.due, d.deadline, d.version_of)
        .where(_among(d.id, ids)).order_by(d.id)
    ):
        if r.id not in wanted:
            continue
        docs[r.id] = RoutingInput(
            document_id=r.id, kind=r.kind, ingested=_to_taipei_date(r.created_at),
            doc_number=r.doc_number or r.form_number, sender=r.sender, recipient=r.recipient, doc_type=r.doc_type,
            speed=r.speed, security=r.security, subject=r.subject, attachments=r.attachments, title=r.title,
            form_due=r.due, deadline=r.deadline, version_of=r.version_of,
        )
    for item in conn.execute(
        select(ItemRow.document_id, ItemRow.section, ItemRow.text).where(_among(ItemRow.document_id, ids))
        .order_by(ItemRow.document_id, ItemRow.section, ItemRow.seq)
    ):
        if item.section in ("explanation", "measures") and item.document_id in docs:
            getattr(docs[item.document_id], item.section).append(item.text)
    for party in conn.execute(
        select(Party.document_id, Party.role, Party.name).where(_among(Party.document_id, ids), Party.role != "sender")
        .order_by(Party.document_id, Party.id)
    ):
        if party.document_id not in docs:
            continue
        doc = docs[party.document_id]
        if party.role in ("cc_main", "cc_copy", "distribution"):
            getattr(doc, party.role).append(party.name)
        elif party.role in ("attendee", "observer"):
            doc.addressees.append(party.name)
    for cite in conn.execute(
        select(Citation.document_id, Citation.doc_number).where(_among(Citation.document_id, ids))
        .order_by(Citation.document_id, Citation.position)
    ):
        if cite.document_id in docs:
            docs[cite.document_id].references.append(cite.doc_number)
    for stamp in conn.execute(
        select(ReceivedStamp.document_id, func.min(ReceivedStamp.date).label("first"))
        .where(_among(ReceivedStamp.document_id, ids)).group_by(ReceivedStamp.document_id)
    ):
        if stamp.document_id in docs:
            docs[stamp.document_id].received = stamp.first
    return [docs[i] for i in ids if i in docs]


# -- routing ------------------------------------------------------------------------


@dataclass
class RouteSummary:
    """The end of a `gongwen route`: documents and tasks, counted."""

    routed: int = 0
    triage: int = 0
    ignored: int = 0
    tasks_created: int = 0
    tasks_unchanged: int = 0
    tasks_stale: int = 0
    tasks_matching_again: int = 0
    skipped: int = 0
    registry: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list, repr=False)

    @property
    def documents(self) -> int:
        """Every document routed has one outcome: the documents are their sum, never counted apart."""
        return self.routed + self.triage + self.ignored

    def line(self) -> str:
        stale = f", {self.tasks_stale} marked stale" if self.tasks_stale else ""
        again = f", {self.tasks_matching_again} matching again" if self.tasks_matching_again else ""
        return (
            f"{self.documents} documents routed: {self.routed} to associations, {self.triage} to triage, "
            f"{self.ignored} ignored; {self.tasks_created} tasks made, {self.tasks_unchanged} already there{stale}{again}; "
            f"{self.skipped} targets skipped (already have the letter, or not in the registry)"
        )

    @staticmethod
    def short_line(summary: RouteSummary | None) -> str:
        """What an ingest run says of its routing step."""
        if summary is None:
            return "routing: skipped (see the log; gongwen route routes later)"
        return (f"routing: {summary.tasks_created} tasks made, {summary.triage} documents to triage "
                f"({summary.documents} documents routed)")

    def to_json(self) -> dict[str, Any]:
        out = {"documents": self.documents, **asdict(self)}
        out["decisions"] = [d.to_json() for d in self.decisions]
        return out


def _unrouted_ids(conn: Connection, after: int, limit: int, everything: bool) -> list[int]:
    q = select(DocumentRow.id).where(DocumentRow.id > after).order_by(DocumentRow.id).limit(limit)
    if not everything:
        q = q.where(~select(RoutedDocument.document_id).where(RoutedDocument.document_id == DocumentRow.id).exists())
    return list(conn.scalars(q))


def _write_decisions(conn: Connection, decisions: Sequence[Decision], summary: RouteSummary, everything: bool) -> None:
    ids = [d.document_id for d in decisions if d.document_id is not None]
    batch = set(ids)
    outcomes_before = {
        doc_id: outcome for doc_id, outcome in conn.execute(
            select(RoutedDocument.document_id, RoutedDocument.outcome).where(_among(RoutedDocument.document_id, ids)))
        if doc_id in batch
    }
    routed_before = set(outcomes_before)
    if not everything:  # another run routed them since we looked
        decisions = [d for d in decisions if d.document_id not in routed_before]
    deciding = [d.document_id for d in decisions if d.document_id is not None]
    in_batch = set(deciding)
    existing: dict[tuple[int, str], Any] = {
        (r.document_id, r.association_id): r
        for r in conn.execute(
            select(RoutingTask.id, RoutingTask.document_id, RoutingTask.association_id, RoutingTask.status,
                   RoutingTask.stale, RoutingTask.rule).where(_among(RoutingTask.document_id, deciding))
        )
        if r.document_id in in_batch
    }
    now = _now()
    new_tasks: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for decision in decisions:
        doc_id = decision.document_id
        assert doc_id is not None
        setattr(summary, decision.outcome, getattr(summary, decision.outcome) + 1)
        summary.skipped += sum(1 for s in decision.skipped)
        wanted = {t.association for t in decision.targets}
        for target in decision.targets:
            old = existing.get((doc_id, target.association))
            if old is None:
                new_tasks.append({"document_id": doc_id, "association_id": target.association, "rule": target.rule,
                                  "reason": target.reason, "status": "pending", "assignee": None, "due": decision.due,
                                  "stale": False, "created_at": now, "updated_at": now})
            elif old.stale:
                conn.execute(update(RoutingTask).where(RoutingTask.id == old.id).values(stale=False, updated_at=now))
                events.append(_event(old.id, "matches-again", old.status, old.status, None,
                                     f"rule {target.rule!r} asks for it again", now))
                summary.tasks_matching_again += 1
            else:
                summary.tasks_unchanged += 1
        for (task_doc, association), old in existing.items():
            # a task a clerk made by hand is the clerk's decision: no rule has to ask for it
            if task_doc == doc_id and association not in wanted and not old.stale and old.rule != MANUAL_RULE:
                conn.execute(update(RoutingTask).where(RoutingTask.id == old.id).values(stale=True, updated_at=now))
                events.append(_event(old.id, "stale", old.status, old.status, None,
                                     "no rule asks for this association any more; review and reject it if so", now))
                summary.tasks_stale += 1
    if new_tasks:
        created = conn.execute(insert(RoutingTask).returning(RoutingTask.id, RoutingTask.rule), new_tasks).all()
        for row in created:
            events.append(_event(row.id, "created", None, "pending", None, f"rule {row.rule!r}", now))
        summary.tasks_created += len(created)
    if events:
        conn.execute(insert(TaskEvent), events)
    fresh = [d for d in decisions if d.document_id not in routed_before]
    if fresh:
        conn.execute(insert(RoutedDocument), [
            {"document_id": d.document_id, "outcome": d.outcome, "due": d.due,
             "report": json.dumps(d.to_json(), ensure_ascii=False), "routed_at": now} for d in fresh
        ])
    handled = {doc for (doc, _), old in existing.items() if old.rule == MANUAL_RULE}
    for d in decisions:
        if d.document_id in routed_before:
            outcome: str = d.outcome
            if outcome == "triage" and outcomes_before[d.document_id] == "filed":
                outcome = "filed"  # a clerk filed it: routing again does not send it back to triage
            elif outcome == "triage" and d.document_id in handled:
                outcome = "routed"
            conn.execute(update(RoutedDocument).where(RoutedDocument.document_id == d.document_id).values(
                outcome=outcome, due=d.due, report=json.dumps(d.to_json(), ensure_ascii=False), routed_at=now))


def _event(task_id: int, action: str, before: str | None, after: str | None, assignee: str | None,
           note: str | None, at: datetime.datetime, actor: str = SYSTEM_ACTOR,
           from_assignee: str | None = None) -> dict[str, Any]:
    return {"task_id": task_id, "at": at, "actor": actor, "action": action, "from_status": before,
            "to_status": after, "from_assignee": from_assignee, "to_assignee": assignee, "note": note}


def route_archive(
    archive: Archive, router: Router, *, everything: bool = False, ids: Sequence[int] | None = None,
    batch: int = BATCH, keep_decisions: bool = False,
) -> RouteSummary:
    """Route every stored document not yet routed (`everything`: all of them again; `ids`: those only)."""
    summary = RouteSummary()
    with archive.write() as conn:
        summary.registry = sync_associations(conn, router.config.associations)
    for chunk in _chunks(archive, ids, everything, batch):
        with archive.engine.connect() as conn:
            inputs = load_inputs(conn, chunk)
        decisions = [router.route(doc) for doc in inputs]
        with archive.write() as conn:
            _write_decisions(conn, decisions, summary, everything)
        if keep_decisions:
            summary.decisions.extend(decisions)
    summary.warnings = list(dict.fromkeys(router.guard.warnings))
    return summary


@dataclass
class Preview:
    """What `gongwen route --all` would change with these rules, computed without writing anything."""

    documents: int = 0
    new_tasks: list[dict[str, Any]] = field(default_factory=list)  # {document_id, doc_number, association, rule}
    stale_tasks: list[dict[str, Any]] = field(default_factory=list)  # {task, document_id, association, status}
    to_triage: list[int] = field(default_factory=list)  # documents routed before that no rule would route now
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def preview(archive: Archive, router: Router, batch: int = BATCH) -> Preview:
    """Route every stored document in memory and compare with the queue: a rule edit's effect, before it is made."""
    out = Preview()
    for chunk in _chunks(archive, None, True, batch):
        with archive.engine.connect() as conn:
            inputs = load_inputs(conn, chunk)
            tasks: dict[tuple[int, str], Any] = {
                (r.document_id, r.association_id): r for r in conn.execute(
                    select(RoutingTask.id, RoutingTask.document_id, RoutingTask.association_id, RoutingTask.status,
                           RoutingTask.rule, RoutingTask.stale).where(RoutingTask.document_id.in_(chunk)))
            }
            outcomes = dict(conn.execute(select(RoutedDocument.document_id, RoutedDocument.outcome)
                                         .where(RoutedDocument.document_id.in_(chunk))).all())
        for doc in inputs:
            decision = router.route(doc)
            doc_id = doc.document_id
            assert doc_id is not None
            out.documents += 1
            wanted = {t.association for t in decision.targets}
            for t in decision.targets:
                if (doc_id, t.association) not in tasks:
                    out.new_tasks.append({"document_id": doc_id, "doc_number": doc.doc_number,
                                          "association": t.association, "rule": t.rule})
            for (task_doc, association), row in tasks.items():
                if task_doc == doc_id and association not in wanted and not row.stale and row.rule != MANUAL_RULE:
                    out.stale_tasks.append({"task": row.id, "document_id": doc_id, "association": association,
                                            "status": row.status})
            if decision.outcome == "triage" and outcomes.get(doc_id) == "routed" and not any(
                    r.rule == MANUAL_RULE for (d, _), r in tasks.items() if d == doc_id):
                out.to_triage.append(doc_id)
    out.warnings = list(dict.fromkeys(router.guard.warnings))
    return out


def _chunks(archive: Archive, ids: Sequence[int] | None, everything: bool, batch: int) -> Iterator[list[int]]:
    if ids is not None:
        wanted = sorted(set(ids))
        for i in range(0, len(wanted), batch):
            chunk = wanted[i : i + batch]
            if not everything:
                with archive.engine.connect() as conn:
                    done = set(conn.scalars(select(RoutedDocument.document_id).where(RoutedDocument.document_id.in_(chunk))))
                chunk = [c for c in chunk if c not in done]
            if chunk:
                yield chunk
        return
    after = 0
    while True:
        with archive.engine.connect() as conn:
            chunk = _unrouted_ids(conn, after, batch, everything)
        if not chunk:
            return
        yield chunk
        after = chunk[-1]


# -- the queue ------------------------------------------------------------------------


@dataclass
class QueueFilters:
    status: str | None = None  # a task status, or "open" (pending + claimed)
    overdue: bool = False
    assignee: str | None = None
    association: str | None = None
    document_id: int | None = None
    limit: int = 50


def _history(session: Session | Connection, task_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not task_ids:
        return out
    e = TaskEvent
    for row in session.execute(
        select(e.task_id, e.at, e.actor, e.action, e.from_status, e.to_status, e.to_assignee, e.note)
        .where(e.task_id.in_(task_ids)).order_by(e.task_id, e.id)
    ):
        out[row.task_id].append({
            "at": _iso(row.at), "actor": row.actor, "action": row.action, "from": row.from_status,
            "to": row.to_status, "assignee": row.to_assignee, "note": row.note,
        })
    return out


def _drafts(session: Session, task_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The latest draft covering each task (docs/routing.md#drafts), with every task it covers."""
    if not task_ids:
        return {}
    latest = (select(DraftTask.task_id, func.max(DraftTask.draft_id).label("draft_id"))
              .where(DraftTask.task_id.in_(task_ids)).group_by(DraftTask.task_id).subquery())
    rows = session.execute(select(latest.c.task_id, Draft).join(Draft, Draft.id == latest.c.draft_id)).all()
    draft_ids = {d.id for _, d in rows}
    covers: dict[int, list[int]] = defaultdict(list)
    for draft_id, task_id in session.execute(select(DraftTask.draft_id, DraftTask.task_id)
                                             .where(DraftTask.draft_id.in_(draft_ids)).order_by(DraftTask.task_id)):
        covers[draft_id].append(task_id)
    return {
        task_id: {"id": d.id, "format": d.format, "sha256": d.sha256, "path": d.path, "store_path": d.store_path,
                  "written_for": d.task_id, "tasks": covers[d.id], "created_by": d.created_by,
                  "created_at": _iso(d.created_at)}
        for task_id, d in rows
    }


def _iso(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.isoformat(timespec="seconds")


def _task_query() -> Any:
    t = RoutingTask
    return (
        select(t.id, t.document_id, DocumentRow.doc_number, DocumentRow.form_number, DocumentRow.subject,
               DocumentRow.title, DocumentRow.speed, DocumentRow.sender, t.association_id, AssociationRow.name.label("association_name"),
               t.rule, t.reason, t.status, t.assignee, t.due, t.stale, t.created_at)
        .join(DocumentRow, DocumentRow.id == t.document_id)
        .join(AssociationRow, AssociationRow.id == t.association_id)
    )


def _task_json(row: Any, history: list[dict[str, Any]], draft: dict[str, Any] | None = None) -> dict[str, Any]:
    """The task object of docs/routing.md#tasks (and, after `history`, what a list shows beside it)."""
    return {
        "id": row.id,
        "document_id": row.document_id,
        "doc_number": row.doc_number or row.form_number,
        "association": row.association_id,
        "rule": row.rule,
        "reason": row.reason,
        "status": row.status,
        "assignee": row.assignee,
        "due": row.due.isoformat() if row.due else None,
        "created_at": _iso(row.created_at),
        "history": history,
        "draft": draft,
    }


@dataclass
class TaskView:
    """A task as the queue shows it: the task object and what a clerk reads beside it."""

    task: dict[str, Any]
    association_name: str
    subject: str | None
    sender: str | None
    speed: str | None
    stale: bool
    overdue: bool


def list_tasks(session: Session, filters: QueueFilters) -> tuple[list[TaskView], int]:
    """Tasks, most urgent first (overdue, then by due date, then oldest), and how many match in all."""
    t = RoutingTask
    conditions: list[ColumnElement[bool]] = []
    if filters.status == "open" or filters.status is None:
        conditions.append(t.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        conditions.append(t.status == filters.status)
    if filters.overdue:
        conditions.append(and_(t.due < today(), t.status.in_(OPEN_STATUSES)))
    if filters.assignee:
        conditions.append(t.assignee == filters.assignee)
    if filters.association:
        conditions.append(t.association_id == filters.association)
    if filters.document_id is not None:
        conditions.append(t.document_id == filters.document_id)
    total = session.scalar(select(func.count()).select_from(t).where(*conditions)) or 0
    # the page's tasks first, from the tasks alone; then their documents (joined for 50 tasks, not 10,000)
    order = (t.due.is_(None), t.due, t.id)
    page = select(t.id).where(*conditions).order_by(*order).limit(filters.limit).subquery()
    rows = session.execute(_task_query().join(page, page.c.id == t.id).order_by(*order)).all()
    history = _history(session, [r.id for r in rows])
    drafts = _drafts(session, [r.id for r in rows])
    day = today()
    views = [
        TaskView(_task_json(r, history.get(r.id, []), drafts.get(r.id)), r.association_name, r.subject or r.title, r.sender, r.speed,
                 bool(r.stale), bool(r.due and r.due < day and r.status in OPEN_STATUSES))
        for r in rows
    ]
    return views, total


def get_task(session: Session, task_id: int) -> TaskView | None:
    row = session.execute(_task_query().where(RoutingTask.id == task_id)).one_or_none()
    if row is None:
        return None
    history = _history(session, [row.id])
    draft = _drafts(session, [row.id]).get(row.id)
    return TaskView(_task_json(row, history.get(row.id, []), draft), row.association_name, row.subject or row.title,
                    row.sender, row.speed, bool(row.stale),
                    bool(row.due and row.due < today() and row.status in OPEN_STATUSES))


def triage_list(session: Session, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """Documents no rule routed, newest first: a clerk decides where each goes."""
    r, d = RoutedDocument, DocumentRow
    total = session.scalar(select(func.count()).select_from(r).where(r.outcome == "triage")) or 0
    rows = session.execute(
        select(r.document_id, r.due, r.routed_at, d.kind, d.doc_number, d.form_number, d.sender, d.subject, d.title,
               d.issue_date, d.speed)
        .join(d, d.id == r.document_id).where(r.outcome == "triage").order_by(r.document_id.desc()).limit(limit)
    ).all()
    return [
        {"document_id": x.document_id, "kind": x.kind, "doc_number": x.doc_number or x.form_number,
         "sender": x.sender, "subject": x.subject or x.title, "issue_date": x.issue_date.isoformat() if x.issue_date else None,
         "speed": x.speed, "due": x.due.isoformat() if x.due else None, "routed_at": _iso(x.routed_at)}
        for x in rows
    ], total


def _locked_task(conn: Connection, task_id: int) -> Any:
    row = conn.execute(
        select(RoutingTask.id, RoutingTask.status, RoutingTask.assignee).where(RoutingTask.id == task_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise QueueError(f"no task #{task_id} (gongwen queue list shows the open ones)")
    return row


_VERBS = {"done": "mark done", "rejected": "reject", "reassigned": "reassign"}


def _change(archive: Archive, task_id: int, actor: str, action: str, *, status: str, assignee: str | None,
            note: str | None, allowed: Sequence[str], holder_may_only: bool) -> None:
    with archive.write() as conn:
        row = _locked_task(conn, task_id)
        if row.status not in allowed:
            last = conn.execute(select(TaskEvent.actor, TaskEvent.at).where(TaskEvent.task_id == task_id)
                                .order_by(TaskEvent.id.desc()).limit(1)).one_or_none()
            by = f" (by {last.actor} at {_iso(last.at)})" if last is not None else ""
            raise QueueError(f"task #{task_id} is {row.status}{by}: cannot {_VERBS[action]} it")
        if holder_may_only and row.status == "claimed" and row.assignee not in (None, actor):
            raise QueueError(f"task #{task_id} is claimed by {row.assignee}; ask them, or reassign it with "
                             f"gongwen queue reassign {task_id} --to NAME")
        now = _now()
        conn.execute(update(RoutingTask).where(RoutingTask.id == task_id)
                     .values(status=status, assignee=assignee, updated_at=now))
        conn.execute(insert(TaskEvent), [_event(task_id, action, row.status, status, assignee, note, now, actor,
                                                from_assignee=row.assignee)])


def claim(archive: Archive, task_id: int, actor: str) -> None:
    with archive.write() as conn:
        row = _locked_task(conn, task_id)
        if row.status == "claimed":
            if row.assignee == actor:
                return  # already yours: claiming again changes nothing
            raise QueueError(f"task #{task_id} is already claimed by {row.assignee}")
        if row.status != "pending":
            raise QueueError(f"task #{task_id} is {row.status}: nothing to claim")
        now = _now()
        conn.execute(update(RoutingTask).where(RoutingTask.id == task_id, RoutingTask.status == "pending")
                     .values(status="claimed", assignee=actor, updated_at=now))
        conn.execute(insert(TaskEvent), [_event(task_id, "claimed", "pending", "claimed", actor, None, now, actor)])


def done(archive: Archive, task_id: int, actor: str, note: str | None = None) -> None:
    _change(archive, task_id, actor, "done", status="done", assignee=actor, note=note,
            allowed=OPEN_STATUSES, holder_may_only=True)


def reject(archive: Archive, task_id: int, actor: str, reason: str) -> None:
    if not reason.strip():
        raise QueueError("--reason must say why the task is rejected", exit_code=2)
    _change(archive, task_id, actor, "rejected", status="rejected", assignee=actor, note=reason.strip(),
            allowed=OPEN_STATUSES, holder_may_only=True)


def reassign(archive: Archive, task_id: int, actor: str, to: str, note: str | None = None) -> None:
    if not to.strip():
        raise QueueError("--to must name the clerk who takes the task", exit_code=2)
    _change(archive, task_id, actor, "reassigned", status="claimed", assignee=to.strip(), note=note,
            allowed=OPEN_STATUSES, holder_may_only=False)


def add_task(archive: Archive, document_id: int, association: str, actor: str, note: str | None = None) -> int:
    """A task a clerk makes by hand (a letter from triage, a target no rule knows); returns its id."""
    with archive.write() as conn:
        if conn.scalar(select(DocumentRow.id).where(DocumentRow.id == document_id)) is None:
            raise QueueError(f"no document #{document_id} in the archive (gongwen search finds it)")
        body = conn.execute(select(AssociationRow.id, AssociationRow.active).where(AssociationRow.id == association)).one_or_none()
        if body is None or not body.active:
            raise QueueError(f"{association!r} is not in the associations registry (config/associations.yaml; "
                             "gongwen route syncs it)", exit_code=2)
        old = conn.scalar(select(RoutingTask.id).where(RoutingTask.document_id == document_id,
                                                        RoutingTask.association_id == association))
        if old is not None:
            raise QueueError(f"document #{document_id} already has task #{old} for {association}")
        routed = conn.execute(select(RoutedDocument.outcome, RoutedDocument.due)
                              .where(RoutedDocument.document_id == document_id)).one_or_none()
        now = _now()
        task_id = conn.execute(insert(RoutingTask).returning(RoutingTask.id), [{
            "document_id": document_id, "association_id": association, "rule": MANUAL_RULE,
            "reason": f"added by {actor}" + (f": {note}" if note else ""), "status": "pending", "assignee": None,
            "due": routed.due if routed is not None else None, "stale": False, "created_at": now, "updated_at": now,
        }]).scalar_one()
        conn.execute(insert(TaskEvent), [_event(task_id, "created", None, "pending", None, note, now, actor)])
        if routed is not None and routed.outcome in ("triage", "filed", "ignored"):
            conn.execute(update(RoutedDocument).where(RoutedDocument.document_id == document_id).values(outcome="routed"))
        return int(task_id)


def file_document(archive: Archive, document_id: int, actor: str, note: str | None = None) -> None:
    """Take a document out of triage without forwarding it (filed: 存查); the report records who and why."""
    with archive.write() as conn:
        row = conn.execute(select(RoutedDocument.outcome, RoutedDocument.report)
                           .where(RoutedDocument.document_id == document_id).with_for_update()).one_or_none()
        if row is None:
            raise QueueError(f"document #{document_id} has not been routed (run gongwen route first)")
        if row.outcome != "triage":
            raise QueueError(f"document #{document_id} is not in triage (it is {row.outcome})")
        report = json.loads(row.report)
        report["filed"] = {"by": actor, "at": _iso(_now()), "note": note}
        conn.execute(update(RoutedDocument).where(RoutedDocument.document_id == document_id)
                     .values(outcome="filed", report=json.dumps(report, ensure_ascii=False)))
