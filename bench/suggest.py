"""Routing suggestions judged on held-out letters: the model, the rules alone, and a simple baseline.

THE HISTORY IS SYNTHETIC. No office's real decisions are in the repository, so this bench makes
a history to learn from and judge on, and its figures say how well the model recovers a practice
that was put there on purpose, not how well it will do in a real office:

- letters: `bench/archive.py`'s `Generator` (the samples' letters with senders and recipients
  drawn from the gazetteer, topics and phrases cut from the samples, dates over fourteen years),
  one letter per file, stored in a temporary archive (in /dev/shm when there is one);
- the shipped rules (`config/rules.yaml`, `config/associations.yaml`) route them (`route_archive`);
- a simulated clerk clears the queue through the queue's own actions (`done`, `reject`,
  `add_task`, `file_document`), following the rules and a practice the rules do not know
  (`HIDDEN`: topics the office also forwards, and one kind of rule task it always rejects),
  with noise: a forward of the practice forgotten now and then, a few rule tasks rejected at
  random, a few letters forwarded somewhere at random.

Then the model is trained by the code `gongwen suggest train` runs (`read_history`, `split_by_date`,
`train`) on the older letters and judged on the newer ones (the newest fifth, by 發文日期), beside:
- the rules alone: the targets of the rules' decision, in the decision's order;
- a baseline: per sender, the associations its earlier letters went to, the most frequent first;
- what a clerk is shown: the rules' targets, then the model's suggestions beyond them.

Per association and in total (micro): precision and recall at 1 and 3 (a method's first k
predictions per letter). The model counts a prediction only at a score of at least 0.5 (what
`gongwen suggest` shows); its plain ranking (no threshold) is given too. Also: the share of the
clerk's own additions (beyond the rules) that each method finds in its first 3, and how often a
rule task the clerk rejected is still predicted.

    .venv/bin/python bench/suggest.py [--letters 4000] [--seed 7] [--iterations 10] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.archive import Generator  # noqa: E402
from pipeline.db import Archive, make_engine, upgrade  # noqa: E402
from pipeline.matching import match_form  # noqa: E402
from pipeline.routing.config import load_config  # noqa: E402
from pipeline.routing.engine import Router  # noqa: E402
from pipeline.routing.queue import add_task, done, file_document, reject, route_archive  # noqa: E402
from pipeline.routing.suggest import (  # noqa: E402
    ITERATIONS,
    THRESHOLD,
    Example,
    at_k,
    read_history,
    split_by_date,
    total,
    train,
)
from pipeline.store import store_results  # noqa: E402
from schemas.letter import Document, FileResult  # noqa: E402
from schemas.orm import RoutingTask  # noqa: E402

CONFIG = ROOT / "config"
CLERK = "模擬承辦人"  # the simulated clerk, as the tasks' history names it

# The office's unwritten practice (synthetic): (name, test on the letter, association).
# The test reads the match form of the subject + 說明 (`text`), of the 說明 alone (`body`),
# of the sender and recipient (`parties`), and the letter's date.
Letter = dict[str, Any]
HIDDEN: list[tuple[str, Callable[[Letter], bool], str]] = [
    ("continuing education → the medical education society",
     lambda x: "繼續教育" in x["text"], "tw-med-education"),
    ("vaccines and influenza → the nurses' federation",
     lambda x: "疫苗" in x["text"] or "流感" in x["text"], "tw-nurses"),
    ("medicines named in the 說明 (the rules read the subject) → the pharmacists' federation",
     lambda x: "藥品" in x["body"] or "藥物" in x["body"], "tw-pharmacists"),
    ("since 2020, Tainan's health-insurance letters → Tainan's clinics' association",
     lambda x: ("健保" in x["text"] or "全民健康保險" in x["text"]) and "臺南" in x["parties"]
     and x["day"] >= datetime.date(2020, 1, 1), "tnn-clinics"),
]
# a rule task the clerk always rejects: tax matters are not the physicians' federation's business
HIDDEN_REJECT = ("tw-physicians", "稅")
OWN = "clerk's own found in first 3"
FORGET = 0.1  # a forward of the practice the clerk forgets
RANDOM_REJECT = 0.03  # a rule task rejected for no reason the text shows
RANDOM_FORWARD = 0.02  # a letter also forwarded to an association at random


def _facts(doc: Document) -> Letter:
    body = " ".join(_items(doc))
    return {"text": match_form(f"{doc.subject or ''} {body}"), "body": match_form(body),
            "parties": match_form(f"{doc.sender or ''} {doc.recipient or ''}"),
            "day": doc.issue_date or datetime.date(2020, 1, 1)}


def _items(doc: Document) -> list[str]:
    out: list[str] = []
    stack = list(reversed(doc.explanation or []))
    while stack:
        item = stack.pop()
        out.append(item.text)
        stack.extend(reversed(item.children or []))
    return out


class Clerk:
    """Clears the queue as the office's clerk would: the rules' tasks, the hidden practice, and noise."""

    def __init__(self, archive: Archive, names: dict[str, str], seed: int) -> None:
        self.archive, self.names, self.rng = archive, names, random.Random(seed)
        self.ids = sorted(names)
        self.stats: Counter[str] = Counter()

    def decide(self, document_id: int, doc: Document, tasks: dict[str, int]) -> None:
        facts = _facts(doc)
        for association, task in tasks.items():
            if association == HIDDEN_REJECT[0] and HIDDEN_REJECT[1] in match_form(doc.subject):
                reject(self.archive, task, CLERK, "稅務: not the federation's business")
                self.stats["rejected (practice)"] += 1
            elif self.rng.random() < RANDOM_REJECT:
                reject(self.archive, task, CLERK, "not relevant")
                self.stats["rejected (noise)"] += 1
            else:
                done(self.archive, task, CLERK)
                self.stats["done (rule)"] += 1
        wanted = [a for _, test, a in HIDDEN if test(facts) and self.rng.random() >= FORGET]
        if self.rng.random() < RANDOM_FORWARD:
            wanted.append(self.rng.choice(self.ids))
            self.stats["forwarded (noise)"] += 1
        added = 0
        for association in dict.fromkeys(wanted):
            if association in tasks or match_form(self.names[association]) == match_form(doc.sender):
                continue
            task = add_task(self.archive, document_id, association, CLERK, "clerk's own decision")
            done(self.archive, task, CLERK)
            self.stats["done (clerk's own)"] += 1
            added += 1
        if not tasks and not added:
            try:
                file_document(self.archive, document_id, CLERK, "nothing to forward")
                self.stats["filed"] += 1
            except Exception:  # routed with no task (a rule with `to: []`): nothing to file
                self.stats["routed, no task"] += 1


def build(archive: Archive, letters: int, seed: int) -> dict[str, Any]:
    """Store `letters` generated letters, route them with the shipped rules, let the clerk clear the queue."""
    gen = Generator(seed=seed)
    t0 = time.perf_counter()
    docs = [gen.letter() for _ in range(letters)]
    files = [FileResult(file=f"bench/{i:06d}.pdf", sha256=hashlib.sha256(f"suggest-{seed}-{i}".encode()).hexdigest(),
                        pages=d.pages[-1], text_source="bench", documents=[d]) for i, d in enumerate(docs)]
    reports = store_results(archive, [(f, None) for f in files], batch=500)
    by_id = {r.documents[0]: d for r, d in zip(reports, docs, strict=True) if r.documents}
    stored = time.perf_counter() - t0
    config = load_config(CONFIG / "rules.yaml", CONFIG / "associations.yaml")
    summary = route_archive(archive, Router(config))
    with archive.engine.connect() as conn:
        tasks: dict[int, dict[str, int]] = defaultdict(dict)
        for row in conn.execute(RoutingTask.__table__.select()):
            tasks[row.document_id][row.association_id] = row.id
    clerk = Clerk(archive, {a.id: a.name for a in config.associations}, seed)
    t1 = time.perf_counter()
    for document_id, doc in by_id.items():
        clerk.decide(document_id, doc, tasks.get(document_id, {}))
    return {"letters": len(by_id), "routing": summary.line(), "clerk": dict(sorted(clerk.stats.items())),
            "seconds": {"store": round(stored, 1), "clerk": round(time.perf_counter() - t1, 1)}}


# -- the three methods -------------------------------------------------------------------


def rules_ranked(router: Router, examples: Sequence[Example]) -> list[list[str]]:
    return [[t.association for t in router.route(e.letter).targets] for e in examples]


def baseline_ranked(learn: Sequence[Example], examples: Sequence[Example]) -> list[list[str]]:
    """Per sender, the associations its earlier letters went to, the most frequent first."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    for e in learn:
        seen[match_form(e.letter.sender)].update(e.positives)
    return [[a for a, _ in sorted(seen[match_form(e.letter.sender)].items(), key=lambda x: (-x[1], x[0]))]
            for e in examples]


