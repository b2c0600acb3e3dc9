"""What search and its counts ask each database: the conditions that keep the documents holding a
query's words and passing its filters, how many do, and the newest of them.

`pipeline.search` ranks with these and `pipeline.facets` counts with them, so a search and the
counts beside it always mean the same documents. Per dialect (the indexes: `pipeline.search`'s
docstring): SQLite asks its FTS5 trigram and bigram indexes, PostgreSQL the GIN-indexed gram
arrays, each rank's words as one set (`pg_words`). Every value reaches the database as a bound
parameter or a quoted FTS5 phrase.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    TextClause,
    UnaryExpression,
    and_,
    any_,
    cast,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy import table as sa_table
from sqlalchemy.orm import InstrumentedAttribute, Session

from extractors.orgs import canonical_org, gazetteer
from pipeline.matching import (
    LONGEST_GRAM,
    Term,
    answered_by_grams,
    body_names,
    match_form,
    number_key,
    plain,
    query_grams,
)
from schemas.orm import DocumentRow, DocumentText, Organisation, Party

ADDRESSEE_ROLES = ("recipient", "cc_main", "cc_copy", "attendee", "observer", "distribution")
# filters that keep fewer documents than this drive the search (see `narrowed`)
NARROW = 3000
# PostgreSQL: a count of documents that hold a long form's trigrams (see `count`) is checked in
# their text up to this many; above, it is given as an estimate
EXACT_COUNT = 1000
_PG_LONGEST = LONGEST_GRAM["postgresql"]

@dataclass
class SearchFilters:
    """What narrows a search besides its words (all optional).

    `sender` and `recipient` name a body in any of its spellings (full name, alias, 台/臺),
    or give a part of a name; with `include_agencies` a body also stands for the agencies
    under it (衛生福利部: 國民健康署, 中央健康保險署…), otherwise for itself alone.
    """

    sender: str | None = None
    recipient: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    speed: str | None = None
    number: str | None = None
    kind: str | None = None
    include_agencies: bool = False

    def any(self) -> bool:
        return any(v is not None for k, v in asdict(self).items() if k != "include_agencies")


def _like(form: str) -> str:
    escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(form: str) -> str:
    return '"' + form.replace('"', '""') + '"'


def _text_like(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Documents whose document_text row meets `condition` (a LIKE: no index answers it)."""
    return exists(select(DocumentText.document_id).where(DocumentText.document_id == DocumentRow.id, condition))


def _like_any_column(pattern: str) -> ColumnElement[bool]:
    columns = (DocumentText.subject, DocumentText.parties, DocumentText.meta, DocumentText.body)
    return or_(*(col.like(pattern, escape="\\") for col in columns))


def _fts(table: str, match: str, name: str, probe: bool) -> ColumnElement[bool]:
    """SQLite: documents an FTS5 index matches. As a set (`IN`, read whole once) or, with
    `probe`, one index look-up per document the query visits (for a walk in date order)."""
    where = text(f"{table} MATCH :{name}").bindparams(**{name: match})
    index = sa_table(table, column("rowid", Integer))
    if probe:
        return select(index.c.rowid).where(where, index.c.rowid == DocumentRow.id).exists()
    return DocumentRow.id.in_(select(index.c.rowid).where(where))


def _pg_tokens(form: str) -> list[str]:
    """PostgreSQL: the tokens a document holding `form` holds (the form itself up to three characters,
    else its trigrams); [] when one is not indexed."""
    return query_grams(form, _PG_LONGEST)


def _pg_exact(form: str) -> bool:
    """PostgreSQL: whether the gram index alone answers `form` exactly (three characters or fewer)."""
    return answered_by_grams(form, _PG_LONGEST)


def pg_chained(terms: Sequence[Term]) -> bool:
    """PostgreSQL: whether a form is found by its trigrams (so a document may hold them apart)."""
    return any(_pg_tokens(f) and not _pg_exact(f) for t in terms for f in t.forms)


