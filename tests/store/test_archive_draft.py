"""`gongwen draft TASK --format pdf|di` (pipeline/draft.py): the outgoing 轉知 letter for a routing task,
read back by `gongwen extract` with every field it wrote."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    read = result.documents[0].model_dump(exclude={"pages", "confidence", "sender_code", "boxes"})
    assert read == draft.model_dump(exclude={"pages", "confidence", "sender_code", "boxes"})


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


def _queue_json(*args: str) -> dict[str, Any]:
    got = runner.invoke(app, ["queue", *args, "--json"])
    assert got.exit_code == 0, got.output
    data: dict[str, Any] = json.loads(got.stdout)
    return data


def test_the_queue_records_which_tasks_a_draft_covers(routed: list[tuple[int, str]], archive: Archive, tmp_path: Path) -> None:
    """One letter's draft covers every task of the letter not rejected; `--alone` only its own task.
    `queue show`/`queue list` give each task its latest draft, and its history a `drafted` event under the clerk's name."""
    ids = [i for i, _ in routed]
    rejected = ids[1]
    assert runner.invoke(app, ["queue", "reject", str(rejected), "--reason", "不轉知", "--as", "王小明"]).exit_code == 0
    out = tmp_path / "letter.di"
    got = runner.invoke(app, ["draft", str(ids[0]), "--format", "di", "-o", str(out), "--date", DAY.isoformat(),
                              "--as", "林小華"])
    assert got.exit_code == 0, got.output
    shown = _queue_json("show", str(ids[2]))["draft"]
    assert shown is not None
    assert (shown["format"], shown["written_for"], shown["created_by"], shown["path"]) == ("di", ids[0], "林小華", str(out))
    assert shown["tasks"] == [i for i in ids if i != rejected]
    assert shown["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (archive.files / shown["store_path"]).read_bytes() == out.read_bytes()  # kept: the web queue hands it out
    assert _queue_json("show", str(rejected))["draft"] is None
    history = _queue_json("show", str(ids[5]))["history"]
    assert history[-1]["action"] == "drafted" and history[-1]["actor"] == "林小華"
    assert f"draft #{shown['id']} (di, {shown['sha256'][:12]})" in history[-1]["note"]
    listed = {t["id"]: t["draft"] for t in _queue_json("list", "--limit", "1000")["tasks"]}
    assert all(listed[i] == shown for i in ids if i != rejected)

    alone = runner.invoke(app, ["draft", str(ids[3]), "--format", "di", "--alone", "--date", DAY.isoformat(),
                                "--as", "林小華"])
    assert alone.exit_code == 0, alone.output
    assert read_di(alone.stdout_bytes).document.cc_main == [routed[3][1]]
    own = _queue_json("show", str(ids[3]))["draft"]
    assert own["tasks"] == [ids[3]] and own["id"] > shown["id"] and own["path"] is None  # written to stdout
    assert _queue_json("show", str(ids[4]))["draft"] == shown  # the others keep the letter's draft
    fsck = runner.invoke(app, ["fsck", "--json"])  # kept drafts are no orphans of the originals' store
    assert fsck.exit_code == 0 and json.loads(fsck.stdout)["clean"], fsck.output
    missing = runner.invoke(app, ["queue", "show", "99999"])
    assert missing.exit_code == 1 and missing.output.startswith("gongwen: no task #99999"), missing.output
