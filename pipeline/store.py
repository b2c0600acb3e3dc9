"""Store what `gongwen extract` returns: one file's `FileResult` → archive rows, in one transaction.

- Idempotent: a file is known by its sha256; the same file again stores nothing new and is
  not extracted again (`ingest_file` hashes it before extracting it, and extraction takes
  that hash: one hash to know a file; its copy into the store is checked as it is written).
- Atomic: the file row, its documents and every child row commit together or not at all,
  so a crash mid-file leaves nothing and the next run picks the file up again.
- The original PDF is kept in the content-addressed store (`pipeline.filestore`) before the
  rows that name it commit; a DI file's attachment PDFs too, each under a files row of its own.

A file whose extraction failed is recorded with its error: `quarantined` when it is no
usable PDF (corrupt, encrypted, empty, not a PDF: not tried again), `failed` otherwise (a
PDF that gave no documents: tried again on the next run, in case gongwen has improved).

How, in three steps, so that a file costs few round trips (the target is 500 letters/s,
bench/archive.py): read what the new rows depend on and reserve ids, under the archive's
write lock (`pipeline.writer`); plan every row in Python, plain data (`pipeline.rows`); write
them (`pipeline.writer`). `store_results` does the same for many files in one transaction,
for bulk loads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import select, text

from pipeline.db import Archive
from pipeline.extract import extract_file
from pipeline.filestore import keep_original
from pipeline.reader import sha256_of
from pipeline.reports import FileReport, FileStatus
from pipeline.rows import Rows, Wanted, attachment_parts, plan_file, resolve_citations
from pipeline.writer import writer_for
from schemas.letter import FileResult
from schemas.orm import Appearance, StoredFile

log = logging.getLogger(__name__)


def _store(archive: Archive, files: Sequence[tuple[FileResult, Path | None]]) -> list[FileReport]:
    """Store `files` in one transaction (each whole or not at all, with all the others)."""
    organisations: dict[str, int] = archive.cache.setdefault("organisations", {})
    writer = writer_for(archive)
    results = [r for r, _ in files]
    wanted = Wanted.of(results)
    with archive.write() as conn:
        known = writer.read(conn, wanted, organisations)
        rows = Rows()
        reports: list[FileReport] = []
        for result, source in files:
            values: dict[str, Any] = {}
            parts: dict[str, dict[str, Any]] = {}
            seen = known.files.get(cast(str, result.sha256))
            if source is not None and source.is_file() and (seen is None or seen[1] == "failed"):
                values = {"store_path": keep_original(source, cast(str, result.sha256), archive.files),
                          "size": source.stat().st_size}
                for part in attachment_parts(result):  # a DI file's attachments: their originals too
                    if known.files.get(part.sha256, (0, "failed"))[1] == "failed" and part.path.is_file():
                        parts[part.sha256] = {"store_path": keep_original(part.path, part.sha256, archive.files),
                                              "size": part.path.stat().st_size}
            reports.append(plan_file(result, values, known, rows, archive.dialect, parts))
        resolve_citations(rows, known)
        writer.write(conn, rows)
    organisations.update(rows.new_organisations)  # committed now
    return reports


def store_result(archive: Archive, result: FileResult, source: Path | None) -> FileReport:
    """Store one extracted file in one transaction; `source` is the PDF to keep (None: keep none)."""
    if result.sha256 is None:  # the file could not even be read: nothing to know it by
        return FileReport(result.file, "failed", error=result.error or "file could not be read")
    return _store(archive, [(result, source)])[0]


def store_results(
    archive: Archive, files: Sequence[tuple[FileResult, Path | None]], batch: int = 200
) -> list[FileReport]:
    """Store many extracted files, `batch` whole files per transaction (bulk loads).

    Each file is still all or nothing: a transaction holds whole files only, and a crash
    leaves the files of the unfinished batch unstored, to be picked up by the next run.
    When a batch fails, its files are stored again one per transaction, so one bad file
    is reported (status `failed`, its error) without holding back the others.
    """
    reports: list[FileReport] = []
    readable = [(r, s) for r, s in files if r.sha256 is not None]
    unreadable = {id(r) for r, s in files if r.sha256 is None}
    by_file: dict[int, FileReport] = {}
    for start in range(0, len(readable), max(1, batch)):
        chunk = readable[start : start + max(1, batch)]
        try:
            done = _store(archive, chunk)
        except Exception:
            log.exception("a batch of %d files failed; storing them one by one", len(chunk))
            done = []
            for result, source in chunk:
                try:
                    done.append(store_result(archive, result, source))
                except Exception as exc:
                    done.append(FileReport(result.file, "failed", result.sha256, error=f"store failed: {exc}"))
        for (result, _), report in zip(chunk, done, strict=True):
            by_file[id(result)] = report
    for result, _ in files:
        if id(result) in unreadable:
            reports.append(FileReport(result.file, "failed", error=result.error or "file could not be read"))
        else:
            reports.append(by_file[id(result)])
    return reports


def restore_original(archive: Archive, file_id: int, source: Path, sha256: str) -> bool:
    """Keep `source` as the original of file row `file_id` if the row has none; True if it did."""
    with archive.write() as conn:
        missing = conn.execute(
            text("SELECT 1 FROM files WHERE id = :id AND store_path IS NULL"), {"id": file_id}
        ).first()
        if missing is None:
            return False
        rel = keep_original(source, sha256, archive.files)
        conn.execute(
            text("UPDATE files SET store_path = :p, size = :s WHERE id = :id"),
            {"p": rel, "s": source.stat().st_size, "id": file_id},
        )
    return True


class Extract(Protocol):
    """How `ingest_file` reads a file (`extract_file`, text layers only, a test's cache), given the
    sha256 it has already computed, so that the file is not hashed a second time."""

    def __call__(self, path: Path, *, sha256: str | None = None) -> FileResult: ...


def ingest_file(archive: Archive, path: Path, extract: Extract = extract_file) -> FileReport:
    """Extract and store one file, unless the archive already holds it (by sha256)."""
    try:
        sha = sha256_of(path) if path.is_file() else None
    except OSError as exc:
        return FileReport(str(path), "failed", error=f"cannot read file: {exc.strerror or exc}")
    if sha is not None:
        with archive.session() as session:
            known = session.execute(
                select(StoredFile.id, StoredFile.status, StoredFile.error, StoredFile.store_path).where(
                    StoredFile.sha256 == sha
                )
            ).one_or_none()
            documents = [] if known is None else list(
                session.scalars(
                    select(Appearance.document_id).where(Appearance.file_id == known.id).order_by(Appearance.position)
                )
            )
        if known is not None and known.status != "failed":
            status: FileStatus = "duplicate" if known.status == "stored" else "quarantined"
            report = FileReport(str(path), status, sha, known.id, error=known.error, documents=documents)
            if known.store_path is None:  # its original was lost (gongwen fsck --fix): this copy restores it
                report.restored = restore_original(archive, known.id, path, sha)
            return report
    result = extract(path, sha256=sha)
    if result.sha256 is None and sha is not None:
        result.sha256 = sha
    return store_result(archive, result, path)