def _pg_holds(form: str, name: str, tokens: str = "grams") -> TextClause:
    """PostgreSQL: a document_grams row holds every token `form` needs (`_pg_tokens`) in `tokens`
    (grams: the whole text; subject_grams, parties_grams)."""
    return text(f"{tokens} @> CAST(:{name} AS text[])").bindparams(**{name: _pg_tokens(form)})


_PG_TEXT = {"grams": ("subject", "parties", "meta", "body"), "subject_grams": ("subject",), "parties_grams": ("parties",)}


def pg_words(terms: Sequence[Term], tokens: Sequence[str], name: str, check: bool) -> ColumnElement[bool]:
    """PostgreSQL: documents whose gram columns `tokens` hold every term, each term in any of them,
    as one set from one statement over `document_grams`.

    One statement, not a set per term or per column: the planner then ANDs and ORs the GIN
    indexes' bitmaps, where an OR of `IN` sets became hashed subplans checked on every document
    (a two-word rank over subject or parties: 0.5–0.8 s at 100,000 letters, 10 ms as one set).
    A form longer than three characters is found by its trigrams and, with `check` (and always in
    the short subject and parties columns), checked in the text as well; a form with no index
    tokens is looked for in the text alone. The text check of a term is kept apart from its
    tokens (a document holding a form's text holds its tokens): an OR of (tokens AND text) per
    form made the database unpack every candidate's token array again (900 candidates: 96 ms
    against 10 ms).
    """
    grams = sa_table("document_grams", column("document_id", Integer))
    needs_text = False
    per_term: list[ColumnElement[bool]] = []
    for n, t in enumerate(terms):
        held: list[ColumnElement[bool]] = []
        texts: list[ColumnElement[bool]] = []
        indexed = all(_pg_tokens(f) for f in t.forms)
        for k, f in enumerate(t.forms):
            for c, col in enumerate(tokens):
                texts += [getattr(DocumentText, x).like(_like(f), escape="\\") for x in _PG_TEXT[col]]
                if indexed:
                    held.append(_pg_holds(f, f"{name}_{n}_{k}_{c}", col))  # type: ignore[arg-type]
        if not indexed:  # the text alone (rare: a form with punctuation)
            per_term.append(or_(*texts))
            needs_text = True
            continue
        per_term.append(or_(*held))
        if any(not _pg_exact(f) for f in t.forms) and (check or any(col != "grams" for col in tokens)):
            per_term.append(or_(*texts))
            needs_text = True
    rows = select(grams.c.document_id).where(*per_term)
    if needs_text:
        rows = rows.join_from(grams, DocumentText, DocumentText.document_id == grams.c.document_id)
    return DocumentRow.id.in_(rows.correlate(None))


def word_conditions(terms: Sequence[Term], dialect: str, probe: bool = False, exact: bool = False) -> list[ColumnElement[bool]]:
    """Conditions that together keep the documents holding every term (see `_term_condition`);
    PostgreSQL's are one set (`pg_words`). Probes (a walk in date order, a few documents) read each
    document's text row on both databases: on PostgreSQL a document's gram array is ten times the
    cost of its text (0.13 against 0.01–0.02 ms a document, out of line in TOAST), and the text is exact."""
    if dialect == "postgresql" and terms and not probe:
        return [pg_words(terms, ("grams",), "w", check=exact)]
    return [_term_condition(n, t, probe=probe) for n, t in enumerate(terms)]


def _phrases(forms: Iterable[str]) -> str:
    return " OR ".join(_fts_phrase(f) for f in forms)


def _term_condition(n: int, term: Term, probe: bool = False) -> ColumnElement[bool]:
    """SQLite: documents (by `DocumentRow.id`) holding any form of `term`, through the trigram index
    (three characters or more) and the gram index (one or two); with `probe`, the document's own
    text row with LIKE (an FTS5 look-up per document reads the token's whole list again and costs
    far more). PostgreSQL's words are one set for all of them (`pg_words`).
    """
    if probe:
        return _text_like(or_(*(_like_any_column(_like(f)) for f in term.forms)))
    parts: list[ColumnElement[bool]] = []
    long_forms = [f for f in term.forms if len(f) >= 3]
    short = [f for f in term.forms if answered_by_grams(f)]
    singles = [f for f in term.forms if _by_like(f)]
    if long_forms:
        parts.append(_fts("document_fts", _phrases(long_forms), f"fts_{n}", probe))
    if short:
        parts.append(_fts("document_grams", _phrases(short), f"grams_{n}", probe))
    if singles:
        parts.append(_text_like(or_(*(_like_any_column(_like(f)) for f in singles))))
    return or_(*parts) if parts else false()


