"""Screenshots of the web application's pages at 1366×768 for the README: docs/screenshots/*.png.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--pages search,letter,queue,review]

Fills a temporary archive from samples/ as an operator would (`gongwen ingest samples/born_digital
samples/di --no-ocr`: extracted, stored and routed), makes the demo log-ins (`gongwen users demo`'s
function), serves the application on a free loopback port, logs in as the admin in the same
headless Chromium the browser test drives (tests/web/test_browser.py's `Browser`: Debian's
`chromium` over the DevTools pipe, no download) and captures each page's first screen. A page the
application does not serve (404) is left out, and says so. Needs `chromium` (scripts/install-system.sh)
and the dev extras (the test module it borrows the browser from).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1366, 768
PAGES = ("search", "letter", "queue", "review")


def fill(folder: Path) -> dict[str, str]:
    """The environment of an archive in `folder` filled from samples/ by `gongwen ingest`."""
    env = {**os.environ, "GONGWEN_DATABASE_URL": f"sqlite:///{folder / 'archive.sqlite'}",
           "GONGWEN_FILES_DIR": str(folder / "files"), "PREFECT_HOME": str(folder / "prefect")}
    gongwen = Path(sys.executable).with_name("gongwen")
    subprocess.run([str(gongwen), "ingest", str(ROOT / "samples/born_digital"), str(ROOT / "samples/di"), "--no-ocr"],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def serve(app: object) -> tuple[str, object]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise SystemExit("screenshots: the application did not start")
    return f"http://127.0.0.1:{port}", server


def settle(browser: Any, limit_s: float = 30.0) -> None:
    """Wait until the images of the first screen (pages rendered on request, lazily) have loaded."""
    browser.run("for (const i of document.images) i.loading = 'eager';")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if browser.run("Array.from(document.images).every((i) => i.complete) && document.fonts.status === 'loaded'"):
            break
        time.sleep(0.2)
    time.sleep(0.3)  # layout after the last image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the web pages at 1366x768 (docs/screenshots).")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"some of {', '.join(PAGES)}")
    args = parser.parse_args(argv)
    wanted = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = sorted(set(wanted) - set(PAGES))
    if unknown:
        parser.error(f"unknown page {', '.join(unknown)}: use {', '.join(PAGES)}")

    from tests.web.test_browser import CHROMIUM, Browser

    if CHROMIUM is None:
        raise SystemExit("screenshots: no chromium (scripts/install-system.sh installs it)")
    # Chromium may still be writing its profile as it is killed: what it leaves is not an error
    with tempfile.TemporaryDirectory(prefix="gongwen-shots-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)
        env = fill(folder)
        os.environ.update({k: env[k] for k in ("GONGWEN_DATABASE_URL", "GONGWEN_FILES_DIR")})
        from sqlalchemy import select

        from pipeline.db import open_archive
        from pipeline.web.app import create_app
        from pipeline.web.users import demo_users
        from schemas.orm import DocumentRow

        archive = open_archive(create=False)
        password = {name: pw for name, _, pw in demo_users(archive)}["admin"]
        with archive.session() as s:  # a letter with a 說明 tree, cited letters and tasks: the cover letter
            letter = s.scalar(select(DocumentRow.id).where(DocumentRow.doc_number == "中市衛醫字第1120070277號"))
        base, server = serve(create_app(archive, secret="screenshots"))
        urls = {"search": f"/search?q={quote('醫療')}", "letter": f"/letters/{letter or 1}", "queue": "/queue",
                "review": "/review"}
        browser = Browser(folder / "profile")
        try:
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, session=True)
            browser.go(f"{base}/login")
            browser.submit(f"""document.querySelector('input[name=name]').value = 'admin';
                               document.querySelector('input[name=password]').value = {json.dumps(password)};
                               document.querySelector('form.login').submit();""")
            args.out.mkdir(parents=True, exist_ok=True)
            for name in wanted:
                browser.go(base + urls[name])
                if browser.run("document.title").startswith("找不到") or browser.run("location.pathname") == "/login":
                    print(f"{name}: {urls[name]} is not served here: left out")
                    continue
                settle(browser)
                shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False},
                                    session=True)
                target = args.out / f"{name}.png"
                target.write_bytes(base64.b64decode(shot["data"]))
                print(f"{name}: {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        finally:
            browser.close()
            server.should_exit = True  # type: ignore[attr-defined]
            archive.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
