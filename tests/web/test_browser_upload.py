"""The upload page in headless Chromium: files chosen, sent one by one by the page's script, a row each."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.db import Archive
from tests.web.conftest import SAMPLES
from tests.web.test_browser import CHROMIUM, Browser, _log_in, _wait_for, browser, site  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium (scripts/install-system.sh installs it)")


def test_a_clerk_uploads_files_and_sees_each_ones_fate(site: str, browser: Browser,  # noqa: F811
                                                        web_archive: Archive, tmp_path: Path) -> None:
    copy = tmp_path / "另一份.pdf"  # the same letter in other bytes: a new file, its letter linked
    copy.write_bytes((SAMPLES / "own_02.pdf").read_bytes() + b"\n%another copy\n")
    corrupt = tmp_path / "<img src=x onerror=alert(1)>壞.pdf"
    corrupt.write_bytes(b"%PDF-1.4\nnot really\n")
    _log_in(browser, site, "clerk")
    browser.go(f"{site}/upload")
    picker = browser.send("Runtime.evaluate", {"expression": "document.querySelector('#upload input[type=file]')"},
                          session=True)["result"]["objectId"]
    files = [str(copy), str(SAMPLES / "own_03.pdf"), str(corrupt)]
    browser.send("DOM.setFileInputFiles", {"files": files, "objectId": picker}, session=True)
    browser.run("document.querySelector('#upload button[type=submit]').click()")
    _wait_for(browser, """Array.from(document.querySelectorAll('#uploads tbody tr')).length === 3 &&
                          Array.from(document.querySelectorAll('#uploads tbody tr')).every(
                              (tr) => !['等待中', '處理中…'].includes(tr.cells[1].textContent))""")
    rows = browser.run("""Array.from(document.querySelectorAll('#uploads tbody tr')).map(
                              (tr) => [tr.cells[0].textContent, tr.className, tr.cells[2].textContent.trim()])""")
    assert [r[:2] for r in rows] == [["另一份.pdf", "stored"], ["own_03.pdf", "duplicate"], ["<img src=x onerror=alert(1)>壞.pdf", "quarantined"]]
    assert rows[0][2].startswith("#") and rows[1][2].startswith("#")  # links to the letters
    assert browser.run("document.querySelectorAll('#uploads img').length") == 0  # a file name is text
    assert browser.run("location.pathname") == "/upload"  # no page load: the script did it
    assert browser.dialogs == []
