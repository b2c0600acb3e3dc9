"""Reviewers' corrections on SQLite and PostgreSQL: kept apart, append-only, shown by show and search."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pipeline.corrections import CorrectionError, correct, review_list
from pipeline.db import Archive
from pipeline.facets import facets
from pipeline.search import SearchFilters, search
from pipeline.show import load_document
from pipeline.store import store_result
from schemas.letter import FileResult


def test_corrections_are_kept_apart_and_shown(
    archive: Archive, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    pdf = samples_dir / "own_10.pdf"
    report = store_result(archive, extract(pdf), pdf)
    letter = report.documents[0]
    with archive.session() as session:
        before, total = review_list(session, 0.8)
    assert [(i.field, i.confidence) for i in before if i.document_id == letter][:2] == [("doc_type", 0.7), ("sender", 0.7)]
    assert total == len(before) and all(i.boxes for i in before if i.field == "sender")
    correct(archive, letter, "sender", "測試更正公會", "reviewer")
    second = correct(archive, letter, "sender", "測試更正公會二", "other")
    assert (second.old, second.new, second.actor) == ("測試更正公會", "測試更正公會二", "other")
    with pytest.raises(CorrectionError):
        correct(archive, letter, "issue_date", "not a date", "reviewer")
    with archive.session() as session:
        doc, raw = load_document(session, letter), load_document(session, letter, corrected=False)
        after, _ = review_list(session, 0.8)
        hits = search(session, "藥物回收").hits
    assert doc is not None and raw is not None
    assert doc.sender == "測試更正公會二" and raw.sender == "中華民國藥師公會全國聯合會"
    assert ("sender" not in {i.field for i in after if i.document_id == letter})
    assert [h.sender for h in hits if h.id == letter] == ["測試更正公會二"]
    # the corrected text is searchable, and the text no longer shown is not (the index follows the correction)
    correct(archive, letter, "subject", "審核員改寫的主旨：瑪卡巴卡", "reviewer")
    with archive.session() as session:
        assert [h.id for h in search(session, "瑪卡巴卡").hits] == [letter]
        assert [h.id for h in search(session, "測試更正公會二").hits] == [letter]
        assert letter not in [h.id for h in search(session, "藥物回收處理辦法").hits]
    # the corrections are the audit log: never rewritten
    with pytest.raises(DBAPIError), archive.engine.begin() as conn:
        conn.execute(text("UPDATE field_corrections SET actor = 'someone else'"))
    with archive.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM field_corrections ORDER BY id")).scalars().all() == \
            ["reviewer", "other", "reviewer"]


def test_a_corrected_party_is_what_the_filters_find(
    archive: Archive, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    """The party rows follow a correction (the --sender/--recipient filters, the counts per sender);
    the document as read keeps what the extractor read."""
    pdf = samples_dir / "own_10.pdf"
    letter = store_result(archive, extract(pdf), pdf).documents[0]
    read_sender = "中華民國藥師公會全國聯合會"
    with archive.session() as session:
        doc = load_document(session, letter)
        assert doc is not None and doc.sender == read_sender
        read_cc = doc.cc_main
        assert [h.id for h in search(session, "", SearchFilters(sender=read_sender)).hits] == [letter]
    correct(archive, letter, "sender", "衛生福利部", "reviewer")
    correct(archive, letter, "cc_main", "臺北市藥師公會、測試更正公會", "reviewer")
    with archive.session() as session:
        assert [h.id for h in search(session, "", SearchFilters(sender="衛福部")).hits] == [letter]  # by its alias too
        assert search(session, "", SearchFilters(sender=read_sender)).total == 0
        assert [h.id for h in search(session, "", SearchFilters(recipient="測試更正公會")).hits] == [letter]
        assert facets(session, "", SearchFilters(recipient="測試更正公會")).senders == [("衛生福利部", 1)]
        shown, raw = load_document(session, letter), load_document(session, letter, corrected=False)
    assert shown is not None and raw is not None
    assert shown.cc_main == ["臺北市藥師公會", "測試更正公會"] and raw.cc_main == read_cc and read_cc != shown.cc_main
    assert raw.sender == read_sender


def test_a_corrected_tree_is_shown_and_searched(
    archive: Archive, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    """說明 corrected as printed text: parsed back into items by the extractor's parser, the index follows it."""
    from pipeline.corrections import as_text

    pdf = samples_dir / "own_10.pdf"
    letter = store_result(archive, extract(pdf), pdf).documents[0]
    with archive.session() as session:
        read = load_document(session, letter)
    assert read is not None and read.explanation is not None
    printed = as_text(read.explanation).splitlines()
    assert printed[0].startswith("一、依據衛生福利部食品藥物管理署")
    made = correct(archive, letter, "explanation", "\n".join([*printed[:3], "四、請於期限內以電子郵件回復瑪卡巴卡。"]),
                   "reviewer")
    assert made.new[3] == {"label": "四", "text": "請於期限內以電子郵件回復瑪卡巴卡。", "children": []}
    with archive.session() as session:
        shown, raw = load_document(session, letter), load_document(session, letter, corrected=False)
        assert [h.id for h in search(session, "瑪卡巴卡").hits] == [letter]
        assert letter not in [h.id for h in search(session, "請填寫修正意見表").hits]
    assert shown is not None and raw is not None
    assert [i.text for i in shown.explanation or []][3] == "請於期限內以電子郵件回復瑪卡巴卡。"
    assert raw.explanation == read.explanation
    correct(archive, letter, "measures", "", "reviewer")  # blank: no 辦法 (a confirmation of none)
    with archive.session() as session:
        doc = load_document(session, letter)
    assert doc is not None and doc.measures is None and doc.confidence["measures"] == 1.0
