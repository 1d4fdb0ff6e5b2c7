"""The network's figures (mediation/stats/queries.py) against cases counted by hand.

The test city: 和平街道 with 东苑社区 (two grids) and 西苑社区 (one grid). The period is June
2026; each case below says which figures it belongs to, and the expected numbers are the
sums of those lines.
"""

import re
from datetime import date, datetime, time, timedelta

import pytest
from agreements_helpers import agreement_city
from cases_helpers import applicant, make_case, respondent
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from mediation.agreements.models import (
    Agreement,
    AgreementStatus,
    ConfirmationResult,
    Instalment,
    JudicialConfirmation,
    Term,
)
from mediation.cases import operations
from mediation.cases.models import CaseEvent
from mediation.cases.rules import LOCAL, today
from mediation.cases.states import CaseState, Level
from mediation.extensions import db
from mediation.portal.models import Rating, Satisfaction
from mediation.stats import queries
from mediation.stats.queries import Period

S = CaseState
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), LOCAL)


def story(city, grid, reported: date, *steps, title="楼上漏水"):
    """A case reported on ``reported`` that then goes through ``steps``: (day, state) for a
    change of state, (day, Level) for an escalation. Timestamps are moved to those days."""
    case = make_case(None, grid=grid, title=title,  # as a resident's report: at grid level
                     parties=[applicant(phone="13800138000"), respondent()])
    case.reported_at = at(reported)
    for day, step in steps:
        if isinstance(step, Level):
            operations.move_level(city.coordinator, case, step, "升级处理")
        else:
            reason = None if step in (S.ACCEPTED, S.IN_MEDIATION, S.SETTLED,
                                      S.PARTLY_SETTLED, S.FOLLOW_UP, S.CLOSED) else "测试"
            operations.transition(case, step, city.mediator, reason)
        db.session.flush()
        newest = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.id.desc()).limit(1)).one()
        newest.at = at(day)
        if step is S.ACCEPTED:
            case.accepted_at = at(day)
        if step in queries.OUTCOMES:
            case.outcome_at = at(day)
        if step is S.CLOSED:
            case.closed_at = at(day)
    db.session.flush()
    return case


@pytest.fixture
def city(app):
    city = agreement_city()
    june = lambda d: date(2026, 6, d)  # noqa: E731
    accept, mediate = S.ACCEPTED, S.IN_MEDIATION
    c = city
    c.cases = {
        # received, concluded, settled at grid: 2 days
        "A": story(c, c.east_1, june(3), (june(3), accept), (june(4), mediate),
                   (june(5), S.SETTLED)),
        # received, escalated grid→community, partly settled at community: 10 days
        "B": story(c, c.east_1, june(10), (june(10), accept), (june(12), Level.COMMUNITY),
                   (june(13), mediate), (june(20), S.PARTLY_SETTLED)),
        # reported in May; straight to street in June, failed there: 36 days
        "C": story(c, c.east_1, date(2026, 5, 20), (date(2026, 5, 21), accept),
                   (june(2), Level.STREET), (june(3), mediate), (june(25), S.FAILED)),
        # received, declined
        "D": story(c, c.east_2, june(15), (june(16), S.DECLINED)),
        # received, open and overdue
        "E": story(c, c.east_2, june(20), (june(21), accept)),
        # received, grid→community→street, settled at street: 23 days
        "F": story(c, c.west_1, june(5), (june(5), accept), (june(6), Level.COMMUNITY),
                   (june(15), Level.STREET), (june(16), mediate), (june(28), S.SETTLED)),
        # reported after June: open, not overdue
        "G": story(c, c.west_1, today()),
        # received, withdrawn
        "H": story(c, c.west_1, june(8), (june(9), S.WITHDRAWN)),
        # received, referred out, closed
        "I": story(c, c.west_1, june(11), (june(11), accept), (june(12), S.REFERRED_OUT),
                   (june(20), S.CLOSED)),
        # settled in April at grid, followed up and closed in June: in no June figure
        "J": story(c, c.east_1, date(2026, 4, 1), (date(2026, 4, 1), accept),
                   (date(2026, 4, 2), mediate), (date(2026, 4, 10), S.SETTLED),
                   (june(15), S.FOLLOW_UP), (june(20), S.CLOSED)),
    }
    c.cases["E"].level_deadline = today() - timedelta(days=3)
    c.cases["G"].level_deadline = today() + timedelta(days=3)
    db.session.commit()
    return c


