"""The JSON API under /api/: what the pages do, for programs. The schema: GET /api/openapi.json.

The same session cookie as the pages: POST /api/login, then send the `csrf_token` it returns
as the X-CSRF-Token header of every POST. The JSON is the CLI's (docs/cli.md): a search's
hits as `gongwen search --json`, a letter as `gongwen show --json`, tasks as
docs/routing.md#tasks. A refused queue action is 409 with the CLI's one-line message; a
value that cannot be read is 422.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile as FormFile

from pipeline.corrections import CorrectionError
from pipeline.routing.queue import QueueError
from pipeline.web.auth import Admin, Analyst, Clerk, CsrfChecked, archive_of, csrf_token, log_in, log_out
from pipeline.web.common import (
    QUEUE_STATUSES,
    QueueQuery,
    RowId,
    RowIdField,
    SearchQuery,
    act,
    act_on_many,
    draft_for_task,
    file_answer,
    find_letter,
    from_triage,
    letter_json,
    original_pdf,
    png_answer,
    queue_page,
    read_letter,
    recorded_draft,
    rules_dry_run,
    run_search,
    task,
)
from pipeline.web.ratelimit import TooManyLogins, authenticate_limited
from pipeline.web.review import (
    ConfigError,
    correct_field,
    doubtful_fields,
    field_image,
    goldens_download,
    page_image,
    review_threshold,
)
from pipeline.web.upload import LengthChecked, ingest_request
from pipeline.web.users import Account, UnknownUser, UserError, add_user, change_account, list_accounts

router = APIRouter(prefix="/api", tags=["api"])
Short = Annotated[str, Field(max_length=2000)]


class Credentials(BaseModel):
    name: Annotated[str, Field(max_length=200)]
    password: Annotated[str, Field(max_length=1000)]


class TaskAction(BaseModel):
    """What an action needs besides the task: `reason` to reject, `to` to reassign, an optional `note`."""

    note: Short | None = None
    reason: Short | None = None
    to: Annotated[str, Field(max_length=200)] | None = None


class BulkAction(TaskAction):
    tasks: Annotated[list[RowIdField], Field(min_length=1, max_length=500)]
    action: Annotated[str, Field(pattern="^(claim|done|reject|reassign)$")]


class TriageDecision(BaseModel):
    """`association`: make a task for it; none: file the document (存查) without forwarding it."""

    association: Annotated[str, Field(max_length=80)] | None = None
    note: Short | None = None


def _refused(exc: QueueError) -> HTTPException:
    return HTTPException(422 if exc.exit_code == 2 else 409, str(exc))


@router.post("/login")
def login(request: Request, credentials: Credentials) -> dict[str, Any]:
    """Log in: sets the session cookie; returns the CSRF token to send with every POST."""
    try:
        account = authenticate_limited(request, credentials.name, credentials.password)
    except TooManyLogins as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.seconds)}) from None
    if account is None:
        raise HTTPException(401, "wrong name or password")
    log_in(request, account)
    return {"name": account.name, "role": account.role, "csrf_token": csrf_token(request)}


@router.post("/logout", dependencies=[CsrfChecked])
def logout(request: Request) -> dict[str, Any]:
    log_out(request)
    return {"logged_out": True}


@router.get("/me")
def me(request: Request, account: Analyst) -> dict[str, Any]:
    """Who is logged in, and the CSRF token of this session."""
    return {"name": account.name, "role": account.role, "csrf_token": csrf_token(request)}


@router.get("/search")
def search(
    request: Request,
    account: Analyst,
    form: SearchQuery,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """`gongwen search --json`, a page at a time: `total` counts every match, `results` are this page's."""
    found = run_search(archive_of(request), form, per_page)
    if found.error:
        raise HTTPException(422, found.error)
    if not found.searched:
        raise HTTPException(422, "give a query (q) or at least one filter")
    return {"query": form.q, "page": form.page, "per_page": per_page, "pages": found.pages, "count": len(found.hits),
            "total": found.total, "total_exact": found.exact, "results": [h.to_json() for h in found.hits],
            "facets": found.facets.to_json()}


