"""The archive at scale: store rate, database size and search latency on 100,000 letters.

Letters are generated from the samples' golden JSON (the extractor's output format) with
varied fields: senders and addressees drawn from the gazetteer (some printed with 台),
unique 字號, dates over fourteen years, topics and phrases cut from the sample texts,
letters citing earlier ones (threads), and a quarter of the files carrying a copy of a
letter already stored (linked, not stored twice). Generation is not timed.

The store step is timed sequentially, without the PDF copy (the originals are not
generated): most files in bulk (`pipeline.store.store_results`, 200 whole files per
transaction), then the last 2,000 one file per transaction (`store_result`, as
`gongwen ingest` stores them) on the nearly full archive.
Then 200 varied queries (substrings of 1 to 8 characters, 台/臺 and alias queries,
several words, filters with ROC dates, 字號 look-ups) are timed through
`pipeline.search.search` (SQL, ranking and snippets), each once to warm up and once measured.

    .venv/bin/python bench/archive.py [--letters 100000] [--backend sqlite|postgresql|both] [--keep]
    .venv/bin/python bench/archive.py --letters 100000 --database URL   # the queries again, on a kept archive

PostgreSQL: $GONGWEN_BENCH_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test,
in a schema of its own, dropped at the end (--keep keeps it, and prints the URL of each archive).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from extractors.dates import parse_date  # noqa: E402
from extractors.orgs import gazetteer  # noqa: E402
from pipeline.db import Archive, make_engine, upgrade  # noqa: E402
from pipeline.search import SearchFilters, search  # noqa: E402
from pipeline.store import store_result, store_results  # noqa: E402
from schemas.letter import Contact, DateMention, Document, FileResult, Item  # noqa: E402

SAMPLES = ROOT / "samples" / "born_digital"
PG_URL = os.environ.get("GONGWEN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SPEEDS = ["普通件"] * 6 + ["速件"] * 3 + ["最速件"]
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高"
GIVEN = "家豪志明俊傑建宏淑芬美玲雅婷怡君佳穎宗翰冠宇承恩詩涵欣怡"
_QUOTED = re.compile(r"「([^」]{2,20})」")
_PUNCT = re.compile(r"[\s，。、；：「」『』（）()〈〉《》,.;:!?！？\-—/]")


# -- generation --------------------------------------------------------------------


def _templates(samples: Path = SAMPLES) -> tuple[list[Document], list[Document], list[Document]]:
    letters: list[Document] = []
    forms: list[Document] = []
    other: list[Document] = []
    for path in sorted(samples.glob("*.json")):
        if path.name.endswith(".layout.json"):
            continue
        result = FileResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
        for doc in result.documents:
            {"letter": letters, "form": forms, "other": other}[doc.kind].append(doc)
    return letters, forms, other


def _item_texts(items: list[Item] | None) -> Iterator[str]:
    for item in items or []:
        yield item.text
        yield from _item_texts(item.children)


@dataclass
class Generator:
    """Varied letters from the sample templates; deterministic for a seed."""

    seed: int = 20240601
    samples: Path = SAMPLES
    rng: random.Random = field(init=False)
    letters: list[Document] = field(init=False)
    forms: list[Document] = field(init=False)
    other: list[Document] = field(init=False)
    orgs: list[str] = field(init=False)
    topics: list[str] = field(init=False)
    phrases: list[str] = field(init=False)
    serial: int = 0
    made: list[Document] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.letters, self.forms, self.other = _templates(self.samples)
        self.orgs = [o.name for o in gazetteer()]
        texts = [t for d in self.letters for t in [d.subject or "", *_item_texts(d.explanation)]]
        quoted = sorted({m for t in texts for m in _QUOTED.findall(t)})
        # topics: the quoted names of the samples, and new ones spliced from their halves
        self.topics = quoted + [
            a[: len(a) // 2] + b[len(b) // 2 :] for a in quoted for b in quoted if a != b
        ]
        self.rng.shuffle(self.topics)
        self.topics = self.topics[:3000]
        clean = [c for t in texts for c in _PUNCT.split(t) if len(c) >= 4]
        self.phrases = sorted(set(clean))

    def _org(self) -> str:
        name = self.rng.choice(self.orgs)
        if "臺" in name and self.rng.random() < 0.3:
            name = name.replace("臺", "台")  # printed the common way
        return name

    def _date(self) -> datetime.date:
        return datetime.date(2012, 1, 1) + datetime.timedelta(days=self.rng.randrange(14 * 365))

    def _number(self, sender: str, day: datetime.date) -> str:
        self.serial += 1
        han = [c for c in sender if "\u4e00" <= c <= "\u9fff"]
        code = "".join(self.rng.sample(han, k=min(len(han), self.rng.choice([2, 3])))) or "府"
        return f"{code}字第{day.year - 1911:03d}{self.serial:07d}號"

    def _vary(self, text: str, old_sender: str | None, sender: str) -> str:
        if old_sender:
            text = text.replace(old_sender, sender)
        text = _QUOTED.sub(lambda _: "「" + self.rng.choice(self.topics) + "」", text)
        if self.rng.random() < 0.5:
            text = text.rstrip("。") + "，" + self.rng.choice(self.phrases) + "。"
        return text

    def _items(self, items: list[Item] | None, old_sender: str | None, sender: str) -> list[Item] | None:
        if not items:
            return None
        return [
            Item(label=i.label, text=self._vary(i.text, old_sender, sender), children=self._items(i.children, old_sender, sender) or [])
            for i in items
        ]

    def letter(self) -> Document:
        t = self.rng.choice(self.letters)
        sender = self._org()
        day = self._date()
        number = self._number(sender, day)
        recipient = self._org()
        references: list[str] = []
        explanation = self._items(t.explanation, t.sender, sender) or []
        if self.made and self.rng.random() < 0.3:  # a reply or a forwarding: cites earlier letters
            for cited in self.rng.sample(self.made[-5000:], k=min(len(self.made), self.rng.choice([1, 1, 2]))):
                if cited.doc_number:
                    references.append(cited.doc_number)
                    explanation.insert(0, Item(label="一", text=f"依據{cited.sender}{cited.issue_date}{cited.doc_number}函辦理。"))
        if self.rng.random() < 0.05:
            references.append(f"府授字第{self.rng.randrange(100, 114)}{self.rng.randrange(10**7):07d}號")  # not in the archive
        subject = self._vary(t.subject or "請查照。", t.sender, sender)
        doc = Document(
            kind="letter",
            pages=[1, self.rng.choice([1, 1, 2, 2, 3])],
            sender=sender,
            doc_type=t.doc_type or "函",
            contact=Contact(
                address=t.contact.address if t.contact else None,
                name=self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, 2)),
                phone=f"0{self.rng.randrange(2, 9)}-{self.rng.randrange(2000, 9999)}-{self.rng.randrange(1000, 9999)}",
                email=f"user{self.serial}@example.gov.tw",
            ),
            recipient=recipient,
            issue_date=day,
            doc_number=number,
            speed=self.rng.choice(SPEEDS),
            attachments=t.attachments,
            subject=subject,
            explanation=explanation or None,
            measures=self._items(t.measures, t.sender, sender),
            cc_main=[recipient, *(self._org() for _ in range(self.rng.randrange(4)))],
            cc_copy=[self._org() for _ in range(self.rng.randrange(3))] or None,
            signatory=t.signatory,
            references=references,
            dates=[DateMention(text=f"中華民國{day.year - 1911}年{day.month}月{day.day}日", date=day)],
            deadline=day + datetime.timedelta(days=30) if self.rng.random() < 0.3 else None,
            confidence=dict(t.confidence),
        )
        self.made.append(doc)
        return doc

    def form(self) -> Document:
        t = self.rng.choice(self.forms)
        doc = t.model_copy(deep=True)
        doc.compiler = self._org()
        doc.period = f"{self.rng.randrange(101, 114)}年"
        doc.form_number = f"{t.form_number or '10511-90-02'}-{self.rng.randrange(100)}"
        return doc

    def files(self, letters: int) -> Iterator[FileResult]:
        """FileResults holding `letters` new letters (plus forms and other documents)."""
        made = 0
        n = 0
        while made < letters:
            n += 1
            docs: list[Document] = []
            roll = self.rng.random()
            if roll < 0.04:
                docs.append(self.form())
            elif roll < 0.06:
                docs.append(self.rng.choice(self.other).model_copy(deep=True))
            else:
                docs.append(self.letter())
                made += 1
                if len(self.made) > 10 and self.rng.random() < 0.25:  # a forwarded copy of a stored letter
                    copy = self.rng.choice(self.made[:-1]).model_copy(deep=True)
                    last = docs[-1].pages[-1]
                    copy.pages = [last + 1, last + 1 + copy.pages[-1] - copy.pages[0]]
                    docs.append(copy)
            sha = hashlib.sha256(f"bench-{self.seed}-{n}".encode()).hexdigest()
            yield FileResult(file=f"bench/{n:06d}.pdf", sha256=sha, pages=docs[-1].pages[-1], text_source="bench", documents=docs)


# -- queries -----------------------------------------------------------------------


@dataclass
class Query:
    category: str
    text: str
    filters: SearchFilters = field(default_factory=SearchFilters)


def _window(rng: random.Random, text: str, size: int) -> str | None:
    parts = [p for p in _PUNCT.split(text) if len(p) >= size]
    if not parts:
        return None
    p = rng.choice(parts)
    start = rng.randrange(len(p) - size + 1)
    return p[start : start + size]


def _roc(day: datetime.date) -> str:
    return f"{day.year - 1911}/{day.month:02d}/{day.day:02d}"


def make_queries(gen: Generator, n: int = 200, seed: int = 7) -> list[Query]:
    rng = random.Random(seed)
    docs = [d for d in gen.made if d.subject]
    queries: list[Query] = []

    def sample_text(d: Document) -> str:
        return rng.choice([d.subject or "", *_item_texts(d.explanation)])

    plan = {
        "substring 3-8": 60,
        "substring 2": 30,
        "substring 1": 5,
        "台/臺, alias": 20,
        "two words": 20,
        "filters": 35,
        "字號": 30,
    }
    aliases = [(o.name, a) for o in gazetteer() for a in o.aliases if len(a) >= 2]
    for category, count in plan.items():
        made = 0
        while made < count:
            d = rng.choice(docs)
            q: Query | None = None
            if category == "substring 3-8":
                w = _window(rng, sample_text(d), rng.randint(3, 8))
                q = Query(category, w) if w else None
            elif category == "substring 2":
                w = _window(rng, sample_text(d), 2)
                q = Query(category, w) if w else None
            elif category == "substring 1":
                w = _window(rng, sample_text(d), 1)
                q = Query(category, w) if w else None
            elif category == "台/臺, alias":
                if made % 2:
                    _, alias = rng.choice(aliases)
                    q = Query(category, alias)
                else:
                    name = rng.choice([o for o in gen.orgs if "臺" in o])
                    q = Query(category, name.replace("臺", "台")[: rng.randint(2, 6)])
            elif category == "two words":
                a, b = _window(rng, sample_text(d), 2), _window(rng, sample_text(d), rng.randint(3, 5))
                q = Query(category, f"{a} {b}") if a and b else None
            elif category == "filters":
                day = d.issue_date or datetime.date(2020, 1, 1)
                start, end = day - datetime.timedelta(days=rng.randrange(30, 400)), day + datetime.timedelta(days=30)
                f = SearchFilters(date_from=parse_date(_roc(start)), date_to=parse_date(_roc(end)))
                kind = made % 5
                words = ""
                if kind == 0:
                    f.sender = (d.sender or "")[: rng.randint(3, 8)]
                elif kind == 1:
                    f.recipient = d.recipient
                    words = _window(rng, sample_text(d), 3) or ""
                elif kind == 2:
                    f.speed = "最速件"
                    words = _window(rng, sample_text(d), 2) or ""
                elif kind == 3:
                    f = SearchFilters(kind="form", date_from=None)
                    words = "統計"
                else:
                    f.sender = d.sender
                    f.date_from = f.date_to = None
                q = Query(category, words, f)
            elif category == "字號":
                number = d.doc_number or ""
                if made % 3 == 2:
                    q = Query(category, "", SearchFilters(number=number[-12:-1]))  # the serial only
                else:
                    spaced = number.replace("第", " 第 ") if made % 3 else number
                    q = Query(category, "", SearchFilters(number=spaced))
            if q is not None:
                queries.append(q)
                made += 1
    return queries[:n]


# -- measuring ---------------------------------------------------------------------


def _size(archive: Archive, schema: str | None) -> dict[str, int]:
    with archive.engine.connect() as conn:
        if archive.dialect == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": schema},
            ).all()
            return {name: int(size) for name, size in rows}
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.exec_driver_sql("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").all()
        return {name: int(size) for name, size in rows}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def run(
    backend: str,
    letters: int,
    keep: bool,
    batch: int = 200,
    per_file: int = 2000,
    database: str | None = None,
    samples: Path = SAMPLES,
) -> dict[str, Any]:
    schema = None
    tmp = None
    if database:  # an archive a run with --keep filled: the queries only
        url = database
        if backend == "postgresql":
            options = str(make_url(database).query.get("options", ""))
            schema = options.partition("search_path=")[2].partition(",")[0] or None
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    elif backend == "postgresql":
        schema = f"gw_bench_{os.getpid()}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema},public"}).render_as_string(False)
    else:
        tmp = tempfile.mkdtemp(prefix="gongwen-bench-")
        url = f"sqlite:///{tmp}/archive.sqlite"
    engine = make_engine(url)
    upgrade(engine)
    archive = Archive(engine, Path(tempfile.mkdtemp(prefix="gongwen-bench-files-")))
    if keep:
        print(f"[{backend}] archive: {url}", file=sys.stderr)

    gen = Generator(samples=samples)
    t0 = time.perf_counter()
    files = list(gen.files(letters))
    gen_s = time.perf_counter() - t0
    print(f"[{backend}] generated {len(files)} files in {gen_s:.0f} s (not counted)", file=sys.stderr)

    # most files in bulk (whole files, `batch` per transaction), the last ones one file per
    # transaction as `gongwen ingest` stores them, measured on the nearly full archive
    split = 0 if database else len(files) - per_file
    stored_docs = linked = 0
    t0 = time.perf_counter()
    for start in range(0, split, 10 * batch):
        reports = store_results(archive, [(r, None) for r in files[start : min(split, start + 10 * batch)]], batch=batch)
        stored_docs += sum(r.letters + r.forms + r.other - r.linked for r in reports)
        linked += sum(r.linked for r in reports)
        done = min(split, start + 10 * batch)
        if done % 20000 < 10 * batch:
            print(f"[{backend}] {done} files, {stored_docs / (time.perf_counter() - t0):.0f} documents/s", file=sys.stderr)
    bulk_s = time.perf_counter() - t0
    bulk_docs = stored_docs
    t0 = time.perf_counter()
    for result in files[split:] if not database else []:
        report = store_result(archive, result, None)
        stored_docs += report.letters + report.forms + report.other - report.linked
        linked += report.linked
    single_s = time.perf_counter() - t0
    single_docs = stored_docs - bulk_docs

    t0 = time.perf_counter()
    with archive.engine.connect() as conn:
        if database:
            pass
        elif backend == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("INSERT INTO document_fts(document_fts) VALUES ('optimize')")
            conn.exec_driver_sql("INSERT INTO document_grams(document_grams) VALUES ('optimize')")
            conn.commit()
    maintenance_s = time.perf_counter() - t0
    sizes = _size(archive, schema)

    queries = make_queries(gen)
    latencies: dict[str, list[float]] = defaultdict(list)
    first: list[float] = []
    found: list[int] = []
    with archive.session() as session:
        for q in queries:  # warm-up pass (also recorded: a cold-ish figure)
            t = time.perf_counter()
            search(session, q.text, q.filters, limit=20)
            first.append((time.perf_counter() - t) * 1000)
        for q in queries:
            t = time.perf_counter()
            hits = search(session, q.text, q.filters, limit=20)
            latencies[q.category].append((time.perf_counter() - t) * 1000)
            found.append(hits.total)
    all_ms = [x for v in latencies.values() for x in v]
    substring_ms = latencies["substring 3-8"] + latencies["substring 2"]
    out = {
        "backend": backend,
        "files": len(files),
        "documents": stored_docs,
        "letters": sum(1 for d in gen.made),
        "linked copies": linked,
        "bulk store": f"{split} files in {bulk_s:.0f} s: {bulk_docs / bulk_s:.0f} documents/s (batches of {batch} files)",
        "bulk documents/s": round(bulk_docs / bulk_s),
        "one file per transaction": f"{len(files) - split} files in {single_s:.1f} s: {single_docs / single_s:.0f} documents/s",
        "one-file documents/s": round(single_docs / single_s),
        "maintenance seconds": round(maintenance_s, 1),
        "database MB": round(sum(sizes.values()) / 2**20),
        "sizes MB": {k: round(v / 2**20, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]},
        "queries": len(queries),
        "queries with results": sum(1 for n in found if n),
        "matches per query p50 / p95 / max": [round(statistics.median(found)), round(_pct([float(n) for n in found], 95)), max(found)],
        "queries matching over 200": sum(1 for n in found if n > 200),
        "p50 ms": round(statistics.median(all_ms), 1),
        "p95 ms": round(_pct(all_ms, 95), 1),
        "substring p50 ms": round(statistics.median(substring_ms), 1),
        "substring p95 ms": round(_pct(substring_ms, 95), 1),
        "first pass p95 ms": round(_pct(first, 95), 1),
        "per category": {
            k: {"n": len(v), "p50": round(statistics.median(v), 1), "p95": round(_pct(v, 95), 1), "max": round(max(v), 1)}
            for k, v in latencies.items()
        },
        "slowest": [
            {"ms": round(ms, 1), "category": q.category, "query": q.text,
             "filters": {k: str(v) for k, v in vars(q.filters).items() if v is not None}}
            for ms, q in sorted(zip(_flat(latencies, queries), queries, strict=True), key=lambda x: -x[0])[:6]
        ],
    }
    archive.engine.dispose()
    if schema and not keep and not database:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return out


def _flat(latencies: dict[str, list[float]], queries: list[Query]) -> list[float]:
    """Measured latencies back in query order."""
    cursor = {k: 0 for k in latencies}
    out: list[float] = []
    for q in queries:
        out.append(latencies[q.category][cursor[q.category]])
        cursor[q.category] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument("--batch", type=int, default=200, help="files per transaction in bulk")
    parser.add_argument("--per-file", type=int, default=2000, help="files stored one per transaction, at the end")
    parser.add_argument(
        "--database", help="the URL of an archive a run with --keep filled (same --letters): only the queries are run"
    )
    parser.add_argument(
        "--samples", type=Path, default=SAMPLES,
        help="the golden JSON files letters are made from (with --database: those the archive was filled from)",
    )
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.database:
        backends = [make_url(args.database).get_backend_name()]
    results = [run(b, args.letters, args.keep, args.batch, args.per_file, args.database, args.samples) for b in backends]
    print(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
