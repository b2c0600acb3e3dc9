"""Search the archive in Chinese: the ranking, the hits and their snippets (the conditions put to each
database are `pipeline.search_sql`, shared with the counts beside a search, `pipeline.facets`).

Documents and queries are compared in their matching forms (`pipeline.matching`: 台中 finds 臺中
and the reverse), through the indexes of each document's search text, per dialect:

- SQLite: a trigram index (FTS5 `trigram` tokenizer over `document_text`) answers three
  characters or more exactly; a bigram index (`document_grams`, FTS5 over each document's
  bigrams as tokens) answers two, which trigram indexes cannot.
- PostgreSQL: the gram index alone (`document_grams`, GIN-indexed text[] of every character,
  bigram and trigram): a form of up to three characters is answered exactly; a longer one by
  its trigrams, all held (`search_sql._pg_tokens`): nearly always the form itself, but a document holding
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

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, text, true
from sqlalchemy.orm import Session

from pipeline.matching import Term, match_form_with_offsets, parse_query
from pipeline.search_sql import (
    ADDRESSEE_ROLES,
    SearchFilters,
    agencies,
    count,
    dated_from,
    filter_conditions,
    first_holding,
    holding,
    in_column,
    narrowed,
    newest,
    pg_chained,
    pg_words,
    sent_by,
    text_conditions,
    within,
    word_conditions,
)
from schemas.orm import DocumentRow, ItemRow, Party

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
# score of a hit, its rank (see `_tiers`): the letter a whole 字號 names, the letters of the body
# a word names, every word in the subject, in the subject or the parties, anywhere
_NUMBER_WEIGHT, _SENDER_WEIGHT, _SUBJECT_WEIGHT, _PARTIES_WEIGHT = 16, 8, 4, 2
# SQLite (see `rank`): from this many matches on, the newest documents are walked in date order,
# at most WALK of them
DENSE = 5000
WALK = 3000
_SNIPPET_BEFORE, _SNIPPET_AFTER = 24, 56
# printed columns behind `document_text.meta` (see `search_text`), for snippets
_META_COLUMNS = (
    "doc_number", "form_number", "attachments", "signatory", "meeting_place", "chair", "period", "title",
    "contact_unit", "contact_name", "contact_email", "contact_phone", "contact_address",
)



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
        tiers.append((_SENDER_WEIGHT, sent_by(named, dialect)))
    if dialect == "postgresql" and not probe:
        tiers.append((_SUBJECT_WEIGHT, pg_words(terms, ("subject_grams",), "s", check=True)))
        tiers.append((_PARTIES_WEIGHT, pg_words(terms, ("subject_grams", "parties_grams"), "p", check=True)))
    else:
        subject = [in_column(n, t, "subject", probe) for n, t in enumerate(terms)]
        tiers.append((_SUBJECT_WEIGHT, and_(*subject)))
        header = [or_(s, in_column(n, t, "parties", probe)) for (n, t), s in zip(enumerate(terms), subject, strict=True)]
        tiers.append((_PARTIES_WEIGHT, and_(*header)))
    tiers.append((0, true()))
    return tiers


def rank(
    session: Session, terms: Sequence[Term], filters: SearchFilters, dialect: str, limit: int
) -> tuple[list[tuple[int, int]], int, bool]:
    """The best `limit` documents holding every term and passing `filters` as (id, score), how many
    match, and whether that number is exact (see `count`).

    Every match is ranked (`_tiers`), the newest by issue date first within a rank: each rank
    is asked in turn for its newest documents until `limit` are found. Neither database can
    tell how many documents hold a substring (SQLite's planner knows nothing of FTS5 sets,
    PostgreSQL's nothing of the bigram arrays), so the plan is chosen here from the count:
    filters that keep few documents (`narrowed`) drive, each document checked in its text;
    when many match (`DENSE`), the newest documents are walked in date order, each probed,
    and a rank found among the newest `WALK` ends there; otherwise, or when the walk ends
    short, the rank's sets are read whole and sorted.
    """
    narrow = narrowed(session, terms, filters, dialect)
    total, exact = count(session, terms, filters, dialect, narrow)
    if total == 0:
        return [], 0, exact
    filtering = filter_conditions(filters, dialect) if narrow is None else [within(narrow, dialect)]
    if not terms:
        # the newest documents walked in date order until `limit` pass, when many do; a few (a body's
        # letters) are read as a set and sorted, where a walk went through thousands of documents
        few = total < DENSE
        return [(i, 0) for i in newest(session, filtering, limit, dialect, walk=not few, few=few)], total, exact
    # the word conditions probed document by document, for a walk and for the small ranks; when the
    # filters keep few documents, each of those is checked in its text, every rank too
    probing = word_conditions(terms, dialect, probe=True) if narrow is None else text_conditions(terms)
    # PostgreSQL: when the count was checked in the text (few candidates), the words' sets are too, so
    # every document ranked holds the words themselves (else hits are checked after, `_exact_hits`)
    checked = exact and narrow is None and dialect == "postgresql" and pg_chained(terms)
    matching = probing if narrow is not None else word_conditions(terms, dialect, exact=checked)
    walk: tuple[ColumnElement[bool], list[tuple[int, ColumnElement[bool]]]] | None = None
    if total >= DENSE and narrow is None:
        size = session.scalar(select(func.max(DocumentRow.id))) or 0
        window = min(WALK, max(1000, 8 * limit * size // total))
        recent = dated_from(session, window, dialect)
        if recent is not None:
            walk = (recent, _tiers(terms, dialect, probe=True))
    found: list[tuple[int, int]] = []
    for k, (score, tier) in enumerate(_tiers(terms, dialect, probe=narrow is not None)):
        need = limit - len(found)
        if need <= 0:
            break
        if walk is not None and score < _SENDER_WEIGHT:
            recent, probe_tiers = walk
            taken = [DocumentRow.id.not_in([i for i, _ in found])] if found else []
            words = probing if score == 0 else []  # a subject or parties rank holds every word already
            ids = newest(session, [recent, probe_tiers[k][1], *words, *filtering, *taken], need, dialect, walk=True)
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
            listed = newest(session, [tier, *filtering, *taken], None, dialect, few=True)
            found += [(i, score) for i in first_holding(session, listed, terms, need)]
            continue
        # a subject or parties rank holds every word already (reading the words' sets as well costs, and adds nothing)
        words = matching if score == 0 else []
        found += [(i, score) for i in newest(session, [tier, *words, *filtering, *taken], need, dialect, few=total < DENSE)]
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
    words = word_conditions(terms, dialect, probe=True)
    roots = session.scalars(
        select(func.coalesce(DocumentRow.version_of, DocumentRow.id)).where(
            DocumentRow.id.in_(ids), *words, *filter_conditions(filters, dialect)
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
    chained = dialect == "postgresql" and pg_chained(terms)
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
    held = holding(session, [i for i, _ in ranked], terms)
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
