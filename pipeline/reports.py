"""What ingesting did, file by file (`FileReport`) and for a batch (`IngestSummary`).

A file's report is made where its fate is decided: by planning its rows (`pipeline.rows`:
stored, a duplicate, linked letters, new versions) or before it is read at all
(`pipeline.store.ingest_file`: a file the archive already holds); `gongwen ingest`, the flows
and the inbox read it. Light (no database, no pydantic), so each of them can import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from schemas.letter import FileResult

FileStatus = Literal["stored", "duplicate", "failed", "quarantined"]


@dataclass
class FileReport:
    """What ingesting one file did: `stored` (new), `duplicate`, `failed` or `quarantined`."""

    path: str
    status: FileStatus
    sha256: str | None = None
    file_id: int | None = None
    letters: int = 0
    forms: int = 0
    other: int = 0
    linked: int = 0  # documents of this file already in the archive (another copy of them)
    versions: int = 0  # letters already in the archive with other text here: stored as a new version
    error: str | None = None
    restored: bool = False  # a duplicate whose lost original this copy put back (see pipeline/fsck.py)
    documents: list[int] = field(default_factory=list)  # ids of this file's documents, in file order

    def to_json(self) -> dict[str, Any]:
        """The report as JSON; the input is `file`, as in `gongwen extract --json`."""
        data = asdict(self)
        return {"file": data.pop("path"), **data}


def classify_failure(result: FileResult) -> FileStatus:
    """`quarantined` when the file did not open as a PDF at all (no page count), else `failed`.

    A PDF that opened but gave no documents (no text, OCR or extractor trouble) may do
    better with a later gongwen, so it is tried again; a file that could not be read at
    the moment (an OS error) too.
    """
    error = result.error or ""
    if result.pages is None and not error.startswith("cannot read file"):
        return "quarantined"
    return "failed"


@dataclass
class IngestSummary:
    """The end of a batch: how many files were new, duplicate, failed; how many documents."""

    stored: int = 0
    duplicate: int = 0
    failed: int = 0
    quarantined: int = 0
    letters: int = 0
    forms: int = 0
    other: int = 0
    linked: int = 0
    versions: int = 0

    @property
    def files(self) -> int:
        """Every file has one status: the files are their sum, never counted apart."""
        return self.stored + self.duplicate + self.failed + self.quarantined

    @classmethod
    def of(cls, reports: Sequence[FileReport]) -> IngestSummary:
        s = cls()
        for r in reports:
            setattr(s, r.status, getattr(s, r.status) + 1)
            s.letters += r.letters
            s.forms += r.forms
            s.other += r.other
            s.linked += r.linked
            s.versions += r.versions
        return s

    def line(self) -> str:
        return (
            f"{self.files} files: {self.stored} new, {self.duplicate} duplicate, {self.failed} failed, "
            f"{self.quarantined} quarantined; {self.letters} letters, {self.forms} forms, {self.other} other "
            f"({self.linked} already in the archive, linked; {self.versions} new version"
            f"{'s' if self.versions != 1 else ''} of stored letters)"
        )

    def to_json(self) -> dict[str, int]:
        return {"files": self.files, **asdict(self)}
