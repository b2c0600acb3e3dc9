"""A letter's lines in, a `Document` with every field of docs/letter.md#the-parts-of-a-letter out.

The letter is read the way a clerk reads it: a title line, a header of labelled fields
with the contact block at its right, then labelled sections (主旨, 說明, 辦法, 正本, 副本)
whose unlabelled lines continue the section above them, and a signature. A field that
was not printed stays `None`; a value found by a weaker rule carries a lower confidence.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from statistics import median

from extractors import glossary as g
from extractors.boxes import PageSizes, field_boxes
from extractors.checks import check_letter
from extractors.dates import find_dates, find_deadline, parse_date, parse_meeting_time
from extractors.di_table import as_letter_lines, is_di_table
from extractors.doc_numbers import find_doc_numbers, normalize_doc_number
from extractors.labels import match_label
from extractors.nlp import EMAIL, entities
from extractors.noise import read_receipt, split_noise
from extractors.numbering import item_texts, join_text, parse_items
from extractors.oneline import HeaderLine, find_header_line, is_loose_number
from extractors.parties import split_parties, split_title_name
from schemas.letter import Contact, DateMention, Document, Item, Notice
from schemas.page import Line

# Sections whose unlabelled following lines continue them.
_CONTINUED = {
    "attachments", "subject", "explanation", "measures", "cc_main", "cc_copy", "recipient",
    "meeting_place", "attendees", "observers", "notes", "contact.address", "security",
    "contact.phone", "contact.fax",  # a narrow contact column wraps `…轉` / `7213`
}
_BODY_KEYS = {"subject", "explanation", "measures", "cc_main", "cc_copy", "summary"}
_NOTICE_KEYS = ("subject", "explanation", "measures")
_MEETING_BODY_KEYS = {"subject", "notes", "attendees", "observers"}
_EMAIL_CHARS = re.compile(r"[A-Za-z0-9._%+\-@]+")
_RIGHT_COLUMN = 0.45  # share of the page width where the contact column starts

# `一、主旨：` opens one of several numbered 主旨 blocks of a notice
_NOTICE_BLOCK = re.compile(r"^\s*(?P<label>[一二三四五六七八九十]{1,3})\s*[、.．]\s*(?=主\s*旨\s*[:：;])")
# a category line of an association's notice (`【衛生法規及醫療業務】`): a heading, not a field's text
_CATEGORY = re.compile(r"^[【〔［\[][^】〕］\]]{1,30}[】〕］\]]$")
# the delegation stamp printed under a 主旨 (`本案依分層負責規定授權主管科長決行`): not the letter's text
_DELEGATION = re.compile(r"本案依\S{0,8}分層負責\S{0,14}決行$")
# a block run into the sentence before it (`…請查照。說明：(一)…`, `…辦理。二、主旨：…`)
_RUN_IN_BLOCK = re.compile(
    r"(?<=[。！？])\s*(?=(?:[一二三四五六七八九十]{1,3}\s*[、.．]\s*)?(?:主\s*旨|說\s*明|辦\s*法)\s*[:：])"
)
TITLE_RE = re.compile(r"^(?P<sender>.+?)\s*(?P<type>" + "|".join(g.DOC_TYPES) + r")\s*$")
_INLINE_LABEL = re.compile(
    r"\s+(?=(?:" + "|".join(g.label_pattern(v) for v in g.CONTACT_LABELS.values()) + r")\s*[:：])",
    re.IGNORECASE,
)


@dataclass
class _Section:
    key: str
    lines: list[str] = field(default_factory=list)
    line_objs: list[Line] = field(default_factory=list)
    label_line: Line | None = None  # where the label was printed

    def value_beside_label(self, line: Line) -> bool:
        """A label with nothing after it and its value printed in a column of its own on the label's row
        (a template that aligns every header value after the longest label)."""
        label = self.label_line
        return (
            not self.lines and label is not None and line.page == label.page and line.x0 > label.x0
            and abs(line.top - label.top) < 0.5 * max(label.size, 1.0)
        )


@dataclass
class _Reader:
    """State of the walk over a letter's lines."""

    page_width: float
    sections: dict[str, _Section] = field(default_factory=dict)
    current_left: str | None = None
    current_right: str | None = None
    body_started: bool = False
    cc_seen: bool = False
    signature: list[Line] = field(default_factory=list)
    notices: list[tuple[str, dict[str, _Section]]] = field(default_factory=list)

    def start_notice(self, label: str) -> None:
        """A numbered 主旨 block: the 主旨/說明 read so far belong to the block before it."""
        self._stash()
        self.notices.append((label, {}))

    def _stash(self) -> None:
        if self.notices:
            for key in _NOTICE_KEYS:
                if key in self.sections:
                    self.notices[-1][1][key] = self.sections.pop(key)

    def finish(self) -> None:
        """The first block's 主旨/說明 are the letter's `subject`/`explanation`."""
        self._stash()
        if self.notices:
            self.sections.update(self.notices[0][1])

    def open(self, key: str, first: str, line: Line, right: bool) -> None:
        section = self.sections.get(key)
        if section is None:
            section = self.sections[key] = _Section(key, label_line=line)
        if first.strip():
            section.lines.append(first.strip())
            section.line_objs.append(line)
        if right:
            self.current_right = key
        else:
            self.current_left = key

    def extend(self, text: str, line: Line, right: bool) -> bool:
        key = self.current_right if right else self.current_left
        if key is None:
            return False
        section = self.sections[key]
        if not (
            key in _CONTINUED or section.value_beside_label(line) or (key == "contact.email" and self._email_wraps(text))
        ):
            return False
        section.lines.append(text.strip())
        section.line_objs.append(line)
        return True

    def _email_wraps(self, text: str) -> bool:
        """A narrow contact column wraps a long address after its label or inside it: the next line of
        the column, made of address characters only, finishes the address while it is not yet whole."""
        piece = re.sub(r"\s+", "", text)
        so_far = "".join(self.sections["contact.email"].lines).replace(" ", "")
        if not _EMAIL_CHARS.fullmatch(piece):
            return False
        return not EMAIL.fullmatch(so_far) or piece.startswith((".", "@", "-"))

    def text(self, key: str) -> str | None:
        section = self.sections.get(key)
        if section is None:
            return None
        joined = ""
        for part in section.lines:
            joined = join_text(joined, part)
        return joined.strip() or None


