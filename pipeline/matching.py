"""Matching forms and what is indexed: how printed text, 字號 and query words are reduced so that
search, routing and the archive's keys compare them alike.

Chinese has no spaces, so the archive finds any substring. Every document's search text
(`document_text`: 主旨, parties, 字號 and other short fields, 說明/辦法) is stored in its
matching form (`match_form`: normalize_for_match — NFKC, 台→臺 and the other official
variants, no whitespace — and lower case), and a query is reduced the same way, so 台中
finds 臺中 and the reverse; a routing rule compares the same forms, so it finds what a search
finds. A word that names a body of the gazetteer (醫策會, 衛福部) stands for every name of that
body (`parse_query`). The index tokens of a document (`grams`) and the tokens a query needs
(`query_grams`) are defined here together, so the two cannot disagree.

Light on purpose (no SQLAlchemy): the store, routing, `show` and `search` all import it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from extractors.doc_numbers import find_doc_numbers, normalize_doc_number
from extractors.orgs import canonical_org, fold_with_offsets, gazetteer, normalize_for_match

if TYPE_CHECKING:
    from schemas.letter import Document


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
    return fold_with_offsets(text, _fold)


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
    notices = [t for n in doc.notices or () for t in (n.subject, *item_texts(n.explanation), *item_texts(n.measures))]
    body = _lines(
        [*item_texts(doc.explanation), *item_texts(doc.measures), *item_texts(doc.notes), *notices, doc.text]
    )
    return SearchText(match_form(doc.subject or doc.title), parties, meta, body)


def indexed(gram: str) -> bool:
    """Letters and digits, and runs of them, are index tokens; a run with punctuation or a symbol
    is left to LIKE (a sixth of all bigrams, seldom searched for)."""
    return all(ch.isalnum() for ch in gram)


# the longest index tokens per dialect: SQLite finds three characters and more through its FTS5
# trigram index over the text, so its gram index needs one and two; PostgreSQL has the gram
# index alone, so it holds trigrams too (a form of three is found exactly, a longer one by its
# trigrams, see `query_grams`)
LONGEST_GRAM = {"sqlite": 2, "postgresql": 3}


def ngrams(texts: Iterable[str], n: int) -> list[str]:
    """Distinct indexed `n`-character substrings of each line of each text (never across lines)."""
    out: set[str] = set()
    for t in texts:
        for line in t.split("\n"):
            if n == 2:  # the common case, at ingest: the quickest way Python has
                out.update(map(str.__add__, line, line[1:]))
            else:
                out.update(line[i : i + n] for i in range(len(line) - n + 1))
    return [g for g in out if indexed(g)]


def grams(texts: Iterable[str], longest: int = 2) -> list[str]:
    """The index tokens of `texts`: every indexed character and every indexed substring of up to
    `longest` characters (within a line), once each."""
    texts = list(texts)
    return [*{ch for t in texts for ch in t if ch.isalnum()}, *(g for n in range(2, longest + 1) for g in ngrams(texts, n))]


def answered_by_grams(form: str, longest: int = 2) -> bool:
    """Whether the gram index alone finds `form` exactly: no longer than its longest tokens, all indexed."""
    return 0 < len(form) <= longest and indexed(form)


def query_grams(form: str, longest: int = 2) -> list[str]:
    """The tokens a document holding `form` must hold: the form itself when short, else its pieces of
    `longest` characters (a superset of the documents that hold it: each piece is in the document, not
    necessarily next to the others); [] when a piece is not indexed."""
    if answered_by_grams(form, longest):
        return [form]
    pieces = list(dict.fromkeys(form[i : i + longest] for i in range(len(form) - longest + 1)))
    return pieces if pieces and all(indexed(p) for p in pieces) else []


def search_rows(document_id: int, search: SearchText, dialect: str) -> dict[str, dict[str, Any]]:
    """The rows that make a document findable: its search text and its index tokens, per table.

    SQLite's trigram index (FTS5 over `document_text`) is kept in step by triggers; the
    gram index is fed here because its tokens are computed in Python: in SQLite an FTS5 row
    with the subject's, the parties' and the rest's tokens as its columns; in PostgreSQL
    text[] columns under GIN indexes, all the tokens and the subject's and the parties' apart,
    trigrams included (`LONGEST_GRAM`; each written as one space-separated string: tokens hold
    no whitespace).
    """
    longest = LONGEST_GRAM.get(dialect, 2)
    subject, parties = grams([search.subject], longest), grams([search.parties], longest)
    rest = grams([search.meta, search.body], longest)
    if dialect == "postgresql":
        every = set(subject) | set(parties) | set(rest)
        tokens = {"document_id": document_id, "grams": " ".join(every),
                  "subject_grams": " ".join(subject), "parties_grams": " ".join(parties)}
    else:
        tokens = {"rowid": document_id, "subject": " ".join(subject), "parties": " ".join(parties), "rest": " ".join(rest)}
    return {"document_text": {"document_id": document_id, **asdict(search)}, "document_grams": tokens}



# -- query words --------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One word of the query: a document matches when it holds any of `forms` (matching forms).

    `number` is the 字號 key when the word is a whole 字號 (that letter ranks first);
    `names` are the matching forms of every name of the body the word names (its letters
    rank before the letters that mention it).
    """

    word: str
    forms: tuple[str, ...]
    number: str | None = None
    names: tuple[str, ...] = ()


def _organisation_forms(canonical: str) -> list[str]:
    g = gazetteer()
    return g.forms(canonical) if g.get(canonical) is not None else [canonical]


def body_names(canonical: str) -> list[str]:
    """Matching forms of every name of a body (full name, aliases, derived forms), full name first."""
    return list(dict.fromkeys(f for f in map(match_form, [canonical, *_organisation_forms(canonical)]) if f))


def _words(query: str) -> list[tuple[str, str | None]]:
    """(word, 字號 key) for each word of `query`: a 字號 is one word however it is spaced."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for mention in find_doc_numbers(query):
        if mention.elliptical or mention.start < pos:
            continue
        out.extend((w, None) for w in query[pos : mention.start].split())
        out.append((mention.text, number_key(mention.normalized)))
        pos = mention.end
    out.extend((w, None) for w in query[pos:].split())
    return out


def parse_query(query: str) -> list[Term]:
    """Words of `query` (split on whitespace; a 字號 is one word) with the other names of any body they name.

    Forms that contain a shorter form of the same word are dropped: they match nothing more.
    """
    terms: list[Term] = []
    for word, number in _words(query):
        key = match_form(word)
        if not key:
            continue
        forms = {key}
        names: tuple[str, ...] = ()
        canonical = None if number else canonical_org(word)
        if canonical:
            names = tuple(body_names(canonical))
            forms.update(names)
        minimal = sorted(
            (f for f in forms if not any(g != f and g in f for g in forms)),
            key=lambda f: (len(f), f),
        )
        terms.append(Term(word, tuple(minimal), number, names or (key,)))
    return terms
