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
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.errors import CommandError

if TYPE_CHECKING:
    from schemas.letter import Document


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
    ) -> None:
        """The outgoing 轉知 letter for a routing task: to its association, 正本 every association of the letter."""
        import datetime
        import tempfile

        from pipeline.db import open_archive
        from pipeline.draft import OFFICE_FILE, DraftError, forwarding_letter, load_office, write_pdf
        from pipeline.routing.config import config_dir
        from pipeline.routing.queue import today

        try:
            day = datetime.date.fromisoformat(date) if date else today()
        except ValueError:
            raise CommandError(f"--date {date!r} is not an ISO date (YYYY-MM-DD)", 2) from None
        try:
            office = load_office(office_file or config_dir() / OFFICE_FILE)
        except DraftError as exc:
            raise CommandError(str(exc), 2) from None
        archive = open_archive(create=False)
        with archive.session() as session:
            found = _task_letter(session, task)
        if found is None:
            raise CommandError(f"no such task: {task}", 1)
        forwarded, recipient, main = found
        try:
            doc = forwarding_letter(forwarded, recipient, main, office, day, number)
        except DraftError as exc:
            raise CommandError(f"task {task}: {exc}", 1) from None
        if draft_format is DraftFormat.di:
            from extractors.di import write_di

            _write(write_di(doc), output)
            return
        if output is not None:
            write_pdf(doc, output)
            return
        with tempfile.TemporaryDirectory() as folder:
            pdf = Path(folder) / f"draft_{task}.pdf"
            write_pdf(doc, pdf)
            _write(pdf.read_bytes(), None)


def _task_letter(session: Any, task_id: int) -> tuple[Document, str, list[str]] | None:
    """(the letter a task forwards, its association's name, the names of every association that
    letter goes to: its tasks not rejected, in task order); None when there is no such task."""
    from sqlalchemy import select

    from pipeline.show import load_document
    from schemas.orm import AssociationRow, RoutingTask

    task = session.get(RoutingTask, task_id)
    if task is None:
        return None
    names = {i: n for i, n in session.execute(
        select(RoutingTask.id, AssociationRow.name)
        .join(AssociationRow, AssociationRow.id == RoutingTask.association_id)
        .where(RoutingTask.document_id == task.document_id, RoutingTask.status != "rejected")
        .order_by(RoutingTask.id)
    )}
    recipient = session.scalar(select(AssociationRow.name).where(AssociationRow.id == task.association_id))
    doc = load_document(session, task.document_id)
    if doc is None or recipient is None:
        return None
    main = list(dict.fromkeys([*names.values()] or [recipient]))
    if recipient not in main:  # a rejected task's own draft still goes to its association
        main.insert(0, recipient)
    return doc, recipient, main
