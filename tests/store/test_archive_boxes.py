"""Field boxes are stored with a letter and read back by `show` (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.db import Archive
from pipeline.show import show
from pipeline.store import store_result
from schemas.letter import FileResult


def test_boxes_round_trip_through_the_archive(
    archive: Archive, extract: Callable[[Path], FileResult], samples_dir: Path
) -> None:
    pdf = samples_dir / "seed_000.pdf"
    result = extract(pdf)
    report = store_result(archive, result, pdf)
    assert report.status == "stored"
    letter = result.documents[0]
    assert letter.boxes and "subject" in letter.boxes
    with archive.session() as session:
        view = show(session, report.documents[0])
    assert view is not None
    stored = view.document.boxes
    assert stored is not None
    assert {k: [(b.page, b.box) for b in v] for k, v in stored.items()} == {
        k: [(b.page, b.box) for b in v] for k, v in letter.boxes.items()
    }
    assert view.to_json()["boxes"]["explanation"][1]["page"] == 2
