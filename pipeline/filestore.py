"""The content-addressed file store: each original PDF kept once, under its sha256 (`files/ab/cdef….pdf`).

Files only, no database: the store writes an original before the rows that name it commit,
so a copy here is durable when `keep_original` returns (data and folder names fsynced) and
never under another file's name (hashed as it is written); `gongwen fsck` compares the rows
with what is here.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def store_path_for(sha256: str, suffix: str = ".pdf") -> str:
    """Where a file with this content lives inside the store: `ab/cdef….pdf`."""
    return f"{sha256[:2]}/{sha256[2:]}{suffix}"


INCOMING = ".incoming-"  # prefix of a copy being written (never a stored original)


def fsync_dir(path: Path) -> None:
    """Make the names in folder `path` (a rename, a new file or folder) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path) -> None:
    """`mkdir -p`, each new folder's name fsynced in its parent."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    try:
        path.mkdir()
    except FileExistsError:
        return
    fsync_dir(path.parent)


def keep_original(source: Path, sha256: str, root: Path) -> str:
    """Copy `source` into the store under its sha256 (once); returns the path inside the store.

    The copy is hashed as it is written and renamed into place only when it matches, so
    the store never holds a file under someone else's name. It is durable when this
    returns (data fsynced, renamed, folder fsynced): the row naming it commits after.
    """
    suffix = source.suffix.lower() if source.suffix.lower() in (".pdf", ".di") else ".bin"  # a DI file stays .di
    rel = store_path_for(sha256, suffix)
    dest = root / rel
    if dest.is_file() and dest.stat().st_size == source.stat().st_size:
        return rel
    _make_dirs(dest.parent)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=INCOMING)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise OSError(f"{source} changed while it was being ingested")
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel


def kept_original(root: Path, path: str, sha256: str, store_path: str | None) -> tuple[Path, str] | None:
    """(where a stored file's original is kept, the name it had) when it is kept inside the store at `root`.

    `path` is the name the file was ingested under; `store_path` comes from the archive and is checked
    to stay under the store."""
    if not store_path:
        return None
    root = root.resolve()
    kept = (root / store_path).resolve()
    if not kept.is_relative_to(root) or not kept.is_file():
        return None
    return kept, Path(path.replace("\\", "/")).name or f"{sha256}.pdf"
