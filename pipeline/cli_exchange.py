"""`gongwen export` and `gongwen draft` (docs/cli.md#gongwen-export, docs/cli.md#gongwen-draft): letters in
the exchange's format, registered by pipeline/cli.py.

Exit codes (docs/cli.md#exit-codes): 0 written; 1 not in the archive, not a letter (DI), no such
task; 2 usage error (a 字號 that names several letters, an office file that is missing or not
valid). Every failure is one line on stderr.

Registered on every start of `gongwen`: the archive, lxml, the DI writer and the PDF renderer
are imported inside the commands.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import CommandError


class ExportFormat(StrEnum):
    di = "di"
    json = "json"


class DraftFormat(StrEnum):
    pdf = "pdf"
    di = "di"


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)


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
                raise CommandError(f"{ref} names {len(ids)} letters ({listed}): give one id", 2)
            doc = load_document(session, ids[0]) if ids else None
        if doc is None:
            raise CommandError(f"not in the archive: {ref}", 1)
        if export_format is ExportFormat.json:
            data = (json.dumps(doc.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n").encode()
        else:
            if doc.kind != "letter":
                raise CommandError(f"document #{ids[0]} is a {doc.kind}, not a letter: only letters are DI files (--format json)", 1)
            from extractors.di import validate_di, write_di

            data = write_di(doc)
            problems = validate_di(data)
            if problems:  # a bug of the writer: never hand out a file the exchange would refuse
                raise CommandError(f"the DI file for #{ids[0]} is not valid against the 函 DTD: {problems[0]}", 1)
        _write(data, output)

    @app.command("draft")
    def draft_cmd(
        task: Annotated[int, typer.Argument(help="routing task id (gongwen queue list)")],
        draft_format: Annotated[DraftFormat, typer.Option("--format", help="pdf: the printed 函; di: a DI file")] = DraftFormat.pdf,
        output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file (default: stdout)")] = None,
        date: Annotated[str | None, typer.Option("--date", help="發文日期, ISO (default: today in Taipei)")] = None,
        number: Annotated[str | None, typer.Option("--number", help="the draft's own 發文字號 (default: blank)")] = None,
        office_file: Annotated[Path | None, typer.Option("--office", help="office YAML (default $GONGWEN_CONFIG_DIR/office.yaml)")] = None,
        alone: Annotated[bool, typer.Option("--alone", help="for this task only: 正本 its association alone")] = False,
        actor: Annotated[str | None, typer.Option("--as", help="who writes it, for the tasks' history (default $GONGWEN_USER, else the login name)")] = None,
    ) -> None:
        """The outgoing 轉知 letter for a routing task: to its association, 正本 every association of the letter.

        The queue records it: the tasks it covers show it (queue list/show), each with a `drafted` event."""
        import datetime

        from pipeline.db import open_archive
        from pipeline.draft import OFFICE_FILE, DraftError, load_office, write_draft
        from pipeline.routing.config import config_dir
        from pipeline.routing.queue import actor_name, today

        try:
            day = datetime.date.fromisoformat(date) if date else today()
        except ValueError:
            raise CommandError(f"--date {date!r} is not an ISO date (YYYY-MM-DD)", 2) from None
        try:
            office = load_office(office_file or config_dir() / OFFICE_FILE)
        except DraftError as exc:
            raise CommandError(str(exc), 2) from None
        archive = open_archive(create=False)
        try:
            draft = write_draft(archive, task, draft_format.value, office, day, actor=actor_name(actor), number=number,
                                alone=alone, written_to=output)
        except DraftError as exc:
            raise CommandError(str(exc), 1) from None
        _write(draft.data, output)
