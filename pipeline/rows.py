"""Plan the archive rows that store extracted files: plain data in (`FileResult`s, and what the
archive holds that they depend on: `Known`), plain data out (`Rows`, ids included), no database.

- A file is known by its sha256: a file stored before plans nothing new; one that failed before
  is tried again under its own row.
- A letter is known by sender + 字號 (`letter_key`; the canonical organisation when the gazetteer
  knows the sender): another copy of it, with the same text, is linked to the stored letter as
  another `appearances` row, with that copy's pages and receipt stamp, not stored twice; with
  other text (`text_key`) it is stored as a new version of it.
- The letter graph: a cited 字號 is linked to the document with that number when it is in the
  archive, whichever of the two arrives first (`resolve_citations`).

Planning apart from writing (`pipeline.writer`) keeps a batch to a few round trips: everything a row depends on is read first (`Wanted` → `Known`, ids reserved), and
`Known` is updated as files are planned, so the second file of a batch sees the first.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from extractors.orgs import canonical_org, gazetteer
from pipeline.di import Part
from pipeline.matching import SearchText, match_form, number_key, party_names, search_rows, search_text
from pipeline.reports import FileReport, FileStatus, classify_failure
from schemas.letter import Document, FileResult, Item
from schemas.stored import AS_IS, CONTACT_COLUMNS

# -- keys -----------------------------------------------------------------------


@lru_cache(maxsize=65536)
def organisation_of(name: str) -> str | None:
    """Canonical gazetteer name of a printed party name (cached: a batch repeats names)."""
    return canonical_org(name)


def party_rows(doc_id: int, doc: Document, link: Callable[[str], int | None]) -> list[dict[str, Any]]:
    """The `parties` rows of a document, in the order it prints them (a position per role); `link` gives
    a printed name's organisation row, if any. Ingest writes them, and a reviewer's correction rewrites them."""
    flagged = set(doc.cc_with_attachments or [])
    positions: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for role, name in party_names(doc):
        positions[role] = positions.get(role, -1) + 1
        out.append({
            "document_id": doc_id,
            "role": role,
            "position": positions[role],
            "name": name,
            "name_key": match_form(name),
            "with_attachments": name in flagged and role in ("attendee", "observer", "cc_main", "cc_copy"),
            "organisation_id": link(name),
        })
    return out


def box_rows(doc_id: int, doc: Document) -> list[dict[str, Any]]:
    """The `field_boxes` rows of a document: ingest writes them, and `gongwen review boxes` for a letter
    stored before boxes were recorded."""
    return [
        {"document_id": doc_id, "field": name, "position": position, "page": b.page,
         "x0": b.box[0], "y0": b.box[1], "x1": b.box[2], "y1": b.box[3]}
        for name, boxes in (doc.boxes or {}).items() for position, b in enumerate(boxes)
    ]


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


# -- rows -----------------------------------------------------------------------


def notices_json(doc: Document) -> str | None:
    """A notice's 主旨 blocks as the `documents.notices` column keeps them (JSON text; None: one 主旨),
    read back whole by `pipeline.show`."""
    if doc.notices is None:
        return None
    return json.dumps([n.model_dump(mode="json") for n in doc.notices], ensure_ascii=False)


def _document_values(doc: Document, file_id: int, position: int) -> dict[str, Any]:
    """The documents row of `doc`: the fields kept as they are (`schemas.stored`), the rest converted."""
    contact = doc.contact
    return {
        "file_id": file_id,
        "position": position,
        "kind": doc.kind,
        "page_first": doc.pages[0] if doc.pages else 0,
        "page_last": doc.pages[-1] if doc.pages else 0,
        **{name: getattr(doc, name) for name in AS_IS},
        **{column: getattr(contact, name) if contact else None for column, name in CONTACT_COLUMNS.items()},
        "doc_number_key": number_key(doc.doc_number),
        "letter_key": letter_key(doc),
        "notices": notices_json(doc),
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


# -- files → rows: what is known, and the rows to write ----------------------------

# tables in the order rows are written (parents before children)
WRITE_ORDER = (
    "organisations", "files", "documents", "appearances", "received_stamps", "items",
    "parties", "dates", "citations", "field_confidences", "field_boxes", "document_text", "document_grams",
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
        parts = [p for r in results if not r.error for p in attachment_parts(r)]
        return cls(
            shas=sorted({r.sha256 for r in results if r.sha256} | {p.sha256 for p in parts}),
            letters=sorted({k for d in docs if (k := letter_key(d))}),
            numbers=sorted({k for d in docs for n in [*d.references, d.doc_number] if n and (k := number_key(n))}),
            organisations=orgs,
            counts={
                "organisations": len(orgs),
                "files": len(results) + len(parts),
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


def _count(report: FileReport, documents: Sequence[Document]) -> None:
    report.letters = sum(d.kind == "letter" for d in documents)
    report.forms = sum(d.kind == "form" for d in documents)
    report.other = sum(d.kind == "other" for d in documents)


def attachment_parts(result: FileResult) -> list[Part]:
    """The attachment files a DI file's result was read with (none for any other file)."""
    return list(getattr(result, "parts", None) or [])


