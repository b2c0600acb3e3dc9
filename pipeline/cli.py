"""The `gongwen` command. Exit codes (docs/cli.md#exit-codes): 0 success, 1 some inputs failed, 2 usage error.

Every command and `--help` starts by importing this module and the two it registers, so they
import typer and light modules only: the extractors (spaCy), the archive (SQLAlchemy), the
flows (Prefect) and OCR are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from pipeline.errors import CommandError
from pipeline.scan import DEFAULT_DPI, OcrOptions

if TYPE_CHECKING:
    from schemas.letter import Document, FileResult

DEBUG = False  # `gongwen --debug`: tracebacks instead of one-line errors


def one_line_error(exc: Exception) -> tuple[str, int] | None:
    """The one line (and exit code) a known failure is reported with; None: a bug, shown whole.

    The single place where exceptions become messages: commands raise, this speaks.
    """
    if isinstance(exc, CommandError):  # refusals, usage errors, archive errors (pipeline.db.ArchiveError)
        return f"{exc} ({exc.note})" if exc.note else str(exc), exc.exit_code
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        orig = str(exc.orig or exc).strip().splitlines()
        return f"the archive database failed: {orig[0] if orig else type(exc).__name__} (--debug for details)", 1
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror} (--debug for details)", 1
    return None


class _Commands(TyperGroup):
    """The `gongwen` group: known failures are one line on stderr, without a traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            found = None if DEBUG else one_line_error(exc)
            if found is None:
                raise
            typer.echo(f"gongwen: {found[0]}", err=True)
            raise typer.Exit(found[1]) from None


app = typer.Typer(
    cls=_Commands,
    add_completion=False,
    no_args_is_help=True,
    help="Taiwanese official letters (公文): extract and evaluate; ingest, search, show and check the archive.",
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="show the full traceback of an error")] = False,
) -> None:
    global DEBUG
    DEBUG = debug


def _summary_line(doc: Document) -> str:
    pages = f"p.{doc.pages[0]}-{doc.pages[-1]}" if doc.pages else ""
    if doc.kind == "letter":  # !s: the date's ISO text padded (a date's own format spec is strftime's)
        return f"  {doc.kind:6} {pages:8} {doc.issue_date or '?'!s:10} {doc.doc_number or '?'}  {doc.sender or '?'}: {(doc.subject or '')[:40]}"
    if doc.kind == "form":
        return f"  {doc.kind:6} {pages:8} {doc.form_number or '?'}  {doc.title or '?'}"
    return f"  {doc.kind:6} {pages:8}"


OcrEngineOption = Annotated[
    str | None, typer.Option("--ocr-engine", help="OCR engine for scanned pages (default ppocr-v6-small)")
]
DpiOption = Annotated[int, typer.Option("--dpi", help="resolution scanned pages are rendered at for OCR")]
NoOcrOption = Annotated[bool, typer.Option("--no-ocr", help="read text layers only; scanned pages stay empty")]


def _ocr_options(engine: str | None, dpi: int, no_ocr: bool) -> OcrOptions | None:
    if no_ocr:
        return None
    if engine is not None:
        from pipeline.ocr import engine_names

        if engine not in engine_names():
            typer.echo(f"unknown OCR engine {engine!r}; known: {', '.join(engine_names())}", err=True)
            raise typer.Exit(2)
    return OcrOptions(engine=engine, dpi=dpi)


