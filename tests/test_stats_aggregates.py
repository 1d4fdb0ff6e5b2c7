"""The counts kept per month (mediation/stats/aggregates.py) against a recount of the cases.

The dashboard adds up what the database keeps counted by triggers (``stats_counts`` and
``stats_category_counts`` per month and day, ``stats_open``, ``stats_handling``) instead of
reading a city's cases. After cases of two streets go through the operations (intake,
accept, escalate, settle at each level, fail, withdraw, decline, refer out, close, an edit
of grid and category, times moved across months, a script's UPDATE and DELETE), every
figure of every dashboard equals the same figure counted from the cases alone, for an
administrator, a street's coordinator and a community's mediator, over whole months, cut
months, a period across a year's end and the default period.
"""

from datetime import date, datetime, time, timedelta

import pytest
from agreements_helpers import agreement_city
from cases_helpers import applicant, category, make_case, respondent
from sqlalchemy import delete, select, text

from mediation.areas import operations as area_ops
from mediation.cases import operations
from mediation.cases.models import CaseEvent
from mediation.cases.operations import CaseInput
from mediation.cases.rules import LOCAL, today
from mediation.cases.states import CaseState, Level
from mediation.extensions import db
from mediation.stats import aggregates, queries
from mediation.stats.queries import Period

S = CaseState


def month_start(back: int) -> date:
    """The first day of the month ``back`` months before this one."""
    day = today().replace(day=1)
    for _ in range(back):
        day = (day - timedelta(days=1)).replace(day=1)
    return day


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), LOCAL)


def story(city, grid, reported: datetime | None, *steps, code="water_leak"):
    """A case reported at ``reported`` (None: now, through the operations' clock) that goes
    through ``steps``: (time, state) or (time, Level); each step's entry on the timeline
    and the case's own timestamps are then moved to that time (None: left at now)."""
    case = make_case(None, grid=grid, category=code,
                     parties=[applicant(phone="13800138000"), respondent()])
    if reported is not None:
        case.reported_at = reported
    for when, step in steps:
        if isinstance(step, Level):
            operations.move_level(city.coordinator, case, step, "升级处理")
        else:
            reason = None if step in (S.ACCEPTED, S.IN_MEDIATION, S.SETTLED,
                                      S.PARTLY_SETTLED, S.CLOSED) else "测试"
            operations.transition(case, step, city.mediator, reason,
                                  **({"referred_to": "区法院"} if step is S.REFERRED_OUT
                                     else {}))
        db.session.flush()
        if when is None:
            continue
        newest = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                    .order_by(CaseEvent.id.desc()).limit(1)).one()
        newest.at = when
        if step in queries.OUTCOMES:
            case.outcome_at = when
        db.session.flush()
    return case


