"""One stored document read back: its fields (docs/document-json.md), where it arrived, and its thread.

The thread is the letter graph around a document: the letters it cites (by 字號, whether
or not they are in the archive yet), the letters that cite it, and the whole connected
conversation, oldest first, so an analyst sees a reply, its request and the forwarding
cover letter together.

A letter can have versions (the same sender and 字號 with other text: a corrected re-issue,
the born-digital original of a scan read by OCR). Each is kept and searchable; one is
shown for the letter (`preferred`): born-digital over OCR, then the newer issue date, then
the later arrival. A 字號 shows each letter's preferred version; an id shows that version.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from pipeline.corrections import Correction, apply, as_read, history, latest
from pipeline.matching import number_key
from schemas.letter import Contact, DateMention, Document, FieldBox, Item, Notice, Received
from schemas.orm import (
    Appearance,
    Citation,
    DateRow,
    DocumentRow,
    FieldBoxRow,
    FieldConfidence,
    ItemRow,
    Party,
    ReceivedStamp,
    StoredFile,
)
from schemas.stored import AS_IS, CONTACT_COLUMNS

MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses a larger parameter
THREAD_LIMIT = 200  # documents in one thread view: a hub letter cited by thousands stays readable


@dataclass
class Link:
    """A document at the other end of a citation; `id` is None when it is not in the archive."""

    doc_number: str | None
    id: int | None = None
    issue_date: str | None = None
    sender: str | None = None
    subject: str | None = None


@dataclass
class Copy:
    """One file a document arrived in, with its pages there and that copy's receipt stamp."""

    file_id: int
    sha256: str
    path: str
    store_path: str | None
    pages: list[int]
    received: Received | None
    stored_at: str | None = None  # the original in the file store, an absolute path


@dataclass
class Version:
    """One version of a letter; `shown` marks the one gongwen shows for it."""

    id: int
    issue_date: str | None
    text_source: str | None  # the readers its text came from (ocr:… when read by OCR)
    born_digital: bool
    shown: bool = False


@dataclass
class DocumentView:
    id: int
    document: Document
    copies: list[Copy] = field(default_factory=list)
    cites: list[Link] = field(default_factory=list)
    cited_by: list[Link] = field(default_factory=list)
    thread: list[Link] = field(default_factory=list)
    versions: list[Version] = field(default_factory=list)  # the letter's versions, oldest first (one: none)
    corrections: list[Correction] = field(default_factory=list)  # reviewers' corrections, oldest first

    def to_json(self) -> dict[str, Any]:
        """The document JSON, plus `id`, `files` (the copies), `cites`, `cited_by`, `thread`, `versions`
        and `corrections`."""
        return {
            "id": self.id,
            **self.document.model_dump(mode="json"),
            "files": [{**asdict(c), "received": c.received.model_dump(mode="json") if c.received else None} for c in self.copies],
            "cites": [asdict(link) for link in self.cites],
            "cited_by": [asdict(link) for link in self.cited_by],
            "thread": [asdict(link) for link in self.thread],
            "versions": [asdict(v) for v in self.versions],
            "corrections": [c.to_json() for c in self.corrections],
        }


def find_documents(session: Session, ref: str) -> list[int]:
    """Ids for `ref`: a document id (digits) or a 字號 (as printed, spaces and 台/臺 aside)."""
    ref = ref.strip()
    # ASCII digits only (str.isdigit takes ², ١ and the like), and only what fits an id column
    if ref.isascii() and ref.isdigit() and 0 < int(ref) <= MAX_ID:
        found = session.scalar(select(DocumentRow.id).where(DocumentRow.id == int(ref)))
        if found is not None:
            return [found]
    key = number_key(ref)
    if key is None:
        return []
    matches = session.scalars(select(DocumentRow.id).where(DocumentRow.doc_number_key == key).order_by(DocumentRow.id))
    shown: list[int] = []
    for doc_id in list(matches):  # each letter once, as its preferred version
        preferred = preferred_version(session, doc_id)
        if preferred not in shown:
            shown.append(preferred)
    return shown


def letter_root(session: Session, doc_id: int) -> int | None:
    """The letter's first stored row (the one citations resolve to) for any of its versions."""
    return session.scalar(select(func.coalesce(DocumentRow.version_of, DocumentRow.id)).where(DocumentRow.id == doc_id))


def versions(session: Session, doc_id: int) -> list[Version]:
    """Every version of the letter `doc_id` is a version of, oldest first, the preferred one marked."""
    root = letter_root(session, doc_id)
    return [] if root is None else _versions(session, root)


