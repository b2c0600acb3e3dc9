"""DI files through `gongwen extract` (pipeline/di.py): alone, with their attachment PDFs, refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors.di import write_di
from pipeline.cli import app
from pipeline.extract import expand_paths, extract_file
from schemas.letter import Document

runner = CliRunner()
BOMB = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<函><主旨><文字>&b;</文字></主旨></函>
"""


@pytest.fixture()
def letter_with_attachment(tmp_path: Path, samples_dir: Path) -> Path:
    """own_05's letter as a DI file naming two attachments: a PDF beside it (a brochure) and a missing .odt."""
    golden = json.loads((samples_dir / "own_05.json").read_text(encoding="utf-8"))
    doc = Document.model_validate(golden["documents"][0])
    doc.attachments = "工作計畫1份 (plan_ATTCH1.pdf、form_ATTCH2.odt)"
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "own_05.di").write_bytes(write_di(doc))
    shutil.copy(samples_dir / "own_29.pdf", folder / "plan_ATTCH1.pdf")
    shutil.copy(samples_dir / "own_01.pdf", folder / "other_letter.pdf")  # not an attachment: read on its own
    return folder / "own_05.di"


def test_a_di_file_is_its_letter_then_its_attachment_pdfs(letter_with_attachment: Path) -> None:
    result = extract_file(letter_with_attachment)
    assert result.error is None
    assert (result.pages, result.text_source, result.page_sources) == (None, "di", [])
    assert [d.kind for d in result.documents] == ["letter", "other"]  # own_29 is a brochure
    letter, brochure = result.documents
    assert (letter.doc_number, letter.pages) == ("台內警字第1120872345號", [])
    assert letter.attachments == "工作計畫1份 (plan_ATTCH1.pdf、form_ATTCH2.odt)"
    assert brochure.pages == [1, 1]  # pages of its own file


def test_a_folder_reads_the_attachment_with_its_di_file_only(letter_with_attachment: Path) -> None:
    folder = letter_with_attachment.parent
    assert expand_paths([folder]) == [folder / "other_letter.pdf", folder / "own_05.di"]
    assert expand_paths([folder / "plan_ATTCH1.pdf"]) == [folder / "plan_ATTCH1.pdf"]  # named alone: read alone


def test_an_attachment_is_only_looked_for_beside_the_di_file(tmp_path: Path, samples_dir: Path) -> None:
    """`../x.pdf` or an absolute path in an entity is never read."""
    (tmp_path / "outside.pdf").write_bytes((samples_dir / "own_29.pdf").read_bytes())
    folder = tmp_path / "in"
    folder.mkdir()
    data = write_di(Document(kind="letter", pages=[], sender="某機關", attachments="x.pdf"))
    for name in ("../outside.pdf", str(tmp_path / "outside.pdf")):
        (folder / "l.di").write_bytes(data.replace(b'"x.pdf"', f'"{name}"'.encode()))
        assert [d.kind for d in extract_file(folder / "l.di").documents] == ["letter"]
        assert expand_paths([tmp_path]) == [folder / "l.di", tmp_path / "outside.pdf"]


def test_cli_extract_prints_the_di_letter_and_refuses_a_bomb_in_one_line(
    letter_with_attachment: Path, tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.di"
    bomb.write_text(BOMB, encoding="utf-8")
    got = runner.invoke(app, ["extract", str(letter_with_attachment), "--json"])
    assert got.exit_code == 0, got.output
    payload = json.loads(got.stdout)
    assert payload["text_source"] == "di" and payload["documents"][0]["doc_number"] == "台內警字第1120872345號"
    got = runner.invoke(app, ["extract", str(letter_with_attachment), str(bomb)])
    assert got.exit_code == 1
    assert got.stdout.splitlines()[0].endswith("own_05.di: DI file, 2 documents")
    errors = [line for line in got.stdout.splitlines() if "ERROR" in line]
    assert errors == [f"{bomb}: ERROR unsafe DI file: it declares the text entity 'a'; "
                      "a DI file declares only its attachment files: refused"]
