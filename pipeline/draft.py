"""The outgoing 轉知 letter for a routing task (docs/routing.md#drafts): the office's own 函 forwarding a letter.

The office (its name, 機關代碼, address, clerk, signatory) comes from `$GONGWEN_CONFIG_DIR/office.yaml`;
the letter from the forwarded one: 主旨 `轉知{原發文機關}{日期}{字號}函，{its 主旨}，請查照。`, 說明
`一、依據…函辦理。`, 正本 the associations of every task of that letter (one draft serves them all),
附件 the forwarded letter. Written as a PDF in the layout of a printed 函 (samples/render.py, the
renderer the sample letters are made with) or as a DI file (extractors/di.py); either reads back
as the same letter (`gongwen extract`).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractors.letter import fill_derived
from extractors.roc_calendar import roc_words
from schemas.letter import Contact, Document, Item

OFFICE_FILE = "office.yaml"
_KEYS = ("name", "code", "address", "unit", "clerk", "title", "phone", "fax", "email", "signatory", "copies")
# the request that closes a 主旨 (`，請查照。`, `，請查照並轉知所屬會員。`): the draft makes its own
_REQUEST = re.compile(r"[，,]?\s*請(?:\S{0,4})?查照[^，。]*。?$|[，,]?\s*請\S{0,8}辦理。?$|。$")
ATTACHMENT = "來函影本1份"


class DraftError(ValueError):
    """A draft that cannot be made; the message is the one line a user sees."""


@dataclass(frozen=True)
class Office:
    """The forwarding office as its letters print it."""

    name: str
    code: str | None = None
    address: str | None = None
    unit: str | None = None
    clerk: str | None = None
    title: str | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    signatory: str | None = None
    copies: tuple[str, ...] = field(default_factory=tuple)  # 副本 of every draft (the office's own file copy)


def load_office(path: Path) -> Office:
    """`office.yaml`: `office: {name, code, address, unit, clerk, title, phone, fax, email, signatory, copies}`."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DraftError(f"{path}: file not found (write the office's name and contact there: docs/routing.md#drafts)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DraftError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise DraftError(f"{path}: not YAML: {str(exc).splitlines()[0]}") from None
    office = data.get("office") if isinstance(data, dict) else None
    if not isinstance(office, dict):
        raise DraftError(f"{path}: needs an `office:` mapping (docs/routing.md#drafts)")
    unknown = sorted(set(office) - set(_KEYS))
    if unknown:
        raise DraftError(f"{path}: office: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
    if not isinstance(office.get("name"), str) or not office["name"].strip():
        raise DraftError(f"{path}: office: `name` (the office's full name) is required")
    values: dict[str, Any] = {k: (str(v).strip() if v is not None else None) for k, v in office.items() if k != "copies"}
    copies = office.get("copies") or []
    values["copies"] = tuple(str(c).strip() for c in ([copies] if isinstance(copies, str) else copies))
    return Office(**values)


def forwarding_letter(
    forwarded: Document, recipient: str, main: list[str], office: Office, day: datetime.date,
    number: str | None = None,
) -> Document:
    """The office's 函 forwarding `forwarded` to `recipient`, with `main` as its 正本 list."""
    if forwarded.kind != "letter":
        raise DraftError(f"a {forwarded.kind} is not forwarded with a 轉知 letter")
    when = roc_words(forwarded.issue_date) if forwarded.issue_date else ""
    origin = f"{forwarded.sender or ''}{when}{forwarded.doc_number or ''}函"
    gist = _REQUEST.sub("", (forwarded.subject or "").strip()).strip("，, ")
    explanation = [Item(label="一", text=f"依據{origin}辦理。")]
    if forwarded.deadline:
        explanation.append(Item(label="二", text=f"請於{roc_words(forwarded.deadline)}前依來函辦理。"))
    explanation.append(Item(label="三" if forwarded.deadline else "二", text="檢送來函影本1份，請轉知所屬會員。"))
    speed = forwarded.speed if forwarded.speed in ("最速件", "速件") else "普通件"
    contact = Contact(address=office.address, unit=office.unit, name=office.clerk, title=office.title,
                      phone=office.phone, fax=office.fax, email=office.email)
    doc = Document(
        kind="letter", pages=[], sender=office.name, sender_code=office.code, doc_type="函",
        contact=contact if any(v is not None for v in contact.model_dump().values()) else None,
        recipient=recipient, issue_date=day, doc_number=number, speed=speed,
        attachments=ATTACHMENT,
        subject=f"轉知{origin}，{gist}，請查照。" if gist else f"轉知{origin}，請查照。",
        explanation=explanation, cc_main=main or None, cc_copy=list(office.copies) or None,
        signatory=office.signatory,
    )
    conf: dict[str, float] = {}
    fill_derived(doc, conf, day.year, f"中華民國{roc_words(day)}")
    return doc


def letter_source(doc: Document) -> str:
    """The letter in the sample markup (samples/FORMAT.md), fields in the standard order of a 函."""
    lines = ["@doc letter", f"@title {doc.sender} {doc.doc_type or '函'}"]
    contact = doc.contact or Contact()
    person = " ".join(p for p in (contact.title, contact.name) if p)
    for label, value in (("地址", contact.address), ("承辦單位", contact.unit), ("承辦人", person),
                         ("電話", contact.phone), ("傳真", contact.fax), ("電子信箱", contact.email)):
        if value:
            lines.append(f"@contact {label}：{value}")
    date = f"中華民國{roc_words(doc.issue_date)}" if doc.issue_date else ""
    for label, value in (("受文者", doc.recipient), ("發文日期", date), ("發文字號", doc.doc_number),
                         ("速別", doc.speed), ("密等及解密條件或保密期限", doc.security), ("附件", doc.attachments),
                         ("主旨", doc.subject)):
        lines.append(f"{label}：{value or ''}")
    for label, items in (("說明", doc.explanation), ("辦法", doc.measures)):
        if items:
            lines.append(f"{label}：")
            lines.extend(_item_lines(items, 0))
    for label, names in (("正本", doc.cc_main), ("副本", doc.cc_copy)):
        if names:
            lines.append(f"{label}：{'、'.join(names)}")
    if doc.signatory:
        lines.append(f"@sign {doc.signatory}")
    return "\n".join(lines) + "\n"


def _item_lines(items: list[Item], depth: int) -> list[str]:
    out: list[str] = []
    for item in items:
        number = f"{item.label}、" if depth == 0 else f"({item.label})" if depth == 1 else f"{item.label}."
        out.append(f"{number if item.label else ''}{item.text}")
        out.extend(_item_lines(item.children, depth + 1))
    return out


def write_pdf(doc: Document, path: Path) -> None:
    """The letter as a born-digital A4 PDF, rendered like the sample letters (CJK fonts, §1 layout)."""
    from samples.generator import render_source

    render_source(letter_source(doc), path)


# -- drafts written for tasks, and recorded in the queue ------------------------------------

DRAFTS_DIR = "drafts"  # inside the file store: drafts/ab/cdef….pdf (fsck looks only at the originals' ab/ folders)
FORMATS = ("pdf", "di")
MEDIA_TYPES = {"pdf": "application/pdf", "di": "application/xml"}


@dataclass
class WrittenDraft:
    """A draft as written and recorded: its bytes, and the row that says which tasks it covers."""

    id: int
    task_id: int
    document_id: int
    format: str
    sha256: str
    store_path: str
    tasks: list[int]
    data: bytes

    @property
    def filename(self) -> str:
        """The name a download gets: the task, its scope, the format."""
        scope = f"task{self.task_id}" if self.tasks == [self.task_id] else f"doc{self.document_id}"
        return f"draft_{scope}.{self.format}"


@dataclass
class TaskLetter:
    """What a task's draft is made of: the letter it forwards, to whom, and which tasks it covers."""

    document_id: int
    forwarded: Document
    recipient: str  # the task's association, as letters print it: the 受文者
    main: list[str]  # the 正本
    covered: list[int]  # task ids, the task's own first when it is not among the letter's others


def task_letter(session: Any, task_id: int, alone: bool = False) -> TaskLetter | None:
    """The letter a task forwards and the draft's parties; None when there is no such task.

    A letter's draft (the default) has every association the letter has a task for (not rejected),
    in task order, on its 正本 and covers those tasks; `alone`, only the task's own association.
    """
    from sqlalchemy import select

    from pipeline.show import load_document
    from schemas.orm import AssociationRow, RoutingTask

    task = session.get(RoutingTask, task_id)
    if task is None:
        return None
    recipient = session.scalar(select(AssociationRow.name).where(AssociationRow.id == task.association_id))
    doc = load_document(session, task.document_id)
    if doc is None or recipient is None:
        return None
    if alone:
        return TaskLetter(task.document_id, doc, recipient, [recipient], [task_id])
    rows = session.execute(
        select(RoutingTask.id, AssociationRow.name)
        .join(AssociationRow, AssociationRow.id == RoutingTask.association_id)
        .where(RoutingTask.document_id == task.document_id, RoutingTask.status != "rejected")
        .order_by(RoutingTask.id)
    ).all()
    main = list(dict.fromkeys([n for _, n in rows] or [recipient]))
    covered = [i for i, _ in rows]
    if recipient not in main:  # a rejected task's own draft still goes to its association
        main.insert(0, recipient)
    if task_id not in covered:
        covered.insert(0, task_id)
    return TaskLetter(task.document_id, doc, recipient, main, covered)


def render(doc: Document, draft_format: str) -> bytes:
    """The draft's bytes: the printed 函 (PDF) or a DI file."""
    if draft_format == "di":
        from extractors.di import write_di

        return write_di(doc)
    if draft_format != "pdf":
        raise DraftError(f"unknown draft format {draft_format!r}: use one of {', '.join(FORMATS)}")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "draft.pdf"
        write_pdf(doc, pdf)
        return pdf.read_bytes()


def write_draft(
    archive: Any, task_id: int, draft_format: str, office: Office, day: datetime.date, *, actor: str,
    number: str | None = None, alone: bool = False, written_to: Path | None = None,
) -> WrittenDraft:
    """Make the draft for a task, keep its bytes in the file store and record it: which tasks it
    covers, and a `drafted` event under `actor`'s name in each one's history.

    The one function behind `gongwen draft` and the web queue's download. `written_to` is
    where the caller writes the bytes (recorded; None for standard output or a download).
    DraftError when there is no such task or its document is no letter.
    """
    import hashlib
    import tempfile

    from sqlalchemy import insert, select

    from pipeline.filestore import keep_original
    from schemas.orm import Draft, DraftTask, RoutingTask, TaskEvent

    with archive.session() as session:
        found = task_letter(session, task_id, alone)
    if found is None:
        raise DraftError(f"no such task: {task_id} (gongwen queue list shows them)")
    covered = found.covered
    try:
        doc = forwarding_letter(found.forwarded, found.recipient, found.main, office, day, number)
    except DraftError as exc:
        raise DraftError(f"task {task_id}: {exc}") from None
    data = render(doc, draft_format)
    sha = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as folder:
        staged = Path(folder) / f"draft.{draft_format}"
        staged.write_bytes(data)
        # durable before the rows naming it commit, as an original is
        rel = f"{DRAFTS_DIR}/{keep_original(staged, sha, archive.files / DRAFTS_DIR)}"
    now = datetime.datetime.now(datetime.UTC)
    with archive.write() as conn:
        draft_id = conn.execute(insert(Draft).returning(Draft.id), [{
            "document_id": found.document_id, "task_id": task_id, "format": draft_format, "sha256": sha,
            "size": len(data), "store_path": rel, "path": str(written_to.absolute()) if written_to else None,
            "number": number, "issue_date": day, "created_by": actor, "created_at": now,
        }]).scalar_one()
        conn.execute(insert(DraftTask), [{"draft_id": draft_id, "task_id": t} for t in covered])
        states = {r.id: r for r in conn.execute(
            select(RoutingTask.id, RoutingTask.status, RoutingTask.assignee).where(RoutingTask.id.in_(covered)))}
        others = len(covered) - 1
        note = (f"draft #{draft_id} ({draft_format}, {sha[:12]})"
                + (f" with {others} other task{'s' if others != 1 else ''} of the letter" if others else ""))
        conn.execute(insert(TaskEvent), [
            {"task_id": t, "at": now, "actor": actor, "action": "drafted", "from_status": states[t].status,
             "to_status": states[t].status, "from_assignee": states[t].assignee, "to_assignee": states[t].assignee,
             "note": note}
            for t in covered
        ])
    return WrittenDraft(int(draft_id), task_id, found.document_id, draft_format, sha, rel, covered, data)