_STRAY_QUOTES = "”“\"'’‘」『』`"


def find_title(lines: list[Line]) -> tuple[str | None, str | None, float]:
    """(sender, doc_type, confidence) from the title line: the largest text ending in a 文別."""
    header_end = len(lines)
    for i, line in enumerate(lines):
        hit = match_label(line.text, [g.HEADER_RES, g.BODY_RES])
        if hit and hit[0] not in ("file_code", "retention"):  # 檔號/保存年限 sit above the title
            header_end = i
            break
    candidates = [ln for ln in lines[:header_end] if TITLE_RE.match(ln.text.strip())]
    if not candidates:
        return None, None, 0.0
    best = max(candidates, key=lambda ln: ln.size)
    m = TITLE_RE.match(best.text.strip())
    assert m is not None
    sender = re.sub(r"\s+", "", m.group("sender")).rstrip(_STRAY_QUOTES)  # `臺中市政府地政局”函`
    sizes = [ln.size for ln in lines]
    conf = 0.95 if sizes and best.size >= max(sizes) - 0.5 else 0.7
    return sender, m.group("type"), conf


def _split_off_contact(rest: str, line: Line, reader: _Reader) -> str:
    """A header field read with the contact field beside it (`受文者：某公會　電  話：04-…`): the
    contact part goes to the contact block, the field keeps the rest."""
    parts = _contact_parts(rest)
    if len(parts) < 2 or match_label(parts[1], [g.CONTACT_RES]) is None:
        return rest
    for part in parts[1:]:
        hit = match_label(part, [g.CONTACT_RES])
        if hit:
            reader.open("contact." + hit[0], hit[1], line, right=True)
    return parts[0]


def _contact_parts(text: str) -> list[str]:
    """A contact line may hold two fields (`承辦人：王小明　電話：02-…`)."""
    return [p for p in _INLINE_LABEL.split(text) if p.strip()]


def _body_size(lines: list[Line]) -> float:
    sizes = [ln.size for ln in lines if len(ln.text) > 12]
    return median(sizes) if sizes else (median([ln.size for ln in lines]) if lines else 12.0)


_ALL_LABELS = [g.HEADER_RES, g.CONTACT_RES, g.BODY_RES, g.MEETING_RES]
_LABEL_WORDS = frozenset(
    w for table in (g.HEADER_LABELS, g.CONTACT_LABELS, g.BODY_LABELS, g.MEETING_LABELS) for ws in table.values() for w in ws
)


