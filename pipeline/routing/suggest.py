"""Routing suggestions learned from the clerks' own decisions (docs/routing.md#suggestions).

Rules cover the regular cases; what a clerk forwards by hand, and what a clerk rejects, is
knowledge the office has already paid for. A spaCy `textcat_multilabel` model (a bag of
character n-grams over a blank `zh` pipeline: its tokenizer splits per character, nothing is
downloaded) learns, per association, how likely a letter is to be forwarded to it.

What it learns from: every stored letter whose routing is decided, i.e. routed or filed with
no task still open (pending or claimed). A `done` task is a positive for its association; a
`rejected` one, and every association the letter did not go to, a negative (a letter filed or
routed with no task is negative for all). Letters in triage or with open tasks are left out:
their answer is not known yet. The text: sender and recipient (each also as one whole-name
token), subject and the 說明 items, in the matching form search and rules use (台/臺 alike).

A model is judged on letters newer than those it learned from (a split by date), and a new
model replaces the current one only when it scores at least as well on the same held-out
letters (`promote_if_better`). Suggestions never make tasks: a clerk accepts one with
`gongwen suggest accept` (= `gongwen queue add`, noting the suggestion).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import shutil
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from pipeline.db import Archive
from pipeline.errors import CommandError
from pipeline.matching import match_form
from pipeline.routing.queue import _to_taipei_date, load_inputs
from schemas.orm import AssociationRow, DocumentRow, RoutedDocument, RoutingTask
from schemas.routing import OPEN_STATUSES, RoutingInput

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

THRESHOLD = 0.5  # a score at least this is a suggestion (and counts as a prediction in the scores)
HOLDOUT_SHARE = 0.2  # the newest fifth of the decided letters judges a model
MIN_LETTERS = 20  # fewer decided letters than this: nothing worth learning
MIN_POSITIVES = 2  # an association forwarded to fewer times (in the training part) gets no label
ITERATIONS = 10
BATCH = 64
NGRAMS = 2  # characters and character pairs (pairs of marked name characters: the county of a party)
# hashed n-gram buckets: every update costs in proportion (2**18 trained 2.5 times slower, scored no better)
FEATURES = 2**16
BODY_CHARS = 300  # characters of 說明 read per letter: the start says what a letter is about
NAME_PREFIX = ("寄:", "受:")  # the whole-name tokens of the sender and the recipient
MODEL_DIR = "model"  # the spaCy pipeline, inside a model folder beside meta.json
META = "meta.json"
CURRENT, PREVIOUS = "current", "previous"
HISTORY = "history.jsonl"  # one line per training: promoted or not, and why


class SuggestError(CommandError):
    """Suggestions that cannot be given or trained; `exit_code` per docs/cli.md#exit-codes."""


def models_dir(archive: Archive) -> Path:
    """Where the suggestion models live: $GONGWEN_MODELS_DIR/suggest, else models/suggest in the file store."""
    base = os.environ.get("GONGWEN_MODELS_DIR")
    return (Path(base) if base else archive.files / "models") / "suggest"


# -- the history ---------------------------------------------------------------------


@dataclass
class Example:
    """One decided letter: what it says, when, and where the clerks sent it (or refused to)."""

    letter: RoutingInput
    day: datetime.date  # 發文日期, else the day it was stored
    positives: set[str]
    rejected: set[str] = field(default_factory=set)


