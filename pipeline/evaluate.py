"""`gongwen eval`: per-field exact-match accuracy of the extractor against hand-written goldens.

Exact means equal after whitespace is collapsed (a space printed between a title and a
name, or between two Han characters, is layout, not content); nothing else is forgiven:
not full-/half-width, not 臺/台.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.extract import extract_file
from schemas.letter import Document, FileResult

LETTER_FIELDS = (
    "pages", "file_code", "retention", "sender", "doc_type",
    "contact.address", "contact.name", "contact.title", "contact.phone", "contact.fax", "contact.email",
    "recipient", "issue_date", "doc_number", "speed", "security", "attachments", "subject",
    "explanation", "measures", "cc_main", "cc_copy", "cc_with_attachments", "signatory",
    "meeting_time", "meeting_place", "chair", "attendees", "observers", "notes",
    "received", "references", "dates", "deadline",
)
FORM_FIELDS = ("pages", "form_number", "title", "compiler", "period", "due", "distribution", "dates")
OTHER_FIELDS = ("pages", "dates")
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {"letter": LETTER_FIELDS, "form": FORM_FIELDS, "other": OTHER_FIELDS}

_SPACE_BETWEEN_ASCII = re.compile(r"(?<=[A-Za-z0-9])\s+(?=[A-Za-z0-9])")
_SPACES = re.compile(r"\s+")


def norm_text(s: str) -> str:
    s = _SPACE_BETWEEN_ASCII.sub("\x00", s.strip())
    return _SPACES.sub("", s).replace("\x00", " ")


def normalise(value: Any, key: str = "") -> Any:
    """A comparable form of a field value; empty lists and blank strings are None."""
    if value is None:
        return None
    if isinstance(value, str):
        return norm_text(value) or None
    if isinstance(value, dict):
        if key == "dates" or ("date" in value and "text" in value and len(value) == 2):
            return value.get("date")
        if "label" in value and "text" in value:
            return (norm_text(str(value["label"])), norm_text(str(value["text"])), normalise(value.get("children") or []))
        return tuple(sorted((k, normalise(v, k)) for k, v in value.items() if normalise(v, k) is not None)) or None
    if isinstance(value, list | tuple):
        items = [normalise(v, key) for v in value]
        if key == "dates":
            return tuple(sorted(str(i) for i in items)) or None
        return tuple(items) or None
    return value


def get_field(doc: dict[str, Any], name: str) -> Any:
    cur: Any = doc
    for part in name.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


@dataclass
class Failure:
    file: str
    document: int
    field: str
    expected: Any
    got: Any


@dataclass
class Report:
    files: int = 0
    documents: int = 0
    per_field: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    non_empty: list[int] = field(default_factory=lambda: [0, 0])
    low_confidence: list[tuple[str, int, str, float]] = field(default_factory=list)

    @property
    def total(self) -> tuple[int, int]:
        right = sum(v[0] for v in self.per_field.values())
        return right, sum(v[1] for v in self.per_field.values())

    def accuracy(self) -> float:
        right, total = self.total
        return right / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        right, total = self.total
        return {
            "files": self.files,
            "documents": self.documents,
            "fields_right": right,
            "fields_total": total,
            "accuracy": round(self.accuracy(), 4),
            "non_empty_accuracy": round(self.non_empty[0] / self.non_empty[1], 4) if self.non_empty[1] else None,
            "per_field": {
                k: {"right": v[0], "total": v[1], "accuracy": round(v[0] / v[1], 4)}
                for k, v in sorted(self.per_field.items())
            },
            "failures": [f.__dict__ for f in self.failures],
            "errors": self.errors,
            "low_confidence": [
                {"file": f, "document": d, "field": k, "confidence": c} for f, d, k, c in self.low_confidence
            ],
        }


def _align(golden: list[dict[str, Any]], got: list[Document]) -> list[dict[str, Any] | None]:
    """Pair each golden document with the extracted one that starts on the same page."""
    by_start = {d.pages[0]: d.model_dump(mode="json") for d in got if d.pages}
    return [by_start.get((g.get("pages") or [None])[0]) for g in golden]


def compare(golden: dict[str, Any], result: FileResult, report: Report, low_conf: float = 0.6) -> None:
    name = str(golden.get("file"))
    report.files += 1
    if result.error:
        report.errors.append(f"{name}: {result.error}")
    docs = golden.get("documents", [])
    predicted = _align(docs, result.documents)
    for i, (g, p) in enumerate(zip(docs, predicted, strict=True)):
        report.documents += 1
        kind = g.get("kind", "letter")
        kind_right = p is not None and p.get("kind") == kind
        _count(report, "kind", kind_right, name, i, kind, p and p.get("kind"), non_empty=True)
        for f in FIELDS_BY_KIND.get(kind, OTHER_FIELDS):
            expected = normalise(get_field(g, f), f.split(".")[-1])
            got = normalise(get_field(p, f), f.split(".")[-1]) if p else None
            _count(report, f, expected == got, name, i, get_field(g, f), get_field(p, f) if p else None,
                   non_empty=expected is not None)
        if p:
            for k, c in (p.get("confidence") or {}).items():
                if c < low_conf:
                    report.low_confidence.append((name, i, k, c))


def _count(report: Report, f: str, ok: bool, name: str, i: int, expected: Any, got: Any, non_empty: bool) -> None:
    report.per_field[f][1] += 1
    if non_empty:
        report.non_empty[1] += 1
    if ok:
        report.per_field[f][0] += 1
        if non_empty:
            report.non_empty[0] += 1
    else:
        report.failures.append(Failure(name, i, f, expected, got))


def golden_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith(".layout.json"))


def evaluate(directory: Path, extract: Callable[[Path], FileResult] = extract_file) -> Report:
    report = Report()
    for golden_path in golden_files(directory):
        golden = json.loads(golden_path.read_text(encoding="utf-8"))
        pdf = golden_path.with_name(str(golden.get("file") or golden_path.with_suffix(".pdf").name))
        if not pdf.exists():
            report.errors.append(f"{golden_path.name}: no PDF {pdf.name} beside it")
            continue
        compare(golden, extract(pdf), report)
    return report
