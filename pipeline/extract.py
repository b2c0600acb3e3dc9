"""Wires the stages for one file: read → lay out → segment → extract each document.

A file that cannot be read gives a `FileResult` with `error` set and no documents; the
caller goes on with the next file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from extractors.form import extract_form
from extractors.letter import extract_letter
from extractors.other import extract_other
from extractors.segmentation import Span, segment
from pipeline.layout import build_page
from pipeline.reader import InputError, read_pages, sha256_of
from pipeline.scan import DEFAULT_OCR, OcrOptions, start_pool
from schemas.letter import Document, FileResult
from schemas.page import Page

log = logging.getLogger(__name__)


def extract_span(pages: list[Page], span: Span) -> Document:
    chosen = [p for p in pages if span.first <= p.number <= span.last]
    lines = [ln for p in chosen for ln in p.lines]
    bounds = (span.first, span.last)
    if span.kind == "letter":
        return extract_letter(lines, bounds, chosen[0].width)
    if span.kind == "form":
        return extract_form(lines, bounds)
    return extract_other(lines, bounds)


def extract_pages(pages: list[Page]) -> list[Document]:
    return [extract_span(pages, span) for span in segment(pages)]


def extract_file(path: Path, ocr: OcrOptions | None = DEFAULT_OCR) -> FileResult:
    """`ocr=None` reads text layers only (a scanned page then stays empty)."""
    result = FileResult(file=str(path))
    try:
        result.sha256 = sha256_of(path) if path.is_file() else None
        raw = read_pages(path, ocr)
    except InputError as exc:
        result.error = str(exc)
        return result
    except OSError as exc:
        result.error = f"cannot read file: {exc.strerror or exc}"
        return result
    pages = [build_page(r) for r in raw]
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
        log.exception("extraction failed for %s", path)
        result.error = f"extraction failed: {type(exc).__name__}: {exc}"
        result.documents = []
    return result


def extract_files(paths: Iterable[Path], ocr: OcrOptions | None = DEFAULT_OCR) -> Iterator[FileResult]:
    """`extract_file` over `paths`, results in order, the next file read while this one finishes.

    Scanned pages go to the OCR pool file by file: alone, a one-page letter keeps one worker
    busy and the others idle, and every worker waits while this process lays out and extracts.
    Two files in flight keep the pool fed. The pool is started (forked) before the threads are.
    """
    todo = list(paths)
    if len(todo) <= 1:
        yield from (extract_file(p, ocr) for p in todo)
        return
    from concurrent.futures import ThreadPoolExecutor

    if ocr is not None:
        start_pool(ocr)
    threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="extract")
    try:
        yield from threads.map(lambda p: extract_file(p, ocr), todo)
    finally:  # a caller that stops early does not wait for the files it will not see
        threads.shutdown(wait=True, cancel_futures=True)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Folders stand for the PDFs inside them (recursively), in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() == ".pdf"))
        else:
            out.append(p)
    return out


def public_json(result: FileResult) -> dict[str, Any]:
    data = result.model_dump(mode="json")
    if result.error:
        return {"file": result.file, "sha256": result.sha256, "pages": result.pages, "documents": [], "error": result.error}
    return data