def in_column(n: int, term: Term, column: str, probe: bool = False) -> ColumnElement[bool]:
    """Documents whose `column` of the search text (subject, parties) holds a form of `term`.

    SQLite: as a set, from the trigram index (three characters or more) and the gram index (one
    or two). A probe (both databases: a walk in date order) reads the document's column itself.
    PostgreSQL's ranks are one set for every word and column (`pg_words`).
    """
    col: ColumnElement[str] = getattr(DocumentText, column)
    if probe:
        return _text_like(or_(*(col.like(_like(f), escape="\\") for f in term.forms)))
    parts: list[ColumnElement[bool]] = []
    long_forms = [f for f in term.forms if len(f) >= 3]
    short = [f for f in term.forms if answered_by_grams(f)]
    rest = [f for f in term.forms if _by_like(f)]
    if long_forms:
        match = "{" + column + "}: (" + _phrases(long_forms) + ")"
        parts.append(_fts("document_fts", match, f"fts_{column}_{n}", probe))
    if short:
        match = "{" + column + "}: (" + _phrases(short) + ")"
        parts.append(_fts("document_grams", match, f"grams_{column}_{n}", probe))
    if rest:
        parts.append(_text_like(or_(*(col.like(_like(f), escape="\\") for f in rest))))
    return or_(*parts)


def _linked_to(organisations: ColumnElement[bool], dialect: str) -> ColumnElement[bool]:
    """Parties linked to an organisation meeting `organisations`.

    PostgreSQL gets the ids as one array (`= ANY(ARRAY(SELECT …))`), an index condition it can OR
    with a look-up by name; `IN (SELECT …)` beside an OR became a hashed subplan checked on every
    party row (a recipient filter: 270 ms → 14 ms at 100,000 letters).
    """
    ids = select(Organisation.id).where(organisations)
    if dialect == "postgresql":
        return Party.organisation_id == any_(func.array(ids.scalar_subquery()))
    return Party.organisation_id.in_(ids)


def sent_by(terms: Sequence[Term], dialect: str) -> ColumnElement[bool]:
    """Documents whose sender is what one of `terms` names: a body by any of its names, or a name
    typed whole (one set: an OR of a set per word was checked on every document)."""
    names = sorted({n for t in terms for n in t.names})
    bodies = sorted({c for t in terms if t.number is None and (c := canonical_org(t.word))})
    named: ColumnElement[bool] = Party.name_key.in_(names)
    if bodies:
        named = or_(named, _linked_to(Organisation.name.in_(bodies), dialect))
    return DocumentRow.id.in_(select(Party.document_id).where(Party.role == "sender", named))


def _by_like(form: str) -> bool:
    """SQLite: forms no index answers (one or two characters with punctuation), checked with LIKE."""
    return len(form) <= 2 and not answered_by_grams(form)


def _fts_column(column: str, forms: Sequence[str], name: str) -> Select[Any]:
    """SQLite: documents whose `column` holds any of `forms` (three characters or more), by the trigram index."""
    match = "{" + column + "}: (" + _phrases(forms) + ")"
    return select(literal_column("rowid")).select_from(text("document_fts")).where(
        text(f"document_fts MATCH :{name}").bindparams(**{name: match})
    )


def agencies(canonical: str) -> list[str]:
    """The bodies under `canonical` in the gazetteer, at every level (a ministry's 署, 司, 醫院…)."""
    g = gazetteer()
    out: list[str] = []
    todo = [canonical]
    while todo:
        for child in g.children(todo.pop()):
            if child.name not in out and child.name != canonical:
                out.append(child.name)
                todo.append(child.name)
    return out


