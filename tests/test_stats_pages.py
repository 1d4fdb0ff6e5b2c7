"""The statistics pages: the dashboard, the cases behind a figure, the drill-down within
one's jurisdiction, and supervising overdue cases from the list."""

import re
from datetime import date, timedelta
from functools import cache
from html import unescape
from urllib.parse import parse_qsl

import pytest
import test_stats_figures
from conftest import DEMO_PASSWORD, csrf_from
from sqlalchemy import event as sa_event
from sqlalchemy import select

from mediation.cases import operations
from mediation.cases.models import SupervisionNotice
from mediation.cases.rules import today
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.portal.models import Rating, Satisfaction
from mediation.stats.queries import Period
from mediation.users.passwords import hash_password

JUNE = "start=2026-06-01&end=2026-06-30"
hand_counted = test_stats_figures.city  # the hand-counted June (a fixture)


@cache
def _demo_hash() -> str:
    return hash_password(DEMO_PASSWORD)  # argon2 takes a while: once for the module


@pytest.fixture
def city(hand_counted):
    """The hand-counted city, its accounts able to log in with the demo password."""
    for account in (hand_counted.admin, hand_counted.coordinator, hand_counted.mediator,
                    hand_counted.gridworker, hand_counted.legalaid):
        account.password_hash = _demo_hash()
    db.session.commit()
    return hand_counted
def _numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/(\d{4}-\d+)">', html)


def test_the_dashboard_shows_the_figures_and_links_their_cases(city, auth):
    auth.login("coordinator")
    page = auth.client.get(f"/stats/?{JUNE}").get_data(as_text=True)
    assert "统计" in page and "66.7%" in page and "75.0%" in page  # the headline, the rate
    assert 'href="/stats/cases?start=2026-06-01&amp;end=2026-06-30&amp;figure=received"' in page
    assert "东苑社区" in page and "西苑社区" in page
    listed = auth.client.get(f"/stats/cases?figure=settled&{JUNE}").get_data(as_text=True)
    expected = sorted(city.cases[name].number for name in "ABF")
    assert sorted(_numbers(listed)) == expected
    # Drill down to a community; another jurisdiction's area is unknown to a mediator.
    east = auth.client.get(f"/stats/?{JUNE}&area={city.east.code}").get_data(as_text=True)
    assert "东苑第1网格" in east and "西苑社区" not in east
    auth.logout()
    auth.login("mediator")
    assert auth.client.get(f"/stats/?{JUNE}&area={city.west.code}").status_code == 404
    assert auth.client.get(f"/stats/cases?figure=received&{JUNE}&area={city.west.code}"
                           ).status_code == 404
    mine = auth.client.get(f"/stats/cases?figure=received&{JUNE}").get_data(as_text=True)
    assert sorted(_numbers(mine)) == sorted(city.cases[n].number for n in "ABDE")
    assert auth.client.get("/stats/cases?figure=nonsense").status_code == 404


def test_a_bad_period_is_said_and_the_default_shown(city, auth):
    auth.login("coordinator")
    page = auth.client.get("/stats/?start=2026-06-30&end=2026-06-01").get_data(as_text=True)
    assert "期间的结束日期早于开始日期" in page
    default = Period.default()
    shown = (f"统计期间：{default.first.isoformat()}至{default.last.isoformat()}。")
    assert shown in page  # the default period instead of the inverted one
    page = auth.client.get("/stats/?start=not-a-date").get_data(as_text=True)
    assert 'class="flash flash--error"' in page  # the bad date is said
    assert shown in page


def test_grid_workers_and_volunteers_have_no_statistics(city, auth):
    for role in ("gridworker", "legalaid"):
        auth.logout()
        auth.login(role)
        assert auth.client.get("/stats/").status_code == 403


