"""The shapes of the case page's own work through the API: who works on a case, notes and
legal opinions, follow-up visits, supervision notices, help requests, files, edits of the
case and of a party, and what is read of a party on request (its full ID number or phone,
a new access code) — masked everywhere else."""

import marshmallow as ma
from marshmallow import validate

from mediation.api.schemas import (
    PartyIn,
    Strict,
    counter,
    day,
    one_of,
    required_text,
    text,
)
from mediation.cases.models import AssignmentRole, Department, PartyKind
from mediation.cases.operations import MAX_SUPERVISED
from mediation.cases.states import RISK_FACTORS, STAFF_SOURCES, Level, Source


def _name(user) -> str | None:
    return user.full_name if user else None


def list_of(item_schema, name: str):
    """All of a case's rows of a kind, at once (a case has a handful)."""
    return type(name, (ma.Schema,), {"items": ma.fields.List(ma.fields.Nested(item_schema)),
                                     "total": ma.fields.Integer()})


# ---- who works on the case ----------------------------------------------------------------

class Person(ma.Schema):
    username = ma.fields.String()
    full_name = ma.fields.String()


class Assignment(ma.Schema):
    """Someone besides the handler: a co-handler or a legal-aid volunteer."""

    id = ma.fields.Integer()
    username = ma.fields.Function(lambda a: a.user.username)
    full_name = ma.fields.Function(lambda a: a.user.full_name)
    role = ma.fields.Function(lambda a: a.role.value,
                              metadata={"enum": [r.value for r in AssignmentRole]})
    assigned_at = ma.fields.DateTime()


class Team(ma.Schema):
    handler = ma.fields.Nested(Person, allow_none=True, metadata={
        "description": "Null while the case waits for a handler."})
    items = ma.fields.List(ma.fields.Nested(Assignment))
    total = ma.fields.Integer()


ASSIGN_ROLES = ["handler", *(role.value for role in AssignmentRole)]


class AssignIn(Strict):
    username = required_text(64)
    role = ma.fields.String(required=True, validate=validate.OneOf(ASSIGN_ROLES), metadata={
        "enum": ASSIGN_ROLES, "description": "handler gives the case to the account (whose "
        "jurisdiction must cover it); co_handler and legal_aid add it to the case."})


# ---- notes, opinions, follow-up visits ----------------------------------------------------

class TextIn(Strict):
    text = required_text(8000)


class FollowUpIn(Strict):
    visited_on = day(required=True, metadata={"description": "Not in the future."})
    performance = required_text(4000, metadata={
        "description": "How the agreement is being performed."})
    satisfaction = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    new_lawsuit = ma.fields.Boolean(load_default=False, metadata={
        "description": "A party has since gone to court."})
    remaining_risk = text(4000, allow_none=True)
    measures = text(4000, allow_none=True)
    version = counter(allow_none=True, metadata={
        "description": "The case version the client saw; a newer one answers 409."})


class FollowUp(ma.Schema):
    id = ma.fields.Integer()
    visited_on = ma.fields.Date()
    visitor = ma.fields.Function(lambda v: _name(v.visitor), allow_none=True)
    performance = ma.fields.String()
    satisfaction = ma.fields.Integer()
    new_lawsuit = ma.fields.Boolean()
    remaining_risk = ma.fields.String(allow_none=True)
    measures = ma.fields.String(allow_none=True)


FollowUpList = list_of(FollowUp, "FollowUpList")


class RefusalIn(Strict):
    reason = text(4000, allow_none=True, metadata={
        "description": "What the party said; default: that the party expressly refused."})


class EscalationRequestIn(Strict):
    to_level = one_of(Level, required=True, metadata={
        "description": "A level above the case's."})
    reason = required_text(4000)


# ---- supervision (督办) -----------------------------------------------------------------

class SupervisionIn(Strict):
    message = required_text(4000)
    respond_by = day(allow_none=True, metadata={"description": "Not before today."})


class SupervisionManyIn(SupervisionIn):
    cases = ma.fields.List(text(16), required=True, validate=validate.Length(min=1), metadata={
        "description": f"Case numbers, at most {MAX_SUPERVISED}: all are supervised or none "
                       "(a case that cannot be is named in the 422)."})


