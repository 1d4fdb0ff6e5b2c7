"""The API's request and response shapes (marshmallow), from which the OpenAPI document is
generated.  Personal data leaves masked: ID numbers and phones are never sent in full."""

from datetime import UTC, date, datetime, time

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import validate

from mediation.agreements.models import AgreementStatus, ConfirmationResult, Liability
from mediation.areas.models import AreaKind
from mediation.cases.models import (
    EventKind,
    Gender,
    HomeRegion,
    PartyKind,
    PartyRole,
    ProposalRule,
    ProposalStatus,
)
from mediation.cases.operations import FAILURE_ROUTES
from mediation.cases.states import (
    RISK_FACTORS,
    STAFF_SOURCES,
    CaseState,
    Level,
    RiskLevel,
    Source,
)
from mediation.core.identity import DocumentType, mask_phone
from mediation.core.validators import WEB_LINK
from mediation.sessions.models import (
    Attendance,
    ParticipantRole,
    PlaceKind,
    Reply,
    SessionStatus,
)


def _values(enum_cls) -> list[str]:
    return [member.value for member in enum_cls]


def one_of(enum_cls, metadata=None, **kwargs):
    """One of an enum's values; a nullable one lists null among them too, as OpenAPI 3.0
    asks (``nullable`` does not widen an ``enum``)."""
    values = _values(enum_cls)
    documented = values + [None] if kwargs.get("allow_none") else values
    return ma.fields.String(validate=validate.OneOf(values),
                            metadata={"enum": documented, **(metadata or {})}, **kwargs)


def text(max_length: int, **kwargs):
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


def required_text(max_length: int, **kwargs):
    return ma.fields.String(required=True, validate=validate.Length(min=1, max=max_length),
                            **kwargs)


# The dates and times the API reads: within reason, so that no step of a day and no change
# of time zone ever leaves the calendar Python knows (years 1 to 9999), which would be a 500.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)
DATE_RANGE = (f"Must be greater than or equal to {FIRST_DAY} and less than or equal to "
              f"{LAST_DAY}.")


def day(**kwargs):
    return ma.fields.Date(validate=validate.Range(FIRST_DAY, LAST_DAY, error=DATE_RANGE),
                          **kwargs)


def moment(**kwargs):
    """A date and time with its time zone."""
    return ma.fields.AwareDateTime(validate=validate.Range(
        datetime.combine(FIRST_DAY, time.min, UTC), datetime.combine(LAST_DAY, time.max, UTC),
        error=DATE_RANGE), **kwargs)


MAX_ID = 2**31 - 1  # the databases' INTEGER


def web_link(**kwargs):
    """A link people are sent to: http or https only."""
    return ma.fields.String(validate=[validate.Length(max=300), validate.Regexp(
        WEB_LINK, error="Not a web link.")], allow_none=True, **kwargs)


def row_id(**kwargs):
    """The id of a row (room, party) in a request: out of range is invalid, not an overflow."""
    return ma.fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def counter(**kwargs):
    """A version number the client saw."""
    return ma.fields.Integer(validate=validate.Range(min=0, max=MAX_ID), **kwargs)


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class Problem(ma.Schema):
    """RFC 9457 problem details, with the invalid fields under ``errors``."""

    type = ma.fields.String()
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Dict())
    slots = ma.fields.List(ma.fields.DateTime(),
                           metadata={"description": "Free alternatives, for a clash."})


class PageQuery(Strict):
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_of(item_schema, name: str):
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "total": ma.fields.Integer(metadata={
            "description": "How many there are, counted up to 1,000: see `total_exact`."}),
        "total_exact": ma.fields.Boolean(metadata={
            "description": "False when there are more than `total` (1,000): the count stops "
                           "there instead of reading every row."}),
        "page": ma.fields.Integer(), "per_page": ma.fields.Integer()})


# ---- areas ------------------------------------------------------------------------------

