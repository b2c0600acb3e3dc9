"""字號 (docs/letter.md#document-numbers): every number of the seed letters, where the 代字 starts, ellipses, templates."""

from __future__ import annotations

import pytest

from extractors.doc_numbers import doc_number_year, find_doc_numbers, normalize_doc_number

# Every line of the seed letters (shared/seeds, shared/letters) that holds a 字號, as printed,
# with the numbers it holds, normalised, in order.
SEED_LINES: list[tuple[str, list[str]]] = [
    # seed 000: the health bureau's cover letter and the two letters it forwards
    (
        "發文日期：中華民國112年6月8日\n\n發文字號：中市衛醫字第1120070277號\n\n速別：普通件",
        ["中市衛醫字第1120070277號"],
    ),
    (
        "附件：如說明四 (387140000I_1120070277_ATTACH1.pdf、\n387140000I_1120070277_ATTACH2.pdf)",
        [],
    ),
    (
        "一、依據財團法人醫院評鑑暨醫療品質策進會（以下簡稱醫策會）112年5月30日醫評字第1120100216A號、第1120100216B號函辦理。",
        ["醫評字第1120100216A號", "醫評字第1120100216B號"],
    ),
    (
        "發文日期：中華民國112年5月30日\n\n發文字號：醫評字第1120100216A號\n\n速別：普通件",
        ["醫評字第1120100216A號"],
    ),
    (
        "發文日期：中華民國112年5月30日\n\n發文字號：醫評字第1120100216B號\n\n速別：普通件",
        ["醫評字第1120100216B號"],
    ),
    ("醫事管理科 收文:112/06/01\n\n141120070277\n\n有附件", []),
    # seed 003: the association's letter and the ministry's reply it forwards
    ("發文日期：中華民國111年1月22日\n\n發文字號：全醫聯字第1110000119號", ["全醫聯字第1110000119號"]),
    ("一、依據衛生福利部111年1月19日衛部資字第1112660027號函辦理(如附件)。", ["衛部資字第1112660027號"]),
    ("彰化縣醫師公會\t\n收文日期\t111. 1. 25\n收文字號\t彰醫字第 129 號", ["彰醫字第129號"]),
    ("發文日期：中華民國111年1月19日\n\n發文字號：衛部資字第1112660027號", ["衛部資字第1112660027號"]),
    ("- 一、復貴會110年12月13日全醫聯字第1100001632號函。", ["全醫聯字第1100001632號"]),
    ("二、本會於110年12月13日函請衛生福利部研議醫師申請換發醫事人員卡期間空窗期之各種改善方案", []),
    ("電 2022/01/19 文\n交 11:44 章", []),
    # letters/001_tainan: its own number, and a template that is not a number
    (
        "發文日期：中華民國110年12月23日\n發文字號：南市秘文字第1101558063號\n速別：普通件",
        ["南市秘文字第1101558063號"],
    ),
    ("如需掛上發文字號，則應為「府○○字第0000000000號」。", []),
]


@pytest.mark.parametrize(("text", "expected"), SEED_LINES)
def test_seed_lines(text: str, expected: list[str]) -> None:
    found = find_doc_numbers(text)
    assert [m.normalized for m in found] == expected
    for m in found:
        assert text[m.start : m.end] == m.text


# Where the 代字 starts, in sentences shaped like the seeds' and like other agencies' letters.
PREFIXES: list[tuple[str, str, str]] = [
    ("依據衛生福利部111年1月19日衛部資字第1112660027號函", "衛部資", "衛部資字第1112660027號"),
    ("依據衛生福利部衛部資字第1112660027號函", "衛部資", "衛部資字第1112660027號"),
    (
        "依據財團法人醫院評鑑暨醫療品質策進會112年5月30日醫評字第1120100216A號函",
        "醫評",
        "醫評字第1120100216A號",
    ),
    ("醫策會醫評字第1120100216A號函", "醫評", "醫評字第1120100216A號"),
    ("復貴會全醫聯字第1100001632號函", "全醫聯", "全醫聯字第1100001632號"),
    ("發文字號醫評字第1120100216A號", "醫評", "醫評字第1120100216A號"),  # OCR lost the colon
    ("收文字號 彰醫字第 129 號", "彰醫", "彰醫字第129號"),
    ("本府府授衛字第1120001234號函", "府授衛", "府授衛字第1120001234號"),
    ("臺中市政府府授衛字第1120001234號函", "府授衛", "府授衛字第1120001234號"),
    ("依據臺北市衛字第1120001234號函", "臺北市衛", "臺北市衛字第1120001234號"),
    ("臺北市政府衛生局北市衛醫字第1123012345號函", "北市衛醫", "北市衛醫字第1123012345號"),
    ("行政院院臺衛字第1120012345號函", "院臺衛", "院臺衛字第1120012345號"),
    ("經濟部經授商字第11001234560號函", "經授商", "經授商字第11001234560號"),
    ("教育部臺教高(二)字第1100067178號函", "臺教高(二)", "臺教高(二)字第1100067178號"),
    ("食藥署FDA藥字第1101234567號函", "FDA藥", "FDA藥字第1101234567號"),
    ("以本會全醫聯字第1100001632號函", "全醫聯", "全醫聯字第1100001632號"),
    ("函轉衛生福利部\n衛部醫字第1121234567號函", "衛部醫", "衛部醫字第1121234567號"),
    ("衛 部 資 字 第 1112660027 號", "衛部資", "衛部資字第1112660027號"),  # Tesseract spacing
    ("發文字號：醫評字第１１２０１００２１６Ａ號", "醫評", "醫評字第1120100216A號"),  # full width
    ("民國一一二年五月三十日醫評字第1120100216A號", "醫評", "醫評字第1120100216A號"),
    ("某某股份有限公司醫字第1120001234號", "醫", "醫字第1120001234號"),
]


