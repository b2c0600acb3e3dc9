"""The ingest flow as cron and systemd run it (issue 14, item 10 and the Prefect rough edges).

SIGTERM stops `gongwen ingest` as Ctrl-C does, and leaves no process behind (Prefect's
temporary server above all); Prefect sends no usage report from an office without internet;
`flows.py --help` prints help.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> dict[int, str]:
    """Every living descendant of `pid` and its command line (from /proc)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if " Z " in stat.rsplit(")", 1)[1][:3]:  # a zombie has exited already
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = commands.get(child, "")
                frontier.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def env(tmp_path: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GONGWEN_", "PREFECT_SERVER_ANALYTICS"))} | {
        "PYTHONPATH": str(ROOT),
        "GONGWEN_DATABASE_URL": f"sqlite:///{tmp_path}/archive.sqlite",
        "GONGWEN_FILES_DIR": str(tmp_path / "files"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[int]]:
    """Pids this test started: whatever is left of them is killed at the end (by pid)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def wait_until(predicate: object, limit: float = 180.0) -> bool:
    """Poll `predicate` until it holds or `limit` seconds pass (a bound, not a measurement)."""
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        if callable(predicate) and predicate():
            return True
        time.sleep(0.2)
    return False


def test_sigterm_stops_an_ingest_like_ctrl_c_and_leaves_no_process(
    tmp_path: Path, samples_dir: Path, started: list[int]
) -> None:
    log = (tmp_path / "out.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "ingest", str(samples_dir)],
        env=env(tmp_path), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    started.append(proc.pid)
    seen: dict[int, str] = {}

    def server_up() -> bool:
        seen.update(children(proc.pid))
        started.extend(p for p in seen if p not in started)
        return any("uvicorn" in c for c in seen.values()) or proc.poll() is not None

    assert wait_until(server_up), "Prefect's temporary server never started"
    assert proc.poll() is None, (tmp_path / "out.txt").read_text()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    log.close()
    output = (tmp_path / "out.txt").read_text()
    assert proc.returncode not in (0, -signal.SIGTERM), output  # stopped by the signal, as by Ctrl-C (exit 130)
    assert wait_until(lambda: not any(alive(p) for p in seen), 30), {
        p: c for p, c in seen.items() if alive(p)
    }


def test_prefect_sends_no_usage_report_by_default(tmp_path: Path) -> None:
    code = "import flows; from prefect.settings import get_current_settings as s; print(s().server.analytics_enabled)"
    quiet = subprocess.run([sys.executable, "-c", code], env=env(tmp_path), capture_output=True, text=True, cwd=ROOT)
    assert quiet.stdout.split() == ["False"], quiet.stderr
    chosen = subprocess.run(
        [sys.executable, "-c", code], env=env(tmp_path) | {"PREFECT_SERVER_ANALYTICS_ENABLED": "true"},
        capture_output=True, text=True, cwd=ROOT,
    )
    assert chosen.stdout.split() == ["True"], chosen.stderr  # an operator's choice stands


def test_flows_help_prints_help_and_ingests_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "flows.py"), "--help"], env=env(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.startswith("usage: flows.py"), result.stderr
    assert not (tmp_path / "archive.sqlite").exists()
