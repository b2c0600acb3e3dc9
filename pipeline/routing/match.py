"""Rule conditions compiled against one document's fields, Chinese-aware (docs/routing.md#matching).

Every kind of match compares matching forms (`pipeline.matching.match_form`: NFKC, 台→臺 and
the other variants, no whitespace, lower case), the one normalisation search uses too, so
a rule finds what a search finds. There are no word boundaries (`\\b` never fires between
Han characters), and a word that names a body matches its other names: the gazetteer's
aliases and the registry's. Regexes run with a time limit (the `regex` module's timeout);
a pattern that keeps timing out is switched off for the rest of the run and reported.

Reasons are data: a condition that holds says which condition, which field and which
printed text matched, so a clerk can see why a task exists (paperless-ngx's matching.py
logs the same; here it is stored on the task).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import regex
from rapidfuzz import fuzz

from extractors.orgs import _norm_char, canonical_org, gazetteer
from pipeline.matching import match_form, match_form_with_offsets, parse_query
from schemas.routing import AllOf, AnyOf, Association, Condition, Match, Not, describe

# one regex search may take this long; a pattern that times out this often is switched off
REGEX_TIMEOUT_S = 0.05
REGEX_STRIKES = 3
_SNIPPET = 18
_WITH_ATTACHMENTS = regex.compile(r"[(（]\s*均?含附件\s*[)）]\s*$")  # printed characters shown on each side of a match in a reason
_LIST_FIELDS = frozenset({"cc", "references"})
_EXACT_FIELDS = frozenset({"sender_tags", "kind"})
# fields that hold names of bodies: a word naming a body matches the body, not any name containing an alias
_NAME_FIELDS = frozenset({"sender", "recipient", "cc"})
_RESOLVED_MAX = 65536  # printed names a Registry remembers (letters repeat the same few hundred)


def fold_pattern(pattern: str) -> str:
    """A regex's letters and digits in matching form; its syntax (ASCII punctuation, escapes) untouched.

    Lower case is left to IGNORECASE: folding `\\S` to `\\s` would change what it means.
    """
    out: list[str] = []
    for c in pattern:
        if c.isascii() or unicodedata.category(c)[0] not in "LN":
            out.append(c)
        else:
            out.append(_norm_char(c) or c)
    return "".join(out)


@lru_cache(maxsize=65536)
def canonical_name(name: str) -> str | None:
    return canonical_org(name)


class Registry:
    """The associations by id, tag and every form of their names (folded)."""

    def __init__(self, associations: Sequence[Association]) -> None:
        self.by_id = {a.id: a for a in associations}
        self.by_tag: dict[str, list[str]] = {}
        self.forms: dict[str, list[str]] = {}
        self.by_form: dict[str, str] = {}
        self._resolved: dict[str, str | None] = {}
        g = gazetteer()
        for a in associations:
            for tag in a.tags:
                self.by_tag.setdefault(tag, []).append(a.id)
            names = [a.name, *a.aliases]
            canonical = canonical_name(a.name)
            if canonical is not None and g.get(canonical) is not None:
                names.extend(g.forms(canonical))
            forms = list(dict.fromkeys(f for f in (match_form(n) for n in names) if f))
            self.forms[a.id] = forms
            for f in forms:
                self.by_form.setdefault(f, a.id)
            if canonical is not None:
                self.by_form.setdefault(match_form(canonical), a.id)

    def resolve(self, name: str | None) -> str | None:
        """The association a printed name stands for (name, alias, 台/臺, with or without 社團法人)."""
        if not name:
            return None
        if name in self._resolved:
            return self._resolved[name]
        printed = name
        name = _WITH_ATTACHMENTS.sub("", name)
        found = self.by_form.get(match_form(name))
        if found is None:
            canonical = canonical_name(name)
            if canonical is not None:
                found = self.by_form.get(match_form(canonical))
        if len(self._resolved) >= _RESOLVED_MAX:
            self._resolved.clear()
        self._resolved[printed] = found
        return found

    def expand(self, targets: Iterable[str]) -> list[str]:
        """`to`/`except` entries → association ids, in order, once each."""
        out: dict[str, None] = {}
        for t in targets:
            if t.startswith("tag:"):
                out.update(dict.fromkeys(self.by_tag.get(t[4:], ())))
            elif t in self.by_id:
                out[t] = None
        return list(out)

    def tags_of(self, name: str | None) -> list[str]:
        ident = self.resolve(name)
        return list(self.by_id[ident].tags) if ident else []

    def word_forms(self, word: str) -> tuple[str, ...]:
        """A word's matching forms: itself, and every name of the body it names (gazetteer and registry)."""
        terms = parse_query(word)
        forms = set(terms[0].forms) if terms else {match_form(word)}
        ident = self.by_form.get(match_form(word))
        if ident is not None:
            forms.update(self.forms[ident])
        forms.discard("")
        # a form containing a shorter one matches nothing more
        return tuple(sorted((f for f in forms if not any(g != f and g in f for g in forms)), key=lambda f: (len(f), f)))