def test_a_coordinator_supervises_several_overdue_cases_at_once(city, auth):
    auth.login("coordinator")
    overdue = city.cases["E"]
    page = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    assert f'value="{overdue.number}"' in page
    sent = auth.client.post("/stats/supervise", data={
        "csrf_token": csrf_from(page), "cases": [overdue.number],
        "message": "请于三日内办结并报告进展。", "back": "/stats/cases?figure=overdue"})
    assert sent.status_code == 303 and sent.headers["Location"] == "/stats/cases?figure=overdue"
    notices = list(db.session.scalars(select(SupervisionNotice)))
    assert [(n.case_id, n.message) for n in notices] == [(overdue.id, "请于三日内办结并报告进展。")]
    # All or none: a closed case in the batch stops it, and says which.
    closed = city.cases["I"]
    auth.client.post("/stats/supervise", data={
        "csrf_token": csrf_from(page), "cases": [overdue.number, closed.number],
        "message": "再次督办"})
    assert db.session.scalar(select(db.func.count()).select_from(SupervisionNotice)) == 1
    follow = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    assert closed.number in follow and "不能督办" in follow
    # A mediator may not supervise.
    auth.logout()
    auth.login("mediator")
    page = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    assert 'name="cases"' not in page
    assert auth.client.post("/stats/supervise", data={"csrf_token": csrf_from(page),
                                                      "cases": [overdue.number],
                                                      "message": "x"}).status_code == 403


def test_one_period_rule_on_the_page(city, auth):
    auth.login("coordinator")
    default = Period.default()
    for query, message in [("start=0001-01-01", "请选择2000-01-01至2100-12-31之间的日期"),
                           ("start=1900-01-01", "请选择2000-01-01至2100-12-31之间的日期"),
                           ("start=2019-01-01", "统计期间最长五年"),
                           ("start=2026-06-30&end=2026-06-01", "期间的结束日期早于开始日期")]:
        response = auth.client.get(f"/stats/?{query}")
        assert response.status_code == 200, query
        page = response.get_data(as_text=True)
        assert message in page, query
        # The default period is shown instead, its months only.
        assert f'value="{default.first.isoformat()}"' in page, query
        assert page.count("<tr><th scope=\"row\">20") <= 12 + 3, query
    # Only an end: the twelve months up to it.
    page = auth.client.get("/stats/?end=2020-01-01").get_data(as_text=True)
    assert 'value="2019-02-01"' in page and 'value="2020-01-01"' in page
    assert "flash--error" not in page
    assert auth.client.get("/stats/cases?figure=received&start=0001-01-01").status_code == 200
    assert auth.client.get("/stats/cases.csv?figure=received&start=0001-01-01").status_code \
        == 303
    assert auth.client.get("/stats/export/summary.csv?start=1900-01-01").status_code == 303


def _links(html: str) -> list[dict]:
    """The address arguments of every link to a list of cases, in the page's order."""
    return [dict(parse_qsl(unescape(query))) for query in
            re.findall(r'href="/stats/cases\?([^"]+)"', html)]


def test_every_number_links_to_its_cases(city, auth):
    auth.login("coordinator")
    page = auth.client.get("/stats/?start=2026-05-15&end=2026-06-30").get_data(as_text=True)
    links = _links(page)
    period = {"start": "2026-05-15", "end": "2026-06-30"}
    # By area: with that area.
    assert period | {"figure": "received", "area": city.east.code} in links
    assert period | {"figure": "overdue", "area": city.east.code} in links
    assert period | {"figure": "settled", "area": city.west.code} in links
    # Handling time: the cases settled or failed at each level.
    assert period | {"figure": "mediated_street"} in links
    # By month: that month, as far as it lies in the period.
    may = {"start": "2026-05-15", "end": "2026-05-31", "figure": "received"}
    june = {"start": "2026-06-01", "end": "2026-06-30", "figure": "settled"}
    assert may in links and june in links
    listed = auth.client.get("/stats/cases", query_string=may).get_data(as_text=True)
    assert _numbers(listed) == [city.cases["C"].number]
    # By category: that category.
    leak = period | {"figure": "received", "category": "water_leak"}
    assert leak in links
    listed = auth.client.get("/stats/cases", query_string=leak).get_data(as_text=True)
    assert len(_numbers(listed)) == 8 and "房屋漏水" in listed
    assert auth.client.get("/stats/cases", query_string=period | {
        "figure": "received", "category": "neighbour"}).status_code == 200
    assert auth.client.get("/stats/cases", query_string=period | {
        "figure": "received", "category": "nonsense"}).status_code == 404
    rows = auth.client.get("/stats/cases.csv", query_string=leak).get_data(as_text=True)
    assert len(rows.strip().splitlines()) == 1 + 8
    # Handling time is elapsed time, not calendar days.
    assert "办理用时（自登记至办结经过的时间，以天计）" in page


