"""Stage 1: words with positions; the pypdfium2 fallback (docs/reading.md#text-layers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline import reader
from pipeline.extract import extract_file, read_pages
from pipeline.layout import build_page


def test_words_carry_positions_size_and_colour(samples_dir: Path) -> None:
    pages = read_pages(samples_dir / "seed_000.pdf")
    assert len(pages) == 10 and pages[0].source == "pdfplumber"
    lines = build_page(pages[2]).lines
    title = next(ln for ln in lines if "策進會" in ln.text and "函" in ln.text)
    stamp = next(ln for p in pages[2:4] for ln in build_page(p).lines if "收文" in ln.text)
    assert title.size > 16
    assert stamp.colour is not None and stamp.colour != (0.0, 0.0, 0.0)  # this sample's stamp is blue


def test_pdfium_words_match_pdfplumber_text(samples_dir: Path) -> None:
    path = samples_dir / "seed_003.pdf"
    words = reader._pdfium_words(path, 0)
    text = "".join(w.text for w in words)
    assert "發文字號：全醫聯字第1110000119號" in text
    assert all(w.x1 > w.x0 and w.bottom > w.top for w in words)


def test_page_without_pdfminer_text_falls_back_to_pdfium(samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate pdfminer's blindness to a CFF font with an /Encoding CMap: no words, no chars."""

    class Blind:
        def __init__(self, page: Any) -> None:
            self._page = page
            self.width, self.height, self.chars = page.width, page.height, []
            self.vertical_edges, self.images = page.vertical_edges, page.images

        def close(self) -> None:
            self._page.close()

    import pdfplumber

    real_open = pdfplumber.open

    class Doc:
        def __init__(self, path: Path) -> None:
            self._pdf = real_open(path)
            self.pages = [Blind(p) for p in self._pdf.pages]

        def __enter__(self) -> Doc:
            return self

        def __exit__(self, *exc: object) -> None:
            self._pdf.close()

    monkeypatch.setattr(pdfplumber, "open", Doc)
    monkeypatch.setattr(reader, "_plumber_words", lambda page: [])
    result = extract_file(samples_dir / "seed_003.pdf")
    assert result.text_source == "pypdfium2"
    assert [d.doc_number for d in result.documents] == ["全醫聯字第1110000119號", "衛部資字第1112660027號"]
