"""Scanned twins are image-only, faithful to their plan, deterministic, and share the golden."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest
from numpy.typing import NDArray

from samples.scan import A4_POINTS, ScanPlan, main, page_count, plan_scan, scan_samples

BORN = Path(__file__).resolve().parents[2] / "samples" / "born_digital"


@cache
def all_plans() -> dict[str, ScanPlan]:
    return {p.stem: plan_scan(p.stem, page_count(p)) for p in sorted(BORN.glob("*.pdf"))}


def small_flipped_sample() -> str:
    """The shortest sample with a golden whose plan turns a page upside down (exercises the most)."""
    candidates = [
        (len(plan.pages), name)
        for name, plan in all_plans().items()
        if any(p.rotation for p in plan.pages) and (BORN / f"{name}.json").exists()
    ]
    return min(candidates)[1]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    name = small_flipped_sample()
    out = tmp_path_factory.mktemp("scanned")
    assert [n for n, _ in scan_samples([name], BORN, out, jobs=1)] == [name]
    return name, out


def _ink(pdf: Path, index: int, scale: float) -> NDArray[np.float64]:
    """A small, mean-free ink map of one page, for comparing orientation."""
    doc = pdfium.PdfDocument(str(pdf))
    try:
        img = doc[index].render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        doc.close()
    ink = 255.0 - np.asarray(img, dtype=np.float64)
    normed: NDArray[np.float64] = (ink - ink.mean()) / (ink.std() + 1e-9)
    return normed


def test_image_only_with_the_same_pages(scanned: tuple[str, Path]) -> None:
    name, out = scanned
    with pdfplumber.open(out / f"{name}.pdf") as pdf:
        assert len(pdf.pages) == page_count(BORN / f"{name}.pdf")
        for page in pdf.pages:
            assert page.chars == []
            assert page.extract_text() == ""
            assert len(page.images) == 1


def test_page_is_a4_and_image_matches_recorded_dpi(scanned: tuple[str, Path]) -> None:
    name, out = scanned
    record = json.loads((out / f"{name}.scan.json").read_text(encoding="utf-8"))
    assert record["scan_of"] == f"{name}.pdf" and "file" not in record  # never mistaken for a golden
    with pdfplumber.open(out / f"{name}.pdf") as pdf:
        assert len(record["pages"]) == len(pdf.pages)
        for page, rec in zip(pdf.pages, record["pages"], strict=True):
            assert page.width == pytest.approx(A4_POINTS[0], abs=0.01)
            assert page.height == pytest.approx(A4_POINTS[1], abs=0.01)
            image = page.images[0]
            assert tuple(image["srcsize"]) == (rec["width_px"], rec["height_px"])
            assert rec["width_px"] / (A4_POINTS[0] / 72) == pytest.approx(rec["dpi"], abs=0.5)
            assert rec["height_px"] / (A4_POINTS[1] / 72) == pytest.approx(rec["dpi"], abs=0.5)
            assert image["width"] == pytest.approx(page.width, abs=0.01)
            colour = "DeviceGray" if rec["mode"] == "gray" else "DeviceRGB"
            assert colour in str(image["colorspace"])


def test_upside_down_exactly_where_recorded(scanned: tuple[str, Path]) -> None:
    name, out = scanned
    record = json.loads((out / f"{name}.scan.json").read_text(encoding="utf-8"))
    assert any(p["rotation"] == 180 for p in record["pages"])
    for index, rec in enumerate(record["pages"]):
        scan = _ink(out / f"{name}.pdf", index, 0.25)
        born = _ink(BORN / f"{name}.pdf", index, 0.25)
        upright, flipped = float((scan * born).mean()), float((scan * born[::-1, ::-1]).mean())
        if rec["rotation"] == 180:
            assert flipped > upright + 0.1
        else:
            assert upright > flipped + 0.1


def test_same_bytes_twice(scanned: tuple[str, Path], tmp_path: Path) -> None:
    name, out = scanned
    list(scan_samples([name], BORN, tmp_path, jobs=1))
    for file in (f"{name}.pdf", f"{name}.scan.json", f"{name}.json"):
        assert (tmp_path / file).read_bytes() == (out / file).read_bytes(), file


def test_golden_is_copied_not_linked(scanned: tuple[str, Path]) -> None:
    name, out = scanned
    copy = out / f"{name}.json"
    assert not copy.is_symlink()
    assert copy.read_bytes() == (BORN / f"{name}.json").read_bytes()
    assert json.loads(copy.read_text(encoding="utf-8"))["file"] == f"{name}.pdf"


def test_check_flags_a_stale_twin(scanned: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    name, out = scanned
    args = [name, "--src", str(BORN), "--out", str(out), "--jobs", "1", "--check"]
    assert main(args) == 0
    record = out / f"{name}.scan.json"
    original = record.read_bytes()
    record.write_bytes(original + b" ")
    try:
        assert main(args) == 1
        assert f"{name}.scan.json" in capsys.readouterr().err
    finally:
        record.write_bytes(original)


def test_plans_are_deterministic_and_in_range() -> None:
    for name, plan in all_plans().items():
        assert plan == plan_scan(name, len(plan.pages))
        for p in plan.pages:
            assert p.dpi in (200, 300) and p.mode in ("gray", "colour")
            assert -1.5 <= p.skew_deg <= 1.5 and p.rotation in (0, 180)
            assert 35 <= p.jpeg_quality <= 75 and 0 < p.blur_radius < 1
        assert sum(p.rotation == 180 for p in plan.pages) <= 1
        assert len({(p.dpi, p.mode, p.jpeg_quality) for p in plan.pages}) == 1  # scanner settings per file


def test_every_option_occurs_several_times_across_the_set() -> None:
    seen: Counter[str] = Counter()
    for plan in all_plans().values():
        first = plan.pages[0]
        seen.update([f"dpi {first.dpi}", first.mode, first.noise])
        seen.update({f"binding {p.binding.edge}" for p in plan.pages if p.binding})
        if any(p.rotation for p in plan.pages):
            seen["upside down"] += 1
    for option in ("dpi 200", "dpi 300", "gray", "colour", "light", "medium", "heavy",
                   "binding left", "binding top", "upside down"):
        assert seen[option] >= 3, (option, seen)
