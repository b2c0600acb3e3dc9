"""Counts per sender and per month beside a search: over every match, and the filter each count links to agrees."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event

from pipeline.db import Archive
from pipeline.facets import facets
from pipeline.search import SearchFilters, search
from pipeline.store import ingest_file
from schemas.letter import FileResult

Extract = Callable[..., FileResult]


@pytest.fixture
def filled(archive: Archive, extract: Extract, samples_dir: Path) -> Archive:
    for name in ("seed_000", "seed_003", "seed_004", "own_05", "own_01", "own_02"):
        assert ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract).status == "stored"
    return archive


@pytest.mark.parametrize(("query", "filters"), [("醫", SearchFilters()), ("", SearchFilters(kind="letter")),
                                                ("細胞", SearchFilters(date_from=datetime.date(2023, 1, 1)))])
def test_counts_cover_every_match_and_agree_with_their_filters(filled: Archive, query: str,
                                                                filters: SearchFilters) -> None:
    with filled.session() as s:
        every = search(s, query, filters, 1000)
        found = facets(s, query, filters)
    assert every.total > 0 and found.senders and found.months
    months = Counter(h.issue_date[:7] for h in every.hits if h.issue_date)
    assert found.months == sorted(months.items(), reverse=True)  # newest first, each month's matches
    for name, n in found.senders:  # the link adds sender=NAME: it finds exactly that many
        with filled.session() as s:
            narrowed = search(s, query, SearchFilters(**{**filters.__dict__, "sender": name}), 1000)
        assert narrowed.total == n, name
    assert sum(n for _, n in found.senders) >= len([h for h in every.hits if h.sender])


def test_a_body_is_one_row_whatever_its_spelling(filled: Archive) -> None:
    with filled.session() as s:
        names = [n for n, _ in facets(s, "", SearchFilters(kind="letter")).senders]
    assert len(names) == len(set(names))
    assert "財團法人醫院評鑑暨醫療品質策進會" in names  # 醫策會's letters, under its full name


def test_nothing_to_count_without_a_query_or_filter(filled: Archive) -> None:
    with filled.session() as s:
        empty = facets(s, "", SearchFilters())
    assert empty.senders == [] and empty.months == []


def test_more_matches_than_the_limit_are_counted_over_the_newest(filled: Archive) -> None:
    with filled.session() as s:
        every = search(s, "", SearchFilters(kind="letter"), 1000)
        whole = facets(s, "", SearchFilters(kind="letter"))
        bounded = facets(s, "", SearchFilters(kind="letter"), limit=2)
        as_a_set = facets(s, "", SearchFilters(kind="letter"), total=every.total)  # read with no order and no LIMIT
        bounded_by_total = facets(s, "", SearchFilters(kind="letter"), limit=2, total=every.total)
    assert whole.newest is None and every.total > 2
    assert as_a_set == whole and bounded_by_total == bounded
    assert bounded.newest == 2
    dated = sorted(((h.issue_date, h.id) for h in every.hits if h.issue_date), reverse=True)[:2]
    assert sum(n for _, n in bounded.months) == 2
    assert bounded.months == sorted(Counter(day[:7] for day, _ in dated).items(), reverse=True)
    assert sum(n for _, n in bounded.senders) <= 2 < sum(n for _, n in whole.senders)


def test_many_matches_are_walked_newest_first_with_the_same_counts(filled: Archive) -> None:
    """Dense matches (the search's total against the archive's size): the newest documents are read in date
    order, each checked, instead of the whole set; the counts are the ones the set gives."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    with filled.session() as s:
        total = search(s, "", SearchFilters(kind="letter"), 1000).total
        from_the_set = facets(s, "", SearchFilters(kind="letter"), limit=1)
        event.listen(filled.engine, "before_cursor_execute", record)
        try:
            walked = facets(s, "", SearchFilters(kind="letter"), limit=1, total=total)
        finally:
            event.remove(filled.engine, "before_cursor_execute", record)
    assert walked == from_the_set and walked.newest == 1
    assert any("documents.issue_date >=" in stmt for stmt in seen)  # the date window
    assert not any("documents.issue_date + 0" in stmt or "+documents.issue_date" in stmt for stmt in seen)  # no set


def test_a_dense_word_is_checked_in_the_newest_documents_text_with_the_same_counts(filled: Archive) -> None:
    """Many documents hold the word: the newest of the date window are checked in their text a slice at a
    time (not probed in their gram arrays), and the counts are the ones the whole set gives."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    with filled.session() as s:
        total = search(s, "年", None, 1000).total
        from_the_set = facets(s, "年", None, limit=1)
        event.listen(filled.engine, "before_cursor_execute", record)
        try:
            walked = facets(s, "年", None, limit=1, total=total)
        finally:
            event.remove(filled.engine, "before_cursor_execute", record)
    assert total > 8 and walked == from_the_set and walked.newest == 1
    assert any("documents.issue_date >=" in stmt for stmt in seen)  # the date window
    assert any("FROM document_text" in stmt and "LIKE" in stmt for stmt in seen)  # checked in the text
