"""Line breaking for mixed Han/Latin text, as a word processor does for 公文.

Han text may break after any character; a run of ASCII (a URL, an e-mail address,
a phone number) is kept whole unless it is longer than a line; closing punctuation
never starts a line and opening brackets never end one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

CLOSING = set("，。、；：！？」』）〕】》〉,.;:!?)]}%％…")
OPENING = set("「『（〔【《〈([{")

_TOKEN = re.compile(r"[!-~]+| +|.", re.DOTALL)

Measure = Callable[[str], float]


def tokens(text: str) -> list[str]:
    """ASCII runs, space runs and single other characters, in order."""
    return _TOKEN.findall(text)


def _split_long(token: str, room: float, width: float, measure: Measure) -> list[str]:
    """Cut an over-long ASCII token: first piece fills `room`, the rest full lines of `width`."""
    pieces: list[str] = []
    current = ""
    limit = room
    for ch in token:
        if current and measure(current + ch) > limit:
            pieces.append(current)
            current = ""
            limit = width
        current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, measure: Measure, first_width: float, rest_width: float | None = None) -> list[str]:
    """Break `text` into lines no wider than the given widths (first line, following lines)."""
    rest = first_width if rest_width is None else rest_width
    lines: list[list[str]] = [[]]
    used = 0.0

    def room() -> float:
        return (first_width if len(lines) == 1 else rest) - used

    def new_line() -> None:
        nonlocal used
        line = lines[-1]
        while line and line[-1].isspace():
            line.pop()
        carried: list[str] = []
        # An opening bracket belongs with what follows it.
        if len(line) > 1 and line[-1] in OPENING:
            carried.append(line.pop())
        lines.append(carried)
        used = sum(measure(t) for t in carried)

    for tok in tokens(text):
        if tok.isspace():
            if lines[-1]:
                lines[-1].append(tok)
                used += measure(tok)
            continue
        w = measure(tok)
        if w <= room() + 0.01:
            lines[-1].append(tok)
            used += w
        elif tok in CLOSING and lines[-1]:
            # Hang the punctuation into the margin rather than start a line with it.
            lines[-1].append(tok)
            used += w
        elif len(tok) > 1 and w > rest:
            if lines[-1] and measure(tok[0]) > room():
                new_line()
            pieces = _split_long(tok, room(), rest, measure)
            for i, piece in enumerate(pieces):
                if i:
                    new_line()
                lines[-1].append(piece)
                used += measure(piece)
        else:
            if lines[-1]:
                new_line()
            lines[-1].append(tok)
            used += w
    out = ["".join(line).rstrip() for line in lines]
    return [line for line in out if line] or [""]
