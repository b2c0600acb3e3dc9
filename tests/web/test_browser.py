"""In a real browser (Debian's headless Chromium): log in, search, open a hostile letter, claim a task;
see the page image with a field's box, correct a field in review and find the correction in search.

Chromium is driven over its DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages ended by NUL on file descriptors 3 and 4), so no driver or browser download is
needed. The app runs in uvicorn on a free loopback port. Skipped where `chromium` is not
installed (scripts/install-system.sh installs it).
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn

from pipeline.db import Archive
from pipeline.routing.queue import QueueFilters, list_tasks
from pipeline.web.app import create_app
from tests.web.conftest import ONERROR, PASSWORD, SCRIPT, doc_id

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (scripts/install-system.sh installs it)")
WAIT = 30.0


def _high(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    """One headless Chromium tab, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        to_r, self._to_w = os.pipe()
        self._from_r, from_w = os.pipe()
        # above 4, so that the shell's 3<& and 4>& cannot overwrite one with the other
        to_r, from_w = (_high(fd) for fd in (to_r, from_w))
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", f'exec "$0" "$@" 3<&{to_r} 4>&{from_w}', str(CHROMIUM), "--headless", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--remote-debugging-pipe", f"--user-data-dir={profile}",
             "--window-size=1366,768", "about:blank"],
            pass_fds=(to_r, from_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self._next = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.dialogs: list[str] = []
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_r, 1 << 16):
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if message.get("method") == "Page.javascriptDialogOpening":
                    self.dialogs.append(message["params"].get("message", ""))
                if "id" in message:
                    with self._lock:
                        self._replies[message["id"]] = message
                        self._lock.notify_all()
                else:
                    self.events.put(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = False) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_w, json.dumps(message).encode() + b"\0")
        with self._lock:
            assert self._lock.wait_for(lambda: ident in self._replies, WAIT), f"no answer to {method}"
            reply = self._replies.pop(ident)
        assert "error" not in reply, reply
        return reply.get("result", {})  # type: ignore[no-any-return]

    def _loaded(self, action: Any) -> None:
        """Run `action` and wait for the page it leads to to finish loading."""
        while not self.events.empty():
            self.events.get_nowait()
        action()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if event.get("method") == "Page.loadEventFired":
                return
        raise AssertionError("the page did not load")

    def go(self, url: str) -> None:
        self._loaded(lambda: self.send("Page.navigate", {"url": url}, session=True))

    def run(self, script: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": script, "returnByValue": True}, session=True)
        return result["result"].get("value")

    def submit(self, script: str) -> None:
        """Run a script that submits a form, and wait for the answer page."""
        self._loaded(lambda: self.run(script))

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)
        os.close(self._to_w)