class Area(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    kind = one_of(AreaKind)
    parent_id = ma.fields.Integer(allow_none=True)


AreaPage = page_of(Area, "AreaPage")


class Court(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    area_id = ma.fields.Integer(metadata={"description": "The area it serves (a district)."})
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


CourtPage = page_of(Court, "CourtPage")


# ---- cases ------------------------------------------------------------------------------

class PartyIn(Strict):
    role = one_of(PartyRole, required=True)
    kind = one_of(PartyKind, load_default=PartyKind.PERSON.value)
    name = required_text(120)
    gender = one_of(Gender, allow_none=True)
    ethnicity = text(20, allow_none=True, metadata={
        "description": "民族, for Chinese citizens only: refused beside a foreign nationality."})
    nationality = text(40, allow_none=True, metadata={
        "description": "国籍 of a foreign national in Chinese, e.g. 美国 (or 无国籍); empty for a "
                       "Chinese citizen. Required with a passport or a foreign permanent "
                       "resident ID card."})
    birth_date = day(allow_none=True)
    occupation = text(60, allow_none=True)
    id_type = one_of(DocumentType, allow_none=True, metadata={
        "description": "Default: resident_id when an id_number is given."})
    id_number = text(40, allow_none=True)
    id_issuing_country = text(40, allow_none=True, metadata={
        "description": "The country that issued a passport; default: the nationality. Kept "
                       "for passports only."})
    phone = text(20, allow_none=True)
    address = text(200, allow_none=True)
    uscc = text(18, allow_none=True)
    legal_representative = text(60, allow_none=True)
    legal_representative_title = text(40, allow_none=True)
    agent_name = text(60, allow_none=True)
    agent_phone = text(20, allow_none=True)
    community = text(32, allow_none=True, metadata={
        "description": "Code of the community (社区) where the party lives: its domicile, "
                       "which decides the competent court for judicial confirmation."})


class Party(ma.Schema):
    id = ma.fields.Integer()
    role = ma.fields.Function(lambda p: p.role.value)
    kind = ma.fields.Function(lambda p: p.kind.value)
    name = ma.fields.String()
    gender = ma.fields.Function(lambda p: p.gender.value if p.gender else None)
    ethnicity = ma.fields.String(allow_none=True)
    nationality = ma.fields.String(allow_none=True)
    # With an identity number on record the birth date is eight of its digits: beside the
    # masked number it would give the number away, so only the year leaves.
    birth_date = ma.fields.Function(
        lambda p: None if p.id_number_encrypted or not p.birth_date
        else p.birth_date.isoformat(), allow_none=True, metadata={
            "type": "string", "format": "date",
            "description": "Null when an identity number is on record (see birth_year)."})
    birth_year = ma.fields.Function(lambda p: p.birth_date.year if p.birth_date else None,
                                    allow_none=True, metadata={"type": "integer"})
    occupation = ma.fields.String(allow_none=True)
    id_type = ma.fields.String(allow_none=True)
    id_number_masked = ma.fields.String(allow_none=True)
    id_issuing_country = ma.fields.String(allow_none=True)
    home_region = ma.fields.Function(
        lambda p: p.home_region.value if p.home_region else None, allow_none=True, metadata={
            "type": "string", "description": "A Hong Kong, Macao or Taiwan resident's, read "
            "off their document: " + ", ".join(r.value for r in HomeRegion) + "."})
    phone_masked = ma.fields.Function(lambda p: mask_phone(p.phone) if p.phone else None)
    address = ma.fields.String(allow_none=True)
    community = ma.fields.Function(lambda p: p.community.code if p.community else None)
    agent_name = ma.fields.String(allow_none=True)
    refuses_mediation = ma.fields.Boolean()


class PartyList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Party))
    total = ma.fields.Integer()


def _value_or_none(name: str, enum_cls):
    return ma.fields.Function(
        lambda e: getattr(e, name).value if getattr(e, name) else None, allow_none=True,
        metadata={"enum": _values(enum_cls)})


class Event(ma.Schema):
    """One entry of a case's timeline, as the case page shows it (its extra data stays
    behind: ratings and file details are read elsewhere)."""

    id = ma.fields.Integer()
    at = ma.fields.DateTime()
    kind = ma.fields.Function(lambda e: e.kind.value, metadata={"enum": _values(EventKind)})
    actor = ma.fields.Function(lambda e: e.actor.full_name if e.actor else None,
                               allow_none=True, metadata={
                                   "description": "The staff member; null for the system "
                                                  "or a party."})
    from_state = _value_or_none("from_state", CaseState)
    to_state = _value_or_none("to_state", CaseState)
    from_level = _value_or_none("from_level", Level)
    to_level = _value_or_none("to_level", Level)
    reason = ma.fields.String(allow_none=True)


