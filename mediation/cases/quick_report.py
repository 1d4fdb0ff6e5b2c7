"""快速上报: a dispute reported from the street in one short form — what happened, where, who,
and the photos taken there — for grid workers on patrol (the full intake stays for the
centre). The photos are checked and stripped of their metadata like residents' photos, all
before anything is saved; the case, its parties and its photos are one transaction."""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases.attachments import add_attachment
from mediation.cases.models import Case, Category, PartyKind, PartyRole
from mediation.cases.operations import CaseInput, PartyInput, create_case
from mediation.cases.states import Source
from mediation.core import photos
from mediation.core.errors import OperationError
from mediation.users.roles import Role

# A short title is taken from the first line of what happened.
TITLE_LENGTH = 30
# Photos one report carries: each its own camera button on a phone.
MAX_PHOTOS = 3
# How a report reaches the system, by who files it (rules as data): a grid worker finds it
# on patrol; anyone else is usually told at the centre.
SOURCE_BY_ROLE = {Role.GRID_WORKER: Source.GRID_PATROL}
DEFAULT_SOURCE = Source.WALK_IN
# Whose menu and workbench offer the quick report first (the full intake stays for all).
OFFERED_TO = frozenset({Role.GRID_WORKER})


def default_source(user) -> Source:
    return SOURCE_BY_ROLE.get(user.role, DEFAULT_SOURCE)


def title_from(narrative: str) -> str:
    """A short title from the first line of what happened."""
    first = next((line.strip() for line in narrative.splitlines() if line.strip()), "")
    return first if len(first) <= TITLE_LENGTH else first[:TITLE_LENGTH - 1] + "…"


@dataclass
class QuickReport:
    narrative: str
    category: Category | None
    grid: AreaNode | None
    applicant_name: str
    applicant_phone: str | None = None
    address: str | None = None
    other_name: str | None = None
    other_phone: str | None = None
    in_danger: bool = False
    photos: list[bytes] = field(default_factory=list)


def quick_report(by, report: QuickReport) -> Case:
    """Register the reported dispute with its photos; OperationError (with the field) if
    anything is missing or a photo is not one."""
    narrative = (report.narrative or "").strip()
    if not narrative:
        raise OperationError(_("Write what happened."), field="narrative")
    if report.category is None:
        raise OperationError(_("Choose the kind of dispute."), field="category")
    if report.grid is None or report.grid.kind is not AreaKind.GRID:
        raise OperationError(_("Choose the grid."), field="grid")
    name = (report.applicant_name or "").strip()
    if not name:
        raise OperationError(_("Give the name of the person who raised it."),
                             field="applicant_name")
    if len(report.photos) > MAX_PHOTOS:
        raise OperationError(_("Send at most %(n)d photos.", n=MAX_PHOTOS), field="photos")
    cleaned = photos.clean_photos(report.photos)  # every one checked before anything is kept

    parties = [PartyInput(role=PartyRole.APPLICANT, kind=PartyKind.PERSON, name=name,
                          phone=report.applicant_phone or None)]
    if (report.other_name or "").strip():
        parties.append(PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.PERSON,
                                  name=report.other_name.strip(),
                                  phone=report.other_phone or None))
    case = create_case(by, CaseInput(
        title=title_from(narrative), source=default_source(by), grid=report.grid,
        category=report.category, narrative=narrative,
        address=(report.address or "").strip() or None,
        risks={"violence_threat": report.in_danger}, parties=parties))
    for number, (content, extension) in enumerate(cleaned, start=1):
        add_attachment(by, case, f"photo-{number}.{extension}", content,
                       _("Photo taken at the report"))
    return case
