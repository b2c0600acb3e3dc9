"""Store what `gongwen extract` returns: one file's `FileResult` → archive rows, in one transaction.

- Idempotent: a file is known by its sha256; the same file again stores nothing new.
- A letter that arrives again in another PDF (same 發文字號 and sender: the canonical
  organisation when the gazetteer knows it) is linked to the stored letter as another
  `appearances` row, with that copy's pages and receipt stamp, not stored twice.
- Atomic: the file row, its documents and every child row commit together or not at all,
  so a crash mid-file leaves nothing and the next run picks the file up again.
- The original PDF is kept in a content-addressed store (`files/ab/cdef….pdf`).
- The letter graph: a cited 字號 is linked to the document with that number when it is in
  the archive, whichever of the two arrives first.

A file whose extraction failed is recorded with its error: `quarantined` when it is no
usable PDF (corrupt, encrypted, empty, not a PDF: not tried again), `failed` otherwise (a
PDF that gave no documents: tried again on the next run, in case gongwen has improved).

How, in three steps, so that a file costs few round trips (the target is 500 letters/s,
bench/archive.py): read what the new rows depend on (known files, letters, 字號, organisations)
and reserve ids, under the archive's write lock (`Wanted` → `Known`); plan every row in
Python, plain data (`plan_file` → `Rows`); write them (`_SQLite`: a statement per table;
`_PostgreSQL`: one statement for all tables). `store_results` does the same for many
files in one transaction, for bulk loads.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, select, text

from extractors.orgs import canonical_org, gazetteer
from pipeline.db import Archive
from pipeline.extract import extract_file
from pipeline.reader import sha256_of
from pipeline.search import SearchText, match_form, number_key, party_names, search_rows, search_text
from schemas.letter import Document, FileResult, Item
from schemas.orm import (
    Appearance,
    Base,
    DocumentRow,
    Organisation,
    StoredFile,
)

log = logging.getLogger(__name__)

FileStatus = Literal["stored", "duplicate", "failed", "quarantined"]
FILES = cast(Table, StoredFile.__table__)
DOCUMENTS = cast(Table, DocumentRow.__table__)
ORGANISATIONS = cast(Table, Organisation.__table__)


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


# -- the content-addressed file store ----------------------------------------


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
    suffix = source.suffix.lower() if source.suffix.lower() == ".pdf" else ".bin"
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


# -- keys -----------------------------------------------------------------------


@lru_cache(maxsize=65536)
def organisation_of(name: str) -> str | None:
    """Canonical gazetteer name of a printed party name (cached: a batch repeats names)."""
    return canonical_org(name)


def letter_key(doc: Document) -> str | None:
    """Sender + 字號: the identity of a letter across the PDFs it arrives in (None for forms)."""
    number = number_key(doc.doc_number)
    if doc.kind != "letter" or not number or not doc.sender:
        return None
    sender = match_form(organisation_of(doc.sender) or doc.sender)
    return f"{sender}|{number}"


def text_key(searchable: SearchText) -> str:
    """A letter's text identity: two copies with the same key are one version (matching forms:
    spacing, 台/臺 and width do not count). Migration 0004 computes it the same way."""
    joined = "\x1f".join((searchable.subject, searchable.parties, searchable.meta, searchable.body))
    return hashlib.sha256(joined.encode()).hexdigest()


def _date(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        log.warning("not an ISO date, not stored as a date: %r", value)
        return None


def _datetime(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        log.warning("not an ISO date-time, not stored: %r", value)
        return None


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


# -- rows -----------------------------------------------------------------------


def _document_values(doc: Document, file_id: int, position: int) -> dict[str, Any]:
    contact = doc.contact
    return {
        "file_id": file_id,
        "position": position,
        "kind": doc.kind,
        "page_first": doc.pages[0] if doc.pages else 0,
        "page_last": doc.pages[-1] if doc.pages else 0,
        "file_code": doc.file_code,
        "retention": doc.retention,
        "sender": doc.sender,
        "doc_type": doc.doc_type,
        "recipient": doc.recipient,
        "issue_date": _date(doc.issue_date),
        "doc_number": doc.doc_number,
        "doc_number_key": number_key(doc.doc_number),
        "letter_key": letter_key(doc),
        "speed": doc.speed,
        "security": doc.security,
        "attachments": doc.attachments,
        "subject": doc.subject,
        "signatory": doc.signatory,
        "contact_address": contact.address if contact else None,
        "contact_unit": contact.unit if contact else None,
        "contact_name": contact.name if contact else None,
        "contact_title": contact.title if contact else None,
        "contact_phone": contact.phone if contact else None,
        "contact_fax": contact.fax if contact else None,
        "contact_email": contact.email if contact else None,
        "meeting_time": _datetime(doc.meeting_time),
        "meeting_place": doc.meeting_place,
        "chair": doc.chair,
        "form_number": doc.form_number,
        "title": doc.title,
        "compiler": doc.compiler,
        "period": doc.period,
        "due": doc.due,
        "deadline": _date(doc.deadline),
        "created_at": datetime.datetime.now(datetime.UTC),
    }


def _items(document_id: int, section: str, items: Sequence[Item], ids: Iterator[int]) -> list[dict[str, Any]]:
    """A 說明/辦法 tree as rows in reading order, each knowing its parent's id."""
    out: list[dict[str, Any]] = []

    def walk(level: Sequence[Item], parent: int | None, depth: int) -> None:
        for position, item in enumerate(level):
            item_id = next(ids)
            row: dict[str, Any] = {
                "id": item_id,
                "document_id": document_id,
                "section": section,
                "parent_id": parent,
                "seq": len(out),
                "position": position,
                "depth": depth,
                "label": item.label,
                "text": item.text,
            }
            out.append(row)
            walk(item.children, item_id, depth + 1)

    walk(items, None, 0)
    return out


