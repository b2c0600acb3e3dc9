"""The letter page: the fields as the letter lays them out, its thread and tasks, and its original PDF."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient

from pipeline.db import Archive
from tests.web.conftest import SAMPLES, doc_id

AsRole = Callable[[str], str]


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_the_letter_with_its_tree_copies_and_roc_dates(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, "醫評字第1120100216A號")
    page = client.get(f"/letters/{letter}")
    assert page.status_code == 200
    text = _text(page.text)
    for shown in ("財團法人醫院評鑑暨醫療品質策進會", "醫評字第1120100216A號", "民國112年5月30日（2023-05-30）", "主旨",
                  "說明", "正本"):
        assert shown in text, shown
    assert re.search(r'<span class="label">一、</span>', page.text)  # the 說明 tree, item by item
    # cited by the 臺中市政府衛生局's cover letter, which is in its thread
    cover = doc_id(web_archive, "中市衛醫字第1120070277號")
    assert f'href="/letters/{cover}"' in page.text


def test_the_letter_shows_its_tasks_and_why_they_exist(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("clerk")
    letter = doc_id(web_archive, "醫評字第1120100216A號")
    page = client.get(f"/letters/{letter}")
    tasks = re.findall(r'<tr class="task (\w+)', page.text)
    assert len(tasks) == 2 and set(tasks) == {"pending"}
    assert "規則" in page.text and 'action="/queue/' in page.text  # a clerk's buttons


def test_the_original_pdf_downloads_as_it_was_ingested(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, "醫評字第1120100216A號")
    link = re.search(rf'href="(/letters/{letter}/files/(\d+)\.pdf)"', client.get(f"/letters/{letter}").text)
    assert link
    response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "seed_000.pdf" in response.headers["content-disposition"]
    assert response.content == (SAMPLES / "seed_000.pdf").read_bytes()
    other = doc_id(web_archive, "勞動條2字第1110141287號")
    assert client.get(f"/letters/{other}/files/{link.group(2)}.pdf").status_code == 404  # not a file of that letter


def test_paths_never_leave_the_file_store(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    as_role("analyst")
    for url in ("/letters/1/files/..%2F..%2Farchive.sqlite.pdf", "/letters/1/files/../../archive.sqlite",
                "/letters/1/files/%2e%2e/1.pdf", "/letters/1/files/-1.pdf", "/letters/999999/files/1.pdf",
                "/static/../archive.sqlite", "/static/%2e%2e/%2e%2e/app.py"):
        response = client.get(url)
        assert response.status_code in (404, 422), url
        assert b"SQLite format" not in response.content and b"def create_app" not in response.content


def test_a_letter_by_its_number_and_one_that_is_not_there(client: TestClient, as_role: AsRole,
                                                          web_archive: Archive) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, "醫評字第1120100216A號")
    response = client.get("/letters", params={"ref": "醫評字第 1120100216A 號"})
    assert response.status_code == 303 and response.headers["location"] == f"/letters/{letter}"
    assert client.get("/letters/999999").status_code == 404
    assert "找不到" in client.get("/letters", params={"ref": "無此字號"}).text


def test_a_notice_shows_every_numbered_subject_block(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    """A notice printing several 主旨 blocks (一、主旨… 二、主旨…): the first is the letter's own 主旨; each
    further block is shown with its label, subject and trees, not dropped."""
    as_role("analyst")
    notice = doc_id(web_archive, "(110)高市醫會總字第281.-300.號")
    text = _text(client.get(f"/letters/{notice}").text)
    assert "轉知衛生福利部修正「醫療機構設置標準」部分條文" in text
    for label, words in (("二", "醫療機構感染管制查核"), ("三", "本會辦理110年度第二次繼續教育課程")):
        assert f"{label}、主旨" in text and words in text, label
