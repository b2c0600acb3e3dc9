"""Field extraction on real letters (seed texts rendered by the project's generator)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pipeline.extract import extract_file
from schemas.letter import Document, FileResult


@pytest.fixture(scope="module")
def seed_000(samples_dir: Path) -> FileResult:
    return extract_file(samples_dir / "seed_000.pdf")


def _letters(result: FileResult) -> list[Document]:
    return [d for d in result.documents if d.kind == "letter"]


def test_cover_letter_and_forwarded_letters_are_separate(seed_000: FileResult) -> None:
    kinds = [(d.kind, d.pages) for d in seed_000.documents]
    assert kinds == [("letter", [1, 2]), ("letter", [3, 4]), ("letter", [5, 6]), ("other", [7, 8]), ("other", [9, 10])]


def test_cover_letter_header_and_contact(seed_000: FileResult) -> None:
    cover = _letters(seed_000)[0]
    assert cover.sender == "臺中市政府衛生局" and cover.doc_type == "函"
    assert cover.doc_number == "中市衛醫字第1120070277號"
    assert cover.issue_date == datetime.date(2023, 6, 8)
    assert cover.speed == "普通件" and cover.security is None
    assert cover.contact is not None
    assert cover.contact.name == "林佳儀" and cover.contact.title == "技士"
    assert cover.contact.phone == "04-25265394#3232"
    assert cover.contact.email == "hbtcm01696@taichung.gov.tw"
    assert cover.recipient == "社團法人臺中市大臺中醫師公會"


def test_cover_letter_cites_both_forwarded_letters(seed_000: FileResult) -> None:
    cover, first, second = _letters(seed_000)
    assert cover.references == [first.doc_number, second.doc_number]
    assert cover.deadline == datetime.date(2023, 6, 30)
    assert [d.date for d in cover.dates][:3] == [datetime.date(2023, 6, 8), datetime.date(2023, 5, 30), datetime.date(2023, 5, 15)]


def test_receipt_stamp_is_received_not_text(seed_000: FileResult) -> None:
    first = _letters(seed_000)[1]
    assert first.received is not None
    assert (first.received.org, first.received.date) == ("醫事管理科", datetime.date(2023, 6, 1))
    all_text = " ".join(i.text for i in first.explanation or [])
    assert "收文" not in all_text and "141120070277" not in all_text
    assert "有附件" not in all_text


def test_window_address_is_not_the_contact_address(seed_000: FileResult) -> None:
    first = _letters(seed_000)[1]
    assert first.contact is not None
    assert first.contact.address == "220835新北市板橋區三民路二段31號5樓"
    assert first.signatory is not None and first.signatory.replace(" ", "") == "董事長林啓禎"


def test_stamp_with_number_and_template_number(samples_dir: Path) -> None:
    seed_003 = extract_file(samples_dir / "seed_003.pdf")
    association, ministry = _letters(seed_003)
    assert association.received is not None
    assert association.received.model_dump(mode="json") == {"org": "彰化縣醫師公會", "date": "2022-01-25", "number": "彰醫字第129號"}
    assert association.references == ["衛部資字第1112660027號"]
    assert association.signatory == "理事長邱泰源"
    assert ministry.received is None  # an electronic-exchange stamp is not a receipt
    assert ministry.references == ["全醫聯字第1100001632號"]
    tainan = extract_file(samples_dir / "tainan_001.pdf").documents[0]
    assert tainan.references == []  # 府○○字第0000000000號 is a template
    assert tainan.cc_main is not None and len(tainan.cc_main) == 27


def test_meeting_notice(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "own_17.pdf").documents[0]
    assert doc.doc_type == "開會通知單"
    assert doc.meeting_time == datetime.datetime(2023, 7, 12, 14, 30)
    assert doc.explanation is None and doc.notes
    assert doc.attendees and doc.observers and doc.cc_main == [*doc.attendees, *doc.observers]
    assert doc.deadline == datetime.date(2023, 7, 5)


def test_forms_are_classified_with_their_fields(samples_dir: Path) -> None:
    forms = extract_file(samples_dir / "seed_004.pdf").documents
    assert [d.kind for d in forms] == ["form"] * 5
    first = forms[0]
    assert (first.form_number, first.compiler, first.period, first.due) == (
        "10511-90-02-2", "縣市衛生局", "年報", "每年終了1個月內編報",
    )
    assert first.distribution == ["衛生福利部心理健康司", "本府主計處", "會計室"]
    assert forms[-1].form_number is None


def test_ocr_misreadings_of_an_email_address_are_undone_only_where_unambiguous() -> None:
    from extractors.letter import repair_email

    assert repair_email("y1hb213@ylshb.gov.tw") == ("ylhb213@ylshb.gov.tw", True)  # 1 between letters
    assert repair_email("yutinglin90l@mail.tainan.gov.tw") == ("yutinglin901@mail.tainan.gov.tw", True)
    assert repair_email("em51010@emai1.ncku.edu.tw") == ("em51010@email.ncku.edu.tw", True)
    # at a letter-digit seam either reading is an address: left as read; Hinet's ms1 hosts are real
    assert repair_email("Al10627@nhi.gov.tw") == ("Al10627@nhi.gov.tw", False)
    assert repair_email("ms1@ms1.hinet.net") == ("ms1@ms1.hinet.net", False)
    # a text layer prints the address as it is: its user part is not second-guessed
    assert repair_email("a1b2l@x.gov.tw", ocr=False) == ("a1b2l@x.gov.tw", False)
