"""The web queue offers a task's 轉知 draft (PDF and DI, for the letter or the task alone) to clerks, through
`gongwen draft`'s own function: the queue records it on the tasks it covers under the clerk's name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from extractors.di import read_di, validate_di
from pipeline.db import Archive
from pipeline.routing.queue import QueueFilters, get_task, list_tasks
from schemas.orm import Draft, RoutingTask, TaskEvent

AsRole = Callable[[str], str]


def _letter_tasks(archive: Archive) -> list[int]:
    """The open tasks of the letter with the most tasks (one draft can serve them all)."""
    with archive.session() as s:
        doc = s.execute(select(RoutingTask.document_id).group_by(RoutingTask.document_id)
                        .order_by(func.count().desc(), RoutingTask.document_id).limit(1)).scalar_one()
        views, _ = list_tasks(s, QueueFilters(status="open", document_id=doc, limit=200))
    ids = sorted(int(v.task["id"]) for v in views)
    assert len(ids) > 1
    return ids


def _drafts(archive: Archive) -> int:
    with archive.session() as s:
        return s.scalar(select(func.count()).select_from(Draft)) or 0


def test_a_clerk_downloads_the_letters_pdf_draft_and_the_queue_records_it(
    client: TestClient, as_role: AsRole, web_archive: Archive, office: Path
) -> None:
    token = as_role("clerk")
    tasks = _letter_tasks(web_archive)
    got = client.post(f"/queue/{tasks[1]}/draft", data={"csrf_token": token, "format": "pdf", "scope": "letter"})
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf" and got.content.startswith(b"%PDF")
    assert got.headers["content-disposition"].startswith("attachment;")
    with web_archive.session() as s:
        view = get_task(s, tasks[0])
        events = list(s.execute(select(TaskEvent.action, TaskEvent.actor).where(TaskEvent.task_id == tasks[-1])
                                .order_by(TaskEvent.id)))
    assert view is not None
    draft = view.task["draft"]
    assert draft["tasks"] == tasks and draft["written_for"] == tasks[1] and draft["created_by"] == "clerk"
    assert draft["sha256"] == hashlib.sha256(got.content).hexdigest() and draft["format"] == "pdf"
    assert tuple(events[-1]) == ("drafted", "clerk")
    page = client.get("/queue").text
    assert f'action="/queue/{tasks[0]}/draft"' in page
    assert f'<a href="/drafts/{draft["id"]}">#{draft["id"]}（PDF）</a>' in page
    again = client.get(f"/drafts/{draft['id']}")  # the recorded bytes, nothing new recorded
    assert again.status_code == 200 and again.content == got.content and _drafts(web_archive) == 1


def test_the_di_draft_for_one_task_alone_is_valid_and_covers_that_task(
    client: TestClient, as_role: AsRole, web_archive: Archive, office: Path
) -> None:
    token = as_role("clerk")
    tasks = _letter_tasks(web_archive)
    got = client.post(f"/queue/{tasks[0]}/draft", data={"csrf_token": token, "format": "di", "scope": "task"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/xml")
    assert validate_di(got.content) == []
    with web_archive.session() as s:
        mine, other = get_task(s, tasks[0]), get_task(s, tasks[1])
    assert mine is not None and other is not None
    assert mine.task["draft"]["tasks"] == [tasks[0]] and other.task["draft"] is None
    assert read_di(got.content).document.cc_main == [mine.association_name]


def test_drafts_are_for_clerks_only_and_a_missing_office_file_is_one_message(
    client: TestClient, as_role: AsRole, web_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _letter_tasks(web_archive)[0]
    token = as_role("analyst")
    assert client.post(f"/queue/{task}/draft", data={"csrf_token": token, "format": "pdf"}).status_code == 403
    assert client.get("/drafts/1").status_code == 403
    assert f'action="/queue/{task}/draft"' not in client.get("/queue").text
    client.post("/logout", data={"csrf_token": token})
    token = as_role("clerk")
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(tmp_path / "nowhere"))
    got = client.post(f"/queue/{task}/draft", data={"csrf_token": token, "format": "pdf", "back": "/queue"})
    assert got.status_code == 303 and _drafts(web_archive) == 0
    shown = client.get("/queue").text  # the message is shown once, on the next page
    assert "無法產生轉知函稿" in shown and "office.yaml: file not found" in shown
    bad = client.post(f"/queue/{task}/draft", data={"csrf_token": token, "format": "docx"})
    assert bad.status_code == 303 and _drafts(web_archive) == 0
    assert client.get("/drafts/999").status_code == 404
