"""Split a PDF's pages into documents and tell letters from forms and everything else.

A letter starts on a page that carries a letter header (發文日期/發文字號, a title
line ending in a 文別 followed by 受文者, a one-line header with a 字號, the field table of
an electronic letter's print-out) or a 主旨/說明 that does not continue the letter before it:
`other` is for brochures and attachments, never a letter whose header is printed another
way. Labels are read by `extractors.labels`, the matcher extraction uses. A form starts
on a page with a form header (表號, 編製機關) or with the 編製說明 of a form other than the current one. A letter
ends with its 正本/副本: a later page that is more than a signature or the tail of the
list belongs to something else (a brochure, an attachment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from extractors import glossary as g
from extractors.di_table import is_di_table
from extractors.form import find_form_title, form_title_key, split_merged_cells
from extractors.labels import page_labels
from extractors.letter import TITLE_RE
from extractors.noise import split_noise
from extractors.oneline import find_header_line
from schemas.letter import DocumentKind
from schemas.page import Page

_LETTER_KEYS = {"issue_date", "doc_number"}


@dataclass
class Span:
    kind: DocumentKind
    first: int
    last: int


_BODY_START_KEYS = {"subject", "explanation"}


def _labels(page: Page) -> set[str]:
    return page_labels([ln.text for ln in page.lines])


def is_letter_start(page: Page, continuing: set[str] | None = None) -> bool:
    """`continuing`: the labels of a letter still open before this page (its 主旨 may end here)."""
    labels = _labels(page)
    if labels & _LETTER_KEYS:
        return True
    text_lines = split_noise(page.lines).text_lines
    if is_di_table(text_lines):
        return True
    # within an open letter such a line is the letter's text (a 說明 citing `內政部函 90.09.20.…號`)
    if continuing is None and find_header_line(text_lines) is not None:
        return True
    body = labels & _BODY_START_KEYS
    if body and (continuing is None or "subject" in body & continuing):
        return True
    has_title = any(TITLE_RE.match(ln.text.strip()) and len(ln.text) < 40 for ln in page.lines[:12])
    return has_title and "recipient" in labels


def is_form_start(page: Page) -> bool:
    """A form header: 表號 and 編製機關 near the top (as cells of their own or read into one line)."""
    compact = [g.label_form(re.sub(r"\s+", "", ln.text)) for ln in page.lines[:20]]
    has_number = any("表號" in c for c in compact)
    has_compiler = any("編製機關" in c for c in compact)
    return has_number and has_compiler


def _explanation_title(page: Page) -> str | None:
    """The title of a 編製說明 page (`縣市藥政管理編製說明`)."""
    for line in page.lines[:6]:
        c = re.sub(r"\s+", "", line.text)
        if c.endswith("編製說明") and len(c) > 4:
            return form_title_key(c)
    return None


def _is_letter_tail(page: Page) -> bool:
    """A page after 正本/副本 that holds only the list's tail and the signature."""
    lines = split_noise(page.lines).text_lines
    if len(lines) <= 3 and all(len(re.sub(r"\s+", "", ln.text)) <= 60 for ln in lines):
        return True
    # a list broken by the page: its names go on (`…事務委員會、臺南市政府工務局、`), then 副本, a signature
    first = re.sub(r"\s+", "", lines[0].text) if lines else ""
    return (
        len(lines) <= 15
        and first.count("、") >= 2
        and not first.endswith("。")
        and _labels(page) <= {"cc_main", "cc_copy"}
    )


def _headline(page: Page) -> str:
    """The first line of text on a page, without spaces: a brochure's or attachment's title."""
    for line in split_noise(page.lines).text_lines[:3]:
        compact = re.sub(r"\s+", "", line.text)
        if len(compact) >= 4:
            return compact
    return ""


def _same_title(a: str, b: str) -> bool:
    """Two readings of one form's title: equal but for an OCR slip or two."""
    match = SequenceMatcher(None, a, b, autojunk=False)
    return match.ratio() >= 0.85


SAME_TOPIC = 6  # headlines sharing a run of this many characters continue one document


def _same_topic(a: str, b: str) -> bool:
    if not a or not b:
        return True
    match = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= min(SAME_TOPIC, len(a), len(b))


def segment(pages: list[Page]) -> list[Span]:
    spans: list[Span] = []
    letter_closed = False
    letter_labels: set[str] = set()
    form_key: str | None = None
    other_headline = ""
    for page in pages:
        if not page.lines:
            if spans:
                spans[-1].last = page.number
            continue
        current = spans[-1] if spans else None
        open_letter = current is not None and current.kind == "letter" and not letter_closed
        if is_letter_start(page, letter_labels if open_letter else None):
            spans.append(Span("letter", page.number, page.number))
            letter_labels = _labels(page)
            letter_closed = bool(letter_labels & {"cc_main", "cc_copy"})
            continue
        if is_form_start(page):
            spans.append(Span("form", page.number, page.number))
            title = find_form_title(split_merged_cells(split_noise(page.lines).text_lines))
            form_key = form_title_key(title) if title else None
            continue
        explained = _explanation_title(page)
        if current and current.kind == "form" and explained and form_key and not _same_title(explained, form_key):
            spans.append(Span("form", page.number, page.number))
            form_key = explained
            continue
        if current and current.kind == "letter" and (not letter_closed or _is_letter_tail(page)):
            current.last = page.number
            letter_labels |= _labels(page)
            letter_closed = letter_closed or bool(letter_labels & {"cc_main", "cc_copy"})
            continue
        if current and current.kind == "form":
            current.last = page.number
            continue
        headline = _headline(page)
        if current and current.kind == "other" and _same_topic(other_headline, headline):
            current.last = page.number
            continue
        spans.append(Span("other", page.number, page.number))
        other_headline = headline
    return spans
