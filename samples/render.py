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
    FONT_KEYS,
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

STAMP_REDS: tuple[Color, ...] = (STAMP_RED, (0.72, 0.05, 0.12), (0.93, 0.25, 0.2))
STAMP_INKS: tuple[Color, ...] = (*STAMP_REDS, (0.1, 0.2, 0.62), BLACK)


def ink_name(ink: Color) -> str:
    """What the layout manifest says of a stamp's ink."""
    if ink in STAMP_REDS:
        return "red"
    if ink == BLACK:
        return "black"
    return "purple" if ink == EXCHANGE_PURPLE else "blue"


@dataclass(frozen=True)
class Style:
    """The geometry and type of one sample, drawn from its name.

    Offices print letters from their own templates: margins, where the contact block sits,
    how its labels are spaced, the sizes of title and signature, fonts and line spacing all
    differ. Each sample gets its own, so that no reading rule can lean on one template.
    """

    left: float = LEFT
    right: float = RIGHT
    top: float = TOP
    bottom: float = BOTTOM
    body_size: float = BODY_SIZE
    body_lead: float = BODY_LEAD
    contact_x: float = CONTACT_X
    contact_size: float = CONTACT_SIZE
    contact_lead: float = CONTACT_LEAD
    gutter: float = 2.5  # ems between the window-envelope address and the contact column
    label_space: str = ""  # put between the characters of a two-character contact label (電　話：)
    contact_font: str | None = None  # None: the document's font
    title_size: float = TITLE_SIZE
    title_font: str | None = None
    sign_size: float = SIGN_SIZE
    sign_at: float = 0.46  # share of the page width where the signature column starts
    sign_font: str | None = None

    @property
    def body_w(self) -> float:
        return self.right - self.left


def style_for(seed: str) -> Style:
    """A sample's style, the same on every run (seeded by the sample's name)."""
    rng = random.Random(f"style:{seed}")

    def r(lo: float, hi: float, step: float = 0.5) -> float:
        return round(rng.uniform(lo, hi) / step) * step

    def maybe_font() -> str | None:
        return None if rng.random() < 0.5 else font_name(rng.choice(FONT_KEYS))

    body_size = r(12.0, 15.0)
    contact_size = r(9.5, 12.0)
    return Style(
        left=r(54.0, 92.0),
        right=PAGE_W - r(44.0, 72.0),
        top=PAGE_H - r(46.0, 80.0),
        bottom=r(48.0, 72.0),
        body_size=body_size,
        body_lead=round(body_size * rng.uniform(1.35, 1.8), 1),
        contact_x=r(PAGE_W * 0.4, PAGE_W * 0.6),
        contact_size=contact_size,
        contact_lead=round(contact_size * rng.uniform(1.3, 1.6), 1),
        gutter=round(rng.uniform(2.2, 4.5), 2),
        label_space=rng.choice(["", "", "\u3000", "  ", "\u3000\u3000"]),
        contact_font=maybe_font(),
        title_size=r(16.0, 24.0),
        title_font=maybe_font(),
        sign_size=r(body_size + 1.0, 22.0),
        sign_at=round(rng.uniform(0.4, 0.56), 3),
        sign_font=maybe_font(),
    )


_TWO_CHAR_LABEL = re.compile(r"^([\u4e00-\u9fff])([\u4e00-\u9fff])([：:])")


def spaced_label(text: str, space: str) -> str:
    """`電話：…` printed `電　話：…`, as templates align two-character labels with longer ones."""
    return _TWO_CHAR_LABEL.sub(lambda m: m.group(1) + space + m.group(2) + m.group(3), text) if space else text


def _unbreakable_width(text: str, measure: Measure) -> float:
    """Width of a contact line's label plus its longest Latin run (an address is never broken)."""
    m = LABEL.match(text)
    label = measure(m.group(0)) if m else 0.0
    longest = max((measure(t) for t in re.findall(r"[!-~]+", text)), default=0.0)
    return label + longest


@dataclass(frozen=True)
class PlannedStamp:
    """A stamp waiting for the paragraph it is stamped on (placement `split` or `over`)."""

    stamp: Stamp
    index: int
    ink: Color
    size: float
    placement: str  # band: a band of its own; split: between two lines; over: over the text
    after_line: int


@dataclass(frozen=True)
class StampPlace:
    """Where a stamp landed, for the layout manifest (tests look for stamps over body text)."""

    page: int
    doc: int
    placement: str
    ink: str
    exchange: bool


# Numbering levels of the 說明 tree (docs/letter.md#the-numbering-tree), outermost first.
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

    def paint(self, canvas: Canvas) -> None:
        canvas.saveState()
        canvas.setFillColorRGB(*self.color)
        canvas.translate(self.x, self.y)
        if self.angle:
            canvas.rotate(self.angle)
        text = canvas.beginText(0, 0)
        if self.bold:
            canvas.setStrokeColorRGB(*self.color)
            canvas.setLineWidth(self.size * 0.03)
            text.setTextRenderMode(2)
        for chunk, font in runs(self.text, self.font):
            text.setFont(font, self.size)
            text.textOut(chunk)
        canvas.drawText(text)
        canvas.restoreState()


