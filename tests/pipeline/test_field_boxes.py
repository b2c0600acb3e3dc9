"""Field boxes (docs/document-json.md#boxes): the box recorded for a field covers the words it was printed in.

Checked against the PDF's own words (pdfplumber) on a born-digital sample, and on its
scanned twin through the real OCR engine: the scan is the same page printed and scanned, so the
born-digital words of the subject must fall inside the box read from the scan.
"""

from __future__ import annotations

import re
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest

from pipeline.extract import extract_file
from schemas.letter import Document

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ROOT / "samples" / "scanned"


def _words_inside(pdf: Path, page: int, box: list[float], margin: float = 0.0) -> str:
    """The printed words whose centre lies inside `box` (fractions of the page), in reading order."""
    with pdfplumber.open(pdf) as doc:
        p = doc.pages[page - 1]
        x0, y0, x1, y1 = box[0] * p.width, box[1] * p.height, box[2] * p.width, box[3] * p.height
        m = margin * p.width
        words = p.extract_words()
    inside = [
        w for w in words
        if x0 - m <= (w["x0"] + w["x1"]) / 2 <= x1 + m and y0 - m <= (w["top"] + w["bottom"]) / 2 <= y1 + m
    ]
    inside.sort(key=lambda w: (round(w["top"]), w["x0"]))
    return "".join(w["text"] for w in inside)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _letter(result_docs: list[Document]) -> Document:
    return next(d for d in result_docs if d.kind == "letter")


def test_born_digital_boxes_cover_the_fields_printed_words(samples_dir: Path) -> None:
    pdf = samples_dir / "seed_000.pdf"
    doc = _letter(extract_file(pdf).documents)
    assert doc.boxes is not None and doc.subject and doc.doc_number
    [subject] = doc.boxes["subject"]
    assert 0 <= subject.box[0] < subject.box[2] <= 1 and 0 <= subject.box[1] < subject.box[3] <= 1
    printed = _words_inside(pdf, subject.page, subject.box)
    # the subject's words and the label before them, nothing from the lines around it
    assert printed.startswith("主旨") and printed.endswith(_compact(doc.subject))
    assert len(printed) <= len(_compact(doc.subject)) + 3
    number = _words_inside(pdf, doc.boxes["doc_number"][0].page, doc.boxes["doc_number"][0].box)
    assert printed != number and _compact(doc.doc_number) in number
    # a field on two pages has a box on each
    assert [b.page for b in doc.boxes["explanation"]] == [1, 2]
    # boxes are keyed by the field's name (`contact.phone` inside the contact block), each with a value
    data = doc.model_dump()
    for name in doc.boxes:
        head, _, part = name.partition(".")
        assert (data[head][part] if part else data[head]) is not None, name


def test_boxes_read_from_a_scan_cover_the_same_words(samples_dir: Path, tmp_path: Path) -> None:
    """OCR'd words are in PDF points too: the scan's subject box holds the born-digital subject.

    The scan's first page alone (the header and the subject; one page of OCR, a few seconds).
    """
    first = pdfium.PdfDocument.new()
    first.import_pages(pdfium.PdfDocument(str(SCANNED / "seed_000.pdf")), [0])
    first.save(str(tmp_path / "page1.pdf"))
    scanned = extract_file(tmp_path / "page1.pdf")
    assert all(s.startswith("ocr:") for s in scanned.page_sources)
    doc = _letter(scanned.documents)
    assert doc.boxes is not None
    original = _letter(extract_file(samples_dir / "seed_000.pdf").documents)
    for field in ("subject", "doc_number", "issue_date"):
        [box] = doc.boxes[field]
        # a scan is a little skewed and shifted: half a character's width of slack
        printed = _words_inside(samples_dir / "seed_000.pdf", box.page, box.box, margin=0.01)
        expected = _compact(str(getattr(original, field) if field != "issue_date" else "發文日期"))
        assert expected in printed if field != "doc_number" else expected.removesuffix("號") in printed, field
        if field == "subject":
            assert len(printed) <= len(expected) + 4


def test_di_files_and_forms_have_no_boxes() -> None:
    assert Document(kind="form", pages=[1, 1]).boxes is None


@pytest.mark.parametrize("name", ["meeting_02", "assoc_01"])
def test_boxes_stay_on_the_documents_pages(samples_dir: Path, name: str) -> None:
    for doc in extract_file(samples_dir / f"{name}.pdf").documents:
        for boxes in (doc.boxes or {}).values():
            assert all(doc.pages[0] <= b.page <= doc.pages[1] for b in boxes)