class EventList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Event))
    total = ma.fields.Integer()


class CaseIn(Strict):
    title = required_text(120)
    source = one_of(Source, required=True, metadata={
        "enum": [source.value for source in STAFF_SOURCES],
        "description": "How the dispute reached you. resident_report is set by the "
                       "residents' portal only: a case registered here with it is refused "
                       "(422)."})
    category = required_text(32, metadata={"description": "A category code, e.g. water_leak."})
    hotline_ticket = text(40, allow_none=True, metadata={
        "description": "source hotline only: the hotline's own ticket number (letters, "
                       "digits and -), repeated in every webhook delivery about the case."})
    grid = text(32, allow_none=True,
                metadata={"description": "The grid's code; omitted: picked from the address."})
    narrative = required_text(10000)
    address = text(200, allow_none=True)
    amount = text(30, allow_none=True, metadata={"description": "Amount in dispute, in yuan."})
    risks = ma.fields.List(ma.fields.String(validate=validate.OneOf(list(RISK_FACTORS))),
                           load_default=list)
    parties = ma.fields.List(ma.fields.Nested(PartyIn), load_default=list,
                             validate=validate.Length(max=50))


class Case(ma.Schema):
    number = ma.fields.String()
    title = ma.fields.String()
    state = ma.fields.Function(lambda c: c.state.value, metadata={"enum": _values(CaseState)})
    level = ma.fields.Function(lambda c: c.level.value, metadata={"enum": _values(Level)})
    source = ma.fields.Function(lambda c: c.source.value)
    hotline_ticket = ma.fields.String(allow_none=True)
    category = ma.fields.Function(lambda c: c.category.code)
    grid = ma.fields.Function(lambda c: c.grid.code)
    risk_level = ma.fields.Function(lambda c: c.risk_level.value)
    narrative = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    amount = ma.fields.Function(lambda c: c.amount_yuan.replace(",", "") if c.amount_fen
                                is not None else None)
    handler = ma.fields.Function(lambda c: c.handler.username if c.handler else None)
    reported_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    level_deadline = ma.fields.Date(allow_none=True)
    overall_deadline = ma.fields.Date(allow_none=True)
    version = ma.fields.Integer()
    parties = ma.fields.List(ma.fields.Nested(Party))


class CasePage(page_of(Case, "CasePageFields")):
    next_cursor = ma.fields.String(allow_none=True, metadata={
        "description": "Walking by `cursor` only: the `cursor` of the next page, null after "
                       "the last. Such a page has no `total`, `total_exact` or `page`."})


class CaseQuery(PageQuery):
    q = text(100, metadata={
        "description": "Search, as on the queue page: a fragment of the case's number, title, "
                       "narrative or address, or of a party's name, phone or address (漏水, "
                       "王芳, 13800)."})
    state = one_of(CaseState)
    level = one_of(Level)
    category = text(32)
    grid = text(32)
    risk = one_of(RiskLevel)
    overdue = ma.fields.Boolean()
    updated_since = moment()
    cursor = text(200, metadata={
        "description": "Walk every case (of these filters) by id instead of by page, for "
                       "clients that read them all: `*` for the first page, then each reply's "
                       "`next_cursor` until it is null. Not with `page`; an unknown cursor is "
                       "a 400."})

    @ma.validates_schema(pass_original=True)
    def cursor_or_page(self, data, original, **kwargs):
        if "cursor" in data and "page" in original:
            raise ma.ValidationError(_("Give cursor or page, not both."), "page")


class ActionIn(Strict):
    """What a workflow action takes; each action uses the fields it needs."""

    reason = text(5000, allow_none=True, metadata={"description": "Why (decline, fail, "
                                                   "withdraw, refer_out, escalate)."})
    note = text(5000, allow_none=True)
    handler = text(64, allow_none=True, metadata={"description": "accept: the handler's "
                                                  "username (default: the caller)."})
    to_level = one_of(Level, allow_none=True, metadata={"description": "escalate."})
    referred_to = text(120, allow_none=True, metadata={"description": "decline, refer_out."})
    partly = ma.fields.Boolean(load_default=False, metadata={"description": "settle."})
    oral_agreement = text(10000, allow_none=True, metadata={"description": "settle."})
    routes_told = ma.fields.List(ma.fields.String(validate=validate.OneOf(FAILURE_ROUTES)),
                                 load_default=list, metadata={"description": "fail."})
    version = counter(allow_none=True, metadata={
        "description": "The case version the client saw; a newer one answers 409."})


