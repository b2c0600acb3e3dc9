"""Storing extraction results: every field kept, idempotence, linking, atomicity, failures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select, text

import pipeline.extract as extract_module
import pipeline.store as store
import pipeline.writer as writer
from pipeline.db import (
    DEFAULT_DATABASE_URL,
    Archive,
    current_revision,
    database_url,
    files_dir,
    head_revision,
)
from pipeline.extract import extract_file
from pipeline.reader import sha256_of
from pipeline.reports import FileReport
from pipeline.rows import Rows
from pipeline.show import load_document, show
from pipeline.store import ingest_file
from schemas.letter import FileResult
from schemas.orm import (
    Appearance,
    Base,
    Citation,
    DocumentRow,
    Organisation,
    Party,
    ReceivedStamp,
    StoredFile,
)

Extract = Callable[[Path], FileResult]


def counts(archive: Archive) -> dict[str, int]:
    with archive.session() as s:
        return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables}


def ingest(archive: Archive, path: Path, extract: Extract) -> FileReport:
    return ingest_file(archive, path, extract=extract)


def test_database_url_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GONGWEN_DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_DATABASE_URL == "sqlite:///data/gongwen.sqlite"
    monkeypatch.delenv("GONGWEN_FILES_DIR", raising=False)
    assert files_dir() == Path("data/files")  # beside the default SQLite file
    assert files_dir(url="sqlite:////srv/gongwen/archive.sqlite") == Path("/srv/gongwen/files")
    monkeypatch.setenv("GONGWEN_DATABASE_URL", "postgresql://postgres@db:5432/archive")
    assert database_url() == "postgresql+psycopg://postgres@db:5432/archive"
    assert files_dir() == Path("data/files")
    monkeypatch.setenv("GONGWEN_FILES_DIR", "/srv/originals")
    assert files_dir() == Path("/srv/originals")


def test_migrations_reach_head_and_match_the_models(archive: Archive) -> None:
    assert current_revision(archive.engine) == head_revision()

    def ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
        # the search indexes are dialect-specific and live in migration 0002 only
        return not (name or "").startswith(("document_fts", "document_grams", "ix_documents_recent")) and not (
            name or ""
        ).endswith("_trgm")

    with archive.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": ours})
        assert compare_metadata(ctx, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
    assert {"files", "documents", "items", "parties", "dates", "citations", "received_stamps"} <= tables
    assert "document_grams" in tables


@pytest.mark.parametrize("name", ["seed_000", "seed_003", "seed_004"])
def test_every_extracted_field_comes_back(archive: Archive, extract: Extract, samples_dir: Path, name: str) -> None:
    pdf = samples_dir / f"{name}.pdf"
    report = ingest(archive, pdf, extract)
    assert report.status == "stored"
    expected = extract(pdf)
    with archive.session() as s:
        ids = s.scalars(select(DocumentRow.id).where(DocumentRow.file_id == report.file_id).order_by(DocumentRow.position))
        stored = [load_document(s, i) for i in ids]
    assert [d.model_dump(mode="json") if d else None for d in stored] == [
        d.model_dump(mode="json") for d in expected.documents
    ]


def test_same_file_twice_stores_nothing_new(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    first = ingest(archive, samples_dir / "seed_000.pdf", extract)
    before = counts(archive)
    again = ingest(archive, samples_dir / "seed_000.pdf", extract)
    assert (first.status, again.status) == ("stored", "duplicate")
    assert again.file_id == first.file_id
    assert counts(archive) == before
    assert before["documents"] == 5 and before["files"] == 1


def test_a_new_file_is_hashed_once(archive: Archive, samples_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ingest_file` hashes a file to know it before extracting it; extraction takes that hash (issue 10)."""
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(path)
        return sha256_of(path)

    for module in (store, extract_module):
        monkeypatch.setattr(module, "sha256_of", counting)
    pdf = samples_dir / "seed_003.pdf"
    report = ingest_file(archive, pdf)
    assert (report.status, report.sha256) == ("stored", hashlib.sha256(pdf.read_bytes()).hexdigest())
    assert hashed == [pdf]


