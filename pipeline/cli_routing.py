"""`gongwen route`, `gongwen queue …` and `gongwen rules test` (docs/routing.md), registered by pipeline/cli.py.

Exit codes (docs/cli.md#exit-codes): 0 success; 1 refused or not found (a task someone else holds, a done
task, no such task or letter); 2 usage error (a routing file that is not valid, an empty
reason). Every failure is one line on stderr.

Registered on every start of `gongwen`: the routing package, its YAML and regex libraries and
the archive are imported inside the commands that use them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.errors import CommandError
from schemas.statuses import TASK_STATUSES

if TYPE_CHECKING:
    from pipeline.routing.queue import TaskView
    from schemas.routing import Decision

# `route` prints one line per document up to this many; beyond, the summary only (or --json)
_DETAIL_LIMIT = 50
StatusChoice = [*TASK_STATUSES, "open", "all", "triage"]

RulesOption = Annotated[Path | None, typer.Option("--rules", help="rules YAML (default $GONGWEN_CONFIG_DIR/rules.yaml, config/)")]
AssociationsOption = Annotated[
    Path | None, typer.Option("--associations", help="associations YAML (default $GONGWEN_CONFIG_DIR/associations.yaml)")
]
AsOption = Annotated[str | None, typer.Option("--as", help="who is acting (default $GONGWEN_USER, else the login name)")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]
TaskArgument = Annotated[str, typer.Argument(help="task id")]
NoteOption = Annotated[str | None, typer.Option("--note", help="why (kept in the task's history)")]
DoneNoteOption = Annotated[
    str | None, typer.Option("--note", help="what was done (e.g. the 字號 of the forwarding letter)")
]
ReasonOption = Annotated[str, typer.Option("--reason", help="why this association should not get the letter")]
ClerkOption = Annotated[str, typer.Option("--to", help="the clerk who takes the task")]


def _print_json(payload: Any) -> None:
    json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _decision_lines(d: Decision) -> list[str]:
    head = f"#{d.document_id if d.document_id is not None else '-'} {d.kind} {d.doc_number or ''}".rstrip()
    due = f"due {d.due.isoformat()}" if d.due else "no due date"
    if d.outcome == "triage":
        lines = [f"{head}: TRIAGE (no rule matches; a clerk decides) {due}"]
    elif d.outcome == "ignored":
        lines = [f"{head}: ignored (not a letter or form, no rule matches)"]
    else:
        targets = ", ".join(t.association for t in d.targets) or "no task"
        lines = [f"{head}: {targets}  {due} ({d.due_basis})"]
    for m in d.matches:
        lines.append(f"    rule {m.rule} (line {m.line}) → {', '.join(m.targets) or 'no targets'}")
        lines.extend(f"      {r}" for r in m.reasons)
    for s in d.skipped:
        lines.append(f"    skipped {s.association or '-'} ({s.rule}): {s.why}")
    lines.extend(f"    warning: {w}" for w in d.warnings)
    return lines


def _task_lines(view: TaskView) -> list[str]:
    t = view.task
    flags = " OVERDUE" if view.overdue else ""
    flags += " (rule no longer matches)" if view.stale else ""
    who = f" {t['assignee']}" if t["assignee"] else ""
    return [
        f"#{t['id']:<6} {t['status']:8}{who}  due {t['due'] or '-'}{flags}  {view.speed or ''}  "
        f"{t['association']} {view.association_name}",
        f"        doc #{t['document_id']} {t['doc_number'] or '-'}  {view.sender or ''}: {(view.subject or '')[:50]}",
        f"        {t['reason'][:160]}",
        *([_draft_line(t["draft"])] if t.get("draft") else []),
    ]


def _draft_line(draft: dict[str, Any]) -> str:
    """`draft #3 (pdf) by 林小華 at …, covers #1 #2 #4`: the latest draft that covers a task."""
    covers = " ".join(f"#{i}" for i in draft["tasks"])
    where = f" → {draft['path']}" if draft["path"] else ""
    return f"        draft #{draft['id']} ({draft['format']}) by {draft['created_by']} at {draft['created_at']}, covers {covers}{where}"


def _print_task(archive: Any, task_id: int, as_json: bool) -> None:
    """A task as it stands now: the task JSON (docs/routing.md#tasks), or the lines `queue list` prints."""
    from pipeline.routing.queue import get_task

    with archive.session() as session:
        view = get_task(session, task_id)
    assert view is not None
    if as_json:
        _print_json(view.task)
        return
    for line in _task_lines(view):
        typer.echo(line)


def _parse_task_id(value: str, what: str = "task id") -> int:
    text = value.strip().lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise CommandError(f"not a {what}: {value!r} (the number gongwen queue list shows)", 2)
    return int(text)


def _preview(router: Any, as_json: bool) -> None:
    from pipeline.db import open_archive
    from pipeline.routing.queue import preview

    found = preview(open_archive(create=False), router)
    if as_json:
        _print_json(found.to_json())
        return
    for t in found.new_tasks[:_DETAIL_LIMIT]:
        typer.echo(f"+ doc #{t['document_id']} {t['doc_number'] or '-'} → {t['association']} (rule {t['rule']})")
    for t in found.stale_tasks[:_DETAIL_LIMIT]:
        typer.echo(f"- task #{t['task']} doc #{t['document_id']} → {t['association']} ({t['status']}): no rule asks for it")
    for doc in found.to_triage[:_DETAIL_LIMIT]:
        typer.echo(f"? doc #{doc}: no rule would route it (triage)")
    for w in found.warnings:
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"{found.documents} documents: route --all would make {len(found.new_tasks)} tasks, mark "
               f"{len(found.stale_tasks)} stale and send {len(found.to_triage)} to triage")


