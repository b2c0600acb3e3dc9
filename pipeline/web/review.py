"""Where fields came from and the review of doubtful ones: what the letter and review pages and the API share.

The page images are the document's pages in the file it first arrived in (the file its
`boxes` were read from), rendered by pipeline/page_images.py; the review list, the
corrections and their export as goldens are pipeline/corrections.py, the service layer
`gongwen review` uses too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from fastapi.responses import FileResponse
from sqlalchemy import and_, select
from starlette.background import BackgroundTask

from pipeline.corrections import (
    REVIEW_LIMIT,
    REVIEW_THRESHOLD,
    Correction,
    ReviewItem,
    correct,
    export_goldens,
    label_of,
    review_list,
)
from pipeline.db import Archive
from pipeline.errors import CommandError
from pipeline.filestore import kept_original
from schemas.letter import Document
from schemas.orm import Appearance, DocumentRow, StoredFile

MAX_PAGE_IMAGES = 10  # pages of one document shown as images (a 60-page attachment is downloaded, not drawn)


class ConfigError(CommandError):
    """A setting of the web application that cannot be used (said at start-up, `gongwen serve` exits 2)."""

    exit_code = 2


def review_threshold(configured: float | None = None) -> float:
    """The app's threshold, else $GONGWEN_REVIEW_THRESHOLD, else 0.8; a value outside 0..1 is refused in one line."""
    if configured is not None:
        return configured
    raw = os.environ.get("GONGWEN_REVIEW_THRESHOLD", "").strip()
    if not raw:
        return REVIEW_THRESHOLD
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"GONGWEN_REVIEW_THRESHOLD={raw!r} is not a number from 0 to 1 (e.g. 0.8)")
    return value


@dataclass
class Box:
    field: str
    label: str
    anchor: str  # the element id of this box in the page (`box-subject`, `box-explanation-2`)
    x: float
    y: float
    width: float
    height: float


@dataclass
class PageImage:
    page: int
    url: str
    boxes: list[Box] = field(default_factory=list)


def _source(archive: Archive, doc_id: int) -> tuple[Path, int, int] | None:
    """The kept PDF the document was first read from, and the pages of it to show (one query)."""
    with archive.session() as session:
        row = session.execute(
            select(DocumentRow.page_first, DocumentRow.page_last, StoredFile.path, StoredFile.sha256,
                   StoredFile.store_path)
            .join(StoredFile, StoredFile.id == DocumentRow.file_id)
            .join(Appearance, and_(Appearance.file_id == StoredFile.id, Appearance.document_id == DocumentRow.id))
            .where(DocumentRow.id == doc_id)
            .limit(1)
        ).first()
    if row is None or row.page_first < 1:
        return None
    found = kept_original(archive.files, row.path, row.sha256, row.store_path)
    if found is None or found[0].suffix.lower() != ".pdf":
        return None
    last = min(row.page_last, row.page_first + MAX_PAGE_IMAGES - 1)
    return found[0], row.page_first, last


def page_images(archive: Archive, doc_id: int, doc: Document) -> list[PageImage]:
    """The document's pages (at most MAX_PAGE_IMAGES) with its fields' boxes, as the letter page draws them."""
    source = _source(archive, doc_id)
    if source is None:
        return []
    _, first, last = source
    pages = {p: PageImage(p, f"/letters/{doc_id}/pages/{p}.png") for p in range(first, last + 1)}
    for name, boxes in (doc.boxes or {}).items():
        for i, b in enumerate(boxes):
            if b.page in pages:
                x0, y0, x1, y1 = b.box
                anchor = f"box-{name}" if i == 0 else f"box-{name}-{i + 1}"
                pages[b.page].boxes.append(Box(name, label_of(name), anchor, x0, y0, x1 - x0, y1 - y0))
    return list(pages.values())


def page_image(archive: Archive, doc_id: int, page: int) -> bytes | None:
    """PNG of one page of the document; None when it has no such page shown or no kept PDF."""
    from pipeline.page_images import page_png

    source = _source(archive, doc_id)
    if source is None or not source[1] <= page <= source[2]:
        return None
    return page_png(source[0], page)


def field_image(archive: Archive, doc_id: int, name: str) -> bytes | None:
    """PNG of the page cut to where field `name` was printed (its first box); None when it has no box."""
    from pipeline.page_images import crop_png
    from pipeline.show import load_document

    with archive.session() as session:
        doc = load_document(session, doc_id, corrected=False)
    boxes = (doc.boxes or {}).get(name) if doc else None
    source = _source(archive, doc_id)
    if not boxes or source is None or not source[1] <= boxes[0].page <= source[2]:
        return None
    return crop_png(source[0], boxes[0].page, boxes[0].box)


def doubtful_fields(archive: Archive, threshold: float, limit: int = REVIEW_LIMIT) -> tuple[list[ReviewItem], int]:
    """(fields below `threshold` not yet reviewed, worst first; how many in all)."""
    with archive.session() as session:
        return review_list(session, threshold, limit)


GOLDENS_ZIP = "goldens.zip"


def goldens_zip(archive: Archive, everything: bool = False) -> tuple[Path, int] | None:
    """`gongwen review export`'s golden JSON files, each beside its PDF, zipped flat so that `gongwen eval` reads the
    unzipped folder: (the zip, alone in a temporary folder the caller removes; how many goldens). None, and nothing
    left behind, when no stored PDF holds a corrected letter (`everything`: every stored PDF, as `--all`)."""
    folder = Path(tempfile.mkdtemp(prefix="gongwen-goldens-"))
    try:
        written = export_goldens(archive, folder / "goldens", everything)
        if not written:
            shutil.rmtree(folder)
            return None
        target = folder / GOLDENS_ZIP
        with zipfile.ZipFile(target, "w") as out:
            for path in sorted((folder / "goldens").iterdir()):  # a PDF is compressed already
                out.write(path, path.name, zipfile.ZIP_STORED if path.suffix == ".pdf" else zipfile.ZIP_DEFLATED)
        shutil.rmtree(folder / "goldens")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target, len(written)


def goldens_download(archive: Archive, everything: bool = False) -> FileResponse | None:
    """The corrected letters' goldens as a zip download (the review page's link and GET /api/review/export); its
    temporary folder removed once sent. None when there is nothing to export."""
    found = goldens_zip(archive, everything)
    if found is None:
        return None
    path, count = found
    return FileResponse(path, media_type="application/zip", filename=GOLDENS_ZIP, content_disposition_type="attachment",
                        headers={"X-Gongwen-Goldens": str(count)},
                        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True))


def correct_field(archive: Archive, doc_id: int, name: str, value: str, actor: str) -> Correction:
    """`actor`'s correction of one field (CorrectionError when it cannot be taken)."""
    return correct(archive, doc_id, name, value, actor)
