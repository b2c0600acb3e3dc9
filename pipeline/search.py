"""Search the archive in Chinese: the queries per dialect, the ranking, the hits and their snippets.

Documents and queries are compared in their matching forms (`pipeline.matching`: 台中 finds 臺中
and the reverse), through the indexes of each document's search text, per dialect:

- SQLite: a trigram index (FTS5 `trigram` tokenizer over `document_text`) answers three
  characters or more exactly; a bigram index (`document_grams`, FTS5 over each document's
  bigrams as tokens) answers two, which trigram indexes cannot.
- PostgreSQL: the gram index alone (`document_grams`, GIN-indexed text[] of every character,
  bigram and trigram): a form of up to three characters is answered exactly; a longer one by
  its trigrams, all held (`_pg_tokens`): nearly always the form itself, but a document holding
  its pieces apart matches too, so the hits shown are checked in the text (`_exact_hits`) and
  a large count says it is an estimate (`Results.exact`). A pg_trgm index over the text as
  well doubled the cost of storing a letter.
- SQLite: one or two characters with punctuation are scanned with LIKE: rare, and still correct.

The query is words separated by spaces, all of which must occur. A word that names a body
of the gazetteer (醫策會, 衛福部) also matches every other name of that body. Every value
reaches the database as a bound parameter or a quoted FTS5 phrase: quotes, `%`, `_`, `*`
and SQL fragments are plain text. Printed text is never rewritten: snippets are cut from
the printed fields, with the matches found through the matching form's offsets.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    TextClause,
    UnaryExpression,
    and_,
    any_,
    column,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from extractors.orgs import canonical_org, gazetteer
from pipeline.matching import (
    LONGEST_GRAM,
    Term,
    answered_by_grams,
    body_names,
    match_form,
    match_form_with_offsets,
    number_key,
    parse_query,
    plain,
    query_grams,
)
from schemas.orm import DocumentRow, DocumentText, ItemRow, Organisation, Party

__all__ = [
    "ADDRESSEE_ROLES",
    "Hit",
    "Results",
    "SearchFilters",
    "agencies",
    "count",
    "rank",
    "search",
    "snippet",
]

MARK_OPEN, MARK_CLOSE = "«", "»"
ADDRESSEE_ROLES = ("recipient", "cc_main", "cc_copy", "attendee", "observer", "distribution")
# score of a hit, its rank (see `_tiers`): the letter a whole 字號 names, the letters of the body
# a word names, every word in the subject, in the subject or the parties, anywhere
_NUMBER_WEIGHT, _SENDER_WEIGHT, _SUBJECT_WEIGHT, _PARTIES_WEIGHT = 16, 8, 4, 2
# SQLite (see `rank`): from this many matches on, the newest documents are walked in date order,
# at most WALK of them
DENSE = 5000
WALK = 3000
# filters that keep fewer documents than this drive the search (see `_narrow`)
NARROW = 3000
# PostgreSQL: a count of documents that hold a long form's trigrams (see `count`) is checked in
# their text up to this many; above, it is given as an estimate
EXACT_COUNT = 1000
_PG_LONGEST = LONGEST_GRAM["postgresql"]
_SNIPPET_BEFORE, _SNIPPET_AFTER = 24, 56
# printed columns behind `document_text.meta` (see `search_text`), for snippets
_META_COLUMNS = (
    "doc_number", "form_number", "attachments", "signatory", "meeting_place", "chair", "period", "title",
    "contact_unit", "contact_name", "contact_email", "contact_phone", "contact_address",
)


# -- queries ------------------------------------------------------------------


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


@dataclass
class Hit:
    """One document found: what a result list shows, with a snippet of printed text."""

    id: int
    kind: str
    doc_number: str | None
    issue_date: str | None
    sender: str | None
    recipient: str | None
    subject: str | None
    pages: list[int]
    score: int
    form_number: str | None = None  # a form's 表號
    compiler: str | None = None  # a form's 編製機關
    snippet: str = ""
    matched: list[str] = field(default_factory=list)  # where the words were found: subject, parties…
    versions: int = 1  # how many versions the letter has (a corrected re-issue, a born-digital original…)
    shown: int | None = None  # the version gongwen shows for the letter (pipeline.show.versions), when not this one

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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


def _pg_chained(terms: Sequence[Term]) -> bool:
    """PostgreSQL: whether a form is found by its trigrams (so a document may hold them apart)."""
    return any(_pg_tokens(f) and not _pg_exact(f) for t in terms for f in t.forms)


def _pg_holds(form: str, name: str, tokens: str = "grams") -> TextClause:
    """PostgreSQL: a document_grams row holds every token `form` needs (`_pg_tokens`) in `tokens`
    (grams: the whole text; subject_grams, parties_grams)."""
    return text(f"{tokens} @> CAST(:{name} AS text[])").bindparams(**{name: _pg_tokens(form)})


_PG_TEXT = {"grams": ("subject", "parties", "meta", "body"), "subject_grams": ("subject",), "parties_grams": ("parties",)}


def _pg_words(terms: Sequence[Term], tokens: Sequence[str], name: str, check: bool) -> ColumnElement[bool]:
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


def _words(terms: Sequence[Term], dialect: str, probe: bool = False, exact: bool = False) -> list[ColumnElement[bool]]:
    """Conditions that together keep the documents holding every term (see `_term_condition`);
    PostgreSQL's are one set (`_pg_words`)."""
    if dialect == "postgresql" and terms:
        return [_pg_words(terms, ("grams",), "w", check=exact or probe)]
    return [_term_condition(n, t, probe=probe) for n, t in enumerate(terms)]


