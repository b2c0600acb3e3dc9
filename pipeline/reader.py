"""Stage 1, read: a PDF file in, each page's text layer out as positioned words (schemas.page.RawPage).

The reader only reads: whether a page's text layer is any use, and OCR for the pages where it is not,
are the next stages' (pipeline/extract.py wires them: read → judge → OCR → layout → segment → extract).

pdfplumber is the primary reader. docs/reading.md#text-layers: pdfminer (under pdfplumber) returns no
text for some valid PDFs whose CJK font is a CFF with an /Encoding CMap, so a page on which
pdfplumber finds no characters is read again with pypdfium2 before it is called empty; the
page records which reader produced it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from schemas.page import Colour, RawPage, Word

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
FEW_WORDS = 200  # a page with more words is no scan: its images are not measured (the judge needs them no more)


class InputError(Exception):
    """A file that cannot be read as a PDF: the message is shown to the user as is."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_pdf_file(path: Path) -> None:
    """Reject what is plainly not a PDF before a parser gets confused by it."""
    if not path.exists():
        raise InputError("file not found")
    if path.is_dir():
        raise InputError("is a directory")
    size = path.stat().st_size
    if size == 0:
        raise InputError("empty file (0 bytes)")
    with path.open("rb") as f:
        head = f.read(1024)
    if PDF_MAGIC not in head:
        raise InputError("not a PDF (no %PDF- header)")


def _rgb(value: Any) -> Colour:
    """pdfplumber gives gray, RGB or CMYK tuples (or a pattern name); reduce them to RGB."""
    if not isinstance(value, list | tuple):
        return None
    try:
        nums = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(nums) == 1:
        return (nums[0], nums[0], nums[0])
    if len(nums) == 3:
        return (nums[0], nums[1], nums[2])
    if len(nums) == 4:
        c, m, y, k = nums
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
    return None


def _plumber_words(page: Any) -> list[Word]:
    raw = page.extract_words(
        x_tolerance=1.5,
        y_tolerance=2,
        keep_blank_chars=False,
        use_text_flow=False,
        extra_attrs=["size", "non_stroking_color", "upright"],
    )
    return [
        Word(
            text=w["text"],
            x0=float(w["x0"]),
            x1=float(w["x1"]),
            top=float(w["top"]),
            bottom=float(w["bottom"]),
            size=float(w["size"]),
            colour=_rgb(w.get("non_stroking_color")),
            upright=bool(w.get("upright", True)),
        )
        for w in raw
    ]


def _vertical_rules(page: Any) -> list[tuple[float, float, float]]:
    """Table borders: long thin vertical strokes (a cell wall is at least a line of text high)."""
    rules: list[tuple[float, float, float]] = []
    for edge in page.vertical_edges:
        top, bottom = float(edge["top"]), float(edge["bottom"])
        if bottom - top >= 8:
            rules.append((float(edge["x0"]), top, bottom))
    return rules


def _pdfium_words(path: Path, index: int) -> list[Word]:
    """Characters from PDFium, grouped into words at spaces and gaps (no colour information)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        height = page.get_height()
        text_page = page.get_textpage()
        words: list[Word] = []
        current: list[tuple[str, float, float, float, float]] = []

        def flush() -> None:
            if current:
                size = max(c[4] - c[3] for c in current) or 10.0
                words.append(
                    Word(
                        text="".join(c[0] for c in current),
                        x0=min(c[1] for c in current),
                        x1=max(c[2] for c in current),
                        top=min(c[3] for c in current),
                        bottom=max(c[4] for c in current),
                        size=size,
                    )
                )
                current.clear()

        for i in range(text_page.count_chars()):
            ch = text_page.get_text_range(i, 1)
            if not ch or ch.isspace():
                flush()
                continue
            left, bottom, right, top = text_page.get_charbox(i, loose=True)
            box = (ch, float(left), float(right), float(height - top), float(height - bottom))
            if current:
                prev = current[-1]
                gap = box[1] - prev[2]
                same_row = abs(box[3] - prev[3]) < (prev[4] - prev[3]) * 0.5
                if not same_row or gap > (prev[4] - prev[3]) * 0.5 or gap < -(prev[4] - prev[3]):
                    flush()
            current.append(box)
        flush()
        return words
    finally:
        pdf.close()


def _image_cover(page: Any) -> float:
    """The largest image's share of the page: near 1 for a scanned page."""
    area = float(page.width) * float(page.height) or 1.0
    best = 0.0
    for im in page.images:
        w = min(float(im["x1"]), float(page.width)) - max(float(im["x0"]), 0.0)
        h = min(float(im["bottom"]), float(page.height)) - max(float(im["top"]), 0.0)
        best = max(best, max(w, 0.0) * max(h, 0.0) / area)
    return best


def read_text_layers(path: Path) -> Iterator[RawPage]:
    """Each page of `path` as its text layer gives it, in order, as it is read (the caller may start OCR
    meanwhile); InputError for a file that is no readable PDF, raised before the first page or at the page
    that fails. A page with no text layer is a RawPage with no words: judging it is not the reader's job."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    check_pdf_file(path)
    try:
        with pdfplumber.open(path) as pdf:
            if not pdf.pages:
                raise InputError("PDF has no pages")
            for i, page in enumerate(pdf.pages):
                words = _plumber_words(page)
                source = "pdfplumber"
                if not words and page.chars == [] and _pdfium_has_text(path, i):
                    words = _pdfium_words(path, i)
                    source = "pypdfium2"
                cover = _image_cover(page) if len(words) < FEW_WORDS else 0.0
                rules = _vertical_rules(page) if words else []
                width, height = float(page.width), float(page.height)
                page.close()
                yield RawPage(i + 1, width, height, words, source, rules, image_cover=cover, file_pages=len(pdf.pages))
    except InputError:
        raise
    except Exception as exc:  # pdfminer raises many unrelated types on damaged files
        inner = _unwrap(exc)
        if isinstance(inner, PDFPasswordIncorrect | PDFEncryptionError) or "password" in repr(inner).lower():
            raise InputError(f"encrypted PDF ({type(inner).__name__}): cannot be read without its password") from exc
        if isinstance(inner, PDFSyntaxError):
            raise InputError(f"corrupt PDF: {inner}") from exc
        raise InputError(f"corrupt or unreadable PDF: {type(inner).__name__}: {inner}") from exc


def _unwrap(exc: BaseException) -> BaseException:
    """pdfplumber wraps pdfminer's exceptions in PdfminerException(original)."""
    seen = 0
    while seen < 5:
        seen += 1
        if exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            break
    return exc


def _pdfium_has_text(path: Path, index: int) -> bool:
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(path))
        try:
            return bool(pdf[index].get_textpage().count_chars() > 0)
        finally:
            pdf.close()
    except Exception:  # a page PDFium cannot read either is simply empty
        log.debug("pypdfium2 could not read page %d of %s", index + 1, path)
        return False