def rejoin_split_pieces(lines: list[Line]) -> list[Line]:
    """`檔　　號：X` is laid out as two pieces on one row (the spaces look like a column gap).

    Join a short piece with the next one on its row when together they start with a label
    and the piece alone does not, a label printed in a table cell without a colon with the
    value cell beside it (`開會時間 | 113年3月20日…`), and an agency's name with a 文別 set
    far to its right.
    """
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        same_row = nxt is not None and nxt.page == line.page and abs(nxt.top - line.top) < 0.5 * line.size
        split_label = (
            same_row
            and nxt is not None
            and len(line.text.strip()) <= 4
            and match_label(line.text, _ALL_LABELS) is None
            and match_label(line.text + nxt.text, _ALL_LABELS) is not None
        )
        label_cell = same_row and nxt is not None and re.sub(r"\s+", "", line.text) in _LABEL_WORDS
        # a title set as `臺北市政府　　　函`: the 文別 far to the right of the agency's name
        split_title = (
            same_row
            and nxt is not None
            and re.sub(r"\s+", "", nxt.text) in g.DOC_TYPES
            and abs(nxt.size - line.size) < 0.2 * line.size
            and TITLE_RE.match(line.text.strip()) is None
        )
        if nxt is not None and (split_label or split_title or label_cell):
            joint = "：" if label_cell else " "
            out.append(
                Line(
                    words=[*line.words, *nxt.words], text=line.text + joint + nxt.text, x0=line.x0, x1=nxt.x1,
                    top=min(line.top, nxt.top), bottom=max(line.bottom, nxt.bottom), size=line.size,
                    colour=line.colour, page=line.page,
                )
            )
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def split_run_in_blocks(lines: list[Line]) -> list[Line]:
    """One line per labelled block: a 說明 or a numbered 主旨 run into the sentence before it starts a line;
    each piece keeps the line's indent."""
    out: list[Line] = []
    for line in lines:
        out.extend(line.cut([m.start() for m in _RUN_IN_BLOCK.finditer(line.text) if m.start() > 0], placed=False))
    return out


def extract_letter(
    lines: list[Line], pages: tuple[int, int], page_width: float, page_sizes: PageSizes | None = None
) -> Document:
    """`page_sizes` (page number → width, height in points), when given, is for the fields' `boxes`."""
    split = split_noise(lines)
    text_lines = split.text_lines
    relaid = is_di_table(text_lines)
    if relaid:
        # the table's own cells (`正本`, `副本`) would read as stamped marks: only stamps are noise here
        stamps = {id(ln) for ln in split.stamp_lines}
        text_lines = as_letter_lines([ln for ln in lines if id(ln) not in stamps], page_width)
    text_lines = split_run_in_blocks(rejoin_split_pieces(text_lines))
    sender, doc_type, title_conf = find_title(text_lines)
    # a letter with a title line has its header there: a line that reads like a one-line header is its text
    header = find_header_line(text_lines) if sender is None else None
    if header is not None:
        sender, doc_type, title_conf = header.sender, header.doc_type, 0.85
    header_lines = {id(ln) for ln in header.lines} if header else set()
    is_meeting = doc_type is not None and "通知單" in doc_type
    body_size = _body_size(text_lines)
    reader = _Reader(page_width)
    tables = [g.HEADER_RES, g.BODY_RES, *([g.MEETING_RES] if is_meeting else [])]
    title_line_seen = False
    title_lines: list[Line] = list(header.lines) if header else []

    for line in text_lines:
        text = line.text.strip()
        compact = re.sub(r"\s+", "", text)
        if id(line) in header_lines or _CATEGORY.match(compact) or _DELEGATION.match(compact):
            continue
        notice = _NOTICE_BLOCK.match(text)
        if notice:
            reader.start_notice(notice.group("label"))
            text = text[notice.end() :]
        right = line.x0 > _RIGHT_COLUMN * page_width and not reader.body_started
        if not title_line_seen and sender and TITLE_RE.match(text) and re.sub(r"\s+", "", text).startswith(sender):
            title_line_seen = True
            title_lines = [line]
            continue
        contact_hit = match_label(text, [g.CONTACT_RES]) if not reader.body_started else None
        if contact_hit and (right or not match_label(text, tables)):
            for part in _contact_parts(text):
                hit = match_label(part, [g.CONTACT_RES])
                if hit:
                    reader.open("contact." + hit[0], hit[1], line, right=True)
            continue
        hit = match_label(text, tables)
        if hit:
            key, rest = hit
            if not reader.body_started and key in g.HEADER_LABELS:
                rest = _split_off_contact(rest, line, reader)
            if key in _BODY_KEYS or (is_meeting and key in _MEETING_BODY_KEYS):
                reader.body_started = True
            if key in ("cc_main", "cc_copy"):
                reader.cc_seen = True
            if key == "subject" and "subject" in reader.sections:
                # 開會通知單 may print 主旨 and 開會事由; the first wins
                key = "subject_extra"
            reader.open(key, rest, line, right=False)
            continue
        if reader.body_started and _is_signature(line, reader, body_size, page_width):
            reader.signature.append(line)
            continue
        if reader.signature and reader.cc_seen:
            # after the signature only stray lines remain
            continue
        reader.extend(text, line, right)
    reader.finish()
    if header is not None:
        _take_header_line(reader, header)

    doc = Document(kind="letter", pages=list(pages), sender=sender, doc_type=doc_type)
    conf: dict[str, float] = {}
    if sender:
        conf["sender"] = title_conf
        conf["doc_type"] = title_conf
    _fill_header(doc, reader, conf)
    _fill_contact(doc, reader, conf)
    if is_meeting:
        _fill_meeting_contact(doc, reader, conf)
    _fill_body(doc, reader, conf, is_meeting)
    year = _year_of(doc.issue_date)
    doc.received = read_receipt(split.stamp_lines, year)
    if doc.received:
        conf["received"] = 0.9
    fill_derived(doc, conf, year, reader.text("issue_date"), reader.text("meeting_time"))
    check_letter(doc, conf, reader.text("issue_date"))
    _cap_by_reading(conf, reader, split.stamp_lines)
    doc.confidence = {k: round(v, 3) for k, v in conf.items()}
    if page_sizes and not relaid:  # a DI print-out's table is laid out anew: its lines are not where it printed
        doc.boxes = field_boxes(_sources(doc, reader, title_lines, split.stamp_lines), page_sizes) or None
    return doc


