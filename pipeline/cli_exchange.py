"""`gongwen export` (docs/cli.md#gongwen-export): an archived letter written in the exchange's format, registered by pipeline/cli.py.

Exit codes (docs/cli.md#exit-codes): 0 written; 1 not in the archive, or not a letter (DI);
2 usage error (a 字號 that names several letters). Every failure is one line on stderr.

Registered on every start of `gongwen`: the archive, lxml and the DI writer are imported
inside the command.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class ExportFormat(StrEnum):
    di = "di"
    json = "json"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"gongwen: {message}", err=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export_cmd(
        ref: Annotated[str, typer.Argument(help="document id or 發文字號")],
        export_format: Annotated[
            ExportFormat, typer.Option("--format", help="di: a DI file (the 函 DTD); json: the document JSON")
        ] = ExportFormat.di,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")] = None,
    ) -> None:
        """Write an archived letter as a DI file (electronic exchange) or as its document JSON."""
        from pipeline.db import open_archive
        from pipeline.show import find_documents, load_document

        archive = open_archive(create=False)
        with archive.session() as session:
            ids = find_documents(session, ref)
            if len(ids) > 1:
                listed = ", ".join(f"#{i}" for i in ids)
                raise _fail(f"{ref} names {len(ids)} letters ({listed}): give one id", 2)
            doc = load_document(session, ids[0]) if ids else None
        if doc is None:
            raise _fail(f"not in the archive: {ref}", 1)
        if export_format is ExportFormat.json:
            data = (json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n").encode()
        else:
            if doc.kind != "letter":
                raise _fail(f"document #{ids[0]} is a {doc.kind}, not a letter: only letters are DI files (--format json)", 1)
            from extractors.di import validate_di, write_di

            data = write_di(doc)
            problems = validate_di(data)
            if problems:  # a bug of the writer: never hand out a file the exchange would refuse
                raise _fail(f"the DI file for #{ids[0]} is not valid against the 函 DTD: {problems[0]}", 1)
        if output is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            output.write_bytes(data)
