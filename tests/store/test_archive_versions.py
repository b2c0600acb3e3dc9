"""A letter that arrives again with other text is a new version (issue 14, item 1).

The same sender and 字號 with other text (a corrected re-issue, the born-digital original of
a letter first stored from its OCR'd scan) is stored, indexed and shown; which version is
shown for the letter is decided (born-digital over OCR, then the newer) and said. The PDFs
are rendered by the project's generator from a sample source with its text changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import Archive
from pipeline.reports import FileReport, IngestSummary
from pipeline.search import search
from pipeline.show import find_documents, show
from pipeline.store import ingest_file
from samples.generator import render_source
from samples.scan import scan_samples
from schemas.letter import FileResult
from schemas.orm import DocumentRow

Extract = Callable[[Path], FileResult]
SOURCE = Path(__file__).resolve().parents[2] / "samples" / "sources" / "own_05.txt"
NUMBER = "台內警字第1120872345號"
ORIGINAL_ONLY = "112年12月8日前"
CORRECTED_ONLY = "112年12月15日前"


@pytest.fixture(scope="session")
def reissue(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """own_05 (內政部, 台內警字第1120872345號) as printed; the same letter re-issued with a corrected
    deadline, born-digital and as a scan (samples/scan.py: read back by OCR); and the original again
    in another font (another PDF, the same text)."""
    folder = tmp_path_factory.mktemp("versions")
    text = SOURCE.read_text(encoding="utf-8")
    assert ORIGINAL_ONLY in text and "@font wqy" in text
    out = {"original": folder / "moi_original.pdf", "corrected": folder / "moi_corrected.pdf",
           "refont": folder / "moi_refont.pdf"}
    render_source(text, out["original"])
    render_source(text.replace(ORIGINAL_ONLY, CORRECTED_ONLY), out["corrected"])
    render_source(text.replace("@font wqy", "@font uming"), out["refont"])
    (folder / "scanned").mkdir()
    list(scan_samples(["moi_corrected"], folder, folder / "scanned"))
    out["corrected_scan"] = folder / "scanned" / "moi_corrected.pdf"
    return out


def letter_rows(archive: Archive) -> list[tuple[int, int | None, str | None]]:
    with archive.session() as s:
        return [
            (r.id, r.version_of, r.letter_key)
            for r in s.scalars(select(DocumentRow).where(DocumentRow.doc_number == NUMBER).order_by(DocumentRow.id))
        ]


def hit_ids(archive: Archive, query: str) -> set[int]:
    with archive.session() as s:
        return {h.id for h in search(s, query).hits}


def test_a_corrected_reissue_is_a_new_version_kept_searchable_and_shown(
    archive: Archive, extract: Extract, reissue: dict[str, Path]
) -> None:
    first = ingest_file(archive, reissue["original"], extract=extract)
    second = ingest_file(archive, reissue["corrected"], extract=extract)
    assert (first.status, first.versions) == ("stored", 0)
    assert (second.status, second.letters, second.linked, second.versions) == ("stored", 1, 0, 1)
    assert "1 new version of stored letters" in IngestSummary.of([first, second]).line()
    (original, _, key), (corrected, version_of, no_key) = letter_rows(archive)
    assert version_of == original and key is not None and no_key is None

    # every version's text is searchable
    assert original in hit_ids(archive, ORIGINAL_ONLY) and corrected not in hit_ids(archive, ORIGINAL_ONLY)
    assert corrected in hit_ids(archive, CORRECTED_ONLY) and original not in hit_ids(archive, CORRECTED_ONLY)

    # the 字號 shows the letter once, as its newer version, and says so
    with archive.session() as s:
        assert find_documents(s, NUMBER) == [corrected]
        view = show(s, corrected)
        old = show(s, original)
    assert view is not None and old is not None
    assert [(v.id, v.shown) for v in view.versions] == [(original, False), (corrected, True)]
    assert view.document.explanation is not None and CORRECTED_ONLY in view.document.explanation[2].text
    assert old.document.explanation is not None and ORIGINAL_ONLY in old.document.explanation[2].text
    assert [v.shown for v in old.versions] == [False, True]  # an old version, asked for by id, says which is shown

    # the same text in another PDF is a copy of the version it repeats, not a third version
    copy = ingest_file(archive, reissue["refont"], extract=extract)
    assert (copy.status, copy.linked, copy.versions, copy.documents) == ("stored", 1, 0, [original])
    assert len(letter_rows(archive)) == 2


@pytest.mark.parametrize("scan_first", [False, True])
def test_a_born_digital_version_is_shown_over_one_read_by_ocr(
    archive: Archive, extract: Extract, reissue: dict[str, Path], scan_first: bool
) -> None:
    """The born-digital letter and a scan with other text (the correction), in either order: the
    born-digital one is shown, newer or older."""
    order = ["corrected_scan", "original"] if scan_first else ["original", "corrected_scan"]
    reports: list[FileReport] = [ingest_file(archive, reissue[k], extract=extract) for k in order]
    assert [(r.status, r.versions) for r in reports] == [("stored", 0), ("stored", 1)]
    ids = {k: r.documents[0] for k, r in zip(order, reports, strict=True)}
    with archive.session() as s:
        assert find_documents(s, NUMBER) == [ids["original"]]
        view = show(s, ids["corrected_scan"])
    assert view is not None
    assert sorted((v.id, v.born_digital, v.shown) for v in view.versions) == sorted(
        [(ids["original"], True, True), (ids["corrected_scan"], False, False)])
    assert all("ocr" in (v.text_source or "") for v in view.versions if not v.born_digital)


def test_show_says_which_version_it_shows(
    env: None, archive: Archive, extract: Extract, reissue: dict[str, Path]
) -> None:
    ids = [ingest_file(archive, reissue[k], extract=extract).documents[0] for k in ("original", "corrected")]
    runner = CliRunner()
    text = runner.invoke(app, ["show", NUMBER])
    assert text.exit_code == 0, text.output
    assert text.stdout.startswith(f"#{ids[1]} letter")
    assert f"→ #{ids[1]} 2023-11-20 born-digital  ← shown for this letter" in text.stdout
    assert f"  #{ids[0]} 2023-11-20 born-digital" in text.stdout
    payload = json.loads(runner.invoke(app, ["show", str(ids[0]), "--json"]).stdout)
    assert payload["id"] == ids[0] and [v["shown"] for v in payload["versions"]] == [False, True]


def test_search_lists_a_letter_once_however_many_versions_match(
    env: None, archive: Archive, extract: Extract, reissue: dict[str, Path]
) -> None:
    """Words both versions hold find the letter once, counted once, saying it has two versions and
    which is shown; words only the older version holds still find it (as that version)."""
    ids = [ingest_file(archive, reissue[k], extract=extract).documents[0] for k in ("original", "corrected")]
    with archive.session() as s:
        both = search(s, NUMBER)
        older = search(s, ORIGINAL_ONLY)
    assert [(h.id, h.versions, h.shown) for h in both.hits] == [(ids[1], 2, None)] and both.total == 1
    assert [(h.id, h.versions, h.shown) for h in older.hits] == [(ids[0], 2, ids[1])] and older.total == 1
    out = CliRunner().invoke(app, ["search", NUMBER])
    assert out.exit_code == 0, out.output
    assert "(2 versions; this one is shown)" in out.stdout and out.stdout.endswith("\n1 result\n")
