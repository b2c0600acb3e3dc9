"""Letters laid out by another engine: HTML/CSS printed by headless Chromium (`samples/html.py`).

The committed PDFs in samples/html/ are read whole through the reading path (`extract_file`), one
test per office template, and must give their goldens (written by construction from the same field
values as the HTML). Chromium is needed only by the last test, which prints a letter again and
checks the committed PDF still holds the same text; it is skipped where Chromium is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extractors.letter import _Section
from pipeline.evaluate import Report, compare
from pipeline.extract import extract_file
from samples.html import letter_html, main
from samples.html_letters import LETTERS
from schemas.page import Line

HTML = Path(__file__).resolve().parents[2] / "samples" / "html"
FAMILIES = {
    "table": ["table_01", "table_02", "table_03"],  # header table, filing at top right, ruled label cells
    "grid": ["grid_01", "grid_02", "grid_03"],  # 書函, two-column header grid, letter-spaced labels
    "tree": ["tree_01", "tree_02"],  # four-level 說明, mixed brackets, long wrapped 正本/副本, aligned header
    "ministry": ["ministry_01", "ministry_02", "ministry_03"],  # letterhead, stamp-like 署名, footers, page 2
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_field_of_a_template_family_is_read(family: str) -> None:
    failures = []
    for name in FAMILIES[family]:
        golden = json.loads((HTML / f"{name}.json").read_text(encoding="utf-8"))
        result = extract_file(HTML / f"{name}.pdf", ocr=None)
        report = Report()
        compare(golden, result, report)
        assert not report.errors, name
        failures += [(name, f.field, f.expected, f.got) for f in report.failures]
    assert failures == []


def test_every_sample_belongs_to_a_family() -> None:
    assert sorted(p.stem for p in HTML.glob("*.pdf")) == sorted(n for names in FAMILIES.values() for n in names)


def _line(x0: float, top: float, text: str = "x") -> Line:
    return Line(words=[], text=text, x0=x0, x1=x0 + 10, top=top, bottom=top + 12, size=12, page=1)


def test_a_value_beside_its_label_only_on_the_label_row() -> None:
    section = _Section("issue_date", label_line=_line(70, 300, "發文日期："))
    assert section.value_beside_label(_line(230, 300.5))  # the aligned value column
    assert not section.value_beside_label(_line(230, 318))  # the next row is not its value
    section.lines.append("中華民國113年10月1日")
    assert not section.value_beside_label(_line(230, 300.5))  # a label with a value takes no more


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium: only regenerating needs it")
def test_the_generator_still_prints_the_committed_letters() -> None:
    assert LETTERS[0].printed_date in letter_html(LETTERS[0])
    assert main(["table_01", "ministry_01", "--check"]) == 0
