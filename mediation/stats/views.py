"""The coordinator's dashboard (统计): the figures of a jurisdiction over a period, the drill-
down by area, the cases behind each figure, and supervising overdue cases from there."""

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from mediation.areas.models import AreaNode
from mediation.cases import operations as case_ops
from mediation.cases import queries as case_queries
from mediation.cases.models import Category
from mediation.cases.states import Level
from mediation.core.db import write_intent
from mediation.core.errors import OperationError
from mediation.core.forms import is_safe_next
from mediation.core.pages import Page
from mediation.core.permissions import require
from mediation.extensions import db
from mediation.stats import charts, exports, queries
from mediation.stats.forms import PeriodForm, SuperviseManyForm
from mediation.stats.queries import Period

bp = Blueprint("stats", __name__, url_prefix="/stats")


def chosen(args) -> tuple[PeriodForm, Period, AreaNode | None]:
    """The period and area asked for in the address; a bad period is said, and the default
    (the last twelve months, the whole jurisdiction) shown instead. An area outside the
    person's jurisdiction reads as unknown (404)."""
    form = PeriodForm(args)
    period = Period.default()
    if args:
        if form.validate():
            period = form.period
        else:
            for errors in form.errors.values():
                for message in errors:
                    flash(message, "error")
    try:
        area = queries.chosen_area(current_user, form.area.data)
    except LookupError:
        abort(404)
    form.start.data, form.end.data = period.first, period.last
    return form, period, area


def chosen_category(args) -> Category | None:
    """The category the cases behind a figure are narrowed to, by its code (404: none)."""
    code = args.get("category", "").strip()
    if not code:
        return None
    category = queries.category_by_code(code)
    if category is None:
        abort(404)
    return category


def trail(area: AreaNode | None) -> list[AreaNode]:
    """The areas above the chosen one that the person may also choose (the drill-up)."""
    if area is None:
        return []
    nodes, node = [], area.parent
    while node is not None and queries.may_see_area(current_user, node):
        nodes.append(node)
        node = node.parent
    return list(reversed(nodes))


def link_args(period: Period, where: AreaNode | None, **more) -> dict:
    """The address arguments of this period and area (``more`` may choose another area,
    a category, or another period: ``within`` a Period, a month of the page's)."""
    within = more.pop("within", None) or period
    args = {"start": within.first.isoformat(), "end": within.last.isoformat()}
    if where is not None:
        args["area"] = where.code
    return args | more


@bp.get("/")
@require("stats.view")
def dashboard():
    form, period, area = chosen(request.args)
    board = queries.dashboard(current_user, area, period)
    locale = str(get_locale())
    return render_template("stats/dashboard.html", form=form, board=board, trail=trail(area),
                           charts=charts.for_dashboard(board, locale),
                           link_args=lambda **more: link_args(period, area, **more),
                           levels={level.value: level.title for level in Level},
                           locale=locale)


@bp.get("/cases")
@require("stats.view")
def cases():
    """The cases behind one figure, through the same condition as its count."""
    figure = request.args.get("figure", "")
    if figure not in queries.FIGURES:
        abort(404)
    form, period, area = chosen(request.args)
    category = chosen_category(request.args)
    page = Page(queries.cases_behind(current_user, area, period, figure, category),
                request.args.get("page", 1, type=int), per_page=25,
                options=case_queries.LIST_LOADS)
    supervise = None
    if figure == "overdue" and current_user.can("cases.supervise"):
        supervise = SuperviseManyForm()
    more, locale = ({"category": category.code} if category else {}), str(get_locale())
    return render_template("stats/cases.html", form=form, figure=figure, period=period,
                           title=exports.cases_title(figure, category, locale), area=area,
                           page=page, supervise=supervise,
                           many_per_case=figure in queries.MANY_PER_CASE,
                           link_args=lambda **args: link_args(period, area, **more | args),
                           locale=locale)


def _back(target: str) -> str:
    """Where the supervision form sends the person back: a page of the statistics."""
    if is_safe_next(target) and target.startswith("/stats/"):
        return target
    return url_for("stats.cases", figure="overdue")


@bp.post("/supervise")
@require("cases.supervise")
def supervise():
    """督办 the ticked overdue cases with one message; all or none."""
    form = SuperviseManyForm()
    back = _back(request.form.get("back", ""))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(back, code=303)
    try:
        notices = case_ops.supervise_many(current_user, form.cases.data, form.message.data,
                                          form.respond_by.data)
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back, code=303)
    flash(_("Supervision notices issued for %(n)d cases.", n=len(notices)), "success")
    return redirect(back, code=303)


# ---- the figures as files ----------------------------------------------------------------

TABLE_NAMES = ", ".join(exports.TABLES)
FILE_TYPES = {"csv": exports.CSV_TYPE, "xlsx": exports.XLSX_TYPE, "pdf": exports.PDF_TYPE}


