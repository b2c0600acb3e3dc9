"""Where fields came from (page images with boxes) and the review page: corrections kept apart, shown everywhere.

The archive holds own_10 and seed_000 with the boxes and confidence the extractor gives their
PDFs (tests/web/conftest.py READ_FOR_REAL): own_10's title line was read with confidence 0.7.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path

import pdfplumber
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text
from typer.testing import CliRunner

from pipeline.db import Archive
from pipeline.evaluate import evaluate
from pipeline.show import load_document, show
from tests.web.conftest import SAMPLES, doc_id

AsRole = Callable[[str], str]
OWN_10 = "藥師全聯字第1130000214號"
SEED_000 = "中市衛醫字第1120070277號"


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def test_the_letter_page_shows_its_pages_with_the_fields_boxes(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, SEED_000)
    page = client.get(f"/letters/{letter}")
    assert page.status_code == 200
    # both pages of the letter, each an image of the original
    assert re.findall(rf'<img src="/letters/{letter}/pages/(\d+).png"', page.text) == ["1", "2"]
    image = client.get(f"/letters/{letter}/pages/1.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    width, height = _png(image.content).size
    with pdfplumber.open(SAMPLES / "seed_000.pdf") as pdf:
        assert abs(width / height - pdf.pages[0].width / pdf.pages[0].height) < 0.01
    # the subject's box drawn where the extractor read it, and the field's name links to it
    rect = re.search(r'<rect id="box-subject" class="field-box" data-field="subject" x="([\d.]+)" y="([\d.]+)" '
                     r'width="([\d.]+)" height="([\d.]+)"', page.text)
    assert rect is not None
    with web_archive.session() as session:
        doc = load_document(session, letter)
    assert doc is not None and doc.boxes is not None
    box = doc.boxes["subject"][0].box
    assert [float(v) for v in rect.groups()] == pytest.approx([box[0], box[1], box[2] - box[0], box[3] - box[1]])
    assert 'href="#box-subject" id="field-subject"' in page.text
    assert 'href="#box-explanation-2"' not in page.text and 'id="box-explanation-2"' in page.text  # its page-2 box


@pytest.mark.parametrize("path", ["/letters/{id}/pages/3.png", "/letters/{id}/pages/0.png", "/letters/999999/pages/1.png",
                                  "/letters/{id}/boxes/nothing.png", "/letters/999999/boxes/subject.png",
                                  "/letters/{id}/boxes/..%2Fsubject.png"])
def test_unknown_pages_and_fields_are_404_or_422_never_500(
    client: TestClient, as_role: AsRole, web_archive: Archive, path: str
) -> None:
    as_role("analyst")
    response = client.get(path.format(id=doc_id(web_archive, SEED_000)))
    assert response.status_code in (404, 422)


def test_a_letter_read_from_a_golden_has_images_but_no_boxes(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    as_role("analyst")
    letter = doc_id(web_archive, "成附醫教字第1120016789號")  # own_11, stored from its golden alone
    page = client.get(f"/letters/{letter}")
    assert f'/letters/{letter}/pages/1.png' in page.text and "field-box" not in page.text
    assert client.get(f"/letters/{letter}/pages/1.png").status_code == 200


def test_page_images_need_a_log_in(client: TestClient, web_archive: Archive) -> None:
    assert client.get(f"/letters/{doc_id(web_archive, SEED_000)}/pages/1.png").status_code == 303


def test_review_lists_doubtful_fields_worst_first_with_the_crop(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    page = client.get("/review")
    assert page.status_code == 200
    rows = re.findall(r'<tr id="review-(\d+)-([a-z_.]+)">', page.text)
    assert (str(letter), "sender") in rows and (str(letter), "signatory") in rows
    confidences = [float(c) for c in re.findall(r'<td class="confidence">([\d.]+)</td>', page.text)]
    assert confidences == sorted(confidences) and max(confidences) < 0.8
    assert f'/letters/{letter}/boxes/sender.png' in page.text
    crop = _png(client.get(f"/letters/{letter}/boxes/sender.png").content)
    whole = _png(client.get(f"/letters/{letter}/pages/1.png").content)
    assert crop.size[0] < whole.size[0] * 1.5 and crop.size[1] < crop.size[0]  # a line, not the page
    # the threshold is the reviewer's to choose
    assert '<tr id="review-' not in client.get("/review?threshold=0.5").text
    assert client.get("/review?threshold=2").status_code == 422


def test_an_analyst_cannot_review(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("analyst")
    assert client.get("/review").status_code == 403
    letter = doc_id(web_archive, OWN_10)
    refused = client.post(f"/review/{letter}/sender", data={"value": "x", "csrf_token": token})
    assert refused.status_code == 403
    with web_archive.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM field_corrections")).scalar() == 0


def test_a_correction_is_kept_apart_and_shown_everywhere(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    token = as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    new = "中華民國藥師公會全國聯合會（更正）"
    # without the CSRF token nothing happens
    assert client.post(f"/review/{letter}/sender", data={"value": new}).status_code == 403
    done = client.post(f"/review/{letter}/sender", data={"value": new, "csrf_token": token, "back": "/review"})
    assert done.status_code == 303 and done.headers["location"] == "/review"
    assert "已更正" in _text(client.get("/review").text)
    # kept apart: the documents row is what was read; the correction says who, what before, what after
    with web_archive.engine.connect() as conn:
        assert conn.execute(text("SELECT sender FROM documents WHERE id = :i"), {"i": letter}).scalar() == \
            "中華民國藥師公會全國聯合會"
        row = conn.execute(text("SELECT field, old_value, new_value, actor FROM field_corrections")).one()
    assert (row.field, json.loads(row.old_value), json.loads(row.new_value), row.actor) == \
        ("sender", "中華民國藥師公會全國聯合會", new, "clerk")
    # the review list no longer holds it
    assert f'review-{letter}-sender"' not in client.get("/review").text
    # the letter page, its correction history, the search hit and the API show the new value
    page = _text(client.get(f"/letters/{letter}").text)
    assert new in page and "更正紀錄" in page
    hits = _text(client.get("/search", params={"number": OWN_10}).text)
    assert new in hits
    api = client.get(f"/api/letters/{letter}").json()
    assert api["sender"] == new and api["confidence"]["sender"] == 1.0
    assert api["corrections"][0] | {"at": None} == {"id": 1, "document_id": letter, "field": "sender",
                                                    "old": "中華民國藥師公會全國聯合會", "new": new,
                                                    "actor": "clerk", "at": None}
    with web_archive.session() as session:
        view = show(session, letter)
        raw = load_document(session, letter, corrected=False)
    assert view is not None and view.document.sender == new and raw is not None and raw.sender != new


def test_corrections_that_cannot_be_taken_say_why(client: TestClient, as_role: AsRole, web_archive: Archive) -> None:
    token = as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    client.post(f"/review/{letter}/issue_date", data={"value": "下禮拜", "csrf_token": token})
    assert "not a date" in _text(client.get("/review").text)
    client.post(f"/review/{letter}/references", data={"value": "x", "csrf_token": token})
    assert "not a field that can be corrected here" in _text(client.get("/review").text)
    # a ROC date is taken, stored as ISO
    client.post(f"/review/{letter}/issue_date", data={"value": "113/01/15", "csrf_token": token})
    assert client.get(f"/api/letters/{letter}").json()["issue_date"] == "2024-01-15"
    assert client.post("/review/999999/sender", data={"value": "x", "csrf_token": token}).status_code == 303
    with web_archive.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM field_corrections")).scalar() == 1


def test_the_api_reviews_and_corrects_as_the_page_does(client: TestClient, web_archive: Archive) -> None:
    login = client.post("/api/login", json={"name": "clerk", "password": "correct horse battery"}).json()
    headers = {"X-CSRF-Token": login["csrf_token"]}
    listed = client.get("/api/review").json()
    letter = doc_id(web_archive, OWN_10)
    assert {"document_id": letter, "field": "signatory"}.items() <= next(
        i for i in listed["fields"] if i["field"] == "signatory" and i["document_id"] == letter).items()
    made = client.post(f"/api/review/{letter}/signatory", json={"value": "理事長 黃金舜"}, headers=headers)
    assert made.status_code == 200 and made.json()["new"] == "理事長 黃金舜"
    assert client.post(f"/api/review/{letter}/issue_date", json={"value": "x"}, headers=headers).status_code == 422
    assert client.post("/api/review/999999/sender", json={"value": "x"}, headers=headers).status_code == 404
    assert client.get(f"/api/letters/{letter}").json()["signatory"] == "理事長 黃金舜"


def test_corrected_letters_export_as_goldens_that_eval_reads(
    client: TestClient, as_role: AsRole, web_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gongwen review export DIR`: the office's corrected letters become a test set for `gongwen eval`."""
    from pipeline.cli import app

    token = as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    # a reviewer confirms the sender and, wrongly, changes the signature: eval then fails on that field alone
    client.post(f"/review/{letter}/sender", data={"value": "中華民國藥師公會全國聯合會", "csrf_token": token})
    client.post(f"/review/{letter}/signatory", data={"value": "理事長 某某某", "csrf_token": token})
    monkeypatch.setenv("GONGWEN_DATABASE_URL", str(web_archive.engine.url))
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(web_archive.files))
    out = tmp_path / "goldens"
    run = CliRunner().invoke(app, ["review", "export", str(out)])
    assert run.exit_code == 0, run.output
    assert sorted(p.name for p in out.iterdir()) == ["own_10.json", "own_10.pdf"]
    golden = json.loads((out / "own_10.json").read_text(encoding="utf-8"))
    assert golden["file"] == "own_10.pdf" and golden["documents"][0]["signatory"] == "理事長 某某某"
    assert "confidence" not in golden["documents"][0] and "boxes" not in golden["documents"][0]
    report = evaluate(out)
    assert report.files == 1 and not report.errors
    assert [(f.file, f.field, f.expected) for f in report.failures] == [("own_10.pdf", "signatory", "理事長 某某某")]
    # --json says what was written
    empty = CliRunner().invoke(app, ["review", "export", str(tmp_path / "none"), "--json"])
    assert empty.exit_code == 0 and json.loads(empty.output)["files"] == 1


