"""Speed of the text helpers the extractor calls on every letter (moved out of the unit tests,
where a wall-clock limit fails at random on a busy machine).

    .venv/bin/python bench/speed.py [--repeats 50]

Prints one line per measure with its target; exit status 1 when a median misses its target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.dates import find_dates  # noqa: E402
from extractors.nlp import _new_pipeline, entities  # noqa: E402


def _text() -> str:
    """About 5 KB of letter text: the sample sources without their markup."""
    lines = []
    for source in sorted((ROOT / "samples" / "sources").glob("*.txt")):
        for line in source.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith(("@", "#")):
                lines.append(line)
    return "\n".join(lines).encode()[: 5 * 1024].decode(errors="ignore")


def _median(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    text = _text()
    measures = [
        ("spaCy pipeline built from code and gazetteer (fresh)", lambda: _new_pipeline.__wrapped__(), 2.0, 3),
        ("entities() over 5 KB", lambda: entities(text), 0.05, args.repeats),
        ("find_dates() over 5 KB", lambda: find_dates(text, 2023), 0.005, args.repeats),
    ]
    missed = 0
    for name, fn, target, repeats in measures:
        took = _median(fn, repeats)
        ok = took <= target
        missed += not ok
        print(f"{name:55} {took * 1000:9.2f} ms (target ≤ {target * 1000:.0f} ms) {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
