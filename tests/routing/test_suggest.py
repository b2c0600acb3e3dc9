"""Routing suggestions (docs/routing.md#suggestions): learnt from a small generated history of clerks' decisions.

The history: letters no shipped rule routes (sender 內政部, recipient 本會), cleared by a clerk
who forwards flu-vaccine letters to the nurses' federation and continuing-education letters to
the medical education society, and files the rest. Trained once per module (a few seconds).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from pipeline.db import Archive, close_archives, make_engine, upgrade
from pipeline.routing.config import load_config
from pipeline.routing.engine import Router
from pipeline.routing.queue import add_task, done, file_document, reject, route_archive
from pipeline.routing.suggest import (
    CURRENT,
    HISTORY,
    Example,
    SuggestModel,
    load_model,
    promote_if_better,
    read_history,
    split_by_date,
    suggest,
    train,
    train_and_promote,
)
from pipeline.store import store_results
from schemas.letter import Document, FileResult, Item
from schemas.orm import RoutingTask

ROOT = Path(__file__).resolve().parent.parent.parent
CLERK = "測試承辦人"
TOPICS = {  # subject → where the clerk forwards it (None: filed)
    "flu": ("辦理{y}年度流感疫苗接種作業，請轉知所屬會員配合接種", "tw-nurses"),
    "education": ("{y}年度繼續教育積分認定及課程申請事宜", "tw-med-education"),
    "other": ("本部{y}年度業務會報紀錄一份，請查照", None),
}
FILLERS = ["請查照。", "請轉知所屬。", "如說明。", "敬請配合辦理。", "惠請協助宣導。", "相關資料如附件。"]


@dataclass
class History:
    archive: Archive
    url: str
    files: Path
    models: Path
    topics: dict[int, str]  # document id → topic
    report: dict[str, object]


def _letter(rng: random.Random, topic: str, day: datetime.date, n: int) -> Document:
    subject = TOPICS[topic][0].format(y=day.year - 1911) + "，" + rng.choice(FILLERS)
    return Document(
        kind="letter", pages=[1, 1], sender="內政部", recipient="本會", doc_type="函",
        issue_date=day, doc_number=f"台內字第{day.year - 1911}{n:07d}號", speed="普通件",
        subject=subject, explanation=[Item(label="一", text=rng.choice(FILLERS) + rng.choice(FILLERS))],
    )


def _store(archive: Archive, docs: list[Document], salt: str) -> list[int]:
    files = [FileResult(file=f"t/{salt}{i}.pdf", sha256=hashlib.sha256(f"{salt}-{i}".encode()).hexdigest(), pages=1,
                        text_source="test", documents=[d]) for i, d in enumerate(docs)]
    return [r.documents[0] for r in store_results(archive, [(f, None) for f in files])]


def _router() -> Router:
    return Router(load_config(ROOT / "config/rules.yaml", ROOT / "config/associations.yaml"))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """120 letters over 2023, routed (all to triage) and cleared by the clerk; a model trained and promoted."""
    root = tmp_path_factory.mktemp("suggest")
    url = f"sqlite:///{root / 'archive.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    archive = Archive(engine, root / "files")
    rng = random.Random(3)
    plan = [(t, datetime.date(2023, 1, 2) + datetime.timedelta(days=3 * i)) for i in range(40) for t in TOPICS]
    ids = _store(archive, [_letter(rng, t, day, n) for n, (t, day) in enumerate(plan)], "h")
    assert route_archive(archive, _router()).triage == len(ids)
    topics = {i: t for i, (t, _) in zip(ids, plan, strict=True)}
    for doc_id, topic in topics.items():
        target = TOPICS[topic][1]
        if target is None:
            file_document(archive, doc_id, CLERK)
        else:
            done(archive, add_task(archive, doc_id, target, CLERK), CLERK)
    report = train_and_promote(archive, root / "models" / "suggest")
    yield History(archive, url, root / "files", root / "models" / "suggest", topics, report.to_json())
    engine.dispose()


def test_the_history_is_the_decided_letters_with_their_done_tasks(history: History) -> None:
    examples = read_history(history.archive)
    assert len(examples) == len(history.topics)
    for e in examples:
        assert e.letter.document_id is not None
        want = TOPICS[history.topics[e.letter.document_id]][1]
        assert e.positives == ({want} if want else set())
    learn, held_out = split_by_date(examples)
    assert learn and held_out and max(e.day for e in learn) < min(e.day for e in held_out)  # older learn, newer judge


def test_the_model_is_saved_with_its_data_window_and_scores(history: History) -> None:
    assert history.report["promoted"] is True
    meta = json.loads((history.models / CURRENT / "meta.json").read_text(encoding="utf-8"))
    assert meta["labels"] == ["tw-med-education", "tw-nurses"]
    assert meta["window"]["train"]["letters"] + meta["window"]["held_out"]["letters"] == len(history.topics)
    assert meta["window"]["train"]["to"] < meta["window"]["held_out"]["from"]
    assert set(meta["held_out"]["per_label"]) == {"tw-med-education", "tw-nurses"}
    assert meta["held_out"]["p_at_1"] == 1.0 and meta["held_out"]["r_at_3"] == 1.0  # a topic per association


def test_new_letters_of_a_learnt_topic_get_their_association_first(history: History) -> None:
    model = load_model(history.models)
    assert model is not None
    rng = random.Random(11)
    day = datetime.date(2024, 6, 3)
    new = _store(history.archive, [_letter(rng, t, day, 9000 + n) for n, t in enumerate(TOPICS)], "new")
    route_archive(history.archive, _router(), ids=new)
    found = suggest(history.archive, model, new)
    flu, education, other = new
    assert [s.association for s in found[flu]][:1] == ["tw-nurses"]
    assert [s.association for s in found[education]][:1] == ["tw-med-education"]
    assert found[other] == []  # letters like it were filed: nothing scores 0.5
    with history.archive.engine.connect() as conn:  # suggesting made no task
        assert conn.scalar(select(func.count()).select_from(RoutingTask).where(RoutingTask.document_id.in_(new))) == 0


def _run(history: History, *args: str, models: Path | None = None) -> tuple[int, str, str]:
    from pipeline.cli import app

    env = {"GONGWEN_DATABASE_URL": history.url, "GONGWEN_FILES_DIR": str(history.files),
           "GONGWEN_MODELS_DIR": str(models or history.models.parent), "GONGWEN_CONFIG_DIR": str(ROOT / "config")}
    result = CliRunner().invoke(app, list(args), env=env)
    close_archives()
    return result.exit_code, result.stdout, result.stderr


def test_show_ranks_with_scores_and_past_letters_as_evidence(history: History) -> None:
    flu = next(i for i, t in history.topics.items() if t == "flu")
    code, out, _ = _run(history, "suggest", "show", str(flu), "--json")
    assert code == 0
    first = json.loads(out)["documents"][0]["suggestions"][0]
    assert first["association"] == "tw-nurses" and first["score"] >= 0.5
    assert first["note"].startswith("task #") and first["note"].endswith(" done")  # the clerk's own task
    assert first["evidence"] and all(history.topics[e["document_id"]] == "flu" for e in first["evidence"])
    code, out, _ = _run(history, "suggest", str(flu))  # `suggest LETTER` is `suggest show LETTER`
    assert code == 0 and "1. tw-nurses" in out and "like #" in out


def test_suggest_without_a_model_says_so_in_one_line(history: History, tmp_path: Path) -> None:
    code, out, err = _run(history, "suggest", "show", "1", models=tmp_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no suggestion model" in err and "gongwen suggest train" in err


def test_triage_list_shows_suggestions_and_accept_makes_the_task(history: History) -> None:
    rng = random.Random(5)
    [doc] = _store(history.archive, [_letter(rng, "education", datetime.date(2024, 7, 1), 9900)], "triage")
    route_archive(history.archive, _router(), ids=[doc])
    code, out, _ = _run(history, "queue", "list", "--status", "triage", "--json")
    listed = {d["document_id"]: d for d in json.loads(out)["documents"]}
    assert [s["association"] for s in listed[doc]["suggestions"]][:1] == ["tw-med-education"]
    code, out, _ = _run(history, "queue", "list", "--status", "triage")
    assert "suggested: tw-med-education" in out and f"gongwen suggest accept {doc} ASSOCIATION" in out
    code, out, _ = _run(history, "suggest", "accept", str(doc), "tw-med-education", "--as", CLERK, "--json")
    assert code == 0
    task = json.loads(out)
    assert task["rule"] == "manual" and task["association"] == "tw-med-education"
    assert "suggestion accepted (score" in task["reason"]
    code, _, err = _run(history, "suggest", "accept", str(doc), "tw-med-education")
    assert code == 1 and "already has task" in err


def _shuffled(examples: list[Example], seed: int) -> list[Example]:
    """The same letters with their answers dealt at random: a model that learns nothing."""
    answers = [e.positives for e in examples]
    random.Random(seed).shuffle(answers)
    return [Example(e.letter, e.day, a) for e, a in zip(examples, answers, strict=True)]


def test_a_worse_model_is_not_promoted(history: History) -> None:
    learn, held_out = split_by_date(read_history(history.archive))
    before = (history.models / CURRENT / "meta.json").read_text(encoding="utf-8")
    current = load_model(history.models)
    assert current is not None
    held_out = [e for e in held_out if e.day > datetime.date.fromisoformat(current.meta["window"]["train"]["to"])]
    bad: SuggestModel = train(_shuffled(learn, 1), iterations=6)
    bad.meta.update({"trained_at": "2099-01-01T00:00:00+00:00", "window": current.meta["window"]})
    report = promote_if_better(bad, held_out, history.models)
    assert not report.promoted and "<" in report.why
    assert (history.models / CURRENT / "meta.json").read_text(encoding="utf-8") == before
    last = json.loads((history.models / HISTORY).read_text(encoding="utf-8").splitlines()[-1])
    assert last["promoted"] is False and last["compared"]["candidate_score"] < last["compared"]["current_score"]


def test_rejections_count_against_the_association(history: History, tmp_path: Path) -> None:
    """A rule task the clerk rejected is a negative: the history carries it apart from the forwards."""
    rng = random.Random(8)
    [doc] = _store(history.archive, [_letter(rng, "flu", datetime.date(2024, 8, 1), 9950)], "rej")
    route_archive(history.archive, _router(), ids=[doc])
    reject(history.archive, add_task(history.archive, doc, "tw-physicians", CLERK), CLERK, "not theirs")
    [e] = [x for x in read_history(history.archive) if x.letter.document_id == doc]
    assert e.positives == set() and e.rejected == {"tw-physicians"}


def test_suggest_help_loads_no_spacy_archive_or_flow(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    code = ("import atexit, json, sys; sys.argv = ['gongwen', 'suggest', '--help'];"
            f"atexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules))));"
            "from pipeline.cli import main; main()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ}, cwd=ROOT)
    assert "Usage" in run.stdout, run.stderr
    tops = {m.split(".")[0] for m in json.loads(out.read_text())}
    assert tops & {"spacy", "sqlalchemy", "prefect"} == set()


def test_the_schedule_goes_on_after_a_failed_run() -> None:
    """`suggest serve`'s embedded scheduler (shared with serve-flows): a run that fails is logged, the next one runs."""
    from pipeline.flows import run_on_schedule

    calls: list[int] = []
    seen: list[object] = []

    def run() -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("too little history")
        return len(calls)

    assert run_on_schedule("* * * * * *", run, name="suggest-train", max_runs=2, on_run=seen.append) == 2
    assert calls == [0, 1] and seen == [2]
