"""Register the Debian CJK fonts with reportlab and measure text in them.

The fonts are TrueType collections; the Traditional Chinese face is picked by its
family name so that 臺/啓/粧 get the Taiwanese glyph forms. A character the document
font lacks falls back to WenQuanYi so that nothing is drawn as an empty box.
"""

from __future__ import annotations

import struct
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from samples.markup import FontKey

FONT_FILES: dict[FontKey, Path] = {
    "uming": Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    "ukai": Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    "wqy": Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
}
FALLBACK: FontKey = "wqy"
LATIN = "Helvetica"


def _family_names(path: Path) -> list[str]:
    """Family name (nameID 1) of each face of a TrueType collection, read from its name tables.

    Reading the name tables directly is much faster than loading every face with reportlab.
    """
    data = path.read_bytes()
    if data[:4] != b"ttcf":
        offsets = [0]
    else:
        count = struct.unpack(">I", data[8:12])[0]
        offsets = list(struct.unpack(f">{count}I", data[12 : 12 + 4 * count]))
    families: list[str] = []
    for off in offsets:
        num_tables = struct.unpack(">H", data[off + 4 : off + 6])[0]
        family = ""
        for t in range(num_tables):
            rec = off + 12 + 16 * t
            tag, _sum, table_off, _len = struct.unpack(">4sIII", data[rec : rec + 16])
            if tag != b"name":
                continue
            _fmt, n_names, str_off = struct.unpack(">HHH", data[table_off : table_off + 6])
            for r in range(n_names):
                nrec = table_off + 6 + 12 * r
                platform, _enc, _lang, name_id, length, offset = struct.unpack(">6H", data[nrec : nrec + 12])
                if name_id != 1:
                    continue
                raw = data[table_off + str_off + offset : table_off + str_off + offset + length]
                family = raw.decode("utf-16-be" if platform in (0, 3) else "latin-1", errors="replace")
                if platform == 3:
                    break
        families.append(family)
    return families


def subfont_index(path: Path) -> int:
    """Index of the face whose family name ends in ' TW' (Taiwanese glyph forms), else 0."""
    for index, family in enumerate(_family_names(path)):
        if family.endswith(" TW"):
            return index
    return 0


@cache
def font_name(key: FontKey) -> str:
    """Register (once) and return the reportlab name of a font key."""
    name = f"GW-{key}"
    path = FONT_FILES[key]
    pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=subfont_index(path)))
    return name


@cache
def _coverage(name: str) -> frozenset[int]:
    font = pdfmetrics.getFont(name)
    return frozenset(font.face.charToGlyph)


def runs(text: str, name: str) -> list[tuple[str, str]]:
    """Split text into (chunk, font name) runs, using the fallback font for missing glyphs."""
    if name == LATIN:
        return [(text, name)] if text else []
    covered = _coverage(name)
    fallback = font_name(FALLBACK)
    out: list[tuple[str, str]] = []
    for ch in text:
        use = name if ord(ch) in covered or ch.isspace() else fallback
        if out and out[-1][1] == use:
            out[-1] = (out[-1][0] + ch, use)
        else:
            out.append((ch, use))
    return out


@cache
def char_width(ch: str, name: str, size: float) -> float:
    """Advance width of one character in points, with fallback."""
    return float(sum(pdfmetrics.stringWidth(chunk, f, size) for chunk, f in runs(ch, name)))


def text_width(text: str, name: str, size: float) -> float:
    """Advance width of a string in points, with fallback."""
    return sum(char_width(ch, name, size) for ch in text)
