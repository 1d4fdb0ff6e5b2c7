"""Lists of cases: the work queues, filters and search — all through the scope."""

from dataclasses import dataclass

from sqlalchemy import and_, nulls_last, or_, select, text, union
from sqlalchemy.orm import joinedload

from mediation.areas.models import AreaKind, AreaNode, Committee
from mediation.cases import search
from mediation.cases.access import handled_or_assigned, jurisdiction_area_ids, visible_cases
from mediation.cases.models import Case, Party
from mediation.cases.rules import today
from mediation.cases.states import OPEN_STATES, CaseState, Level, RiskLevel
from mediation.core.db import in_ids
from mediation.core.pages import COUNT_CAP, Count, capped_count
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


# A jurisdiction's search reads its matches' ids first when there are at most this many.
SEARCH_IDS = 5000


def search_condition(q: str, user=None):
    """Number, title, narrative or address of the case, or a party's name, phone or address,
    as a substring (漏水 finds 楼上漏水…): indexed on PostgreSQL (mediation/cases/search.py).

    For someone with a jurisdiction the matches in its areas (and in the cases they handle
    or are assigned to) are read first, from the search table's own indexes, and the list
    then takes them by id: a street's search never walks the street's cases one by one.
    """
    words = {search.normalise(q)}
    if phone := normalise_phone(q):
        words.add(phone)
    matches = search.matching_case_ids(words)
    if user is not None and not user.has_global_scope:
        # Two parts, each answered by indexes (the bigrams' and the grid's together; the
        # handler's): one OR across them would read every match of the city.
        near = [matches.where(search.CaseSearch.case_id.in_(
            select(Case.id).where(handled_or_assigned(user))))]
        if areas := jurisdiction_area_ids(user):
            near.append(matches.where(in_ids(search.CaseSearch.grid_id, areas)))
        if db.engine.dialect.name == "postgresql":
            # A common pair of characters has a long posting list: room to keep its bitmap
            # exact (for this request's transaction only).
            db.session.execute(text("SET LOCAL work_mem = '32MB'"))
        ids = db.session.scalars(union(*near).limit(SEARCH_IDS + 1)).all()
        if len(ids) <= SEARCH_IDS:
            return in_ids(Case.id, ids)
    return Case.id.in_(matches)


def case_list(user, filters: Filters):
    """The statement behind the queue page, scoped to ``user``, soonest deadline first."""
    # One's own cases are visible by definition: "mine" needs no jurisdiction test.
    stmt = select(Case) if filters.queue == "mine" else visible_cases(user)
    match filters.queue:
        case "mine":
            stmt = stmt.where(handled_or_assigned(user), Case.state != CaseState.CLOSED)
        case "team":
            stmt = stmt.where(Case.state.in_(OPEN_STATES))
        case "awaiting":
            stmt = stmt.where(or_(Case.state == CaseState.REPORTED,
                                  and_(Case.state.in_(OPEN_STATES), Case.handler_id.is_(None))))
        case "proposals":
            # Proposals are withdrawn with the case's outcome: only open cases have them.
            # (The mark on the case: mediation/cases/waiting.py.)
            stmt = stmt.where(Case.state.in_(OPEN_STATES), Case.proposal_waiting)
        case "overdue":
            stmt = stmt.where(overdue())
    if filters.q:
        stmt = stmt.where(search_condition(filters.q, user))
    if filters.state in {s.value for s in CaseState}:
        stmt = stmt.where(Case.state == CaseState(filters.state))
    if filters.level in {lv.value for lv in Level}:
        stmt = stmt.where(Case.level == Level(filters.level))
    if filters.category.isdigit():
        stmt = stmt.where(Case.category_id == int(filters.category))
    if filters.grid:
        stmt = stmt.where(Case.grid_id.in_(select(AreaNode.id)
                                           .where(AreaNode.code == filters.grid)))
    if filters.risk in {r.value for r in RiskLevel}:
        stmt = stmt.where(Case.risk_level == RiskLevel(filters.risk))
    if filters.overdue:
        stmt = stmt.where(overdue())
    return stmt.order_by(nulls_last(Case.level_deadline.asc()), Case.reported_at.desc(),
                         Case.id.desc())


# What a row of a list of cases shows besides the case (templates/cases/_macros.html,
# case_cells): read with the page's rows, in the same statement (core.pages.Page reads the
# rows by key, so the joins are to 25 cases).
LIST_LOADS = (joinedload(Case.grid), joinedload(Case.category), joinedload(Case.handler))


def queue_counts(user) -> dict[str, Count]:
    """The badges of the work queues, each read up to the cap ("1,000+")."""
    return {queue: capped_count(case_list(user, Filters(queue=queue)))
            for queue in ("mine", "awaiting", "proposals", "overdue")}


def other_cases_of(user, party: Party, shown: int = 10) -> tuple[list[Case], Count]:
    """Other cases of the same person (same ID number) that ``user`` may see: the latest
    ``shown`` of them and how many there are."""
    if not party.id_number_index:
        return [], Count(0, True)
    # The person's cases are read first from the index on ID numbers (the newest few
    # thousand, for one in a great many cases), so that the list never walks the city's
    # cases looking for them.
    same_person = db.session.scalars(
        select(Party.case_id).where(Party.id_number_index == party.id_number_index,
                                    Party.case_id != party.case_id)
        .order_by(Party.case_id.desc()).limit(5 * COUNT_CAP)).all()
    if not same_person:
        return [], Count(0, True)
    visible = db.session.scalars(
        visible_cases(user, select(Case.id)).where(in_ids(Case.id, same_person))
        .order_by(Case.reported_at.desc(), Case.id.desc()).limit(COUNT_CAP + 1)).all()
    latest = {case.id: case for case in db.session.scalars(
        select(Case).where(in_ids(Case.id, visible[:shown])))}
    return ([latest[case_id] for case_id in visible[:shown]],
            Count(min(len(visible), COUNT_CAP), len(visible) <= COUNT_CAP))


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
