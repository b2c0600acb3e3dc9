"""Headers printed on one line instead of as labelled fields.

Associations print `社團法人高雄市醫師公會 通知 110.7.10.(110)高市醫會總字第 281.-300.號`
(sender, 文別, a dotted ROC date, a 字號 that may carry a year prefix and a range); pages of
compiled rulings print `內政部函 90.09.20.台內營字第9085460號` under the 主旨 it belongs to;
a quoted letter opens with `依據法務部法檢字第1000014063號函：`. Each names the letter's
sender, 文別, 字號 and sometimes its date, as a title line and header fields would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors import glossary as g
from extractors.dates import find_dates
from extractors.doc_numbers import find_doc_numbers
from schemas.page import Line

_TYPES = "|".join(g.DOC_TYPES)
_DATE = r"(?:\d{2,3}[.．/]\d{1,2}[.．/]\d{1,2}[.．]?|(?:中華民國)?\d{2,3}年\d{1,2}月\d{1,2}日)"
_QUOTE = r"[”\"'’」』“]?"
_PRINTED_PARTS = re.compile(rf"^(?P<sender>.{{2,40}}?){_QUOTE}(?P<type>{_TYPES})(?P<date>{_DATE})(?P<number>.+號)$")
# a 字號 that find_doc_numbers does not take: a year prefix, a serial range (`(110)高市醫會總字第281.-300.號`)
_LOOSE_NUMBER = re.compile(r"^(?:[(（]\d{2,3}[)）])?[\u4e00-\u9fff]{1,12}字第[0-9A-Za-z.\-－~～、]+號$")
_QUOTED = re.compile(rf"^(?:依據|依|據)(?P<body>.{{4,80}}?號)(?P<type>{_TYPES})[:：]?$")
_NOT_SENDER = re.compile(r"[，。、：:；;]|^[^\u4e00-\u9fff]")  # a sender starts with a Han character


def is_loose_number(text: str) -> bool:
    """A 字號 with a year prefix or a serial range, as associations print them."""
    return bool(_LOOSE_NUMBER.match(re.sub(r"\s+", "", text)))


@dataclass
class HeaderLine:
    sender: str
    doc_type: str
    date_text: str | None
    number_text: str
    lines: list[Line]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _printed(text: str) -> tuple[str, str, str | None, str] | None:
    m = _PRINTED_PARTS.match(text)
    if m is None or _NOT_SENDER.search(m.group("sender")):
        return None
    number = m.group("number")
    found = find_doc_numbers(number)
    if not (found and found[-1].end == len(number)) and not _LOOSE_NUMBER.match(number):
        return None
    sender = m.group("sender").rstrip("”\"'’」』“")
    return sender, m.group("type"), m.group("date"), number


def _quoted(text: str) -> tuple[str, str, str | None, str] | None:
    m = _QUOTED.match(text)
    if m is None:
        return None
    body = m.group("body")
    found = find_doc_numbers(body)
    if not found or found[-1].end != len(body):
        return None
    number = found[-1]
    before = body[: number.start]
    date_text = None
    dates = find_dates(before)
    if dates and dates[-1].end == len(before):
        date_text = dates[-1].text
        before = before[: dates[-1].start]
    if len(before) < 2 or _NOT_SENDER.search(before):
        return None
    return before, m.group("type"), date_text, number.text


def read_header_line(text: str, quoted_too: bool) -> tuple[str, str, str | None, str] | None:
    """(sender, 文別, date as printed or None, 字號 as printed) of a one-line header."""
    compact = _compact(text)
    return _printed(compact) or (_quoted(compact) if quoted_too else None)


def find_header_line(lines: list[Line], quoted_within: int = 3) -> HeaderLine | None:
    """The first one-line header among these lines, read alone or joined with the next (a wrapped 字號).

    A quoted letter's `依據…號函：` counts only among the first `quoted_within` lines: further down
    it is a 說明 citing another letter.
    """
    for i, line in enumerate(lines):
        quoted_too = i < quoted_within
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        candidates = [[line]]
        if nxt is not None and len(_compact(nxt.text)) <= 12:
            candidates.append([line, nxt])
        for group in candidates:
            read = read_header_line("".join(ln.text for ln in group), quoted_too)
            if read:
                return HeaderLine(*read, lines=group)
    return None
