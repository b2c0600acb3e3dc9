"""An installed wheel has everything it needs (issue 10): the package data (migrations, data files, the 函 DTD,
the web templates and static files) ships in it, and nothing reaches back into the source tree.

The wheel is built from a copy of the packages without build isolation and installed with `--no-deps --no-index`
into a fresh venv that borrows the third-party packages of the running one through a .pth file (its own .pth
files, the editable install of this tree among them, are not read there): nothing is downloaded. Then the
installed `gongwen` ingests a sample into a temporary SQLite archive, finds it, exports it as a DI file (checked
against the DTD), and the installed web application serves its log-in page and style sheet. Fonts are Debian's
(scripts/install-system.sh), not package data. About a minute on 2 shared cores, most of it the ingest's
Prefect flow with its temporary server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "extractors", "schemas", "samples")
NOT_PACKAGED = ("born_digital", "scanned", "sources", "di", "__pycache__", "*.pyc")  # samples' PDFs: not package data
SAMPLE = ROOT / "samples" / "born_digital" / "stamp_01.pdf"

WEB_CHECK = """
from fastapi.testclient import TestClient
from pipeline.db import open_archive
from pipeline.web.app import create_app
with TestClient(create_app(open_archive(create=False), secret="x" * 32)) as client:
    page, css = client.get("/login"), client.get("/static/gongwen.css")
    print(page.status_code, "<form" in page.text, css.status_code, len(css.text) > 100)
"""


def _run(args: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_installed_wheel_ingests_searches_exports_and_serves(tmp_path: Path) -> None:
    src, dist, venv = tmp_path / "src", tmp_path / "dist", tmp_path / "venv"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(*NOT_PACKAGED))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", dist, src], tmp_path)
    [wheel] = dist.glob("gongwen-*.whl")

    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps",
          "--no-index", wheel], tmp_path)

    work = tmp_path / "work"  # not the source tree: only the installed package can be imported
    work.mkdir()
    # PREFECT_HOME stays the user's, as in tests/store/test_archive_cli.py: a fresh one costs its migrations
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GONGWEN_"))}
    env |= {"GONGWEN_DATABASE_URL": f"sqlite:///{work / 'archive.sqlite'}", "GONGWEN_CONFIG_DIR": str(ROOT / "config")}
    where = _run([venv / "bin" / "python", "-c", "import pipeline, extractors, schemas; "
                  "print(pipeline.__file__, extractors.__file__, schemas.__file__)"], work, env)
    assert all(Path(f).is_relative_to(site) for f in where.split()), where

    gongwen = venv / "bin" / "gongwen"
    ingested = json.loads(_run([gongwen, "ingest", SAMPLE, "--no-ocr", "--json"], work, env))
    assert ingested["summary"]["stored"] == 1 and ingested["summary"]["letters"] == 1, ingested["summary"]
    found = json.loads(_run([gongwen, "search", "醫療機構設置標準", "--json"], work, env))
    assert found["total"] == 1 and found["results"][0]["sender"] == "衛生福利部", found
    di = _run([gongwen, "export", str(found["results"][0]["id"]), "--format", "di"], work, env)
    assert "醫療機構設置標準" in di and "<函>" in di
    assert _run([venv / "bin" / "python", "-c", WEB_CHECK], work, env).split() == ["200", "True", "200", "True"]