def read_history(archive: Archive, since: datetime.date | None = None, batch: int = 1000) -> list[Example]:
    """Every decided letter (dated `since` or later), oldest first: plain reads, no lock held between batches."""
    d, r, t = DocumentRow, RoutedDocument, RoutingTask
    with archive.engine.connect() as conn:
        letters = conn.execute(
            select(d.id, d.issue_date, d.created_at)
            .join(r, r.document_id == d.id)
            .where(d.kind == "letter", d.version_of.is_(None), r.outcome.in_(("routed", "filed")))
        ).all()
        statuses: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for task in conn.execute(select(t.document_id, t.association_id, t.status)
                                 .join(r, r.document_id == t.document_id).where(r.outcome == "routed")):
            statuses[task.document_id].append((task.association_id, task.status))
    days: dict[int, datetime.date] = {}
    for row in letters:
        day = row.issue_date or _to_taipei_date(row.created_at)
        if since is not None and day < since:
            continue
        if any(status in OPEN_STATUSES for _, status in statuses.get(row.id, ())):
            continue  # not decided yet
        days[row.id] = day
    ids = sorted(days)
    examples: list[Example] = []
    for i in range(0, len(ids), batch):
        with archive.engine.connect() as conn:
            inputs = load_inputs(conn, ids[i : i + batch])
        for letter in inputs:
            assert letter.document_id is not None
            tasks = statuses.get(letter.document_id, [])
            examples.append(Example(letter, days[letter.document_id], {a for a, s in tasks if s == "done"},
                                    {a for a, s in tasks if s == "rejected"}))
    examples.sort(key=lambda e: (e.day, e.letter.document_id or 0))
    return examples


def split_by_date(examples: Sequence[Example], share: float = HOLDOUT_SHARE) -> tuple[list[Example], list[Example]]:
    """Older letters to learn from, the newest `share` to judge by; a day is never split between the two."""
    ordered = sorted(examples, key=lambda e: (e.day, e.letter.document_id or 0))
    if len(ordered) < 2:
        return list(ordered), []
    cut_day = ordered[min(len(ordered) - 1, int(len(ordered) * (1 - share)))].day
    train = [e for e in ordered if e.day < cut_day]
    test = [e for e in ordered if e.day >= cut_day]
    if not train:  # every letter of one day: split by order instead
        k = max(1, int(len(ordered) * (1 - share)))
        train, test = ordered[:k], ordered[k:]
    return train, test


# -- the model -------------------------------------------------------------------------


def letter_words(letter: RoutingInput) -> list[str]:
    """The tokens a letter is read as: each party whole and character by character (marked 寄/受, so that
    `臺南` in the sender is not `臺南` in the text), then the subject and the 說明 one character each,
    as spaCy's zh character segmenter splits them (the matching form has no spaces)."""
    sender, recipient = match_form(letter.sender), match_form(letter.recipient)
    words = [NAME_PREFIX[0] + sender, *(NAME_PREFIX[0][0] + c for c in sender), "｜",
             NAME_PREFIX[1] + recipient, *(NAME_PREFIX[1][0] + c for c in recipient), "｜"]
    words.extend(match_form(letter.subject or letter.title))
    words.append("｜")
    words.extend(match_form(" ".join(letter.explanation))[:BODY_CHARS])
    return words


def _doc(nlp: Language, letter: RoutingInput) -> Doc:
    from spacy.tokens import Doc

    words = letter_words(letter)
    return Doc(nlp.vocab, words=words, spaces=[False] * len(words))


# one scoring at a time per process: a model is cached and shared (the web application's threads)
_SPACY_LOCK = threading.Lock()


