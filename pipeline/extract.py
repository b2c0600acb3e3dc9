"""The pipeline for one file, every stage called from here and data flowing one way:

    read (pipeline/reader.py: text layers → RawPage) → judge (pipeline/textlayer.py: is a page's text
    layer any use?) → OCR (pipeline/scan.py, pipeline/ocr/: the pages judged useless, in a process pool)
    → layout (pipeline/layout.py: RawPage → Page of lines) → clean (pipeline/ocrtext.py: OCR'd lines) → segment
    (extractors/segmentation.py: pages → documents) → extract (extractors/letter.py, form.py, other.py).

A file that cannot be read gives a `FileResult` with `error` set and no documents; the
caller goes on with the next file. DI files (electronic letters) take their own way (pipeline/di.py).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.di import DI_SUFFIX, attachments_beside, extract_di, is_di
from pipeline.layout import build_page
from pipeline.ocrtext import clean_page
from pipeline.reader import InputError, read_text_layers, sha256_of
from pipeline.scan import (
    DEFAULT_OCR,
    OcrOptions,
    PendingOcr,
    pool_running,
    start_pool,
    submit_pages,
    worker_count,
)
from pipeline.textlayer import assess
from schemas.letter import Document, FileResult
from schemas.page import Page, RawPage

if TYPE_CHECKING:
    from extractors.segmentation import Span

# The extractors (spaCy, the gazetteer) are imported on first use, not with this module: a
# fresh `gongwen extract` of a scan starts the OCR workers first, and imports them while the
# workers load their models and read (`_prepare_extractors`).

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Reading:
    """A file's pages as read from its text layers, while the OCR pool reads the others."""

    pages: list[RawPage]
    ocr: PendingOcr | None = None

    def unread(self) -> int:
        """Pages still with the OCR pool."""
        return 0 if self.ocr is None else self.ocr.unread()

    def result(self) -> list[RawPage]:
        """All pages, the OCR'd ones filled in (waits for them)."""
        if self.ocr is not None:
            for result in self.ocr.result():
                raw = self.pages[result.index]
                raw.words = result.words
                raw.width, raw.height = result.width, result.height
                raw.source = f"ocr:{result.engine}" if result.error is None else f"ocr failed: {result.error}"
                raw.notes = result.notes
            self.ocr = None
        return self.pages


def read_pages(path: Path, ocr: OcrOptions | None = DEFAULT_OCR) -> list[RawPage]:
    """All pages of `path` as words, OCR'd where the text layer is no use; InputError for files that are not
    readable PDFs. With `ocr` None a page without a usable text layer stays empty. Each page records its source.
    """
    return start_reading(path, ocr).result()


def start_reading(path: Path, ocr: OcrOptions | None = DEFAULT_OCR, *, batch: bool = False) -> Reading:
    """Read and judge each page; `read_pages`, returning once the pages to OCR are sent to the pool.

    The pool is started by the first page that needs OCR when more pages or files follow (`batch`, or
    a page after it), so that its workers load their models while this process reads on; a one-page
    scan is read in this process, with no pool to start.
    """
    pages: list[RawPage] = []
    to_ocr: list[tuple[int, float, float]] = []
    start_at_next_page = False
    for raw in read_text_layers(path):
        if start_at_next_page and ocr is not None:
            start_pool(ocr)
            start_at_next_page = False
        verdict = assess("".join(w.text for w in raw.words), raw.image_cover)
        if not verdict.use_text:
            if ocr is not None and not to_ocr:
                if batch or raw.number < raw.file_pages:
                    start_pool(ocr)
                else:
                    start_at_next_page = True
            to_ocr.append((raw.number - 1, raw.width, raw.height))
            raw.words, raw.rules, raw.source = [], [], f"none ({verdict.reason})"
        pages.append(raw)
    if ocr is None or not to_ocr:
        return Reading(pages)
    return Reading(pages, submit_pages(path, to_ocr, ocr, batch=batch))


def extract_span(pages: list[Page], span: Span) -> Document:
    from extractors.form import extract_form
    from extractors.letter import extract_letter
    from extractors.other import extract_other

    chosen = [p for p in pages if span.first <= p.number <= span.last]
    lines = [ln for p in chosen for ln in p.lines]
    bounds = (span.first, span.last)
    if span.kind == "letter":
        return extract_letter(lines, bounds, chosen[0].width, {p.number: (p.width, p.height) for p in chosen})
    if span.kind == "form":
        return extract_form(lines, bounds)
    return extract_other(lines, bounds)


