"""The scanned path against the raw OCR engine: one page, a warm batch, a cold 2-page letter.

- overhead: same pages, same run, alternating: (a) the raw engine (`engine.read` on the
  rendered page), (b) gongwen's whole path for that page (render, orientation, deskew, red
  ink, OCR, layout, segmentation, extraction), one process.
- batch: scanned files totalling about `--batch-pages` pages, alternating in one process:
  (a) the raw engine in the OCR pool's workers, one per core (render + `engine.read` per
  page, models loaded), (b) `pipeline.extract.extract_files` over the files, as
  `gongwen extract DIR` and `gongwen eval` run them, its pool warm. Wall seconds per page,
  and CPU seconds per page (this process and the pool's workers, from /proc), medians of
  the rounds and the ratio (b)/(a) per round: on a shared machine the ratio is what to compare.
- cold: a 2-page scanned letter at 300 dpi in a fresh `gongwen extract` process, wall and
  CPU (the process and its workers), model loading included.

    .venv/bin/python bench/ocr_pipeline.py [--parts overhead batch cold] [--repeats 3] [--dpi 300]
        [--batch-pages 16] [--scanned DIR]
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


def _cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of live processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _pool_pids(pool: object) -> list[int]:
    return list(getattr(pool, "_processes", {}) or {})


def pick_batch(scanned: Path, pages: int) -> list[Path]:
    """Scanned files in name order, every other one, until about `pages` pages: 1-, 2- and 3-page letters mixed."""
    import pypdfium2 as pdfium

    out: list[Path] = []
    total = 0
    for path in sorted(scanned.glob("*.pdf"))[::2]:
        n = len(pdfium.PdfDocument(str(path)))
        if n > 4:  # leave out the long reports: they would be the whole batch
            continue
        out.append(path)
        total += n
        if total >= pages:
            break
    return out


def _raw_job(path: str, index: int, dpi: int) -> int:
    from pipeline.ocr import get_engine
    from pipeline.ocr.imageprep import render_page

    get_engine().read(render_page(path, index, dpi=dpi))
    return 1


def batch(files: list[Path], dpi: int, repeats: int) -> dict[str, object]:
    import pypdfium2 as pdfium

    from pipeline import scan
    from pipeline.extract import extract_files

    pages = [(str(p), i) for p in files for i in range(len(pdfium.PdfDocument(str(p))))]
    workers = os.cpu_count() or 1
    options = scan.OcrOptions(dpi=dpi)
    scan.start_pool(options)  # from a single-threaded process: forked, as in `gongwen extract DIR`
    # the raw engine runs in the same workers (same loaded models, and memory for one pool only)
    raw_pool = scan._pool(workers, options.engine)
    list(extract_files(files[:2], options))  # warm: models loaded, first pages read
    rows: list[dict[str, float]] = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time() + _cpu_of(_pool_pids(raw_pool))
        list(raw_pool.map(_raw_job, [p for p, _ in pages], [i for _, i in pages], [dpi] * len(pages)))
        raw_wall = time.perf_counter() - t0
        raw_cpu = time.process_time() + _cpu_of(_pool_pids(raw_pool)) - c0
        ours_pids = _pool_pids(scan._POOL)
        t0, c0 = time.perf_counter(), time.process_time() + _cpu_of(ours_pids)
        results = list(extract_files(files, options))
        ours_wall = time.perf_counter() - t0
        ours_cpu = time.process_time() + _cpu_of(ours_pids) - c0
        assert all(r.error is None for r in results), [r.error for r in results if r.error]
        n = len(pages)
        rows.append({
            "raw_s_per_page": raw_wall / n,
            "gongwen_s_per_page": ours_wall / n,
            "ratio": ours_wall / raw_wall,
            "raw_cpu_s_per_page": raw_cpu / n,
            "gongwen_cpu_s_per_page": ours_cpu / n,
        })
        print("  batch round", {k: round(v, 2) for k, v in rows[-1].items()}, flush=True)
    out: dict[str, object] = {"files": len(files), "pages": len(pages), "workers": workers, "repeats": repeats}
    for key in rows[0]:
        out[f"{key}_median"] = round(statistics.median(r[key] for r in rows), 2)
    out["ratios"] = [round(r["ratio"], 2) for r in rows]
    return out


def cold(letter: Path, repeats: int) -> dict[str, object]:
    """`gongwen extract LETTER` in fresh processes: wall and CPU (workers included: they are reaped)."""
    import resource
    import subprocess

    gongwen = Path(sys.executable).with_name("gongwen")
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([str(gongwen), "extract", str(letter), "--json"], cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {
        "letter": letter.name,
        "wall_s_median": round(statistics.median(walls), 2),
        "walls": [round(w, 2) for w in walls],
        "cpu_s_median": round(statistics.median(cpus), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", nargs="+", default=["overhead", "batch", "cold"], choices=["overhead", "batch", "cold"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--batch-pages", type=int, default=16)
    ap.add_argument("--scanned", type=Path, default=SCANNED)
    args = ap.parse_args()
    os.environ.setdefault("GONGWEN_OCR_THREADS", "1")
    report: dict[str, object] = {"cores": os.cpu_count()}
    if "batch" in args.parts:
        report["batch"] = batch(pick_batch(args.scanned, args.batch_pages), args.dpi, args.repeats)
    if "cold" in args.parts:
        report["cold"] = cold(args.scanned / "own_01.pdf", args.repeats)
    if "overhead" in args.parts:
        report["overhead"] = overhead(args.repeats, args.dpi)
    print(json.dumps(report, indent=2))


def overhead(repeats: int, dpi: int) -> dict[str, object]:
    args = argparse.Namespace(repeats=repeats, dpi=dpi)
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
    return {
        "dpi": args.dpi,
        "pages": len(raw_times) // args.repeats,
        "repeats": args.repeats,
        "raw_engine_s_per_page_median": round(statistics.median(raw_times), 2),
        "gongwen_s_per_page_median": round(statistics.median(ours_times), 2),
        "overhead_ratio_median": round(statistics.median(ratios), 3),
    }


if __name__ == "__main__":
    main()
