"""Who sees which case: the jurisdiction scope plus explicit assignments."""

from flask import g, has_request_context
from sqlalchemy import event, false, inspect, or_, select, true
from sqlalchemy.orm import Session, selectinload

from mediation.areas.models import AreaKind, AreaNode, Committee
from mediation.cases.models import Assignment, AssignmentRole, Case
from mediation.cases.states import CaseState, Level
from mediation.core.db import in_ids
from mediation.core.permissions import can_view_path
from mediation.extensions import db
from mediation.users.models import User, user_areas, user_committees
from mediation.users.roles import GLOBAL_SCOPE_ROLES, PERMISSIONS, Role

# Grid workers act on the cases still at grid level; above it they follow and read.
ACTING_LEVELS = {Role.GRID_WORKER: {Level.GRID}}
# What one may still do on a closed (archived) case.
READ_ONLY = frozenset({"cases.view", "cases.reveal"})
# What still happens on a closed case: the agreement's signing record, the supervision of
# its performance (PML 31) and judicial confirmation, which often come after closure.
AFTER_CLOSURE = READ_ONLY | {"agreements.track"}


def user_level(user) -> Level:
    """The highest level a person works at, from their jurisdiction (administrators: street)."""
    if user.has_global_scope:
        return Level.STREET
    if user.role is Role.GRID_WORKER:
        return Level.GRID
    kinds = {node.kind for node in user.jurisdiction_nodes}
    if kinds & {AreaKind.STREET, AreaKind.DISTRICT}:
        return Level.STREET
    return Level.COMMUNITY if AreaKind.COMMUNITY in kinds else Level.GRID


def may_respond(user, notice) -> bool:
    """A supervision notice is answered by its addressee, the handler or a co-handler."""
    case = notice.case
    return user.id in {notice.to_user_id, case.handler_id} or any(
        a.user_id == user.id and a.role is AssignmentRole.CO_HANDLER for a in case.assignments)


def may_decide(user, proposal) -> bool:
    """Someone at (or above) the receiving level decides; never the case's own handler."""
    return user.id != proposal.case.handler_id and \
        user_level(user).rank >= proposal.to_level.rank


def visible_cases(user, stmt=None):
    """``stmt`` (default: all cases) limited to what ``user`` may see."""
    stmt = stmt if stmt is not None else select(Case)
    return stmt.where(case_scope(user))


# Someone with a jurisdiction who handles or is assigned to more cases than this outside it
# is scoped by handler and assignments as well as by grid (see case_scope).
OUTSIDE_IDS = 1000


def case_scope(user):
    """SQL condition on ``Case``: in ``user``'s jurisdiction, or handled by or assigned to them.

    The jurisdiction is read first as the list of its area ids, and the cases one handles
    or is assigned to outside it as a (short, usually empty) list of ids, so that the
    condition is ``grid_id IN (…)`` alone or ``OR id IN (…)``: a plain test on the grid that
    the queues' indexes carry, so that PostgreSQL answers a street's queues and badges from
    them without reading the cases (migration b1a0d17a0020).
    """
    if user is None or not user.is_authenticated:
        return false()
    if user.has_global_scope:
        return true()
    areas = jurisdiction_area_ids(user)
    outside = _outside_case_ids(user, areas) if areas else None
    if outside is not None:
        return or_(in_ids(Case.grid_id, areas), in_ids(Case.id, outside)) if outside \
            else in_ids(Case.grid_id, areas)
    conditions = [Case.handler_id == user.id]
    if areas:
        conditions.append(in_ids(Case.grid_id, areas))
    if assigned := assigned_case_ids(user):
        conditions.append(in_ids(Case.id, assigned))
    return or_(*conditions)


def _outside_case_ids(user, areas: list[int]) -> list[int] | None:
    """The cases ``user`` handles or is assigned to outside the areas ``areas`` (read once
    per request), or None when there are more than ``OUTSIDE_IDS``."""
    cache = g.setdefault("outside_cases", {}) if has_request_context() else {}
    if user.id not in cache:
        ids = db.session.scalars(
            select(Case.id).where(handled_or_assigned(user), ~in_ids(Case.grid_id, areas))
            .limit(OUTSIDE_IDS + 1)).all()
        cache[user.id] = ids if len(ids) <= OUTSIDE_IDS else None
    return cache[user.id]


