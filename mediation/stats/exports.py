"""The statistics as files (导出): each table of the dashboard and the cases behind a figure
as CSV and XLSX, and the monthly people's-mediation statistics table (人民调解工作统计月报)
as XLSX and PDF.

The files are made from the same figures as the pages (``queries``), for the same person,
period and area, so a file never holds a case the page would not count.

Text that people type (case titles, names, area and category names) is never a formula in
a spreadsheet: in CSV a cell starting with ``= + - @``, a tab or a carriage return gets a
leading apostrophe, as OWASP advises for CSV injection; XLSX cells are written one by one
with their type and XlsxWriter's conversions of strings (to formulas, links, numbers) off.
CSV starts with a byte-order mark: without it Excel reads UTF-8 as the local code page and
the Chinese comes out garbled.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property, reduce

import xlsxwriter
from babel import Locale
from babel.lists import format_list
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from mediation.areas.models import AreaNode
from mediation.cases.models import Case, Category
from mediation.cases.rules import local_date, today
from mediation.cases.states import CaseState as S
from mediation.cases.states import Level, Source
from mediation.core import audit
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.pdf import render_pdf
from mediation.extensions import db
from mediation.stats import queries
from mediation.stats.queries import MonthlyTable, Period

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
# The cases behind a figure in one file at most: beyond, a narrower period or area is asked
# for (a city's five years of cases would be one huge download held in memory).
MAX_CASE_ROWS = 50_000


class Share(float):
    """A proportion between 0 and 1, shown as a percentage (other floats are days, shown
    with one decimal)."""


@dataclass
class Sheet:
    """One table: its name (file name, sheet tab, heading), its columns and its rows; the
    optional ``total`` row is printed last and in bold."""

    name: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    total: list | None = None

    @property
    def all_rows(self) -> list[list]:
        return self.rows + ([self.total] if self.total is not None else [])


def safe_text(text: str) -> str:
    """The text, with an apostrophe before it if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def display(value) -> str:
    """A cell as text: shares as percentages, days with one decimal, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, Share):
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    return safe_text(value) if isinstance(value, str) else display(value)


def to_csv(sheet: Sheet) -> bytes:
    """One table as CSV, UTF-8 with a byte-order mark, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(str(column)) for column in sheet.columns])
    writer.writerows([_csv_cell(value) for value in row] for row in sheet.all_rows)
    return (BOM + out.getvalue()).encode("utf-8")


# ---- XLSX --------------------------------------------------------------------------------

WORKBOOK_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}
FONT = "等线"  # Excel's default for Chinese; LibreOffice falls back to its own CJK font


def _width(value) -> int:
    """Columns wide enough for their text: CJK characters take two places."""
    text = _csv_cell(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Formats:
    def __init__(self, book):
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter", "border": 1}

        def add(**more):
            return book.add_format(base | more)

        self.text = add(text_wrap=True)
        self.number = add(num_format="0")
        self.days = add(num_format="0.0")
        self.share = add(num_format="0.0%")
        self.date = add(num_format="yyyy-mm-dd")
        self.header = add(bold=True, bg_color="#E8EEF4", align="center", text_wrap=True)
        self.total_text = add(bold=True)
        self.total_number = add(bold=True, num_format="0")
        self.total_share = add(bold=True, num_format="0.0%")
        plain = {"font_name": FONT, "valign": "vcenter"}
        self.title = book.add_format(plain | {"bold": True, "font_size": 16, "align": "center"})
        self.subtitle = book.add_format(plain | {"font_size": 11, "align": "center"})
        self.line = book.add_format(plain | {"font_size": 11})
        self.caption = book.add_format(plain | {"bold": True, "font_size": 12})
        self.note = book.add_format(plain | {"font_size": 9, "text_wrap": True,
                                             "valign": "top"})


def _write(sheet, row: int, col: int, value, formats: _Formats, total: bool = False) -> None:
    """One cell with its type said: text stays text whatever it starts with."""
    if value is None:
        sheet.write_blank(row, col, None, formats.total_text if total else formats.text)
    elif isinstance(value, Share):
        sheet.write_number(row, col, value, formats.total_share if total else formats.share)
    elif isinstance(value, float):
        sheet.write_number(row, col, value, formats.days)
    elif isinstance(value, int) and not isinstance(value, bool):
        sheet.write_number(row, col, value, formats.total_number if total else formats.number)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, time()), formats.date)
    else:
        sheet.write_string(row, col, str(value), formats.total_text if total else formats.text)


