"""A dry run of the rules on one letter: `gongwen rules test --letter` and the web's rules page and API, once.

The letter is a stored document (its id or 字號, read as routing reads it) or a file not yet
ingested (a PDF or a DI file, extracted as `gongwen extract` reads it and routed as if it
arrived today). Nothing is written to the archive either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.errors import CommandError
from pipeline.routing.engine import Router, routing_input
from schemas.routing import Decision, RoutingConfig

if TYPE_CHECKING:
    from pipeline.db import Archive


class LetterUnreadable(CommandError):
    """A file given for a dry run that gives no document: corrupt, encrypted, not a PDF, no text (one line)."""

    exit_code = 1


def decide_file(router: Router, path: Path, name: str | None = None) -> list[Decision]:
    """What routing would decide for each document of a file not in the archive (nothing stored).

    LetterUnreadable, naming the file by `name` (default: its path), when it cannot be read."""
    from pipeline.extract import extract_file
    from pipeline.routing.queue import today

    result = extract_file(path)
    label = name or str(path)
    if result.error:
        raise LetterUnreadable(f"{label}: {' '.join(result.error.split())}")  # one line, whatever the reader said
    if not result.documents:
        raise LetterUnreadable(f"{label}: no document found in it")
    day = today()  # the office's day (Taiwan), as routing dates its tasks; UTC was a day behind until 08:00
    return [router.route(routing_input(doc, None, day)) for doc in result.documents]


def decide_stored(archive: Archive, router: Router, ref: str) -> list[Decision]:
    """What routing would decide now for the stored documents a document id or 字號 names ([] when none)."""
    from pipeline.routing.queue import load_inputs
    from pipeline.show import find_documents

    with archive.session() as session:
        ids = find_documents(session, ref)
    if not ids:
        return []
    with archive.engine.connect() as conn:
        return [router.route(doc) for doc in load_inputs(conn, ids)]


def dry_run_json(letter: str, config: RoutingConfig, decisions: list[Decision]) -> dict[str, Any]:
    """`gongwen rules test --letter X --json` (and POST /api/rules/test): the files used and each decision."""
    return {"letter": letter, "rules": config.rules_file, "associations": config.associations_file,
            "documents": [d.to_json() for d in decisions]}
