"""Counts beside a search: how many of the documents it matches came from each sender, and in each month.

Over the whole match set, not the page shown: the same word and filter conditions as
`pipeline.search` (its `_term_condition`, `_filter_conditions`, `_narrow`), grouped in SQL, so
nothing but the counts leaves the database. A letter with several versions counts once (by
its first version, as `search` counts it). A sender is its organisation's canonical name when
the archive linked it to one (衛福部 and 衛生福利部 are one body, one row), else the name as
printed: the name the `sender` filter takes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, select, text
from sqlalchemy.orm import Session

from pipeline.matching import parse_query
from pipeline.search import SearchFilters, _filter_conditions, _narrow, _term_condition
from schemas.orm import DocumentRow, Organisation, Party

SENDERS = 10  # the senders with most matches
MONTHS = 120  # the newest months with matches (ten years)


@dataclass
class Facets:
    senders: list[tuple[str, int]] = field(default_factory=list)  # most matches first
    months: list[tuple[str, int]] = field(default_factory=list)  # "YYYY-MM", newest first

    def to_json(self) -> dict[str, Any]:
        return {"senders": [{"name": n, "count": c} for n, c in self.senders],
                "months": [{"month": m, "count": c} for m, c in self.months]}


def _month(dialect: str) -> ColumnElement[str]:
    if dialect == "postgresql":
        return func.to_char(DocumentRow.issue_date, "YYYY-MM")
    return func.substr(DocumentRow.issue_date, 1, 7)  # SQLite keeps a date as YYYY-MM-DD text


def facets(session: Session, query: str, filters: SearchFilters | None = None, senders: int = SENDERS,
           months: int = MONTHS) -> Facets:
    """Counts per sender and per month of the documents holding every word of `query` and passing `filters`."""
    filters = filters or SearchFilters()
    terms = parse_query(query)
    if not terms and not filters.any():
        return Facets()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # words: the gram index, not a scan, as search does; filters alone: a scan may be the plan, even in a
        # transaction where search has turned it off
        session.execute(text(f"SET LOCAL enable_seqscan = {'off' if terms else 'on'}"))
    narrow = _narrow(session, terms, filters, dialect)
    conditions = [_term_condition(n, t, dialect, probe=narrow) for n, t in enumerate(terms)]
    conditions += _filter_conditions(filters, dialect)
    letters = func.count(distinct(func.coalesce(DocumentRow.version_of, DocumentRow.id)))
    name = func.coalesce(Organisation.name, DocumentRow.sender)
    by_sender = (
        select(name, letters)
        .select_from(DocumentRow)
        .outerjoin(Party, and_(Party.document_id == DocumentRow.id, Party.role == "sender"))
        .outerjoin(Organisation, Organisation.id == Party.organisation_id)
        .where(*conditions, name.is_not(None))
        .group_by(name)
        .order_by(letters.desc(), name)
        .limit(senders)
    )
    month = _month(dialect)
    by_month = (
        select(month, letters)
        .where(*conditions, DocumentRow.issue_date.is_not(None))
        .group_by(month)
        .order_by(month.desc())
        .limit(months)
    )
    return Facets([(str(n), int(c)) for n, c in session.execute(by_sender)],
                  [(str(m), int(c)) for m, c in session.execute(by_month)])
