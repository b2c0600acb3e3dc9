"""Dates in letters (docs/letter.md#roc-dates): found by one compiled scanner, converted by the right calendar.

Regexes only locate candidates. The numeric and 年月日 forms (ROC and Gregorian: 112/06/08, 2023-06-08,
2023/6/8 on exchange stamps, 2023年6月8日) are converted from the parts the scanner matched, ROC years by
``extractors.roc_calendar``: the parts are the date, so there is nothing left for a date parser to decide,
and dateparser alone finds no ROC date, reads ``12/06/08`` out of ``112/06/08`` and costs its import on
every letter. dateparser does the work it is good at: dates with English month names (June 8, 2023;
8 Jun 2023; Sept. 1st, 2023) in English attachments and letters, located here and converted by it
(month names, abbreviations, ordinals, impossible days refused), imported only when a text has one.
A candidate that starts or ends inside a longer number is never a date, so barcodes, 字號 and phone
numbers yield nothing.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from typing import Any, Final

from extractors.roc_calendar import (
    CN_NUMERALS,
    DIGITS,
    FORMS,
    MAX_ROC_YEAR,
    YEAR_OFFSET,
    CalendarName,
    RocCalendar,
    classify_year,
    cn_to_int,
    tagged,
)

__all__ = ["FoundDate", "find_dates", "find_deadline", "parse_date", "parse_meeting_time"]


@dataclass(frozen=True)
class FoundDate:
    """One date as printed; offsets index the caller's string, not a normalised copy."""

    text: str
    date: datetime.date
    start: int
    end: int
    year_given: bool
    calendar: CalendarName


@dataclass(frozen=True)
class _Hit:
    found: FoundDate
    range_end: bool  # joined to the previous date by 至/~: the end of a period


# The leading lookahead lets the regex engine skip most positions at once (5x faster on letters).
_SCANNER: Final = re.compile(
    rf"(?=[{DIGITS}{CN_NUMERALS}元中民])(?:"
    rf"(?<![{DIGITS}{CN_NUMERALS}]){tagged(FORMS['ymd'], 'f')}"
    rf"|(?<![{DIGITS}A-Za-z_]){tagged(FORMS['numeric'], 'n')}(?![{DIGITS}A-Za-z])"
    rf"|(?<![{DIGITS}{CN_NUMERALS}]){tagged(FORMS['md'], 'p')})"
)
_WEEKDAY: Final = r"(?:[(（]\s*(?:星期|週|周|禮拜)?\s*[一二三四五六日天]\s*[)）])"
_CLOCK: Final = (
    rf"(?:(?:上午|下午|中午|晚上|晚間|早上|凌晨|傍晚)?\s*[{DIGITS}]{{1,2}}\s*"
    rf"(?:[時點点]\s*(?:[{DIGITS}]{{1,2}}\s*分|半)?|[:：]\s*[{DIGITS}]{{2}}))"
)
# What may stand between the two ends of a range: 自112年5月15日(星期一)上午9時起至同年6月30日.
_RANGE_GAP: Final = re.compile(
    rf"\s*{_WEEKDAY}?\s*{_CLOCK}?\s*起?\s*(?:至|到|[~～\-－–—])\s*{_WEEKDAY}?\s*(?P<which>同年|當年|次年|翌年)?\s*"
)
# 每年1月1日, 該年度12月31日, 前一年度12月31日: a recurring or relative date, not a calendar date.
_RELATIVE_YEAR: Final = re.compile(r"(?:每|該|前一?|上一?|次|下一?|隔|去|明|翌|當|同|歷|各)\s*年\s*度?\s*$")

_MONTH_NAME: Final = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_EN_DAY: Final = r"(?:[0-3]?[0-9])(?:st|nd|rd|th)?"
_EN_YEAR: Final = r"(?:1[89]|2[01])[0-9]{2}"
# 8 June 2023, 8th of June 2023, June 8, 2023, Sept. 1st 2023: an English date with its year
_ENGLISH: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_EN_DAY}\s+(?:of\s+)?{_MONTH_NAME},?|{_MONTH_NAME}\s+{_EN_DAY},?)\s+{_EN_YEAR}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_HAS_MONTH_NAME: Final = re.compile(r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)")

_DATEPARSER_SETTINGS: Final[dict[str, Any]] = {
    "STRICT_PARSING": True,
    "PREFER_DAY_OF_MONTH": "first",
    "PARSERS": ["absolute-time"],
    "RETURN_AS_TIMEZONE_AWARE": False,
}


@functools.lru_cache(maxsize=4096)
def _parse_english(candidate: str) -> datetime.date | None:
    """dateparser on an English date already located; imported here, as most letters print none."""
    import dateparser

    parsed = dateparser.parse(candidate, languages=["en"], settings=_DATEPARSER_SETTINGS)
    return parsed.date() if parsed is not None else None


