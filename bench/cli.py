"""Start-up and end-to-end times of the `gongwen` command, each run in a fresh process (issue 10).

In one run, alternating, median of --repeats rounds:
- `gongwen --help` and `gongwen search --help` (target < 0.3 s);
- `gongwen search 醫策會` on an archive of the born-digital samples built in a temporary folder
  (target < 0.6 s);
- `gongwen extract` over --files born-digital samples in one process, against a raw pdfplumber
  `extract_text()` pass over the same files in a fresh interpreter (target: gongwen / raw ≤ 1.3).
Wall time, and the child's CPU time (user + system, from getrusage(RUSAGE_CHILDREN)). The
machine is shared and noisy: the medians matter, and the ratio is the median of each round's.

    .venv/bin/python bench/cli.py [--repeats 7] [--files 30]

Exit status 1 when a median misses its target.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "born_digital"
GONGWEN = str(Path(sys.executable).parent / "gongwen")

RAW_PASS = """
import sys
import pdfplumber
for path in sys.argv[1:]:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()
            page.close()
"""

# the archive `search` reads: the samples extracted and stored directly (no Prefect, no routing: search needs neither)
BUILD_ARCHIVE = """
import sys
from pathlib import Path
from pipeline.db import open_archive
from pipeline.extract import extract_files
from pipeline.store import store_results
paths = sorted(Path(sys.argv[1]).glob("*.pdf"))
archive = open_archive()
reports = store_results(archive, list(zip(extract_files(paths, None), paths, strict=True)))
print(sum(len(r.documents) for r in reports), "documents from", len(paths), "files")
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command`; a failed run stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}…: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--files", type=int, default=30, help="born-digital samples for the extract comparison")
    args = parser.parse_args(argv)
    files = [str(p) for p in sorted(SAMPLES.glob("*.pdf"))[: args.files]]
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-cli-") as tmp:
        env = {**os.environ, "GONGWEN_DATABASE_URL": f"sqlite:///{Path(tmp) / 'archive.sqlite'}",
               "GONGWEN_FILES_DIR": str(Path(tmp) / "files")}
        built = subprocess.run([sys.executable, "-c", BUILD_ARCHIVE, str(SAMPLES)], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=True)
        print(f"archive: {built.stdout.strip()} ({env['GONGWEN_DATABASE_URL']})")
        commands = {
            "gongwen --help": ([GONGWEN, "--help"], 0.3),
            "gongwen search --help": ([GONGWEN, "search", "--help"], 0.3),
            "gongwen search 醫策會": ([GONGWEN, "search", "醫策會"], 0.6),
            f"gongwen extract ({len(files)} files)": ([GONGWEN, "extract", *files], None),
            f"raw pdfplumber extract_text ({len(files)} files)": ([sys.executable, "-c", RAW_PASS, *files], None),
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeats):  # alternating: each round runs every command once
            for name, (command, _target) in commands.items():
                runs[name].append(timed(command, env))
    missed = 0
    print(f"{'median of ' + str(args.repeats):48} {'wall s':>8} {'CPU s':>8}  target")
    for name, (_command, target) in commands.items():
        wall = statistics.median(w for w, _ in runs[name])
        cpu = statistics.median(c for _, c in runs[name])
        verdict = ""
        if target is not None:
            ok = wall < target and cpu < target
            missed += not ok
            verdict = f"< {target} s {'ok' if ok else 'MISSED'}"
        print(f"{name:48} {wall:8.3f} {cpu:8.3f}  {verdict}")
    extract, raw = list(runs)[-2:]
    ratio_wall = statistics.median(g[0] / r[0] for g, r in zip(runs[extract], runs[raw], strict=True))
    ratio_cpu = statistics.median(g[1] / r[1] for g, r in zip(runs[extract], runs[raw], strict=True))
    ok = ratio_wall <= 1.3 and ratio_cpu <= 1.3
    missed += not ok
    print(f"{'gongwen extract / raw pdfplumber':48} {ratio_wall:7.2f}x {ratio_cpu:7.2f}x  ≤ 1.3x {'ok' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