class _Uneven(dict[int, str]):
    """`str.translate` table deleting each character whose matching form is one character:
    what is left of a text are the characters that shift positions (dropped or expanded)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        kept = self[code] = "" if len(match_form(c)) == 1 else c
        return kept


_UNEVEN = _Uneven()


@dataclass
class Text:
    """One field of a document: the printed pieces and, computed once, their matching form."""

    pieces: tuple[str, ...]
    _folded: str | None = None
    _index: list[int] | None = field(default=None, repr=False)
    _parts: list[str] | None = field(default=None, repr=False)
    _names: tuple[Registry, list[tuple[str | None, str | None]]] | None = field(default=None, repr=False)
    _spans: dict[tuple[int, int], str] = field(default_factory=dict, repr=False)

    @property
    def printed(self) -> str:
        return "\n".join(self.pieces)

    @property
    def folded(self) -> str:
        if self._folded is None:
            self._folded = "\n".join(match_form(p) for p in self.pieces)
        return self._folded

    @property
    def parts(self) -> list[str]:
        """Each piece's matching form."""
        if self._parts is None:
            self._parts = self.folded.split("\n")
        return self._parts

    def names(self, registry: Registry) -> list[tuple[str | None, str | None]]:
        """Each piece's canonical body and association: many rules try a document's names, each once here."""
        if self._names is None or self._names[0] is not registry:
            self._names = (registry, [(canonical_name(p), registry.resolve(p)) for p in self.pieces])
        return self._names[1]

    def span(self, start: int, end: int) -> str:
        """The printed text around folded[start:end], with the match marked «like this»."""
        found = self._spans.get((start, end))
        if found is None:
            found = self._spans[(start, end)] = self._span(start, end)
        return found

    def _span(self, start: int, end: int) -> str:
        if self._index is None:
            index: list[int] = []
            offset = 0
            for n, p in enumerate(self.pieces):
                if n:
                    index.append(offset - 1)  # the "\n" between pieces
                if p.translate(_UNEVEN):
                    index.extend(offset + i for i in match_form_with_offsets(p)[1])
                else:  # every character folds to one: positions are the same
                    index.extend(range(offset, offset + len(p)))
                offset += len(p) + 1
            self._index = index
        printed = self.printed
        if not self._index or start >= len(self._index):
            return ""
        a, b = self._index[start], self._index[max(start, end - 1)] + 1
        lo, hi = max(0, a - _SNIPPET), min(len(printed), b + _SNIPPET)
        text = f"{'…' if lo else ''}{printed[lo:a]}«{printed[a:b]}»{printed[b:hi]}{'…' if hi < len(printed) else ''}"
        return text.replace("\n", "／")


@dataclass
class Facts:
    """What rules look at in one document (docs/routing.md#fields), printed; folded on demand."""

    fields: dict[str, Text]
    # where each distinct condition (field, match, value, threshold) held, or None: rules repeat conditions
    memo: dict[tuple[str, str, str, int], tuple[float, int, int] | None] = field(default_factory=dict)
    # conditions (by their shape, lines aside) known not to hold: rules repeat them with other lines
    failed: set[Shape] = field(default_factory=set)

    @classmethod
    def of(cls, values: dict[str, str | Sequence[str] | None]) -> Facts:
        out: dict[str, Text] = {}
        for key, value in values.items():
            if value is None:
                pieces: tuple[str, ...] = ()
            elif isinstance(value, str):
                pieces = (value,)
            else:
                pieces = tuple(v for v in value if v)
            out[key] = Text(pieces)
        return cls(out)

    def get(self, name: str) -> Text:
        found = self.fields.get(name)
        if found is None:
            found = self.fields[name] = Text(())
        return found


