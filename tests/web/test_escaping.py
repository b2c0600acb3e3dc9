"""Letter text is untrusted: a 主旨, sender, item or cc holding markup is shown as text on every page."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from pipeline.db import Archive
from pipeline.routing.queue import add_task
from pipeline.web.app import marked
from tests.web.conftest import ONERROR, SCRIPT, doc_id

AsRole = Callable[[str], str]
HOSTILE_NUMBER = "駭字第1130000001號"


def _assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>正本</b>" not in html


def test_every_page_shows_markup_in_a_letter_as_text(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("clerk")
    letter = doc_id(web_archive, HOSTILE_NUMBER)
    add_task(web_archive, letter, "tw-physicians", "clerk")
    pages = {
        "search": client.get("/search", params={"q": "惡意主旨"}),
        "search by sender": client.get("/search", params={"q": "駭客局"}),
        "letter": client.get(f"/letters/{letter}"),
        "queue": client.get("/queue"),
        "triage": client.get("/queue", params={"status": "triage"}),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        _assert_inert(page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["letter"].text  # shown, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages["letter"].text
    assert "<mark>惡意主旨</mark>&lt;script&gt;" in pages["search"].text


def test_the_api_returns_the_text_as_json_not_html(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    letter = client.get(f"/api/letters/{doc_id(web_archive, HOSTILE_NUMBER)}")
    assert letter.headers["content-type"] == "application/json"
    assert SCRIPT in letter.json()["subject"] and ONERROR in letter.json()["sender"]


def test_every_response_forbids_inline_scripts(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    for url in ("/search?q=x", "/login", "/api/me"):
        policy = client.get(url).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert client.get("/search").headers["x-content-type-options"] == "nosniff"


def test_marks_are_paired_and_stray_ones_stay_text() -> None:
    assert marked("a«<b>»c") == "a<mark>&lt;b&gt;</mark>c"
    assert marked("»x«y") == "»x<mark>y</mark>"
    assert marked(None) == ""