@pytest.fixture
def city(app):
    """The test city (测试区 → 和平街道 → 东苑 and 西苑) and a second street in a second
    district (北区 → 北山街道 → 北山社区), with cases spread over fourteen months."""
    city = agreement_city()
    city.north = area_ops.create_area(None, parent=None, code="370698", name="北区")
    city.north_street = area_ops.create_area(None, parent=city.north, code="370698001",
                                             name="北山街道")
    city.north_community = area_ops.create_area(None, parent=city.north_street,
                                                code="370698001001", name="北山社区")
    city.north_grid = area_ops.create_area(None, parent=city.north_community,
                                           code="370698001001-01", name="北山第1网格")
    db.session.commit()
    c, m = city, month_start
    accept, mediate = S.ACCEPTED, S.IN_MEDIATION
    city.cases = [
        # Settled at grid, across a year's end: reported in month -13, settled in -12.
        story(c, c.east_1, at(m(13) + timedelta(days=27)),
              (at(m(13) + timedelta(days=27)), accept), (at(m(12) + timedelta(days=1)), mediate),
              (at(m(12) + timedelta(days=2)), S.SETTLED)),
        # Escalated to community, partly settled there; closed later.
        story(c, c.east_2, at(m(10) + timedelta(days=3)),
              (at(m(10) + timedelta(days=3)), accept),
              (at(m(10) + timedelta(days=14)), Level.COMMUNITY),
              (at(m(9) + timedelta(days=1)), mediate),
              (at(m(9) + timedelta(days=20)), S.PARTLY_SETTLED),
              (at(m(8) + timedelta(days=5)), S.CLOSED), code="noise"),
        # Grid → community → street, settled at street.
        story(c, c.west_1, at(m(7) + timedelta(days=10)),
              (at(m(7) + timedelta(days=10)), accept),
              (at(m(7) + timedelta(days=16)), Level.COMMUNITY),
              (at(m(6) + timedelta(days=2)), Level.STREET),
              (at(m(6) + timedelta(days=3)), mediate),
              (at(m(5) + timedelta(days=25)), S.SETTLED), code="contract"),
        # Straight to street, failed there.
        story(c, c.east_1, at(m(6) + timedelta(days=12)),
              (at(m(6) + timedelta(days=12)), accept),
              (at(m(6) + timedelta(days=20)), Level.STREET),
              (at(m(5) + timedelta(days=2)), mediate), (at(m(4) + timedelta(days=9)), S.FAILED)),
        # Declined, withdrawn, referred out and closed.
        story(c, c.east_2, at(m(5) + timedelta(days=1)),
              (at(m(5) + timedelta(days=2)), S.DECLINED)),
        story(c, c.west_1, at(m(4) + timedelta(days=17)),
              (at(m(4) + timedelta(days=18)), S.WITHDRAWN), code="noise"),
        story(c, c.north_grid, at(m(3) + timedelta(days=6)),
              (at(m(3) + timedelta(days=6)), accept),
              (at(m(3) + timedelta(days=7)), S.REFERRED_OUT),
              (at(m(2) + timedelta(days=1)), S.CLOSED), code="labour"),
        # The other street: settled at grid, failed at community, one left open.
        story(c, c.north_grid, at(m(2) + timedelta(days=14)),
              (at(m(2) + timedelta(days=14)), accept), (at(m(2) + timedelta(days=15)), mediate),
              (at(m(1) + timedelta(days=3)), S.SETTLED), code="labour"),
        story(c, c.north_grid, at(m(2) + timedelta(days=20)),
              (at(m(2) + timedelta(days=20)), accept),
              (at(m(1) + timedelta(days=1)), Level.COMMUNITY),
              (at(m(1) + timedelta(days=2)), mediate), (at(m(1) + timedelta(days=27)), S.FAILED)),
        story(c, c.north_grid, at(m(1) + timedelta(days=9)),
              (at(m(1) + timedelta(days=9)), accept)),
        # This month, at the operations' own times: received, escalated, settled today.
        story(c, c.east_1, None, (None, accept), (None, Level.COMMUNITY), (None, mediate),
              (None, S.SETTLED)),
        story(c, c.west_1, None, (None, accept), (None, Level.STREET)),
        story(c, c.west_1, None),
    ]
    db.session.commit()
    return city


def _edits(city) -> None:
    """What else changes counted fields: an edit moving a case to another grid (and
    community, and street) and category, times moved across months, a script's UPDATEs,
    and a case deleted with its timeline."""
    moved = city.cases[2]  # escalated twice: its moves go along
    operations.update_case(city.admin, moved, CaseInput(
        title=moved.title, source=moved.source, grid=city.north_grid,
        category=category("neighbour"), narrative=moved.narrative), moved.version)
    late = city.cases[3]
    late.reported_at = at(month_start(9) + timedelta(days=27))  # reported earlier after all
    late.outcome_at = at(month_start(3) + timedelta(days=1))  # and concluded later
    db.session.flush()
    db.session.execute(text("UPDATE cases SET settled_level = 'community' WHERE id = :id"),
                       {"id": city.cases[0].id})
    db.session.execute(text("UPDATE case_events SET at = :at WHERE case_id = :id "
                            "AND kind = 'level'"),
                       {"at": at(month_start(8) + timedelta(days=2)), "id": city.cases[1].id})
    gone = city.cases.pop(4)  # declined
    gone_id = gone.id
    db.session.expunge(gone)
    db.session.execute(text("DELETE FROM cases WHERE id = :id"), {"id": gone_id})
    db.session.commit()


