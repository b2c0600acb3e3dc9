"""What is printed on a letter's pages but is not the letter (GONGWEN.md §1, "Noise").

Receipt stamps are kept (they become `received`); barcodes, binding-line characters,
electronic-exchange stamps, page footers and margin marks are set aside so they never
leak into a field. Each rule is a small predicate over one line, in a table, so a new
kind of noise is one more row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from extractors.dates import find_dates, to_iso
from extractors.doc_numbers import find_doc_numbers
from extractors.glossary import MARGIN_MARKS
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
_RECEIPT_TAIL = re.compile(rf"[\u3400-\u9fff]{{0,10}}(?:收\s*文|文)\s*[:：]\s*{_STAMP_DATE}\s*$")
_RECEIPT_LINE = re.compile(r"^(?P<org>[^\s:：]*?)\s*收\s*文\s*(?:日\s*期)?\s*[:：]?\s*(?P<rest>.*)$")
_GARBLED_RECEIPT = re.compile(rf"^(?P<org>)[\u3400-\u9fff]{{0,10}}?文\s*[:：]\s*(?P<rest>{_STAMP_DATE})\s*$")
_RECEIPT_NUMBER = re.compile(r"^收\s*文\s*(?:字\s*號|文\s*號|號)\s*[:：]?\s*(?P<number>.+)$|^第\s*[0-9]+\s*號$")
_MARGIN = {m.replace(" ", "") for m in MARGIN_MARKS}


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


def _stamp_groups(lines: list[Line]) -> list[list[int]]:
    """Indices of lines that form receipt stamps.

    A stamp is a run of red lines (born-digital) or a line with 收文 outside a sentence,
    together with the short lines next to it inside the same box (the office name above
    it, the receipt number below it).
    """
    groups: list[list[int]] = []
    used: set[int] = set()
    for i, line in enumerate(lines):
        if i in used or not _RECEIPT.search(line.text) or len(_compact(line)) > 40:
            continue
        if not line.is_red and _looks_like_sentence(line.text):
            continue
        group = [i]
        # neighbours: same colour (if known), overlapping x range, within two line heights
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and len(group) < 5:
                cand = lines[j]
                ref = lines[group[0] if step < 0 else group[-1]]
                near = abs(cand.top - ref.top) < 2.6 * max(ref.size, cand.size)
                overlap = min(cand.x1, ref.x1) - max(cand.x0, ref.x0) > 0
                same_ink = cand.is_red == line.is_red
                if near and overlap and same_ink and len(_compact(cand)) <= 30 and j not in used:
                    if step < 0:
                        group.insert(0, j)
                    else:
                        group.append(j)
                    j += step
                else:
                    break
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
    return Line(
        words=line.words, text=text, x0=line.x0, x1=line.x1, top=line.top, bottom=line.bottom,
        size=line.size, colour=line.colour, page=line.page, confidence=line.confidence,
    )


def _split_stamp_tail(line: Line) -> list[Line]:
    m = _RECEIPT_TAIL.search(line.text)
    # only a stamp glued to a sentence: a stamp line of its own (`醫事管理科 收文:…`) stays whole
    if m is None or line.is_red or m.start() < 12 or not re.search(r"[。：；，]\s*$", line.text[: m.start()]):
        return [line]
    share = m.start() / max(len(line.text), 1)
    cut_x = line.x0 + (line.x1 - line.x0) * share
    head = Line(words=line.words, text=line.text[: m.start()].rstrip(), x0=line.x0, x1=cut_x, top=line.top,
                bottom=line.bottom, size=line.size, colour=line.colour, page=line.page, confidence=line.confidence)
    tail = Line(words=line.words, text=m.group(0).strip(), x0=cut_x, x1=line.x1, top=line.top,
                bottom=line.bottom, size=line.size, colour=line.colour, page=line.page, confidence=line.confidence)
    return [head, tail]


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
    date: str | None = None
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
                date = to_iso(dates[0].date)
            rest_numbers = find_doc_numbers(m.group("rest"))
            if rest_numbers and number is None:
                number = rest_numbers[0].normalized
            continue
        dates = find_dates(text, default_year)
        if dates and date is None:
            date = to_iso(dates[0].date)
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
