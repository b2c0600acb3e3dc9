"""The FastAPI application: pages for people (pages.py), a JSON API under /api/ (api.py), one archive.

`create_app(archive)` builds it; `gongwen serve` runs it with uvicorn. Letter text is
untrusted input: the templates escape everything (Jinja2 autoescape), and every response
carries a Content-Security-Policy that runs no script but the application's own file, so
markup that slipped through would still not run.

The session cookie is signed with a secret key: $GONGWEN_SECRET_KEY, else a key kept in
`web-secret.key` beside the file store (made on first start, readable by its owner only), so
that log-ins survive a restart.
"""

from __future__ import annotations

import datetime
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from extractors.roc_calendar import YEAR_OFFSET, roc_words
from pipeline.db import Archive, open_archive
from pipeline.search import MARK_CLOSE, MARK_OPEN
from pipeline.web.auth import Forbidden, LoginRequired, csrf_token, current_account
from pipeline.web.ratelimit import LoginLimiter
from schemas.routing import describe

HERE = Path(__file__).resolve().parent
SESSION_HOURS = 12
log = logging.getLogger(__name__)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def secret_key(archive: Archive) -> str:
    """The key that signs session cookies: $GONGWEN_SECRET_KEY, else one kept beside the file store."""
    given = os.environ.get("GONGWEN_SECRET_KEY", "").strip()
    if given:
        return given
    path = archive.files.resolve().parent / "web-secret.key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key + "\n")
    except FileExistsError:  # another worker made it first
        return path.read_text(encoding="ascii").strip()
    except OSError as exc:
        log.warning("cannot keep the session key in %s (%s): log-ins end when the server stops; "
                    "set GONGWEN_SECRET_KEY", path, exc.strerror or exc)
    return key


# -- what the templates show ----------------------------------------------------------

KIND_NAMES = {"letter": "公文", "form": "報表", "other": "其他"}
STATUS_NAMES = {"pending": "待辦", "claimed": "處理中", "done": "已完成", "rejected": "已退回", "open": "未結",
                "all": "全部", "triage": "待分辦"}
ACTION_NAMES = {"created": "建立", "claimed": "認領", "done": "完成", "rejected": "退回", "reassigned": "改派",
                "stale": "規則不再符合", "matches-again": "規則再次符合", "drafted": "擬轉知函稿"}
UPLOAD_NAMES = {"stored": "已存入", "duplicate": "重複", "quarantined": "已隔離", "failed": "失敗（下次再試）",
                "refused": "未收", "attached": "附件"}


def _day(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):  # a meeting time: its day
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def roc_date(value: Any) -> str:
    """`民國112年5月30日（2023-05-30）`: the office reads ROC dates, the ISO one is what filters and exports use."""
    day = _day(value)
    if day is None:
        return str(value) if value else ""
    roc = f"民國{roc_words(day)}" if day.year > YEAR_OFFSET else f"{day.year}年{day.month}月{day.day}日"
    return f"{roc}（{day.isoformat()}）"


def marked(snippet: str | None) -> Markup:
    """A snippet with its «matches» as <mark>: the text escaped first, marks paired (a stray « or » stays text)."""
    out: list[str] = []
    inside = False
    for ch in snippet or "":
        if ch == MARK_OPEN and not inside:
            out.append("<mark>")
            inside = True
        elif ch == MARK_CLOSE and inside:
            out.append("</mark>")
            inside = False
        else:
            out.append(str(escape(ch)))
    if inside:
        out.append("</mark>")
    return Markup("".join(out))


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    env = found.env
    env.autoescape = True  # every template, whatever its name: letter text is untrusted
    env.filters.update(roc=roc_date, marked=marked, kind=lambda k: KIND_NAMES.get(k, k),
                       status=lambda s: STATUS_NAMES.get(s, s), action=lambda a: ACTION_NAMES.get(a, a),
                       condition=describe, upload_status=lambda s: UPLOAD_NAMES.get(s, s))
    return found


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page, with who is logged in, the CSRF token for its forms and the messages left for it."""
    account = current_account(request)
    flashes = request.session.pop("flash", []) if account is not None else []
    base = {"account": account, "csrf": csrf_token(request), "flashes": flashes}
    found: Jinja2Templates = request.app.state.templates
    return found.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def flash(request: Request, kind: str, message: str) -> None:
    """A message shown on the next page (after a redirect): `ok` or `error`."""
    request.session.setdefault("flash", []).append([kind, message])
    request.session["flash"] = request.session["flash"][-20:]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(archive: Archive | None = None, *, secret: str | None = None, https_only: bool | None = None,
               rules: str | None = None, associations: str | None = None) -> FastAPI:
    """The application over `archive` (default: the archive gongwen's environment names; never a new one).

    `rules`, `associations`: the routing files the rules page reads (default: $GONGWEN_CONFIG_DIR's).
    """
    archive = archive or open_archive(create=False)
    app = FastAPI(title="gongwen", summary="公文 archive and routing queue", version="1",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.archive = archive
    app.state.routing_files = (rules, associations)
    app.state.login_limiter = LoginLimiter()
    app.state.templates = templates()
    from pipeline.web.review import review_threshold

    app.state.review_threshold = review_threshold()  # $GONGWEN_REVIEW_THRESHOLD checked at start, not on first use
    if https_only is None:
        https_only = os.environ.get("GONGWEN_WEB_HTTPS", "") == "1"
    app.add_middleware(SessionMiddleware, secret_key=secret or secret_key(archive), session_cookie="gongwen_session",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=https_only)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "not logged in: POST /api/login first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return render(request, "error.html", {"title": "沒有權限", "message": str(exc)}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or exc.status_code < 400:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        title = {404: "找不到", 405: "不允許的操作"}.get(exc.status_code, "錯誤")
        return render(request, "error.html", {"title": title, "message": str(exc.detail)}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        if _is_api(request):
            return JSONResponse({"detail": detail}, status_code=422)
        message = "；".join(f"{'.'.join(str(p) for p in d['loc'][1:])}: {d['msg']}" for d in detail)
        return render(request, "error.html", {"title": "輸入有誤", "message": message}, status_code=422)

    from pipeline.web.api import router as api_router
    from pipeline.web.pages import router as pages_router

    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    return app
