"""A spaCy `zh` pipeline built entirely from the repository: nothing is downloaded at run time.

`spacy.blank("zh")` segments per character and needs no model or segmenter package, so
the pipeline works offline and on any machine. Token-level rules are awkward on single
characters, so the pattern entities (字號, dates, phones, e-mail, URLs) are found by
regexes over the text and mapped back with `doc.char_span(..., alignment_mode="expand")`
in one registered component. Organisations come from an `entity_ruler` fed with every
spelling of every body in the gazetteer, plus the variant-tolerant gazetteer matcher of
`extractors.orgs` for what exact phrases miss (OCR spaces, 啓/啟, a local unit such as
臺北市政府社會局). Overlaps resolve to the longest span.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from extractors.doc_numbers import find_doc_numbers
from extractors.orgs import find_orgs, iter_patterns

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

__all__ = ["LABELS", "Entity", "build_nlp", "entities", "pattern_entities"]

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
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
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


def pattern_entities(text: str, *, orgs: bool = True) -> Iterator[Entity]:
    """Regex and gazetteer entities of `text`, overlapping freely (the pipeline resolves overlaps)."""
    for d in find_doc_numbers(text):
        yield Entity("DOC_NUMBER", d.text, d.start, d.end, d.normalized)
    for m in _DATE.finditer(text):
        yield Entity("DATE", m.group(), m.start(), m.end())
    for m in _PHONE.finditer(text):
        yield Entity("PHONE", m.group(), m.start(), m.end())
    for m in _EMAIL.finditer(text):
        yield Entity("EMAIL", m.group(), m.start(), m.end())
    for m in _URL.finditer(text):
        url = m.group().rstrip(_URL_TRAILING)
        if len(url) > len("www."):
            yield Entity("URL", url, m.start(), m.start() + len(url))
    if orgs:
        for o in find_orgs(text):
            yield Entity("ORG", o.text, o.start, o.end, o.canonical)


EXTENSION = "gongwen_entities"


def _merge_patterns(doc: Doc, *, orgs: bool) -> Doc:
    from spacy.util import filter_spans

    spans: list[Span] = list(doc.ents)  # the ruler's first: on a tie they win
    for ent in pattern_entities(doc.text, orgs=orgs):
        span = doc.char_span(
            ent.start, ent.end, label=ent.label, alignment_mode="expand", span_id=ent.canonical or 0
        )
        if span is not None:
            spans.append(span)
    kept = sorted(filter_spans(spans), key=lambda sp: sp.start)
    doc.ents = kept
    doc._.set(
        EXTENSION,
        [Entity(sp.label_, sp.text, sp.start_char, sp.end_char, sp.id_ or None) for sp in kept],
    )
    return doc


def gongwen_patterns(doc: Doc) -> Doc:
    """DOC_NUMBER, DATE, PHONE, EMAIL, URL and gazetteer ORG spans merged into `doc.ents`."""
    return _merge_patterns(doc, orgs=True)


def gongwen_patterns_exact_orgs(doc: Doc) -> Doc:
    """As `gongwen_patterns`, leaving organisations to the entity ruler's exact spellings."""
    return _merge_patterns(doc, orgs=False)


@cache
def _register_components() -> None:
    """The components and the Doc extension, registered with spaCy when the first pipeline is built."""
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Doc.has_extension(EXTENSION):
        # the merged entities as `Entity` objects: reading `doc.ents` back walks every token
        Doc.set_extension(EXTENSION, default=None)
    Language.component(COMPONENT, func=gongwen_patterns)
    Language.component(COMPONENT + "_exact_orgs", func=gongwen_patterns_exact_orgs)


_BUILDING = threading.Lock()


def build_nlp(fuzzy_orgs: bool = True) -> Language:
    """`spacy.blank("zh")` + ORG entity ruler from the gazetteer + the pattern component, built once per process.

    spaCy is imported here, not with the module: its 0.6-0.9 s of imports are paid by the first
    letter a process extracts, not by every `gongwen` command that loads the extractors. The
    lock: threads that reach their first letter together (the flows' task runners) build one
    pipeline, not one each (0.2 s and a second copy of the ruler).
    """
    with _BUILDING:
        return _new_pipeline(fuzzy_orgs)


@cache
def _new_pipeline(fuzzy_orgs: bool) -> Language:
    import spacy

    _register_components()
    nlp = spacy.blank("zh")
    ruler = nlp.add_pipe("entity_ruler", config={"validate": False, "overwrite_ents": True})
    ruler.add_patterns([{"label": "ORG", "pattern": form, "id": name} for form, name in iter_patterns()])  # type: ignore[attr-defined]
    nlp.add_pipe(COMPONENT if fuzzy_orgs else COMPONENT + "_exact_orgs")
    return nlp


def entities(text: str) -> list[Entity]:
    """Entities of `text` in order, without overlaps, offsets into `text`."""
    doc = build_nlp()(text)
    found: list[Entity] | None = doc._.get(EXTENSION)
    if found is not None:
        return list(found)
    return [
        Entity(ent.label_, ent.text, ent.start_char, ent.end_char, ent.ent_id_ or None) for ent in doc.ents
    ]
