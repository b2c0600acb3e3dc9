"""Uploads through the page and the API: real sample PDFs extracted and stored as `gongwen ingest` stores them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.db import Archive, make_engine, upgrade
from pipeline.web.app import create_app
from pipeline.web.users import add_user
from schemas.orm import StoredFile
from tests.web.conftest import PASSWORD, ROOT, SAMPLES, csrf_of, log_in

CORRUPT = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> broken beyond repair\n"


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[tuple[TestClient, Archive]]:
    """An empty archive (the web template already holds every sample) with a clerk and an analyst."""
    engine = make_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}")
    upgrade(engine)
    archive = Archive(engine, tmp_path / "files")
    for role in ("clerk", "analyst"):
        add_user(archive, role, role, PASSWORD)
    app = create_app(archive, secret="test-secret", rules=str(ROOT / "config/rules.yaml"),
                     associations=str(ROOT / "config/associations.yaml"))
    with TestClient(app, follow_redirects=False) as client:
        yield client, archive
    engine.dispose()


def _files(*named: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/pdf")) for name, data in named]


def test_upload_api_stores_quarantines_and_knows_duplicates(empty: tuple[TestClient, Archive]) -> None:
    client, archive = empty
    token = client.post("/api/login", json={"name": "clerk", "password": PASSWORD}).json()["csrf_token"]
    pdf = (SAMPLES / "own_03.pdf").read_bytes()
    response = client.post("/api/upload", headers={"X-CSRF-Token": token},
                           files=_files(("own_03.pdf", pdf), ("../../etc/壞檔.pdf", CORRUPT), ("notes.txt", b"x")))
    assert response.status_code == 200, response.text
    stored, bad, refused = response.json()["files"]
    assert stored["name"] == "own_03.pdf" and stored["status"] == "stored" and stored["letters"] == 1
    assert len(stored["documents"]) == 1
    assert bad["name"] == "壞檔.pdf" and bad["status"] == "quarantined" and bad["error"]
    assert refused["status"] == "refused" and "PDF" in refused["error"]
    assert response.json()["routing"]["documents"] == 1
    with archive.session() as s:  # recorded as the CLI records it: quarantined, with its reason
        row = s.execute(select(StoredFile.status, StoredFile.error).where(StoredFile.id == bad["file_id"])).one()
    assert row.status == "quarantined" and row.error == bad["error"]

    again = client.post("/api/upload", headers={"X-CSRF-Token": token}, files=_files(("copy.pdf", pdf))).json()
    [dup] = again["files"]
    assert dup["status"] == "duplicate" and dup["documents"] == stored["documents"]
    assert again["routing"] is None  # nothing new to route

    found = client.get("/api/search", params={"q": "基本工資"}).json()
    assert [r["id"] for r in found["results"]] == stored["documents"]
    assert found["results"][0]["doc_number"] == "勞動條2字第1110141287號"


def test_upload_page_without_script_shows_a_row_per_file(empty: tuple[TestClient, Archive]) -> None:
    client, _ = empty
    log_in(client, "clerk")
    page = client.get("/upload")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    token = csrf_of(page.text)
    pdf = (SAMPLES / "own_01.pdf").read_bytes()
    response = client.post("/upload", data={"csrf_token": token},
                           files=_files(("own_01.pdf", pdf), ("<img src=x onerror=alert(1)>.pdf", CORRUPT)))
    assert response.status_code == 200
    rows = re.findall(r'<tr class="(\w+)">\s*<td>(.*?)</td>\s*<td>(.*?)</td>', response.text)
    assert [(r[0], r[2]) for r in rows] == [("stored", "已存入"), ("quarantined", "已隔離")]
    assert rows[1][1] == "&lt;img src=x onerror=alert(1)&gt;.pdf"  # an uploader's file name is text
    assert re.search(r'href="/letters/\d+"', response.text)
    assert "新增" in response.text  # the routing step's line


def test_upload_needs_a_clerk_csrf_and_a_size_limit(empty: tuple[TestClient, Archive],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = empty
    pdf = (SAMPLES / "own_03.pdf").read_bytes()
    assert client.post("/api/upload", files=_files(("a.pdf", pdf))).status_code == 403  # no session, no token
    token = client.post("/api/login", json={"name": "analyst", "password": PASSWORD}).json()["csrf_token"]
    assert client.post("/api/upload", headers={"X-CSRF-Token": token}, files=_files(("a.pdf", pdf))).status_code == 403
    assert client.get("/upload").status_code == 403
    token = client.post("/api/login", json={"name": "clerk", "password": PASSWORD}).json()["csrf_token"]
    assert client.post("/api/upload", files=_files(("a.pdf", pdf))).status_code == 403  # no CSRF token
    monkeypatch.setattr("pipeline.web.upload.MAX_FILE_MB", 0)  # every file is too large: refused unread
    [refused] = client.post("/api/upload", headers={"X-CSRF-Token": token}, files=_files(("a.pdf", pdf))).json()["files"]
    assert refused["status"] == "refused" and "MB" in refused["error"] and refused["documents"] == []
    monkeypatch.setattr("pipeline.web.upload.MAX_FILES", 1)  # the limit lives in upload.py alone
    response = client.post("/api/upload", headers={"X-CSRF-Token": token}, files=_files(("a.pdf", pdf), ("b.pdf", pdf)))
    assert response.status_code == 413 and "at most 1 files" in response.json()["detail"]
