"""`flask seed-scale`: a city-sized synthetic database in bulk — here a few hundred cases, which
the staff then work with as they would with real ones.

One seed for the module (the city alone has 6,000 grids and a thousand accounts); the tests
read it, and the last ones change it (a new intake, a second run) or make their own app.
"""

import csv
import re
from collections import Counter
from types import SimpleNamespace

import pytest
from conftest import DEMO_PASSWORD, Auth, RequestClient, csrf_from
from sqlalchemy import func, select

from mediation import create_app
from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import operations as case_ops
from mediation.cases import waiting as proposal_marks
from mediation.cases.models import Case, CaseCounter, CaseEvent, Category, Party, PartyKind
from mediation.cases.rules import local_date
from mediation.cases.search import CaseSearch, bigrams
from mediation.cases.states import OPEN_STATES, CaseState, Level, Source
from mediation.extensions import db
from mediation.users.models import User

CASES = 300
NUMBER = re.compile(r"/cases/(\d{4}-\d{6})\b")


@pytest.fixture(scope="module")
def seeded(database, tmp_path_factory):
    codes = tmp_path_factory.mktemp("scale") / "codes.csv"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database.fresh_uri("seed_scale"),
                     DEMO_PASSWORD=DEMO_PASSWORD)
    app.test_client_class = RequestClient
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[
            "seed-scale", "--cases", str(CASES), "--chunk", "100", "--codes-file", str(codes)])
        yield SimpleNamespace(app=app, result=result, codes=codes)
        db.session.remove()
        db.engine.dispose()


def _client(seeded, username: str):
    client = seeded.app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _street_of(case: Case) -> AreaNode:
    return db.session.get(AreaNode, case.grid.parent.parent_id)


def _first_street() -> AreaNode:
    return db.session.scalar(select(AreaNode).where(AreaNode.kind == AreaKind.STREET)
                             .order_by(AreaNode.code).limit(1))


def test_the_seed_reports_what_it_made(seeded):
    assert seeded.result.exit_code == 0, seeded.result.output
    assert f"Seeded {CASES:,} cases" in seeded.result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == CASES
    grids = db.session.scalar(select(func.count()).where(AreaNode.kind == AreaKind.GRID))
    assert 5000 < grids < 7000
    usernames = set(db.session.scalars(select(User.username)))
    assert {"scale-admin", "scale-coordinator", "scale-mediator", "scale-gridworker",
            "scale-staff-1", "scale-staff-60"} <= usernames


def test_states_levels_and_sources_follow_the_plan(seeded):
    cases = db.session.scalars(select(Case)).all()
    states = Counter(case.state for case in cases)
    assert 0.8 <= states[CaseState.CLOSED] / CASES <= 0.95
    open_cases = [case for case in cases if case.state in OPEN_STATES]
    assert 0.05 <= len(open_cases) / CASES <= 0.15
    assert {case.state for case in open_cases} == set(OPEN_STATES)
    assert {case.level for case in open_cases} == set(Level)
    assert all(case.level_deadline and case.overall_deadline for case in open_cases)
    today = local_date(max(case.reported_at for case in cases))
    assert any(case.level_deadline < today for case in open_cases), "none overdue"
    assert any(case.level_deadline >= today for case in open_cases), "all overdue"
    closed = [case for case in cases if case.state is CaseState.CLOSED]
    assert all(case.outcome and case.outcome_at and case.closed_at for case in closed)
    assert Counter(case.outcome for case in closed).most_common(1)[0][0] is CaseState.SETTLED
    assert all((case.settled_level is not None)
               == (case.outcome in (CaseState.SETTLED, CaseState.PARTLY_SETTLED))
               for case in cases)
    years = {case.reported_at.year for case in cases}
    assert len(years) >= 5, years
    assert len({case.category_id for case in cases}) > 15
    assert Source.RESIDENT_REPORT in {case.source for case in cases}


def test_numbers_run_in_the_order_of_reporting(seeded):
    cases = db.session.scalars(select(Case).order_by(Case.reported_at)).all()
    for year in {case.year for case in cases}:
        seqs = [case.seq for case in cases if case.year == year]
        assert seqs == list(range(1, len(seqs) + 1))
        assert db.session.get(CaseCounter, year).last == len(seqs)
    assert all(case.number == f"{case.year}-{case.seq:06d}" for case in cases)


def test_every_case_has_parties_a_timeline_and_its_search_text(seeded):
    searchable = db.session.scalar(select(func.count()).select_from(Case).join(
        CaseSearch, CaseSearch.case_id == Case.id))
    assert searchable == CASES
    per_case = Counter(db.session.scalars(select(Party.case_id)))
    assert len(per_case) == CASES and min(per_case.values()) >= 2
    assert max(per_case.values()) >= 3
    case = db.session.scalar(select(Case).where(Case.state == CaseState.CLOSED).limit(1))
    states = [e.to_state for e in db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
        if e.to_state is not None]
    assert states[0] is CaseState.REPORTED and states[-1] is CaseState.CLOSED
    body = db.session.get(CaseSearch, case.id).body
    assert case.number in body and case.parties[0].name.lower() in body
    if db.engine.dialect.name == "postgresql":  # the loader writes the bigrams too
        for body, stored in db.session.execute(db.text("SELECT body, bigrams FROM case_search")):
            assert sorted(stored) == bigrams(body)