@bp.context_processor
def _export_helpers():
    return {"monthly_default": exports.monthly_default}


def _download(data: bytes, fmt: str, name: str, fallback: str) -> Response:
    """A file to save: its Chinese name per RFC 5987 (an ASCII one for old clients); never
    kept by a browser or proxy, as it holds cases."""
    return Response(data, content_type=FILE_TYPES[fmt], headers={
        "Content-Disposition": f"attachment; filename=\"{fallback}.{fmt}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "Cache-Control": "no-store"})


def _audited(what: str, fmt: str, period: Period, area: AreaNode | None, **details) -> None:
    """The export in the audit log, once the file is made."""
    db.session.commit()  # end the read transaction; the audit entry writes (SQLite: queue)
    write_intent.set(True)
    exports.record_export(current_user, what, fmt, period, area, **details)
    db.session.commit()


def _dates(period: Period) -> tuple[str, str]:
    return period.first.isoformat(), period.last.isoformat()


@bp.get(f"/export/<any({TABLE_NAMES}):name>.<any(csv, xlsx):fmt>")
@require("stats.view")
def export_table(name: str, fmt: str):
    """One table of the dashboard, for the same period and area as the page."""
    form, period, area = chosen(request.args)
    if form.errors:
        return redirect(url_for("stats.dashboard"), code=303)
    sheet = exports.table(exports.Figures(current_user, area, period), name,
                          str(get_locale()))
    data = exports.encode(sheet, fmt, exports.period_heading(current_user, area, period))
    download = exports.filename(sheet.name, exports.scope_name(current_user, area),
                                *_dates(period), extension=fmt)
    _audited(name, fmt, period, area)
    return _download(data, fmt, download, "-".join(("statistics", name, *_dates(period))))


@bp.get("/export.xlsx")
@require("stats.view")
def export_all():
    """Every table of the dashboard in one workbook, a sheet each."""
    form, period, area = chosen(request.args)
    if form.errors:
        return redirect(url_for("stats.dashboard"), code=303)
    board, locale = exports.Figures(current_user, area, period), str(get_locale())
    data = exports.to_xlsx([exports.table(board, name, locale) for name in exports.TABLES],
                           exports.period_heading(current_user, area, period))
    download = exports.filename(_("Statistics"), exports.scope_name(current_user, area),
                                *_dates(period), extension="xlsx")
    _audited("all", "xlsx", period, area)
    return _download(data, "xlsx", download, "-".join(("statistics", *_dates(period))))


@bp.get("/cases.<any(csv, xlsx):fmt>")
@require("stats.view")
def export_cases(fmt: str):
    """The cases behind one figure, all of them (the page shows them 25 at a time)."""
    figure = request.args.get("figure", "")
    if figure not in queries.FIGURES:
        abort(404)
    form, period, area = chosen(request.args)
    category = chosen_category(request.args)
    more = {"category": category.code} if category else {}
    back = url_for("stats.cases", **link_args(period, area, figure=figure, **more))
    if form.errors:
        return redirect(back, code=303)
    count = exports.count_behind(current_user, area, period, figure, category)
    if count > exports.MAX_CASE_ROWS:
        flash(_("%(n)d cases are too many for one file (at most %(max)d): choose a shorter "
                "period or a smaller area.", n=count, max=exports.MAX_CASE_ROWS), "error")
        return redirect(back, code=303)
    locale = str(get_locale())
    sheet = exports.cases_sheet(current_user, area, period, figure, locale, category)
    data = exports.encode(sheet, fmt, exports.period_heading(current_user, area, period))
    download = exports.filename(sheet.name, exports.scope_name(current_user, area),
                                *_dates(period), extension=fmt)
    _audited("cases", fmt, period, area, figure=figure, cases=len(sheet.rows), **more)
    return _download(data, fmt, download, "-".join(("cases", figure, *_dates(period))))


@bp.get("/monthly.<any(xlsx, pdf):fmt>")
@require("stats.view")
def monthly(fmt: str):
    """The monthly people's-mediation statistics table (人民调解工作统计月报) of a month."""
    form, _period, area = chosen(request.args)
    month = exports.parse_month(request.args.get("month"))
    back = url_for("stats.dashboard", **({"area": area.code} if area else {}))
    if form.errors or month is None:
        if month is None:
            flash(_("Choose the month of the statistics table (YYYY-MM)."), "error")
        return redirect(back, code=303)
    report = exports.monthly_report(current_user, area, month)
    try:
        data = exports.monthly_xlsx(report) if fmt == "xlsx" else exports.monthly_pdf(report)
    except OperationError as error:  # no Chinese font for the PDF
        flash(error.message, "error")
        return redirect(back, code=303)
    download = exports.filename(f"{report.title}（{report.month}）", extension=fmt)
    _audited("monthly", fmt, exports.month_period(month), area)
    return _download(data, fmt, download, f"monthly-statistics-{month:%Y-%m}")
