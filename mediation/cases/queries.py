"""Lists of cases: the work queues, filters and search — all through the scope."""

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, nulls_last, or_, select

from mediation.areas.models import AreaKind, AreaNode, Committee
from mediation.cases.access import visible_cases
from mediation.cases.models import Assignment, Case, EscalationProposal, Party, ProposalStatus
from mediation.cases.rules import today
from mediation.cases.states import OPEN_STATES, CaseState, Level, RiskLevel
from mediation.core.validators import normalise_phone
from mediation.extensions import db

QUEUES = ("mine", "team", "awaiting", "proposals", "overdue", "all")


@dataclass
class Filters:
    queue: str = "mine"
    q: str = ""
    state: str = ""
    level: str = ""
    category: str = ""
    grid: str = ""
    risk: str = ""
    overdue: bool = False

    @classmethod
    def from_args(cls, args) -> "Filters":
        queue = args.get("queue", "mine")
        return cls(queue=queue if queue in QUEUES else "mine", q=args.get("q", "").strip(),
                   state=args.get("state", ""), level=args.get("level", ""),
                   category=args.get("category", ""), grid=args.get("grid", "").strip(),
                   risk=args.get("risk", ""), overdue=args.get("overdue") == "1")


def overdue():
    """Open, and past the level's or the overall deadline."""
    on = today()
    return and_(Case.state.in_(OPEN_STATES),
                or_(Case.level_deadline < on, Case.overall_deadline < on))


def search_condition(q: str):
    """Number, party name or phone, or words of the narrative (substring: 漏水 finds 楼上漏水…)."""
    def has(column, text):
        return column.icontains(text, autoescape=True)

    party_match = select(Party.id).where(Party.case_id == Case.id, has(Party.name, q))
    conditions = [has(Case.number, q), has(Case.title, q), has(Case.narrative, q),
                  exists(party_match)]
    phone = normalise_phone(q)
    if phone or q.isdigit():
        conditions.append(exists(select(Party.id).where(
            Party.case_id == Case.id, has(Party.phone, phone or q))))
    return or_(*conditions)


def case_list(user, filters: Filters):
    """The statement behind the queue page, scoped to ``user``, soonest deadline first."""
    stmt = visible_cases(user)
    mine = or_(Case.handler_id == user.id, Case.id.in_(
        select(Assignment.case_id).where(Assignment.user_id == user.id)))
    match filters.queue:
        case "mine":
            stmt = stmt.where(mine, Case.state != CaseState.CLOSED)
        case "team":
            stmt = stmt.where(Case.state.in_(OPEN_STATES))
        case "awaiting":
            stmt = stmt.where(or_(Case.state == CaseState.REPORTED,
                                  and_(Case.state.in_(OPEN_STATES), Case.handler_id.is_(None))))
        case "proposals":
            stmt = stmt.where(exists(select(EscalationProposal.id).where(
                EscalationProposal.case_id == Case.id,
                EscalationProposal.status == ProposalStatus.OPEN)))
        case "overdue":
            stmt = stmt.where(overdue())
    if filters.q:
        stmt = stmt.where(search_condition(filters.q))
    if filters.state in {s.value for s in CaseState}:
        stmt = stmt.where(Case.state == CaseState(filters.state))
    if filters.level in {lv.value for lv in Level}:
        stmt = stmt.where(Case.level == Level(filters.level))
    if filters.category.isdigit():
        stmt = stmt.where(Case.category_id == int(filters.category))
    if filters.grid:
        stmt = stmt.where(AreaNode.code == filters.grid)
    if filters.risk in {r.value for r in RiskLevel}:
        stmt = stmt.where(Case.risk_level == RiskLevel(filters.risk))
    if filters.overdue:
        stmt = stmt.where(overdue())
    return stmt.order_by(nulls_last(Case.level_deadline.asc()), Case.reported_at.desc())


def queue_counts(user) -> dict[str, int]:
    counts = {}
    for queue in ("mine", "awaiting", "proposals", "overdue"):
        stmt = case_list(user, Filters(queue=queue)).order_by(None)
        counts[queue] = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return counts


def committee_for(case: Case):
    """The mediation committee handling the case: its community's, or its street's."""
    want = AreaKind.STREET if case.level is Level.STREET else AreaKind.COMMUNITY
    node = case.grid
    while node is not None and node.kind is not want:
        node = node.parent
    if node is None:
        return None
    return db.session.scalar(select(Committee).where(Committee.area_id == node.id,
                                                     Committee.active).limit(1))