class SupervisionNotice(ma.Schema):
    id = ma.fields.Integer()
    case_number = ma.fields.Function(lambda n: n.case.number)
    level = ma.fields.Function(lambda n: n.level.value, metadata={"enum": [lv.value
                                                                           for lv in Level]})
    automatic = ma.fields.Boolean(metadata={"description": "Raised by a passed time limit."})
    deadline = ma.fields.Date(allow_none=True, metadata={
        "description": "The time limit it is about."})
    issued_at = ma.fields.DateTime()
    issued_by = ma.fields.Function(lambda n: _name(n.issued_by), allow_none=True)
    to = ma.fields.Function(lambda n: n.to_user.username if n.to_user else None,
                            allow_none=True, metadata={"description": "Who answers it: the "
                                                       "handler's username."})
    message = ma.fields.String()
    respond_by = ma.fields.Date(allow_none=True)
    response = ma.fields.String(allow_none=True)
    responded_at = ma.fields.DateTime(allow_none=True)
    withdrawn_at = ma.fields.DateTime(allow_none=True)
    withdrawn_reason = ma.fields.String(allow_none=True)


SupervisionNoticeList = list_of(SupervisionNotice, "SupervisionNoticeList")


class ResponseIn(Strict):
    response = required_text(4000)


# ---- help from departments (吹哨报到) -----------------------------------------------------

class HelpIn(Strict):
    department = one_of(Department, required=True)
    department_detail = text(120, allow_none=True, metadata={"description": "Which office."})
    message = required_text(4000, metadata={"description": "The help needed."})


class HelpRequest(ma.Schema):
    id = ma.fields.Integer()
    case_number = ma.fields.Function(lambda h: h.case.number)
    department = ma.fields.Function(lambda h: h.department.value,
                                    metadata={"enum": [d.value for d in Department]})
    department_detail = ma.fields.String(allow_none=True)
    message = ma.fields.String()
    requested_at = ma.fields.DateTime()
    response = ma.fields.String(allow_none=True)
    responded_at = ma.fields.DateTime(allow_none=True)


HelpRequestList = list_of(HelpRequest, "HelpRequestList")


# ---- files ------------------------------------------------------------------------------

class AttachmentIn(Strict):
    filename = required_text(200, metadata={"description": "Shown and offered on download; "
                                            "the type is read from the content."})
    file = ma.fields.String(required=True, metadata={
        "format": "byte", "description": "The file in base64: a photo (JPEG, PNG, WebP) or a "
        "PDF, at most the attachment limit (10 MB unless configured) once decoded."})
    description = text(200, allow_none=True)


class Attachment(ma.Schema):
    id = ma.fields.Integer()
    case_number = ma.fields.Function(lambda a: a.case.number)
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer(metadata={"description": "Bytes."})
    sha256 = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    uploaded_at = ma.fields.DateTime()


AttachmentList = list_of(Attachment, "AttachmentList")


# ---- editing the case and a party -----------------------------------------------------------

class CaseEditIn(Strict):
    """The intake details; a field left out keeps its value."""

    title = ma.fields.String(validate=validate.Length(min=1, max=120))
    source = one_of(Source, metadata={
        "enum": [source.value for source in STAFF_SOURCES],
        "description": "A resident's own report keeps its source (resident_report)."})
    category = ma.fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "A category code; a new category sets new time limits."})
    grid = ma.fields.String(validate=validate.Length(min=1, max=32), metadata={
        "description": "A grid in the token's jurisdiction (or the case's own)."})
    narrative = ma.fields.String(validate=validate.Length(min=1, max=10000))
    address = text(200, allow_none=True)
    amount = text(30, allow_none=True, metadata={"description": "In yuan; null: none claimed."})
    risks = ma.fields.List(ma.fields.String(validate=validate.OneOf(list(RISK_FACTORS))),
                           metadata={"description": "The risk factors that hold (all of them: "
                                                    "the others are cleared)."})
    version = counter(allow_none=True, metadata={
        "description": "The case version the client saw; a newer one answers 409."})


class PartyEditIn(PartyIn):
    """The whole party, as when adding it. Left out, the recorded ID number and phones stay
    (they are never sent in full), and so does the document type of a recorded ID number."""

    kind = one_of(PartyKind, metadata={"description": "Default: the party's."})
    version = counter(allow_none=True, metadata={
        "description": "The case version the client saw; a newer one answers 409."})


# ---- what is read of a party on request ---------------------------------------------------

class Revealed(ma.Schema):
    party_id = ma.fields.Integer()
    value = ma.fields.String(metadata={"description": "In full: the read is in the audit "
                                                      "log. Do not keep it."})


class AccessCode(ma.Schema):
    case_number = ma.fields.String()
    party_id = ma.fields.Integer()
    code = ma.fields.String(metadata={"description": "The party's new access code (查询码), "
                                                     "shown this once; the old one no longer "
                                                     "works. A mobile phone on record gets it "
                                                     "by SMS too."})
