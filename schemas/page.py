"""Positioned text, the hand-off between the readers (pdfplumber, pypdfium2, OCR) and the extractors:
RawPage (a page's words as read) → Page (its lines, laid out) → the extractors.

Plain slotted dataclasses rather than pydantic models: a page has thousands of words
and these objects are built on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import pairwise

# An RGB fill colour in 0..1, or None when the reader does not know it.
Colour = tuple[float, float, float] | None


@dataclass(slots=True)
class Word:
    """A run of characters without a space, in PDF points with the origin at the top left."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    colour: Colour = None
    upright: bool = True
    confidence: float = 1.0  # the OCR engine's confidence; a text layer is certain


@dataclass(slots=True)
class Line:
    """Words on one baseline that belong together (a gap of several characters splits a row)."""

    words: list[Word]
    text: str = ""
    x0: float = 0.0
    x1: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    size: float = 0.0
    colour: Colour = None
    page: int = 0  # 1-based page number in the PDF
    confidence: float = 1.0  # lowest confidence of its words

    @property
    def is_red(self) -> bool:
        """Receipt stamps are red: a colour mostly red with little green and blue."""
        c = self.colour
        return c is not None and c[0] > 0.5 and c[1] < 0.45 and c[2] < 0.45

    def cut(self, at: list[int], *, placed: bool = True) -> list[Line]:
        """The line cut before each character offset in `at`, pieces stripped, empty ones dropped.

        `placed`: each piece's x span is estimated from its share of the characters (a line
        of two things read as one); otherwise every piece keeps the line's span and indent.
        """
        if not at:
            return [self]
        n = len(self.text)

        def x(k: int) -> float:  # where character k starts, by its share of the line
            return self.x1 if k == n else self.x0 + (self.x1 - self.x0) * k / n

        pieces: list[Line] = []
        for a, b in pairwise([0, *at, n]):
            text = self.text[a:b].strip()
            if text:
                pieces.append(replace(self, text=text, x0=x(a), x1=x(b)) if placed else replace(self, text=text))
        return pieces


@dataclass(slots=True)
class Page:
    number: int  # 1-based
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    source: str = "pdfplumber"  # which reader produced the lines


@dataclass(slots=True)
class RawPage:
    """One page's words as a reader gave them, before layout: pipeline/reader.py (text layers) fills it,
    pipeline/extract.py judges it and has it OCR'd when its text layer is of no use."""

    number: int  # 1-based
    width: float
    height: float
    words: list[Word]
    source: str  # "pdfplumber", "pypdfium2", "ocr:ENGINE", "none (why)", "ocr failed: why"
    # vertical ruling lines (x, top, bottom): table borders that separate cells
    rules: list[tuple[float, float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what OCR did: rotation, deskew, red ink
    image_cover: float = 0.0  # the largest image's share of the page (near 1: a scan), for the judge
    file_pages: int = 0  # how many pages the file has (0: not known), so OCR can start before the last is read
