"""Search in Chinese and the thread view, on real sample letters through the real extractor."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.db import Archive
from pipeline.matching import match_form, parse_query
from pipeline.search import Hit, SearchFilters, search, snippet
from pipeline.show import find_documents, show
from pipeline.store import ingest_file, store_results
from schemas.letter import FileResult
from schemas.orm import DocumentRow

Extract = Callable[[Path], FileResult]

COVER = "中市衛醫字第1120070277號"  # 臺中市政府衛生局, forwards A and B, 說明 says 醫策會
A = "醫評字第1120100216A號"  # 醫策會 (printed in full only), 2023-05-30, 美容醫學
B = "醫評字第1120100216B號"  # 醫策會, 細胞治療
ASSOC = "全醫聯字第1110000119號"  # seed_003: association's letter forwarding the ministry's reply
MOHW = "衛部資字第1112660027號"  # seed_003: the ministry's reply, cites 全醫聯字第1100001632號 (not stored)
MOI = "台內警字第1120872345號"  # own_05: printed with 台
BROCHURE = None  # seed_000's brochures (other documents: no 字號)


@pytest.fixture
def filled(archive: Archive, extract: Extract, samples_dir: Path) -> Archive:
    for name in ("seed_000", "seed_003", "seed_004", "own_05"):
        assert ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract).status == "stored"
    return archive


def numbers(archive: Archive, query: str, **filters: object) -> list[str | None]:
    with archive.session() as s:
        return [h.doc_number for h in search(s, query, SearchFilters(**filters)).hits]  # type: ignore[arg-type]


def hits(archive: Archive, query: str, **filters: object) -> list[Hit]:
    with archive.session() as s:
        return search(s, query, SearchFilters(**filters)).hits  # type: ignore[arg-type]


def test_substrings_of_three_or_more_characters(filled: Archive) -> None:
    assert set(numbers(filled, "細胞治療")) == {COVER, B, BROCHURE}  # the brochure of B says it too
    assert set(numbers(filled, "換發醫事人員卡")) == {ASSOC, MOHW}


def test_two_character_and_one_character_queries(filled: Archive) -> None:
    assert set(numbers(filled, "細胞")) == {COVER, B, BROCHURE}
    assert set(numbers(filled, "美容")) == {COVER, A, BROCHURE}
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
    assert set(numbers(filled, "醫策會 細胞")) == {COVER, B, BROCHURE}
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
            assert search(s, query, SearchFilters(sender="'; --", number="%")).total == 0, query
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


def test_ranking_covers_every_match_and_counts_them(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    """An old letter with the word in its subject outranks 250 newer letters that only mention it in 說明
    (the ranking used to look at the newest 200 matches only)."""
    [_, letter] = extract(samples_dir / "seed_003.pdf").documents  # 衛部資字第1112660027號
    word = "量子糾纏"
    files: list[FileResult] = []
    for n in range(251):
        doc = letter.model_copy(deep=True)
        doc.doc_number = f"衛部資字第{1112660100 + n}號"
        doc.pages = [1, 1]
        if n == 0:  # the oldest, stored first
            doc.subject = f"關於{word}研究計畫一事，復如說明，請查照。"
            doc.issue_date = datetime.date(2012, 1, 5)
        else:
            assert doc.explanation
            doc.explanation[0].text += f"另{word}相關資料另案辦理。"
            doc.issue_date = datetime.date(2023, 1, 1) + datetime.timedelta(days=n)
        files.append(FileResult(file=f"rank/{n}.pdf", sha256=f"{n:064x}", pages=1, documents=[doc]))
    assert all(r.status == "stored" for r in store_results(archive, [(f, None) for f in files]))
    with archive.session() as s:
        found = search(s, word, limit=5)
        assert found.total == 251 and len(found.hits) == 5
        assert found.hits[0].doc_number == "衛部資字第1112660100號" and "subject" in found.hits[0].matched
        assert [h.issue_date for h in found.hits[1:]] == ["2023-09-08", "2023-09-07", "2023-09-06", "2023-09-05"]
        assert search(s, word, SearchFilters(date_to=datetime.date(2023, 1, 10))).total == 1 + 9


def test_a_whole_doc_number_lists_its_letter_before_the_letters_citing_it(filled: Archive) -> None:
    for query in (A, "醫評字第 1120100216A 號", "醫評字第1120100216a號"):
        found = numbers(filled, query)
        assert found[0] == A, query
        assert COVER in found  # it cites A in its 說明 (newer, listed after)
    found = numbers(filled, f"認證 {A}")
    assert found[0] == A and COVER in found
    assert numbers(filled, MOHW)[0] == MOHW  # ASSOC cites it and is newer


def test_a_body_name_lists_the_letters_it_sent_first(filled: Archive) -> None:
    # COVER names 醫策會 in its subject; A and B are 醫策會's own letters, one of its names printed
    for query in ("醫策會", "財團法人醫院評鑑暨醫療品質策進會", "醫院評鑑暨醫療品質策進會"):
        found = numbers(filled, query)
        assert set(found[:2]) == {A, B} and COVER in found[2:], query
    # ASSOC (newer) names 衛生福利部 in its subject; MOHW is the ministry's own letter
    for query in ("衛福部", "衛生福利部"):
        found = numbers(filled, query)
        assert found[0] == MOHW and ASSOC in found[1:], query


@pytest.fixture
def ministry(archive: Archive, extract: Extract, samples_dir: Path) -> Archive:
    """衛生福利部's letters (own_02, seed_003) and two of its agencies' (own_13 國民健康署, own_14 健保署)."""
    for name in ("seed_003", "own_02", "own_13", "own_14"):
        assert ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract).status == "stored"
    return archive


MINISTRY = {MOHW, "衛部醫字第1121661234號"}
AGENCIES = {"國健癌字第1131260521號", "健保醫字第1120116832號"}


def test_sender_and_recipient_filters_resolve_aliases_both_ways(ministry: Archive) -> None:
    for name in ("衛生福利部", "衛福部", "衛生福利部 ", "衞生福利部"):
        assert set(numbers(ministry, "", sender=name)) == MINISTRY, name
        assert set(numbers(ministry, "", sender=name, include_agencies=True)) == MINISTRY | AGENCIES, name
    assert set(numbers(ministry, "", sender="國健署")) == {"國健癌字第1131260521號"}
    assert set(numbers(ministry, "", sender="衛生福利部國民健康署")) == {"國健癌字第1131260521號"}
    assert set(numbers(ministry, "請查照", sender="健保署", include_agencies=True)) == {"健保醫字第1120116832號"}
    to_union = {MOHW, "健保醫字第1120116832號", "國健癌字第1131260521號"}  # the last one: 副本
    for name in ("全聯會", "中華民國醫師公會全國聯合會", "醫師公會全國聯合會"):
        assert set(numbers(ministry, "", recipient=name)) == to_union, name
    assert set(numbers(ministry, "", sender="福利部")) == MINISTRY | AGENCIES  # a part of a name: every name holding it


def test_other_documents_are_found_by_their_text(filled: Archive) -> None:
    """seed_000's brochures: stored with their printed text, searchable, shown."""
    found = hits(filled, "美醫認證標章", kind="other")
    assert [h.kind for h in found] == ["other"]
    assert "«美醫認證標章»" in found[0].snippet and found[0].matched == ["body"]
    assert [h.kind for h in hits(filled, "細胞治療技術審查")] == ["other"]  # only the second brochure says it
    with filled.session() as s:
        view = show(s, found[0].id)
    assert view is not None and view.document.text is not None and "美醫認證標章" in view.document.text