def _party_condition(
    value: str, roles: Sequence[str], dialect: str, name: str, include_agencies: bool = False
) -> ColumnElement[bool]:
    """Documents with a party in `roles` that is the body `value` names, or whose name holds `value`.

    A known body (any of its names: 衛福部 and 衛生福利部 alike) is matched by the organisation
    its parties were linked to and by every spelling of its names, the body alone unless
    `include_agencies`; for a local government its agencies are its units (臺中市政府衛生局).
    Anything else is a part of a name (衛生局). SQLite narrows a part of a name by the
    trigram index over the parties column first (PostgreSQL has a trigram index on the names).
    """
    key = match_form(value)
    canonical = canonical_org(value)
    if canonical is None:
        parties = select(Party.document_id).where(Party.role.in_(list(roles)), Party.name_key.like(_like(key), escape="\\"))
        if dialect != "postgresql" and len(key) >= 3:
            parties = parties.where(Party.document_id.in_(_fts_column("parties", [key], f"fts_{name}")))
        return DocumentRow.id.in_(parties)
    bodies = [canonical, *(agencies(canonical) if include_agencies else ())]
    keys = sorted({k for body in bodies for k in body_names(body)})
    organisations: ColumnElement[bool] = Organisation.name.in_(bodies)
    if include_agencies:  # the units of a local government are not in the gazetteer
        organisations = or_(
            organisations,
            and_(Organisation.kind == "local_agency", Organisation.name.like(_like(canonical)[1:], escape="\\")),
        )
    parties = select(Party.document_id).where(
        Party.role.in_(list(roles)),
        or_(Party.name_key.in_(keys), _linked_to(organisations, dialect)),
    )
    return DocumentRow.id.in_(parties)


def filter_conditions(filters: SearchFilters, dialect: str) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.sender and match_form(filters.sender):
        out.append(_party_condition(filters.sender, ("sender",), dialect, "sender", filters.include_agencies))
    if filters.recipient and match_form(filters.recipient):
        out.append(
            _party_condition(filters.recipient, ADDRESSEE_ROLES, dialect, "recipient", filters.include_agencies)
        )
    if filters.date_from:
        out.append(DocumentRow.issue_date >= filters.date_from)
    if filters.date_to:
        out.append(DocumentRow.issue_date <= filters.date_to)
    if filters.speed:
        speed = plain(unicodedata.normalize("NFKC", filters.speed)).strip()
        out.append(DocumentRow.speed.in_([speed, speed + "件"]))
    if filters.kind:
        out.append(DocumentRow.kind == filters.kind)
    if filters.number:
        key = number_key(filters.number)
        if key is None:
            out.append(false())
        elif "字第" in key:  # a whole 字號: the index answers
            out.append(DocumentRow.doc_number_key == key)
        else:  # a part of one (the serial, the 代字)
            out.append(DocumentRow.doc_number_key.like(_like(key), escape="\\"))
            if dialect != "postgresql" and len(key) >= 3:  # the 字號 is in the meta column
                out.append(DocumentRow.id.in_(_fts_column("meta", [match_form(filters.number)], "fts_number")))
    return out


