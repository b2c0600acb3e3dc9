"""Prefect flows: orchestration only; the work lives in `pipeline/`.

Runs in Prefect's embedded mode (a temporary local API, no server to start). The main job
of the README is `python flows.py samples/born_digital`: one task per PDF, results written
as JSON under `out/extract/`, and a summary at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from prefect import flow, get_run_logger, task

from pipeline.extract import expand_paths, extract_file, public_json
from schemas.letter import FileResult


@task(name="extract-file", retries=0)
def extract_task(path: str) -> FileResult:
    return extract_file(Path(path))


@flow(name="extract-letters")
def extract_flow(paths: list[str], out_dir: str = "out/extract") -> dict[str, int]:
    logger = get_run_logger()
    files = expand_paths([Path(p) for p in paths])
    futures = [extract_task.submit(str(p)) for p in files]
    results = [f.result() for f in futures]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"files": len(results), "failed": 0, "letters": 0, "forms": 0, "other": 0}
    for result in results:
        name = Path(result.file).with_suffix(".json").name
        (out / name).write_text(json.dumps(public_json(result), ensure_ascii=False, indent=2), encoding="utf-8")
        if result.error:
            summary["failed"] += 1
            logger.warning("%s: %s", result.file, result.error)
        for doc in result.documents:
            summary["letters" if doc.kind == "letter" else "forms" if doc.kind == "form" else "other"] += 1
    logger.info("summary: %s (JSON in %s)", summary, out)
    return summary


if __name__ == "__main__":
    summary = extract_flow(sys.argv[1:] or ["samples/born_digital"])
    print(json.dumps(summary, ensure_ascii=False))
