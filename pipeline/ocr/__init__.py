"""OCR for pages without a usable text layer: engines, image preparation, boxes → Words.

    from pipeline.ocr import get_engine, ocr_image, boxes_to_words
    from pipeline.ocr.imageprep import render_page

    image = render_page(path, index, dpi=300)
    result = ocr_image(image, dpi=300, page_width_pt=w, page_height_pt=h)
    # result.words are schemas.page.Word in PDF points, origin top left: feed them to
    # pipeline.layout.build_page through a RawPage(..., source=f"ocr:{result.engine}").

Heavy imports (onnxruntime, the models) happen on an engine's first `read`, not on import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Required, TypedDict, Unpack

from PIL import Image

from pipeline.ocr.engines import (
    DEFAULT_ENGINE,
    FakeEngine,
    ImageLike,
    OcrBox,
    OcrEngine,
    OcrUnavailable,
    PaddleEngine,
    TesseractEngine,
    TextLines,
    engine_names,
    get_engine,
    register_engine,
)
from schemas.page import Colour, Word

__all__ = [
    "DEFAULT_ENGINE",
    "RED",
    "FakeEngine",
    "FoundLines",
    "ImageLike",
    "OcrBox",
    "OcrEngine",
    "OcrResult",
    "OcrUnavailable",
    "PaddleEngine",
    "TesseractEngine",
    "boxes_to_words",
    "engine_names",
    "find_text_lines",
    "get_engine",
    "ocr_image",
    "read_text_lines",
    "register_engine",
]

# The colour given to words read from a page's red ink, so that Line.is_red holds for them
# and layout keeps them apart from black text on the same row.
RED: Colour = (0.8, 0.1, 0.1)
BLACK: Colour = (0.0, 0.0, 0.0)


def boxes_to_words(
    boxes: Iterable[OcrBox],
    dpi: float,
    page_height_pt: float,
    *,
    page_width_pt: float | None = None,
    size_ratio: float = 1.0,
    colour: Colour = None,
) -> list[Word]:
    """Pixel boxes of an image rendered at `dpi` as Words in PDF points (origin top left, as the reader's).

    `size` (the font size layout compares gaps against) is the box height times
    `size_ratio` (the engine's `size_ratio`: line detectors pad their boxes). Boxes are
    clipped to the page; empty texts are dropped.
    """
    scale = 72.0 / dpi
    width = page_width_pt if page_width_pt is not None else float("inf")
    words: list[Word] = []
    for b in boxes:
        text = b.text.strip()
        if not text:
            continue
        x0 = min(max(b.x0 * scale, 0.0), width)
        x1 = min(max(b.x1 * scale, x0), width)
        top = min(max(b.top * scale, 0.0), page_height_pt)
        bottom = min(max(b.bottom * scale, top), page_height_pt)
        size = max((bottom - top) * size_ratio, 1.0)
        words.append(
            Word(text=text, x0=x0, x1=x1, top=top, bottom=bottom, size=size, colour=colour, confidence=b.confidence)
        )
    return words


@dataclass(slots=True)
class OcrResult:
    words: list[Word]
    engine: str
    width: float  # page size in points in the frame of `words` (swapped by a 90° turn)
    height: float
    rotation: int = 0
    skew: float = 0.0
    notes: list[str] = field(default_factory=list)
    mean_confidence: float = 0.0  # over all boxes read (Words do not keep a confidence)


def _read_region(engine: OcrEngine, image: Image.Image, margin: int = 16) -> list[OcrBox]:
    """Read only the part of a mostly blank image (the red ink alone) that has ink in it."""
    import numpy as np

    ink = np.asarray(image.convert("L")) < 160
    ys, xs = np.nonzero(ink)
    if ys.size == 0:
        return []
    x0, y0 = max(0, int(xs.min()) - margin), max(0, int(ys.min()) - margin)
    x1, y1 = min(image.width, int(xs.max()) + margin + 1), min(image.height, int(ys.max()) + margin + 1)
    boxes = engine.read(image.crop((x0, y0, x1, y1)))
    return [OcrBox(b.text, b.x0 + x0, b.top + y0, b.x1 + x0, b.bottom + y0, b.confidence) for b in boxes]


class PageOptions(TypedDict, total=False):
    """How a page image is read (find_text_lines' keywords): its resolution and size in points, what is fixed first."""

    dpi: Required[float]
    page_width_pt: Required[float]
    page_height_pt: Required[float]
    fix_orientation: bool
    fix_skew: bool
    separate_red: bool


def ocr_image(image: Image.Image, *, engine: OcrEngine | str | None = None, **page: Unpack[PageOptions]) -> OcrResult:
    """OCR one page image: upright, straighten, split off red ink, read text and stamp, convert to Words.

    Words read from the red ink get colour RED (so Line.is_red), those from the text BLACK
    when red was separated, else None.
    """
    eng = get_engine(engine) if engine is None or isinstance(engine, str) else engine
    found = find_text_lines(image, engine=eng, **page)
    if isinstance(found, OcrResult):
        return found
    assert isinstance(eng, PaddleEngine)
    return read_text_lines(found, eng.recognise(found.lines.crops), eng)


@dataclass(slots=True)
class FoundLines:
    """A page made ready and its stamp read, whose text lines are found and cut out but not read yet.

    `ocr_image` in two steps, so that the lines of one dense page can be read by several
    workers, group by group (`lines.groups`); `read_text_lines` puts the page together.
    """

    lines: TextLines
    page: OcrResult  # the page without its text lines: size, rotation, notes, the red ink's words
    red_confidences: list[float]
    dpi: float
    colour: Colour  # of the text's words


def find_text_lines(
    image: Image.Image,
    *,
    dpi: float,
    page_width_pt: float,
    page_height_pt: float,
    engine: OcrEngine | str | None = None,
    fix_orientation: bool = True,
    fix_skew: bool = True,
    separate_red: bool = True,
) -> FoundLines | OcrResult:
    """`ocr_image` up to reading the text lines; an engine that cannot read in steps reads the whole page."""
    from pipeline.ocr.imageprep import prepare

    eng = get_engine(engine) if engine is None or isinstance(engine, str) else engine
    prep = prepare(image, fix_orientation=fix_orientation, fix_skew=fix_skew, separate_red=separate_red)
    width, height = page_width_pt, page_height_pt
    if prep.rotation in (90, 270):
        width, height = height, width
    red_boxes = _read_region(eng, prep.red) if prep.red is not None else []
    red = boxes_to_words(red_boxes, dpi, height, page_width_pt=width, size_ratio=eng.size_ratio, colour=RED)
    page = OcrResult(red, eng.name, width, height, prep.rotation, prep.skew, prep.notes)
    found = FoundLines(TextLines([], [], []), page, [b.confidence for b in red_boxes], dpi,
                       BLACK if prep.red is not None else None)
    if isinstance(eng, PaddleEngine):
        found.lines = eng.find_lines(prep.image)
        return found
    return _with_text(found, eng.read(prep.image), eng)


def read_text_lines(found: FoundLines, texts: list[tuple[str, float]], engine: PaddleEngine) -> OcrResult:
    """The page of `found`, its text lines read as `texts` (one (text, score) per crop, in order)."""
    return _with_text(found, engine.to_boxes(found.lines, texts), engine)


def _with_text(found: FoundLines, boxes: list[OcrBox], engine: OcrEngine) -> OcrResult:
    page = found.page
    words = boxes_to_words(
        boxes, found.dpi, page.height, page_width_pt=page.width, size_ratio=engine.size_ratio, colour=found.colour
    )
    confidences = [b.confidence for b in boxes] + found.red_confidences
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return OcrResult(
        words=words + page.words,
        engine=page.engine,
        width=page.width,
        height=page.height,
        rotation=page.rotation,
        skew=page.skew,
        notes=list(page.notes),
        mean_confidence=mean,
    )
