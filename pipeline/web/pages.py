"""The pages: log-in, search, a letter, the queue, the accounts. Every change is a POST with the CSRF token.

A page that changes something answers with a redirect (post/redirect/get) and leaves a
message for the next page, so a reload never repeats an action.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from pipeline.corrections import CorrectionError, as_text, label_of
from pipeline.routing.queue import QueueError
from pipeline.web.app import flash, render
from pipeline.web.auth import Admin, Analyst, Clerk, CsrfChecked, archive_of, current_account, log_in, log_out
from pipeline.web.common import (
    QUEUE_STATUSES,
    TASK_ACTIONS,
    QueueQuery,
    RowId,
    RowIdField,
    SearchQuery,
    act_on_many,
    associations,
    draft_for_task,
    file_answer,
    find_letter,
    from_triage,
    original_pdf,
    png_answer,
    queue_page,
    read_letter,
    recorded_draft,
    rules_dry_run,
    run_search,
)
from pipeline.web.ratelimit import TooManyLogins, authenticate_limited
from pipeline.web.review import (
    ConfigError,
    correct_field,
    doubtful_fields,
    field_image,
    goldens_download,
    page_image,
    page_images,
    review_threshold,
)
from pipeline.web.upload import MAX_FILE_MB, MAX_FILES, LengthChecked, ingest_request
from pipeline.web.users import Account, UserError, add_user, change_account, list_accounts
from schemas.statuses import USER_ROLES

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]


def _local(target: str | None, default: str) -> str:
    """`target` when it is a path on this site (never another site: //host, /\\host, a scheme)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return default


def _back(target: str | None, default: str) -> RedirectResponse:
    return RedirectResponse(_local(target, default), status_code=303)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/search", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "/search") -> Response:
    if current_account(request) is not None:
        return _back(next, "/search")
    return render(request, "login.html", {"next": _local(next, "/search"), "error": None})


@router.post("/login", dependencies=[CsrfChecked])
def login(request: Request, name: Text = "", password: Text = "", next: Text = "/search") -> Response:
    try:
        account = authenticate_limited(request, name, password)
    except TooManyLogins as exc:
        return render(request, "login.html", {"next": _local(next, "/search"), "error": str(exc), "name": name},
                      status_code=429)
    if account is None:
        return render(request, "login.html", {"next": _local(next, "/search"), "error": "帳號或密碼錯誤", "name": name},
                      status_code=401)
    log_in(request, account)
    return _back(next, "/search")


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> Response:
    log_out(request)
    return RedirectResponse("/login", status_code=303)


@router.get("/search")
def search_page(request: Request, account: Analyst, form: SearchQuery) -> Response:
    found = run_search(archive_of(request), form)
    return render(request, "search.html", {"found": found, "query": urlencode(form.url_query())})


@router.get("/letters")
def letter_by_reference(request: Request, account: Analyst, ref: Annotated[str, Query(max_length=200)] = "") -> Response:
    """A document id or a 字號 typed in: its letter (or the choice, when a 字號 names several)."""
    ids = find_letter(archive_of(request), ref) if ref.strip() else []
    if len(ids) == 1:
        return RedirectResponse(f"/letters/{ids[0]}", status_code=303)
    if not ids:
        raise HTTPException(404, f"檔案庫中沒有 {ref}")
    return RedirectResponse(f"/search?{urlencode({'number': ref})}", status_code=303)


@router.get("/letters/{doc_id}")
def letter_page(request: Request, account: Analyst, doc_id: RowId) -> Response:
    page = read_letter(archive_of(request), doc_id)
    if page is None:
        raise HTTPException(404, f"檔案庫中沒有 #{doc_id}")
    images = page_images(archive_of(request), doc_id, page.view.document)
    return render(request, "letter.html", {"page": page, "doc": page.view.document, "view": page.view,
                                           "images": images, "label_of": label_of, "as_text": as_text})


FieldName = Annotated[str, PathParam(max_length=40, pattern=r"^[a-z_.]+$")]


@router.get("/letters/{doc_id}/pages/{page}.png")
def letter_page_image(request: Request, account: Analyst, doc_id: RowId,
                      page: Annotated[int, PathParam(ge=1, le=10000)]) -> Response:
    """One page of the original the document was read from, to draw its fields' boxes over."""
    return png_answer(page_image(archive_of(request), doc_id, page), f"#{doc_id} 沒有第 {page} 頁的原件影像")


@router.get("/letters/{doc_id}/boxes/{name}.png")
def letter_field_image(request: Request, account: Analyst, doc_id: RowId, name: FieldName) -> Response:
    """The original cut to where one field was printed (the review page shows it beside the value)."""
    return png_answer(field_image(archive_of(request), doc_id, name), f"#{doc_id} 的 {name} 沒有原件位置")


@router.get("/review")
def review_page(request: Request, account: Clerk,
                threshold: Annotated[float | None, Query(ge=0, le=1)] = None) -> Response:
    """The fields read with less confidence than the threshold, worst first, each to correct in place."""
    try:
        chosen = review_threshold(threshold if threshold is not None else getattr(request.app.state, "review_threshold", None))
    except ConfigError as exc:
        return render(request, "error.html", {"title": "設定有誤", "message": str(exc)}, status_code=500)
    items, total = doubtful_fields(archive_of(request), chosen)
    return render(request, "review.html", {"items": items, "total": total, "threshold": chosen,
                                           "back": request.url.path + (f"?{request.url.query}" if request.url.query else "")})


@router.get("/review/export")
def review_export(request: Request, account: Clerk, all: bool = False) -> Response:
    """The corrected letters as golden JSON beside their PDFs, zipped (`gongwen review export`): unzipped, a folder
    `gongwen eval` reads. Nothing corrected yet: a line on the review page."""
    found = goldens_download(archive_of(request), all)
    if found is None:
        flash(request, "error", "沒有可匯出的公文：還沒有更正過任何欄位（或其原件不是 PDF）")
        return RedirectResponse("/review", status_code=303)
    return found


@router.post("/review/{doc_id}/{name}", dependencies=[CsrfChecked])
def review_correct(request: Request, account: Clerk, doc_id: RowId, name: FieldName,
                   value: Annotated[str, Form(max_length=4000)] = "", back: Text = "/review") -> Response:
    """A reviewer's value for one field, kept apart from what was read, under their name."""
    try:
        made = correct_field(archive_of(request), doc_id, name, value, account.name)
    except CorrectionError as exc:
        flash(request, "error", f"#{doc_id} {label_of(name)}：{exc}")
    else:
        flash(request, "ok", f"#{doc_id} {label_of(name)} 已更正為「{as_text(made.new) or '（空白）'}」")
    return _back(back, "/review")


@router.get("/letters/{doc_id}/files/{file_id}.pdf")
def letter_original(request: Request, account: Analyst, doc_id: RowId, file_id: RowId) -> Response:
    return file_answer(original_pdf(archive_of(request), doc_id, file_id), "原始檔不在檔案庫中")


@router.get("/upload")
def upload_page(request: Request, account: Clerk) -> Response:
    """Drop PDFs and DI files: the page's script sends them one by one to /api/upload and shows each result."""
    return render(request, "upload.html", {"run": None, "max_mb": MAX_FILE_MB, "max_files": MAX_FILES})


@router.post("/upload", dependencies=[LengthChecked, CsrfChecked])
def upload(request: Request, account: Clerk, files: Annotated[list[UploadFile], File()]) -> Response:
    """The form sent without the script: every file ingested, then a table of what became of each."""
    run = ingest_request(request, files, "一次最多上傳 {} 個檔案")
    return render(request, "upload.html", {"run": run, "max_mb": MAX_FILE_MB, "max_files": MAX_FILES})


@router.get("/queue")
def queue_view(request: Request, account: Analyst, form: QueueQuery) -> Response:
    if form.status not in QUEUE_STATUSES:
        raise HTTPException(422, f"status 必須是 {', '.join(QUEUE_STATUSES)} 之一")
    archive = archive_of(request)
    tasks, triage, total = queue_page(archive, form, 200)
    groups: dict[str, list[object]] = {}
    for view in tasks:
        groups.setdefault(view.task["status"], []).append(view)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return render(request, "queue.html", {
        "status": form.status, "assignee": form.assignee or "", "association": form.association or "",
        "overdue": form.overdue,
        "groups": groups, "triage": triage, "total": total, "shown": len(tasks) or len(triage),
        "associations": associations(archive), "statuses": QUEUE_STATUSES, "here": here,
        "can_act": account.can("clerk"),
    })


def _act(request: Request, account: Account, task_ids: list[int], action: str, back: str, **details: str) -> Response:
    """`action` on each task alone under the clerk's name (one task or fifty ticked), what came of it flashed."""
    results = act_on_many(archive_of(request), account.name, task_ids, action, **details)
    _report(request, results, _ACTION_WORDS[action])
    return _back(back, "/queue")


def _report(request: Request, results: dict[int, str | None], action: str) -> None:
    ok = [i for i, why in results.items() if why is None]
    if ok:
        flash(request, "ok", f"{action}：{'、'.join(f'#{i}' for i in ok)}")
    for why in (why for why in results.values() if why is not None):
        flash(request, "error", why)


_ACTION_WORDS = {"claim": "已認領", "done": "已完成", "reject": "已退回", "reassign": "已改派"}


@router.post("/queue/bulk", dependencies=[CsrfChecked])
def queue_bulk(
    request: Request, account: Clerk, action: Text, tasks: Annotated[list[RowIdField], Form()],
    note: Text = "", reason: Text = "", to: Text = "", back: Text = "/queue",
) -> Response:
    """One action on the tasks ticked (a clerk clearing fifty at once); each task succeeds or fails alone."""
    if action not in TASK_ACTIONS:
        raise HTTPException(422, f"action 必須是 {', '.join(TASK_ACTIONS)} 之一")
    return _act(request, account, tasks, action, back, note=note, reason=reason, to=to)


@router.post("/queue/{task_id}/draft", dependencies=[CsrfChecked])
def queue_draft(
    request: Request, account: Clerk, task_id: RowId, format: Text = "pdf", scope: Text = "letter",
    back: Text = "/queue",
) -> Response:
    """The task's 轉知 draft as a download (PDF or DI), for the letter (正本 every task) or this task alone;
    recorded on the tasks it covers under the clerk's name, as `gongwen draft` records it."""
    from pipeline.draft import MEDIA_TYPES, DraftError

    try:
        draft = draft_for_task(archive_of(request), account.name, task_id, format, scope)
    except DraftError as exc:
        flash(request, "error", f"無法產生轉知函稿：{exc}")
        return _back(back, "/queue")
    return Response(draft.data, media_type=MEDIA_TYPES[draft.format],
                    headers={"Content-Disposition": f'attachment; filename="{draft.filename}"'})


@router.get("/drafts/{draft_id}")
def draft_download(request: Request, account: Clerk, draft_id: RowId) -> Response:
    """A recorded draft again, byte for byte what was handed out (nothing new is recorded)."""
    return file_answer(recorded_draft(archive_of(request), draft_id), f"沒有轉知函稿 #{draft_id}")


@router.post("/queue/{task_id}/{action}", dependencies=[CsrfChecked])
def queue_action(
    request: Request, account: Clerk, task_id: RowId, action: str,
    note: Text = "", reason: Text = "", to: Text = "", back: Text = "/queue",
) -> Response:
    if action not in TASK_ACTIONS:
        raise HTTPException(404, f"沒有這個動作：{action}")
    return _act(request, account, [task_id], action, back, note=note, reason=reason, to=to)


@router.post("/triage/{document_id}", dependencies=[CsrfChecked])
def triage_decision(
    request: Request, account: Clerk, document_id: RowId, association: Text = "", note: Text = "",
    back: Text = "/queue?status=triage",
) -> Response:
    """A task for an association (分辦), or filed without forwarding (存查) when none is chosen."""
    try:
        made = from_triage(archive_of(request), account.name, document_id, association or None, note)
    except QueueError as exc:
        flash(request, "error", str(exc))
    else:
        flash(request, "ok", f"#{document_id}：" + (f"已建立待辦 #{made}（{association}）" if made else "已存查，不轉知"))
    return _back(back, "/queue?status=triage")


@router.get("/admin/users")
def users_page(request: Request, account: Admin) -> Response:
    with archive_of(request).session() as session:
        accounts = list_accounts(session)
    return render(request, "users.html", {"accounts": accounts, "roles": USER_ROLES})


@router.post("/admin/users", dependencies=[CsrfChecked])
def users_change(
    request: Request, account: Admin, name: Text, role: Text = "", password: Text = "", active: Text = "",
    new: Text = "",
) -> Response:
    """Add an account (`new`), or change one's role, password or whether it may log in."""
    archive = archive_of(request)
    try:
        if new:
            added = add_user(archive, name, role, password)
            flash(request, "ok", f"已新增使用者 {added.name}")
        else:
            changed = change_account(archive, account.name, name, role=role or None, password=password or None,
                                     active={"1": True, "0": False}.get(active))
            flash(request, "ok", f"已更新使用者 {changed.name}")
    except UserError as exc:
        flash(request, "error", str(exc))
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/rules")
def rules_page(request: Request, account: Admin, letter: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The routing rules and registry, read-only, with a dry run for a stored letter (`gongwen rules test --letter`)."""
    page = rules_dry_run(archive_of(request), request.app.state.routing_files, letter)
    return render(request, "rules.html", {"page": page, "letter": letter, "max_mb": MAX_FILE_MB},
                  status_code=page.status)


@router.post("/admin/rules", dependencies=[LengthChecked, CsrfChecked])
def rules_try_file(request: Request, account: Admin, file: Annotated[UploadFile, File()]) -> Response:
    """The dry run for a PDF or DI file not in the archive (`gongwen rules test --letter FILE.pdf`): read from a
    temporary folder, nothing stored; a file that cannot be read is one line on the page."""
    page = rules_dry_run(archive_of(request), request.app.state.routing_files, upload=(file.filename, file.file))
    return render(request, "rules.html", {"page": page, "letter": "", "max_mb": MAX_FILE_MB}, status_code=page.status)
