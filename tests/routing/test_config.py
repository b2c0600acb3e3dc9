"""Routing files: the shipped ones load; each kind of mistake is one line naming the file and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.routing.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent.parent
ASSOCIATIONS = """associations:
  - id: txg-physicians
    name: 社團法人臺中市醫師公會
    aliases: [中市醫師公會]
    tags: [physicians, "county:臺中市"]
    contact: {email: office@example.org}
  - id: tw-physicians
    name: 中華民國醫師公會全國聯合會
    tags: [federation]
"""
RULE_OK = """rules:
  - name: clinics
    when: {field: subject, match: any, value: 診所}
    to: [txg-physicians]
"""


def test_shipped_config_loads_with_all_22_county_physicians_associations() -> None:
    config = load_config(ROOT / "config/rules.yaml", ROOT / "config/associations.yaml")
    county = [a for a in config.associations if "physicians-county" in a.tags]
    assert len(county) == 22
    assert len({a.id for a in config.associations}) == len(config.associations)
    assert {r.name for r in config.rules} >= {"federation-to-counties", "txg-physicians", "member-notices"}


def _write(tmp_path: Path, rules: str, associations: str = ASSOCIATIONS) -> tuple[Path, Path]:
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    (tmp_path / "associations.yaml").write_text(associations, encoding="utf-8")
    return tmp_path / "rules.yaml", tmp_path / "associations.yaml"


BAD_RULES = [
    ("rules:\n  - name: a\n    when: {field: subject, match: any, value: 診所\n    to: [x]\n", 4, "not valid YAML"),
    (RULE_OK.replace("    to:", "    too: [x]\n    to:"), 4, "unknown field 'too'"),
    (RULE_OK.replace("[txg-physicians]", "[nowhere-physicians]"), 4, "unknown association 'nowhere-physicians'"),
    (RULE_OK.replace("[txg-physicians]", '["tag:dentists"]'), 4, "no association has the tag 'dentists'"),
    (RULE_OK.replace("match: any, value: 診所", "match: regex, value: '診所(('"), 3, "does not compile"),
    (RULE_OK.replace("match: any", "match: regexp"), 3, "unknown match 'regexp'"),
    (RULE_OK.replace("field: subject", "field: subjekt"), 3, "unknown field 'subjekt'"),
    (RULE_OK.replace("match: any, value: 診所", "match: any, value: 診所, threshold: 80"), 3, "belongs to match: fuzzy"),
    (RULE_OK + RULE_OK.replace("rules:\n", ""), 5, "used twice"),
    ("rules:\n  - name: a\n    when: {all: []}\n    to: []\n", 3, "non-empty list"),
]


@pytest.mark.parametrize(("rules", "line", "message"), BAD_RULES, ids=[m for _, _, m in BAD_RULES])
def test_bad_rules_name_the_line_and_the_mistake(tmp_path: Path, rules: str, line: int, message: str) -> None:
    rules_path, associations_path = _write(tmp_path, rules)
    with pytest.raises(ConfigError) as err:
        load_config(rules_path, associations_path)
    assert err.value.line == line
    assert message in str(err.value)
    assert str(err.value).startswith(f"{rules_path}:{line}: ")
    assert "\n" not in str(err.value)


def test_bad_registry(tmp_path: Path) -> None:
    rules_path, associations_path = _write(tmp_path, RULE_OK, ASSOCIATIONS + "  - id: txg-physicians\n    name: 重複\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_config(rules_path, associations_path)
    rules_path, associations_path = _write(tmp_path, RULE_OK, ASSOCIATIONS.replace("    tags: [federation]", "    tagz: [federation]"))
    with pytest.raises(ConfigError, match="unknown field 'tagz'") as err:
        load_config(rules_path, associations_path)
    assert err.value.line == 9


def test_an_alias_of_two_associations_is_refused(tmp_path: Path) -> None:
    clash = ASSOCIATIONS.replace("    tags: [federation]", "    aliases: [中市醫師公會]\n    tags: [federation]")
    rules_path, associations_path = _write(tmp_path, RULE_OK, clash)
    with pytest.raises(ConfigError, match="names both txg-physicians") as err:
        load_config(rules_path, associations_path)
    assert err.value.line == 7


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml", ROOT / "config/associations.yaml")


def test_route_with_a_bad_rules_file_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    rules_path, associations_path = _write(tmp_path, RULE_OK.replace("[txg-physicians]", "[nowhere]"))
    db = tmp_path / "archive.sqlite"
    env = {"GONGWEN_DATABASE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "route", "--rules", str(rules_path), "--associations", str(associations_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert f"{rules_path}:4" in proc.stderr and "unknown association 'nowhere'" in proc.stderr
    assert not db.exists()
