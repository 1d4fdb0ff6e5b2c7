"""China's working-day calendar (工作日): official holidays and make-up working days (调休).

The ``chinesecalendar`` library knows the State Council's schedule only for the years
published before its release.  ``CalendarDay`` rows, edited by an administrator, win
over the library and supply the years it does not know yet; a year with neither counts
weekends only, and ``year_status`` says so for the pages to warn.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar import Holiday
from flask_babel import gettext as _
from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from mediation.core.db import utcnow
from mediation.extensions import db

ONE_DAY = timedelta(days=1)

LIBRARY = "library"
TABLE = "table"
WEEKENDS_ONLY = "weekends_only"


class CalendarDay(db.Model):
    """One day's status set by an administrator (节假日 or 调休上班): wins over the library."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@cache
def library_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has the official schedule for ``year``.

    The library knows the years published before its release and refuses the others;
    its holiday table tells which years those are.
    """
    known = {day.year for day in chinese_calendar.holidays}
    return min(known) <= year <= max(known)


def _library_is_workday(d: date) -> bool | None:
    """The library's answer, or None for a year it does not know."""
    return chinese_calendar.is_workday(d) if library_covers(d.year) else None


def _is_working(d: date, overrides: dict[date, bool]) -> bool:
    if d in overrides:
        return overrides[d]
    library = _library_is_workday(d)
    return d.weekday() < 5 if library is None else library


def _overrides_between(first: date, last: date) -> dict[date, bool]:
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)
                              .where(CalendarDay.day.between(first, last)))
    return {day: is_workday for day, is_workday in rows}


class _WorkingDays:
    """``is_working`` over a stretch of days, the override rows fetched one range at a time."""

    def __init__(self, first: date, last: date):
        self.first, self.last = first, last
        self.overrides = _overrides_between(first, last)

    def __call__(self, d: date) -> bool:
        if not self.first <= d <= self.last:
            # Walked past the window (a very long run of holidays): widen it by a month.
            self.first = min(self.first, d)
            self.last = max(self.last, d + timedelta(days=31))
            self.overrides = _overrides_between(self.first, self.last)
        return _is_working(d, self.overrides)


def _next_working(after: date, is_working: Callable[[date], bool]) -> date:
    d = after + ONE_DAY
    while not is_working(d):
        d += ONE_DAY
    return d


def is_working_day(d: date) -> bool:
    """An override row if any, else the official schedule, else Monday to Friday."""
    return _is_working(d, _overrides_between(d, d))


def year_status(year: int) -> str:
    """Where ``year``'s holidays come from: "library", "table" or "weekends_only"."""
    if library_covers(year):
        return LIBRARY
    has_rows = db.session.scalar(
        select(select(CalendarDay.day)
               .where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
               .exists())
    )
    return TABLE if has_rows else WEEKENDS_ONLY


def years_without_data(first: date, last: date) -> list[int]:
    """The years from ``first`` to ``last`` counted with weekends only (to warn about)."""
    return [y for y in range(first.year, last.year + 1) if year_status(y) == WEEKENDS_ONLY]


def add_days(start: date, n: int, *, working: bool) -> date:
    """The day a period of ``n`` days from ``start`` ends; the start day is not counted (CPL 85).

    Calendar days give ``start + n``: a caller applying CPL 85 rolls that with
    ``roll_to_working_day``.  Working days give the n-th working day after ``start``.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    if not working:
        return start + timedelta(days=n)
    # Room for n working days plus the longest holiday runs; widened if ever short.
    is_working = _WorkingDays(start, start + timedelta(days=2 * n + 31))
    d = start
    for _i in range(n):
        d = _next_working(d, is_working)
    return d


def roll_to_working_day(d: date) -> date:
    """``d`` if it is a working day, else the next one (CPL 85: deadlines leave holidays)."""
    is_working = _WorkingDays(d, d + timedelta(days=31))
    return d if is_working(d) else _next_working(d, is_working)


def working_days_between(a: date, b: date) -> int:
    """The number of working days in (a, b]; 0 when ``b`` is not after ``a``."""
    if b <= a:
        return 0
    overrides = _overrides_between(a + ONE_DAY, b)
    return sum(_is_working(a + timedelta(days=i), overrides) for i in range(1, (b - a).days + 1))


def _holiday_names() -> dict[str, str]:
    """The library's holiday names (its English ``Holiday`` values), translated."""
    return {
        Holiday.new_years_day.value: _("New Year's Day"),
        Holiday.spring_festival.value: _("Spring Festival"),
        Holiday.tomb_sweeping_day.value: _("Tomb-sweeping Day"),
        Holiday.labour_day.value: _("Labour Day"),
        Holiday.dragon_boat_festival.value: _("Dragon Boat Festival"),
        Holiday.national_day.value: _("National Day"),
        Holiday.mid_autumn_festival.value: _("Mid-autumn Festival"),
        Holiday.anti_fascist_70th_day.value: _("Victory Day (70th anniversary)"),
    }


def _special_days(year: int) -> tuple[list[tuple[date, str]], list[tuple[date, str]]]:
    """(holidays, make-up working days) of ``year``, library and table merged."""
    rows = {row.day: row for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))}
    covered = library_covers(year)
    names = _holiday_names() if covered else {}
    holidays, makeup = [], []
    d = date(year, 1, 1)
    while d.year == year:
        row = rows.get(d)
        if row is not None:
            working, name, listed = row.is_workday, row.name, True
        elif covered:
            is_holiday, library_name = chinese_calendar.get_holiday_detail(d)
            working, listed = not is_holiday, library_name is not None
            name = names.get(library_name, library_name or "")
        else:
            working, name, listed = d.weekday() < 5, "", False
        if not working and listed:
            holidays.append((d, name))
        elif working and d.weekday() >= 5:
            makeup.append((d, name))
        d += ONE_DAY
    return holidays, makeup


def holidays_in(year: int) -> list[tuple[date, str]]:
    """The official days off of ``year`` with their names (weekends inside a holiday too)."""
    return _special_days(year)[0]


def makeup_days_in(year: int) -> list[tuple[date, str]]:
    """The weekend days of ``year`` that are working days (调休上班), with their names."""
    return _special_days(year)[1]
