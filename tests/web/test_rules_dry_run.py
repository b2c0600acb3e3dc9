"""The rules' dry run of a file not in the archive (page and API), and GET /api/rules: nothing is stored.

`gongwen rules test --letter FILE.pdf`'s own function (pipeline/routing/dry_run.py) reads the
upload from a temporary folder removed afterwards; the upload page's limits hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipeline.db import Archive
from schemas.orm import DocumentRow, RoutingTask, StoredFile
from tests.web.conftest import SAMPLES

AsRole = Callable[[str], str]
SEED_003 = SAMPLES / "seed_003.pdf"


def _counts(archive: Archive) -> list[int]:
    """Documents, files and tasks in the archive: a dry run changes none of them."""
    with archive.session() as s:
        return [s.scalar(select(func.count()).select_from(t)) or 0 for t in (DocumentRow, StoredFile, RoutingTask)]


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _temp_folders() -> set[str]:
    import tempfile

    return {p.name for p in Path(tempfile.gettempdir()).glob("gongwen-dry-run-*")}


def test_an_admin_tries_an_uploaded_pdf_on_the_page_and_nothing_is_stored(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    token = as_role("admin")
    page = client.get("/admin/rules")
    assert 'enctype="multipart/form-data"' in page.text and 'action="/admin/rules"' in page.text
    before, folders = _counts(web_archive), _temp_folders()
    tried = client.post("/admin/rules", data={"csrf_token": token},
                        files={"file": ("公文.pdf", SEED_003.read_bytes(), "application/pdf")})
    assert tried.status_code == 200, tried.text
    text = _text(tried.text)
    assert "公文.pdf" in text and re.search(r"轉知 \S+", text) and "規則 " in text
    assert _counts(web_archive) == before and _temp_folders() == folders


def test_a_di_file_is_tried_as_the_cli_reads_it(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("admin")
    before = _counts(web_archive)
    di = SAMPLES.parent / "di" / "own_01.di"
    got = client.post("/api/rules/test", headers={"X-CSRF-Token": token},
                      files={"file": ("own_01.di", di.read_bytes(), "application/xml")})
    assert got.status_code == 200, got.text
    assert got.json()["letter"] == "own_01.di" and got.json()["documents"][0]["kind"] == "letter"
    assert _counts(web_archive) == before


def test_a_corrupt_pdf_is_one_line_on_the_page_and_422_in_the_api(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    token = as_role("admin")
    before = _counts(web_archive)
    page = client.post("/admin/rules", data={"csrf_token": token},
                       files={"file": ("broken.pdf", b"%PDF-1.4\n garbage", "application/pdf")})
    assert page.status_code == 422
    alerts = re.findall(r'<p class="flash error" role="alert">([^<]*)</p>', page.text)
    assert len(alerts) == 1 and "\n" not in alerts[0] and "broken.pdf" in unescape(alerts[0])
    assert "Traceback" not in page.text
    api = client.post("/api/rules/test", headers={"X-CSRF-Token": token},
                      files={"file": ("broken.pdf", b"not a pdf at all", "application/pdf")})
    assert api.status_code == 422 and "broken.pdf" in api.json()["detail"] and "\n" not in api.json()["detail"]
    named = client.post("/api/rules/test", headers={"X-CSRF-Token": token},
                        files={"file": ("letter.docx", b"x", "application/octet-stream")})
    assert named.status_code == 422 and ".pdf" in named.json()["detail"]
    assert _counts(web_archive) == before


def test_a_file_over_the_upload_limit_is_not_read(
    client: TestClient, as_role: AsRole, web_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.web import upload

    monkeypatch.setattr(upload, "MAX_FILE_MB", 0)
    token = as_role("admin")
    got = client.post("/api/rules/test", headers={"X-CSRF-Token": token},
                      files={"file": ("big.pdf", SEED_003.read_bytes(), "application/pdf")})
    assert got.status_code == 413 and "MB" in got.json()["detail"]


def test_the_api_dry_run_is_the_clis_json_for_a_stored_letter_and_for_a_file(
    client: TestClient, as_role: AsRole, web_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app
    from tests.web.conftest import ROOT

    token = as_role("admin")
    before = _counts(web_archive)
    stored = client.post("/api/rules/test", headers={"X-CSRF-Token": token}, json={"letter": "醫評字第1120100216A號"})
    assert stored.status_code == 200, stored.text
    uploaded = client.post("/api/rules/test", headers={"X-CSRF-Token": token},
                           files={"file": ("seed_003.pdf", SEED_003.read_bytes(), "application/pdf")})
    assert uploaded.status_code == 200, uploaded.text
    assert _counts(web_archive) == before
    monkeypatch.setenv("GONGWEN_DATABASE_URL", str(web_archive.engine.url))
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(web_archive.files))
    files = ["--rules", str(ROOT / "config/rules.yaml"), "--associations", str(ROOT / "config/associations.yaml")]
    cli = CliRunner().invoke(app, ["rules", "test", "--letter", "醫評字第1120100216A號", "--json", *files])
    assert cli.exit_code == 0, cli.output
    assert stored.json() == json.loads(cli.output)
    monkeypatch.chdir(SAMPLES)
    cli_file = CliRunner().invoke(app, ["rules", "test", "--letter", "seed_003.pdf", "--json", *files])
    assert cli_file.exit_code == 0, cli_file.output
    assert uploaded.json() == json.loads(cli_file.output)
    assert uploaded.json()["documents"] and uploaded.json()["documents"][0]["document_id"] is None
    missing = client.post("/api/rules/test", headers={"X-CSRF-Token": token}, json={"letter": "無此字號"})
    assert missing.status_code == 404
    assert client.post("/api/rules/test", headers={"X-CSRF-Token": token}, json={"letter": "  "}).status_code == 422
    assert client.post("/api/rules/test", headers={"X-CSRF-Token": token}, content=b"{").status_code == 422


def test_get_api_rules_is_the_rules_and_registry_as_loaded(client: TestClient, as_role: AsRole) -> None:
    as_role("admin")
    got = client.get("/api/rules")
    assert got.status_code == 200
    body = got.json()
    assert body["rules_file"].endswith("rules.yaml") and body["associations_file"].endswith("associations.yaml")
    rule = body["rules"][0]
    assert {"name", "line", "when", "condition", "to", "except", "priority", "group"} <= rule.keys()
    assert {"id", "name", "aliases", "tags", "contact"} <= body["associations"][0].keys()


@pytest.mark.parametrize("role", ["analyst", "clerk"])
def test_only_an_admin_reaches_the_rules(client: TestClient, as_role: AsRole, role: str) -> None:
    token = as_role(role)
    assert client.get("/api/rules").status_code == 403
    assert client.post("/api/rules/test", headers={"X-CSRF-Token": token}, json={"letter": "1"}).status_code == 403
    assert client.post("/admin/rules", data={"csrf_token": token},
                       files={"file": ("a.pdf", b"x", "application/pdf")}).status_code == 403


def test_the_dry_run_needs_the_csrf_token(client: TestClient, as_role: AsRole) -> None:
    as_role("admin")
    assert client.post("/api/rules/test", json={"letter": "1"}).status_code == 403
    assert client.post("/admin/rules", files={"file": ("a.pdf", SEED_003.read_bytes(), "application/pdf")}).status_code == 403
    client.cookies.clear()
    assert client.get("/api/rules").status_code == 401
