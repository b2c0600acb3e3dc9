"""`gongwen users demo` (the end of `make run`): one log-in per role, made once, printed every time with the address."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.db import close_archives, open_archive
from pipeline.web.users import DEMO_FILE, authenticate, change_user


def test_demo_log_ins_are_made_once_and_work(tmp_path: Path) -> None:
    close_archives()
    env = {"GONGWEN_DATABASE_URL": f"sqlite:///{tmp_path / 'archive.sqlite'}", "GONGWEN_FILES_DIR": str(tmp_path / "files")}
    first = CliRunner().invoke(app, ["users", "demo", "--port", "8123"], env=env)
    assert first.exit_code == 0, first.output
    logins = dict(re.findall(r"^  (\w+) +\w+ +password (\S+)$", first.stdout, re.M))
    assert set(logins) == {"analyst", "clerk", "admin"}
    assert first.stdout.rstrip().endswith("then open http://127.0.0.1:8123/")
    archive = open_archive(env["GONGWEN_DATABASE_URL"], env["GONGWEN_FILES_DIR"])
    for name, password in logins.items():
        account = authenticate(archive, name, password)
        assert account is not None and account.role == name
    assert stat.S_IMODE((tmp_path / DEMO_FILE).stat().st_mode) == 0o600

    again = CliRunner().invoke(app, ["users", "demo", "--port", "8123"], env=env)
    assert again.exit_code == 0 and again.stdout == first.stdout  # idempotent: the same accounts, printed again

    change_user(archive, "clerk", password="someone chose another")
    third = CliRunner().invoke(app, ["users", "demo"], env=env).stdout
    assert "clerk    clerk    password (set before" in third  # a password changed since is not shown
    close_archives()
