"""`gongwen eval` counts what a reader of the letter would: dates in order with their printed
text, accuracy over the fields that have a value, the worst fields first."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.evaluate import MAX_CER, Report, cer, cer_text, compare
from pipeline.extract import extract_file
from schemas.letter import FileResult

NAME = "stamp_01"


@pytest.fixture(scope="module")
def golden(samples_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((samples_dir / f"{NAME}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def extracted(samples_dir: Path) -> FileResult:
    return extract_file(samples_dir / f"{NAME}.pdf", None)


def _failed(golden: dict[str, Any], result: FileResult) -> set[str]:
    report = Report()
    compare(golden, result, report)
    return {f.field for f in report.failures}


def test_the_sample_is_read_right(golden: dict[str, Any], extracted: FileResult) -> None:
    assert _failed(golden, extracted) == set()


def test_dates_out_of_order_or_misprinted_are_wrong(golden: dict[str, Any], extracted: FileResult) -> None:
    swapped = copy.deepcopy(golden)
    dates = swapped["documents"][0]["dates"]
    dates[1], dates[2] = dates[2], dates[1]
    assert _failed(swapped, extracted) == {"dates"}
    misprinted = copy.deepcopy(golden)
    misprinted["documents"][0]["dates"][1]["text"] = "113年09月20日"  # same date, other printed text
    assert _failed(misprinted, extracted) == {"dates"}


def test_ocr_tolerance_is_the_character_error_rate(golden: dict[str, Any], extracted: FileResult) -> None:
    """CER = edit distance (rapidfuzz) over the golden's length after NFKC, whitespace aside: half-width
    commas are wrong when strict and right when tolerant; one misread character in this 48-character
    subject is 1/48 > 2%, wrong either way; a dropped character costs as much as a misread one."""
    subject = golden["documents"][0]["subject"]
    n = len(cer_text(subject))
    one = subject[:10] + "某" + subject[11:]
    assert cer(subject, subject.replace("，", ", ")) == 0.0
    assert cer(subject, one) == cer(subject, subject[:10] + subject[11:]) == 1 / n
    assert cer(subject, subject[:10]) == (n - 10) / n and cer("", None) == 0.0 and cer("", "x") == 1.0
    for text, tolerant_right in ((subject.replace("，", ","), True), (one, 1 / n <= MAX_CER)):
        misread = copy.deepcopy(extracted)
        misread.documents[0].subject = text
        report = Report()
        compare(golden, misread, report)
        assert report.per_field["subject"] == [0, 1]  # strict: wrong
        assert report.tolerant["subject"] == [int(tolerant_right), 1]


def test_accuracy_over_fields_with_a_value(golden: dict[str, Any], extracted: FileResult) -> None:
    report = Report()
    nothing = FileResult(file=f"{NAME}.pdf", pages=1, documents=[])
    compare(golden, nothing, report)
    # an extractor that finds nothing is right about every blank field, and wrong about every other
    assert report.non_empty_accuracy() == 0.0
    assert report.accuracy() > 0.2
    assert report.per_field_non_empty["subject"] == [0, 1]
    assert "security" not in report.per_field_non_empty  # blank in the golden
    worst = [name for name, _, _ in report.worst_first()]
    assert worst.index("subject") < worst.index("security")


def test_eval_command_prints_both_figures_worst_first(samples_dir: Path, tmp_path: Path) -> None:
    for suffix in (".pdf", ".json"):
        (tmp_path / f"{NAME}{suffix}").write_bytes((samples_dir / f"{NAME}{suffix}").read_bytes())
    golden = json.loads((tmp_path / f"{NAME}.json").read_text(encoding="utf-8"))
    golden["documents"][0]["subject"] = "另一個主旨。"
    (tmp_path / f"{NAME}.json").write_text(json.dumps(golden, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(ln.startswith("fields with a value in the golden:") for ln in lines)
    assert any(ln.startswith("all fields (blank ones too):") for ln in lines)
    table = lines[lines.index(next(ln for ln in lines if ln.startswith("field (worst first)"))) + 1 :]
    assert table[0].split()[0] == "subject"
