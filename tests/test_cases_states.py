"""The state machine: every pair of states, reasons, timestamps, refusals and stale edits."""

import pytest
from cases_helpers import PATH, audit_entries, event_count, make_case, make_city, walk_to
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from mediation.cases import operations
from mediation.cases.models import Case, EscalationProposal, EventKind, ProposalStatus
from mediation.cases.operations import StaleEdit
from mediation.cases.states import ALLOWED, OPEN_STATES, REASON_REQUIRED, CaseState
from mediation.core.errors import OperationError
from mediation.extensions import db

S = CaseState
PAIRS = [(current, target) for current in CaseState for target in CaseState]
REASON = "双方当事人同意，按程序处理。"


@pytest.fixture
def city(app):
    return make_city()


def _case_in(state: CaseState, city, **overrides) -> Case:
    case = walk_to(make_case(city.gridworker, **overrides), state, city.gridworker)
    db.session.commit()
    return case


def _reload(case: Case) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case.id)


def _from_state(target: CaseState) -> CaseState:
    """The first state (in walking order) from which ``target`` may be reached."""
    return next(state for state in PATH if target in ALLOWED[state])


def test_the_table_covers_every_state_and_every_walk_is_allowed():
    assert set(ALLOWED) == set(CaseState) == set(PATH)
    for steps in PATH.values():
        for before, after in zip([S.REPORTED, *steps], steps, strict=False):
            assert after in ALLOWED[before]
    assert ALLOWED[S.CLOSED] == frozenset()


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=lambda state: state.value)
def test_transition(app, city, current, target):
    case = _case_in(current, city)
    events, version = event_count(case), case.version
    audits = len(audit_entries("case.transition", case))

    if target in ALLOWED[current]:
        operations.transition(case, target, city.mediator, reason=REASON)
        db.session.commit()
        case = _reload(case)
        assert case.state is target
        assert case.version == version + 1
        assert event_count(case) == events + 1
        event = case.events[-1]
        assert (event.kind, event.from_state, event.to_state) == (EventKind.STATE, current,
                                                                   target)
        assert (event.actor, event.reason) == (city.mediator, REASON)
        entries = audit_entries("case.transition", case)
        assert len(entries) == audits + 1
        entry = entries[-1]
        assert entry.actor_name == "mediator"
        assert entry.before == {"state": current.value}
        assert entry.after == {"state": target.value}
        assert entry.note == REASON
    else:
        with pytest.raises(OperationError):
            operations.transition(case, target, city.mediator, reason=REASON)
        assert not db.session.dirty and not db.session.new
        db.session.commit()
        case = _reload(case)
        assert case.state is current
        assert case.version == version
        assert event_count(case) == events
        assert len(audit_entries("case.transition", case)) == audits


@pytest.mark.parametrize("reason", [None, "", "   "])
@pytest.mark.parametrize("target", sorted(REASON_REQUIRED), ids=str)
def test_these_targets_need_a_reason(app, city, target, reason):
    current = _from_state(target)
    case = _case_in(current, city)
    events = event_count(case)
    with pytest.raises(OperationError) as caught:
        operations.transition(case, target, city.mediator, reason=reason)
    assert caught.value.field == "reason"
    db.session.commit()
    case = _reload(case)
    assert case.state is current
    assert event_count(case) == events


@pytest.mark.parametrize("target", sorted(set(CaseState) - REASON_REQUIRED - {S.REPORTED}),
                         ids=str)
def test_other_targets_need_none(app, city, target):
    case = _case_in(_from_state(target), city)
    event = operations.transition(case, target, city.mediator)
    db.session.commit()
    assert _reload(case).state is target
    assert event.reason is None


@pytest.mark.parametrize("state", list(CaseState), ids=str)
def test_timestamps_follow_the_state(app, city, state):
    case = _reload(_case_in(state, city))
    assert (case.closed_at is not None) == (state is S.CLOSED)
    assert (case.outcome_at is None) == (state in OPEN_STATES)
    assert (case.accepted_at is not None) == (S.ACCEPTED in PATH[state])
    # Only an open case has a level deadline running.
    assert (case.level_deadline is not None) == (state in OPEN_STATES)
    assert case.overall_deadline is not None
    if state in {S.SETTLED, S.PARTLY_SETTLED, S.FOLLOW_UP, S.CLOSED}:
        assert case.settled_level is case.level
    else:
        assert case.settled_level is None


def _refused(sql: str, case: Case) -> None:
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(text(sql), {"id": case.id})


def test_the_database_ties_timestamps_to_the_state(app, city):
    reported = _case_in(S.REPORTED, city)
    settled = _case_in(S.SETTLED, city)
    closed = _case_in(S.CLOSED, city)

    _refused("UPDATE cases SET closed_at = NULL WHERE id = :id", closed)
    _refused("UPDATE cases SET closed_at = outcome_at WHERE id = :id", settled)
    _refused("UPDATE cases SET state = 'closed' WHERE id = :id", settled)
    _refused("UPDATE cases SET state = 'reported' WHERE id = :id", closed)
    _refused("UPDATE cases SET outcome_at = NULL WHERE id = :id", settled)
    _refused("UPDATE cases SET outcome_at = reported_at WHERE id = :id", reported)
    _refused("UPDATE cases SET state = 'settled' WHERE id = :id", reported)
    _refused("UPDATE cases SET state = 'accepted' WHERE id = :id", settled)
    _refused("UPDATE cases SET state = 'lost' WHERE id = :id", reported)

    # The same columns changed together are accepted.
    with db.session.begin_nested():
        db.session.execute(text("UPDATE cases SET state = 'closed', closed_at = outcome_at "
                                "WHERE id = :id"), {"id": settled.id})
    db.session.rollback()
    states = dict(db.session.execute(select(Case.id, Case.state)).all())
    assert states == {reported.id: S.REPORTED, settled.id: S.SETTLED, closed.id: S.CLOSED}