@pytest.mark.parametrize(("text", "prefix", "normalized"), PREFIXES)
def test_prefix_boundary(text: str, prefix: str, normalized: str) -> None:
    (m,) = find_doc_numbers(text)
    assert m.prefix == prefix
    assert m.normalized == normalized
    assert text[m.start : m.end] == m.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("醫評字第1120100216A號、第1120100216B號函", ["醫評字第1120100216A號", "醫評字第1120100216B號"]),
        ("全醫聯字第1100001632號及第1100001633號函", ["全醫聯字第1100001632號", "全醫聯字第1100001633號"]),
        ("醫評字第1120100216A、1120100216B號函", ["醫評字第1120100216A號", "醫評字第1120100216B號"]),
        (
            "衛部醫字第1121111111號、第1121111112號及第1121111113號函",
            ["衛部醫字第1121111111號", "衛部醫字第1121111112號", "衛部醫字第1121111113號"],
        ),
    ],
)
def test_elliptical_continuation_is_expanded(text: str, expected: list[str]) -> None:
    found = find_doc_numbers(text)
    assert [m.normalized for m in found] == expected
    assert [m.elliptical for m in found] == [False] + [True] * (len(expected) - 1)
    for m in found:
        assert text[m.start : m.end] == m.text
        assert m.prefix == expected[0].split("字第")[0]


def test_elliptical_printed_text_is_only_what_is_printed() -> None:
    _, second = find_doc_numbers("醫評字第1120100216A號、第1120100216B號函辦理")
    assert second.text == "第1120100216B號"
    assert second.normalized == "醫評字第1120100216B號"


@pytest.mark.parametrize(
    "text",
    [
        "府○○字第0000000000號",
        "「府〇〇字第0000000000號」",
        "府某某字第1120001234號",
        "醫評字第0000000000號",
        "第1120100216號",  # no 代字
        "字第1120100216號",
        "醫評字第號",
        "醫評字第○○○號",
    ],
)
def test_templates_and_fragments_are_not_numbers(text: str) -> None:
    assert find_doc_numbers(text) == []


@pytest.mark.parametrize(
    ("printed", "normalized"),
    [
        ("彰醫字第 129 號", "彰醫字第129號"),
        ("醫評字第1120100216A號", "醫評字第1120100216A號"),
        ("醫評字第１１２０１００２１６Ａ號", "醫評字第1120100216A號"),
        ("衛 部 資 字 第 1112660027 號", "衛部資字第1112660027號"),
        ("臺教高（二）字第1100067178號", "臺教高(二)字第1100067178號"),
        ("醫評字第1120100216a號", "醫評字第1120100216a號"),  # letters kept as printed
    ],
)
def test_normalize_doc_number(printed: str, normalized: str) -> None:
    assert normalize_doc_number(printed) == normalized


@pytest.mark.parametrize(
    ("number", "year"),
    [
        ("衛部資字第1112660027號", 111),
        ("醫評字第1120100216A號", 112),
        ("全醫聯字第1100001632號", 110),
        ("南市秘文字第1101558063號", 110),
        ("衛署醫字第0990012345號", 99),
        ("1120070277", 112),
        ("彰醫字第 129 號", None),
        ("129", None),
    ],
)
def test_doc_number_year(number: str, year: int | None) -> None:
    assert doc_number_year(number) == year


def test_mention_year_property() -> None:
    (m,) = find_doc_numbers("發文字號：中市衛醫字第1120070277號")
    assert m.year == 112
    assert m.number == "1120070277"


def test_digit_closing_the_prefix() -> None:
    """勞動部 prints 代字 such as 勞動條2 (a digit before 字)."""
    found = find_doc_numbers("依據本部111年10月5日勞動條2字第1110140915號令辦理")
    assert [m.normalized for m in found] == ["勞動條2字第1110140915號"]
