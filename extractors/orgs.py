"""Agencies and associations: the gazetteer, its matching forms and canonical names.

Letters name the same body in many ways (衛生福利部 / 衛福部, 台中 / 臺中, with or without
社團法人, OCR spaces inside a name), and the archive routes letters by the body, so every
mention is reduced to one canonical full name here. The gazetteer lists official 臺 forms
only; 台 variants, legal-person prefixes and parent-alias combinations (衛福部食藥署) are
derived in code so the data file stays one line per body.

Normalisation (`normalize_for_match`) is for matching and search only: printed text is
never rewritten with it. Bodies named inside running text are found by the letter pipeline's
span ruler (`extractors.nlp`), which matches these forms on each character's matching form;
this module resolves whole names (`canonical_org`) and feeds the ruler (`Gazetteer.patterns`).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

__all__ = [
    "Gazetteer",
    "Organisation",
    "canonical_org",
    "gazetteer",
    "normalize_for_match",
]

# Well-known variant pairs of the official Traditional forms, mapped to the form used in
# official Taiwanese names. Encoding look-alikes (内/內, 税/稅) come from PDFs made with
# Japanese or Simplified fonts; 台/臺 and 啓/啟 are used interchangeably in print.
_VARIANTS: dict[str, str] = {
    "台": "臺",
    "啓": "啟",
    "衞": "衛",
    "羣": "群",
    "峯": "峰",
    "説": "說",
    "爲": "為",
    "僞": "偽",
    "眞": "真",
    "敎": "教",
    "鄕": "鄉",
    "册": "冊",
    "内": "內",
    "户": "戶",
    "戸": "戶",
    "别": "別",
    "温": "溫",
    "黄": "黃",
    "産": "產",
    "査": "查",
    "録": "錄",
    "祕": "秘",
    "裏": "裡",
    "滙": "匯",
    "彦": "彥",
    "値": "值",
    "衆": "眾",
    "綫": "線",
    "税": "稅",
    "强": "強",
    "兑": "兌",
}
_LEGAL_PREFIXES = ("社團法人", "財團法人")
# bodies that are legal persons of one kind: the prefix may be printed or left out
_PREFIX_BY_KIND = {"association": "社團法人", "medical_society": "社團法人", "foundation": "財團法人"}
# a short alias ending in 會 followed by these is a word (工程會議, 工程會勘), not the body
_NOT_AFTER_HUI = frozenset("議勘")


@cache
def _norm_char(ch: str) -> str:
    """One character's matching form: NFKC, official variant, no whitespace or format chars."""
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        c = _VARIANTS.get(c, c)
        if c.isspace() or unicodedata.category(c) == "Cf":
            continue
        out.append(c)
    return "".join(out)


def normalize_for_match(text: str) -> str:
    """Matching form of `text`: NFKC, 台→臺 and other official variants, whitespace removed."""
    return "".join([_norm_char(c) for c in text])


def fold_with_offsets(text: str, fold: Callable[[str], str]) -> tuple[str, list[int]]:
    """`text` folded character by character and, for each character of the result, the index in
    `text` it came from: how a match in a matching form is found again in the printed text."""
    chars: list[str] = []
    index: list[int] = []
    for i, c in enumerate(text):
        folded = fold(c)
        if folded:
            chars.append(folded)
            index.extend([i] * len(folded))
    return "".join(chars), index


@dataclass(frozen=True)
class Organisation:
    """One body of the gazetteer; `successor` is set for bodies renamed or merged since."""

    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    successor: str | None = None
    note: str | None = None  # a caveat about the entry itself (e.g. membership to verify)


