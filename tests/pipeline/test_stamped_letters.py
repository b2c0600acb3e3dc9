"""No body text is lost to a receipt stamp: for every sample letter with a stamp on its body,
each 說明/辦法/備註 item, the 主旨 and the 正本/副本 lists read as the hand-written golden, and
the stamp comes out as `received`. Whole files through the reading path (PDF → extract_file).

Born-digital: character for character. Scanned twins (OCR): the same items, none missing,
none extra, no stamp text in any of them, each within the OCR tolerance of `gongwen eval`
(CER ≤ 2%): the engine's own misreadings (`TOCC` → `TCCC`, `。` dropped) are not a stamp's
doing, and a stamp that cut, dropped or glued text fails either way."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pipeline.evaluate import MAX_CER, cer, cer_text, flatten_items
from pipeline.extract import extract_file

ROOT = Path(__file__).resolve().parents[2]
BORN = ROOT / "samples" / "born_digital"
SCANNED = ROOT / "samples" / "scanned"


def _stamped() -> list[tuple[str, int]]:
    """(sample, document index) of every letter the generator's manifest puts a receipt stamp on."""
    out: list[tuple[str, int]] = []
    for manifest in sorted(BORN.glob("*.layout.json")):
        name = manifest.name.removesuffix(".layout.json")
        if not (BORN / f"{name}.json").exists():
            continue
        layout = json.loads(manifest.read_text(encoding="utf-8"))
        docs = {s["document"] for s in layout.get("stamps", [])}
        out += [(name, d) for d in sorted(docs) if layout["documents"][d]["kind"] == "letter"]
    return out


STAMPED = _stamped()
FILES = sorted({name for name, _ in STAMPED})
# OCR costs seconds a page: the scanned twins of the short letters (the long seed files'
# scans are read in test_scanned.py)
SHORT = [n for n in FILES if json.loads((BORN / f"{n}.layout.json").read_text(encoding="utf-8"))["pages"] <= 2]


def test_the_samples_stamp_bodies_every_way() -> None:
    """Stamps between items, between two lines of one item and over the text; red, blue, black."""
    seen = set()
    for name in FILES:
        for stamp in json.loads((BORN / f"{name}.layout.json").read_text(encoding="utf-8"))["stamps"]:
            seen.add((stamp["placement"], stamp["ink"]))
    assert {p for p, _ in seen} == {"band", "split", "over"}
    assert {i for _, i in seen} >= {"red", "blue", "black"}
    assert ("split", "black") in seen and len(STAMPED) >= 12


def _texts(doc: dict[str, Any]) -> dict[str, Any]:
    """What a stamp must not touch, as printed."""
    out: dict[str, Any] = {"subject": doc.get("subject")}
    for key in ("explanation", "measures", "notes"):
        out.update({f"{key}[{path}]": text for path, text in flatten_items(doc.get(key))})
    for key in ("cc_main", "cc_copy"):
        out[key] = doc.get(key)
    return out


def _squeeze(value: Any) -> Any:
    """Whitespace is layout (GOLDEN.md); every other character counts."""
    if isinstance(value, str):
        return "".join(value.split())
    if isinstance(value, list):
        return [_squeeze(v) for v in value]
    return value


# what only a stamp prints: 收文, a stamp date (113.10.04, 112/06/01) or a receipt number alone
_STAMP_TEXT = re.compile(r"收\s*文|[0-9]{2,3}\s*[./]\s*[0-9]{1,2}\s*[./]\s*[0-9]{1,2}(?![0-9])|第\s*[0-9]{3,}\s*號\s*$")


def _close(expected: Any, got: Any) -> bool:
    """Equal within the OCR tolerance: texts at CER ≤ 2%, lists name by name."""
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(_close(a, b) for a, b in zip(expected, got, strict=True))
    if isinstance(expected, str) and isinstance(got, str):
        # one misread character is OCR's in any text; a cut, a dropped line or a glued stamp is more
        return cer(expected, got) <= max(MAX_CER, 1.5 / max(len(cer_text(expected)), 1))
    return bool(expected == got)


def _check(pdf: Path, name: str, documents: list[int], ocr: bool) -> None:
    golden = json.loads((BORN / f"{name}.json").read_text(encoding="utf-8"))
    result = extract_file(pdf) if ocr else extract_file(pdf, None)
    assert result.error is None
    by_start = {d.pages[0]: d.model_dump(mode="json") for d in result.documents}
    for index in documents:
        want = golden["documents"][index]
        got = by_start.get(want["pages"][0])
        assert got is not None, f"{name} doc {index}: no document starts on page {want['pages'][0]}"
        expected, found = _texts(want), _texts(got)
        same = _close if ocr else (lambda a, b: _squeeze(a) == _squeeze(b))
        wrong = {k: (v, found.get(k)) for k, v in expected.items() if not same(v, found.get(k))}
        assert wrong == {}, f"{name} doc {index}"
        assert set(found) == set(expected), f"{name} doc {index}: items the golden does not have"
        glued = [t for t in found.values() if isinstance(t, str) and _STAMP_TEXT.search(t)]
        assert glued == [], f"{name} doc {index}: stamp text in the body"
        assert got["received"] is not None and got["received"]["date"] == want["received"]["date"]


@pytest.mark.parametrize("name", FILES)
def test_born_digital(name: str) -> None:
    _check(BORN / f"{name}.pdf", name, [d for n, d in STAMPED if n == name], ocr=False)


@pytest.mark.parametrize("name", SHORT)
def test_scanned(name: str) -> None:
    _check(SCANNED / f"{name}.pdf", name, [d for n, d in STAMPED if n == name], ocr=True)