def _sources(doc: Document, reader: _Reader, title_lines: list[Line], stamp_lines: list[Line]) -> dict[str, list[Line]]:
    """The lines each field with a value was read from, under its confidence's key."""
    out: dict[str, list[Line]] = {}
    if doc.sender:
        out["sender"] = out["doc_type"] = title_lines
    contact = doc.contact.model_dump() if doc.contact else {}
    contact_lines: list[Line] = []
    for key, section in reader.sections.items():
        name = "subject" if key == "subject_extra" and "subject" not in reader.sections else key
        if key.startswith("contact."):
            part = key.removeprefix("contact.")
            contact_lines.extend(section.line_objs)
            for sub in (part, "title") if part == "name" else (part,):
                if contact.get(sub):
                    out[f"contact.{sub}"] = section.line_objs
        elif key == "meeting_contact":
            contact_lines.extend(section.line_objs)
        elif name in Document.model_fields and getattr(doc, name) is not None:
            out[name] = section.line_objs
    if doc.contact and contact_lines:
        out["contact"] = contact_lines
    if doc.signatory:
        out["signatory"] = reader.signature
    if doc.received:
        out["received"] = stamp_lines
    return out


def _take_header_line(reader: _Reader, header: HeaderLine) -> None:
    """A one-line header's date and 字號, where no labelled field gave them."""
    for key, value in (("issue_date", header.date_text), ("doc_number", header.number_text)):
        if value and key not in reader.sections:
            reader.sections[key] = _Section(key, [value], list(header.lines))


def _cap_by_reading(conf: dict[str, float], reader: _Reader, stamp_lines: list[Line]) -> None:
    """A field is no surer than the OCR engine was of the lines it was read from."""
    def lowest(lines: list[Line]) -> float:
        return min((ln.confidence for ln in lines), default=1.0)

    for key in list(conf):
        section = reader.sections.get(key)
        if section is not None:
            conf[key] = min(conf[key], lowest(section.line_objs))
    if "contact" in conf:
        parts = [ln for k, s in reader.sections.items() if k.startswith("contact.") for ln in s.line_objs]
        conf["contact"] = min(conf["contact"], lowest(parts))
    if "signatory" in conf:
        conf["signatory"] = min(conf["signatory"], lowest(reader.signature))
    if "received" in conf:
        conf["received"] = min(conf["received"], lowest(stamp_lines))