@dataclass(frozen=True, kw_only=True)
class Stroke:
    """The ink and line width of a drawn outline (a table cell, a stamp's box, a rule)."""

    color: Color
    width: float

    def paint(self, canvas: Canvas) -> None:
        canvas.saveState()
        canvas.setStrokeColorRGB(*self.color)
        canvas.setLineWidth(self.width)
        self.draw(canvas)
        canvas.restoreState()

    def draw(self, canvas: Canvas) -> None:
        """The outline itself, in the stroke's ink and width."""
        raise NotImplementedError


@dataclass(frozen=True)
class RectOp(Stroke):
    """A stroked rectangle (table cells, stamp boxes)."""

    x: float
    y: float
    w: float
    h: float
    radius: float = 0.0

    def draw(self, canvas: Canvas) -> None:
        if self.radius:
            canvas.roundRect(self.x, self.y, self.w, self.h, self.radius, stroke=1, fill=0)
        else:
            canvas.rect(self.x, self.y, self.w, self.h, stroke=1, fill=0)


@dataclass(frozen=True)
class LineOp(Stroke):
    """A straight, optionally dashed, line."""

    x1: float
    y1: float
    x2: float
    y2: float
    dashed: bool = False

    def draw(self, canvas: Canvas) -> None:
        if self.dashed:
            canvas.setDash(4, 3)
        canvas.line(self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class BarsOp:
    """Code 128 bars of `digits` with their bottom-left corner at (x, y)."""

    x: float
    y: float
    digits: str
    height: float

    def paint(self, canvas: Canvas) -> None:
        Code128(self.digits, barWidth=0.8, barHeight=self.height, quiet=0).drawOn(canvas, self.x, self.y)


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
    stamps: tuple[StampPlace, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "documents": [{"kind": d.kind, "pages": [d.first, d.last]} for d in self.documents],
            "stamps": [
                {"page": p.page, "document": p.doc, "placement": p.placement, "ink": p.ink}
                for p in self.stamps
                if not p.exchange
            ],
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
        self.s = style_for(seed)
        self.y = self.s.top
        self.doc_index = 0
        self.doc: Document | None = None
        self.font = font_name("uming")
        self.pending: PlannedStamp | None = None
        self.stamps: list[StampPlace] = []

    # -- pages -------------------------------------------------------------------------
    @property
    def page(self) -> Page:
        return self.pages[-1]

    def new_page(self) -> None:
        self.pages.append(Page(doc=self.doc_index))
        self.y = self.s.top

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` more points fit above the bottom margin."""
        if self.y - height < self.s.bottom and self.page.flow:
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
            if self.pending is not None and not isinstance(block, Paragraph | Barcode | Mark):
                self.place_stamp(self.pending)
            self.block(block, block_index)
        if self.pending is not None:
            self.place_stamp(self.pending)
        return DocLayout(doc.kind, first, len(self.pages))

    def block(self, block: Block, index: int) -> None:
        if isinstance(block, Paragraph):
            self.paragraph(block.text)
        elif isinstance(block, Top):
            self.text_line(self.s.left, block.text, TOP_SIZE, TOP_LEAD)
        elif isinstance(block, Title):
            self.centered(block.text, self.s.title_size, self.s.title_size * 1.8, bold=False, font=self.s.title_font)
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
            self.wrapped(block.text, self.s.left, self.s.body_w, BIG_SIZE, BIG_LEAD)
        elif isinstance(block, Table):
            self.table(block.rows)
        elif isinstance(block, Gap):
            self.gap(block.lines)

    # -- blocks ------------------------------------------------------------------------
    def paragraph(self, text: str) -> None:
        """Body paragraph with the hanging indent of a 公文 template."""
        s = self.s
        em = s.body_size
        numbered = number_prefix(text)
        x, hang = s.left, 0.0
        if numbered is not None:
            level, prefix = numbered
            x = s.left + em * (1 + 2 * level)
            hang = text_width(prefix, self.font, s.body_size)
        else:
            m = LABEL.match(text)
            if m and len(m.group(0)) <= 13:
                hang = text_width(m.group(0), self.font, s.body_size)
        width = s.right - x
        if hang > width * 0.6:
            hang = 0.0
        measure = self.measure(self.font, s.body_size)
        lines = wrap(text, measure, width, width - hang)
        for i, line in enumerate(lines):
            self.text_line(x + (hang if i else 0.0), line, s.body_size, s.body_lead)
            if self.pending is not None and self.pending.after_line == i:
                self.place_stamp(self.pending)
        if self.pending is not None:
            self.place_stamp(self.pending)

    def centered(self, text: str, size: float, lead: float, bold: bool, font: str | None = None) -> None:
        font = font or self.font
        for line in wrap(text, self.measure(font, size), self.s.body_w):
            w = text_width(line, font, size)
            self.ensure(lead)
            baseline = self.y - lead / 2 - 0.36 * size
            self.emit(
                TextOp(
                    (PAGE_W - w) / 2 + (self.s.left - (PAGE_W - self.s.right)) / 2,
                    baseline,
                    line,
                    font,
                    size,
                    bold=bold,
                )
            )
            self.y -= lead

    def header(self, header: Header) -> None:
        """Contact column at the right, window-envelope lines at the left, one band."""
        s = self.s
        font = s.contact_font or self.font
        measure = self.measure(font, s.contact_size)
        texts = [spaced_label(raw, s.label_space) for raw in header.contact]
        # a template's contact column is wide enough for an e-mail address after its label
        needed = max((_unbreakable_width(t, measure) for t in texts), default=0.0)
        contact_x = min(s.contact_x, s.right - needed - 2)
        contact_w = s.right - contact_x
        contact_lines: list[tuple[float, str]] = []
        for text in texts:
            m = LABEL.match(text)
            hang = text_width(m.group(0), font, s.contact_size) if m else 0.0
            if hang > contact_w * 0.5:
                hang = 0.0
            for i, line in enumerate(wrap(text, measure, contact_w, contact_w - hang)):
                contact_lines.append((contact_x + (hang if i else 0.0), line))
        window_lines = [
            line
            for text in header.window
            for line in wrap(text, self.measure(self.font, WINDOW_SIZE), contact_x - s.left - s.gutter * WINDOW_SIZE)
        ]
        lead = s.contact_lead
        band = max(len(contact_lines), len(window_lines)) * lead + lead * 0.5
        self.ensure(band)
        top = self.y
        for i, (x, line) in enumerate(contact_lines):
            baseline = top - (i + 0.5) * lead - 0.36 * s.contact_size
            self.emit(TextOp(x, baseline, line, font, s.contact_size))
        # Window lines sit at the bottom of the band, where the envelope window is.
        offset = max(len(contact_lines) - len(window_lines), 0)
        for i, line in enumerate(window_lines):
            baseline = top - (offset + i + 0.5) * lead - 0.36 * WINDOW_SIZE
            self.emit(TextOp(s.left, baseline, line, self.font, WINDOW_SIZE))
        self.y = top - band

    def sign(self, text: str) -> None:
        """Signature: large, in the right part of the page below the body."""
        s = self.s
        self.y -= s.body_lead * 0.6
        font = s.sign_font or self.font
        measure = self.measure(font, s.sign_size)
        x = PAGE_W * s.sign_at
        for line in wrap(text, measure, s.right - x):
            w = text_width(line, font, s.sign_size)
            self.text_line(max(x, min(PAGE_W * (s.sign_at + 0.09), s.right - w)), line, s.sign_size,
                           s.sign_size * 1.65, font)

    def stamp(self, stamp: Stamp, index: int) -> None:
        """A receipt stamp goes where the sample's style puts it: in a band of its own between
        paragraphs, between two lines of the next paragraph, or over the next paragraph's text."""
        rng = self.rng(self.doc_index, index, "stamp")
        if self.pending is not None:
            self.place_stamp(self.pending)
        if stamp.exchange:
            ink, size, placement = EXCHANGE_PURPLE, STAMP_SIZE, "band"
        else:
            ink = rng.choice(STAMP_INKS)
            if stamp.ink is not None:
                ink = {"red": STAMP_RED, "blue": STAMP_INKS[3], "black": BLACK}[stamp.ink]
            size = round(rng.uniform(8.5, 13.0), 1)
            # over text only in red ink: a scan of black or blue ink over text cannot be read
            # apart by anyone; those stamps go where there is room
            choices = ["band", "split", "over"] if ink in STAMP_REDS else ["band", "split"]
            placement = stamp.placement or rng.choice(choices)
        planned = PlannedStamp(stamp, index, ink, size, placement, after_line=rng.randint(0, 2))
        if placement == "band":
            self.place_stamp(planned)
        else:
            self.pending = planned

    def place_stamp(self, planned: PlannedStamp) -> None:
        """Draw the stamp box at the cursor; only a band or a split stamp takes room in the flow."""
        self.pending = None
        stamp, size = planned.stamp, planned.size
        rng = self.rng(self.doc_index, planned.index, "stamp-place")
        font = font_name("uming")
        lead = size * 1.3
        inner_w = max(text_width(line, font, size) for line in stamp.lines)
        w = inner_w + 14
        h = len(stamp.lines) * lead + 10
        over = planned.placement == "over"
        s = self.s
        if over:
            top = self.y + s.body_lead * rng.uniform(0.2, 0.9)
            top = max(top, s.bottom + h)
            lowest_x = s.left + 0.3 * s.body_w
            x = rng.uniform(lowest_x, max(lowest_x, min(PAGE_W - 10, s.right + 16) - w))
        else:
            self.ensure(h + 6)
            right_edge = min(PAGE_W - 10, s.right + 16 + rng.uniform(-8, 8))
            if planned.placement == "split":  # between two lines: anywhere across the text
                right_edge = rng.uniform(min(s.left + 0.35 * s.body_w + w, right_edge), right_edge)
            x = right_edge - w
            top = self.y - 3 - rng.uniform(0, 2)
        page = len(self.pages)
        self.stamps.append(StampPlace(page, self.doc_index, planned.placement, ink_name(planned.ink),
                                      planned.stamp.exchange))
        self.emit(RectOp(x, top - h, w, h, radius=4.0 if stamp.exchange else 0.0, color=planned.ink, width=1.3), flow=not over)
        if not stamp.exchange:
            self.emit(RectOp(x + 2, top - h + 2, w - 4, h - 4, color=planned.ink, width=0.5), flow=not over)
        for i, line in enumerate(stamp.lines):
            baseline = top - 5 - (i + 0.5) * lead - 0.36 * size
            self.emit(TextOp(x + 7, baseline, line, font, size, planned.ink), flow=not over)
        if not over:
            self.y = top - h - 3

    def barcode(self, digits: str) -> None:
        """Bars with their digits underneath at the top right; later ones go to the left."""
        probe = Code128(digits, barWidth=0.8, barHeight=22, quiet=0)
        w = float(probe.width)
        slot = self.page.barcodes
        self.page.barcodes += 1
        x = self.s.right - w - slot * (w + 14)
        y = PAGE_H - 46
        self.emit(BarsOp(x, y, digits, 22), flow=False)
        tw = text_width(digits, LATIN, 8)
        self.emit(TextOp(x + (w - tw) / 2, y - 9, digits, LATIN, 8), flow=False)

    def mark(self, text: str, index: int) -> None:
        """Handwritten-looking note in a margin (the right one when the left holds a binding line)."""
        rng = self.rng(self.doc_index, index, "mark")
        if self.y - self.s.body_lead < self.s.bottom and self.page.flow:
            self.new_page()  # the note belongs beside the line that follows it
        font = font_name("ukai")
        binding = self.doc is not None and self.doc.binding
        margin = (PAGE_W - self.s.right - 8) if binding else (self.s.left - 14)
        size = max(7.0, min(13.0, margin / max(len(text), 1)))
        x = self.s.right + 4 if binding else 6.0 + rng.uniform(0, 3)
        y = min(self.y - self.s.body_lead / 2 - 0.36 * size, self.page.mark_y - 18)
        self.page.mark_y = y
        angle = -5.0 + rng.uniform(-1.0, 1.0)
        self.emit(TextOp(x, y, text, font, size, INK_BLUE, angle=angle), flow=False)

    def table(self, rows: list[tuple[str, ...]]) -> None:
        """Ruled table; each row divides the body width equally among its cells."""
        self.y -= 4
        for cells in rows:
            col_w = self.s.body_w / max(len(cells), 1)
            measure = self.measure(self.font, CELL_SIZE)
            wrapped = [wrap(cell, measure, col_w - 2 * CELL_PAD) if cell else [] for cell in cells]
            h = max((len(w) for w in wrapped), default=1) * CELL_LEAD + 2 * CELL_PAD
            self.ensure(h)
            for c, lines in enumerate(wrapped):
                x = self.s.left + c * col_w
                self.emit(RectOp(x, self.y - h, col_w, h, color=BLACK, width=0.6))
                for i, line in enumerate(lines):
                    baseline = self.y - CELL_PAD - (i + 0.5) * CELL_LEAD - 0.36 * CELL_SIZE
                    self.emit(TextOp(x + CELL_PAD, baseline, line, self.font, CELL_SIZE))
            self.y -= h
        self.y -= 6

    def gap(self, lines: int) -> None:
        self.y -= lines * self.s.body_lead
        if self.y < self.s.bottom and self.page.flow:
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
            ops.append(LineOp(x + size / 2, top, x + size / 2, bottom, dashed=True, color=RULE_GREY, width=0.6))
    if doc.footer:
        text = f"第{page_in_doc}頁 共{doc_pages}頁"
        w = text_width(text, font, 10)
        ops.append(TextOp((PAGE_W - w) / 2, 30.0, text, font, 10))
    return ops


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
            op.paint(canvas)
        canvas.showPage()
    canvas.save()
    return Layout(len(layouter.pages), tuple(placed), tuple(layouter.stamps))
