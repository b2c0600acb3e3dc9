"""Electronic letters: a DI file (XML under the 函 DTD, docs/letter.md#electronic-letters) read as a `Document`.

The exchange sends a letter as its elements, not as a page: every value is what the sender's
system wrote, so nothing is repaired, and the derived fields (dates, references, deadline)
come from the same texts as a printed letter's, by the same code (`extractors.letter.fill_derived`):
a letter has the same JSON whether it arrived as a DI file or as a PDF.

Parsing is safe by construction: no network, no DTD loaded, no entity expanded (lxml with
`resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False`). A DI file declares
only unparsed entities, one per attachment file (`<!ENTITY ATTCH1 SYSTEM "x.pdf" NDATA DI>`);
a file declaring any other entity (an internal text entity, as a billion-laughs file does; an
external one, `file:///etc/passwd`) or referring to one is refused whole.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from extractors import glossary as g
from extractors.checks import check_letter
from extractors.dates import parse_date
from extractors.di_table import assemble_doc_number, issue_date_text
from extractors.doc_numbers import normalize_doc_number
from extractors.labels import match_label
from extractors.letter import fill_derived
from extractors.numbering import join_text, match_number
from extractors.parties import split_parties, split_title_name
from extractors.roc_calendar import roc_words
from schemas.letter import Contact, Document, Item

ROOT = "函"
SECTIONS = {"說明": "explanation", "辦法": "measures", "備註": "notes"}  # 段落@段名 → Document field
READ = 1.0  # confidence of a value the sender's system wrote: nothing was read from a page


class DIError(ValueError):
    """A file that is no readable or no safe DI file; the message is the one line a user sees."""


@dataclass
class DILetter:
    """A DI file's letter and the attachment files it names (their file names, in order)."""

    document: Document
    attachment_files: list[str] = field(default_factory=list)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False,
        remove_comments=True, remove_pis=True,
    )


