"""The archive's tables as SQLAlchemy 2.0 ORM models (what `gongwen ingest` stores).

One row per input file (by sha256), one row per letter or form (`documents`), and the
parts of a letter that analysts filter, join or count on in tables of their own: the
說明/辦法 tree, the parties (each linked to a gazetteer organisation when it is known),
dates, the 字號 it cites (an edge of the letter graph once the cited letter is in the
archive), receipt stamps and per-field confidence.

A letter can arrive in several PDFs (a forwarded copy inside a cover letter, then the
original): it is stored once and each copy is an `appearances` row with its own pages and
receipt stamp. The normalised search text lives in `document_text`; the dialect-specific
full-text indexes over it are built by the migrations and used by `pipeline/search.py`.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from schemas.statuses import USER_ROLES as USER_ROLES

# Stable constraint names: migrations can name what they alter, on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# file statuses: stored (read and extracted), failed (readable, extraction failed: retried on
# the next run), quarantined (not a usable PDF: corrupt, encrypted, empty, not a PDF)
FILE_STATUSES = ("stored", "failed", "quarantined")
# item sections: 說明, 辦法, a meeting notice's 備註
ITEM_SECTIONS = ("explanation", "measures", "notes")
# party roles, in the order a letter prints them
PARTY_ROLES = ("sender", "recipient", "attendee", "observer", "cc_main", "cc_copy", "compiler", "distribution")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class StoredFile(Base):
    """One input PDF, known by its content; the original is kept at `store_path`."""

    __tablename__ = "files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)  # as given the first time it was ingested
    store_path: Mapped[str | None] = mapped_column(String(200))  # relative to the file store
    size: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    text_source: Mapped[str | None] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(Text)
    ingested_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    appearances: Mapped[list[Appearance]] = relationship(back_populates="file", order_by="Appearance.position")


class Organisation(Base):
    """A body of the gazetteer (canonical full name) that some party of a stored letter names."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str | None] = mapped_column(String(40))
    parent: Mapped[str | None] = mapped_column(String(200))