EXPECTED = {  # the whole street in June, counted from the lines above
    "received": 7,  # A B D E F H I
    "concluded": 7,  # A B C D F H I
    "settled": 3, "partly_settled": 1,  # A B F; B
    "settled_grid": 1, "settled_community": 1, "settled_street": 1,  # A; B; F
    "failed": 1, "withdrawn": 1, "declined": 1, "referred_out": 1,  # C; H; D; I
    "open": 2, "overdue": 1,  # E G; E
    "escalated_grid_community": 2, "escalated_community_street": 1,  # B F; F
    "escalated_grid_street": 1,  # C
}


def test_the_street_figures_equal_the_hand_count(city):
    board = queries.dashboard(city.coordinator, None, JUNE)
    assert dict(board.total.counts) == EXPECTED
    assert board.total.settlement_rate == 3 / 4
    assert board.total.settled_low_share == 2 / 3
    assert board.total.overdue_rate == 1 / 2
    # The drill-down: the street's two communities.
    east, west = board.areas
    assert (east.area.name, west.area.name) == ("东苑社区", "西苑社区")
    assert (east["received"], east["settled"], east["failed"], east["open"],
            east["overdue"]) == (4, 2, 1, 1, 1)
    assert (west["received"], west["settled"], west["open"], west["withdrawn"],
            west["referred_out"]) == (3, 1, 1, 1, 1)
    assert board.times[Level.GRID] == {"cases": 1, "median": pytest.approx(2),
                                       "p90": pytest.approx(2)}
    assert board.times[Level.COMMUNITY]["median"] == pytest.approx(10)
    assert board.times[Level.STREET] == {"cases": 2, "median": pytest.approx(23),
                                         "p90": pytest.approx(36)}
    june = next(m for m in board.months if m["month"] == "2026-06")
    assert june == {"month": "2026-06", "received": 7, "settled": 3}
    assert [c["category"].code for c in board.categories] == ["water_leak"]


def test_each_figure_lists_exactly_the_cases_it_counts(city):
    names = {case.id: name for name, case in city.cases.items()}
    behind = {figure: sorted(names[c.id] for c in db.session.scalars(
        queries.cases_behind(city.coordinator, None, JUNE, figure)))
        for figure in queries.ROW_FIGURES}
    assert behind["received"] == list("ABDEFHI")
    assert behind["settled_community"] == ["B"]
    assert behind["escalated_grid_street"] == ["C"]
    assert behind["overdue"] == ["E"]
    assert {figure: len(cases) for figure, cases in behind.items()} == EXPECTED
    # The cases of each level's handling time.
    times = queries.handling_times(city.coordinator, None, JUNE)
    for level, cases in {Level.GRID: ["A"], Level.COMMUNITY: ["B"],
                         Level.STREET: ["C", "F"]}.items():
        assert sorted(names[c.id] for c in db.session.scalars(queries.cases_behind(
            city.coordinator, None, JUNE, f"mediated_{level.value}"))) == cases
        assert times[level]["cases"] == len(cases)


def test_figures_keep_to_the_scope_and_the_chosen_area(city):
    east_only = queries.dashboard(city.mediator, None, JUNE)  # 东苑社区's mediator
    assert east_only.total["received"] == 4 and east_only.total["settled"] == 2
    assert [row.area.name for row in east_only.areas] == ["东苑第1网格", "东苑第2网格"]
    west = queries.dashboard(city.admin, city.west, JUNE)
    assert west.total["received"] == 3 and west.total["settled_street"] == 1
    assert not queries.may_see_area(city.mediator, city.west)
    assert queries.may_see_area(city.mediator, city.east_1)
    grid = queries.dashboard(city.admin, city.east_2, JUNE)
    assert grid.total["received"] == 2 and grid.areas == []


