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
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
        configs: list[tuple[str, Any]] = [("direct (no Prefect)", lambda w: run_direct(root / "inputs", w))]
        configs += [
            (f"flow, {k} thread{'s' if k > 1 else ''}", lambda w, k=k: run_flow(root / "inputs", w, k)) for k in args.workers
        ]
        with contextlib.ExitStack() as stack:
            if args.dask:
                import dask
                from distributed import LocalCluster

                from pipeline.flows import share_embedded_server

                share_embedded_server()  # workers report to this process's Prefect server (none of their own)
                stack.enter_context(dask.config.set({"distributed.worker.daemon": False}))
                cluster = stack.enter_context(LocalCluster(
                    n_workers=args.dask, threads_per_worker=1, processes=True, dashboard_address=None
                ))  # type: ignore[no-untyped-call]
                configs.append((f"flow, Dask {args.dask} procs",
                                lambda w: run_flow(root / "inputs", w, 1, cluster.scheduler_address)))
            # the configurations alternate, round after round: a change of load on the shared machine
            # falls on all of them, and the ratios are taken within a round
            times: dict[str, list[float]] = {label: [] for label, _ in configs}
            n = 0
            for r in range(args.runs):
                for label, fn in configs:
                    n += 1
                    times[label].append(fn(root / f"w{n}"))
                    t = times[label][-1]
                    print(f"round {r + 1}: {label:22} {t:8.1f} s  {args.letters / t:6.2f} letters/s  "
                          f"{pages / t:6.2f} pages/s", flush=True)
        rows = [(label, statistics.median(ts)) for label, ts in times.items()]
        print("median over rounds:")
        for label, t in rows:
            print(f"  {label:22} {t:8.1f} s  {args.letters / t:6.2f} letters/s  {pages / t:6.2f} pages/s")
        if "flow, 1 thread" in times:
            ratios = [f / d for f, d in zip(times["flow, 1 thread"], times["direct (no Prefect)"], strict=True)]
            print(f"flow overhead at 1 worker, per round: {', '.join(f'{x - 1:+.1%}' for x in ratios)}; "
                  f"median {statistics.median(ratios) - 1:+.1%}")


if __name__ == "__main__":
    main()
