"""samples/di: DI twins of sample letters, read as their PDFs' golden JSON says (`gongwen eval samples/di`)."""

from __future__ import annotations

from pathlib import Path

from pipeline.evaluate import evaluate
from pipeline.extract import extract_file, extract_files
from samples.di import main as write_twins

TWINS = Path(__file__).resolve().parents[2] / "samples" / "di"


def test_the_twins_are_read_as_their_pdfs_golden_says() -> None:
    """samples/di: the golden JSON of the PDF, every field a DI file carries right."""
    report = evaluate(TWINS, extract_file, lambda paths: extract_files(paths))
    assert report.errors == [] and report.files == 5
    assert report.failures == [], report.failures[:3]
    assert report.non_empty[1] > 90  # the fields with a value were compared, not skipped
    assert "pages" not in report.per_field  # what a DI file cannot carry is left out


def test_the_committed_twins_are_what_the_goldens_write() -> None:
    assert write_twins(["--check"]) == 0
