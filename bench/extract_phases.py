"""Where `gongwen extract` over born-digital files spends its CPU time, phase by phase, in one process (issue 10).

`bench/cli.py` gives the end-to-end ratio against a raw pdfplumber pass; this splits the
gongwen side: the CLI's own imports, the reader and extractor imports, `import spacy`,
building the letter pipeline, then per file reading the text layers (pdfplumber), laying
out and cleaning the pages, and extracting. Median CPU seconds of --repeats fresh processes.

    .venv/bin/python bench/extract_phases.py [--repeats 5] [--files 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "born_digital"

# one fresh process: the phases in the order `gongwen extract` meets them
PHASES = """
import json, sys, time
from pathlib import Path
clock = time.process_time
times = {"interpreter start": clock()}
def lap(name, since=[clock()]):
    now = clock(); times[name] = times.get(name, 0.0) + now - since[0]; since[0] = now
import pipeline.cli
lap("CLI imports (typer)")
import pdfplumber
from pipeline.extract import extract_pages, start_reading
from pipeline.layout import build_page
from pipeline.ocrtext import clean_page
lap("reader imports (pdfplumber)")
import extractors.form, extractors.letter, extractors.other, extractors.segmentation
lap("extractor imports")
import spacy
lap("import spacy")
from extractors.nlp import build_nlp
build_nlp()
lap("build the letter pipeline")
for path in sys.argv[1:]:
    raw = start_reading(Path(path), None).result()
    lap("read text layers")
    pages = [clean_page(build_page(r)) for r in raw]
    lap("layout and clean")
    extract_pages(pages)
    lap("segment and extract")
print(json.dumps(times))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--files", type=int, default=30)
    args = parser.parse_args(argv)
    files = [str(p) for p in sorted(SAMPLES.glob("*.pdf"))[: args.files]]
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", PHASES, *files], cwd=ROOT, capture_output=True,
                                  text=True, check=True).stdout)
        for _ in range(args.repeats)
    ]
    print(f"{len(files)} files, median CPU s of {args.repeats} processes")
    for name in runs[0]:
        print(f"  {name:30} {statistics.median(r[name] for r in runs):6.3f}")
    print(f"  {'total':30} {statistics.median(sum(r.values()) for r in runs):6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
