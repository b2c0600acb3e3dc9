"""Web fixtures: one SQLite archive per test, copied from a template filled once per session.

The template holds every golden answer of samples/born_digital stored as ingest stores it
(the golden JSON read as the extractor's output, with its PDF kept as the original: no PDF is
read, so a web test takes well under a second), routed with config/rules.yaml, a letter whose
text is markup (the escaping tests), and one user per role. SQLite only: the service layer
under the pages is tested on PostgreSQL in tests/store.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline.db import Archive, make_engine, upgrade
from pipeline.routing.config import load_config
from pipeline.routing.engine import Router
from pipeline.routing.queue import route_archive
from pipeline.store import store_result
from pipeline.web.app import create_app
from pipeline.web.users import add_user
from schemas.letter import FileResult

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "born_digital"
PASSWORD = "correct horse battery"
ROLES = ("analyst", "clerk", "admin")
# text a letter may hold that a browser must never run
SCRIPT = "<script>alert(1)</script>"
ONERROR = '<img src=x onerror=alert(1)>'
HOSTILE_SUBJECT = f"惡意主旨{SCRIPT}{ONERROR}測試"


def golden(name: str) -> FileResult:
    """A golden answer as if the extractor had read its PDF."""
    pdf = SAMPLES / f"{name}.pdf"
    data = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    data["file"] = str(pdf)
    data["sha256"] = hashlib.sha256(pdf.read_bytes()).hexdigest()
    return FileResult.model_validate(data)


# letters whose golden takes the extractor's boxes and confidence (the letter page's boxes, the review page):
# own_10's title line is read with confidence 0.7 (sender, doc_type) and its signature with 0.75
READ_FOR_REAL = ("own_10", "seed_000")


def with_provenance(result: FileResult) -> FileResult:
    """The golden's documents with the `boxes` and `confidence` the extractor gives its PDF (the values stay the golden's)."""
    from pipeline.extract import extract_file

    read = {d.pages[0]: d for d in extract_file(Path(result.file)).documents}
    for doc in result.documents:
        found = read.get(doc.pages[0])
        if found is not None:
            doc.boxes, doc.confidence = found.boxes, found.confidence
    return result


def _hostile(tmp: Path) -> tuple[FileResult, Path]:
    """own_03's letter with markup in its subject, sender, an item and a cc (another PDF: other bytes)."""
    result = golden("own_03")
    pdf = tmp / "hostile.pdf"
    pdf.write_bytes((SAMPLES / "own_03.pdf").read_bytes() + b"\n%hostile\n")
    result.file = str(pdf)
    result.sha256 = hashlib.sha256(pdf.read_bytes()).hexdigest()
    doc = result.documents[0]
    doc.subject = HOSTILE_SUBJECT
    doc.sender = f"駭客局{ONERROR}"
    doc.doc_number = "駭字第1130000001號"
    if doc.explanation:
        doc.explanation[0].text = f"說明{SCRIPT}"
    doc.cc_main = [f"<b>正本</b>{SCRIPT}"]
    return result, pdf


@pytest.fixture(scope="session")
def web_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-template")
    engine = make_engine(f"sqlite:///{root / 'archive.sqlite'}")
    upgrade(engine)
    archive = Archive(engine, root / "files")
    for path in sorted(SAMPLES.glob("*.json")):
        if path.name.endswith(".layout.json"):
            continue
        result = golden(path.stem)
        if path.stem in READ_FOR_REAL:
            result = with_provenance(result)
        report = store_result(archive, result, SAMPLES / f"{path.stem}.pdf")
        assert report.status == "stored", (path, report.error)
    hostile, pdf = _hostile(root)
    assert store_result(archive, hostile, pdf).status == "stored"
    route_archive(archive, Router(load_config(ROOT / "config/rules.yaml", ROOT / "config/associations.yaml")))
    for role in ROLES:
        add_user(archive, role, role, PASSWORD)
    engine.dispose()
    return root


@pytest.fixture
def web_archive(web_template: Path, tmp_path: Path) -> Iterator[Archive]:
    shutil.copyfile(web_template / "archive.sqlite", tmp_path / "archive.sqlite")
    shutil.copytree(web_template / "files", tmp_path / "files")
    archive = Archive(make_engine(f"sqlite:///{tmp_path / 'archive.sqlite'}"), tmp_path / "files")
    yield archive
    archive.engine.dispose()


@pytest.fixture
def client(web_archive: Archive) -> Iterator[TestClient]:
    """A browser that has logged in as no one yet."""
    app = create_app(web_archive, secret="test-secret", rules=str(ROOT / "config/rules.yaml"),
                     associations=str(ROOT / "config/associations.yaml"))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the log-in page as a person does; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/search"})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/search").text)


@pytest.fixture
def as_role(client: TestClient) -> object:
    """as_role("clerk") logs the client in with that role's user and returns the CSRF token."""
    return lambda role: log_in(client, role)


def doc_id(archive: Archive, doc_number: str) -> int:
    """The stored letter with this 字號 (ids depend on the order the template was filled in)."""
    from sqlalchemy import select

    from schemas.orm import DocumentRow

    with archive.session() as s:
        found = s.scalar(select(DocumentRow.id).where(DocumentRow.doc_number == doc_number))
    assert found is not None, doc_number
    return found


@pytest.fixture
def office(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped office template (config/office.example.yaml) as the configuration folder's office.yaml: drafts can be made."""
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "config" / "office.example.yaml", folder / "office.yaml")
    monkeypatch.setenv("GONGWEN_CONFIG_DIR", str(folder))
    return folder
