"""Counts beside a search: how many of the documents it matches came from each sender, and in each month.

Over the match set, not the page shown: the same word and filter conditions as `pipeline.search`
(`pipeline.search_sql`: `word_conditions`, `filter_conditions`, `narrowed`). A letter with
several versions counts once (by its first version, as `search` counts it). A sender is its
organisation's canonical name when the archive linked it to one (衛福部 and 衛生福利部 are one
body, one row), else the name as printed: the name the `sender` filter takes back.

Bounded: the matches are read (letter, month, sender) a row, then their senders by id, and
counted here: every match when the search found at most `LIMIT`, else the newest `LIMIT` (by
發文日期, then id; when they are dense, by walking the newest documents in date order, each
checked), and `Facets.newest` says so (a common word matches most of a 100,000-letter archive:
counting all of it cost seconds a page on PostgreSQL).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from pipeline.matching import parse_query
from pipeline.search_sql import (
    SearchFilters,
    by_date,
    dated_from,
    filter_conditions,
    first_holding,
    narrowed,
    text_conditions,
    within,
    word_conditions,
)
from schemas.orm import DocumentRow, Organisation, Party

SENDERS = 10  # the senders with most matches
MONTHS = 120  # the newest months with matches (ten years)
LIMIT = 2000  # matches counted at most: above, the newest this many


@dataclass
class Facets:
    senders: list[tuple[str, int]] = field(default_factory=list)  # most matches first
    months: list[tuple[str, int]] = field(default_factory=list)  # "YYYY-MM", newest first
    newest: int | None = None  # more matched: the counts are over the newest this many; None: over every match

    def to_json(self) -> dict[str, Any]:
        return {"senders": [{"name": n, "count": c} for n, c in self.senders],
                "months": [{"month": m, "count": c} for m, c in self.months], "newest": self.newest}


def facets(session: Session, query: str, filters: SearchFilters | None = None, senders: int = SENDERS,
           months: int = MONTHS, limit: int | None = None, total: int | None = None) -> Facets:
    """Counts per sender and per month of the documents holding every word of `query` and passing `filters`
    (the newest `limit`, default `LIMIT`, of them when more match: `Facets.newest`).

    `total`: how many the search found (`search(...).total`), when known: up to `limit` the matches are read
    as a set, with no order and no LIMIT (with one, PostgreSQL's planner may walk a whole index for a
    set of five).
    """
    limit = limit or LIMIT
    filters = filters or SearchFilters()
    terms = parse_query(query)
    if not terms and not filters.any():
        return Facets()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # words: the gram index, not a scan, as search does; filters alone: a scan may be the plan, even in a
        # transaction where search has turned it off
        session.execute(text(f"SET LOCAL enable_seqscan = {'off' if terms else 'on'}"))
    narrow = narrowed(session, terms, filters, dialect)
    if narrow is None:
        conditions = word_conditions(terms, dialect) + filter_conditions(filters, dialect)
    else:  # the few documents the filters keep, each checked in its text, as search does
        conditions = [within(narrow, dialect), *text_conditions(terms)]
    columns = select(DocumentRow.id, func.coalesce(DocumentRow.version_of, DocumentRow.id).label("letter"),
                     DocumentRow.issue_date, DocumentRow.sender)
    rows: list[tuple[int, int, datetime.date | None, str | None]] | None = None
    recent = _recent(session, limit, total, dialect) if total is not None and total > limit else None
    if recent is not None and terms and narrow is None:
        # many match: the newest documents in date order, checked in their text a slice at a time (each
        # probed in its gram array instead: 辦理, 70 ms a statement on PostgreSQL against 15)
        window = list(session.scalars(select(DocumentRow.id).where(recent, *filter_conditions(filters, dialect))
                                      .order_by(*by_date(dialect, walk=True))))
        # the window should hold twice `limit` matches: a first slice of 60% of it holds enough
        kept = first_holding(session, window, terms, limit + 1, first=3 * len(window) // 5)
        if len(kept) > limit:  # else fewer lay among them than the density promised
            rows = _rows(session, columns.where(within(kept, dialect)))
    elif recent is not None:  # filters alone: the newest documents walked in date order
        walked = _rows(session, columns.where(*conditions, recent).order_by(*by_date(dialect, walk=True)).limit(limit + 1))
        if len({r[0] for r in walked}) > limit:
            rows = walked
    if rows is None:
        found = columns.where(*conditions)
        if total is None or total > limit:
            # the newest, read as a set and sorted, as search's `newest` does: the date index walked in order
            # would read the whole archive for a set that holds few
            found = found.order_by(*by_date(dialect)).limit(limit + 1)
        rows = _rows(session, found)
    newest = sorted({(day or datetime.date.min, doc_id) for doc_id, _, day, _ in rows}, reverse=True)  # nulls last, as in SQL
    counted = {doc_id for _, doc_id in newest[:limit]}
    by_sender: dict[str, set[int]] = defaultdict(set)
    by_month: dict[str, set[int]] = defaultdict(set)
    for doc_id, letter, day, name in rows:
        if doc_id not in counted:
            continue
        if name is not None:
            by_sender[name].add(letter)
        if day is not None:
            by_month[day.isoformat()[:7]].add(letter)
    return Facets(
        sorted(((n, len(ls)) for n, ls in by_sender.items()), key=lambda nc: (-nc[1], nc[0]))[:senders],
        sorted(((m, len(ls)) for m, ls in by_month.items()), reverse=True)[:months],
        limit if len(newest) > limit else None,
    )


def _rows(session: Session, found: Select[int, int, datetime.date | None, str | None],
          ) -> list[tuple[int, int, datetime.date | None, str | None]]:
    """(id, letter, issue date, sender) of the documents `found` selects, a row per sender: its organisation's
    name when the party is linked to one, else the name printed. The senders are looked up by the ids found
    (joined in the same statement, PostgreSQL read all 100,000 sender rows to hash them: 150 ms)."""
    documents = session.execute(found).all()
    ids = [d[0] for d in documents]
    wanted = within(ids, session.get_bind().dialect.name, Party.document_id)
    linked: dict[int, list[str | None]] = defaultdict(list)
    for doc_id, name in session.execute(
        select(Party.document_id, func.coalesce(Organisation.name, Party.name))  # the party as shown (corrected)
        .outerjoin(Organisation, Organisation.id == Party.organisation_id)
        .where(wanted, Party.role == "sender")
    ):
        linked[doc_id].append(name)
    return [(doc_id, letter, day, name or sender)
            for doc_id, letter, day, sender in documents for name in linked.get(doc_id) or [None]]


def _recent(session: Session, limit: int, total: int, dialect: str) -> ColumnElement[bool] | None:
    """Dated on or after the newest `window` documents, where `limit` of `total` matches should lie twice over
    (`window` = 2 × limit × archive / total); None when the matches are too sparse for that (a window of more
    than a quarter of the archive: the set is read instead). A common word (辦理: 87,279 of 106,392) reads
    6,000 documents' rows instead of its whole set."""
    size = session.scalar(select(func.max(DocumentRow.id))) or 0
    window = 2 * limit * size // max(total, 1)
    if window > size // 4:
        return None
    return dated_from(session, window, dialect)
