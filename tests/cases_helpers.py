"""Building cases for the tests through the operations, and a small city to put them in.

``make_city`` is a few nodes and one account per role: the demo seed's 60 grids and its
argon2-hashed accounts cost about two seconds a test, too much for the state table's
121 cases.  The access tests use the demo city itself.
"""

from types import SimpleNamespace

from sqlalchemy import func, select

from mediation.areas import operations as area_ops
from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import operations
from mediation.cases.models import Case, CaseEvent, Category, PartyKind, PartyRole
from mediation.cases.operations import CaseInput, PartyInput
from mediation.cases.states import CaseState, Source
from mediation.core.audit import AuditEntry
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.roles import Role

S = CaseState

# The shortest walk from intake to each state, one allowed transition at a time.
PATH: dict[CaseState, list[CaseState]] = {
    S.REPORTED: [],
    S.ACCEPTED: [S.ACCEPTED],
    S.DECLINED: [S.DECLINED],
    S.IN_MEDIATION: [S.ACCEPTED, S.IN_MEDIATION],
    S.SETTLED: [S.ACCEPTED, S.IN_MEDIATION, S.SETTLED],
    S.PARTLY_SETTLED: [S.ACCEPTED, S.IN_MEDIATION, S.PARTLY_SETTLED],
    S.FAILED: [S.ACCEPTED, S.IN_MEDIATION, S.FAILED],
    S.WITHDRAWN: [S.WITHDRAWN],
    S.REFERRED_OUT: [S.ACCEPTED, S.REFERRED_OUT],
    S.FOLLOW_UP: [S.ACCEPTED, S.IN_MEDIATION, S.SETTLED, S.FOLLOW_UP],
    S.CLOSED: [S.ACCEPTED, S.IN_MEDIATION, S.SETTLED, S.CLOSED],
}


def category(code: str = "water_leak") -> Category:
    found = db.session.scalar(select(Category).where(Category.code == code))
    assert found is not None, f"no category {code}"
    return found


def area(code: str) -> AreaNode:
    found = db.session.scalar(select(AreaNode).where(AreaNode.code == code))
    assert found is not None, f"no area {code}"
    return found


def user(username: str) -> User:
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None, f"no user {username}"
    return found


def applicant(name: str = "王建国", **fields) -> PartyInput:
    return PartyInput(role=PartyRole.APPLICANT, kind=PartyKind.PERSON, name=name, **fields)


def respondent(name: str = "李卫东", **fields) -> PartyInput:
    return PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.PERSON, name=name, **fields)


def _default_grid(by: User) -> AreaNode:
    own = [node for node in by.areas if node.kind is AreaKind.GRID]
    if own:
        return own[0]
    return db.session.scalars(select(AreaNode).where(AreaNode.kind == AreaKind.GRID)
                              .order_by(AreaNode.code).limit(1)).one()


def make_case(by: User, **overrides) -> Case:
    """A dispute registered by ``by`` through ``create_case``; any CaseInput field may be
    overridden (``grid`` and ``category`` also by code)."""
    fields = {
        "title": "楼上漏水导致天花板受损",
        "source": Source.GRID_PATROL,
        "grid": None,
        "category": "water_leak",
        "narrative": "3号楼502室卫生间漏水，402室天花板受损，双方就维修费用协商未果。",
        "parties": [applicant(), respondent()],
    }
    fields.update(overrides)
    if isinstance(fields["category"], str):
        fields["category"] = category(fields["category"])
    if fields["grid"] is None:
        fields["grid"] = _default_grid(by)
    elif isinstance(fields["grid"], str):
        fields["grid"] = area(fields["grid"])
    return operations.create_case(by, CaseInput(**fields))


def walk_to(case: Case, state: CaseState, by: User) -> Case:
    """Move ``case`` from intake to ``state`` through ``transition``, step by step."""
    for step in PATH[state]:
        operations.transition(case, step, by, reason=f"测试：转为{step.value}")
    return case


def event_count(case: Case) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == case.id))


def audit_entries(action: str, case: Case) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == action,
                                 AuditEntry.object_id == case.number).order_by(AuditEntry.id)))


def _account(username: str, full_name: str, role: Role, areas=()) -> User:
    # These accounts never log in: a placeholder hash spares argon2's 0.3 s per account.
    account = User(username=username, full_name=full_name, role=role, password_hash="!",
                   areas=list(areas))
    db.session.add(account)
    return account


def make_city() -> SimpleNamespace:
    """测试区 → 和平街道 → 东苑社区 (two grids) and 西苑社区 (one grid); one account per role."""
    district = area_ops.create_area(None, parent=None, code="370699", name="测试区")
    street = area_ops.create_area(None, parent=district, code="370699001", name="和平街道")
    east = area_ops.create_area(None, parent=street, code="370699001001", name="东苑社区")
    west = area_ops.create_area(None, parent=street, code="370699001002", name="西苑社区")
    east_1 = area_ops.create_area(None, parent=east, code="370699001001-01", name="东苑第1网格")
    east_2 = area_ops.create_area(None, parent=east, code="370699001001-02", name="东苑第2网格")
    west_1 = area_ops.create_area(None, parent=west, code="370699001002-01", name="西苑第1网格")
    city = SimpleNamespace(
        district=district, street=street, east=east, west=west,
        east_1=east_1, east_2=east_2, west_1=west_1,
        admin=_account("admin", "赵立新", Role.ADMIN),
        coordinator=_account("coordinator", "李红梅", Role.COORDINATOR, [street]),
        mediator=_account("mediator", "张志强", Role.MEDIATOR, [east]),
        gridworker=_account("gridworker", "刘晓燕", Role.GRID_WORKER, [east_1]),
        legalaid=_account("legalaid", "陈思远", Role.LEGAL_AID),
    )
    db.session.commit()
    return city
