"""`gongwen ingest`, `search` and `show`: the archive commands (registered by pipeline/cli.py).

Exit codes (docs/cli.md#exit-codes): 0 success; 1 some inputs failed (a file that failed extraction,
a document not found); 2 usage error (no files, a date that is not a date, an empty query).

Registered on every start of `gongwen`: the archive (SQLAlchemy), the extractors, the flows
(Prefect) and rich are imported inside the commands, so that `search` and `show` load no
PDF reader, spaCy or flow, and `extract` or `--help` no archive.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from extractors.glossary import SPEEDS
from pipeline.search_input import FilterError, search_filters

if TYPE_CHECKING:
    from pipeline.reports import FileReport
    from pipeline.search import Hit
    from pipeline.show import DocumentView

ROOT = Path(__file__).resolve().parent.parent


def _print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@contextmanager
def _progress_bar(show: bool) -> Iterator[None]:
    """A progress bar on stderr for a run of several files, when a person watches (a terminal, not --json)."""
    from pipeline.flows import set_progress

    if not show or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("files"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True, console=Console(stderr=True)) as bar:
        job = bar.add_task("files", total=None)
        set_progress(lambda done, total: bar.update(job, completed=done, total=total))
        try:
            yield
        finally:
            set_progress(None)


def _run_ingest(paths: list[Path], ocr: bool = True, progress: bool = False) -> tuple[list[FileReport], Any]:
    """The Prefect flow `ingest-letters` (pipeline/flows.py): reports, and the routing summary or None."""
    from pipeline.flows import ingest_flow, stop_on_sigterm

    stop_on_sigterm()  # cron and systemd stop with SIGTERM: the same as Ctrl-C
    with _progress_bar(progress):
        run = ingest_flow([str(p) for p in paths], ocr=ocr)
    return run.reports, run.routing


def _hit_lines(hit: Hit) -> list[str]:
    if hit.kind == "form":  # a form has no 字號 or sender: its 表號 and 編製機關
        number, source = f"表號 {hit.form_number or '-'}", f"編製機關 {hit.compiler or '-'}"
    else:
        number, source = hit.doc_number or "-", hit.sender or ""
    head = f"{hit.id:>6}  {hit.kind:6} {hit.issue_date or '?':10}  {number}  {source}"
    if hit.versions > 1:  # one hit per letter: say that it has others, and which one is shown
        head += f"  ({hit.versions} versions" + (f"; shown: {hit.shown})" if hit.shown else "; this one is shown)")
    if hit.matched[:1] == ["subject"]:  # the snippet is the subject, matches marked
        return [head, f"        {hit.snippet}"]
    lines = [head, f"        {hit.subject or ''}"]
    if hit.snippet and hit.snippet != hit.subject:
        lines.append(f"        {hit.snippet}")
    return lines


def _view_lines(view: DocumentView) -> list[str]:
    doc = view.document
    pages = f" pages {doc.pages[0]}-{doc.pages[-1]}" if doc.pages else ""  # a DI file's letter has none
    out = [f"#{view.id} {doc.kind}{pages}"]
    skip = {"kind", "pages", "explanation", "measures", "notes", "notices", "dates", "confidence", "references", "boxes"}
    for key, value in doc.model_dump(mode="json", exclude_none=True).items():
        if key in skip or value in ([], {}, ""):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items() if v)
        elif isinstance(value, list):
            value = "、".join(str(v) for v in value)
        out.append(f"  {key:14} {value}")
    out.extend(_section_lines(doc, ("explanation", "measures", "notes"), 1))
    for notice in (doc.notices or [])[1:]:  # the first block is the subject and sections above
        out.append(f"  notice {notice.label}: {notice.subject or ''}")
        out.extend(_section_lines(notice, ("explanation", "measures"), 2))
    from pipeline.corrections import as_text

    for fix in view.corrections:  # the values above are the corrected ones; what was read is kept
        old, new = as_text(fix.old), as_text(fix.new)
        out.append(f"  corrected {fix.field}: {old!r} → {new!r} by {fix.actor} at {fix.at[:16]}")
    for c in view.copies:
        received = f"  收文 {c.received.org or ''} {c.received.date or ''} {c.received.number or ''}".rstrip() if c.received else ""
        original = c.stored_at or (f"{c.store_path} (in the file store)" if c.store_path else "no original kept")
        out.append(f"  file #{c.file_id} pages {c.pages[0]}-{c.pages[1]}  {c.path}{received}")
        out.append(f"    original: {original}")
    if view.versions:
        out.append(f"  versions ({len(view.versions)}; shown by default: born-digital over OCR, then the newest):")
        for v in view.versions:
            mark = "→" if v.id == view.id else " "
            source = "born-digital" if v.born_digital else f"read by OCR ({v.text_source})" if v.text_source else "?"
            shown = "  ← shown for this letter" if v.shown else ""
            out.append(f"   {mark} #{v.id} {v.issue_date or '?':10} {source}{shown}")
    for title, links in (("cites", view.cites), ("cited by", view.cited_by)):
        for link in links:
            where = f"#{link.id}" if link.id is not None else "(not in the archive)"
            out.append(f"  {title:9} {link.doc_number or '-'} {where} {link.issue_date or ''} {link.sender or ''}")
    if len(view.thread) > 1:
        out.append("  thread:")
        for link in view.thread:
            mark = "→" if link.id == view.id else " "
            out.append(f"   {mark} #{link.id} {link.issue_date or '?':10} {link.doc_number or '-'}  {link.sender or ''}: {(link.subject or '')[:40]}")
    return out


def _report_line(r: FileReport) -> str:
    """One file's line in the ingest summary."""
    if r.error:
        return f"{r.path}: {r.status}: {r.error}"
    if r.status == "duplicate":
        docs = ", ".join(f"#{i}" for i in r.documents) or "no documents"
        restored = "; its lost original restored" if r.restored else ""
        return f"{r.path}: duplicate of {docs} (file #{r.file_id}, already in the archive){restored}"
    notes = []
    if r.linked:
        notes.append(f"{r.linked} linked")
    if r.versions:
        notes.append(f"{r.versions} new version{'s' if r.versions != 1 else ''}")
    ids = ", ".join(f"#{i}" for i in r.documents)
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"{r.path}: {r.status}: {r.letters} letters, {r.forms} forms, {r.other} other{extra} {ids}".rstrip()


