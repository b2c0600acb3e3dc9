"""The document JSON (docs/document-json.md) as plain pydantic types.

Every stage after the reader produces or consumes these; the JSON printed by
`gongwen extract --json` is `FileResult.model_dump(mode="json")`. Dates are typed
(`datetime.date`, `datetime.datetime`): code works with dates, and only the JSON writes them as
ISO text (`YYYY-MM-DD`; `YYYY-MM-DDTHH:MM` for a meeting time).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer

DocumentKind = Literal["letter", "form", "other"]


def minutes_iso(when: datetime.datetime) -> str:
    """`2024-03-20T10:00`: a meeting time as the JSON has it, to the minute (no seconds)."""
    return when.isoformat(timespec="minutes")


# a date and time to the minute, written without seconds in the JSON (pydantic would add `:00`)
MinuteDateTime = Annotated[datetime.datetime, PlainSerializer(minutes_iso, return_type=str, when_used="json")]


class Contact(BaseModel):
    """The block at the right of the title: how to reach the clerk in charge."""

    address: str | None = None
    unit: str | None = None  # 承辦單位, when printed
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None


class Item(BaseModel):
    """One numbered item of 說明/辦法/備註; `label` is the number without its punctuation."""

    label: str
    text: str
    children: list[Item] = Field(default_factory=list)


class Notice(BaseModel):
    """One numbered 主旨 block of a notice that prints several (`一、主旨：…說明：…　二、主旨：…`)."""

    label: str
    subject: str | None = None
    explanation: list[Item] | None = None
    measures: list[Item] | None = None


class Received(BaseModel):
    """A receipt stamp (收文) put on the letter by the office that received it."""

    org: str | None = None
    date: datetime.date | None = None
    number: str | None = None


class DateMention(BaseModel):
    """A date as printed and its value."""

    text: str
    date: datetime.date


class FieldBox(BaseModel):
    """Where a field was printed: a page of the PDF (1-based) and a box on it.

    `box` is [x0, y0, x1, y1] as fractions (0..1) of the page's width and height, origin at the
    top left: the same whatever the page's size or the resolution it is drawn at (born-digital
    and OCR'd pages alike).
    """

    page: int
    box: list[float]


class Document(BaseModel):
    """One document inside a PDF: a letter, a statistical form or anything else."""

    kind: DocumentKind
    pages: list[int]  # [first, last], 1-based

    # the fields of a letter (docs/letter.md#the-parts-of-a-letter)
    file_code: str | None = None
    retention: str | None = None
    sender: str | None = None
    sender_code: str | None = None  # 機關代碼, given by a DI file only (a printed letter does not carry it)
    doc_type: str | None = None
    contact: Contact | None = None
    recipient: str | None = None
    issue_date: datetime.date | None = None
    doc_number: str | None = None
    speed: str | None = None
    security: str | None = None
    attachments: str | None = None
    subject: str | None = None
    explanation: list[Item] | None = None
    measures: list[Item] | None = None
    cc_main: list[str] | None = None
    cc_copy: list[str] | None = None
    cc_with_attachments: list[str] | None = None  # names that carried (含附件)
    signatory: str | None = None
    # every numbered 主旨 block of a notice that prints several, the first included (it is also
    # `subject`/`explanation`); null when the document has one 主旨
    notices: list[Notice] | None = None

    # 開會通知單
    meeting_time: MinuteDateTime | None = None
    meeting_place: str | None = None
    chair: str | None = None
    attendees: list[str] | None = None
    observers: list[str] | None = None
    notes: list[Item] | None = None

    # statistical forms
    form_number: str | None = None
    title: str | None = None
    compiler: str | None = None
    period: str | None = None
    due: str | None = None
    distribution: list[str] | None = None

    # other documents (brochures, attachments): their printed text, lines joined, for search
    text: str | None = None

    # derived
    received: Received | None = None
    references: list[str] = Field(default_factory=list)
    dates: list[DateMention] = Field(default_factory=list)
    deadline: datetime.date | None = None
    confidence: dict[str, float] = Field(default_factory=dict)
    # where each field was printed (its name, `contact.phone` inside the block → one box per page it covers); null when
    # unknown (a DI file, a form, a document stored before boxes were recorded)
    boxes: dict[str, list[FieldBox]] | None = None


class FileResult(BaseModel):
    """What `gongwen extract` says about one input file."""

    file: str
    sha256: str | None = None
    pages: int | None = None
    text_source: str | None = None  # which readers produced the text: pdfplumber, pypdfium2, ocr:ENGINE
    page_sources: list[str] = Field(default_factory=list)  # the same, page by page
    documents: list[Document] = Field(default_factory=list)
    error: str | None = None
