"""Reviewers' corrections of extracted fields: stored apart, shown instead, exported as goldens.

The documents row keeps what the extractor read; a correction is a row of `field_corrections`
(document, field, the value shown before, the new value, who, when), append-only, so the
table is also the audit log of corrections. The latest correction of a field is its value
wherever a document is read back (`pipeline.show.load_document`: `gongwen show`, the web
letter page, the API, the golden export), in search hits' subject and sender, and in the
search index (the document's search text is written anew from the corrected document).

A 說明/辦法/備註 tree is corrected as the letter prints it (numbered text, one item a line) and read
back by the extractor's numbering parser (`extractors.numbering.parse_items`); its value is the tree's JSON.

The review list is the fields whose confidence is below a threshold and that no one has
corrected (or confirmed: a correction may keep the value), worst first
(docs/web.md#review). `export_goldens` writes the files holding corrected letters as golden
JSON beside their PDFs, which `gongwen eval DIR` reads (samples/GOLDEN.md).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from pipeline.errors import CommandError
from schemas.orm import Appearance, FieldConfidence, FieldCorrection, Organisation, Party, StoredFile

if TYPE_CHECKING:  # search hits get corrections without loading the pydantic models
    from pipeline.db import Archive
    from schemas.letter import Document, FieldBox, Item

REVIEW_THRESHOLD = 0.8  # fields less sure than this are listed for review (GONGWEN_REVIEW_THRESHOLD)
REVIEW_LIMIT = 200  # fields on one review page
MAX_VALUE = 4000  # characters of a corrected value

# the fields a reviewer can correct, with their names in the interface (the letter's own labels)
TEXT_FIELDS: dict[str, str] = {
    "sender": "發文機關", "doc_type": "文別", "recipient": "受文者", "doc_number": "發文字號", "speed": "速別",
    "security": "密等及解密條件或保密期限", "attachments": "附件", "subject": "主旨", "signatory": "署名",
    "file_code": "檔號", "retention": "保存年限", "meeting_place": "開會地點", "chair": "主持人",
    "form_number": "表號", "title": "報表名稱", "compiler": "編製機關", "period": "報送週期", "due": "編報期限",
    "contact.address": "地址", "contact.unit": "承辦單位", "contact.name": "承辦人", "contact.title": "職稱",
    "contact.phone": "電話", "contact.fax": "傳真", "contact.email": "電子信箱",
}
DATE_FIELDS: dict[str, str] = {"issue_date": "發文日期", "deadline": "應辦期限"}
LIST_FIELDS: dict[str, str] = {"cc_main": "正本", "cc_copy": "副本", "attendees": "出席者", "observers": "列席者"}
# numbered trees, edited as the letter prints them (一、… （一）… 1、…) and read back by the extractor's parser
TREE_FIELDS: dict[str, str] = {"explanation": "說明", "measures": "辦法", "notes": "備註"}
CORRECTABLE: dict[str, str] = {**TEXT_FIELDS, **DATE_FIELDS, **LIST_FIELDS, **TREE_FIELDS}
# a notice's first 主旨 block is its 主旨/說明/辦法 too: corrected with them (`set_value`)
FIRST_NOTICE = ("subject", "explanation", "measures")
# what else has a confidence, named for the review list (not corrected: derived from other fields, or,
# for a notice's several 主旨, blocks not edited as a whole; the first follows 主旨/說明/辦法)
OTHER_LABELS: dict[str, str] = {
    "contact": "聯絡資訊", "received": "收文章", "references": "引用字號", "notices": "主旨（多則）",
    "meeting_time": "開會時間", "distribution": "編送對象",
}
LIST_SEPARATOR = "、"


class CorrectionError(CommandError):
    """A correction that cannot be taken: the message says what is wrong and what to give."""


def label_of(name: str) -> str:
    return CORRECTABLE.get(name) or OTHER_LABELS.get(name) or name


def value_of(doc: Document, name: str) -> Any:
    """The value of field `name` (`contact.phone` inside the contact block) in `doc`."""
    head, _, part = name.partition(".")
    if part:
        contact = doc.contact
        return getattr(contact, part, None) if contact else None
    return getattr(doc, head, None)


def _tree(value: list[Any]) -> list[Item]:
    """A tree as Items, from Items or from their JSON (a stored correction)."""
    from schemas.letter import Item

    return [v if isinstance(v, Item) else Item.model_validate(v) for v in value]


def as_text(value: Any) -> str:
    """A value as a reviewer reads and types it: lists joined with 、, a tree numbered one item a line, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, list) and value and not isinstance(value[0], str):
        from extractors.numbering import format_items

        return format_items(_tree(value))
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def as_json(value: Any) -> str | None:
    """A value as `field_corrections` stores it: models and dates as the document JSON writes them; None for no value."""
    return None if value is None else json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    """A date, a meeting time or a model (tree items, a receipt stamp) inside a value, as its document JSON."""
    from schemas.letter import minutes_iso

    if isinstance(value, datetime.datetime):
        return minutes_iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value.model_dump(mode="json")


