"""Pages of a stored original as PNG images, whole or cropped to a field's box (the web app's letter and review pages).

Rendered on request with pypdfium2 (pipeline/ocr/imageprep.render_page) and kept in a small
in-memory cache: a page is drawn at a screen's resolution in well under a second, and a cache on
disk inside the file store would be files that no archive row names (`gongwen fsck`).
pdfium is not thread-safe: one page at a time.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path

PAGE_DPI = 110  # an A4 page 910 px wide: sharp at a screen's width, small to send
CROP_DPI = 160  # a field cut out for review: readable characters
CROP_MARGIN = 0.012  # of the page, around a field's box
CACHE_SIZE = 48

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, float, int, int], bytes] = OrderedDict()


def page_count(pdf: Path) -> int:
    import pypdfium2 as pdfium

    with _lock:
        doc = pdfium.PdfDocument(str(pdf))
        try:
            return len(doc)
        finally:
            doc.close()


def _render(pdf: Path, page: int, dpi: int) -> bytes:
    """Page `page` (1-based) of `pdf` as PNG bytes, from the cache when drawn before (the file's mtime is in the key)."""
    from pipeline.ocr.imageprep import render_page

    key = (str(pdf), pdf.stat().st_mtime, page, dpi)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        image = render_page(pdf, page - 1, dpi=dpi)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        data = _cache[key] = out.getvalue()
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return data


def page_png(pdf: Path, page: int) -> bytes:
    """The whole page (1-based), to draw the fields' boxes over."""
    return _render(pdf, page, PAGE_DPI)


def crop_png(pdf: Path, page: int, box: list[float], margin: float = CROP_MARGIN) -> bytes:
    """The part of the page inside `box` (fractions of the page, docs/document-json.md#boxes) and a margin."""
    from PIL import Image

    with Image.open(io.BytesIO(_render(pdf, page, CROP_DPI))) as image:
        w, h = image.size
        x0, y0 = max(box[0] - margin, 0.0), max(box[1] - margin, 0.0)
        x1, y1 = min(box[2] + margin, 1.0), min(box[3] + margin, 1.0)
        part = image.crop((int(x0 * w), int(y0 * h), max(int(x1 * w), int(x0 * w) + 1), max(int(y1 * h), int(y0 * h) + 1)))
        out = io.BytesIO()
        part.save(out, format="PNG")
    return out.getvalue()
