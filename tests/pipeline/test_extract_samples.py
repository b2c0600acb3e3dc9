"""The whole born-digital path on the samples, measured against the hand-written goldens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluate import Report, compare, evaluate, golden_files
from pipeline.extract import extract_file

SEED_FILES = ["seed_000", "seed_003", "seed_004", "tainan_001"]


@pytest.fixture(scope="module")
def report(samples_dir: Path) -> Report:
    return evaluate(samples_dir)


def test_every_sample_has_a_golden_and_a_pdf(samples_dir: Path) -> None:
    goldens = golden_files(samples_dir)
    assert len(goldens) >= 30
    for g in goldens:
        data = json.loads(g.read_text(encoding="utf-8"))
        assert (samples_dir / data["file"]).exists(), g.name


@pytest.mark.parametrize("name", SEED_FILES)
def test_every_field_of_every_seed_document_is_right(samples_dir: Path, name: str) -> None:
    golden = json.loads((samples_dir / f"{name}.json").read_text(encoding="utf-8"))
    single = Report()
    compare(golden, extract_file(samples_dir / f"{name}.pdf"), single)
    assert not single.errors
    assert [(f.document, f.field, f.expected, f.got) for f in single.failures] == []


def test_overall_accuracy_at_least_99_percent(report: Report) -> None:
    assert report.total[1] > 1000
    assert report.accuracy() >= 0.99, [(f.file, f.field) for f in report.failures]


def test_at_least_25_own_letters(samples_dir: Path) -> None:
    letters = 0
    for g in golden_files(samples_dir):
        if g.name.startswith("own_"):
            data = json.loads(g.read_text(encoding="utf-8"))
            letters += sum(1 for d in data["documents"] if d["kind"] == "letter")
    assert letters >= 25


def test_json_contract_shape(samples_dir: Path) -> None:
    """docs/document-json.md#the-file-object: file, sha256, pages, documents, error; dates ISO; absent values null."""
    data = extract_file(samples_dir / "seed_003.pdf").model_dump(mode="json")
    assert {"file", "sha256", "pages", "documents", "error"} <= set(data)
    assert len(data["sha256"]) == 64 and data["error"] is None
    letter = data["documents"][0]
    assert letter["kind"] == "letter" and letter["pages"] == [1, 2]
    assert letter["security"] is None and letter["cc_copy"] is None
    assert letter["explanation"][2]["children"][0]["children"][0]["label"] == "1"
    assert all(set(c) == {"label", "text", "children"} for c in letter["explanation"])
    assert 0 < letter["confidence"]["doc_number"] <= 1


def test_tolerant_counting_forgives_small_ocr_errors_only() -> None:
    from pipeline.evaluate import cer, flatten_items

    assert cer("請貴公會協助轉知所屬會員踴躍參與，請查照。" * 3, "請貴公會協助轉知所屬會員踴躍參與,請查照。" * 3) == 0.0  # NFKC
    assert cer("一二三四五六七八九十" * 6, "一二三四五六七八九十" * 5 + "一二三四五六七八九千") <= 0.02
    assert cer("醫評字第1120100216A號", "醫評字第1120100216B號") > 0.02
    tree = [{"label": "一", "text": "a", "children": [{"label": "1", "text": "b", "children": []}]}]
    assert flatten_items(tree) == [("一", "a"), ("一/1", "b")]
