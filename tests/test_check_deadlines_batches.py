"""The nightly deadline check at city scale: it goes through the open cases in batches,
commits each as it goes when run from the CLI, and a run that stops half-way is finished
by the next one without raising anything twice."""

import json
from datetime import date, timedelta

import pytest
from agreements_helpers import agreement_city, ready_draft, settled_case
from cases_helpers import make_case, make_city, walk_to
from flask_babel import gettext as _
from sqlalchemy import func, select

from mediation.agreements import documents
from mediation.agreements import operations as agreement_ops
from mediation.cases import operations, queries, rules
from mediation.cases import waiting as proposal_marks
from mediation.cases.models import (
    Case,
    CaseEvent,
    EscalationProposal,
    ProposalRule,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.states import CaseState, Level, RiskLevel
from mediation.core import audit
from mediation.core.audit import AuditEntry
from mediation.extensions import db
from mediation.users.models import User

S = CaseState
ON = rules.today()


def _scenario() -> dict[str, Case]:
    """Ten cases, one for each thing the check may find or must leave alone, by title."""
    city = make_city()

    def late(case: Case, level_days: int, overall_days: int | None = None) -> Case:
        case.level_deadline = ON - timedelta(days=level_days)
        if overall_days is not None:
            case.overall_deadline = ON - timedelta(days=overall_days)
        return case

    cases = {}
    cases["late in the grid"] = make_case(city.gridworker, title="late in the grid")
    operations.accept_case(city.gridworker, cases["late in the grid"])
    late(cases["late in the grid"], 2)
    cases["on time"] = make_case(city.mediator, title="on time")
    risky = cases["turned risky"] = make_case(city.mediator, title="turned risky")
    risky.violence_threat, risky.risk_level = True, RiskLevel.HIGH
    cases["costly"] = make_case(city.mediator, title="costly")
    cases["costly"].amount_fen = 20_000_000  # above the community's limit of 100,000 yuan
    moved = cases["party moved"] = make_case(city.mediator, title="party moved")
    db.session.flush()
    # The parties' domiciles recorded later: two communities.
    moved.parties[0].community_id, moved.parties[1].community_id = city.east.id, city.west.id
    dismissed = cases["dismissed"] = late(make_case(city.gridworker, title="dismissed"), 1)
    proposal = operations.propose(dismissed, ProposalRule.DEADLINE_PASSED, Level.COMMUNITY,
                                  "网格调解期限已届满。")
    operations.decide_proposal(city.mediator, proposal, confirm=False, note="已约定调解时间。")
    cases["same day"] = late(make_case(city.mediator, title="same day"), 1, 1)
    cases["both passed"] = late(make_case(city.mediator, title="both passed"), 5, 1)
    cases["withdrawn"] = late(make_case(city.mediator, title="withdrawn"), 5, 1)
    walk_to(cases["withdrawn"], S.WITHDRAWN, city.mediator)
    noticed = cases["noticed"] = late(make_case(city.mediator, title="noticed"), 3)
    operations.issue_supervision(None, noticed, "社区调解期限已届满，请报告进展。", None,
                                 automatic=True)
    db.session.commit()
    return cases


def _marks() -> dict:
    """The last ids before a run: what the run adds comes after them."""
    return {model: db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
            for model in (EscalationProposal, SupervisionNotice, CaseEvent, AuditEntry)}


def _outcome(marks: dict) -> dict:
    """What a run added, without ids and times: comparable between two databases."""
    titles = dict(db.session.execute(select(Case.id, Case.title)).all())
    number_titles = dict(db.session.execute(select(Case.number, Case.title)).all())

    def added(model, *columns):
        return sorted(tuple(str(value) for value in row) for row in db.session.execute(
            select(*columns).where(model.id > marks[model])).all())

    proposals = added(EscalationProposal, EscalationProposal.case_id, EscalationProposal.rule,
                      EscalationProposal.from_level, EscalationProposal.to_level,
                      EscalationProposal.reason, EscalationProposal.status,
                      EscalationProposal.created_by_id)
    notices = added(SupervisionNotice, SupervisionNotice.case_id, SupervisionNotice.level,
                    SupervisionNotice.deadline, SupervisionNotice.automatic,
                    SupervisionNotice.issued_by_id, SupervisionNotice.to_user_id,
                    SupervisionNotice.message, SupervisionNotice.respond_by)
    events = sorted((titles[e.case_id], e.kind.value, e.reason, json.dumps(e.data, sort_keys=True),
                     str(e.from_level), str(e.to_level), str(e.actor_id))
                    for e in db.session.scalars(select(CaseEvent)
                                                .where(CaseEvent.id > marks[CaseEvent])))
    entries = sorted((e.action, number_titles[e.object_id], e.object_type, e.actor_name, e.note)
                     for e in db.session.scalars(select(AuditEntry)
                                                 .where(AuditEntry.id > marks[AuditEntry])))
    return {"proposals": [(titles[int(p[0])], *p[1:]) for p in proposals],
            "notices": [(titles[int(n[0])], *n[1:]) for n in notices],
            "events": events, "audit": entries}


def _one_case_at_a_time(on: date) -> operations.DeadlineReport:
    """The check as it was before batches, case by case through the operations, word for
    word: the reference the batches must match."""
    report = operations.DeadlineReport()
    for case in db.session.scalars(select(Case).where(Case.state.in_(
            [S.REPORTED, S.ACCEPTED, S.IN_MEDIATION])).order_by(Case.id)):
        report.checked += 1
        report.proposals += len(operations.propose_by_rules(case, on))
        if case.level_deadline is not None and on > case.level_deadline:
            notice = operations.issue_supervision(
                None, case, _("The %(level)s time limit ended on %(date)s: report on the case "
                              "and what is being done.", level=case.level.title,
                              date=case.level_deadline.isoformat()),
                None, automatic=True)
            report.notices += notice is not None
        if case.overall_deadline is not None and on > case.overall_deadline:
            notice = operations.issue_supervision(
                None, case, _("The overall time limit of the mediation ended on %(date)s: "
                              "conclude it, or record the parties' consent to go on.",
                              date=case.overall_deadline.isoformat()),
                None, automatic=True, deadline=case.overall_deadline)
            report.notices += notice is not None
    return report


def _run(check) -> tuple[operations.DeadlineReport, dict]:
    _scenario()
    marks = _marks()
    report = check()
    db.session.commit()
    return report, _outcome(marks)


def test_batches_raise_what_the_rules_raise_case_by_case(app, app_factory):
    reference, expected = _run(lambda: _one_case_at_a_time(ON))
    # The scenario reaches every rule: nine open cases, seven proposals, five notices.
    assert (reference.checked, reference.proposals, reference.notices) == (9, 7, 5)
    assert {(p[0], p[1]) for p in expected["proposals"]} == {
        ("late in the grid", "deadline_passed"), ("turned risky", "high_risk"),
        ("costly", "amount_over_limit"), ("party moved", "cross_community"),
        ("same day", "deadline_passed"), ("both passed", "deadline_passed"),
        ("noticed", "deadline_passed")}
    assert sorted((n[0], n[1]) for n in expected["notices"]) == [
        ("both passed", "community"), ("both passed", "community"), ("dismissed", "grid"),
        ("late in the grid", "grid"), ("same day", "community")]
    assert len(expected["events"]) == 12 and len(expected["audit"]) == 5
    db.session.remove()

    for size in (1, 3, 1000):
        other = app_factory()
        with other.app_context():
            report, outcome = _run(lambda size=size: operations.check_deadlines(
                ON, batch_size=size))
            assert (report.checked, report.proposals, report.notices) == (9, 7, 5), size
            assert outcome == expected, size
            assert audit.verify_chain().broken_id is None
            db.session.remove()


def test_a_second_run_raises_nothing_new(app):
    _scenario()
    first = operations.check_deadlines(ON, batch_size=2)
    db.session.commit()
    counts = [db.session.scalar(select(func.count()).select_from(model))
              for model in (EscalationProposal, SupervisionNotice, CaseEvent, AuditEntry)]
    again = operations.check_deadlines(ON, batch_size=2)
    later = operations.check_deadlines(ON + timedelta(days=1), batch_size=3)
    db.session.commit()
    assert (first.proposals, first.notices) == (7, 5)
    assert (again.checked, again.proposals, again.notices) == (9, 0, 0)
    assert (later.proposals, later.notices) == (0, 0)
    assert [db.session.scalar(select(func.count()).select_from(model))
            for model in (EscalationProposal, SupervisionNotice, CaseEvent, AuditEntry)] == counts


def _waiting() -> set[str]:
    """The titles of the cases marked as having a proposal waiting, checked against a recount
    from the proposals themselves."""
    rows = db.session.execute(select(Case.title, Case.proposal_waiting,
                                     proposal_marks.recount())).all()
    assert [(title, mark) for title, mark, recount in rows if mark != recount] == []
    return {title for title, mark, _recount in rows if mark}


def test_the_cases_mark_of_a_waiting_proposal_follows_the_proposals(app):
    """The proposals queue reads the mark on the case: a proposal raised in bulk by the
    check, one decided by a person, a case leaving mediation — each is marked at once."""
    cases = _scenario()
    assert _waiting() == set()  # "dismissed" had one, dismissed by the mediator
    costly = cases["costly"]
    assert costly.proposal_waiting is False
    operations.check_deadlines(ON, batch_size=3)
    assert costly.proposal_waiting is True  # the copy already loaded knows it, uncommitted
    db.session.commit()
    assert _waiting() == {"late in the grid", "turned risky", "costly", "party moved",
                          "same day", "both passed", "noticed"}

    mediator, coordinator = (db.session.scalar(select(User).where(User.username == name))
                             for name in ("mediator", "coordinator"))
    late = operations.open_proposals(cases["late in the grid"])[0]
    operations.decide_proposal(mediator, late, confirm=True, note=None)
    operations.decide_proposal(coordinator, operations.open_proposals(costly)[0],
                               confirm=False, note="金额有误，已更正。")
    assert costly.proposal_waiting is False
    walk_to(cases["turned risky"], S.WITHDRAWN, mediator)
    db.session.commit()
    # Moved up to the community, "late in the grid" has no deadline passed there yet.
    assert _waiting() == {"party moved", "same day", "both passed", "noticed"}
    queue = db.session.scalars(queries.case_list(coordinator, queries.Filters(
        queue="proposals"))).all()
    assert {case.title for case in queue} == _waiting()


def test_the_timeline_read_before_the_run_shows_what_it_raised(app):
    case = _scenario()["late in the grid"]
    before = len(case.events)
    operations.check_deadlines(ON, batch_size=2)
    assert [e.kind.value for e in case.events[before:]] == ["proposal", "supervision"]


def test_an_interrupted_run_keeps_its_first_batch_and_the_next_run_finishes(
        app, runner, monkeypatch):
    cases = _scenario()
    batches = []
    real = operations._check_batch

    def power_cut(batch, *args):
        batches.append([case.id for case in batch])
        if len(batches) == 2:
            raise RuntimeError("power cut")
        return real(batch, *args)

    monkeypatch.setattr(operations, "_check_batch", power_cut)
    result = runner.invoke(args=["check-deadlines", "--date", ON.isoformat(),
                                 "--batch-size", "3"])
    assert isinstance(result.exception, RuntimeError) and result.exit_code != 0
    db.session.rollback()  # what the dying process had not committed is gone

    first = {cases["late in the grid"].id, cases["on time"].id, cases["turned risky"].id}
    assert set(batches[0]) == first
    assert set(db.session.execute(
        select(EscalationProposal.case_id, EscalationProposal.rule)
        .where(EscalationProposal.status == ProposalStatus.OPEN)).all()) == {
        (cases["late in the grid"].id, ProposalRule.DEADLINE_PASSED),
        (cases["turned risky"].id, ProposalRule.HIGH_RISK)}
    assert [n.case_id for n in db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id != cases["noticed"].id))] == [cases["late in the grid"].id]

    monkeypatch.setattr(operations, "_check_batch", real)
    result = runner.invoke(args=["check-deadlines", "--date", ON.isoformat(),
                                 "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "Checked 9 open cases: 5 new escalation proposals, 4 new supervision notices" \
        in result.stdout
    # Nothing twice: one open proposal per case and rule, one notice per level and deadline.
    open_proposals = db.session.execute(
        select(EscalationProposal.case_id, EscalationProposal.rule, func.count())
        .where(EscalationProposal.status == ProposalStatus.OPEN)
        .group_by(EscalationProposal.case_id, EscalationProposal.rule)).all()
    assert len(open_proposals) == 7 and {n for *_key, n in open_proposals} == {1}
    notices = db.session.execute(
        select(SupervisionNotice.case_id, SupervisionNotice.level, SupervisionNotice.deadline,
               func.count()).group_by(SupervisionNotice.case_id, SupervisionNotice.level,
                                      SupervisionNotice.deadline)).all()
    assert len(notices) == 6 and {n for *_key, n in notices} == {1}  # with the earlier one
    assert audit.verify_chain().broken_id is None


def test_the_cli_reports_its_progress_and_its_figures(app, runner):
    _scenario()
    result = runner.invoke(args=["check-deadlines", "--date", ON.isoformat(),
                                 "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "Checking open cases" in result.stderr
    assert result.stdout.strip() == (
        "Checked 9 open cases: 7 new escalation proposals, 5 new supervision notices; "
        "0 agreement terms newly overdue.")


# ---- agreement terms ----------------------------------------------------------------------

ISSUE_DAY = date(2026, 9, 1)


@pytest.fixture
def issued(app, monkeypatch):
    """An agreement in force whose three terms are all late by 5 November 2026."""
    monkeypatch.setattr(agreement_ops, "today", lambda: ISSUE_DAY)
    monkeypatch.setattr(documents, "agreement_pdf",
                        lambda agreement, *, verify_url=None, draft=False: b"%PDF-1.7 test")
    city = agreement_city()
    case = settled_case(city)
    first, second = (p.id for p in case.parties)
    terms = [agreement_ops.TermInput(obligor_id=second, obligee_id=first, **t) for t in [
        dict(content="赔偿修复费用", amount="3800", method="银行转账", due_on=date(2026, 10, 31)),
        dict(content="修复卫生间防水层", due_on=date(2026, 10, 15)),
        dict(content="分两期支付误工费", method="现金",
             instalments="2026-10-01 1000\n2026-11-01 1000")]]
    agreement = ready_draft(city, case, terms=terms)
    agreement_ops.issue(city.mediator, agreement, verify_url="https://example.gov.cn/v/{code}")
    db.session.commit()
    return agreement


@pytest.mark.parametrize("size", [1, 2, 1000])
def test_overdue_terms_are_flagged_once_whatever_the_batch(issued, size):
    assert agreement_ops.check_performance(date(2026, 11, 5), batch_size=size) == 3
    db.session.commit()
    assert [t.overdue_since for t in issued.terms] == [
        date(2026, 10, 31), date(2026, 10, 15), date(2026, 10, 1)]
    assert sorted(e.data["overdue_term"] for e in issued.case.events
                  if (e.data or {}).get("overdue_term")) == [1, 2, 3]
    assert agreement_ops.check_performance(date(2026, 11, 5), batch_size=size) == 0