class Gazetteer:
    """All bodies, every printable form of their names, and the table from matching forms to bodies.

    The table is the one source of organisation names: `canonical` looks a whole name up in it and
    `patterns` feeds it to the letter pipeline's span ruler (extractors/nlp.py), the one place
    that finds bodies inside running text.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.organisations: dict[str, Organisation] = {}
        for raw in data["organisations"]:
            org = Organisation(
                name=raw["name"],
                kind=raw["kind"],
                aliases=tuple(raw.get("aliases", ())),
                parent=raw.get("parent"),
                successor=raw.get("successor"),
                note=raw.get("note"),
            )
            if org.name in self.organisations:
                raise ValueError(f"duplicate organisation in gazetteer: {org.name}")
            self.organisations[org.name] = org
        self.local_units: tuple[str, ...] = tuple(data.get("local_units", ()))
        # canonical name -> printable forms (official spelling: 台 and other variants are matching-form equal)
        self._forms: dict[str, list[str]] = {}
        # matching form -> canonical name; names beat aliases beat derived forms on a clash
        self._lookup: dict[str, str] = {}
        self._short_alias: set[str] = set()
        self._build_forms()
        # matching form of an ordinary unit of a local government (社會局) -> printed unit
        self._units: dict[str, str] = {normalize_for_match(u): u for u in self.local_units}

    # -- building ---------------------------------------------------------------

    def _base_forms(self, org: Organisation) -> list[str]:
        return [org.name, *org.aliases]

    def _derived_forms(self, org: Organisation) -> list[str]:
        """Legal-person prefix added or dropped, and parent name/alias + the child's short name."""
        out: list[str] = []
        base = self._base_forms(org)
        prefix = _PREFIX_BY_KIND.get(org.kind)
        for form in base:
            for legal in _LEGAL_PREFIXES:
                if form.startswith(legal) and len(form) - len(legal) >= 3:
                    out.append(form[len(legal) :])
            if prefix and not form.startswith(_LEGAL_PREFIXES):
                out.append(prefix + form)
        parent = self.organisations.get(org.parent) if org.parent else None
        if parent is not None and org.name.startswith(parent.name):
            suffix = org.name[len(parent.name) :]
            parent_forms = [f for f in self.forms(parent.name) if not f.startswith(_LEGAL_PREFIXES)]
            # short aliases only (食藥署): a long alias is a name of its own (臺中市衛生局)
            shorts = [suffix, *(a for a in org.aliases if len(a) <= 5 and not a.startswith(parent.name))]
            for pf in parent_forms:
                for short in shorts:
                    if not short.startswith(pf):
                        out.append(pf + short)
        return out

    def _build_forms(self) -> None:
        for org in self.organisations.values():
            self._lookup.setdefault(normalize_for_match(org.name), org.name)
        for org in self.organisations.values():
            for alias in org.aliases:
                key = normalize_for_match(alias)
                self._lookup.setdefault(key, org.name)
                if len(key) <= 3:
                    self._short_alias.add(key)
        for org in self.organisations.values():
            for form in self.forms(org.name):
                self._lookup.setdefault(normalize_for_match(form), org.name)

    def forms(self, name: str) -> list[str]:
        """Printable forms of the body `name` (official spelling, no 台 variants), name first."""
        cached = self._forms.get(name)
        if cached is not None:
            return cached
        org = self.organisations[name]
        self._forms[name] = self._base_forms(org)  # guards against a parent cycle
        forms = list(dict.fromkeys([*self._base_forms(org), *self._derived_forms(org)]))
        self._forms[name] = forms
        return forms

    # -- queries ----------------------------------------------------------------

    def get(self, name: str) -> Organisation | None:
        return self.organisations.get(name)

    def children(self, name: str) -> list[Organisation]:
        """Bodies whose parent is `name`: a ministry's agencies, a national union's member associations."""
        return [o for o in self.organisations.values() if o.parent == name]

    def __iter__(self) -> Iterator[Organisation]:
        return iter(self.organisations.values())

    def __len__(self) -> int:
        return len(self.organisations)

    def lookup(self, form: str) -> str | None:
        """Canonical name for an already normalised form (exact, whole string), a local government's
        ordinary unit included (臺北市政府社會局)."""
        found = self._lookup.get(form)
        if found is not None:
            return found
        for j in range(1, len(form)):
            gov = self._lookup.get(form[:j])
            if gov is not None and self.is_local_government(gov) and form[j:] in self._units:
                return self._unit_name(gov, self._units[form[j:]])
        return None

    def is_local_government(self, name: str) -> bool:
        """Whether `name` is a city or county government, whose ordinary units (社會局) follow its name."""
        org = self.organisations.get(name)
        return org is not None and org.kind == "local_government"

    def glued_to_next(self, form: str, following: str) -> bool:
        """Whether the matched `form` is a short alias glued to the next word (工程會議, 工程會勘), not the body."""
        return form in self._short_alias and form.endswith("會") and following[:1] in _NOT_AFTER_HUI

    def patterns(self) -> Iterator[tuple[str, str, str]]:
        """(label, matching form, id) for the span ruler: every form of every body (label ORG, id the
        canonical name) and the ordinary units of local governments (label LOCAL_UNIT, id the unit)."""
        for form, canonical in self._lookup.items():
            yield "ORG", form, canonical
        for form, unit in self._units.items():
            yield "LOCAL_UNIT", form, unit

    def name_ends(self, norm: str) -> set[int]:
        """Positions in the matching-form `norm` right after a known name, each slice looked up whole.

        For the few characters before a 字號's 字 (`extractors.doc_numbers`), which search reads
        in queries without loading the letter pipeline.
        """
        ends: set[int] = set()
        n = len(norm)
        for i in range(n):
            for j in range(i + 1, n + 1):
                found = self._lookup.get(norm[i:j])
                if found is None or self.glued_to_next(norm[i:j], norm[j : j + 1]):
                    continue
                ends.add(j)
                if self.is_local_government(found):
                    ends.update(k for k in range(j + 1, n + 1) if norm[j:k] in self._units)
        return ends

    def _unit_name(self, gov: str, unit: str) -> str:
        return gov + unit

    def canonical(self, name: str) -> str | None:
        """Canonical full name of a printed name, alias or variant; None if not a known body."""
        key = normalize_for_match(name)
        return self.lookup(key) if key else None


def _data_file() -> Traversable:
    """The packaged gazetteer.json.

    Under pytest, `tests/extractors/` (no __init__.py) on sys.path can make the name
    `extractors` a namespace package of that folder, so the resource is looked up there
    first and then beside this module.
    """
    packaged = resources.files("extractors").joinpath("data").joinpath("gazetteer.json")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent / "data" / "gazetteer.json"


def _load_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_data_file().read_text(encoding="utf-8"))
    return data


@cache
def gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return Gazetteer(_load_data())


def canonical_org(name: str) -> str | None:
    """Alias or variant spelling → canonical full name (衛福部 → 衛生福利部); None if unknown."""
    return gazetteer().canonical(name)
