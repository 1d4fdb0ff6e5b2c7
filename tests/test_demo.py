"""`flask seed-demo`: the demo city comes alive — eighteen months of cases, sessions past and
coming, agreements in every stage, follow-ups and ratings — once, however often it runs.

One seed for the whole module (it takes some seconds); the tests only read it.
"""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from conftest import DEMO_PASSWORD, Auth, RequestClient
from sqlalchemy import func, select

from mediation import create_app
from mediation.agreements.models import (
    Agreement,
    AgreementStatus,
    ConfirmationResult,
    JudicialConfirmation,
    Term,
)
from mediation.areas.models import AreaKind, AreaNode, Centre, Committee, Room
from mediation.cases.demo import _staff
from mediation.cases.models import Case, CaseEvent, EventKind, FollowUp
from mediation.cases.rules import LOCAL, local_date, today
from mediation.cases.states import OPEN_STATES, CaseState, Level, Source
from mediation.core import audit
from mediation.core.calendar import is_working_day
from mediation.core.db import utcnow
from mediation.demo_activity import LivingPlanner
from mediation.extensions import db
from mediation.portal.models import AccessCode, Rating, Satisfaction
from mediation.sessions.minutes import Minutes
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    Participant,
    SessionStatus,
)
from mediation.users.models import User

COUNTED = (AreaNode, Committee, Room, User, Case, CaseEvent, FollowUp, MediationSession,
           Participant, Minutes, Agreement, JudicialConfirmation, Rating, audit.AuditEntry)


def _counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED}


