"""Stage layout: words in (RawPage), lines in reading order out (Page).

A row of words on one baseline is split wherever a wide gap, a change of colour or a
change of font size separates them: that keeps the contact block at the right of the
header apart from the window-envelope address at its left (pdfplumber's own
`extract_text()` merges them, docs/reading.md#reading-order), and a red receipt stamp apart from the body
text it is stamped over. Lines are ordered top to bottom, then left to right.
"""

from __future__ import annotations

from statistics import median

from schemas.page import Colour, Line, Page, RawPage, Word

GAP_SPLIT = 1.8  # a gap wider than this many character heights splits a row
SPACE_GAP = 0.22  # a gap wider than this many character heights is printed as a space


def _colour_differs(a: Colour, b: Colour) -> bool:
    if a is None or b is None:
        return False
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) > 0.3


def _collides(w: Word, row: list[Word]) -> bool:
    """`w` is printed over a word of the row: a stamp over body text, never one line of text."""
    for other in row:
        overlap = min(w.x1, other.x1) - max(w.x0, other.x0)
        # half the narrower word: OCR boxes of one line may overlap by their padding, no more
        if overlap > 0.5 * min(w.x1 - w.x0, other.x1 - other.x0):
            return True
    return False


def _rows(words: list[Word]) -> list[list[Word]]:
    """Group words whose vertical extents overlap by at least half the smaller height.

    A word that would sit on top of a word already in the row (a receipt stamp stamped over
    the text, whatever its ink or size) starts a row of its own instead, so that the text under
    it stays one line and the stamp's words never join it. Rows still open (reaching below the
    word's top) are all candidates, not only the last one: a stamp's row between two text rows
    must not take the next text row's words.
    """
    rows: list[list[Word]] = []
    bounds: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: (w.top, w.x0)):
        best, best_share = -1, 0.0
        for i in range(len(rows) - 1, max(len(rows) - 8, 0) - 1, -1):
            top, bottom = bounds[i]
            overlap = min(bottom, w.bottom) - max(top, w.top)
            share = overlap / max(min(bottom - top, w.bottom - w.top), 0.1)
            if share >= 0.5 and share > best_share and not _collides(w, rows[i]):
                best, best_share = i, share
        if best < 0:
            rows.append([w])
            bounds.append((w.top, w.bottom))
        else:
            rows[best].append(w)
            top, bottom = bounds[best]
            bounds[best] = (min(top, w.top), max(bottom, w.bottom))
    order = sorted(range(len(rows)), key=lambda i: (bounds[i][0], min(w.x0 for w in rows[i])))
    return [rows[i] for i in order]


def _ruled_between(a: Word, b: Word, rules: list[tuple[float, float, float]]) -> bool:
    """A table's cell wall between two words on one row."""
    mid = (a.top + a.bottom + b.top + b.bottom) / 4
    return any(a.x1 - 1 <= x <= b.x0 + 1 and top <= mid <= bottom for x, top, bottom in rules)


def _segments(row: list[Word], rules: list[tuple[float, float, float]]) -> list[list[Word]]:
    row = sorted(row, key=lambda w: w.x0)
    segments: list[list[Word]] = [[row[0]]]
    for w in row[1:]:
        prev = segments[-1][-1]
        gap = w.x0 - prev.x1
        unit = max(min(w.size, prev.size), 1.0)
        size_jump = max(w.size, prev.size) / max(min(w.size, prev.size), 0.1) > 1.35
        if (
            gap > GAP_SPLIT * unit
            or _colour_differs(w.colour, prev.colour)
            or (size_jump and gap > 0.5 * unit)
            or (rules and _ruled_between(prev, w, rules))
        ):
            segments.append([w])
        else:
            segments[-1].append(w)
    return segments


def make_line(words: list[Word], page: int) -> Line:
    parts: list[str] = []
    for i, w in enumerate(words):
        if i and w.x0 - words[i - 1].x1 > SPACE_GAP * max(min(w.size, words[i - 1].size), 1.0):
            parts.append(" ")
        parts.append(w.text)
    sizes = [w.size for w in words]
    return Line(
        words=words,
        text="".join(parts),
        x0=min(w.x0 for w in words),
        x1=max(w.x1 for w in words),
        top=min(w.top for w in words),
        bottom=max(w.bottom for w in words),
        size=median(sizes),
        colour=words[0].colour,
        page=page,
        confidence=min(w.confidence for w in words),
    )


def build_page(raw: RawPage) -> Page:
    """The page's lines in reading order, their text as read (OCR'd text is the clean stage's: pipeline/ocrtext.py)."""
    lines: list[Line] = []
    for row in _rows([w for w in raw.words if w.text.strip()]):
        lines.extend(make_line(seg, raw.number) for seg in _segments(row, raw.rules))
    return Page(number=raw.number, width=raw.width, height=raw.height, lines=lines, source=raw.source)
