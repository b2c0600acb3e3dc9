"""OCR'd lines (the clean stage, after layout): an item number whose 、 the engine dropped is restored by its
siblings' indent."""

from __future__ import annotations

from pipeline.layout import build_page
from pipeline.ocrtext import clean_page
from schemas.page import RawPage, Word


def _page(rows: list[tuple[float, str]], source: str = "ocr:ppocr-v6-small") -> list[str]:
    words = [Word(text, x0, x0 + 14.0 * len(text), 100.0 + 22 * i, 114.0 + 22 * i, 14.0) for i, (x0, text) in enumerate(rows)]
    return [ln.text for ln in clean_page(build_page(RawPage(1, 595.0, 842.0, words, source))).lines]


def test_bare_numeral_at_an_items_indent_is_an_item() -> None:
    assert _page([(80, "一依據教育部函辦理。"), (80, "二、請查照。"), (110, "一併辦理。"), (80, "四本部將於訪查時查核。")]) == [
        "一、依據教育部函辦理。", "二、請查照。", "一併辦理。", "四本部將於訪查時查核。",
    ]


def test_numeral_without_a_neighbouring_sibling_stays_text() -> None:
    assert _page([(80, "三、請查照。"), (80, "十分重要之事項。")]) == ["三、請查照。", "十分重要之事項。"]


def test_speck_inside_or_before_an_item_number_is_dropped() -> None:
    assert _page([(110, "(.一)接種前應詳細詢問。"), (80, "-一、依據辦理。")]) == ["(一)接種前應詳細詢問。", "一、依據辦理。"]


def test_text_layers_are_left_as_printed() -> None:
    assert _page([(80, "一依據。"), (80, "二、請查照。")], source="pdfplumber") == ["一依據。", "二、請查照。"]


def test_a_number_read_twice_is_renumbered_from_its_place() -> None:
    """`一、` misread `二、`: two 二 in a row at one indent and no 一."""
    assert _page([(80, "二、依據辦理。"), (110, "(一)細項。"), (80, "二、為確保安全。"), (80, "三、請查照。")]) == [
        "一、依據辦理。", "(一)細項。", "二、為確保安全。", "三、請查照。",
    ]
    assert _page([(80, "一、依據。"), (80, "二、甲。"), (80, "二、乙。")]) == ["一、依據。", "二、甲。", "二、乙。"]
