"""The verbs on the rule tables; every change is audited."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.cases.models import Category, LevelRule
from mediation.cases.states import Level
from mediation.core import audit
from mediation.core.calendar import CalendarDay
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


def save_calendar_day(by, day: date, is_workday: bool, name: str) -> None:
    """Enter or correct one day of the official schedule (wins over the library)."""
    row = db.session.get(CalendarDay, day)
    before = None if row is None else {"is_workday": row.is_workday, "name": row.name}
    if row is None:
        row = CalendarDay(day=day)
        db.session.add(row)
    row.is_workday, row.name = is_workday, name
    db.session.flush()
    audit.record("calendar.save", object_type="CalendarDay", object_id=day.isoformat(),
                 actor=by, before=before, after={"is_workday": is_workday, "name": name})


def delete_calendar_day(by, day: date) -> None:
    row = db.session.get(CalendarDay, day)
    if row is not None:
        audit.record("calendar.delete", object_type="CalendarDay", object_id=day.isoformat(),
                     actor=by, before={"is_workday": row.is_workday, "name": row.name})
        db.session.delete(row)
        db.session.flush()
