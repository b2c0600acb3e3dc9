"""`gongwen serve` and `gongwen users …`: the web application and its accounts (docs/web.md), registered by pipeline/cli.py.

Exit codes (docs/cli.md#exit-codes): 0 success; 1 refused (a user that exists already, no such
user); 2 usage error (an unknown role, a password too short, passwords that differ). Every
failure is one line on stderr.

Registered on every start of `gongwen`: FastAPI, uvicorn, argon2 and the archive are imported
inside the commands.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from pipeline.errors import CommandError
from schemas.statuses import USER_ROLES


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin (scripts), or typed twice at a prompt that does not echo it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("the password again", hide_input=True) != first:
        raise CommandError("the two passwords differ: nothing was changed", 2)
    return str(first)


PasswordStdinOption = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from the first line of stdin instead of a prompt")
]


def register(app: typer.Typer) -> None:
    """Add `serve` and `users` to the `gongwen` command."""
    users_app = typer.Typer(no_args_is_help=True, help="Accounts of the web application (gongwen serve).")
    app.add_typer(users_app, name="users")

    @app.command("serve")
    def serve_cmd(
        host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8000,
        workers: Annotated[int, typer.Option(help="server processes (a page is rendered by one core at a time)",
                                             min=1, max=64)] = 1,
    ) -> None:
        """Serve the web application: search, letters, the queue (log-ins: gongwen users add)."""
        import uvicorn

        from pipeline.db import open_archive
        from pipeline.web.app import create_app, secret_key

        archive = open_archive(create=False)
        typer.echo(f"gongwen web on http://{host}:{port}/ (archive {archive.url}; Ctrl-C stops)", err=True)
        if workers == 1:
            uvicorn.run(create_app(archive), host=host, port=port, log_level="info", proxy_headers=False)
            return
        secret_key(archive)  # made once here, read by every worker process
        uvicorn.run("pipeline.web.app:create_app", factory=True, workers=workers, host=host, port=port,
                    log_level="info", proxy_headers=False)

    @users_app.command("add")
    def add_cmd(
        name: Annotated[str, typer.Argument(help="the log-in name (the audit log records it)")],
        role: Annotated[str, typer.Option(help=f"one of {', '.join(USER_ROLES)}")] = "analyst",
        password_stdin: PasswordStdinOption = False,
    ) -> None:
        """Create an account (the password is asked for, or read with --password-stdin)."""
        from pipeline.db import open_archive
        from pipeline.web.users import add_user

        if role not in USER_ROLES:
            raise CommandError(f"unknown role {role!r}: use one of {', '.join(USER_ROLES)}", 2)
        password = _read_password(password_stdin)
        account = add_user(open_archive(), name, role, password)
        typer.echo(f"user {account.name} added ({account.role})")

    @users_app.command("set")
    def set_cmd(
        name: Annotated[str, typer.Argument(help="the log-in name")],
        role: Annotated[str | None, typer.Option(help=f"a new role: {', '.join(USER_ROLES)}")] = None,
        password: Annotated[bool, typer.Option("--password", help="set a new password (asked for)")] = False,
        password_stdin: PasswordStdinOption = False,
        active: Annotated[bool | None, typer.Option("--active/--inactive", help="may log in, or not")] = None,
    ) -> None:
        """Change an account's role, password or whether it may log in (accounts are never deleted)."""
        from pipeline.db import open_archive
        from pipeline.web.users import change_user

        new_password = _read_password(password_stdin) if password or password_stdin else None
        account = change_user(open_archive(create=False), name, role=role, password=new_password, active=active)
        typer.echo(f"user {account.name}: {account.role}, {'active' if account.active else 'inactive'}")

    @users_app.command("demo")
    def demo_cmd(
        host: Annotated[str, typer.Option(help="the address gongwen serve listens on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="its port", min=1, max=65535)] = 8000,
    ) -> None:
        """Demo log-ins for trying the web application: analyst, clerk and admin, made if missing (make run)."""
        from pipeline.db import open_archive
        from pipeline.web.users import DEMO_FILE, demo_users

        archive = open_archive()
        made = demo_users(archive)
        typer.echo(f"demo log-ins (passwords kept in {archive.files.resolve().parent / DEMO_FILE}):")
        for name, role, password in made:
            shown = password if password is not None else "(set before: gongwen users set NAME --password)"
            typer.echo(f"  {name:8} {role:8} password {shown}")
        typer.echo(f"web: start it with `gongwen serve` (make serve), then open http://{host}:{port}/")

    @users_app.command("list")
    def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
        """The accounts, with their roles."""
        from pipeline.db import open_archive
        from pipeline.web.users import list_accounts

        with open_archive(create=False).session() as session:
            accounts = list_accounts(session)
        if as_json:
            json.dump([{"name": a.name, "role": a.role, "active": a.active} for a in accounts], sys.stdout,
                      ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
            return
        for a in accounts:
            typer.echo(f"{a.name:20} {a.role:8}{'' if a.active else ' (inactive)'}")
        typer.echo(f"{len(accounts)} user{'s' if len(accounts) != 1 else ''}")