class SuggestModel:
    """A trained text categorizer and what is known of it (meta.json: data, window, scores)."""

    def __init__(self, nlp: Language, meta: dict[str, Any]) -> None:
        self.nlp = nlp
        self.meta = meta

    @property
    def labels(self) -> list[str]:
        return list(self.nlp.get_pipe("textcat_multilabel").labels)  # type: ignore[attr-defined]

    def scores(self, letters: Sequence[RoutingInput]) -> list[dict[str, float]]:
        """Per letter, every association's score (0-1: how likely a clerk forwards it there)."""
        textcat = self.nlp.get_pipe("textcat_multilabel")
        with _SPACY_LOCK:
            docs = list(textcat.pipe(_doc(self.nlp, x) for x in letters))  # type: ignore[attr-defined]
        return [dict(doc.cats) for doc in docs]

    def ranked(self, letters: Sequence[RoutingInput], threshold: float = THRESHOLD) -> list[list[tuple[str, float]]]:
        """Per letter, the associations scoring at least `threshold`, best first."""
        return [sorted(((a, s) for a, s in cats.items() if s >= threshold), key=lambda x: (-x[1], x[0]))
                for cats in self.scores(letters)]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(folder / MODEL_DIR)
        (folder / META).write_text(json.dumps(self.meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> SuggestModel:
        import spacy

        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        return cls(spacy.load(folder / MODEL_DIR), meta)


def train(examples: Sequence[Example], *, iterations: int = ITERATIONS, seed: int = 0,
          min_positives: int = MIN_POSITIVES, batch: int = BATCH) -> SuggestModel:
    """A model learnt from `examples`; labels: the associations forwarded to at least `min_positives` times."""
    import spacy
    from spacy.training import Example as SpacyExample
    from spacy.util import fix_random_seed, minibatch  # type: ignore[attr-defined]

    counts = Counter(a for e in examples for a in e.positives)
    labels = sorted(a for a, n in counts.items() if n >= min_positives)
    if not labels:
        raise SuggestError(f"too little history: no association was forwarded to {min_positives} times or more "
                           f"in {len(examples)} decided letters; train again when clerks have cleared more tasks")
    fix_random_seed(seed)
    nlp = spacy.blank("zh")  # the character segmenter: no download, no segmenter package
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": {
        "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": NGRAMS,
        "no_output_layer": False, "length": FEATURES}})
    for label in labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    data = [SpacyExample(_doc(nlp, e.letter), _doc(nlp, e.letter)) for e in examples]
    for eg, e in zip(data, examples, strict=True):
        eg.reference.cats = _cats(e, labels)
    optimizer = nlp.initialize(lambda: data[:100])  # spaCy's default: Adam, learning rate 0.001
    rng = random.Random(seed)
    for _ in range(iterations):
        rng.shuffle(data)
        for part in minibatch(data, size=batch):  # type: ignore[no-untyped-call]
            # the component itself, not nlp.update: that copies every example on every step
            textcat.update(part, sgd=optimizer, losses={})  # type: ignore[attr-defined]
    return SuggestModel(nlp, {"labels": labels, "iterations": iterations,
                              "letters": len(examples), "spacy": spacy.__version__})  # type: ignore[attr-defined]


def _cats(example: Example, labels: Sequence[str]) -> dict[str, float]:
    return {a: 1.0 if a in example.positives else 0.0 for a in labels}


# -- judging ---------------------------------------------------------------------------


@dataclass
class Counts:
    hits: int = 0  # letters where the association was predicted and is right
    predicted: int = 0
    relevant: int = 0

    def precision(self) -> float | None:
        return self.hits / self.predicted if self.predicted else None

    def recall(self) -> float | None:
        return self.hits / self.relevant if self.relevant else None

    def f1(self) -> float | None:
        p, r = self.precision(), self.recall()
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)


def at_k(ranked: Sequence[Sequence[str]], truth: Sequence[set[str]], k: int | None) -> dict[str, Counts]:
    """Per association: how often it is among the first `k` predictions (all with None) and rightly so."""
    out: dict[str, Counts] = defaultdict(Counts)
    for predicted, right in zip(ranked, truth, strict=True):
        for a in predicted[:k]:
            out[a].predicted += 1
            out[a].hits += a in right
        for a in right:
            out[a].relevant += 1
    return dict(out)


def total(counts: dict[str, Counts]) -> Counts:
    """Micro average: every (letter, association) decision counted once."""
    return Counts(sum(c.hits for c in counts.values()), sum(c.predicted for c in counts.values()),
                  sum(c.relevant for c in counts.values()))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def score_of(ranked: Sequence[Sequence[str]], truth: Sequence[set[str]]) -> dict[str, Any]:
    """Precision at 1, recall at 3 (micro), their mean (`score`: what promotion compares) and per label P/R/F."""
    p1 = total(at_k(ranked, truth, 1)).precision()
    r3 = total(at_k(ranked, truth, 3)).recall()
    every = at_k(ranked, truth, None)
    micro = total(every)
    return {
        "letters": len(truth),
        "p_at_1": _round(p1), "r_at_3": _round(r3),
        "score": round(((p1 or 0.0) + (r3 or 0.0)) / 2, 4),
        "precision": _round(micro.precision()), "recall": _round(micro.recall()), "f1": _round(micro.f1()),
        "per_label": {a: {"precision": _round(c.precision()), "recall": _round(c.recall()), "f1": _round(c.f1()),
                          "support": c.relevant} for a, c in sorted(every.items())},
    }