# ---- sessions ---------------------------------------------------------------------------

def _participant_phone(p) -> str | None:
    """A party's, an agent's or a guest's phone (staff are reached through their account)."""
    if p.role is ParticipantRole.INVITED:
        return p.phone
    if p.party is None:
        return None
    return p.party.agent_phone if p.role is ParticipantRole.AGENT else p.party.phone


class Participant(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "For attendance and the notice."})
    role = ma.fields.Function(lambda p: p.role.value,
                              metadata={"enum": _values(ParticipantRole)})
    name = ma.fields.Function(lambda p: p.display_name)
    organisation = ma.fields.String(allow_none=True, metadata={"description": "A guest's."})
    username = ma.fields.Function(lambda p: p.user.username if p.user else None,
                                  metadata={"description": "Staff: their account."})
    party_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "A party, or the party an agent acts for."})
    phone_masked = ma.fields.Function(
        lambda p: mask_phone(phone) if (phone := _participant_phone(p)) else None)
    consent_recorded = ma.fields.Boolean(metadata={
        "description": "A guest: the parties agreed (People's Mediation Law art. 20)."})
    attendance = ma.fields.Function(lambda p: p.attendance.value,
                                    metadata={"enum": _values(Attendance)})
    reply = ma.fields.Function(lambda p: p.reply.value if p.reply else None, metadata={
        "enum": _values(Reply) + [None],
        "description": "A party's own answer to its notice (residents' portal)."})
    reply_reason = ma.fields.String(allow_none=True)
    replied_at = ma.fields.DateTime(allow_none=True)


class Session(ma.Schema):
    id = ma.fields.Integer()
    case_number = ma.fields.Function(lambda s: s.case.number)
    status = ma.fields.Function(lambda s: s.status.value,
                                metadata={"enum": _values(SessionStatus)})
    place_kind = ma.fields.Function(lambda s: s.place_kind.value)
    room_id = ma.fields.Integer(allow_none=True)
    address = ma.fields.String(allow_none=True)
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    purpose = ma.fields.String()
    participants = ma.fields.List(ma.fields.Nested(Participant))
    version = ma.fields.Integer(metadata={"description": "Send it back as ``version`` when "
                                                         "moving, to refuse a stale change."})


SessionPage = page_of(Session, "SessionPage")


class SessionQuery(PageQuery):
    from_ = day(data_key="from")
    to = day()
    case = text(16)


class CancelIn(Strict):
    reason = required_text(2000)


class MoveIn(Strict):
    starts_at = moment(required=True)
    ends_at = moment(required=True)
    place_kind = one_of(PlaceKind, allow_none=True, metadata={
        "description": "Default: where the session is now."})
    room_id = row_id(allow_none=True, metadata={
        "description": "Default: the session's room, when it stays in a room."})
    address = text(200, allow_none=True)
    video_link = web_link(metadata={"description": "https:// or http:// only."})
    reason = required_text(1000)
    override_reason = text(500, allow_none=True, metadata={
        "description": "Why a session outside the centre's hours or on a holiday is needed."})
    version = counter(allow_none=True, metadata={
        "description": "The session version the client saw; a newer one answers 409."})


# ---- agreements -------------------------------------------------------------------------

class InstalmentIn(Strict):
    due_on = day(required=True)
    amount = required_text(30, metadata={"description": "Yuan, e.g. 2000 or 2000.50."})


class ShareIn(Strict):
    party_id = row_id(required=True, metadata={"description": "One of the obligor_ids."})
    amount = required_text(30, metadata={"description": "Yuan, e.g. 6000 or 6000.50."})