def _agreement(city, case, effective_on: date | None, **fields) -> Agreement:
    seq = case.id  # an issued agreement has its number, code and PDF digest
    agreement = Agreement(case=case, committee=city.committee, status=AgreementStatus.ISSUED,
                          effective_on=effective_on, year=2026, seq=seq,
                          number=f"测调字〔2026〕第{seq}号", verification_code=f"TEST{seq:04d}",
                          sha256=f"{seq:064d}", **fields)
    db.session.add(agreement)
    return agreement


def test_confirmations_terms_and_ratings(city):
    a, b, f = city.cases["A"], city.cases["B"], city.cases["F"]
    first = _agreement(city, a, date(2026, 5, 10))
    second = _agreement(city, b, date(2026, 5, 1))
    outside = _agreement(city, f, date(2026, 6, 2))
    db.session.add_all([
        # filed on the 30th day's last day (10 May + 30 = 9 June, a Tuesday): within
        JudicialConfirmation(agreement=first, court_name="法院", filed_on=date(2026, 6, 9),
                             result=ConfirmationResult.CONFIRMED, ruled_on=date(2026, 6, 30)),
        # filed after the 30 days (1 May + 30 = 31 May, a Sunday: 1 June was the last day)
        JudicialConfirmation(agreement=second, court_name="法院", filed_on=date(2026, 6, 25),
                             result=ConfirmationResult.DISMISSED, ruled_on=date(2026, 6, 30)),
        # filed in July: not a June application
        JudicialConfirmation(agreement=second, court_name="法院", filed_on=date(2026, 7, 2),
                             result=ConfirmationResult.PENDING),
        JudicialConfirmation(agreement=outside, court_name="法院", filed_on=date(2026, 6, 20),
                             result=ConfirmationResult.PENDING),
    ])
    # Terms due in June: on time, late, overdue; one due in July; one paid in instalments
    # whose last one is due in June and unpaid (overdue).
    db.session.add_all([
        Term(agreement=first, content="赔偿", due_on=date(2026, 6, 10),
             performed_on=date(2026, 6, 9)),
        Term(agreement=first, content="修复", due_on=date(2026, 6, 10),
             performed_on=date(2026, 6, 12)),
        Term(agreement=second, content="赔偿", due_on=date(2026, 6, 30)),
        Term(agreement=second, content="道歉", due_on=date(2026, 7, 30)),
    ])
    term = Term(agreement=outside, content="分期赔偿")
    db.session.add(term)
    db.session.add_all([Instalment(term=term, due_on=date(2026, 5, 30), amount_fen=100000,
                                   paid_on=date(2026, 5, 30)),
                        Instalment(term=term, due_on=date(2026, 6, 30), amount_fen=100000)])
    # Ratings: two in June, one in July.
    parties = a.parties + b.parties
    for party, satisfaction, day in [(parties[0], Satisfaction.SATISFIED, 12),
                                     (parties[1], Satisfaction.UNSATISFIED, 20),
                                     (parties[2], Satisfaction.FAIRLY, 40)]:
        db.session.add(Rating(case=party.case, party=party, satisfaction=satisfaction,
                              rated_at=at(date(2026, 6, 1) + timedelta(days=day - 1))))
    db.session.commit()

    board = queries.dashboard(city.coordinator, None, JUNE)
    assert board.confirmations == {"applied": 3, "within_30_days": 2, "pending": 1,
                                   "confirmed": 1, "dismissed": 1, "not_accepted": 0}
    assert board.terms == {"terms": 4, "on_time": 1, "late": 1, "overdue": 2,
                           "not_yet_due": 0}
    assert board.satisfaction == {"ratings": 2, "satisfied": 1, "fairly_satisfied": 0,
                                  "unsatisfied": 1, "rate": 0.5}
    # The cases behind each of these numbers: A holds two terms and two ratings, once each.
    names = {case.id: name for name, case in city.cases.items()}
    behind = {figure: "".join(sorted(names[c.id] for c in db.session.scalars(
        queries.cases_behind(city.coordinator, None, JUNE, figure))))
        for figure in queries.MANY_PER_CASE}
    assert behind == {
        "confirmation_applied": "ABF", "confirmation_within_30_days": "AF",
        "confirmation_pending": "F", "confirmation_confirmed": "A",
        "confirmation_dismissed": "B", "confirmation_not_accepted": "",
        "terms_due": "ABF", "terms_on_time": "A", "terms_late": "A", "terms_overdue": "BF",
        "terms_not_yet_due": "", "rated": "A", "rated_satisfied": "A",
        "rated_fairly_satisfied": "", "rated_unsatisfied": "A"}
    # 西苑社区's figures hold only F's agreement.
    west = queries.dashboard(city.admin, city.west, JUNE)
    assert west.confirmations["applied"] == 1 and west.terms["terms"] == 1
    assert west.satisfaction["ratings"] == 0 and west.satisfaction["rate"] is None


