"""Bad input gets a clear error, the batch goes on, exit code 1 (docs/cli.md#exit-codes)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.extract import extract_file

runner = CliRunner()


@pytest.fixture()
def bad_files(tmp_path: Path, samples_dir: Path, encrypted_pdf: Path) -> dict[str, Path]:
    good = samples_dir / "seed_003.pdf"
    files = {
        "empty": tmp_path / "empty.pdf",
        "not_pdf": tmp_path / "letter.pdf",
        "corrupt": tmp_path / "corrupt.pdf",
        "encrypted": encrypted_pdf,
        "good": tmp_path / "good.pdf",
    }
    files["empty"].write_bytes(b"")
    files["not_pdf"].write_text("主旨：這不是PDF", encoding="utf-8")
    files["corrupt"].write_bytes(good.read_bytes()[:1500])
    shutil.copy(good, files["good"])
    return files


@pytest.mark.parametrize(
    ("name", "message"),
    [("empty", "empty file"), ("not_pdf", "not a PDF"), ("corrupt", "PDF"), ("encrypted", "encrypted")],
)
def test_bad_file_reports_reason_and_no_documents(bad_files: dict[str, Path], name: str, message: str) -> None:
    result = extract_file(bad_files[name])
    assert result.error is not None and message in result.error
    assert result.documents == []


def test_missing_file(tmp_path: Path) -> None:
    assert extract_file(tmp_path / "nope.pdf").error == "file not found"


def test_batch_goes_on_and_exits_1(bad_files: dict[str, Path]) -> None:
    order = ["empty", "good", "corrupt", "encrypted", "not_pdf"]
    res = runner.invoke(app, ["extract", "--json", *[str(bad_files[n]) for n in order]])
    assert res.exit_code == 1
    payload = json.loads(res.stdout)
    assert [bool(item["error"]) for item in payload] == [True, False, True, True, True]
    good = payload[1]
    assert good["pages"] >= 2 and len(good["documents"]) == 2
    assert good["documents"][0]["doc_number"] == "全醫聯字第1110000119號"


def test_usage_error_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["extract", str(tmp_path)])
    assert res.exit_code == 2