_SIGNATURE_TITLE = re.compile(r"^(?:代理)?[\u4e00-\u9fff]{0,4}(?:長|主任委員|主委)(?![\u4e00-\u9fff]{9})")


def _at_list_indent(line: Line, reader: _Reader, body_size: float) -> bool:
    """The line starts where the wrapped lines of the open 正本/副本 list start (after `正本：`)."""
    if reader.signature or reader.current_left not in ("cc_main", "cc_copy"):
        return False
    objs = reader.sections[reader.current_left].line_objs
    if not objs:
        return False
    first = objs[0]
    label = re.match(r"^\s*\S{1,4}?[:：]", first.text)
    per_char = (first.x1 - first.x0) / max(len(first.text), 1)
    starts = [ln.x0 for ln in objs[1:]] + ([first.x0 + per_char * label.end()] if label else [])
    return any(abs(line.x0 - x) < 0.8 * body_size for x in starts)


def _is_signature(line: Line, reader: _Reader, body_size: float, page_width: float) -> bool:
    """The 署名: larger than the body, or set to the right, short, without a label."""
    text = line.text.strip()
    compact = re.sub(r"\s+", "", text)
    if not compact or len(compact) > 30 or re.search(r"[:：，。；]", text):
        return False
    if re.search(r"[、]", text):
        return False
    bigger = line.size >= 1.2 * body_size
    to_right = line.x0 > 0.33 * page_width
    if reader.signature or reader.cc_seen:
        # after 正本/副本 a list's wrapped line sits at the hanging indent, a signature to the right
        # (a bigger line at the indent is the list going on: OCR boxes it taller beside a stamp)
        return (bigger and not _at_list_indent(line, reader, body_size)) or to_right
    # a notice without 正本/副本: a signature at the body's size is told by its title (理事長, 局長)
    return (bigger or _SIGNATURE_TITLE.match(compact) is not None) and to_right


def _fill_header(doc: Document, reader: _Reader, conf: dict[str, float]) -> None:
    doc.file_code = reader.text("file_code")
    doc.retention = reader.text("retention")
    doc.recipient = reader.text("recipient")
    for key in ("file_code", "retention", "recipient"):
        if getattr(doc, key):
            conf[key] = 0.95
    raw_date = reader.text("issue_date")
    if raw_date:
        parsed = parse_date(raw_date)
        if parsed is None:
            found = find_dates(raw_date)
            parsed = found[0].date if found else None
        if parsed:
            doc.issue_date = parsed
            conf["issue_date"] = 0.98
    raw_number = reader.text("doc_number")
    if raw_number:
        found_numbers = find_doc_numbers(raw_number)
        if found_numbers:
            doc.doc_number = found_numbers[0].normalized
            conf["doc_number"] = 0.98
        else:
            doc.doc_number = normalize_doc_number(raw_number)
            conf["doc_number"] = 0.85 if is_loose_number(raw_number) else 0.5
    speed = reader.text("speed")
    if speed:
        compact = re.sub(r"\s+", "", speed)
        known = next((s for s in g.SPEEDS if compact.startswith(s)), None)
        doc.speed = known or compact
        conf["speed"] = 0.98 if known else 0.4
    security = reader.text("security")
    if security:
        doc.security = security
        conf["security"] = 0.9 if any(security.startswith(s) for s in g.SECURITY_LEVELS) else 0.5
    attachments = reader.text("attachments")
    if attachments:
        doc.attachments = attachments
        conf["attachments"] = 0.9