def test_the_monthly_table(city):
    table = queries.monthly_table(city.coordinator, None, JUNE)
    (category, received, outcomes), = [row for row in table.categories if row[1]]
    assert category.code == "water_leak" and received == 7
    assert outcomes == {S.SETTLED: 2, S.PARTLY_SETTLED: 1, S.FAILED: 1, S.WITHDRAWN: 1,
                        S.DECLINED: 1, S.REFERRED_OUT: 1}
    # Received at: A B D E H I at grid, F at grid too (it moved later): all 7 at grid.
    assert table.levels[Level.GRID] == {"received": 7, "settled": 1, "failed": 0}
    assert table.levels[Level.COMMUNITY] == {"received": 0, "settled": 1, "failed": 0}
    assert table.levels[Level.STREET] == {"received": 0, "settled": 1, "failed": 1}
    assert sum(table.sources.values()) == 7


def test_one_rule_for_a_period(english):
    """Period.of: what the page, the files and the API each accept."""
    now = today()
    assert Period.of() == Period.default() == Period(queries.twelve_months_to(now), now)
    # A missing start: the twelve months up to the end; a missing end: today.
    assert Period.of(None, date(2020, 1, 1)) == Period(date(2019, 2, 1), date(2020, 1, 1))
    assert Period.of(date(2026, 6, 1)) == Period(date(2026, 6, 1), now)
    refused = {
        (date(1, 1, 1), None): ("start", "Choose dates from 2000-01-01 to 2100-12-31."),
        (None, date(9999, 12, 31)): ("end", "Choose dates from 2000-01-01 to 2100-12-31."),
        (date(1900, 1, 1), None): ("start", "Choose dates from 2000-01-01 to 2100-12-31."),
        (date(2026, 6, 30), date(2026, 6, 1)): (
            "end", "The end of the period comes before its start."),
        (now + timedelta(days=1), None): (
            "start", "The end of the period comes before its start."),
        (date(2016, 1, 1), date(2026, 6, 30)): ("end", "Choose a period of at most five years."),
        (now - timedelta(days=queries.MAX_DAYS + 1), None): (
            "start", "Choose a period of at most five years."),
    }
    for (first, last), (end, message) in refused.items():
        with pytest.raises(queries.PeriodError) as caught:
            Period.of(first, last)
        assert (caught.value.field, caught.value.message) == (end, message), (first, last)
        assert isinstance(caught.value, ValueError)
    assert Period.of(now - timedelta(days=queries.MAX_DAYS)).last == now


def test_an_area_is_chosen_within_the_jurisdiction(city):
    assert queries.chosen_area(city.mediator, "") is None
    assert queries.chosen_area(city.mediator, f" {city.east_1.code} ") == city.east_1
    for code in (city.west.code, city.street.code, "999999", "%"):
        with pytest.raises(LookupError):
            queries.chosen_area(city.mediator, code)
    assert queries.chosen_area(city.admin, city.west.code) == city.west


def test_a_person_holding_a_street_and_a_community_in_it_sees_each_area_once(city):
    city.coordinator.areas.append(city.east)  # inside 和平街道, which they hold already
    db.session.commit()
    assert queries.visible_areas(city.coordinator) == [city.street]
    board = queries.dashboard(city.coordinator, None, JUNE)
    assert dict(board.total.counts) == EXPECTED
    assert [(row.area.name, row["received"]) for row in board.areas] == [
        ("东苑社区", 4), ("西苑社区", 3)]


