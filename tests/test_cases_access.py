"""Who sees which case: jurisdiction, assignments, acting levels, and personal data reads."""

import pytest
from cases_helpers import applicant, audit_entries, make_case, make_city, respondent, user
from sqlalchemy import select

from mediation.cases import operations
from mediation.cases.access import can, can_view, visible_cases
from mediation.cases.models import AssignmentRole, Case, EventKind
from mediation.cases.states import Level
from mediation.core.audit import AuditEntry
from mediation.core.errors import OperationError
from mediation.extensions import db

ACCOUNTS = ["admin", "coordinator", "mediator", "gridworker", "legalaid"]
# The demo city: 文汇街道 (370599001) holds 文苑社区 (…001001) and 清风社区 (…001002);
# the grid worker patrols 文苑社区's grids 01–03; 黄河路街道 is 370599002.
GRIDS = {
    "wenyuan_1": "370599001001-01",  # the grid worker's own grid
    "wenyuan_5": "370599001001-05",  # 文苑社区, not the grid worker's
    "qingfeng": "370599001002-01",  # 文汇街道, not 文苑社区
    "huanghe": "370599002001-01",  # another street
}
EXPECTED = {
    "admin": {"wenyuan_1", "wenyuan_5", "qingfeng", "huanghe"},
    "coordinator": {"wenyuan_1", "wenyuan_5", "qingfeng"},
    "mediator": {"wenyuan_1", "wenyuan_5"},
    "gridworker": {"wenyuan_1"},
    "legalaid": set(),
}


@pytest.fixture
def cases(demo_city):
    admin = user("admin")
    made = {name: make_case(admin, grid=code) for name, code in GRIDS.items()}
    db.session.commit()
    return made


def _visible(account) -> set[str]:
    return set(db.session.scalars(visible_cases(account).with_only_columns(Case.number)))


def _names(cases, numbers: set[str]) -> set[str]:
    return {name for name, case in cases.items() if case.number in numbers}


def _check_scope(cases, expected: dict[str, set[str]]) -> None:
    for username in ACCOUNTS:
        account = user(username)
        assert _names(cases, _visible(account)) == expected[username], username
        for name, case in cases.items():
            assert can_view(account, case) == (name in expected[username]), (username, name)


def test_each_account_sees_its_jurisdiction(cases):
    _check_scope(cases, EXPECTED)


def test_an_assignment_opens_exactly_that_case(cases):
    admin = user("admin")
    operations.assign(user("coordinator"), cases["huanghe"], user("legalaid"),
                      AssignmentRole.LEGAL_AID)
    # A handler from another area sees the case he handles: accepting names only a handler
    # whose jurisdiction covers the case, but a case moved to another grid keeps its handler.
    operations.accept_case(admin, cases["qingfeng"])
    cases["qingfeng"].handler = user("mediator")
    db.session.commit()
    expected = {**EXPECTED, "legalaid": {"huanghe"},
                "mediator": EXPECTED["mediator"] | {"qingfeng"}}
    _check_scope(cases, expected)

    legalaid = user("legalaid")
    assert can(legalaid, "cases.opinion", cases["huanghe"])
    assert not can(legalaid, "cases.opinion", cases["qingfeng"])
    assert not can(legalaid, "cases.handle", cases["huanghe"])
    operations.add_opinion(legalaid, cases["huanghe"], "属相邻关系纠纷，可依民法典第288条调解。")
    assert cases["huanghe"].events[-1].kind is EventKind.OPINION

    with pytest.raises(OperationError):  # only volunteers are assigned as legal aid
        operations.assign(admin, cases["wenyuan_1"], user("mediator"), AssignmentRole.LEGAL_AID)
    with pytest.raises(OperationError):  # and nobody twice
        operations.assign(admin, cases["huanghe"], legalaid, AssignmentRole.LEGAL_AID)


def test_a_grid_worker_stops_acting_once_the_case_leaves_the_grid(cases):
    gridworker, mediator = user("gridworker"), user("mediator")
    case = cases["wenyuan_1"]
    assert can(gridworker, "cases.handle", case)
    assert can(mediator, "cases.handle", case)

    operations.move_level(mediator, case, Level.COMMUNITY, "金额超过网格调处限额。")
    db.session.commit()
    assert not can(gridworker, "cases.handle", case)
    assert not can(gridworker, "cases.request_escalation", case)
    assert can(gridworker, "cases.view", case) and can_view(gridworker, case)
    assert can(mediator, "cases.handle", case)
    # Outside the scope nothing is allowed, whatever the role grants.
    assert not can(gridworker, "cases.view", cases["wenyuan_5"])
    assert not can(mediator, "cases.handle", cases["huanghe"])


ID_NUMBER = "11010519491231002X"


def test_id_numbers_are_masked_and_every_full_read_is_audited(app):
    city = make_city()
    first = make_case(city.gridworker, parties=[
        applicant(id_type="resident_id", id_number=ID_NUMBER.lower()), respondent()])
    second = make_case(city.gridworker, parties=[
        applicant("钱淑芬"), respondent("王建国", id_type="resident_id", id_number=ID_NUMBER)])
    db.session.commit()
    party = first.parties[0]
    assert party.id_number_masked == "**************002X"
    assert ID_NUMBER not in party.id_number_encrypted
    [created] = audit_entries("case.create", first)
    assert created.after["parties"][0]["id_number"] == "**************002X"
    assert all(ID_NUMBER not in str(e.after) for e in db.session.scalars(select(AuditEntry)))

    assert operations.reveal_id_number(city.mediator, party) == ID_NUMBER
    [entry] = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.id_number.read")).all()
    assert (entry.actor_name, entry.object_id, entry.note) == ("mediator", str(party.id),
                                                              first.number)
    with pytest.raises(OperationError):
        operations.reveal_id_number(city.mediator, first.parties[1])

    # The same person in another case is a repeat dispute.
    assert operations.other_cases_of(party) == [second]
    assert operations.other_cases_of(second.parties[1]) == [first]
    assert operations.other_cases_of(first.parties[1]) == []
