"""Due dates: working days by the official calendar (taiwan-holidays data), deadlines, form period rules."""

from __future__ import annotations

import datetime

import pytest

from pipeline.routing.due import WorkCalendar, form_due, letter_due

D = datetime.date
WORK = WorkCalendar.official()


def test_official_calendar_knows_lunar_new_year_and_the_make_up_workday() -> None:
    assert not WORK.is_working_day(D(2024, 2, 8))  # 小年夜
    assert not WORK.is_working_day(D(2024, 2, 14))  # 補假
    assert WORK.is_working_day(D(2024, 2, 17))  # a Saturday, 補行上班
    assert not WORK.is_working_day(D(2024, 2, 18))


def test_normal_letter_received_before_lunar_new_year() -> None:
    # received Wed 2024-02-07; 普通件 = 6 working days from the next day:
    # 2/8-2/14 off, 2/15 (1), 2/16 (2), Sat 2/17 make-up (3), 2/19 (4), 2/20 (5), 2/21 (6)
    due, basis = letter_due(None, "普通件", D(2024, 2, 7), D(2024, 3, 1), WORK)
    assert due == D(2024, 2, 21)
    assert "received" in basis


@pytest.mark.parametrize(("speed", "expected"), [("最速件", D(2024, 2, 15)), ("速件", D(2024, 2, 17)), ("特急件", D(2024, 2, 15))])
def test_speeds_across_the_holiday(speed: str, expected: datetime.date) -> None:
    assert letter_due(None, speed, D(2024, 2, 7), D(2024, 3, 1), WORK)[0] == expected


def test_deadline_wins_and_ingest_day_is_the_fallback() -> None:
    assert letter_due(D(2024, 2, 9), "最速件", D(2024, 2, 7), D(2024, 3, 1), WORK)[0] == D(2024, 2, 9)
    due, basis = letter_due(None, None, None, D(2024, 3, 1), WORK)  # Fri 3/1: 6 working days → Mon 3/11
    assert due == D(2024, 3, 11) and "ingested" in basis


def test_unknown_speed_counts_as_normal_and_says_so() -> None:
    due, basis = letter_due(None, "急件?", None, D(2024, 3, 1), WORK)
    assert due == D(2024, 3, 11) and "not a known 速別" in basis


def test_year_without_official_data_falls_back_to_weekdays_and_says_so() -> None:
    due, basis = letter_due(None, "速件", D(2021, 5, 20), D(2021, 6, 1), WORK)  # 110年: not in the package
    assert due == D(2021, 5, 25) and "weekends only" in basis


@pytest.mark.parametrize(
    ("rule", "base", "expected"),
    [
        ("每年終了1個月內編報", D(2023, 6, 10), D(2024, 1, 31)),
        ("每年終了1個月內編報", D(2024, 1, 10), D(2024, 1, 31)),  # last year's report is still due
        ("每半年終了1個月內編報", D(2024, 3, 1), D(2024, 7, 31)),
        ("每季終了後20日內編報", D(2024, 1, 2), D(2024, 1, 22)),  # Q4 2023 + 20 days (Sat 1/20 → Mon 1/22)
        ("每月終了後10日內編報", D(2024, 2, 15), D(2024, 2, 15)),  # January's: 2/10 falls in the holiday → 2/15
        ("每月終了後10日內編報", D(2024, 2, 16), D(2024, 3, 11)),  # February's: 3/10 is a Sunday
        ("每年終了一個月內", D(2024, 1, 10), None),  # Chinese numerals: not read, never guessed
    ],
)
def test_form_period_rules(rule: str, base: datetime.date, expected: datetime.date | None) -> None:
    assert form_due(rule, base, WORK) == expected