LEAVING = [(current, target) for current in sorted(OPEN_STATES)
           for target in sorted(ALLOWED[current])]


@pytest.mark.parametrize(("current", "target"), LEAVING, ids=lambda state: state.value)
def test_open_proposals_are_dismissed_when_the_case_leaves_mediation(app, city, current,
                                                                       target):
    # Over the grid's amount limit and high-risk: two proposals open at intake.
    case = _case_in(current, city, amount_fen=2_000_000, risks={"violence_threat": True})
    assert len(operations.open_proposals(case)) == 2

    operations.transition(case, target, city.mediator, reason=REASON)
    db.session.commit()

    proposals = db.session.scalars(select(EscalationProposal)).all()
    if target in OPEN_STATES:
        assert {p.status for p in proposals} == {ProposalStatus.OPEN}
    else:
        assert {p.status for p in proposals} == {ProposalStatus.DISMISSED}
        assert all(p.decided_at is not None and p.decision_note for p in proposals)
        assert operations.open_proposals(case) == []


@pytest.mark.parametrize("state", [S.ACCEPTED, S.IN_MEDIATION], ids=str)
def test_a_partys_refusal_ends_mediation(app, city, state):
    case = _case_in(state, city)
    refusing = case.parties[1]
    operations.record_refusal(city.mediator, refusing, "被申请人明确表示拒绝调解。")
    db.session.commit()
    case = _reload(case)
    assert case.state is S.FAILED
    assert case.routes_told == []
    assert case.parties[1].refuses_mediation
    assert case.events[-1].reason == "被申请人明确表示拒绝调解。"


def test_a_refusal_before_acceptance_declines_the_case(app, city):
    case = _case_in(S.REPORTED, city)
    operations.record_refusal(city.mediator, case.parties[1], "")
    db.session.commit()
    case = _reload(case)
    assert case.state is S.DECLINED
    assert "李卫东" in case.events[-1].reason
    assert case.decline_reason == case.events[-1].reason


def test_a_refusal_after_the_outcome_is_only_noted(app, city):
    case = _case_in(S.SETTLED, city)
    operations.record_refusal(city.mediator, case.parties[1], "事后表示不再参加调解。")
    db.session.commit()
    case = _reload(case)
    assert case.state is S.SETTLED
    assert case.events[-1].kind is EventKind.PARTY


def test_mediation_does_not_start_while_a_party_refuses(app, city):
    case = _case_in(S.ACCEPTED, city)
    case.parties[1].refuses_mediation = True
    db.session.commit()
    with pytest.raises(OperationError, match="李卫东"):
        operations.start_mediation(city.mediator, case)
    db.session.rollback()
    assert _reload(case).state is S.ACCEPTED

    case.parties[1].refuses_mediation = False
    operations.start_mediation(city.mediator, case)
    db.session.commit()
    assert _reload(case).state is S.IN_MEDIATION


def test_a_transition_from_a_stale_form_saves_nothing(app, city):
    case = _case_in(S.REPORTED, city)
    seen = case.version
    operations.add_note(city.gridworker, case, "补充了现场照片。")
    case.title = "楼上漏水（已补充照片）"  # someone else's save, bumping the version
    db.session.commit()
    events = event_count(case)

    with pytest.raises(StaleEdit):
        operations.accept_case(city.mediator, case, seen_version=seen)
    with pytest.raises(StaleEdit):
        operations.transition(case, S.WITHDRAWN, city.mediator, REASON, seen_version=seen)
    db.session.commit()
    case = _reload(case)
    assert case.state is S.REPORTED and case.handler is None
    assert event_count(case) == events

    operations.accept_case(city.mediator, case, seen_version=case.version)
    db.session.commit()
    assert _reload(case).state is S.ACCEPTED


def test_two_sessions_saving_the_same_case_the_second_is_refused(app, city):
    case_id = make_case(city.gridworker).id
    db.session.commit()

    with app.app_context():  # the first mediator's request
        first = db.session()
        first.expire_on_commit = False  # keeps the copy it loaded, like an open form
        mine = first.get(Case, case_id)
        seen = mine.version
        first.commit()  # and holds no transaction (or SQLite lock) while the other saves

        with app.app_context():  # the second mediator's request, saved in between
            theirs = db.session.get(Case, case_id)
            theirs.title = "第二位调解员的修改"
            db.session.commit()
            db.session.remove()

        mine.title = "第一位调解员的修改"
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()
        db.session.remove()

    case = db.session.get(Case, case_id)
    assert case.title == "第二位调解员的修改"
    assert case.version == seen + 1
