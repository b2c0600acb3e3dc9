"""What ingest stores, `show` gives back, on SQLite and PostgreSQL: every field of every sample's documents,
a notice's several 主旨 blocks (`notices`, migration 0011) included, after a correction too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.corrections import correct, export_goldens
from pipeline.db import MIGRATIONS, Archive, make_engine, upgrade
from pipeline.search import search
from pipeline.show import load_document, show
from pipeline.store import store_result, store_results
from schemas.letter import FileResult
from tests.conftest import SAMPLES
from tests.store.test_archive_migrate import fresh_url  # noqa: F401  (a fixture: an archive not made yet)

Extract = Callable[[Path], FileResult]
# every born-digital sample and every DI file: what extract reads of them must come back from the archive
ROUND_TRIP = sorted(SAMPLES.glob("*.pdf")) + sorted((SAMPLES.parent / "di").glob("*.di"))
SECOND_NOTICE_ONLY = "感染管制查核"  # assoc_01: a word of its second 主旨 block, printed nowhere else
FIRST_SUBJECT_ONLY = "醫療機構設置標準"  # assoc_01: a word of its first 主旨 (the letter's subject) alone


@pytest.mark.parametrize("path", ROUND_TRIP, ids=[f"{p.parent.name}/{p.name}" for p in ROUND_TRIP])
def test_show_gives_back_what_was_extracted(archive: Archive, extract: Extract, path: Path) -> None:
    """Each file alone in an archive (a DI twin would otherwise be a copy of its PDF's letter): its documents
    as `show` reads them back equal what the extractor read, field by field (derived fields, confidence and
    boxes included)."""
    result = extract(path)
    report = store_result(archive, result, path)
    assert report.status == "stored" and len(report.documents) == len(result.documents)
    with archive.session() as session:
        for read, doc_id in zip(result.documents, report.documents, strict=True):
            view = show(session, doc_id)
            assert view is not None
            want, got = read.model_dump(mode="json"), view.document.model_dump(mode="json")
            assert {k for k in want if want[k] != got[k]} == set(), f"#{doc_id} of {path.name}"


def test_every_notice_block_is_stored_and_shown(
    archive: Archive, env: None, extract: Extract, samples_dir: Path
) -> None:
    """`gongwen show --json` of a notice printing three 主旨 gives all three, whether stored alone or in bulk."""
    pdf = samples_dir / "assoc_01.pdf"
    result = extract(pdf)
    assert result.documents[0].notices is not None and len(result.documents[0].notices) == 3
    read = [n.model_dump(mode="json") for n in result.documents[0].notices]
    letter = store_result(archive, result, pdf).documents[0]
    shown = CliRunner().invoke(app, ["show", str(letter), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["notices"] == read
    text = CliRunner().invoke(app, ["show", str(letter)])
    assert text.exit_code == 0 and "notice 二: 轉知高雄市政府衛生局辦理" in text.stdout
    with archive.engine.begin() as conn:  # the same letter stored again by the bulk path, from scratch
        conn.exec_driver_sql("UPDATE documents SET letter_key = NULL")
    bulk = result.model_copy(deep=True)
    bulk.sha256 = "0" * 64
    [report] = store_results(archive, [(bulk, None)])
    with archive.session() as session:
        again = load_document(session, report.documents[0])
    assert again is not None and again.notices is not None
    assert [n.model_dump(mode="json") for n in again.notices] == read


def test_a_correction_keeps_the_later_notices_searchable(
    archive: Archive, extract: Extract, samples_dir: Path, tmp_path: Path
) -> None:
    """The search text written anew after a correction holds every 主旨 block; the first block follows a
    corrected 主旨 (it is the letter's 主旨), so the words corrected away are no longer found. The golden
    export of the corrected letter has every block."""
    pdf = samples_dir / "assoc_01.pdf"
    letter = store_result(archive, extract(pdf), pdf).documents[0]

    def found(word: str) -> bool:
        with archive.session() as session:
            return letter in [h.id for h in search(session, word).hits]

    assert found(SECOND_NOTICE_ONLY) and found(FIRST_SUBJECT_ONLY)
    correct(archive, letter, "recipient", "全體會員", "reviewer")
    assert found(SECOND_NOTICE_ONLY) and found("全體會員")
    correct(archive, letter, "subject", "轉知醫療法規修正，請查照。", "reviewer")
    assert found(SECOND_NOTICE_ONLY) and found("醫療法規修正") and not found(FIRST_SUBJECT_ONLY)
    with archive.session() as session:
        doc = load_document(session, letter)
    assert doc is not None and doc.notices is not None and len(doc.notices) == 3
    assert doc.notices[0].subject == doc.subject == "轉知醫療法規修正，請查照。"
    [golden] = export_goldens(archive, tmp_path / "goldens")
    exported = json.loads(golden.read_text(encoding="utf-8"))["documents"][0]["notices"]
    assert exported == [n.model_dump(mode="json") for n in doc.notices]


def test_a_letter_stored_before_notices_were_kept_has_none(
    fresh_url: str, tmp_path: Path, extract: Extract, samples_dir: Path  # noqa: F811
) -> None:
    """Migration 0011 both ways: taken back to 0010 the column is gone, upgraded again the letter stored
    before has no notices (null), and show, correction and search work on it."""
    engine = make_engine(fresh_url)
    upgrade(engine)
    archive = Archive(engine, tmp_path / "files")
    pdf = samples_dir / "assoc_01.pdf"
    letter = store_result(archive, extract(pdf), pdf).documents[0]
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
    upgrade(engine)
    with archive.session() as session:
        doc = load_document(session, letter)
    assert doc is not None and doc.notices is None and doc.subject is not None and FIRST_SUBJECT_ONLY in doc.subject
    correct(archive, letter, "recipient", "全體會員", "reviewer")
    with archive.session() as session:
        assert [h.id for h in search(session, FIRST_SUBJECT_ONLY).hits] == [letter]
    engine.dispose()


def test_every_text_field_of_the_letter_model_is_a_column_of_its_own_name() -> None:
    """The store and `show` derive their mapping from the two models (schemas/stored.py): a text field of
    `Document` without a column, or a contact field without its `contact_*` column, would be lost silently."""
    from schemas.letter import Contact, Document
    from schemas.orm import DocumentRow
    from schemas.stored import AS_IS, CONTACT_COLUMNS

    columns = DocumentRow.__table__.columns
    assert {"sender", "recipient", "doc_number", "subject", "signatory", "speed", "form_number", "due"} <= set(AS_IS)
    assert {"issue_date", "deadline", "meeting_time"} <= set(AS_IS)  # typed alike in both models
    assert all(column in columns for column in CONTACT_COLUMNS) and set(CONTACT_COLUMNS.values()) == set(Contact.model_fields)
    # the text fields kept elsewhere: a document's printed text (other documents) is in document_text
    kept_elsewhere = {"text"}
    text_fields = {name for name, field in Document.model_fields.items() if field.annotation == (str | None)}
    assert text_fields - set(AS_IS) == kept_elsewhere
