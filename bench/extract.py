"""Speed and memory of `gongwen extract` against a raw pdfplumber `extract_text()` pass.

Both are measured in the same run, alternating, several times, on the same files: the
machine is shared and noisy, so the figure that matters is the median ratio.

    .venv/bin/python bench/extract.py [--repeats 5] [--big-pages 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "samples" / "born_digital"


def raw_pass(paths: list[Path]) -> int:
    import pdfplumber

    pages = 0
    for p in paths:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
                page.close()
    return pages


def gongwen_pass(paths: list[Path]) -> int:
    from pipeline.extract import extract_file

    pages = 0
    for p in paths:
        result = extract_file(p)
        pages += result.pages or 0
    return pages


def peak_rss_mb(code: str) -> float:
    """Peak resident memory of a fresh interpreter running `code`."""
    # VmHWM, not ru_maxrss: ru_maxrss survives exec and would report the parent's peak
    probe = "\nprint([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    proc = subprocess.run([sys.executable, "-c", code + probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return int(proc.stdout.strip().splitlines()[-1]) / 1024


def build_big_pdf(target_pages: int, out: Path) -> int:
    """A long PDF made by the generator from the sample sources, repeated until it is long enough."""
    from samples.generator import render_source

    sources = sorted((ROOT / "samples" / "sources").glob("*.txt"))
    text = "\n".join(s.read_text(encoding="utf-8") for s in sources)
    layout = render_source(text, out)
    pages_per_copy = layout.pages
    copies = max(1, -(-target_pages // pages_per_copy))
    if copies > 1:
        layout = render_source("\n".join([text] * copies), out)
    return int(layout.pages)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--big-pages", type=int, default=200)
    args = ap.parse_args()

    paths = sorted(SAMPLES.glob("*.pdf"))
    # warm-up: imports, spaCy pipeline, regex compilation, OS file cache
    gongwen_pass(paths[:2])
    raw_pass(paths[:2])
    raw_times: list[float] = []
    ours_times: list[float] = []
    ratios: list[float] = []
    pages = 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        pages = raw_pass(paths)
        t1 = time.perf_counter()
        gongwen_pass(paths)
        t2 = time.perf_counter()
        raw_times.append(t1 - t0)
        ours_times.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.pdf"
        big_pages = build_big_pdf(args.big_pages, big)
        t0 = time.perf_counter()
        rss_ours = peak_rss_mb(f"from pipeline.extract import extract_file\nr = extract_file(__import__('pathlib').Path({str(big)!r}))")
        big_time = time.perf_counter() - t0
        rss_raw = peak_rss_mb(
            "import pdfplumber\n"
            f"with pdfplumber.open({str(big)!r}) as pdf:\n"
            "    [(p.extract_text(), p.close()) for p in pdf.pages]"
        )

    result = {
        "files": len(paths),
        "pages": pages,
        "repeats": args.repeats,
        "raw_pdfplumber_pages_per_s_median": round(pages / statistics.median(raw_times), 2),
        "gongwen_pages_per_s_median": round(pages / statistics.median(ours_times), 2),
        "ratio_gongwen_over_raw_median": round(statistics.median(ratios), 3),
        "ratios": [round(r, 3) for r in ratios],
        "big_pdf_pages": big_pages,
        "big_pdf_seconds_incl_startup": round(big_time, 2),
        "big_pdf_peak_rss_mb_gongwen": round(rss_ours, 1),
        "big_pdf_peak_rss_mb_raw_pdfplumber": round(rss_raw, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