class TermIn(Strict):
    content = required_text(5000)
    obligor_ids = ma.fields.List(row_id(), validate=validate.Length(min=1, max=50), metadata={
        "description": "The parties who perform the term (party ids); several need "
                       "`liability`."})
    obligee_ids = ma.fields.List(row_id(), validate=validate.Length(max=50),
                                 metadata={"description": "The parties it is owed to."})
    obligor_id = row_id(metadata={"description": "One obligor: the same as a one-item "
                                                 "obligor_ids (give one or the other)."})
    obligee_id = row_id(allow_none=True, metadata={"description": "One obligee: the same as "
                                                                  "a one-item obligee_ids."})
    liability = one_of(Liability, allow_none=True, metadata={
        "description": "Several obligors: `joint` (连带, each owes the whole) or `several` "
                       "(按份, each owes its share, given in `shares`)."})
    shares = ma.fields.List(ma.fields.Nested(ShareIn), load_default=list,
                            validate=validate.Length(max=50), metadata={
                                "description": "By shares: each obligor's share; together "
                                               "they make up `amount`."})
    amount = text(30, allow_none=True)
    method = text(120, allow_none=True)
    place = text(200, allow_none=True)
    due_on = day(allow_none=True)
    instalments = ma.fields.List(ma.fields.Nested(InstalmentIn), load_default=list,
                                 validate=validate.Length(max=120))
    on_the_spot = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def one_way_to_name_them(self, data, **kwargs):
        for one, several in (("obligor_id", "obligor_ids"), ("obligee_id", "obligee_ids")):
            if data.get(one) is not None and data.get(several):
                raise ma.ValidationError(_("Give %(one)s or %(several)s, not both.",
                                           one=one, several=several), one)
        if data.get("obligor_id") is None and not data.get("obligor_ids"):
            raise ma.ValidationError(_("Name who performs the term: obligor_ids (or "
                                       "obligor_id)."), "obligor_ids")


class ResponsibilityIn(Strict):
    party_id = row_id(required=True)
    text = required_text(5000)


class AgreementIn(Strict):
    facts = text(20000, allow_none=True, metadata={"description": "Default: the narrative."})
    disputed_matters = required_text(10000)
    copies = ma.fields.Integer(allow_none=True, validate=validate.Range(min=2, max=50))
    recorder_name = required_text(60)
    responsibilities = ma.fields.List(ma.fields.Nested(ResponsibilityIn), load_default=list,
                                      validate=validate.Length(max=50))
    terms = ma.fields.List(ma.fields.Nested(TermIn), required=True,
                           validate=validate.Length(min=1, max=60))
    concerns_status = ma.fields.Boolean(load_default=False)
    determines_ownership = ma.fields.Boolean(load_default=False)
    inviting_court_id = row_id(allow_none=True, metadata={
        "description": "The court that invited the mediation (required when the case was "
                       "referred by a court); ids under GET /api/v1/courts."})


class Instalment(ma.Schema):
    id = ma.fields.Integer()
    due_on = ma.fields.Date()
    amount = ma.fields.Function(lambda i: i.amount_yuan.replace(",", ""))
    paid_on = ma.fields.Date(allow_none=True)


class Term(ma.Schema):
    id = ma.fields.Integer()
    position = ma.fields.Function(lambda t: t.position + 1)
    content = ma.fields.String()
    obligor_ids = ma.fields.Function(lambda t: [p.id for p in t.obligors],
                                     metadata={"description": "Party ids."})
    obligee_ids = ma.fields.Function(lambda t: [p.id for p in t.obligees])
    liability = ma.fields.Function(lambda t: t.liability.value if t.liability else None,
                                   metadata={"enum": _values(Liability) + [None]})
    shares = ma.fields.Function(
        lambda t: [{"party_id": link.party_id, "amount": link.share_yuan.replace(",", "")}
                   for link in t.obligor_links if link.share_fen],
        metadata={"description": "By shares: each obligor's share, in yuan."})
    obligor_id = ma.fields.Function(lambda t: t.obligors[0].id if t.obligors else None,
                                    metadata={"description": "The first of obligor_ids "
                                                             "(kept for older clients)."})
    obligee_id = ma.fields.Function(lambda t: t.obligees[0].id if t.obligees else None,
                                    metadata={"description": "The first of obligee_ids "
                                                             "(kept for older clients)."})
    amount = ma.fields.Function(lambda t: t.amount_yuan.replace(",", "") if t.amount_fen
                                else None)
    amount_in_words = ma.fields.Function(lambda t: t.amount_capital or None)
    method = ma.fields.String(allow_none=True)
    place = ma.fields.String(allow_none=True)
    due_on = ma.fields.Date(allow_none=True)
    on_the_spot = ma.fields.Boolean()
    performed_on = ma.fields.Date(allow_none=True)
    instalments = ma.fields.List(ma.fields.Nested(Instalment))