Hit = tuple[str, ...]  # reasons, one per leaf that held
# a condition without its lines (None where its outcome is not only a function of the document: regexes
# can time out); whether it holds depends on nothing else, its reasons do
Shape = tuple[object, ...]
Test = Callable[[Facts], Hit | None]
Where = tuple[float, int, int]  # (score, start, end) in a field's matching form
_UNSEEN: Where = (-1.0, -1, -1)


def _memoized(cond: Match, where: Callable[[Text], Where | None], hit: Callable[[Text, Where], Hit]) -> Test:
    """`where` once per document for each distinct condition, however many rules repeat it."""
    key, name = (cond.field, cond.match, cond.value, cond.threshold), cond.field

    def test(facts: Facts) -> Hit | None:
        memo = facts.memo
        at = memo.get(key, _UNSEEN)
        if at is _UNSEEN:
            at = memo[key] = where(facts.get(name))
        return None if at is None else hit(facts.get(name), at)

    return test


class RegexGuard:
    """Counts a pattern's time-outs in this run; switches it off after REGEX_STRIKES."""

    def __init__(self) -> None:
        self.strikes: dict[str, int] = {}
        self.warnings: list[str] = []

    def search(self, pattern: regex.Pattern[str], text: str, describe: str) -> regex.Match[str] | None:
        if self.strikes.get(pattern.pattern, 0) >= REGEX_STRIKES:
            return None
        try:
            return pattern.search(text, timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            n = self.strikes[pattern.pattern] = self.strikes.get(pattern.pattern, 0) + 1
            note = f"{describe}: regex gave up after {REGEX_TIMEOUT_S * 1000:.0f} ms"
            if n >= REGEX_STRIKES:
                note += f"; switched off for the rest of this run after {n} time-outs (simplify the pattern)"
            self.warnings.append(note)
            return None


def _leaf(cond: Match, registry: Registry, guard: RegexGuard) -> Test:
    name, describe = cond.field, cond.describe()

    def found(text: Text, start: int, end: int) -> Hit:
        return (f"{describe} (line {cond.line}): {text.span(start, end)}",)

    def found_at(text: Text, at: Where) -> Hit:
        return found(text, at[1], at[2])

    if cond.field in _EXACT_FIELDS:
        tags = {match_form(w) for w in cond.value.split()} if cond.match in ("any", "all") else {match_form(cond.value)}

        def exact(facts: Facts) -> Hit | None:
            have = set(facts.get(name).folded.split("\n"))
            ok = tags <= have if cond.match == "all" else bool(tags & have)
            return (f"{describe} (line {cond.line}): {', '.join(sorted(tags & have))}",) if ok else None

        return exact

    if cond.match in ("any", "all", "literal"):
        words = ["".join(cond.value.split())] if cond.match == "literal" else cond.value.split()
        if cond.field in _NAME_FIELDS:
            return _memoized(cond, _name_where(cond, words, registry), found_at)
        terms = [registry.word_forms(w) for w in words]
        need_all = cond.match == "all"

        def words_where(text: Text) -> Where | None:
            folded = text.folded
            first: tuple[int, int] | None = None
            for forms in terms:
                hit = next(((i, len(f)) for f in forms if (i := folded.find(f)) >= 0), None)
                if hit is None:
                    if need_all:
                        return None
                    continue
                if first is None:
                    first = (hit[0], hit[0] + hit[1])
                if not need_all:
                    break
            return (0.0, *first) if first is not None else None

        return _memoized(cond, words_where, found_at)

    if cond.match == "regex":
        pattern = regex.compile(fold_pattern(cond.value), regex.IGNORECASE | regex.V0)

        def regex_test(facts: Facts) -> Hit | None:
            text = facts.get(name)
            m = guard.search(pattern, text.folded, f"{describe} (line {cond.line})")
            return found(text, m.start(), m.end()) if m is not None and m.end() > m.start() else None

        return regex_test

    needle = match_form(cond.value)

    def fuzzy_where(text: Text) -> Where | None:
        best: Where | None = None
        offset = 0
        for line in text.folded.split("\n"):
            if line:
                al = fuzz.partial_ratio_alignment(needle, line, score_cutoff=cond.threshold)
                if al is not None and (best is None or al.score > best[0]):
                    best = (al.score, offset + al.dest_start, offset + al.dest_end)
            offset += len(line) + 1
        return best

    def fuzzy_hit(text: Text, best: Where) -> Hit:
        return (f"{describe} (line {cond.line}, {best[0]:.0f}%): {text.span(best[1], best[2])}",)

    return _memoized(cond, fuzzy_where, fuzzy_hit)


def _name_where(cond: Match, words: list[str], registry: Registry) -> Callable[[Text], Where | None]:
    """Words against names: the same body (by any of its names), or its full name inside the printed name.

    `全聯會` is the physicians' federation: it must not match 牙醫師公會全聯會, which a substring
    test over every alias would; `高雄市` (a place, not a body) still matches 社團法人高雄市醫師公會
    because the word itself occurs in it.
    """
    need_all = cond.match == "all"
    wanted: list[tuple[str | None, str | None, tuple[str, ...]]] = []
    for w in words:
        canonical = canonical_name(w)
        ident = registry.by_form.get(match_form(w))
        # a word naming a body stands for the body: its full names, not the word, are looked for
        # inside longer names (衛生福利部 in 衛生福利部國民健康署; 全聯會 not in 牙醫師公會全聯會)
        strict = {match_form(canonical) if canonical else ""}
        if ident is not None:
            strict.add(match_form(registry.by_id[ident].name))
        if canonical is None and ident is None:
            strict.add(match_form(w))
        strict.discard("")
        wanted.append((canonical, ident, tuple(strict)))

    # letters repeat the same few hundred names: each name field's answer is kept, by the printed names
    seen: dict[tuple[str, ...], Where | None] = {}

    def where(text: Text) -> Where | None:
        if text.pieces in seen:
            return seen[text.pieces]
        if len(seen) >= _RESOLVED_MAX:
            seen.clear()
        at = seen[text.pieces] = find(text)
        return at

    def find(text: Text) -> Where | None:
        pieces = text.parts
        names = text.names(registry)
        first: tuple[int, int] | None = None
        for canonical, ident, strict in wanted:
            hit: tuple[int, int] | None = None
            offset = 0
            for piece, (piece_canonical, piece_ident) in zip(pieces, names, strict=False):
                for f in strict:
                    i = piece.find(f)
                    if i >= 0:
                        hit = (offset + i, offset + i + len(f))
                        break
                else:
                    if (canonical is not None and piece_canonical == canonical) or (
                        ident is not None and piece_ident == ident
                    ):
                        hit = (offset, offset + len(piece))
                if hit is not None:
                    break
                offset += len(piece) + 1
            if hit is None:
                if need_all:
                    return None
                continue
            if first is None:
                first = hit
            if not need_all:
                break
        return (0.0, *first) if first is not None else None

    return where


def compile_condition(cond: Condition, registry: Registry, guard: RegexGuard) -> Test:
    """A function of a document's facts: the reasons when `cond` holds, else None."""
    return _compile(cond, registry, guard)[1]


def _compile(cond: Condition, registry: Registry, guard: RegexGuard) -> tuple[Shape | None, Test]:
    if isinstance(cond, Match):
        leaf: Shape | None = None if cond.match == "regex" else ("match", cond.field, cond.match, cond.value, cond.threshold)
        return leaf, _leaf(cond, registry, guard)
    if isinstance(cond, Not):
        inner_shape, inner = _compile(cond.item, registry, guard)
        said = f"{describe(cond)} (line {cond.line}): holds"
        return (None if inner_shape is None else ("not", inner_shape)), (
            lambda facts: None if inner(facts) is not None else (said,))
    parts = [_compile(c, registry, guard) for c in cond.items]
    shapes = tuple(shape for shape, _ in parts)
    shape: Shape | None = None if None in shapes else ("all" if isinstance(cond, AllOf) else "any", *shapes)
    if isinstance(cond, AllOf):

        def all_of(facts: Facts) -> Hit | None:
            failed = facts.failed
            reasons: list[str] = []
            for part_shape, part in parts:
                if part_shape in failed:
                    return None
                hit = part(facts)
                if hit is None:
                    if part_shape is not None:
                        failed.add(part_shape)
                    return None
                reasons.extend(hit)
            return tuple(reasons)

        return shape, all_of
    assert isinstance(cond, AnyOf)

    def any_of(facts: Facts) -> Hit | None:
        failed = facts.failed
        for part_shape, part in parts:
            if part_shape in failed:
                continue
            hit = part(facts)
            if hit is not None:
                return hit
            if part_shape is not None:
                failed.add(part_shape)
        return None

    return shape, any_of
