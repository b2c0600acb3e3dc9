"""`gongwen suggest …`: routing suggestions learnt from the clerks' decisions (docs/routing.md#suggestions).

`suggest train` learns and promotes a model, `suggest show LETTER` (or `suggest LETTER`) ranks the
associations a clerk would likely forward the letter to, `suggest accept LETTER ASSOCIATION` makes
the task (`queue add`, the suggestion noted in its history), `suggest serve` retrains weekly.
Suggestions never make tasks by themselves.

Exit codes (docs/cli.md#exit-codes): 1 too little history to train, a letter not in the archive, a
task that exists; 2 no model trained yet, a reference naming several letters, a bad date.
Registered on every start of `gongwen`: spaCy, the archive and Prefect are imported inside the commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from pipeline.cli_routing import AsOption, JsonOption, _print_json, _print_task
from pipeline.errors import CommandError

if TYPE_CHECKING:
    from pipeline.db import Archive
    from pipeline.routing.suggest import Suggestion, SuggestModel

LetterArgument = Annotated[str, typer.Argument(help="a stored letter: document id or 字號")]


class _ShowByDefault(TyperGroup):
    """`gongwen suggest LETTER` is `gongwen suggest show LETTER`: a first word that is no subcommand is a letter."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().resolve_command(ctx, args)


def _model(archive: Archive) -> SuggestModel:
    from pipeline.routing.suggest import load_model, models_dir

    model = load_model(models_dir(archive))
    if model is None:
        raise CommandError(f"no suggestion model in {models_dir(archive)} yet: run gongwen suggest train "
                    "(it learns from the tasks clerks have done and rejected)", 2)
    return model


def _letters(archive: Archive, ref: str) -> list[int]:
    """The routed document(s) `ref` names: a letter's first version, which carries its tasks."""
    from pipeline.show import find_documents, letter_root

    with archive.session() as session:
        ids = [letter_root(session, i) or i for i in find_documents(session, ref)]
    if not ids:
        raise CommandError(f"not in the archive: {ref} (give a document id or a 字號)", 1)
    return list(dict.fromkeys(ids))


def _model_line(meta: dict[str, Any]) -> str:
    train, held = meta["window"]["train"], meta["held_out"]
    return (f"model of {meta['trained_at'][:10]}: learnt from {train['letters']} letters ({train['from']} to {train['to']}); "
            f"on {held['letters']} newer ones precision at 1 {held['p_at_1'] or 0:.0%}, recall at 3 {held['r_at_3'] or 0:.0%}")


def beside_rules(archive: Archive, document_ids: list[int], exclude: dict[int, set[str]] | None = None,
                 top: int = 3) -> dict[int, list[Suggestion]]:
    """Suggestions for the route report and the triage list: {} at once when no model was trained.

    Associations in `exclude` (a decision's targets) and those with a task already are left out:
    what is shown is what the rules did not do.
    """
    from pipeline.routing.suggest import load_model, models_dir

    if not document_ids or not (models_dir(archive) / "current").is_dir():
        return {}
    model = load_model(models_dir(archive))
    if model is None:
        return {}
    from pipeline.routing.suggest import suggest

    found = suggest(archive, model, document_ids, top=top + 3)
    return {doc: [s for s in found[doc] if s.note is None and s.association not in (exclude or {}).get(doc, set())][:top]
            for doc in found}


def suggestion_line(document_id: int, suggestions: list[Suggestion]) -> str | None:
    if not suggestions:
        return None
    shown = ", ".join(f"{s.association} {s.score:.2f}" for s in suggestions)
    return f"    suggested: {shown}  (gongwen suggest accept {document_id} ASSOCIATION)"


