"""Administrators edit the rules: categories with their time limits, level limits, holidays."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from mediation.cases import settings
from mediation.cases.forms import parse_yuan
from mediation.cases.models import Category, LevelRule
from mediation.cases.rules import today
from mediation.core.calendar import (
    CalendarDay,
    CalendarYear,
    holidays_in,
    makeup_days_in,
    year_status,
)
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, show_operation_error
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.permissions import require
from mediation.extensions import db

bp = Blueprint("settings", __name__, url_prefix="/admin/rules")


class CategoryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32),
                                               Regexp(r"^[a-z0-9_]+$")])
    name = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=40)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=60)])
    grid_days = IntegerField(_l("Grid level (days)"), validators=[NumberRange(min=1, max=365)])
    community_days = IntegerField(_l("Community level (days)"),
                                  validators=[NumberRange(min=1, max=365)])
    street_days = IntegerField(_l("Street level (days)"),
                               validators=[NumberRange(min=1, max=365)])
    overall_days = IntegerField(_l("Overall (days)"), validators=[NumberRange(min=1, max=730)])
    working_days = BooleanField(_l("Count working days (skip weekends and public holidays)"))
    report_as = StringField(_l("Counted in statistics as (category code)"),
                            validators=[Optional(), Length(max=32)])
    sort_order = IntegerField(_l("Order in lists"), validators=[NumberRange(min=0, max=9999)],
                              default=100)
    active = BooleanField(_l("In use"), default=True)


class LevelRulesForm(FlaskForm):
    grid_limit = StringField(_l("Grid level: amounts above (yuan)"))
    community_limit = StringField(_l("Community level: amounts above (yuan)"))
    grid_warn = IntegerField(_l("Grid level: warn days before the deadline"),
                             validators=[NumberRange(min=0, max=30)])
    community_warn = IntegerField(_l("Community level: warn days before the deadline"),
                                  validators=[NumberRange(min=0, max=30)])
    street_warn = IntegerField(_l("Street level: warn days before the deadline"),
                               validators=[NumberRange(min=0, max=30)])


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    is_workday = BooleanField(_l("A working day (make-up day); unticked: a holiday"))
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60)],
                       description=_l("e.g. 春节 or 春节调休上班"))


@bp.get("/")
@require("rules.edit")
def index():
    categories = db.session.scalars(select(Category).order_by(Category.sort_order)).all()
    rules = {r.level.value: r for r in db.session.scalars(select(LevelRule))}
    form = LevelRulesForm(data={
        "grid_limit": _yuan(rules["grid"].amount_limit_fen),
        "community_limit": _yuan(rules["community"].amount_limit_fen),
        "grid_warn": rules["grid"].warn_days_before,
        "community_warn": rules["community"].warn_days_before,
        "street_warn": rules["street"].warn_days_before})
    return render_template("settings/index.html", categories=categories, form=form)


def _yuan(fen: int | None) -> str:
    """Fen as yuan without losing the fen (10000.50, not 10000)."""
    if fen is None:
        return ""
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"


@bp.post("/levels")
@require("rules.edit")
def levels():
    form = LevelRulesForm()
    if form.validate_on_submit():
        try:
            settings.save_level_rules(current_user, {
                "grid": (parse_yuan(form.grid_limit.data), form.grid_warn.data),
                "community": (parse_yuan(form.community_limit.data), form.community_warn.data),
                "street": (None, form.street_warn.data)})
            db.session.commit()
            flash(_("Saved."), "success")
        except ValueError:
            flash(_("Write the amount in yuan, e.g. 12000 or 3500.50."), "error")
    else:
        flash(_("Please correct the form below."), "error")
    return redirect(url_for("settings.index"))


@bp.route("/categories/new", methods=["GET", "POST"])
@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@require("rules.edit")
def category(category_id: int | None = None):
    item = db.get_or_404(Category, category_id) if category_id else None
    form = CategoryForm(obj=item)
    if form.validate_on_submit():
        try:
            settings.save_category(current_user, item, **{
                name: getattr(form, name).data for name in (
                    "code", "name", "name_en", "grid_days", "community_days", "street_days",
                    "overall_days", "working_days", "report_as", "sort_order", "active")})
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("settings.index"))
    return render_template("settings/category.html", form=form, item=item)


@bp.route("/calendar", methods=["GET", "POST"])
@require("rules.edit")
def calendar():
    year = request.args.get("year", type=int) or today().year
    if not 2000 <= year <= 2100:
        abort(404)
    form = CalendarDayForm()
    if form.validate_on_submit():
        report = settings.save_calendar_day(current_user, form.day.data, form.is_workday.data,
                                            form.name.data)
        db.session.commit()
        _flash_recomputed(report)
        return redirect(url_for("settings.calendar", year=form.day.data.year))
    rows = db.session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)).all()
    return render_template("settings/calendar.html", year=year, form=form, rows=rows,
                           status=year_status(year), holidays=holidays_in(year),
                           makeup=makeup_days_in(year), action_form=ActionForm(),
                           marked=db.session.get(CalendarYear, year))


def _flash_recomputed(report) -> None:
    flash(_("Saved."), "success")
    if report.moved or report.withdrawn or report.noted:
        flash(_("Deadlines recomputed: %(moved)d open cases moved, %(withdrawn)d proposals or "
                "supervision notices withdrawn, %(noted)d confirmed proposals noted. Each case's "
                "timeline says so.", moved=report.moved, withdrawn=report.withdrawn,
                noted=report.noted), "info")


@bp.post("/calendar/<int:year>/complete")
@require("rules.edit")
def calendar_complete(year: int):
    """Mark the year's official schedule complete (complete=1) or provisional again."""
    if not ActionForm().validate_on_submit() or not 2000 <= year <= 2100:
        abort(400)
    try:
        report = settings.mark_year_complete(current_user, year,
                                             request.form.get("complete") == "1")
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        _flash_recomputed(report)
    return redirect(url_for("settings.calendar", year=year))


@bp.post("/calendar/<day>/delete")
@require("rules.edit")
def calendar_delete(day: str):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        target = date.fromisoformat(day)
    except ValueError:
        abort(404)
    report = settings.delete_calendar_day(current_user, target)
    db.session.commit()
    _flash_recomputed(report)
    return redirect(url_for("settings.calendar", year=target.year))
