"""Log-in, roles and CSRF (issue 11): who may see and change what."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.db import Archive
from pipeline.routing.queue import QueueFilters, list_tasks
from pipeline.web.users import change_user
from schemas.orm import TaskEvent, User
from tests.web.conftest import PASSWORD, csrf_of, log_in

AsRole = Callable[[str], str]


def _pending_task(archive: Archive) -> int:
    with archive.session() as s:
        views, _ = list_tasks(s, QueueFilters(status="pending", limit=1))
    return int(views[0].task["id"])


def test_pages_send_a_stranger_to_the_log_in_page_and_the_api_answers_401(client: TestClient) -> None:
    response = client.get("/search?q=醫策會")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fsearch%3Fq%3D")
    assert client.get("/api/search?q=x").status_code == 401
    assert client.get("/letters/1").status_code == 303


def test_wrong_password_and_unknown_name_are_refused_alike(client: TestClient, web_archive: Archive) -> None:
    token = csrf_of(client.get("/login").text)
    for name, password in (("clerk", "wrong password"), ("nobody", PASSWORD), ("clerk", "")):
        response = client.post("/login", data={"name": name, "password": password, "csrf_token": token})
        assert response.status_code == 401
        assert "帳號或密碼錯誤" in response.text
    assert client.get("/search").status_code == 303  # still nobody
    assert client.post("/api/login", json={"name": "clerk", "password": "nope"}).status_code == 401
    stored = web_archive.session().scalar(select(User.password_hash).where(User.name == "clerk"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_the_log_in_goes_back_to_the_page_asked_for_but_never_to_another_site(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": "analyst", "password": PASSWORD, "csrf_token": token,
                                           "next": "/letters/1"})
    assert response.headers["location"] == "/letters/1"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/search").text)})
    token = csrf_of(client.get("/login").text)
    for outside in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/login", data={"name": "analyst", "password": PASSWORD, "csrf_token": token,
                                               "next": outside})
        assert response.headers["location"] == "/search", outside
        token = csrf_of(client.get("/search").text)


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    task = _pending_task(web_archive)
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-1]}):
        response = client.post(f"/queue/{task}/claim", data=data)
        assert response.status_code == 403, data
    assert client.post(f"/api/queue/{task}/claim", json={}).status_code == 403
    assert client.post(f"/api/queue/{task}/claim", json={}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    with web_archive.session() as s:
        assert s.scalars(select(TaskEvent.action).where(TaskEvent.task_id == task)).all() == ["created"]
    # with it, the same request goes through, under the clerk's name
    assert client.post(f"/queue/{task}/claim", data={"csrf_token": token}).status_code == 303
    with web_archive.session() as s:
        assert s.execute(select(TaskEvent.action, TaskEvent.actor).where(TaskEvent.task_id == task)
                         .order_by(TaskEvent.id)).all()[-1] == ("claimed", "clerk")


def test_the_log_in_form_itself_needs_the_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"name": "clerk", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/search").status_code == 303


def test_an_analyst_reads_but_cannot_change_the_queue(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("analyst")
    task = _pending_task(web_archive)
    assert client.get("/search?q=醫策會").status_code == 200
    page = client.get("/queue")
    assert page.status_code == 200
    assert f'action="/queue/{task}/claim"' not in page.text  # no buttons for an analyst
    for action, data in (("claim", {}), ("done", {}), ("reject", {"reason": "x"}), ("reassign", {"to": "x"})):
        assert client.post(f"/queue/{task}/{action}", data={"csrf_token": token, **data}).status_code == 403
        assert client.post(f"/api/queue/{task}/{action}", json=data, headers={"X-CSRF-Token": token}).status_code == 403
    assert client.post("/queue/bulk", data={"csrf_token": token, "action": "claim", "tasks": [task]}).status_code == 403
    assert client.post("/triage/1", data={"csrf_token": token}).status_code == 403
    with web_archive.session() as s:
        assert s.scalars(select(TaskEvent.action).where(TaskEvent.task_id == task)).all() == ["created"]


def test_a_clerk_cannot_reach_the_admin_pages(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    assert client.get("/admin/users").status_code == 403
    response = client.post("/admin/users", data={"csrf_token": token, "new": "1", "name": "mallory", "role": "admin",
                                                 "password": PASSWORD})
    assert response.status_code == 403
    response = client.post("/admin/users", data={"csrf_token": token, "name": "clerk", "role": "admin"})
    assert response.status_code == 403
    with web_archive.session() as s:
        assert s.scalar(select(User.role).where(User.name == "clerk")) == "clerk"
        assert s.scalar(select(User.id).where(User.name == "mallory")) is None


def test_an_admin_adds_a_user_who_can_then_log_in(client: TestClient, as_role: AsRole) -> None:
    token = as_role("admin")
    assert client.get("/admin/users").status_code == 200
    response = client.post("/admin/users", data={"csrf_token": token, "new": "1", "name": "王小明", "role": "clerk",
                                                 "password": "一二三四五六七八"})
    assert response.status_code == 303
    assert "王小明" in client.get("/admin/users").text
    fresh = TestClient(client.app, follow_redirects=False)
    log_in(fresh, "王小明", "一二三四五六七八")
    assert fresh.get("/api/me").json()["role"] == "clerk"


def test_a_deactivated_user_is_logged_out_at_once(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("clerk")
    assert client.get("/queue").status_code == 200
    change_user(web_archive, "clerk", active=False)
    assert client.get("/queue").status_code == 303  # the cookie still names them; the archive does not
    change_user(web_archive, "clerk", active=True, role="analyst")
    token = log_in(client, "clerk")
    assert client.post("/queue/1/claim", data={"csrf_token": token}).status_code == 403  # the role is read each time


def test_the_session_cookie_is_signed_and_kept_from_scripts(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    cookie = client.cookies.get("gongwen_session")
    assert cookie
    client.cookies.set("gongwen_session", cookie[:-3] + "abc")
    assert client.get("/search").status_code == 303
    login = client.post("/api/login", json={"name": "analyst", "password": PASSWORD})
    set_cookie = login.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie


def test_an_admin_cannot_lock_themselves_out(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("admin")
    for change in ({"active": "0"}, {"role": "clerk"}):
        client.post("/admin/users", data={"csrf_token": token, "name": "admin", **change})
    with web_archive.session() as s:
        assert s.execute(select(User.role, User.active).where(User.name == "admin")).one() == ("admin", True)
    assert "不能停用自己" in client.get("/admin/users").text