def _versions(session: Session, root: int) -> list[Version]:
    rows = session.execute(
        select(DocumentRow.id, DocumentRow.issue_date, StoredFile.text_source)
        .join(StoredFile, StoredFile.id == DocumentRow.file_id)
        .where(or_(DocumentRow.id == root, DocumentRow.version_of == root))
        .order_by(DocumentRow.id)
    ).all()
    if not rows:
        return []
    out = [
        Version(i, day.isoformat() if day else None, source, bool(source) and "ocr" not in (source or ""))
        for i, day, source in rows
    ]
    issued = {i: day or datetime.date.min for i, day, _ in rows}
    best = max(out, key=lambda v: (v.born_digital, issued[v.id], v.id))
    best.shown = True
    return out


def preferred_version(session: Session, doc_id: int) -> int:
    """The id of the version shown for the letter `doc_id` is a version of (itself when it has one)."""
    return next((v.id for v in versions(session, doc_id) if v.shown), doc_id)


def _trees(rows: list[ItemRow]) -> dict[str, list[Item]]:
    """ItemRows (in `seq` order per section) → the item trees per section."""
    by_id: dict[int, Item] = {}
    roots: dict[str, list[Item]] = defaultdict(list)
    for row in rows:
        item = Item(label=row.label, text=row.text)
        by_id[row.id] = item
        if row.parent_id is None:
            roots[row.section].append(item)
        else:
            by_id[row.parent_id].children.append(item)
    return roots


def load_document(session: Session, doc_id: int, corrected: bool = True) -> Document | None:
    """The `Document` as stored (receipt stamp: the first copy's), reviewers' corrections applied
    unless `corrected` is False (then what the extractor read)."""
    row = session.get(DocumentRow, doc_id)
    if row is None:
        return None
    first = session.execute(
        select(ReceivedStamp.id, ReceivedStamp.org, ReceivedStamp.date, ReceivedStamp.number)
        .select_from(Appearance)
        .outerjoin(ReceivedStamp, and_(ReceivedStamp.appearance_id == Appearance.id, ReceivedStamp.document_id == doc_id))
        .where(Appearance.document_id == doc_id)
        .order_by(Appearance.id)
        .limit(1)
    ).first()
    received = _received(first.org, first.date, first.number) if first is not None and first.id is not None else None
    # unless corrected: the party lists as read, where a reviewer's correction rewrote their rows
    fixes = latest(session, [doc_id]).get(doc_id) if corrected else as_read(session, doc_id)
    return _document(session, row, received, _citations(session, doc_id), fixes)


def _received(org: str | None, date: datetime.date | None, number: str | None) -> Received:
    return Received(org=org, date=date, number=number)


def _citations(session: Session, doc_id: int) -> list[tuple[str, int | None]]:
    """(字號 as printed, the cited document's id when it is in the archive) of what `doc_id` cites, in order."""
    rows = session.execute(
        select(Citation.doc_number, Citation.cited_id).where(Citation.document_id == doc_id).order_by(Citation.position)
    )
    return [(number, cited) for number, cited in rows]


def _document(session: Session, row: DocumentRow, received: Received | None, cites: list[tuple[str, int | None]],
              fixes: dict[str, Any] | None) -> Document:
    """`row` with its child rows (items, parties, dates, confidence, boxes) as a `Document`, `fixes` applied."""
    doc_id = row.id
    items = list(
        session.scalars(select(ItemRow).where(ItemRow.document_id == doc_id).order_by(ItemRow.section, ItemRow.seq))
    )
    trees = _trees(items)
    parties = list(session.scalars(select(Party).where(Party.document_id == doc_id).order_by(Party.id)))

    def names(role: str) -> list[str] | None:
        out = [p.name for p in parties if p.role == role]
        return out or None

    flagged = [
        p.name for role in ("attendee", "observer", "cc_main", "cc_copy") for p in parties if p.role == role and p.with_attachments
    ]
    contact_values = {name: getattr(row, column) for column, name in CONTACT_COLUMNS.items()}
    dates = session.scalars(select(DateRow).where(DateRow.document_id == doc_id).order_by(DateRow.position))
    confidence = session.execute(select(FieldConfidence.field, FieldConfidence.value).where(FieldConfidence.document_id == doc_id))
    boxes: dict[str, list[FieldBox]] = {}
    for box in session.scalars(
        select(FieldBoxRow).where(FieldBoxRow.document_id == doc_id).order_by(FieldBoxRow.field, FieldBoxRow.position)
    ):
        boxes.setdefault(box.field, []).append(FieldBox(page=box.page, box=[box.x0, box.y0, box.x1, box.y1]))
    doc = Document(
        kind=row.kind,  # type: ignore[arg-type]
        pages=[row.page_first, row.page_last] if row.page_first else [],  # 0: a DI file's letter, which has no pages
        **{name: getattr(row, name) for name in AS_IS},
        contact=Contact(**contact_values) if any(v is not None for v in contact_values.values()) else None,
        explanation=trees.get("explanation"),
        measures=trees.get("measures"),
        cc_main=names("cc_main"),
        cc_copy=names("cc_copy"),
        cc_with_attachments=list(dict.fromkeys(flagged)) or None,
        notices=_notices(row.notices),
        attendees=names("attendee"),
        observers=names("observer"),
        notes=trees.get("notes"),
        distribution=names("distribution"),
        text=trees["text"][0].text if trees.get("text") else None,
        received=received,
        references=[number for number, _ in cites],
        dates=[DateMention(text=d.text, date=d.date) for d in dates],
        confidence={name: value for name, value in confidence},
        boxes=boxes or None,
    )
    if fixes:
        apply(doc, fixes)
    return doc