@router.get("/letters/{ref}")
def letter(request: Request, account: Analyst, ref: Annotated[str, PathParam(max_length=200)]) -> Any:
    """`gongwen show --json` of a document id or a 字號 (a list when a 字號 names several letters), with its tasks."""
    archive = archive_of(request)
    pages = [p for i in find_letter(archive, ref) if (p := read_letter(archive, i)) is not None]
    if not pages:
        raise HTTPException(404, f"not in the archive: {ref}")
    out = [letter_json(p, f"/letters/{p.view.id}/files/{{file_id}}.pdf") for p in pages]
    return out[0] if len(out) == 1 else out


@router.post("/upload", dependencies=[LengthChecked, CsrfChecked])
def upload(request: Request, account: Clerk, files: Annotated[list[UploadFile], File()]) -> dict[str, Any]:
    """Ingest PDFs and DI files as `gongwen ingest` does, then route what is new: what became of each file, in order."""
    return ingest_request(request, files, "at most {} files at once").to_json()


@router.get("/queue")
def queue(request: Request, account: Analyst, form: QueueQuery) -> dict[str, Any]:
    """`gongwen queue list --json`: tasks most urgent first (50 unless `limit`), or with status=triage the
    documents no rule routed."""
    if form.status not in QUEUE_STATUSES:
        raise HTTPException(422, f"status must be one of {', '.join(QUEUE_STATUSES)}")
    tasks, triage, total = queue_page(archive_of(request), form, 50)
    if form.status == "triage":
        return {"status": form.status, "count": len(triage), "total": total, "documents": triage}
    return {"status": form.status, "count": len(tasks), "total": total, "tasks": [v.task for v in tasks]}


@router.get("/queue/{task_id}")
def queue_task(request: Request, account: Analyst, task_id: RowId) -> dict[str, Any]:
    found = task(archive_of(request), task_id)
    if found is None:
        raise HTTPException(404, f"no task #{task_id}")
    return found.task


@router.post("/queue/bulk", dependencies=[CsrfChecked])
def queue_bulk(request: Request, account: Clerk, body: BulkAction) -> dict[str, Any]:
    """One action on many tasks, each alone: `results` maps each task to null (done) or why it was refused."""
    results = act_on_many(archive_of(request), account.name, body.tasks, body.action,
                          note=body.note, reason=body.reason, to=body.to)
    return {"action": body.action, "done": sum(1 for v in results.values() if v is None),
            "results": {str(k): v for k, v in results.items()}}


class DraftRequest(BaseModel):
    """`format` pdf or di; `scope` letter (one draft, 正本 every association the letter has a task for) or task
    (正本 this task's association alone)."""

    format: Annotated[str, Field(pattern="^(pdf|di)$")] = "pdf"
    scope: Annotated[str, Field(pattern="^(letter|task)$")] = "letter"


@router.post("/queue/{task_id}/draft", dependencies=[CsrfChecked])
def queue_draft(request: Request, account: Clerk, task_id: RowId, body: DraftRequest | None = None) -> dict[str, Any]:
    """The task's 轉知 draft, made and recorded under the logged-in user's name as `gongwen draft` does; its bytes
    from `download`. 422 with one line when it cannot be made (no office file, a task that cannot be forwarded)."""
    from pipeline.draft import DraftError

    archive = archive_of(request)
    if task(archive, task_id) is None:
        raise HTTPException(404, f"no task #{task_id}")
    body = body or DraftRequest()
    try:
        made = draft_for_task(archive, account.name, task_id, body.format, body.scope)
    except DraftError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": made.id, "task_id": made.task_id, "document_id": made.document_id, "format": made.format,
            "sha256": made.sha256, "tasks": made.tasks, "filename": made.filename, "download": f"/api/drafts/{made.id}"}


