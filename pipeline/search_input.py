"""What a person types as search filters, read into `SearchFilters`: one reading for the CLI and the web.

`gongwen search` options and the web search form take the same values (docs/archive.md#filters):
dates in ROC or ISO form, a year or a month alone, a 速別 with or without 件, a kind. A value
that cannot be read is a `FilterError` whose message names the field as the caller calls it
(`--from` on the command line, 發文日期起 on the page) and says what would be read.

Light on purpose: `gongwen --help` imports it (the archive's modules are imported inside
`search_filters`, which builds the dataclass).
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractors.glossary import SPEEDS

if TYPE_CHECKING:
    from pipeline.search_sql import SearchFilters

KINDS = ("letter", "form", "other")


class FilterError(ValueError):
    """A filter value that cannot be read; the message is one line saying what to give instead."""


@dataclass(frozen=True)
class FieldNames:
    """What the caller calls each filter in its messages."""

    date_from: str = "--from"
    date_to: str = "--to"
    speed: str = "--speed"
    kind: str = "--kind"


CLI_NAMES = FieldNames()

# a year or a month alone: ROC (112年, 民國112年3月, 112/03) or Gregorian (2023, 2023-03, 2023年3月)
_YEAR_MONTH = re.compile(
    r"(?:中華民國|民國)?(?P<year>\d{1,4})(?:年|(?=[/.-]|$))(?:[/.-]?(?P<month>\d{1,2})月?)?"
)


def _year_month(value: str, end: bool) -> datetime.date | None:
    """The first (or with `end`, the last) day of a year or month given alone; None if it is not one."""
    m = _YEAR_MONTH.fullmatch(re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)))
    if m is None:
        return None
    year = int(m["year"])
    if len(m["year"]) < 4:  # up to three digits: an ROC year (民國元年 = 1912)
        year = year + 1911 if year >= 1 else 0
    month = int(m["month"]) if m["month"] else None
    if not datetime.MINYEAR <= year <= datetime.MAXYEAR or (month is not None and not 1 <= month <= 12):
        return None
    if not end:
        return datetime.date(year, month or 1, 1)
    month = month or 12
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def parse_day(value: str | None, field: str, end: bool = False) -> datetime.date | None:
    """A day, or a year or month standing for its first day (a start) or last day (`end`); blank: None."""
    if value is None or not value.strip():
        return None
    from extractors.dates import parse_date

    day = parse_date(value) or _year_month(value, end)
    if day is None:
        try:
            day = datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise FilterError(
                f"{field}: not a date: {value!r} (e.g. 112/05/30, 民國112年5月30日, 2023-05-30, a year 112年 or 2023, "
                "a month 112/03 or 2023-03)"
            ) from None
    return day


def parse_speed(value: str | None, field: str = CLI_NAMES.speed) -> str | None:
    """A 速別 of the glossary (件 may be left out); blank: None."""
    if value is None or not value.strip():
        return None
    speed = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    for known in (speed, speed + "件"):
        if known in SPEEDS:
            return known
    raise FilterError(f"{field}: unknown 速別 {value!r}: use one of {', '.join(SPEEDS)}")


def search_filters(
    *,
    sender: str | None = None,
    recipient: str | None = None,
    include_agencies: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
    speed: str | None = None,
    number: str | None = None,
    kind: str | None = None,
    names: FieldNames = CLI_NAMES,
) -> SearchFilters:
    """The filters as typed, read and checked (a kind, a date range the right way round); blanks are no filter."""
    from pipeline.search_sql import SearchFilters

    kind = kind.strip() if kind and kind.strip() else None
    if kind is not None and kind not in KINDS:
        raise FilterError(f"{names.kind} must be one of {', '.join(KINDS)}")
    filters = SearchFilters(
        sender=sender.strip() if sender and sender.strip() else None,
        recipient=recipient.strip() if recipient and recipient.strip() else None,
        date_from=parse_day(date_from, names.date_from),
        date_to=parse_day(date_to, names.date_to, end=True),
        speed=parse_speed(speed, names.speed),
        number=number.strip() if number and number.strip() else None,
        kind=kind,
        include_agencies=include_agencies,
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise FilterError(
            f"{names.date_from} {date_from} ({filters.date_from}) is after {names.date_to} {date_to} "
            f"({filters.date_to}): swap them"
        )
    return filters
