"""The scanned path's overhead over the raw OCR engine, and the 2-page-letter wall time.

Same pages, same run, alternating: (a) the raw engine (`engine.read` on the rendered page),
(b) gongwen's whole path for that page (render, orientation, deskew, red ink, OCR, layout,
segmentation, extraction). Then a 2-page scanned letter at 300 dpi end to end with one
worker per core, as `gongwen extract` runs it (model loading in the workers included).

    .venv/bin/python bench/ocr_pipeline.py [--repeats 3] [--dpi 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCANNED = ROOT / "samples" / "scanned"
# 2-page letters among the scanned twins (300 dpi and 200 dpi, gray and colour)
TWO_PAGE = ["own_01", "own_02", "own_04", "tainan_001"]


def single_page_pdfs(tmp: Path) -> list[Path]:
    import pypdfium2 as pdfium

    out: list[Path] = []
    for name in TWO_PAGE:
        src = pdfium.PdfDocument(str(SCANNED / f"{name}.pdf"))
        for i in range(len(src)):
            one = pdfium.PdfDocument.new()
            one.import_pages(src, [i])
            path = tmp / f"{name}_p{i + 1}.pdf"
            one.save(str(path))
            out.append(path)
    return out


def raw_engine(path: Path, dpi: int) -> float:
    from pipeline.ocr import get_engine
    from pipeline.ocr.imageprep import render_page

    t0 = time.perf_counter()
    image = render_page(str(path), 0, dpi=dpi)
    get_engine().read(image)
    return time.perf_counter() - t0


def whole_path(path: Path, dpi: int) -> float:
    from pipeline.extract import extract_file
    from pipeline.scan import OcrOptions

    t0 = time.perf_counter()
    extract_file(path, OcrOptions(dpi=dpi, workers=1))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dpi", type=int, default=300)
    args = ap.parse_args()
    os.environ.setdefault("GONGWEN_OCR_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        pages = single_page_pdfs(Path(tmp))
        raw_engine(pages[0], args.dpi)  # warm-up: model loading
        whole_path(pages[0], args.dpi)
        raw_times: list[float] = []
        ours_times: list[float] = []
        ratios: list[float] = []
        for _ in range(args.repeats):
            for page in pages:
                r = raw_engine(page, args.dpi)
                o = whole_path(page, args.dpi)
                raw_times.append(r)
                ours_times.append(o)
                ratios.append(o / r)
    # a 2-page letter end to end, in a fresh process (pool start-up and model loading counted)
    letter = SCANNED / "own_01.pdf"
    walls: list[float] = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        code = (
            "from pathlib import Path; from pipeline.extract import extract_file; from pipeline.scan import OcrOptions;"
            f"r = extract_file(Path({str(letter)!r}), OcrOptions(dpi={args.dpi})); assert r.documents"
        )
        import subprocess

        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    print(json.dumps({
        "dpi": args.dpi,
        "pages": len(raw_times) // args.repeats,
        "repeats": args.repeats,
        "raw_engine_s_per_page_median": round(statistics.median(raw_times), 2),
        "gongwen_s_per_page_median": round(statistics.median(ours_times), 2),
        "overhead_ratio_median": round(statistics.median(ratios), 3),
        "two_page_letter_wall_s_median": round(statistics.median(walls), 2),
        "two_page_letter_walls": [round(w, 2) for w in walls],
        "cores": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
