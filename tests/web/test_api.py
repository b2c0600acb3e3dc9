"""The JSON API: the CLI's JSON over HTTP, log-in and CSRF by header, refusals as 409/422, the OpenAPI schema."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pipeline.db import Archive
from pipeline.routing.queue import QueueFilters, claim, list_tasks
from pipeline.search import SearchFilters, search
from pipeline.show import show
from tests.web.conftest import PASSWORD, doc_id


def _login(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == name
    return {"X-CSRF-Token": body["csrf_token"]}


def _pending(archive: Archive, n: int) -> list[int]:
    with archive.session() as s:
        views, _ = list_tasks(s, QueueFilters(status="pending", limit=n))
    return [int(v.task["id"]) for v in views]


def test_search_is_the_cli_json_a_page_at_a_time(client: TestClient, web_archive: Archive) -> None:
    _login(client, "analyst")
    with web_archive.session() as s:
        expected = search(s, "醫療", SearchFilters(date_from=None), 10)
    body = client.get("/api/search", params={"q": "醫療", "per_page": 5, "page": 2}).json()
    assert body["total"] == expected.total and body["page"] == 2 and body["per_page"] == 5
    assert body["results"] == [h.to_json() for h in expected.hits[5:10]]
    assert client.get("/api/search", params={"from": "明天"}).status_code == 422
    assert client.get("/api/search").status_code == 422  # neither a query nor a filter


def test_a_letter_is_the_show_json_with_downloads_and_tasks(client: TestClient, web_archive: Archive) -> None:
    _login(client, "analyst")
    letter = doc_id(web_archive, "醫評字第1120100216A號")
    body = client.get("/api/letters/醫評字第1120100216A號").json()
    with web_archive.session() as s:
        view = show(s, letter, None)
    assert view is not None
    assert body["id"] == letter and body["subject"] == view.document.subject
    assert [c["doc_number"] for c in body["cited_by"]] == ["中市衛醫字第1120070277號"]
    copy = body["files"][0]
    assert "stored_at" not in copy and copy["download"] == f"/letters/{letter}/files/{copy['file_id']}.pdf"
    assert client.get(copy["download"]).content[:5] == b"%PDF-"
    assert len(body["tasks"]) == 2
    assert client.get("/api/letters/無此字號").status_code == 404


def test_queue_actions_under_the_users_name_and_refusals(client: TestClient, web_archive: Archive) -> None:
    headers = _login(client, "clerk")
    a, b = _pending(web_archive, 2)
    claimed = client.post(f"/api/queue/{a}/claim", headers=headers)
    assert claimed.status_code == 200
    assert claimed.json()["status"] == "claimed" and claimed.json()["assignee"] == "clerk"
    assert claimed.json()["history"][-1]["actor"] == "clerk"
    claim(web_archive, b, "王")
    refused = client.post(f"/api/queue/{b}/done", json={"note": "x"}, headers=headers)
    assert refused.status_code == 409 and "claimed by 王" in refused.json()["detail"]
    assert client.post(f"/api/queue/{a}/reject", json={"reason": "  "}, headers=headers).status_code == 422
    assert client.post("/api/queue/999999/claim", headers=headers).status_code == 404
    bulk = client.post("/api/queue/bulk", json={"tasks": [a, b], "action": "done"}, headers=headers).json()
    assert bulk["done"] == 1 and bulk["results"][str(a)] is None and "王" in bulk["results"][str(b)]
    listed = client.get("/api/queue", params={"status": "done"}).json()
    assert [t["id"] for t in listed["tasks"]] == [a]


def test_the_openapi_schema_is_served_and_lists_the_api(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/letters/{ref}", "/api/queue", "/api/queue/{task_id}/{action}"} <= set(schema["paths"])
    assert not any(path.startswith(("/search", "/queue", "/letters")) for path in schema["paths"])  # pages are not API
