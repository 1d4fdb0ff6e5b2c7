"""The verbs on the rule tables; every change is audited."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.cases.calendar_changes import RecomputeReport, calendar_change
from mediation.cases.models import Category, LevelRule
from mediation.cases.states import Level
from mediation.core import audit
from mediation.core.calendar import (
    CalendarDay,
    CalendarYear,
    forget_confirmed_years,
    library_covers,
    statutory_days,
)
from mediation.core.errors import OperationError
from mediation.extensions import db

CATEGORY_FIELDS = ["code", "name", "name_en", "grid_days", "community_days", "street_days",
                   "overall_days", "working_days", "report_as", "sort_order", "active"]


def save_category(by, category: Category | None, **fields) -> Category:
    for key in ("code", "name"):
        clash = db.session.scalar(select(Category).where(getattr(Category, key) == fields[key]))
        if clash is not None and clash is not category:
            raise OperationError(_("Another category already uses this."), field=key)
    if fields.get("report_as"):
        if not db.session.scalar(select(Category.id).where(Category.code == fields["report_as"])):
            raise OperationError(_("No category has the code %(code)s.",
                                   code=fields["report_as"]), field="report_as")
    else:
        fields["report_as"] = None
    before = None if category is None else audit.snapshot(category, CATEGORY_FIELDS)
    if category is None:
        category = Category()
        db.session.add(category)
    for key, value in fields.items():
        setattr(category, key, value)
    db.session.flush()
    audit.record("category.create" if before is None else "category.update", category,
                 actor=by, before=before, after=audit.snapshot(category, CATEGORY_FIELDS))
    return category


def save_level_rules(by, values: dict[str, tuple[int | None, int]]) -> None:
    for level, (limit, warn) in values.items():
        rule = db.session.get(LevelRule, Level(level))
        before = {"amount_limit_fen": rule.amount_limit_fen, "warn": rule.warn_days_before}
        rule.amount_limit_fen, rule.warn_days_before = limit, warn
        after = {"amount_limit_fen": limit, "warn": warn}
        if after != before:
            audit.record("level_rule.update", object_type="LevelRule", object_id=level,
                         actor=by, before=before, after=after)
    db.session.flush()


def save_calendar_day(by, day: date, is_workday: bool, name: str) -> RecomputeReport:
    """Enter or correct one day of the official schedule (wins over the library); the
    deadlines it moves are moved in the same transaction."""
    row = db.session.get(CalendarDay, day)
    before = None if row is None else {"is_workday": row.is_workday, "name": row.name}
    change = _("%(date)s entered as a working day (%(name)s)", date=day.isoformat(),
               name=name) if is_workday else \
        _("%(date)s entered as a holiday (%(name)s)", date=day.isoformat(), name=name)
    with calendar_change(by, day, day, change) as report:
        if row is None:
            row = CalendarDay(day=day)
            db.session.add(row)
        row.is_workday, row.name = is_workday, name
        db.session.flush()
        audit.record("calendar.save", object_type="CalendarDay", object_id=day.isoformat(),
                     actor=by, before=before, after={"is_workday": is_workday, "name": name})
    return report


def delete_calendar_day(by, day: date) -> RecomputeReport:
    row = db.session.get(CalendarDay, day)
    if row is None:
        return RecomputeReport()
    change = _("the entry for %(date)s removed", date=day.isoformat())
    with calendar_change(by, day, day, change) as report:
        audit.record("calendar.delete", object_type="CalendarDay", object_id=day.isoformat(),
                     actor=by, before={"is_workday": row.is_workday, "name": row.name})
        db.session.delete(row)
        db.session.flush()
    return report


def mark_year_complete(by, year: int, complete: bool) -> RecomputeReport:
    """An administrator says the official schedule of ``year`` is entered in full (the
    statutory-day estimate stops counting), or takes that back.  Complete means every
    statutory holiday of the year has its entry: an empty year is never "weekends only"."""
    if library_covers(year):
        raise OperationError(_("%(year)d's official schedule comes from the chinesecalendar "
                               "library already.", year=year))
    row = db.session.get(CalendarYear, year)
    if (row is not None) == complete:
        return RecomputeReport()
    if complete:
        entered = set(db.session.scalars(select(CalendarDay.day).where(
            CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))))
        missing = [d for d in statutory_days(year) if d not in entered]
        if missing:
            raise OperationError(_(
                "Enter the official schedule first: the statutory holidays %(days)s have no "
                "entry yet.", days="、".join(d.isoformat() for d in missing)))
        change = _("the official schedule for %(year)d marked complete", year=year)
    else:
        change = _("%(year)d marked provisional again", year=year)
    with calendar_change(by, date(year, 1, 1), date(year, 12, 31), change) as report:
        if complete:
            db.session.add(CalendarYear(year=year, marked_by_id=by.id if by else None))
        else:
            db.session.delete(row)
        db.session.flush()
        forget_confirmed_years()
        audit.record("calendar.year_complete" if complete else "calendar.year_provisional",
                     object_type="CalendarYear", object_id=str(year), actor=by)
    return report
