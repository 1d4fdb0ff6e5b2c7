"""When an administrator changes the holiday calendar, open cases' deadlines follow it:
each move on the case's timeline, wrongly raised proposals and notices withdrawn, a
person's confirmed decision kept with a note."""

import re
from datetime import UTC, date, datetime

import pytest
from cases_helpers import category, make_case, make_city
from sqlalchemy import select

from mediation.cases import operations, rules, settings
from mediation.cases.models import (
    CaseEvent,
    EventKind,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.states import Level
from mediation.core import calendar
from mediation.core.audit import AuditEntry
from mediation.extensions import db


@pytest.fixture
def city(app):
    city = make_city()
    category("water_leak").working_days = True  # grid 3, community 7, overall 30 working days
    db.session.commit()
    return city


def _reported_on(monkeypatch, day: date):
    moment = datetime(day.year, day.month, day.day, 10, 0, tzinfo=rules.LOCAL)
    monkeypatch.setattr(operations, "utcnow", lambda: moment.astimezone(UTC))


def _today(monkeypatch, day: date):
    monkeypatch.setattr(rules, "today", lambda: day)


def _deadline_events(case) -> list[CaseEvent]:
    return list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.DEADLINE)
        .order_by(CaseEvent.id)))


def test_entering_the_spring_festival_schedule_moves_open_deadlines(app, city, monkeypatch):
    _reported_on(monkeypatch, date(2027, 2, 1))  # Monday before Spring Festival
    case = make_case(city.mediator)  # a mediator registers at community level: 7 days
    assert case.level is Level.COMMUNITY
    # 2, 3, 4 Feb, then the statutory days 5–10 Feb, then 11, 12, 15, 16 Feb.
    assert case.level_deadline == date(2027, 2, 16)
    untouched = make_case(city.mediator)
    operations.withdraw_case(city.mediator, untouched, "已自行和解。")
    db.session.commit()
    closed_deadline = untouched.level_deadline

    _today(monkeypatch, date(2027, 2, 3))
    for d in (11, 12):
        report = settings.save_calendar_day(city.admin, date(2027, 2, d), False, "春节")
    db.session.commit()
    assert report.moved == 1
    assert case.level_deadline == date(2027, 2, 18)
    assert untouched.level_deadline == closed_deadline  # a closed case keeps its record
    moves = _deadline_events(case)
    assert [(e.data["from"], e.data["to"]) for e in moves if e.data["deadline"] == "level"] == [
        ("2027-02-16", "2027-02-17"), ("2027-02-17", "2027-02-18")]
    assert all(e.actor == city.admin for e in moves)
    assert "2027-02-12" in moves[-1].reason
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "case.deadline.recompute", AuditEntry.object_id == case.number))

    # Removing the entry puts the deadline back, also on the timeline.
    settings.delete_calendar_day(city.admin, date(2027, 2, 12))
    db.session.commit()
    assert case.level_deadline == date(2027, 2, 17)


def test_a_proposal_and_notice_raised_on_a_wrong_deadline_are_withdrawn(app, city,
                                                                           monkeypatch):
    _reported_on(monkeypatch, date(2027, 3, 5))  # Friday
    case = make_case(city.gridworker)  # grid: 3 working days
    operations.accept_case(city.gridworker, case)
    assert case.level_deadline == date(2027, 3, 10)
    db.session.commit()
    report = operations.check_deadlines(on=date(2027, 3, 11))
    db.session.commit()
    assert (report.proposals, report.notices) == (1, 1)
    [proposal] = operations.open_proposals(case)
    notice = db.session.scalars(select(SupervisionNotice)).one()

    # The city gives 9 March off (say, a typhoon): the grid deadline was the 11th after all.
    _today(monkeypatch, date(2027, 3, 11))
    report = settings.save_calendar_day(city.admin, date(2027, 3, 9), False, "台风停工")
    db.session.commit()
    assert (report.moved, report.withdrawn) == (1, 2)
    assert case.level_deadline == date(2027, 3, 11)
    assert proposal.status is ProposalStatus.WITHDRAWN
    assert "2027-03-11" in proposal.decision_note
    assert notice.withdrawn_at is not None and "2027-03-10" in notice.withdrawn_reason
    assert operations.open_proposals(case) == []
    with pytest.raises(operations.OperationError):
        operations.respond_supervision(city.gridworker, notice, "已处理。")

    # When the new deadline passes, the check raises them afresh.
    report = operations.check_deadlines(on=date(2027, 3, 12))
    assert (report.proposals, report.notices) == (1, 1)


