"""Roles and what each may do: rules as data, read by ``User.can``."""

from mediation.areas.models import AreaKind
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l


class Role(TitledEnum):
    GRID_WORKER = "grid_worker"
    MEDIATOR = "mediator"
    COORDINATOR = "coordinator"
    LEGAL_AID = "legal_aid"
    ADMIN = "admin"

    @classmethod
    def __titles__(cls):
        return {
            cls.GRID_WORKER: _l("Grid worker"),
            cls.MEDIATOR: _l("Mediator"),
            cls.COORDINATOR: _l("Coordinator"),
            cls.LEGAL_AID: _l("Legal-aid volunteer"),
            cls.ADMIN: _l("Administrator"),
        }


# Permissions are named "<domain>.<verb>"; later features add theirs here.
_CASE_WORK = {"cases.view", "cases.create", "cases.handle", "cases.request_escalation"}
# Issuing agreements; tracking them (signatures, performance, judicial confirmation).
_AGREEMENTS = {"agreements.issue", "agreements.track"}
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: frozenset({"areas.view", *_CASE_WORK}),
    Role.MEDIATOR: frozenset({"areas.view", *_CASE_WORK, "cases.decide", "cases.assign",
                              "cases.request_help", "cases.reveal", "stats.view",
                              *_AGREEMENTS}),
    Role.COORDINATOR: frozenset({"areas.view", *_CASE_WORK, "cases.decide", "cases.assign",
                                 "cases.request_help", "cases.supervise", "cases.reveal",
                                 "stats.view", *_AGREEMENTS}),
    Role.LEGAL_AID: frozenset({"cases.view", "cases.opinion"}),
    Role.ADMIN: frozenset({"areas.view", "areas.edit", "users.view", "users.manage",
                           "audit.view", "rules.edit", *_CASE_WORK, "cases.decide",
                           "cases.assign", "cases.request_help", "cases.supervise",
                           "cases.reveal", "stats.view", *_AGREEMENTS}),
}

# What each role is attached to (jurisdiction): area kinds it may hold, whether it may
# hold committees, and whether it needs at least one attachment.
SCOPE_RULES: dict[Role, dict] = {
    Role.GRID_WORKER: {"area_kinds": {AreaKind.GRID}, "committees": False, "required": True},
    Role.MEDIATOR: {"area_kinds": {AreaKind.COMMUNITY, AreaKind.STREET}, "committees": True,
                    "required": True},
    Role.COORDINATOR: {"area_kinds": {AreaKind.STREET, AreaKind.DISTRICT}, "committees": False,
                       "required": True},
    # Volunteers see only the cases they are assigned to, never an area.
    Role.LEGAL_AID: {"area_kinds": set(), "committees": False, "required": False},
    Role.ADMIN: {"area_kinds": set(), "committees": False, "required": False},
}

GLOBAL_SCOPE_ROLES = frozenset({Role.ADMIN})
