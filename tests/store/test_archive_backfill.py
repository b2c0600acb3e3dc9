"""`gongwen review boxes` on SQLite and PostgreSQL: letters stored before boxes were recorded get the boxes
ingest would have written, read again from their kept originals, and nothing else changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from pipeline.backfill import backfill_boxes
from pipeline.cli import app
from pipeline.corrections import correct
from pipeline.db import Archive
from pipeline.store import store_result
from schemas.letter import FileResult

runner = CliRunner()
# what a backfill must leave as it is (field_corrections: the audit log; document_text: the search index)
UNTOUCHED = ("SELECT * FROM documents ORDER BY id", "SELECT * FROM items ORDER BY id",
             "SELECT * FROM field_corrections ORDER BY id", "SELECT * FROM document_text ORDER BY document_id",
             "SELECT * FROM field_confidences ORDER BY document_id, field", "SELECT * FROM files ORDER BY id")


def _rows(archive: Archive, query: str) -> list[tuple[object, ...]]:
    with archive.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(query))]


def _boxes(archive: Archive) -> list[tuple[object, ...]]:
    return _rows(archive, "SELECT document_id, field, position, page, x0, y0, x1, y1 FROM field_boxes "
                          "ORDER BY document_id, field, position")


def test_letters_stored_without_boxes_get_the_boxes_ingest_wrote(
    archive: Archive, env: None, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    reports = [store_result(archive, extract(samples_dir / f"{name}.pdf"), samples_dir / f"{name}.pdf")
               for name in ("seed_000", "own_10")]
    own_10 = reports[1].documents[0]
    correct(archive, own_10, "sender", "審核員更正的公會", "reviewer")
    written = _boxes(archive)
    letters = sorted({row[0] for row in written})
    assert len(letters) >= 3 and own_10 in letters
    before = [_rows(archive, q) for q in UNTOUCHED]
    with archive.engine.begin() as conn:  # as an archive stored before migration 0010 holds them
        conn.execute(text("DELETE FROM field_boxes"))

    run = runner.invoke(app, ["review", "boxes", "--json"])
    assert run.exit_code == 0, run.output
    done = json.loads(run.output)
    assert (done["letters"], done["files"], sorted(done["boxed"]), done["boxes"]) == (len(letters), 2, letters, len(written))
    assert (done["unmatched"], done["missing"], done["failed"]) == ([], [], [])
    assert _boxes(archive) == written
    assert [_rows(archive, q) for q in UNTOUCHED] == before  # only the boxes were written

    again = runner.invoke(app, ["review", "boxes"])
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1].startswith("0 letters without boxes; 0 originals read again; 0 letters given boxes")
    assert _boxes(archive) == written


def test_a_missing_original_is_reported_and_the_others_are_done(
    archive: Archive, env: None, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    stored = {name: store_result(archive, extract(samples_dir / f"{name}.pdf"), samples_dir / f"{name}.pdf")
              for name in ("own_10", "own_13")}
    written = _boxes(archive)
    with archive.engine.begin() as conn:
        conn.execute(text("DELETE FROM field_boxes"))
        store_path = conn.execute(text("SELECT store_path FROM files WHERE id = :i"),
                                  {"i": stored["own_10"].file_id}).scalar_one()
    (archive.files / store_path).unlink()
    report = backfill_boxes(archive, extract)
    assert [(m.file_id, m.letters) for m in report.missing] == [(stored["own_10"].file_id, stored["own_10"].documents)]
    assert "not in the file store" in report.missing[0].problem
    assert report.boxed == stored["own_13"].documents and not report.failed
    assert _boxes(archive) == [row for row in written if row[0] in stored["own_13"].documents]
    run = runner.invoke(app, ["review", "boxes"])
    assert run.exit_code == 0, run.output  # not fatal: said in one line
    assert [line for line in run.output.splitlines() if line.startswith("missing")] == [
        f"missing  file #{stored['own_10'].file_id} {samples_dir / 'own_10.pdf'}: {report.missing[0].problem}"]
