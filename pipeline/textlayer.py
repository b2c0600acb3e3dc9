"""Is a page's text layer worth reading, or must the page be OCR'd?

A scanned letter is an image; some scanners add their own OCR layer, often poor (CJK read as
mojibake or `(cid:…)` codes), and some PDFs carry a few words of text over a full-page
image (a stamp, a page number) while the letter itself is only pixels. Decided per page,
so a PDF whose cover is born-digital and whose attachment is scanned is read correctly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_CID = re.compile(r"\(cid:\d+\)")

FULL_PAGE_IMAGE = 0.6  # share of the page an image must cover to be a scan
MIN_CHARS_OVER_SCAN = 40  # fewer characters than this over a scan: the text is not the letter
MIN_CLEAN_SHARE = 0.85  # share of characters that must be ordinary text


@dataclass(frozen=True)
class Verdict:
    use_text: bool
    reason: str  # "text", "no text", "garbled text", "text covers little of a scanned page"


def _is_ordinary(ch: str) -> bool:
    """Han, kana/bopomofo, ASCII printable, CJK and full-width punctuation: what letters are made of."""
    o = ord(ch)
    if 0x20 <= o < 0x7F:
        return True
    if 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF or 0x2000 <= o <= 0x206F:
        return True
    if 0x3100 <= o <= 0x312F:  # bopomofo
        return True
    cat = unicodedata.category(ch)
    if 0xE000 <= o <= 0xF8FF or o == 0xFFFD or cat.startswith("C"):
        return False
    if cat.startswith("L"):
        # Latin-1 letters (Ã, ¤, ©…) are what CJK text decoded with the wrong encoding looks like
        return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F
    return cat in ("Nd", "Po", "Ps", "Pe", "Pd", "Sm", "Sc", "So", "No")


def clean_share(text: str) -> float:
    """Share of non-space characters that are ordinary text; `(cid:n)` codes count as garbage."""
    cids = len(_CID.findall(text))
    text = _CID.sub("", text)
    chars = [c for c in text if not c.isspace()]
    total = len(chars) + cids
    if total == 0:
        return 0.0
    return sum(1 for c in chars if _is_ordinary(c)) / total


def assess(text: str, image_cover: float) -> Verdict:
    """`text`: the page's text layer; `image_cover`: the largest image's share of the page area."""
    stripped = "".join(text.split())
    if not stripped:
        return Verdict(False, "no text")
    if clean_share(text) < MIN_CLEAN_SHARE:
        return Verdict(False, "garbled text")
    if image_cover >= FULL_PAGE_IMAGE and len(stripped) < MIN_CHARS_OVER_SCAN:
        return Verdict(False, "text covers little of a scanned page")
    return Verdict(True, "text")