def _figures(ranked: list[list[str]], truth: list[set[str]], overrides: list[set[str]],
             rejected: list[set[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in (1, 3):
        c = total(at_k(ranked, truth, k))
        out[f"P@{k}"], out[f"R@{k}"] = c.precision(), c.recall()
    found = sum(len(set(r[:3]) & o) for r, o in zip(ranked, overrides, strict=True))
    out[OWN] = found / max(1, sum(map(len, overrides)))
    kept = sum(len(set(r[:3]) & x) for r, x in zip(ranked, rejected, strict=True))
    out["rejected still predicted"] = kept / max(1, sum(map(len, rejected)))
    out["per association"] = {
        a: {f"{m}@{k}": v for k in (1, 3) for m, v in (("P", at_k(ranked, truth, k).get(a)),
                                                        ("R", at_k(ranked, truth, k).get(a)))}
        for a in sorted({a for t in truth for a in t})
    }
    for a, row in out["per association"].items():
        for key, counts in list(row.items()):
            row[key] = None if counts is None else (counts.precision() if key[0] == "P" else counts.recall())
        row["support"] = sum(a in t for t in truth)
    return out


def judge(archive: Archive, iterations: int, seed: int) -> dict[str, Any]:
    examples = read_history(archive)
    learn, held_out = split_by_date(examples)
    t0 = time.perf_counter()
    model = train(learn, iterations=iterations, seed=seed)
    trained = time.perf_counter() - t0
    router = Router(load_config(CONFIG / "rules.yaml", CONFIG / "associations.yaml"))
    rules = rules_ranked(router, held_out)
    truth = [e.positives for e in held_out]
    overrides = [e.positives - set(r) for e, r in zip(held_out, rules, strict=True)]
    rejected = [e.rejected for e in held_out]
    t1 = time.perf_counter()
    scores = model.scores([e.letter for e in held_out])
    per_letter_ms = (time.perf_counter() - t1) * 1000 / max(1, len(held_out))
    ordered = [sorted(s, key=lambda a: (-s[a], a)) for s in scores]
    suggested = [[a for a in o if s[a] >= THRESHOLD] for o, s in zip(ordered, scores, strict=True)]
    methods = {
        f"model (score >= {THRESHOLD})": suggested,
        "model (ranking, no threshold)": ordered,
        "rules alone": rules,
        "baseline (sender → most frequent)": baseline_ranked(learn, held_out),
        "rules, then the model's suggestions": [[*r, *(a for a in m if a not in r)] for r, m in zip(rules, suggested, strict=True)],
    }
    return {
        "train": {"letters": len(learn), "from": learn[0].day.isoformat(), "to": learn[-1].day.isoformat(),
                  "labels": len(model.labels), "seconds": round(trained, 1), "iterations": iterations},
        "held out": {"letters": len(held_out), "from": held_out[0].day.isoformat(), "to": held_out[-1].day.isoformat(),
                     "forwards": sum(map(len, truth)), "clerk's own (beyond the rules)": sum(map(len, overrides)),
                     "rejected rule tasks": sum(map(len, rejected)), "model ms per letter": round(per_letter_ms, 2)},
        "methods": {name: _figures(r, truth, overrides, rejected) for name, r in methods.items()},
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:6.1%}"


def table(result: dict[str, Any], associations: int = 12) -> str:
    lines = ["SYNTHETIC HISTORY (see the docstring): a practice put there on purpose, not a real office's.",
             f"history: {json.dumps(result['history'], ensure_ascii=False)}",
             f"train: {json.dumps(result['train'], ensure_ascii=False)}",
             f"held out: {json.dumps(result['held out'], ensure_ascii=False)}", ""]
    head = f"{'method':38} {'P@1':>7} {'R@1':>7} {'P@3':>7} {'R@3':>7} {'own in 3':>9} {'rejected':>9}"
    lines.append(head)
    for name, f in result["methods"].items():
        lines.append(f"{name:38} {_pct(f['P@1'])} {_pct(f['R@1'])} {_pct(f['P@3'])} {_pct(f['R@3'])} "
                     f"{_pct(f[OWN]):>9} {_pct(f['rejected still predicted']):>9}")
    first = next(iter(result["methods"].values()))["per association"]
    busiest = sorted(first, key=lambda a: -first[a]["support"])[:associations]
    hidden = [a for _, _, a in HIDDEN if a not in busiest]
    lines.append("")
    lines.append(f"per association (P@1 R@1 P@3 R@3), the {associations} most forwarded and the practice's targets:")
    for a in [*busiest, *hidden]:
        if a not in first:
            continue
        lines.append(f"  {a} ({first[a]['support']} forwards)")
        for name, f in result["methods"].items():
            row = f["per association"][a]
            lines.append(f"    {name:36} {_pct(row['P@1'])} {_pct(row['R@1'])} {_pct(row['P@3'])} {_pct(row['R@3'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    shm = Path("/dev/shm")
    tmp = Path(tempfile.mkdtemp(prefix="gongwen-bench-suggest-", dir=shm if shm.is_dir() else None))
    try:
        engine = make_engine(f"sqlite:///{tmp / 'archive.sqlite'}")
        upgrade(engine)
        archive = Archive(engine, tmp / "files")
        history = build(archive, args.letters, args.seed)
        result = {"history": history, **judge(archive, args.iterations, args.seed)}
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else table(result))


if __name__ == "__main__":
    main()
