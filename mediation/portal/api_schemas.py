"""The shapes of the residents' public API (/api/v1/public): what a resident sends and
what a party gets back about its own case, and nothing more (see ``operations.view_of``)."""

import math

import marshmallow as ma
from marshmallow import validate

from mediation.agreements.models import ConfirmationResult
from mediation.api.schemas import Strict, one_of, required_text, text
from mediation.cases.states import OUTCOME_STATES, CaseState, Level
from mediation.core import photos
from mediation.portal.models import Satisfaction
from mediation.sessions.models import Reply, SessionStatus

# A photo's bytes in base64: four characters for every three bytes.
PHOTO_CHARACTERS = 4 * math.ceil(photos.MAX_BYTES / 3)
CONSENT_PAGE = "/report?by=address#consent-text"


class Pair(Strict):
    """A party's case number and access code: in the body only, never in an address."""

    case_number = required_text(40, metadata={"description": "As on the SMS or the "
                                              "receipt, e.g. 2027-000123."})
    access_code = required_text(40, metadata={"description": "The party's 8-digit code."})


class ReportIn(Strict):
    name = required_text(60)
    phone = required_text(20, metadata={"description": "A mobile (11 digits) or a landline "
                                        "with its area code."})
    grid = text(32, allow_none=True, metadata={
        "description": "The grid's area code, e.g. 370599001001-02; left out: picked from "
                       "`address`. One of the two is needed."})
    address = text(200, allow_none=True, metadata={
        "description": "Where it happened, e.g. 文苑小区7号楼2单元."})
    narrative = required_text(5000, metadata={
        "description": "What happened: kept and shown as plain text."})
    category = text(32, allow_none=True, metadata={
        "description": "A category code, e.g. noise; left out or null: not sure (filed as "
                       "other)."})
    other_name = text(60, allow_none=True, metadata={
        "description": "The other side, as far as known (or how they are called, e.g. "
                       "楼上住户)."})
    other_phone = text(20, allow_none=True)
    in_danger = ma.fields.Boolean(load_default=False, metadata={
        "description": "Someone is in danger of being hurt: the case is flagged high risk."})
    minor = ma.fields.Boolean(load_default=False, metadata={
        "description": "Under 18: guardian_name and guardian_phone are needed."})
    guardian_name = text(40, allow_none=True)
    guardian_phone = text(20, allow_none=True)
    consent = ma.fields.Boolean(required=True, metadata={
        "description": "Must be true: the resident has read and agrees to the notice on "
                       f"personal information, on the report page ({CONSENT_PAGE})."})
    photos = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=PHOTO_CHARACTERS)),
        load_default=list, validate=validate.Length(max=photos.MAX_PHOTOS), metadata={
            "description": f"Up to {photos.MAX_PHOTOS} photos, each a JPEG, PNG or WebP "
                           f"file of at most {photos.MAX_BYTES // (1024 * 1024)} MB in "
                           "base64. Checked by decoding; kept without location and camera "
                           "details, never published."})


class Receipt(ma.Schema):
    case_number = ma.fields.String()
    access_code = ma.fields.String(metadata={
        "description": "Shown this once and kept nowhere in plain: with the case number, it "
                       "opens the resident's own view of the case."})
    grid = ma.fields.String(metadata={"description": "The grid whose queue has the case."})
    check_at = ma.fields.String(metadata={
        "description": "The page where the resident checks the case."})
    check_api = ma.fields.String(metadata={
        "description": "The same, for an app: POST the number and code there."})


class StatusIn(Pair):
    pass


class SessionReplyIn(Pair):
    """A party's answer to a session notice."""

    reply = one_of(Reply, required=True)
    reason = text(500, allow_none=True, metadata={
        "description": "Needed unless confirmed: why, or which time would suit."})


class RatingIn(Pair):
    satisfaction = one_of(Satisfaction, required=True)
    comment = text(500, allow_none=True)


class OwnSession(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in SessionStatus]})
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()
    when = ma.fields.String(metadata={"description": "In China's time, in words."})
    provisional = ma.fields.Boolean(metadata={
        "description": "The official holiday schedule of its year is not in yet."})
    place = ma.fields.String()
    purpose = ma.fields.String()
    what_to_bring = ma.fields.String()
    reply = ma.fields.String(allow_none=True, metadata={
        "enum": [r.value for r in Reply] + [None]})
    reply_reason = ma.fields.String(allow_none=True)
    may_reply = ma.fields.Boolean()


class Ruling(ma.Schema):
    court = ma.fields.String()
    filed_on = ma.fields.Date()
    result = ma.fields.String(metadata={"enum": [r.value for r in ConfirmationResult]})
    result_title = ma.fields.String()
    ruling_number = ma.fields.String(allow_none=True)


class OwnAgreement(ma.Schema):
    number = ma.fields.String()
    issued_on = ma.fields.Date(allow_none=True)
    in_force_on = ma.fields.Date(allow_none=True, metadata={
        "description": "Null until signed by everyone and sealed."})
    verification_url = ma.fields.String(allow_none=True)
    confirmation_last_day = ma.fields.Date(allow_none=True, metadata={
        "description": "The last day to apply together to the court for judicial "
                       "confirmation; null until in force."})
    confirmation_last_day_provisional = ma.fields.Boolean()
    rulings = ma.fields.List(ma.fields.Nested(Ruling))


class PublicCentre(ma.Schema):
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class OwnRating(ma.Schema):
    satisfaction = ma.fields.String(metadata={"enum": [s.value for s in Satisfaction]})
    comment = ma.fields.String(allow_none=True)
    rated_at = ma.fields.DateTime()


class PartyView(ma.Schema):
    """A party's own view of its case: what the party's page shows, and nothing more."""

    case_number = ma.fields.String()
    name = ma.fields.String(metadata={"description": "The party's own name."})
    category = ma.fields.String()
    received_on = ma.fields.Date()
    accepted_on = ma.fields.Date(allow_none=True)
    state = ma.fields.String(metadata={"enum": [s.value for s in CaseState]})
    state_title = ma.fields.String()
    referred_to = ma.fields.String(allow_none=True, metadata={
        "description": "Not accepted, or referred out: where to turn instead."})
    level = ma.fields.String(allow_none=True, metadata={
        "enum": [level.value for level in Level] + [None],
        "description": "The level handling it now (open cases)."})
    level_title = ma.fields.String(allow_none=True)
    level_deadline = ma.fields.Date(allow_none=True)
    level_deadline_provisional = ma.fields.Boolean()
    outcome = ma.fields.String(allow_none=True, metadata={
        "enum": [s.value for s in CaseState if s in OUTCOME_STATES] + [None],
        "description": "The outcome the case had, kept once it is followed up and closed; "
                       "null while open."})
    outcome_title = ma.fields.String(allow_none=True)
    outcome_on = ma.fields.Date(allow_none=True)
    sessions = ma.fields.List(ma.fields.Nested(OwnSession), metadata={
        "description": "The party's own sessions that have not ended, soonest first."})
    agreements = ma.fields.List(ma.fields.Nested(OwnAgreement))
    mediator = ma.fields.String(allow_none=True, metadata={
        "description": "The handling mediator's name."})
    committee = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "Whom to call."})
    centre = ma.fields.Nested(PublicCentre, allow_none=True)
    rating = ma.fields.Nested(OwnRating, allow_none=True)
    may_rate = ma.fields.Boolean()


class ReplyOut(ma.Schema):
    session = ma.fields.Nested(OwnSession)


class RatingOut(ma.Schema):
    rating = ma.fields.Nested(OwnRating)
