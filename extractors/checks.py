"""Fields checked against each other and against what is known, after a letter is read.

OCR leaves stray characters in short fields (`衛生福利部了`, `普通伴`). A check that makes the
right value certain repairs the field (one known body or one 速別 within a character of what
was read); one that only finds a conflict (the 字號's year against the 發文日期, a date that
does not exist) lowers the field's confidence below the review threshold, so that
`gongwen eval --low-confidence` and a clerk's review point at it. Nothing is guessed.
"""

from __future__ import annotations

from functools import cache

from extractors import glossary as g
from extractors.doc_numbers import doc_number_year
from extractors.orgs import canonical_org, gazetteer, normalize_for_match
from schemas.letter import Document

DOUBTFUL = 0.5  # below the 0.6 that `gongwen eval --low-confidence` lists
UNKNOWN_SENDER = 0.7  # a body not in the gazetteer is common (associations), not a fault
REPAIRED = 0.8


@cache
def _known_forms() -> frozenset[str]:
    """Every known body's printed forms (official spellings and aliases), normalised."""
    gaz = gazetteer()
    return frozenset(normalize_for_match(form) for org in gaz for form in gaz.forms(org.name))


def _known(name: str) -> bool:
    return canonical_org(name) is not None


def repair_sender(sender: str) -> tuple[str, float | None]:
    """(sender, confidence cap): a stray character at either end dropped when that leaves exactly one
    known body; None as the cap when the sender is known as read."""
    if _known(sender):
        return sender, None
    if len(sender) >= 4:
        trimmed = [s for s in (sender[:-1], sender[1:]) if _known(s)]
        if len(trimmed) == 1:
            return trimmed[0], REPAIRED
        # one character off a known body is not certain (新竹縣/新竹市, 臺中市/臺南市 differ so): flagged
        key = normalize_for_match(sender)
        if any(len(norm) == len(key) and g.within_one_edit(norm, key) for norm in _known_forms()):
            return sender, DOUBTFUL
    return sender, UNKNOWN_SENDER


def repair_vocabulary(value: str, vocabulary: tuple[str, ...]) -> str | None:
    """The one word of `vocabulary` a character away from `value`, or None."""
    close = [w for w in vocabulary if len(w) == len(value) and g.within_one_edit(w, value)]
    return close[0] if len(close) == 1 else None


def check_letter(doc: Document, conf: dict[str, float], raw_issue_date: str | None, repair: bool = True) -> None:
    """Repair what a check makes certain; lower the confidence of what it cannot settle.

    `repair=False` for values that were not read from a page (a DI file's elements): nothing
    was misread, so nothing is repaired, but a conflict is still flagged.
    """
    if doc.sender and repair:
        fixed, cap = repair_sender(doc.sender)
        if cap is not None:
            doc.sender = fixed
            conf["sender"] = min(conf.get("sender", 1.0), cap)
    if doc.speed and doc.speed not in g.SPEEDS:
        word = repair_vocabulary(doc.speed, g.SPEEDS) if repair else None
        if word:
            doc.speed = word
            conf["speed"] = REPAIRED
        else:
            conf["speed"] = min(conf.get("speed", 1.0), DOUBTFUL)
    if doc.security and not doc.security.startswith(g.SECURITY_LEVELS):
        conf["security"] = min(conf.get("security", 1.0), DOUBTFUL)
    if raw_issue_date and doc.issue_date is None:
        conf["issue_date"] = DOUBTFUL - 0.2  # printed, but not a date that exists (2月30日) or unreadable
    if doc.issue_date and doc.doc_number:
        number_year = doc_number_year(doc.doc_number)
        if number_year is not None and number_year != doc.issue_date.year - 1911:
            # one of the two is misread, and nothing says which
            conf["issue_date"] = min(conf.get("issue_date", 1.0), DOUBTFUL)
            conf["doc_number"] = min(conf.get("doc_number", 1.0), DOUBTFUL)
