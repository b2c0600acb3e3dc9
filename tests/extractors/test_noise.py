"""Receipt stamps over body text come out as `received`; the text around them reads as if
they were not there (issue 9, item 1). PDFs come from the project's own generator."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from extractors.form import split_merged_cells
from extractors.letter import split_run_in_blocks
from extractors.noise import read_receipt, split_noise
from pipeline.extract import extract_file
from samples.generator import render_source
from schemas.letter import Document
from schemas.page import Line, Word

ITEM_TWO = (
    "本次修正重點為醫院急診室應設置之醫師人力及護理人力配置標準，並增訂夜間應有專任醫師值班之規定，"
    "自114年1月1日起施行，請轉知轄內醫院依限完成人力盤點並回報本部。"
)


def _letter(stamp: str, at: str) -> str:
    return "\n".join([
        "@doc letter", "@title 衛生福利部 函", "受文者：臺北市政府衛生局", "發文日期：中華民國113年10月1日",
        "發文字號：衛部醫字第1131667890號", "主旨：檢送修正條文對照表1份，請查照。", "說明：",
        "一、依據本部113年9月20日公告辦理。", f"@stampat {at}", f"@stamp {stamp}", f"二、{ITEM_TWO}",
        "三、請貴局於113年11月15日前回復。", "正本：臺北市政府衛生局、新北市政府衛生局", "副本：本部醫事司",
        "@sign 部長 邱泰源",
    ])


def _read(tmp_path: Path, stamp: str, at: str) -> Document:
    pdf = tmp_path / f"probe_{at.replace(' ', '_')}.pdf"
    render_source(_letter(stamp, at), pdf)
    result = extract_file(pdf, None)
    assert result.error is None and len(result.documents) == 1
    return result.documents[0]


@pytest.mark.parametrize("at", ["over black", "over red", "over blue", "split black", "band black"])
def test_stamp_without_its_colour_leaves_the_items_whole(tmp_path: Path, at: str) -> None:
    doc = _read(tmp_path, "臺北市政府衛生局113.10.04|第1130702號", at)
    assert [(i.label, i.text) for i in doc.explanation or []] == [
        ("一", "依據本部113年9月20日公告辦理。"),
        ("二", ITEM_TWO),
        ("三", "請貴局於113年11月15日前回復。"),
    ]
    assert doc.cc_main == ["臺北市政府衛生局", "新北市政府衛生局"] and doc.cc_copy == ["本部醫事司"]
    assert doc.received is not None
    assert (doc.received.org, doc.received.date, doc.received.number) == ("臺北市政府衛生局", datetime.date(2024, 10, 4), "第1130702號")


def test_receipt_stamp_with_收文_in_black_over_text(tmp_path: Path) -> None:
    doc = _read(tmp_path, "臺北市醫師公會|收文日期 113. 10. 4|收文字號 北市醫字第 702 號", "over black")
    assert [i.text for i in doc.explanation or []][1] == ITEM_TWO
    assert doc.received is not None
    assert (doc.received.org, doc.received.date, doc.received.number) == ("臺北市醫師公會", datetime.date(2024, 10, 4), "北市醫字第702號")


def _line(text: str, x0: float, top: float, size: float = 14.0) -> Line:
    x1 = x0 + size * len(text)
    return Line(words=[Word(text, x0, x1, top, top + size, size)], text=text, x0=x0, x1=x1, top=top,
                bottom=top + size, size=size, page=1)


def test_stamp_read_onto_the_end_of_a_line_is_cut_off() -> None:
    """OCR boxes a stamp beside a short line as part of it."""
    lines = [
        _line("二、本案請查照。臺北市政府衛生局113.10.04", 90, 400),
        _line("第1130702號", 300, 418),
        _line("三、請於113年11月15日前回復。", 90, 440),
    ]
    split = split_noise(lines)
    assert [ln.text for ln in split.text_lines] == ["二、本案請查照。", "三、請於113年11月15日前回復。"]
    received = read_receipt(split.stamp_lines)
    assert received is not None and (received.org, received.date, received.number) == (
        "臺北市政府衛生局", datetime.date(2024, 10, 4), "第1130702號"
    )


def test_two_header_cells_read_as_one_line_are_cut_where_the_label_starts() -> None:
    """A form's cells are placed by their share of the line; a letter's run-in 說明 keeps the line's indent."""
    cells = split_merged_cells([_line("每月終了後10日內編 編製機關：衛生局", 100, 50, 10.0)])
    assert [(ln.text, ln.x0, ln.x1) for ln in cells] == [("每月終了後10日內編", 100, 200), ("編製機關：衛生局", 210, 290)]
    blocks = split_run_in_blocks([_line("主旨：請查照。說明：依據來函辦理。", 90, 50)])
    assert [(ln.text, ln.x0) for ln in blocks] == [("主旨：請查照。", 90), ("說明：依據來函辦理。", 90)]
    whole = _line("主旨：請查照。", 90, 50)
    assert split_run_in_blocks([whole])[0] is whole


def test_short_body_lines_beside_a_stamp_stay_text() -> None:
    """A stamp grows by the lines inside its box, not by whatever short line is next to it."""
    lines = [
        _line("一、依據本部公告辦理。", 90, 380),
        _line("臺北市醫師公會", 330, 398, 10.0),
        _line("收文 113.10.04", 330, 410, 10.0),
        _line("第 702 號", 330, 422, 10.0),
        _line("二、請查照。", 90, 430),
    ]
    split = split_noise(lines)
    assert [ln.text for ln in split.text_lines] == ["一、依據本部公告辦理。", "二、請查照。"]
    assert len(split.stamp_lines) == 3
