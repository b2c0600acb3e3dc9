"""Routing at scale: documents routed per second, and the clerks' queue list on 10,000 open tasks.

The archive is the one `bench/archive.py` builds (its `Generator`: 100,000 varied letters from the
samples, forms, other documents and linked copies), stored in bulk; building it is not timed.
Then, for each rule set (the shipped `config/rules.yaml`, and 500 generated rules: any/all/literal/
regex/fuzzy conditions over subject, text, sender, recipient and cc, nested all/any/not, groups,
`except`, tag targets), each run:

- `Router.route` alone over the first --memory-docs stored documents, already read (the pure decision cost);
- `route_archive` on empty routing tables (what `gongwen route` does: read in batches, decide, write
  tasks, events and routed_documents): documents per second, over the whole archive with the shipped
  rules, over the first --subset-500 documents with the 500 rules (the same rate per document, in
  a fifth of the time).
Each rate is given per second of wall time and per second of this process's CPU time: the machine
is shared, and CPU time says what routing costs (PostgreSQL's own CPU is not in it).

Between runs the routing tables are emptied (PostgreSQL: TRUNCATE; SQLite: a copy of the
unrouted file, since triggers keep tasks from being deleted). After the shipped rules' last run,
all but 10,000 tasks (chosen at random; a fifth of those claimed) are marked done and
`list_tasks` (what `gongwen queue list` runs) is timed: default filters and limit 50, ~100 times,
each in a fresh session, plus a few filtered variants and one list of 10,000.

    .venv/bin/python bench/route.py [--letters 100000] [--backend sqlite|postgresql|both]
                                    [--rules shipped|500|both] [--runs 3] [--subset-500 20000] [--keep] [--json]
    .venv/bin/python bench/route.py --database URL   # an archive a run with --keep left (no build)

PostgreSQL: $GONGWEN_BENCH_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test, in a
schema of its own, dropped at the end (--keep keeps it and the SQLite file, and prints their URLs;
--database then reuses one: its routing tables are emptied, so only a bench archive is accepted).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import create_engine, func, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.archive import PG_URL, Generator, _pct  # noqa: E402
from extractors.orgs import gazetteer  # noqa: E402
from pipeline.db import Archive, make_engine, upgrade  # noqa: E402
from pipeline.routing.config import load_associations, load_config  # noqa: E402
from pipeline.routing.engine import Router  # noqa: E402
from pipeline.routing.queue import QueueFilters, list_tasks, load_inputs, route_archive  # noqa: E402
from pipeline.store import store_results  # noqa: E402
from schemas.orm import DocumentRow, RoutingTask, TaskEvent  # noqa: E402
from schemas.routing import RoutingInput  # noqa: E402

CONFIG = ROOT / "config"
OPEN_TASKS = 10_000
BENCH_SCHEMA = "gw_bench_route_"


# -- 500 rules -----------------------------------------------------------------------


# what a clerk's rules name: topics of the letters an office forwards (a string: easier to read)
TOPICS = (  # noqa: SIM905
    "健保 全民健康保險 醫療費用 申報 審查 給付 支付標準 藥品 藥價 疫苗 流感 傳染病 防疫 登革熱 長期照顧 長照 護理 "
    "牙醫 中醫 藥師 藥局 醫事人員 繼續教育 執業登記 醫療廣告 醫療糾紛 病歷 個人資料 資訊安全 電子病歷 急診 轉診 "
    "分級醫療 家庭醫師 預防保健 癌症篩檢 戒菸 心理健康 自殺防治 精神衛生 管制藥品 醫療器材 輻射 消防 勞動檢查 "
    "職業安全 災害 颱風 人事 研習 說明會 講習 課程 學分 評鑑 督導考核 獎勵 經費 問卷 法規 "
    "草案 預告 施行 罰鍰 稽查 食品安全 衛教 宣導 兒童 預防接種 結核病 愛滋 腸病毒 義診 捐血 器官捐贈 "
    "安寧緩和 病人自主 醫院 診所 開業 歇業 負責醫師 專科醫師 住院醫師 實習 公費生 偏鄉 離島 原住民 性別 會員 "
    "年會 理監事 選舉 表揚 志工 檢驗 檢查 門診 住院 手術 麻醉 復健 透析 生育 產後 婦女 高齡 失智 身心障礙"
).split()
REGEXES = (
    r"第\s*\d+\s*條之?\d*.{0,10}(修正|刪除)", r"(修正|訂定|廢止).{0,6}「.{2,20}(辦法|要點|標準)」",
    r"(截止|受理).{0,10}\d+年\d+月\d+日", r"(說明會|研習會|講習會).{0,20}(報名|出席)",
    r"(健保|全民健康保險).{0,8}(給付|支付標準)", r"(檢送|檢附).{0,12}(名冊|清冊|調查表)",
    r"(衛生局|衛生福利部).{0,20}(醫療機構|診所).{0,10}(查核|稽查)", r"(疫苗|預防接種).{0,12}(計畫|作業)",
    r"(颱風|地震|豪雨).{0,10}(災害|停診)", r"(公費|獎助).{0,6}(醫師|學生)",
)


def make_rules(n: int = 500, seed: int = 500) -> dict[str, Any]:
    """`n` rules as an office with many of them would write: per county and topic, topics as clerks name
    them and as the samples quote them, senders and copies named from the gazetteer."""
    rng = random.Random(seed)
    registry = load_associations(CONFIG / "associations.yaml")
    ids = [a.id for a in registry]
    members: dict[str, int] = {}
    for a in registry:
        for t in a.tags:
            members[t] = members.get(t, 0) + 1
    small_tags = sorted(t for t, k in members.items() if k <= 6)
    counties = sorted({t.partition(":")[2] for t in members if t.startswith("county:")})
    gen = Generator(seed=seed)
    quoted = sorted({t for t in gen.topics if 4 <= len(t) <= 14})[:400]
    orgs = [o.name for o in gazetteer()]

    def topic(lo: int = 1, hi: int = 3) -> str:
        return " ".join(rng.sample(TOPICS, rng.randint(lo, hi)))

    def leaf() -> dict[str, Any]:
        roll = rng.random()
        if roll < 0.35:
            return {"field": rng.choice(["subject", "subject", "text"]), "match": "any", "value": topic()}
        if roll < 0.50:
            return {"field": rng.choice(["subject", "text"]), "match": "all", "value": topic(2, 2)}
        if roll < 0.62:
            return {"field": rng.choice(["subject", "text"]), "match": "literal", "value": rng.choice(quoted)}
        if roll < 0.74:
            return {"field": rng.choice(["subject", "text"]), "match": "regex", "value": rng.choice(REGEXES)}
        if roll < 0.84:
            return {"field": "subject", "match": "fuzzy", "value": rng.choice(quoted), "threshold": rng.choice([85, 90])}
        return {"field": rng.choice(["sender", "cc"]), "match": "any", "value": " ".join(rng.sample(orgs, rng.randint(1, 3)))}

    rules: list[dict[str, Any]] = []
    for i in range(n):
        county = rng.choice(counties)
        place = {"any": [{"field": "sender", "match": "any", "value": county},
                         {"field": "recipient", "match": "any", "value": county}]}
        shape = rng.random()
        when: dict[str, Any]
        if shape < 0.45:  # the shipped rules' shape: a place and a topic
            when = {"all": [place, leaf()]}
        elif shape < 0.65:
            when = {"all": [leaf(), leaf()]}
        elif shape < 0.75:
            when = {"all": [leaf(), {"not": leaf()}]}
        elif shape < 0.85:
            when = {"any": [{"all": [leaf(), leaf()]}, {"all": [place, leaf()]}]}
        else:
            when = leaf()
        local = [a.id for a in registry if f"county:{county}" in a.tags]
        if local and shape < 0.45:
            to = rng.sample(local, min(len(local), rng.randint(1, 2)))
        elif rng.random() < 0.2:
            to = [f"tag:{rng.choice(small_tags)}"]
        else:
            to = rng.sample(ids, rng.randint(1, 2))
        rule: dict[str, Any] = {"name": f"bench-{i:03d}", "when": when, "to": to}
        if rng.random() < 0.1:
            rule["except"] = [rng.choice(ids)]
        if rng.random() < 0.15:
            rule["group"] = f"group-{rng.randrange(30)}"
            rule["priority"] = rng.randrange(10)
        rules.append(rule)
    return {"rules": rules}


def rule_sets(which: str, tmp: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    if which in ("shipped", "both"):
        out["shipped"] = CONFIG / "rules.yaml"
    if which in ("500", "both"):
        path = tmp / "rules-500.yaml"
        path.write_text(yaml.safe_dump(make_rules(), allow_unicode=True, sort_keys=False), encoding="utf-8")
        out["500"] = path
    return out


# -- archives ------------------------------------------------------------------------


class BenchArchive:
    """A stored archive with a way back to empty routing tables."""

    def __init__(self, backend: str, letters: int, database: str | None, keep: bool) -> None:
        self.backend, self.keep, self.reused = backend, keep, database is not None
        self.schema: str | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="gongwen-bench-route-"))
        if backend == "postgresql":
            self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            if database:
                options = str(make_url(database).query.get("options", ""))
                self.schema = options.partition("search_path=")[2].partition(",")[0]
                if not self.schema.startswith(BENCH_SCHEMA):
                    sys.exit(f"--database: {database} is not an archive this bench kept (its routing tables are emptied)")
                self.url = database
            else:
                self.schema = f"{BENCH_SCHEMA}{os.getpid()}"
                with self.admin.connect() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
                self.url = make_url(PG_URL).update_query_dict(
                    {"options": f"-csearch_path={self.schema},public"}).render_as_string(False)
        else:
            self.base = Path(make_url(database).database or "") if database else self.tmp / "unrouted.sqlite"
            if database and not self.base.exists():
                sys.exit(f"--database: no file {self.base}")
            self.url = f"sqlite:///{self.tmp / 'archive.sqlite'}"
        if not database:
            self._build(letters)
        self.archive = self.reset()

    def _build(self, letters: int) -> None:
        url = self.url if self.backend == "postgresql" else f"sqlite:///{self.base}"
        engine = make_engine(url)
        upgrade(engine)
        archive = Archive(engine, self.tmp / "files")
        t0 = time.perf_counter()
        files = list(Generator().files(letters))
        print(f"[{self.backend}] generated {len(files)} files in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        t0 = time.perf_counter()
        for start in range(0, len(files), 5000):
            store_results(archive, [(r, None) for r in files[start : start + 5000]], batch=500)
            print(f"[{self.backend}] stored {min(len(files), start + 5000)} files, "
                  f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
        with engine.connect() as conn:
            if self.backend == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        if self.keep:
            print(f"[{self.backend}] kept: {self.url if self.backend == 'postgresql' else 'sqlite:///' + str(self.base)}",
                  file=sys.stderr)

    def reset(self) -> Archive:
        """The archive with no routing done (tasks, events, routed documents all empty)."""
        if getattr(self, "archive", None) is not None:
            self.archive.engine.dispose()
        if self.backend == "postgresql":
            engine = make_engine(self.url)
            with engine.begin() as conn:
                conn.exec_driver_sql("TRUNCATE task_events, routing_tasks, routed_documents RESTART IDENTITY")
        else:
            work = self.tmp / "archive.sqlite"
            for stale in (Path(f"{work}-wal"), Path(f"{work}-shm")):
                stale.unlink(missing_ok=True)
            shutil.copyfile(self.base, work)
            engine = make_engine(self.url)
        self.archive = Archive(engine, self.tmp / "files")
        return self.archive

    def analyze(self) -> None:
        with self.archive.engine.connect() as conn:
            if self.backend == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

    def close(self) -> None:
        self.archive.engine.dispose()
        if self.backend == "postgresql" and not self.keep and not self.reused:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        if self.keep and self.backend == "sqlite" and not self.reused:
            print(f"[sqlite] kept: sqlite:///{self.base}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# -- measuring -----------------------------------------------------------------------


def read_all(archive: Archive, batch: int = 1000) -> tuple[list[RoutingInput], float]:
    """Every document as routing reads it (`load_inputs` in batches), and the seconds that took."""
    with archive.engine.connect() as conn:
        ids = list(conn.scalars(select(DocumentRow.id).order_by(DocumentRow.id)))
    t0 = time.perf_counter()
    inputs: list[RoutingInput] = []
    with archive.engine.connect() as conn:
        for i in range(0, len(ids), batch):
            inputs.extend(load_inputs(conn, ids[i : i + batch]))
    return inputs, time.perf_counter() - t0


def timed(n: int, work: Any) -> tuple[Any, float, float]:
    """`work()`, and `n` per second of wall time and of this process's CPU time (the machine is shared:
    CPU time says what routing costs, wall time what a clerk waits)."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = work()
    return result, n / (time.perf_counter() - w0), n / (time.process_time() - c0)