def _write_table(ws, first_row: int, table: Sheet, formats: _Formats,
                 widths: dict[int, int]) -> int:
    """The header, rows and total from ``first_row``; the next free row."""
    for col, column in enumerate(table.columns):
        ws.write_string(first_row, col, str(column), formats.header)
        widths[col] = max(widths.get(col, 0), min(_width(column), 16))
    row = first_row + 1
    for values in table.rows:
        for col, value in enumerate(values):
            _write(ws, row, col, value, formats)
            widths[col] = max(widths.get(col, 0), _width(value))
        row += 1
    if table.total is not None:
        for col, value in enumerate(table.total):
            _write(ws, row, col, value, formats, total=True)
        row += 1
    return row


BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(name: str, used: set[str]) -> str:
    base = BAD_SHEET_NAME.sub("_", name).strip("'")[:28] or "Sheet"
    candidate, n = base, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{base}{n}"
    used.add(candidate.lower())
    return candidate


def to_xlsx(sheets: list[Sheet], heading: str) -> bytes:
    """Each table on a sheet of its own, under a line saying whose figures and when."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    book.set_properties({"title": heading})
    formats, used = _Formats(book), set()
    for table in sheets:
        ws = book.add_worksheet(_sheet_name(str(table.name), used))
        ws.write_string(0, 0, f"{table.name} · {heading}", formats.caption)
        widths: dict[int, int] = {}
        _write_table(ws, 2, table, formats, widths)
        ws.freeze_panes(3, 0)
        for col, width in widths.items():
            ws.set_column(col, col, min(max(width, 6) + 2, 60))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(2)
    book.close()
    return buffer.getvalue()


def encode(sheet: Sheet, fmt: str, heading: str) -> bytes:
    """One table as a CSV or an XLSX file."""
    return to_csv(sheet) if fmt == "csv" else to_xlsx([sheet], heading)


# ---- the dashboard's tables --------------------------------------------------------------

class Figures:
    """The dashboard's figures (the attributes of ``queries.Dashboard``), each query run when
    a table first asks for it: one table's file runs its own query, not the whole page's."""

    def __init__(self, user, area: AreaNode | None, period: Period):
        self.user, self.area, self.period = user, area, period

    def _ask(self, query):
        return query(self.user, self.area, self.period)

    @cached_property
    def _figures(self):
        return self._ask(queries.figures)

    @property
    def total(self) -> queries.Row:
        return self._figures[0]

    @property
    def areas(self) -> list[queries.Row]:
        return self._figures[1]

    @cached_property
    def months(self) -> list[dict]:
        return self._ask(queries.by_month)

    @cached_property
    def categories(self) -> list[dict]:
        return self._ask(queries.by_category)

    @cached_property
    def times(self) -> dict:
        return self._ask(queries.handling_times)

    @cached_property
    def confirmations(self) -> dict:
        return self._ask(queries.confirmations)

    @cached_property
    def terms(self) -> dict:
        return self._ask(queries.terms)

    @cached_property
    def satisfaction(self) -> dict:
        return self._ask(queries.satisfaction)


def _summary(board: Figures, locale: str) -> Sheet:
    t = board.total
    rows = [
        (_("Received"), t["received"]), (_("Concluded"), t["concluded"]),
        (_("Settled"), t["settled"]), (_("Of which partly settled"), t["partly_settled"]),
        (_("Settled at grid level"), t["settled_grid"]),
        (_("Settled at community level"), t["settled_community"]),
        (_("Settled at street level"), t["settled_street"]),
        (_("Share settled at grid or community level"), _share(t.settled_low_share)),
        (_("Settlement rate"), _share(t.settlement_rate)),
        (_("Mediation failed"), t["failed"]), (_("Withdrawn"), t["withdrawn"]),
        (_("Declined"), t["declined"]), (_("Referred out"), t["referred_out"]),
        (_("Open now"), t["open"]), (_("Overdue now"), t["overdue"]),
        (_("Overdue rate"), _share(t.overdue_rate)),
        (_("Escalated from grid to community"), t["escalated_grid_community"]),
        (_("Escalated from community to street"), t["escalated_community_street"]),
        (_("Escalated from grid straight to street"), t["escalated_grid_street"]),
    ]
    return Sheet("", [_("Figure"), _("Value")], [list(row) for row in rows])


def _share(value: float | None) -> Share | None:
    return None if value is None else Share(value)


def _areas(board: Figures, locale: str) -> Sheet:
    columns = [_("Area"), _("Area code"), _("Received"), _("Concluded"), _("Settled"),
               _("Settled at grid level"), _("Settled at community level"),
               _("Settled at street level"), _("At grid or community"), _("Settlement rate"),
               _("Mediation failed"), _("Declined"), _("Withdrawn"), _("Referred out"),
               _("Open now"), _("Overdue now"), _("Overdue rate")]
    rows = [[row.area.name, row.area.code, row["received"], row["concluded"], row["settled"],
             row["settled_grid"], row["settled_community"], row["settled_street"],
             _share(row.settled_low_share), _share(row.settlement_rate), row["failed"],
             row["declined"], row["withdrawn"], row["referred_out"], row["open"],
             row["overdue"], _share(row.overdue_rate)] for row in board.areas]
    return Sheet("", columns, rows)


def _months(board: Figures, locale: str) -> Sheet:
    return Sheet("", [_("Month"), _("Received"), _("Settled")],
                 [[m["month"], m["received"], m["settled"]] for m in board.months])


def _categories(board: Figures, locale: str) -> Sheet:
    return Sheet("", [_("Category"), _("Received"), _("Settled"), _("Mediation failed")],
                 [[item["category"].display(locale), item["received"], item["settled"],
                   item["failed"]] for item in board.categories])


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _times(board: Figures, locale: str) -> Sheet:
    return Sheet("", [_("Concluded at"), _("Cases"), _("Median days"),
                      _("90th percentile, days")],
                 [[str(level.title), row["cases"], _days(row["median"]), _days(row["p90"])]
                  for level, row in board.times.items()])


def _escalations(board: Figures, locale: str) -> Sheet:
    t, grid, community, street = board.total, *(str(level.title) for level in Level)
    return Sheet("", [_("Escalated from"), _("Escalated to"), _("Cases")], [
        [grid, community, t["escalated_grid_community"]],
        [community, street, t["escalated_community_street"]],
        [grid, f"{street} {_('(directly)')}", t["escalated_grid_street"]]])


def _confirmations(board: Figures, locale: str) -> Sheet:
    c = board.confirmations
    return Sheet("", [_("Figure"), _("Applications")], [
        [_("Applications filed"), c["applied"]],
        [_("Filed within the 30 days"), c["within_30_days"]],
        [_("Confirmed valid"), c["confirmed"]], [_("Application dismissed"), c["dismissed"]],
        [_("Not accepted by the court"), c["not_accepted"]],
        [_("Awaiting the ruling"), c["pending"]]])


def _performance(board: Figures, locale: str) -> Sheet:
    p = board.terms
    return Sheet("", [_("Terms due in the period"), _("Terms")], [
        [_("Performed on time"), p["on_time"]], [_("Performed late"), p["late"]],
        [_("Overdue now"), p["overdue"]], [_("Not yet due"), p["not_yet_due"]]],
        total=[_("Total"), p["terms"]])


def _satisfaction(board: Figures, locale: str) -> Sheet:
    s = board.satisfaction
    return Sheet("", [_("Rating"), _("Ratings")], [
        [_("Satisfied"), s["satisfied"]], [_("Fairly satisfied"), s["fairly_satisfied"]],
        [_("Not satisfied"), s["unsatisfied"]],
        [_("Satisfaction rate"), _share(s["rate"])]],
        total=[_("Total"), s["ratings"]])


# The dashboard's tables, in the page's order: name in the address → (title, builder).
TABLES: dict[str, tuple[object, Callable[[Figures, str], Sheet]]] = {
    "summary": (_l("Figures"), _summary),
    "areas": (_l("By area"), _areas),
    "months": (_l("By month"), _months),
    "categories": (_l("By category"), _categories),
    "times": (_l("Handling time"), _times),
    "escalations": (_l("Escalations"), _escalations),
    "confirmations": (_l("Judicial confirmation"), _confirmations),
    "performance": (_l("Performance of agreements"), _performance),
    "satisfaction": (_l("What residents think"), _satisfaction),
}


def table(board: Figures, name: str, locale: str) -> Sheet:
    title, build = TABLES[name]
    sheet = build(board, locale)
    sheet.name = str(title)
    return sheet


# The figures whose cases can be listed, as the list's page names them.
FIGURE_TITLES = {
    "received": _l("Received"), "concluded": _l("Concluded"), "settled": _l("Settled"),
    "partly_settled": _l("Partly settled"), "settled_grid": _l("Settled at grid level"),
    "settled_community": _l("Settled at community level"),
    "settled_street": _l("Settled at street level"), "failed": _l("Mediation failed"),
    "withdrawn": _l("Withdrawn"), "declined": _l("Declined"),
    "referred_out": _l("Referred out"), "open": _l("Open now"),
    "overdue": _l("Overdue now"),
    "escalated_grid_community": _l("Escalated from grid to community"),
    "escalated_community_street": _l("Escalated from community to street"),
    "escalated_grid_street": _l("Escalated from grid straight to street"),
    "mediated_grid": _l("Settled or failed at grid level"),
    "mediated_community": _l("Settled or failed at community level"),
    "mediated_street": _l("Settled or failed at street level"),
    # Lists of cases behind counts of applications, terms and ratings (queries.MANY_PER_CASE).
    "confirmation_applied": _l("Cases with a judicial confirmation application"),
    "confirmation_within_30_days": _l("Cases with an application filed within the 30 days"),
    "confirmation_pending": _l("Cases with an application awaiting the ruling"),
    "confirmation_confirmed": _l("Cases with an agreement confirmed valid"),
    "confirmation_dismissed": _l("Cases with an application dismissed"),
    "confirmation_not_accepted": _l("Cases with an application not accepted by the court"),
    "terms_due": _l("Cases with terms due in the period"),
    "terms_on_time": _l("Cases with terms performed on time"),
    "terms_late": _l("Cases with terms performed late"),
    "terms_overdue": _l("Cases with terms overdue now"),
    "terms_not_yet_due": _l("Cases with terms not yet due"),
    "rated": _l("Cases rated by residents"),
    "rated_satisfied": _l("Cases rated satisfied"),
    "rated_fairly_satisfied": _l("Cases rated fairly satisfied"),
    "rated_unsatisfied": _l("Cases rated not satisfied"),
}


def count_behind(user, area: AreaNode | None, period: Period, figure: str,
                 category: Category | None = None) -> int:
    statement = queries.cases_behind(user, area, period, figure, category).order_by(None)
    return db.session.scalar(select(func.count()).select_from(statement.subquery()))


def cases_title(figure: str, category: Category | None, locale: str) -> str:
    """The list's name: the figure's, and the category it is narrowed to."""
    title = str(FIGURE_TITLES[figure])
    return f"{title} · {category.display(locale)}" if category is not None else title


def cases_sheet(user, area: AreaNode | None, period: Period, figure: str, locale: str,
                category: Category | None = None) -> Sheet:
    """The cases behind a figure, newest first: what the list page shows, and when."""
    statement = queries.cases_behind(user, area, period, figure, category).options(
        selectinload(Case.category), selectinload(Case.grid), selectinload(Case.handler))
    rows = [[case.number, case.title, case.category.display(locale), str(case.source.title),
             str(case.state.title), str(case.level.title), case.grid.name,
             case.handler.full_name if case.handler else None, local_date(case.reported_at),
             local_date(case.outcome_at) if case.outcome_at else None, case.level_deadline]
            for case in db.session.scalars(statement)]
    return Sheet(cases_title(figure, category, locale), [
        _("Number"), _("Dispute"), _("Category"), _("Source"), _("Status"), _("Level"),
        _("Grid"), _("Handler"), _("Reported on"), _("Outcome on"), _("Level deadline")], rows)


# ---- whose figures, and the file names ---------------------------------------------------

def scope_nodes(user, area: AreaNode | None) -> list[AreaNode]:
    """The areas the figures cover: the chosen one, else the person's jurisdiction."""
    return [area] if area is not None else queries.visible_areas(user)