def _count_items(items: Sequence[Item] | None) -> int:
    return sum(1 + _count_items(i.children) for i in items or ())


# -- files → rows: what is known, the rows to write, and writing them --------------

# tables in the order rows are written (parents before children)
WRITE_ORDER = (
    "organisations", "files", "documents", "appearances", "received_stamps", "items",
    "parties", "dates", "citations", "field_confidences", "document_text", "document_grams",
)
# tables whose ids are reserved before writing (children need them)
ALLOCATED = ("organisations", "files", "documents", "appearances", "received_stamps", "items")


@dataclass
class Wanted:
    """What to look up before writing some files, and how many ids they may need."""

    shas: list[str]
    letters: list[str]
    numbers: list[str]
    organisations: list[str]
    counts: dict[str, int]

    @classmethod
    def of(cls, results: Sequence[FileResult]) -> Wanted:
        docs = [d for r in results if not r.error for d in r.documents]
        orgs = sorted({o for d in docs for _, name in party_names(d) if (o := organisation_of(name))})
        return cls(
            shas=sorted({r.sha256 for r in results if r.sha256}),
            letters=sorted({k for d in docs if (k := letter_key(d))}),
            numbers=sorted({k for d in docs for n in [*d.references, d.doc_number] if n and (k := number_key(n))}),
            organisations=orgs,
            counts={
                "organisations": len(orgs),
                "files": len(results),
                "documents": len(docs),
                "appearances": len(docs),
                "received_stamps": len(docs),
                "items": sum(
                    _count_items(d.explanation) + _count_items(d.measures) + _count_items(d.notes) + bool(d.text)
                    for d in docs
                ),
            },
        )


@dataclass
class Known:
    """What the archive holds that new rows depend on (read under the write lock).

    Planning updates it as it goes, so the second file of a batch sees the first.
    """

    files: dict[str, tuple[int, str, str | None]]  # sha256 → id, status, error
    letters: dict[str, int]  # letter_key → document id
    numbers: dict[str, int]  # doc_number_key → the first document with that number
    organisations: dict[str, int]  # canonical name → id
    ids: dict[str, Iterator[int]]  # table → fresh ids (reserved for this transaction)
    versions: dict[str, dict[str, int]] = field(default_factory=dict)  # letter_key → text_key → document id