@pytest.fixture(scope="module")
def seeded(database):
    """The demo seeded twice on one database: what each run said and left."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database.fresh_uri("seed_demo"),
                     DEMO_PASSWORD=DEMO_PASSWORD, DEMO_CASES=True)
    app.test_client_class = RequestClient
    with app.app_context():
        runner = app.test_cli_runner()
        first = runner.invoke(args=["seed-demo"])
        after_first = _counts()
        second = runner.invoke(args=["seed-demo"])
        yield SimpleNamespace(app=app, first=first, second=second, after_first=after_first,
                              after_second=_counts())
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def mediator(seeded):
    """A client logged in as the demo mediator (文苑社区), who needs no second factor."""
    client = seeded.app.test_client()
    assert Auth(client).login("mediator").status_code == 302
    return client


def test_seed_demo_builds_the_city_once(seeded):
    assert seeded.first.exit_code == 0, seeded.first.output
    assert "(created)" in seeded.first.output
    for username in ("admin", "coordinator", "mediator", "gridworker", "legalaid"):
        assert username in seeded.first.output
    kinds = dict(db.session.execute(select(AreaNode.kind, func.count())
                                    .group_by(AreaNode.kind)).all())
    assert kinds == {AreaKind.DISTRICT: 1, AreaKind.STREET: 3, AreaKind.COMMUNITY: 9,
                     AreaKind.GRID: 60}
    counts = seeded.after_first
    # The 5 demo accounts and 10 staff for the other communities' cases.
    assert counts["Committee"] == 12 and counts["User"] == 15 and counts["Room"] >= 4
    states = dict(db.session.execute(select(Case.state, func.count())
                                     .group_by(Case.state)).all())
    assert sum(states.values()) == 360 and set(states) == set(CaseState)
    assert audit.verify_chain().ok
    street_centre = db.session.scalar(select(Centre).join(Centre.area)
                                      .where(AreaNode.kind == AreaKind.STREET))
    assert street_centre.rooms
    # Real names, in Chinese.
    assert db.session.scalar(select(User.full_name).where(User.username == "mediator")) == "张志强"
    # A second run creates nothing, not even an audit entry.
    assert seeded.second.exit_code == 0, seeded.second.output
    assert "(already there)" in seeded.second.output
    assert seeded.after_second == counts


def test_history_spans_eighteen_months_with_a_realistic_course(seeded):
    months = Counter(local_date(reported).replace(day=1) for reported in db.session.scalars(
        select(Case.reported_at)))
    first_month = min(months)
    this_month = today().replace(day=1)
    assert (this_month.year - first_month.year) * 12 + this_month.month - first_month.month >= 17
    assert len(months) >= 17
    # Every month received cases: a trend, not a cluster of recent ones.
    assert all(months[m] >= 8 for m in months if m != this_month), months
    # Nothing happened in the future, and each case's course reads in order.
    now = utcnow()
    assert db.session.scalar(select(func.max(CaseEvent.at))) <= now
    assert db.session.scalar(select(func.max(Case.reported_at))) <= now
    courses: dict[int, list] = {}
    for case_id, at in db.session.execute(select(CaseEvent.case_id, CaseEvent.at)
                                          .order_by(CaseEvent.id)):
        courses.setdefault(case_id, []).append(at)
    assert all(course == sorted(course) for course in courses.values())
    # Settled mostly at grid and community level (the seeds: 97%), some at the street.
    levels = dict(db.session.execute(select(Case.settled_level, func.count())
                                     .where(Case.settled_level.is_not(None))
                                     .group_by(Case.settled_level)).all())
    share = (levels[Level.GRID] + levels[Level.COMMUNITY]) / sum(levels.values())
    assert 0.9 <= share < 1 and levels[Level.GRID] >= 40
    moves = Counter(db.session.execute(select(CaseEvent.from_level, CaseEvent.to_level).where(
        CaseEvent.kind == EventKind.LEVEL)).all())
    assert moves[(Level.GRID, Level.COMMUNITY)] > moves[(Level.COMMUNITY, Level.STREET)] > 0
    assert moves[(Level.GRID, Level.STREET)] > 0
    # Some cases are open now, some of them overdue.
    open_cases = db.session.scalars(select(Case).where(Case.state.in_(OPEN_STATES))).all()
    assert len(open_cases) >= 15
    assert any(c.level_deadline and c.level_deadline < today() for c in open_cases)


def _stage(agreement: Agreement) -> str:
    results = {c.result for c in agreement.confirmations}
    if agreement.status is AgreementStatus.DRAFT:
        return "draft"
    if agreement.effective_on is None:
        return "awaiting signature"
    if any(term.overdue_since for term in agreement.terms):
        return "overdue"
    return {ConfirmationResult.CONFIRMED: "confirmed", ConfirmationResult.DISMISSED: "dismissed",
            ConfirmationResult.PENDING: "with the court"}.get(next(iter(results), None),
                                                                "in force")


def test_agreements_in_every_stage(seeded):
    agreements = db.session.scalars(select(Agreement)).all()
    stages = Counter(_stage(a) for a in agreements)
    assert set(stages) == {"draft", "awaiting signature", "in force", "with the court",
                           "confirmed", "dismissed", "overdue"}, stages
    issued = [a for a in agreements if a.status is AgreementStatus.ISSUED]
    assert len(issued) <= 10  # each renders a PDF
    for agreement in issued:
        assert agreement.pdf.startswith(b"%PDF") and agreement.verification_code
        assert agreement.issued_on <= today() and agreement.issued_at <= utcnow()
        assert agreement.number.startswith(f"（{agreement.issued_on.year}）")
        assert agreement.year == agreement.issued_on.year
        assert local_date(agreement.issued_at) == agreement.issued_on
        assert agreement.effective_on is None or agreement.effective_on >= agreement.issued_on
        assert all(instalment.due_on > agreement.issued_on for term in agreement.terms
                   for instalment in term.instalments)
        assert agreement.case.state is not CaseState.IN_MEDIATION
    # Only the overdue instalment is overdue: the other terms are performed or not due.
    overdue = db.session.scalars(select(Term).where(Term.overdue_since.is_not(None))).all()
    assert len(overdue) == 1
    paid, late, coming = overdue[0].instalments
    assert paid.paid_on and not late.paid_on and late.due_on < today() < coming.due_on
    for confirmation in db.session.scalars(select(JudicialConfirmation)):
        assert confirmation.filed_on >= confirmation.agreement.effective_on
        assert confirmation.ruled_on is None or confirmation.ruled_on >= confirmation.filed_on


def test_an_issued_agreement_is_verified_by_its_code(seeded):
    agreement = db.session.scalar(select(Agreement).join(Agreement.confirmations).where(
        JudicialConfirmation.result == ConfirmationResult.CONFIRMED).limit(1))
    client = seeded.app.test_client()
    page = client.get(f"/v/{agreement.verification_code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert agreement.number in html and "法院" in html
    assert client.get("/v/AAAA-BBBB-CCCC-DDDD").status_code == 404


def test_sessions_past_and_coming_in_the_centres(seeded, mediator):
    now = utcnow()
    sessions = db.session.scalars(select(MediationSession)).all()
    past = [s for s in sessions if s.ends_at < now]
    coming = [s for s in sessions if s.starts_at > now]
    assert len(past) >= 100 and len(coming) >= 8
    # The past ones were held: who came, and the minutes written after the session.
    for session in past:
        assert session.status in (SessionStatus.HELD, SessionStatus.ADJOURNED)
        assert all(p.attendance in (Attendance.ATTENDED, Attendance.ABSENT)
                   for p in session.participants)
        minutes = db.session.scalar(select(Minutes).where(Minutes.session_id == session.id))
        assert minutes.body and session.ends_at <= minutes.created_at <= now
        assert session.created_at < session.starts_at
    # The coming ones: the next three weeks, working days, booked before now.
    for session in coming:
        day = session.starts_at.astimezone(LOCAL).date()
        assert day <= today() + timedelta(days=21) and is_working_day(day)
        assert session.status is SessionStatus.PLANNED and session.created_at < now
    # No room holds two sessions at once.
    for one in sessions:
        for other in sessions:
            if one.id < other.id and one.room_id and one.room_id == other.room_id:
                assert one.ends_at <= other.starts_at or other.ends_at <= one.starts_at
    # A few parties answered their notice on the portal.
    assert db.session.scalar(select(func.count()).select_from(Participant)
                             .where(Participant.reply.is_not(None))) >= 3
    # The street centre's calendar shows the mediator's coming sessions.
    centre = db.session.scalar(select(Centre).join(Centre.area)
                               .where(AreaNode.kind == AreaKind.STREET))
    in_centre = sorted((s for s in coming if s.room is not None and s.room.centre_id == centre.id),
                       key=lambda s: s.starts_at)
    assert in_centre
    first = in_centre[0]
    day = first.starts_at.astimezone(LOCAL).date()
    page = mediator.get(f"/sessions/centre/{centre.id}?day={day.isoformat()}&view=week")
    assert page.status_code == 200
    assert first.case.number in page.get_data(as_text=True)


def test_follow_ups_and_ratings(seeded):
    assert db.session.scalar(select(func.count()).select_from(FollowUp)) >= 50
    ratings = db.session.scalars(select(Rating)).all()
    mix = Counter(r.satisfaction for r in ratings)
    assert set(mix) == set(Satisfaction) and len(ratings) >= 50
    assert mix[Satisfaction.SATISFIED] > mix[Satisfaction.FAIRLY] > mix[Satisfaction.UNSATISFIED]
    assert any(r.comment for r in ratings)
    for rating in ratings:  # rated once the case had its outcome, before now
        assert rating.case.outcome_at <= rating.rated_at <= utcnow()


def test_residents_reported_some_disputes_on_the_portal(seeded):
    """居民线上申请 appears among the sources: reports over the months, worked by staff."""
    reported = db.session.scalars(select(Case).where(
        Case.source == Source.RESIDENT_REPORT)).all()
    assert 8 <= len(reported) <= 12
    assert len({local_date(case.reported_at).replace(day=1) for case in reported}) >= 6
    assert any(case.is_open for case in reported) and any(
        case.state is CaseState.CLOSED for case in reported)
    for case in reported:
        assert case.reported_by is None and case.level is not None
        applicant = case.parties[0]
        assert db.session.get(AccessCode, applicant.id) is not None  # on the receipt
        if case.accepted_at is None:  # waiting, or turned down or withdrawn before that
            assert case.state is CaseState.REPORTED or case.outcome in (
                CaseState.DECLINED, CaseState.WITHDRAWN)
        else:
            assert case.handler is not None
    assert sum(case.accepted_at is not None for case in reported) >= len(reported) - 3


# A January day (agreements issued last year), a spring one, and the National Day holiday.
SEASONS = [datetime(2027, 1, 5, 10, 30, tzinfo=LOCAL), datetime(2027, 3, 20, 15, 10, tzinfo=LOCAL),
           datetime(2026, 10, 3, 9, 0, tzinfo=LOCAL)]


@pytest.mark.parametrize("now", SEASONS, ids=lambda now: now.date().isoformat())
def test_the_plan_holds_in_every_season(seeded, now):
    """The seed's plan made on other days (playing it takes the seed's time: only planned
    here, from the seeded city and staff): every agreement is issued on its stage's day, so
    numbered in that day's year even when that is last year, and what follows it comes
    after it; nothing is planned later than now; residents' reports are spread over the
    months."""
    planner = LivingPlanner(random.Random(2026), now.astimezone(UTC), _staff())
    specs = planner.plan(360)
    issued_days = []
    for spec in specs:
        moments = [step.when for step in spec.steps]
        assert moments == sorted(moments) and moments[-1] < now
        stage, days_ago = spec.extras.get("agreement", ("none", None))
        if stage in ("none", "draft"):
            continue
        issue = next(step for step in spec.steps if step.action == "agreement")
        issued = local_date(issue.when)
        assert issued == planner.today - timedelta(days=days_ago)
        issued_days.append(issued)
        assert all(step.when < issue.when for step in spec.steps if step.action == "accept")
        assert all(step.when > issue.when for step in spec.steps if step.action in (
            "sign", "perform", "file", "ruling", "instalment", "overdue"))
        if stage == "overdue":
            first, second, third = spec.extras["instalments"]
            assert issued < first < second < planner.today < third
    assert len(issued_days) == 8
    if now.month == 1:
        assert min(issued_days).year == now.year - 1
    residents = [spec for spec in specs if spec.source is Source.RESIDENT_REPORT]
    assert 8 <= len(residents) <= 12
    assert len({local_date(spec.steps[0].when).replace(day=1) for spec in residents}) >= 6