def _phrases(forms: Iterable[str]) -> str:
    return " OR ".join(_fts_phrase(f) for f in forms)


def _term_condition(n: int, term: Term, probe: bool = False) -> ColumnElement[bool]:
    """SQLite: documents (by `DocumentRow.id`) holding any form of `term`, through the trigram index
    (three characters or more) and the gram index (one or two); with `probe`, the document's own
    text row with LIKE (an FTS5 look-up per document reads the token's whole list again and costs
    far more). PostgreSQL's words are one set for all of them (`_pg_words`).
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


def _in_column(n: int, term: Term, column: str, probe: bool = False) -> ColumnElement[bool]:
    """Documents whose `column` of the search text (subject, parties) holds a form of `term`.

    SQLite: as a set, from the trigram index (three characters or more) and the gram index (one
    or two). A probe (both databases: a walk in date order) reads the document's column itself.
    PostgreSQL's ranks are one set for every word and column (`_pg_words`).
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


def _sent_by(terms: Sequence[Term], dialect: str) -> ColumnElement[bool]:
    """Documents whose sender is what one of `terms` names: a body by any of its names, or a name
    typed whole (one set: an OR of a set per word was checked on every document)."""
    names = sorted({n for t in terms for n in t.names})
    bodies = sorted({c for t in terms if t.number is None and (c := canonical_org(t.word))})
    named: ColumnElement[bool] = Party.name_key.in_(names)
    if bodies:
        named = or_(named, _linked_to(Organisation.name.in_(bodies), dialect))
    return DocumentRow.id.in_(select(Party.document_id).where(Party.role == "sender", named))


def _tiers(terms: Sequence[Term], dialect: str, probe: bool) -> list[tuple[int, ColumnElement[bool]]]:
    """(score, condition) of each rank, best first: a document is in the first whose condition it meets.

    The letter a whole 字號 names; the letters of a body a word names; every word in the
    subject; every word in the subject or the parties; anywhere.
    """
    tiers: list[tuple[int, ColumnElement[bool]]] = []
    # a 字號's letters as printed (1120100216A), or typed in either case: the index answers
    numbers = sorted({v for t in terms if t.number for v in (t.number, t.number.upper(), t.number.lower())})
    if numbers:
        tiers.append((_NUMBER_WEIGHT, DocumentRow.doc_number_key.in_(numbers)))
    named = [t for t in terms if t.number is None]
    if named:
        tiers.append((_SENDER_WEIGHT, _sent_by(named, dialect)))
    if dialect == "postgresql" and not probe:
        tiers.append((_SUBJECT_WEIGHT, _pg_words(terms, ("subject_grams",), "s", check=True)))
        tiers.append((_PARTIES_WEIGHT, _pg_words(terms, ("subject_grams", "parties_grams"), "p", check=True)))
    else:
        subject = [_in_column(n, t, "subject", probe) for n, t in enumerate(terms)]
        tiers.append((_SUBJECT_WEIGHT, and_(*subject)))
        header = [or_(s, _in_column(n, t, "parties", probe)) for (n, t), s in zip(enumerate(terms), subject, strict=True)]
        tiers.append((_PARTIES_WEIGHT, and_(*header)))
    tiers.append((0, true()))
    return tiers


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


def _filter_conditions(filters: SearchFilters, dialect: str) -> list[ColumnElement[bool]]:
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