def register(app: typer.Typer) -> None:
    """Add `route`, `queue` and `rules` to the `gongwen` command."""
    queue_app = typer.Typer(no_args_is_help=True, help="The forwarding (轉知) tasks clerks clear.")
    rules_app = typer.Typer(no_args_is_help=True, help="The routing rules: try them without writing anything.")
    app.add_typer(queue_app, name="queue")
    app.add_typer(rules_app, name="rules")

    @app.command("route")
    def route_cmd(
        everything: Annotated[bool, typer.Option("--all", help="route every stored document again (changes only what is not right)")] = False,
        rules: RulesOption = None,
        associations: AssociationsOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Route stored documents not yet routed into forwarding tasks (or to triage)."""
        from pipeline.db import open_archive
        from pipeline.routing.config import load_config
        from pipeline.routing.engine import Router
        from pipeline.routing.queue import route_archive

        config = load_config(rules, associations)
        archive = open_archive(create=False)
        summary = route_archive(archive, Router(config), everything=everything, keep_decisions=True)
        if as_json:
            _print_json(summary.to_json())
            return
        if len(summary.decisions) <= _DETAIL_LIMIT:
            from pipeline.cli_suggest import beside_rules, suggestion_line

            targets = {d.document_id: {t.association for t in d.targets} for d in summary.decisions
                       if d.kind == "letter" and d.outcome != "ignored" and d.document_id is not None}
            suggested = beside_rules(archive, list(targets), targets)
            for d in summary.decisions:
                for line in _decision_lines(d):
                    typer.echo(line)
                if d.document_id in suggested and (hint := suggestion_line(d.document_id, suggested[d.document_id])):
                    typer.echo(hint)
        for w in summary.warnings:
            typer.echo(f"warning: {w}", err=True)
        typer.echo(summary.line())

    @queue_app.command("list")
    def list_cmd(
        status: Annotated[str, typer.Option(help=f"one of {', '.join(StatusChoice)}; 'open' is pending + claimed")] = "open",
        overdue: Annotated[bool, typer.Option("--overdue", help="only open tasks past their due date")] = False,
        assignee: Annotated[str | None, typer.Option(help="tasks held by this clerk")] = None,
        association: Annotated[str | None, typer.Option(help="tasks for this association id")] = None,
        limit: Annotated[int, typer.Option(help="how many to show", min=1, max=100000)] = 50,
        as_json: JsonOption = False,
    ) -> None:
        """Tasks, most urgent first; `--status triage` lists the documents no rule routed."""
        from pipeline.db import open_archive
        from pipeline.routing.queue import QueueFilters, list_tasks, triage_list

        if status not in StatusChoice:
            raise CommandError(f"--status must be one of {', '.join(StatusChoice)}", 2)
        archive = open_archive(create=False)
        with archive.session() as session:
            if status == "triage":
                docs, total = triage_list(session, limit)
                from pipeline.cli_suggest import beside_rules, suggestion_line

                suggested = beside_rules(archive, [d["document_id"] for d in docs if d["kind"] == "letter"])
                if as_json:
                    if suggested:  # only when a model was trained (docs/routing.md#suggestions)
                        for d in docs:
                            d["suggestions"] = [{"association": s.association, "score": round(s.score, 4)}
                                                for s in suggested.get(d["document_id"], [])]
                    _print_json({"status": "triage", "count": len(docs), "total": total, "documents": docs})
                    return
                for d in docs:
                    typer.echo(f"doc #{d['document_id']:<6} {d['kind']:6} {d['issue_date'] or '?':10} {d['doc_number'] or '-'}  "
                               f"{d['sender'] or ''}: {(d['subject'] or '')[:50]}")
                    if hint := suggestion_line(d["document_id"], suggested.get(d["document_id"], [])):
                        typer.echo(hint)
                typer.echo(f"{total} document{'s' if total != 1 else ''} in triage" + (f" ({len(docs)} shown)" if total > len(docs) else ""))
                return
            views, total = list_tasks(session, QueueFilters(status, overdue, assignee, association, None, limit))
        if as_json:
            _print_json({"status": status, "count": len(views), "total": total, "tasks": [v.task for v in views]})
            return
        for v in views:
            for line in _task_lines(v):
                typer.echo(line)
        typer.echo(f"{total} task{'s' if total != 1 else ''}" + (f" ({len(views)} shown)" if total > len(views) else ""))

    def _act(task: str, as_json: bool, action: Any) -> None:
        from pipeline.db import open_archive

        task_id = _parse_task_id(task)
        archive = open_archive(create=False)
        action(archive, task_id)
        _print_task(archive, task_id, as_json)

    @queue_app.command("show")
    def show_cmd(task: TaskArgument, as_json: JsonOption = False) -> None:
        """One task as it stands: its history, and the draft that covers it (gongwen draft)."""
        from pipeline.db import open_archive
        from pipeline.routing.queue import QueueError, get_task

        task_id = _parse_task_id(task)
        archive = open_archive(create=False)
        with archive.session() as session:
            if get_task(session, task_id) is None:
                raise QueueError(f"no task #{task_id} (gongwen queue list shows the open ones)")
        _print_task(archive, task_id, as_json)

    @queue_app.command("claim")
    def claim_cmd(task: TaskArgument, as_: AsOption = None, as_json: JsonOption = False) -> None:
        """Take a pending task; fails (exit 1) when someone else holds it, and says who."""
        from pipeline.routing.queue import actor_name, claim

        _act(task, as_json, lambda archive, i: claim(archive, i, actor_name(as_)))

    @queue_app.command("done")
    def done_cmd(task: TaskArgument, note: DoneNoteOption = None, as_: AsOption = None, as_json: JsonOption = False) -> None:
        """Mark a task done (the letter has been forwarded)."""
        from pipeline.routing.queue import actor_name, done

        _act(task, as_json, lambda archive, i: done(archive, i, actor_name(as_), note))

    @queue_app.command("reject")
    def reject_cmd(task: TaskArgument, reason: ReasonOption, as_: AsOption = None, as_json: JsonOption = False) -> None:
        """Reject a task (it is kept, with the reason, in the audit log)."""
        from pipeline.routing.queue import actor_name, reject

        _act(task, as_json, lambda archive, i: reject(archive, i, actor_name(as_), reason))

    @queue_app.command("reassign")
    def reassign_cmd(
        task: TaskArgument, to: ClerkOption, note: NoteOption = None, as_: AsOption = None, as_json: JsonOption = False
    ) -> None:
        """Give a task to another clerk."""
        from pipeline.routing.queue import actor_name, reassign

        _act(task, as_json, lambda archive, i: reassign(archive, i, actor_name(as_), to, note))

    @queue_app.command("add")
    def add_cmd(
        document: Annotated[str, typer.Argument(help="document id (gongwen queue list --status triage shows them)")],
        association: Annotated[str, typer.Argument(help="association id from the registry")],
        note: NoteOption = None,
        as_: AsOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Make a task by hand (a letter from triage, a target no rule knows); it takes the letter out of triage."""
        from pipeline.db import open_archive
        from pipeline.routing.queue import actor_name, add_task

        document_id = _parse_task_id(document, what="document id")
        archive = open_archive(create=False)
        task_id = add_task(archive, document_id, association.strip(), actor_name(as_), note)
        _print_task(archive, task_id, as_json)

    @queue_app.command("file")
    def file_cmd(
        document: Annotated[str, typer.Argument(help="document id in triage")],
        note: Annotated[str | None, typer.Option("--note", help="why nothing is forwarded")] = None,
        as_: AsOption = None,
    ) -> None:
        """Take a letter out of triage without forwarding it (存查)."""
        from pipeline.db import open_archive
        from pipeline.routing.queue import actor_name, file_document

        document_id = _parse_task_id(document, what="document id")
        file_document(open_archive(create=False), document_id, actor_name(as_), note)
        typer.echo(f"document #{document_id} filed: out of triage, nothing forwarded")

    @rules_app.command("test")
    def rules_test_cmd(
        letter: Annotated[
            str | None,
            typer.Option("--letter", help="a stored document id or 字號, or a PDF not yet ingested; "
                                          "without it: what `route --all` would change in the whole archive"),
        ] = None,
        rules: RulesOption = None,
        associations: AssociationsOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Dry run: which rules match a letter, why, which targets, when due; or a rules edit's effect. Nothing is written."""
        from pipeline.routing.config import load_config
        from pipeline.routing.dry_run import decide_file, decide_stored, dry_run_json
        from pipeline.routing.engine import Router

        config = load_config(rules, associations)
        router = Router(config)
        if letter is None:
            _preview(router, as_json)
            return
        path = Path(letter)
        if path.suffix.lower() == ".pdf" or path.is_file():
            if not path.is_file():
                raise CommandError(f"no such file: {letter}", 1)
            decisions = decide_file(router, path, letter)
        else:
            from pipeline.db import open_archive

            decisions = decide_stored(open_archive(create=False), router, letter)
            if not decisions:
                raise CommandError(f"not in the archive: {letter} (give a document id, a 字號 or a PDF file)", 1)
        if as_json:
            _print_json(dry_run_json(letter, config, decisions))
            return
        for d in decisions:
            for line in _decision_lines(d):
                typer.echo(line)
