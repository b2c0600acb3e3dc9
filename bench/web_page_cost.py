"""One page's cost alone: the search page and the letter page served in-process, one at a time, ms and SQL statements.

    .venv/bin/python bench/web_page_cost.py --database URL [--files DIR] [--pages 30] [--queries FILE]

What `bench/web_load.py` measures under load, without the load: the application over the archive
(`create_app`), the requests sent through httpx's ASGI transport in this thread and each page's
work run inline (no thread pool, no server, no network), so the time is the page's own Python
and database time. The same queries as web_load (a word or two cut from the archive's own subjects
and senders, some with a filter; `--queries FILE` keeps them in FILE for the next run, so two
versions of the code are timed on the same searches), each search followed by one of the letters
it lists. The account `loadtest` is used as web_load uses it (a fresh password, deactivated again
at the end). Prints per page kind: how many, the median and mean ms, and the median statements.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

import web_load  # noqa: E402

from pipeline.db import open_archive  # noqa: E402
from pipeline.web.app import create_app  # noqa: E402


async def _inline(func: Any, *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database", required=True, help="archive URL")
    parser.add_argument("--files", help="the archive's file store (GONGWEN_FILES_DIR)")
    parser.add_argument("--pages", type=int, default=30, help="searches, each followed by one of its letters")
    parser.add_argument("--queries", help="a JSON file of the searches: read when it exists, else written")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)

    # the endpoints and dependencies run in this thread: the time is the page's, not a thread hop's
    setattr(fastapi.routing, "run_in_threadpool", _inline)  # noqa: B010 (not exported: mypy refuses the attribute)
    setattr(fastapi.dependencies.utils, "run_in_threadpool", _inline)  # noqa: B010
    password = web_load.load_account(args.database, args.files, active=True)
    try:
        archive = open_archive(args.database, args.files, create=False)
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        event.listen(archive.engine, "before_cursor_execute", count)
        app = create_app(archive, secret="web-page-cost-" + "x" * 32)
        saved = Path(args.queries) if args.queries else None
        if saved is not None and saved.exists():
            queries: list[dict[str, str]] = json.loads(saved.read_text(encoding="utf-8"))
        else:
            queries = web_load.queries_from(args.database, args.files, 200, args.seed)
            if saved is not None:
                saved.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
        ms: dict[str, list[float]] = defaultdict(list)
        sql: dict[str, list[int]] = defaultdict(list)

        async def run() -> None:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://page-cost") as http:
                login = await http.post("/api/login", json={"name": web_load.LOAD_USER, "password": password})
                if login.status_code != 200:
                    raise SystemExit(f"web_page_cost: log-in failed: {login.status_code}")

                async def get(kind: str, path: str, params: dict[str, str] | None = None) -> str:
                    statements[0] = 0
                    start = time.perf_counter()
                    response = await http.get(path, params=params)
                    if kind:
                        ms[kind].append((time.perf_counter() - start) * 1000)
                        sql[kind].append(statements[0])
                    if response.status_code != 200:
                        raise SystemExit(f"web_page_cost: {path} {params or ''}: {response.status_code}")
                    return response.text

                await get("", "/search", queries[0])  # templates compiled, connections made: not timed
                rnd = random.Random(args.seed)
                for n in range(args.pages):
                    ids = [int(i) for i in web_load._LETTER.findall(await get("search", "/search", queries[n % len(queries)]))]
                    if ids:
                        await get("letter", f"/letters/{rnd.choice(ids[:10])}")

        asyncio.run(run())
    finally:
        web_load.load_account(args.database, args.files, active=False)
    print(f"{'page':8} {'n':>4} {'median ms':>10} {'mean ms':>9} {'statements':>10}")
    for kind, values in ms.items():
        print(f"{kind:8} {len(values):4} {statistics.median(values):10.1f} {statistics.mean(values):9.1f} "
              f"{statistics.median(sql[kind]):10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
