"""Stage 1b: pages without a usable text layer → OCR'd words, one page per process.

The OCR engines run single-threaded (docs/reading.md#one-thread-per-engine: Tesseract is three times slower with
its own threading), so pages go to a pool of worker processes sized to the cores. The
pool is started by the first page that needs OCR (a run of born-digital files never
starts it) and lives as long as the process; its initializer loads the engine's models
and the orientation model once per worker, as soon as the worker starts, so a batch pays
the loading once per worker. A single page in a process with no pool yet is read
in-process, where a pool would only add start-up time; once a pool runs, every page goes
to it (the main process never loads a second copy of the models). A worker renders and
reads one page at a time, so memory is bounded by workers × one page image, and it exits
when the process that started it dies, even by SIGKILL (it would otherwise keep its
models in memory, orphaned).
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.page import Word

if TYPE_CHECKING:
    from pipeline.ocr import FoundLines, OcrResult

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
    found = find_page_lines(path, index, width, height, options, keep_lines=False)
    assert isinstance(found, OcrPage)
    return found


@dataclass(slots=True)
class PageLines:
    """A page whose text lines are found but not read (`find_page_lines`): the pool reads them group by group."""

    index: int
    found: FoundLines
    worker: int
    model_loads: int


def find_page_lines(
    path: str, index: int, width: float, height: float, options: OcrOptions, keep_lines: bool = True
) -> OcrPage | PageLines:
    """Render and prepare the page, read its stamp and find its text lines; read them too unless `keep_lines`.

    Lines are kept only when there are several groups of them to share out; an engine that
    cannot read in steps reads the whole page. Never raises: a failure is the page's `error`.
    """
    try:
        from pipeline.ocr import OcrResult, PaddleEngine, find_text_lines, get_engine, read_text_lines
        from pipeline.ocr.engines import model_loads
        from pipeline.ocr.imageprep import render_page

        image = render_page(path, index, dpi=options.dpi)
        found = find_text_lines(image, dpi=options.dpi, page_width_pt=width, page_height_pt=height, engine=options.engine)
        if isinstance(found, OcrResult):
            result = found
        elif keep_lines and len(found.lines.groups) > 1:
            return PageLines(index, found, os.getpid(), model_loads())
        else:
            engine = get_engine(options.engine)
            assert isinstance(engine, PaddleEngine)
            result = read_text_lines(found, engine.recognise(found.lines.crops), engine)
        return _page(index, result, os.getpid(), model_loads())
    except Exception as exc:  # the page is reported, the batch goes on
        return _failed(path, index, width, height, options, exc)


def read_lines(crops: list[Any], engine: str | None) -> list[tuple[str, float]]:
    """(text, score) of each of a page's line crops (one group of `PageLines`), in order."""
    from pipeline.ocr import PaddleEngine, get_engine

    eng = get_engine(engine)
    assert isinstance(eng, PaddleEngine)
    return eng.recognise(crops)


def _page(index: int, result: OcrResult, worker: int, loads: int) -> OcrPage:
    return OcrPage(
        index, result.words, result.width, result.height, result.engine, list(result.notes), worker=worker,
        model_loads=loads,
    )


def _failed(path: str, index: int, width: float, height: float, options: OcrOptions, exc: Exception) -> OcrPage:
    log.error("OCR failed on page %d of %s", index + 1, path, exc_info=exc)
    error = f"{type(exc).__name__}: {exc}"
    return OcrPage(index, [], width, height, options.engine or "default", error=error, worker=os.getpid())


_POOL: Executor | None = None
_POOL_SIZE = 0
_POOL_STARTS = 0
_POOL_LOCK = threading.Lock()
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def worker_count(options: OcrOptions) -> int:
    return options.workers or os.cpu_count() or 1


def start_pool(options: OcrOptions = DEFAULT_OCR) -> None:
    """Start the OCR workers now, so that they load their models while this process does other work."""
    if worker_count(options) > 1:
        _pool(worker_count(options), options.engine)


def pool_running() -> bool:
    return _POOL is not None


def pool_starts() -> int:
    """How many OCR pools this process has started: a run of born-digital files starts none."""
    return _POOL_STARTS


def _die_with(parent: int, forked_by_main_thread: bool) -> None:
    """End this worker when `parent` dies, however it dies.

    PR_SET_PDEATHSIG fires when the *thread* that forked the worker ends, so it is set only
    when that thread is the main one (a pool started from a flow's task thread outlives the
    thread); the watchdog thread covers every other case, within a second.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (flows turn it into KeyboardInterrupt)
    if forked_by_main_thread and sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="ocr-parent-watch", daemon=True).start()


def _start_worker(parent: int, forked_by_main_thread: bool, engine: str | None) -> None:
    """The pool's initializer: tie the worker to its parent, then load the models."""
    _die_with(parent, forked_by_main_thread)
    warm_up(engine)


