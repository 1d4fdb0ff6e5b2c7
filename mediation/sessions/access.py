"""Who sees which calendar: centres serving one's areas, colleagues within one's areas."""

from sqlalchemy import select

from mediation.areas.models import Centre
from mediation.cases.models import Assignment
from mediation.core.permissions import can_view_path
from mediation.extensions import db
from mediation.users.models import User


def can_see_centre(user, centre: Centre) -> bool:
    """A centre's calendar: for those whose areas it serves or contains, or whose assigned
    cases it serves (the bookings of unseen cases still show only as 'booked')."""
    if user.has_global_scope:
        return True
    centre_path = centre.area.path
    if can_view_path(user, centre_path) or any(
            node.path.startswith(centre_path) for node in user.jurisdiction_nodes):
        return True
    assigned = db.session.scalars(select(Assignment).where(Assignment.user_id == user.id))
    return any(a.case.grid.path.startswith(centre_path) for a in assigned)


def can_see_calendar(viewer, person: User) -> bool:
    """One's own, or — for those who assign cases — a colleague whose areas are all
    within one's jurisdiction."""
    if viewer.id == person.id:
        return True
    if not viewer.can("cases.assign"):
        return False
    paths = [node.path for node in person.jurisdiction_nodes]
    return viewer.has_global_scope or bool(paths) and all(
        can_view_path(viewer, path) for path in paths)
