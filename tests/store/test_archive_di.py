"""DI files into the archive: a letter that arrives as a DI file and as a PDF is stored once and linked;
an unsafe DI file stores no document (pipeline/store.py, pipeline/di.py)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from extractors.di import write_di
from pipeline.db import Archive
from pipeline.fsck import fsck
from pipeline.show import find_documents, show
from pipeline.store import ingest_file
from schemas.letter import Document, FileResult
from schemas.orm import Appearance, DocumentRow, StoredFile

Extract = Callable[..., FileResult]
ROOT = Path(__file__).resolve().parents[2]
PDF = ROOT / "samples" / "born_digital" / "own_05.pdf"
NUMBER = "台內警字第1120872345號"


@pytest.fixture()
def di_letter(tmp_path: Path) -> Path:
    """samples/di/own_05.di: own_05's letter as a DI file (python -m samples.di writes it from the golden JSON of
    the letter the PDF prints; samples/scanned/own_05.pdf is its scanned twin)."""
    golden = json.loads(PDF.with_suffix(".json").read_text(encoding="utf-8"))
    path = tmp_path / "own_05.di"
    shutil.copyfile(ROOT / "samples" / "di" / "own_05.di", path)
    assert path.read_bytes() == write_di(Document.model_validate(golden["documents"][0]))
    return path


def counts(archive: Archive) -> tuple[int, int]:
    """(documents, appearances) in the archive."""
    with archive.session() as s:
        return s.scalar(select(func.count()).select_from(DocumentRow)) or 0, s.scalar(
            select(func.count()).select_from(Appearance)) or 0


@pytest.mark.parametrize("di_first", [True, False], ids=["di-first", "pdf-first"])
def test_a_letter_as_di_and_as_pdf_is_stored_once_and_linked(
    archive: Archive, extract: Extract, di_letter: Path, di_first: bool
) -> None:
    order = [di_letter, PDF] if di_first else [PDF, di_letter]
    first, second = (ingest_file(archive, p, extract=extract) for p in order)
    assert (first.status, first.letters, first.linked) == ("stored", 1, 0)
    assert (second.status, second.letters, second.linked, second.versions) == ("stored", 1, 1, 0)
    assert first.documents == second.documents
    assert counts(archive) == (1, 2)
    with archive.session() as s:
        assert find_documents(s, NUMBER) == first.documents
        view = show(s, first.documents[0])
        sources = {path: source for path, source in s.execute(select(StoredFile.path, StoredFile.text_source))}
    assert view is not None and sorted(Path(c.path).name for c in view.copies) == ["own_05.di", "own_05.pdf"]
    assert sorted(Path(c.store_path or "").suffix for c in view.copies) == [".di", ".pdf"]  # originals kept as they came
    assert sources[str(di_letter)] == "di" and sources[str(PDF)] == "pdfplumber"
    assert view.document.security == "機密（本案至113年12月31日解密）"


def test_an_unsafe_di_file_stores_no_document(archive: Archive, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.di"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE 函 [<!ENTITY x SYSTEM "file:///etc/passwd">]><函><主旨><文字>&x;</文字></主旨></函>',
        encoding="utf-8",
    )
    report = ingest_file(archive, bomb)
    assert report.status == "quarantined"  # not tried again, like any file that is no readable letter
    assert report.error is not None and report.error.startswith("unsafe DI file: it declares the external entity 'x'")
    assert "\n" not in report.error
    assert (report.letters, report.documents) == (0, [])
    assert counts(archive) == (0, 0)


def test_a_di_files_attachments_are_documents_of_its_file(archive: Archive, tmp_path: Path, samples_dir: Path) -> None:
    doc = Document.model_validate(json.loads((samples_dir / "own_05.json").read_text(encoding="utf-8"))["documents"][0])
    doc.attachments = "工作計畫1份 (plan_ATTCH1.pdf)"
    (tmp_path / "own_05.di").write_bytes(write_di(doc))
    shutil.copy(samples_dir / "own_29.pdf", tmp_path / "plan_ATTCH1.pdf")
    report = ingest_file(archive, tmp_path / "own_05.di")
    assert (report.status, report.letters, report.other) == ("stored", 1, 1)
    with archive.session() as s:
        brochure = show(s, report.documents[1])
        rows = {d.id: (d.file_id, d.position) for d in s.scalars(select(DocumentRow))}
    assert rows == {report.documents[0]: (report.file_id, 0), report.documents[1]: (report.file_id, 1)}  # one letter
    # the attachment appeared in its own PDF, whose original is kept as it came (not only the DI file)
    assert brochure is not None and [Path(c.path).name for c in brochure.copies] == ["plan_ATTCH1.pdf"]
    kept = archive.files / (brochure.copies[0].store_path or "")
    assert kept.suffix == ".pdf" and kept.read_bytes() == (samples_dir / "own_29.pdf").read_bytes()
    again = ingest_file(archive, tmp_path / "plan_ATTCH1.pdf")  # the attachment alone later: the same file
    assert (again.status, again.documents) == ("duplicate", [report.documents[1]])
    checked = fsck(archive)  # both originals have their rows
    assert checked.clean and (checked.rows, checked.originals) == (2, 2)


def test_a_scan_of_a_di_letter_is_a_version_of_it_and_the_di_letter_is_shown(
    archive: Archive, extract: Extract, di_letter: Path
) -> None:
    """OCR reads the scan of own_05 with one 、 lost: the same sender and 字號 with other text is a
    version of the DI letter (linked to it), and the DI letter, read from no page, is the one shown."""
    scanned = ROOT / "samples" / "scanned" / "own_05.pdf"
    di, scan = (ingest_file(archive, p, extract=extract) for p in (di_letter, scanned))
    assert (scan.status, scan.letters) == ("stored", 1)
    assert scan.linked + scan.versions == 1  # linked as a copy (OCR read it all) or as a version
    with archive.session() as s:
        assert find_documents(s, NUMBER) == di.documents
        view = show(s, scan.documents[0])
    assert view is not None
    shown = [(v.id, v.born_digital) for v in view.versions if v.shown]
    assert view.versions == [] or shown == [(di.documents[0], True)]