def test_a_confirmed_proposal_stays_with_a_note(app, city, monkeypatch):
    _reported_on(monkeypatch, date(2027, 3, 5))
    case = make_case(city.gridworker)
    operations.accept_case(city.gridworker, case)
    [proposal] = operations.propose_by_rules(case, on=date(2027, 3, 11))
    proposal.created_at = datetime(2027, 3, 11, 9, 0, tzinfo=rules.LOCAL).astimezone(UTC)
    _reported_on(monkeypatch, date(2027, 3, 11))
    operations.decide_proposal(city.mediator, proposal, confirm=True, note="同意上报社区。")
    db.session.commit()
    assert case.level is Level.COMMUNITY

    _today(monkeypatch, date(2027, 3, 12))
    report = settings.save_calendar_day(city.admin, date(2027, 3, 9), False, "台风停工")
    db.session.commit()
    assert report.noted == 1
    assert proposal.status is ProposalStatus.CONFIRMED  # the decision is not undone
    assert case.level is Level.COMMUNITY
    assert "同意上报社区。" in proposal.decision_note
    assert "2027-03-11" in proposal.decision_note
    noted = [e for e in case.events if e.kind is EventKind.PROPOSAL and e.data
             and e.data.get("noted")]
    assert len(noted) == 1
    # Saving the same day again adds nothing.
    again = settings.save_calendar_day(city.admin, date(2027, 3, 9), False, "台风停工")
    assert (again.moved, again.withdrawn, again.noted) == (0, 0, 0)


def test_marking_a_year_complete_recomputes_in_one_transaction(app, city, monkeypatch):
    _reported_on(monkeypatch, date(2027, 2, 1))
    case = make_case(city.mediator)
    db.session.commit()
    # 2, 3, 4, 11, 12, 15, 16 Feb: the library's days in lieu (9, 10 Feb) count as off.
    assert case.level_deadline == date(2027, 2, 16)
    _today(monkeypatch, date(2027, 2, 2))
    # The official schedule turns out to give the statutory days only.
    for day in calendar.statutory_days(2027):
        settings.save_calendar_day(city.admin, day, False, "法定节假日")
    settings.mark_year_complete(city.admin, 2027, True)
    db.session.rollback()  # a failure before the commit keeps the old deadlines
    assert case.level_deadline == date(2027, 2, 16)
    assert rules.level_deadline(case) == date(2027, 2, 16)  # and the year provisional

    for day in calendar.statutory_days(2027):
        settings.save_calendar_day(city.admin, day, False, "法定节假日")
    report = settings.mark_year_complete(city.admin, 2027, True)
    db.session.commit()
    assert report.moved == 1
    assert case.level_deadline == date(2027, 2, 12)  # 2, 3, 4, 9, 10, 11, 12 Feb
    assert _deadline_events(case)[-2].data["to"] == "2027-02-12"


def test_a_deadline_under_edited_rules_moves_only_by_the_calendar(app, city, monkeypatch):
    """The category's limits changed since the deadline was computed: a calendar entry
    applies its own effect, not the new limits."""
    _reported_on(monkeypatch, date(2027, 3, 1))
    case = make_case(city.mediator)  # community: 7 working days
    db.session.commit()
    assert case.level_deadline == date(2027, 3, 10)
    category("water_leak").community_days = 20
    db.session.commit()
    _today(monkeypatch, date(2027, 3, 2))
    report = settings.save_calendar_day(city.admin, date(2027, 3, 6), False, "测试")  # Sat
    db.session.commit()
    assert report.moved == 0
    assert case.level_deadline == date(2027, 3, 10)
    assert _deadline_events(case) == []


