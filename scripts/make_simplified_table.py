"""Build pipeline/data/simplified_only.json: characters that cannot occur in Taiwanese text.

A Simplified character (OpenCC's s2t changes it) not encodable in cp950 (Big5 as Windows
writes it) whose s2tw form (the Taiwanese standard characters) is one cp950 character is what
an OCR engine printed for that Traditional one: 为 → 為 (s2t gives 爲, itself not in Big5, and
so once left 为 out). Variants that s2t keeps (啓, 峯, 衆) are left alone: names print them. Run by hand with OpenCC installed (`pip install opencc`); the table is committed so the
pipeline needs no OpenCC at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import opencc


def in_big5(ch: str) -> bool:
    try:
        ch.encode("cp950")
    except UnicodeEncodeError:
        return False
    return True


def main() -> None:
    s2t, s2tw = opencc.OpenCC("s2t"), opencc.OpenCC("s2tw")
    table: dict[str, str] = {}
    for code in range(0x4E00, 0xA000):
        ch = chr(code)
        if in_big5(ch):
            continue
        if s2t.convert(ch) == ch:  # not a Simplified form
            continue
        target = s2tw.convert(ch)
        if len(target) == 1 and target != ch and in_big5(target):
            table[ch] = target
    out = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "simplified_only.json"
    out.write_text(json.dumps(table, ensure_ascii=False, sort_keys=True, indent=0), encoding="utf-8")
    print(f"{len(table)} characters -> {out}")


if __name__ == "__main__":
    main()
