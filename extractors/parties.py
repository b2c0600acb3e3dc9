"""Lists of addressees (正本, 副本, 出席者, 列席者) and the clerk's name line."""

from __future__ import annotations

import re

from extractors.glossary import JOB_TITLES, WITH_ATTACHMENTS

_SEPARATORS = re.compile(r"[、，,；;]")


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
    for part in _split_outside_brackets(text):
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


def split_title_name(text: str) -> tuple[str | None, str]:
    """`技士　林佳儀` → (技士, 林佳儀); a name printed alone has no title."""
    text = text.strip()
    parts = text.split()
    if len(parts) >= 2 and parts[0] in JOB_TITLES:
        return parts[0], " ".join(parts[1:])
    compact = text.replace(" ", "").replace("\u3000", "")
    for title in JOB_TITLES:
        if compact.startswith(title) and len(compact) > len(title) + 1:
            return title, compact[len(title) :]
    if len(parts) == 2 and len(parts[1]) in (2, 3, 4) and len(parts[0]) <= 6:
        # an unknown title followed by a 2–4 character name
        return parts[0], parts[1]
    return None, text