def _section_lines(holder: Any, sections: tuple[str, ...], depth: int) -> list[str]:
    """The item trees `sections` of a document or a notice's block, each under its name."""
    from extractors.numbering import format_items

    out: list[str] = []
    for section in sections:
        items = getattr(holder, section)
        if items:
            out.append(f"{'  ' * depth}{section}:")
            # as the letter numbers it (一、 … （一） …), the form review edits: a nested 一 is not printed as 一、
            out.extend(f"{'  ' * (depth + 1)}{line}" for line in format_items(items).splitlines())
    return out


def _ingest_inbox(inboxes: list[Path], processed: Path | None, quarantine: Path | None, as_json: bool, ocr: bool,
                  workers: int, dask: str | None) -> None:
    """`gongwen ingest --inbox`: one run of the flow `ingest-inbox`."""
    missing = [str(p) for p in inboxes if not p.is_dir()]
    if missing:
        typer.echo(f"not a folder: {', '.join(missing)} (--inbox takes the folder the scanner writes to)", err=True)
        raise typer.Exit(2)
    from pipeline.db import open_archive

    open_archive().check_writable()
    from pipeline.flows import inbox_flow_on, stop_on_sigterm
    from pipeline.routing.queue import RouteSummary

    if (dask or os.environ.get("GONGWEN_DASK_ADDRESS")) and not os.environ.get("PREFECT_API_URL"):
        typer.echo("warning: --dask without PREFECT_API_URL: each Dask worker starts a Prefect server of its own; "
                   "set PREFECT_API_URL (on the workers too) to a Prefect server they can reach", err=True)
    stop_on_sigterm()
    with _progress_bar(not as_json):
        run = inbox_flow_on(workers, dask)([str(p) for p in inboxes], str(processed) if processed else None,
                                           str(quarantine) if quarantine else None, ocr=ocr)
    if as_json:
        _print_json(run.to_json())
    else:
        if not run.files:
            typer.echo(f"nothing to do: no new PDF files in {', '.join(map(str, inboxes))}")
        for f in run.files:
            where = f" → {f.moved_to}" if f.moved_to else " (left in the inbox: tried again next run)"
            typer.echo(_report_line(f.report) + where)
        typer.echo(run.summary.line())
        typer.echo(f"{run.pages} pages in {run.seconds:.1f} s ({run.pages_per_second():.2f} pages/s); "
                   f"{len(run.quarantined())} quarantined")
        typer.echo(RouteSummary.short_line(run.routing))
    if any(f.moved_to is None or f.quarantined for f in run.files):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `ingest`, `search` and `show` to the `gongwen` command."""

    @app.command()
    def ingest(
        paths: Annotated[list[Path] | None, typer.Argument(help="PDF and DI files, or folders of them (never moved)")] = None,
        inbox: Annotated[
            list[Path] | None,
            typer.Option("--inbox", help="an inbox folder: new files are stored, then moved to processed/DAY/ "
                                         "or quarantine/ (repeat for several inboxes)"),
        ] = None,
        processed: Annotated[Path | None, typer.Option(help="with --inbox: where done files go (default INBOX/processed)")] = None,
        quarantine: Annotated[Path | None, typer.Option(help="with --inbox: where bad files go (default INBOX/quarantine)")] = None,
        workers: Annotated[int, typer.Option(help="with --inbox: files processed at once (threads)", min=1, max=64)] = 4,
        dask: Annotated[str | None, typer.Option(help="with --inbox: run the tasks on this Dask scheduler "
                                                      "(tcp://host:8786; default $GONGWEN_DASK_ADDRESS)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="one report per file and the summary")] = False,
        no_ocr: Annotated[
            bool, typer.Option("--no-ocr", help="read text layers only: scanned files fail (and are tried again later)")
        ] = False,
    ) -> None:
        """Extract, store and route PDFs and DI files ($GONGWEN_DATABASE_URL, default data/gongwen.sqlite); --inbox: the mail room's run."""
        from pipeline.db import open_archive
        from pipeline.extract import expand_paths
        from pipeline.reports import IngestSummary
        from pipeline.routing.queue import RouteSummary

        paths = paths or []
        if inbox:
            if paths:
                typer.echo("give PATHs or --inbox, not both (PATHs are never moved; inbox files are)", err=True)
                raise typer.Exit(2)
            _ingest_inbox(inbox, processed, quarantine, as_json, not no_ocr, workers, dask)
            return
        if not paths:
            typer.echo("give PDF files or folders, or --inbox DIR", err=True)
            raise typer.Exit(2)
        if not expand_paths(paths):  # folders without PDF or DI files: an empty inbox is no error
            typer.echo(f"nothing to do: no PDF or DI files in {', '.join(str(p) for p in paths)}", err=True)
            if as_json:
                _print_json({"files": [], "summary": IngestSummary().to_json(), "routing": None})
            return
        open_archive().check_writable()  # a read-only or unreachable archive: one line, before any file
        reports, routing = _run_ingest(paths, ocr=not no_ocr, progress=not as_json and len(expand_paths(paths)) > 1)
        summary = IngestSummary.of(reports)
        if as_json:
            routed = None if routing is None else {k: v for k, v in routing.to_json().items() if k != "decisions"}
            _print_json({"files": [r.to_json() for r in reports], "summary": summary.to_json(), "routing": routed})
        else:
            for r in reports:
                typer.echo(_report_line(r))
            typer.echo(summary.line())
            typer.echo(RouteSummary.short_line(routing))
        if summary.failed or summary.quarantined:
            raise typer.Exit(1)

    @app.command("serve-flows")
    def serve_flows(
        inbox: Annotated[list[Path], typer.Option("--inbox", help="inbox folder(s) the scanner writes to")],
        cron: Annotated[str, typer.Option("--cron", help='when to run, e.g. "0 7-19 * * 1-5" (hourly, office hours)')],
        processed: Annotated[Path | None, typer.Option(help="where done files go (default INBOX/processed)")] = None,
        quarantine: Annotated[Path | None, typer.Option(help="where bad files go (default INBOX/quarantine)")] = None,
        max_runs: Annotated[int | None, typer.Option("--max-runs", help="stop after this many runs (default: never)", min=1)] = None,
        workers: Annotated[int, typer.Option(help="files processed at once (threads)", min=1, max=64)] = 4,
        dask: Annotated[str | None, typer.Option(help="run the tasks on this Dask scheduler (default $GONGWEN_DASK_ADDRESS)")] = None,
    ) -> None:
        """Run ingest-inbox on a schedule until stopped: embedded (no Prefect server), or as a deployment when PREFECT_API_URL is set."""
        missing = [str(p) for p in inbox if not p.is_dir()]
        if missing:
            typer.echo(f"not a folder: {', '.join(missing)} (--inbox takes the folder the scanner writes to)", err=True)
            raise typer.Exit(2)
        from pipeline.db import open_archive
        from pipeline.flows import serve_inbox, stop_on_sigterm, valid_cron
        from pipeline.routing.queue import RouteSummary

        if not valid_cron(cron):
            typer.echo(f'--cron: not a cron expression: {cron!r} (e.g. "0 7-19 * * 1-5": minute hour day month weekday)', err=True)
            raise typer.Exit(2)
        open_archive().check_writable()
        stop_on_sigterm()

        def report(run: Any) -> None:
            typer.echo(f"{datetime.datetime.now():%Y-%m-%d %H:%M} {run.summary.line()}; {RouteSummary.short_line(run.routing)}")

        typer.echo(f"serving ingest-inbox on {', '.join(map(str, inbox))} at {cron!r} (Ctrl-C or SIGTERM stops)")
        try:
            serve_inbox([str(p) for p in inbox], cron, processed=str(processed) if processed else None,
                        quarantine=str(quarantine) if quarantine else None, max_runs=max_runs, on_run=report,
                        workers=workers, dask_address=dask)
        except KeyboardInterrupt:
            typer.echo("stopped")

    @app.command("search")
    def search_cmd(
        query: Annotated[
            str, typer.Argument(help="words, all of which must occur (any substring; 台/臺 alike; a 字號 is one word)")
        ] = "",
        sender: Annotated[
            str | None, typer.Option(help="發文機關: a body by any of its names (衛福部 = 衛生福利部), or part of a name")
        ] = None,
        recipient: Annotated[str | None, typer.Option(help="受文者, 正本 or 副本: as --sender")] = None,
        include_agencies: Annotated[
            bool,
            typer.Option(
                "--include-agencies",
                help="--sender/--recipient take the agencies under the body too (衛生福利部: 國民健康署, "
                "中央健康保險署…); without it, the body alone",
            ),
        ] = False,
        date_from: Annotated[
            str | None, typer.Option("--from", help="issued on or after: 112/05/30, 2023-05-30, a year (112年, 2023) "
                                     "or a month (112/03, 2023-03) from its first day")
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help="issued on or before; a year or a month up to its last day")
        ] = None,
        speed: Annotated[str | None, typer.Option(help=f"速別: {', '.join(SPEEDS)}")] = None,
        number: Annotated[str | None, typer.Option(help="發文字號, whole or a part")] = None,
        kind: Annotated[str | None, typer.Option(help="letter, form or other (brochures, attachments)")] = None,
        limit: Annotated[int, typer.Option(help="how many results", min=1, max=1000)] = 20,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Full-text search over 主旨, 說明, 辦法, parties and the text of other documents, best matches first.

        Ranked over every match: a whole 字號's own letter first, then the letters of a body
        the query names, then words in the 主旨, in the parties, anywhere; newest first among equals.
        """
        from pipeline.db import open_archive
        from pipeline.search import search

        try:
            filters = search_filters(sender=sender, recipient=recipient, include_agencies=include_agencies,
                                     date_from=date_from, date_to=date_to, speed=speed, number=number, kind=kind)
        except FilterError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        if not query.strip() and not filters.any():
            typer.echo("give a query or at least one filter", err=True)
            raise typer.Exit(2)
        archive = open_archive(create=False)  # read-only: never creates an archive
        with archive.session() as session:
            found = search(session, query, filters, limit)
        hits = found.hits
        if as_json:
            _print_json(
                {"query": query, "count": len(hits), "total": found.total, "total_exact": found.exact,
                 "results": [h.to_json() for h in hits]}
            )
            return
        for hit in hits:
            for line in _hit_lines(hit):
                typer.echo(line)
        shown = f", the first {len(hits)} shown (--limit)" if found.total > len(hits) else ""
        about = "" if found.exact else "about "  # PostgreSQL's estimate of a large count (docs/archive.md)
        typer.echo(f"{about}{found.total} result{'s' if found.total != 1 else ''}{shown}")

    @app.command("show")
    def show_cmd(
        ref: Annotated[str, typer.Argument(help="document id or 發文字號")],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """One document: its fields, pages, files, the letters it cites and that cite it."""
        from pipeline.db import open_archive
        from pipeline.show import find_documents, show

        archive = open_archive(create=False)
        with archive.session() as session:
            views = [v for i in find_documents(session, ref) if (v := show(session, i, archive.files)) is not None]
        if not views:
            typer.echo(f"not in the archive: {ref}", err=True)
            raise typer.Exit(1)
        if as_json:
            _print_json(views[0].to_json() if len(views) == 1 else [v.to_json() for v in views])
            return
        for view in views:
            for line in _view_lines(view):
                typer.echo(line)

    @app.command("fsck")
    def fsck_cmd(
        fix: Annotated[bool, typer.Option("--fix", help="move orphan originals aside, mark rows whose original is lost")] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Check that every file row has its original in the store and every original its row.

        Exit 0 when they agree (or --fix repaired them), 1 when something is wrong. Rows whose
        original is lost are restored by ingesting their PDF again.
        """
        from pipeline.db import open_archive
        from pipeline.fsck import fsck

        report = fsck(open_archive(create=False), fix=fix)
        if as_json:
            _print_json(report.to_json())
        else:
            for line in report.lines():
                typer.echo(line)
        if not report.clean and not fix:
            raise typer.Exit(1)
