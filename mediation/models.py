"""Every model module, so that the metadata (migrations, tests) sees all tables."""

from mediation.areas.models import AreaNode, Centre, Committee, Room
from mediation.core.audit import AuditEntry
from mediation.users.models import User, UserSession, user_areas, user_committees

__all__ = ["AreaNode", "AuditEntry", "Centre", "Committee", "Room", "User", "UserSession",
           "user_areas", "user_committees"]
