"""Who is asking, and may they: the signed session cookie, the role checks and the CSRF token.

The session cookie (Starlette's SessionMiddleware: signed with the app's secret, not readable
by scripts, SameSite=Lax) holds the user's name and a CSRF token. The account is read from
the archive on every request, so a deactivated user or a changed role takes effect at once.

Every request that changes something (POST) must carry the session's CSRF token: the hidden
`csrf_token` field of a page's form, or the `X-CSRF-Token` header of an API call.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request

from pipeline.db import Archive
from pipeline.web.users import Account, get_account

SESSION_USER = "user"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNREAD = object()  # request.state.account before the account is read


class LoginRequired(Exception):
    """No one is logged in: a page sends the browser to the log-in page, the API answers 401."""


class Forbidden(Exception):
    """Logged in, but not allowed (a role too low, a missing or wrong CSRF token): 403."""


def archive_of(request: Request) -> Archive:
    archive: Archive = request.app.state.archive
    return archive


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def log_in(request: Request, account: Account) -> None:
    """A fresh session for `account`: a new CSRF token, nothing carried over from before the log-in."""
    request.session.clear()
    request.session[SESSION_USER] = account.name
    csrf_token(request)
    request.state.account = account


def log_out(request: Request) -> None:
    request.session.clear()
    request.state.account = None


def current_account(request: Request) -> Account | None:
    """The logged-in account as the archive has it now (None: nobody, or an account no longer active)."""
    cached = getattr(request.state, "account", _UNREAD)
    if cached is not _UNREAD:
        return cached if isinstance(cached, Account) else None
    account = None
    name = request.session.get(SESSION_USER)
    if isinstance(name, str) and name:
        with archive_of(request).session() as session:
            account = get_account(session, name)
        if account is None or not account.active:
            request.session.pop(SESSION_USER, None)
            account = None
    request.state.account = account
    return account


ROLE_NAMES = {"analyst": "查詢人員", "clerk": "承辦人", "admin": "管理者"}


def _require(role: str) -> object:
    def dependency(request: Request) -> Account:
        account = current_account(request)
        if account is None:
            raise LoginRequired()
        if not account.can(role):
            raise Forbidden(f"需要{ROLE_NAMES[role]}以上的權限（您是{ROLE_NAMES.get(account.role, account.role)}）")
        return account

    return Depends(dependency)


Analyst = Annotated[Account, _require("analyst")]
Clerk = Annotated[Account, _require("clerk")]
Admin = Annotated[Account, _require("admin")]


async def check_csrf(request: Request) -> None:
    """Refuse a change that does not carry this session's CSRF token (a form field or a header)."""
    expected = request.session.get(SESSION_CSRF)
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("表單已過期或缺少 CSRF 權杖：請重新載入頁面再送出")


CsrfChecked = Depends(check_csrf)
