"""OCR engines: seconds per page and character error rate against the born-digital text layer.

For each engine and dpi, pages of `samples/born_digital/*.pdf` are rendered to images and
read by `pipeline.ocr.ocr_image` (orientation, deskew, red-ink split, OCR of text and stamp),
the words laid out and cleaned (`pipeline.layout.build_page`, `pipeline.ocrtext.clean_page`) exactly as the reader's are, and the
text compared with the same page's pdfplumber text laid out the same way. Where
`samples/scanned/NAME.pdf` exists (scanned twins with noise and skew), its pages are read
too and compared with `samples/born_digital/NAME.pdf`.

CER = Levenshtein(reference, ocr) / len(reference), both NFKC-normalised with all
whitespace removed. Timing: each engine single-threaded (OMP_THREAD_LIMIT=1, ONNX Runtime
intra-op threads 1); "1 proc" is the median seconds of one page in one warm process,
"2 procs" is wall time / pages with two warm worker processes (the machine has 2 cores).

    .venv/bin/python bench/ocr.py [--engines ppocr-v6-small tesseract] [--dpi 200 300]
        [--pages 10] [--no-procs2] [--write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
os.environ.setdefault("GONGWEN_OCR_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BORN = ROOT / "samples" / "born_digital"
SCANNED = ROOT / "samples" / "scanned"
RESULTS = ROOT / "bench" / "RESULTS.md"

from pipeline.evaluate import cer  # noqa: E402  (the same CER as `gongwen eval`)

HEADING = "## OCR engines"


@dataclass(frozen=True)
class PageRef:
    name: str  # file stem
    index: int  # 0-based page
    image_pdf: Path  # the PDF whose page is rendered and OCR'd
    kind: str  # "born" or "scanned"
    native_dpi: int | None = None  # a scan's own resolution: rendered at that, not resampled
    note: str = ""


def reference_text(name: str, index: int) -> str:
    from pipeline.extract import read_pages
    from pipeline.layout import build_page

    raw = read_pages(BORN / f"{name}.pdf")[index]
    return "\n".join(line.text for line in build_page(raw).lines)


def pick_pages(count: int) -> list[PageRef]:
    """`count` first pages spread over the sample files (sorted), for variety of fonts and layouts."""
    files = sorted(BORN.glob("*.pdf"))
    if not files:
        raise SystemExit(f"no sample PDFs in {BORN}")
    step = max(1, len(files) // count)
    return [PageRef(p.stem, 0, p, "born") for p in files[::step][:count]]


def pick_scanned(count: int) -> list[PageRef]:
    """First pages of scanned twins, spread over the files, at their own resolution."""
    import json

    if not SCANNED.is_dir():
        return []
    files = [p for p in sorted(SCANNED.glob("*.pdf")) if (BORN / p.name).exists()]
    step = max(1, len(files) // max(count, 1))
    pages: list[PageRef] = []
    for p in files[::step][:count]:
        dpi, note = 300, ""
        meta = p.with_suffix(".scan.json")
        if meta.exists():
            first = json.loads(meta.read_text(encoding="utf-8"))["pages"][0]
            dpi = int(first.get("dpi", 300))
            note = f"{first.get('mode')}, {first.get('noise')} noise, skew {first.get('skew_deg')}°"
            if first.get("rotation"):
                note += f", turned {first['rotation']}°"
        pages.append(PageRef(p.stem, 0, p, "scanned", dpi, note))
    return pages


# --------------------------------------------------------------------------- worker side


def ocr_text(engine_name: str, page: PageRef, dpi: int) -> tuple[str, float, float]:
    """(laid-out OCR text, seconds for OCR incl. image preparation, seconds to render)."""
    import pypdfium2 as pdfium

    from pipeline.layout import build_page
    from pipeline.ocr import get_engine, ocr_image
    from pipeline.ocr.imageprep import render_page
    from pipeline.ocrtext import clean_page
    from schemas.page import RawPage

    engine = get_engine(engine_name)
    t0 = time.perf_counter()
    doc = pdfium.PdfDocument(str(page.image_pdf))
    try:
        width, height = doc[page.index].get_size()
        image = render_page(doc, page.index, dpi=dpi)
    finally:
        doc.close()
    t1 = time.perf_counter()
    result = ocr_image(image, dpi=dpi, page_width_pt=width, page_height_pt=height, engine=engine)
    t2 = time.perf_counter()
    raw = RawPage(page.index + 1, result.width, result.height, result.words, f"ocr:{engine.name}")
    text = "\n".join(line.text for line in clean_page(build_page(raw)).lines)
    return text, t2 - t1, t1 - t0


def warm(engine_name: str) -> None:
    from PIL import Image, ImageDraw

    from pipeline.ocr import get_engine

    image = Image.new("RGB", (600, 120), "white")
    ImageDraw.Draw(image).rectangle((20, 40, 300, 70), fill="black")
    get_engine(engine_name).read(image)


def _init_worker(engine_name: str) -> None:
    warm(engine_name)


def _job(args: tuple[str, PageRef, int]) -> float:
    _text, ocr_s, render_s = ocr_text(*args)
    return ocr_s + render_s


# --------------------------------------------------------------------------- driver


@dataclass
class Row:
    engine: str
    kind: str
    dpi: int
    pages: int
    median_s: float
    procs2_s: float | None
    cer_median: float
    cer_mean: float
    worst: str


def run_engine(engine: str, pages: list[PageRef], dpi: int, procs2: bool, refs: dict[tuple[str, int], str], verbose: bool) -> Row:
    warm(engine)
    times: list[float] = []
    cers: list[tuple[float, str]] = []
    for page in pages:
        page_dpi = page.native_dpi or dpi
        text, ocr_s, _render_s = ocr_text(engine, page, page_dpi)
        score = cer(refs[(page.name, page.index)], text)
        times.append(ocr_s)
        cers.append((score, page.name))
        if verbose:
            print(
                f"    {engine:16} {page.kind:7} {page_dpi} {page.name:16} {ocr_s:6.2f}s CER {score:6.2%}  {page.note}",
                flush=True,
            )
    procs2_s: float | None = None
    if procs2:
        jobs = [(engine, p, p.native_dpi or dpi) for p in pages]
        with ProcessPoolExecutor(2, initializer=_init_worker, initargs=(engine,)) as pool:
            list(pool.map(_job, jobs[:2]))  # both workers warm
            t0 = time.perf_counter()
            list(pool.map(_job, jobs))
            procs2_s = (time.perf_counter() - t0) / len(pages)
    values = [c for c, _ in cers]
    worst = max(cers)
    return Row(
        engine,
        pages[0].kind,
        dpi,
        len(pages),
        statistics.median(times),
        procs2_s,
        statistics.median(values),
        statistics.fmean(values),
        f"{worst[1]} {worst[0]:.1%}",
    )


def table(rows: list[Row]) -> str:
    out = [
        "| engine | pages | dpi | s/page, 1 proc (median) | s/page, 2 procs | CER median | CER mean | worst page |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        procs2 = f"{r.procs2_s:.2f}" if r.procs2_s is not None else "–"
        dpi = str(r.dpi) if r.dpi else "scan's own (200/300)"
        out.append(
            f"| {r.engine} | {r.kind} ×{r.pages} | {dpi} | {r.median_s:.2f} | {procs2} | "
            f"{r.cer_median:.2%} | {r.cer_mean:.2%} | {r.worst} |"
        )
    return "\n".join(out)


def write_results(body: str) -> None:
    """Replace this bench's section of RESULTS.md (or add it), leaving every other section alone."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = f"{HEADING}\n\n{body.strip()}\n"
    start = text.find(HEADING + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        nxt = text.find("\n## ", start + len(HEADING))
        text = text[:start] + section + (text[nxt:] if nxt >= 0 else "")
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    from pipeline.ocr import DEFAULT_ENGINE, engine_names

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", nargs="+", default=[n for n in engine_names() if n != "fake" and "lowmem" not in n])
    parser.add_argument("--dpi", nargs="+", type=int, default=[200, 300])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--no-procs2", action="store_true", help="skip the two-process throughput run")
    parser.add_argument("--no-scanned", action="store_true")
    parser.add_argument("--write", action="store_true", help=f"write the table to {RESULTS.relative_to(ROOT)}")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also ppocr-v6-small with the detector at full resolution and at 1536 px",
    )
    args = parser.parse_args(argv)
    if args.variants:
        from pipeline.ocr import PaddleEngine, register_engine

        register_engine("ppocr-v6-small/det-full", lambda: PaddleEngine("ppocr-v6-small/det-full", det_max_side=None))
        register_engine("ppocr-v6-small/det1536", lambda: PaddleEngine("ppocr-v6-small/det1536", det_max_side=1536))
        args.engines += ["ppocr-v6-small/det-full", "ppocr-v6-small/det1536"]

    sets = [pick_pages(args.pages)]
    if not args.no_scanned:
        scanned = pick_scanned(args.pages)
        if scanned:
            sets.append(scanned)
    refs = {(p.name, p.index): reference_text(p.name, p.index) for s in sets for p in s}
    rows: list[Row] = []
    for pages in sets:
        for engine in args.engines:
            for dpi in args.dpi if pages[0].native_dpi is None else [0]:
                row = run_engine(engine, pages, dpi, not args.no_procs2, refs, not args.quiet)
                rows.append(row)
                print(table([row]).splitlines()[-1], flush=True)
    body = table(rows)
    print()
    print(body)
    if args.write:
        names = ", ".join(sorted({p.name for s in sets for p in s}))
        note = (
            f"`bench/ocr.py` on {os.cpu_count()} cores; first pages of: {names}. Time is "
            "`pipeline.ocr.ocr_image` (orientation, deskew, red split, OCR) on a rendered page, "
            "engines single-threaded. CER against the born-digital text layer laid out the same "
            f"way, NFKC, whitespace removed. Default engine: `{DEFAULT_ENGINE}`."
        )
        write_results(note + "\n\n" + body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