@dataclass
class Rows:
    """Every row some files add, ids included, table by table; and the citations they resolve."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in WRITE_ORDER})
    resolves: list[dict[str, Any]] = field(default_factory=list)  # {"key", "id"}: stored citations of new letters
    new_organisations: dict[str, int] = field(default_factory=dict)


def plan_file(
    result: FileResult, source_values: dict[str, Any], known: Known, rows: Rows, dialect: str
) -> FileReport:
    """Add the rows that store `result` to `rows` (plain data in, plain data out); its report."""
    sha = cast(str, result.sha256)
    report = FileReport(result.file, "stored", sha)
    t = rows.tables
    ids = known.ids
    seen = known.files.get(sha)
    if seen is not None and seen[1] != "failed":
        report.status = "duplicate" if seen[1] == "stored" else "quarantined"
        report.file_id, report.error = seen[0], seen[2]
        return report
    status: FileStatus = classify_failure(result) if result.error else "stored"
    values = {"pages": result.pages, "text_source": result.text_source, "status": status, "error": result.error}
    values.update(source_values)
    if seen is None:
        file_id = next(ids["files"])
        path = str(Path(result.file).absolute())  # clickable from anywhere (gongwen show)
        t["files"].append({"id": file_id, "sha256": sha, "path": path, "ingested_at": _now(), **values})
    else:  # a file that failed before, tried again
        file_id = seen[0]
        rows.tables.setdefault("files_update", []).append({"id": file_id, **values})
    known.files[sha] = (file_id, status, result.error)
    report.file_id = file_id
    if result.error:
        report.status, report.error = status, result.error
        return report
    _count(report, result.documents)
    gaz = gazetteer()
    new_docs: list[tuple[int, Document, dict[str, str | None], SearchText]] = []
    for position, doc in enumerate(result.documents):
        key = letter_key(doc)
        canonical = {name: organisation_of(name) for _, name in party_names(doc)}
        searchable = search_text(doc, canonical)
        tkey = text_key(searchable)
        root = known.letters.get(key) if key else None
        versions = known.versions.setdefault(key, {}) if key else {}
        doc_id = versions.get(tkey) if root is not None else None
        if doc_id is not None:  # the same letter, the same text: another copy
            report.linked += 1
        else:  # a new letter, or a new version of a stored one (same sender and 字號, other text)
            doc_id = next(ids["documents"])
            if key and root is None:
                known.letters[key] = doc_id
            elif root is not None:
                report.versions += 1
            versions[tkey] = doc_id
            new_docs.append((doc_id, doc, canonical, searchable))
            values = _document_values(doc, file_id, position) | {"text_key": tkey, "version_of": root}
            if root is not None:
                values["letter_key"] = None  # the letter's first row keeps it: citations resolve there
            t["documents"].append({"id": doc_id, **values})
            number = number_key(doc.doc_number)
            if number and number not in known.numbers:
                known.numbers[number] = doc_id
                rows.resolves.append({"key": number, "id": doc_id})
        report.documents.append(doc_id)
        appearance_id = next(ids["appearances"])
        t["appearances"].append(
            {
                "id": appearance_id,
                "document_id": doc_id,
                "file_id": file_id,
                "position": position,
                "page_first": doc.pages[0] if doc.pages else 0,
                "page_last": doc.pages[-1] if doc.pages else 0,
            }
        )
        if doc.received is not None:
            t["received_stamps"].append(
                {
                    "id": next(ids["received_stamps"]),
                    "document_id": doc_id,
                    "appearance_id": appearance_id,
                    "org": doc.received.org,
                    "date": _date(doc.received.date),
                    "number": doc.received.number,
                }
            )
    for doc_id, doc, canonical, searchable in new_docs:
        for section in ("explanation", "measures", "notes"):
            t["items"].extend(_items(doc_id, section, getattr(doc, section) or [], ids["items"]))
        if doc.text:  # an other document's text: one item of its own section (show reads it back)
            t["items"].extend(_items(doc_id, "text", [Item(label="", text=doc.text)], ids["items"]))
        flagged = set(doc.cc_with_attachments or [])
        positions: dict[str, int] = {}
        for role, name in party_names(doc):
            positions[role] = positions.get(role, -1) + 1
            org = canonical[name]
            org_id = None
            if org is not None:
                org_id = known.organisations.get(org)
                if org_id is None:
                    org_id = known.organisations[org] = rows.new_organisations[org] = next(ids["organisations"])
                    entry = gaz.get(org)
                    t["organisations"].append(
                        {
                            "id": org_id,
                            "name": org,
                            "kind": entry.kind if entry else "local_agency",
                            "parent": entry.parent if entry else None,
                        }
                    )
            t["parties"].append(
                {
                    "document_id": doc_id,
                    "role": role,
                    "position": positions[role],
                    "name": name,
                    "name_key": match_form(name),
                    "with_attachments": name in flagged and role in ("attendee", "observer", "cc_main", "cc_copy"),
                    "organisation_id": org_id,
                }
            )
        for position, mention in enumerate(doc.dates):
            when = _date(mention.date)
            if when is not None:
                t["dates"].append({"document_id": doc_id, "position": position, "text": mention.text, "date": when})
        for position, number in enumerate(doc.references):
            key = number_key(number)
            if key:
                t["citations"].append(
                    {"document_id": doc_id, "position": position, "doc_number": number, "doc_number_key": key,
                     "cited_id": None}
                )
        t["field_confidences"].extend(
            {"document_id": doc_id, "field": name, "value": float(value)} for name, value in doc.confidence.items()
        )
        for table, row in search_rows(doc_id, searchable, dialect).items():
            t[table].append(row)
    return report


def resolve_citations(rows: Rows, known: Known) -> None:
    """Point the new citations at the documents they cite, stored or new (after the last file)."""
    for c in rows.tables["citations"]:
        if c["cited_id"] is None:
            cited = known.numbers.get(c["doc_number_key"])
            c["cited_id"] = cited if cited != c["document_id"] else None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class _Dialect:
    """How one database reads what new rows depend on and writes them, in few round trips."""

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        raise NotImplementedError

    def write(self, conn: Connection, rows: Rows) -> None:
        raise NotImplementedError


class _SQLite(_Dialect):
    """In-process: small statements cost little; ids follow the largest in use (we hold the lock)."""

    def __init__(self, engine_dialect: Any) -> None:
        self.sql: dict[str, str] = {}
        self.columns: dict[str, list[str]] = {}
        self.procs: dict[str, list[Any]] = {}
        for table in WRITE_ORDER:
            if table == "document_grams":  # an FTS5 table, not a model
                self.columns[table] = ["rowid", "subject", "parties", "rest"]
                self.procs[table] = [None] * 4
            else:
                cols = list(Base.metadata.tables[table].columns)
                self.columns[table] = [c.name for c in cols]
                self.procs[table] = [c.type.bind_processor(engine_dialect) for c in cols]
            names = self.columns[table]
            self.sql[table] = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        file_cols = list(FILES.columns)
        self.file_procs = {c.name: c.type.bind_processor(engine_dialect) for c in file_cols}

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        run = conn.exec_driver_sql

        def lookup(sql: str, values: list[str]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for start in range(0, len(values), 500):  # below SQLite's limit on parameters
                chunk = values[start : start + 500]
                for row in run(sql.format(", ".join("?" * len(chunk))), tuple(chunk)):
                    out[row[0]] = row[1] if len(row) == 2 else tuple(row[1:])
            return out

        files = lookup("SELECT sha256, id, status, error FROM files WHERE sha256 IN ({})", wanted.shas)
        letters = lookup("SELECT letter_key, id FROM documents WHERE letter_key IN ({})", wanted.letters)
        versions: dict[str, dict[str, int]] = {}
        for start in range(0, len(wanted.letters), 500):
            chunk = wanted.letters[start : start + 500]
            for key, version_id, tkey in run(
                "SELECT d.letter_key, v.id, v.text_key FROM documents AS d JOIN documents AS v "
                f"ON v.id = d.id OR v.version_of = d.id WHERE d.letter_key IN ({', '.join('?' * len(chunk))})",
                tuple(chunk),
            ):
                versions.setdefault(key, {})[tkey or ""] = version_id
        numbers = lookup(
            "SELECT doc_number_key, min(id) FROM documents WHERE doc_number_key IN ({}) GROUP BY doc_number_key",
            wanted.numbers,
        )
        orgs = {n: cached_orgs[n] for n in wanted.organisations if n in cached_orgs}
        missing = [n for n in wanted.organisations if n not in orgs]
        orgs.update(lookup("SELECT name, id FROM organisations WHERE name IN ({})", missing))
        maxima = run("SELECT " + ", ".join(f"(SELECT coalesce(max(id), 0) FROM {t})" for t in ALLOCATED)).one()
        ids: dict[str, Iterator[int]] = {t: itertools.count(m + 1) for t, m in zip(ALLOCATED, maxima, strict=True)}
        return Known(files, letters, numbers, orgs, ids, versions)

    def write(self, conn: Connection, rows: Rows) -> None:
        for table in WRITE_ORDER:
            batch = rows.tables[table]
            if not batch:
                continue
            names, procs = self.columns[table], self.procs[table]
            params = [tuple(p(r.get(n)) if p else r.get(n) for n, p in zip(names, procs, strict=True)) for r in batch]
            conn.exec_driver_sql(self.sql[table], params)
        for update_row in rows.tables.get("files_update", []):
            names = [n for n in update_row if n != "id"]
            conn.exec_driver_sql(
                f"UPDATE files SET {', '.join(f'{n} = ?' for n in names)} WHERE id = ?",
                (*(p(update_row[n]) if (p := self.file_procs[n]) else update_row[n] for n in names), update_row["id"]),
            )
        if rows.resolves:
            conn.exec_driver_sql(
                "UPDATE citations SET cited_id = ? WHERE doc_number_key = ? AND cited_id IS NULL AND document_id <> ?",
                [(r["id"], r["key"], r["id"]) for r in rows.resolves],
            )


class _PostgreSQL(_Dialect):
    """Over the network every round trip counts: one statement reads, one statement writes every table."""

    def __init__(self) -> None:
        self.sequences: dict[str, str] = {}  # table → its id sequence (schema-qualified)

    def read(self, conn: Connection, wanted: Wanted, cached_orgs: dict[str, int]) -> Known:
        missing = [n for n in wanted.organisations if n not in cached_orgs]
        if not self.sequences:
            self.sequences = {
                t: conn.execute(text(f"SELECT pg_get_serial_sequence('{t}', 'id')")).scalar_one() for t in ALLOCATED
            }
        sequences = ", ".join(
            f"array(SELECT nextval('{self.sequences[t]}') FROM generate_series(1, :n_{t}))" for t in ALLOCATED
        )
        row = conn.execute(
            text(
                "SELECT (SELECT coalesce(json_object_agg(sha256, json_build_array(id, status, error)), '{}') "
                " FROM files WHERE sha256 = ANY(CAST(:shas AS text[]))), "
                "(SELECT coalesce(json_object_agg(letter_key, id), '{}') FROM documents "
                " WHERE letter_key = ANY(CAST(:letters AS text[]))), "
                "(SELECT coalesce(json_object_agg(k, i), '{}') FROM (SELECT doc_number_key AS k, min(id) AS i "
                " FROM documents WHERE doc_number_key = ANY(CAST(:numbers AS text[])) GROUP BY doc_number_key) AS x), "
                "(SELECT coalesce(json_object_agg(name, id), '{}') FROM organisations "
                " WHERE name = ANY(CAST(:orgs AS text[]))), "
                "(SELECT coalesce(json_object_agg(k, vs), '{}') FROM (SELECT d.letter_key AS k, "
                " json_object_agg(coalesce(v.text_key, ''), v.id) AS vs FROM documents AS d JOIN documents AS v "
                " ON v.id = d.id OR v.version_of = d.id WHERE d.letter_key = ANY(CAST(:letters AS text[])) "
                " GROUP BY d.letter_key) AS y), " + sequences
            ),
            {
                "shas": wanted.shas, "letters": wanted.letters, "numbers": wanted.numbers, "orgs": missing,
                **{f"n_{t}": wanted.counts[t] for t in ALLOCATED},
            },
        ).one()
        orgs = {n: cached_orgs[n] for n in wanted.organisations if n in cached_orgs} | row[3]
        ids = {t: iter(values) for t, values in zip(ALLOCATED, row[5:], strict=True)}
        files = {sha: (v[0], v[1], v[2]) for sha, v in row[0].items()}
        return Known(files, row[1], row[2], orgs, ids, row[4])

    def write(self, conn: Connection, rows: Rows) -> None:
        parts: list[str] = []
        params: dict[str, Any] = {}
        for table in WRITE_ORDER:
            batch = rows.tables[table]
            if not batch:
                continue
            cols = ", ".join(batch[0])
            if table == "document_grams":  # a string of tokens is quicker to send and parse than a list
                parts.append(
                    "w_document_grams AS (INSERT INTO document_grams (document_id, grams, subject_grams, parties_grams) "
                    "SELECT document_id, string_to_array(grams, ' '), string_to_array(subject_grams, ' '), "
                    "string_to_array(parties_grams, ' ') FROM jsonb_to_recordset(CAST(:document_grams AS jsonb)) "
                    "AS v(document_id integer, grams text, subject_grams text, parties_grams text))"
                )
            else:
                parts.append(
                    f"w_{table} AS (INSERT INTO {table} ({cols}) SELECT {cols} "
                    f"FROM jsonb_populate_recordset(NULL::{table}, CAST(:{table} AS jsonb)))"
                )
            params[table] = json.dumps(batch, default=_json_value, ensure_ascii=False)
        if rows.tables.get("files_update"):
            names = [n for n in rows.tables["files_update"][0] if n != "id"]
            parts.append(
                f"w_files_update AS (UPDATE files SET {', '.join(f'{n} = v.{n}' for n in names)} "
                "FROM jsonb_populate_recordset(NULL::files, CAST(:files_update AS jsonb)) AS v WHERE files.id = v.id)"
            )
            params["files_update"] = json.dumps(rows.tables["files_update"], default=_json_value, ensure_ascii=False)
        if rows.resolves:
            parts.append(
                "w_resolve AS (UPDATE citations SET cited_id = v.id "
                "FROM jsonb_to_recordset(CAST(:resolves AS jsonb)) AS v(key text, id integer) "
                "WHERE citations.doc_number_key = v.key AND citations.cited_id IS NULL AND citations.document_id <> v.id)"
            )
            params["resolves"] = json.dumps(rows.resolves, ensure_ascii=False)
        if parts:
            conn.execute(text("WITH " + ", ".join(parts) + " SELECT 1"), params)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")


def _dialect(archive: Archive) -> _Dialect:
    found = archive.cache.get("store_dialect")
    if found is None:
        found = archive.cache["store_dialect"] = (
            _PostgreSQL() if archive.dialect == "postgresql" else _SQLite(archive.engine.dialect)
        )
    assert isinstance(found, _Dialect)
    return found


def _count(report: FileReport, documents: Sequence[Document]) -> None:
    report.letters = sum(d.kind == "letter" for d in documents)
    report.forms = sum(d.kind == "form" for d in documents)
    report.other = sum(d.kind == "other" for d in documents)


def _store(archive: Archive, files: Sequence[tuple[FileResult, Path | None]]) -> list[FileReport]:
    """Store `files` in one transaction (each whole or not at all, with all the others)."""
    organisations: dict[str, int] = archive.cache.setdefault("organisations", {})
    dialect = _dialect(archive)
    results = [r for r, _ in files]
    wanted = Wanted.of(results)
    with archive.write() as conn:
        known = dialect.read(conn, wanted, organisations)
        rows = Rows()
        reports: list[FileReport] = []
        for result, source in files:
            values: dict[str, Any] = {}
            seen = known.files.get(cast(str, result.sha256))
            if source is not None and source.is_file() and (seen is None or seen[1] == "failed"):
                values = {"store_path": keep_original(source, cast(str, result.sha256), archive.files),
                          "size": source.stat().st_size}
            reports.append(plan_file(result, values, known, rows, archive.dialect))
        resolve_citations(rows, known)
        dialect.write(conn, rows)
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


def ingest_file(
    archive: Archive, path: Path, extract: Callable[[Path], FileResult] = extract_file
) -> FileReport:
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
    result = extract(path)
    if result.sha256 is None and sha is not None:
        result.sha256 = sha
    return store_result(archive, result, path)


@dataclass
class IngestSummary:
    """The end of a batch: how many files were new, duplicate, failed; how many documents."""

    files: int = 0
    stored: int = 0
    duplicate: int = 0
    failed: int = 0
    quarantined: int = 0
    letters: int = 0
    forms: int = 0
    other: int = 0
    linked: int = 0
    versions: int = 0

    @classmethod
    def of(cls, reports: Sequence[FileReport]) -> IngestSummary:
        s = cls(files=len(reports))
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
        return asdict(self)