def _fts_count(session: Session, terms: Sequence[Term]) -> int | None:
    """SQLite: how many documents hold every term, from one FTS5 index alone when it answers every
    form (None otherwise): no document row is read."""
    by_table: dict[str, list[Term]] = {}
    for t in terms:
        if all(len(f) >= 3 for f in t.forms):
            by_table.setdefault("document_fts", []).append(t)
        elif all(answered_by_grams(f) for f in t.forms):
            by_table.setdefault("document_grams", []).append(t)
        else:
            return None
    matches = {table: " AND ".join("(" + _phrases(t.forms) + ")" for t in ts) for table, ts in by_table.items()}

    def fts_count(table: str, match: str) -> int:
        return int(session.scalar(text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :m"), {"m": match}) or 0)

    if len(matches) == 1:
        [(table, match)] = matches.items()
        return fts_count(table, match)
    # words of both indexes: when each longer word's bigrams are found in exactly the documents that
    # hold the word (a superset of the same size), the bigram index alone counts them all
    as_grams = [_gram_match(t) for t in by_table["document_fts"]]
    if all(
        g is not None and fts_count("document_fts", "(" + _phrases(t.forms) + ")") == fts_count("document_grams", g)
        for t, g in zip(by_table["document_fts"], as_grams, strict=True)
    ):
        return fts_count("document_grams", " AND ".join([*(f"({g})" for g in as_grams if g), matches["document_grams"]]))
    return int(session.scalar(
        text(
            "SELECT count(*) FROM (SELECT rowid FROM document_fts WHERE document_fts MATCH :a"
            " INTERSECT SELECT rowid FROM document_grams WHERE document_grams MATCH :b)"
        ),
        {"a": matches["document_fts"], "b": matches["document_grams"]},
    ) or 0)


def _gram_match(term: Term) -> str | None:
    """SQLite: an FTS5 query of the bigram index for documents holding every bigram of a form of
    `term` (a superset of those holding the form); None when a bigram is not indexed."""
    alternatives: list[str] = []
    for form in term.forms:
        tokens = query_grams(form)
        if not tokens:
            return None
        alternatives.append("(" + " AND ".join(_fts_phrase(p) for p in tokens) + ")")
    return " OR ".join(alternatives)


def within(ids: Sequence[int], dialect: str, key: InstrumentedAttribute[int] = DocumentRow.id) -> ColumnElement[bool]:
    """`key` (a document id) is one of `ids`. PostgreSQL gets them as one array: one parameter to plan
    instead of thousands (30–40 ms for 2,000), and a set the planner sizes exactly."""
    if dialect == "postgresql":
        return key == any_(cast(list(ids), ARRAY(Integer)))
    return key.in_(list(ids))


def narrowed(session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str) -> list[int] | None:
    """The documents the filters keep, when they are few (under `NARROW`) and there are words to find in
    them; None otherwise. A search then reads these, each checked for the words in its own text
    (`text_conditions`): the filters drive. PostgreSQL's planner cannot size a word's set in the gram
    index (內診所: 532 documents estimated, 10,162 held) and checked each of those for the sender of
    a body's 198 letters: 92 ms a statement, against 2–5 ms from the 198."""
    if not terms or not filters.any():
        return None
    ids = list(session.scalars(select(DocumentRow.id).where(*filter_conditions(filters, dialect)).limit(NARROW)))
    return ids if len(ids) < NARROW else None


def text_conditions(terms: Sequence[Term]) -> list[ColumnElement[bool]]:
    """Every term held in the document's own text row (LIKE, read by its key): exact on both databases,
    for a few documents (`narrowed`)."""
    return [_term_condition(n, t, probe=True) for n, t in enumerate(terms)]


def count(
    session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str, narrow: list[int] | None = None
) -> tuple[int, bool]:
    """How many documents hold every term and pass `filters` (`narrow`: the documents the filters keep, when
    few: see `narrowed`), and whether that number is exact.

    PostgreSQL finds a form longer than three characters by its trigrams: a count of up to
    `EXACT_COUNT` is checked in the documents' text; above, it is an estimate, too high only by
    documents that hold the form's trigrams apart and never the form (seldom: 衛生福 and 生福利
    in one letter without 衛生福利).
    """
    if narrow is not None:
        kept = [within(narrow, dialect), *text_conditions(terms)]
        return session.scalar(select(func.count()).select_from(DocumentRow).where(*kept)) or 0, True
    if dialect != "postgresql" and terms and not filters.any():
        fast = _fts_count(session, terms)
        if fast is not None:
            return fast, True

    def counted(exact: bool) -> int:
        words = word_conditions(terms, dialect, exact=exact)
        conditions = words + filter_conditions(filters, dialect)
        return session.scalar(select(func.count()).select_from(DocumentRow).where(and_(*conditions))) or 0

    if dialect != "postgresql":
        return counted(exact=True), True
    if terms and not filters.any() and all(_pg_tokens(f) for t in terms for f in t.forms):
        # the gram index holds every form's tokens: its rows alone are counted
        held = [or_(*(_pg_holds(f, f"c_{n}_{k}") for k, f in enumerate(t.forms))) for n, t in enumerate(terms)]
        total = session.scalar(select(func.count()).select_from(text("document_grams")).where(*held)) or 0
    else:
        total = counted(exact=False)
    if not pg_chained(terms):
        return total, True
    if total <= EXACT_COUNT:
        return counted(exact=True), True
    return total, False


def newest(
    session: Session,
    conditions: Sequence[ColumnElement[bool]],
    need: int | None,
    dialect: str,
    walk: bool = False,
    few: bool = False,
) -> list[int]:
    """The newest `need` documents meeting `conditions` (all of them, newest first, when None).

    Only a `walk` (the newest documents, a window of them, each probed) reads them in date order
    from the index. Otherwise the order is an expression no index serves, so the matches are
    read as a set and sorted: neither planner can tell how many documents an index set holds,
    and one that expects many walks the whole archive in date order for a set that holds none.
    PostgreSQL's planner did so even then (sorted the whole archive by date and probed it: a
    body's 200 letters in 100–300 ms against 10), so a set known to be `few` (under `DENSE`) is
    read without ORDER BY and sorted here.
    """
    if dialect == "postgresql" and few and not walk:
        rows = list(session.execute(select(DocumentRow.id, DocumentRow.issue_date).where(and_(*conditions))).all())
        rows.sort(key=lambda r: (r[1] is not None, r[1] or datetime.date.min, r[0]), reverse=True)
        return [r[0] for r in rows[:need]]
    stmt = select(DocumentRow.id).where(and_(*conditions)).order_by(*by_date(dialect, walk)).limit(need)
    return list(session.scalars(stmt))


def by_date(dialect: str, walk: bool = False) -> tuple[UnaryExpression[Any], ...]:
    """Newest first, undated last, then by id. Only a `walk` lets the date index serve the order:
    otherwise the date is an expression (`+ 0`) so that the planner reads the set and sorts it."""
    if dialect == "postgresql":
        day = DocumentRow.issue_date if walk else literal_column("(documents.issue_date + 0)")
        return day.desc().nulls_last(), DocumentRow.id.desc()
    # SQLite sorts NULL before any value: last when descending
    return (DocumentRow.issue_date if walk else literal_column("+documents.issue_date")).desc(), DocumentRow.id.desc()


def dated_from(session: Session, window: int, dialect: str) -> ColumnElement[bool] | None:
    """Dated on or after the `window`-th newest dated document: the documents a walk in date order reads
    (None when the archive holds fewer). Undated documents end no window: PostgreSQL sorts NULL
    first when descending, and a window ending at one (6,392 undated documents) walked nothing."""
    oldest = session.scalar(
        select(DocumentRow.issue_date).where(DocumentRow.issue_date.is_not(None))
        .order_by(*by_date(dialect, walk=True)).offset(window).limit(1)
    )
    return DocumentRow.issue_date >= oldest if oldest is not None else None


def holding(session: Session, ids: Sequence[int], terms: Sequence[Term]) -> set[int]:
    """Those of `ids` whose text holds a form of every term: each document's own text row, read
    by its key (exact on both databases; cheap for a few thousand documents: 3,000 in 15 ms on
    PostgreSQL, where their gram arrays took 285)."""
    if not ids:
        return set()
    words = [or_(*(_like_any_column(_like(f)) for f in t.forms)) for t in terms]
    listed = within(ids, session.get_bind().dialect.name, DocumentText.document_id)
    return set(session.scalars(select(DocumentText.document_id).where(listed, *words)))


def first_holding(
    session: Session, ids: Sequence[int], terms: Sequence[Term], need: int, first: int | None = None
) -> list[int]:
    """The first `need` of `ids` (in their order) that hold every term, checked a slice at a time,
    each slice four times the last: nearly always the first slice (`first`, default twice `need`)
    is enough."""
    kept: list[int] = []
    start, size = 0, max(64, first or 2 * need)
    while start < len(ids) and len(kept) < need:
        part = ids[start : start + size]
        held = holding(session, part, terms)
        kept += [i for i in part if i in held]
        start, size = start + size, 4 * size
    return kept[:need]
