"""發文字號 (document numbers): `{代字}字第{number}號` found in free text (docs/letter.md#document-numbers).

The hard part is where the 代字 starts. It is the run of Han characters right before
字第, but in running text that run is glued to whatever precedes it: a date
(`111年1月19日衛部資字第…`), the sender's name (`衛生福利部衛部資字第…`), a verb
(`復貴會全醫聯字第…`) or a label (`收文字號 彰醫字第 129 號`). The run is therefore cut
after the right-most boundary it contains: a date character, a known body's name, a
function word or label, or a gap of whitespace that leaves at least two characters.
Letters cite two numbers of one sender elliptically (`醫評字第…A號、第…B號`); the
second is expanded with the first one's 代字. Templates (`府○○字第0000000000號`) are
not numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from extractors.orgs import gazetteer, normalize_for_match

__all__ = ["DocNumberMention", "doc_number_year", "find_doc_numbers", "normalize_doc_number"]

MAX_PREFIX = 8  # longest 代字 accepted
_MAX_RUN = 24  # Han characters looked at before 字第

_DIGITS = "0-9０-９"
_NUM = rf"[{_DIGITS}](?:[{_DIGITS}]|[ \t\u3000]{{1,2}}(?=[{_DIGITS}]))*(?:[ \t\u3000]?[A-Za-zＡ-Ｚａ-ｚ]{{1,2}})?"
_SEP = r"\s*(?:[、，,及和與暨]|以及)\s*"
# 字第 {number} [、{number}]* 號 — the 代字 before it is found by `_prefix_start`
_CORE = re.compile(rf"字\s*第\s*(?P<nums>{_NUM}(?:{_SEP}{_NUM})*)\s*[號号]")
# `、第1120100216B號` / `及第…號` right after a match: same 代字
_CONTINUATION = re.compile(rf"{_SEP}(?:及\s*)?第\s*(?P<nums>{_NUM}(?:{_SEP}{_NUM})*)\s*[號号]")
_NUM_RE = re.compile(_NUM)
_TEMPLATE_CHARS = frozenset("○〇◯ＯOoＸXx×某")
_GAP = frozenset(" \t\u3000\r\n")
_MAX_GAP = 3


def _words(s: str) -> list[str]:
    """A word list written as one line of the vocabulary it is."""
    return s.split()


# Words after which a 代字 starts. Single characters here must never begin a real 代字
# (經授商, 台財稅, 院臺衛, 府授衛, 內授中社 begin with 經 台 院 府 內: none of them is here).
_UNITS = ("府", "部", "會", "局", "署", "院", "處", "所", "司", "校", "中心", "公會")
_STOP_WORDS: tuple[str, ...] = (
    # labels
    *_words("發文字號 收文字號 來文字號 字號 文號 收文 發文"),
    # verbs and phrases that introduce a citation
    *_words("依據 依照 依 據 按 復 覆 奉 准 接 函 檢送 檢附 附件 轉 送 見 詳 參照 參考 諒達"),
    *_words("另 並 及 與 和 或 暨 之 於 以 為 係 即 如 同"),
    # pronouns for the sender or addressee, alone and with the unit they stand for (本府府授衛)
    *_words("本 貴 鈞 該"),
    *(p + u for p in "本貴鈞該" for u in _UNITS),
    # date and number characters, document types
    *_words("年 月 日 號 第 令 公告 書函 通知 開會通知單"),
)
# Endings of a body's name. The two-character ones never occur inside a 代字 and always cut;
# the single characters do (衛部資, 府授衛), so they only cut a run too long to be a 代字.
_ORG_ENDINGS: tuple[str, ...] = tuple(_words("委員會 基金會 公會 協會 學會 政府 中心 公司 醫院 大學"))
_ORG_SUFFIXES: tuple[str, ...] = (*_ORG_ENDINGS, *_words("部 局 署 院 處 司 所 府 會"))


def _is_han(c: str) -> bool:
    o = ord(c)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or 0x2F00 <= o <= 0x2FDF  # Kangxi radicals: what some PDFs extract for common characters
    )


_LATIN_HEAD = re.compile(r"(?<![A-Za-z0-9Ａ-Ｚａ-ｚ０-９])[A-ZＡ-Ｚ]{2,5}$")
_SUBUNIT = re.compile(r"[(（][一二三四五六七八九十0-9０-９]{1,2}[)）]$")


@dataclass(frozen=True)
class DocNumberMention:
    """A 字號 in a text. `text` is the printed slice; `normalized` is the full number, even
    for an elliptical continuation whose printed text is only `第…號`."""

    text: str
    normalized: str
    start: int
    end: int
    prefix: str  # 代字, normalised
    number: str  # serial with its letter suffix, normalised
    elliptical: bool = False

    @property
    def year(self) -> int | None:
        return doc_number_year(self.number)


def normalize_doc_number(s: str) -> str:
    """Spaces removed, full-width digits/letters/brackets to ASCII (NFKC), letters kept as printed."""
    s = unicodedata.normalize("NFKC", s).replace("号", "號")
    return "".join(c for c in s if not c.isspace())


_YEAR_NUMBER = re.compile(r"第\s*([0-9０-９][0-9０-９\s]*)")


def doc_number_year(s: str) -> int | None:
    """ROC year of a number: its first three digits, when the number is long enough to hold one.

    Accepts a whole 字號 (`衛部資字第1112660027號` → 111) or the serial alone; a short
    receipt number (`129`) has no year.
    """
    s = unicodedata.normalize("NFKC", s)
    m = _YEAR_NUMBER.search(s)
    digits = re.sub(r"\D", "", m.group(1) if m else s)
    if len(digits) < 9:
        return None
    year = int(digits[:3])
    return year if 1 <= year <= 199 else None


def _collect_run(text: str, end: int) -> list[tuple[int, str]]:
    """Han characters (and small `(二)` groups) right before `end`, nearest last, as (index, char).

    A gap of whitespace is kept as a ("", index) marker so the caller can cut at it.
    """
    run: list[tuple[int, str]] = []
    j = end
    han = 0
    while j > 0 and han < _MAX_RUN:
        c = text[j - 1]
        if _is_han(c):
            run.append((j - 1, c))
            han += 1
            j -= 1
            continue
        if j == end and c in "0123456789０１２３４５６７８９" and j > 1 and _is_han(text[j - 2]):
            # a digit closing the 代字, as 勞動部 prints it (勞動條2字第…)
            run.append((j - 1, c))
            j -= 1
            continue
        if c in ")）":
            m = _SUBUNIT.search(text, max(0, j - 4), j)
            if m and m.start() > 0 and _is_han(text[m.start() - 1]):
                for k in range(j - 1, m.start() - 1, -1):
                    run.append((k, text[k]))
                j = m.start()
                continue
            break
        if c in _GAP:
            k = j
            while k > 0 and text[k - 1] in _GAP and j - k < _MAX_GAP:
                k -= 1
            if k > 0 and _is_han(text[k - 1]) and j - k <= _MAX_GAP:
                if run:
                    run.append((k, ""))
                j = k
                continue
            break
        break
    run.reverse()
    return run


def _ends_of_known_bodies(chars: str) -> set[int]:
    """Positions in `chars` right after the name of a known body (in matching form)."""
    norm = normalize_for_match(chars)
    if len(norm) != len(chars):  # exotic characters: skip the gazetteer rather than misalign
        return set()
    return gazetteer().name_ends(norm)


def _prefix_start(text: str, zi: int) -> int | None:
    """Index in `text` where the 代字 before 字 (at `zi`) begins; None when there is none."""
    run = _collect_run(text, zi)
    while run and run[-1][1] == "":
        run.pop()
    chars = [c for _, c in run if c]
    if not chars:
        return None
    positions = [i for i, c in run if c]
    flat = "".join(chars)
    # boundaries: number of characters cut from the left (0 = keep everything)
    cuts: set[int] = set()
    for word in (*_STOP_WORDS, *_ORG_ENDINGS):
        k = flat.find(word)
        while k >= 0:
            cuts.add(k + len(word))
            k = flat.find(word, k + 1)
    cuts |= _ends_of_known_bodies(flat)
    # gaps: cut at the last one when what follows is a word of its own (not spaced-out OCR)
    han_seen = 0
    last_gap_cut: int | None = None
    for _, c in run:
        if c == "":
            last_gap_cut = han_seen
        else:
            han_seen += 1
    if last_gap_cut is not None and len(flat) - last_gap_cut >= 2:
        cuts.add(last_gap_cut)
    valid = [c for c in cuts if 0 < c < len(flat)]
    cut = max(valid) if valid else 0
    if len(flat) - cut > MAX_PREFIX:
        # an unknown sender glued to its 代字: cut after the last agency-like suffix
        tail_start = len(flat) - MAX_PREFIX
        best = None
        for suffix in _ORG_SUFFIXES:
            k = flat.rfind(suffix, cut, len(flat) - 1)
            if k >= 0 and k + len(suffix) >= tail_start and k + len(suffix) < len(flat):
                e = k + len(suffix)
                best = e if best is None else min(best, e)
        cut = best if best is not None else tail_start
    if cut >= len(flat):
        return None
    start = positions[cut]
    if cut == 0:
        # a Latin head of the 代字 (食藥署's FDA藥字第…)
        latin = _LATIN_HEAD.search(text, max(0, start - 6), start)
        if latin:
            start = latin.start()
    return start


def _is_template(prefix: str, number: str) -> bool:
    if any(c in _TEMPLATE_CHARS for c in prefix):
        return True
    digits = re.sub(r"\D", "", number)
    return not digits or set(digits) == {"0"}


def _split_numbers(nums: str, offset: int) -> list[tuple[int, int]]:
    """(start, end) in the text of each number in `1120100216A、1120100216B`."""
    return [(offset + m.start(), offset + m.end()) for m in _NUM_RE.finditer(nums)]


def _mentions(
    text: str, prefix: str, spans: list[tuple[int, int]], first: int, last: int, continued: bool
) -> list[DocNumberMention]:
    """One mention per number of `spans` under `prefix`, templates left out: the first one's text starts at
    `first` (the 代字, or 第 of a continuation), the last one's ends at `last` (號); all but the first
    are elliptical (第…號 or a bare number), every one of them when `continued`."""
    out: list[DocNumberMention] = []
    for k, (ns, ne) in enumerate(spans):
        number = normalize_doc_number(text[ns:ne])
        if _is_template(prefix, number):
            continue
        s0 = first if k == 0 else ns
        e0 = last if k == len(spans) - 1 else ne
        out.append(DocNumberMention(text=text[s0:e0], normalized=f"{prefix}字第{number}號", start=s0, end=e0,
                                    prefix=prefix, number=number, elliptical=continued or k > 0))
    return out


def find_doc_numbers(text: str) -> list[DocNumberMention]:
    """Every 字號 in `text`, in order, elliptical continuations expanded, templates left out."""
    out: list[DocNumberMention] = []
    pos = 0
    while True:
        m = _CORE.search(text, pos)
        if m is None:
            break
        pos = m.end()
        start = _prefix_start(text, m.start())
        zi = m.start()
        if start is None:  # no 代字, or a template mark before 字 (府○○字第)
            continue
        prefix = normalize_doc_number(text[start:zi])
        if any(c in _TEMPLATE_CHARS for c in prefix):
            continue
        found = _mentions(text, prefix, _split_numbers(m.group("nums"), m.start("nums")), start, m.end(), False)
        if not found:
            continue
        out.extend(found)
        # 、第…號 / 及第…號 continuations
        while True:
            c = _CONTINUATION.match(text, pos)
            if c is None:
                break
            spans = _split_numbers(c.group("nums"), c.start("nums"))
            out.extend(_mentions(text, prefix, spans, text.index("第", c.start()), c.end(), True))
            pos = c.end()
    return out
