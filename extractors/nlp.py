"""A spaCy `zh` pipeline built entirely from the repository: nothing is downloaded at run time.

`spacy.blank("zh")` needs no model or segmenter package, so the pipeline works offline and
on any machine. Its tokenizer is replaced by one token per printed character, whitespace and
format characters riding on the character before them, and each token's NORM is its matching
form (`extractors.orgs.normalize_for_match`: 台→臺, 啓→啟, full width → ASCII, spaces gone).

Organisations are found here and nowhere else: a `span_ruler` holds every matching form of
every body in the gazetteer (id: the canonical name) and the ordinary units of local
governments, and matches on NORM, so 台/臺 variants and OCR spaces inside a name
(`臺中市政府 衛生局`) need no pattern of their own. Its filter keeps the leftmost-longest
bodies, drops a short alias glued to the next word (工程會議) and joins a local government to
the unit that follows it (臺北市政府 + 社會局). The parties of a letter are split on these
entities (`extractors.parties`).

Token-level rules are awkward on single characters, so the pattern entities (字號, dates,
phones, e-mail, URLs) are found by regexes over the text and mapped onto tokens with
`doc.char_span(..., alignment_mode="expand")` in one registered component, which resolves
overlaps with the organisations to the longest span.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from extractors.doc_numbers import find_doc_numbers
from extractors.orgs import _norm_char, gazetteer, normalize_for_match

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span
    from spacy.vocab import Vocab

__all__ = ["LABELS", "Entity", "build_nlp", "entities", "organisations", "pattern_entities"]

LABELS = ("ORG", "DOC_NUMBER", "DATE", "PHONE", "EMAIL", "URL")
COMPONENT = "gongwen_patterns"

_DIGITS = "0-9０-９"
_D = f"[{_DIGITS}]"
_HAN_NUM = "〇○零一二三四五六七八九十百"
# Dates, simple forms only (the full parser is extractors/dates.py). A match never starts
# inside a longer number: `12/06/08` is not taken out of `112/06/08`.
_DATE = re.compile(
    "|".join(
        [
            # 中華民國112年5月30日, 112年5月, 2023年5月30日
            rf"(?:(?:中華)?民國\s*)?(?<!{_D}){_D}{{2,4}}\s*年\s*{_D}{{1,2}}\s*月(?:\s*{_D}{{1,2}}\s*日)?",
            # 民國一一二年五月三十日, 一百十二年五月三十日
            rf"(?:(?:中華)?民國\s*)?[{_HAN_NUM}]{{2,6}}年[{_HAN_NUM}]{{1,3}}月[{_HAN_NUM}]{{1,3}}日",
            # 6月30日 (year left out)
            rf"(?<![{_DIGITS}年]){_D}{{1,2}}\s*月\s*{_D}{{1,2}}\s*日",
            # 112/06/01, 111. 1. 25, 2022/01/19
            rf"(?<![{_DIGITS}./／]){_D}{{2,4}}\s*(?P<sep>[/／.])\s*{_D}{{1,2}}\s*(?P=sep)\s*{_D}{{1,2}}(?![0-9０-９]|[./／][0-9])",
            # 2023-05-30
            rf"(?<![0-9-]){_D}{{4}}-{_D}{{1,2}}-{_D}{{1,2}}(?![0-9]|-[0-9])",
        ]
    )
)
# Taiwanese phone numbers as printed: 02-8964-3000#3069, (02)2752-7286-153, 04-25265394#3232,
# 0800-364422, 0912-345-678, +886-2-2752-7286; an extension stays part of the number.
_PHONE = re.compile(
    r"(?<![0-9A-Za-z０-９])"
    r"(?:\+?886[ \t]?-?[ \t]?[(（]?0?[2-9][0-9]{0,2}[)）]?|[(（]0[2-9][0-9]{0,2}[)）]|0[2-9][0-9]{0,2})"
    r"[ \t]?[-‐－]?[ \t]?"
    r"[0-9]{3,4}[ \t]?[-‐－]?[ \t]?[0-9]{3,4}"
    r"(?:[-‐－][0-9]{1,5}(?![-‐－]?[0-9])|[ \t]*(?:[#＃]|轉|分機|[Ee][Xx][Tt]\.?)[ \t]*[0-9]{1,6})?"
    r"(?![0-9])"
)
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'\u3000-\u303f\uff00-\uffef\u3400-\u9fff]+", re.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class Entity:
    """One entity: `text == source[start:end]`; `canonical` is the ORG full name or the
    normalised 字號 (None for the other labels)."""

    label: str
    text: str
    start: int
    end: int
    canonical: str | None = None


def pattern_entities(text: str) -> Iterator[Entity]:
    """Regex entities of `text` (no organisations), overlapping freely (the pipeline resolves overlaps)."""
    for d in find_doc_numbers(text):
        yield Entity("DOC_NUMBER", d.text, d.start, d.end, d.normalized)
    for m in _DATE.finditer(text):
        yield Entity("DATE", m.group(), m.start(), m.end())
    for m in _PHONE.finditer(text):
        yield Entity("PHONE", m.group(), m.start(), m.end())
    for m in EMAIL.finditer(text):
        yield Entity("EMAIL", m.group(), m.start(), m.end())
    for m in _URL.finditer(text):
        url = m.group().rstrip(_URL_TRAILING)
        if len(url) > len("www."):
            yield Entity("URL", url, m.start(), m.start() + len(url))


EXTENSION = "gongwen_entities"
RULER = "gazetteer_ruler"


class CharTokenizer:
    """One token per printed character; whitespace and format characters (norm empty) join the
    token before them, so a phrase pattern in matching form spans OCR spaces inside a name."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        from spacy.tokens import Doc

        words: list[str] = []
        for c in text:
            if words and not _norm_char(c):
                words[-1] += c
            else:
                words.append(c)
        return Doc(self.vocab, words=words, spaces=[False] * len(words))


