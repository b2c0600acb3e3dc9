"""Search latency, this tree's `pipeline.search` against an earlier commit's, alternately in one process.

The machine is shared and noisy: a p95 measured at one time and compared with one measured at
another says little. Here every benchmark query of `bench/archive.py` (200: substrings of 1 to 8
characters, 台/臺 and aliases, two words, filters, 字號) is run with both modules in turn, the
order swapped each round, on the same connection, after a warm-up pass of both; per query the
median of the rounds is kept. The earlier module is `git show COMMIT:pipeline/search.py` loaded
beside the current one (it must still import against today's `pipeline.matching` and models).

    .venv/bin/python bench/search_compare.py --database URL [--baseline COMMIT] [--rounds 3] [--slowest 10]

URL: an archive `bench/archive.py --letters 100000 --keep` filled (it prints the URL); the
queries are made from the same generated letters (`--letters`, `--samples` as for that run).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session

from bench.archive import SAMPLES, Generator, Query, make_queries
from pipeline.db import make_engine


def _module_at(commit: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:pipeline/search.py"], check=True, capture_output=True, text=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="gongwen-search-")) / "search_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("search_baseline", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["search_baseline"] = module
    spec.loader.exec_module(module)
    return module


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="the URL of a kept benchmark archive")
    parser.add_argument("--baseline", default="HEAD", help="the commit whose pipeline/search.py is the baseline")
    parser.add_argument("--letters", type=int, default=100000)
    parser.add_argument("--samples", type=Path, default=SAMPLES)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slowest", type=int, default=10)
    args = parser.parse_args()

    import pipeline.search as current

    modules: dict[str, ModuleType] = {"baseline": _module_at(args.baseline), "current": current}
    gen = Generator(samples=args.samples)
    for _ in gen.files(args.letters):  # the letters the archive was filled with: the queries cut from them
        pass
    queries: list[Query] = make_queries(gen)
    engine = make_engine(args.database)
    times: dict[str, list[list[float]]] = {name: [[] for _ in queries] for name in modules}
    with Session(engine) as session:
        for q in queries:  # warm-up
            for module in modules.values():
                module.search(session, q.text, q.filters, limit=20)
                session.rollback()
        for r in range(args.rounds):
            order = list(modules.items()) if r % 2 == 0 else list(reversed(modules.items()))
            for i, q in enumerate(queries):
                for name, module in order:
                    t = time.perf_counter()
                    module.search(session, q.text, q.filters, limit=20)
                    times[name][i].append((time.perf_counter() - t) * 1000)
                    session.rollback()
    print(f"{len(queries)} queries, {args.rounds} rounds, baseline {args.baseline}; ms, medians per query")
    print(f"{'':10} {'p50':>7} {'p95':>7} {'max':>7}   per category p50 / p95")
    for name in modules:
        per_query = [statistics.median(v) for v in times[name]]
        by_category: dict[str, list[float]] = defaultdict(list)
        for q, ms in zip(queries, per_query, strict=True):
            by_category[q.category].append(ms)
        categories = "  ".join(f"{c}: {statistics.median(v):.0f}/{_pct(v, 95):.0f}" for c, v in by_category.items())
        print(f"{name:10} {statistics.median(per_query):7.1f} {_pct(per_query, 95):7.1f} {max(per_query):7.1f}   {categories}")
    current_ms = [statistics.median(v) for v in times["current"]]
    print("\nslowest (current):")
    for ms, q in sorted(zip(current_ms, queries, strict=True), key=lambda x: -x[0])[: args.slowest]:
        filters = {k: str(v) for k, v in vars(q.filters).items() if v not in (None, False)}
        print(f"  {ms:7.1f} ms  [{q.category}] {q.text!r} {filters or ''}")


if __name__ == "__main__":
    main()
