"""Prefect flows: orchestration only; the work lives in the stages (extract, store, route).

- `ingest-letters` (`ingest_flow`): extract and store every PDF under the given paths, one
  task per file, each file in its own transaction, then route what is new. Files are never
  moved: `gongwen ingest PATH...` and the README's main job (`python flows.py samples/`).
- `ingest-inbox` (`inbox_flow`): the mail room's flow. It lists the files under one or more
  inbox folders (PDFs and DI files; a DI file's attachment PDFs go with it), stores each new
  one (by sha256) in a task of its own, moves it to `processed/YYYY-MM-DD/` once its rows are
  committed, or to `quarantine/` with a sidecar JSON saying why when it is not a usable letter
  PDF or DI file, then routes the new documents and
  writes a summary (a Prefect markdown artifact, and the returned `InboxRun`). A database
  that is busy or unreachable is retried with back-off; a bad file is not retried. Killed at
  any point (SIGKILL), a run leaves every file either in the inbox or stored and moved; the
  next run finishes the job (a stored file still in the inbox is recognised by its sha256
  and moved). Nothing is ever deleted.

Both run in Prefect's embedded mode (a temporary local API, no server to start) or against
a Prefect server, on threads by default or on a Dask cluster (`task_runner_for`).

Prefect runs offline: its anonymous usage report is off unless PREFECT_SERVER_ANALYTICS_ENABLED
says otherwise, and its local database (flow-run history) lives under PREFECT_HOME (default
~/.prefect), which an operator may point anywhere. SIGTERM (cron, systemd) stops a run as
Ctrl-C does, so the temporary server is stopped with it (`stop_on_sigterm`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

# read by Prefect when it is imported: set before
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# the embedded server starts in a subprocess; on a loaded machine it needs more than Prefect's 20 s
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# the embedded server records each task run's state changes (3 events a task) one event a transaction by
# default: ~50 ms of its CPU per task, competing with the pipeline for the cores (bench/RESULTS.md). In
# batches (up to 500 events, or every 5 s, and at its shutdown) the same records cost it ~15 ms a task.
# Read by the server subprocess when it starts (a Prefect server of one's own keeps its own settings).
os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "500")
os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE", "500")

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from pipeline.db import ArchiveUnreachable, open_archive
from pipeline.di import DI_SUFFIX, attachments_beside, is_di
from pipeline.extract import expand_paths, extract_file
from pipeline.reports import FileReport, IngestSummary
from pipeline.routing.queue import RouteSummary
from pipeline.store import ingest_file
from schemas.letter import FileResult
from schemas.orm import StoredFile

# extraction is CPU-bound Python and archive writes are serialised: a few threads overlap
# one file's reading with another's storing, more only contend
WORKERS = 4
# how many OCR-heavy (scanned) files run at once: the OCR pool already uses every core, and
# born-digital files (a second each) keep flowing through the other workers meanwhile
OCR_WORKERS = 1
# a file younger than this may still be being written by the scanner: left for the next run
SETTLE_S = 5.0
# transient database failures: retried after these pauses (seconds)
RETRY_DELAYS: list[float] = [2.0, 10.0, 30.0]
PROCESSED, QUARANTINE = "processed", "quarantine"


# files done, files in all: called by a running flow (the CLI's progress bar); flow parameters must be
# plain data, so the callback is set beside the flow rather than passed to it
_progress: Callable[[int, int], None] | None = None


def set_progress(callback: Callable[[int, int], None] | None) -> None:
    global _progress
    _progress = callback


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_on_sigterm() -> None:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does: the run stops and the exit handlers run
    (Prefect's temporary server is stopped by one; SIGTERM's default would orphan it)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)


def task_runner_for(workers: int = WORKERS, dask_address: str | None = None) -> Any:
    """Threads on this machine, or the Dask cluster at `dask_address` (`$GONGWEN_DASK_ADDRESS`).

    On Dask each task runs in a worker process: the archive must be PostgreSQL (or an SQLite
    file all workers see) and the file store a path every worker sees.
    """
    address = dask_address or os.environ.get("GONGWEN_DASK_ADDRESS") or None
    if address:
        from prefect_dask.task_runners import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner(max_workers=max(1, workers))


def share_embedded_server() -> str | None:
    """Start this process's embedded Prefect server now and export its URL (PREFECT_API_URL).

    Worker processes started afterwards (a local Dask cluster) then report their task runs to it.
    Without this each worker starts an embedded server of its own, and a worker the cluster kills
    at shutdown leaves its server running. Returns the URL, or None when a server is configured.
    """
    if os.environ.get("PREFECT_API_URL"):
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance this process's own client uses; stopped at exit
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url


def _text_layers_only(path: Path, *, sha256: str | None = None) -> FileResult:
    """`--no-ocr`: scanned pages stay empty (the file fails and is tried again by a later run)."""
    return extract_file(path, None, sha256=sha256)


def _transient(exc: BaseException) -> bool:
    """A database that is busy, restarting or unreachable: worth a retry (a bad file is not)."""
    if isinstance(exc, ArchiveUnreachable):
        return True
    if isinstance(exc, OperationalError):
        return True  # SQLite "database is locked", a dropped PostgreSQL connection
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as exc:
        return _transient(exc)
    return False


# every task: a transient database failure is retried with back-off; results are plain data returned in
# this process, so none is persisted and no cache key is computed (no task is ever skipped as cached)
_TASK_OPTIONS: dict[str, Any] = dict(retries=len(RETRY_DELAYS), retry_delay_seconds=RETRY_DELAYS,
                                     retry_condition_fn=_retry_transient, cache_policy=NO_CACHE, persist_result=False)


@task(name="ingest-file", **_TASK_OPTIONS)
def ingest_task(path: str, database_url: str | None, files_dir: str | None, ocr: bool = True) -> FileReport:
    archive = open_archive(database_url, files_dir)
    try:
        return ingest_file(archive, Path(path)) if ocr else ingest_file(archive, Path(path), extract=_text_layers_only)
    except Exception as exc:
        if _transient(exc):
            raise  # retried with back-off
        # a store bug: this file is reported (not recorded), the batch goes on
        get_run_logger().exception("storing %s failed", path)
        return FileReport(path, "failed", error=f"store failed: {type(exc).__name__}: {exc}")


@dataclass
class IngestRun:
    """One run of the ingest flow: a report per file, and what routing made of the new documents."""

    reports: list[FileReport]
    routing: RouteSummary | None = None


def _report_of(future: Any, path: str) -> FileReport:
    """A task's report; a task that failed for good (retries spent) is a failed file, left where it is."""
    try:
        result: FileReport = future.result()
        return result
    except Exception as exc:
        return FileReport(path, "failed", error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")


# (Prefect 3.8 types task_runner invariantly: a ThreadPoolTaskRunner is the documented value)
@flow(name="ingest-letters", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))  # type: ignore[arg-type]
def ingest_flow(
    paths: list[str], database_url: str | None = None, files_dir: str | None = None, route: bool = True,
    ocr: bool = True,
) -> IngestRun:
    """Ingest every PDF under `paths` (one report per file, in input order), then route what is new."""
    logger = get_run_logger()
    archive = open_archive(database_url, files_dir)  # migrates once, before the tasks start
    files = expand_paths([Path(p) for p in paths])
    futures = [ingest_task.submit(str(p), database_url, files_dir, ocr) for p in files]
    reports: list[FileReport] = []
    for f, p in zip(futures, files, strict=True):
        reports.append(_report_of(f, str(p)))
        if _progress is not None:
            _progress(len(reports), len(files))
    for report in reports:
        if report.status in ("failed", "quarantined"):
            logger.warning("%s: %s: %s", report.path, report.status, report.error)
    logger.info("%s into %s", IngestSummary.of(reports).line(), archive.url)
    routing = route_task(database_url, files_dir) if route else None
    return IngestRun(reports, routing)


