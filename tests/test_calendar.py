"""China's working-day calendar: the library's schedule, admin overrides, unknown years."""

from datetime import date

import pytest
from flask_babel import force_locale

from mediation.core import calendar
from mediation.core.calendar import (
    CalendarDay,
    add_days,
    holidays_in,
    is_working_day,
    makeup_days_in,
    roll_to_working_day,
    working_days_between,
    year_status,
)
from mediation.extensions import db

FAR_YEAR = 2031  # no library will know this one for a while


def _add(day: date, is_workday: bool, name: str = "") -> None:
    db.session.add(CalendarDay(day=day, is_workday=is_workday, name=name))
    db.session.commit()


def test_national_day_and_its_makeup_sunday(app):
    assert not is_working_day(date(2025, 10, 1))  # Wednesday, National Day
    assert not is_working_day(date(2025, 10, 8))  # the last day of the 2025 golden week
    assert is_working_day(date(2025, 9, 28))  # Sunday, worked in lieu (调休上班)
    assert is_working_day(date(2025, 10, 11))  # Saturday, worked in lieu
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    assert is_working_day(date(2025, 10, 9))  # an ordinary Thursday


@pytest.mark.skipif(not calendar.library_covers(2026), reason="chinesecalendar lacks 2026")
def test_spring_festival_2026(app):
    assert year_status(2026) == "library"
    assert not any(is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert is_working_day(date(2026, 2, 14))  # Saturday before, worked in lieu
    assert is_working_day(date(2026, 2, 28))  # Saturday after, worked in lieu
    assert roll_to_working_day(date(2026, 2, 16)) == date(2026, 2, 24)


def test_add_calendar_days_counts_from_the_day_after(app):
    assert add_days(date(2025, 9, 1), 30, working=False) == date(2025, 10, 1)
    assert add_days(date(2025, 9, 1), 0, working=False) == date(2025, 9, 1)
    with pytest.raises(ValueError):
        add_days(date(2025, 9, 1), -1, working=True)


def test_add_working_days_over_the_national_day_week(app):
    # Tue 30 Sep 2025: the next working day is Thu 9 Oct, then Fri 10, Sat 11 (in lieu).
    assert add_days(date(2025, 9, 30), 1, working=True) == date(2025, 10, 9)
    assert add_days(date(2025, 9, 30), 3, working=True) == date(2025, 10, 11)
    assert add_days(date(2025, 9, 30), 4, working=True) == date(2025, 10, 13)
    # From Fri 26 Sep: Sun 28 (in lieu) and Tue 30 (Mon 29 between them).
    assert add_days(date(2025, 9, 26), 1, working=True) == date(2025, 9, 28)
    assert add_days(date(2025, 9, 26), 0, working=True) == date(2025, 9, 26)


def test_a_thirty_day_deadline_that_ends_in_the_holiday_moves_after_it(app):
    """CPL 85: the start day is not counted; a deadline on a holiday moves to the next
    working day."""
    effective = date(2025, 9, 2)
    deadline = add_days(effective, 30, working=False)
    assert deadline == date(2025, 10, 2)
    assert roll_to_working_day(deadline) == date(2025, 10, 9)
    assert roll_to_working_day(date(2025, 10, 9)) == date(2025, 10, 9)
    assert roll_to_working_day(date(2025, 9, 28)) == date(2025, 9, 28)  # worked in lieu


def test_working_days_between(app):
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 10)) == 2  # 9th and 10th
    assert working_days_between(date(2025, 9, 26), date(2025, 9, 30)) == 3  # 28, 29, 30
    assert working_days_between(date(2025, 10, 10), date(2025, 10, 10)) == 0
    assert working_days_between(date(2025, 10, 10), date(2025, 10, 1)) == 0