def parse_value(name: str, text: str) -> str | datetime.date | list[str] | list[dict[str, Any]] | None:
    """What a reviewer typed, as the field's value; blank is no value (the field was not printed)."""
    if name not in CORRECTABLE:
        raise CorrectionError(f"{name}: not a field that can be corrected here (one of {', '.join(CORRECTABLE)})")
    if len(text) > MAX_VALUE:
        raise CorrectionError(f"{label_of(name)}: at most {MAX_VALUE} characters")
    text = text.strip()
    if not text:
        return None
    if name in DATE_FIELDS:
        from extractors.dates import parse_date

        day = parse_date(text)
        if day is None:
            try:
                day = datetime.date.fromisoformat(text)
            except ValueError:
                raise CorrectionError(
                    f"{label_of(name)}: not a date: {text!r} (e.g. 112/05/30, 民國112年5月30日 or 2023-05-30)"
                ) from None
        return day
    if name in LIST_FIELDS:
        parts = [p.strip() for p in text.replace("，", LIST_SEPARATOR).replace(",", LIST_SEPARATOR).split(LIST_SEPARATOR)]
        return [p for p in parts if p] or None
    if name in TREE_FIELDS:
        from extractors.numbering import parse_items

        return [item.model_dump() for item in parse_items(text.splitlines())] or None
    return text


def set_value(doc: Document, name: str, value: Any) -> None:
    head, _, part = name.partition(".")
    if part:
        from schemas.letter import Contact

        contact = doc.contact or Contact()
        setattr(contact, part, value)
        doc.contact = contact if any(v is not None for v in contact.model_dump().values()) else None
    else:
        if name in DATE_FIELDS and isinstance(value, str):  # a stored correction: its JSON's ISO text
            value = datetime.date.fromisoformat(value)
        setattr(doc, head, _tree(value) if name in TREE_FIELDS and value else value)
        if doc.notices and name in FIRST_NOTICE:  # else show and the search text keep what was corrected away
            setattr(doc.notices[0], name, getattr(doc, name))


def latest(session: Session, doc_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Document id → field → its latest corrected value, for the documents that have corrections."""
    ids = sorted(set(doc_ids))
    if not ids:
        return {}
    newest = (
        select(func.max(FieldCorrection.id))
        .where(FieldCorrection.document_id.in_(ids))
        .group_by(FieldCorrection.document_id, FieldCorrection.field)
    )
    out: dict[int, dict[str, Any]] = {}
    for row in session.execute(
        select(FieldCorrection.document_id, FieldCorrection.field, FieldCorrection.new_value)
        .where(FieldCorrection.id.in_(newest))
    ):
        out.setdefault(row.document_id, {})[row.field] = json.loads(row.new_value) if row.new_value else None
    return out


def as_read(session: Session, doc_id: int) -> dict[str, Any]:
    """Field → the value the extractor read, for the party lists a reviewer corrected (正本, 副本, 出席者,
    列席者): the party rows follow the corrections (`_reindex_parties`), so what was read is the
    first correction's old value."""
    first = (
        select(func.min(FieldCorrection.id))
        .where(FieldCorrection.document_id == doc_id, FieldCorrection.field.in_(list(LIST_FIELDS)))
        .group_by(FieldCorrection.field)
    )
    return {
        row.field: json.loads(row.old_value) if row.old_value else None
        for row in session.execute(select(FieldCorrection.field, FieldCorrection.old_value).where(FieldCorrection.id.in_(first)))
    }


def apply(doc: Document, corrected: dict[str, Any]) -> None:
    """Show the corrected values instead of the extracted ones; a reviewed field is certain (confidence 1)."""
    for name, value in corrected.items():
        if name in CORRECTABLE:
            set_value(doc, name, value)
        doc.confidence[name] = 1.0


def apply_to_hits(session: Session, hits: Sequence[Any]) -> None:
    """Search hits show the corrected subject, sender, recipient, 字號 and date (pipeline.search.Hit)."""
    found = latest(session, (h.id for h in hits))
    for hit in hits:
        for name, value in found.get(hit.id, {}).items():
            if name in ("subject", "sender", "recipient", "doc_number", "issue_date") or (
                name == "title" and hit.kind == "form"
            ):
                setattr(hit, "subject" if name == "title" else name, value)


@dataclass
class Correction:
    id: int
    document_id: int
    field: str
    old: Any
    new: Any
    actor: str
    at: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "document_id": self.document_id, "field": self.field, "old": self.old,
                "new": self.new, "actor": self.actor, "at": self.at}