def scope_name(user, area: AreaNode | None) -> str:
    """Whose figures, in the current language: the areas' names, three at most."""
    names = [node.name for node in scope_nodes(user, area)]
    locale = get_locale() or Locale.parse("zh")
    if len(names) <= 3:
        return format_list(names, locale=locale)
    middle = locale.list_patterns["standard"]["middle"]  # 甲、乙 / A, B
    return _("%(areas)s and others", areas=reduce(middle.format, names[:3]))


UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def filename(*parts: str, extension: str) -> str:
    """A file name from its parts, with nothing a file system or a header would choke on."""
    name = "_".join(UNSAFE_IN_NAME.sub("-", str(part)).strip() for part in parts if part)
    return f"{name[:150]}.{extension}"


def period_heading(user, area: AreaNode | None, period: Period) -> str:
    return _("%(area)s, %(first)s to %(last)s", area=scope_name(user, area),
             first=period.first.isoformat(), last=period.last.isoformat())


def record_export(user, what: str, fmt: str, period: Period, area: AreaNode | None,
                  **details) -> None:
    """What left the system as a file: which table, for which period and area, by whom."""
    audit.record("stats.export", object_type="AreaNode" if area else None,
                 object_id=area.code if area else None, actor=user,
                 after={"export": what, "format": fmt, "from": period.first,
                        "to": period.last, "area": area.code if area else None,
                        "scope": scope_name(user, area), **details})