def _fill_contact(doc: Document, reader: _Reader, conf: dict[str, float]) -> None:
    contact = Contact(
        address=reader.text("contact.address"),
        unit=reader.text("contact.unit"),
        phone=reader.text("contact.phone"),
        fax=reader.text("contact.fax"),
        email=reader.text("contact.email"),
    )
    raw_name = reader.text("contact.name")
    if raw_name:
        contact.title, contact.name = split_title_name(raw_name)
    for key in ("phone", "fax"):
        value = getattr(contact, key)
        if value:
            # a doubled hyphen is never printed in a number: OCR reads one dash as two
            setattr(contact, key, _DOUBLE_DASH.sub("-", _EDGE_SPECKS.sub("", value)) or None)
    email_fixed = False
    if contact.email:
        section = reader.sections.get("contact.email")
        # a text layer prints the address as it is: only OCR'd lines have readings to doubt
        read = section is not None and any(ln.confidence < 1.0 for ln in section.line_objs)
        contact.email, email_fixed = repair_email(re.sub(r"\s+", "", contact.email), ocr=read)
    if any(v is not None for v in contact.model_dump().values()):
        doc.contact = contact
        conf["contact"] = 0.9
        # a value under a contact label that does not look like what the label promises is kept,
        # but marked as doubtful
        for key, label in (("phone", "PHONE"), ("fax", "PHONE"), ("email", "EMAIL")):
            value = getattr(contact, key)
            if value:
                found = any(e.label == label for e in entities(value))
                conf[f"contact.{key}"] = 0.95 if found else 0.5
        if email_fixed:
            conf["contact.email"] = min(conf.get("contact.email", 0.7), 0.7)


_FIRST_DIGIT = re.compile(r"[(（]?\d")
_PHONE_LABEL = re.compile(r"(?:聯絡電話|電\s*話)\s*[:：]?\s*$")


def _fill_meeting_contact(doc: Document, reader: _Reader, conf: dict[str, float]) -> None:
    """`聯絡人及電話：黃雅琪 04-25265394#3321` (printed below the meeting fields) gives what the header did not."""
    raw = reader.text("meeting_contact")
    if not raw:
        return
    m = _FIRST_DIGIT.search(raw)
    who, phone = (raw[: m.start()], raw[m.start() :].strip()) if m else (raw, "")
    who = _PHONE_LABEL.sub("", who).strip(" ，,、　")
    contact = doc.contact or Contact()
    if who and not contact.name:
        contact.title, contact.name = split_title_name(who)
    if phone and not contact.phone:
        contact.phone = _EDGE_SPECKS.sub("", phone) or None
    if any(v is not None for v in contact.model_dump().values()):
        doc.contact = contact
        conf.setdefault("contact", 0.85)


_EDGE_SPECKS = re.compile(r"^[\s.,·:;]+|[\s.,·:;]+$")
_DOUBLE_DASH = re.compile(r"(?<=\d)[-－]{2,}(?=\d)")
_EMAIL_DOMAIN_ONE = re.compile(r"(?<=[a-z])1(?=[a-z])")
# in the user part, `l` and `1` are told apart only where both neighbours agree (y1hb213 → ylhb213,
# 20l5 → 2015) or a digit run ends the part (yutinglin90l → …901); A110627 / Al10627, at a
# letter-digit seam, stay as read
_USER_ONE = re.compile(r"(?<=[A-Za-z])1(?=[A-Za-z])")
_USER_ELL = re.compile(r"(?<=[0-9])l(?=[0-9]|$)")


def repair_email(email: str, ocr: bool = True) -> tuple[str, bool]:
    """Undo OCR misreadings that cannot be part of an address.

    `!` is never in an address and `:` never in a domain (both are a misread `l` / `.`), a `1`
    between letters of a domain is an `l` (h1shb.gov.tw), and `mai1` is `mail` (emai1.ncku.edu.tw).
    In the user part of an OCR'd address (`ocr`) only readings both neighbours agree on are
    changed (`_USER_ONE`, `_USER_ELL`). Returns (email, changed).
    """
    email = _EDGE_SPECKS.sub("", email)
    if email.count("@") != 1:
        return email, False
    user, domain = email.split("@")
    fixed_user = user.replace("!", "l")
    if ocr:
        fixed_user = _USER_ELL.sub("1", _USER_ONE.sub("l", fixed_user))
    fixed_domain = _EMAIL_DOMAIN_ONE.sub("l", domain.replace("!", "l").replace(":", ".").replace(",", "."))
    fixed_domain = re.sub(r"(?<![a-z])(e?)mai1(?![a-z0-9])", r"\1mail", fixed_domain)
    fixed = f"{fixed_user}@{fixed_domain}"
    return fixed, fixed != email


def _section_text(section: _Section | None) -> str:
    joined = ""
    for part in section.lines if section else []:
        joined = join_text(joined, part)
    return joined


def _items(reader: _Reader, key: str) -> list[Item] | None:
    section = reader.sections.get(key)
    if section is None or not section.lines:
        return None
    return parse_items(section.lines) or None