def extract_pages(pages: list[Page]) -> list[Document]:
    from extractors.segmentation import segment

    return [extract_span(pages, span) for span in segment(pages)]


def _prepare_extractors() -> None:
    """Import the extractors and build the spaCy pipeline now: this process is only waiting for OCR."""
    import extractors.form
    import extractors.letter
    import extractors.other
    import extractors.segmentation  # noqa: F401
    from extractors.nlp import build_nlp

    build_nlp()


def _start(
    path: Path, ocr: OcrOptions | None, batch: bool, sha256: str | None = None
) -> FileResult | tuple[FileResult, Reading]:
    """Read `path`'s text layers and send its scanned pages to OCR; a file that cannot be read is its result."""
    if is_di(path):  # an electronic letter: read whole now (its attachment PDFs too)
        return extract_di(path, ocr)
    result = FileResult(file=str(path), sha256=sha256)
    try:
        if sha256 is None:
            result.sha256 = sha256_of(path) if path.is_file() else None
        return result, start_reading(path, ocr, batch=batch)
    except InputError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"cannot read file: {exc.strerror or exc}"
    return result


def _finish(started: FileResult | tuple[FileResult, Reading]) -> FileResult:
    """Wait for the OCR'd pages, then lay out, segment and extract."""
    if isinstance(started, FileResult):
        return started
    result, reading = started
    if reading.unread():
        _prepare_extractors()
    raw = reading.result()
    pages = [clean_page(build_page(r)) for r in raw]
    result.pages = len(pages)
    result.text_source = "+".join(dict.fromkeys(r.source for r in raw))
    result.page_sources = [r.source for r in raw]
    if not any(p.lines for p in pages):
        failed = [r.source for r in raw if r.source.startswith("ocr failed")]
        result.error = failed[0] if failed else "no text found on any page (blank pages, or OCR found nothing)"
        return result
    try:
        result.documents = extract_pages(pages)
    except Exception as exc:  # an extractor bug must not stop the batch; the file is reported
        log.exception("extraction failed for %s", result.file)
        result.error = f"extraction failed: {type(exc).__name__}: {exc}"
        result.documents = []
    return result


def extract_file(path: Path, ocr: OcrOptions | None = DEFAULT_OCR, sha256: str | None = None) -> FileResult:
    """`ocr=None` reads text layers only (a scanned page then stays empty); `sha256` is the file's
    hash when the caller has it (`gongwen ingest` hashes first, to skip a file it holds): not read again."""
    return _finish(_start(path, ocr, batch=False, sha256=sha256))


AHEAD = 4  # files started at most before the one being finished


def extract_files(paths: Iterable[Path], ocr: OcrOptions | None = DEFAULT_OCR) -> Iterator[FileResult]:
    """`extract_file` over `paths`, results in order; once there are scans, later files are started meanwhile.

    Alone, a one-page scan keeps one OCR worker busy and the others idle, and every worker
    waits while this process lays out and extracts: so while the OCR pool runs, files are
    started ahead (text layers read, scanned pages sent to the pool) until it has a page
    for each worker besides the file being finished. All in this thread: the pool, started
    by the first scanned page (never, for born-digital files), is forked from a process
    with no other thread.
    """
    todo = deque(paths)
    batch = len(todo) > 1
    workers = worker_count(ocr) if ocr is not None else 1
    ahead: deque[FileResult | tuple[FileResult, Reading]] = deque()
    while todo or ahead:
        while todo and (not ahead or (pool_running() and len(ahead) < AHEAD and _unread(ahead) < workers)):
            ahead.append(_start(todo.popleft(), ocr, batch))
        yield _finish(ahead.popleft())


def _unread(started: deque[FileResult | tuple[FileResult, Reading]]) -> int:
    """Pages still with the OCR pool, of the files after the first."""
    return sum(s[1].unread() for s in list(started)[1:] if isinstance(s, tuple))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Folders stand for the PDFs and DI files inside them (recursively), in a stable order; a PDF that
    a DI file beside it names as its attachment is read with that DI file (pipeline/di.py), not alone."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in (".pdf", DI_SUFFIX))
            attached = {a for q in found if is_di(q) for a in attachments_beside(q)}
            out.extend(q for q in found if q not in attached)
        else:
            out.append(p)
    return out


def public_json(result: FileResult) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    if result.error:
        return {"file": result.file, "sha256": result.sha256, "pages": result.pages, "documents": [], "error": result.error}
    return data