@pytest.mark.parametrize("walk", [1, 3, 1000])
def test_the_plans_of_a_large_archive_give_the_same_results(
    filled: Archive, monkeypatch: pytest.MonkeyPatch, walk: int
) -> None:
    """The newest documents are walked and probed when many match (`DENSE`), at most `WALK` of them,
    then the ranks' sets are read whole; filters that keep few documents (`NARROW`: all of them
    here) drive instead: tiny and huge thresholds take every path on this small archive."""
    import pipeline.search as search_module
    import pipeline.search_sql as search_sql

    cases: list[tuple[str, dict[str, object]]] = [
        ("細胞治療", {}), ("細胞", {}), ("台中", {}), ("醫策會", {}), ("警", {}), ("醫策會 細胞", {}),
        ("認證", {}), ("zzz", {}), ("(一", {}), ("認證", {"date_from": datetime.date(2023, 1, 1)}),
        ("醫", {"sender": "醫策會"}), ("認證", {"recipient": "臺中市"}), ("", {"sender": "衛生局"}), (A, {}),
        ("衛福部", {}), ("醫師 申請", {}), ("診所美容醫學", {}),
    ]

    def ranked() -> list[list[tuple[str | None, int]]]:
        with filled.session() as s:
            out = []
            for q, f in cases:
                found = search(s, q, SearchFilters(**f), limit=50)  # type: ignore[arg-type]
                assert found.total == len(found.hits), (q, f)
                out.append([(h.doc_number, h.score) for h in found.hits])
            return out

    expected = ranked()
    assert all(expected[:4]) and not expected[7]
    monkeypatch.setattr(search_module, "DENSE", 1)
    monkeypatch.setattr(search_module, "WALK", walk)
    monkeypatch.setattr(search_sql, "NARROW", 1)  # filters never drive
    assert ranked() == expected


def test_a_long_word_is_not_found_in_a_letter_holding_its_pieces_apart(
    archive: Archive, extract: Extract, samples_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL finds a word of four characters or more by its three-character pieces (all held):
    a letter holding 量子糾 and 子糾纏 apart is never listed, is counted only in an estimate of a
    large count (which says so), and SQLite counts exactly whatever the size."""
    import pipeline.search_sql as search_sql

    [_, letter] = extract(samples_dir / "seed_003.pdf").documents
    files: list[FileResult] = []
    for n, subject in enumerate(["關於量子糾纏研究計畫一事，請查照。", "關於量子糾結及分子糾纏二案，請查照。"]):
        doc = letter.model_copy(deep=True)
        doc.doc_number, doc.subject, doc.pages = f"衛部資字第{1112660500 + n}號", subject, [1, 1]
        files.append(FileResult(file=f"apart/{n}.pdf", sha256=f"{n + 900:064x}", pages=1, documents=[doc]))
    assert all(r.status == "stored" for r in store_results(archive, [(f, None) for f in files]))
    postgres = archive.engine.dialect.name == "postgresql"
    with archive.session() as s:
        found = search(s, "量子糾纏")
        assert [h.doc_number for h in found.hits] == ["衛部資字第1112660500號"]
        assert (found.total, found.exact) == (1, True)  # a small count is checked in the text
        monkeypatch.setattr(search_sql, "EXACT_COUNT", 0)  # every count "large"
        found = search(s, "量子糾纏")
        assert [h.doc_number for h in found.hits] == ["衛部資字第1112660500號"]
        assert (found.total, found.exact) == ((2, False) if postgres else (1, True))
        assert search(s, "量子糾").total == 2 and search(s, "量子糾").exact  # three characters: the index is exact