def test_a_threshold_that_is_no_number_stops_the_server_in_one_line(
    web_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import app

    monkeypatch.setenv("GONGWEN_DATABASE_URL", str(web_archive.engine.url))
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(web_archive.files))
    monkeypatch.setenv("GONGWEN_REVIEW_THRESHOLD", "eighty")
    run = CliRunner().invoke(app, ["serve", "--port", "1"])
    assert run.exit_code == 2
    assert run.output.strip().splitlines()[-1:] == ["gongwen: GONGWEN_REVIEW_THRESHOLD='eighty' is not a number from 0 to 1 (e.g. 0.8)"]
    assert "Traceback" not in run.output



def test_gongwen_show_prints_the_correction_and_what_was_read(
    client: TestClient, as_role: AsRole, web_archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import app

    token = as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    client.post(f"/review/{letter}/sender", data={"value": "更正後的公會", "csrf_token": token})
    monkeypatch.setenv("GONGWEN_DATABASE_URL", str(web_archive.engine.url))
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(web_archive.files))
    run = CliRunner().invoke(app, ["show", str(letter)])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert any(line.split() == ["sender", "更正後的公會"] for line in lines)
    assert any(line.startswith("  corrected sender: '中華民國藥師公會全國聯合會' → '更正後的公會' by clerk") for line in lines)
    assert not any(line.split()[:1] == ["boxes"] for line in lines)  # where fields were printed: JSON only
    shown = json.loads(CliRunner().invoke(app, ["show", str(letter), "--json"]).output)
    assert shown["sender"] == "更正後的公會" and shown["corrections"][0]["old"] == "中華民國藥師公會全國聯合會"
    assert shown["boxes"]["sender"][0]["page"] == 1


