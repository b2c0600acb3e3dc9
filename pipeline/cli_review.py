"""`gongwen review list|boxes|export` (docs/cli.md#gongwen-review): the fields to review, the boxes of letters
stored before boxes were recorded, and the office's corrected letters as golden JSON, registered by pipeline/cli.py.

Exit codes (docs/cli.md#exit-codes): 0 done; 1 an original that `boxes` could not read; 2 usage error (a
threshold outside 0..1, an output that is a file). Every failure is one line on stderr. The archive is imported inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import CommandError


def register(app: typer.Typer) -> None:
    """Add `review` to the `gongwen` command."""
    review_app = typer.Typer(no_args_is_help=True, help="Fields read with low confidence, and reviewers' corrections.")
    app.add_typer(review_app, name="review")

    @review_app.command("list")
    def list_cmd(
        threshold: Annotated[float, typer.Option(help="list fields less sure than this (0..1)", min=0, max=1)] = 0.8,
        limit: Annotated[int, typer.Option(help="at most this many fields", min=1)] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="JSON: the web API's /api/review answer")] = False,
    ) -> None:
        """The fields below the threshold that no one has reviewed yet, worst first (the web app's review page)."""
        from pipeline.corrections import review_list
        from pipeline.db import open_archive

        archive = open_archive(create=False)
        with archive.session() as session:
            items, total = review_list(session, threshold, limit)
        if as_json:
            typer.echo(json.dumps({"threshold": threshold, "count": len(items), "total": total,
                                   "fields": [i.to_json() for i in items]}, ensure_ascii=False, indent=2))
            return
        for item in items:
            value = item.value if len(item.value) <= 60 else item.value[:59] + "…"
            typer.echo(f"#{item.document_id}\t{item.field}\t{item.confidence:.2f}\t{value}")
        typer.echo(f"{total} field(s) below {threshold}" + (f", {len(items)} shown" if total > len(items) else ""),
                   err=True)

    @review_app.command("boxes")
    def boxes_cmd(
        no_ocr: Annotated[bool, typer.Option("--no-ocr", help="read text layers only: scanned letters stay unmatched")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON: the counts, and the letters and files not done")] = False,
    ) -> None:
        """Boxes for the letters stored before boxes were recorded: their originals read again, only the boxes written."""
        from functools import partial

        from pipeline.backfill import backfill_boxes
        from pipeline.db import open_archive
        from pipeline.extract import extract_file

        archive = open_archive(create=False)
        archive.check_writable()

        def told(file_id: int, path: str, given: list[int]) -> None:
            if given and not as_json:
                typer.echo(f"file #{file_id} {path}: boxes for " + ", ".join(f"#{i}" for i in given))

        report = backfill_boxes(archive, partial(extract_file, ocr=None) if no_ocr else extract_file, told)
        if as_json:
            typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        else:
            for line in report.lines():
                typer.echo(line)
        if report.failed:
            raise typer.Exit(1)

    @review_app.command("export")
    def export_cmd(
        directory: Annotated[Path, typer.Argument(help="folder to write NAME.json and NAME.pdf into (made if missing)")],
        everything: Annotated[bool, typer.Option("--all", help="every stored PDF, not only those with corrections")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON: the files written")] = False,
    ) -> None:
        """Golden JSON (samples/GOLDEN.md) of the files holding corrected letters, each beside its PDF: `gongwen eval DIR` reads them."""
        from pipeline.corrections import export_goldens
        from pipeline.db import open_archive

        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} is a file: give a folder to write the goldens into", 2)
        archive = open_archive(create=False)
        written = export_goldens(archive, directory, everything)
        if as_json:
            typer.echo(json.dumps({"directory": str(directory), "files": len(written),
                                   "written": [str(p) for p in written]}, ensure_ascii=False, indent=2))
            return
        if not written:
            typer.echo("nothing to export: no stored PDF holds a corrected letter (--all exports every one)", err=True)
            return
        typer.echo(f"{len(written)} golden file(s) in {directory}: gongwen eval {directory}", err=True)
