"""The search page's counts per sender and per month: beside the hits, each a link that adds its filter."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient

from pipeline.db import Archive
from pipeline.facets import facets
from pipeline.search import SearchFilters

AsRole = Callable[[str], str]


def _counts(html: str, heading: str) -> list[tuple[str, int]]:
    block = html.split(f"<h2>{heading}</h2>", 1)[1].split("</ul>", 1)[0]
    return [(unescape(href), int(n)) for href, n in
            re.findall(r'<a href="([^"]+)">[^<]*</a> <span class="n">(\d+)</span>', block)]


def test_counts_beside_the_hits_link_to_their_filter(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    page = client.get("/search", params={"q": "醫療", "speed": "普通件"})
    with web_archive.session() as s:
        expected = facets(s, "醫療", SearchFilters(speed="普通件"))
    senders = _counts(page.text, "發文機關")
    assert [n for _, n in senders] == [n for _, n in expected.senders] and senders
    href, n = senders[0]
    params = parse_qs(urlparse(href).query)
    assert params == {"q": ["醫療"], "speed": ["普通件"], "sender": [expected.senders[0][0]]}  # the search kept
    narrowed = client.get(href)
    assert f"共 {n} 筆" in narrowed.text
    months = _counts(page.text, "發文月份")
    href, n = months[0]
    assert parse_qs(urlparse(href).query)["from"] == [expected.months[0][0]]
    assert f"共 {n} 筆" in client.get(href).text


def test_the_api_returns_the_counts(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    body = client.get("/api/search", params={"kind": "letter", "per_page": 5}).json()
    with web_archive.session() as s:
        expected = facets(s, "", SearchFilters(kind="letter"))
    assert body["facets"] == expected.to_json()
    assert sum(m["count"] for m in body["facets"]["months"]) <= body["total"]
    assert len(body["results"]) == 5  # the counts are of every match, not of the page


def test_the_page_says_when_the_counts_cover_only_the_newest_matches(
    client: TestClient, as_role: AsRole, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_role("analyst")
    assert "筆的統計" not in client.get("/search", params={"kind": "letter"}).text
    monkeypatch.setattr("pipeline.facets.LIMIT", 3)
    page = client.get("/search", params={"kind": "letter"})
    assert "最新 3 筆的統計" in page.text
    assert sum(n for _, n in _counts(page.text, "發文月份")) == 3
    body = client.get("/api/search", params={"kind": "letter"}).json()
    assert body["facets"]["newest"] == 3 and body["total"] > 3