def _correction(row: FieldCorrection) -> Correction:
    return Correction(
        row.id, row.document_id, row.field, json.loads(row.old_value) if row.old_value else None,
        json.loads(row.new_value) if row.new_value else None, row.actor, row.at.isoformat(),
    )


def history(session: Session, doc_id: int) -> list[Correction]:
    """Every correction of the document, oldest first (the audit log of its corrections)."""
    rows = session.scalars(
        select(FieldCorrection).where(FieldCorrection.document_id == doc_id).order_by(FieldCorrection.id)
    )
    return [_correction(r) for r in rows]


def correct(archive: Archive, doc_id: int, name: str, text: str, actor: str) -> Correction:
    """Record `actor`'s value for field `name` of document `doc_id` (the value shown until now kept as `old`)."""
    from pipeline.show import load_document

    value = parse_value(name, text)
    with archive.session() as session, session.begin():
        doc = load_document(session, doc_id)
        if doc is None:
            raise CorrectionError(f"#{doc_id} is not in the archive")
        if name.startswith("contact.") and doc.kind != "letter":
            raise CorrectionError(f"{label_of(name)}: #{doc_id} is not a letter")
        row = FieldCorrection(
            document_id=doc_id, field=name, old_value=as_json(value_of(doc, name)), new_value=as_json(value),
            actor=actor, at=datetime.datetime.now(datetime.UTC),
        )
        session.add(row)
        session.flush()
        _reindex(archive, session, doc_id)
        return _correction(row)


def _reindex(archive: Archive, session: Session, doc_id: int) -> None:
    """Make the document findable by its corrected text: its search text and index tokens written anew
    (as ingest writes them, pipeline/rows.py) from the document as shown, and its parties (the
    `--sender`/`--recipient` filters, the counts per sender) too. The letter's identity keys stay
    what was read: a later copy of the same letter must still be known as one."""
    from sqlalchemy import text

    from pipeline.matching import SearchText, party_names, search_rows, search_text
    from pipeline.rows import Rows, organisation_of
    from pipeline.show import load_document
    from pipeline.writer import writer_for

    doc = load_document(session, doc_id)
    assert doc is not None
    canonical = {name: organisation_of(name) for _, name in party_names(doc)}
    made = search_rows(doc_id, search_text(doc, canonical), archive.dialect)
    if archive.dialect == "postgresql":
        session.execute(text("DELETE FROM document_grams WHERE document_id = :i"), {"i": doc_id})
    else:
        # a contentless FTS5 table forgets a row by being told the tokens it was given (FTS5's 'delete')
        old = session.execute(text("SELECT subject, parties, meta, body FROM document_text WHERE document_id = :i"),
                              {"i": doc_id}).first()
        if old is not None:
            tokens = search_rows(doc_id, SearchText(*old), "sqlite")["document_grams"]
            session.execute(text("INSERT INTO document_grams (document_grams, rowid, subject, parties, rest) "
                                 "VALUES ('delete', :rowid, :subject, :parties, :rest)"), tokens)
    session.execute(text("DELETE FROM document_text WHERE document_id = :i"), {"i": doc_id})
    rows = Rows()
    for table, row in made.items():
        rows.tables[table].append(row)
    writer_for(archive).write(session.connection(), rows)
    _reindex_parties(session, doc_id, doc, canonical)


def _reindex_parties(session: Session, doc_id: int, doc: Document, canonical: dict[str, str | None]) -> None:
    """The document's party rows as shown (a corrected 發文機關 or 正本 list), as ingest writes them. A name
    is linked to its body when the archive already knows the body; else it is found by its names alone
    (new organisations get their ids from ingest, which numbers them itself)."""
    from pipeline.rows import party_rows

    bodies = {c for c in canonical.values() if c}
    known = dict(session.execute(select(Organisation.name, Organisation.id).where(Organisation.name.in_(bodies))).all())
    session.execute(delete(Party).where(Party.document_id == doc_id))
    rows = party_rows(doc_id, doc, lambda name: known.get(canonical.get(name) or ""))
    if rows:
        session.execute(insert(Party), rows)


