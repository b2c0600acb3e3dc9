"""What the pages and the API both do, each once: search a page of hits, read a letter, act on the queue.

The work itself is the service layer the CLI uses (pipeline/search.py, pipeline/show.py,
pipeline/routing/queue.py, pipeline/search_input.py); this module only turns web inputs into
its calls and its answers into what a page or a JSON response shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import Field
from sqlalchemy import select

from pipeline.db import Archive
from pipeline.facets import Facets, facets
from pipeline.filestore import kept_original
from pipeline.routing.queue import (
    QueueError,
    QueueFilters,
    TaskView,
    add_task,
    claim,
    done,
    file_document,
    get_task,
    list_tasks,
    reassign,
    reject,
    triage_list,
)
from pipeline.search import Hit, search
from pipeline.search_input import FieldNames, FilterError, search_filters
from pipeline.show import MAX_ID, DocumentView, find_documents, show
from schemas.orm import Appearance, AssociationRow, StoredFile
from schemas.routing import Decision, RoutingConfig

if TYPE_CHECKING:
    from pipeline.draft import WrittenDraft

PER_PAGE = 20
MAX_RESULTS = 1000  # search's own limit: pages past it are not served
WEB_NAMES = FieldNames(date_from="發文日期起", date_to="發文日期迄", speed="速別", kind="類別")
TASK_ACTIONS = ("claim", "done", "reject", "reassign")
QUEUE_STATUSES = ("open", "pending", "claimed", "done", "rejected", "all", "triage")
# a row id in a URL or a body: what an INTEGER column holds (a larger one is a 422, not a database error)
RowId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
RowIdField = Annotated[int, Field(ge=1, le=MAX_ID)]


@dataclass
class SearchForm:
    """The search as the URL holds it (a bookmark, a shared link)."""

    q: str = ""
    sender: str = ""
    recipient: str = ""
    agencies: bool = False
    date_from: str = ""
    date_to: str = ""
    speed: str = ""
    number: str = ""
    kind: str = ""
    page: int = 1

    def url_query(self) -> dict[str, str]:
        """The filled fields under the URL's own names (for paging links)."""
        params = {"q": self.q, "sender": self.sender, "recipient": self.recipient,
                  "agencies": "1" if self.agencies else "", "from": self.date_from, "to": self.date_to,
                  "speed": self.speed, "number": self.number, "kind": self.kind}
        return {k: v for k, v in params.items() if v}

    def link(self, changes: dict[str, str]) -> str:
        """This search with `changes` to its URL parameters (a count's filter added), from its first page."""
        return "/search?" + urlencode({**self.url_query(), **changes})


def search_form(
    q: Annotated[str, Query(max_length=500)] = "",
    sender: Annotated[str, Query(max_length=200)] = "",
    recipient: Annotated[str, Query(max_length=200)] = "",
    agencies: bool = False,
    date_from: Annotated[str, Query(alias="from", max_length=40)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=40)] = "",
    speed: Annotated[str, Query(max_length=20)] = "",
    number: Annotated[str, Query(max_length=100)] = "",
    kind: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> SearchForm:
    """The search's URL parameters, declared once for the page and the API."""
    return SearchForm(q, sender, recipient, agencies, date_from, date_to, speed, number, kind, page)


SearchQuery = Annotated[SearchForm, Depends(search_form)]


@dataclass
class SearchPage:
    form: SearchForm
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    exact: bool = True  # False: `total` is PostgreSQL's estimate of a large count (docs/archive.md#ranking)
    per_page: int = PER_PAGE
    error: str | None = None
    searched: bool = False  # False: no query and no filter yet, an empty form
    facets: Facets = field(default_factory=Facets)  # counts per sender and per month over every match

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, MAX_RESULTS) / self.per_page))

    @property
    def first(self) -> int:
        return (self.form.page - 1) * self.per_page + 1