def _printed_end(span: Span) -> int:
    """End offset of `span` without the whitespace its last token carries (`公會\t\n` → `公會`)."""
    return span[-1].idx + 1 if len(span) else span.start_char


def leftmost_longest_orgs(entities: Iterable[Span], spans: Iterable[Span]) -> list[Span]:
    """The ruler's filter: from left to right, the longest body starting at each token, read as the
    gazetteer reads a name: a short alias glued to the next word (工程會議) is not the body, and a local
    government followed by one of its ordinary units (臺北市政府社會局) is that unit. `entities` (the
    ents set before the ruler) are replaced."""
    from spacy.tokens import Span

    g = gazetteer()
    units: dict[int, Span] = {}  # the longest unit starting at a token
    starting: dict[int, list[Span]] = {}
    for sp in spans:
        if sp.label_ == "ORG":
            starting.setdefault(sp.start, []).append(sp)
        elif sp.start not in units or len(sp) > len(units[sp.start]):
            units[sp.start] = sp
    kept: list[Span] = []
    free = 0
    for start in sorted(starting):
        if start < free:
            continue
        for sp in sorted(starting[start], key=len, reverse=True):
            doc = sp.doc
            following = doc[sp.end].norm_ if sp.end < len(doc) else ""
            if g.glued_to_next("".join(t.norm_ for t in sp), following):
                continue
            unit = units.get(sp.end)
            if unit is not None and g.is_local_government(sp.id_):
                sp = Span(doc, sp.start, unit.end, label="ORG", span_id=sp.id_ + unit.id_)
            kept.append(sp)
            free = sp.end
            break
    return kept


def _merge_patterns(doc: Doc) -> Doc:
    """DOC_NUMBER, DATE, PHONE, EMAIL and URL spans merged with the ruler's ORG spans into `doc.ents`.

    Overlaps go to the longest span (the ruler's on a tie). The `Entity` list keeps each entity's
    printed extent: a regex match's own offsets, a body without the whitespace after its last character.
    """
    from spacy.util import filter_spans

    text = doc.text  # joined from the tokens at each reading
    spans: list[Span] = list(doc.ents)  # the ruler's first: on a tie they win
    found: dict[tuple[int, int, str], Entity] = {
        (sp.start, sp.end, sp.label_): Entity(
            sp.label_, text[sp.start_char : _printed_end(sp)], sp.start_char, _printed_end(sp), sp.id_ or None
        )
        for sp in spans
    }
    for ent in pattern_entities(text):
        span = doc.char_span(ent.start, ent.end, label=ent.label, alignment_mode="expand", span_id=ent.canonical or 0)
        if span is not None:
            spans.append(span)
            found.setdefault((span.start, span.end, span.label_), ent)
    kept = sorted(filter_spans(spans), key=lambda sp: sp.start)
    doc.ents = kept
    doc._.set(EXTENSION, [found[sp.start, sp.end, sp.label_] for sp in kept])
    return doc


@cache
def _register_components() -> None:
    """The component and the Doc extension, registered with spaCy when the first pipeline is built."""
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Doc.has_extension(EXTENSION):
        # the merged entities as `Entity` objects: reading `doc.ents` back walks every token
        Doc.set_extension(EXTENSION, default=None)
    Language.component(COMPONENT, func=_merge_patterns)


_BUILDING = threading.Lock()


def build_nlp() -> Language:
    """`spacy.blank("zh")` + the gazetteer's span ruler + the pattern component, built once per process.

    spaCy is imported here, not with the module: its 0.6-0.9 s of imports are paid by the first
    letter a process extracts, not by every `gongwen` command that loads the extractors. The
    lock: threads that reach their first letter together (the flows' task runners) build one
    pipeline, not one each (0.2 s and a second copy of the ruler).
    """
    with _BUILDING:
        return _new_pipeline()


@cache
def _new_pipeline() -> Language:
    import spacy
    from spacy.attrs import NORM

    _register_components()
    nlp = spacy.blank("zh")
    # every lexeme's NORM is its matching form; set before the first lexeme is made
    nlp.vocab.lex_attr_getters[NORM] = normalize_for_match  # type: ignore[attr-defined]  # (Cython, no stub)
    nlp.tokenizer = CharTokenizer(nlp.vocab)
    ruler = nlp.add_pipe(
        "span_ruler",
        name=RULER,
        config={"spans_key": None, "annotate_ents": True, "overwrite": True, "phrase_matcher_attr": "NORM"},
    )
    ruler.ents_filter = leftmost_longest_orgs  # type: ignore[attr-defined]
    ruler.add_patterns(  # type: ignore[attr-defined]
        [{"label": label, "pattern": form, "id": name} for label, form, name in gazetteer().patterns()]
    )
    nlp.add_pipe(COMPONENT)
    return nlp


def entities(text: str) -> list[Entity]:
    """Entities of `text` in order, without overlaps, offsets into `text`."""
    found: list[Entity] = build_nlp()(text)._.get(EXTENSION)
    return list(found)


def organisations(text: str) -> list[Entity]:
    """The bodies named in `text` (ORG entities, `canonical` the gazetteer's full name), in order."""
    return [e for e in entities(text) if e.label == "ORG"]
