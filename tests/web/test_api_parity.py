"""What the pages do, in the API too (issue 11): accounts, drafts, a letter's original and its fields' crops.

Each call is the page's own service function (pipeline/web/common.py, users.py, review.py) behind the
same role check and CSRF token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipeline.db import Archive
from schemas.orm import Draft, RoutingTask
from tests.web.conftest import PASSWORD, SAMPLES, doc_id

AsRole = Callable[[str], str]
OWN_10 = "藥師全聯字第1130000214號"


def test_an_admin_lists_adds_and_changes_accounts(client: TestClient, as_role: AsRole) -> None:
    token = as_role("admin")
    h = {"X-CSRF-Token": token}
    listed = client.get("/api/users").json()["users"]
    assert {"name": "clerk", "role": "clerk", "active": True} in listed
    assert all(set(u) == {"name", "role", "active"} for u in listed)  # never a hash
    added = client.post("/api/users", headers=h, json={"name": "新同仁", "role": "analyst", "password": PASSWORD,
                                                         "new": True})
    assert added.status_code == 200 and added.json() == {"name": "新同仁", "role": "analyst", "active": True}
    assert client.post("/api/users", headers=h, json={"name": "新同仁", "role": "analyst", "password": PASSWORD,
                                                       "new": True}).status_code == 409
    assert client.post("/api/users", headers=h, json={"name": "x", "role": "analyst", "password": "short",
                                                       "new": True}).status_code == 422
    assert client.post("/api/users", headers=h, json={"name": "y", "new": True}).status_code == 422
    changed = client.post("/api/users", headers=h, json={"name": "新同仁", "role": "clerk", "active": False})
    assert changed.json() == {"name": "新同仁", "role": "clerk", "active": False}
    assert client.post("/api/users", headers=h, json={"name": "無此人", "active": False}).status_code == 404
    assert client.post("/api/users", headers=h, json={"name": "clerk", "role": "boss"}).status_code == 422
    # the page's rule: an admin cannot deactivate or demote themself
    for change in ({"active": False}, {"role": "clerk"}):
        refused = client.post("/api/users", headers=h, json={"name": "admin", **change})
        assert refused.status_code == 409 and "不能停用自己" in refused.json()["detail"]
    assert client.post("/api/users", headers=h, json={"name": "admin", "password": "another long one"}).status_code == 200
    assert {"name": "admin", "role": "admin", "active": True} in client.get("/api/users").json()["users"]


@pytest.mark.parametrize("role", ["analyst", "clerk"])
def test_only_an_admin_reaches_the_accounts(client: TestClient, as_role: AsRole, role: str) -> None:
    token = as_role(role)
    assert client.get("/api/users").status_code == 403
    assert client.post("/api/users", headers={"X-CSRF-Token": token},
                       json={"name": "z", "role": "admin", "password": PASSWORD, "new": True}).status_code == 403


def test_an_account_change_needs_the_csrf_token(client: TestClient, as_role: AsRole) -> None:
    as_role("admin")
    assert client.post("/api/users", json={"name": "clerk", "active": False}).status_code == 403
    assert {"name": "clerk", "role": "clerk", "active": True} in client.get("/api/users").json()["users"]


def _a_task(archive: Archive) -> int:
    with archive.session() as s:
        found = s.scalar(select(func.min(RoutingTask.id)).where(RoutingTask.status == "pending"))
    assert found is not None
    return int(found)


def test_a_clerk_makes_a_draft_through_the_api_and_downloads_it_again(
    client: TestClient, as_role: AsRole, web_archive: Archive, office: Path
) -> None:
    token = as_role("clerk")
    task = _a_task(web_archive)
    made = client.post(f"/api/queue/{task}/draft", headers={"X-CSRF-Token": token}, json={"format": "pdf", "scope": "task"})
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["tasks"] == [task] and body["format"] == "pdf" and body["download"] == f"/api/drafts/{body['id']}"
    got = client.get(body["download"])
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert hashlib.sha256(got.content).hexdigest() == body["sha256"]
    assert client.get(f"/api/queue/{task}").json()["draft"]["id"] == body["id"]
    assert client.post(f"/api/queue/{task}/draft", headers={"X-CSRF-Token": token},
                       json={"format": "docx"}).status_code == 422
    assert client.post("/api/queue/999999/draft", headers={"X-CSRF-Token": token}, json={}).status_code == 404
    assert client.get("/api/drafts/999999").status_code == 404
    assert client.post(f"/api/queue/{task}/draft", json={}).status_code == 403  # no CSRF token
    with web_archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Draft)) == 1


def test_a_draft_without_an_office_file_is_one_line(client: TestClient, as_role: AsRole, web_archive: Archive,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(tmp_path))
    token = as_role("clerk")
    refused = client.post(f"/api/queue/{_a_task(web_archive)}/draft", headers={"X-CSRF-Token": token})
    assert refused.status_code == 422 and "office.yaml" in refused.json()["detail"]


def test_an_analyst_gets_no_draft(client: TestClient, as_role: AsRole, web_archive: Archive, office: Path) -> None:
    token = as_role("analyst")
    assert client.post(f"/api/queue/{_a_task(web_archive)}/draft", headers={"X-CSRF-Token": token}).status_code == 403
    assert client.get("/api/drafts/1").status_code == 403


def test_the_original_and_a_fields_crop_through_the_api(client: TestClient, as_role: AsRole,
                                                         web_archive: Archive) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, OWN_10)
    file_id = client.get(f"/api/letters/{letter}").json()["files"][0]["file_id"]
    original = client.get(f"/api/letters/{letter}/files/{file_id}.pdf")
    assert original.status_code == 200 and original.content == (SAMPLES / "own_10.pdf").read_bytes()
    assert original.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/api/letters/{letter}/files/999999.pdf").status_code == 404
    crop = client.get(f"/api/letters/{letter}/boxes/subject.png")
    assert crop.status_code == 200 and crop.content == client.get(f"/letters/{letter}/boxes/subject.png").content
    assert client.get(f"/api/letters/{letter}/boxes/nosuch.png").status_code == 404
    client.cookies.clear()
    assert client.get(f"/api/letters/{letter}/files/{file_id}.pdf").status_code == 401
