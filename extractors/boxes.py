"""Where each field of a letter was printed: the lines it was read from, as one box per page.

The lines a field was read from carry their positions in PDF points (origin top left, the
reader's and OCR's alike); a field's box on a page is the union of its lines there, given as
fractions of that page's size so that a page image of any resolution can draw it
(docs/document-json.md#boxes).
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.letter import FieldBox
from schemas.page import Line

PageSizes = dict[int, tuple[float, float]]  # page number → (width, height) in points


def _fraction(value: float, whole: float) -> float:
    return round(min(max(value / whole, 0.0), 1.0), 4) if whole > 0 else 0.0


def boxes_of(lines: Iterable[Line], sizes: PageSizes) -> list[FieldBox]:
    """One box per page: the union of `lines` on it, pages in order; pages of unknown size left out."""
    spans: dict[int, list[float]] = {}
    for line in lines:
        if line.page not in sizes or line.x1 <= line.x0:
            continue
        span = spans.get(line.page)
        if span is None:
            spans[line.page] = [line.x0, line.top, line.x1, line.bottom]
        else:
            span[:] = [min(span[0], line.x0), min(span[1], line.top), max(span[2], line.x1), max(span[3], line.bottom)]
    out: list[FieldBox] = []
    for page in sorted(spans):
        width, height = sizes[page]
        x0, y0, x1, y1 = spans[page]
        out.append(FieldBox(page=page, box=[_fraction(x0, width), _fraction(y0, height), _fraction(x1, width),
                                            _fraction(y1, height)]))
    return out


def field_boxes(sources: dict[str, list[Line]], sizes: PageSizes) -> dict[str, list[FieldBox]]:
    """Field name → its boxes, for the fields read from lines with a known page."""
    out: dict[str, list[FieldBox]] = {}
    for name, lines in sources.items():
        found = boxes_of(lines, sizes)
        if found:
            out[name] = found
    return out