class Agreement(ma.Schema):
    id = ma.fields.Integer()
    case_number = ma.fields.Function(lambda a: a.case.number)
    number = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    status = ma.fields.Function(lambda a: a.status.value,
                                metadata={"enum": _values(AgreementStatus)})
    in_force = ma.fields.Boolean()
    committee = ma.fields.Function(lambda a: a.committee.name)
    issued_on = ma.fields.Date(allow_none=True)
    effective_on = ma.fields.Date(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    verification_code = ma.fields.String(allow_none=True)
    supersedes_id = ma.fields.Integer(allow_none=True)
    parties = ma.fields.Function(lambda a: [e.party.name for e in a.parties])
    terms = ma.fields.List(ma.fields.Nested(Term))
    lock_version = ma.fields.Integer()
    confirmations = ma.fields.Function(lambda a: [
        {"court": c.court_name, "filed_on": c.filed_on.isoformat(), "result": c.result.value,
         "ruling_number": c.ruling_number} for c in a.confirmations],
        metadata={"description": "Judicial confirmation: " + ", ".join(
            _values(ConfirmationResult))})


AgreementPage = page_of(Agreement, "AgreementPage")


class AgreementQuery(PageQuery):
    case = text(16)
    status = one_of(AgreementStatus)


class IssueIn(Strict):
    lock_version = counter(allow_none=True)


class Verification(ma.Schema):
    number = ma.fields.String()
    committee = ma.fields.String()
    issued_on = ma.fields.Date()
    effective_on = ma.fields.Date(allow_none=True)
    parties = ma.fields.List(ma.fields.String(), metadata={"description": "Masked names."})
    sha256 = ma.fields.String()
    status = ma.fields.String(metadata={"enum": ["in_force", "issued", "superseded"]})
    superseded_by = ma.fields.String(allow_none=True)
    confirmed = ma.fields.Boolean()


class Room(ma.Schema):
    id = ma.fields.Integer()
    centre_id = ma.fields.Integer()
    name = ma.fields.String()
    capacity = ma.fields.Integer(metadata={"description": "People it seats."})
    video_capable = ma.fields.Boolean()
    active = ma.fields.Boolean(metadata={"description": "False: no new bookings."})


class Centre(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    area = ma.fields.Function(lambda c: c.area.code, metadata={
        "description": "The code of the street or district it serves."})
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    opens_at = ma.fields.Function(lambda c: c.opens_at.strftime("%H:%M"), metadata={
        "description": "Local time (Asia/Shanghai); a session outside the hours needs an "
                       "override reason."})
    closes_at = ma.fields.Function(lambda c: c.closes_at.strftime("%H:%M"))
    rooms = ma.fields.List(ma.fields.Nested(Room))


class CentreList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Centre))
    total = ma.fields.Integer()


class RoomList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Room))
    total = ma.fields.Integer()


class RoomQuery(Strict):
    case = text(16, metadata={"description": "A case number: only the rooms of the centres "
                                             "serving its place, where its sessions may be."})


class Proposal(ma.Schema):
    """A rule's suggestion to move a case up, and what was decided."""

    id = ma.fields.Integer()
    rule = ma.fields.Function(lambda p: p.rule.value, metadata={"enum": _values(ProposalRule)})
    from_level = ma.fields.Function(lambda p: p.from_level.value)
    to_level = ma.fields.Function(lambda p: p.to_level.value)
    reason = ma.fields.String()
    status = ma.fields.Function(lambda p: p.status.value,
                                metadata={"enum": _values(ProposalStatus)})
    created_at = ma.fields.DateTime()
    decided_at = ma.fields.DateTime(allow_none=True)
    decided_by = ma.fields.Function(lambda p: p.decided_by.full_name if p.decided_by else None,
                                    allow_none=True)
    decision_note = ma.fields.String(allow_none=True)


class ProposalList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Proposal))
    total = ma.fields.Integer()


class DecisionIn(Strict):
    decision = ma.fields.String(required=True, validate=validate.OneOf(["confirm", "dismiss"]),
                                metadata={"description": "confirm moves the case up now."})
    note = text(2000, allow_none=True, metadata={"description": "Required to dismiss."})
