"""`gongwen fsck`: do the archive's rows and its file store agree?

Ingest makes an original durable before the row naming it commits (pipeline/filestore.py), so
a crash leaves at worst an original no row names (the copy was made, the transaction
never committed) or a half-written `.incoming-` copy. Other accidents (a store restored
from an older backup, a file deleted by hand, a disk that lied) can leave a row whose
original is missing or has the wrong size. `fsck` lists both; with `fix`:

- an original without a row is moved aside to `<store>/.orphaned/` (never deleted: it may
  be the only copy of a letter; ingest it again to store it);
- a row whose original is missing or damaged gets `store_path` NULL (a damaged file is moved
  aside too), so the next ingest of that PDF copies the original back (`restored`).

It holds the archive's write lock throughout, so an ingest running at the same time
waits, and nothing it is in the middle of storing is taken for an orphan.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from pipeline.db import Archive
from pipeline.filestore import INCOMING, fsync_dir

ORPHANED = ".orphaned"


@dataclass
class MissingOriginal:
    """A file row whose original is not in the store as it should be."""

    file_id: int
    sha256: str
    path: str  # where the PDF was ingested from: ingest it again to restore the original
    store_path: str
    problem: str  # "missing", or "size N, expected M"


@dataclass
class FsckReport:
    store: str
    rows: int = 0  # file rows that name an original
    originals: int = 0  # files in the store
    orphans: list[str] = field(default_factory=list)  # store paths no row names
    missing: list[MissingOriginal] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # with fix: orphans (and damaged files) moved aside, where to
    marked: list[int] = field(default_factory=list)  # with fix: file ids whose store_path was cleared

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "clean": self.clean}

    def lines(self) -> list[str]:
        out = [f"{self.store}: {self.originals} originals, {self.rows} file rows"]
        out += [f"orphan   {p}  (no row names it)" for p in self.orphans]
        out += [f"missing  #{m.file_id} {m.store_path}  {m.problem}; from {m.path}" for m in self.missing]
        out += [f"moved    {p}" for p in self.moved]
        if self.marked:
            out.append(f"marked   {len(self.marked)} file rows: ingest their PDFs again to restore the originals")
        if self.clean:
            out.append("clean: every row has its original and every original its row")
        elif not self.moved and not self.marked:
            out.append(f"{len(self.orphans)} orphans, {len(self.missing)} missing: gongwen fsck --fix repairs what it can")
        return out


def _originals(root: Path) -> dict[str, int]:
    """Store path → size of every file in the store's `ab/` folders (leftover copies included)."""
    found: dict[str, int] = {}
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        for entry in folder.iterdir():
            if entry.is_file():
                found[f"{folder.name}/{entry.name}"] = entry.stat().st_size
    return found


def _move_aside(root: Path, rel: str) -> str:
    target = root / ORPHANED / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while target.exists():  # never overwrite what an earlier fsck moved aside
        target = target.with_name(f"{Path(rel).name}.{n}")
        n += 1
    os.replace(root / rel, target)
    fsync_dir(target.parent)
    fsync_dir((root / rel).parent)
    return str(target)


def fsck(archive: Archive, fix: bool = False) -> FsckReport:
    """Compare the file rows with the store; with `fix`, repair what can be (see the module)."""
    root = archive.files
    report = FsckReport(str(root.resolve()))
    with archive.write() as conn:
        rows = conn.execute(
            text("SELECT id, sha256, path, store_path, size FROM files WHERE store_path IS NOT NULL ORDER BY id")
        ).all()
        originals = _originals(root)
        report.rows, report.originals = len(rows), len(originals)
        named = set()
        for file_id, sha, path, store_path, size in rows:
            named.add(store_path)
            actual = originals.get(store_path)
            if actual is None:
                report.missing.append(MissingOriginal(file_id, sha, path, store_path, "missing"))
            elif size is not None and actual != size:
                report.missing.append(MissingOriginal(file_id, sha, path, store_path, f"size {actual}, expected {size}"))
        report.orphans = sorted(p for p in originals if p not in named or p.split("/", 1)[1].startswith(INCOMING))
        if not fix:
            return report
        for rel in report.orphans:
            report.moved.append(_move_aside(root, rel))
        for m in report.missing:
            if m.store_path in originals:  # there, but damaged
                report.moved.append(_move_aside(root, m.store_path))
            conn.execute(text("UPDATE files SET store_path = NULL WHERE id = :id"), {"id": m.file_id})
            report.marked.append(m.file_id)
    return report
