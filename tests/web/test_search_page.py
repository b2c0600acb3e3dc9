"""The search page: the same hits as `gongwen search`, highlighted, paged, the search held in the URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient

from pipeline.db import Archive
from pipeline.search import SearchFilters, search

AsRole = Callable[[str], str]


def _hit_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<div class="head">\s*<a href="/letters/(\d+)">', html)]


def test_the_page_shows_the_service_layers_hits_with_marks(client: TestClient, as_role: AsRole,
                                                          web_archive: Archive) -> None:
    as_role("analyst")
    page = client.get("/search", params={"q": "醫策會"})
    assert page.status_code == 200
    with web_archive.session() as s:
        expected = search(s, "醫策會", SearchFilters(), 20)
    assert _hit_ids(page.text) == [h.id for h in expected.hits]
    assert f"共 {expected.total} 筆" in page.text
    assert "<mark>" in page.text and "«" not in page.text  # the snippet's marks, as HTML


def test_filters_in_roc_and_iso_dates_agree_and_stay_in_the_url(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    roc = client.get("/search", params={"sender": "衛福部", "from": "112年", "to": "112/12"})
    iso = client.get("/search", params={"sender": "衛生福利部", "from": "2023-01-01", "to": "2023-12-31"})
    assert _hit_ids(roc.text) and _hit_ids(roc.text) == _hit_ids(iso.text)
    assert 'value="112年"' in roc.text and 'value="衛福部"' in roc.text  # the form shows what was asked
    wider = client.get("/search", params={"sender": "衛福部", "from": "112年", "to": "112/12", "agencies": "1"})
    assert set(_hit_ids(roc.text)) < set(_hit_ids(wider.text))  # 國民健康署, 健保署… under 衛福部


def test_a_filter_it_cannot_read_is_one_line_on_the_page(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    for params, says in (({"from": "昨天"}, "發文日期起: not a date"), ({"speed": "很急"}, "速別: unknown 速別"),
                         ({"from": "2024", "to": "2023"}, "swap them"), ({"kind": "memo"}, "類別 must be one of")):
        page = client.get("/search", params=params)
        assert page.status_code == 200
        assert says in unescape(page.text), params


def test_pages_of_twenty_with_links_that_keep_the_search(client: TestClient, as_role: AsRole,
                                                         web_archive: Archive) -> None:
    as_role("analyst")
    with web_archive.session() as s:
        every = search(s, "", SearchFilters(kind="letter"), 1000)
    assert every.total > 40
    first, second = (client.get("/search", params={"kind": "letter", "page": n}) for n in (1, 2))
    assert _hit_ids(first.text) == [h.id for h in every.hits[:20]]
    assert _hit_ids(second.text) == [h.id for h in every.hits[20:40]]
    assert 'href="/search?kind=letter&amp;page=2"' in first.text
    assert 'start="21"' in second.text
    past = client.get("/search", params={"kind": "letter", "page": 999})
    assert past.status_code == 200 and _hit_ids(past.text) == []


def test_an_empty_form_searches_nothing(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    page = client.get("/search")
    assert page.status_code == 200 and "共 " not in page.text and _hit_ids(page.text) == []
