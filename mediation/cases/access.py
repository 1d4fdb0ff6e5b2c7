"""Who sees which case: the jurisdiction scope plus explicit assignments."""

from flask import g, has_request_context
from sqlalchemy import event, false, or_, select, true
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


def case_scope(user):
    """SQL condition on ``Case``: in ``user``'s jurisdiction, or handled by or assigned to them.

    The jurisdiction is read first as the list of its area ids, so that the condition is a
    plain test on indexed columns of ``cases`` (``grid_id IN (…) OR handler_id = … OR id IN
    (…)``) that PostgreSQL answers from the indexes at any size of city.
    """
    if user is None or not user.is_authenticated:
        return false()
    if user.has_global_scope:
        return true()
    conditions = [Case.handler_id == user.id]
    if areas := jurisdiction_area_ids(user):
        conditions.append(in_ids(Case.grid_id, areas))
    if assigned := assigned_case_ids(user):
        conditions.append(in_ids(Case.id, assigned))
    return or_(*conditions)


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
def _assignments_changed(session, _context, _instances) -> None:
    """A new or removed assignment: the request's cached ids are read again."""
    if has_request_context() and any(isinstance(obj, Assignment)
                                     for obj in (*session.new, *session.deleted)):
        g.pop("assigned_cases", None)


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
