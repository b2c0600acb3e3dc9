"""Stage 1b: pages without a usable text layer → OCR'd words, one page per process.

The OCR engines run single-threaded (GONGWEN.md §8: Tesseract is three times slower with
its own threading), so pages go to a pool of worker processes sized to the cores. The
pool lives as long as the process; its initializer loads the engine's models and the
orientation model once per worker, as soon as the worker starts, so a batch pays the
loading once per worker and no page waits for it. A single page in a process with no
pool yet is read in-process, where a pool would only add start-up time; once a pool
runs, every page goes to it (the main process never loads a second copy of the models).
A worker renders and reads one page at a time, so memory is bounded by workers × one
page image.
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
    worker: int = 0  # the pid of the process that read the page
    model_loads: int = 0  # how many times that process had loaded models (engines.model_loads)


def warm_up(engine: str | None = None) -> None:
    """Load `engine`'s models and the orientation model in this process (the pool's initializer).

    Never raises: a worker that cannot load reports it on each page it is given.
    """
    try:
        import cv2  # noqa: F401  (imported by image preparation: pay for it before the first page)

        from pipeline.ocr import get_engine
        from pipeline.ocr.imageprep import load_orientation_model

        load = getattr(get_engine(engine), "load", None)
        if callable(load):
            load()
        load_orientation_model()
    except Exception:
        log.exception("OCR warm-up failed in process %d", os.getpid())


def ocr_page(path: str, index: int, width: float, height: float, options: OcrOptions) -> OcrPage:
    """Render, prepare and read one page. Never raises: a failure is the page's `error`."""
    try:
        from pipeline.ocr import ocr_image
        from pipeline.ocr.engines import model_loads
        from pipeline.ocr.imageprep import render_page

        image = render_page(path, index, dpi=options.dpi)
        result = ocr_image(image, dpi=options.dpi, page_width_pt=width, page_height_pt=height, engine=options.engine)
        return OcrPage(
            index,
            result.words,
            result.width,
            result.height,
            result.engine,
            list(result.notes),
            worker=os.getpid(),
            model_loads=model_loads(),
        )
    except Exception as exc:  # the page is reported, the batch goes on
        log.exception("OCR failed on page %d of %s", index + 1, path)
        error = f"{type(exc).__name__}: {exc}"
        return OcrPage(index, [], width, height, options.engine or "default", error=error, worker=os.getpid())


_POOL: Executor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def _workers(options: OcrOptions) -> int:
    return options.workers or os.cpu_count() or 1


def start_pool(options: OcrOptions = DEFAULT_OCR) -> None:
    """Start the OCR workers now, so that they load their models while this process does other work."""
    if _workers(options) > 1:
        _pool(_workers(options), options.engine)


def pool_running() -> bool:
    return _POOL is not None


def _pool(workers: int, engine: str | None = None) -> Executor:
    with _POOL_LOCK:  # flows ingest several files from threads: one pool for all of them
        return _make_pool(workers, engine)


def _make_pool(workers: int, engine: str | None) -> Executor:
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        # fork is cheap and works from any script; but a process with other threads (Prefect's
        # task runners) must spawn, or a child may inherit a lock held by a thread it does not have
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        # Another engine asked for later loads lazily in each worker, once (get_engine caches it).
        _POOL = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(method),
            initializer=warm_up,
            initargs=(engine,),
        )
        _POOL_SIZE = workers
        # the executor starts its processes on submits (all on the first when forking, one
        # per submit when spawning): start them now, so that they load the models while the
        # caller goes on
        for _ in range(workers):
            _POOL.submit(os.getpid)
    return _POOL


@atexit.register
def _shutdown() -> None:
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)


def ocr_pages(path: Path, pages: list[tuple[int, float, float]], options: OcrOptions) -> list[OcrPage]:
    """OCR the given (index, width, height) pages of `path`, in page order."""
    if not pages:
        return []
    workers = _workers(options)
    if workers <= 1 or (len(pages) == 1 and _POOL is None):
        return [ocr_page(str(path), i, w, h, options) for i, w, h in pages]
    pool = _pool(workers, options.engine)
    futures = [pool.submit(ocr_page, str(path), i, w, h, options) for i, w, h in pages]
    return [f.result() for f in futures]
