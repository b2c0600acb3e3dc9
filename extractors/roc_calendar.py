"""The Republic of China (民國) calendar, as printed on Taiwanese official letters.

Built the way dateparser builds its non-Gregorian calendars (``dateparser/calendars/jalali.py``,
``hijri.py``, ``minguo.py``): a small converter class (``to_gregorian`` / ``from_gregorian`` /
``month_length``), numeral tables, and a table of the printed forms. dateparser's own Minguo
calendar parses an isolated string but cannot locate one in running text and reads ``12/06/08``
as a date; the forms here are shared with ``extractors.dates``, which adds the boundaries.
"""

from __future__ import annotations

import calendar
import datetime
import re
from typing import ClassVar, Final, Literal

YEAR_OFFSET: Final = 1911
"""民國1年 (元年) is 1912."""
MIN_ROC_YEAR: Final = 1
MIN_ROC_YEAR_BARE: Final = 38
"""Digits and dots alone (12.1.5, 10. 11. 12) are section numbers before they are dates of 1923; the
numeric forms are only read from 民國38年 (1949) on, while 112年... forms keep the whole range."""
MAX_ROC_YEAR: Final = 200
MIN_GREGORIAN_YEAR: Final = 1900
MAX_GREGORIAN_YEAR: Final = 2199

CalendarName = Literal["roc", "gregorian"]

# One character to one character, so offsets into a half-width copy are offsets into the original.
# Only located candidates are translated: the forms below read full-width digits as printed, which is
# cheaper than translating every letter.
_HALFWIDTH: Final = str.maketrans(
    "０１２３４５６７８９／．－：（）～，\u3000",
    "0123456789/.-:()~, ",
)

