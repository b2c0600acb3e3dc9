"""Stage clean: what an OCR engine prints that the page does not, undone on an OCR'd page's lines.

Specks read as dots; Simplified characters (pipeline/data/simplified_only.json) and the Japanese or old
glyph forms (TW_STANDARD_FORMS) the recognizer prints for Taiwan's standard ones; an item number whose
、 was dropped or that a speck crept into. Applied after layout, to OCR'd pages only (pipeline/extract.py
calls it); a text layer is never touched. Field-level repairs that need to know the field (an e-mail
address's l/1 in extractors/letter.py) stay with the field; the variant table of extractors/orgs.py is
not a repair but the matching form of names (台 and 臺 are both printed: the text keeps either).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from statistics import median

from schemas.page import Line, Page

# Glyph forms PP-OCR's recogniser prints for the Taiwanese standard form (it was trained on
# Simplified, Traditional and Japanese text alike); none of them is used in 公文 as printed.
# Measured on the samples (bench/ocr.py): 説 爲 塡 内 号 温 are its usual substitutions.
TW_STANDARD_FORMS = str.maketrans({"説": "說", "爲": "為", "塡": "填", "内": "內", "号": "號", "衞": "衛", "温": "溫"})

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
    """One OCR'd line's text: specks out, Traditional and Taiwan's standard forms back."""
    return restore_traditional(clean_ocr_specks(text)).translate(TW_STANDARD_FORMS)


def clean_page(page: Page) -> Page:
    """An OCR'd page's lines cleaned (a line left empty is dropped, item numbers restored); other pages as they are."""
    if not page.source.startswith("ocr"):
        return page
    for line in page.lines:
        line.text = clean_ocr_text(line.text)
    page.lines = [ln for ln in page.lines if ln.text.strip()]
    _restore_item_marks(page.lines)
    return page


_CN_NUMERALS = "一二三四五六七八九十"
_ITEM_MARK = re.compile(r"^([一二三四五六七八九十]{1,2})、")
_BARE_ITEM = re.compile(r"^([一二三四五六七八九十]{1,2})(?=[\u4e00-\u9fff])")
_BRACKET_SPECK = re.compile(r"^([(（])[.·。,，、]+(?=[一二三四五六七八九十0-9０-９]+[)）])")
_LEADING_SPECK = re.compile(r"^[-－_·.,，、'\"`]+\s*(?=[一二三四五六七八九十]{1,2}、|[(（][一二三四五六七八九十0-9０-９]+[)）])")


def _cn_value(numeral: str) -> int | None:
    if len(numeral) == 1:
        return _CN_NUMERALS.index(numeral) + 1
    if numeral[0] == "十" and numeral[1] != "十":
        return 10 + _CN_NUMERALS.index(numeral[1]) + 1
    return None


def _restore_item_marks(lines: list[Line]) -> None:
    """OCR drops the 、 of an item number (`四本部將於…`) or reads a speck before or into it (`-一、`, `(.一)`).

    A line that starts with a bare numeral is an item when a sibling printed at the same
    indent carries the number just before or after it (`三、`, then `四本部` → `四、本部`);
    without such a sibling `一併`, `十分` and the like stay as they are.
    """
    sizes = [ln.size for ln in lines]
    tolerance = 0.6 * (median(sizes) if sizes else 12.0)
    marked = [(ln.x0, _cn_value(m.group(1))) for ln in lines if (m := _ITEM_MARK.match(ln.text))]
    for line in lines:
        line.text = _BRACKET_SPECK.sub(r"\1", _LEADING_SPECK.sub("", line.text))
        m = _BARE_ITEM.match(line.text)
        if m is None or _ITEM_MARK.match(line.text):
            continue
        value = _cn_value(m.group(1))
        if value and any(abs(x - line.x0) < tolerance and v in (value - 1, value + 1) for x, v in marked):
            line.text = m.group(1) + "、" + line.text[m.end() :]
    _repair_repeated_numbers(lines, tolerance)


def _repair_repeated_numbers(lines: list[Line], tolerance: float) -> None:
    """`二、` twice in a row at one indent, the number before it missing: OCR misread the first
    (`一` as `二`). Renumber it from its place in the run."""
    items = [(ln, _cn_value(m.group(1))) for ln in lines if (m := _ITEM_MARK.match(ln.text))]
    for i, (line, value) in enumerate(items[:-1]):
        siblings = [v for ln, v in items if abs(ln.x0 - line.x0) < tolerance]
        after = next((v for ln, v in items[i + 1 :] if abs(ln.x0 - line.x0) < tolerance), None)
        before = next((v for ln, v in reversed(items[:i]) if abs(ln.x0 - line.x0) < tolerance), None)
        if value is None or value < 2 or after != value or value - 1 in siblings:
            continue
        if before is None or before == value - 2:
            numeral = _CN_NUMERALS[value - 2] if value - 1 <= 10 else "十" + _CN_NUMERALS[value - 12]
            line.text = numeral + line.text[len(_ITEM_MARK.match(line.text).group(1)) :]  # type: ignore[union-attr]