def test_the_cases_with_a_proposal_waiting_are_marked_as_the_app_marks_them(seeded):
    marks = db.session.execute(select(Case.proposal_waiting, proposal_marks.recount())).all()
    assert all(mark == recount for mark, recount in marks)
    assert any(mark for mark, _recount in marks)  # the seed leaves some proposals open


def test_the_coordinator_sees_the_cases_of_the_street_and_no_others(seeded):
    street = _first_street()
    mine = {case.number for case in db.session.scalars(select(Case)) if
            _street_of(case).id == street.id}
    assert len(mine) >= 3, "the first street has no fair share"
    client = _client(seeded, "scale-coordinator")
    page = client.get("/cases/?queue=all").get_data(as_text=True)
    shown = set(NUMBER.findall(page))
    assert shown and shown <= mine
    assert len(shown) == min(len(mine), 25)
    other = db.session.scalar(select(Case).where(Case.number.not_in(mine)).limit(1))
    assert client.get(f"/cases/{other.number}").status_code in (403, 404)
    found = client.get("/cases/", query_string={"queue": "all", "q": other.number})
    assert found.status_code == 200
    assert other.number not in NUMBER.findall(found.get_data(as_text=True))


def test_a_case_page_renders_and_search_finds_a_party_by_name(seeded):
    street = _first_street()
    case = next(case for case in db.session.scalars(select(Case).order_by(Case.id.desc()))
                if _street_of(case).id == street.id and case.state in OPEN_STATES)
    client = _client(seeded, "scale-coordinator")
    page = client.get(f"/cases/{case.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert case.title in html and case.parties[0].name in html
    person = next(p for p in case.parties if p.kind is PartyKind.PERSON)
    found = client.get("/cases/", query_string={"queue": "all", "q": person.name})
    assert case.number in set(NUMBER.findall(found.get_data(as_text=True)))


def test_staff_for_load_tests_log_in_without_a_second_factor(seeded):
    client = _client(seeded, "scale-staff-7")
    assert client.get("/cases/?queue=team").status_code == 200


def test_a_resident_opens_the_case_with_a_code_from_the_file(seeded):
    with seeded.codes.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= CASES  # every case's parties here (about a thousand cases at scale)
    number, code = rows[0]["case_number"], rows[0]["code"]
    client = seeded.app.test_client()
    form = client.get("/status").get_data(as_text=True)
    answer = client.post("/status", data={"csrf_token": csrf_from(form), "case_number": number,
                                          "access_code": code})
    assert answer.status_code == 303
    assert number in client.get("/status/case").get_data(as_text=True)


def test_a_new_intake_after_the_seed_gets_a_fresh_number(seeded):
    numbers = set(db.session.scalars(select(Case.number)))
    mediator = db.session.scalar(select(User).where(User.username == "scale-mediator"))
    grid = db.session.scalar(select(AreaNode).where(
        AreaNode.parent_id == mediator.committees[0].area_id).order_by(AreaNode.code).limit(1))
    case = case_ops.create_case(mediator, case_ops.CaseInput(
        title="楼上漏水", source=Source.WALK_IN, grid=grid,
        category=db.session.scalar(select(Category).limit(1)), narrative="楼上漏水。",
        parties=[case_ops.PartyInput(role=case_ops.PartyRole.APPLICANT,
                                     kind=PartyKind.PERSON, name="王芳")]))
    db.session.commit()
    assert case.number not in numbers
    assert case.seq == max(c.seq for c in db.session.scalars(
        select(Case).where(Case.year == case.year)))


def test_a_second_run_is_refused_and_changes_nothing(seeded):
    before = db.session.scalar(select(func.count()).select_from(Case))
    result = seeded.app.test_cli_runner().invoke(args=["seed-scale", "--cases", "10"])
    assert result.exit_code != 0
    assert "already has cases" in result.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == before


def test_refused_under_the_production_config(tmp_path, monkeypatch):
    """Refused before the database is even read (this one has no tables at all)."""
    monkeypatch.setenv("SECRET_KEY", "z" * 40)
    monkeypatch.setenv("AUDIT_KEY", "a" * 40)
    monkeypatch.setenv("FIELD_ENCRYPTION_KEY", "Vb4mVOLk0x8l8r2ZqgXz7mYp3m3QqzGJ1uE3aVxQe7c=")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tiaojie.example.gov.cn")
    app = create_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.db")
    with app.app_context():  # the module's seeded app is current otherwise
        result = app.test_cli_runner().invoke(args=["seed-scale", "--cases", "10"])
    assert result.exit_code != 0
    assert "refuses to run under the production config" in result.output