def _english_hits(text: str, taken: list[_Hit]) -> list[_Hit]:
    """English dates outside the spans the scanner took (cheap when the text names no month)."""
    if _HAS_MONTH_NAME.search(text) is None:
        return []
    spans = [(h.found.start, h.found.end) for h in taken]
    hits: list[_Hit] = []
    for m in _ENGLISH.finditer(text):
        start, end = m.span()
        if any(s < end and start < e for s, e in spans):
            continue
        date = _parse_english(re.sub(r"\s+", " ", m.group(0)))
        if date is not None:
            hits.append(_Hit(FoundDate(m.group(0), date, start, end, True, "gregorian"), range_end=False))
    return hits


def _gregorian(year: int, month: int | None, day: int | None) -> datetime.date | None:
    """A Gregorian date from the parts the scanner read; None for an impossible one (2023年2月30日)."""
    if month is None or day is None:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


_SPACES: Final = r"[ \t\u3000]*"
_SEP_BEFORE: Final = {
    sep: re.compile(rf"[{DIGITS}]{_SPACES}{re.escape(sep)}{_SPACES}$") for sep in "/.-／．－"
}
_SEP_AFTER: Final = {sep: re.compile(rf"{_SPACES}{re.escape(sep)}{_SPACES}[{DIGITS}]") for sep in "/.-／．－"}


_SECTION_BEFORE: Final = re.compile(r"第\s*$")
_SECTION_AFTER: Final = re.compile(r"\s*[點条條項款節章]")


def _numeric_boundary_ok(text: str, start: int, end: int, sep: str) -> bool:
    """`01-01-2` inside `10522-01-01-2` (a form number), `1.1.1` inside `192.1.1.1` and the section
    number in 第112.1.5點 are not dates."""
    if _SEP_BEFORE[sep].search(text, max(0, start - 6), start):
        return False
    if _SECTION_BEFORE.search(text, max(0, start - 2), start) or _SECTION_AFTER.match(text, end, end + 2):
        return False
    return not _SEP_AFTER[sep].match(text, end, end + 6)


def _default_year(default_year: int | None) -> int | None:
    if default_year is not None and default_year <= MAX_ROC_YEAR:
        return default_year + YEAR_OFFSET  # an ROC year given where a Gregorian one was expected
    return default_year


def _scan(text: str, default_year: int | None) -> list[_Hit]:
    year_default = _default_year(default_year)
    hits: list[_Hit] = []
    for m in _SCANNER.finditer(text):
        start, end = m.span()
        prev = hits[-1].found if hits else None
        gap = _RANGE_GAP.fullmatch(text, prev.end, start) if prev is not None else None
        date: datetime.date | None = None
        calendar: CalendarName = "roc"
        year_given = True
        if m.group("f_year") is not None:
            era = m.group("f_era") is not None
            kind = classify_year(m.group("f_year"))
            if kind is not None and kind[0] == "gregorian":
                if era:
                    continue
                month, day = cn_to_int(m.group("f_month")), cn_to_int(m.group("f_day"))
                calendar = "gregorian"
                date = _gregorian(kind[1], month, day)
            else:
                date = RocCalendar.from_parts(m.group("f_year"), m.group("f_month"), m.group("f_day"), era=era)
        elif m.group("n_year") is not None:
            if not _numeric_boundary_ok(text, start, end, m.group("n_sep")):
                continue
            kind = classify_year(m.group("n_year"))
            if kind is not None and kind[0] == "gregorian":
                calendar = "gregorian"
                date = _gregorian(kind[1], int(m.group("n_month")), int(m.group("n_day")))
            else:
                date = RocCalendar.from_parts(m.group("n_year"), m.group("n_month"), m.group("n_day"), bare=True)
        else:
            if gap is None and _RELATIVE_YEAR.search(text, max(0, start - 6), start):
                continue
            year_given = False
            month, day = cn_to_int(m.group("p_month")), cn_to_int(m.group("p_day"))
            if prev is not None and gap is not None:
                year = prev.date.year
                calendar = prev.calendar
                which = gap.group("which")
                before_start = (month or 0, day or 0) < (prev.date.month, prev.date.day)
                if which in ("次年", "翌年") or (which is None and before_start):
                    year += 1  # 112年12月1日至1月31日 ends in the next year
            elif year_default is not None:
                year = year_default
            else:
                continue
            if month is None or day is None:
                continue
            try:
                date = datetime.date(year, month, day)
            except ValueError:
                date = None
        if date is None:
            continue
        found = FoundDate(text[start:end], date, start, end, year_given, calendar)
        hits.append(_Hit(found, range_end=gap is not None))
    english = _english_hits(text, hits)
    return sorted(hits + english, key=lambda h: h.found.start) if english else hits