def run_search(archive: Archive, form: SearchForm, per_page: int = PER_PAGE) -> SearchPage:
    """One page of hits for `form`; a filter that cannot be read is the page's `error`, not an exception."""
    out = SearchPage(form, per_page=per_page)
    try:
        filters = search_filters(sender=form.sender, recipient=form.recipient, include_agencies=form.agencies,
                                 date_from=form.date_from, date_to=form.date_to, speed=form.speed,
                                 number=form.number, kind=form.kind, names=WEB_NAMES)
    except FilterError as exc:
        out.error = str(exc)
        return out
    if not form.q.strip() and not filters.any():
        return out
    out.searched = True
    form.page = max(1, min(form.page, MAX_RESULTS // per_page))
    with archive.session() as session:
        found = search(session, form.q, filters, min(MAX_RESULTS, form.page * per_page))
        out.facets = facets(session, form.q, filters, total=found.total) if found.total else Facets()
    out.total, out.exact = found.total, found.exact
    out.hits = found.hits[(form.page - 1) * per_page:]
    return out


def find_letter(archive: Archive, ref: str) -> list[int]:
    """Ids for a document id or a 字號, as `gongwen show` finds them."""
    with archive.session() as session:
        return find_documents(session, ref)


@dataclass
class LetterPage:
    view: DocumentView
    tasks: list[TaskView]


def read_letter(archive: Archive, doc_id: int) -> LetterPage | None:
    """A stored document with its copies, versions, thread and routing tasks; None when there is none."""
    with archive.session() as session:
        view = show(session, doc_id, None)
        if view is None:
            return None
        tasks, _ = list_tasks(session, QueueFilters(status="all", document_id=doc_id, limit=200))
    return LetterPage(view, tasks)


def letter_json(page: LetterPage, download: str) -> dict[str, Any]:
    """`gongwen show --json`, with each file's download address instead of its path on the server, and the tasks."""
    out = page.view.to_json()
    for copy in out["files"]:
        copy.pop("stored_at", None)
        copy["download"] = download.format(file_id=copy["file_id"]) if copy["store_path"] else None
    out["tasks"] = [t.task for t in page.tasks]
    return out


def original_pdf(archive: Archive, doc_id: int, file_id: int) -> tuple[Path, str] | None:
    """The kept original of one file the document arrived in, and the name it had; None when not kept.

    Only a file of that document, only inside the file store: the path comes from the archive,
    never from the request, and is checked to stay under the store.
    """
    with archive.session() as session:
        row = session.execute(
            select(StoredFile.path, StoredFile.sha256, StoredFile.store_path)
            .join(Appearance, Appearance.file_id == StoredFile.id)
            .where(Appearance.document_id == doc_id, StoredFile.id == file_id)
            .limit(1)
        ).first()
    return kept_original(archive.files, row.path, row.sha256, row.store_path) if row is not None else None


PNG_CACHE = {"Cache-Control": "private, max-age=3600"}


def png_answer(png: bytes | None, missing: str) -> Response:
    """A rendered page or field crop (pages and API alike), or 404 with `missing`, in the caller's words."""
    if png is None:
        raise HTTPException(404, missing)
    return Response(png, media_type="image/png", headers=PNG_CACHE)


def file_answer(found: tuple[Path, str] | tuple[Path, str, str] | None, missing: str) -> FileResponse:
    """A kept file as a download: (path, name) of an original PDF, or (path, name, media type) of a recorded draft;
    404 with `missing` when there is none."""
    if found is None:
        raise HTTPException(404, missing)
    media = found[2] if len(found) == 3 else "application/pdf"
    return FileResponse(found[0], media_type=media, filename=found[1], content_disposition_type="attachment")


def queue_form(
    status: str = "open",
    assignee: Annotated[str, Query(max_length=200)] = "",
    association: Annotated[str, Query(max_length=80)] = "",
    overdue: bool = False,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> QueueFilters:
    """The queue's URL parameters, declared once for the page and the API (limit 0: the caller's page size)."""
    return QueueFilters(status, overdue, assignee or None, association or None, limit=limit or 0)


QueueQuery = Annotated[QueueFilters, Depends(queue_form)]


def queue_page(archive: Archive, form: QueueFilters, limit: int) -> tuple[list[TaskView], list[dict[str, Any]], int]:
    """(tasks, triage documents, total) of one view of the queue; `limit` when the form gives none."""
    form = replace(form, limit=form.limit or limit)
    with archive.session() as session:
        if form.status == "triage":
            docs, total = triage_list(session, form.limit)
            return [], docs, total
        views, total = list_tasks(session, form)
    return views, [], total


def associations(archive: Archive) -> list[tuple[str, str]]:
    """(id, name) of the registry's active associations, for choosing one."""
    with archive.session() as session:
        rows = session.execute(select(AssociationRow.id, AssociationRow.name).where(AssociationRow.active)
                               .order_by(AssociationRow.id))
        return [(r.id, r.name) for r in rows]


def act(archive: Archive, actor: str, task_id: int, action: str, *, note: str | None = None,
        reason: str | None = None, to: str | None = None) -> None:
    """One clerk's action on one task, under `actor`'s name in the audit log; QueueError when refused."""
    note = note.strip() if note and note.strip() else None
    if action == "claim":
        claim(archive, task_id, actor)
    elif action == "done":
        done(archive, task_id, actor, note)
    elif action == "reject":
        reject(archive, task_id, actor, reason or "")
    elif action == "reassign":
        reassign(archive, task_id, actor, to or "", note)
    else:
        raise QueueError(f"unknown action {action!r}: use one of {', '.join(TASK_ACTIONS)}", exit_code=2)


def act_on_many(archive: Archive, actor: str, task_ids: list[int], action: str, **details: str | None) -> dict[int, str | None]:
    """The same action on each task, each in its own transaction: task id → None (done) or why it was refused."""
    out: dict[int, str | None] = {}
    for task_id in dict.fromkeys(task_ids):
        try:
            act(archive, actor, task_id, action, **details)
            out[task_id] = None
        except QueueError as exc:
            out[task_id] = str(exc)
    return out


def task(archive: Archive, task_id: int) -> TaskView | None:
    with archive.session() as session:
        return get_task(session, task_id)


def from_triage(archive: Archive, actor: str, document_id: int, association: str | None, note: str | None) -> int | None:
    """A clerk's decision on a document in triage: a task for `association` (its id), or filed (存查) without one."""
    note = note.strip() if note and note.strip() else None
    if association:
        return add_task(archive, document_id, association.strip(), actor, note)
    file_document(archive, document_id, actor, note)
    return None


@dataclass
class RulesPage:
    config: RoutingConfig | None
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None  # a routing file that is not valid, a letter not in the archive, a file not read
    status: int = 200  # of a dry run that could not be made: 404 no such letter, 413/422 a file refused or unreadable
    letter: str = ""  # what was tried: the id or 字號 given, or the uploaded file's name

    def to_json(self) -> dict[str, Any]:
        """`gongwen rules test --letter X --json`."""
        from pipeline.routing.dry_run import dry_run_json

        assert self.config is not None
        return dry_run_json(self.letter, self.config, self.decisions)


def rules_dry_run(archive: Archive, files: tuple[str | None, str | None], letter: str | None = None,
                  upload: tuple[str | None, BinaryIO] | None = None) -> RulesPage:
    """The rules and the registry as loaded now, and what routing would decide (nothing written) for `letter`
    (a stored document's id or 字號) or `upload` (a PDF or DI file not in the archive: (its name, its bytes),
    read from a temporary folder removed afterwards): `gongwen rules test --letter`'s own functions."""
    from pipeline.routing.config import ConfigError, load_config
    from pipeline.routing.dry_run import LetterUnreadable, decide_file, decide_stored
    from pipeline.routing.engine import Router
    from pipeline.web.upload import UploadRefused, one_upload

    try:
        config = load_config(*files)
    except ConfigError as exc:
        return RulesPage(None, error=f"{exc}")
    page = RulesPage(config)
    if upload is not None:
        try:
            with one_upload(*upload) as (name, path):
                page.letter = name
                page.decisions = decide_file(Router(config), path, name)
        except UploadRefused as exc:
            page.letter, page.error, page.status = exc.name, f"{exc}", exc.status
        except LetterUnreadable as exc:
            page.error, page.status = f"無法試算（檔案未存入檔案庫）：{exc}", 422
    elif letter and letter.strip():
        page.letter = letter.strip()
        page.decisions = decide_stored(archive, Router(config), page.letter)
        if not page.decisions:
            page.error, page.status = f"檔案庫中沒有 {page.letter}（請給文件編號或字號）", 404
    return page


DRAFT_SCOPES = ("letter", "task")  # one draft for every task of the letter (正本 all), or for this task alone


def draft_for_task(archive: Archive, actor: str, task_id: int, draft_format: str, scope: str) -> WrittenDraft:
    """A clerk's download of a task's 轉知 draft: `gongwen draft`'s own function (pipeline/draft.write_draft),
    so the queue records it under the clerk's name as the CLI does. DraftError (one line) when it cannot be made."""
    from pipeline.draft import FORMATS, OFFICE_FILE, DraftError, load_office, write_draft
    from pipeline.routing.config import config_dir
    from pipeline.routing.queue import today

    if draft_format not in FORMATS or scope not in DRAFT_SCOPES:
        raise DraftError(f"format 必須是 {'、'.join(FORMATS)}，scope 必須是 {'、'.join(DRAFT_SCOPES)}")
    office = load_office(config_dir() / OFFICE_FILE)
    return write_draft(archive, task_id, draft_format, office, today(), actor=actor, alone=scope == "task")


def recorded_draft(archive: Archive, draft_id: int) -> tuple[Path, str, str] | None:
    """(the kept bytes of a recorded draft, a download name, its media type); None when there is none.

    The path comes from the archive, never from the request, and must stay inside the file store."""
    from pipeline.draft import MEDIA_TYPES
    from schemas.orm import Draft

    with archive.session() as session:
        row = session.get(Draft, draft_id)
        if row is None:
            return None
        rel, fmt = row.store_path, row.format
    root = archive.files.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path, f"draft_{draft_id}.{fmt}", MEDIA_TYPES[fmt]
