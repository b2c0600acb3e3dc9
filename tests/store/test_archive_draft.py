"""`gongwen draft TASK --format pdf|di` (pipeline/draft.py): the outgoing 轉知 letter for a routing task,
read back by `gongwen extract` with every field it wrote."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from extractors.di import read_di, validate_di
from pipeline.cli import app
from pipeline.db import Archive, close_archives
from pipeline.draft import forwarding_letter, load_office
from pipeline.extract import extract_file
from pipeline.routing.config import load_config
from pipeline.routing.engine import Router
from pipeline.routing.queue import route_archive
from pipeline.show import load_document
from pipeline.store import ingest_file
from schemas.letter import Document, FileResult
from schemas.orm import AssociationRow, RoutingTask

Extract = Callable[..., FileResult]
runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
OFFICE = """\
office:
  name: 中華民國醫師公會全國聯合會
  code: null
  address: 106臺北市大安區安和路一段29號9樓
  unit: 秘書處
  clerk: 林小華
  title: 專員
  phone: (02)2752-7286#123
  fax: (02)2771-8392
  email: secretary@tma.tw
  signatory: 理事長 邱泰源
  copies: [本會秘書處]
"""
DAY = datetime.date(2022, 7, 1)
NUMBER = "全醫聯字第1110000456號"


@pytest.fixture
def routed(db_url: str, archive: Archive, extract: Extract, samples_dir: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, str]]]:
    """seed_003 stored and routed (the ministry's reply goes to the county physicians' associations):
    its tasks (id, association name) in task order; the office file in the configuration folder."""
    (tmp_path / "office.yaml").write_text(OFFICE, encoding="utf-8")
    monkeypatch.setenv("GONGWEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(tmp_path))
    ingest_file(archive, samples_dir / "seed_003.pdf", extract=extract)
    route_archive(archive, Router(load_config(ROOT / "config/rules.yaml", ROOT / "config/associations.yaml")))
    with archive.session() as s:
        tasks = [(i, n) for i, n in s.execute(
            select(RoutingTask.id, AssociationRow.name).join(AssociationRow).order_by(RoutingTask.id))]
    assert len(tasks) > 20
    yield tasks
    close_archives()


def expected(archive: Archive, task: int, tasks: list[tuple[int, str]], tmp_path: Path) -> tuple[Document, Document]:
    """(the letter the task forwards, the draft for it as pipeline/draft.py makes it)."""
    with archive.session() as s:
        row = s.get(RoutingTask, task)
        assert row is not None
        forwarded = load_document(s, row.document_id)
    assert forwarded is not None
    names = [n for _, n in tasks]
    return forwarded, forwarding_letter(forwarded, dict(tasks)[task], names, load_office(tmp_path / "office.yaml"), DAY,
                                        NUMBER)


def test_the_pdf_draft_reads_back_with_every_field_it_wrote(
    routed: list[tuple[int, str]], archive: Archive, tmp_path: Path
) -> None:
    task = routed[3][0]
    out = tmp_path / "draft.pdf"
    got = runner.invoke(app, ["draft", str(task), "-o", str(out), "--date", DAY.isoformat(), "--number", NUMBER])
    assert got.exit_code == 0, got.output
    forwarded, draft = expected(archive, task, routed, tmp_path)
    assert draft.subject == (f"轉知{forwarded.sender}111年1月19日{forwarded.doc_number}函，"
                             f"{forwarded.subject.removesuffix('，請查照。') if forwarded.subject else ''}，請查照。")
    assert draft.recipient == routed[3][1] and draft.cc_main == [n for _, n in routed]  # one draft serves every task
    assert draft.references == [forwarded.doc_number]  # the 說明 cites the forwarded letter
    result = extract_file(out)
    assert result.error is None and len(result.documents) == 1
    read = result.documents[0].model_dump(exclude={"pages", "confidence", "sender_code"})
    assert read == draft.model_dump(exclude={"pages", "confidence", "sender_code"})


def test_the_di_draft_is_valid_and_reads_back_the_same(routed: list[tuple[int, str]], archive: Archive, tmp_path: Path) -> None:
    task = routed[0][0]
    got = runner.invoke(app, ["draft", str(task), "--format", "di", "--date", DAY.isoformat(), "--number", NUMBER])
    assert got.exit_code == 0, got.output
    assert validate_di(got.stdout_bytes) == []
    _, draft = expected(archive, task, routed, tmp_path)
    assert read_di(got.stdout_bytes).document.model_dump(exclude={"confidence"}) == draft.model_dump(exclude={"confidence"})


def test_draft_failures_are_one_line(routed: list[tuple[int, str]], tmp_path: Path) -> None:
    for args, code, message in [
        (["99999"], 1, "gongwen: no such task: 99999"),
        ([str(routed[0][0]), "--date", "111/07/01"], 2, "gongwen: --date '111/07/01' is not an ISO date (YYYY-MM-DD)"),
        ([str(routed[0][0]), "--office", str(tmp_path / "none.yaml")], 2,
         f"gongwen: {tmp_path / 'none.yaml'}: file not found (write the office's name and contact there"),
    ]:
        got = runner.invoke(app, ["draft", *args])
        assert got.exit_code == code and got.output.startswith(message) and got.output.count("\n") == 1, got.output
    (tmp_path / "bad.yaml").write_text("office:\n  nme: x\n", encoding="utf-8")
    got = runner.invoke(app, ["draft", str(routed[0][0]), "--office", str(tmp_path / "bad.yaml")])
    assert got.exit_code == 2 and "office: unknown key 'nme'" in got.output


def test_the_shipped_office_template_loads() -> None:
    office = load_office(ROOT / "config" / "office.example.yaml")
    assert office.name and office.copies == ("本會秘書處",) and office.code is None