def test_lists_behind_applications_terms_and_ratings_say_they_are_of_cases(city, auth):
    auth.login("coordinator")
    a = city.cases["A"]
    for party, answer in zip(a.parties, (Satisfaction.SATISFIED, Satisfaction.UNSATISFIED),
                             strict=True):
        db.session.add(Rating(case=a, party=party, satisfaction=answer,
                              rated_at=test_stats_figures.at(date(2026, 6, 12))))
    db.session.commit()
    page = auth.client.get(f"/stats/?{JUNE}").get_data(as_text=True)
    links = _links(page)
    for figure in ("rated", "rated_satisfied", "rated_unsatisfied"):
        assert {"start": "2026-06-01", "end": "2026-06-30", "figure": figure} in links
    assert "每个数字链接到相应的案件" in page
    listed = auth.client.get(f"/stats/cases?figure=rated&{JUNE}").get_data(as_text=True)
    assert _numbers(listed) == [a.number]  # two ratings, one case
    assert "有居民评价的案件" in listed and "一件案件可能有多项" in listed
    assert "一件案件可能有多项" not in auth.client.get(
        f"/stats/cases?figure=received&{JUNE}").get_data(as_text=True)


def test_the_list_of_cases_loads_what_it_shows_in_a_query_each(city, auth):
    """No query per row for its category, grid or handler: seven cases in three grids with
    two handlers cost what one case does."""
    auth.login("coordinator")
    statements = []

    def count(*args):
        statements.append(args[2])

    def queries_for(figure: str) -> int:
        db.session.remove()  # the request shares the test's session: nothing loaded before
        statements.clear()
        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = auth.client.get(f"/stats/cases?figure={figure}&{JUNE}")
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        assert page.status_code == 200
        return len(statements)

    for case in city.cases.values():
        case.handler = city.mediator if case.id % 2 else city.coordinator
    db.session.commit()
    queries_for("received")  # what the first request of a login loads once
    assert queries_for("received") == queries_for("overdue")  # E, open like one of those


def test_the_supervision_form_sends_back_only_to_a_statistics_page(city, auth):
    auth.login("coordinator")
    page = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    for back in ("/stats/cases?figure=overdue\r\nX-Injected: 1", "/stats/\n/evil",
                 "https://evil.example/stats/", "//evil.example/stats/", "/cases/"):
        sent = auth.client.post("/stats/supervise", data={
            "csrf_token": csrf_from(page), "cases": [], "message": "x", "back": back})
        assert sent.status_code == 303, back
        assert sent.headers["Location"] == "/stats/cases?figure=overdue", back


def test_at_most_a_hundred_cases_are_supervised_at_once(city, auth):
    auth.login("coordinator")
    page = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    numbers = [city.cases["E"].number] + [f"2026-{n:05d}" for n in range(100)]
    auth.client.post("/stats/supervise", data={"csrf_token": csrf_from(page),
                                               "cases": numbers, "message": "请办结"})
    follow = auth.client.get("/stats/cases?figure=overdue").get_data(as_text=True)
    assert "一次最多督办100件案件" in follow
    assert db.session.scalar(select(db.func.count()).select_from(SupervisionNotice)) == 0


def test_a_day_to_respond_by_that_has_passed_is_refused_everywhere(city, auth):
    overdue = city.cases["E"]
    yesterday = today() - timedelta(days=1)
    with pytest.raises(OperationError, match="回复期限已过"):  # the single case's page
        operations.issue_supervision(city.coordinator, overdue, "请办结", yesterday)
    with pytest.raises(OperationError, match="回复期限已过"):  # the dashboard's list
        operations.supervise_many(city.coordinator, [overdue.number], "请办结", yesterday)
    db.session.rollback()
    assert operations.issue_supervision(city.coordinator, overdue, "请办结", today())
    # The demo replays history: a notice issued on a past day may be answered by then.
    assert operations.issue_supervision(city.coordinator, overdue, "请办结", yesterday,
                                        on=yesterday - timedelta(days=2))