def leave_open(bench: BenchArchive, n: int = OPEN_TASKS, seed: int = 10) -> dict[str, int]:
    """All but `n` tasks done (a queue a few weeks old); a fifth of the open ones claimed."""
    rng = random.Random(seed)
    archive = bench.archive
    with archive.engine.begin() as conn:
        ids = list(conn.scalars(select(RoutingTask.id).order_by(RoutingTask.id)))
        keep = set(rng.sample(ids, min(n, len(ids))))
        done = [i for i in ids if i not in keep]
        claimed = sorted(keep)[: len(keep) // 5]
        for i in range(0, len(done), 5000):
            conn.execute(update(RoutingTask).where(RoutingTask.id.in_(done[i : i + 5000])).values(status="done"))
        now = datetime.datetime.now(datetime.UTC)
        for i in range(0, len(claimed), 5000):
            part = claimed[i : i + 5000]
            conn.execute(update(RoutingTask).where(RoutingTask.id.in_(part)).values(status="claimed", assignee="王小明"))
            conn.execute(TaskEvent.__table__.insert(), [
                {"task_id": t, "at": now, "actor": "王小明", "action": "claimed", "from_status": "pending",
                 "to_status": "claimed", "to_assignee": "王小明", "note": None} for t in part])
        counts = dict(conn.execute(select(RoutingTask.status, func.count()).group_by(RoutingTask.status)).all())
    bench.analyze()
    return {str(k): int(v) for k, v in counts.items()}


def time_list(archive: Archive, filters: QueueFilters, runs: int) -> tuple[list[float], list[float], int, int]:
    """Milliseconds of `list_tasks` per run, wall and this process's CPU (each in a fresh session;
    one warm-up first)."""
    ms: list[float] = []
    cpu: list[float] = []
    shown = total = 0
    for i in range(runs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        with archive.session() as session:
            views, total = list_tasks(session, filters)
        if i:
            ms.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        shown = len(views)
    return ms, cpu, shown, total


def queue_figures(bench: BenchArchive, list_runs: int) -> dict[str, Any]:
    counts = leave_open(bench)
    archive = bench.archive
    with archive.engine.connect() as conn:
        busiest = conn.execute(
            select(RoutingTask.association_id, func.count()).where(RoutingTask.status.in_(("pending", "claimed")))
            .group_by(RoutingTask.association_id).order_by(func.count().desc()).limit(1)).one()
    out: dict[str, Any] = {"tasks by status": counts}
    variants = [
        ("default (open, limit 50)", QueueFilters(), list_runs),
        (f"--association {busiest[0]} ({busiest[1]} open)", QueueFilters(association=busiest[0]), list_runs // 2),
        ("--overdue", QueueFilters(overdue=True), list_runs // 2),
        ("--assignee 王小明", QueueFilters(assignee="王小明"), list_runs // 2),
        ("limit 10,000", QueueFilters(limit=OPEN_TASKS), 5),
    ]
    for label, filters, runs in variants:
        ms, cpu, shown, total = time_list(archive, filters, runs)
        out[label] = {"runs": runs, "shown": shown, "matching": total, "p50 ms": round(statistics.median(ms), 1),
                      "p95 ms": round(_pct(ms, 95), 1), "max ms": round(max(ms), 1),
                      "CPU p50 ms": round(statistics.median(cpu), 1), "CPU p95 ms": round(_pct(cpu, 95), 1)}
    return out


def route_figures(bench: BenchArchive, name: str, config: Any, inputs: list[RoutingInput], runs: int,
                  subset: int, memory_docs: int) -> dict[str, Any]:
    """Medians over `runs`: `Router.route` alone over (the first `memory_docs` of) the documents already
    read, then `route_archive` on empty routing tables (all documents, or the first `subset` by id)."""
    wall: list[float] = []
    cpu: list[float] = []
    mem_wall: list[float] = []
    mem_cpu: list[float] = []
    ids = [d.document_id for d in inputs[:subset] if d.document_id is not None] if subset else None
    sample = inputs[:subset] if subset else inputs
    alone = sample[:memory_docs] if memory_docs else sample
    summary = None
    for k in range(runs):
        router = Router(config)
        _, w, c = timed(len(alone), lambda: [router.route(doc) for doc in alone])  # noqa: B023
        mem_wall.append(w)
        mem_cpu.append(c)
        archive = bench.reset()
        router = Router(config)
        summary, w, c = timed(len(sample), lambda: route_archive(archive, router, ids=ids))  # noqa: B023
        assert summary.documents == len(sample), summary.line()
        wall.append(w)
        cpu.append(c)
        print(f"[{bench.backend}] {name} rules, run {k + 1}: Router.route {mem_wall[-1]:.0f}/s "
              f"(CPU {mem_cpu[-1]:.0f}/s), route_archive {w:.0f}/s (CPU {c:.0f}/s), load {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
    assert summary is not None
    return {
        "rules": len(config.rules),
        "documents routed": len(sample),
        "route_archive documents/s": round(statistics.median(wall)),
        "route_archive documents/s of CPU": round(statistics.median(cpu)),
        "route_archive runs": [round(r) for r in wall],
        "Router.route documents": len(alone),
        "Router.route documents/s": round(statistics.median(mem_wall)),
        "Router.route documents/s of CPU": round(statistics.median(mem_cpu)),
        "Router.route runs": [round(r) for r in mem_wall],
        "summary": summary.line(),
        "warnings": summary.warnings[:5],
    }


def run(backend: str, args: argparse.Namespace, rules: dict[str, Path]) -> dict[str, Any]:
    bench = BenchArchive(backend, args.letters, args.database, args.keep)
    out: dict[str, Any] = {"backend": backend, "load average at start": os.getloadavg()[0]}
    try:
        inputs, read_s = read_all(bench.archive)
        out["documents"] = len(inputs)
        out["load_inputs documents/s"] = round(len(inputs) / read_s)
        associations = CONFIG / "associations.yaml"
        for name, path in rules.items() if args.runs else ():
            config = load_config(path, associations)
            runs, subset = (args.runs, 0) if name == "shipped" else (args.runs_500, args.subset_500)
            out[f"{name} rules"] = route_figures(bench, name, config, inputs, runs, subset, args.memory_docs)
            if name == "shipped" and args.list_runs:
                out["queue list"] = queue_figures(bench, args.list_runs)
        out["load average at end"] = os.getloadavg()[0]
    finally:
        bench.close()
    return out


def table(results: list[dict[str, Any]]) -> str:
    rows = [("backend", "rules", "documents", "route_archive /s", "(CPU /s)", "Router.route /s", "(CPU /s)")]
    for r in results:
        for key in ("shipped rules", "500 rules"):
            if key in r:
                f = r[key]
                rows.append((r["backend"], str(f["rules"]), str(f["documents routed"]), str(f["route_archive documents/s"]),
                             str(f["route_archive documents/s of CPU"]), str(f["Router.route documents/s"]),
                             str(f["Router.route documents/s of CPU"])))
    lines = ["  ".join(c.rjust(16) for c in row) for row in rows]
    for r in results:
        for label, f in r.get("queue list", {}).items():
            if label != "tasks by status":
                lines.append(f"{r['backend']:>10}  queue list {label}: p50 {f['p50 ms']} ms, p95 {f['p95 ms']} ms "
                             f"({f['runs']} runs, {f['shown']} shown of {f['matching']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rules", choices=["shipped", "500", "both"], default="both")
    parser.add_argument("--runs", type=int, default=3, help="routing runs per rule set (0: build the archive only)")
    parser.add_argument("--runs-500", type=int, default=1, help="routing runs with the 500 rules")
    parser.add_argument("--subset-500", type=int, default=20_000,
                        help="documents routed with the 500 rules (the first by id; 0: all)")
    parser.add_argument("--memory-docs", type=int, default=20_000,
                        help="documents routed by Router.route alone, in memory (the first by id; 0: all)")
    parser.add_argument("--list-runs", type=int, default=100, help="queue list runs (0: skip the queue)")
    parser.add_argument("--keep", action="store_true", help="keep the archives (unrouted) and print their URLs")
    parser.add_argument("--database", help="an archive a run with --keep left: no build")
    parser.add_argument("--json", action="store_true", help="every figure as JSON instead of the table")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.database:
        backends = [make_url(args.database).get_backend_name()]
    tmp = Path(tempfile.mkdtemp(prefix="gongwen-bench-rules-"))
    try:
        results = [run(b, args, rule_sets(args.rules, tmp)) for b in backends]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(results, ensure_ascii=False, indent=2) if args.json else table(results))


if __name__ == "__main__":
    main()
