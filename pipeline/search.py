"""Search the archive in Chinese: the search text, its indexes, and the queries per dialect.

Chinese has no spaces, so the archive finds any substring. Every document's search text
(`document_text`: 主旨, parties, 字號 and other short fields, 說明/辦法) is stored in its
matching form (`match_form`: normalize_for_match — NFKC, 台→臺 and the other official
variants, no whitespace — and lower case), and the query is reduced the same way, so 台中
finds 臺中 and the reverse. The indexes, per dialect:

- SQLite: a trigram index (FTS5 `trigram` tokenizer over `document_text`) answers three
  characters or more exactly; a bigram index (`document_grams`, FTS5 over each document's
  bigrams as tokens) answers two, which trigram indexes cannot.
- PostgreSQL: the bigram index alone (`document_grams`, a GIN-indexed text[]): a query's
  bigrams must all be in a document, then the string itself is checked with LIKE. A
  pg_trgm index over the text as well doubled the cost of storing a letter.
- One character is scanned with LIKE: rare, and still correct.

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
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    TextClause,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from extractors.doc_numbers import normalize_doc_number
from extractors.orgs import canonical_org, gazetteer, normalize_for_match
from schemas.letter import Document
from schemas.orm import DocumentRow, DocumentText, ItemRow, Organisation, Party

__all__ = [
    "ADDRESSEE_ROLES",
    "Hit",
    "SearchFilters",
    "SearchText",
    "Term",
    "match_form",
    "match_form_with_offsets",
    "number_key",
    "parse_query",
    "search",
    "search_rows",
    "search_text",
]

MARK_OPEN, MARK_CLOSE = "«", "»"
ADDRESSEE_ROLES = ("recipient", "cc_main", "cc_copy", "attendee", "observer", "distribution")
# score of a hit: the subject counts most, then the parties; ties go to the newest letter
_SUBJECT_WEIGHT, _PARTIES_WEIGHT = 4, 2
_SNIPPET_BEFORE, _SNIPPET_AFTER = 24, 56
# how many of the most recently archived matching documents are ranked (see `search`), and how
# many of the newest documents PostgreSQL reads before it turns to the bigram index
CANDIDATES = 200
WALK = 2000
# PostgreSQL: filters that keep fewer documents than this are applied first (see `find_candidates`)
DOMAIN = 20000
# printed columns behind `document_text.meta` (see `search_text`), for snippets
_META_COLUMNS = (
    "doc_number", "form_number", "attachments", "signatory", "meeting_place", "chair", "period", "title",
    "contact_unit", "contact_name", "contact_email", "contact_phone", "contact_address",
)


# -- matching form ------------------------------------------------------------


@cache
def _fold(ch: str) -> str:
    """One printed character's matching form: normalize_for_match, lower case, no control characters."""
    out: list[str] = []
    for c in normalize_for_match(ch):
        if unicodedata.category(c) == "Cc":
            continue
        low = c.lower()
        out.append(low if len(low) == 1 else c)
    return "".join(out)


class _FoldTable(dict[int, str]):
    """`str.translate` table that fills itself: each character is folded once per process."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold(chr(code))
        return folded


_FOLD = _FoldTable()


def match_form(text: str | None) -> str:
    """What the indexes hold and what queries are reduced to (never shown to users)."""
    if not text:
        return ""
    return text.translate(_FOLD)


def match_form_with_offsets(text: str) -> tuple[str, list[int]]:
    """`match_form(text)` and, for each of its characters, the index in `text` it came from."""
    chars: list[str] = []
    index: list[int] = []
    for i, c in enumerate(text):
        folded = _fold(c)
        if folded:
            chars.append(folded)
            index.extend([i] * len(folded))
    return "".join(chars), index


def plain(value: str) -> str:
    """`value` without control characters (which PostgreSQL refuses in text, NUL above all)."""
    return "".join(c for c in value if unicodedata.category(c) != "Cc")


def number_key(number: str | None) -> str | None:
    """A 字號's lookup key: no spaces, half-width, 台→臺 (臺內警字 and 台內警字 are one number)."""
    return _number_key(number) if number else None


