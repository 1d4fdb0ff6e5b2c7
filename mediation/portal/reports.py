"""A resident reports a dispute (申请调解): the same intake staff use, with no account."""

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import attachments
from mediation.cases.models import Case, Category, Party, PartyKind, PartyRole
from mediation.cases.operations import CaseInput, PartyInput, audit_case, create_case
from mediation.cases.quick_report import title_from
from mediation.cases.states import Source
from mediation.core import audit, photos
from mediation.core.errors import OperationError
from mediation.core.validators import normalise_phone
from mediation.extensions import db
from mediation.portal import codes
from mediation.portal.operations import RESIDENT

# The consent text's version, kept with each report: the text may change, and what a
# resident agreed to must still be known (PIPL 14, 17).
CONSENT_VERSION = "2026-12"
GUARDIAN = "（监护人）"  # after the guardian's name, in the records kept in Chinese


@dataclass
class ReportInput:
    name: str
    phone: str
    grid: AreaNode
    narrative: str
    category: Category | None = None  # None: "not sure", filed as "other"
    address: str | None = None
    other_name: str | None = None
    other_phone: str | None = None
    in_danger: bool = False
    minor: bool = False
    guardian_name: str | None = None
    guardian_phone: str | None = None
    consent: bool = False
    photos: list[bytes] = field(default_factory=list)


@dataclass
class Receipt:
    case: Case
    applicant: Party
    access_code: str  # shown once, never stored


def other_category() -> Category | None:
    return db.session.scalar(select(Category).where(Category.code == "other",
                                                    Category.active))


def _phone(value: str | None, field_name: str, *, required: bool) -> str | None:
    if not (value or "").strip():
        if required:
            raise OperationError(_("Please give a phone number."), field=field_name)
        return None
    phone = normalise_phone(value)
    if phone is None:
        raise OperationError(_("Not a valid phone number: a mobile has 11 digits starting "
                               "with 13–19; a landline has its area code, e.g. "
                               "0546-8888888."), field=field_name)
    return phone


@audit.acting_as(RESIDENT)
def report_dispute(data: ReportInput) -> Receipt:
    """Register a resident's report as a case reported in its grid, the resident as its
    applicant with an access code; the photos go in only if every one is a photo.

    All of it is logged as the resident's doing, even from a browser where staff are logged
    in (a mediator helping at the centre's computer): the intake's own steps included.
    """
    if not data.consent:
        raise OperationError(_("Please read the notice on personal information and tick the "
                               "box to agree: without it we cannot take the report."),
                             field="consent")
    name = (data.name or "").strip()
    if not name:
        raise OperationError(_("Please give your name."), field="name")
    narrative = (data.narrative or "").strip()
    if not narrative:
        raise OperationError(_("Please tell us what happened."), field="narrative")
    phone = _phone(data.phone, "phone", required=True)
    guardian_name = guardian_phone = None
    if data.minor:
        guardian_name = (data.guardian_name or "").strip()
        if not guardian_name:
            raise OperationError(_("A minor reports with a guardian: give the guardian's "
                                   "name."), field="guardian_name")
        guardian_phone = _phone(data.guardian_phone, "guardian_phone", required=True)
    other_name = (data.other_name or "").strip() or None
    other_phone = _phone(data.other_phone, "other_phone", required=False)
    if other_phone and not other_name:
        raise OperationError(_("Give the other side's name, or how you call them (e.g. "
                               "楼上住户)."), field="other_name")
    if data.grid is None or data.grid.kind is not AreaKind.GRID:
        raise OperationError(_("Choose the grid."), field="grid")
    category = data.category or other_category()
    if category is None:
        raise OperationError(_("Choose the kind of dispute."), field="category")
    if len(data.photos) > photos.MAX_PHOTOS:
        raise OperationError(_("Send at most %(n)d photos.", n=photos.MAX_PHOTOS),
                             field="photos")
    cleaned = photos.clean_photos(data.photos)  # all, before saving

    # The guardian acts for the minor as the party's agent (法定代理人), marked as such.
    parties = [PartyInput(role=PartyRole.APPLICANT, kind=PartyKind.PERSON, name=name,
                          phone=phone, agent_phone=guardian_phone,
                          agent_name=f"{guardian_name}{GUARDIAN}" if guardian_name else None)]
    if other_name:
        parties.append(PartyInput(role=PartyRole.RESPONDENT, kind=PartyKind.PERSON,
                                  name=other_name, phone=other_phone))
    case = create_case(None, CaseInput(
        title=title_from(narrative), source=Source.RESIDENT_REPORT, grid=data.grid,
        category=category, narrative=narrative, address=(data.address or "").strip() or None,
        risks={"violence_threat": data.in_danger, "vulnerable_party": data.minor},
        parties=parties))
    applicant = case.parties[0]
    audit_case("resident_consent", case, None, after={
        "party": applicant.id, "consent": CONSENT_VERSION, "guardian": bool(guardian_name)})
    for number, (content, extension) in enumerate(cleaned, start=1):
        attachments.add_attachment(None, case, f"photo-{number}.{extension}", content,
                                   _("Photo sent with the resident's report"))
    return Receipt(case=case, applicant=applicant, access_code=codes.issue(None, applicant))