@task(name="route-new-documents", **_TASK_OPTIONS)
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


# -- the inbox ----------------------------------------------------------------------


def list_inbox(inbox: Path, processed: Path, quarantine: Path, settle_s: float = SETTLE_S) -> list[Path]:
    """PDFs and DI files under `inbox` (not under its processed/quarantine folders), old enough to be complete.

    A PDF that a DI file beside it names as its attachment is not listed: it is read, stored and
    moved with that DI file (`expand_paths` does the same for `gongwen ingest PATH`), which waits
    until its attachments are old enough too.
    """
    skip = (processed.resolve(), quarantine.resolve())
    now = time.time()

    def settled(path: Path) -> bool:
        try:
            return now - path.stat().st_mtime >= settle_s
        except OSError:
            return False

    found: list[Path] = []
    for path in sorted(inbox.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in (".pdf", DI_SUFFIX):
            continue
        resolved = path.resolve()
        if any(resolved.is_relative_to(s) for s in skip):
            continue
        found.append(path)
    attached = {p: attachments_beside(p) for p in found if is_di(p)}
    taken = {a for names in attached.values() for a in names}
    return [p for p in found if p not in taken and settled(p) and all(settled(a) for a in attached.get(p, ()))]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def move_file(source: Path, folder: Path, sha256: str | None) -> Path:
    """Move `source` into `folder` without ever losing it: rename (or copy, fsync, rename, then
    unlink across file systems); a name already there gets the file's hash added."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    if target.exists():
        target = folder / f"{source.stem}-{(sha256 or 'copy')[:12]}{source.suffix}"
        n = 1
        while target.exists():
            target = folder / f"{source.stem}-{(sha256 or 'copy')[:12]}-{n}{source.suffix}"
            n += 1
    try:
        os.replace(source, target)
    except OSError:
        partial = target.with_name(f".{target.name}.partial")
        shutil.copy2(source, partial)
        with partial.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
        _fsync_dir(folder)
        source.unlink()
    _fsync_dir(folder)
    return target


def write_sidecar(moved: Path, report: FileReport) -> Path:
    """`NAME.pdf.json` beside a quarantined file: what was wrong, when, and the file's hash."""
    sidecar = moved.with_name(moved.name + ".json")
    payload = {"file": moved.name, "original_path": report.path, "sha256": report.sha256, "status": report.status,
               "reason": report.error, "quarantined_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    tmp = sidecar.with_name(f".{sidecar.name}.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, sidecar)
    return sidecar


@dataclass
class InboxFile:
    """One inbox file's outcome: its ingest report and where it went."""

    report: FileReport
    moved_to: str | None = None  # None: left in the inbox (to be tried again by the next run)
    scanned: bool = False
    quarantined: bool = False
    attachments: list[str] = field(default_factory=list)  # a DI file's attachment files, where they were moved

    def to_json(self) -> dict[str, Any]:
        return {**self.report.to_json(), "moved_to": self.moved_to, "attachments": self.attachments}


_ocr_gates: dict[int, threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


def _ocr_gate(limit: int) -> threading.BoundedSemaphore:
    with _gates_lock:
        gate = _ocr_gates.get(limit)
        if gate is None:
            gate = _ocr_gates[limit] = threading.BoundedSemaphore(max(1, limit))
        return gate


def needs_ocr(path: Path) -> bool:
    """A quick look at the first page: no text layer means a scan (OCR-heavy). Never raises.

    pdfium counts the characters without parsing the page's objects as pdfplumber would
    (a few ms a file, not tens: every inbox file is looked at before any is read)."""
    try:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path)
        try:
            if len(pdf) == 0:
                return False
            page = pdf[0]
            chars = page.get_textpage().count_chars()
            return bool(chars < 20)
        finally:
            pdf.close()
    except Exception:
        return False


@task(name="inbox-file", **_TASK_OPTIONS)
def inbox_file_task(
    path: str, processed: str, quarantine: str, database_url: str | None, files_dir: str | None,
    scanned: bool, ocr_workers: int, ocr: bool = True,
) -> InboxFile:
    """Store one inbox file, then move it: processed/DAY/ when its rows are committed, quarantine/ if it is bad."""
    source = Path(path)
    archive = open_archive(database_url, files_dir)
    extract = extract_file if ocr else _text_layers_only
    attached = sorted(attachments_beside(source)) if is_di(source) else []  # read, stored and moved with it
    try:
        if scanned:
            with _ocr_gate(ocr_workers):
                report = ingest_file(archive, source, extract=extract)
        else:
            report = ingest_file(archive, source, extract=extract)
    except Exception as exc:
        if _transient(exc):
            raise  # retried with back-off; the file stays in the inbox meanwhile
        get_run_logger().exception("storing %s failed", path)
        return InboxFile(FileReport(path, "failed", error=f"store failed: {type(exc).__name__}: {exc}"), None, scanned)
    if report.status in ("stored", "duplicate"):
        day = datetime.date.today().isoformat()
        moved = move_file(source, Path(processed) / day, report.sha256)
        along = [str(move_file(a, Path(processed) / day, None)) for a in attached if a.is_file()]
        return InboxFile(report, str(moved), scanned, attachments=along)
    if report.status == "quarantined" or (report.status == "failed" and report.sha256 is not None):
        # not a usable letter PDF or DI file (corrupt, encrypted, empty, no text, an unsafe DI file): set aside
        # with the reason, not retried
        moved = move_file(source, Path(quarantine), report.sha256)
        write_sidecar(moved, report)
        return InboxFile(report, str(moved), scanned, quarantined=True)
    # unreadable for now (permissions, a vanished file): left where it is for the next run
    return InboxFile(report, None, scanned)


@dataclass
class InboxRun:
    """The end of an inbox run: every file's outcome, routing, and the figures operations watch."""

    files: list[InboxFile] = field(default_factory=list)
    routing: RouteSummary | None = None
    seconds: float = 0.0
    pages: int = 0

    @property
    def summary(self) -> IngestSummary:
        return IngestSummary.of([f.report for f in self.files])

    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    def quarantined(self) -> list[InboxFile]:
        return [f for f in self.files if f.quarantined]

    def to_json(self) -> dict[str, Any]:
        routing = None if self.routing is None else {k: v for k, v in self.routing.to_json().items() if k != "decisions"}
        return {
            "files": [f.to_json() for f in self.files],
            "summary": asdict(self.summary),
            "routing": routing,
            "seconds": round(self.seconds, 3),
            "pages": self.pages,
            "pages_per_second": round(self.pages_per_second(), 3),
        }

    def markdown(self) -> str:
        """The run's summary as the Prefect artifact shows it."""
        s = self.summary
        lines = [
            "# Inbox run",
            "",
            "| files seen | new | duplicate | quarantined | failed (left in the inbox) | letters | forms | other | pages | pages/s |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {s.files} | {s.stored} | {s.duplicate} | {len(self.quarantined())} | "
            f"{sum(1 for f in self.files if f.moved_to is None)} | {s.letters} | {s.forms} | {s.other} | "
            f"{self.pages} | {self.pages_per_second():.2f} |",
            "",
            RouteSummary.short_line(self.routing),
        ]
        bad = self.quarantined()
        if bad:
            lines += ["", "## Quarantined", "", "| file | reason |", "|---|---|"]
            lines += [f"| {Path(f.report.path).name} | {(f.report.error or '').replace('|', '/')} |" for f in bad]
        return "\n".join(lines) + "\n"


def _pages_of(database_url: str | None, files_dir: str | None, reports: Sequence[FileReport]) -> int:
    ids = [r.file_id for r in reports if r.file_id is not None and r.status == "stored"]
    if not ids:
        return 0
    archive = open_archive(database_url, files_dir)
    with archive.session() as session:
        return int(session.scalar(select(func.coalesce(func.sum(StoredFile.pages), 0)).where(StoredFile.id.in_(ids))) or 0)


@flow(name="ingest-inbox", task_runner=ThreadPoolTaskRunner(max_workers=WORKERS))  # type: ignore[arg-type]
def inbox_flow(
    inboxes: list[str],
    processed: str | None = None,
    quarantine: str | None = None,
    database_url: str | None = None,
    files_dir: str | None = None,
    ocr_workers: int = OCR_WORKERS,
    settle_s: float = SETTLE_S,
    route: bool = True,
    ocr: bool = True,
) -> InboxRun:
    """Store every new file of the inbox folders, move each where it belongs, route, summarise.

    `processed`/`quarantine` default to folders of those names inside each inbox.
    """
    from prefect.artifacts import create_markdown_artifact

    logger = get_run_logger()
    started = time.perf_counter()
    open_archive(database_url, files_dir)  # migrates once, before the tasks start
    work: list[tuple[Path, Path, Path]] = []
    for inbox_name in inboxes:
        inbox = Path(inbox_name)
        done_dir = Path(processed) if processed else inbox / PROCESSED
        bad_dir = Path(quarantine) if quarantine else inbox / QUARANTINE
        work += [(p, done_dir, bad_dir) for p in list_inbox(inbox, done_dir, bad_dir, settle_s)]
    # scans first would hold every worker on the OCR gate: born-digital files go first (a DI file
    # counts as a scan when one of its attachments is one)
    kinds = {p: any(needs_ocr(a) for a in attachments_beside(p)) if is_di(p) else needs_ocr(p) for p, _, _ in work}
    work.sort(key=lambda w: kinds[w[0]])
    futures = [
        (inbox_file_task.submit(str(p), str(done), str(bad), database_url, files_dir, kinds[p], ocr_workers, ocr), p)
        for p, done, bad in work
    ]
    run = InboxRun()
    if _progress is not None:
        _progress(0, len(futures))
    for future, path in futures:
        try:
            run.files.append(future.result())
        except Exception as exc:  # retries spent: the file stays in the inbox for the next run
            run.files.append(InboxFile(FileReport(str(path), "failed", error=f"{type(exc).__name__}: {exc}"), None))
        if _progress is not None:
            _progress(len(run.files), len(futures))
    for f in run.files:
        if f.report.status in ("failed", "quarantined"):
            logger.warning("%s: %s: %s", f.report.path, f.report.status, f.report.error)
    run.routing = route_task(database_url, files_dir) if route else None
    run.seconds = time.perf_counter() - started
    run.pages = _pages_of(database_url, files_dir, [f.report for f in run.files])
    create_markdown_artifact(run.markdown(), key="ingest-inbox-summary", description="files, letters, quarantine, routing")
    logger.info("%s; %s", run.summary.line(), RouteSummary.short_line(run.routing))
    return run


def inbox_flow_on(workers: int = WORKERS, dask_address: str | None = None) -> Any:
    """`ingest-inbox` on `workers` threads, or on the Dask cluster at `dask_address` (see `task_runner_for`)."""
    return inbox_flow.with_options(task_runner=task_runner_for(workers, dask_address))


def valid_cron(cron: str) -> bool:
    from croniter import croniter

    return bool(croniter.is_valid(cron))


def serve_inbox(
    inboxes: list[str], cron: str, *, processed: str | None = None, quarantine: str | None = None,
    max_runs: int | None = None, on_run: Any = None, workers: int = WORKERS, dask_address: str | None = None,
) -> int:
    """Run `ingest-inbox` on the `cron` schedule until stopped (SIGTERM, Ctrl-C); returns the runs made.

    With a Prefect server configured (PREFECT_API_URL) the flow is served as a deployment
    with that schedule (`Flow.serve`: runs show in the server's UI; a work pool and workers
    can take over). Without one, the default, a small scheduler here computes each next time
    from the cron expression (5 fields, or 6 with seconds last) and runs the flow in this
    process, in Prefect's embedded mode: nothing to start by hand. A run that fails is logged
    and the schedule goes on.
    """
    parameters = {"inboxes": inboxes, "processed": processed, "quarantine": quarantine}
    if os.environ.get("PREFECT_API_URL"):
        inbox_flow_on(workers, dask_address).serve(name="ingest-inbox", cron=cron, parameters=parameters,
                                                   pause_on_shutdown=False)
        return 0
    return run_on_schedule(cron, lambda: inbox_flow_on(workers, dask_address)(inboxes, processed, quarantine),
                           name="ingest-inbox", max_runs=max_runs, on_run=on_run)


def run_on_schedule(cron: str, run: Callable[[], Any], *, name: str, max_runs: int | None = None,
                    on_run: Callable[[Any], None] | None = None) -> int:
    """Call `run` at each time of `cron` (5 fields, or 6 with seconds last) until stopped; returns the runs made.

    The embedded scheduler of `serve_inbox` and of `suggest-train` (pipeline/suggest_flow.py): a run
    that fails is logged and the schedule goes on.
    """
    from croniter import croniter

    log = logging.getLogger("gongwen.serve")
    schedule = croniter(cron, datetime.datetime.now())
    runs = 0
    while max_runs is None or runs < max_runs:
        due = schedule.get_next(datetime.datetime)
        while (wait := (due - datetime.datetime.now()).total_seconds()) > 0:
            time.sleep(min(wait, 30.0))
        try:
            result = run()
            if on_run is not None:
                on_run(result)
        except Exception:
            log.exception("%s run failed; the next one is at the next scheduled time", name)
        runs += 1
    return runs


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