def parse_di(data: bytes) -> etree._ElementTree:
    """The XML tree of a DI file, refused (`DIError`) unless it is well formed, safe and a 函."""
    if not data.strip():
        raise DIError("empty DI file (0 bytes)")
    data = _as_utf8(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if "amplification" in exc.msg:  # libxml2 measures entities even when it expands none
            raise DIError("unsafe DI file: it declares entities that grow without bound (billion laughs): refused") from None
        raise DIError(f"not a DI file: XML error at line {exc.lineno}: {exc.msg}") from None
    tree = root.getroottree()
    _refuse_entities(tree)
    if root.tag != ROOT:
        raise DIError(f"not a 函 DI file: its root element is <{root.tag}>, not <{ROOT}>")
    return tree


_DECLARATION = re.compile(rb"""^(\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_BIG5 = {"big5", "big-5", "cp950", "ms950", "x-big5"}


def _as_utf8(data: bytes) -> bytes:
    """A Big5 file (`99_2_big5.dtd`) decoded by Python's cp950, the Big5 that Windows systems write
    (libxml2's Big5 lacks its extensions), and handed to the parser as UTF-8; others as they are."""
    m = _DECLARATION.match(data)
    if m is None or m.group(2).decode("ascii").lower() not in _BIG5:
        return data
    start, end = m.span(2)
    try:
        rest = data[end:].decode("cp950")
    except UnicodeDecodeError as exc:
        where = end + exc.start
        raise DIError(f"not a Big5 DI file: bytes {data[where:end + exc.end]!r} at offset {where} are not Big5") from None
    return data[len(m.group(1) or b"") : start] + b"utf-8" + rest.encode("utf-8")


def _refuse_entities(tree: etree._ElementTree) -> None:
    """Only unparsed entities (attachment files, with a notation) may be declared; none may be referred to."""
    dtd = tree.docinfo.internalDTD
    for entity in dtd.iterentities() if dtd is not None else ():
        unparsed = entity.orig is None and entity.system_url and entity.content
        if not unparsed:
            kind = f"the external entity {entity.name!r} ({entity.system_url})" if entity.system_url else (
                f"the text entity {entity.name!r}"
            )
            raise DIError(f"unsafe DI file: it declares {kind}; a DI file declares only its attachment files: refused")
    for node in tree.getroot().iter(etree.Entity):
        raise DIError(f"unsafe DI file: it refers to the entity {node.text}, which gongwen does not expand: refused")


def _clean(text: str | None) -> str:
    """An element's text as one line: the XML's own line breaks joined the way wrapped lines are."""
    joined = ""
    for line in (text or "").splitlines():
        joined = join_text(joined, line.strip())
    return joined.strip()


def _text(element: etree._Element | None) -> str:
    return _clean("".join(element.itertext())) if element is not None else ""


def _first(root: etree._Element, path: str) -> str:
    return _text(root.find(path))


def _value(element: etree._Element | None, attribute: str = "代碼") -> str:
    """A coded element (`<速別 代碼="普通件"/>`): its code, else its text."""
    if element is None:
        return ""
    return (element.get(attribute) or "").strip() or _text(element)


def _label(number: str) -> str:
    """序號 → the item label of docs/document-json.md#the-item-tree (`一、` → `一`, `(1)` → `1`)."""
    hit = match_number(number + " ")
    if hit is not None and not hit[2].strip():
        return hit[1]
    return re.sub(r"^[(（\s]+|[)）、.．,，:：\s]+$", "", unicodedata.normalize("NFKC", number))


def _items(parent: etree._Element) -> list[Item]:
    """The 條列 directly under `parent`, with the 條列 nested in each."""
    out: list[Item] = []
    for entry in parent.findall("條列"):
        texts = [_text(t) for t in entry.findall("文字")]
        own = "".join(texts) if texts else _clean(entry.text)
        out.append(Item(label=_label(entry.get("序號") or ""), text=own, children=_items(entry)))
    return out


def _section_name(paragraph: etree._Element) -> str:
    name = re.sub(r"[\s:：]", "", paragraph.get("段名") or "")
    return SECTIONS.get(name, "explanation")  # a 函 has 說明 and 辦法; any other 段名 is read as 說明


def _contact(root: etree._Element) -> Contact | None:
    values: dict[str, str] = {}
    if address := _first(root, "地址"):
        values["address"] = address
    for line in root.findall("聯絡方式"):
        hit = match_label(_text(line), [g.CONTACT_RES])
        if hit is not None and hit[1].strip():
            key, value = hit[0], hit[1].strip()
            values.setdefault(key, value)
    contact = Contact(**{k: v for k, v in values.items() if k != "name"})
    if "name" in values:
        contact.title, contact.name = split_title_name(values["name"])
    return contact if any(v is not None for v in contact.model_dump().values()) else None


def _parties(root: etree._Element, tag: str) -> str | None:
    """A 正本/副本/受文者 list: its 全銜 (or 交換表) texts, one name list joined with 、."""
    element = root.find(tag)
    if element is None:
        return None
    names = [_text(e) for e in element if isinstance(e.tag, str)] or [_text(element)]
    joined = "、".join(n for n in names if n)
    return joined or None


def _security(root: etree._Element) -> str | None:
    """`密（公布後解密）`: the 密等 with its 解密條件或保密期限 in brackets, as letters print it."""
    element = root.find("密等及解密條件或保密期限")
    if element is None:
        return None
    level = _value(element.find("密等"))
    condition = _first(element, "解密條件或保密期限")
    if not level and not condition:
        return None
    return f"{level}（{condition}）" if condition else level


def attachment_files(tree: etree._ElementTree) -> list[str]:
    """The file names of the attachments: the unparsed entities that 附件檔名@附件名 names, in order."""
    dtd = tree.docinfo.internalDTD
    files = {e.name: e.system_url for e in dtd.iterentities()} if dtd is not None else {}
    out: list[str] = []
    for element in tree.getroot().iterfind("附件/附件檔名"):
        for name in (element.get("附件名") or "").split():
            target = files.get(name)
            if target and target not in out:
                out.append(target)
    return out


def _attachments(root: etree._Element, files: list[str]) -> str | None:
    """附件's text; file names it does not mention follow it in brackets, as a print-out lists them."""
    text = _first(root, "附件/文字")
    missing = [f for f in files if f not in text]
    if missing:
        text = f"{text} ({'、'.join(missing)})".strip()
    return text or None


def _issue_date(root: etree._Element) -> str:
    """The 發文日期 as written (`中華民國110年12月23日`); from 年/月/日 when there is no 年月日."""
    written = _first(root, "發文日期/年月日")
    if written:
        return written
    return issue_date_text(*(_first(root, f"發文日期/{k}") for k in ("年", "月", "日"))) or _first(root, "發文日期")


def _doc_number(root: etree._Element) -> str | None:
    number = assemble_doc_number(
        _first(root, "發文字號/字"), _first(root, "發文字號/文號/年度"),
        _first(root, "發文字號/文號/流水號"), _first(root, "發文字號/文號/支號"),
    )
    return normalize_doc_number(number) if number else None


def letter_of(tree: etree._ElementTree) -> DILetter:
    """Every element of the 函 DTD's list mapped onto the document schema (docs/document-json.md)."""
    root = tree.getroot()
    files = attachment_files(tree)
    doc = Document(
        kind="letter",
        pages=[],  # a DI file has no pages
        sender=_first(root, "發文機關/全銜") or None,
        sender_code=_first(root, "發文機關/機關代碼") or None,
        doc_type=_value(root.find("函類別")) or ROOT,
        contact=_contact(root),
        recipient=_parties(root, "受文者"),
        speed=_value(root.find("速別")) or None,
        security=_security(root),
        attachments=_attachments(root, files),
        subject="".join(_text(t) for t in root.findall("主旨/文字")) or None,
        signatory=_text(root.find("署名")) or None,
    )
    raw_date = _issue_date(root)
    doc.issue_date = parse_date(raw_date) if raw_date else None
    doc.doc_number = _doc_number(root)
    trees: dict[str, list[Item]] = {}
    for paragraph in root.findall("段落"):
        items = trees.setdefault(_section_name(paragraph), [])
        if lead := "".join(_text(t) for t in paragraph.findall("文字")):
            items.append(Item(label="", text=lead))  # a paragraph written without numbers
        items.extend(_items(paragraph))
    doc.explanation, doc.measures, doc.notes = (trees.get(k) or None for k in ("explanation", "measures", "notes"))
    main, flagged_main = split_parties(_parties(root, "正本"))
    copy, flagged_copy = split_parties(_parties(root, "副本"))
    doc.cc_main, doc.cc_copy = main, copy
    doc.cc_with_attachments = [*flagged_main, *flagged_copy] or None
    conf = _confidence(doc)
    year = doc.issue_date.year if doc.issue_date else None
    fill_derived(doc, conf, year, raw_date or None)
    check_letter(doc, conf, raw_date or None, repair=False)
    doc.confidence = {k: round(v, 3) for k, v in conf.items()}
    return DILetter(doc, files)


def _confidence(doc: Document) -> dict[str, float]:
    conf: dict[str, float] = {}
    values: dict[str, Any] = doc.model_dump(exclude={"kind", "pages", "references", "dates", "confidence"})
    for key, value in values.items():
        if value is not None:
            conf[key] = READ
    for key, value in (doc.contact.model_dump() if doc.contact else {}).items():
        if value is not None:
            conf[f"contact.{key}"] = READ
    return conf


def read_di(data: bytes) -> DILetter:
    """A DI file's bytes (UTF-8, Big5 or any encoding its XML declaration names) → its letter."""
    return letter_of(parse_di(data))


def read_di_file(path: Path) -> DILetter:
    """`read_di` of a file; OSError when it cannot be read."""
    return read_di(path.read_bytes())


# -- DI out: a letter written as a DI file (the inverse of `letter_of`) -----------------------

DTD_NAME = "104_2_utf8.dtd"  # the exchange's name for the 函 DTD, in the file's DOCTYPE
DTD_FILE = Path(__file__).resolve().parent.parent / "schemas" / "gongwen_han.dtd"  # what gongwen checks against
_NUMBER = re.compile(r"^(?P<zi>.+?字)第(?P<number>.+)號$")
_YEAR_SERIAL = re.compile(r"^(?P<year>\d{3})(?P<serial>\d{7})(?P<branch>.*)$")
_SECURITY = re.compile(r"^(?P<level>[^（(]+?)\s*[（(](?P<condition>.*)[）)]$")
_FILE_NAME = re.compile(r"[\w.\-]+\.(?:pdf|odt|ods|odp|doc|docx|xls|xlsx|ppt|pptx|jpg|jpeg|png|tif|tiff|zip|txt|csv|di|sw)",
                        re.IGNORECASE | re.ASCII)


def number_parts(doc_number: str | None) -> tuple[str, str, str, str]:
    """(字, 年度, 流水號, 支號) that `assemble_doc_number` puts back together into `doc_number`.

    A ten-digit number is 年度 + 流水號 (+ 支號); any other number is its 流水號 whole. A 字號
    not of the form …字第…號 keeps what fits (the DI file cannot carry it exactly).
    """
    m = _NUMBER.match(doc_number or "")
    if m is None:
        return "", "", doc_number or "", ""
    zi, number = m.group("zi"), m.group("number")
    split = _YEAR_SERIAL.match(number)
    if split is not None:
        parts = (zi, split.group("year"), split.group("serial"), split.group("branch"))
        if assemble_doc_number(*parts) == doc_number:
            return parts
    return zi, "", number, ""


def _security_parts(security: str | None) -> tuple[str, str]:
    """`密（公布後解密）` → (密, 公布後解密): the inverse of `_security`."""
    m = _SECURITY.match(security or "")
    return (m.group("level"), m.group("condition")) if m else (security or "", "")


def _issue_date_written(doc: Document) -> str:
    """The 年月日 as the letter printed it (its first date mention), else in the ROC form."""
    if not doc.issue_date:
        return ""
    if doc.dates and doc.dates[0].date == doc.issue_date:
        return doc.dates[0].text
    return f"中華民國{roc_words(doc.issue_date)}"


def _number_label(label: str, depth: int) -> str:
    """An item label as a 序號 in the usual style of its level: 一、 (一) 1. (1)."""
    if not label:
        return ""
    return f"{label}、" if depth == 0 else f"({label})" if depth % 2 else f"{label}."


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text:
        element.text = text
    return element


def _write_items(parent: etree._Element, items: list[Item], depth: int) -> None:
    for item in items:
        entry = _sub(parent, "條列", 序號=_number_label(item.label, depth))
        _sub(entry, "文字", item.text)
        _write_items(entry, item.children, depth + 1)


def _write_paragraph(root: etree._Element, name: str, items: list[Item] | None) -> None:
    if not items:
        return
    paragraph = _sub(root, "段落", 段名=f"{name}：")
    first = items[0]
    if not first.label and not first.children:  # a paragraph written without numbers
        _sub(paragraph, "文字", first.text)
        items = items[1:]
    _write_items(paragraph, items, 0)


def _names(doc: Document, names: list[str] | None) -> str:
    flagged = set(doc.cc_with_attachments or [])
    return "、".join(f"{n}(含附件)" if n in flagged else n for n in names or [])


def write_di(doc: Document) -> bytes:
    """`doc` as a DI file (UTF-8, the 函 element list, attachment file names as entities).

    What the element list has no place for is left out: 檔號, 保存年限, receipt stamps, the
    meeting fields of a 開會通知單, a notice's 主旨 blocks after the first (`notices`), a form's
    or an `other` document's fields.
    """
    root = etree.Element(ROOT)
    agency = _sub(root, "發文機關")
    _sub(agency, "全銜", doc.sender)
    _sub(agency, "機關代碼", doc.sender_code)
    _sub(root, "函類別", 代碼=doc.doc_type or ROOT)
    contact = doc.contact or Contact()
    _sub(root, "地址", contact.address)
    person = " ".join(p for p in (contact.title, contact.name) if p)
    for label, value in (("承辦單位", contact.unit), ("承辦人", person), ("電話", contact.phone),
                         ("傳真", contact.fax), ("電子信箱", contact.email)):
        if value:
            _sub(root, "聯絡方式", f"{label}：{value}")
    _sub(_sub(root, "受文者"), "全銜", doc.recipient)
    _sub(_sub(root, "發文日期"), "年月日", _issue_date_written(doc))
    zi, year, serial, branch = number_parts(doc.doc_number)
    number = _sub(root, "發文字號")
    _sub(number, "字", zi)
    serial_number = _sub(number, "文號")
    for tag, value in (("年度", year), ("流水號", serial), ("支號", branch)):
        _sub(serial_number, tag, value)
    _sub(root, "速別", 代碼=doc.speed or "")
    level, condition = _security_parts(doc.security)
    security = _sub(root, "密等及解密條件或保密期限")
    _sub(security, "密等", level)
    _sub(security, "解密條件或保密期限", condition)
    attachments = _sub(root, "附件")
    _sub(attachments, "文字", doc.attachments)
    files = list(dict.fromkeys(_FILE_NAME.findall(doc.attachments or "")))
    entities = [f"ATTCH{i}" for i in range(1, len(files) + 1)]
    if files:
        _sub(attachments, "附件檔名", 附件名=" ".join(entities))
    _sub(_sub(root, "主旨"), "文字", doc.subject)
    for name, items in (("說明", doc.explanation), ("辦法", doc.measures), ("備註", doc.notes)):
        _write_paragraph(root, name, items)
    for tag, names in (("正本", doc.cc_main), ("副本", doc.cc_copy)):
        parties = _sub(root, tag)
        if names:
            _sub(parties, "全銜", _names(doc, names))
    _sub(root, "署名", doc.signatory)
    subset = "".join(f'<!ENTITY {e} SYSTEM "{f}" NDATA DI>\n' for e, f in zip(entities, files, strict=True))
    doctype = f'<!DOCTYPE {ROOT} SYSTEM "{DTD_NAME}"' + (f' [\n{subset}<!NOTATION DI SYSTEM "">\n]>' if subset else ">")
    etree.indent(root, space="")
    body: bytes = etree.tostring(root.getroottree(), encoding="utf-8", doctype=doctype)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body + b"\n"


def validate_di(data: bytes) -> list[str]:
    """What in a DI file breaks schemas/gongwen_han.dtd (empty when it is valid); read as safely as `parse_di`.

    libxml2 checks 附件名 (ENTITIES) only against entities of the document's own DTD, so the file
    is checked as one document whose internal subset is our DTD plus its attachment entities
    (all of them unparsed: `parse_di` refused the file otherwise); nothing is loaded from outside.
    """
    tree = parse_di(data)
    declared = tree.docinfo.internalDTD
    entities = list(declared.iterentities()) if declared is not None else []
    subset = re.sub(r"<!--.*?-->", "", DTD_FILE.read_text(encoding="utf-8"), flags=re.DOTALL)
    subset += "".join(f'<!NOTATION {n} SYSTEM "">\n' for n in dict.fromkeys(e.content for e in entities))
    subset += "".join(f"<!ENTITY {e.name} SYSTEM {_quoted(e.system_url)} NDATA {e.content}>\n" for e in entities)
    body = etree.tostring(tree.getroot(), encoding="unicode")
    document = f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE {ROOT} [\n{subset}]>\n{body}'.encode()
    parser = etree.XMLParser(dtd_validation=True, resolve_entities=False, no_network=True, huge_tree=False)
    with contextlib.suppress(etree.XMLSyntaxError):  # invalid: the messages are in the error log
        etree.fromstring(document, parser)
    return [f"{e.message}" for e in parser.error_log.filter_from_errors()]


def _quoted(literal: str) -> str:
    return f"'{literal}'" if '"' in literal else f'"{literal}"'
