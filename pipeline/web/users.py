"""The web application's accounts: names, roles and argon2 password hashes, in the archive's `users` table.

A user's name is who acts in the audit log when they change the queue in the browser. Users
are never deleted, only deactivated, so the names in the log keep meaning someone. The role
is read from the table on every request (pipeline/web/auth.py): a role changed or an account
deactivated takes effect at once, whatever cookie the browser holds.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from pipeline.db import Archive
from pipeline.errors import CommandError
from schemas.orm import User
from schemas.statuses import USER_ROLES

MIN_PASSWORD = 8


class UserError(CommandError):
    """An account change that cannot be made; `exit_code` as docs/cli.md#exit-codes (1: refused, 2: usage)."""


class UnknownUser(UserError):
    """A change to an account that does not exist."""


SELF_CHANGE = "不能停用自己或取消自己的管理者權限：請另一位管理者變更"


@dataclass(frozen=True)
class Account:
    """Who is logged in: what the pages and the role checks read."""

    name: str
    role: str
    active: bool = True

    def can(self, role: str) -> bool:
        """Whether this account holds `role` or one above it (analyst < clerk < admin)."""
        return self.active and USER_ROLES.index(self.role) >= USER_ROLES.index(role)


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with argon2-cffi's current recommended cost


@cache
def _decoy() -> str:
    """A hash to verify against when the name is unknown: a wrong name takes as long as a wrong password."""
    return _hasher().hash("no such user")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or any(not c.isprintable() for c in name):
        raise UserError(f"not a user name: {name!r} (printable, 1-200 characters)", exit_code=2)
    return name


def _check_role(role: str) -> str:
    if role not in USER_ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(USER_ROLES)}", exit_code=2)
    return role


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: at least {MIN_PASSWORD} characters", exit_code=2)
    return password


def add_user(archive: Archive, name: str, role: str, password: str) -> Account:
    name, role = _check_name(name), _check_role(role)
    hashed = _hasher().hash(_check_password(password))
    with archive.write() as conn:
        if conn.scalar(select(User.id).where(User.name == name)) is not None:
            raise UserError(f"user {name!r} exists already (gongwen users list shows them)")
        now = _now()
        conn.execute(insert(User).values(name=name, role=role, password_hash=hashed, active=True,
                                                    created_at=now, updated_at=now))
    return Account(name, role)


def change_user(archive: Archive, name: str, *, role: str | None = None, password: str | None = None,
                active: bool | None = None) -> Account:
    """Change what is given of `name`'s account: its role, its password, whether it may log in."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = _check_role(role)
    if password is not None:
        values["password_hash"] = _hasher().hash(_check_password(password))
    if active is not None:
        values["active"] = active
    with archive.write() as conn:
        row = conn.execute(select(User.role, User.active).where(User.name == name)).one_or_none()
        if row is None:
            raise UnknownUser(f"no user {name!r} (gongwen users list shows them)")
        if values:
            conn.execute(update(User).where(User.name == name).values(updated_at=_now(), **values))
        return Account(name, str(values.get("role", row.role)), bool(values.get("active", row.active)))


def change_account(archive: Archive, actor: str, name: str, *, role: str | None = None, password: str | None = None,
                   active: bool | None = None) -> Account:
    """An admin's change in the browser or the API: `change_user`, except that `actor` may not deactivate or demote
    themself (the office would be left without an admin to undo it): UserError SELF_CHANGE."""
    if name == actor and (active is False or (role is not None and role != "admin")):
        raise UserError(SELF_CHANGE)
    return change_user(archive, name, role=role, password=password, active=active)


def get_account(session: Session, name: str) -> Account | None:
    row = session.execute(select(User.name, User.role, User.active).where(User.name == name)).one_or_none()
    return Account(row.name, row.role, row.active) if row is not None else None


def list_accounts(session: Session) -> list[Account]:
    return [Account(r.name, r.role, r.active)
            for r in session.execute(select(User.name, User.role, User.active).order_by(User.name))]


def authenticate(archive: Archive, name: str, password: str) -> Account | None:
    """The account when the name and password are right and it is active; None otherwise, whichever was wrong."""
    with archive.session() as session:
        row = session.execute(select(User.name, User.role, User.active, User.password_hash)
                              .where(User.name == name.strip())).one_or_none()
    try:
        _hasher().verify(row.password_hash if row is not None else _decoy(), password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row.active:
        return None
    if _hasher().check_needs_rehash(row.password_hash):  # the cost was raised since: store the stronger hash
        change_user(archive, row.name, password=password)
    return Account(row.name, row.role, row.active)


DEMO_FILE = "demo-logins.json"


def demo_users(archive: Archive) -> list[tuple[str, str, str | None]]:
    """One account per role named after it (analyst, clerk, admin), made with a generated password if missing.

    For trying the web application (`make run`, `gongwen users demo`): idempotent. Each password
    made is kept in `demo-logins.json` beside the file store (readable by its owner only) so a
    later run prints it again; an account that existed before, or whose password was changed since,
    is listed with None. Returns (name, role, password or None) per role.
    """
    path = archive.files.resolve().parent / DEMO_FILE
    try:
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    out: list[tuple[str, str, str | None]] = []
    changed = False
    for role in USER_ROLES:
        with archive.session() as session:
            account = get_account(session, role)
        if account is None:
            kept[role] = secrets.token_urlsafe(9)
            add_user(archive, role, role, kept[role])
            changed = True
        password = kept.get(role)
        if password is not None and authenticate(archive, role, password) is None:
            password = None  # changed since, or deactivated: not ours to show
        out.append((role, account.role if account else role, password))
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{DEMO_FILE}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(kept, fh)
        os.replace(tmp, path)
    return out
