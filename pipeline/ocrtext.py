"""What an OCR engine prints that the page does not: specks read as dots, Simplified characters.

Applied to OCR'd lines only; a text layer is never touched.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

_CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
# Dust on a scan is read as a dot. A half-width dot or middle dot is never printed between
# two Han characters or full-width marks, at the edge of a Han line, inside a number that
# ends in 年/號, or inside a date; there it is a speck, not text.
_SPECKS = (
    (re.compile(rf"(?<=[{_CJK}])\s?[.·．•]+\s?(?=[{_CJK}])"), ""),
    (re.compile(rf"^[.·．•,]+\s?(?=[{_CJK}(（0-9])"), ""),
    (re.compile(rf"(?<=[{_CJK}])\s?[.·．•,]+$"), ""),
    (re.compile(r"(?<=[0-9])[·•](?=[0-9])"), ""),
    (re.compile(r"(?<=[0-9])\.(?=[0-9]{1,2}年)"), ""),
    # …and inside a date's month or day (112年1.0月2日), or between a number and its 年/月/日 (5.日)
    (re.compile(r"(?<=[年月][0-9])[.·．•](?=[0-9][月日])"), ""),
    (re.compile(r"(?<=[0-9])[.·．•](?=[年月日])"), ""),
)


def clean_ocr_specks(text: str) -> str:
    for pattern, repl in _SPECKS:
        text = pattern.sub(repl, text)
    return text


@cache
def _simplified_only() -> dict[int, str]:
    """Characters that cannot occur in Taiwanese text (not in Big5), each with the one
    Traditional character it stands for (scripts/make_simplified_table.py builds the table).
    Ambiguous ones (台, 干, 后, 里) are Big5 characters and so are never in it."""
    path = Path(__file__).resolve().parent / "data" / "simplified_only.json"
    table: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return {ord(k): v for k, v in table.items()}


def restore_traditional(text: str) -> str:
    """税→稅, 应→應: the recognizer's Simplified output for a letter printed in Traditional."""
    return text.translate(_simplified_only())


def clean_ocr_text(text: str) -> str:
    return restore_traditional(clean_ocr_specks(text))
