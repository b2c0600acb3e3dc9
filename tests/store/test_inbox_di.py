"""DI files through the mail room's flow `ingest-inbox` (issue 12): a DI file alone, and a folder holding a DI
file with its attachment PDF, stored as `gongwen ingest PATH` stores them (the attachment a document of the
same letter, its original kept in the file store) and moved to processed/ together; an unsafe DI file (billion
laughs, an external entity) quarantined with its reason beside it, as a bad PDF is."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
from extractors.di import write_di
from pipeline.db import close_archives
from pipeline.flows import inbox_flow, list_inbox
from schemas.letter import Document
from schemas.orm import Appearance, DocumentRow, StoredFile

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "born_digital"
BOMB = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE 函 [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<函><主旨><文字>&b;</文字></主旨></函>
"""
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE 函 [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<函><主旨><文字>&x;</文字></主旨></函>")


def _old(*paths: Path) -> None:
    for p in paths:
        os.utime(p, (time.time() - 7200, time.time() - 7200))


def _inbox(root: Path) -> Path:
    """own_05.di alone; exchange/own_07.di naming plan_ATTCH1.pdf (a brochure) beside it; two unsafe DI files."""
    inbox = root / "inbox"
    (inbox / "exchange").mkdir(parents=True)
    shutil.copyfile(ROOT / "samples" / "di" / "own_05.di", inbox / "own_05.di")
    doc = Document.model_validate(json.loads((SAMPLES / "own_07.json").read_text(encoding="utf-8"))["documents"][0])
    doc.attachments = "工作計畫1份 (plan_ATTCH1.pdf)"
    (inbox / "exchange" / "own_07.di").write_bytes(write_di(doc))
    shutil.copyfile(SAMPLES / "own_29.pdf", inbox / "exchange" / "plan_ATTCH1.pdf")
    (inbox / "bomb.di").write_text(BOMB, encoding="utf-8")
    (inbox / "passwd.di").write_text(EXTERNAL, encoding="utf-8")
    _old(*(p for p in inbox.rglob("*") if p.is_file()))
    return inbox


def test_di_files_and_a_di_folder_through_the_inbox(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "archive.sqlite"
    shutil.copyfile(sqlite_template, db)
    inbox = _inbox(tmp_path)
    files = tmp_path / "files"
    assert [p.name for p in list_inbox(inbox, inbox / "processed", inbox / "quarantine")] == [
        "bomb.di", "own_07.di", "own_05.di", "passwd.di"]  # the attachment goes with its DI file
    run = inbox_flow([str(inbox)], database_url=f"sqlite:///{db}", files_dir=str(files), route=False)
    close_archives()
    by_name = {Path(f.report.path).name: f for f in run.files}
    assert sorted(by_name) == ["bomb.di", "own_05.di", "own_07.di", "passwd.di"]
    assert (run.summary.stored, len(run.quarantined())) == (2, 2)
    day = next((inbox / "processed").iterdir())
    assert sorted(p.name for p in day.iterdir()) == ["own_05.di", "own_07.di", "plan_ATTCH1.pdf"]
    assert by_name["own_07.di"].attachments == [str(day / "plan_ATTCH1.pdf")]
    assert by_name["own_07.di"].to_json()["attachments"] == [str(day / "plan_ATTCH1.pdf")]
    assert sorted(p.name for p in (inbox / "quarantine").iterdir()) == [
        "bomb.di", "bomb.di.json", "passwd.di", "passwd.di.json"]
    reasons = {n: json.loads((inbox / "quarantine" / f"{n}.json").read_text(encoding="utf-8"))["reason"]
               for n in ("bomb.di", "passwd.di")}
    assert reasons["bomb.di"].startswith("unsafe DI file: it declares the text entity 'a'")
    assert reasons["passwd.di"].startswith("unsafe DI file: it declares the external entity 'x'")
    assert list_inbox(inbox, inbox / "processed", inbox / "quarantine", settle_s=0) == []  # nothing left behind

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        stored = {Path(r.path).name: r for r in conn.execute(select(StoredFile))}
        letter = by_name["own_07.di"].report
        docs = {r.id: r for r in conn.execute(select(DocumentRow.id, DocumentRow.file_id, DocumentRow.position,
                                                     DocumentRow.kind).where(DocumentRow.id.in_(letter.documents)))}
        copies = {r.document_id: r.file_id for r in conn.execute(select(Appearance).where(
            Appearance.document_id.in_(letter.documents)))}
    engine.dispose()
    assert {n: r.status for n, r in stored.items()} == {
        "own_05.di": "stored", "own_07.di": "stored", "plan_ATTCH1.pdf": "stored",
        "bomb.di": "quarantined", "passwd.di": "quarantined"}
    assert (letter.letters, letter.other) == (1, 1)
    letter_id, brochure_id = letter.documents
    # documents of the same letter (the DI file's, in order); the brochure appeared in its own PDF
    assert [(docs[i].file_id, docs[i].position, docs[i].kind) for i in letter.documents] == [
        (stored["own_07.di"].id, 0, "letter"), (stored["own_07.di"].id, 1, "other")]
    assert (copies[letter_id], copies[brochure_id]) == (stored["own_07.di"].id, stored["plan_ATTCH1.pdf"].id)
    for name, suffix in (("own_07.di", ".di"), ("plan_ATTCH1.pdf", ".pdf")):  # both originals kept, as they came
        kept = files / stored[name].store_path
        assert kept.suffix == suffix and kept.read_bytes() == (day / name).read_bytes()

    again = inbox_flow([str(inbox)], database_url=f"sqlite:///{db}", files_dir=str(files), route=False)
    close_archives()
    assert again.files == []


def test_a_di_file_waits_for_its_attachments_to_be_complete(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    (inbox / "exchange" / "plan_ATTCH1.pdf").touch()  # still being written
    listed = [p.name for p in list_inbox(inbox, inbox / "processed", inbox / "quarantine", settle_s=600)]
    assert "own_07.di" not in listed and "plan_ATTCH1.pdf" not in listed and "own_05.di" in listed


@pytest.fixture(autouse=True)
def _config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))
