"""Letters laid out in ways the project's first template did not: whole files through the reading path.

Every test here reads a real PDF (a committed sample or a source rendered by `samples.generator`
into a temporary folder) with `pipeline.extract.extract_file`: reader, layout, segmentation and
extraction, so a label that segmentation cannot read fails the test as it would fail a user.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from extractors import glossary as g
from extractors.dates import find_deadline
from extractors.labels import match_label
from pipeline.evaluate import Report, cer, compare
from pipeline.extract import extract_file
from samples.generator import render_source
from schemas.letter import Document

NEW_SAMPLES = ["assoc_01", "di_print_01", "rulings_01", "quoted_01", "ocr_labels_01", "ocr_labels_02", "meeting_02"]


def _render(tmp_path: Path, name: str, source: str) -> list[Document]:
    pdf = tmp_path / f"{name}.pdf"
    render_source(source, pdf)
    result = extract_file(pdf, ocr=None)
    assert result.error is None
    return result.documents


@pytest.mark.parametrize("name", NEW_SAMPLES)
def test_every_field_of_the_new_layouts_is_right(samples_dir: Path, name: str) -> None:
    golden = json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))
    result = extract_file(samples_dir / f"{name}.pdf")
    single = Report()
    compare(golden, result, single)
    assert not single.errors
    assert [(f.document, f.field, f.expected, f.got) for f in single.failures] == []
    for want, got in zip(golden["documents"], result.documents, strict=True):
        assert got.model_dump(mode="json")["notices"] == want.get("notices")


def test_a_letter_whose_every_header_label_is_misread_is_still_a_letter(tmp_path: Path) -> None:
    # no title line and no label spelled right: segmentation must read labels as extraction does
    docs = _render(tmp_path, "misread", "\n".join([
        "@doc letter",
        "受文著：中華民國醫師公會全國聯合會",
        "發文日期;中華民國111年1月19日",
        "發文宇號：衛部資字第1112660027號",
        "‧主旨:關於貴會函請本部研議一事，請查照。",
        "3附件:無",
        "正本：中華民國醫師公會全國聯合會",
        "@doc other",
        "@big 健康促進活動手冊",
        "歡迎民眾踴躍參加本年度健康講座，講座內容包括飲食、運動與睡眠。",
        "講座地點：本市各區健康服務中心。",
        "報名方式：電話或網路報名。",
        "洽詢電話：02-12345678。",
    ]))
    assert [d.kind for d in docs] == ["letter", "other"]
    letter = docs[0]
    assert letter.recipient == "中華民國醫師公會全國聯合會"
    assert letter.issue_date == datetime.date(2022, 1, 19)
    assert letter.doc_number == "衛部資字第1112660027號"
    assert letter.subject == "關於貴會函請本部研議一事，請查照。"
    assert letter.attachments == "無"


@pytest.mark.parametrize(
    ("text", "key", "rest"),
    [
        (":受文者:臺中市地政士公會", "recipient", "臺中市地政士公會"),
        ("‧主旨:檢送要點1份", "subject", "檢送要點1份"),
        ("3附件:如主旨", "attachments", "如主旨"),
        (".速別:普通件", "speed", "普通件"),
        ("由主旨:檢送要點1份", "subject", "檢送要點1份"),
        ("農。連別:普通件", "speed", "普通件"),
        ("受文著：各會員", "recipient", "各會員"),
        ("發文宇號：衛部資字第1112660027號", "doc_number", "衛部資字第1112660027號"),
    ],
)
def test_ocr_noise_around_labels(text: str, key: str, rest: str) -> None:
    hit = match_label(text, [g.HEADER_RES, g.BODY_RES])
    assert hit is not None and (hit[0], hit[1].strip()) == (key, rest)


@pytest.mark.parametrize(
    "text",
    [
        "1、附件：如說明",  # an item number, not a speck
        "檢送附件：如說明",  # 附件 after a word in running text
        "連別:無",  # a two-character misreading the value does not prove
        "本案說明：略",
    ],
)
def test_text_that_is_not_a_label_stays_text(text: str) -> None:
    assert match_label(text, [g.HEADER_RES, g.BODY_RES]) is None


def test_ocr_noise_letter_keeps_every_section(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "ocr_labels_01.pdf").documents[0]
    assert doc.sender == "臺中市政府地政局"  # the stray quote before 函 dropped
    assert doc.speed == "普通件" and doc.attachments == "如主旨"
    assert doc.subject is not None and "決行" not in doc.subject
    assert doc.explanation is not None and len(doc.explanation) == 2


def test_association_notice_keeps_every_block(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "assoc_01.pdf").documents[0]
    assert (doc.kind, doc.doc_type, doc.sender) == ("letter", "通知", "社團法人高雄市醫師公會")
    assert doc.recipient == "各會員"  # the category line is not part of it
    assert doc.notices is not None and [n.label for n in doc.notices] == ["一", "二", "三"]
    assert doc.subject == doc.notices[0].subject and doc.explanation == doc.notices[0].explanation
    # dates, citations and the deadline of later blocks are the letter's too
    assert doc.references == ["高市衛醫字第11035412300號", "高市衛疾字第11035500100號"]
    assert doc.deadline == datetime.date(2021, 7, 20)


def test_notice_blocks_run_in_after_a_one_line_header(tmp_path: Path) -> None:
    docs = _render(tmp_path, "notice", "\n".join([
        "@doc letter",
        "臺北市醫師公會 通知 112.3.1.(112)北市醫會字第 45.-60.號",
        "受文者：各會員",
        "一、主旨：轉知本年度健保業務說明會訊息，請查照。",
        "說明：說明會訂於112年3月20日舉行。",
        "二、主旨：本會會員大會延期舉行，請查照。",
    ]))
    assert len(docs) == 1
    doc = docs[0]
    assert (doc.sender, doc.doc_type, doc.issue_date) == ("臺北市醫師公會", "通知", datetime.date(2023, 3, 1))
    assert doc.doc_number == "(112)北市醫會字第45.-60.號"
    assert doc.notices is not None and [n.subject for n in doc.notices] == [
        "轉知本年度健保業務說明會訊息，請查照。", "本會會員大會延期舉行，請查照。"
    ]
    assert doc.notices[1].explanation is None


def test_a_single_subject_has_no_notices(samples_dir: Path) -> None:
    assert extract_file(samples_dir / "own_05.pdf").documents[0].notices is None


def test_rulings_page_after_a_letter_is_a_letter_of_its_own(tmp_path: Path) -> None:
    docs = _render(tmp_path, "rulings", "\n".join([
        "@doc letter",
        "@title 某某市政府 函",
        "受文者：某某公會",
        "發文日期：中華民國112年5月1日",
        "發文字號：某府工字第1120001111號",
        "主旨：檢送建築法令解釋1份，請查照。",
        "正本：某某公會",
        "@doc letter",
        "主旨：關於騎樓地供公眾通行之認定疑義，復請查照。",
        "內政部函 91.03.05.台內營字第0910002345號",
        "@doc letter",
        "主旨：騎樓設置攤架之處理原則一案，請查照。",
        "內政部函 91.04.10.台內營字第0910003456號",
    ]))
    # a page with a 主旨 starts a letter when the letter before it already has one (no 正本 closes a ruling)
    assert [d.kind for d in docs] == ["letter", "letter", "letter"]
    assert docs[2].doc_number == "台內營字第0910003456號"
    ruling = docs[1]
    assert (ruling.sender, ruling.doc_type, ruling.issue_date) == ("內政部", "函", datetime.date(2002, 3, 5))
    assert ruling.doc_number == "台內營字第0910002345號"
    assert ruling.subject == "關於騎樓地供公眾通行之認定疑義，復請查照。"


def test_a_letter_whose_explanation_starts_a_page_stays_one_letter(tmp_path: Path) -> None:
    docs = _render(tmp_path, "two_pages", "\n".join([
        "@doc letter",
        "@title 某某市政府 函",
        "受文者：某某公會",
        "發文日期：中華民國112年5月1日",
        "發文字號：某府工字第1120001111號",
        "主旨：檢送建築法令解釋1份，請查照。",
        "@pagebreak",
        "說明：依據本府112年4月1日某府工字第1120000001號函辦理。",
        "正本：某某公會",
    ]))
    assert [(d.kind, d.pages) for d in docs] == [("letter", [1, 2])]
    assert docs[0].explanation is not None


def test_quoted_letter_is_read_from_its_citation_line(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "quoted_01.pdf").documents[0]
    assert (doc.kind, doc.sender, doc.doc_type, doc.doc_number) == ("letter", "法務部", "函", "法檢字第1000014063號")
    assert doc.references == []  # its own number is not a citation
    assert doc.subject is not None and not doc.subject.startswith("檢察機關受理民眾")  # 要旨 is not the 主旨


def test_electronic_letter_print_out_is_assembled(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "di_print_01.pdf").documents[0]
    assert (doc.sender, doc.doc_type) == ("行政院衛生署", "函")
    assert doc.issue_date == datetime.date(2012, 12, 28) and doc.doc_number == "衛署醫字第1010268451號"
    assert doc.speed == "普通件"
    assert doc.cc_main == ["中華民國醫師公會全國聯合會"] and doc.cc_copy == ["本署醫事處"]
    assert doc.explanation is not None and [i.label for i in doc.explanation] == ["一", "二"]


def test_meeting_table_and_contact_below_it(samples_dir: Path) -> None:
    doc = extract_file(samples_dir / "meeting_02.pdf").documents[0]
    assert doc.meeting_time == datetime.datetime(2024, 3, 20, 10, 0) and doc.chair == "陳科長淑華"
    assert doc.attachments == "會議議程1份"  # the table's labels do not run into the field above
    assert doc.contact is not None and (doc.contact.name, doc.contact.phone) == ("黃雅琪", "04-25265394#3321")
    assert doc.deadline == datetime.date(2024, 4, 12)  # 收件至…止; 於…前經核准者 is a condition


def test_a_condition_is_not_a_deadline() -> None:
    assert find_deadline("於113年1月1日前經核准者，免再提出申請。") is None
    assert find_deadline("於113年1月1日前已取得證書者，免再申請。") is None
    assert find_deadline("請於113年1月1日前經由系統提出申請。") is not None
    assert str(find_deadline("本計畫收件至113年4月12日止。")) == "2024-04-12"


def test_cross_field_checks_repair_or_flag(samples_dir: Path, tmp_path: Path) -> None:
    repaired = extract_file(samples_dir / "ocr_labels_02.pdf").documents[0]
    assert repaired.sender == "衛生福利部" and repaired.speed == "普通件"  # `衛生福利部了`, `普通伴`
    assert repaired.confidence["sender"] < 0.95 and repaired.confidence["speed"] < 0.95
    docs = _render(tmp_path, "conflicts", "\n".join([
        "@doc letter",
        "@title 衛生福利部 函",
        "受文者：某某公會",
        "發文日期：中華民國112年2月30日",
        "發文字號：衛部醫字第1131660001號",
        "速別：普通",
        "主旨：請查照。",
        "@doc letter",
        "@title 衛生福利部 函",
        "受文者：某某公會",
        "發文日期：中華民國112年3月30日",
        "發文字號：衛部醫字第1131660001號",
        "主旨：請查照。",
    ]))
    bad_date, year_conflict = docs
    assert bad_date.issue_date is None and bad_date.confidence["issue_date"] < 0.6  # 2月30日 does not exist
    assert bad_date.speed == "普通" and bad_date.confidence["speed"] < 0.6  # two 速別 a character away: not guessed
    assert year_conflict.issue_date == datetime.date(2023, 3, 30) and year_conflict.doc_number == "衛部醫字第1131660001號"
    assert year_conflict.confidence["issue_date"] < 0.6 and year_conflict.confidence["doc_number"] < 0.6


def test_notice_blocks_printed_as_one_paragraph_each(tmp_path: Path) -> None:
    # `一、主旨：…說明：(一)…` in one paragraph, as associations type them
    docs = _render(tmp_path, "run_in", "\n".join([
        "@doc letter",
        "臺北市醫師公會 通知 112.3.1.(112)北市醫會字第 45.-60.號",
        "受文者：各會員",
        "一、主旨：轉知健保業務說明會訊息，請查照。說明：(一)說明會訂於112年3月20日舉行。(二)請於112年3月10日前報名。",
        "二、主旨：本會會員大會延期舉行，請查照。說明：延期日期另行通知。",
    ]))
    doc = docs[0]
    assert doc.notices is not None and len(doc.notices) == 2
    assert doc.subject == "轉知健保業務說明會訊息，請查照。"
    assert doc.explanation is not None and [i.text for i in doc.explanation] == [
        "說明會訂於112年3月20日舉行。", "請於112年3月10日前報名。"
    ]
    assert doc.notices[1].explanation is not None and doc.notices[1].explanation[0].text == "延期日期另行通知。"
    assert doc.deadline == datetime.date(2023, 3, 10)


def test_a_cited_header_inside_a_letter_is_its_text(tmp_path: Path) -> None:
    # a line that reads like a one-line header, on the second page of a letter with a title: the letter's text
    docs = _render(tmp_path, "cited", "\n".join([
        "@doc letter",
        "@title 某某市政府 函",
        "受文者：某某公會",
        "發文日期：中華民國112年5月1日",
        "發文字號：某府工字第1120001111號",
        "主旨：檢送騎樓認定之解釋1份，請查照。",
        "說明：",
        "一、本案參照下列解釋辦理：",
        "@pagebreak",
        "內政部函 90.09.20.台內營字第9085460號",
        "正本：某某公會",
    ]))
    assert [(d.kind, d.pages) for d in docs] == [("letter", [1, 2])]
    doc = docs[0]
    assert (doc.sender, doc.doc_number, doc.issue_date) == ("某某市政府", "某府工字第1120001111號", datetime.date(2023, 5, 1))
    assert doc.explanation is not None and doc.explanation[0].text.replace(" ", "").endswith("內政部函90.09.20.台內營字第9085460號")
    assert doc.references == ["台內營字第9085460號"]


def test_electronic_letter_print_out_with_two_paragraphs(tmp_path: Path) -> None:
    docs = _render(tmp_path, "di", "\n".join([
        "@doc letter",
        "@row 發文機關 | 全銜 | 臺北市政府衛生局",
        "@row 函類別 | 代碼 | 書函",
        "@row 受文者 | 全銜 | 臺北市醫師公會",
        "@row 發文日期 | 年 | 113 | 月 | 5 | 日 | 2",
        "@row 發文字號 | 字 | 北市衛醫 | 文號 | 年度 | 113 | 流水號 | 3012345 | 支號 |",
        "@row 速別 | 代碼 | 速件",
        "@row 主旨 | 文字 | 請轉知所屬會員配合辦理，請查照。",
        "@row 段落 | 段名 | 說明： | 文字 | 依據衛生福利部113年4月20日衛部醫字第1131660001號函辦理。",
        "@row 段落 | 段名 | 辦法：",
        "@row 條列 | 序號 | 一、 | 文字 | 請於113年5月31日前回復。",
        "@row 條列 | 序號 | 二、 | 文字 | 逾期不予受理。",
        "@row 正本 | 全銜 | 臺北市醫師公會",
    ]))
    assert [d.kind for d in docs] == ["letter"]
    doc = docs[0]
    assert (doc.sender, doc.doc_type, doc.issue_date) == ("臺北市政府衛生局", "書函", datetime.date(2024, 5, 2))
    assert doc.doc_number == "北市衛醫字第1133012345號"  # 年度 + 流水號
    assert doc.speed == "速件"
    assert doc.explanation is not None and [i.text for i in doc.explanation] == [
        "依據衛生福利部113年4月20日衛部醫字第1131660001號函辦理。"
    ]
    assert doc.measures is not None and [i.label for i in doc.measures] == ["一", "二"]
    assert doc.references == ["衛部醫字第1131660001號"] and doc.deadline == datetime.date(2024, 5, 31)


def test_a_label_character_ocr_confuses_is_read_as_the_label() -> None:
    assert match_label("辨法：", [g.BODY_RES]) == ("measures", "")


@pytest.mark.parametrize("name", ["assoc_01", "di_print_01", "ocr_labels_01"])
def test_scanned_twins_of_other_layouts_keep_their_key_fields(name: str) -> None:
    # through the real OCR engine (a few seconds a page): a scan of a notice, a DI print-out, a noisy letter
    scanned = Path(__file__).resolve().parents[2] / "samples" / "scanned"
    golden = json.loads((scanned / f"{name}.json").read_text(encoding="utf-8"))["documents"][0]
    result = extract_file(scanned / f"{name}.pdf")
    assert all(s.startswith("ocr:") for s in result.page_sources)
    doc = result.documents[0]
    assert doc.kind == "letter"
    got = doc.model_dump(mode="json")
    for key in ("sender", "doc_type", "doc_number", "issue_date", "speed", "recipient"):
        assert got[key] == golden.get(key), key
    assert cer(golden["subject"], doc.subject) <= 0.02
