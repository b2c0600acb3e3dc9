"""Scanned twins through the real default OCR engine: the fields a clerk needs first are exact.

These run PP-OCR for real (a few seconds per page), so they cover the seed letters and one
mixed PDF rather than every sample; `gongwen eval samples/scanned` measures the whole set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from pipeline.evaluate import cer
from pipeline.extract import extract_file
from pipeline.ocrtext import clean_ocr_specks, restore_traditional
from pipeline.textlayer import assess

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ROOT / "samples" / "scanned"
KEY_FIELDS = ("doc_number", "issue_date", "speed", "recipient")


@pytest.mark.parametrize("name", ["seed_000", "seed_003", "tainan_001"])
def test_seed_letters_key_fields_exact_from_scans(name: str) -> None:
    golden = json.loads((SCANNED / f"{name}.json").read_text(encoding="utf-8"))
    result = extract_file(SCANNED / f"{name}.pdf")
    assert result.error is None
    assert all(s.startswith("ocr:") for s in result.page_sources)
    got = {d.pages[0]: d for d in result.documents}
    for expected in (d for d in golden["documents"] if d["kind"] == "letter"):
        doc = got[expected["pages"][0]]
        assert doc.kind == "letter"
        dumped = doc.model_dump(mode="json")
        for key in KEY_FIELDS:
            assert dumped[key] == expected.get(key), (name, expected["pages"], key)
        assert cer(expected["subject"], doc.subject) <= 0.02
        # an OCR'd field carries the engine's confidence, never more than the rule's
        assert 0 < doc.confidence["doc_number"] <= 0.98


def test_mixed_pdf_is_read_page_by_page(tmp_path: Path, samples_dir: Path) -> None:
    """A born-digital cover letter followed by a scanned letter: each page takes its own path."""
    merged = pdfium.PdfDocument.new()
    merged.import_pages(pdfium.PdfDocument(str(samples_dir / "own_12.pdf")), [0])
    merged.import_pages(pdfium.PdfDocument(str(SCANNED / "own_12.pdf")), [1])
    path = tmp_path / "mixed.pdf"
    merged.save(str(path))
    result = extract_file(path)
    assert result.page_sources[0] == "pdfplumber" and result.page_sources[1].startswith("ocr:")
    cover, forwarded = result.documents
    assert forwarded.doc_number in cover.references


def test_unusable_text_layers_are_recognised() -> None:
    assert assess("主旨：請查照。" * 10, 0.0).use_text
    assert not assess("", 1.0).use_text
    assert assess("Ã¤Â¸Â»Ã¦Â—Â¨Ã¯Â¼Âš (cid:12)(cid:13)(cid:14)", 0.0).reason == "garbled text"
    assert assess("第1頁", 0.98).reason == "text covers little of a scanned page"


def test_specks_are_dropped_but_numbers_and_urls_kept() -> None:
    assert clean_ocr_specks("請查照並轉知所屬會.員。.") == "請查照並轉知所屬會員。"
    assert clean_ocr_specks("依據本部1·12年1月16日") == "依據本部112年1月16日"
    assert clean_ocr_specks("尺寸為7.5*7.5公分") == "尺寸為7.5*7.5公分"
    assert clean_ocr_specks("https://www.jct.org.tw/np-1252-1.html。") == "https://www.jct.org.tw/np-1252-1.html。"
    # inside a date's month or day, and before 年/月/日; a decimal before another unit stays
    assert clean_ocr_specks("依據112年1.0月2日函及公假5.日") == "依據112年10月2日函及公假5日"
    assert clean_ocr_specks("補助3.5萬元，第1.5版") == "補助3.5萬元，第1.5版"


def test_simplified_output_is_restored_but_taiwanese_variants_kept() -> None:
    assert restore_traditional("所得税法第71條；合約医療院所应辦理") == "所得稅法第71條；合約醫療院所應辦理"
    assert restore_traditional("台北市 臺北市 干預 皇后 里長") == "台北市 臺北市 干預 皇后 里長"
    # 为: OpenCC's s2t gives 爲 (not in Big5), Taiwan writes 為; names' variants (啓) stay
    assert restore_traditional("目標值为90%以上，林啓禎") == "目標值為90%以上，林啓禎"
