"""Load on the web application: N clients searching and opening letters for S seconds, p95 and errors.

    .venv/bin/python bench/web_load.py --database URL [--files DIR] [--clients 50] [--seconds 30]
    .venv/bin/python bench/web_load.py --url http://127.0.0.1:8000 --user NAME --password-stdin

With `--database`, the script starts `gongwen serve` on loopback over that archive (a free port),
gives it an account `loadtest` (role analyst, a fresh random password; deactivated again at the
end) and stops it afterwards; with `--url`, it uses a server already running and an account
given. The script logs in once (not timed) and every client uses that session over a connection
of its own; until the time is up, each client asks the search
page for a query (a word or two cut from the archive's own subjects and senders, some with a
filter) and opens one of the letters it lists, as a person does: HTML pages, the whole response
read. Bounded: asyncio and httpx, N connections, loopback only, nothing else fetched.

The summary gives, per kind of request and in all: how many, per second, p50, p95, p99, max (ms)
and errors (a status other than 200, a timeout, a refused connection), and the target (p95 < 300 ms,
no errors) met or not. `--json` prints it as JSON. Exit 1 when any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 300.0
LOAD_USER = "loadtest"
_LETTER = re.compile(r'<div class="head">\s*<a href="/letters/(\d+)">')


@dataclass
class Samples:
    ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, ms: float, error: str | None) -> None:
        self.ms.setdefault(kind, []).append(ms)
        if error is not None:
            self.errors.setdefault(kind, []).append(error)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summary(samples: Samples, seconds: float, clients: int) -> dict[str, Any]:
    kinds: dict[str, Any] = {}
    every = [v for vs in samples.ms.values() for v in vs]
    for kind, values in [*samples.ms.items(), ("all", every)]:
        errors = sum(len(e) for e in samples.errors.values()) if kind == "all" else len(samples.errors.get(kind, []))
        kinds[kind] = {"requests": len(values), "per_s": round(len(values) / seconds, 1),
                       "p50_ms": round(statistics.median(values), 1) if values else None,
                       "p95_ms": round(_pct(values, 0.95), 1) if values else None,
                       "p99_ms": round(_pct(values, 0.99), 1) if values else None,
                       "max_ms": round(max(values), 1) if values else None, "errors": errors}
    first_errors = sorted({e for es in samples.errors.values() for e in es})[:5]
    p95 = kinds["all"]["p95_ms"]
    return {"clients": clients, "seconds": round(seconds, 1), "kinds": kinds, "first_errors": first_errors,
            "target": f"p95 < {TARGET_P95_MS:.0f} ms, 0 errors",
            "met": bool(p95 is not None and p95 < TARGET_P95_MS and kinds["all"]["errors"] == 0)}


def print_summary(result: dict[str, Any]) -> None:
    print(f"{result['clients']} clients, {result['seconds']} s, think {result['think_s']} s; {result['server']}"
          + (f" ({result['workers']} workers)" if result["workers"] else ""))
    print(f"{'':8} {'requests':>8} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
    for kind, k in result["kinds"].items():
        print(f"{kind:8} {k['requests']:8} {k['per_s']:7} {k['p50_ms'] or '-':>8} {k['p95_ms'] or '-':>8} "
              f"{k['p99_ms'] or '-':>8} {k['max_ms'] or '-':>8} {k['errors']:6}")
    for e in result["first_errors"]:
        print(f"  error: {e}")
    print(f"target {result['target']}: {'met' if result['met'] else 'NOT met'}")


def queries_from(database: str | None, files: str | None, n: int, seed: int) -> list[dict[str, str]]:
    """Search parameters a person might type: words cut from stored subjects, senders, some with a filter."""
    rnd = random.Random(seed)
    words: list[str] = []
    senders: list[str] = []
    if database:
        from sqlalchemy import func, select

        from pipeline.db import open_archive
        from schemas.orm import DocumentRow

        archive = open_archive(database, files, create=False)
        with archive.session() as s:
            rows = s.execute(select(DocumentRow.subject, DocumentRow.sender).where(DocumentRow.subject.is_not(None))
                             .order_by(func.random()).limit(400)).all()
        for subject, sender in rows:
            text = re.sub(r"[\s，。、「」（）()：:；;,.0-9A-Za-z]", "", subject or "")
            if len(text) >= 4:
                size = rnd.choice((2, 2, 3, 4))
                at = rnd.randrange(0, len(text) - size + 1)
                words.append(text[at:at + size])
            if sender:
                senders.append(sender)
    words = words or ["醫療", "衛生", "補助", "公告", "會議", "請查照", "轉知", "健保", "勞動", "醫策會"]
    senders = senders or ["衛生福利部"]
    out: list[dict[str, str]] = []
    for _ in range(n):
        roll = rnd.random()
        if roll < 0.6:
            out.append({"q": rnd.choice(words)})
        elif roll < 0.75:
            out.append({"q": f"{rnd.choice(words)} {rnd.choice(words)}"})
        elif roll < 0.9:
            out.append({"q": rnd.choice(words), "sender": rnd.choice(senders)})
        else:
            out.append({"sender": rnd.choice(senders), "from": "2022-01-01"})
    return out


async def log_in(base: str, user: str, password: str, timeout: float) -> httpx.Cookies:
    """One log-in, whose session every client then uses (argon2 is slow on purpose: fifty of them at
    once would time the password hash, not the pages)."""
    async with httpx.AsyncClient(base_url=base, timeout=timeout, follow_redirects=False) as http:
        login = await http.post("/api/login", json={"name": user, "password": password})
        if login.status_code != 200:
            raise SystemExit(f"web_load: log-in as {user} failed: {login.status_code} {login.text[:200]}")
        return http.cookies


async def client_loop(http: httpx.AsyncClient, queries: list[dict[str, str]], until: float, samples: Samples,
                      seed: int, think: float) -> None:
    """Until `until`: a search page, then one of the letters it lists (a pause of `think` seconds after each)."""
    rnd = random.Random(seed)
    try:
        if think:  # a person is somewhere in their pause when the test starts: not 50 first pages at one instant
            await asyncio.sleep(rnd.uniform(0, 2 * think))
        while time.monotonic() < until:
            ids = await timed(http, "search", "/search", rnd.choice(queries), samples)
            if think:
                await asyncio.sleep(rnd.uniform(0, 2 * think))
            if ids and time.monotonic() < until:
                await timed(http, "letter", f"/letters/{rnd.choice(ids[:10])}", None, samples)
                if think:
                    await asyncio.sleep(rnd.uniform(0, 2 * think))
    finally:
        await http.aclose()


async def timed(http: httpx.AsyncClient, kind: str, path: str, params: dict[str, str] | None,
                samples: Samples) -> list[int]:
    start = time.perf_counter()
    error: str | None = None
    body = ""
    try:
        response = await http.get(path, params=params)
        body = response.text  # read whole, as a browser does
        if response.status_code != 200:
            error = f"{kind} {response.status_code} {path} {params or ''}"
    except httpx.HTTPError as exc:
        error = f"{kind} {type(exc).__name__} {path} {params or ''}"
    samples.add(kind, (time.perf_counter() - start) * 1000, error)
    return [int(i) for i in _LETTER.findall(body)] if kind == "search" else []


async def run_load(base: str, user: str, password: str, queries: list[dict[str, str]], clients: int,
                   seconds: float, timeout: float, think: float = 0.0) -> dict[str, Any]:
    """Log in (not timed), then every client, a connection of its own, runs for `seconds`."""
    samples = Samples()
    cookies = await log_in(base, user, password, timeout)
    sessions = [httpx.AsyncClient(base_url=base, timeout=timeout, follow_redirects=False, cookies=cookies)
                for _ in range(clients)]
    start = time.monotonic()
    await asyncio.gather(*(client_loop(http, queries, start + seconds, samples, n, think)
                           for n, http in enumerate(sessions)))
    return summary(samples, time.monotonic() - start, clients)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_account(database: str, files: str | None, active: bool) -> str:
    """The account the clients log in as: made or given a fresh password (active), or deactivated."""
    from pipeline.db import open_archive
    from pipeline.web.users import UserError, add_user, change_user

    archive = open_archive(database, files, create=False)
    password = secrets.token_urlsafe(16)
    if not active:
        change_user(archive, LOAD_USER, active=False)
        return ""
    try:
        add_user(archive, LOAD_USER, "analyst", password)
    except UserError:
        change_user(archive, LOAD_USER, role="analyst", password=password, active=True)
    return password


def start_server(database: str, files: str | None, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GONGWEN_DATABASE_URL": database, "GONGWEN_SECRET_KEY": secrets.token_urlsafe(32)}
    if files:
        env["GONGWEN_FILES_DIR"] = files
    gongwen = Path(sys.executable).with_name("gongwen")
    return subprocess.Popen([str(gongwen), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(base: str, server: subprocess.Popen[bytes] | None, limit_s: float = 90) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if server is not None and server.poll() is not None:
            err = (server.stderr.read() if server.stderr else b"").decode(errors="replace").strip().splitlines()
            raise SystemExit(f"web_load: gongwen serve stopped: {err[-1] if err else server.returncode}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"web_load: {base} did not answer within {limit_s:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--database", help="archive URL: start gongwen serve over it on loopback")
    where.add_argument("--url", help="a gongwen serve already running (loopback), e.g. http://127.0.0.1:8000")
    parser.add_argument("--files", help="the archive's file store (GONGWEN_FILES_DIR), with --database")
    parser.add_argument("--user", help="with --url: the account to log in as")
    parser.add_argument("--password-stdin", action="store_true", help="with --url: read its password from stdin")
    parser.add_argument("--workers", type=int, default=1, help="with --database: gongwen serve --workers")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="a request slower than this is an error")
    parser.add_argument("--think", type=float, default=0.0,
                        help="a client's mean pause after each page, seconds (0: none, every client always waiting)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    if args.url and not (args.user and args.password_stdin):
        parser.error("--url needs --user and --password-stdin")
    if args.url and httpx.URL(args.url).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--url must be on loopback (127.0.0.1)")

    server = None
    if args.database:
        password, user = load_account(args.database, args.files, active=True), LOAD_USER
        base = f"http://127.0.0.1:{_free_port()}"
        server = start_server(args.database, args.files, int(base.rsplit(":", 1)[1]), args.workers)
    else:
        base, user, password = args.url.rstrip("/"), args.user, sys.stdin.readline().rstrip("\r\n")
    try:
        wait_ready(base, server)
        queries = queries_from(args.database, args.files, 500, args.seed)
        result = asyncio.run(run_load(base, user, password, queries, args.clients, args.seconds, args.timeout,
                                      args.think))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            load_account(args.database, args.files, active=False)
    result["server"] = base if args.url else f"gongwen serve over {args.database}"
    result["think_s"] = args.think
    result["workers"] = args.workers if args.database else None
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print_summary(result)
    return 1 if result["kinds"]["all"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
