"""China's working-day calendar (工作日): holidays and make-up working days (调休).

Three sources, in order (DOMAIN.md, "Working days and holidays"):

1. the **official** schedule: ``chinesecalendar`` for the years published before its
   release, or what an administrator entered for a year and marked complete;
2. otherwise the year's **statutory** holidays (《全国年节及纪念日放假办法》) as the
   ``holidays`` package computes them, with its days in lieu of holidays that fall on a
   weekend: the State Council's make-up working days are unknown, so such a year is
   **provisional**, and every page and document that shows one of its dates says so;
3. over both, the days an administrator entered (``CalendarDay``).

A year is never counted "weekends only" while its statutory days are known.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as holiday_library
from chinese_calendar import Holiday
from flask import g, has_app_context, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from mediation.core.db import utcnow
from mediation.extensions import db

ONE_DAY = timedelta(days=1)
LOCAL = ZoneInfo("Asia/Shanghai")

# Where a year's schedule comes from (``year_status``).
OFFICIAL = "official"          # chinesecalendar has the State Council's schedule
CONFIRMED = "confirmed"        # an administrator entered it and marked it complete
PROVISIONAL = "provisional"    # statutory days only: make-up working days unknown


class CalendarDay(db.Model):
    """One day's status set by an administrator (节假日 or 调休上班): wins over the library."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CalendarYear(db.Model):
    """A year whose official schedule an administrator has entered in full (marked complete):
    its days are then the weekends and working days plus the ``CalendarDay`` rows only."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))


@cache
def library_covers(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has the official schedule for ``year``.

    The library knows the years published before its release and refuses the others;
    its holiday table tells which years those are.
    """
    known = {day.year for day in chinese_calendar.holidays}
    return min(known) <= year <= max(known)


@cache
def _statutory(year: int, language: str = "zh_CN") -> dict[date, str]:
    """The statutory days off of ``year`` (with days in lieu), named in ``language``."""
    return dict(holiday_library.China(years=year, language=language))


@cache
def statutory_days(year: int) -> tuple[date, ...]:
    """The statutory holidays themselves (《全国年节及纪念日放假办法》), without the days in
    lieu: the days an official schedule of ``year`` always gives off."""
    return tuple(sorted(holiday_library.China(years=year, observed=False)))


def _confirmed_years() -> frozenset[int]:
    """The years marked complete; read once per request (or CLI command)."""
    if has_app_context() and "calendar_confirmed_years" in g:
        return g.calendar_confirmed_years
    years = frozenset(db.session.scalars(select(CalendarYear.year)))
    if has_app_context():
        g.calendar_confirmed_years = years
    return years


@event.listens_for(Session, "after_rollback")
def forget_confirmed_years(*_args) -> None:
    """After marking or unmarking a year, or a rollback: read the marks and entries again."""
    if has_app_context():
        g.pop("calendar_confirmed_years", None)
        g.pop("calendar_overrides", None)


def year_status(year: int) -> str:
    """Where ``year``'s days come from: OFFICIAL, CONFIRMED or PROVISIONAL."""
    if library_covers(year):
        return OFFICIAL
    return CONFIRMED if year in _confirmed_years() else PROVISIONAL


def _local_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).date() if value.tzinfo else value.date()
    return value


def provisional_years(*days: date | datetime | None) -> list[int]:
    """The years among ``days`` (dates, or moments taken in China's time) that are
    provisional: for a page or a document to say so beside them."""
    years = {_local_day(d).year for d in days if d is not None}
    return sorted(y for y in years if year_status(y) == PROVISIONAL)


def provisional_years_between(first: date, last: date) -> list[int]:
    """The provisional years from ``first`` to ``last`` (a period that crosses them)."""
    return [y for y in range(first.year, last.year + 1) if year_status(y) == PROVISIONAL]


def _default_is_working(d: date) -> bool:
    """The day without an administrator's entry: the official schedule, else statutory."""
    if library_covers(d.year):
        return chinese_calendar.is_workday(d)
    if d.year in _confirmed_years():
        return d.weekday() < 5
    return d.weekday() < 5 and d not in _statutory(d.year)


def _is_working(d: date, overrides: dict[date, bool]) -> bool:
    if d in overrides:
        return overrides[d]
    return _default_is_working(d)


def _read_overrides(first: date, last: date) -> dict[date, bool]:
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)
                              .where(CalendarDay.day.between(first, last)))
    return {day: is_workday for day, is_workday in rows}


def _overrides_between(first: date, last: date) -> dict[date, bool]:
    """The administrator's entries from ``first`` to ``last``. A request reads each year's
    once (a workbench computes dozens of deadlines); an entry being changed in the session
    makes it read them again."""
    if not has_request_context():
        return _read_overrides(first, last)
    session = db.session
    if any(isinstance(obj, CalendarDay)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        g.pop("calendar_overrides", None)
        return _read_overrides(first, last)
    years = g.setdefault("calendar_overrides", {})
    found: dict[date, bool] = {}
    for year in range(first.year, last.year + 1):
        if year not in years:
            years[year] = _read_overrides(date(year, 1, 1), date(year, 12, 31))
        found.update((d, w) for d, w in years[year].items() if first <= d <= last)
    return found


@event.listens_for(Session, "after_flush")
def _forget_overrides(session, _context) -> None:
    """An entry written (or a rollback, below): the request reads the entries again."""
    if has_request_context() and "calendar_overrides" in g and any(
            isinstance(obj, CalendarDay)
            for obj in (*session.new, *session.dirty, *session.deleted)):
        g.pop("calendar_overrides", None)


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
    """An administrator's entry if any, else the official schedule, else the statutory days."""
    return _is_working(d, _overrides_between(d, d))


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


def _statutory_names(year: int) -> dict[date, str]:
    """The statutory days of ``year`` named in the interface's language."""
    locale = str(get_locale() or "zh") if has_app_context() else "zh"
    return _statutory(year, "zh_CN" if locale.startswith("zh") else "en_US")


def _special_days(year: int) -> tuple[list[tuple[date, str]], list[tuple[date, str]]]:
    """(holidays, make-up working days) of ``year``, every source merged."""
    rows = {row.day: row for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31))))}
    status = year_status(year)
    library_names = _holiday_names() if status == OFFICIAL else {}
    statutory = _statutory_names(year) if status == PROVISIONAL else {}
    holidays, makeup = [], []
    d = date(year, 1, 1)
    while d.year == year:
        row = rows.get(d)
        if row is not None:
            working, name, listed = row.is_workday, row.name, True
        elif status == OFFICIAL:
            is_holiday, library_name = chinese_calendar.get_holiday_detail(d)
            working, listed = not is_holiday, library_name is not None
            name = library_names.get(library_name, library_name or "")
        elif d in statutory:
            working, name, listed = False, statutory[d], True
        else:
            working, name, listed = d.weekday() < 5, "", False
        if not working and listed:
            holidays.append((d, name))
        elif working and d.weekday() >= 5:
            makeup.append((d, name))
        d += ONE_DAY
    return holidays, makeup


def holiday_name(d: date) -> str | None:
    """The name of the holiday ``d`` falls in (weekends are not named), or None."""
    return next((name for day, name in holidays_in(d.year) if day == d), None)


def holidays_in(year: int) -> list[tuple[date, str]]:
    """The official days off of ``year`` with their names (weekends inside a holiday too)."""
    return _special_days(year)[0]


def makeup_days_in(year: int) -> list[tuple[date, str]]:
    """The weekend days of ``year`` that are working days (调休上班), with their names."""
    return _special_days(year)[1]