def test_a_corrected_explanation_is_a_tree_shown_searched_and_exported(
    client: TestClient, web_archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """說明 is edited as printed (numbered, one item a line) and read back by the extractor's numbering parser."""
    from pipeline.cli import app
    from pipeline.search import search

    login = client.post("/api/login", json={"name": "clerk", "password": "correct horse battery"}).json()
    headers = {"X-CSRF-Token": login["csrf_token"]}
    letter = doc_id(web_archive, OWN_10)
    with web_archive.session() as session:
        read = load_document(session, letter)
        assert read is not None and read.explanation is not None
        assert letter in [h.id for h in search(session, "國家發展委員會公共政策網路參與平臺").hits]
    # the value offered is the tree as printed: the reviewer rewrites item 三 and adds a sub-item under it
    listed = client.get("/api/review", params={"threshold": 1}).json()["fields"]
    shown = next(i for i in listed if i["document_id"] == letter and i["field"] == "explanation")
    assert shown["correctable"] and shown["label"] == "說明"
    assert shown["value"].splitlines()[2].startswith("三、草案全文請至國家發展委員會")
    lines = shown["value"].splitlines()
    lines[2] = "三、草案全文請至審核員更正的瑪卡巴卡平臺查閱，"
    lines.insert(3, "  （一）紙本請洽本會\n秘書處索取。")  # a wrapped line continues its item
    made = client.post(f"/api/review/{letter}/explanation", json={"value": "\n".join(lines)}, headers=headers)
    assert made.status_code == 200, made.text
    assert made.json()["old"] == [i.model_dump() for i in read.explanation]
    third = {"label": "三", "text": "草案全文請至審核員更正的瑪卡巴卡平臺查閱，",
             "children": [{"label": "一", "text": "紙本請洽本會秘書處索取。", "children": []}]}
    expected = [*made.json()["old"][:2], third, made.json()["old"][3]]
    assert made.json()["new"] == expected
    # kept apart: the item rows are what was read
    with web_archive.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM items WHERE document_id = :i AND text LIKE '%瑪卡巴卡%'"),
                            {"i": letter}).scalar() == 0
    # shown everywhere: the API, `gongwen show --json`, the letter page; the review list no longer holds it
    api = client.get(f"/api/letters/{letter}").json()
    assert api["explanation"] == expected and api["confidence"]["explanation"] == 1.0
    monkeypatch.setenv("GONGWEN_DATABASE_URL", str(web_archive.engine.url))
    monkeypatch.setenv("GONGWEN_FILES_DIR", str(web_archive.files))
    run = CliRunner().invoke(app, ["show", str(letter), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["explanation"] == expected
    page = _text(client.get(f"/letters/{letter}").text)
    assert "瑪卡巴卡平臺" in page and "紙本請洽本會秘書處索取。" in page and "更正紀錄" in page
    assert not any(i["field"] == "explanation" and i["document_id"] == letter
                   for i in client.get("/api/review", params={"threshold": 1}).json()["fields"])
    # searched: the new words are found, the words replaced no longer
    with web_archive.session() as session:
        assert [h.id for h in search(session, "瑪卡巴卡平臺").hits] == [letter]
        assert [h.id for h in search(session, "秘書處索取").hits] == [letter]
        assert letter not in [h.id for h in search(session, "國家發展委員會公共政策網路參與平臺").hits]
        assert letter in [h.id for h in search(session, "修正意見表").hits]  # the items not changed still are
    # exported as a golden that `gongwen eval` reads and scores: the changed item is the one failure
    out = tmp_path / "goldens"
    assert CliRunner().invoke(app, ["review", "export", str(out)]).exit_code == 0
    golden = json.loads((out / "own_10.json").read_text(encoding="utf-8"))
    assert golden["documents"][0]["explanation"] == expected
    report = evaluate(out)
    assert report.files == 1 and not report.errors
    assert {f.field for f in report.failures} == {"explanation"}
    # blank: the letter has no 說明
    assert client.post(f"/api/review/{letter}/explanation", json={"value": " \n"}, headers=headers).json()["new"] is None
    assert client.get(f"/api/letters/{letter}").json()["explanation"] is None


def test_the_review_page_offers_a_tree_as_printed_and_takes_it_back(
    client: TestClient, as_role: AsRole, web_archive: Archive
) -> None:
    token = as_role("clerk")
    letter = doc_id(web_archive, OWN_10)
    page = client.get("/review?threshold=1").text
    row = page[page.index(f'<tr id="review-{letter}-explanation">'):]
    area = re.search(r'<textarea name="value" rows="(\d+)"[^>]*>([^<]*)</textarea>', row[:row.index("</tr>")])
    assert area is not None and int(area.group(1)) == 4
    printed = unescape(area.group(2))
    assert printed.splitlines()[1].startswith("二、旨揭草案修正重點")
    done = client.post(f"/review/{letter}/explanation",
                       data={"value": printed.replace("3日內", "5日內"), "csrf_token": token, "back": "/review"})
    assert done.status_code == 303
    assert "說明 已更正為「一、依據" in _text(client.get("/review").text)
    explanation = client.get(f"/api/letters/{letter}").json()["explanation"]
    assert "應於5日內將回收藥品下架" in explanation[1]["text"] and len(explanation) == 4