# ---- the monthly people's-mediation statistics table -------------------------------------
# The form the justice bureau collects is Chinese whatever the interface language, like the
# PDFs' templates: its labels are written here once, for the XLSX and the PDF alike.

MONTHLY_OUTCOMES = {S.SETTLED: "调解成功", S.PARTLY_SETTLED: "部分调解成功",
                    S.FAILED: "调解不成功", S.WITHDRAWN: "撤回", S.DECLINED: "不予受理",
                    S.REFERRED_OUT: "移送处理"}
MONTHLY_NOTES = [
    "受理：本月登记的纠纷。调解结果：本月记录调解结果的纠纷，含以前月份受理的；办结为各项结果之和。",
    "调解成功率＝（调解成功＋部分调解成功）÷（调解成功＋部分调解成功＋调解不成功），"
    "撤回、不予受理和移送处理的不计入。",
    "按调解层级：受理按纠纷登记时所在层级统计；调解成功、调解不成功按记录结果时办理纠纷的层级统计，"
    "提级后调解成功的只计入调解成功的层级。",
]


def parse_month(text: str | None) -> date | None:
    """The first day of a month written YYYY-MM (as <input type=month> sends it)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        return None
    return date(int(match[1]), int(match[2]), 1)


def monthly_default(period: Period) -> str:
    """The month offered for the monthly table (YYYY-MM): the last of the period shown when
    it is over, else the last complete month (the one usually reported)."""
    this_month = today().replace(day=1)
    month = period.last if period.last < this_month else this_month - timedelta(days=1)
    return f"{month.year:04d}-{month.month:02d}"


def month_period(first: date) -> Period:
    return Period.of(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))


def _rate(settled: int, failed: int) -> Share | None:
    return Share(settled / (settled + failed)) if settled + failed else None


def _outcome_rate(outcomes: dict) -> Share | None:
    return _rate(outcomes[S.SETTLED] + outcomes[S.PARTLY_SETTLED], outcomes[S.FAILED])


@dataclass
class MonthlyReport:
    """The monthly table as it is printed: heading, reporting line, three tables, notes."""

    title: str
    month: str
    period: str
    unit: str
    filled_by: str
    filled_on: str
    sections: list[Sheet]
    notes: list[str]


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _unit(user, area: AreaNode | None) -> str:
    """The reporting unit (填报单位): the committee of the area when it has one."""
    nodes = scope_nodes(user, area)
    if len(nodes) == 1:
        committee = next((c for c in nodes[0].committees if c.active), None)
        if committee is not None:
            return committee.name
    return scope_name(user, area)


def monthly_report(user, area: AreaNode | None, month: date) -> MonthlyReport:
    """The monthly table of the person's jurisdiction (or the chosen area) for a month."""
    period = month_period(month)
    data: MonthlyTable = queries.monthly_table(user, area, period)
    with force_locale("zh"):
        categories = Sheet("一、纠纷类型及调解结果", [
            "纠纷类型", "受理", "办结", *MONTHLY_OUTCOMES.values(), "调解成功率"])
        for category, received, outcomes in data.categories:
            categories.rows.append([
                category.display("zh"), received, sum(outcomes.values()),
                *(outcomes[o] for o in MONTHLY_OUTCOMES), _outcome_rate(outcomes)])
        received, outcomes = data.totals
        categories.total = ["合计", received, sum(outcomes.values()),
                            *(outcomes[o] for o in MONTHLY_OUTCOMES), _outcome_rate(outcomes)]
        levels = Sheet("二、按调解层级", ["调解层级", "受理", "调解成功（含部分）", "调解不成功",
                                   "调解成功率"])
        for level, counts in data.levels.items():
            levels.rows.append([str(level.title), counts["received"], counts["settled"],
                                counts["failed"], _rate(counts["settled"], counts["failed"])])
        sums = {key: sum(c[key] for c in data.levels.values())
                for key in ("received", "settled", "failed")}
        levels.total = ["合计", sums["received"], sums["settled"], sums["failed"],
                        _rate(sums["settled"], sums["failed"])]
        sources = Sheet("三、按案件来源", ["案件来源", "受理"],
                        [[str(source.title), data.sources.get(source, 0)] for source in Source])
        sources.total = ["合计", sum(data.sources.values())]
    with force_locale("zh"):  # the form is Chinese whatever the interface language
        name, unit = scope_name(user, area), _unit(user, area)
    return MonthlyReport(
        title=f"{name}人民调解工作统计月报", month=f"{month.year}年{month.month}月",
        period=f"统计期间：{_chinese_date(period.first)}至{_chinese_date(period.last)}",
        unit=unit, filled_by=user.full_name, filled_on=_chinese_date(today()),
        sections=[categories, levels, sources], notes=MONTHLY_NOTES)