def test_an_override_row_wins_over_the_library(app):
    _add(date(2025, 10, 9), False, "台风停工")
    _add(date(2025, 10, 4), True, "调整上班")
    assert not is_working_day(date(2025, 10, 9))
    assert is_working_day(date(2025, 10, 4))
    assert add_days(date(2025, 9, 30), 1, working=True) == date(2025, 10, 4)
    assert roll_to_working_day(date(2025, 10, 6)) == date(2025, 10, 10)
    assert working_days_between(date(2025, 9, 30), date(2025, 10, 10)) == 2  # 4th and 10th
    assert (date(2025, 10, 9), "台风停工") in holidays_in(2025)
    assert (date(2025, 10, 4), "调整上班") in makeup_days_in(2025)
    assert date(2025, 10, 4) not in dict(holidays_in(2025))


def test_a_year_the_library_lacks_counts_weekends_only(app):
    assert not calendar.library_covers(FAR_YEAR)
    assert year_status(FAR_YEAR) == "weekends_only"
    assert calendar.years_without_data(date(2025, 12, 1), date(FAR_YEAR, 1, 5)) == [
        y for y in range(2025, FAR_YEAR + 1) if not calendar.library_covers(y)]
    assert is_working_day(date(FAR_YEAR, 1, 1))  # a Wednesday: no holiday known
    assert not is_working_day(date(FAR_YEAR, 1, 4))  # Saturday
    assert add_days(date(FAR_YEAR, 1, 3), 1, working=True) == date(FAR_YEAR, 1, 6)
    assert roll_to_working_day(date(FAR_YEAR, 1, 4)) == date(FAR_YEAR, 1, 6)
    assert holidays_in(FAR_YEAR) == []
    assert makeup_days_in(FAR_YEAR) == []


def test_rows_for_an_unknown_year_make_it_a_table_year(app):
    _add(date(FAR_YEAR, 1, 1), False, "元旦")
    _add(date(FAR_YEAR, 1, 4), True, "元旦调休上班")
    assert year_status(FAR_YEAR) == "table"
    assert year_status(FAR_YEAR + 1) == "weekends_only"
    assert not is_working_day(date(FAR_YEAR, 1, 1))
    assert is_working_day(date(FAR_YEAR, 1, 4))
    assert add_days(date(FAR_YEAR - 1, 12, 31), 1, working=True) == date(FAR_YEAR, 1, 2)
    assert working_days_between(date(FAR_YEAR - 1, 12, 31), date(FAR_YEAR, 1, 5)) == 3
    assert holidays_in(FAR_YEAR) == [(date(FAR_YEAR, 1, 1), "元旦")]
    assert makeup_days_in(FAR_YEAR) == [(date(FAR_YEAR, 1, 4), "元旦调休上班")]


def test_holidays_and_makeup_days_from_the_library(app):
    with force_locale("en"):
        holidays = dict(holidays_in(2025))
    assert holidays[date(2025, 10, 1)] == "National Day"
    assert holidays[date(2025, 10, 6)] == "Mid-autumn Festival"
    assert holidays[date(2025, 1, 29)] == "Spring Festival"
    assert date(2025, 10, 12) not in holidays  # ordinary weekends are not listed
    assert [d for d, _name in makeup_days_in(2025)] == [
        date(2025, 1, 26), date(2025, 2, 8), date(2025, 4, 27),
        date(2025, 9, 28), date(2025, 10, 11)]


def test_long_walks_widen_the_window(app):
    """A holiday run longer than the prefetched window still ends at a working day."""
    for d in range(1, 32):
        db.session.add(CalendarDay(day=date(FAR_YEAR, 3, d), is_workday=False, name="测试"))
    for d in range(1, 31):
        db.session.add(CalendarDay(day=date(FAR_YEAR, 4, d), is_workday=False, name="测试"))
    db.session.commit()
    assert roll_to_working_day(date(FAR_YEAR, 3, 1)) == date(FAR_YEAR, 5, 1)
    assert add_days(date(FAR_YEAR, 2, 27), 2, working=True) == date(FAR_YEAR, 5, 1)