@router.get("/drafts/{draft_id}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "application/xml": {}}}})
def draft_download(request: Request, account: Clerk, draft_id: RowId) -> Response:
    """A recorded draft, byte for byte what was handed out (nothing new recorded)."""
    return file_answer(recorded_draft(archive_of(request), draft_id), f"no draft #{draft_id}")


@router.post("/queue/{task_id}/{action}", dependencies=[CsrfChecked])
def queue_action(request: Request, account: Clerk, task_id: RowId, action: str,
                 body: TaskAction | None = None) -> dict[str, Any]:
    """claim, done, reject (with `reason`) or reassign (with `to`) under the logged-in user's name; the task after it."""
    archive = archive_of(request)
    if task(archive, task_id) is None:
        raise HTTPException(404, f"no task #{task_id}")
    body = body or TaskAction()
    try:
        act(archive, account.name, task_id, action, note=body.note, reason=body.reason, to=body.to)
    except QueueError as exc:
        raise _refused(exc) from None
    after = task(archive, task_id)
    assert after is not None
    return after.task


@router.post("/triage/{document_id}", dependencies=[CsrfChecked])
def triage(request: Request, account: Clerk, document_id: RowId, body: TriageDecision) -> dict[str, Any]:
    """Out of triage: a task for `association` (its id in `task`), or filed when no association is given."""
    try:
        made = from_triage(archive_of(request), account.name, document_id, body.association, body.note)
    except QueueError as exc:
        raise _refused(exc) from None
    return {"document_id": document_id, "task": made, "filed": made is None}


# -- where fields came from, and their review (docs/web.md#review) ----------------------------------------

FieldName = Annotated[str, PathParam(max_length=40, pattern=r"^[a-z_.]+$")]


class FieldValue(BaseModel):
    """The value a reviewer gives a field: text as the letter prints it, a date in ROC or ISO, a list joined with 、;
    blank: the field has no value."""

    value: Annotated[str, Field(max_length=4000)] = ""


@router.get("/letters/{doc_id}/pages/{page}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def letter_page_image(request: Request, account: Analyst, doc_id: RowId,
                      page: Annotated[int, PathParam(ge=1, le=10000)]) -> Response:
    """One page of the original the document was read from (its `boxes` are fractions of it)."""
    return png_answer(page_image(archive_of(request), doc_id, page), f"no page {page} of #{doc_id} to show")


@router.get("/letters/{doc_id}/boxes/{name}.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def letter_field_image(request: Request, account: Analyst, doc_id: RowId, name: FieldName) -> Response:
    """The original cut to where one field was printed (its first box), as the review page shows it."""
    return png_answer(field_image(archive_of(request), doc_id, name), f"no box of {name} in #{doc_id} to show")


@router.get("/letters/{doc_id}/files/{file_id}.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def letter_original(request: Request, account: Analyst, doc_id: RowId, file_id: RowId) -> Response:
    """The kept original of a file the document arrived in (a letter's `files[].download`)."""
    return file_answer(original_pdf(archive_of(request), doc_id, file_id), f"no kept original of file #{file_id} of #{doc_id}")


@router.get("/review")
def review(request: Request, account: Clerk, threshold: Annotated[float | None, Query(ge=0, le=1)] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    """Fields read with less confidence than `threshold` (default: the app's, 0.8) that no one has reviewed, worst first."""
    try:
        chosen = review_threshold(threshold if threshold is not None else getattr(request.app.state, "review_threshold", None))
    except ConfigError as exc:
        raise HTTPException(500, str(exc)) from None
    items, total = doubtful_fields(archive_of(request), chosen, limit)
    return {"threshold": chosen, "count": len(items), "total": total, "fields": [i.to_json() for i in items]}


@router.get("/review/export", response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def review_export(request: Request, account: Clerk, all: bool = False) -> Response:
    """The corrected letters as golden JSON, each beside its PDF, in a zip (`gongwen review export`; `all`: every
    stored PDF): unzip it and run `gongwen eval` on the folder. 404 when nothing has been corrected."""
    found = goldens_download(archive_of(request), all)
    if found is None:
        raise HTTPException(404, "nothing to export: no stored PDF holds a corrected letter (all=true exports every one)")
    return found


@router.post("/review/{doc_id}/{name}", dependencies=[CsrfChecked])
def review_correct(request: Request, account: Clerk, doc_id: RowId, name: FieldName, body: FieldValue) -> dict[str, Any]:
    """Correct (or confirm) one field under the logged-in user's name; the correction, with the value shown before."""
    archive = archive_of(request)
    if not find_letter(archive, str(doc_id)):
        raise HTTPException(404, f"not in the archive: #{doc_id}")
    try:
        return correct_field(archive, doc_id, name, body.value, account.name).to_json()
    except CorrectionError as exc:
        raise HTTPException(422, str(exc)) from None


# -- the administrator's: routing rules and accounts (docs/web.md#the-api) -------------------------------------


def _routing_config_error(page: Any) -> HTTPException:
    return HTTPException(500, f"the routing files are not valid: {page.error}")


@router.get("/rules")
def rules(request: Request, account: Admin) -> dict[str, Any]:
    """The routing rules and the associations registry as loaded now, in the YAML files' shapes (read-only)."""
    page = rules_dry_run(archive_of(request), request.app.state.routing_files)
    if page.config is None:
        raise _routing_config_error(page)
    return page.config.to_json()


class DryRunLetter(BaseModel):
    """A stored letter to try the rules on: its document id or 字號."""

    letter: Annotated[str, Field(min_length=1, max_length=200)]


_FILE_FORM = {"type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "format": "binary", "description": "a PDF or DI file"}}}
_DRY_RUN_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": DryRunLetter.model_json_schema()},
    "multipart/form-data": {"schema": _FILE_FORM},
}}}


@router.post("/rules/test", dependencies=[LengthChecked, CsrfChecked], openapi_extra=_DRY_RUN_BODY)
async def rules_test(request: Request, account: Admin) -> dict[str, Any]:
    """Dry run, nothing written: `{"letter": id or 字號}` (JSON) for a stored letter, or a PDF or DI file as `file`
    (multipart), read from a temporary folder and not stored. `gongwen rules test --letter X --json`: which rules
    match and why, the targets, what is skipped, the due date. 404 no such letter, 422 a file that cannot be read."""
    archive, files = archive_of(request), request.app.state.routing_files
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        given = (await request.form()).get("file")
        if not isinstance(given, FormFile):
            raise HTTPException(422, "send the letter as the multipart field `file`, or JSON {\"letter\": id or 字號}")
        page = await run_in_threadpool(rules_dry_run, archive, files, None, (given.filename, given.file))
    else:
        try:
            body = DryRunLetter.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        if not body.letter.strip():
            raise HTTPException(422, "give a document id or a 字號 as `letter`")
        page = await run_in_threadpool(rules_dry_run, archive, files, body.letter)
    if page.config is None:
        raise _routing_config_error(page)
    if page.error:
        raise HTTPException(page.status, page.error)
    return page.to_json()


def _account_json(found: Account) -> dict[str, Any]:
    return {"name": found.name, "role": found.role, "active": found.active}


@router.get("/users")
def users(request: Request, account: Admin) -> dict[str, Any]:
    """The accounts: name, role, whether they may log in (never a password hash)."""
    with archive_of(request).session() as session:
        return {"users": [_account_json(a) for a in list_accounts(session)]}


class AccountChange(BaseModel):
    """`new`: add the account `name` (with `role` and `password`); else change what is given of it. An admin may not
    deactivate or demote themself."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Annotated[str, Field(max_length=20)] | None = None
    password: Annotated[str, Field(max_length=1000)] | None = None
    active: bool | None = None
    new: bool = False


@router.post("/users", dependencies=[CsrfChecked])
def users_change(request: Request, account: Admin, body: AccountChange) -> dict[str, Any]:
    """Add an account, or change its role, password or whether it may log in, as the accounts page does: the
    account after it. 404 no such account, 409 refused (exists already, your own), 422 a value not taken."""
    archive = archive_of(request)
    try:
        if body.new:
            if body.role is None or body.password is None:
                raise HTTPException(422, "a new account needs `role` and `password`")
            return _account_json(add_user(archive, body.name, body.role, body.password))
        return _account_json(change_account(archive, account.name, body.name, role=body.role,
                                            password=body.password, active=body.active))
    except UnknownUser as exc:
        raise HTTPException(404, str(exc)) from None
    except UserError as exc:
        raise HTTPException(422 if exc.exit_code == 2 else 409, str(exc)) from None