def find_dates(text: str, default_year: int | None = None) -> list[FoundDate]:
    """Every date in order; a date printed without its year needs a range start or default_year."""
    return [hit.found for hit in _scan(text, default_year)]


def parse_date(text: str) -> datetime.date | None:
    """One whole string as a date (CLI filters, the 發文日期 field); None for anything else."""
    stripped = text.strip()
    if not stripped:
        return None
    found = find_dates(stripped)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped) and found[0].year_given:
        return found[0].date
    return None


_AFTER: Final = re.compile(rf"\s*{_WEEKDAY}?\s*{_CLOCK}?\s*(?P<tail>.{{0,16}})", re.S)
_ACT_CUE: Final = re.compile(r"請|於|最遲|最晚|務必|務請|須|需|應|限|截至")
_ACT_VERB: Final = re.compile(
    r"^(?:以|之)?前\s*(?:回覆|回復|函復|函覆|送|寄|報|提出|提報|繳|完成|上傳|填|申請|回傳|擲回|彙整|辦理)"
)
# `於113年1月1日前經核准者`: who qualifies, not a date to act by
_CONDITION: Final = re.compile(r"^(?:以|之)?前\s*(?:已|經|曾|業經|業已|取得|領有)[^，。；,;]{0,12}者")
_PERIOD_CUE: Final = re.compile(
    r"申請|申報|報名|受理|收件|徵件|繳交|繳費|送件|投稿|登記|填報|回覆|回復|報送|提出|提報|推薦|期限|截止"
)
_LABEL_CUE: Final = re.compile(r"(?:期限|截止日期|截止日|截止時間|截止|回覆日期|繳交日期)\s*(?:[:：]|為|至|於)?\s*$")
_CLAUSE_END: Final = re.compile(r"[。；;！？!?]|\n\s*\n")
_CLAUSE_REACH: Final = 60


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - _CLAUSE_REACH):start]
    cut = 0
    for m in _CLAUSE_END.finditer(window):
        cut = m.end()
    return window[cut:]


def _is_deadline(text: str, hit: _Hit) -> bool:
    """A deadline phrase: 請於…前, …截止, the end of a 申請期間…至…止, or a 期限：… label."""
    found = hit.found
    after = _AFTER.match(text, found.end)
    tail = after.group("tail") if after else ""
    clause = _clause_before(text, found.start)
    if tail.startswith("起"):
        return False  # 自112年7月1日起生效: an effective date
    if tail.startswith("截止"):
        return True
    if _CONDITION.match(tail):
        return False
    if tail.startswith(("前", "以前", "之前")):
        return bool(_ACT_CUE.search(clause) or _ACT_VERB.match(tail))
    if tail.startswith(("止", "為止")):
        return bool(_PERIOD_CUE.search(clause))
    if hit.range_end and (_PERIOD_CUE.search(clause) or _PERIOD_CUE.search(tail[:6])):
        return True
    return bool(_LABEL_CUE.search(clause))


def find_deadline(text: str, default_year: int | None = None) -> datetime.date | None:
    """The first date by which the addressee must act; effective and meeting dates are not."""
    hits = _scan(text, default_year)
    for i, hit in enumerate(hits):
        if i + 1 < len(hits) and hits[i + 1].range_end:
            continue  # the start of a period is never its deadline
        if _is_deadline(text, hit):
            return hit.found.date
    return None


_TIME_AFTER: Final = re.compile(
    rf"\s*{_WEEKDAY}?\s*(?P<ampm>上午|下午|中午|晚上|晚間|早上|凌晨|傍晚)?\s*"
    rf"(?P<hour>[{DIGITS}]{{1,2}}|[{CN_NUMERALS}]{{1,3}})\s*"
    rf"(?:[:：]\s*(?P<colon_min>[{DIGITS}]{{2}})|[時點点]\s*(?:(?P<half>半)|(?P<min>[{DIGITS}]{{1,2}}|[{CN_NUMERALS}]{{1,3}})\s*分?)?)"
)
_PM: Final = ("下午", "晚上", "晚間", "傍晚")


def parse_meeting_time(text: str, default_year: int | None = None) -> datetime.datetime | None:
    """The 開會時間 field: a date and the clock time printed after it; None when either is missing."""
    hits = _scan(text, default_year)
    if not hits:
        return None
    found = hits[0].found
    m = _TIME_AFTER.match(text, found.end)
    if m is None:
        return None
    hour = cn_to_int(m.group("hour"))
    minute_text = m.group("colon_min") or m.group("min")
    minute = 30 if m.group("half") else (cn_to_int(minute_text) if minute_text else 0)
    if hour is None or minute is None:
        return None
    ampm = m.group("ampm")
    if ampm in _PM and hour < 12:
        hour += 12
    elif ampm == "凌晨" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return datetime.datetime.combine(found.date, datetime.time(hour, minute))
