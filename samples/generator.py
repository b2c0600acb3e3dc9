"""Render sample sources (samples/FORMAT.md) into born-digital A4 PDFs.

    python -m samples.generator [NAMES...] [--sources samples/sources] [--out samples/born_digital] [--check]

For each source NAME.txt it writes NAME.pdf and NAME.layout.json (page count and each
document's page range, which golden writers copy) and prints a one-line summary.
`--check` renders into a temporary directory and fails if a committed PDF is stale.
Output is byte-identical for the same source, so the PDFs can be committed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from samples.markup import MarkupError, parse_source
from samples.render import Layout, render_documents

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCES = HERE / "sources"
DEFAULT_OUT = HERE / "born_digital"

__all__ = ["Layout", "main", "render_source"]


def render_source(text: str, out_path: Path) -> Layout:
    """Render one source text into `out_path`; the PDF's stem seeds the small jitters."""
    return render_documents(parse_source(text), out_path, seed=out_path.stem)


def layout_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.stem + ".layout.json")


def write_layout(layout: Layout, pdf: Path) -> None:
    """The manifest golden writers take page ranges from; it also says where receipt stamps landed."""
    docs = ",\n".join(
        "  " + json.dumps({"kind": d.kind, "pages": [d.first, d.last]}, ensure_ascii=False)
        for d in layout.documents
    )
    stamps = ",\n".join("  " + json.dumps(s, ensure_ascii=False) for s in layout.to_json()["stamps"])  # type: ignore[attr-defined]
    text = f'{{"pages": {layout.pages}, "documents": [\n{docs}\n], "stamps": [\n{stamps}\n]}}\n'
    layout_path(pdf).write_text(text, encoding="utf-8")


def render_file(source: Path, out_dir: Path) -> Layout:
    pdf = out_dir / f"{source.stem}.pdf"
    layout = render_source(source.read_text(encoding="utf-8"), pdf)
    write_layout(layout, pdf)
    return layout


def select_sources(names: list[str], sources: Path) -> list[Path]:
    """Sources named on the command line (with or without .txt), or all of them."""
    if not names:
        return sorted(sources.glob("*.txt"))
    picked: list[Path] = []
    for name in names:
        path = Path(name)
        if path.suffix == ".txt" and path.exists():
            picked.append(path)
            continue
        picked.append(sources / f"{path.stem if path.suffix in ('.txt', '.pdf') else name}.txt")
    return picked


def _render_all(paths: list[Path], out_dir: Path, quiet: bool) -> tuple[dict[str, Layout], list[str]]:
    layouts: dict[str, Layout] = {}
    errors: list[str] = []
    for source in paths:
        if not source.exists():
            errors.append(f"{source}: no such source")
            continue
        try:
            layouts[source.stem] = render_file(source, out_dir)
        except MarkupError as exc:
            errors.append(f"{source}: {exc}")
            continue
        if not quiet:
            print(f"{source.stem}.pdf {layouts[source.stem].summary()}")
    return layouts, errors


def check(paths: list[Path], out_dir: Path) -> int:
    """Exit status 1 when a committed PDF or manifest differs from a fresh render."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        layouts, errors = _render_all(paths, fresh, quiet=True)
        stale: list[str] = []
        for name in layouts:
            for made in (fresh / f"{name}.pdf", layout_path(fresh / f"{name}.pdf")):
                committed = out_dir / made.name
                if not committed.exists() or committed.read_bytes() != made.read_bytes():
                    stale.append(made.name)
    for err in errors:
        print(err, file=sys.stderr)
    for name in stale:
        print(f"stale: {name} differs from what the generator makes now", file=sys.stderr)
    if not errors and not stale:
        print(f"{len(layouts)} sources up to date")
    return 1 if errors or stale else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m samples.generator", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("names", nargs="*", help="source names (default: all sources)")
    parser.add_argument("--sources", type=Path, default=DEFAULT_SOURCES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if a committed PDF is stale")
    args = parser.parse_args(argv)
    paths = select_sources(list(args.names), args.sources)
    if args.check:
        return check(paths, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    _, errors = _render_all(paths, args.out, quiet=False)
    for err in errors:
        print(err, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
