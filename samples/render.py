"""Lay documents out on A4 pages and paint them with reportlab.

Layout produces a list of pages, each a list of drawing operations; painting happens
afterwards, so that page footers (`第N頁 共M頁`) and binding lines can be added once
every page of a document is known. Everything is text in the PDF's text layer.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from reportlab import rl_config
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from samples.fonts import LATIN, font_name, runs, text_width
from samples.markup import (
    Barcode,
    Big,
    Block,
    DocKind,
    Document,
    Gap,
    Header,
    Heading,
    Mark,
    PageBreak,
    Paragraph,
    Sign,
    Stamp,
    Table,
    Title,
    Top,
)
from samples.wrap import Measure, wrap

rl_config.invariant = 1

PAGE_W, PAGE_H = A4
LEFT = 72.0
RIGHT = PAGE_W - 60.0
TOP = PAGE_H - 64.0
BOTTOM = 64.0
BODY_W = RIGHT - LEFT

BODY_SIZE = 14.0
BODY_LEAD = 22.0
CONTACT_X = 300.0
CONTACT_SIZE = 10.5
CONTACT_LEAD = 15.0
WINDOW_SIZE = 11.0
TOP_SIZE = 10.0
TOP_LEAD = 14.0
TITLE_SIZE = 20.0
TITLE_LEAD = 36.0
SIGN_SIZE = 18.0
SIGN_LEAD = 30.0
HEADING_SIZE = 17.0
HEADING_LEAD = 30.0
BIG_SIZE = 18.0
BIG_LEAD = 28.0
CELL_SIZE = 11.0
CELL_LEAD = 15.0
CELL_PAD = 4.0
STAMP_SIZE = 10.0
STAMP_LEAD = 13.0

Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)
STAMP_RED: Color = (0.85, 0.1, 0.1)
EXCHANGE_PURPLE: Color = (0.4, 0.2, 0.72)
INK_BLUE: Color = (0.12, 0.25, 0.7)
RULE_GREY: Color = (0.35, 0.35, 0.35)

# Numbering levels of the 說明 tree (GONGWEN.md §2), outermost first.
_CN = "一二三四五六七八九十百"
_DIGITS = "0-9０-９"
_STEMS = "甲乙丙丁戊己庚辛壬癸"
NUMBER_LEVELS: tuple[re.Pattern[str], ...] = (
    re.compile(f"^[{_CN}]+、"),
    re.compile(f"^[(（][{_CN}]+[)）]"),
    re.compile(f"^[{_DIGITS}]+[、.．](?![{_DIGITS}])"),
    re.compile(f"^[(（][{_DIGITS}]+[)）]"),
    re.compile(f"^[{_STEMS}]、"),
    re.compile(f"^[(（][{_STEMS}][)）]"),
)
LABEL = re.compile(r"^[^：:\s]{1,12}[：:]")


@dataclass(frozen=True)
class TextOp:
    """One line of text; `angle` rotates it about its origin, `bold` strokes the glyphs."""

    x: float
    y: float
    text: str
    font: str
    size: float
    color: Color = BLACK
    angle: float = 0.0
    bold: bool = False


@dataclass(frozen=True)
class RectOp:
    """A stroked rectangle (table cells, stamp boxes)."""

    x: float
    y: float
    w: float
    h: float
    color: Color = BLACK
    width: float = 0.6
    radius: float = 0.0


@dataclass(frozen=True)
class LineOp:
    """A straight, optionally dashed, line."""

    x1: float
    y1: float
    x2: float
    y2: float
    color: Color = BLACK
    width: float = 0.5
    dashed: bool = False


@dataclass(frozen=True)
class BarsOp:
    """Code 128 bars of `digits` with their bottom-left corner at (x, y)."""

    x: float
    y: float
    digits: str
    height: float


Op = TextOp | RectOp | LineOp | BarsOp


@dataclass
class Page:
    """Operations of one PDF page and the document it belongs to."""

    doc: int
    ops: list[Op] = field(default_factory=list)
    flow: bool = False
    barcodes: int = 0
    mark_y: float = PAGE_H


@dataclass(frozen=True)
class DocLayout:
    """Where one document ended up: its kind and 1-based first/last page."""

    kind: DocKind
    first: int
    last: int


@dataclass(frozen=True)
class Layout:
    """Page count and document page ranges of a rendered PDF (the layout manifest)."""

    pages: int
    documents: tuple[DocLayout, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "documents": [{"kind": d.kind, "pages": [d.first, d.last]} for d in self.documents],
        }

    def summary(self) -> str:
        parts = ", ".join(
            f"{d.kind} {d.first}" if d.first == d.last else f"{d.kind} {d.first}-{d.last}"
            for d in self.documents
        )
        return f"{self.pages} pages: {parts}"


def number_prefix(text: str) -> tuple[int, str] | None:
    """Level and printed number of a numbered paragraph (`(一)` → (1, "(一)")), if any."""
    for level, pattern in enumerate(NUMBER_LEVELS):
        m = pattern.match(text)
        if m:
            return level, m.group(0)
    return None


class Layouter:
    """Flows the blocks of documents down A4 pages, recording drawing operations."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.pages: list[Page] = []
        self.y = TOP
        self.doc_index = 0
        self.doc: Document | None = None
        self.font = font_name("uming")

    # -- pages -------------------------------------------------------------------------
    @property
    def page(self) -> Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(Page(doc=self.doc_index))
        self.y = TOP

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` more points fit above the bottom margin."""
        if self.y - height < BOTTOM and self.page.flow:
            self.new_page()

    def rng(self, *salt: object) -> random.Random:
        """A generator seeded from the source name and position: jitter without randomness."""
        return random.Random("|".join([self.seed, *map(str, salt)]))

    def emit(self, op: Op, flow: bool = True) -> None:
        self.page.ops.append(op)
        if flow:
            self.page.flow = True

    # -- text helpers ------------------------------------------------------------------
    def measure(self, font: str, size: float) -> Measure:
        return lambda s: text_width(s, font, size)

    def text_line(self, x: float, text: str, size: float, lead: float, font: str | None = None) -> None:
        """Draw one line at the cursor, vertically centred in a line box of height `lead`."""
        self.ensure(lead)
        baseline = self.y - lead / 2 - 0.36 * size
        self.emit(TextOp(x, baseline, text, font or self.font, size))
        self.y -= lead

    def wrapped(self, text: str, x: float, width: float, size: float, lead: float, hang: float = 0.0) -> None:
        """Wrap `text` in a column at x, later lines indented by `hang`."""
        measure = self.measure(self.font, size)
        for i, line in enumerate(wrap(text, measure, width, width - hang)):
            self.text_line(x + (hang if i else 0.0), line, size, lead)

    # -- documents -----------------------------------------------------------------------
    def document(self, doc: Document, index: int) -> DocLayout:
        self.doc, self.doc_index = doc, index
        self.font = font_name(doc.font)
        self.new_page()
        first = len(self.pages)
        for block_index, block in enumerate(doc.blocks):
            self.block(block, block_index)
        return DocLayout(doc.kind, first, len(self.pages))

    def block(self, block: Block, index: int) -> None:
        if isinstance(block, Paragraph):
            self.paragraph(block.text)
        elif isinstance(block, Top):
            self.text_line(LEFT, block.text, TOP_SIZE, TOP_LEAD)
        elif isinstance(block, Title):
            self.centered(block.text, TITLE_SIZE, TITLE_LEAD, bold=False)
        elif isinstance(block, Header):
            self.header(block)
        elif isinstance(block, Sign):
            self.sign(block.text)
        elif isinstance(block, Stamp):
            self.stamp(block, index)
        elif isinstance(block, Barcode):
            self.barcode(block.digits)
        elif isinstance(block, Mark):
            self.mark(block.text, index)
        elif isinstance(block, PageBreak):
            if self.page.flow:
                self.new_page()
        elif isinstance(block, Heading):
            self.y -= HEADING_LEAD * 0.25
            self.centered(block.text, HEADING_SIZE, HEADING_LEAD, bold=True)
        elif isinstance(block, Big):
            self.wrapped(block.text, LEFT, BODY_W, BIG_SIZE, BIG_LEAD)
        elif isinstance(block, Table):
            self.table(block.rows)
        elif isinstance(block, Gap):
            self.gap(block.lines)

    # -- blocks ------------------------------------------------------------------------
    def paragraph(self, text: str) -> None:
        """Body paragraph with the hanging indent of a 公文 template."""
        em = BODY_SIZE
        numbered = number_prefix(text)
        x, hang = LEFT, 0.0
        if numbered is not None:
            level, prefix = numbered
            x = LEFT + em * (1 + 2 * level)
            hang = text_width(prefix, self.font, BODY_SIZE)
        else:
            m = LABEL.match(text)
            if m and len(m.group(0)) <= 13:
                hang = text_width(m.group(0), self.font, BODY_SIZE)
        width = RIGHT - x
        if hang > width * 0.6:
            hang = 0.0
        self.wrapped(text, x, width, BODY_SIZE, BODY_LEAD, hang)

    def centered(self, text: str, size: float, lead: float, bold: bool) -> None:
        for line in wrap(text, self.measure(self.font, size), BODY_W):
            w = text_width(line, self.font, size)
            self.ensure(lead)
            baseline = self.y - lead / 2 - 0.36 * size
            self.emit(
                TextOp(
                    (PAGE_W - w) / 2 + (LEFT - (PAGE_W - RIGHT)) / 2,
                    baseline,
                    line,
                    self.font,
                    size,
                    bold=bold,
                )
            )
            self.y -= lead

    def header(self, header: Header) -> None:
        """Contact column at the right half, window-envelope lines at the left, one band."""
        contact_w = RIGHT - CONTACT_X
        measure = self.measure(self.font, CONTACT_SIZE)
        contact_lines: list[tuple[float, str]] = []
        for text in header.contact:
            m = LABEL.match(text)
            hang = text_width(m.group(0), self.font, CONTACT_SIZE) if m else 0.0
            if hang > contact_w * 0.5:
                hang = 0.0
            for i, line in enumerate(wrap(text, measure, contact_w, contact_w - hang)):
                contact_lines.append((CONTACT_X + (hang if i else 0.0), line))
        window_lines = [
            line
            for text in header.window
            for line in wrap(text, self.measure(self.font, WINDOW_SIZE), CONTACT_X - LEFT - 14)
        ]
        band = max(len(contact_lines), len(window_lines)) * CONTACT_LEAD + CONTACT_LEAD * 0.5
        self.ensure(band)
        top = self.y
        for i, (x, line) in enumerate(contact_lines):
            baseline = top - (i + 0.5) * CONTACT_LEAD - 0.36 * CONTACT_SIZE
            self.emit(TextOp(x, baseline, line, self.font, CONTACT_SIZE))
        # Window lines sit at the bottom of the band, where the envelope window is.
        offset = max(len(contact_lines) - len(window_lines), 0)
        for i, line in enumerate(window_lines):
            baseline = top - (offset + i + 0.5) * CONTACT_LEAD - 0.36 * WINDOW_SIZE
            self.emit(TextOp(LEFT, baseline, line, self.font, WINDOW_SIZE))
        self.y = top - band

    def sign(self, text: str) -> None:
        """Signature: large, in the right part of the page below the body."""
        self.y -= BODY_LEAD * 0.6
        measure = self.measure(self.font, SIGN_SIZE)
        x = PAGE_W * 0.46
        for line in wrap(text, measure, RIGHT - x):
            w = text_width(line, self.font, SIGN_SIZE)
            self.text_line(max(x, min(PAGE_W * 0.55, RIGHT - w)), line, SIGN_SIZE, SIGN_LEAD)

    def stamp(self, stamp: Stamp, index: int) -> None:
        """A coloured stamp box reaching from the right margin over the body's right part."""
        rng = self.rng(self.doc_index, index, "stamp")
        font = font_name("uming")
        color = EXCHANGE_PURPLE if stamp.exchange else STAMP_RED
        inner_w = max(text_width(line, font, STAMP_SIZE) for line in stamp.lines)
        w = inner_w + 14
        h = len(stamp.lines) * STAMP_LEAD + 10
        self.ensure(h + 6)
        right_edge = min(PAGE_W - 10, RIGHT + 16 + rng.uniform(-8, 8))
        x = right_edge - w
        top = self.y - 3 - rng.uniform(0, 2)
        self.emit(RectOp(x, top - h, w, h, color, 1.3, radius=4.0 if stamp.exchange else 0.0))
        if not stamp.exchange:
            self.emit(RectOp(x + 2, top - h + 2, w - 4, h - 4, color, 0.5))
        for i, line in enumerate(stamp.lines):
            baseline = top - 5 - (i + 0.5) * STAMP_LEAD - 0.36 * STAMP_SIZE
            self.emit(TextOp(x + 7, baseline, line, font, STAMP_SIZE, color))
        self.y = top - h - 3

    def barcode(self, digits: str) -> None:
        """Bars with their digits underneath at the top right; later ones go to the left."""
        probe = Code128(digits, barWidth=0.8, barHeight=22, quiet=0)
        w = float(probe.width)
        slot = self.page.barcodes
        self.page.barcodes += 1
        x = RIGHT - w - slot * (w + 14)
        y = PAGE_H - 46
        self.emit(BarsOp(x, y, digits, 22), flow=False)
        tw = text_width(digits, LATIN, 8)
        self.emit(TextOp(x + (w - tw) / 2, y - 9, digits, LATIN, 8), flow=False)

    def mark(self, text: str, index: int) -> None:
        """Handwritten-looking note in a margin (the right one when the left holds a binding line)."""
        rng = self.rng(self.doc_index, index, "mark")
        if self.y - BODY_LEAD < BOTTOM and self.page.flow:
            self.new_page()  # the note belongs beside the line that follows it
        font = font_name("ukai")
        binding = self.doc is not None and self.doc.binding
        margin = (PAGE_W - RIGHT - 8) if binding else (LEFT - 14)
        size = max(7.0, min(13.0, margin / max(len(text), 1)))
        x = RIGHT + 4 if binding else 6.0 + rng.uniform(0, 3)
        y = min(self.y - BODY_LEAD / 2 - 0.36 * size, self.page.mark_y - 18)
        self.page.mark_y = y
        angle = -5.0 + rng.uniform(-1.0, 1.0)
        self.emit(TextOp(x, y, text, font, size, INK_BLUE, angle=angle), flow=False)

    def table(self, rows: list[tuple[str, ...]]) -> None:
        """Ruled table; each row divides the body width equally among its cells."""
        self.y -= 4
        for cells in rows:
            col_w = BODY_W / max(len(cells), 1)
            measure = self.measure(self.font, CELL_SIZE)
            wrapped = [wrap(cell, measure, col_w - 2 * CELL_PAD) if cell else [] for cell in cells]
            h = max((len(w) for w in wrapped), default=1) * CELL_LEAD + 2 * CELL_PAD
            self.ensure(h)
            for c, lines in enumerate(wrapped):
                x = LEFT + c * col_w
                self.emit(RectOp(x, self.y - h, col_w, h, BLACK, 0.6))
                for i, line in enumerate(lines):
                    baseline = self.y - CELL_PAD - (i + 0.5) * CELL_LEAD - 0.36 * CELL_SIZE
                    self.emit(TextOp(x + CELL_PAD, baseline, line, self.font, CELL_SIZE))
            self.y -= h
        self.y -= 6

    def gap(self, lines: int) -> None:
        self.y -= lines * BODY_LEAD
        if self.y < BOTTOM and self.page.flow:
            self.new_page()


def decorations(doc: Document, page_in_doc: int, doc_pages: int) -> list[Op]:
    """Binding line and footer, which need the document's page count."""
    ops: list[Op] = []
    font = font_name(doc.font)
    if doc.binding:
        small = font_name("uming")
        marks = [(ch, PAGE_H * f) for ch, f in (("裝", 0.72), ("訂", 0.5), ("線", 0.28))]
        x, size = 20.0, 12.0
        edges = [PAGE_H - 48.0]
        for ch, y in marks:
            ops.append(TextOp(x, y - 0.36 * size, ch, small, size))
            edges += [y + size, y - size]
        edges.append(48.0)
        for top, bottom in zip(edges[0::2], edges[1::2], strict=True):
            ops.append(LineOp(x + size / 2, top, x + size / 2, bottom, RULE_GREY, 0.6, dashed=True))
    if doc.footer:
        text = f"第{page_in_doc}頁 共{doc_pages}頁"
        w = text_width(text, font, 10)
        ops.append(TextOp((PAGE_W - w) / 2, 30.0, text, font, 10))
    return ops


def paint_text(canvas: Canvas, op: TextOp) -> None:
    canvas.saveState()
    canvas.setFillColorRGB(*op.color)
    canvas.translate(op.x, op.y)
    if op.angle:
        canvas.rotate(op.angle)
    text = canvas.beginText(0, 0)
    if op.bold:
        canvas.setStrokeColorRGB(*op.color)
        canvas.setLineWidth(op.size * 0.03)
        text.setTextRenderMode(2)
    for chunk, font in runs(op.text, op.font):
        text.setFont(font, op.size)
        text.textOut(chunk)
    canvas.drawText(text)
    canvas.restoreState()


def paint(canvas: Canvas, op: Op) -> None:
    """Draw one operation on the canvas."""
    if isinstance(op, TextOp):
        paint_text(canvas, op)
    elif isinstance(op, RectOp):
        canvas.saveState()
        canvas.setStrokeColorRGB(*op.color)
        canvas.setLineWidth(op.width)
        if op.radius:
            canvas.roundRect(op.x, op.y, op.w, op.h, op.radius, stroke=1, fill=0)
        else:
            canvas.rect(op.x, op.y, op.w, op.h, stroke=1, fill=0)
        canvas.restoreState()
    elif isinstance(op, LineOp):
        canvas.saveState()
        canvas.setStrokeColorRGB(*op.color)
        canvas.setLineWidth(op.width)
        if op.dashed:
            canvas.setDash(4, 3)
        canvas.line(op.x1, op.y1, op.x2, op.y2)
        canvas.restoreState()
    else:
        Code128(op.digits, barWidth=0.8, barHeight=op.height, quiet=0).drawOn(canvas, op.x, op.y)


def render_documents(docs: list[Document], out_path: Path, seed: str) -> Layout:
    """Lay out and paint documents into one PDF; return where each document landed."""
    layouter = Layouter(seed)
    placed = [layouter.document(doc, i) for i, doc in enumerate(docs)]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    canvas = Canvas(str(out_path), pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(seed)
    canvas.setAuthor("gongwen samples generator")
    canvas.setCreator("gongwen samples generator")
    canvas.setProducer("gongwen samples generator")
    for number, page in enumerate(layouter.pages, start=1):
        doc, where = docs[page.doc], placed[page.doc]
        for op in [*page.ops, *decorations(doc, number - where.first + 1, where.last - where.first + 1)]:
            paint(canvas, op)
        canvas.showPage()
    canvas.save()
    return Layout(len(layouter.pages), tuple(placed))
