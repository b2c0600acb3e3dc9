"""The sample generator renders FORMAT.md markup into PDFs whose text layer reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pytest

from samples.generator import main, render_source
from samples.markup import Header, MarkupError, Paragraph, Table, parse_source
from samples.render import Layout, style_for
from samples.wrap import wrap

SOURCES = Path(__file__).resolve().parents[2] / "samples" / "sources"
EXAMPLE = SOURCES / "example_minimal.txt"
SUBJECT = (
    "主旨：為維護民眾使用化粧品之衛生安全，請貴公會轉知所屬會員依「化粧品衛生安全管理法」規定，"
    "於112年9月30日前完成產品登錄作業，逾期未辦理者將依法處分，請查照。"
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, Path]:
    pdf = tmp_path_factory.mktemp("render") / "example_minimal.pdf"
    return render_source(EXAMPLE.read_text(encoding="utf-8"), pdf), pdf


@pytest.fixture(scope="module")
def first_page(rendered: tuple[Layout, Path]) -> Iterator[pdfplumber.page.Page]:
    with pdfplumber.open(rendered[1]) as pdf:
        yield pdf.pages[0]


def _lines(page: pdfplumber.page.Page) -> list[list[dict[str, object]]]:
    """Characters grouped by baseline, left to right."""
    rows: dict[float, list[dict[str, object]]] = {}
    for ch in page.chars:
        rows.setdefault(round(float(ch["bottom"]), 1), []).append(ch)
    return [sorted(row, key=lambda c: float(str(c["x0"]))) for _, row in sorted(rows.items())]


def test_text_layer_reads_back(first_page: pdfplumber.page.Page) -> None:
    text = first_page.extract_text()
    flat = text.replace("\n", "")
    assert "臺北市政府衛生局" in text and "函" in text
    assert "承辦人：技士 陳美玲" in text
    assert SUBJECT in flat  # wrapped over three lines, nothing lost or inserted
    assert "食品藥物管理科 收文:112/07/05" in text
    assert "本局食品藥物管理科（含附件）" in flat
    assert "局長 黃世傑" in text
    assert "第1頁 共1頁" in text
    assert "1123045678" in text
    for ch in "臺啓粧衛「」（），。、；：":
        assert ch in text


def test_header_columns(first_page: pdfplumber.page.Page) -> None:
    words = first_page.extract_words()
    half = float(first_page.width) / 2
    contact = [w for w in words if w["text"].startswith(("地址：", "承辦人：", "電話：", "電子信箱："))]
    assert len(contact) == 4
    assert all(float(w["x0"]) > half for w in contact)
    recipient = next(w for w in words if w["text"].startswith("受文者："))
    assert float(recipient["x0"]) == pytest.approx(style_for("example_minimal").left, abs=0.5)
    window = next(w for w in words if w["text"].startswith("10046臺北市"))
    assert float(window["x0"]) < half
    assert abs(float(window["top"]) - float(contact[-1]["top"])) < 3  # same band as the contact block
    binding = [c for c in first_page.chars if c["text"] in "裝訂線" and float(c["x0"]) < 40]
    assert [c["text"] for c in binding] == ["裝", "訂", "線"]


def test_hanging_indent(first_page: pdfplumber.page.Page) -> None:
    lines = _lines(first_page)
    start = next(
        i for i, row in enumerate(lines) if "".join(str(c["text"]) for c in row).startswith("主旨：")
    )
    after_colon = float(str(lines[start][3]["x0"]))
    assert float(str(lines[start][0]["x0"])) == pytest.approx(style_for("example_minimal").left, abs=0.5)
    assert float(str(lines[start + 1][0]["x0"])) == pytest.approx(after_colon, abs=0.5)
    assert float(str(lines[start + 2][0]["x0"])) == pytest.approx(after_colon, abs=0.5)


def test_layout_and_manifest(tmp_path: Path) -> None:
    assert main(["example_minimal", "--sources", str(SOURCES), "--out", str(tmp_path)]) == 0
    manifest = json.loads((tmp_path / "example_minimal.layout.json").read_text(encoding="utf-8"))
    assert manifest == {
        "pages": 4,
        "documents": [
            {"kind": "letter", "pages": [1, 1]},
            {"kind": "form", "pages": [2, 2]},
            {"kind": "other", "pages": [3, 4]},
        ],
        "stamps": [{"page": 1, "document": 0, "placement": "split", "ink": "black"}],
    }
    with pdfplumber.open(tmp_path / "example_minimal.pdf") as pdf:
        assert len(pdf.pages) == 4
        form = pdf.pages[1]
        last_cell = form.crop((float(form.width) * 0.6, 0, float(form.width), float(form.height)))
        assert "尚有32家會員未完成登錄，將於本年9月底前輔導完成" in last_cell.extract_text().replace("\n", "")
        assert len(pdf.pages[1].rects) == 8  # two rows of four ruled cells
    assert main(["example_minimal", "--sources", str(SOURCES), "--out", str(tmp_path), "--check"]) == 0
    (tmp_path / "example_minimal.pdf").write_bytes(b"stale")
    assert main(["example_minimal", "--sources", str(SOURCES), "--out", str(tmp_path), "--check"]) == 1


def test_rerender_is_byte_identical(rendered: tuple[Layout, Path], tmp_path: Path) -> None:
    layout, pdf = rendered
    again = tmp_path / pdf.name
    assert render_source(EXAMPLE.read_text(encoding="utf-8"), again) == layout
    assert again.read_bytes() == pdf.read_bytes()


def test_parser_groups_header_and_table() -> None:
    docs = parse_source(
        "@doc letter\n@contact 地址：x\n@barcode 123\n@window 100\n主旨：y\n@row a|b\n@row c|d\n"
    )
    header = docs[0].blocks[0]
    assert isinstance(header, Header) and header.contact == ["地址：x"] and header.window == ["100"]
    assert isinstance(docs[0].blocks[2], Paragraph)
    table = docs[0].blocks[3]
    assert isinstance(table, Table) and table.rows == [("a", "b"), ("c", "d")]


def test_parser_reports_line_numbers() -> None:
    with pytest.raises(MarkupError, match="line 3"):
        parse_source("@doc letter\n# comment\n@stmap x\n")
    with pytest.raises(MarkupError, match="line 1"):
        parse_source("主旨：before any document\n")


def test_wrap_keeps_latin_whole_and_punctuation_off_line_starts() -> None:
    def measure(s: str) -> float:
        return float(sum(1 if ord(c) < 128 else 2 for c in s))

    lines = wrap("請至網站https://example.org/a查詢，謝謝。", measure, 24)
    assert "https://example.org/a" in lines[1]
    assert lines == ["請至網站", "https://example.org/a查", "詢，謝謝。"]
    assert wrap("一二三四五，六", measure, 10) == ["一二三四五，", "六"]
    assert wrap("x" * 25, measure, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_styles_differ_between_samples_and_repeat_for_one() -> None:
    names = [p.stem for p in sorted(SOURCES.glob("*.txt"))]
    styles = [style_for(n) for n in names]
    assert style_for(names[0]) == styles[0]
    for attr in ("left", "body_size", "body_lead", "contact_x", "title_size", "sign_size", "label_space"):
        assert len({getattr(s, attr) for s in styles}) >= 3, attr


def test_stamp_placement_and_ink_can_be_asked_for(tmp_path: Path) -> None:
    source = "\n".join([
        "@doc letter", "@title 測試局 函", "主旨：測試。", "說明：",
        "@stampat over red", "@stamp 測試公會|收文 113.1.2", "一、第一項文字。",
        "@stampat split black", "@stamp 第1130001號", "二、第二項文字。",
    ])
    layout = render_source(source, tmp_path / "probe.pdf")
    assert [(s.placement, s.ink) for s in layout.stamps] == [("over", "red"), ("split", "black")]
    with pytest.raises(MarkupError, match="line 2"):
        parse_source("@doc letter\n@stampat sideways\n")