def handled_or_assigned(user):
    """SQL condition on ``Case``: ``user`` handles the case or is assigned to it."""
    if assigned := assigned_case_ids(user):
        return or_(Case.handler_id == user.id, in_ids(Case.id, assigned))
    return Case.handler_id == user.id


def assigned_case_ids(user) -> list[int]:
    """The ids of the cases ``user`` is assigned to (read once per request: a page's lists,
    badges and search each test the scope)."""
    cache = g.setdefault("assigned_cases", {}) if has_request_context() else {}
    if user.id not in cache:
        cache[user.id] = db.session.scalars(select(Assignment.case_id)
                                            .where(Assignment.user_id == user.id)).all()
    return cache[user.id]


@event.listens_for(Session, "before_flush")
def _scope_changed(session, _context, _instances) -> None:
    """A new or removed assignment, a new case or a case's handler or grid changed: the
    request reads its cached ids (assigned; handled outside one's areas) again."""
    if not has_request_context() or not ("assigned_cases" in g or "outside_cases" in g):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assignment) and obj not in session.dirty or \
                isinstance(obj, Case) and (obj in session.new or any(
                    inspect(obj).attrs[name].history.has_changes()
                    for name in ("handler", "handler_id", "grid", "grid_id"))):
            g.pop("assigned_cases", None)
            g.pop("outside_cases", None)
            return


def jurisdiction_area_ids(user) -> list[int]:
    """The ids of the areas in ``user``'s jurisdiction (read once per request)."""
    paths = user.jurisdiction_paths
    if not paths:
        return []
    cache = g.setdefault("jurisdiction_areas", {}) if has_request_context() else {}
    key = (user.id, tuple(paths))
    if key not in cache:
        cache[key] = db.session.scalars(select(AreaNode.id).where(or_(
            *(AreaNode.path.startswith(path, autoescape=True) for path in paths)))).all()
    return cache[key]


def is_assigned(user, case: Case) -> bool:
    return case.handler_id == user.id or any(a.user_id == user.id for a in case.assignments)


def can_view(user, case: Case) -> bool:
    if not user.is_authenticated or not user.can("cases.view"):
        return False
    return is_assigned(user, case) or can_view_path(user, case.grid.path)


def can(user, permission: str, case: Case) -> bool:
    """May ``user`` do ``permission`` on this case (seeing it, and its level allows)?"""
    if not can_view(user, case) or not user.can(permission):
        return False
    if case.state is CaseState.CLOSED and permission not in AFTER_CLOSURE:
        return False  # an archived case no longer changes, but for its agreement's aftercare
    levels = ACTING_LEVELS.get(user.role)
    return levels is None or case.level in levels or permission == "cases.view"


def possible_handlers(case: Case) -> list[User]:
    """Active accounts that may handle cases and whose jurisdiction covers this one.

    The candidates are read by the case's own area and its ancestors (directly or through a
    committee), the global roles and the case's assignments — never every account of a city
    — and each is then checked as ``can_view`` checks a person.
    """
    covering = [*case.grid.ancestor_ids, case.grid_id]
    roles = [role for role in Role if "cases.handle" in PERMISSIONS.get(role, ())]
    candidates = db.session.scalars(
        select(User).where(User.active, User.role.in_(roles), or_(
            User.role.in_(GLOBAL_SCOPE_ROLES),
            User.id.in_(select(user_areas.c.user_id).where(user_areas.c.area_id.in_(covering))),
            User.id.in_(select(user_committees.c.user_id)
                        .join(Committee, Committee.id == user_committees.c.committee_id)
                        .where(Committee.area_id.in_(covering))),
            User.id == case.handler_id,
            User.id.in_(select(Assignment.user_id).where(Assignment.case_id == case.id))))
        .options(selectinload(User.areas),
                 selectinload(User.committees).joinedload(Committee.area))
        .order_by(User.full_name)).all()
    return [u for u in candidates if u.can("cases.handle") and can_view(u, case)]
