"""Uploads: PDFs and DI files dropped on the upload page (or POSTed to /api/upload) go through the ingest.

The work is `gongwen ingest`'s, not a copy of it: each file is saved under a temporary folder,
the folder expanded as the CLI expands one (`expand_paths`: a PDF that a DI file beside it
names is read with that DI file), each file extracted and stored by `pipeline.store.ingest_file`
(one transaction per file; by sha256, the same file twice is a duplicate), and the new documents
routed with the routing files, as the ingest flow's last task does. A file that is no usable PDF
is recorded as the CLI records it: `quarantined` with its reason (not tried again), `failed` when
a later run may do better. The temporary folder is removed afterwards: the archive keeps the
original of every file it stores.

The rules' dry run of a letter not in the archive keeps its one file the same way
(`one_upload`), reads it and stores nothing.

Limits (docs/web.md#upload): MAX_FILE_MB per file (a larger file is refused, unread), MAX_FILES
per request, only `.pdf` and `.di` names.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import Depends, HTTPException, Request, UploadFile

from pipeline.db import Archive
from pipeline.reports import FileReport
from pipeline.web.auth import archive_of

MAX_FILE_MB = int(os.environ.get("GONGWEN_UPLOAD_MAX_MB", "50") or 50)
MAX_FILES = 50
SUFFIXES = (".pdf", ".di")
_CHUNK = 1 << 20


@dataclass
class UploadedFile:
    """What became of one uploaded file (the name it was uploaded under, not a path on the server)."""

    name: str
    status: str  # stored, duplicate, quarantined, failed, refused (not read: too large, not a PDF/DI name), attached
    documents: list[int] = field(default_factory=list)
    file_id: int | None = None
    letters: int = 0
    forms: int = 0
    other: int = 0
    linked: int = 0
    versions: int = 0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class UploadRun:
    files: list[UploadedFile]
    # the routing step, when something new was stored: {"documents", "tasks_made", "triage"}, or why it was skipped
    routing: dict[str, int] | None = None
    routing_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"files": [f.to_json() for f in self.files], "routing": self.routing, "routing_error": self.routing_error}


def check_length(request: Request) -> None:
    """Refuse, before reading it, a request longer than MAX_FILES files of the largest size could be (413)."""
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    if length > MAX_FILES * (MAX_FILE_MB << 20) + (1 << 20):
        raise HTTPException(413, f"一次最多上傳 {MAX_FILES} 個檔案，每個不超過 {MAX_FILE_MB} MB")


LengthChecked = Depends(check_length)


def safe_name(name: str | None, n: int) -> str:
    """The uploaded file's own name, as a plain file name (no folders, no control characters)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or f"upload-{n}.pdf"


def _save(stream: BinaryIO, target: Path, limit: int) -> bool:
    """Copy `stream` to `target`; False (and nothing kept) when it is longer than `limit` bytes."""
    size = 0
    with target.open("xb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        target.unlink()
        return False
    return True


class UploadRefused(Exception):
    """An uploaded file not read at all: a name that is not .pdf or .di, or larger than the limit (one line)."""

    def __init__(self, name: str, reason: str, status: int) -> None:
        super().__init__(f"{name}：{reason}")
        self.name, self.reason, self.status = name, reason, status  # status: what an answer refusing only it says


def keep_upload(folder: Path, n: int, given: str | None, stream: BinaryIO, limit: int) -> tuple[str, Path]:
    """(the file's own name, where it is kept): the `n`th uploaded file saved in `folder` under its own name (two
    of one name both kept); UploadRefused, nothing kept, for a name not .pdf/.di or more than `limit` bytes."""
    name = safe_name(given, n)
    if not name.lower().endswith(SUFFIXES):
        raise UploadRefused(name, "只收 PDF（.pdf）與電子公文（.di）檔", 422)
    target = folder / name
    k = 1
    while target.exists():  # two uploads of one name: both kept
        target = folder / f"{Path(name).stem}-{k}{Path(name).suffix}"
        k += 1
    if not _save(stream, target, limit):
        raise UploadRefused(name, f"檔案超過 {limit >> 20} MB 上限，未讀取", 413)
    return name, target


@contextmanager
def one_upload(given: str | None, stream: BinaryIO, max_bytes: int | None = None) -> Iterator[tuple[str, Path]]:
    """One uploaded file kept in a temporary folder of its own while the block reads it, then removed (nothing
    stored): the rules' dry run of a letter not in the archive. UploadRefused as `keep_upload`."""
    with tempfile.TemporaryDirectory(prefix="gongwen-dry-run-") as tmp:
        yield keep_upload(Path(tmp), 1, given, stream, max_bytes if max_bytes is not None else MAX_FILE_MB << 20)


def _from_report(name: str, report: FileReport) -> UploadedFile:
    return UploadedFile(name, report.status, list(report.documents), report.file_id, report.letters, report.forms,
                        report.other, report.linked, report.versions, report.error)


def ingest_uploads(archive: Archive, uploads: list[tuple[str | None, BinaryIO]],
                   routing_files: tuple[str | None, str | None] = (None, None), *,
                   max_bytes: int | None = None) -> UploadRun:
    """Ingest uploaded files as `gongwen ingest FOLDER` would, then route what is new; one result per file, in order."""
    from pipeline.extract import expand_paths
    from pipeline.store import ingest_file

    limit = max_bytes if max_bytes is not None else MAX_FILE_MB << 20
    results: list[UploadedFile] = []
    saved: dict[Path, UploadedFile] = {}
    with tempfile.TemporaryDirectory(prefix="gongwen-upload-") as tmp:
        folder = Path(tmp)
        for n, (given, stream) in enumerate(uploads, 1):
            try:
                name, target = keep_upload(folder, n, given, stream, limit)
            except UploadRefused as exc:
                results.append(UploadedFile(exc.name, "refused", error=exc.reason))
                continue
            entry = UploadedFile(name, "attached", error=None)
            results.append(entry)
            saved[target] = entry
        if saved:
            for path in expand_paths([folder]):
                if (found := saved.get(path)) is not None:
                    found.__dict__.update(_from_report(found.name, ingest_file(archive, path)).__dict__)
            for entry in saved.values():
                if entry.status == "attached":
                    entry.error = "由同時上傳的電子公文（.di）一併讀入"
    run = UploadRun(results)
    if any(f.status == "stored" for f in results):
        route_new(archive, routing_files, run)
    return run


def route_new(archive: Archive, routing_files: tuple[str | None, str | None], run: UploadRun) -> None:
    """Route what is stored and not yet routed, as the ingest flow's last task does (a bad rules file: why not)."""
    from pipeline.routing.config import ConfigError, load_config
    from pipeline.routing.engine import Router
    from pipeline.routing.queue import route_archive

    try:
        config = load_config(*routing_files)
    except ConfigError as exc:
        run.routing_error = f"未分辦（規則檔有誤，修正後以 gongwen route 分辦）：{exc}"
        return
    summary = route_archive(archive, Router(config))
    run.routing = {"documents": summary.documents, "tasks_made": summary.tasks_created, "triage": summary.triage}


def ingest_request(request: Request, files: list[UploadFile], too_many: str) -> UploadRun:
    """The work of both upload endpoints (page and API): more than MAX_FILES files is 413 `too_many` (its {}
    the limit), else every file ingested and what is new routed with the application's routing files."""
    if len(files) > MAX_FILES:
        raise HTTPException(413, too_many.format(MAX_FILES))
    return ingest_uploads(archive_of(request), [(f.filename, f.file) for f in files], request.app.state.routing_files)