def _kept_rows(table) -> dict:
    """The kept rows that count something, by key."""
    width = len(aggregates._key(table))
    return {tuple(row[:width]): tuple(row[width:])
            for row in db.session.execute(select(table.__table__)) if any(row[width:])}


def _all_kept() -> dict:
    return {table.__tablename__: _kept_rows(table) for table in aggregates.TABLES}


def _all_recounted() -> dict:
    return {table.__tablename__: _recounted_rows(table) for table in aggregates.TABLES}


def _recounted_rows(table) -> dict:
    width = len(aggregates._key(table))
    return {tuple(row[:width]): tuple(row[width:])
            for row in db.session.execute(aggregates.recount(table)) if any(row[width:])}


def _comparable(board: queries.Dashboard) -> dict:
    return {
        "total": dict(board.total.counts),
        "areas": [(row.area.code, dict(row.counts)) for row in board.areas],
        "months": board.months,
        "categories": [(item["category"].code, item["received"], item["settled"],
                        item["failed"]) for item in board.categories],
        "times": board.times,
    }


def _periods() -> dict[str, Period]:
    m = month_start
    return {
        "default": Period.default(),
        "whole months": Period(m(10), m(4) - timedelta(days=1)),
        "one whole month": Period(m(6), m(5) - timedelta(days=1)),
        "cut at both ends": Period(m(9) + timedelta(days=10), m(3) + timedelta(days=4)),
        "within a month": Period(m(6) + timedelta(days=5), m(6) + timedelta(days=25)),
        "across a year's end": Period(date(today().year - 1, 11, 10),
                                      date(today().year, 2, 28)),
        "up to today": Period(m(2) + timedelta(days=15), today()),
    }


def _viewers(city):
    """Each viewer with the areas they may choose (None: their whole jurisdiction)."""
    return [(city.admin, [None, city.district, city.north, city.street, city.east,
                          city.north_grid]),
            (city.coordinator, [None, city.east, city.west_1]),
            (city.mediator, [None, city.east_2])]


