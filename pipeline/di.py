"""DI files (electronic letters, docs/letter.md#electronic-letters) as files of the pipeline.

A DI file is one file result, like a PDF: its letter first, then the documents of the
attachment PDFs that its 附件 names and that lie beside it (read like any PDF, their pages
counted within their own file). The archive stores them as documents of the same letter
(the DI file's, in that order) and keeps each attachment's original too, as a file of its
own that those documents appeared in (`DIResult.parts`, pipeline/rows.py). A folder's PDFs
that a DI file in it names as its attachments are read with that DI file only, not again on
their own (`attachments_beside`); the inbox moves them with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import PrivateAttr

from pipeline.reader import sha256_of
from schemas.letter import FileResult

if TYPE_CHECKING:
    from pipeline.scan import OcrOptions

log = logging.getLogger(__name__)

DI_SUFFIX = ".di"
TEXT_SOURCE = "di"  # FileResult.text_source of a DI file: no page was read


@dataclass(frozen=True)
class Part:
    """An attachment file read with its DI file: `count` documents of the result from index `first`."""

    path: Path
    sha256: str
    pages: int | None
    text_source: str | None
    first: int
    count: int


class DIResult(FileResult):
    """A DI file's result; `parts` says which of its documents came from which attachment file
    (not part of the JSON: `gongwen extract` prints a DI file as any other file)."""

    _parts: list[Part] = PrivateAttr(default_factory=list)

    @property
    def parts(self) -> list[Part]:
        return self._parts


def is_di(path: Path) -> bool:
    return path.suffix.lower() == DI_SUFFIX


def extract_di(path: Path, ocr: OcrOptions | None) -> DIResult:
    """A DI file's result: its letter, then its attachment PDFs' documents; `error` when it is refused."""
    from extractors.di import DIError, read_di_file
    from pipeline.extract import extract_file

    result = DIResult(file=str(path))
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
        if read.error or read.sha256 is None:
            log.warning("%s: attachment %s not read: %s", path, attachment.name, read.error)
            continue
        result.parts.append(Part(attachment, read.sha256, read.pages, read.text_source, len(result.documents),
                                 len(read.documents)))
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
