"""The corrected letters as golden JSON from the web (the review page's link, GET /api/review/export): a zip that,
unzipped, `gongwen eval` reads, with the reviewer's value as the golden one."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pipeline.db import Archive
from tests.web.conftest import doc_id

AsRole = Callable[[str], str]
OWN_10 = "藥師全聯字第1130000214號"


def test_a_correction_made_in_the_api_is_golden_in_the_zip_that_gongwen_eval_reads(
    client: TestClient, as_role: AsRole, web_archive: Archive, tmp_path: Path
) -> None:
    import tempfile

    from pipeline.cli import app

    kept = set(Path(tempfile.gettempdir()).glob("gongwen-goldens-*"))
    token = as_role("clerk")
    assert client.get("/api/review/export").status_code == 404  # nothing corrected yet
    letter = doc_id(web_archive, OWN_10)
    made = client.post(f"/api/review/{letter}/signatory", json={"value": "理事長 某某某"}, headers={"X-CSRF-Token": token})
    assert made.status_code == 200, made.text
    got = client.get("/api/review/export")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"].startswith("attachment;") and got.headers["x-gongwen-goldens"] == "1"
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(io.BytesIO(got.content)) as zipped:
        assert sorted(zipped.namelist()) == ["own_10.json", "own_10.pdf"]
        zipped.extractall(folder)
    golden = json.loads((folder / "own_10.json").read_text(encoding="utf-8"))
    assert golden["file"] == "own_10.pdf" and golden["documents"][0]["signatory"] == "理事長 某某某"
    run = CliRunner().invoke(app, ["eval", str(folder), "--json"])
    assert run.exit_code == 0, run.output
    report = json.loads(run.output)
    assert report["files"] == 1 and not report["errors"]
    # the extractor reads what is printed; the reviewer's value is the golden it is held to
    assert [(f["field"], f["expected"]) for f in report["failures"]] == [("signatory", "理事長 某某某")]
    every = client.get("/api/review/export", params={"all": "true"})
    assert every.status_code == 200 and int(every.headers["x-gongwen-goldens"]) > 1
    assert set(Path(tempfile.gettempdir()).glob("gongwen-goldens-*")) == kept  # each zip's folder removed once sent


def test_the_review_page_links_the_export_and_says_when_there_is_nothing(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    token = as_role("clerk")
    assert 'href="/review/export"' in client.get("/review").text
    empty = client.get("/review/export")
    assert empty.status_code == 303 and empty.headers["location"] == "/review"
    assert "沒有可匯出的公文" in unescape(client.get("/review").text)
    letter = doc_id(web_archive, OWN_10)
    client.post(f"/review/{letter}/sender", data={"value": "中華民國藥師公會全國聯合會", "csrf_token": token})
    got = client.get("/review/export")
    assert got.status_code == 200 and re.search(r'filename="?goldens\.zip', got.headers["content-disposition"])
    with zipfile.ZipFile(io.BytesIO(got.content)) as zipped:
        assert sorted(zipped.namelist()) == ["own_10.json", "own_10.pdf"]


def test_an_analyst_cannot_export(client: TestClient, as_role: AsRole) -> None:
    as_role("analyst")
    assert client.get("/api/review/export").status_code == 403
    assert client.get("/review/export").status_code == 403