def test_a_calendar_day_limit_ending_on_a_new_holiday_moves_after_it(app, city, monkeypatch):
    """A limit in calendar days counts the holidays inside it, but its last day leaves
    them (CPL 85): on 1 January 2027 it goes to Monday the 4th, and further when the city
    adds a day."""
    leak = category("water_leak")
    leak.working_days = False
    db.session.commit()
    _reported_on(monkeypatch, date(2026, 12, 25))
    case = make_case(city.mediator)  # community: 7 calendar days, to 1 January
    db.session.commit()
    assert case.level_deadline == date(2027, 1, 4)
    _today(monkeypatch, date(2026, 12, 28))
    settings.save_calendar_day(city.admin, date(2027, 1, 4), False, "元旦（测试）")
    db.session.commit()
    assert case.level_deadline == date(2027, 1, 5)
    [event] = [e for e in _deadline_events(case) if e.data["deadline"] == "level"]
    assert "2027-01-04" in event.reason and "2027-01-05" in event.reason


def test_a_notice_is_raised_again_when_its_deadline_comes_back(app, city, monkeypatch):
    _reported_on(monkeypatch, date(2027, 3, 5))
    case = make_case(city.gridworker)
    operations.accept_case(city.gridworker, case)
    db.session.commit()
    operations.check_deadlines(on=date(2027, 3, 11))
    _today(monkeypatch, date(2027, 3, 11))
    settings.save_calendar_day(city.admin, date(2027, 3, 9), False, "台风停工")
    db.session.commit()
    # Entered by mistake: removed, the deadline is the 10th again, and the check presses.
    settings.delete_calendar_day(city.admin, date(2027, 3, 9))
    db.session.commit()
    assert case.level_deadline == date(2027, 3, 10)
    report = operations.check_deadlines(on=date(2027, 3, 11))
    db.session.commit()
    assert (report.proposals, report.notices) == (1, 1)
    active = db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.withdrawn_at.is_(None))).all()
    assert [n.deadline for n in active] == [date(2027, 3, 10)]


def test_a_notice_is_kept_when_unsure_which_deadline_it_stood_for(app, city, monkeypatch):
    _reported_on(monkeypatch, date(2027, 3, 5))
    case = make_case(city.gridworker)
    operations.accept_case(city.gridworker, case)
    case.overall_deadline = case.level_deadline  # both end on the 10th
    db.session.commit()
    operations.check_deadlines(on=date(2027, 3, 11))
    db.session.commit()
    [notice] = db.session.scalars(select(SupervisionNotice)).all()
    # Editing the stored overall deadline made it differ from its rule: only the level
    # deadline moves, and a notice for the 10th could be either: it stays.
    case.overall_deadline = date(2027, 3, 10)
    _today(monkeypatch, date(2027, 3, 11))
    settings.save_calendar_day(city.admin, date(2027, 3, 9), False, "台风停工")
    db.session.commit()
    assert case.level_deadline == date(2027, 3, 11)
    assert notice.withdrawn_at is None


def test_the_command_after_a_library_upgrade(app, city, monkeypatch, runner):
    _reported_on(monkeypatch, date(2027, 2, 1))
    case = make_case(city.mediator)
    case.level_deadline = date(2027, 2, 9)  # as computed when 2027 counted weekends only
    db.session.commit()
    _today(monkeypatch, date(2027, 2, 2))
    result = runner.invoke(args=["recompute-deadlines", "2027"])
    assert result.exit_code == 0, result.output
    assert "2027: 1 cases' deadlines moved" in result.output
    db.session.refresh(case)
    assert case.level_deadline == date(2027, 2, 16)


def test_the_administrators_page_recomputes_and_says_so(app, demo_city, auth, monkeypatch):
    from cases_helpers import user

    leak = category("water_leak")
    leak.working_days = True
    _reported_on(monkeypatch, date(2027, 2, 1))
    case = make_case(user("mediator"), category=leak)
    db.session.commit()
    before = case.level_deadline
    _today(monkeypatch, date(2027, 2, 2))

    auth.login("admin")
    page = auth.client.get("/admin/rules/calendar?year=2027").get_data(as_text=True)
    assert "2027" in page and "元旦" in page and "春节" in page
    assert "/admin/rules/calendar/2027/complete" in page
    response = auth.post("/admin/rules/calendar", {"day": "2027-02-11", "name": "春节",
                                                    "is_workday": ""},
                         form_url="/admin/rules/calendar?year=2027", follow_redirects=True)
    text = response.get_data(as_text=True)
    db.session.refresh(case)
    assert case.level_deadline > before
    assert re.search(r"期限已重新计算：\d+件在办案件的期限变动", text) or \
        re.search(r"Deadlines recomputed: \d+ open cases moved", text)
    detail = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "因节假日调整" in detail or "holiday calendar changed" in detail
