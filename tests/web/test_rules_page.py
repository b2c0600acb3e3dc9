"""The rules page: the routing files read-only, and a dry run for a stored letter, for admins only."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pipeline.db import Archive
from pipeline.web.app import create_app
from schemas.orm import RoutingTask
from tests.web.conftest import ROOT, log_in

AsRole = Callable[[str], str]


def test_an_admin_reads_the_rules_and_tries_a_letter_without_writing(client: TestClient, as_role: AsRole,
                                                                      web_archive: Archive) -> None:
    as_role("admin")
    with web_archive.session() as s:
        before = s.scalar(select(func.count()).select_from(RoutingTask))
    page = client.get("/admin/rules", params={"letter": "醫評字第1120100216A號"})
    assert page.status_code == 200
    text = unescape(re.sub(r"<[^>]+>", " ", page.text))
    assert "rules.yaml" in text and "associations.yaml" in text
    assert re.search(r"轉知 \S+", text) and "規則 " in text  # the decision, the rules that matched and why
    with web_archive.session() as s:
        assert s.scalar(select(func.count()).select_from(RoutingTask)) == before
    assert "檔案庫中沒有 無此字號" in unescape(client.get("/admin/rules", params={"letter": "無此字號"}).text)


def test_a_clerk_cannot_reach_the_rules_page(client: TestClient, as_role: AsRole) -> None:
    as_role("clerk")
    assert client.get("/admin/rules").status_code == 403


def test_a_rules_file_that_is_not_valid_is_one_line(web_archive: Archive, tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("rules:\n  - name: x\n    to: [nosuch]\n    when: {field: subject, match: any, value: 醫}\n",
                      encoding="utf-8")
    app = create_app(web_archive, secret="s", rules=str(broken), associations=str(ROOT / "config/associations.yaml"))
    client = TestClient(app, follow_redirects=False)
    log_in(client, "admin")
    page = client.get("/admin/rules")
    assert page.status_code == 200 and "nosuch" in unescape(page.text)
