"""The main menu: its entries, and who has a use for each (rules as data).

An entry shows to someone who may open its page (``permission``) and whose role works with
it (``roles``; None: every role that may). The pages themselves stay open to everyone the
permission allows — a grid worker may still look up a committee from a case — but the menu
offers each person what their day needs, so that it fits a phone.
"""

from dataclasses import dataclass

from flask import request, url_for

from mediation.cases import quick_report
from mediation.core.i18n import lazy_gettext as _l
from mediation.users.roles import Role

_OFFICE = frozenset({Role.ADMIN, Role.COORDINATOR})


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: object
    permission: str | None = None
    roles: frozenset[Role] | None = None


MENU: tuple[Entry, ...] = (
    Entry("core.home", _l("Workbench")),
    Entry("cases.queue", _l("Cases"), "cases.view"),
    # A grid worker's report from the street, in one short form with photos.
    Entry("cases.quick_report", _l("Quick report"), "cases.create", quick_report.OFFERED_TO),
    Entry("cases.new", _l("Register a dispute"), "cases.create"),
    Entry("sessions.my_sessions", _l("My sessions"), "cases.view"),
    Entry("stats.dashboard", _l("Statistics"), "stats.view"),
    Entry("sessions.duty", _l("My duty hours"), "cases.opinion"),
    # The centres' rooms and calendars: where mediators book their sessions.
    Entry("areas.centre_list", _l("Centres"), "areas.view",
          frozenset({Role.ADMIN, Role.COORDINATOR, Role.MEDIATOR})),
    Entry("areas.index", _l("Areas"), "areas.view", _OFFICE),
    Entry("areas.committee_list", _l("Committees"), "areas.view", _OFFICE),
    Entry("areas.court_list", _l("Courts"), "areas.view", _OFFICE),
    Entry("users.user_list", _l("Accounts"), "users.view"),
    Entry("api_admin.index", _l("API tokens"), "users.manage"),
    Entry("webhooks.index", _l("Webhooks"), "users.manage"),
    Entry("settings.index", _l("Rules"), "rules.edit"),
    Entry("core.audit_log", _l("Audit log"), "audit.view"),
)


@dataclass(frozen=True)
class Item:
    url: str
    label: object
    current: bool


def menu_for(user) -> list[Item]:
    """The entries ``user`` sees, the one holding the page being shown marked current."""
    items = []
    for entry in MENU:
        if entry.permission is not None and not user.can(entry.permission):
            continue
        if entry.roles is not None and user.role not in entry.roles:
            continue
        url = url_for(entry.endpoint)
        items.append(Item(url, entry.label, _holds(url, request.path)))
    current = [item for item in items if item.current]
    # The longest match only (/cases/new is also under /cases/).
    keep = max(current, key=lambda item: len(item.url)) if current else None
    return [Item(i.url, i.label, i is keep) for i in items]


def _holds(url: str, path: str) -> bool:
    return path == url if url == "/" else path == url or path.startswith(url.rstrip("/") + "/")