@app.command()
def extract(
    files: Annotated[list[Path], typer.Argument(help="PDF and DI files, or folders of them")],
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON (docs/document-json.md)")] = False,
    ocr_engine: OcrEngineOption = None,
    dpi: DpiOption = DEFAULT_DPI,
    no_ocr: NoOcrOption = False,
) -> None:
    """Extract every letter and form in each PDF (scanned pages are OCR'd) or DI file (electronic letter)."""
    options = _ocr_options(ocr_engine, dpi, no_ocr)
    from pipeline.extract import expand_paths, extract_files, public_json

    paths = expand_paths(files)
    if not paths:
        typer.echo("no PDF or DI files given", err=True)
        raise typer.Exit(2)
    results: list[FileResult] = []
    for path, result in zip(paths, extract_files(paths, options), strict=True):
        results.append(result)
        if not as_json:
            if result.error:
                typer.echo(f"{path}: ERROR {result.error}")
            else:
                read = f"{result.pages} pages" if result.pages is not None else "DI file"
                typer.echo(f"{path}: {read}, {len(result.documents)} documents")
                for doc in result.documents:
                    typer.echo(_summary_line(doc))
    if as_json:
        payload: Any = [public_json(r) for r in results]
        if len(payload) == 1 and len(files) == 1 and not files[0].is_dir():
            payload = payload[0]
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    if any(r.error for r in results):
        raise typer.Exit(1)


@app.command("eval")
def eval_cmd(
    directory: Annotated[Path, typer.Argument(help="folder of PDFs with golden JSON beside them")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    failures: Annotated[int, typer.Option(help="how many failures to list")] = 50,
    low_confidence: Annotated[bool, typer.Option("--low-confidence", help="list fields below 0.6 confidence")] = False,
    ocr_engine: OcrEngineOption = None,
    dpi: DpiOption = DEFAULT_DPI,
) -> None:
    """Per-field accuracy against the golden JSON files in DIRECTORY (strict, and OCR-tolerant)."""
    if not directory.is_dir():
        typer.echo(f"not a directory: {directory}", err=True)
        raise typer.Exit(2)
    options = _ocr_options(ocr_engine, dpi, False)
    from pipeline.evaluate import evaluate
    from pipeline.extract import extract_file, extract_files

    report = evaluate(directory, lambda p: extract_file(p, options), lambda ps: extract_files(ps, options))
    if as_json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    right, total = report.total
    typer.echo(f"{report.files} files, {report.documents} documents")
    typer.echo(f"fields with a value in the golden: {report.non_empty[0]}/{report.non_empty[1]} right "
               f"({report.non_empty_accuracy():.2%})")
    typer.echo(f"all fields (blank ones too): {right}/{total} right ({report.accuracy():.2%})")
    typer.echo(f"{'field (worst first)':24} {'with a value':>20} {'all':>20} {'OCR-tolerant':>20}")
    for name, (ok_v, n_v), (ok, n) in report.worst_first():
        valued = f"{ok_v}/{n_v} {ok_v / n_v:8.2%}" if n_v else "-"
        ok_t, n_t = report.tolerant.get(name, [0, 0])
        tolerant = f"{ok_t}/{n_t} {ok_t / n_t:8.2%}" if n_t else "-"
        typer.echo(f"{name:24} {valued:>20} {f'{ok}/{n} {ok / n:8.2%}':>20} {tolerant:>20}")
    typer.echo(f"OCR-tolerant (long texts at CER <= 2%, each 說明/辦法 item counted): {report.tolerant_accuracy():.2%}")
    for err in report.errors:
        typer.echo(f"ERROR {err}")
    for f in report.failures[:failures]:
        typer.echo(f"FAIL {f.file} doc {f.document} {f.field}\n  expected: {f.expected!r}\n  got:      {f.got!r}")
    if len(report.failures) > failures:
        typer.echo(f"... {len(report.failures) - failures} more failures (--failures N)")
    if low_confidence:
        for name, i, key, conf in report.low_confidence:
            typer.echo(f"LOW {name} doc {i} {key} {conf:.2f}")


def _register_more_commands() -> None:
    """Commands of later stages (archive, routing, exchange, the web application) live in their own modules."""
    from pipeline.cli_archive import register as register_archive
    from pipeline.cli_exchange import register as register_exchange
    from pipeline.cli_review import register as register_review
    from pipeline.cli_routing import register as register_routing
    from pipeline.cli_suggest import register as register_suggest
    from pipeline.cli_web import register as register_web

    register_archive(app)
    register_routing(app)
    register_exchange(app)
    register_web(app)
    register_review(app)
    register_suggest(app)


_register_more_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
