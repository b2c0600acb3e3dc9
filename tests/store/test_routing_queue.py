"""The routing queue in a real archive (SQLite and PostgreSQL): route, re-route, rule edits, clerks' actions, audit log."""

from __future__ import annotations

import datetime
import json
import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from pipeline.db import Archive, make_engine
from pipeline.routing.config import load_config
from pipeline.routing.engine import Router
from pipeline.routing.queue import (
    MANUAL_RULE,
    QueueError,
    QueueFilters,
    add_task,
    claim,
    done,
    file_document,
    get_task,
    list_tasks,
    preview,
    reassign,
    reject,
    route_archive,
    triage_list,
)
from pipeline.store import store_result
from samples.routing.make_golden import INGESTED, OUT
from schemas.letter import FileResult
from schemas.orm import DocumentRow, RoutedDocument, RoutingTask, TaskEvent

ROOT = Path(__file__).resolve().parent.parent.parent
GOLDEN = json.loads(OUT.read_text(encoding="utf-8"))
FILES = ["seed_000", "seed_003", "seed_004", "own_14", "own_03", "own_05"]
Extract = Callable[[Path], FileResult]


def _router(rules: Path | None = None) -> Router:
    return Router(load_config(rules or ROOT / "config/rules.yaml", ROOT / "config/associations.yaml"))


def _store_samples(archive: Archive, extract: Extract, samples_dir: Path) -> dict[int, str]:
    """Store the sample files through the real extractor; returns document id → `name#index`."""
    keys: dict[int, str] = {}
    for name in FILES:
        report = store_result(archive, extract(samples_dir / f"{name}.pdf"), None)
        assert report.status == "stored", report.error
        with archive.session() as s:
            ids = s.scalars(select(DocumentRow.id).where(DocumentRow.file_id == report.file_id).order_by(DocumentRow.position))
            keys.update({i: f"{name}#{n}" for n, i in enumerate(ids)})
    # the day the golden routing counts as "ingested" (due dates of letters without deadline or stamp)
    noon = datetime.datetime.combine(INGESTED, datetime.time(4, 0), tzinfo=datetime.UTC)
    with archive.engine.begin() as conn:
        conn.execute(update(DocumentRow).values(created_at=noon))
    return keys


def _tasks(archive: Archive) -> dict[tuple[int, str], tuple[str, str, str | None]]:
    with archive.session() as s:
        return {(t.document_id, t.association_id): (t.rule, t.status, t.due.isoformat() if t.due else None)
                for t in s.scalars(select(RoutingTask))}