def _notices(stored: str | None) -> list[Notice] | None:
    """`documents.notices` (JSON text, `pipeline.rows.notices_json`) as the notice's 主旨 blocks; None for a
    letter with one 主旨, or one stored before the column (migration 0011)."""
    return None if stored is None else [Notice.model_validate(n) for n in json.loads(stored)]


def _links(session: Session, ids: set[int]) -> dict[int, Link]:
    if not ids:
        return {}
    rows = session.execute(
        select(
            DocumentRow.id, DocumentRow.doc_number, DocumentRow.issue_date, DocumentRow.sender,
            DocumentRow.subject, DocumentRow.title,
        ).where(DocumentRow.id.in_(sorted(ids)))
    )
    return {
        r.id: Link(r.doc_number, r.id, r.issue_date.isoformat() if r.issue_date else None, r.sender, r.subject or r.title)
        for r in rows
    }


def thread_ids(session: Session, doc_id: int, limit: int = THREAD_LIMIT) -> set[int]:
    """Documents connected to `doc_id` by citations in either direction (at most `limit`)."""
    seen = {doc_id}
    frontier = {doc_id}
    while frontier and len(seen) < limit:
        rows = session.execute(
            select(Citation.document_id, Citation.cited_id).where(
                Citation.cited_id.is_not(None),
                or_(Citation.document_id.in_(sorted(frontier)), Citation.cited_id.in_(sorted(frontier))),
            )
        )
        nxt: set[int] = set()
        for a, b in rows:
            for x in (a, b):
                if x is not None and x not in seen:
                    nxt.add(x)
        room = limit - len(seen)
        nxt = set(sorted(nxt)[:room])
        seen |= nxt
        frontier = nxt
    return seen


def show(session: Session, doc_id: int, files_root: Path | None = None) -> DocumentView | None:
    """A document with its copies, what it cites, who cites it, its whole thread and its versions.

    `files_root`: the file store, to give each copy's original as an absolute path. A dozen
    queries, each of one table or a join, whatever the document holds.
    """
    row = session.get(DocumentRow, doc_id)
    if row is None:
        return None
    letter = row.version_of if row.version_of is not None else row.id  # what citations of the letter point at
    corrections = history(session, doc_id)
    copies = _copies(session, doc_id, files_root)
    cites = _citations(session, doc_id)
    fixes = {c.field: c.new for c in corrections}  # oldest first: the latest value of each field stays
    document = _document(session, row, copies[0].received if copies else None, cites, fixes)
    view = DocumentView(doc_id, document, copies=copies, corrections=corrections)
    all_versions = _versions(session, letter)
    if len(all_versions) > 1:
        view.versions = all_versions
    citing = list(session.scalars(
        select(Citation.document_id).where(Citation.cited_id == letter).distinct()
    ))
    members = thread_ids(session, letter) - {letter} | {doc_id}
    links = _links(session, {i for _, i in cites if i is not None} | set(citing) | members)
    view.cites = [links[i] if i is not None and i in links else Link(number) for number, i in cites]
    view.cited_by = sorted((links[i] for i in citing if i in links), key=_chronological)
    view.thread = sorted((links[i] for i in members if i in links), key=_chronological)
    return view


def _copies(session: Session, doc_id: int, files_root: Path | None) -> list[Copy]:
    """The files the document arrived in, first arrival first, each with its receipt stamp (one query)."""
    rows = session.execute(
        select(Appearance, StoredFile, ReceivedStamp)
        .join(StoredFile, StoredFile.id == Appearance.file_id)
        .outerjoin(ReceivedStamp, and_(ReceivedStamp.appearance_id == Appearance.id, ReceivedStamp.document_id == doc_id))
        .where(Appearance.document_id == doc_id)
        .order_by(Appearance.id)
    )
    return [
        Copy(
            stored.id, stored.sha256, stored.path, stored.store_path, [appearance.page_first, appearance.page_last],
            _received(stamp.org, stamp.date, stamp.number) if stamp else None,
            str((files_root / stored.store_path).absolute()) if files_root and stored.store_path else None,
        )
        for appearance, stored, stamp in rows
    ]


def _chronological(link: Link) -> tuple[str, int]:
    return (link.issue_date or "9999", link.id or 0)