def evaluate(model: SuggestModel, examples: Sequence[Example]) -> dict[str, Any]:
    ranked = [[a for a, _ in r] for r in model.ranked([e.letter for e in examples])]
    return score_of(ranked, [e.positives for e in examples])


# -- training and promotion ------------------------------------------------------------


@dataclass
class TrainReport:
    promoted: bool
    why: str
    folder: str
    meta: dict[str, Any]
    current: dict[str, Any] | None = None  # the current model's scores on the same letters, when there was one

    def to_json(self) -> dict[str, Any]:
        return {"promoted": self.promoted, "why": self.why, "folder": self.folder, "model": self.meta,
                "current": self.current}


def _window(examples: Sequence[Example]) -> dict[str, Any]:
    return {"from": examples[0].day.isoformat() if examples else None,
            "to": examples[-1].day.isoformat() if examples else None, "letters": len(examples)}


def load_model(folder: Path) -> SuggestModel | None:
    """The current model under `folder`, or None when none was trained (or promoted) yet."""
    current = folder / CURRENT
    if not (current / META).is_file():
        return None
    return _cached(str(current), (current / META).stat().st_mtime_ns)


_models: dict[tuple[str, int], SuggestModel] = {}


def _cached(path: str, stamp: int) -> SuggestModel:
    key = (path, stamp)
    if key not in _models:
        _models.clear()
        _models[key] = SuggestModel.load(Path(path))
    return _models[key]


def promote_if_better(candidate: SuggestModel, held_out: Sequence[Example], folder: Path) -> TrainReport:
    """Make `candidate` the current model unless it scores below the current one on the same held-out
    letters (those the current one did not learn from); a candidate not promoted is not kept."""
    current = load_model(folder)
    compared: dict[str, Any] | None = None
    promoted, why = True, "no current model"
    if current is not None:
        learnt_to = datetime.date.fromisoformat(current.meta["window"]["train"]["to"])
        unseen = [e for e in held_out if e.day > learnt_to]
        if not unseen:
            why = f"no held-out letter is newer than the current model's training ({learnt_to}): nothing to compare on"
        else:
            new, old = evaluate(candidate, unseen), evaluate(current, unseen)
            compared = {"letters": len(unseen), "candidate_score": new["score"], "current_score": old["score"],
                        "current_trained_at": current.meta.get("trained_at")}
            promoted = new["score"] >= old["score"]
            why = (f"score {new['score']:.3f} {'>=' if promoted else '<'} the current model's {old['score']:.3f} "
                   f"on the same {len(unseen)} held-out letters")
    candidate.meta["promoted"] = promoted
    if promoted:
        _install(candidate, folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / HISTORY).open("a", encoding="utf-8") as log:
        log.write(json.dumps({"trained_at": candidate.meta.get("trained_at"), "promoted": promoted, "why": why,
                              "score": candidate.meta.get("held_out", {}).get("score"), "compared": compared},
                             ensure_ascii=False) + "\n")
    return TrainReport(promoted, why, str(folder / CURRENT), candidate.meta, compared)