def _part_files(result: FileResult, part_values: dict[str, dict[str, Any]], known: Known, rows: Rows) -> dict[int, tuple[int, int]]:
    """A files row for each attachment a DI file was read with (its original kept: `part_values`, by
    sha256); document index → (file id, position in that file) for the documents read from one."""
    out: dict[int, tuple[int, int]] = {}
    for part in attachment_parts(result):
        seen = known.files.get(part.sha256)
        values = {"pages": part.pages, "text_source": part.text_source, "status": "stored", "error": None,
                  **part_values.get(part.sha256, {})}
        if seen is None:
            file_id = next(known.ids["files"])
            rows.tables["files"].append({"id": file_id, "sha256": part.sha256, "path": str(part.path.absolute()),
                                         "ingested_at": _now(), **values})
        else:  # stored before on its own (its documents stay as they are), or failed then: stored now
            file_id = seen[0]
            if seen[1] == "failed":
                rows.tables.setdefault("files_update", []).append({"id": file_id, **values})
        known.files[part.sha256] = (file_id, "stored", None)
        out.update({part.first + i: (file_id, i) for i in range(part.count)})
    return out


def plan_file(
    result: FileResult, source_values: dict[str, Any], known: Known, rows: Rows, dialect: str,
    part_values: dict[str, dict[str, Any]] | None = None,
) -> FileReport:
    """Add the rows that store `result` to `rows` (plain data in, plain data out); its report.

    A DI file's attachment documents are documents of its letter (`file_id`, `position`: the
    DI file's) that appeared in their attachment's file, kept with `part_values`' originals."""
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
    appeared_in = _part_files(result, part_values or {}, known, rows)
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
        copy_file, copy_position = appeared_in.get(position, (file_id, position))
        t["appearances"].append(
            {
                "id": appearance_id,
                "document_id": doc_id,
                "file_id": copy_file,
                "position": copy_position,
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
                    "date": doc.received.date,
                    "number": doc.received.number,
                }
            )
    for doc_id, doc, canonical, searchable in new_docs:
        for section in ("explanation", "measures", "notes"):
            t["items"].extend(_items(doc_id, section, getattr(doc, section) or [], ids["items"]))
        if doc.text:  # an other document's text: one item of its own section (show reads it back)
            t["items"].extend(_items(doc_id, "text", [Item(label="", text=doc.text)], ids["items"]))

        def link(name: str, canonical: dict[str, str | None] = canonical) -> int | None:
            org = canonical[name]
            if org is None:
                return None
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
            return org_id

        t["parties"].extend(party_rows(doc_id, doc, link))
        t["dates"].extend({"document_id": doc_id, "position": position, "text": m.text, "date": m.date}
                          for position, m in enumerate(doc.dates))
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
        t["field_boxes"].extend(box_rows(doc_id, doc))
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
