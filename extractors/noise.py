"""What is printed on a letter's pages but is not the letter (docs/letter.md#noise).

Receipt stamps are kept (they become `received`); barcodes, binding-line characters,
electronic-exchange stamps, page footers and margin marks are set aside so they never
leak into a field. Each rule is a small predicate over one line, in a table, so a new
kind of noise is one more row.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from extractors.dates import find_dates
from extractors.doc_numbers import find_doc_numbers
from extractors.glossary import BODY_LABELS, CONTACT_LABELS, HEADER_LABELS, MARGIN_MARKS, label_pattern
from extractors.glossary import label_form as g_label_form
from schemas.letter import Received
from schemas.page import Line

_BARCODE = re.compile(r"^[0-9A-Z]{8,}$")
_BINDING = re.compile(r"^[裝訂線\s|｜.．…-]+$")
_FOOTER_TEXT = r"第\s*[0-9０-９]+\s*[頁页]\s*[,，、]?\s*(?:共\s*[0-9０-９]+\s*[頁页])?"
_FOOTER = re.compile(rf"^{_FOOTER_TEXT}$|^[0-9]+\s*/\s*[0-9]+$|^[-－—]\s*[0-9]+\s*[-－—]$")
_FOOTER_TAIL = re.compile(rf"\s+{_FOOTER_TEXT}$")
_EXCHANGE = re.compile(
    r"^(?:電\s*[0-9]{4}\s*/\s*[0-9]{1,2}\s*/\s*[0-9]{1,2}\s*文|交\s*[0-9]{1,2}\s*:\s*[0-9]{2}\s*章|電\s*文\s*交\s*換|電|文|交|章)$"
)
_STAMP_DATE = r"[0-9]{2,3}\s*[/.]\s*[0-9]{1,2}\s*[/.]\s*[0-9]{1,2}"
# 收文, or (when OCR garbled the office name and 收) `…文:112/06/01`
_RECEIPT = re.compile(rf"收\s*文|文\s*[:：]\s*{_STAMP_DATE}")
# a receipt stamp OCR read onto the end of a body line
_RECEIPT_TAIL = re.compile(
    rf"(?:[\u3400-\u9fff]{{0,10}}(?:收\s*文|文)\s*[:：]\s*{_STAMP_DATE}"
    rf"|[\u3400-\u9fff（）()]{{2,20}}\s*{_STAMP_DATE}|第\s*[0-9]{{3,}}\s*號)\s*$"
)
_RECEIPT_LINE = re.compile(r"^(?P<org>[^\s:：]*?)\s*收\s*文\s*(?:日\s*期)?\s*[:：]?\s*(?P<rest>.*)$")
_GARBLED_RECEIPT = re.compile(rf"^(?P<org>)[\u3400-\u9fff]{{0,10}}?文\s*[:：]\s*(?P<rest>{_STAMP_DATE})\s*$")
# what a stamp prints without 收文: `臺北市政府衛生局113.10.04`, `第1130702號`
_STAMP_ONLY = re.compile(rf"^[\u3400-\u9fff（）()]{{2,20}}{_STAMP_DATE}$|^第[0-9]{{3,}}號$")
_ORG_DATE = re.compile(rf"^(?P<org>[\u3400-\u9fff（）()]{{2,20}}?){_STAMP_DATE}$")
_FIELD_LABEL = re.compile(
    "^(?:"
    + "|".join(label_pattern(words) for table in (HEADER_LABELS, CONTACT_LABELS, BODY_LABELS) for words in table.values())
    + r")\s*[:：]"
)
_RECEIPT_NUMBER = re.compile(r"^收\s*文\s*(?:字\s*號|文\s*號|號)\s*[:：]?\s*(?P<number>.+)$|^第\s*[0-9]+\s*號$")
_MARGIN = {m.replace(" ", "") for m in MARGIN_MARKS}
_LABEL_WORDS = frozenset(w for table in (HEADER_LABELS, BODY_LABELS) for words in table.values() for w in words)


def _compact(line: Line) -> str:
    return re.sub(r"\s+", "", line.text)


def is_barcode(line: Line) -> bool:
    return bool(_BARCODE.match(_compact(line)))


def is_binding(line: Line) -> bool:
    return bool(_BINDING.match(line.text)) and any(c in line.text for c in "裝訂線")


def is_footer(line: Line) -> bool:
    return bool(_FOOTER.match(line.text.strip()))


def is_exchange_stamp(line: Line) -> bool:
    return bool(_EXCHANGE.match(line.text.strip()))


def is_margin_mark(line: Line) -> bool:
    return _compact(line) in _MARGIN


NOISE_RULES: tuple[tuple[str, Callable[[Line], bool]], ...] = (
    ("barcode", is_barcode),
    ("binding", is_binding),
    ("footer", is_footer),
    ("exchange", is_exchange_stamp),
    ("mark", is_margin_mark),
)


def noise_kind(line: Line) -> str | None:
    for name, rule in NOISE_RULES:
        if rule(line):
            return name
    return None


@dataclass
class Split:
    """A document's lines divided into the letter's own text and what was stamped on it."""

    text_lines: list[Line]
    stamp_lines: list[Line]
    noise_lines: list[tuple[str, Line]]


def _is_anchor(line: Line) -> bool:
    """A line only a receipt stamp prints: 收文…, or an office with a stamp date, or `第N號` alone."""
    text = line.text
    compact = _compact(line)
    if len(compact) > 40:
        return False
    if _RECEIPT.search(text):
        return line.is_red or not _looks_like_sentence(text)
    return bool(_STAMP_ONLY.match(compact)) and not _looks_like_sentence(text)


def _same_ink(a: Line, b: Line) -> bool:
    if a.colour is not None and b.colour is not None:
        return max(abs(x - y) for x, y in zip(a.colour, b.colour, strict=True)) <= 0.3
    return a.is_red == b.is_red


def _joins_stamp(cand: Line, anchor: Line, box: tuple[float, float, float, float]) -> bool:
    """A line inside the stamp's box: the anchor's ink and size, short, next to the lines found so
    far, and no wider than the stamp (body text runs on to the left of and past a stamp)."""
    x0, x1, top, bottom = box
    unit = max(anchor.size, cand.size, 1.0)
    if cand.page != anchor.page or not _same_ink(cand, anchor):
        return False
    if max(cand.size, anchor.size) > 1.3 * max(min(cand.size, anchor.size), 0.1):
        return False
    if len(_compact(cand)) > 30 or (not cand.is_red and _looks_like_sentence(cand.text)):
        return False
    if _FIELD_LABEL.match(g_label_form(cand.text)) and not _RECEIPT.search(cand.text):
        return False
    gap = max(cand.top - bottom, top - cand.bottom)
    if gap > 1.0 * unit:
        return False
    return cand.x0 >= x0 - 2 * unit and cand.x1 <= x1 + 4 * unit and min(cand.x1, x1) > max(cand.x0, x0)


def _stamp_groups(lines: list[Line]) -> list[list[int]]:
    """Indices of lines that form receipt stamps.

    A stamp is found from a line only a stamp prints (收文, an office with a stamp date, a
    receipt number alone) and grows by the lines inside the same box: by position, not by
    the order of lines, because a stamp printed over the body has its lines between the
    body's lines, and not by ink alone, because stamps also come black.
    """
    groups: list[list[int]] = []
    used: set[int] = set()
    for i, line in enumerate(lines):
        if i in used or not _is_anchor(line):
            continue
        group = [i]
        box = (line.x0, line.x1, line.top, line.bottom)
        grown = True
        while grown and len(group) < 6:
            grown = False
            near = sorted(
                (j for j in range(max(i - 12, 0), min(i + 13, len(lines))) if j not in used and j not in group),
                key=lambda j: min(abs(lines[j].top - box[3]), abs(box[2] - lines[j].bottom)),
            )
            for j in near:
                if _joins_stamp(lines[j], line, box):
                    cand = lines[j]
                    group.append(j)
                    box = (min(box[0], cand.x0), max(box[1], cand.x1), min(box[2], cand.top), max(box[3], cand.bottom))
                    grown = True
                    break
        group.sort()
        used.update(group)
        groups.append(group)
    return groups


def _looks_like_sentence(text: str) -> bool:
    return bool(re.search(r"[，。；、]", text))


def _strip_footer_tail(line: Line) -> Line:
    """OCR may read a page footer into the line beside it (`局長楊美玲 第2頁共2頁`)."""
    m = _FOOTER_TAIL.search(line.text)
    if m is None or m.start() == 0:
        return line
    return Line(
        words=line.words, text=line.text[: m.start()], x0=line.x0, x1=line.x1, top=line.top,
        bottom=line.bottom, size=line.size, colour=line.colour, page=line.page, confidence=line.confidence,
    )


_MARK_TOKENS = re.compile(
    r"(?:(?<=[\s。；：])|^)(?:" + "|".join(re.escape(m) for m in MARGIN_MARKS if len(m) >= 3) + r")(?=\s|$)"
)


def _strip_mark_tokens(line: Line) -> Line:
    """A margin note OCR read into a line as a word of its own (`…辦理。擬公布網站 二、…`)."""
    if not _MARK_TOKENS.search(line.text) or is_margin_mark(line):
        return line
    text = re.sub(r"\s{2,}", " ", _MARK_TOKENS.sub("", line.text)).strip()
    return replace(line, text=text)


def _split_stamp_tail(line: Line) -> list[Line]:
    """A stamp read onto the end of a body line (`三、請查照。臺北市政府衛生局113.10.04`): OCR
    boxes both as one line, and so does layout when a stamp in the text's ink and size sits
    close after a short line."""
    m = _RECEIPT_TAIL.search(line.text)
    # only a stamp glued to a sentence: a stamp line of its own (`醫事管理科 收文:…`) stays whole
    if m is None or line.is_red or m.start() < 4 or not re.search(r"[。：；，]\s*$", line.text[: m.start()]):
        return [line]
    return line.cut([m.start()])


def _label_piece(line: Line, nxt: Line | None) -> bool:
    """`電` of a spaced label `電　　話：` laid out apart from `話：…`: text, not an exchange stamp's 電;
    `附件` of a ruled header, a label cell with its value cell to its right in the same type: a label,
    not the word stamped on a page (a stamp's ink or size differs from the text beside it)."""
    if nxt is None or nxt.page != line.page or abs(nxt.top - line.top) >= 0.5 * max(line.size, 1.0):
        return False
    compact = _compact(line)
    if len(compact) == 1:
        return bool(_FIELD_LABEL.match(g_label_form(compact + _compact(nxt))))
    return (
        compact in _LABEL_WORDS
        and nxt.x0 > line.x1
        and abs(nxt.size - line.size) <= 0.15 * max(line.size, 1.0)
        and _same_ink(line, nxt)
    )


def split_noise(lines: list[Line]) -> Split:
    lines = [piece for ln in lines for piece in _split_stamp_tail(ln)]
    lines = [_strip_mark_tokens(_strip_footer_tail(ln)) for ln in lines]
    stamp_idx = {i for g in _stamp_groups(lines) for i in g}
    text_lines: list[Line] = []
    noise: list[tuple[str, Line]] = []
    for i, line in enumerate(lines):
        if i in stamp_idx:
            continue
        kind = noise_kind(line)
        if kind and _label_piece(line, lines[i + 1] if i + 1 < len(lines) else None):
            kind = None
        if kind:
            noise.append((kind, line))
        else:
            text_lines.append(line)
    return Split(text_lines, [lines[i] for i in sorted(stamp_idx)], noise)


def read_receipt(stamp_lines: list[Line], default_year: int | None = None) -> Received | None:
    """The first receipt stamp's office, date and number."""
    if not stamp_lines:
        return None
    org: str | None = None
    date: datetime.date | None = None
    number: str | None = None
    for line in stamp_lines:
        text = line.text.strip()
        num = _RECEIPT_NUMBER.match(text)
        if num:
            found = find_doc_numbers(text)
            number = found[0].normalized if found else re.sub(r"\s+", "", num.group("number") or text)
            continue
        m = _RECEIPT_LINE.match(text) or _GARBLED_RECEIPT.match(text)
        if m:
            if m.group("org") and org is None:
                org = m.group("org")
            dates = find_dates(m.group("rest"), default_year)
            if dates and date is None:
                date = dates[0].date
            rest_numbers = find_doc_numbers(m.group("rest"))
            if rest_numbers and number is None:
                number = rest_numbers[0].normalized
            continue
        org_date = _ORG_DATE.match(re.sub(r"\s+", "", text))
        if org_date and org is None:
            org = org_date.group("org")
        dates = find_dates(text, default_year)
        if dates and date is None:
            date = dates[0].date
            continue
        found = find_doc_numbers(text)
        if found and number is None:
            number = found[0].normalized
            continue
        if org is None and re.fullmatch(r"[\u3400-\u9fff（）()]{2,30}", text.replace(" ", "")):
            org = text.replace(" ", "")
    if org is None and date is None and number is None:
        return None
    return Received(org=org, date=date, number=number)
