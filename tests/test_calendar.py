"""China's working-day calendar: the official schedule, statutory days of provisional years,
administrators' entries and years they mark complete."""

from datetime import date

import pytest
from flask_babel import force_locale

from mediation.agreements.rules import confirmation_deadline
from mediation.cases import settings
from mediation.core import calendar
from mediation.core.calendar import (
    CONFIRMED,
    OFFICIAL,
    PROVISIONAL,
    CalendarDay,
    add_days,
    holidays_in,
    is_working_day,
    makeup_days_in,
    roll_to_working_day,
    working_days_between,
    year_status,
)
from mediation.core.errors import OperationError
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
    assert year_status(2026) == OFFICIAL
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


def test_2027_out_of_the_box_counts_its_statutory_holidays_provisionally(app):
    """chinesecalendar 1.11 stops at 2026: 2027 comes from the statutory days, marked
    provisional, never "weekends only"."""
    assert not calendar.library_covers(2027)
    assert year_status(2027) == PROVISIONAL
    assert not is_working_day(date(2027, 1, 1))  # Friday, New Year's Day
    # Spring Festival: the eve (Fri 5 Feb), the 1st–3rd (6–8 Feb) and the days in lieu of
    # the two that fall on the weekend (Tue 9, Wed 10).
    assert not any(is_working_day(date(2027, 2, d)) for d in range(5, 11))
    assert is_working_day(date(2027, 2, 4)) and is_working_day(date(2027, 2, 11))
    assert not is_working_day(date(2027, 10, 1))  # National Day
    with force_locale("zh"):
        names = dict(holidays_in(2027))
    assert names[date(2027, 1, 1)] == "元旦" and names[date(2027, 2, 6)] == "春节"
    with force_locale("en"):
        assert calendar.holiday_name(date(2027, 1, 1)) == "New Year's Day"
    assert calendar.holiday_name(date(2027, 1, 2)) is None  # an ordinary Saturday
    assert makeup_days_in(2027) == []  # the State Council's make-up days are not known
    assert calendar.provisional_years(date(2026, 12, 30), date(2027, 1, 4), None) == [2027]
    assert calendar.provisional_years_between(date(2026, 12, 20), date(2027, 1, 19)) == [2027]
    assert calendar.provisional_years(date(2026, 12, 30)) == []


def test_a_working_day_limit_across_spring_festival_2027(app):
    # From Monday 1 Feb 2027, ten working days: 2, 3, 4 Feb, then 11, 12, 15–19 Feb.
    assert add_days(date(2027, 2, 1), 10, working=True) == date(2027, 2, 19)
    # Counted with weekends only it would end a week early, on 12 February.
    assert add_days(date(2027, 2, 1), 10, working=True) != date(2027, 2, 12)


def test_a_thirty_day_window_ending_in_spring_festival_2027_moves_after_it(app):
    """CPL 85 in a provisional year: a last day in the holiday goes to the first working
    day after it."""
    assert add_days(date(2027, 1, 7), 30, working=False) == date(2027, 2, 6)
    assert confirmation_deadline(date(2027, 1, 7)) == date(2027, 2, 11)
    assert confirmation_deadline(date(2026, 12, 2)) == date(2027, 1, 4)  # 1 Jan, then a weekend


def test_any_later_year_is_provisional_with_its_statutory_days(app):
    assert not calendar.library_covers(FAR_YEAR)
    assert year_status(FAR_YEAR) == PROVISIONAL
    assert not is_working_day(date(FAR_YEAR, 1, 1))  # a Wednesday, New Year's Day
    assert not is_working_day(date(FAR_YEAR, 1, 4))  # Saturday
    assert add_days(date(FAR_YEAR - 1, 12, 31), 1, working=True) == date(FAR_YEAR, 1, 2)
    assert roll_to_working_day(date(FAR_YEAR, 1, 1)) == date(FAR_YEAR, 1, 2)
    assert date(FAR_YEAR, 1, 1) in dict(holidays_in(FAR_YEAR))


def test_administrators_entries_win_over_the_statutory_days(app):
    _add(date(2027, 2, 11), False, "春节")  # the schedule gives one more day off
    _add(date(2027, 2, 20), True, "春节调休上班")  # and a Saturday worked in lieu
    _add(date(2027, 2, 10), True, "测试：上班")
    assert year_status(2027) == PROVISIONAL  # entries alone do not complete the year
    assert not is_working_day(date(2027, 2, 11))
    assert is_working_day(date(2027, 2, 20)) and is_working_day(date(2027, 2, 10))
    assert not is_working_day(date(2027, 1, 1))  # the statutory days still count
    assert (date(2027, 2, 20), "春节调休上班") in makeup_days_in(2027)


def test_a_year_marked_complete_counts_only_what_was_entered(app):
    statutory = calendar.statutory_days(FAR_YEAR)
    assert date(FAR_YEAR, 1, 1) in statutory and len(statutory) >= 11
    # Not before every statutory holiday has its entry: never back to weekends only.
    _add(date(FAR_YEAR, 1, 1), False, "元旦")
    with pytest.raises(OperationError, match=statutory[1].isoformat()):
        settings.mark_year_complete(None, FAR_YEAR, True)
    for d in statutory[1:]:
        _add(d, False, "法定节假日")
    _add(date(FAR_YEAR, 1, 4), True, "元旦调休上班")
    settings.mark_year_complete(None, FAR_YEAR, True)
    db.session.commit()
    assert year_status(FAR_YEAR) == CONFIRMED
    assert year_status(FAR_YEAR + 1) == PROVISIONAL
    assert not is_working_day(date(FAR_YEAR, 1, 1))
    assert is_working_day(date(FAR_YEAR, 1, 4))
    # The library's days in lieu no longer count: only the entered days do.
    in_lieu = [d for d in calendar._statutory(FAR_YEAR) if d not in statutory
               and d.weekday() < 5]
    assert in_lieu and all(is_working_day(d) for d in in_lieu)
    assert working_days_between(date(FAR_YEAR - 1, 12, 31), date(FAR_YEAR, 1, 5)) == 3
    assert [d for d, _name in holidays_in(FAR_YEAR)] == list(statutory)
    assert makeup_days_in(FAR_YEAR) == [(date(FAR_YEAR, 1, 4), "元旦调休上班")]
    assert calendar.provisional_years(date(FAR_YEAR, 6, 1)) == []

    settings.mark_year_complete(None, FAR_YEAR, False)
    db.session.commit()
    assert year_status(FAR_YEAR) == PROVISIONAL
    assert all(not is_working_day(d) for d in in_lieu)


def test_a_year_the_library_has_cannot_be_marked(app):
    with pytest.raises(OperationError):
        settings.mark_year_complete(None, 2025, True)


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
    # Then Labour Day (Thu 1 and Fri 2 May) and a weekend: Monday 5 May.
    assert roll_to_working_day(date(FAR_YEAR, 3, 1)) == date(FAR_YEAR, 5, 5)
    assert add_days(date(FAR_YEAR, 2, 27), 2, working=True) == date(FAR_YEAR, 5, 5)
