"""Risk, deadlines in calendar and working days, escalation proposals, supervision."""

from datetime import UTC, date, datetime, timedelta

import pytest
from cases_helpers import applicant, audit_entries, category, make_case, make_city, respondent
from sqlalchemy import func, select

from mediation.cases import operations, rules
from mediation.cases.models import (
    Case,
    Department,
    EscalationProposal,
    EventKind,
    ProposalRule,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.states import CaseState, Level, RiskLevel, assess_risk
from mediation.core.calendar import roll_to_working_day
from mediation.core.errors import OperationError
from mediation.extensions import db

S = CaseState
# Tuesday 30 September 2025, 10:00 in China: the eve of the National Day week.
EVE_OF_NATIONAL_DAY = datetime(2025, 9, 30, 10, 0, tzinfo=rules.LOCAL)


@pytest.fixture
def city(app):
    return make_city()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _proposals(case: Case) -> dict[ProposalRule, EscalationProposal]:
    return {p.rule: p for p in operations.open_proposals(case)}


# ---- risk -----------------------------------------------------------------------------

@pytest.mark.parametrize(("flags", "level"), [
    ({}, RiskLevel.LOW),
    ({"violence_threat": False, "group_dispute": False}, RiskLevel.LOW),
    ({"vulnerable_party": True}, RiskLevel.MEDIUM),
    ({"group_dispute": True}, RiskLevel.MEDIUM),
    ({"repeat_petition": True, "vulnerable_party": True}, RiskLevel.MEDIUM),
    ({"vulnerable_party": True, "group_dispute": True, "repeat_petition": True}, RiskLevel.HIGH),
    ({"violence_threat": True}, RiskLevel.HIGH),
    ({"criminal_risk": True}, RiskLevel.HIGH),
    ({"criminal_risk": True, "vulnerable_party": False}, RiskLevel.HIGH),
])
def test_assess_risk(flags, level):
    assert assess_risk(flags) is level


def test_intake_and_edits_assess_the_risk(app, city):
    case = make_case(city.gridworker, risks={"group_dispute": True})
    assert case.risk_level is RiskLevel.MEDIUM and case.group_dispute
    data = operations.CaseInput(title=case.title, source=case.source, grid=case.grid,
                                category=case.category, narrative=case.narrative,
                                risks={"group_dispute": True, "criminal_risk": True})
    operations.update_case(city.gridworker, case, data, seen_version=case.version)
    db.session.commit()
    assert case.risk_level is RiskLevel.HIGH
    assert ProposalRule.HIGH_RISK in _proposals(case)


# ---- deadlines --------------------------------------------------------------------------

def test_deadlines_in_calendar_days_from_the_local_day(app, city):
    case = make_case(city.gridworker)
    reported = rules.local_date(case.reported_at)
    assert case.level_deadline == roll_to_working_day(reported + timedelta(days=3))
    assert case.overall_deadline == roll_to_working_day(reported + timedelta(days=30))

    # 15:30 UTC on 9 October is 23:30 in China: the count starts on the 9th.
    case.reported_at = case.level_entered_at = datetime(2025, 10, 9, 15, 30, tzinfo=UTC)
    assert rules.level_deadline(case) == date(2025, 10, 13)  # Sunday 12th: to Monday
    assert rules.overall_deadline(case) == date(2025, 11, 10)  # Saturday 8th: to Monday
    # 17:30 UTC on 9 October is 01:30 on the 10th in China: the count starts there.
    case.reported_at = case.level_entered_at = datetime(2025, 10, 9, 17, 30, tzinfo=UTC)
    assert rules.level_deadline(case) == date(2025, 10, 13)  # Monday 13th
    assert rules.overall_deadline(case) == date(2025, 11, 10)  # Sunday 9th: to Monday
    # A last day inside the National Day week goes to the first working day after it.
    case.reported_at = case.level_entered_at = datetime(2025, 9, 30, 17, 30, tzinfo=UTC)
    assert rules.level_deadline(case) == date(2025, 10, 9)  # 4 October, in the holiday
    assert rules.overall_deadline(case) == date(2025, 10, 31)


def test_working_day_deadlines_skip_the_national_day_holiday(app, city, monkeypatch):
    leak = category("water_leak")
    leak.working_days = True
    db.session.commit()
    monkeypatch.setattr(operations, "utcnow", lambda: EVE_OF_NATIONAL_DAY.astimezone(UTC))

    case = make_case(city.gridworker, category=leak)
    assert case.number == "2025-000001"
    assert rules.local_date(case.reported_at) == date(2025, 9, 30)
    # 1–8 October are off; Saturday 11 October is worked in lieu (调休).
    assert case.level_deadline == date(2025, 10, 11)  # grid: 3 working days
    assert case.overall_deadline == date(2025, 11, 18)  # 30 working days

    operations.move_level(city.mediator, case, Level.COMMUNITY, "金额较大，转社区调处。")
    assert case.level_deadline == date(2025, 10, 16)  # community: 7 working days

    # The same case counted in calendar days counts the holiday, but a last day inside
    # it goes to the first working day after it (CPL 85).
    leak.working_days = False
    assert rules.level_deadline(case) == date(2025, 10, 9)  # 7 October, in the holiday
    assert rules.overall_deadline(case) == date(2025, 10, 30)


def test_deadline_colours(app, city):
    case = make_case(city.gridworker)
    deadline = case.level_deadline
    assert rules.deadline_status(case, deadline - timedelta(days=2)).colour is None
    assert rules.deadline_status(case, deadline - timedelta(days=1)).colour == "yellow"
    assert rules.deadline_status(case, deadline).colour == "yellow"
    late = rules.deadline_status(case, deadline + timedelta(days=2))
    assert (late.colour, late.days_left) == ("red", -2)
    operations.withdraw_case(city.gridworker, case, "申请人撤回。")
    assert rules.deadline_status(case, deadline + timedelta(days=2)).colour is None


# ---- escalation proposals -----------------------------------------------------------------

def test_a_passed_deadline_proposes_the_next_level(app, city):
    case = make_case(city.gridworker)
    assert operations.open_proposals(case) == []
    assert operations.propose_by_rules(case, on=case.level_deadline) == []

    [proposal] = operations.propose_by_rules(case, on=case.level_deadline + timedelta(days=1))
    assert proposal.rule is ProposalRule.DEADLINE_PASSED
    assert (proposal.from_level, proposal.to_level) == (Level.GRID, Level.COMMUNITY)
    assert case.level_deadline.isoformat() in proposal.reason
    assert proposal.status is ProposalStatus.OPEN
    assert case.events[-1].kind is EventKind.PROPOSAL
    assert operations.propose_by_rules(case, on=case.level_deadline + timedelta(days=2)) == []


def test_high_risk_proposes_street_level(app, city):
    case = make_case(city.gridworker, risks={"criminal_risk": True})
    proposal = _proposals(case)[ProposalRule.HIGH_RISK]
    assert (proposal.from_level, proposal.to_level) == (Level.GRID, Level.STREET)


@pytest.mark.parametrize(("by", "amount", "to_level"), [
    ("gridworker", 1_000_000, None),
    ("gridworker", 1_000_001, Level.COMMUNITY),
    ("mediator", 10_000_000, None),
    ("mediator", 10_000_001, Level.STREET),
    ("coordinator", 900_000_000, None),  # street level has no limit
])
def test_an_amount_over_the_levels_limit_proposes_the_next_level(app, city, by, amount,
                                                                  to_level):
    case = make_case(getattr(city, by), amount_fen=amount)
    proposal = _proposals(case).get(ProposalRule.AMOUNT_OVER_LIMIT)
    if to_level is None:
        assert proposal is None
    else:
        assert proposal.to_level is to_level
        assert proposal.from_level is case.level


def test_parties_in_two_communities_propose_street_level(app, city):
    same = make_case(city.gridworker, parties=[applicant(community=city.east),
                                               respondent(community=city.east)])
    assert operations.open_proposals(same) == []

    case = make_case(city.gridworker, parties=[applicant(community=city.east),
                                               respondent(community=city.west)])
    proposal = _proposals(case)[ProposalRule.CROSS_COMMUNITY]
    assert proposal.to_level is Level.STREET

    # A party added later who lives elsewhere counts too.
    operations.add_party(city.gridworker, same, respondent("孙丽", community=city.west))
    assert ProposalRule.CROSS_COMMUNITY in _proposals(same)


def test_the_handler_requests_escalation(app, city):
    case = make_case(city.gridworker)
    operations.accept_case(city.gridworker, case)
    with pytest.raises(OperationError):
        operations.request_escalation(city.gridworker, case, Level.COMMUNITY, "  ")
    with pytest.raises(OperationError):
        operations.request_escalation(city.gridworker, case, Level.GRID, "请求上报。")

    operations.request_escalation(city.gridworker, case, Level.COMMUNITY, "分歧较大，请社区调处。")
    proposal = _proposals(case)[ProposalRule.MEDIATOR_REQUEST]
    assert (proposal.to_level, proposal.created_by_id) == (Level.COMMUNITY, city.gridworker.id)
    with pytest.raises(OperationError):
        operations.request_escalation(city.gridworker, case, Level.STREET, "再次请求。")


def test_confirming_a_proposal_moves_the_case_up(app, city):
    # Over the grid's limit (to community) and high-risk (to street).
    case = make_case(city.gridworker, amount_fen=2_000_000, risks={"violence_threat": True})
    amount = _proposals(case)[ProposalRule.AMOUNT_OVER_LIMIT]
    operations.decide_proposal(city.mediator, amount, confirm=True, note="同意转社区。")
    db.session.commit()

    assert case.level is Level.COMMUNITY
    entered = rules.local_date(case.level_entered_at)
    assert case.level_deadline == entered + timedelta(days=7)
    assert (amount.status, amount.decided_by) == (ProposalStatus.CONFIRMED, city.mediator)
    event = case.events[-1]
    assert (event.kind, event.from_level, event.to_level) == (EventKind.LEVEL, Level.GRID,
                                                              Level.COMMUNITY)
    assert amount.reason in event.reason and "同意转社区。" in event.reason
    assert event.data == {"proposal": amount.id, "deadline": case.level_deadline.isoformat()}
    assert audit_entries("case.escalate", case)[-1].after == {"level": "community"}
    assert len(audit_entries("case.proposal.confirm", case)) == 1
    # The high-risk proposal aims higher still: it stays open.
    assert set(_proposals(case)) == {ProposalRule.HIGH_RISK}

    with pytest.raises(OperationError):
        operations.decide_proposal(city.mediator, amount, confirm=True, note=None)
    operations.decide_proposal(city.coordinator, _proposals(case)[ProposalRule.HIGH_RISK],
                               confirm=True, note=None)
    assert case.level is Level.STREET
    assert operations.open_proposals(case) == []


def test_dismissing_a_proposal_needs_a_note(app, city):
    case = make_case(city.gridworker, amount_fen=2_000_000)
    proposal = _proposals(case)[ProposalRule.AMOUNT_OVER_LIMIT]
    db.session.commit()
    for note in (None, "", "  "):
        with pytest.raises(OperationError) as caught:
            operations.decide_proposal(city.mediator, proposal, confirm=False, note=note)
        assert caught.value.field == "note"
        assert proposal.status is ProposalStatus.OPEN
        assert proposal.decided_by is None and proposal.decided_at is None

    operations.decide_proposal(city.mediator, proposal, confirm=False,
                               note="双方同意在网格内继续调解。")
    db.session.commit()
    assert proposal.status is ProposalStatus.DISMISSED
    assert proposal.decision_note == "双方同意在网格内继续调解。"
    assert case.level is Level.GRID
    assert case.events[-1].data == {"rule": "amount_over_limit", "dismissed": True}
    assert len(audit_entries("case.proposal.dismiss", case)) == 1


def test_move_level_only_upwards_and_only_while_open(app, city):
    case = make_case(city.gridworker)
    with pytest.raises(OperationError):
        operations.move_level(city.mediator, case, Level.GRID, "原地不动。")
    with pytest.raises(OperationError):
        operations.move_level(city.mediator, case, Level.STREET, " ")
    operations.move_level(city.coordinator, case, Level.STREET, "涉及多个部门，直接转街道。")
    assert case.level is Level.STREET
    for lower in (Level.GRID, Level.COMMUNITY, Level.STREET):
        with pytest.raises(OperationError):
            operations.move_level(city.coordinator, case, lower, "回到下级。")

    settled = make_case(city.gridworker)
    operations.accept_case(city.gridworker, settled)
    operations.start_mediation(city.gridworker, settled)
    operations.settle_case(city.gridworker, settled, partly=False, oral_agreement="赔偿500元。",
                           note=None)
    with pytest.raises(OperationError):
        operations.move_level(city.mediator, settled, Level.COMMUNITY, "结案后上报。")
    assert settled.level is Level.GRID and settled.settled_level is Level.GRID


# ---- the deadline check ---------------------------------------------------------------------

def test_check_deadlines_raises_proposals_and_notices_once(app, city):
    overdue = make_case(city.gridworker)  # grid: 3 days
    operations.accept_case(city.gridworker, overdue)
    fresh = make_case(city.mediator)  # community: 7 days
    done = make_case(city.gridworker)
    operations.withdraw_case(city.gridworker, done, "已自行和解。")
    db.session.commit()
    on = overdue.level_deadline + timedelta(days=1)
    assert fresh.level_deadline > on

    report = operations.check_deadlines(on=on)
    db.session.commit()
    assert (report.checked, report.proposals, report.notices) == (2, 1, 1)
    [proposal] = operations.open_proposals(overdue)
    assert (proposal.rule, proposal.to_level) == (ProposalRule.DEADLINE_PASSED, Level.COMMUNITY)
    notice = db.session.scalars(select(SupervisionNotice)).one()
    assert (notice.case, notice.automatic, notice.level, notice.deadline) == (
        overdue, True, Level.GRID, overdue.level_deadline)
    assert notice.to_user == city.gridworker and notice.issued_by is None
    assert overdue.events[-1].kind is EventKind.SUPERVISION

    again = operations.check_deadlines(on=on)
    later = operations.check_deadlines(on=on + timedelta(days=1))
    db.session.commit()
    assert (again.proposals, again.notices, later.proposals, later.notices) == (0, 0, 0, 0)
    assert (_count(EscalationProposal), _count(SupervisionNotice)) == (1, 1)

    # Escalated, the case has a new deadline: when that one passes, a new notice.
    operations.decide_proposal(city.mediator, proposal, confirm=True, note=None)
    db.session.commit()
    report = operations.check_deadlines(on=overdue.level_deadline + timedelta(days=1))
    assert report.notices >= 1
    assert db.session.scalar(select(func.count()).select_from(SupervisionNotice)
                             .where(SupervisionNotice.case_id == overdue.id)) == 2


def test_supervision_is_answered_once(app, city):
    case = make_case(city.gridworker)
    operations.accept_case(city.gridworker, case)
    notice = operations.issue_supervision(city.coordinator, case, "请三日内报告调处进展。",
                                          rules.today() + timedelta(days=3))
    assert (notice.to_user, notice.automatic) == (city.gridworker, False)
    with pytest.raises(OperationError):
        operations.respond_supervision(city.gridworker, notice, " ")
    operations.respond_supervision(city.gridworker, notice, "已约双方周五到社区调解。")
    assert notice.responded_at is not None and notice.responded_by_id == city.gridworker.id
    with pytest.raises(OperationError):
        operations.respond_supervision(city.gridworker, notice, "再答一次。")
    assert [e.kind for e in case.events[-2:]] == [EventKind.SUPERVISION] * 2

    operations.withdraw_case(city.gridworker, case, "撤回。")
    with pytest.raises(OperationError):
        operations.issue_supervision(city.coordinator, case, "督办。", None)


def test_help_from_a_department(app, city):
    case = make_case(city.gridworker)
    with pytest.raises(OperationError):
        operations.request_help(city.mediator, case, Department.POLICE, None, "")
    request = operations.request_help(city.mediator, case, Department.HOUSING, "住建局物业科",
                                      "请派员现场查看漏水原因。")
    operations.record_help_response(city.mediator, request, "已于次日派员到场。")
    assert request.responded_at is not None
    assert [e.kind for e in case.events[-2:]] == [EventKind.HELP] * 2
    assert case.events[-2].data == {"department": "housing", "detail": "住建局物业科"}


def test_a_dismissed_proposal_is_not_raised_again_at_the_same_level(app, city):
    case = make_case(city.gridworker)
    on = case.level_deadline + timedelta(days=1)
    operations.check_deadlines(on=on)
    [proposal] = operations.open_proposals(case)
    operations.decide_proposal(city.mediator, proposal, confirm=False, note="已约定调解时间。")
    db.session.commit()

    report = operations.check_deadlines(on=on + timedelta(days=3))
    assert (report.proposals, report.notices) == (0, 0)
    assert operations.open_proposals(case) == []
