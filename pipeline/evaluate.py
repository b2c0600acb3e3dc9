"""`gongwen eval`: per-field exact-match accuracy of the extractor against hand-written goldens.

Exact means equal after whitespace is collapsed (a space printed between a title and a
name, or between two Han characters, is layout, not content); nothing else is forgiven:
not full-/half-width, not 臺/台, not the order of dates or their printed text. Accuracy is
given over all fields and over the fields whose golden has a value: an extractor that finds
nothing is right about every blank field, so the second figure is the one to judge by.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

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

# what a DI file (an electronic letter) has no element for: left out when a DI file's letter is compared
NOT_IN_DI = ("pages", "file_code", "retention", "received")
DI_SOURCE = "di"  # FileResult.text_source of a DI file (pipeline/di.py)

LONG_TEXT_FIELDS = ("subject", "attachments")
ITEM_FIELDS = ("explanation", "measures", "notes")
MAX_CER = 0.02  # a long text read by OCR counts as right at this character error rate

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
            # a date mention is right when both the printed text and the date are
            return (norm_text(str(value.get("text") or "")), value.get("date"))
        if "label" in value and "text" in value:
            return (norm_text(str(value["label"])), norm_text(str(value["text"])), normalise(value.get("children") or []))
        return tuple(sorted((k, normalise(v, k)) for k, v in value.items() if normalise(v, k) is not None)) or None
    if isinstance(value, list | tuple):
        # order counts, for dates too: they are listed in order of appearance
        return tuple(normalise(v, key) for v in value) or None
    return value


def cer_text(s: str) -> str:
    """What CER is computed on: NFKC, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def cer(expected: str, got: str | None) -> float:
    e, g = cer_text(expected), cer_text(got or "")
    if not e:
        return 0.0 if not g else 1.0
    return Levenshtein.distance(e, g) / len(e)


def flatten_items(items: list[dict[str, Any]] | None, prefix: str = "") -> list[tuple[str, str]]:
    """(path of labels, text) of every item, depth first: `一`, `一/(1)`…"""
    out: list[tuple[str, str]] = []
    for it in items or []:
        path = f"{prefix}/{it.get('label', '')}" if prefix else str(it.get("label", ""))
        out.append((path, str(it.get("text", ""))))
        out.extend(flatten_items(it.get("children"), path))
    return out


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
    # per field, counting only documents whose golden has a value there (nulls are easy)
    per_field_non_empty: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    low_confidence: list[tuple[str, int, str, float]] = field(default_factory=list)
    # OCR-tolerant counting: long texts right at CER <= 2 %, each item of a tree counted on its own
    tolerant: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    tolerant_failures: list[Failure] = field(default_factory=list)

    def tolerant_accuracy(self) -> float:
        right = sum(v[0] for v in self.tolerant.values())
        total = sum(v[1] for v in self.tolerant.values())
        return right / total if total else 0.0

    @property
    def total(self) -> tuple[int, int]:
        right = sum(v[0] for v in self.per_field.values())
        return right, sum(v[1] for v in self.per_field.values())

    def accuracy(self) -> float:
        right, total = self.total
        return right / total if total else 0.0

    def non_empty_accuracy(self) -> float:
        return self.non_empty[0] / self.non_empty[1] if self.non_empty[1] else 0.0

    def worst_first(self) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
        """(field, (right, total) over fields with a value, (right, total) over all), worst first."""
        rows = []
        for name, (ok, n) in self.per_field.items():
            ok_v, n_v = self.per_field_non_empty.get(name, [0, 0])
            rows.append((name, (ok_v, n_v), (ok, n)))
        return sorted(rows, key=lambda r: (r[1][0] / r[1][1] if r[1][1] else 1.0, r[2][0] / r[2][1], r[0]))

    def to_json(self) -> dict[str, Any]:
        right, total = self.total
        return {
            "files": self.files,
            "documents": self.documents,
            "fields_right": right,
            "fields_total": total,
            "accuracy": round(self.accuracy(), 4),
            "non_empty_right": self.non_empty[0],
            "non_empty_total": self.non_empty[1],
            "non_empty_accuracy": round(self.non_empty[0] / self.non_empty[1], 4) if self.non_empty[1] else None,
            "per_field": {
                k: {
                    "right": v[0], "total": v[1], "accuracy": round(v[0] / v[1], 4),
                    "non_empty_right": ne[0], "non_empty_total": ne[1],
                    "non_empty_accuracy": round(ne[0] / ne[1], 4) if ne[1] else None,
                }
                for k, v, ne in ((k, v, self.per_field_non_empty.get(k, [0, 0])) for k, v in sorted(self.per_field.items()))
            },
            "tolerant_accuracy": round(self.tolerant_accuracy(), 4),
            "tolerant_per_field": {
                k: {"right": v[0], "total": v[1], "accuracy": round(v[0] / v[1], 4)}
                for k, v in sorted(self.tolerant.items())
            },
            "failures": [f.__dict__ for f in self.failures],
            "tolerant_failures": [f.__dict__ for f in self.tolerant_failures],
            "errors": self.errors,
            "low_confidence": [
                {"file": f, "document": d, "field": k, "confidence": c} for f, d, k, c in self.low_confidence
            ],
        }


