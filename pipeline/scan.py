"""Stage 1b: pages without a usable text layer → OCR'd words, one page per process.

The OCR engines run single-threaded (GONGWEN.md §8: Tesseract is three times slower with
its own threading), so pages go to a pool of worker processes sized to the cores. The
pool lives as long as the process, so a batch pays the model loading once per worker; a
single page is read in-process, where a pool would only add start-up time. A worker
renders and reads one page at a time, so memory is bounded by workers × one page image.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from schemas.page import Word

log = logging.getLogger(__name__)

DEFAULT_DPI = int(os.environ.get("GONGWEN_OCR_DPI", "300"))


@dataclass(frozen=True)
class OcrOptions:
    engine: str | None = None  # None: the default engine ($GONGWEN_OCR_ENGINE or the package default)
    dpi: int = DEFAULT_DPI
    workers: int | None = None  # None: one per core


DEFAULT_OCR = OcrOptions()


@dataclass(slots=True)
class OcrPage:
    index: int  # 0-based page index
    words: list[Word]
    width: float
    height: float
    engine: str
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def ocr_page(path: str, index: int, width: float, height: float, options: OcrOptions) -> OcrPage:
    """Render, prepare and read one page. Never raises: a failure is the page's `error`."""
    try:
        from pipeline.ocr import ocr_image
        from pipeline.ocr.imageprep import render_page

        image = render_page(path, index, dpi=options.dpi)
        result = ocr_image(image, dpi=options.dpi, page_width_pt=width, page_height_pt=height, engine=options.engine)
        return OcrPage(index, result.words, result.width, result.height, result.engine, list(result.notes))
    except Exception as exc:  # the page is reported, the batch goes on
        log.exception("OCR failed on page %d of %s", index + 1, path)
        return OcrPage(index, [], width, height, options.engine or "default", error=f"{type(exc).__name__}: {exc}")


_POOL: Executor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> Executor:
    with _POOL_LOCK:  # flows ingest several files from threads: one pool for all of them
        return _make_pool(workers)


def _make_pool(workers: int) -> Executor:
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        # fork is cheap and works from any script; but a process with other threads (Prefect's
        # task runners) must spawn, or a child may inherit a lock held by a thread it does not have
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))
        _POOL_SIZE = workers
    return _POOL


@atexit.register
def _shutdown() -> None:
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)


def ocr_pages(path: Path, pages: list[tuple[int, float, float]], options: OcrOptions) -> list[OcrPage]:
    """OCR the given (index, width, height) pages of `path`, in page order."""
    if not pages:
        return []
    workers = min(options.workers or os.cpu_count() or 1, len(pages))
    if workers <= 1:
        return [ocr_page(str(path), i, w, h, options) for i, w, h in pages]
    pool = _pool(options.workers or os.cpu_count() or 1)
    futures = [pool.submit(ocr_page, str(path), i, w, h, options) for i, w, h in pages]
    return [f.result() for f in futures]
