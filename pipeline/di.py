"""DI files (electronic letters, docs/letter.md#electronic-letters) as files of the pipeline.

A DI file is one file result, like a PDF: its letter first, then the documents of the
attachment PDFs that its 附件 names and that lie beside it (read like any PDF, their pages
counted within their own file). The attachments' own files are not kept in the archive;
the DI file is. A folder's PDFs that a DI file in it names as its attachments are read with
that DI file only, not again on their own (`attachments_beside`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.reader import sha256_of
from schemas.letter import FileResult

if TYPE_CHECKING:
    from pipeline.scan import OcrOptions

log = logging.getLogger(__name__)

DI_SUFFIX = ".di"
TEXT_SOURCE = "di"  # FileResult.text_source of a DI file: no page was read


def is_di(path: Path) -> bool:
    return path.suffix.lower() == DI_SUFFIX


def extract_di(path: Path, ocr: OcrOptions | None) -> FileResult:
    """A DI file's result: its letter, then its attachment PDFs' documents; `error` when it is refused."""
    from extractors.di import DIError, read_di_file
    from pipeline.extract import extract_file

    result = FileResult(file=str(path))
    if not path.is_file():
        result.error = "is a directory" if path.is_dir() else "file not found"
        return result
    try:
        result.sha256 = sha256_of(path)
        letter = read_di_file(path)
    except DIError as exc:
        result.error = str(exc)
        return result
    except OSError as exc:
        result.error = f"cannot read file: {exc.strerror or exc}"
        return result
    result.text_source = TEXT_SOURCE
    result.documents = [letter.document]
    for attachment in _beside(path, letter.attachment_files):
        if attachment.suffix.lower() != ".pdf":
            continue
        read = extract_file(attachment, ocr)
        if read.error:
            log.warning("%s: attachment %s not read: %s", path, attachment.name, read.error)
            continue
        result.documents.extend(read.documents)
    return result


def attachments_beside(path: Path) -> set[Path]:
    """The attachment files a DI file names that lie in its folder (none when it is no DI file gongwen reads)."""
    from extractors.di import DIError, attachment_files, parse_di

    try:
        tree = parse_di(path.read_bytes())
    except (DIError, OSError):
        return set()
    return set(_beside(path, attachment_files(tree)))


def _beside(path: Path, names: list[str]) -> list[Path]:
    """The named files in the DI file's own folder: a plain file name only (never `../x`, `/etc/x`)."""
    return [
        path.parent / name for name in names
        if name == Path(name).name and not name.startswith(".") and (path.parent / name).is_file()
    ]
