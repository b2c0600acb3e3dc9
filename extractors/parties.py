"""Lists of addressees (正本, 副本, 出席者, 列席者) and the clerk's name line."""

from __future__ import annotations

import re
from itertools import pairwise

from extractors.glossary import JOB_TITLES, WITH_ATTACHMENTS
from extractors.nlp import organisations
from extractors.orgs import normalize_for_match

# 、 and ，, and what OCR makes of a faint 、 (：), never part of a name
_SEPARATORS = re.compile(r"[、，,；;：:]")
_RELATIVE_UNIT = re.compile(r"本[局部府署會院處所校]")


def _split_outside_brackets(text: str) -> list[str]:
    """Split on list separators except inside brackets: `某公會(含附件、光碟)` is one name."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in text:
        if ch in "(（「『[":
            depth += 1
        elif ch in ")）」』]" and depth:
            depth -= 1
        if depth == 0 and _SEPARATORS.match(ch):
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def split_run_together(text: str) -> list[str]:
    """Names whose separator was lost (OCR drops a faint 、): split only where known bodies (the
    letter pipeline's ORG entities) cover the whole text end to end, so an unknown name is never cut."""
    relative = [m.start() for m in _RELATIVE_UNIT.finditer(text) if m.start() > 0]
    if relative and _RELATIVE_UNIT.match(text.strip()):
        # 本局長期照護科本局醫事管理科: each of the sender's own units starts with 本局/本部…
        cuts = [0, *relative, len(text)]
        return [text[a:b] for a, b in pairwise(cuts)]
    mentions = organisations(text)
    if len(mentions) < 2:
        return [text]
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    pos = lead
    pieces: list[str] = []
    for m in mentions:
        if m.start != pos:
            return [text]
        pieces.append(text[m.start : m.end])
        pos = m.end
    tail = text[pos:]
    if tail.strip() and not WITH_ATTACHMENTS.fullmatch(tail.strip()):
        return [text]
    pieces[-1] += tail
    return pieces if "".join(pieces).strip() == stripped else [text]


def split_parties(text: str | None) -> tuple[list[str] | None, list[str]]:
    """(names, names flagged with attachments). A trailing (均含附件) flags every name."""
    if text is None:
        return None, []
    text = text.strip().rstrip("。")
    if not text:
        return None, []
    all_flag = False
    m = WITH_ATTACHMENTS.search(text)
    if m and m.group(1) == "均":
        all_flag = True
        text = text[: m.start()]
    names: list[str] = []
    flagged: list[str] = []
    for piece in _split_outside_brackets(text):
        for part in split_run_together(piece):
            name = part.strip()
            if not name:
                continue
            fm = WITH_ATTACHMENTS.search(name)
            if fm:
                name = name[: fm.start()].strip()
                flagged.append(name)
            names.append(name)
    if all_flag:
        flagged = list(names)
    return (names or None), flagged


_TRAILING_SPECKS = re.compile(r"[\s.,:;·。，、]+$")
_NORMALISED_TITLES = tuple((normalize_for_match(t), len(t)) for t in JOB_TITLES)


def split_title_name(text: str) -> tuple[str | None, str]:
    """`技士　林佳儀` → (技士, 林佳儀); a name printed alone has no title.

    Titles are compared in matching form, so an OCR variant (税務員) is still a title; the
    name keeps its printed characters. Specks OCR adds after a name are dropped.
    """
    text = _TRAILING_SPECKS.sub("", text.strip())
    parts = text.split()
    if len(parts) >= 2 and normalize_for_match(parts[0]) in {t for t, _ in _NORMALISED_TITLES}:
        return parts[0], " ".join(parts[1:])
    compact = text.replace(" ", "").replace("\u3000", "")
    matchable = normalize_for_match(compact)
    for title, length in _NORMALISED_TITLES:
        if len(matchable) == len(compact) and matchable.startswith(title) and len(compact) > length + 1:
            return compact[:length], compact[length:]
    if len(parts) == 2 and len(parts[1]) in (2, 3, 4) and len(parts[0]) <= 6:
        # an unknown title followed by a 2–4 character name
        return parts[0], parts[1]
    return None, text
