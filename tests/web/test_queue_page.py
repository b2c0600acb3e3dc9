"""The queue page: tasks grouped and most urgent first, a clerk's actions (one or many), triage; all in the audit log."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipeline.db import Archive
from pipeline.routing.queue import QueueFilters, claim, list_tasks, triage_list
from schemas.orm import RoutedDocument, RoutingTask, TaskEvent

AsRole = Callable[[str], str]


def _pending(archive: Archive, n: int) -> list[int]:
    with archive.session() as s:
        views, _ = list_tasks(s, QueueFilters(status="pending", limit=n))
    return [int(v.task["id"]) for v in views]


def _events(archive: Archive, task: int) -> list[tuple[str, str, str | None]]:
    with archive.session() as s:
        return [tuple(r) for r in s.execute(select(TaskEvent.action, TaskEvent.actor, TaskEvent.note)
                                            .where(TaskEvent.task_id == task).order_by(TaskEvent.id))]


def test_tasks_grouped_by_status_overdue_first_with_speed_and_reason(client: TestClient, as_role: AsRole,
                                                                     web_archive: Archive) -> None:
    as_role("clerk")
    first, second = _pending(web_archive, 2)
    with web_archive.engine.begin() as conn:  # the most overdue task, and one due next month
        conn.execute(update(RoutingTask).where(RoutingTask.id == second).values(due=datetime.date(2000, 1, 3)))
        conn.execute(update(RoutingTask).where(RoutingTask.id == first).values(
            due=datetime.date.today() + datetime.timedelta(days=30)))
    claim(web_archive, first, "王")
    page = client.get("/queue")
    assert page.status_code == 200
    sections = re.findall(r"<h2>(待辦|處理中)（(\d+)）</h2>", page.text)
    assert [s[0] for s in sections] == ["待辦", "處理中"]
    rows = re.findall(r'<tr class="task (\w+)( overdue)?">\s*<td><input type="checkbox" name="tasks" value="(\d+)"', page.text)
    assert rows[0] == ("pending", " overdue", str(second))  # the most overdue task heads its group
    assert ("claimed", "", str(first)) in rows  # not overdue: due next month
    assert "民國89年1月3日（2000-01-03）" in page.text
    assert "逾期" in page.text and "規則 " in page.text
    assert any(speed in page.text for speed in ("普通件", "速件", "最速件"))


def test_claim_done_reject_and_reassign_from_the_page(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    a, b, c = _pending(web_archive, 3)
    assert client.post(f"/queue/{a}/claim", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/queue/{a}/done", data={"csrf_token": token, "note": "中市衛字第1號轉知"}).status_code == 303
    client.post(f"/queue/{b}/reject", data={"csrf_token": token, "reason": "本會不轉知此類公文"})
    client.post(f"/queue/{c}/reassign", data={"csrf_token": token, "to": "李"})
    assert _events(web_archive, a)[1:] == [("claimed", "clerk", None), ("done", "clerk", "中市衛字第1號轉知")]
    assert _events(web_archive, b)[-1] == ("rejected", "clerk", "本會不轉知此類公文")
    assert _events(web_archive, c)[-1] == ("reassigned", "clerk", None)
    page = unescape(client.get("/queue").text)
    assert f"已完成：#{a}" in page
    # a refusal is one line on the next page, and changes nothing
    client.post(f"/queue/{a}/claim", data={"csrf_token": token})
    client.post(f"/queue/{b}/reject", data={"csrf_token": token, "reason": " "})
    page = unescape(client.get("/queue").text)
    assert f"task #{a} is done" in page
    assert len(_events(web_archive, a)) == 3


def test_a_clerk_clears_many_tasks_with_one_action(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    tasks = _pending(web_archive, 12)
    claim(web_archive, tasks[0], "someone else")
    response = client.post("/queue/bulk", data={"csrf_token": token, "action": "claim", "tasks": tasks})
    assert response.status_code == 303
    with web_archive.session() as s:
        held = dict(s.execute(select(RoutingTask.id, RoutingTask.assignee).where(RoutingTask.id.in_(tasks))).all())
    assert held[tasks[0]] == "someone else"
    assert all(held[t] == "clerk" for t in tasks[1:])
    page = unescape(client.get("/queue").text)
    assert "already claimed by someone else" in page
    client.post("/queue/bulk", data={"csrf_token": token, "action": "done", "tasks": tasks[1:]})
    with web_archive.session() as s:
        statuses = set(s.scalars(select(RoutingTask.status).where(RoutingTask.id.in_(tasks[1:]))))
    assert statuses == {"done"}


def test_filters_by_assignee_and_association(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    a, b = _pending(web_archive, 2)
    claim(web_archive, a, "王")
    page = client.get("/queue", params={"assignee": "王"})
    assert re.findall(r">#(\d+)</td>", page.text) == [str(a)]
    with web_archive.session() as s:
        association = s.scalar(select(RoutingTask.association_id).where(RoutingTask.id == b))
        count = len(s.scalars(select(RoutingTask.id).where(RoutingTask.association_id == association,
                                                           RoutingTask.status.in_(("pending", "claimed")))).all())
    page = client.get("/queue", params={"association": association})
    assert len(re.findall(r">#(\d+)</td>", page.text)) == count
    assert client.get("/queue", params={"status": "nonsense"}).status_code == 422


def test_triage_to_a_task_or_filed(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    with web_archive.session() as s:
        docs, total = triage_list(s, 5)
    assert total >= 2
    page = client.get("/queue", params={"status": "triage"})
    assert f'action="/triage/{docs[0]["document_id"]}"' in page.text
    client.post(f"/triage/{docs[0]['document_id']}", data={"csrf_token": token, "association": "tw-physicians", "note": "人工分辦"})
    client.post(f"/triage/{docs[1]['document_id']}", data={"csrf_token": token, "note": "僅供參考"})
    with web_archive.session() as s:
        outcomes = dict(s.execute(select(RoutedDocument.document_id, RoutedDocument.outcome).where(
            RoutedDocument.document_id.in_([docs[0]["document_id"], docs[1]["document_id"]]))).all())
        made = s.execute(select(RoutingTask.association_id, RoutingTask.rule)
                         .where(RoutingTask.document_id == docs[0]["document_id"])).all()
    assert outcomes == {docs[0]["document_id"]: "routed", docs[1]["document_id"]: "filed"}
    assert [tuple(m) for m in made] == [("tw-physicians", "manual")]