def _narrow(session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str) -> bool:
    """Whether the filters keep few documents (`NARROW`): they drive, and each one is probed for the words."""
    if not terms or not filters.any():
        return False
    conditions = _filter_conditions(filters, dialect)
    kept = session.scalar(select(func.count()).select_from(select(DocumentRow.id).where(*conditions).limit(NARROW).subquery()))
    return (kept or 0) < NARROW


def count(
    session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str, narrow: bool = False
) -> tuple[int, bool]:
    """How many documents hold every term and pass `filters` (`narrow`: see `_narrow`), and whether
    that number is exact.

    PostgreSQL finds a form longer than three characters by its trigrams: a count of up to
    `EXACT_COUNT` is checked in the documents' text; above, it is an estimate, too high only by
    documents that hold the form's trigrams apart and never the form (seldom: 衛生福 and 生福利
    in one letter without 衛生福利).
    """
    if dialect != "postgresql" and terms and not filters.any():
        fast = _fts_count(session, terms)
        if fast is not None:
            return fast, True

    def counted(exact: bool) -> int:
        words = _words(terms, dialect, probe=narrow, exact=exact)
        conditions = words + _filter_conditions(filters, dialect)
        return session.scalar(select(func.count()).select_from(DocumentRow).where(and_(*conditions))) or 0

    if dialect != "postgresql":
        return counted(exact=True), True
    if terms and not filters.any() and all(_pg_tokens(f) for t in terms for f in t.forms):
        # the gram index holds every form's tokens: its rows alone are counted
        held = [or_(*(_pg_holds(f, f"c_{n}_{k}") for k, f in enumerate(t.forms))) for n, t in enumerate(terms)]
        total = session.scalar(select(func.count()).select_from(text("document_grams")).where(*held)) or 0
    else:
        total = counted(exact=False)
    if narrow or not _pg_chained(terms):  # probes read the text: exact
        return total, True
    if total <= EXACT_COUNT:
        return counted(exact=True), True
    return total, False


