"""Prefect flows: orchestration only; the work lives in `pipeline/`.

`ingest-letters` extracts every PDF under the given paths and stores it in the archive
(`GONGWEN_DATABASE_URL`, default `data/gongwen.sqlite`): one task per file, each file in
its own transaction (pipeline/store.py), a summary at the end. It runs in Prefect's
embedded mode (a temporary local API, no server to start). The README's main job:

    python flows.py samples/

`gongwen ingest PATH...` runs the same flow.

Prefect runs offline: its anonymous usage report is off unless PREFECT_SERVER_ANALYTICS_ENABLED
says otherwise, and its local database (flow-run history) lives under PREFECT_HOME (default
~/.prefect), which an operator may point anywhere. SIGTERM (cron, systemd) stops a run as
Ctrl-C does, so the temporary server is stopped with it (`stop_on_sigterm`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

# read by Prefect when it is imported: set before
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.db import open_archive
from pipeline.extract import expand_paths
from pipeline.routing.queue import RouteSummary
from pipeline.store import FileReport, IngestSummary, ingest_file

# extraction is CPU-bound Python and archive writes are serialised: a few threads overlap
# one file's reading with another's storing, more only contend
WORKERS = 4


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does: the run stops and the exit handlers run
    (Prefect's temporary server is stopped by one; SIGTERM's default would orphan it)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


@task(name="ingest-file", retries=0)
def ingest_task(path: str, database_url: str | None, files_dir: str | None) -> FileReport:
    archive = open_archive(database_url, files_dir)
    try:
        return ingest_file(archive, Path(path))
    except Exception as exc:  # a store bug: this file is reported (not recorded), the batch goes on
        get_run_logger().exception("storing %s failed", path)
        return FileReport(path, "failed", error=f"store failed: {type(exc).__name__}: {exc}")


# (Prefect 3.8 types task_runner invariantly: a ThreadPoolTaskRunner is the documented value)
@flow(name="ingest-letters", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))  # type: ignore[arg-type]
def ingest_flow(
    paths: list[str], database_url: str | None = None, files_dir: str | None = None, route: bool = True
) -> IngestRun:
    """Ingest every PDF under `paths` (one report per file, in input order), then route what is new."""
    logger = get_run_logger()
    archive = open_archive(database_url, files_dir)  # migrates once, before the tasks start
    files = expand_paths([Path(p) for p in paths])
    futures = [ingest_task.submit(str(p), database_url, files_dir) for p in files]
    reports = [f.result() for f in futures]
    for report in reports:
        if report.status in ("failed", "quarantined"):
            logger.warning("%s: %s: %s", report.path, report.status, report.error)
    logger.info("%s into %s", IngestSummary.of(reports).line(), archive.url)
    routing = route_task(database_url, files_dir) if route else None
    return IngestRun(reports, routing)


@task(name="route-new-documents", retries=0)
def route_task(database_url: str | None, files_dir: str | None) -> RouteSummary | None:
    """Route what is stored and not yet routed (this run's documents, and any left before).

    A missing or invalid rules file does not fail the ingest: the letters are stored, the
    log says why they were not routed, and `gongwen route` routes them once it is fixed.
    """
    from pipeline.routing.config import ConfigError, load_config
    from pipeline.routing.engine import Router
    from pipeline.routing.queue import route_archive

    logger = get_run_logger()
    try:
        config = load_config()
    except ConfigError as exc:
        logger.warning("routing skipped: %s", exc)
        return None
    summary = route_archive(open_archive(database_url, files_dir), Router(config))
    for warning in summary.warnings:
        logger.warning("routing: %s", warning)
    logger.info("%s", summary.line())
    return summary


@dataclass
class IngestRun:
    """One run of the ingest flow: a report per file, and what routing made of the new documents."""

    reports: list[FileReport]
    routing: RouteSummary | None = None



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="flows.py", description="Run the Prefect flow ingest-letters: extract, store and route every PDF under PATH."
    )
    parser.add_argument("paths", nargs="*", default=["samples/"], metavar="PATH", help="PDF files or folders (default samples/)")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    run = ingest_flow(args.paths)
    summary = IngestSummary.of(run.reports)
    print(f"archive: {open_archive().url}")
    print(summary.line())
    print(RouteSummary.short_line(run.routing))
    return 1 if summary.failed or summary.quarantined else 0


if __name__ == "__main__":
    sys.exit(main())