def test_a_move_in_the_period_counts_whatever_else_the_case_did(city):
    """Escalations are counted from the moves (case_events), not from the cases received,
    concluded or open: reported in May, moved in June, settled in July, it is a June move."""
    story(city, city.west_1, date(2026, 5, 4), (date(2026, 5, 4), S.ACCEPTED),
          (date(2026, 6, 2), Level.COMMUNITY), (date(2026, 7, 1), S.IN_MEDIATION),
          (date(2026, 7, 3), S.SETTLED))
    db.session.commit()
    board = queries.dashboard(city.coordinator, None, JUNE)
    assert dict(board.total.counts) == EXPECTED | {"escalated_grid_community": 3}
    east, west = board.areas
    assert (east["escalated_grid_community"], west["escalated_grid_community"]) == (1, 2)
    assert len(db.session.scalars(queries.cases_behind(
        city.coordinator, None, JUNE, "escalated_grid_community")).all()) == 3


def test_handling_time_percentiles_by_nearest_rank(city):
    """Eleven cases settled at grid level in July, taking 1 … 11 days: the median is the
    6th (6 days), the 90th percentile the ⌈9.9⌉ = 10th (10 days)."""
    for days in range(1, 12):
        reported = date(2026, 7, 1)
        story(city, city.east_2, reported, (reported, S.ACCEPTED), (reported, S.IN_MEDIATION),
              (reported + timedelta(days=days), S.SETTLED))
    db.session.commit()
    july = queries.handling_times(city.coordinator, None, Period(date(2026, 7, 1),
                                                                 date(2026, 7, 31)))
    assert july[Level.GRID] == {"cases": 11, "median": pytest.approx(6),
                                "p90": pytest.approx(10)}
    assert july[Level.STREET] == {"cases": 0, "median": None, "p90": None}


def _plans(statements) -> list[str]:
    plans = []
    connection = db.session.connection()
    for sql, params in statements:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()
        plans.append("\n".join(row[-1] for row in rows))
    return plans


def test_the_dashboard_reads_cases_and_moves_through_indexes(city):
    """Counted straight from the cases (as for a community's grids, and the recount the
    kept counts are checked against), no statement reads the whole cases table or the whole
    timeline for a period (SQLite's plan; the PostgreSQL plans are in the README's notes)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's EXPLAIN QUERY PLAN")
    statements = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    db.session.commit()
    sa_event.listen(db.engine, "before_cursor_execute", keep)
    try:
        queries.dashboard(city.coordinator, None, JUNE, recount=True)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", keep)
    plans = _plans(statements)
    full_scans = [plan for plan in plans
                  if re.search(r"\bSCAN (cases|case_events|ratings|judicial_confirmations)\b"
                               r"(?! USING)", plan)]
    assert full_scans == []
    assert any("MULTI-INDEX OR" in plan for plan in plans)  # received, concluded or open
    assert any("ix_case_events_kind_at" in plan for plan in plans)  # the period's moves
    assert any("ix_ratings_rated_at" in plan for plan in plans)  # the period's ratings
    assert any("ix_judicial_confirmations_filed_on" in plan for plan in plans)


def test_the_monthly_table_counts_levels_as_the_dashboard_does(city):
    """Settled at a level is the level that settled it (settled_level), in both: here a
    case whose settlement was recorded at community level, though it shows street now."""
    f = city.cases["F"]
    db.session.execute(text("UPDATE cases SET settled_level = 'community' WHERE id = :id"),
                       {"id": f.id})
    db.session.commit()
    board = queries.dashboard(city.coordinator, None, JUNE)
    table = queries.monthly_table(city.coordinator, None, JUNE)
    assert {level: table.levels[level]["settled"] for level in Level} == {
        level: board.total[queries.LEVEL_FIGURES[level]] for level in Level} == {
        Level.GRID: 1, Level.COMMUNITY: 2, Level.STREET: 0}
    assert table.levels[Level.STREET]["failed"] == 1  # C, failed at street level
    times = queries.handling_times(city.coordinator, None, JUNE)
    assert (times[Level.COMMUNITY]["cases"], times[Level.STREET]["cases"]) == (2, 1)
