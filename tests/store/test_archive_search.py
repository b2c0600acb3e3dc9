"""Search in Chinese and the thread view, on real sample letters through the real extractor."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.db import Archive
from pipeline.search import Hit, SearchFilters, match_form, parse_query, search, snippet
from pipeline.show import find_documents, show
from pipeline.store import ingest_file
from schemas.letter import FileResult
from schemas.orm import DocumentRow

Extract = Callable[[Path], FileResult]

COVER = "中市衛醫字第1120070277號"  # 臺中市政府衛生局, forwards A and B, 說明 says 醫策會
A = "醫評字第1120100216A號"  # 醫策會 (printed in full only), 2023-05-30, 美容醫學
B = "醫評字第1120100216B號"  # 醫策會, 細胞治療
ASSOC = "全醫聯字第1110000119號"  # seed_003: association's letter forwarding the ministry's reply
MOHW = "衛部資字第1112660027號"  # seed_003: the ministry's reply, cites 全醫聯字第1100001632號 (not stored)
MOI = "台內警字第1120872345號"  # own_05: printed with 台


@pytest.fixture
def filled(archive: Archive, extract: Extract, samples_dir: Path) -> Archive:
    for name in ("seed_000", "seed_003", "seed_004", "own_05"):
        assert ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract).status == "stored"
    return archive


def numbers(archive: Archive, query: str, **filters: object) -> list[str | None]:
    with archive.session() as s:
        return [h.doc_number for h in search(s, query, SearchFilters(**filters))]  # type: ignore[arg-type]


def hits(archive: Archive, query: str, **filters: object) -> list[Hit]:
    with archive.session() as s:
        return search(s, query, SearchFilters(**filters))  # type: ignore[arg-type]


def test_substrings_of_three_or_more_characters(filled: Archive) -> None:
    assert set(numbers(filled, "細胞治療")) == {COVER, B}
    assert set(numbers(filled, "換發醫事人員卡")) == {ASSOC, MOHW}


def test_two_character_and_one_character_queries(filled: Archive) -> None:
    assert set(numbers(filled, "細胞")) == {COVER, B}
    assert set(numbers(filled, "美容")) == {COVER, A}
    assert MOI in numbers(filled, "警")  # one character: still found


def test_tai_and_tai_variants_find_each_other(filled: Archive) -> None:
    assert COVER in numbers(filled, "台中市")  # printed 臺中市
    assert COVER in numbers(filled, "台中")
    assert MOI in numbers(filled, "臺內警字")  # printed 台內警字
    found = hits(filled, "台中")
    cover = next(h for h in found if h.doc_number == COVER)
    assert "«臺中»" in cover.snippet  # printed text in the snippet, not the query's spelling


def test_an_alias_finds_letters_that_spell_out_the_full_name(filled: Archive) -> None:
    found = numbers(filled, "醫策會")
    assert {A, B, COVER} <= set(found)
    with filled.session() as s:
        a_subject = s.scalar(select(DocumentRow.subject).where(DocumentRow.doc_number == A))
    assert a_subject is not None and "醫策會" not in a_subject
    # and the full name finds the letters that print the alias
    assert COVER in numbers(filled, "財團法人醫院評鑑暨醫療品質策進會")


def test_words_are_all_required(filled: Archive) -> None:
    assert numbers(filled, "醫策會 細胞") == [COVER, B] or set(numbers(filled, "醫策會 細胞")) == {COVER, B}
    assert numbers(filled, "細胞 空窗期") == []


def test_subject_hits_rank_first_and_snippets_mark_the_match(filled: Archive) -> None:
    found = hits(filled, "認證")
    assert found[0].doc_number in {COVER, A, B} and "subject" in found[0].matched
    assert all("«認證»" in h.snippet for h in found)
    subject_hits = [i for i, h in enumerate(found) if "subject" in h.matched]
    others = [i for i, h in enumerate(found) if "subject" not in h.matched]
    assert not others or max(subject_hits) < min(others)


def test_filters(filled: Archive) -> None:
    assert set(numbers(filled, "", sender="醫策會")) == {A, B}  # an alias as the sender
    assert set(numbers(filled, "", sender="衛生局")) == {COVER}
    assert numbers(filled, "認證", recipient="大台中醫師公會") == [COVER]  # 台 for 臺, a part of the name
    assert set(numbers(filled, "認證", date_from=datetime.date(2023, 1, 1), date_to=datetime.date(2023, 5, 31))) == {A, B}
    assert set(numbers(filled, "認證", date_to=datetime.date(2022, 12, 31))) == {ASSOC, MOHW}
    assert set(numbers(filled, "", date_from=datetime.date(2023, 6, 1), date_to=datetime.date(2023, 6, 30))) == {COVER}
    assert numbers(filled, "", speed="速件") == [MOI]
    assert numbers(filled, "", number="醫評字第 1120100216A 號") == [A]
    assert set(numbers(filled, "", number="1120100216")) == {A, B}
    assert numbers(filled, "", number="臺內警字第1120872345號") == [MOI]
    forms = hits(filled, "", kind="form")
    assert len(forms) == 5 and {h.kind for h in forms} == {"form"}


def test_roc_dates_in_filters_through_the_cli_parser() -> None:
    from extractors.dates import parse_date

    assert parse_date("112/05/30") == datetime.date(2023, 5, 30)


HOSTILE = [
    "'", '"', "%", "_", "*", "'; DROP TABLE documents; --", "醫", "a", '"醫策會', "醫策會*", "NEAR(醫 策)",
    "細胞 OR 空窗", "\\", "%%_\\_", "\x00", "　", "-", "^醫", "documents:醫", "{subject}:認證", "醫'策\"會",
    "x" * 500,
]


def test_hostile_queries_are_plain_text(filled: Archive) -> None:
    with filled.session() as s:
        for query in HOSTILE:
            assert search(s, query, SearchFilters(sender="'; --", number="%")) == [], query
            search(s, query)  # never raises
            search(s, query, SearchFilters(recipient=query, speed=query, number=query))
        assert s.scalar(select(func.count()).select_from(DocumentRow)) == 5 + 2 + 5 + 1


def test_percent_and_underscore_match_only_themselves(filled: Archive) -> None:
    with_underscore = numbers(filled, "_")  # the cover letter's attachment names hold underscores
    assert with_underscore == [COVER]
    assert numbers(filled, "%") == []


def test_query_words_with_their_other_names() -> None:
    [term] = parse_query("醫策會")
    assert set(term.forms) == {"醫策會", "醫院評鑑暨醫療品質策進會"}
    assert parse_query("  台中   醫師 ")[0].forms == ("臺中",)
    assert match_form("Ａ１ 台中\n") == "a1臺中"
    assert snippet("財團法人醫院評鑑暨醫療品質策進會函", ["醫療品質"]) == "財團法人醫院評鑑暨«醫療品質»策進會函"


def test_show_by_id_and_by_number_with_the_thread(filled: Archive) -> None:
    with filled.session() as s:
        [cover_id] = find_documents(s, COVER)
        [a_id] = find_documents(s, "醫評字第 1120100216A 號")
        assert find_documents(s, str(cover_id)) == [cover_id]
        assert find_documents(s, "no such number") == []
        cover = show(s, cover_id)
        a = show(s, a_id)
        assoc = show(s, find_documents(s, ASSOC)[0])
        mohw = show(s, find_documents(s, MOHW)[0])
    assert cover is not None and a is not None and assoc is not None and mohw is not None
    assert [(c.doc_number, c.id is not None) for c in cover.cites] == [(A, True), (B, True)]
    assert [c.doc_number for c in a.cited_by] == [COVER]
    assert [t.doc_number for t in a.thread] == [A, B, COVER]  # oldest first
    assert cover.document.pages == [1, 2] and a.document.pages == [3, 4]
    assert [c.doc_number for c in assoc.cites] == [MOHW]
    assert [(c.doc_number, c.id) for c in mohw.cites] == [("全醫聯字第1100001632號", None)]  # not in the archive
    payload = a.to_json()
    assert payload["doc_number"] == A and payload["files"][0]["pages"] == [3, 4]
    assert payload["files"][0]["received"]["org"] == "醫事管理科"


@pytest.mark.parametrize("domain", [1, 3, 10_000])
def test_the_paths_of_a_large_archive_give_the_same_results(
    filled: Archive, monkeypatch: pytest.MonkeyPatch, domain: int
) -> None:
    """On a big archive PostgreSQL applies narrow filters first, else walks the newest documents,
    then turns to the bigram index; few matches are ranked: tiny limits take the sample there."""
    import pipeline.search as search_module

    cases: list[tuple[str, dict[str, object]]] = [
        ("細胞治療", {}), ("細胞", {}), ("台中", {}), ("醫策會", {}), ("警", {}), ("醫策會 細胞", {}),
        ("認證", {}), ("zzz", {}), ("(一", {}), ("認證", {"date_from": datetime.date(2023, 1, 1)}),
        ("醫", {"sender": "醫策會"}), ("認證", {"recipient": "臺中市"}), ("", {"sender": "衛生局"}),
    ]
    expected = [set(numbers(filled, q, **f)) for q, f in cases]
    assert all(expected[:4]) and not expected[7]
    monkeypatch.setattr(search_module, "WALK", 2)
    monkeypatch.setattr(search_module, "CANDIDATES", 1)
    monkeypatch.setattr(search_module, "DOMAIN", domain)
    for (q, f), want in zip(cases, expected, strict=True):
        with filled.session() as s:
            found = {h.doc_number for h in search(s, q, SearchFilters(**f), limit=50)}  # type: ignore[arg-type]
        assert found == want, (q, f)
