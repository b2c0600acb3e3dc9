"""The one label matcher: segmentation and extraction find a letter's labels the same way.

OCR misreads labels and puts specks around them (`受文著：`, `發文宇號：`, `:受文者:`, `‧主旨:`,
`3附件:`, `由主旨:`, `農。連別:普通件`). A page whose labels only the extractor could read
would be classed `other` by segmentation and lose every field, so both call `match_label`.
Each tolerance is tried only when the stricter readings found nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractors import glossary as g

Table = list[tuple[str, re.Pattern[str]]]

_FUZZY_TABLES: dict[int, dict[str, tuple[str, ...]]] = {
    id(g.HEADER_RES): g.HEADER_LABELS,
    id(g.CONTACT_RES): g.CONTACT_LABELS,
    id(g.BODY_RES): g.BODY_LABELS,
    id(g.MEETING_RES): g.MEETING_LABELS,
}

_SPECK = r"[\s.·•‧・,，。:：;；'\"`“”‘’*\-–_|｜~～]"
# punctuation and specks before a label (`:受文者:`, `‧主旨:`), or one stray digit glued to it (`3附件:`);
# a digit followed by 、 or . is an item number (`1、附件：`), never a speck
_NOISE_BEFORE = re.compile(rf"^(?:(?:{_SPECK}|、){{1,4}}|[0-9０-９]{_SPECK}{{0,2}}(?=[\u4e00-\u9fff]))")
# one Han character glued before a label (`由主旨:`, `農。連別:`): only before labels that do not
# occur in running text after a word (附件, 說明 do: `檢送附件：`, `如說明：`)
_HAN_SPECK = re.compile(rf"^[\u4e00-\u9fff]{_SPECK}{{0,2}}")
_STRONG_KEYS = frozenset({"recipient", "issue_date", "doc_number", "speed", "security", "subject", "cc_main", "cc_copy"})
# two-character labels one character off (`連別`) are taken only when the value proves them
_PROVEN_BY_VALUE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "speed": (("速別",), g.SPEEDS),
    "security": (("密等",), g.SECURITY_LEVELS[:-1]),
}


def _exact(seen: str, tables: list[Table]) -> tuple[str, int] | None:
    for table in tables:
        for key, pattern in table:
            m = pattern.match(seen)
            if m:
                return key, m.end()
    return None


def _proven(seen: str) -> tuple[str, int] | None:
    m = g.COLON_RE.search(seen, 0, 6)
    if m is None:
        return None
    head = re.sub(r"\s+", "", seen[: m.start()])
    value = re.sub(r"\s+", "", seen[m.end() :])
    for key, (words, vocabulary) in _PROVEN_BY_VALUE.items():
        if any(len(head) == len(w) and g.within_one_edit(head, w) for w in words) and value.startswith(vocabulary):
            return key, m.end()
    return None


def _read(seen: str, tables: list[Table], strong_only: bool) -> tuple[str, int] | None:
    hit = _exact(seen, tables)
    if hit is None:
        fuzzy = g.fuzzy_label(seen, [_FUZZY_TABLES[id(t)] for t in tables if id(t) in _FUZZY_TABLES])
        if fuzzy:
            hit = fuzzy[0], len(seen) - len(fuzzy[1])
    if hit is None and any(t is g.HEADER_RES for t in tables):
        hit = _proven(seen)
    if hit is not None and strong_only and hit[0] not in _STRONG_KEYS:
        return None
    return hit


# every label is followed by a colon (as printed or misread) well within a line's first characters
_COLON_NEAR_START = re.compile(r"^.{0,40}?[:：;；]", re.S)
_TABLES: dict[int, Table] = {}


def match_label(text: str, tables: list[Table]) -> tuple[str, str] | None:
    """(field key, the text after the label and its colon), or None when the line has no label."""
    if not _COLON_NEAR_START.match(text):
        return None
    for table in tables:
        _TABLES.setdefault(id(table), table)
    return _match(text, tuple(id(t) for t in tables))


@lru_cache(maxsize=32768)
def _match(text: str, table_ids: tuple[int, ...]) -> tuple[str, str] | None:
    """Segmentation and extraction ask about the same lines: each is read once."""
    tables = [_TABLES[i] for i in table_ids]
    seen = g.label_form(text)
    hit = _read(seen, tables, strong_only=False)
    if hit:
        return hit[0], text[hit[1] :]
    m = _NOISE_BEFORE.match(seen)
    if m and m.end() < len(seen):
        hit = _read(seen[m.end() :], tables, strong_only=False)
        if hit:
            return hit[0], text[m.end() + hit[1] :]
    m = _HAN_SPECK.match(seen.lstrip())
    if m:
        start = len(seen) - len(seen.lstrip()) + m.end()
        hit = _read(seen[start:], tables, strong_only=True)
        if hit:
            return hit[0], text[start + hit[1] :]
    return None


def page_labels(texts: list[str]) -> set[str]:
    """Every label key found at the start of these lines (segmentation's view of a page)."""
    found: set[str] = set()
    for text in texts:
        hit = match_label(text, [g.HEADER_RES, g.BODY_RES, g.MEETING_RES])
        if hit:
            found.add(hit[0])
    return found