@dataclass
class ReviewItem:
    """One doubtful field: where it is and what it reads now."""

    document_id: int
    field: str
    label: str
    confidence: float
    value: str
    correctable: bool
    sender: str | None
    doc_number: str | None
    subject: str | None
    boxes: list[FieldBox] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"document_id": self.document_id, "field": self.field, "label": self.label,
                "confidence": self.confidence, "value": self.value, "correctable": self.correctable,
                "sender": self.sender, "doc_number": self.doc_number, "subject": self.subject,
                "boxes": [b.model_dump() for b in self.boxes]}


def review_list(session: Session, threshold: float = REVIEW_THRESHOLD, limit: int = REVIEW_LIMIT) -> tuple[list[ReviewItem], int]:
    """(fields below `threshold` that no one has reviewed, worst first then by document; how many in all)."""
    from pipeline.show import load_document

    reviewed = select(FieldCorrection.id).where(
        FieldCorrection.document_id == FieldConfidence.document_id, FieldCorrection.field == FieldConfidence.field
    ).exists()
    doubtful = (FieldConfidence.value < threshold, ~reviewed)
    total = session.scalar(select(func.count()).select_from(FieldConfidence).where(*doubtful)) or 0
    rows = session.execute(
        select(FieldConfidence.document_id, FieldConfidence.field, FieldConfidence.value)
        .where(*doubtful)
        .order_by(FieldConfidence.value, FieldConfidence.document_id, FieldConfidence.field)
        .limit(limit)
    ).all()
    docs: dict[int, Document | None] = {}
    out: list[ReviewItem] = []
    for doc_id, name, confidence in rows:
        if doc_id not in docs:
            docs[doc_id] = load_document(session, doc_id)
        doc = docs[doc_id]
        if doc is None:
            continue
        out.append(ReviewItem(
            doc_id, name, label_of(name), confidence,
            as_text(value_of(doc, name)) if name in CORRECTABLE else as_json(value_of(doc, name)) or "",
            name in CORRECTABLE, doc.sender, doc.doc_number, doc.subject or doc.title,
            list((doc.boxes or {}).get(name, [])),
        ))
    return out, total


# -- golden export --------------------------------------------------------------------

GOLDEN_LEFT_OUT = ("confidence", "boxes", "sender_code")  # what goldens do not hold (samples/GOLDEN.md)


def _golden_document(doc: Document, pages: list[int]) -> dict[str, Any]:
    data = doc.model_dump(mode="json", exclude=set(GOLDEN_LEFT_OUT))
    data["pages"] = pages
    return data


def export_goldens(archive: Archive, directory: Path, everything: bool = False) -> list[Path]:
    """Golden JSON (and the PDF beside it) for every file holding a corrected document (`everything`: every
    stored PDF); returns the JSON files written. Values are what the archive shows, corrections applied."""
    from pipeline.show import load_document

    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    used: set[str] = {p.name for p in directory.iterdir()}
    with archive.session() as session:
        query = select(StoredFile).where(StoredFile.status == "stored", StoredFile.store_path.is_not(None))
        if not everything:
            corrected_files = (
                select(Appearance.file_id).join(FieldCorrection, FieldCorrection.document_id == Appearance.document_id)
            )
            query = query.where(StoredFile.id.in_(corrected_files))
        for stored in session.scalars(query.order_by(StoredFile.id)):
            source = archive.files / str(stored.store_path)
            if source.suffix.lower() != ".pdf" or not source.is_file():
                continue  # a DI file's letter has no pages to compare; an original no longer kept
            name = Path(stored.path.replace("\\", "/")).stem or stored.sha256[:12]
            stem, n = name, 1
            while f"{stem}.pdf" in used or f"{stem}.json" in used:
                n += 1
                stem = f"{name}-{n}"
            used |= {f"{stem}.pdf", f"{stem}.json"}
            documents: list[dict[str, Any]] = []
            for appearance in session.scalars(
                select(Appearance).where(Appearance.file_id == stored.id).order_by(Appearance.position)
            ):
                doc = load_document(session, appearance.document_id)
                if doc is not None:
                    documents.append(_golden_document(doc, [appearance.page_first, appearance.page_last]))
            shutil.copyfile(source, directory / f"{stem}.pdf")
            target = directory / f"{stem}.json"
            target.write_text(
                json.dumps({"file": f"{stem}.pdf", "pages": stored.pages, "documents": documents}, ensure_ascii=False,
                           indent=1) + "\n", encoding="utf-8")
            written.append(target)
    return written


def documents_with_corrections(session: Session) -> int:
    return session.scalar(select(func.count(func.distinct(FieldCorrection.document_id)))) or 0

