"""`gongwen ingest` (the Prefect flow, embedded mode), `search` and `show` through the CLI."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

# Prefect reads its settings when it is imported, so they are set before flows.py is. Its
# INFO lines would go to a stream CliRunner has closed by the time the temporary server
# stops (at exit). PREFECT_HOME stays the user's: a fresh one costs ~12 s of migrations.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
import pipeline.flows  # noqa: F401  (Prefect settings read at import: after the environment above)
from pipeline.cli import app
from pipeline.db import Archive, close_archives
from pipeline.store import ingest_file
from schemas.letter import FileResult

Extract = Callable[[Path], FileResult]
runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"GONGWEN_DATABASE_URL": db_url, "GONGWEN_FILES_DIR": str(tmp_path / "files")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    yield values
    close_archives()


def test_ingest_runs_the_prefect_flow(
    env: dict[str, str], samples_dir: Path, bad_files: dict[str, Path]
) -> None:
    """One flow run per backend (each costs seconds): two small PDFs and a bad file."""
    files = [samples_dir / "seed_003.pdf", samples_dir / "own_05.pdf", bad_files["not_pdf"]]
    result = runner.invoke(app, ["ingest", *map(str, files), "--json"])
    assert result.exit_code == 1 and result.stdout, result.output  # one input failed, the others are stored
    payload = json.loads(result.stdout)
    assert [f["status"] for f in payload["files"]] == ["stored", "stored", "quarantined"]
    assert [f["file"] for f in payload["files"]] == [str(f) for f in files]  # `file`, as in gongwen extract --json
    assert payload["summary"] == {
        "files": 3, "stored": 2, "duplicate": 0, "failed": 0, "quarantined": 1,
        "letters": 3, "forms": 0, "other": 0, "linked": 0, "versions": 0,
    }
    assert next(iter(payload["summary"])) == "files"  # the total first, as it was printed when it was counted apart
    # the flow routed what it stored: seed_003's ministry reply to the 22 county physicians'
    # associations; own_05 (內政部 to a county government) matches no rule: triage
    assert payload["routing"]["tasks_created"] == 22 and payload["routing"]["triage"] == 1
    routing = payload["routing"]
    assert next(iter(routing)) == "documents" and routing["documents"] == routing["routed"] + routing["triage"] == 3
    stored = sorted(p.name for p in Path(env["GONGWEN_FILES_DIR"]).rglob("*") if p.is_file())
    assert len(stored) == 3  # every input with a content hash is kept, the quarantined one too
    shown = runner.invoke(app, ["show", "衛部資字第1112660027號", "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["cited_by"][0]["doc_number"] == "全醫聯字第1110000119號"

    # again, with a scanned PDF and --no-ocr: duplicates say what they duplicate; the scan is not read
    scan = samples_dir.parent / "scanned" / "own_05.pdf"
    again = runner.invoke(app, ["ingest", str(files[0]), str(files[1]), str(scan), "--no-ocr"])
    assert again.exit_code == 1, again.output  # the scan gave no documents without OCR: failed, tried again later
    lines = again.stdout.splitlines()
    ids = [d["documents"] for d in payload["files"][:2]]
    assert lines[0] == f"{files[0]}: duplicate of {', '.join(f'#{i}' for i in ids[0])} (file #{payload['files'][0]['file_id']}, already in the archive)"
    assert lines[1].startswith(f"{files[1]}: duplicate of #{ids[1][0]} ")
    assert lines[2].startswith(f"{scan}: failed")

    text_view = runner.invoke(app, ["show", "衛部資字第1112660027號"])
    sha = payload["files"][0]["sha256"]
    original = Path(env["GONGWEN_FILES_DIR"]).absolute() / sha[:2] / f"{sha[2:]}.pdf"
    assert f"original: {original}" in text_view.stdout and f"  {files[0]}" in text_view.stdout  # absolute paths


def test_an_empty_inbox_is_nothing_to_do(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    result = runner.invoke(app, ["ingest", str(tmp_path / "inbox")])
    assert result.exit_code == 0 and result.output.startswith("nothing to do: no PDF or DI files in")
    assert not (tmp_path / "files").exists()


def test_help_lists_every_command() -> None:
    import typer.main

    group = typer.main.get_command(app)
    result = runner.invoke(app, ["--help"])
    names = list(getattr(group, "commands", {}))
    assert {"extract", "eval", "ingest", "search", "show", "fsck"} <= set(names)
    for name in names:
        assert f"│ {name} " in result.stdout, name


def test_search_and_show_commands(
    env: dict[str, str], archive: Archive, extract: Extract, samples_dir: Path
) -> None:
    for name in ("seed_000", "seed_003"):
        ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract)

    found = runner.invoke(app, ["search", "醫策會", "--from", "112/05/01", "--to", "民國112年5月31日", "--json"])
    assert found.exit_code == 0, found.output
    payload = json.loads(found.stdout)
    assert {r["doc_number"] for r in payload["results"]} == {"醫評字第1120100216A號", "醫評字第1120100216B號"}
    assert all("«" in r["snippet"] for r in payload["results"])

    plain = runner.invoke(app, ["search", "台中", "--limit", "1"])
    assert plain.exit_code == 0 and "«臺中»" in plain.stdout
    assert plain.stdout.splitlines()[-1] == "3 results, the first 1 shown (--limit)"

    for hostile in ["'; DROP TABLE documents; --", "%", '"', "_"]:
        assert runner.invoke(app, ["search", hostile, "--json"]).exit_code == 0

    assert runner.invoke(app, ["search", "醫", "--from", "yesterday-ish"]).exit_code == 2
    assert runner.invoke(app, ["search", "醫", "--kind", "memo"]).exit_code == 2
    assert runner.invoke(app, ["search", "  "]).exit_code == 2

    shown = runner.invoke(app, ["show", "中市衛醫字第1120070277號", "--json"])
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.stdout)
    assert view["pages"] == [1, 2] and [c["doc_number"] for c in view["cites"]] == [
        "醫評字第1120100216A號", "醫評字第1120100216B號"]
    text_view = runner.invoke(app, ["show", str(view["id"])])
    assert text_view.exit_code == 0 and "cites" in text_view.stdout and "thread:" in text_view.stdout
    assert runner.invoke(app, ["show", "無此字第1號"]).exit_code == 1


def test_search_total_dates_speed_and_forms(
    env: dict[str, str], archive: Archive, extract: Extract, samples_dir: Path
) -> None:
    for name in ("seed_000", "seed_003", "seed_004"):
        ingest_file(archive, samples_dir / f"{name}.pdf", extract=extract)

    def numbers(*args: str) -> set[str]:
        result = runner.invoke(app, ["search", *args, "--json"])
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["count"] == len(payload["results"]) <= payload["total"]
        return {r["doc_number"] for r in payload["results"]}

    found = json.loads(runner.invoke(app, ["search", "醫策會", "--limit", "1", "--json"]).stdout)
    assert found["count"] == 1 and found["total"] == 5  # A, B, the cover letter and both brochures
    a, b, cover = "醫評字第1120100216A號", "醫評字第1120100216B號", "中市衛醫字第1120070277號"
    assoc, mohw = "全醫聯字第1110000119號", "衛部資字第1112660027號"
    # a year or a month: from its first day, to its last
    assert numbers("--kind", "letter", "--from", "112年") == {a, b, cover}
    assert numbers("--kind", "letter", "--from", "2023") == {a, b, cover}
    assert numbers("--kind", "letter", "--to", "112/05") == {a, b, assoc, mohw}
    assert numbers("--kind", "letter", "--to", "2023-05") == {a, b, assoc, mohw}
    assert numbers("--kind", "letter", "--from", "民國112年6月", "--to", "112年6月") == {cover}
    assert numbers("--kind", "letter", "--to", "2022-01-19") == {mohw}
    for args in (["--from", "2023-06-01", "--to", "2023-05-01"], ["--from", "112年", "--to", "2022"]):
        reversed_range = runner.invoke(app, ["search", "醫", *args])
        assert reversed_range.exit_code == 2 and "after --to" in reversed_range.stderr
        assert len(reversed_range.stderr.strip().splitlines()) == 1
    # 速別: the glossary's words, 件 optional; anything else is a usage error listing them
    assert numbers("認證", "--speed", "普通件") == numbers("認證", "--speed", "普通")
    unknown = runner.invoke(app, ["search", "醫", "--speed", "特快"])
    assert unknown.exit_code == 2 and "最速件, 特急件, 速件, 普通件" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    # forms: 表號 and 編製機關 in the results
    forms = runner.invoke(app, ["search", "藥政", "--kind", "form"])
    assert forms.exit_code == 0, forms.output
    assert "表號 10522-01-01-2" in forms.stdout and "編製機關 縣市衛生局" in forms.stdout
    [form] = json.loads(runner.invoke(app, ["search", "藥政", "--kind", "form", "--json"]).stdout)["results"]
    assert form["form_number"] == "10522-01-01-2" and form["compiler"] == "縣市衛生局"


def test_search_help_explains_the_agencies_flag() -> None:
    result = runner.invoke(app, ["search", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(re.sub("[│─╭╮╰╯]", " ", result.stdout).split())  # rich's boxes and wrapping
    assert "--include-agencies" in text and "the body alone" in text
