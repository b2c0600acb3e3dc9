"""Parse the sample markup (samples/FORMAT.md) into a plain document model.

Parsing is kept apart from rendering so that the model can be inspected and tested
without reportlab, and so that a typo in a source is reported with its line number
instead of silently producing a wrong PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DocKind = Literal["letter", "form", "other"]
FontKey = Literal["uming", "ukai", "wqy"]

DOC_KINDS: tuple[DocKind, ...] = ("letter", "form", "other")
STAMP_PLACEMENTS = ("band", "split", "over")
STAMP_INKS = ("red", "blue", "black")
FONT_KEYS: tuple[FontKey, ...] = ("uming", "ukai", "wqy")


class MarkupError(ValueError):
    """A source line the generator cannot render; the message names the line."""


@dataclass(frozen=True)
class TextBlock:
    """A block that is one line of text: each kind below is drawn its own way."""

    text: str


class Paragraph(TextBlock):
    """One logical body paragraph, wrapped by the renderer."""


class Top(TextBlock):
    """Small filing line at the top left (檔號：, 保存年限：)."""


class Title(TextBlock):
    """Agency title + 文別, large and centered."""


@dataclass
class Header:
    """The header band: contact column at the right, window-envelope lines at the left.

    Consecutive `@contact`/`@window` lines share one band, as on a printed 函.
    """

    contact: list[str] = field(default_factory=list)
    window: list[str] = field(default_factory=list)


class Sign(TextBlock):
    """The signature (署名)."""


@dataclass(frozen=True)
class Stamp:
    """A receipt stamp (收文) or an electronic exchange stamp, drawn as a coloured box."""

    lines: tuple[str, ...]
    exchange: bool = False
    placement: str | None = None  # band / split / over; None: the sample's style decides
    ink: str | None = None  # red / blue / black; None: the sample's style decides


@dataclass(frozen=True)
class Barcode:
    """A barcode with its digits underneath, at the top right of the current page."""

    digits: str


class Mark(TextBlock):
    """A handwritten note in the margin."""


@dataclass(frozen=True)
class PageBreak:
    """Continue on a new page."""


class Heading(TextBlock):
    """Centered heading in the body."""


class Big(TextBlock):
    """Large left-aligned text."""


@dataclass
class Table:
    """Consecutive `@row` lines; each row's columns share the width equally."""

    rows: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(frozen=True)
class Gap:
    """N empty body lines."""

    lines: int


Block = (
    Paragraph | Top | Title | Header | Sign | Stamp | Barcode | Mark | PageBreak | Heading | Big | Table | Gap
)

# Blocks drawn over the page without taking part in the text flow; they do not end a
# header band or a table that continues after them.
OVERLAYS = (Barcode, Mark)


@dataclass
class Document:
    """One document of a source: a letter, a form or anything else, starting on a new page."""

    kind: DocKind
    line: int
    font: FontKey = "uming"
    binding: bool = False
    footer: bool = False
    blocks: list[Block] = field(default_factory=list)
    stamp_at: tuple[str, str | None] | None = None  # an @stampat waiting for its @stamp


def _last_flow_block(doc: Document) -> Block | None:
    """The last block that is not an overlay, to which a continuing line may attach."""
    for block in reversed(doc.blocks):
        if not isinstance(block, OVERLAYS):
            return block
    return None


def _split_cells(arg: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in arg.split("|"))


def _require(arg: str, name: str, lineno: int) -> str:
    if not arg:
        raise MarkupError(f"line {lineno}: @{name} needs text")
    return arg


def _apply_directive(doc: Document, name: str, arg: str, lineno: int) -> None:
    """Add what one directive means to the current document."""
    if name == "font":
        if arg not in FONT_KEYS:
            raise MarkupError(f"line {lineno}: unknown font {arg!r} (expected one of {', '.join(FONT_KEYS)})")
        doc.font = arg
    elif name == "binding":
        doc.binding = True
    elif name == "footer":
        doc.footer = True
    elif name in ("contact", "window"):
        last = _last_flow_block(doc)
        header = last if isinstance(last, Header) else None
        if header is None:
            header = Header()
            doc.blocks.append(header)
        (header.contact if name == "contact" else header.window).append(_require(arg, name, lineno))
    elif name == "row":
        last = _last_flow_block(doc)
        table = last if isinstance(last, Table) else None
        if table is None:
            table = Table()
            doc.blocks.append(table)
        table.rows.append(_split_cells(arg))
    elif name == "gap":
        try:
            count = int(arg) if arg else 1
        except ValueError:
            raise MarkupError(f"line {lineno}: @gap needs a number, got {arg!r}") from None
        doc.blocks.append(Gap(max(count, 0)))
    elif name == "barcode":
        digits = arg.replace(" ", "")
        if not digits:
            raise MarkupError(f"line {lineno}: @barcode needs digits")
        doc.blocks.append(Barcode(digits))
    elif name in ("stamp", "exchange"):
        placement, ink = doc.stamp_at or (None, None)
        doc.stamp_at = None
        doc.blocks.append(
            Stamp(_split_cells(_require(arg, name, lineno)), exchange=name == "exchange", placement=placement, ink=ink)
        )
    elif name == "stampat":
        words = arg.split()
        if not words or words[0] not in STAMP_PLACEMENTS or len(words) > 2 or (len(words) == 2 and words[1] not in STAMP_INKS):
            raise MarkupError(
                f"line {lineno}: @stampat needs a placement ({', '.join(STAMP_PLACEMENTS)}) "
                f"and optionally an ink ({', '.join(STAMP_INKS)})"
            )
        doc.stamp_at = (words[0], words[1] if len(words) == 2 else None)
    elif name == "pagebreak":
        doc.blocks.append(PageBreak())
    else:
        simple: dict[str, type[Top | Title | Sign | Mark | Heading | Big]] = {
            "top": Top,
            "title": Title,
            "sign": Sign,
            "mark": Mark,
            "heading": Heading,
            "big": Big,
        }
        cls = simple.get(name)
        if cls is None:
            raise MarkupError(f"line {lineno}: unknown directive @{name}")
        # @top may legitimately be a bare label with its value left blank (檔號：).
        doc.blocks.append(cls(_require(arg, name, lineno)))


def parse_source(text: str) -> list[Document]:
    """Split a source into its documents; raise MarkupError on anything unknown."""
    docs: list[Document] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            name, _, arg = line[1:].partition(" ")
            name, arg = name.strip().lower(), arg.strip()
            if name == "doc":
                if arg not in DOC_KINDS:
                    raise MarkupError(f"line {lineno}: unknown document kind {arg!r}")
                docs.append(Document(kind=arg, line=lineno))
                continue
            if not docs:
                raise MarkupError(f"line {lineno}: @{name} before the first @doc")
            _apply_directive(docs[-1], name, arg, lineno)
            continue
        if not docs:
            raise MarkupError(f"line {lineno}: text before the first @doc")
        docs[-1].blocks.append(Paragraph(line))
    if not docs:
        raise MarkupError("source holds no @doc")
    return docs
