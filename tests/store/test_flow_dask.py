"""`ingest-inbox` on a local Dask cluster (prefect-dask, worker processes) with the archive on PostgreSQL:
the same documents and the same routing tasks as the single-machine run over the same files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import select

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
from pipeline.db import close_archives, make_engine
from pipeline.flows import inbox_flow_on, share_embedded_server
from schemas.orm import DocumentRow, RoutingTask

ROOT = Path(__file__).resolve().parent.parent.parent
FILES = [ROOT / "samples/born_digital/seed_003.pdf", ROOT / "samples/born_digital/own_06.pdf",
         ROOT / "samples/born_digital/own_27.pdf", ROOT / "samples/scanned/own_14.pdf"]


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    for f in FILES:
        target = inbox / f"{f.parent.name}-{f.name}"
        shutil.copyfile(f, target)
        os.utime(target, (time.time() - 3600, time.time() - 3600))
    return inbox


def _key(row: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(x or "" for x in row)


def _result(url: str) -> tuple[list[tuple[str, str | None, str | None]], list[tuple[str | None, str]]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        docs = sorted(((r.kind, r.doc_number, r.sender) for r in conn.execute(
            select(DocumentRow.kind, DocumentRow.doc_number, DocumentRow.sender))), key=_key)
        tasks = sorted(((r.doc_number, r.association_id) for r in conn.execute(
            select(DocumentRow.doc_number, RoutingTask.association_id)
            .join(DocumentRow, DocumentRow.id == RoutingTask.document_id))), key=_key)
    engine.dispose()
    return docs, tasks


@pytest.mark.parametrize("backend", ["postgresql"])
def test_dask_cluster_run_equals_the_single_machine_run(db_url: str, tmp_path: Path, sqlite_template: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import dask
    from distributed import LocalCluster

    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))  # worker processes inherit it
    local_db = tmp_path / "local.sqlite"
    shutil.copyfile(sqlite_template, local_db)
    local_url = f"sqlite:///{local_db}"
    single = inbox_flow_on(workers=2)([str(_inbox(tmp_path / "single"))], database_url=local_url,
                                      files_dir=str(tmp_path / "files-single"))
    servers_before = _orphan_prefect_servers()
    share_embedded_server()  # the workers report to this process's Prefect server, not to servers of their own
    # worker processes must be allowed children: the OCR pool runs in one (a scanned file is among the inputs)
    with dask.config.set({"distributed.worker.daemon": False}), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:  # type: ignore[no-untyped-call]
        shared_store = tmp_path / "files-shared"  # a path every worker sees
        distributed = inbox_flow_on(dask_address=cluster.scheduler_address)(
            [str(_inbox(tmp_path / "cluster"))], database_url=db_url, files_dir=str(shared_store))
    close_archives()
    assert distributed.summary.stored == single.summary.stored == len(FILES)
    assert distributed.routing is not None and single.routing is not None
    assert distributed.routing.tasks_created == single.routing.tasks_created > 0
    assert _result(db_url) == _result(local_url)
    assert not [p for p in (tmp_path / "cluster" / "inbox").iterdir() if p.is_file()]  # every file moved
    assert _orphan_prefect_servers() <= servers_before  # no worker left a Prefect server behind


def _orphan_prefect_servers() -> set[int]:
    """Prefect servers whose parent is gone (re-parented to init)."""
    found: set[int] = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"prefect.server.api.server" in cmdline and ppid == 1:
            found.add(int(proc.name))
    return found
