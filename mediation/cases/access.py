"""Who sees which case: the jurisdiction scope plus explicit assignments."""

from sqlalchemy import or_, select

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases.models import Assignment, AssignmentRole, Case
from mediation.cases.states import CaseState, Level
from mediation.core.permissions import can_view_path, scope_query
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.roles import Role

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
    if case.state is CaseState.CLOSED and permission not in AFTER_CLOSURE:
        return False  # an archived case no longer changes, but for its agreement's aftercare
    levels = ACTING_LEVELS.get(user.role)
    return levels is None or case.level in levels or permission == "cases.view"


def possible_handlers(case: Case) -> list[User]:
    """Active accounts that may handle cases and whose jurisdiction covers this one."""
    users = db.session.scalars(select(User).where(User.active).order_by(User.full_name)).all()
    return [u for u in users if u.can("cases.handle") and can_view(u, case)]