@lru_cache(maxsize=65536)
def _number_key(number: str) -> str | None:
    return plain(normalize_for_match(normalize_doc_number(number))) or None


# -- what is indexed ----------------------------------------------------------


@dataclass(frozen=True)
class SearchText:
    """The matching form of a document's searchable fields; lines never join two values."""

    subject: str
    parties: str
    meta: str
    body: str


def _lines(values: Iterable[str | None]) -> str:
    seen = dict.fromkeys(v for v in (match_form(x) for x in values) if v)
    return "\n".join(seen)


def item_texts(items: Sequence[Any] | None) -> Iterable[str]:
    """Texts of a 說明/辦法 tree, read top to bottom."""
    for item in items or ():
        yield item.text
        yield from item_texts(item.children)


def party_names(doc: Document) -> list[tuple[str, str]]:
    """(role, printed name) of every party, in the order the letter prints them."""
    out: list[tuple[str, str]] = []
    for role, value in (("sender", doc.sender), ("recipient", doc.recipient)):
        if value:
            out.append((role, value))
    for role, values in (
        ("attendee", doc.attendees),
        ("observer", doc.observers),
        ("cc_main", doc.cc_main),
        ("cc_copy", doc.cc_copy),
    ):
        out.extend((role, v) for v in values or () if v)
    if doc.compiler:
        out.append(("compiler", doc.compiler))
    out.extend(("distribution", v) for v in doc.distribution or () if v)
    return out


def search_text(doc: Document, canonical: dict[str, str | None] | None = None) -> SearchText:
    """A document's search text; `canonical` maps printed party names to gazetteer names.

    A party's canonical name is indexed beside the printed one, so the full name finds a
    letter that printed only an alias.
    """
    names = [name for _, name in party_names(doc)]
    canon = canonical if canonical is not None else {n: canonical_org(n) for n in names}
    parties = _lines([*names, *(canon.get(n) for n in names)])
    contact = doc.contact
    meta = _lines(
        [
            doc.doc_number,
            doc.form_number,
            doc.attachments,
            doc.signatory,
            doc.meeting_place,
            doc.chair,
            doc.period,
            doc.title if doc.subject else None,
            *(
                (contact.unit, contact.name, contact.email, contact.phone, contact.address)
                if contact
                else ()
            ),
        ]
    )
    body = _lines([*item_texts(doc.explanation), *item_texts(doc.measures), *item_texts(doc.notes)])
    return SearchText(match_form(doc.subject or doc.title), parties, meta, body)


def indexed(gram: str) -> bool:
    """Bigrams of letters and digits are indexed; one with punctuation or a symbol is left to LIKE
    (a sixth of all bigrams, seldom searched for)."""
    return gram[0].isalnum() and gram[1].isalnum()


def bigrams(texts: Iterable[str]) -> list[str]:
    """Distinct indexed two-character substrings of each line of each text (never across lines)."""
    out: set[str] = set()
    for t in texts:
        for line in t.split("\n"):
            out.update(map(str.__add__, line, line[1:]))
    return [g for g in out if indexed(g)]


def search_rows(document_id: int, search: SearchText, dialect: str) -> dict[str, dict[str, Any]]:
    """The rows that make a document findable: its search text and its bigrams, per table.

    SQLite's trigram index (FTS5 over `document_text`) is kept in step by triggers; the
    bigram index is fed here because its tokens are computed in Python: in SQLite an FTS5
    row of bigrams as tokens, in PostgreSQL a text[] under a GIN index (written as one string).
    """
    # space-separated: bigrams hold no whitespace (PostgreSQL splits the string into its text[])
    pairs = " ".join(bigrams((search.subject, search.parties, search.meta, search.body)))
    key = "document_id" if dialect == "postgresql" else "rowid"
    return {"document_text": {"document_id": document_id, **asdict(search)}, "document_grams": {key: document_id, "grams": pairs}}


# -- queries ------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word of the query: a document matches when it holds any of `forms` (matching forms)."""

    word: str
    forms: tuple[str, ...]


