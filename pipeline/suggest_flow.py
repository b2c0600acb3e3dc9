"""The Prefect flow `suggest-train`: retrain the routing suggestions (pipeline/routing/suggest.py) on a schedule.

It never holds up the ingest: it runs in a process of its own (`gongwen suggest serve`, beside
`gongwen serve-flows`), reads the archive in short read transactions (no write lock: on SQLite
WAL readers and the ingest's writer go on side by side) and writes nothing but its models
folder. A new model replaces the current one only when it scores at least as well on the same
held-out letters; an archive with too little history is a skipped run, not a failed one.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

# isort: off
from pipeline.flows import run_on_schedule  # first: it sets Prefect's environment before Prefect is imported
from prefect import flow, get_run_logger
# isort: on

from pipeline.db import open_archive
from pipeline.routing.suggest import SuggestError, train_and_promote

WEEKLY = "0 3 * * 0"  # Sunday 03:00: the week's decisions learnt while nobody is ingesting


@flow(name="suggest-train")
def suggest_train_flow(database_url: str | None = None, files_dir: str | None = None, models: str | None = None,
                       since: str | None = None) -> dict[str, Any]:
    """Train on the decided letters and promote the model unless it is worse than the current one."""
    logger = get_run_logger()
    archive = open_archive(database_url, files_dir, create=False)
    try:
        report = train_and_promote(archive, Path(models) if models else None,
                                   since=datetime.date.fromisoformat(since) if since else None)
    except SuggestError as exc:
        logger.warning("suggest-train skipped: %s", exc)
        return {"skipped": str(exc)}
    logger.info("%s: %s", "promoted" if report.promoted else "not promoted", report.why)
    return report.to_json()


def serve_training(cron: str = WEEKLY, *, max_runs: int | None = None, on_run: Any = None) -> int:
    """Run `suggest-train` on `cron` until stopped: a deployment when PREFECT_API_URL is set, else embedded."""
    if os.environ.get("PREFECT_API_URL"):
        suggest_train_flow.serve(name="suggest-train", cron=cron, pause_on_shutdown=False)
        return 0
    return run_on_schedule(cron, suggest_train_flow, name="suggest-train", max_runs=max_runs, on_run=on_run)