def register(app: typer.Typer) -> None:
    """Add `suggest` to the `gongwen` command."""
    suggest_app = typer.Typer(cls=_ShowByDefault, no_args_is_help=True,
                              help="Routing suggestions learnt from the clerks' own decisions (never tasks by themselves).")
    app.add_typer(suggest_app, name="suggest")

    @suggest_app.command("train")
    def train_cmd(
        since: Annotated[str | None, typer.Option("--since", help="learn from letters dated from this day (ROC or ISO)")] = None,
        iterations: Annotated[int, typer.Option("--iterations", help="passes over the letters", min=1, max=100)] = 10,
        as_json: JsonOption = False,
    ) -> None:
        """Learn from the decided letters (older ones), judge on the newest; promote unless worse than the current model."""
        from pipeline.db import open_archive
        from pipeline.routing.suggest import train_and_promote
        from pipeline.search_input import FilterError, parse_day

        try:
            day = parse_day(since, "--since")
        except FilterError as exc:
            raise CommandError(str(exc), 2) from None
        archive = open_archive(create=False)
        report = train_and_promote(archive, since=day, iterations=iterations)
        if as_json:
            _print_json(report.to_json())
            return
        meta = report.meta
        typer.echo(_model_line(meta))
        typer.echo(f"{len(meta['labels'])} associations learnt; {meta['positives']} forwards and "
                   f"{meta['rejections']} rejections in the letters learnt from")
        state = "promoted" if report.promoted else "NOT promoted"
        typer.echo(f"{state}: {report.why}" + (f" ({report.folder})" if report.promoted else ""))

    @suggest_app.command("show")
    def show_cmd(
        letter: LetterArgument,
        top: Annotated[int, typer.Option("--top", help="how many associations", min=1, max=50)] = 3,
        evidence: Annotated[int, typer.Option("--evidence", help="past letters shown per suggestion", min=0, max=20)] = 2,
        as_json: JsonOption = False,
    ) -> None:
        """Rank the associations a clerk would likely forward LETTER to, with scores and similar past letters."""
        from pipeline.db import open_archive
        from pipeline.routing.config import ConfigError, load_config
        from pipeline.routing.engine import Router
        from pipeline.routing.suggest import THRESHOLD, suggest

        archive = open_archive(create=False)
        model = _model(archive)
        ids = _letters(archive, letter)
        try:
            router = Router(load_config())
        except ConfigError:
            router = None  # the notes on rule targets need the rules; the suggestions do not
        found = suggest(archive, model, ids, top=top, router=router, evidence=evidence)
        if as_json:
            held_out = {k: v for k, v in model.meta["held_out"].items() if k != "per_label"}  # per label: meta.json
            _print_json({"letter": letter, "model": {"trained_at": model.meta["trained_at"], "window": model.meta["window"],
                                                     "held_out": held_out}, "threshold": THRESHOLD,
                         "documents": [{"document_id": i, "suggestions": [s.to_json() for s in found[i]]} for i in ids]})
            return
        for doc_id in ids:
            typer.echo(f"doc #{doc_id}:")
            if not found[doc_id]:
                typer.echo(f"  no association scores {THRESHOLD} or more: nothing to suggest")
            for n, s in enumerate(found[doc_id], 1):
                note = f"  ({s.note})" if s.note else ""
                typer.echo(f"  {n}. {s.association} {s.name}  {s.score:.2f}{note}")
                for e in s.evidence:
                    typer.echo(f"       like #{e['document_id']} {e['doc_number'] or '-'} {e['issue_date'] or ''} "
                               f"{e['sender'] or ''}: {(e['subject'] or '')[:40]} ({e['similarity']:.2f})")
            if any(s.note is None or s.note.startswith("rule target") for s in found[doc_id]):
                typer.echo(f"  accept one: gongwen suggest accept {doc_id} ASSOCIATION")
        typer.echo(_model_line(model.meta))

    @suggest_app.command("accept")
    def accept_cmd(
        letter: LetterArgument,
        association: Annotated[str, typer.Argument(help="association id from the registry")],
        as_: AsOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Make the forwarding task a suggestion proposes (gongwen queue add, with the suggestion in its history)."""
        from pipeline.db import open_archive
        from pipeline.routing.queue import actor_name, add_task
        from pipeline.routing.suggest import load_model, models_dir

        archive = open_archive(create=False)
        ids = _letters(archive, letter)
        if len(ids) > 1:
            raise CommandError(f"{letter} names {len(ids)} letters ({', '.join(f'#{i}' for i in ids)}): give the document id", 2)
        model = load_model(models_dir(archive))
        note = "suggestion accepted"
        if model is not None:
            from pipeline.routing.queue import load_inputs

            with archive.engine.connect() as conn:
                score = model.scores(load_inputs(conn, ids))[0].get(association.strip())
            note += f" (score {score:.2f}, model of {model.meta['trained_at'][:10]})" if score is not None else ""
        task_id = add_task(archive, ids[0], association.strip(), actor_name(as_), note)
        _print_task(archive, task_id, as_json)

    @suggest_app.command("serve")
    def serve_cmd(
        cron: Annotated[str, typer.Option("--cron", help='when to retrain (default weekly: "0 3 * * 0", Sunday 03:00)')] = "0 3 * * 0",
        max_runs: Annotated[int | None, typer.Option("--max-runs", help="stop after this many runs (default: never)", min=1)] = None,
    ) -> None:
        """Retrain on a schedule (the Prefect flow suggest-train), beside serve-flows: it never holds up the ingest."""
        import datetime

        from pipeline.db import open_archive
        from pipeline.flows import stop_on_sigterm, valid_cron

        if not valid_cron(cron):
            raise CommandError(f'--cron: not a cron expression: {cron!r} (e.g. "0 3 * * 0": minute hour day month weekday)', 2)
        open_archive(create=False)
        from pipeline.suggest_flow import serve_training

        stop_on_sigterm()

        def report(run: dict[str, Any]) -> None:
            what = run.get("skipped") or f"{'promoted' if run.get('promoted') else 'not promoted'}: {run.get('why')}"
            typer.echo(f"{datetime.datetime.now():%Y-%m-%d %H:%M} suggest-train {what}")

        typer.echo(f"serving suggest-train at {cron!r} (Ctrl-C or SIGTERM stops)")
        try:
            serve_training(cron, max_runs=max_runs, on_run=report)
        except KeyboardInterrupt:
            typer.echo("stopped")