def _organisation_forms(canonical: str) -> list[str]:
    g = gazetteer()
    return g.forms(canonical) if g.get(canonical) is not None else [canonical]


def parse_query(query: str) -> list[Term]:
    """Words of `query` (split on whitespace) with the other names of any body they name.

    Forms that contain a shorter form of the same word are dropped: they match nothing more.
    """
    terms: list[Term] = []
    for word in query.split():
        key = match_form(word)
        if not key:
            continue
        forms = {key}
        canonical = canonical_org(word)
        if canonical:
            forms.update(f for f in (match_form(x) for x in _organisation_forms(canonical)) if f)
        minimal = sorted(
            (f for f in forms if not any(g != f and g in f for g in forms)),
            key=lambda f: (len(f), f),
        )
        terms.append(Term(word, tuple(minimal)))
    return terms


@dataclass
class SearchFilters:
    """What narrows a search besides its words (all optional)."""

    sender: str | None = None
    recipient: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    speed: str | None = None
    number: str | None = None
    kind: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in asdict(self).values())


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
    snippet: str = ""
    matched: list[str] = field(default_factory=list)  # where the words were found: subject, parties…

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _like(form: str) -> str:
    escaped = form.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(form: str) -> str:
    return '"' + form.replace('"', '""') + '"'


def _text_all_pg() -> ColumnElement[str]:
    """All the search text of a document in one string (columns apart: queries hold no spaces)."""
    sep: ColumnElement[str] = literal_column("' '")
    return (
        DocumentText.subject.op("||")(sep).op("||")(DocumentText.parties).op("||")(sep)
        .op("||")(DocumentText.meta).op("||")(sep).op("||")(DocumentText.body)
    )


def _like_any_column(pattern: str) -> ColumnElement[bool]:
    columns = (DocumentText.subject, DocumentText.parties, DocumentText.meta, DocumentText.body)
    return or_(*(col.like(pattern, escape="\\") for col in columns))


def _term_condition(n: int, term: Term, dialect: str) -> ColumnElement[bool]:
    """Documents (by `DocumentRow.id`) holding any form of `term`.

    SQLite: through the trigram and bigram indexes. PostgreSQL: the text checked with
    LIKE, on the rows that `_pg_grams` (the bigram index) or the walk over the newest
    documents bring.
    """
    doc_id = DocumentRow.id
    parts: list[ColumnElement[bool]] = []
    if dialect == "postgresql":  # the text itself, on the joined row (bigrams narrow it first)
        return or_(*(_text_all_pg().like(_like(f), escape="\\") for f in term.forms))
    long_forms = [f for f in term.forms if len(f) >= 3]
    pairs = [f for f in term.forms if len(f) == 2 and indexed(f)]
    singles = [f for f in term.forms if _by_like(f)]
    if long_forms:
        match = " OR ".join(_fts_phrase(f) for f in long_forms)
        fts: Select[Any] = select(literal_column("rowid")).select_from(text("document_fts")).where(
            text(f"document_fts MATCH :fts_{n}").bindparams(**{f"fts_{n}": match})
        )
        parts.append(doc_id.in_(fts))
    if pairs:
        match = " OR ".join(_fts_phrase(f) for f in pairs)
        tokens: Select[Any] = select(literal_column("rowid")).select_from(text("document_grams")).where(
            text(f"document_grams MATCH :grams_{n}").bindparams(**{f"grams_{n}": match})
        )
        parts.append(doc_id.in_(tokens))
    for f in singles:  # on the joined document_text row (see `find_candidates`)
        parts.append(_like_any_column(_like(f)))
    return or_(*parts) if parts else false()


def _by_like(form: str) -> bool:
    """SQLite: forms no index answers (one character; two with punctuation), checked with LIKE."""
    return len(form) == 1 or (len(form) == 2 and not indexed(form))


