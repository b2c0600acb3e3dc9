"""The inbox flow at scale: born-digital letters and scanned pages through `ingest-inbox`.

    .venv/bin/python bench/flow.py [--letters 500] [--scanned-pages 50] [--workers 1 2 4] [--dask 2] [--runs 1]

For each configuration (threads: 1, 2, 4 workers; a local Dask cluster of N worker processes) a fresh
SQLite archive and a fresh inbox with the same files: wall time, letters/s, pages/s. The baseline, measured
in the same run on the same files, calls the pipeline directly (`ingest_file` in a loop, no Prefect), so the
flow's overhead is `flow / direct - 1` at one worker. The inputs are the samples' PDFs, each copied as often
as needed with a PDF comment appended (a different sha256, so every copy is a new file that is read, OCR'd
and stored; its letters are linked to the first copy's, as a re-sent letter would be).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.db import close_archives, make_engine, open_archive, upgrade  # noqa: E402
from pipeline.flows import inbox_flow_on  # noqa: E402
from pipeline.store import ingest_file  # noqa: E402


def _pages(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return len(pdf)
    finally:
        pdf.close()


def make_inputs(folder: Path, letters: int, scanned_pages: int) -> tuple[int, int]:
    """Copies of the samples: `letters` born-digital files and scanned files up to `scanned_pages` pages."""
    folder.mkdir(parents=True)
    born = sorted((ROOT / "samples/born_digital").glob("*.pdf"))
    scans = sorted((ROOT / "samples/scanned").glob("*.pdf"))
    for i in range(letters):
        src = born[i % len(born)]
        (folder / f"b{i:05d}-{src.name}").write_bytes(src.read_bytes() + f"\n% copy {i}\n".encode())
    pages, i = 0, 0
    while pages < scanned_pages and scans:
        src = scans[i % len(scans)]
        (folder / f"s{i:05d}-{src.name}").write_bytes(src.read_bytes() + f"\n% copy {i}\n".encode())
        pages += _pages(src)
        i += 1
    old = time.time() - 3600
    for p in folder.iterdir():
        os.utime(p, (old, old))
    total_pages = sum(_pages(p) for p in folder.iterdir())
    return letters + i, total_pages


def fresh_archive(root: Path) -> tuple[str, str]:
    db = root / "archive.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    return f"sqlite:///{db}", str(root / "files")


def run_direct(inputs: Path, work: Path) -> float:
    url, files = fresh_archive(work)
    archive = open_archive(url, files)
    start = time.perf_counter()
    for path in sorted(inputs.iterdir()):
        ingest_file(archive, path)
    elapsed = time.perf_counter() - start
    close_archives()
    return elapsed


def run_flow(inputs: Path, work: Path, workers: int, dask_address: str | None = None) -> float:
    url, files = fresh_archive(work)
    inbox = work / "inbox"
    shutil.copytree(inputs, inbox)
    start = time.perf_counter()
    run = inbox_flow_on(workers, dask_address)([str(inbox)], database_url=url, files_dir=files, route=True)
    elapsed = time.perf_counter() - start
    assert run.summary.failed == 0 and not run.quarantined(), run.summary.line()
    close_archives()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=500)
    parser.add_argument("--scanned-pages", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--dask", type=int, default=2, help="worker processes of a local Dask cluster (0: none)")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-flow-") as tmp:
        root = Path(tmp)
        files, pages = make_inputs(root / "inputs", args.letters, args.scanned_pages)
        print(f"{files} files, {pages} pages ({args.letters} born-digital letters, ~{args.scanned_pages} scanned pages)")
        rows: list[tuple[str, float]] = []
        n = 0

        def timed(label: str, fn: object) -> None:
            nonlocal n
            times = []
            for _ in range(args.runs):
                n += 1
                times.append(fn(root / f"w{n}"))  # type: ignore[operator]
            rows.append((label, statistics.median(times)))
            print(f"{label:22} {rows[-1][1]:8.1f} s  {args.letters / rows[-1][1]:6.2f} letters/s  "
                  f"{pages / rows[-1][1]:6.2f} pages/s", flush=True)

        timed("direct (no Prefect)", lambda w: run_direct(root / "inputs", w))
        for workers in args.workers:
            timed(f"flow, {workers} thread{'s' if workers > 1 else ''}", lambda w, k=workers: run_flow(root / "inputs", w, k))
        if args.dask:
            import dask
            from distributed import LocalCluster

            from pipeline.flows import share_embedded_server

            share_embedded_server()  # workers report to this process's Prefect server (none of their own)

            with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
                n_workers=args.dask, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster:  # type: ignore[no-untyped-call]
                timed(f"flow, Dask {args.dask} procs", lambda w: run_flow(root / "inputs", w, 1, cluster.scheduler_address))
        direct = rows[0][1]
        one = next((t for label, t in rows if label == "flow, 1 thread"), None)
        if one is not None:
            print(f"flow overhead at 1 worker: {one / direct - 1:+.1%} against the direct pipeline (same run)")


if __name__ == "__main__":
    main()
