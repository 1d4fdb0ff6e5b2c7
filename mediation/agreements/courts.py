"""Which courts may confirm an agreement (CPL 205; CPL-Interp 352)."""

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.areas.models import AreaNode, Court
from mediation.cases.states import Source
from mediation.extensions import db


@dataclass
class CompetentCourt:
    court: Court | None  # None: the court is outside the city's records (a party lives elsewhere)
    name: str
    grounds: list[str] = field(default_factory=list)


def court_for(node: AreaNode | None, courts: list[Court]) -> Court | None:
    """The court whose area holds ``node``, the nearest one if several do."""
    if node is None:
        return None
    holding = [c for c in courts if node.path.startswith(c.area.path)]
    return max(holding, key=lambda c: len(c.area.path), default=None)


def competent_courts(agreement) -> list[CompetentCourt]:
    """The inviting court if the case came from one, else the basic courts of the parties'
    domiciles, of the subject matter and of the committee, each with why."""
    if agreement.inviting_court is not None:
        return [CompetentCourt(agreement.inviting_court, agreement.inviting_court.name,
                               [_("It invited the mediation (CPL art. 205).")])]
    courts = list(db.session.scalars(select(Court).where(Court.active)))
    found: dict[str, CompetentCourt] = {}

    def add(court: Court | None, name: str, ground: str) -> None:
        entry = found.setdefault(name, CompetentCourt(court, name))
        if ground not in entry.grounds:
            entry.grounds.append(ground)

    case = agreement.case
    for entry in agreement.parties:
        party = entry.party
        court = court_for(party.community, courts)
        if court is not None:
            add(court, court.name, _("%(name)s is domiciled in its district.", name=party.name))
        else:
            add(None, _("The basic court where %(name)s is domiciled (%(address)s)",
                        name=party.name, address=party.address or _("address not recorded")),
                _("%(name)s is domiciled there.", name=party.name))
    court = court_for(case.grid, courts)
    if court is not None:
        add(court, court.name, _("The subject matter (the dispute's place) is in its district."))
    court = court_for(agreement.committee.area, courts)
    if court is not None:
        add(court, court.name, _("The mediation committee is in its district."))
    # The courts on record first: the application is addressed to the first one by default,
    # and a "court where X is domiciled" placeholder is no court to write to.
    return sorted(found.values(), key=lambda entry: entry.court is None)


def needs_inviting_court(case) -> bool:
    return case.source is Source.COURT_REFERRAL