def _pool(workers: int, engine: str | None = None) -> Executor:
    with _POOL_LOCK:  # flows ingest several files from threads: one pool for all of them
        return _make_pool(workers, engine)


def _make_pool(workers: int, engine: str | None) -> Executor:
    global _POOL, _POOL_SIZE, _POOL_STARTS
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=False, cancel_futures=True)
        # fork is cheap and works from any script; but a process with other threads (Prefect's
        # task runners) must spawn, or a child may inherit a lock held by a thread it does not have
        method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
        # Another engine asked for later loads lazily in each worker, once (get_engine caches it).
        import multiprocessing  # here: `gongwen` imports this module for OcrOptions, every command
        from concurrent.futures import ProcessPoolExecutor

        _POOL = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(os.getpid(), threading.current_thread() is threading.main_thread(), engine),
        )
        _POOL_SIZE = workers
        _POOL_STARTS += 1
        # the executor starts its processes on submits (all on the first when forking, one
        # per submit when spawning), in this thread: start them now, so that they load the
        # models while the caller goes on
        for _ in range(workers):
            _POOL.submit(os.getpid)
    return _POOL


@atexit.register
def _shutdown() -> None:
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)


Pages = list[tuple[int, float, float]]  # (0-based index, width, height) of the pages to OCR


class PendingOcr:
    """One file's pages as the pool reads them; pages read in this process are read when asked for.

    With `split`, a page's text lines go back to the pool in groups once they are found, so
    that one dense page is read by every worker instead of one (a lone letter in a fresh
    process: its first page is most of the OCR).
    """

    def __init__(
        self, path: Path, pages: Pages, options: OcrOptions, futures: list[Future[Any]] | None, split: bool = False
    ) -> None:
        self.path, self.pages, self.options, self._futures, self._split = path, pages, options, futures, split

    def unread(self) -> int:
        """Pages the pool has not finished: while there are any, this process has time for other work."""
        return 0 if self._futures is None else sum(not f.done() for f in self._futures)

    def result(self) -> list[OcrPage]:
        """The pages, in page order."""
        if self._futures is None:
            return [ocr_page(str(self.path), i, w, h, self.options) for i, w, h in self.pages]
        if not self._split:
            return [f.result() for f in self._futures]
        groups: dict[int, list[Future[list[tuple[str, float]]]]] = {}
        for future in as_completed(self._futures):  # each page's groups sent out as soon as they are found
            lines = future.result()
            if isinstance(lines, PageLines):
                crops = lines.found.lines.crops
                groups[lines.index] = [
                    _pool(worker_count(self.options), self.options.engine).submit(
                        read_lines, [crops[i] for i in group], self.options.engine
                    )
                    for group in lines.found.lines.groups
                ]
        return [self._put_together(f.result(), groups) for f in self._futures]

    def _put_together(self, lines: OcrPage | PageLines, groups: dict[int, list[Future[Any]]]) -> OcrPage:
        if isinstance(lines, OcrPage):
            return lines
        from pipeline.ocr import PaddleEngine, get_engine, read_text_lines

        found = lines.found
        _, width, height = next(p for p in self.pages if p[0] == lines.index)
        texts: list[tuple[str, float]] = [("", 0.0)] * len(found.lines.crops)
        try:
            for group, future in zip(found.lines.groups, groups[lines.index], strict=True):
                for i, text in zip(group, future.result(), strict=True):
                    texts[i] = text
            engine = get_engine(self.options.engine)
            assert isinstance(engine, PaddleEngine)
            result = read_text_lines(found, texts, engine)
        except Exception as exc:  # the page is reported, the batch goes on
            return _failed(str(self.path), lines.index, width, height, self.options, exc)
        return _page(lines.index, result, lines.worker, lines.model_loads)


def submit_pages(path: Path, pages: Pages, options: OcrOptions, *, batch: bool = False) -> PendingOcr:
    """Send `pages` of `path` to the pool; `batch`: more files follow (even a lone page starts the pool).

    A file read alone has its pages' lines shared out among the workers (`PendingOcr`); in a
    batch the other files keep the workers busy, and a page is read where it is found.
    """
    workers = worker_count(options)
    if not pages or workers <= 1 or (len(pages) == 1 and _POOL is None and not batch):
        return PendingOcr(path, pages, options, None)
    pool = _pool(workers, options.engine)
    job = ocr_page if batch else find_page_lines
    return PendingOcr(
        path, pages, options, [pool.submit(job, str(path), i, w, h, options) for i, w, h in pages], split=not batch
    )


def ocr_pages(path: Path, pages: Pages, options: OcrOptions) -> list[OcrPage]:
    """OCR the given (index, width, height) pages of `path`, in page order."""
    return submit_pages(path, pages, options).result()
