"""What durability costs: ingest store rate with and without waiting for the disk (issue 14, item 2).

Each file is stored as `gongwen ingest` stores it: one transaction per file, its original
PDF copied into the file store (distinct PDFs: sample PDFs with a trailing comment that
makes each one new, their extraction reused with unique 字號 so nothing is linked).
Extraction is not timed. Two modes, alternated round by round in the same process, each
round on a fresh archive:

- `durable` (gongwen now): the original fsynced, renamed, its folder fsynced, then the commit;
  SQLite synchronous=FULL, PostgreSQL synchronous_commit=on;
- `before` (gongwen before issue 14): no fsync of the original or its folder; SQLite
  synchronous=NORMAL, PostgreSQL synchronous_commit=off.

    .venv/bin/python bench/durability.py [--files 150] [--rounds 5] [--backend sqlite|postgresql|both]

PostgreSQL: $GONGWEN_BENCH_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test, a
schema of its own per round, dropped after it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from pipeline.db import Archive, make_engine, upgrade  # noqa: E402
from pipeline.extract import extract_file  # noqa: E402
from pipeline.store import store_result  # noqa: E402
from schemas.letter import FileResult  # noqa: E402

SAMPLES = ROOT / "samples" / "born_digital"
PG_URL = os.environ.get("GONGWEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NAMES = ["seed_003", "own_05", "example_minimal"]


def make_inputs(folder: Path, n: int) -> list[tuple[FileResult, Path]]:
    """`n` distinct PDFs and their extraction results (each letter's 字號 made unique)."""
    extracted = {name: extract_file(SAMPLES / f"{name}.pdf") for name in NAMES}
    out: list[tuple[FileResult, Path]] = []
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        data = (SAMPLES / f"{name}.pdf").read_bytes() + f"\n%gongwen-bench {i}\n".encode()
        path = folder / f"{i:05d}_{name}.pdf"
        path.write_bytes(data)
        result = extracted[name].model_copy(deep=True)
        result.file, result.sha256 = str(path), hashlib.sha256(data).hexdigest()
        for doc in result.documents:
            if doc.doc_number:
                doc.doc_number = doc.doc_number.replace("號", f"{i:05d}號")
        out.append((result, path))
    return out


@contextmanager
def fresh_archive(backend: str, mode: str, work: Path) -> Iterator[Archive]:
    """A new, migrated archive; in `before` mode with the settings gongwen had before issue 14."""
    files = work / f"files-{uuid.uuid4().hex[:6]}"
    if backend == "sqlite":
        url = f"sqlite:///{work}/{uuid.uuid4().hex[:6]}.sqlite"
        schema = None
    else:
        schema = f"gw_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema},public"}).render_as_string(
            hide_password=False
        )
    engine = make_engine(url)
    upgrade(engine)
    if mode == "before":
        statement = "PRAGMA synchronous = NORMAL" if backend == "sqlite" else "SET synchronous_commit = off"

        def relax(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(statement)
            cur.close()
            if backend == "postgresql":
                dbapi_conn.commit()

        engine.dispose()
        event.listen(engine, "connect", relax)
    try:
        yield Archive(engine, files)
    finally:
        engine.dispose()
        if schema is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@contextmanager
def no_fsync(active: bool) -> Iterator[None]:
    """`before` mode: fsync does nothing (gongwen did not call it on originals)."""
    real = os.fsync

    def skip(fd: Any) -> None:
        return None

    if active:
        os.fsync = skip
    try:
        yield
    finally:
        os.fsync = real


def one_round(backend: str, mode: str, inputs: list[tuple[FileResult, Path]], work: Path) -> tuple[float, float]:
    """(files/s, letters/s) storing every input, one transaction per file."""
    with fresh_archive(backend, mode, work) as archive, no_fsync(mode == "before"):
        letters = 0
        start = time.perf_counter()
        for result, path in inputs:
            report = store_result(archive, result.model_copy(deep=True), path)
            assert report.status == "stored", report
            letters += report.letters
        elapsed = time.perf_counter() - start
    return len(inputs) / elapsed, letters / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-", dir=os.environ.get("GONGWEN_BENCH_DIR")) as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        inputs = make_inputs(work / "in", args.files)
        for backend in backends:
            rates: dict[str, list[float]] = {"before": [], "durable": []}
            letter_rates: dict[str, list[float]] = {"before": [], "durable": []}
            ratios: list[float] = []
            for r in range(args.rounds):
                order = ["before", "durable"] if r % 2 == 0 else ["durable", "before"]
                got: dict[str, float] = {}
                for mode in order:
                    files_s, letters_s = one_round(backend, mode, inputs, work)
                    rates[mode].append(files_s)
                    letter_rates[mode].append(letters_s)
                    got[mode] = files_s
                ratios.append(got["durable"] / got["before"])
                print(f"{backend} round {r + 1}: before {got['before']:.1f} files/s, durable {got['durable']:.1f} files/s")
            print(
                f"{backend}: {args.files} files ({len(NAMES)} samples, one transaction each), median of {args.rounds}: "
                f"before {statistics.median(rates['before']):.1f} files/s "
                f"({statistics.median(letter_rates['before']):.1f} letters/s), "
                f"durable {statistics.median(rates['durable']):.1f} files/s "
                f"({statistics.median(letter_rates['durable']):.1f} letters/s); "
                f"ratio durable/before, median {statistics.median(ratios):.2f} "
                f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
            )


if __name__ == "__main__":
    main()