class DocumentRow(Base):
    """One letter or form with every field of docs/document-json.md as printed; `*_key` columns are matching forms."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_issue_date_id", "issue_date", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"), index=True)  # where it first arrived
    position: Mapped[int] = mapped_column(Integer)  # 0-based order inside that file
    kind: Mapped[str] = mapped_column(String(8), index=True)
    page_first: Mapped[int] = mapped_column(Integer)
    page_last: Mapped[int] = mapped_column(Integer)

    file_code: Mapped[str | None] = mapped_column(Text)
    retention: Mapped[str | None] = mapped_column(Text)
    sender: Mapped[str | None] = mapped_column(Text)
    sender_code: Mapped[str | None] = mapped_column(String(40))  # 機關代碼, from a DI file (migration 0007)
    doc_type: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str | None] = mapped_column(Text)
    issue_date: Mapped[datetime.date | None] = mapped_column(Date)
    doc_number: Mapped[str | None] = mapped_column(String(200))
    # normalize_doc_number(doc_number): what citations and `--number` look up
    doc_number_key: Mapped[str | None] = mapped_column(String(200), index=True)
    # sender (canonical organisation when known) + doc_number_key: one letter, however many copies
    letter_key: Mapped[str | None] = mapped_column(String(450), unique=True)
    speed: Mapped[str | None] = mapped_column(String(20), index=True)
    security: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    signatory: Mapped[str | None] = mapped_column(Text)
    # a notice's numbered 主旨 blocks (`Document.notices`) as JSON text, read back whole (migration 0011)
    notices: Mapped[str | None] = mapped_column(Text)

    contact_address: Mapped[str | None] = mapped_column(Text)
    contact_unit: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(Text)
    contact_title: Mapped[str | None] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(Text)
    contact_fax: Mapped[str | None] = mapped_column(Text)
    contact_email: Mapped[str | None] = mapped_column(Text)

    meeting_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    meeting_place: Mapped[str | None] = mapped_column(Text)
    chair: Mapped[str | None] = mapped_column(Text)

    form_number: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    compiler: Mapped[str | None] = mapped_column(Text)
    period: Mapped[str | None] = mapped_column(Text)
    due: Mapped[str | None] = mapped_column(Text)

    deadline: Mapped[datetime.date | None] = mapped_column(Date)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    # a later version of a letter (same sender and 字號, other text) points at the letter's
    # first row, the one with letter_key; text_key tells a copy (same text) from a version
    version_of: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    text_key: Mapped[str | None] = mapped_column(String(64))

    file: Mapped[StoredFile] = relationship()
    items: Mapped[list[ItemRow]] = relationship(
        back_populates="document", order_by="ItemRow.seq", cascade="all, delete-orphan"
    )
    parties: Mapped[list[Party]] = relationship(order_by="Party.id", cascade="all, delete-orphan")
    dates: Mapped[list[DateRow]] = relationship(order_by="DateRow.position", cascade="all, delete-orphan")
    citations: Mapped[list[Citation]] = relationship(
        foreign_keys="Citation.document_id", order_by="Citation.position", cascade="all, delete-orphan"
    )
    appearances: Mapped[list[Appearance]] = relationship(
        back_populates="document", order_by="Appearance.id", cascade="all, delete-orphan"
    )
    confidences: Mapped[list[FieldConfidence]] = relationship(cascade="all, delete-orphan")
    boxes: Mapped[list[FieldBoxRow]] = relationship(cascade="all, delete-orphan")


class Appearance(Base):
    """A copy of a document inside one file, with its page range there."""

    __tablename__ = "appearances"
    __table_args__ = (UniqueConstraint("file_id", "position", name="uq_appearances_file_id_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id"))
    position: Mapped[int] = mapped_column(Integer)
    page_first: Mapped[int] = mapped_column(Integer)
    page_last: Mapped[int] = mapped_column(Integer)

    document: Mapped[DocumentRow] = relationship(back_populates="appearances")
    file: Mapped[StoredFile] = relationship(back_populates="appearances")
    received: Mapped[ReceivedStamp | None] = relationship(back_populates="appearance", uselist=False)


class ItemRow(Base):
    """One numbered item of 說明/辦法/備註; `seq` is its place in the section read top to bottom."""

    __tablename__ = "items"
    __table_args__ = (Index("ix_items_document_id_section_seq", "document_id", "section", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    section: Mapped[str] = mapped_column(String(12))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    seq: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)  # among its siblings
    depth: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)

    document: Mapped[DocumentRow] = relationship(back_populates="items")


class Party(Base):
    """A body or person a document names in one role, as printed, and its organisation if known."""

    __tablename__ = "parties"
    __table_args__ = (
        Index("ix_parties_document_id_role", "document_id", "role"),
        # `--sender`/`--recipient` scan this index (role, then name) rather than the table
        Index("ix_parties_role_name_key", "role", "name_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    role: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)  # normalize_for_match(name), lower case
    with_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    organisation: Mapped[Organisation | None] = relationship()


class _InDocumentOrder:
    """Rows of what a document mentions, in the order it does (dates, cited 字號): read back by document, position."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int] = mapped_column(Integer)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (Index(f"ix_{cls.__tablename__}_document_id_position", "document_id", "position"),)  # type: ignore[attr-defined]


class DateRow(_InDocumentOrder, Base):
    """A date printed in a document and its calendar value."""

    __tablename__ = "dates"

    text: Mapped[str] = mapped_column(Text)
    date: Mapped[datetime.date] = mapped_column(Date, index=True)


class Citation(_InDocumentOrder, Base):
    """A 字號 a document cites; `cited_id` is set once a document with that number is stored."""

    __tablename__ = "citations"

    doc_number: Mapped[str] = mapped_column(String(200))  # as the extractor gives it
    doc_number_key: Mapped[str] = mapped_column(String(200), index=True)
    cited_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)

    cited: Mapped[DocumentRow | None] = relationship(foreign_keys=[cited_id])


class ReceivedStamp(Base):
    """A receipt stamp (收文) on one copy of a document."""

    __tablename__ = "received_stamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    appearance_id: Mapped[int] = mapped_column(ForeignKey("appearances.id"), unique=True)
    org: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime.date | None] = mapped_column(Date)
    number: Mapped[str | None] = mapped_column(String(200))

    appearance: Mapped[Appearance] = relationship(back_populates="received")