def _install(model: SuggestModel, folder: Path) -> None:
    """Write the model beside the current one, then swap: readers see the old model or the new, whole."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f".new-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    model.save(staging)
    current, previous = folder / CURRENT, folder / PREVIOUS
    if current.exists():
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(current, previous)
    os.replace(staging, current)


def train_and_promote(archive: Archive, folder: Path | None = None, *, since: datetime.date | None = None,
                      iterations: int = ITERATIONS, seed: int = 0) -> TrainReport:
    """Read the decided letters, learn from the older ones, judge on the newest, promote if not worse."""
    folder = folder or models_dir(archive)
    examples = read_history(archive, since)
    if len(examples) < MIN_LETTERS:
        raise SuggestError(f"too little history: {len(examples)} decided letters"
                           f"{f' since {since}' if since else ''} (at least {MIN_LETTERS}); "
                           "train again when clerks have cleared more tasks")
    learn, held_out = split_by_date(examples)
    model = train(learn, iterations=iterations, seed=seed)
    model.meta.update({
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "archive": archive.url,
        "since": since.isoformat() if since else None,
        "window": {"train": _window(learn), "held_out": _window(held_out)},
        "positives": sum(len(e.positives) for e in learn),
        "rejections": sum(len(e.rejected) for e in learn),
        "threshold": THRESHOLD,
        "held_out": evaluate(model, held_out),
    })
    return promote_if_better(model, held_out, folder)


# -- suggestions -----------------------------------------------------------------------


@dataclass
class Suggestion:
    association: str
    name: str
    score: float
    note: str | None = None  # a rule's target already, a task that exists, a body that has the letter
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"association": self.association, "name": self.name, "score": round(self.score, 4),
                "note": self.note, "evidence": self.evidence}


def suggest(archive: Archive, model: SuggestModel, document_ids: Sequence[int], *, top: int = 3,
            threshold: float = THRESHOLD, router: Any = None, evidence: int = 0) -> dict[int, list[Suggestion]]:
    """The best `top` associations scoring at least `threshold` per document (active associations only).

    With `router`, each says whether a rule already targets it or the body already has the letter;
    with `evidence`, up to that many past letters forwarded to it, the most alike first.
    """
    with archive.engine.connect() as conn:
        letters = load_inputs(conn, document_ids)
        active = dict(conn.execute(select(AssociationRow.id, AssociationRow.name).where(AssociationRow.active)).all())
        tasks = {(x.document_id, x.association_id): (x.id, x.status) for x in conn.execute(
            select(RoutingTask.id, RoutingTask.document_id, RoutingTask.association_id, RoutingTask.status)
            .where(RoutingTask.document_id.in_(document_ids)))}
    out: dict[int, list[Suggestion]] = {}
    for letter, cats in zip(letters, model.scores(letters), strict=True):
        assert letter.document_id is not None
        ranked = sorted(((a, s) for a, s in cats.items() if s >= threshold and a in active), key=lambda x: (-x[1], x[0]))
        notes = _notes(router, letter) if router is not None else {}
        found = []
        for a, s in ranked[:top]:
            task = tasks.get((letter.document_id, a))
            note = f"task #{task[0]} {task[1]}" if task else notes.get(a)
            found.append(Suggestion(a, active[a], s, note))
        out[letter.document_id] = found
    if evidence:
        with archive.engine.connect() as conn:
            for letter in letters:
                for one in out[letter.document_id or 0]:
                    one.evidence = similar_letters(conn, letter, one.association, evidence)
    return out


def _notes(router: Any, letter: RoutingInput) -> dict[str, str]:
    decision = router.route(letter)
    notes = {t.association: f"rule target ({t.rule})" for t in decision.targets}
    for s in decision.skipped:
        if s.association is not None:
            notes.setdefault(s.association, s.why)
    return notes


def _pairs(text: str) -> set[str]:
    form = match_form(text)
    return {form[i : i + 2] for i in range(len(form) - 1)}


def similar_letters(conn: Any, letter: RoutingInput, association: str, n: int, pool: int = 2000) -> list[dict[str, Any]]:
    """Past letters forwarded to `association` (done tasks, the newest `pool`) whose subject and sender share
    the most character pairs with this letter's: the evidence a clerk can check, since a bag of n-grams'
    weights say little to a person."""
    want = _pairs(f"{letter.sender or ''}{letter.subject or letter.title or ''}")
    if not want:
        return []
    d, t = DocumentRow, RoutingTask
    rows = conn.execute(
        select(d.id, d.doc_number, d.issue_date, d.sender, d.subject)
        .join(t, t.document_id == d.id)
        .where(t.association_id == association, t.status == "done", d.id != letter.document_id)
        .order_by(d.id.desc()).limit(pool)
    ).all()
    scored = []
    for row in rows:
        have = _pairs(f"{row.sender or ''}{row.subject or ''}")
        if have:
            scored.append((len(want & have) / math.sqrt(len(want) * len(have)), row))
    scored.sort(key=lambda x: (-x[0], -x[1].id))
    return [{"document_id": row.id, "doc_number": row.doc_number, "issue_date": row.issue_date.isoformat()
             if row.issue_date else None, "sender": row.sender, "subject": row.subject, "similarity": round(sim, 3)}
            for sim, row in scored[:n] if sim > 0]