def _nearest_ranks(viewer, area, period) -> dict[Level, dict]:
    """The handling times counted in Python: the ⌈n × a ÷ b⌉-th smallest duration in days
    of the cases behind ``mediated_<level>``."""
    result = {}
    for level in Level:
        days = sorted((case.outcome_at - case.reported_at).total_seconds() / 86400
                      for case in db.session.scalars(queries.cases_behind(
                          viewer, area, period, f"mediated_{level.value}")))
        result[level] = {"cases": len(days), **{
            name: pytest.approx(days[-(-len(days) * a // b) - 1], abs=1e-6) if days else None
            for name, (a, b) in queries.PERCENTILES.items()}}
    return result


def _assert_dashboards_equal_a_recount(city) -> int:
    compared = 0
    for viewer, areas in _viewers(city):
        for area in areas:
            for name, period in _periods().items():
                kept = _comparable(queries.dashboard(viewer, area, period))
                counted = _comparable(queries.dashboard(viewer, area, period, recount=True))
                assert kept == counted, (viewer.username, area and area.code, name)
                assert kept["times"] == _nearest_ranks(viewer, area, period)
                compared += 1
    return compared


def test_the_kept_counts_equal_a_recount_after_every_kind_of_change(city):
    kept = _all_kept()
    assert kept == _all_recounted()
    assert all(kept.values())
    assert _assert_dashboards_equal_a_recount(city) == (6 + 3 + 2) * 7
    _edits(city)
    assert _all_kept() == _all_recounted()
    _assert_dashboards_equal_a_recount(city)


def test_the_figures_add_up_to_the_cases_of_each_month(city):
    """The administrator's year: what the stories above hold, counted by hand."""
    m = month_start
    board = queries.dashboard(city.admin, None, Period(m(13), today()))
    counts = board.total.counts
    assert (counts["received"], counts["concluded"], counts["open"]) == (13, 10, 3)
    assert (counts["settled"], counts["partly_settled"], counts["failed"]) == (5, 1, 2)
    assert (counts["settled_grid"], counts["settled_community"],
            counts["settled_street"]) == (2, 2, 1)
    assert (counts["withdrawn"], counts["declined"], counts["referred_out"]) == (1, 1, 1)
    assert (counts["escalated_grid_community"], counts["escalated_community_street"],
            counts["escalated_grid_street"]) == (4, 1, 2)
    assert [(row.area.name, row["received"]) for row in board.areas] == [
        ("北区", 4), ("测试区", 9)]
    by_month = {row["month"]: (row["received"], row["settled"]) for row in board.months}
    assert by_month[f"{m(12):%Y-%m}"] == (0, 1)  # the case settled across the year's end
    assert by_month[f"{m(0):%Y-%m}"] == (3, 1)  # this month's, at the operations' times


def test_whole_months_are_read_from_the_kept_counts_and_rebuilt_from_the_cases(city, runner):
    """A wrong kept count shows for a whole month and not for the days counted from the
    cases; ``flask stats-rebuild`` makes the counts again."""
    june = Period(month_start(6), month_start(5) - timedelta(days=1))
    cut = Period(month_start(6) + timedelta(days=1), month_start(5) - timedelta(days=1))
    right = queries.dashboard(city.coordinator, None, june).total["escalated_grid_street"]
    assert right == 1
    db.session.execute(text("UPDATE stats_counts SET escalated_grid_street = 7 "
                            "WHERE community_id = :east AND span = 'month' AND start = :month"),
                       {"east": city.east.id, "month": month_start(6)})
    db.session.commit()
    assert queries.dashboard(city.coordinator, None, june).total["escalated_grid_street"] == 7
    assert queries.dashboard(city.coordinator, None, cut).total["escalated_grid_street"] == 1
    # A grid's figures are counted from its cases.
    grid = queries.dashboard(city.coordinator, city.east_1, june)
    assert grid.total["escalated_grid_street"] == 1

    result = runner.invoke(args=["stats-rebuild"])
    assert result.exit_code == 0, result.output
    assert all(f"{table.__tablename__}:" in result.output for table in aggregates.TABLES)
    assert queries.dashboard(city.coordinator, None, june).total["escalated_grid_street"] == 1
    assert _all_kept() == _all_recounted()


def test_a_change_rolled_back_leaves_the_counts_as_they_were(city):
    before = _all_kept()
    case = city.cases[-1]  # reported this month, open
    operations.transition(case, S.WITHDRAWN, city.mediator, "撤回")
    db.session.flush()
    assert _all_kept() != before
    db.session.rollback()
    assert _all_kept() == before


def test_a_rebuild_on_an_emptied_table_gives_the_same_rows(city):
    _edits(city)
    kept = _all_kept()
    for table in aggregates.TABLES:
        db.session.execute(delete(table))
    db.session.commit()
    written = aggregates.rebuild()
    db.session.commit()
    assert _all_kept() == kept
    assert written == {name: len(rows) for name, rows in kept.items()}


def test_the_kept_counts_are_the_figures_counted_from_cases():
    """Every figure of a dashboard row is kept, or counted today (open, overdue)."""
    assert set(aggregates.COUNTS) == {*queries.KEPT_FIGURES, *aggregates.RATING_COUNTS}
    assert set(queries.ROW_FIGURES) - set(queries.KEPT_FIGURES) == {"open", "overdue"}
    assert set(aggregates.CATEGORY_COUNTS) <= set(aggregates.COUNTS)