def _newest(
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
        rows = list(session.execute(select(DocumentRow.id, DocumentRow.issue_date).where(and_(*conditions))).tuples())
        rows.sort(key=lambda r: (r[1] is not None, r[1] or datetime.date.min, r[0]), reverse=True)
        return [r[0] for r in rows[:need]]
    stmt = select(DocumentRow.id).where(and_(*conditions)).order_by(*_by_date(dialect, walk)).limit(need)
    return list(session.scalars(stmt))


def _by_date(dialect: str, walk: bool = False) -> tuple[UnaryExpression[Any], ...]:
    """Newest first, undated last, then by id. Only a `walk` lets the date index serve the order:
    otherwise the date is an expression (`+ 0`) so that the planner reads the set and sorts it."""
    if dialect == "postgresql":
        day = DocumentRow.issue_date if walk else literal_column("(documents.issue_date + 0)")
        return day.desc().nulls_last(), DocumentRow.id.desc()
    # SQLite sorts NULL before any value: last when descending
    return (DocumentRow.issue_date if walk else literal_column("+documents.issue_date")).desc(), DocumentRow.id.desc()


def _dated_from(session: Session, window: int, dialect: str) -> ColumnElement[bool] | None:
    """Dated on or after the `window`-th newest dated document: the documents a walk in date order reads
    (None when the archive holds fewer). Undated documents end no window: PostgreSQL sorts NULL
    first when descending, and a window ending at one (6,392 undated documents) walked nothing."""
    oldest = session.scalar(
        select(DocumentRow.issue_date).where(DocumentRow.issue_date.is_not(None))
        .order_by(*_by_date(dialect, walk=True)).offset(window).limit(1)
    )
    return DocumentRow.issue_date >= oldest if oldest is not None else None


def _holding(session: Session, ids: Sequence[int], terms: Sequence[Term]) -> set[int]:
    """Those of `ids` whose text holds a form of every term: each document's own text row, read
    by its key (exact on both databases; cheap for a few hundred documents)."""
    if not ids:
        return set()
    words = [or_(*(_like_any_column(_like(f)) for f in t.forms)) for t in terms]
    return set(session.scalars(select(DocumentText.document_id).where(DocumentText.document_id.in_(list(ids)), *words)))


def _first_holding(session: Session, ids: Sequence[int], terms: Sequence[Term], need: int) -> list[int]:
    """The first `need` of `ids` (in their order) that hold every term, checked a slice at a time,
    each slice four times the last: nearly always the first slice is enough."""
    kept: list[int] = []
    start, size = 0, max(64, 2 * need)
    while start < len(ids) and len(kept) < need:
        part = ids[start : start + size]
        held = _holding(session, part, terms)
        kept += [i for i in part if i in held]
        start, size = start + size, 4 * size
    return kept[:need]


def rank(
    session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str, limit: int
) -> tuple[list[tuple[int, int]], int, bool]:
    """The best `limit` documents holding every term and passing `filters` as (id, score), how many
    match, and whether that number is exact (see `count`).

    Every match is ranked (`_tiers`), the newest by issue date first within a rank: each rank
    is asked in turn for its newest documents until `limit` are found. Neither database can
    tell how many documents hold a substring (SQLite's planner knows nothing of FTS5 sets,
    PostgreSQL's nothing of the bigram arrays), so the plan is chosen here from the count:
    filters that keep few documents (`NARROW`) drive, each document probed for the words;
    when many match (`DENSE`), the newest documents are walked in date order, each probed,
    and a rank found among the newest `WALK` ends there; otherwise, or when the walk ends
    short, the rank's sets are read whole and sorted.
    """
    narrow = _narrow(session, terms, filters, dialect)
    total, exact = count(session, terms, filters, dialect, narrow)
    if total == 0:
        return [], 0, exact
    filtering = _filter_conditions(filters, dialect)
    if not terms:
        # the newest documents walked in date order until `limit` pass, when many do; a few (a body's
        # letters) are read as a set and sorted, where a walk went through thousands of documents
        few = total < DENSE
        return [(i, 0) for i in _newest(session, filtering, limit, dialect, walk=not few, few=few)], total, exact
    # the word conditions probed document by document, for a walk, for the small ranks and
    # when the filters keep few documents
    probing = _words(terms, dialect, probe=True)
    # PostgreSQL: when the count was checked in the text (few candidates), the words' sets are too, so
    # every document ranked holds the words themselves (else hits are checked after, `_exact_hits`)
    checked = exact and not narrow and dialect == "postgresql" and _pg_chained(terms)
    matching = probing if narrow else _words(terms, dialect, exact=checked)
    walk: tuple[ColumnElement[bool], list[tuple[int, ColumnElement[bool]]]] | None = None
    if total >= DENSE and not narrow:
        size = session.scalar(select(func.max(DocumentRow.id))) or 0
        window = min(WALK, max(1000, 8 * limit * size // total))
        recent = _dated_from(session, window, dialect)
        if recent is not None:
            walk = (recent, _tiers(terms, dialect, probe=True))
    found: list[tuple[int, int]] = []
    for k, (score, tier) in enumerate(_tiers(terms, dialect, probe=False)):
        need = limit - len(found)
        if need <= 0:
            break
        if walk is not None and score < _SENDER_WEIGHT:
            recent, probe_tiers = walk
            taken = [DocumentRow.id.not_in([i for i, _ in found])] if found else []
            words = probing if score == 0 else []  # a subject or parties rank holds every word already
            ids = _newest(session, [recent, probe_tiers[k][1], *words, *filtering, *taken], need, dialect, walk=True)
            found += [(i, score) for i in ids]
            need -= len(ids)
            if need <= 0:
                break
        taken = [DocumentRow.id.not_in([i for i, _ in found])] if found else []
        if score >= _SENDER_WEIGHT:
            # a small rank (a 字號's letter, a body's letters: a few thousand at most) is listed newest
            # first, then checked for the words a few documents at a time: planners that cannot size
            # the rank walked the whole archive checking the words in every document (0.7–1 s at
            # 100,000 letters), or read the words' whole set to meet it (0.1–0.4 s)
            listed = _newest(session, [tier, *filtering, *taken], None, dialect, few=True)
            found += [(i, score) for i in _first_holding(session, listed, terms, need)]
            continue
        # a subject or parties rank holds every word already (reading the words' sets as well costs, and adds nothing)
        words = matching if score == 0 else []
        found += [(i, score) for i in _newest(session, [tier, *words, *filtering, *taken], need, dialect, few=total < DENSE)]
    return found, total, exact


@dataclass
class Results:
    """One page of hits, best first, and how many documents match in all (`exact`: False when
    `total` is the index's estimate, see `count`)."""

    hits: list[Hit]
    total: int
    exact: bool = True


def _versions(session: Session, ids: Sequence[int]) -> dict[int, list[int]]:
    """For each of `ids` that is a version of a letter with several, every version's id (the first stored first)."""
    if not ids:
        return {}
    roots: dict[int, int] = dict(session.execute(
        select(DocumentRow.id, func.coalesce(DocumentRow.version_of, DocumentRow.id)).where(DocumentRow.id.in_(list(ids)))
    ).all())
    by_root: dict[int, list[int]] = {}
    # sorted here: with ORDER BY id, SQLite's planner walks the whole table in id order when its
    # statistics say version_of is nearly all NULL (archives with few versions: all of them)
    rows = session.execute(
        select(DocumentRow.id, DocumentRow.version_of).where(DocumentRow.version_of.in_(sorted(set(roots.values()))))
    )
    for doc_id, root in sorted((r[0], r[1]) for r in rows):
        if root is not None:
            by_root.setdefault(root, [root]).append(doc_id)
    return {i: by_root[r] for i, r in roots.items() if r in by_root}


def _repeated_versions(session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str) -> int:
    """How many matches are a second (third…) version of a letter another match already stands for.

    Versions are rare: the documents of letters with several are listed first (by the index on
    `version_of`), then only those are probed for the words, never the archive.
    """
    pairs = session.execute(
        select(DocumentRow.id, DocumentRow.version_of).where(DocumentRow.version_of.is_not(None))
    ).all()
    if not pairs:
        return 0
    ids = sorted({i for pair in pairs for i in pair if i is not None})
    words = _words(terms, dialect, probe=True)
    roots = session.scalars(
        select(func.coalesce(DocumentRow.version_of, DocumentRow.id)).where(
            DocumentRow.id.in_(ids), *words, *_filter_conditions(filters, dialect)
        )
    ).all()
    return len(roots) - len(set(roots))


def _one_per_letter(session: Session, best: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], dict[int, list[int]]]:
    """`best` with each letter once (its best-ranked matching version), and the versions of those that have several."""
    versions = _versions(session, [i for i, _ in best])
    seen: set[int] = set()
    kept: list[tuple[int, int]] = []
    for doc_id, score in best:
        root = versions[doc_id][0] if doc_id in versions else doc_id
        if root not in seen:
            seen.add(root)
            kept.append((doc_id, score))
    return kept, versions


def search(session: Session, query: str, filters: SearchFilters | None = None, limit: int = 20) -> Results:
    """Documents holding every word of `query` and passing `filters`, best first, with snippets.

    Best first, over every match: a whole 字號's own letter, then the letters a named body
    sent, then words in the subject, then in the parties, then anywhere; the newest by
    issue date first among equals. A letter with several versions is one hit (the best-ranked
    version that matches, saying which version is shown) and counted once.
    """
    filters = filters or SearchFilters()
    terms = parse_query(query)
    dialect = session.get_bind().dialect.name
    if not terms and not filters.any():
        return Results([], 0)
    if dialect == "postgresql":
        # the planner does not count the cost of unpacking each document's bigram array (kept
        # out of line, TOAST) when it filters them one by one: a scan of them all takes seconds
        # where the GIN index takes milliseconds; the setting ends with the transaction
        session.execute(text("SET LOCAL enable_seqscan = off"))
    limit = max(1, limit)
    want = limit
    chained = dialect == "postgresql" and _pg_chained(terms)
    while True:
        ranked, total, exact = rank(session, terms, filters, dialect, want)
        # a PostgreSQL hit found by a long form's trigrams is checked in its text
        best = _exact_hits(session, ranked, terms) if chained else ranked
        kept, versions = _one_per_letter(session, best)
        # a page short of versions folded away (or of hits that held a form's trigrams apart) is
        # topped up from further down (rare)
        if len(kept) >= limit or len(ranked) < want:
            break
        # doubled at least: where a long form's pieces are common (digits), most candidates may fail the check
        want = max(want + limit - len(kept), 2 * want if chained else 0)
    best = kept[:limit]
    total -= _repeated_versions(session, terms, filters, dialect)
    scores = dict(best)
    rows = {
        r.id: r
        for r in session.execute(
            select(
                DocumentRow.id,
                DocumentRow.kind,
                DocumentRow.doc_number,
                DocumentRow.issue_date,
                DocumentRow.sender,
                DocumentRow.recipient,
                func.coalesce(DocumentRow.subject, DocumentRow.title).label("subject"),
                DocumentRow.page_first,
                DocumentRow.page_last,
                DocumentRow.form_number,
                DocumentRow.compiler,
            ).where(DocumentRow.id.in_(list(scores)))
        )
    }
    hits = [
        Hit(
            id=r.id,
            kind=r.kind,
            doc_number=r.doc_number,
            issue_date=r.issue_date.isoformat() if r.issue_date else None,
            sender=r.sender,
            recipient=r.recipient,
            subject=r.subject,
            pages=[r.page_first, r.page_last],
            score=scores[r.id],
            form_number=r.form_number,
            compiler=r.compiler,
            versions=len(versions.get(r.id, [r.id])),
        )
        for r in (rows[i] for i, _ in best)
    ]
    if versions:
        from pipeline.show import preferred_version  # only when a hit has versions: show loads pydantic

        for hit in hits:
            if hit.versions > 1:
                shown = preferred_version(session, hit.id)
                hit.shown = shown if shown != hit.id else None
    from pipeline.corrections import apply_to_hits

    apply_to_hits(session, hits)  # a reviewer's subject, sender… instead of what was read
    _add_snippets(session, hits, terms)
    return Results(hits, total, exact)


def _exact_hits(session: Session, ranked: list[tuple[int, int]], terms: Sequence[Term]) -> list[tuple[int, int]]:
    """PostgreSQL: the `ranked` documents that hold a form of every term itself, in their text."""
    if not ranked:
        return ranked
    held = _holding(session, [i for i, _ in ranked], terms)
    return [(i, score) for i, score in ranked if i in held]


# -- snippets -----------------------------------------------------------------


def _spans(printed: str, forms: Sequence[str]) -> list[tuple[int, int]]:
    """Printed (start, end) of every occurrence of any form in `printed`, merged."""
    norm, index = match_form_with_offsets(printed)
    spans: list[tuple[int, int]] = []
    for f in forms:
        start = norm.find(f)
        while start >= 0:
            spans.append((index[start], index[start + len(f) - 1] + 1))
            start = norm.find(f, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def snippet(printed: str, forms: Sequence[str]) -> str:
    """A window of `printed` around its first match, every match inside marked «like this»."""
    spans = _spans(printed, forms)
    if not spans:
        return printed[: _SNIPPET_BEFORE + _SNIPPET_AFTER] + ("…" if len(printed) > _SNIPPET_BEFORE + _SNIPPET_AFTER else "")
    start = max(0, spans[0][0] - _SNIPPET_BEFORE)
    end = min(len(printed), spans[0][1] + _SNIPPET_AFTER)
    out = ["…" if start > 0 else ""]
    pos = start
    for s, e in spans:
        if s >= end:
            break
        s, e = max(s, start), min(e, end)
        out += [printed[pos:s], MARK_OPEN, printed[s:e], MARK_CLOSE]
        pos = e
    out.append(printed[pos:end])
    out.append("…" if end < len(printed) else "")
    return "".join(out)


def _add_snippets(session: Session, hits: list[Hit], terms: Sequence[Term]) -> None:
    if not hits:
        return
    ids = [h.id for h in hits]
    body: dict[int, list[str]] = {i: [] for i in ids}
    for doc_id, item_text in session.execute(
        select(ItemRow.document_id, ItemRow.text)
        .where(ItemRow.document_id.in_(ids))
        .order_by(ItemRow.document_id, ItemRow.section, ItemRow.seq)
    ):
        body[doc_id].append(item_text)
    parties: dict[int, list[str]] = {i: [] for i in ids}
    for doc_id, name in session.execute(
        select(Party.document_id, Party.name).where(Party.document_id.in_(ids)).order_by(Party.id)
    ):
        parties[doc_id].append(name)
    meta: dict[int, list[str]] = {i: [] for i in ids}
    meta_columns = [getattr(DocumentRow, name) for name in _META_COLUMNS]
    for row in session.execute(select(DocumentRow.id, *meta_columns).where(DocumentRow.id.in_(ids))):
        meta[row[0]] = [v for v in row[1:] if v]
    forms = [f for t in terms for f in t.forms]
    for hit in hits:
        fields: list[tuple[str, list[str]]] = [
            ("subject", [hit.subject or ""]),
            ("body", body[hit.id]),
            ("parties", ["、".join(dict.fromkeys(parties[hit.id]))]),
            ("meta", meta[hit.id]),
        ]
        found: list[str] = []
        first: str | None = None
        for name, texts in fields:
            for printed in texts:
                if forms and _spans(printed, forms):
                    if name not in found:
                        found.append(name)
                    if first is None:
                        first = snippet(printed, forms)
        hit.matched = found
        hit.snippet = first if first is not None else snippet(hit.subject or "", forms)
