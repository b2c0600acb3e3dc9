"""The inbox flow at scale: born-digital letters and scanned pages through `ingest-inbox`.

    .venv/bin/python bench/flow.py [--letters 500] [--scanned-pages 50] [--workers 1 2 4] [--dask 2] [--runs 1]

For each configuration (threads: 1, 2, 4 workers; a local Dask cluster of N worker processes) a fresh
SQLite archive and a fresh inbox with the same files: wall time, letters/s, pages/s. The baseline, measured
in the same run on the same files, calls the pipeline directly with no Prefect and does the same useful work
as the flow: `ingest_file` in a loop, each stored file moved to processed/DAY/ (`move_file`, as the flow
does), then the new documents routed (`route_archive`); so the flow's overhead is `flow / direct - 1` at one
worker. The inputs are the samples' PDFs, each copied as often as needed with a PDF comment appended (a
different sha256, so every copy is a new file that is read, OCR'd and stored; its letters are linked to the
first copy's, as a re-sent letter would be).

Before the timed rounds both are run once, untimed, on a few files (models loaded, modules imported: the
first timed configuration would otherwise pay them), and Prefect's embedded server is started; its start is
timed and printed apart (a fixed cost of each `gongwen ingest --inbox` run in embedded mode, none where a
Prefect server runs or under `--serve`), and the overhead is printed without it and with it counted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
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
from pipeline.flows import PROCESSED, inbox_flow_on, move_file  # noqa: E402
from pipeline.routing.config import load_config  # noqa: E402
from pipeline.routing.engine import Router  # noqa: E402
from pipeline.routing.queue import route_archive  # noqa: E402
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


def cpu_seconds() -> float:
    """CPU time of this process and every process under it (the OCR workers, Prefect's server), Linux:
    ended children as `getrusage` counts them, live ones from /proc. Less sensitive than wall time to the
    other jobs of a shared machine."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            times[int(entry)] = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    mine = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in mine and pid not in mine}
        mine |= found
        grew = bool(found)
    return total + sum(times[pid] for pid in mine if pid != os.getpid())


def fresh_archive(root: Path) -> tuple[str, str]:
    db = root / "archive.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    return f"sqlite:///{db}", str(root / "files")


def run_direct(inputs: Path, work: Path) -> float:
    """The pipeline without Prefect, doing what the flow does that is of use: store, move, route."""
    url, files = fresh_archive(work)
    inbox = work / "inbox"
    shutil.copytree(inputs, inbox)
    archive = open_archive(url, files)
    start = time.perf_counter()
    day = inbox / PROCESSED / datetime.date.today().isoformat()
    for path in sorted(p for p in inbox.iterdir() if p.is_file()):  # born-digital (b…) first, as the flow orders
        report = ingest_file(archive, path)
        assert report.status in ("stored", "duplicate"), (path, report.status, report.error)
        move_file(path, day, report.sha256)
    route_archive(archive, Router(load_config()))
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


def warm_up(root: Path) -> float:
    """Both ways once on a few files, untimed; returns how long the embedded server took to start."""
    sample = root / "warm-up"
    sample.mkdir()
    for path in sorted((root / "inputs").iterdir())[:3] + sorted((root / "inputs").glob("s*"))[:1]:
        shutil.copy2(path, sample / path.name)
    run_direct(sample, root / "warm-direct")
    start = time.perf_counter()
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.server.api.server import SubprocessASGIServer

        SubprocessASGIServer().start()  # the instance the flows' client uses (kept for all the rounds)
    startup = time.perf_counter() - start
    run_flow(sample, root / "warm-flow", 1)
    return startup


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
        startup = warm_up(root)
        print(f"warm-up done; Prefect's embedded server started in {startup:.1f} s (not in the rounds' times)", flush=True)
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
            cpus: dict[str, list[float]] = {label: [] for label, _ in configs}
            n = 0
            for r in range(args.runs):
                for label, fn in configs:
                    n += 1
                    cpu = cpu_seconds()
                    times[label].append(fn(root / f"w{n}"))
                    cpus[label].append(cpu_seconds() - cpu)
                    t = times[label][-1]
                    print(f"round {r + 1}: {label:22} {t:8.1f} s  {args.letters / t:6.2f} letters/s  "
                          f"{pages / t:6.2f} pages/s  CPU {cpus[label][-1]:7.1f} s  load {os.getloadavg()[0]:.1f}",
                          flush=True)
        rows = [(label, statistics.median(ts)) for label, ts in times.items()]
        print("median over rounds:")
        for label, t in rows:
            print(f"  {label:22} {t:8.1f} s  {args.letters / t:6.2f} letters/s  {pages / t:6.2f} pages/s")
        if "flow, 1 thread" in times:
            ratios = [f / d for f, d in zip(times["flow, 1 thread"], times["direct (no Prefect)"], strict=True)]
            print(f"flow overhead at 1 worker, per round: {', '.join(f'{x - 1:+.1%}' for x in ratios)}; "
                  f"median {statistics.median(ratios) - 1:+.1%}")
            cpu_ratios = [f / d for f, d in zip(cpus["flow, 1 thread"], cpus["direct (no Prefect)"], strict=True)]
            print(f"CPU time (all processes) of the flow at 1 worker over the direct one, per round: "
                  f"{', '.join(f'{x - 1:+.1%}' for x in cpu_ratios)}; median {statistics.median(cpu_ratios) - 1:+.1%}")
            with_start = [(f + startup) / d for f, d in zip(times["flow, 1 thread"], times["direct (no Prefect)"], strict=True)]
            print(f"the same with the server's start ({startup:.1f} s) counted: "
                  f"{', '.join(f'{x - 1:+.1%}' for x in with_start)}; median {statistics.median(with_start) - 1:+.1%}")


if __name__ == "__main__":
    main()
