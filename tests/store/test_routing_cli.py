"""`gongwen route`, `queue …` and `rules test` as clerks type them: output, JSON contract, one-line errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import Archive, close_archives
from pipeline.store import store_result
from schemas.letter import FileResult
from schemas.orm import AssociationRow, RoutingTask, TaskEvent

Extract = Callable[[Path], FileResult]
runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent.parent
TASK_KEYS = {"id", "document_id", "doc_number", "association", "rule", "reason", "status", "assignee", "due",
             "created_at", "history", "draft"}  # draft: docs/routing.md#drafts (null until gongwen draft writes one)


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GONGWEN_DATABASE_URL", db_url)
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))
    monkeypatch.delenv("GONGWEN_USER", raising=False)
    yield
    close_archives()


def _one_line_error(result: object, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output  # type: ignore[attr-defined]
    err = result.stderr.strip()  # type: ignore[attr-defined]
    assert "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def test_route_queue_and_rules_test(env: None, archive: Archive, extract: Extract, samples_dir: Path, tmp_path: Path) -> None:
    for name in ("seed_000", "seed_003"):
        assert store_result(archive, extract(samples_dir / f"{name}.pdf"), None).status == "stored"

    dry = runner.invoke(app, ["rules", "test", "--letter", "醫評字第1120100216A號", "--json"])
    assert dry.exit_code == 0, dry.output
    decision = json.loads(dry.stdout)["documents"][0]
    assert sorted(t["association"] for t in decision["targets"]) == ["txg-greater-physicians", "txg-physicians"]
    assert decision["rules"][0]["rule"] == "txg-physicians" and "«診所»" in decision["rules"][0]["reasons"][1]
    with archive.session() as s:  # a dry run writes nothing
        assert s.scalar(select(func.count()).select_from(RoutingTask)) == 0
        assert s.scalar(select(func.count()).select_from(AssociationRow)) == 0

    routed = runner.invoke(app, ["route"])
    assert routed.exit_code == 0, routed.output
    assert "skipped txg-physicians (txg-physicians): already has the letter: 正本 社團法人臺中市醫師公會" in routed.stdout
    assert routed.stdout.splitlines()[-1].startswith("7 documents routed:")
    again = runner.invoke(app, ["route", "--all", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout)["tasks_created"] == 0

    listed = runner.invoke(app, ["queue", "list", "--association", "txg-physicians", "--json"])
    assert listed.exit_code == 0, listed.output
    tasks = json.loads(listed.stdout)["tasks"]
    assert len(tasks) == 3 and all(set(t) == TASK_KEYS for t in tasks)  # seed_000 #1, #2 and seed_003 #1
    assert tasks[0]["due"] == "2023-06-30" and tasks[0]["status"] == "pending"
    first = str(tasks[0]["id"])

    claimed = runner.invoke(app, ["queue", "claim", first, "--as", "王小明", "--json"])
    assert claimed.exit_code == 0 and json.loads(claimed.stdout)["assignee"] == "王小明"
    _one_line_error(runner.invoke(app, ["queue", "claim", first, "--as", "李大華"]), 1, "already claimed by 王小明")
    assert runner.invoke(app, ["queue", "done", first, "--as", "王小明", "--note", "已轉知"]).exit_code == 0
    _one_line_error(runner.invoke(app, ["queue", "claim", first, "--as", "李大華"]), 1, "is done")
    _one_line_error(runner.invoke(app, ["queue", "claim", "987654"]), 1, "no task #987654")
    _one_line_error(runner.invoke(app, ["queue", "claim", "²"]), 2, "not a task id")
    _one_line_error(runner.invoke(app, ["queue", "claim", "99999999999999999999999"]), 2, "not a task id")
    _one_line_error(runner.invoke(app, ["queue", "list", "--status", "finished"]), 2, "--status must be one of")
    second = str(tasks[1]["id"])
    _one_line_error(runner.invoke(app, ["queue", "reject", second, "--reason", " "]), 2, "--reason")
    assert runner.invoke(app, ["queue", "reassign", second, "--to", "陳小姐", "--as", "組長"]).exit_code == 0
    mine = json.loads(runner.invoke(app, ["queue", "list", "--assignee", "陳小姐", "--json"]).stdout)
    assert [t["id"] for t in mine["tasks"]] == [int(second)]
    history = mine["tasks"][0]["history"]
    assert [h["action"] for h in history] == ["created", "reassigned"] and history[-1]["actor"] == "組長"

    text = runner.invoke(app, ["queue", "list", "--status", "all", "--limit", "3"])
    assert text.exit_code == 0 and "OVERDUE" in text.stdout and text.stdout.splitlines()[-1].endswith("(3 shown)")
    triage = runner.invoke(app, ["queue", "list", "--status", "triage", "--json"])
    assert triage.exit_code == 0 and json.loads(triage.stdout)["total"] == 0

    # a bad rules file: one line naming file and line, exit 2, nothing written
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - name: x\n    when: {field: subject, match: regex, value: '診所(('}\n    to: []\n",
                   encoding="utf-8")
    with archive.session() as s:
        events = s.scalar(select(func.count()).select_from(TaskEvent))
    _one_line_error(runner.invoke(app, ["route", "--all", "--rules", str(bad)]), 2, f"{bad}:3", "does not compile")
    with archive.session() as s:
        assert s.scalar(select(func.count()).select_from(TaskEvent)) == events


def test_rules_test_on_a_pdf_not_yet_ingested(env: None, samples_dir: Path) -> None:
    result = runner.invoke(app, ["rules", "test", "--letter", str(samples_dir / "seed_003.pdf")])
    assert result.exit_code == 0, result.output
    assert "#- letter 衛部資字第1112660027號: tpe-physicians, ntpc-physicians" in result.stdout
    _one_line_error(runner.invoke(app, ["rules", "test", "--letter", "nowhere.pdf"]), 1, "no such file")


def test_queue_on_a_missing_archive_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "nowhere" / "archive.sqlite"
    monkeypatch.setenv("GONGWEN_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(ROOT / "config"))
    result = runner.invoke(app, ["queue", "list"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not db.exists()
    close_archives()
