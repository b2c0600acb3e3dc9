"""`gongwen users add/set/list` and `gongwen serve`'s refusals: the accounts the web log-in checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import close_archives, open_archive
from pipeline.web.users import authenticate


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    close_archives()
    return {"GONGWEN_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite'}", "GONGWEN_FILES_DIR": str(tmp_path / "files")}


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_add_set_and_list_users(env: dict[str, str]) -> None:
    code, out, _ = _run(env, "users", "add", "林", "--role", "clerk", "--password-stdin", stdin="秘密密碼很長很長的\n")
    assert code == 0 and out.strip() == "user 林 added (clerk)"
    archive = open_archive(env["GONGWEN_DATABASE_URL"], env["GONGWEN_FILES_DIR"])
    assert authenticate(archive, "林", "秘密密碼很長很長的") is not None
    code, _, err = _run(env, "users", "add", "林", "--password-stdin", stdin="another password\n")
    assert code == 1 and err.strip() == "gongwen: user '林' exists already (gongwen users list shows them)"
    code, out, _ = _run(env, "users", "set", "林", "--role", "admin", "--inactive")
    assert code == 0 and out.strip() == "user 林: admin, inactive"
    assert authenticate(archive, "林", "秘密密碼很長很長的") is None  # inactive: no log-in
    code, out, _ = _run(env, "users", "list")
    assert out.splitlines()[-1] == "1 user" and "(inactive)" in out
    close_archives()


@pytest.mark.parametrize(("args", "stdin", "says"), [
    (["users", "add", "x", "--role", "boss", "--password-stdin"], "long enough pw\n", "unknown role 'boss'"),
    (["users", "add", "x", "--password-stdin"], "short\n", "too short"),
    (["users", "add", "x"], "one password\nanother one\n", "the two passwords differ"),
])
def test_usage_errors_are_one_line_and_exit_2(env: dict[str, str], args: list[str], stdin: str, says: str) -> None:
    code, _, err = _run(env, *args, stdin=stdin)
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1
    close_archives()


def test_serve_and_users_list_need_an_archive(env: dict[str, str]) -> None:
    for args in (["serve"], ["users", "list"], ["users", "set", "x", "--inactive"]):
        code, _, err = _run(env, *args)
        assert code == 2 and err.startswith("gongwen: no archive at"), args
