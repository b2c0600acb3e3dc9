"""DI twins of sample letters: the letter of a golden JSON written as a DI file (the 函 element list).

    python -m samples.di [NAMES...] [--goldens samples/born_digital] [--out samples/di] [--check]

For each NAME (default: `TWINS`) it writes NAME.di from the golden's letter and NAME.json, the
golden itself with `file` naming the DI file: the same answers as the PDF's, so `gongwen eval
samples/di` holds the DI reader to the same standard (what a DI file cannot carry, like page
numbers, is left out of the comparison: samples/GOLDEN.md). `--check` fails when a committed
twin is not what the golden writes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from extractors.di import write_di
from schemas.letter import Document

HERE = Path(__file__).resolve().parent
DEFAULT_GOLDENS = HERE / "born_digital"
DEFAULT_OUT = HERE / "di"
# one-letter goldens: a 函 with a nested 說明, a classified one (密等 and 解密條件), one with a 辦法,
# a 書函 without 署名, and the letter of a DI print-out
TWINS = ("own_01", "own_05", "own_07", "own_14", "di_print_01")


def twin(golden: dict[str, Any], name: str) -> tuple[bytes, str]:
    """(the DI file, its golden JSON) for a golden whose one document is a letter."""
    documents = golden.get("documents") or []
    if len(documents) != 1 or documents[0].get("kind", "letter") != "letter":
        raise ValueError(f"{name}: a DI file holds one letter; this golden has {len(documents)} documents")
    data = write_di(Document.model_validate(documents[0]))
    answers = {**golden, "file": f"{name}.di"}
    return data, json.dumps(answers, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help=f"golden names (default: {' '.join(TWINS)})")
    parser.add_argument("--goldens", type=Path, default=DEFAULT_GOLDENS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail when a committed twin is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for name in args.names or TWINS:
        source = args.goldens / f"{Path(name).stem}.json"
        try:
            data, answers = twin(json.loads(source.read_text(encoding="utf-8")), source.stem)
        except (OSError, ValueError) as exc:
            print(f"{source}: {exc}", file=sys.stderr)
            return 2
        di, golden = args.out / f"{source.stem}.di", args.out / f"{source.stem}.json"
        if args.check:
            same = di.is_file() and di.read_bytes() == data and golden.is_file() and golden.read_text(encoding="utf-8") == answers
            if not same:
                stale.append(source.stem)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        di.write_bytes(data)
        golden.write_text(answers, encoding="utf-8")
        print(f"{di}: {len(data)} bytes")
    if stale:
        print(f"stale DI twins (run python -m samples.di): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