def monthly_xlsx(report: MonthlyReport) -> bytes:
    """The monthly table on one A4 landscape sheet, ready to print or send on."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    book.set_properties({"title": f"{report.title}（{report.month}）"})
    formats = _Formats(book)
    ws = book.add_worksheet("月报")
    width = max(len(section.columns) for section in report.sections)
    last = width - 1
    ws.merge_range(0, 0, 0, last, report.title, formats.title)
    ws.set_row(0, 28)
    ws.merge_range(1, 0, 1, last, f"（{report.month}）", formats.subtitle)
    ws.merge_range(2, 0, 2, last, report.period, formats.subtitle)
    ws.merge_range(3, 0, 3, last, f"填报单位：{report.unit}　　填报人：{report.filled_by}"
                                  f"　　填报日期：{report.filled_on}", formats.line)
    row, widths = 5, {}
    for section in report.sections:
        ws.write_string(row, 0, section.name, formats.caption)
        row = _write_table(ws, row + 1, section, formats, widths) + 1
    ws.write_string(row, 0, "说明：", formats.caption)
    for note_number, note in enumerate(report.notes, 1):
        row += 1
        ws.merge_range(row, 0, row, last, f"{note_number}. {note}", formats.note)
        ws.set_row(row, 30)
    ws.set_column(0, 0, max(widths.get(0, 0), 16) + 2)
    ws.set_column(1, last, 11)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.center_horizontally()
    ws.fit_to_pages(1, 0)
    ws.set_footer("&C第 &P 页 共 &N 页")
    book.close()
    return buffer.getvalue()


def monthly_pdf(report: MonthlyReport) -> bytes:
    with force_locale("zh"):
        return render_pdf("monthly_table.html", title=f"{report.title}（{report.month}）",
                          author=report.unit, keywords=report.month, report=report,
                          cell=display)
