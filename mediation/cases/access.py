"""Who sees which case: the jurisdiction scope plus explicit assignments."""

from sqlalchemy import or_, select

from mediation.areas.models import AreaNode
from mediation.cases.models import Assignment, Case
from mediation.cases.states import Level
from mediation.core.permissions import can_view_path, scope_query
from mediation.users.roles import Role

# Grid workers act on the cases still at grid level; above it they follow and read.
ACTING_LEVELS = {Role.GRID_WORKER: {Level.GRID}}


def visible_cases(user, stmt=None):
    """``stmt`` (default: all cases) limited to what ``user`` may see."""
    stmt = stmt if stmt is not None else select(Case)
    assigned = or_(Case.handler_id == user.id,
                   Case.id.in_(select(Assignment.case_id).where(Assignment.user_id == user.id)))
    return scope_query(user, stmt.join(AreaNode, Case.grid_id == AreaNode.id), AreaNode.path,
                       assigned=assigned)


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
    levels = ACTING_LEVELS.get(user.role)
    return levels is None or case.level in levels or permission == "cases.view"