class FieldConfidence(Base):
    """How sure the extractor was of one field of one document (0..1)."""

    __tablename__ = "field_confidences"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class FieldBoxRow(Base):
    """Where one field was printed, on one page of the document's first file (migration 0010).

    The box is in fractions of the page's width and height, origin top left
    (docs/document-json.md#boxes); `position` orders a field's boxes (one per page).
    """

    __tablename__ = "field_boxes"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    page: Mapped[int] = mapped_column(Integer)
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)


class FieldCorrection(Base):
    """A reviewer's correction of one field (migration 0010): append-only, the latest per field wins.

    Kept apart from the documents row, which stays what the extractor read; `old_value` is what
    was shown before (the extracted value or an earlier correction), values as JSON text.
    """

    __tablename__ = "field_corrections"
    __table_args__ = (Index("ix_field_corrections_document_id_field", "document_id", "field", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class DocumentText(Base):
    """Search text of a document: normalize_for_match + lower case, items one per line.

    Kept apart from the printed fields (which are never rewritten); the full-text indexes
    over it differ by dialect and are created by the migrations (see pipeline/search.py).
    Columns are '' rather than NULL so that they concatenate.
    """

    __tablename__ = "document_text"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(Text, default="")  # 主旨, or a form's title
    parties: Mapped[str] = mapped_column(Text, default="")  # every party, and its canonical name
    meta: Mapped[str] = mapped_column(Text, default="")  # 字號, 表號, 附件, signatory, contact, place
    body: Mapped[str] = mapped_column(Text, default="")  # 說明, 辦法, 備註


# -- routing (docs/routing.md) ------------------------------------------------------

TASK_EVENT_ACTIONS = ("created", "claimed", "done", "rejected", "reassigned", "stale", "matches-again")
ROUTE_OUTCOMES = ("routed", "triage", "ignored", "filed")  # filed: a clerk took it out of triage


class AssociationRow(Base):
    """A body of the routing registry (config/associations.yaml), synced on every `gongwen route`.

    Never deleted: a body dropped from the registry keeps its tasks and is marked inactive.
    """

    __tablename__ = "associations"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    tags: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    contact: Mapped[str | None] = mapped_column(Text)  # JSON object
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class RoutedDocument(Base):
    """That a document has been routed, when, with what outcome and the report (JSON)."""

    __tablename__ = "routed_documents"
    __table_args__ = (Index("ix_routed_documents_outcome_document_id", "outcome", "document_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(12))
    due: Mapped[datetime.date | None] = mapped_column(Date)
    report: Mapped[str] = mapped_column(Text)
    routed_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class RoutingTask(Base):
    """One forwarding task: a document to pass on to one association. Never deleted."""

    __tablename__ = "routing_tasks"
    __table_args__ = (
        UniqueConstraint("document_id", "association_id", name="uq_routing_tasks_document_id_association_id"),
        Index("ix_routing_tasks_status_due_id", "status", "due", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    association_id: Mapped[str] = mapped_column(ForeignKey("associations.id"), index=True)
    rule: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    due: Mapped[datetime.date | None] = mapped_column(Date)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)  # its rule no longer asks for it
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class TaskEvent(Base):
    """The audit log of tasks: append-only (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "task_events"
    __table_args__ = (Index("ix_task_events_task_id_id", "task_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"))
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    from_assignee: Mapped[str | None] = mapped_column(String(200))
    to_assignee: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)



class Draft(Base):
    """An outgoing 轉知 letter written for a task (docs/routing.md#drafts); never changed.

    Its bytes are kept in the file store's `drafts/` folder under their sha256, so the web queue
    can hand out exactly what was recorded; `path` is where `gongwen draft -o` wrote it (None:
    standard output, or a download).
    """

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)  # the letter it forwards
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"))  # written for: its 受文者
    format: Mapped[str] = mapped_column(String(4))  # pdf or di
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    store_path: Mapped[str] = mapped_column(String(200))  # relative to the file store
    path: Mapped[str | None] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(String(200))  # its own 發文字號, when given
    issue_date: Mapped[datetime.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)


class DraftTask(Base):
    """A task a draft covers: its association is the draft's 受文者 or on its 正本."""

    __tablename__ = "draft_tasks"

    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("routing_tasks.id"), primary_key=True, index=True)


# -- the web application (docs/web.md) ---------------------------------------------


class User(Base):
    """A person who logs in to the web application; never deleted (the audit log names them)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(12))  # one of USER_ROLES
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, as argon2-cffi writes it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
