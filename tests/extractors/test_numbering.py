"""The 說明 tree (docs/letter.md#the-numbering-tree) on real lines from the seed letters."""

from __future__ import annotations

import pytest

from extractors.numbering import format_items, join_text, match_number, parse_items
from schemas.letter import Item


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("一、依據財團法人醫院評鑑暨醫療品質策進會辦理。", ("han", "一", "依據財團法人醫院評鑑暨醫療品質策進會辦理。")),
        ("(一)診所美容醫學品質認證網址", ("paren_han", "一", "診所美容醫學品質認證網址")),
        ("（二）塑造診所形象", ("paren_han", "二", "塑造診所形象")),
        ("- (三)建構檢體", ("paren_han", "三", "建構檢體")),
        ("1、申請期間，如於執行醫療業務時", ("arabic", "1", "申請期間，如於執行醫療業務時")),
        ("１、全形數字", ("arabic", "1", "全形數字")),
        ("2. 郵寄申請資料", ("arabic", "2", "郵寄申請資料")),
        ("(1)開放登記病床數", ("paren_arabic", "1", "開放登記病床數")),
        ("（１２）全形括號", ("paren_arabic", "12", "全形括號")),
        ("甲、第一案", ("stem", "甲", "第一案")),
        ("(乙)第二案", ("paren_stem", "乙", "第二案")),
        ("十一、第十一項", ("han", "十一", "第十一項")),
    ],
)
def test_numbers_are_recognised(line: str, expected: tuple[str, str, str]) -> None:
    assert match_number(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "7.5公分，套印時請騎年蓋月",  # a decimal
        "111. 1. 25",  # a receipt-stamp date
        "5個工作日可完成",  # a number without 、
        "(含附件)",
        "診所。",
        "112年5月30日醫評字第1120100216A號",
    ],
)
def test_non_numbers_are_not_items(line: str) -> None:
    assert match_number(line) is None


def test_tree_from_seed_003_with_wrapped_lines() -> None:
    lines = [
        "一、依據衛生福利部111年1月19日衛部資字第1112660027號函辦理(如附件)。",
        "三、衛福部於111年1月19日函覆重點如下：",
        "(一)醫事憑證IC卡補(換)發作業流程，自接受申請日起約",
        "5個工作日。",
        "1、申請期間，如於執行醫療業務時，可暫以醫師備用卡代替，無電子簽章功能。",
        "2、如醫師需進行電子病歷簽章。",
        "(二)鑑於病人就醫紀錄係屬於機敏個資，健保醫療資訊雲端",
        "查詢系統(下稱雲端系統)對於換發醫事人員卡之空窗期替代措施如下：",
        "- 1、雲端系統已提供院所授權。",
        "四、衛福部亦積極推動行動醫療應用。",
    ]
    items = parse_items(lines)
    assert [i.label for i in items] == ["一", "三", "四"]
    third = items[1]
    assert [c.label for c in third.children] == ["一", "二"]
    assert third.children[0].text == "醫事憑證IC卡補(換)發作業流程，自接受申請日起約5個工作日。"
    assert [c.label for c in third.children[0].children] == ["1", "2"]
    assert third.children[1].text.endswith("對於換發醫事人員卡之空窗期替代措施如下：")
    assert third.children[1].children[0].text == "雲端系統已提供院所授權。"
    assert items[2].children == []


def test_levels_follow_order_of_appearance() -> None:
    # 一、 directly followed by 1、 (no (一) level) and back
    items = parse_items(["一、甲", "1、乙", "2、丙", "二、丁", "(1)戊"])
    assert [(i.label, [c.label for c in i.children]) for i in items] == [("一", ["1", "2"]), ("二", ["1"])]
    assert items[1].children[0].text == "戊"


def test_unnumbered_explanation_is_one_item() -> None:
    items = parse_items(["本案係依據勞動基準法辦理，請", "各單位配合。"])
    assert len(items) == 1
    assert items[0].label == ""
    assert items[0].text == "本案係依據勞動基準法辦理，請各單位配合。"


def test_join_keeps_latin_words_apart_and_han_together() -> None:
    assert join_text("Aesthetic Medicine Clinic", "Quality") == "Aesthetic Medicine Clinic Quality"
    assert join_text("醫事人員", "憑證") == "醫事人員憑證"
    assert join_text("https://www.jct.org.tw/np-", "1252-1.html") == "https://www.jct.org.tw/np-1252-1.html"


def _golden_trees() -> list[list[Item]]:
    import json
    from pathlib import Path

    trees = []
    for path in sorted((Path(__file__).resolve().parents[2] / "samples").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for doc in data.get("documents", []) if isinstance(data, dict) else []:
            trees += [[Item.model_validate(i) for i in doc[k]] for k in ("explanation", "measures", "notes") if doc.get(k)]
    return trees


def test_a_tree_written_as_printed_reads_back_the_same() -> None:
    """What a reviewer edits (format_items) is what parse_items reads: every golden tree, and a level that
    goes 一、 → 1、 → （一） → （1）."""
    trees = _golden_trees()
    assert len(trees) > 50
    for items in trees:
        assert parse_items(format_items(items).splitlines()) == items
    mixed = [Item(label="一", text="甲", children=[Item(label="1", text="乙", children=[
        Item(label="一", text="丙", children=[Item(label="1", text="丁")])])])]
    assert format_items(mixed).splitlines() == ["一、甲", "  1、乙", "    （一）丙", "      （1）丁"]
    assert parse_items(format_items(mixed).splitlines()) == mixed
    assert format_items([Item(label="", text="前言"), Item(label="一", text="第一項")]) == "前言\n一、第一項"