def _fts_column(column: str, forms: Sequence[str], name: str) -> Select[Any]:
    """SQLite: documents whose `column` holds any of `forms` (three characters or more), by the trigram index."""
    match = "{" + column + "}: (" + " OR ".join(_fts_phrase(f) for f in forms) + ")"
    return select(literal_column("rowid")).select_from(text("document_fts")).where(
        text(f"document_fts MATCH :{name}").bindparams(**{name: match})
    )


def _party_condition(value: str, roles: Sequence[str], dialect: str, name: str) -> ColumnElement[bool]:
    """Documents with a party in `roles` whose name holds `value`, or that is the body `value` names.

    The parties' names and their organisations' names are in the search text too: SQLite
    narrows to the documents whose parties column holds them before reading party rows
    (PostgreSQL has a trigram index on the names).
    """
    key = match_form(value)
    name_hit: ColumnElement[bool] = Party.name_key.like(_like(key), escape="\\")
    canonical = canonical_org(value)
    if canonical:
        org_ids = select(Organisation.id).where(Organisation.name == canonical)
        name_hit = or_(name_hit, Party.organisation_id.in_(org_ids))
    parties = select(Party.document_id).where(Party.role.in_(list(roles)), name_hit)
    forms = [key, match_form(canonical)] if canonical else [key]
    if dialect != "postgresql" and all(len(f) >= 3 for f in forms):
        parties = parties.where(Party.document_id.in_(_fts_column("parties", forms, name)))
    return DocumentRow.id.in_(parties)


def _filter_conditions(filters: SearchFilters, dialect: str) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.sender and match_form(filters.sender):
        out.append(_party_condition(filters.sender, ("sender",), dialect, "sender"))
    if filters.recipient and match_form(filters.recipient):
        out.append(_party_condition(filters.recipient, ADDRESSEE_ROLES, dialect, "recipient"))
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
                out.append(DocumentRow.id.in_(_fts_column("meta", [match_form(filters.number)], "number")))
    return out


def _order(terms: Sequence[Term], dialect: str) -> list[ColumnElement[Any]]:
    if terms:  # most recently archived first: every index gives ids in order
        return [DocumentRow.id.desc()]
    if dialect == "postgresql":  # ix_documents_recent
        return [DocumentRow.issue_date.desc().nulls_last(), DocumentRow.id.desc()]
    return [DocumentRow.issue_date.desc(), DocumentRow.id.desc()]  # backwards on ix_documents_issue_date_id


def _pg_grams(terms: Sequence[Term]) -> TextClause | None:
    """Bigram-index condition on document_grams for the words of two characters or more."""
    clauses: list[str] = []
    params: dict[str, list[str]] = {}
    for n, term in enumerate(terms):
        alternatives = []
        for k, form in enumerate(term.forms):
            pairs = bigrams([form])
            if not pairs:  # one character, or punctuation: no bigram to narrow with
                break
            params[f"g_{n}_{k}"] = pairs
            alternatives.append(f"grams @> CAST(:g_{n}_{k} AS text[])")
        else:
            clauses.append("(" + " OR ".join(alternatives) + ")")
    if not clauses:
        return None
    return text(" AND ".join(clauses)).bindparams(**params)