def _fill_body(doc: Document, reader: _Reader, conf: dict[str, float], is_meeting: bool) -> None:
    doc.subject = reader.text("subject") or reader.text("subject_extra")
    if doc.subject:
        doc.subject = _DELEGATION.sub("", doc.subject).strip() or None
    if len(reader.notices) > 1:
        doc.notices = [
            Notice(
                label=label,
                subject=_DELEGATION.sub("", _section_text(sections.get("subject"))).strip() or None,
                explanation=parse_items(sections["explanation"].lines) or None if "explanation" in sections else None,
                measures=parse_items(sections["measures"].lines) or None if "measures" in sections else None,
            )
            for label, sections in reader.notices
        ]
        conf["notices"] = 0.85
    if doc.subject:
        conf["subject"] = 0.95
    doc.explanation = _items(reader, "explanation")
    doc.measures = _items(reader, "measures")
    for key in ("explanation", "measures"):
        if getattr(doc, key):
            conf[key] = 0.9
    cc_main, flagged_main = split_parties(reader.text("cc_main"))
    cc_copy, flagged_copy = split_parties(reader.text("cc_copy"))
    if is_meeting:
        doc.attendees, flagged_a = split_parties(reader.text("attendees"))
        doc.observers, flagged_o = split_parties(reader.text("observers"))
        combined = [*(doc.attendees or []), *(doc.observers or []), *(cc_main or [])]
        cc_main = combined or None
        flagged_main = [*flagged_a, *flagged_o, *flagged_main]
        doc.notes = _items(reader, "notes")
        doc.meeting_place = reader.text("meeting_place")
        chair = reader.text("chair")
        doc.chair = chair
        raw_time = reader.text("meeting_time")
        if raw_time:
            when = parse_meeting_time(raw_time, _year_of(doc.issue_date))
            if when:
                doc.meeting_time = when
                conf["meeting_time"] = 0.9
        for key in ("attendees", "observers", "notes", "meeting_place", "chair"):
            if getattr(doc, key):
                conf[key] = 0.9
    doc.cc_main, doc.cc_copy = cc_main, cc_copy
    flagged = [*flagged_main, *flagged_copy]
    doc.cc_with_attachments = flagged or None
    for key in ("cc_main", "cc_copy"):
        if getattr(doc, key):
            conf[key] = 0.9
    if reader.signature:
        doc.signatory = " ".join(re.sub(r"\*+", "", ln.text).strip() for ln in reader.signature)
        conf["signatory"] = 0.75


def _own_text(doc: Document, raw_date: str | None, raw_meeting_time: str | None) -> list[str]:
    """The document's own prose, in reading order: where dates and citations are searched."""
    parts: list[str] = []
    if raw_date:
        parts.append(raw_date)
    for key in ("security", "attachments", "subject"):
        value = getattr(doc, key)
        if value:
            parts.append(value)
    if raw_meeting_time:
        parts.append(raw_meeting_time)
    for items in (doc.explanation, doc.measures, doc.notes):
        if items:
            parts.extend(item_texts(items))
    for notice in (doc.notices or [])[1:]:
        if notice.subject:
            parts.append(notice.subject)
        for items in (notice.explanation, notice.measures):
            if items:
                parts.extend(item_texts(items))
    return parts


def fill_derived(
    doc: Document, conf: dict[str, float], year: int | None, raw_date: str | None, raw_meeting_time: str | None = None
) -> None:
    """References, dates and deadline from the letter's own text; `raw_date` is the 發文日期 as printed.

    Shared with the DI reader (extractors/di.py), so that a letter has the same derived fields
    whether it arrived as a PDF or as a DI file.
    """
    texts = _own_text(doc, raw_date, raw_meeting_time)
    prose = texts[1:] if raw_date else texts
    own = doc.doc_number
    for text in prose:
        # the spaCy pipeline's DOC_NUMBER entities carry the normalised, ellipsis-expanded 字號
        for ent in entities(text):
            value = ent.canonical
            if ent.label == "DOC_NUMBER" and value and value != own and value not in doc.references:
                doc.references.append(value)
    if doc.references:
        conf["references"] = 0.9
    for text in texts:
        for found in find_dates(text, year):
            doc.dates.append(DateMention(text=found.text, date=found.date))
    deadline = None
    for text in prose:
        deadline = find_deadline(text, year)
        if deadline:
            break
    if deadline:
        doc.deadline = deadline
        conf["deadline"] = 0.8


def _year_of(day: datetime.date | None) -> int | None:
    return day.year if day else None
