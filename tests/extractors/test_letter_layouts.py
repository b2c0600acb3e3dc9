"""Layouts the generator does not make: the extractor must not depend on one template.

Lines are built by hand with positions (as a reader would give them) to cover what other
agencies print: a title with the 文別 set far right, labels with spaces inside, a contact
block at the left under the title, contact fields sharing one line.
"""

from __future__ import annotations

import datetime

from extractors.letter import extract_letter
from schemas.page import Line, Word

WIDTH = 595.0


def line(x: float, y: float, text: str, size: float = 14.0, page: int = 1) -> Line:
    w = Word(text=text, x0=x, x1=x + size * len(text), top=y, bottom=y + size, size=size)
    return Line(words=[w], text=text, x0=x, x1=w.x1, top=y, bottom=y + size, size=size, page=page)


def test_spread_title_spaced_labels_and_left_contact_block() -> None:
    lines = [
        line(150, 60, "臺北市政府", 20),
        line(400, 60, "函", 20),
        line(72, 100, "機關地址：11008臺北市信義區市府路1號", 10.5),
        line(72, 115, "聯絡人：王小明　電話：02-27208889#1234", 10.5),
        line(72, 130, "E-mail：ming@gov.taipei", 10.5),
        line(72, 160, "受文者：臺北市醫師公會"),
        line(72, 182, "發文日期：中華民國113年2月5日"),
        line(72, 204, "發文字號：府授衛字第 1130012345 號"),
        line(72, 226, "速別：速件"),
        line(72, 248, "密等及解密條件或保密期限：普通"),
        line(72, 270, "附件："),
        line(72, 292, "主"),
        line(114, 292, "旨：請轉知所屬會員配合辦理，請查照。"),
        line(72, 314, "說"),
        line(114, 314, "明："),
        line(86, 336, "一、依據衛生福利部113年1月10日衛部醫字第1131660001號函辦理。"),
        line(86, 358, "二、請於113年3月1日前回復。"),
        line(72, 380, "正本：臺北市醫師公會"),
        line(72, 402, "副本：本府衛生局(含附件)"),
        line(260, 440, "市長　蔣萬安", 18),
    ]
    doc = extract_letter(lines, (1, 1), WIDTH)
    assert (doc.sender, doc.doc_type) == ("臺北市政府", "函")
    assert doc.contact is not None
    assert doc.contact.address == "11008臺北市信義區市府路1號"
    assert doc.contact.name == "王小明"
    assert doc.contact.phone == "02-27208889#1234"
    assert doc.contact.email == "ming@gov.taipei"
    assert doc.doc_number == "府授衛字第1130012345號"
    assert doc.issue_date == datetime.date(2024, 2, 5)
    assert doc.speed == "速件"
    assert doc.attachments is None
    assert doc.subject == "請轉知所屬會員配合辦理，請查照。"
    assert doc.explanation is not None and [i.label for i in doc.explanation] == ["一", "二"]
    assert doc.references == ["衛部醫字第1131660001號"]
    assert doc.deadline == datetime.date(2024, 3, 1)
    assert doc.cc_copy == ["本府衛生局"] and doc.cc_with_attachments == ["本府衛生局"]
    assert doc.signatory == "市長　蔣萬安"


def test_missing_fields_are_null_never_guessed() -> None:
    lines = [
        line(200, 60, "某某協會 書函", 20),
        line(72, 160, "受文者：各會員"),
        line(72, 182, "主旨：本會會員大會延期舉行，請查照。"),
    ]
    doc = extract_letter(lines, (1, 1), WIDTH)
    assert doc.doc_type == "書函"
    assert doc.issue_date is None and doc.doc_number is None and doc.speed is None
    assert doc.contact is None and doc.explanation is None and doc.signatory is None
    assert "issue_date" not in doc.confidence
    assert doc.subject == "本會會員大會延期舉行，請查照。"


def test_labels_misread_by_ocr_are_still_found() -> None:
    lines = [
        line(200, 60, "衛生福利部 函", 20),
        line(72, 160, "受文著：中華民國醫師公會全國聯合會"),
        line(72, 182, "發文日期;中華民國111年1月19日"),
        line(72, 204, "發文宇號：衛部資字第1112660027號"),
        line(72, 226, "主 旨:關於貴會函請本部研議一事，請查照。"),
        line(72, 248, "正本：中華民國醫師公會全國聯合會"),
    ]
    doc = extract_letter(lines, (1, 1), WIDTH)
    assert doc.recipient == "中華民國醫師公會全國聯合會"
    assert doc.issue_date == datetime.date(2022, 1, 19)
    assert doc.doc_number == "衛部資字第1112660027號"
    assert doc.subject == "關於貴會函請本部研議一事，請查照。"


def test_two_character_labels_are_not_guessed() -> None:
    # 正木 is one stroke from 正本 but also one from 副本's neighbour: never guessed
    from extractors.glossary import BODY_LABELS, fuzzy_label

    assert fuzzy_label("正木：某公會", [BODY_LABELS]) is None
    assert fuzzy_label("說明書：如附件", [BODY_LABELS]) is None


def test_contact_fields_beside_header_fields_with_spaced_labels() -> None:
    # OCR reads a header row and the contact field beside it as one line; the label is spaced (`電  話`)
    lines = [
        line(200, 60, "臺中市政府衛生局 函", 20),
        line(72, 100, "地址：40343臺中市西區民權路99號", 10.5),
        line(72, 160, "受文者：社團法人臺中市醫師公會    電  話：04-25265394#3321"),
        line(72, 182, "發文日期：中華民國113年3月8日    傳  真：04-25222222"),
        line(72, 204, "發文字號：中市衛醫字第1130031234號"),
        line(72, 226, "主旨：請查照。"),
    ]
    doc = extract_letter(lines, (1, 1), WIDTH)
    assert doc.recipient == "社團法人臺中市醫師公會"
    assert doc.issue_date == datetime.date(2024, 3, 8)
    assert doc.contact is not None
    assert (doc.contact.phone, doc.contact.fax) == ("04-25265394#3321", "04-25222222")


def test_a_date_that_does_not_exist_stays_null() -> None:
    """中華民國112年2月30日 is printed but is no date: null (its confidence low), neither a crash nor a guess."""
    lines = [
        line(200, 60, "某某協會 書函", 20),
        line(72, 160, "受文者：各會員"),
        line(72, 182, "發文日期：中華民國112年2月30日"),
        line(72, 204, "發文字號：某協字第1120000001號"),
        line(72, 226, "主旨：請於112年2月30日前回復，請查照。"),
    ]
    doc = extract_letter(lines, (1, 1), WIDTH)
    assert doc.issue_date is None and doc.deadline is None and doc.dates == []
    assert doc.confidence["issue_date"] < 0.6
    dumped = doc.model_dump(mode="json")
    assert (dumped["issue_date"], dumped["deadline"], dumped["dates"]) == (None, None, [])