def find_candidates(
    session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str, pool: int
) -> list[tuple[int, datetime.date | None]]:
    """(id, issue date) of up to `pool` documents holding every term and passing `filters`.

    With words: the most recently archived first (by id, which every index gives in
    order), so that a word found in most letters stops after `pool` of them instead of
    ranking them all. Filters alone: the newest by issue date.

    PostgreSQL cannot estimate how many documents hold a substring, so it is not left to
    choose: narrow filters are applied first and the text of what they keep is read;
    otherwise the newest `WALK` documents are read (enough for any common word), then the
    bigram index brings the older candidates of a rarer word.
    """
    conditions = [_term_condition(n, t, dialect) for n, t in enumerate(terms)] + _filter_conditions(filters, dialect)
    stmt = select(DocumentRow.id, DocumentRow.issue_date)
    needs_text = dialect == "postgresql" or any(_by_like(f) for t in terms for f in t.forms)
    if needs_text:
        stmt = stmt.join(DocumentText, DocumentText.document_id == DocumentRow.id)
    stmt = stmt.where(and_(*conditions)).order_by(*_order(terms, dialect))
    if dialect != "postgresql" or not terms:
        return [(i, d) for i, d in session.execute(stmt.limit(pool))]
    found: list[tuple[int, datetime.date | None]] = []

    def more(where: ColumnElement[bool]) -> None:
        found.extend((i, d) for i, d in session.execute(stmt.where(where).limit(pool - len(found))))

    def among(ids: list[int]) -> None:  # the text of these documents, newest first, a chunk at a time
        for start in range(0, len(ids), 1000):
            chunk = text("document_text.document_id = ANY(CAST(:chunk AS integer[]))").bindparams(
                chunk=ids[start : start + 1000]
            )
            more(chunk)  # type: ignore[arg-type]
            if len(found) >= pool:
                return

    if filters.any():  # narrow filters (dates, a sender): read the text of the documents they keep
        kept = list(
            session.scalars(
                select(DocumentRow.id)
                .where(and_(*_filter_conditions(filters, dialect)))
                .order_by(DocumentRow.id.desc())
                .limit(DOMAIN)
            )
        )
        if len(kept) < DOMAIN:
            among(kept)
            return found
    top = session.scalar(select(func.max(DocumentRow.id))) or 0
    more(DocumentText.document_id > top - WALK)  # a common word ends here
    grams = _pg_grams(terms)
    if grams is None:  # one-character words: walk on, a slice at a time
        floor = top - WALK
        while len(found) < pool and floor > 0:
            more(and_(DocumentText.document_id <= floor, DocumentText.document_id > floor - 10 * WALK))
            floor -= 10 * WALK
        return found
    if len(found) < pool:
        # the candidates on their own first: joined, PostgreSQL would start from a LIKE it
        # believes rare and read every document
        older = sorted(
            session.scalars(
                select(literal_column("document_id", Integer))
                .select_from(text("document_grams"))
                .where(grams, literal_column("document_id") <= top - WALK)
            ),
            reverse=True,
        )
        among(older)
    return found


def _header_scores(session: Session, ids: list[int], terms: Sequence[Term]) -> dict[int, int]:
    """Score of each candidate: per word, 4 when it is in the subject, else 2 when in the parties."""
    scores = dict.fromkeys(ids, 0)
    rows = session.execute(
        select(DocumentText.document_id, DocumentText.subject, DocumentText.parties).where(
            DocumentText.document_id.in_(ids)
        )
    )
    for doc_id, subject, parties in rows:
        for term in terms:
            if any(f in subject for f in term.forms):
                scores[doc_id] += _SUBJECT_WEIGHT
            elif any(f in parties for f in term.forms):
                scores[doc_id] += _PARTIES_WEIGHT
    return scores


def search(session: Session, query: str, filters: SearchFilters | None = None, limit: int = 20) -> list[Hit]:
    """Documents holding every word of `query` and passing `filters`, best first, with snippets.

    Best first: words in the subject, then in the parties, then anywhere; the newest by
    issue date first among equals. When more than `CANDIDATES` documents (or ten times
    `limit`) match, the ranking is over the most recently archived of them: that bounds
    the time a word found in most letters can take.
    """
    filters = filters or SearchFilters()
    terms = parse_query(query)
    dialect = session.get_bind().dialect.name
    if not terms and not filters.any():
        return []
    limit = max(1, limit)
    pool = max(CANDIDATES, 10 * limit) if terms else limit
    found = find_candidates(session, terms, filters, dialect, pool)
    ids = [doc_id for doc_id, _ in found]
    scores = _header_scores(session, ids, terms) if terms and ids else dict.fromkeys(ids, 0)
    newest = {doc_id: (-(day.toordinal() if day else 0), -doc_id) for doc_id, day in found}
    best = sorted(ids, key=lambda i: (-scores[i], newest[i]))[:limit]
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
            ).where(DocumentRow.id.in_(best))
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
        )
        for r in (rows[i] for i in best)
    ]
    _add_snippets(session, hits, terms)
    return hits


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
