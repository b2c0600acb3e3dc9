"""`gongwen review boxes`: where the fields were printed, for letters stored before boxes were recorded.

Migration 0010 added `field_boxes`; a letter ingested before it has none, so its letter page
shows no boxes and the review page no crops. The file store keeps every original, so each such
letter's first file (the one its boxes are about, as `pipeline.web.review` draws them) is read
again through the normal reading path (`extract_file`: text layers, OCR for scanned pages), the
letters read are matched to the stored ones by their page span in that file, and only the boxes
of the matched ones are written. The stored values, the corrections and every other row stay as
they are. One transaction per file, under the archive's write lock; a letter that has boxes is
never touched, so a second run writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from pipeline.db import Archive
from pipeline.filestore import kept_original
from pipeline.rows import box_rows
from pipeline.store import Extract
from schemas.orm import DocumentRow, FieldBoxRow, StoredFile


@dataclass
class Unread:
    """A file whose letters got no boxes: its original is not kept, or could not be read again."""

    file_id: int
    path: str  # the name it was ingested under (ingest it again to restore a missing original)
    letters: list[int]
    problem: str


@dataclass
class BoxesReport:
    letters: int = 0  # letters without boxes read from a PDF (their first file)
    files: int = 0  # originals read again
    boxed: list[int] = field(default_factory=list)  # letters given boxes
    boxes: int = 0  # field_boxes rows written
    unmatched: list[int] = field(default_factory=list)  # letters the new reading did not find at their pages
    missing: list[Unread] = field(default_factory=list)  # originals not in the file store
    failed: list[Unread] = field(default_factory=list)  # originals that could not be read

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        out = [f"missing  file #{m.file_id} {m.path}: {m.problem}" for m in self.missing]
        out += [f"failed   file #{m.file_id} {m.path}: {m.problem}" for m in self.failed]
        if self.unmatched:
            out.append(f"unmatched {len(self.unmatched)} letters not found again at their pages: "
                       + ", ".join(f"#{i}" for i in self.unmatched[:20]) + (" …" if len(self.unmatched) > 20 else ""))
        out.append(f"{self.letters} letters without boxes; {self.files} originals read again; {len(self.boxed)} letters "
                   f"given boxes ({self.boxes} boxes); {len(self.unmatched)} unmatched, {len(self.missing)} originals "
                   f"missing, {len(self.failed)} unreadable")
        return out


def _candidates(archive: Archive) -> dict[tuple[int, str, str, str | None], list[tuple[int, int, int]]]:
    """(file id, path, sha256, store path) → [(letter id, first page, last page)] of the letters without boxes,
    by the PDF they were first read from (a DI file's letter has no pages to box)."""
    from pipeline.di import is_di

    boxed = select(FieldBoxRow.document_id).where(FieldBoxRow.document_id == DocumentRow.id).exists()
    out: dict[tuple[int, str, str, str | None], list[tuple[int, int, int]]] = {}
    with archive.session() as session:
        for row in session.execute(
            select(DocumentRow.id, DocumentRow.page_first, DocumentRow.page_last, StoredFile.id.label("file_id"),
                   StoredFile.path, StoredFile.sha256, StoredFile.store_path)
            .join(StoredFile, StoredFile.id == DocumentRow.file_id)
            .where(DocumentRow.kind == "letter", DocumentRow.page_first >= 1, ~boxed)
            .order_by(StoredFile.id, DocumentRow.page_first, DocumentRow.id)
        ):
            if not is_di(Path(row.store_path or row.path)):
                out.setdefault((row.file_id, row.path, row.sha256, row.store_path), []).append(
                    (row.id, row.page_first, row.page_last))
    return out


def backfill_boxes(archive: Archive, extract: Extract,
                   on_file: Callable[[int, str, list[int]], None] | None = None) -> BoxesReport:
    """Boxes for every stored letter that has none, from its original read again by `extract`; `on_file`
    (file id, path, letters given boxes) is told after each file."""
    report = BoxesReport()
    for (file_id, path, sha256, store_path), letters in _candidates(archive).items():
        report.letters += len(letters)
        ids = [doc_id for doc_id, _, _ in letters]
        found = kept_original(archive.files, path, sha256, store_path)
        if found is None:
            problem = ("not in the file store" if store_path else "no original kept") + \
                ": ingest the PDF again to restore it (gongwen fsck)"
            report.missing.append(Unread(file_id, path, ids, problem))
            continue
        report.files += 1
        result = extract(found[0], sha256=sha256)
        if not result.documents:
            report.failed.append(Unread(file_id, path, ids, result.error or "no documents read"))
            continue
        read = {(d.pages[0], d.pages[-1]): d for d in result.documents if d.kind == "letter" and d.boxes}
        given: list[int] = []
        with archive.write() as conn:
            # under the lock: a letter given boxes since (another run, a new ingest) is left as it is
            done = set(conn.execute(select(FieldBoxRow.document_id).where(FieldBoxRow.document_id.in_(ids))).scalars())
            rows: list[dict[str, Any]] = []
            for doc_id, first, last in letters:
                if doc_id in done:
                    continue
                doc = read.get((first, last))
                if doc is None:
                    report.unmatched.append(doc_id)
                    continue
                rows.extend(box_rows(doc_id, doc))
                given.append(doc_id)
            if rows:
                conn.execute(insert(FieldBoxRow), rows)
        report.boxed.extend(given)
        report.boxes += len(rows)
        if on_file is not None:
            on_file(file_id, path, given)
    return report
