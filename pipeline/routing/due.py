"""When a forwarding task is due (docs/routing.md#due-dates, docs/letter.md#processing-time-limits).

A letter with an explicit deadline is due then. Otherwise its 速別 sets a limit in working
days (最速件 1, 速件 3, 普通件 6) counted from the day after it was received, by the
official calendar of the Directorate-General of Personnel Administration: the data files of
the `taiwan-holidays` package (read here with `csv`; the package's own API loads pandas
and scans a table per day asked). A year the package does not cover falls back to
Monday–Friday, and the basis says so.

A statistical form is due by its period rule (`每年終了1個月內編報` → the month after the
year's end); a computed due date that falls on a day off moves to the next working day
(行政程序法 §48: a period ending on a day off ends on the next working day).
"""

from __future__ import annotations

import calendar
import csv
import datetime
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from extractors.orgs import normalize_for_match

SPEED_DAYS: dict[str, int] = {"最速件": 1, "特急件": 1, "速件": 3, "普通件": 6}
DEFAULT_SPEED = "普通件"
_PERIOD_RULE = re.compile(r"每(?P<period>年|半年|季|月)(?:終了|結束)後?(?P<n>\d+)(?P<unit>日|天|個月|月)內")
_PERIOD_MONTHS = {"年": 12, "半年": 6, "季": 3, "月": 1}


@cache
def official_days_off() -> dict[datetime.date, bool]:
    """Every date the package's calendars cover → is it a day off (holidays, weekends, make-up workdays)."""
    out: dict[datetime.date, bool] = {}
    try:
        folder = resources.files("taiwan_holidays") / "data"
        files = [f for f in folder.iterdir() if f.name.endswith(".csv")]
    except (ModuleNotFoundError, FileNotFoundError):
        return out
    for f in files:
        with f.open(encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                try:
                    day = datetime.datetime.strptime(row["西元日期"].strip(), "%Y%m%d").date()
                except (KeyError, ValueError):
                    continue
                out[day] = row.get("是否放假", "").strip() == "2"
    return out


@dataclass
class WorkCalendar:
    """Working days by the official calendar; weekends only where it has no data."""

    days_off: dict[datetime.date, bool]

    @classmethod
    def official(cls) -> WorkCalendar:
        return cls(official_days_off())

    def covers(self, day: datetime.date) -> bool:
        return day in self.days_off

    def is_working_day(self, day: datetime.date) -> bool:
        off = self.days_off.get(day)
        return (day.weekday() < 5) if off is None else not off

    def add_working_days(self, start: datetime.date, n: int) -> datetime.date:
        """The n-th working day after `start` (start itself not counted)."""
        day = start
        while n > 0:
            day += datetime.timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def next_working_day(self, day: datetime.date) -> datetime.date:
        while not self.is_working_day(day):
            day += datetime.timedelta(days=1)
        return day


def _month_end(year: int, month: int) -> datetime.date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def form_due(rule: str | None, base: datetime.date, work: WorkCalendar) -> datetime.date | None:
    """The first due date on or after `base` under a form's period rule; None if the rule is not one."""
    if not rule:
        return None
    m = _PERIOD_RULE.search(normalize_for_match(rule))
    if m is None:
        return None
    months, n = _PERIOD_MONTHS[m["period"]], int(m["n"])
    # the period that contains `base` and the one before it: the earlier report may still be due
    first_month = ((base.month - 1) // months) * months + 1
    candidates: list[datetime.date] = []
    for shift in (-months, 0):
        end = _month_end(base.year, first_month + shift + months - 1)
        if m["unit"] in ("個月", "月"):
            due = _month_end(end.year, end.month + n)
        else:
            due = end + datetime.timedelta(days=n)
        candidates.append(work.next_working_day(due))
    return next((d for d in candidates if d >= base), candidates[-1])


def letter_due(
    deadline: datetime.date | None,
    speed: str | None,
    received: datetime.date | None,
    ingested: datetime.date,
    work: WorkCalendar,
) -> tuple[datetime.date, str]:
    """(due date, how it was set) for a letter's forwarding tasks."""
    if deadline is not None:
        return deadline, f"deadline {deadline.isoformat()} printed in the letter"
    key = normalize_for_match(speed or "")
    name = next((s for s in SPEED_DAYS if s == key), None)
    label = name or DEFAULT_SPEED
    days = SPEED_DAYS[label]
    start, source = (received, "received") if received is not None else (ingested, "ingested")
    due = work.add_working_days(start, days)
    note = "" if work.covers(due) else "; no official calendar for that year: weekends only"
    unknown = "" if name or not speed else f" ({speed!r} is not a known 速別)"
    return due, f"{label}{unknown}: {days} working day{'s' if days > 1 else ''} after {start.isoformat()} ({source}){note}"