def _align(golden: list[dict[str, Any]], got: list[Document], di: bool = False) -> list[dict[str, Any] | None]:
    """Pair each golden document with the extracted one that starts on the same page (a DI file's: in order)."""
    if di:
        dumped: list[dict[str, Any] | None] = [d.model_dump(mode="json") for d in got]
        return (dumped + [None] * len(golden))[: len(golden)]
    by_start = {d.pages[0]: d.model_dump(mode="json") for d in got if d.pages}
    return [by_start.get((g.get("pages") or [None])[0]) for g in golden]


def compare(golden: dict[str, Any], result: FileResult, report: Report, low_conf: float = 0.6) -> None:
    name = str(golden.get("file"))
    report.files += 1
    if result.error:
        report.errors.append(f"{name}: {result.error}")
    docs = golden.get("documents", [])
    di = result.text_source == DI_SOURCE
    predicted = _align(docs, result.documents, di)
    for i, (g, p) in enumerate(zip(docs, predicted, strict=True)):
        report.documents += 1
        kind = g.get("kind", "letter")
        kind_right = p is not None and p.get("kind") == kind
        _count(report, "kind", kind_right, name, i, kind, p and p.get("kind"), non_empty=True)
        report.tolerant["kind"][1] += 1
        report.tolerant["kind"][0] += kind_right
        for f in FIELDS_BY_KIND.get(kind, OTHER_FIELDS):
            if di and i == 0 and f in NOT_IN_DI:
                continue
            expected = normalise(get_field(g, f), f.split(".")[-1])
            got = normalise(get_field(p, f), f.split(".")[-1]) if p else None
            _count(report, f, expected == got, name, i, get_field(g, f), get_field(p, f) if p else None,
                   non_empty=expected is not None)
            _count_tolerant(report, f, g, p, expected == got, name, i)
        if p:
            for k, c in (p.get("confidence") or {}).items():
                if c < low_conf:
                    report.low_confidence.append((name, i, k, c))


def _count_tolerant(
    report: Report, f: str, g: dict[str, Any], p: dict[str, Any] | None, exact: bool, name: str, i: int
) -> None:
    if f in ITEM_FIELDS:
        got_items = dict(flatten_items(get_field(p, f))) if p else {}
        golden_items = flatten_items(get_field(g, f))
        if not golden_items:
            ok = not got_items
            report.tolerant[f][1] += 1
            report.tolerant[f][0] += ok
            if not ok:
                report.tolerant_failures.append(Failure(name, i, f, None, list(got_items.items())))
            return
        for path, text in golden_items:
            ok = path in got_items and cer(text, got_items[path]) <= MAX_CER
            report.tolerant[f][1] += 1
            report.tolerant[f][0] += ok
            if not ok:
                report.tolerant_failures.append(Failure(name, i, f"{f}[{path}]", text, got_items.get(path)))
        return
    if f in LONG_TEXT_FIELDS and get_field(g, f):
        got_text = get_field(p, f) if p else None
        ok = cer(str(get_field(g, f)), got_text) <= MAX_CER
    else:
        ok = exact
    report.tolerant[f][1] += 1
    report.tolerant[f][0] += ok
    if not ok:
        report.tolerant_failures.append(Failure(name, i, f, get_field(g, f), get_field(p, f) if p else None))


def _count(report: Report, f: str, ok: bool, name: str, i: int, expected: Any, got: Any, non_empty: bool) -> None:
    report.per_field[f][1] += 1
    if non_empty:
        report.non_empty[1] += 1
        report.per_field_non_empty[f][1] += 1
    if ok:
        report.per_field[f][0] += 1
        if non_empty:
            report.non_empty[0] += 1
            report.per_field_non_empty[f][0] += 1
    else:
        report.failures.append(Failure(name, i, f, expected, got))


def golden_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith((".layout.json", ".scan.json")))


def evaluate(
    directory: Path,
    extract: Callable[[Path], FileResult] = extract_file,
    extract_many: Callable[[list[Path]], Iterable[FileResult]] | None = None,
) -> Report:
    """`extract_many` (results in order), when given, reads all the files: it may overlap them (OCR)."""
    report = Report()
    todo: list[tuple[dict[str, Any], Path]] = []
    for golden_path in golden_files(directory):
        golden = json.loads(golden_path.read_text(encoding="utf-8"))
        pdf = golden_path.with_name(str(golden.get("file") or golden_path.with_suffix(".pdf").name))
        if not pdf.exists():
            report.errors.append(f"{golden_path.name}: no PDF {pdf.name} beside it")
            continue
        todo.append((golden, pdf))
    pdfs = [pdf for _, pdf in todo]
    results = extract_many(pdfs) if extract_many is not None else map(extract, pdfs)
    for (golden, _), result in zip(todo, results, strict=True):
        compare(golden, result, report)
    return report