CN_DIGITS: Final[dict[str, int]] = {
    "〇": 0, "○": 0, "零": 0,
    "一": 1, "二": 2, "兩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
CN_UNITS: Final[dict[str, int]] = {"十": 10, "百": 100}
CN_NUMERALS: Final = "".join(CN_DIGITS) + "".join(CN_UNITS)


def to_halfwidth(text: str) -> str:
    """Full-width digits and date punctuation as ASCII; same length, so match offsets still hold."""
    return text.translate(_HALFWIDTH)


def cn_to_int(token: str) -> int | None:
    """A number in Arabic digits (either width), Chinese digit by digit (一一二) or positional (一百十二)."""
    if not token:
        return None
    if token.isdecimal():
        return int(token)
    if token == "元":
        return 1
    if any(ch not in CN_DIGITS and ch not in CN_UNITS for ch in token):
        return None
    if not any(ch in CN_UNITS for ch in token):
        return int("".join(str(CN_DIGITS[ch]) for ch in token))
    total = 0
    pending: int | None = None
    last_unit = 1000
    for ch in token:
        if ch in CN_DIGITS:
            if pending is not None and pending != 0:
                return None  # two digits in a row in a positional number: not a number
            pending = CN_DIGITS[ch]
            continue
        unit = CN_UNITS[ch]
        if unit >= last_unit:
            return None
        total += (1 if pending is None else pending) * unit
        pending = None
        last_unit = unit
    if pending:
        total += pending
    return total


def roc_words(day: datetime.date) -> str:
    """`2023-11-20` → `112年11月20日`: a date as letters print it (中華民國 left to the caller)."""
    return f"{day.year - YEAR_OFFSET}年{day.month}月{day.day}日"


class RocConverter:
    """ROC <-> Gregorian, shaped like dateparser's ``_minguo`` converter."""

    @classmethod
    def to_gregorian(cls, year: int, month: int, day: int) -> tuple[int, int, int]:
        return year + YEAR_OFFSET, month, day

    @classmethod
    def from_gregorian(cls, year: int, month: int, day: int) -> tuple[int, int, int]:
        return year - YEAR_OFFSET, month, day

    @classmethod
    def month_length(cls, year: int, month: int) -> int:
        return calendar.monthrange(year + YEAR_OFFSET, month)[1]

    @classmethod
    def to_date(cls, year: int, month: int, day: int) -> datetime.date | None:
        """None rather than an exception: an impossible date in a letter is simply not a date."""
        if not (MIN_ROC_YEAR <= year <= MAX_ROC_YEAR and 1 <= month <= 12):
            return None
        if not 1 <= day <= cls.month_length(year, month):
            return None
        return datetime.date(*cls.to_gregorian(year, month, day))


def classify_year(token: str) -> tuple[CalendarName, int] | None:
    """Which calendar a printed year belongs to: 4 digits from 1900 are Gregorian, 1-3 are ROC."""
    value = cn_to_int(token)
    if value is None:
        return None
    # 一百十二 is a three-digit year however many characters it takes; 元 is one.
    positional = token == "元" or any(ch in CN_UNITS for ch in token)
    digits = len(str(value)) if positional else len(token)
    if digits == 4:
        if MIN_GREGORIAN_YEAR <= value <= MAX_GREGORIAN_YEAR:
            return "gregorian", value
        return None
    if digits <= 3 and MIN_ROC_YEAR <= value <= MAX_ROC_YEAR:
        return "roc", value
    return None


DIGITS: Final = "0-9０-９"
"""ASCII and full-width digits, for use inside a character class; int() reads both."""
SEPARATORS: Final = "/.\\-／．－"
_GAP = r"\s{0,3}"
_SPACE = r"[ \t\u3000]"
YEAR_TOKEN: Final = rf"(?:[{DIGITS}]{{1,4}}|[{CN_NUMERALS}]{{1,6}}|元)"
MONTH_TOKEN: Final = rf"(?:[{DIGITS}]{{1,2}}|[一二三四五六七八九十]{{1,3}})"
DAY_TOKEN: Final = rf"(?:[{DIGITS}]{{1,2}}|[一二三四五六七八九十]{{1,3}})"
ERA: Final = r"(?:中華)?民國"

# The printed forms, matched on the text as printed (full-width digits included). Group names are
# shared between forms; extractors.dates tags them to combine the forms into one scanner.
FORMS: Final[dict[str, str]] = {
    # 中華民國112年6月8日, 民國元年1月1日, 112年5月15日, 一百十二年六月八日, 2023年5月30日
    "ymd": (
        rf"(?:(?P<era>{ERA}){_GAP})?(?P<year>{YEAR_TOKEN}){_GAP}年{_GAP}"
        rf"(?P<month>{MONTH_TOKEN}){_GAP}月{_GAP}(?P<day>{DAY_TOKEN}){_GAP}[日號]"
    ),
    # 112/06/01, 112.06.01, 111. 1. 25 (receipt stamps), 112-06-01, 2022/01/19
    "numeric": (
        rf"(?P<year>[{DIGITS}]{{2,4}}){_SPACE}?(?P<sep>[{SEPARATORS}]){_SPACE}{{0,2}}(?P<month>[{DIGITS}]{{1,2}})"
        rf"{_SPACE}?(?P=sep){_SPACE}{{0,2}}(?P<day>[{DIGITS}]{{1,2}})"
    ),
    # 6月30日, 九月三十日: only with a year from context
    "md": rf"(?P<month>{MONTH_TOKEN}){_GAP}月{_GAP}(?P<day>{DAY_TOKEN}){_GAP}[日號]",
}


def tagged(pattern: str, tag: str) -> str:
    """The same form with its group names prefixed, so several forms fit in one regex."""
    return pattern.replace("(?P<", f"(?P<{tag}_").replace("(?P=", f"(?P={tag}_")


class RocCalendar:
    """One whole ROC date string to a Gregorian date, like dateparser's ``CalendarBase(source)``."""

    converter: ClassVar[type[RocConverter]] = RocConverter
    _forms: ClassVar[tuple[re.Pattern[str], ...]] = tuple(
        re.compile(FORMS[name]) for name in ("ymd", "numeric")
    )

    def __init__(self, source: str) -> None:
        self.source = source

    def get_date(self) -> datetime.date | None:
        text = self.source.strip()
        for form in self._forms:
            m = form.fullmatch(text)
            if m:
                groups = m.groupdict()
                return self.from_parts(m.group("year"), m.group("month"), m.group("day"),
                                       era=groups.get("era") is not None, bare="sep" in groups)
        return None

    @classmethod
    def from_parts(
        cls, year: str, month: str, day: str, *, era: bool = False, bare: bool = False
    ) -> datetime.date | None:
        """The date for printed parts, or None when they are not an ROC date (元 needs 民國).

        ``bare``: the numeric form (112/06/01), which has no 年 to say it is a year at all.
        """
        if year == "元" and not era:
            return None
        kind = classify_year(year)
        m, d = cn_to_int(month), cn_to_int(day)
        if kind is None or kind[0] != "roc" or m is None or d is None:
            return None
        if bare and kind[1] < MIN_ROC_YEAR_BARE:
            return None
        return cls.converter.to_date(kind[1], m, d)