def test_the_original_is_kept_by_its_content(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    pdf = samples_dir / "seed_003.pdf"
    report = ingest(archive, pdf, extract)
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    with archive.session() as s:
        row = s.scalars(select(StoredFile)).one()
    assert row.store_path == f"{sha[:2]}/{sha[2:]}.pdf"
    assert (archive.files / row.store_path).read_bytes() == pdf.read_bytes()
    assert report.sha256 == row.sha256 == sha and row.pages == 4 and row.status == "stored"


def test_a_letter_in_two_pdfs_is_linked_not_duplicated(
    archive: Archive, extract: Extract, samples_dir: Path, forwarded_letter_pdf: Path
) -> None:
    ingest(archive, samples_dir / "seed_000.pdf", extract)
    before = counts(archive)
    report = ingest(archive, forwarded_letter_pdf, extract)
    assert (report.status, report.letters, report.linked) == ("stored", 1, 1)
    after = counts(archive)
    assert after["documents"] == before["documents"]
    assert after["files"] == before["files"] + 1
    assert after["appearances"] == before["appearances"] + 1
    assert after["received_stamps"] == before["received_stamps"] + 1  # that copy's own stamp
    with archive.session() as s:
        doc_id = s.scalar(select(DocumentRow.id).where(DocumentRow.doc_number == "醫評字第1120100216A號"))
        assert doc_id is not None
        view = show(s, doc_id)
    assert view is not None
    assert [(c.path, c.pages) for c in view.copies] == [
        (str(samples_dir / "seed_000.pdf"), [3, 4]),
        (str(forwarded_letter_pdf), [1, 2]),
    ]


def test_the_graph_links_whichever_letter_arrives_first(
    archive: Archive, extract: Extract, samples_dir: Path, forwarded_letter_pdf: Path
) -> None:
    ingest(archive, forwarded_letter_pdf, extract)  # the cited letter first, alone
    report = ingest(archive, samples_dir / "seed_000.pdf", extract)  # then the cover letter with it
    assert report.linked == 1
    with archive.session() as s:
        edges = s.execute(
            select(Citation.doc_number, DocumentRow.doc_number)
            .join(DocumentRow, DocumentRow.id == Citation.cited_id, isouter=True)
            .order_by(Citation.id)
        ).all()
    assert [tuple(e) for e in edges] == [
        ("醫評字第1120100216A號", "醫評字第1120100216A號"),
        ("醫評字第1120100216B號", "醫評字第1120100216B號"),
    ]


def test_parties_are_linked_to_gazetteer_organisations(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    ingest(archive, samples_dir / "seed_000.pdf", extract)
    with archive.session() as s:
        rows = s.execute(
            select(Party.role, Party.name, Organisation.name)
            .join(Organisation, Organisation.id == Party.organisation_id, isouter=True)
            .order_by(Party.id)
        ).all()
    linked = {(role, name): org for role, name, org in rows}
    assert linked[("sender", "財團法人醫院評鑑暨醫療品質策進會")] == "財團法人醫院評鑑暨醫療品質策進會"
    assert linked[("sender", "臺中市政府衛生局")] == "臺中市政府衛生局"
    assert linked[("cc_copy", "衛生福利部")] == "衛生福利部"
    assert ("cc_copy", "本局醫事管理科") in linked  # kept even when no organisation is known


@pytest.mark.parametrize("written", ["documents", "items", "document_grams"])
def test_a_crash_mid_file_leaves_nothing_and_a_rerun_stores_it(
    archive: Archive, extract: Extract, samples_dir: Path, monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    """The process dies after the file's rows up to `written` are in the database, before commit."""
    seen: dict[str, int] = {}

    def crash_after(original: Callable[..., None]) -> Callable[..., None]:
        def write(self: object, conn: Connection, rows: Rows) -> None:
            order = writer.WRITE_ORDER
            monkeypatch.setattr(writer, "WRITE_ORDER", order[: order.index(written) + 1])
            original(self, conn, rows)
            seen["documents"] = conn.execute(text("SELECT count(*) FROM documents")).scalar_one()
            raise RuntimeError("power cut")

        return write

    for cls in (writer._SQLite, writer._PostgreSQL):
        monkeypatch.setattr(cls, "write", crash_after(cls.write))
    with pytest.raises(RuntimeError, match="power cut"):
        ingest(archive, samples_dir / "seed_000.pdf", extract)
    assert seen["documents"] == 5  # the rows were there, inside the transaction
    assert set(counts(archive).values()) == {0}
    with archive.session() as s:
        assert s.scalar(text("SELECT count(*) FROM document_text")) == 0
    monkeypatch.undo()
    report = ingest(archive, samples_dir / "seed_000.pdf", extract)
    assert (report.status, report.letters) == ("stored", 3)
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Citation).where(Citation.cited_id.is_not(None))) == 2


def test_failed_and_quarantined_files_are_recorded_and_the_batch_goes_on(
    archive: Archive, extract: Extract, samples_dir: Path, bad_files: dict[str, Path]
) -> None:
    def text_layer_only(path: Path, *, sha256: str | None = None) -> FileResult:  # a blank page would go to OCR otherwise
        return extract_file(path, ocr=None, sha256=sha256) if path == bad_files["blank"] else extract(path, sha256=sha256)

    reports = {name: ingest(archive, path, text_layer_only) for name, path in bad_files.items()}
    good = ingest(archive, samples_dir / "seed_003.pdf", extract)
    missing = ingest(archive, samples_dir / "no_such_file.pdf", extract)
    assert reports["not_pdf"].status == "quarantined" and "not a PDF" in (reports["not_pdf"].error or "")
    assert reports["empty"].status == "quarantined"
    assert reports["blank"].status == "failed" and reports["blank"].error
    assert good.status == "stored"
    assert missing.status == "failed" and missing.file_id is None
    with archive.session() as s:
        rows = {r.path: (r.status, r.error) for r in s.scalars(select(StoredFile))}
    assert rows[str(bad_files["not_pdf"])][0] == "quarantined"
    assert rows[str(bad_files["blank"])] == ("failed", reports["blank"].error)
    before = counts(archive)
    again = ingest(archive, bad_files["blank"], text_layer_only)  # failed files are tried again
    assert again.status == "failed" and counts(archive) == before


def test_receipt_stamps_belong_to_their_copy(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    ingest(archive, samples_dir / "seed_003.pdf", extract)
    with archive.session() as s:
        stamps = s.execute(select(ReceivedStamp.org, ReceivedStamp.number, Appearance.position).join(Appearance)).all()
    assert [tuple(x) for x in stamps] == [("彰化縣醫師公會", "彰醫字第129號", 0)]


def test_concurrent_writers_are_serialised(archive: Archive, extract: Extract, samples_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    names = ["seed_000", "seed_003", "seed_000", "example_minimal", "seed_003"]
    for n in set(names):  # extract outside the threads: the point is the writes
        extract(samples_dir / f"{n}.pdf")
    with ThreadPoolExecutor(4) as pool:
        reports = list(pool.map(lambda n: ingest(archive, samples_dir / f"{n}.pdf", extract), names))
    assert sorted(r.status for r in reports) == ["duplicate", "duplicate", "stored", "stored", "stored"]
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(DocumentRow)) == 5 + 2 + 3
        assert s.scalar(text("SELECT count(*) FROM document_text")) == 10


def test_bulk_store_gives_the_same_archive_as_one_file_at_a_time(
    archive: Archive, extract: Extract, samples_dir: Path, forwarded_letter_pdf: Path, bad_files: dict[str, Path]
) -> None:
    """`store_results` (whole files per transaction) against `ingest_file`, file by file."""
    paths = [
        forwarded_letter_pdf, samples_dir / "seed_000.pdf", samples_dir / "seed_003.pdf",
        samples_dir / "seed_000.pdf", bad_files["not_pdf"], samples_dir / "example_minimal.pdf",
    ]
    results = [(extract(p), p) for p in paths]
    reports = store.store_results(archive, results, batch=4)
    assert [r.status for r in reports] == ["stored", "stored", "stored", "duplicate", "quarantined", "stored"]
    assert [r.linked for r in reports] == [0, 1, 0, 0, 0, 0]
    with archive.session() as s:
        bulk = {
            d.doc_number: load_document(s, d.id) for d in s.scalars(select(DocumentRow)) if d.doc_number
        }
        edges = sorted(
            (c.doc_number, c.cited_id is not None) for c in s.scalars(select(Citation))
        )
    assert edges == [
        ("全醫聯字第1100001632號", False), ("北市衛食藥字第1123040001號", False), ("衛授食字第1121601234號", False),
        ("衛部資字第1112660027號", True), ("醫評字第1120100216A號", True), ("醫評字第1120100216B號", True),
    ]
    expected = {d.doc_number: d for p in paths[1:4] for d in extract(p).documents if d.doc_number}
    for number, doc in bulk.items():
        assert doc is not None
        if number in expected and number != "醫評字第1120100216A號":  # A came first from the other PDF
            assert doc.model_dump() == expected[number].model_dump(), number