@pytest.fixture
def site(web_archive: Archive) -> Iterator[str]:
    """The application served by uvicorn on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(web_archive, secret="browser-secret"), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


def test_a_clerk_logs_in_searches_reads_a_hostile_letter_and_claims_a_task(
    site: str, browser: Browser, web_archive: Archive
) -> None:
    browser.go(f"{site}/queue")  # not logged in: the log-in page, then back here
    assert browser.run("location.pathname") == "/login"
    browser.submit(f"""document.querySelector('input[name=name]').value = 'clerk';
                       document.querySelector('input[name=password]').value = {json.dumps(PASSWORD)};
                       document.querySelector('form.login').submit();""")
    assert browser.run("location.pathname") == "/queue"

    browser.go(f"{site}/search?q={quote('惡意主旨')}")
    assert browser.run("document.querySelectorAll('ol.hits li').length") == 1
    assert browser.run("document.querySelector('mark').textContent") == "惡意主旨"
    browser.submit("document.querySelector('ol.hits a').click()")
    letter = doc_id(web_archive, "駭字第1130000001號")
    assert browser.run("location.pathname") == f"/letters/{letter}"
    text = browser.run("document.body.innerText")
    assert SCRIPT in text and ONERROR in text  # shown as text...
    # ...not as markup (the only images are the original's pages, drawn by the page itself)
    assert browser.run("[...document.querySelectorAll('main img, main script, main b')]"
                       ".filter(e => !e.closest('figure.page-image')).length") == 0
    assert browser.dialogs == []  # and nothing ran

    with web_archive.session() as s:
        first = list_tasks(s, QueueFilters(status="pending", limit=1))[0][0].task["id"]
    browser.go(f"{site}/queue")
    browser.submit(f"document.querySelector('form[action=\"/queue/{first}/claim\"] button').click()")
    assert f"已認領：#{first}" in browser.run("document.querySelector('.flash.ok').textContent")
    with web_archive.session() as s:
        task = list_tasks(s, QueueFilters(status="claimed", limit=5))[0]
    assert [v.task["id"] for v in task] == [first] and task[0].task["assignee"] == "clerk"
    assert browser.dialogs == []


def _log_in(browser: Browser, site: str, name: str) -> None:
    browser.go(f"{site}/login")
    browser.submit(f"""document.querySelector('input[name=name]').value = {json.dumps(name)};
                       document.querySelector('input[name=password]').value = {json.dumps(PASSWORD)};
                       document.querySelector('form.login').submit();""")
    assert browser.run("location.pathname") == "/search"


def _wait_for(browser: Browser, script: str) -> Any:
    """Poll `script` until it gives a true value (an image still loading)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        value = browser.run(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never true: {script}")


def test_the_letter_shows_where_a_field_came_from_and_a_review_correction_reaches_search(
    site: str, browser: Browser, web_archive: Archive
) -> None:
    """See the page image with a field box, click a field to see its box; correct a field in review, find it in search."""
    _log_in(browser, site, "clerk")
    letter = doc_id(web_archive, "中市衛醫字第1120070277號")  # seed_000's cover letter, boxes from its PDF
    browser.go(f"{site}/letters/{letter}")
    assert _wait_for(browser, "[...document.querySelectorAll('figure.page-image img')]"
                              ".every(i => i.complete && i.naturalWidth > 0)")
    assert browser.run("document.querySelectorAll('figure.page-image').length") == 2
    # the subject's box lies on the first page's image, as wide as a line of text, a few lines high
    geometry = browser.run("""(() => {
        const img = document.querySelector('figure.page-image img').getBoundingClientRect();
        const box = document.getElementById('box-subject').getBoundingClientRect();
        return [img.left, img.top, img.right, img.bottom, box.left, box.top, box.right, box.bottom]; })()""")
    il, it, ir, ib, bl, bt, br, bb = geometry
    assert il <= bl < br <= ir and it <= bt < bb <= ib
    assert (br - bl) > 0.5 * (ir - il) and 0 < (bb - bt) < 0.15 * (ib - it)
    # clicking the field's name shows where it came from: its box is the target, marked
    browser.run("document.getElementById('field-subject').click()")
    assert browser.run("location.hash") == "#box-subject"
    assert browser.run("document.querySelector(':target').id") == "box-subject"
    assert browser.run("document.getElementById('box-subject').classList.contains('on')")
    assert browser.run("getComputedStyle(document.getElementById('box-subject')).stroke") != \
        browser.run("getComputedStyle(document.getElementById('box-doc_number')).stroke")

    # review: own_10's subject (read with 0.95) under a threshold of 0.99, its crop beside it
    own_10 = doc_id(web_archive, "藥師全聯字第1130000214號")
    browser.go(f"{site}/review?threshold=0.99")
    row = f"#review-{own_10}-subject"
    browser.run(f"document.querySelector('{row}').scrollIntoView()")  # crops load as they come into view
    assert _wait_for(browser, f"(() => {{ const i = document.querySelector('{row} td.crop img');"
                              " return i && i.complete && i.naturalWidth > 0; })()")
    corrected = "轉知藥物回收處理辦法修正（審核更正）"
    browser.submit(f"""const form = document.querySelector('{row} form');
                       form.querySelector('[name=value]').value = {json.dumps(corrected)};
                       form.submit();""")
    assert "已更正" in browser.run("document.querySelector('.flash.ok').textContent")
    assert browser.run(f"document.querySelector('{row}')") is None  # reviewed: off the list
    browser.go(f"{site}/search?q={quote('藥物回收')}")
    titles = browser.run("[...document.querySelectorAll('ol.hits li .head a')].map(a => a.textContent)")
    assert corrected in titles
    assert browser.dialogs == []