def test_route_stored_samples_matches_the_golden_routing(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    """End to end: PDFs read by the extractor, stored, routed: the tasks are the golden ones."""
    keys = _store_samples(archive, extract, samples_dir)
    summary = route_archive(archive, _router())
    assert summary.documents == len(keys)
    tasks = _tasks(archive)
    for doc_id, key in keys.items():
        want = GOLDEN[key]
        got = sorted(f"{a} ({rule})" for (d, a), (rule, _, _) in tasks.items() if d == doc_id)
        assert got == want["tasks"], key
        assert {due for (d, _), (_, _, due) in tasks.items() if d == doc_id} <= {want["due"]}, key
    with archive.session() as s:
        outcomes = dict(s.execute(select(RoutedDocument.document_id, RoutedDocument.outcome)).all())
        assert {keys[i]: o for i, o in outcomes.items()} == {k: GOLDEN[k]["outcome"] for k in keys.values()}
        assert s.scalar(select(func.count()).select_from(TaskEvent)) == len(tasks)  # one `created` each
        assert s.scalar(select(func.count()).where(TaskEvent.action == "created")) == len(tasks)


def test_a_second_version_of_a_letter_makes_no_second_set_of_tasks(archive: Archive, extract: Extract,
                                                                   samples_dir: Path) -> None:
    keys = _store_samples(archive, extract, samples_dir)
    ids = {v: k for k, v in keys.items()}
    first, second = ids["seed_000#1"], ids["seed_000#2"]
    with archive.engine.begin() as conn:  # as the store marks a re-issue with other text
        conn.execute(update(DocumentRow).where(DocumentRow.id == second).values(version_of=first))
    route_archive(archive, _router())
    tasks = _tasks(archive)
    assert {a for d, a in tasks if d == first} == {"txg-physicians", "txg-greater-physicians"}
    assert not [a for d, a in tasks if d == second]
    with archive.session() as s:
        assert s.get(RoutedDocument, second).outcome == "ignored"  # type: ignore[union-attr]


def test_routing_again_changes_nothing(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    _store_samples(archive, extract, samples_dir)
    first = route_archive(archive, _router())
    before = _tasks(archive)
    again = route_archive(archive, _router())
    assert again.documents == 0 and again.tasks_created == 0
    everything = route_archive(archive, _router(), everything=True)
    assert everything.documents == first.documents
    assert everything.tasks_created == 0 and everything.tasks_stale == 0
    assert everything.tasks_unchanged == first.tasks_created
    assert _tasks(archive) == before


def test_a_rule_edit_adds_new_targets_and_marks_stale_tasks_without_deleting_worked_ones(
    archive: Archive, extract: Extract, samples_dir: Path, tmp_path: Path
) -> None:
    keys = _store_samples(archive, extract, samples_dir)
    route_archive(archive, _router())
    ids = {v: k for k, v in keys.items()}
    seed_doc = ids["seed_000#1"]
    with archive.session() as s:
        txg = s.scalar(select(RoutingTask.id).where(RoutingTask.document_id == seed_doc,
                                                    RoutingTask.association_id == "txg-physicians"))
    assert txg is not None
    claim(archive, txg, "王小明")  # a clerk has worked on it
    # the edit: 臺中 clinics now also go to the 臺中 dentists, and no longer to the physicians
    rules = (ROOT / "config/rules.yaml").read_text(encoding="utf-8")
    edited = rules.replace("    to: [txg-physicians, txg-greater-physicians]", "    to: [txg-dentists]")
    assert edited != rules
    path = tmp_path / "rules.yaml"
    path.write_text(edited, encoding="utf-8")
    before = _tasks(archive)
    foreseen = preview(archive, _router(path))  # `gongwen rules test` without --letter: writes nothing
    assert _tasks(archive) == before
    summary = route_archive(archive, _router(path), everything=True)
    assert len(foreseen.new_tasks) == summary.tasks_created and len(foreseen.stale_tasks) == summary.tasks_stale
    assert {t["task"] for t in foreseen.stale_tasks} >= {txg}
    assert summary.tasks_created >= 2  # seed_000 #1 and #2 → 臺中 dentists
    assert summary.tasks_stale >= 4
    with archive.session() as s:
        row = s.get(RoutingTask, txg)
        assert row is not None and row.status == "claimed" and row.assignee == "王小明" and row.stale
        actions = list(s.scalars(select(TaskEvent.action).where(TaskEvent.task_id == txg).order_by(TaskEvent.id)))
        assert actions == ["created", "claimed", "stale"]
        assert s.scalar(select(func.count()).where(RoutingTask.document_id == seed_doc,
                                                   RoutingTask.association_id == "txg-dentists")) == 1
    # and back: the task matches again, nothing duplicated
    back = route_archive(archive, _router(), everything=True)
    assert back.tasks_matching_again >= 4 and back.tasks_created == 0
    with archive.session() as s:
        row = s.get(RoutingTask, txg)
        assert row is not None and not row.stale and row.status == "claimed"


def test_clerk_actions_and_audit(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    _store_samples(archive, extract, samples_dir)
    route_archive(archive, _router())
    with archive.session() as s:
        views, total = list_tasks(s, QueueFilters(limit=5))
        triage, _ = triage_list(s)
    assert total > 5 and len(views) == 5
    dues = [v.task["due"] or "9999" for v in views]
    assert dues == sorted(dues)  # most urgent first
    a, b, c = (v.task["id"] for v in views[:3])
    claim(archive, a, "王小明")
    claim(archive, a, "王小明")  # again by the holder: nothing changes
    with pytest.raises(QueueError, match="already claimed by 王小明"):
        claim(archive, a, "李大華")
    with pytest.raises(QueueError, match="claimed by 王小明"):
        done(archive, a, "李大華")
    done(archive, a, "王小明", "已以中市衛醫字第1120070300號函轉知")
    with pytest.raises(QueueError, match="is done"):
        claim(archive, a, "李大華")
    with pytest.raises(QueueError, match="is done"):
        reject(archive, a, "李大華", "不需轉知")
    with pytest.raises(QueueError) as usage:
        reject(archive, b, "李大華", "  ")
    assert usage.value.exit_code == 2
    reject(archive, b, "李大華", "該會已由副本收文")
    reassign(archive, c, "組長", "陳小姐")
    with pytest.raises(QueueError, match="no task #999999"):
        claim(archive, 999999, "王小明")
    with archive.session() as s:
        task = get_task(s, a)
        assert task is not None
        history = task.task["history"]
        assert [h["action"] for h in history] == ["created", "claimed", "done"]
        assert history[-1]["actor"] == "王小明" and history[-1]["note"].startswith("已以")
        assert set(task.task) == {"id", "document_id", "doc_number", "association", "rule", "reason", "status",
                                  "assignee", "due", "created_at", "history", "draft"}
        rejected = get_task(s, b)
        assert rejected is not None and rejected.task["status"] == "rejected"
        moved = get_task(s, c)
        assert moved is not None and moved.task["assignee"] == "陳小姐" and moved.task["status"] == "claimed"
        mine, _ = list_tasks(s, QueueFilters(status="claimed", assignee="陳小姐"))
        assert [v.task["id"] for v in mine] == [c]
    assert isinstance(triage, list)


def test_audit_log_is_append_only_and_tasks_are_never_deleted(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    _store_samples(archive, extract, samples_dir)
    route_archive(archive, _router())
    for statement in ("UPDATE task_events SET note = 'x'", "DELETE FROM task_events", "DELETE FROM routing_tasks"):
        with pytest.raises(DBAPIError), archive.engine.begin() as conn:
            conn.execute(text(statement))
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(RoutingTask)) > 0


def test_triage_is_cleared_by_a_manual_task_or_by_filing(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    keys = _store_samples(archive, extract, samples_dir)
    ids = {v: k for k, v in keys.items()}
    route_archive(archive, _router())
    with archive.session() as s:
        triage, total = triage_list(s)
    assert {d["document_id"] for d in triage} == {ids["own_03#0"], ids["own_05#0"]} and total == 2
    labour, interior = ids["own_03#0"], ids["own_05#0"]
    task = add_task(archive, labour, "tpe-physicians", "王小明", "基本工資公告: 會員診所亦為雇主")
    with pytest.raises(QueueError, match="already has task"):
        add_task(archive, labour, "tpe-physicians", "王小明")
    with pytest.raises(QueueError, match="not in the associations registry"):
        add_task(archive, labour, "nowhere", "王小明")
    with pytest.raises(QueueError, match="no document"):
        add_task(archive, 10**9, "tpe-physicians", "王小明")
    file_document(archive, interior, "李大華", "與本會無關, 存查")
    with pytest.raises(QueueError, match="not in triage"):
        file_document(archive, interior, "李大華")
    # routing everything again keeps the clerks' decisions
    summary = route_archive(archive, _router(), everything=True)
    assert summary.tasks_stale == 0
    with archive.session() as s:
        assert triage_list(s)[1] == 0
        outcomes = dict(s.execute(select(RoutedDocument.document_id, RoutedDocument.outcome)).all())
        assert outcomes[labour] == "routed" and outcomes[interior] == "filed"
        row = s.get(RoutingTask, task)
        assert row is not None and row.rule == MANUAL_RULE and not row.stale and row.status == "pending"


# -- two clerks, one task: real processes -------------------------------------------

ROUNDS = 12
CLERKS = 4


def _clerk(url: str, files: str, name: str, task_ids: list[int], barrier: object, results: object) -> None:
    archive = Archive(make_engine(url), Path(files))
    for task_id in task_ids:
        barrier.wait()  # type: ignore[attr-defined]
        try:
            claim(archive, task_id, name)
            results.put((task_id, name, "won"))  # type: ignore[attr-defined]
        except QueueError as exc:
            results.put((task_id, name, str(exc)))  # type: ignore[attr-defined]
    archive.engine.dispose()


def test_two_clerks_claiming_at_once_exactly_one_wins(archive: Archive, extract: Extract, samples_dir: Path,
                                                     db_url: str) -> None:
    _store_samples(archive, extract, samples_dir)
    route_archive(archive, _router())
    with archive.session() as s:
        task_ids = list(s.scalars(select(RoutingTask.id).order_by(RoutingTask.id).limit(ROUNDS)))
    assert len(task_ids) == ROUNDS
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(CLERKS)
    results = ctx.Queue()
    procs = [ctx.Process(target=_clerk, args=(db_url, str(archive.files), f"clerk{i}", task_ids, barrier, results))
             for i in range(CLERKS)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=180) for _ in range(ROUNDS * CLERKS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for task_id in task_ids:
        mine = [o for o in outcomes if o[0] == task_id]
        winners = [name for _, name, how in mine if how == "won"]
        assert len(winners) == 1, mine
        losers = [how for _, _, how in mine if how != "won"]
        assert all(f"already claimed by {winners[0]}" in how for how in losers), losers
        with archive.session() as s:
            row = s.get(RoutingTask, task_id)
            assert row is not None and row.assignee == winners[0]
            claims = s.scalar(select(func.count()).where(TaskEvent.task_id == task_id, TaskEvent.action == "claimed"))
            assert claims == 1
