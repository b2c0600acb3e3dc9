"""The contracts live in the repository (docs/): every citation of them resolves, none points outside.

A fresh clone must be complete: code, tests, config and README cite `docs/<page>.md#anchor`, never
a file beside the repository. Sample texts and test data may still say where they were copied
from (the seed letters), which is provenance, not a contract.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# files that can hold a citation: source, docs, config, data with comments, scripts
TEXT_SUFFIXES = frozenset({".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".json", ".ini", ".cfg", ".sh", ".mako"})
SKIP_DIRS = frozenset({".git", ".venv", "data", "build", "out", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache"})
CITATION = re.compile(r"(?<![\w./-])docs/([\w./-]+?\.md)(?:#([\w-]+))?")
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s#]*)(?:#([^)\s]+))?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# spelled in two parts so that this file does not cite them itself
SPEC_FILE = "GONGWEN" + ".md"
OUTSIDE = re.compile(r"(?:\.\./|/work/)" + "shared" + r"\b(/[\w.-]+)?")
PROVENANCE = frozenset({"/seeds", "/letters"})  # where sample texts and test data were copied from


def repository_files() -> list[Path]:
    """The files a clone holds (tracked, and new ones not ignored); a walk where git cannot say."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode().split("\0")
        paths = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if not SKIP_DIRS & set(p.relative_to(ROOT).parts[:-1])
                 and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)]
    return sorted(p for p in paths if p.is_file() and (p.suffix in TEXT_SUFFIXES or not p.suffix))


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """Every heading anchor of a Markdown page (fenced code skipped; repeats get -1, -2…)."""
    found: list[str] = []
    fenced = False
    for line in text_of(page).splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = sum(1 for a in found if a == base or re.fullmatch(re.escape(base) + r"-\d+", a))
            found.append(base if n == 0 else f"{base}-{n}")
    return frozenset(found)


def where(path: Path, text: str, offset: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, offset) + 1}"


def test_slug_is_githubs() -> None:
    assert slug("Exit codes") == "exit-codes"
    assert slug("The registry: associations.yaml") == "the-registry-associationsyaml"
    assert slug("gongwen queue list") == "gongwen-queue-list"
    assert slug("What a letter (公文) looks like") == "what-a-letter-公文-looks-like"


def test_every_cited_page_and_anchor_exists() -> None:
    problems: list[str] = []
    cited = 0
    for path in repository_files():
        text = text_of(path)
        for m in CITATION.finditer(text):
            cited += 1
            page, anchor = DOCS / m.group(1), m.group(2)
            if not page.is_file():
                problems.append(f"{where(path, text, m.start())}: {m.group(0)}: no such page")
            elif anchor and anchor not in anchors(page):
                problems.append(f"{where(path, text, m.start())}: {m.group(0)}: no heading #{anchor} in {page.name}")
    assert not problems, "\n".join(problems)
    assert cited >= 30, f"only {cited} citations of docs/ found: the search is broken"


def test_links_between_pages_resolve() -> None:
    """Relative links inside docs/ (to another page, an anchor, a file of the repository)."""
    problems: list[str] = []
    pages = sorted(DOCS.glob("*.md"))
    assert {"README.md", "letter.md", "document-json.md", "cli.md", "routing.md", "archive.md"} <= {p.name for p in pages}
    for page in pages:
        text = text_of(page)
        for m in LINK.finditer(text):
            target = (page.parent / m.group(1)).resolve() if m.group(1) else page
            anchor = m.group(2)
            if not target.exists():
                problems.append(f"{where(page, text, m.start())}: {m.group(0)}: no such file")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                problems.append(f"{where(page, text, m.start())}: {m.group(0)}: no heading #{anchor}")
    assert not problems, "\n".join(problems)


def test_no_contract_is_cited_outside_the_repository() -> None:
    problems: list[str] = []
    for path in repository_files():
        text = text_of(path)
        for m in re.finditer(re.escape(SPEC_FILE), text):
            problems.append(f"{where(path, text, m.start())}: cites {SPEC_FILE}: cite docs/ instead")
        for m in OUTSIDE.finditer(text):
            if m.group(1) not in PROVENANCE:
                problems.append(f"{where(path, text, m.start())}: {m.group(0)} is outside the repository")
    assert not problems, "\n".join(problems)


def _listed_commands(args: list[str]) -> list[str]:
    """The command names `gongwen ARGS --help` prints in its Commands panel."""
    from pipeline.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    panel = result.output.split("Commands", 1)[1] if "Commands" in result.output else ""
    return re.findall(r"^[│|]\s(\S+)\s{2,}", panel, re.MULTILINE)


def test_every_command_in_help_is_documented() -> None:
    from pipeline.cli import app

    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    listed = _listed_commands([])
    assert listed == group.list_commands(typer.Context(group))  # the help was read whole
    documented = anchors(DOCS / "cli.md")
    missing: list[str] = []
    for name in listed:
        if slug(f"gongwen {name}") not in documented:
            missing.append(f"gongwen {name}")
        command = group.get_command(typer.Context(group), name)
        if isinstance(command, TyperGroup):
            subcommands = _listed_commands([name])
            assert subcommands == command.list_commands(typer.Context(command))
            missing += [f"gongwen {name} {sub}" for sub in subcommands
                        if slug(f"gongwen {name} {sub}") not in documented]
    assert not missing, "not documented in docs/cli.md (a heading each): " + ", ".join(missing)


def test_the_readmes_architecture_names_modules_that_exist() -> None:
    """The README's "How it is built" (the diagram and the table) names modules that are there: a stage moved
    or renamed in the code must move in the README too. A bare `x.py` must exist in one of the packages
    (the routing stage's `engine.py` in pipeline/routing)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## How it is built"):text.index("## Samples and golden answers")]
    paths = set(re.findall(r"(?<![\w/])((?:pipeline|extractors|schemas)/[\w*/.]*\w/?)", section))
    bare = set(re.findall(r"(?<![\w/.*])(\w+\.py)\b", section))
    assert {"pipeline/reader.py", "pipeline/extract.py", "pipeline/errors.py"} <= paths and "rows.py" in bare
    missing = [p for p in paths if not list(ROOT.glob(p.rstrip("/")))]
    packages = ("pipeline", "pipeline/routing", "pipeline/ocr", "pipeline/web", "extractors", "schemas", ".")
    missing += [b for b in bare if not any((ROOT / pkg / b).exists() for pkg in packages)]
    assert not missing, f"README names modules that do not exist: {sorted(missing)}"
    assert "```mermaid" in section
