"""The shapes of the agreements' API beyond drafting and issuing: the draft's text and terms,
signatures and the signed copy, performance, and judicial confirmation (司法确认)."""

import base64
import binascii
import re

import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import validate

from mediation.agreements import queries, rules
from mediation.agreements.models import ConfirmationResult, SignMethod
from mediation.api import schemas
from mediation.api.schemas import Strict, counter, day, one_of, row_id, text
from mediation.cases.models import Gender
from mediation.cases.rules import today

# ---- requests ---------------------------------------------------------------------------


class Base64(ma.fields.String):
    """Bytes as base64 text (RFC 4648, line breaks allowed)."""

    def _deserialize(self, value, attr, data, **kwargs):
        encoded = re.sub(r"\s+", "", super()._deserialize(value, attr, data, **kwargs))
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError(_("The file is not valid base64.")) from None


class DraftIn(Strict):
    """What the builder's form saves; a field left out stays as it is."""

    facts = text(20000, allow_none=True)
    disputed_matters = text(10000, allow_none=True)
    copies = ma.fields.Integer(validate=validate.Range(min=2, max=50))
    mediator = text(64, allow_none=True, metadata={
        "description": "Username of the mediator who signs (null: none chosen yet)."})
    recorder_name = text(60, allow_none=True)
    inviting_court_id = row_id(allow_none=True, metadata={
        "description": "The court that invited the mediation (ids under GET /api/v1/courts); "
                       "null: none."})
    concerns_status = ma.fields.Boolean()
    determines_ownership = ma.fields.Boolean()
    responsibilities = ma.fields.List(ma.fields.Nested(schemas.ResponsibilityIn),
                                      validate=validate.Length(max=50), metadata={
                                          "description": "The parties named change; the "
                                                         "others stay."})
    lock_version = counter(allow_none=True, metadata={
        "description": "The agreement's lock_version the client saw; a newer one answers "
                       "409."})


class TermMoveIn(Strict):
    direction = ma.fields.String(required=True, validate=validate.OneOf(["up", "down"]))


class PartyDetailsIn(Strict):
    """The details a party's block in the agreement may lack (see the problems)."""

    gender = one_of(Gender, allow_none=True)
    ethnicity = text(20, allow_none=True)
    birth_date = day(allow_none=True)
    occupation = text(60, allow_none=True)
    phone = text(20, allow_none=True)
    address = text(200, allow_none=True, metadata={"description": "Address or work unit."})
    legal_representative = text(60, allow_none=True)
    legal_representative_title = text(60, allow_none=True)


SIGNERS = ["party", "mediator", "recorder", "seal"]


class SignatureIn(Strict):
    signer = ma.fields.String(required=True, validate=validate.OneOf(SIGNERS), metadata={
        "description": "`party` (with `party_id`), `mediator`, `recorder`, or `seal` for the "
                       "committee's seal."})
    party_id = row_id(allow_none=True)
    signed_on = day(required=True)
    method = one_of(SignMethod, allow_none=True, metadata={
        "description": "How a party executed it; default: signature."})

    @ma.validates_schema
    def party_id_for_a_party(self, data, **kwargs):
        if (data["signer"] == "party") != (data.get("party_id") is not None):
            raise ma.ValidationError(_("Give party_id when, and only when, the signer is a "
                                       "party."), "party_id")


class SignedCopyIn(Strict):
    file = Base64(required=True, metadata={
        "format": "byte", "description": "The scan (PDF, JPEG, PNG or WebP), base64-encoded; "
                                         "up to the attachments' size limit once decoded."})
    filename = text(200, allow_none=True, metadata={"description": "Default: signed.pdf."})
    completed_on = day(required=True, metadata={
        "description": "The day of the last signature or the seal."})


class PerformanceIn(Strict):
    performed_on = day(required=True)
    on_the_spot = ma.fields.Boolean(load_default=False)


class InstalmentPaidIn(Strict):
    paid_on = day(required=True)


class ApplicationIn(Strict):
    court_index = ma.fields.Integer(load_default=0, validate=validate.Range(min=0, max=999),
                                    metadata={"description": "The court it is addressed to: "
                                                             "its `index` among the "
                                                             "eligibility's competent_courts "
                                                             "(default: the first)."})


class FilingIn(Strict):
    court_id = row_id(allow_none=True, metadata={
        "description": "A competent court on record (the eligibility's competent_courts)."})
    court_name = text(120, allow_none=True, metadata={
        "description": "Or the court's name, when it is not on record."})
    filed_on = day(required=True)
    case_reference = text(80, allow_none=True, metadata={"description": "The court's number."})


class RulingIn(Strict):
    result = ma.fields.String(required=True, validate=validate.OneOf(
        [r.value for r in ConfirmationResult if r is not ConfirmationResult.PENDING]))
    ruling_number = text(80, allow_none=True, metadata={
        "description": "Required when confirmed, e.g. （2026）鲁0502民特12号."})
    ruled_on = day(required=True)
    note = text(2000, allow_none=True)


# ---- answers ----------------------------------------------------------------------------

class Computed(ma.Schema):
    """A schema some of whose fields are computed from the object by ``COMPUTED``, so that
    they can still be described as nested schemas."""

    COMPUTED: dict = {}

    def get_attribute(self, obj, attr, default):
        getter = self.COMPUTED.get(attr)
        return getter(obj) if getter else super().get_attribute(obj, attr, default)


class Confirmation(Computed):
    """A filing with a court and its outcome."""

    COMPUTED = {
        "agreement_number": lambda c: c.agreement.number,
        "court": lambda c: c.court_name,
        "result": lambda c: c.result.value,
        "late": lambda c: bool(c.agreement.effective_on) and c.filed_on > rules.
        confirmation_deadline(c.agreement.effective_on),
        "enforcement_until": lambda c: rules.enforcement_deadline(c.agreement, c.ruled_on)
        if c.result is ConfirmationResult.CONFIRMED else None,
    }
    id = ma.fields.Integer()
    agreement_id = ma.fields.Integer()
    agreement_number = ma.fields.String()
    court_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Null for a court not on record."})
    court = ma.fields.String()
    filed_on = ma.fields.Date()
    late = ma.fields.Boolean(metadata={
        "description": "Filed after the 30 days from the agreement's effective date."})
    case_reference = ma.fields.String(allow_none=True)
    result = ma.fields.String(metadata={"enum": [r.value for r in ConfirmationResult]})
    ruling_number = ma.fields.String(allow_none=True)
    ruled_on = ma.fields.Date(allow_none=True)
    note = ma.fields.String(allow_none=True)
    enforcement_until = ma.fields.Date(allow_none=True, metadata={
        "description": "Confirmed: the last day to apply for enforcement (two years, Civil "
                       "Procedure Law art. 250)."})


class ConfirmationList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Confirmation))
    total = ma.fields.Integer()


class Signature(ma.Schema):
    signer = ma.fields.String(metadata={"enum": SIGNERS})
    party_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String(allow_none=True, metadata={"description": "The party's."})
    signed_on = ma.fields.Date(allow_none=True, metadata={"description": "Null: not yet."})
    method = ma.fields.String(allow_none=True,
                              metadata={"enum": [m.value for m in SignMethod] + [None]})


def _signatures(agreement) -> list[dict]:
    parties = [{"signer": "party", "party_id": e.party_id, "name": e.party.name,
                "signed_on": e.signed_on, "method": e.sign_method.value if e.sign_method
                else None} for e in agreement.parties]
    return parties + [{"signer": signer, "party_id": None, "name": None, "signed_on": on,
                       "method": None}
                      for signer, on in (("mediator", agreement.mediator_signed_on),
                                         ("recorder", agreement.recorder_signed_on),
                                         ("seal", agreement.sealed_on))]


class SignedCopy(ma.Schema):
    attachment_id = ma.fields.Integer()
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    completed_on = ma.fields.Date()


def _signed_copy(agreement) -> dict | None:
    copy = agreement.signed_copy
    if copy is None:
        return None
    return {"attachment_id": copy.id, "filename": copy.filename,
            "content_type": copy.content_type, "size": copy.size, "sha256": copy.sha256,
            "completed_on": agreement.signed_copy_on}


class Responsibility(ma.Schema):
    party_id = ma.fields.Integer()
    name = ma.fields.String()
    text = ma.fields.String()


class TermPerformance(ma.Schema):
    """How a term of the agreement in force stands, as its page says."""

    term_id = ma.fields.Integer()
    position = ma.fields.Integer()
    state = ma.fields.String(metadata={"enum": ["performed", "overdue", "open"]})
    label = ma.fields.String(metadata={"description": "In words, in the caller's language."})
    overdue_since = ma.fields.Date(allow_none=True)


def _performance(agreement) -> list[dict]:
    on = today()
    found = []
    for status in queries.performance(agreement, on):
        term = status.term
        late = rules.overdue_parts(term, on)
        found.append({"term_id": term.id, "position": term.position + 1,
                      "state": "performed" if term.performed_on else
                      "overdue" if late else "open",
                      "label": status.label, "overdue_since": min(late) if late else None})
    return found


class AgreementDetail(Computed, schemas.Agreement):
    """One agreement: its text, terms, signatures, performance and judicial confirmation."""

    COMPUTED = {
        "mediator": lambda a: a.mediator.username if a.mediator else None,
        "responsibilities": lambda a: [{"party_id": e.party_id, "name": e.party.name,
                                        "text": e.responsibility} for e in a.parties],
        "signatures": _signatures,
        "signed_copy": _signed_copy,
        "performance": _performance,
        "confirmation_deadline": lambda a: rules.confirmation_deadline(a.effective_on)
        if a.effective_on else None,
    }
    facts = ma.fields.String()
    disputed_matters = ma.fields.String()
    copies = ma.fields.Integer()
    mediator = ma.fields.String(allow_none=True, metadata={"description": "Username."})
    recorder_name = ma.fields.String(allow_none=True)
    inviting_court_id = ma.fields.Integer(allow_none=True)
    concerns_status = ma.fields.Boolean()
    determines_ownership = ma.fields.Boolean()
    responsibilities = ma.fields.List(ma.fields.Nested(Responsibility))
    signatures = ma.fields.List(ma.fields.Nested(Signature), metadata={
        "description": "Every party, the mediator, the recorder and the seal. In force from "
                       "the latest of the parties', the mediator's and the seal (People's "
                       "Mediation Law art. 29), or the signed copy's day."})
    signed_copy = ma.fields.Nested(SignedCopy, allow_none=True)
    performance = ma.fields.List(ma.fields.Nested(TermPerformance), metadata={
        "description": "For the agreement in force (issued): each term."})
    confirmation_deadline = ma.fields.Date(allow_none=True, metadata={
        "description": "The last day to apply for judicial confirmation; null until in force."})
    confirmations = ma.fields.List(ma.fields.Nested(Confirmation))


class DraftProblem(ma.Schema):
    field = ma.fields.String(metadata={"description": "What to change: a field of the draft, "
                                                      "`parties`, `terms` or `case`."})
    message = ma.fields.String()


class DraftProblemList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DraftProblem))
    total = ma.fields.Integer()


class PartyCompleted(ma.Schema):
    filled = ma.fields.List(ma.fields.String(), metadata={
        "description": "The details saved; those already recorded stay as they are (the "
                       "case's party record changes them)."})
    party = ma.fields.Nested(schemas.Party)


class CompetentCourt(ma.Schema):
    index = ma.fields.Integer(metadata={"description": "The application's `court_index`."})
    court_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Null: a court not on record (where a party lives outside the city)."})
    name = ma.fields.String()
    grounds = ma.fields.List(ma.fields.String(), metadata={
        "description": "Why it is competent (Civil Procedure Law art. 205)."})


class Eligibility(ma.Schema):
    """Judicial confirmation of one agreement: whether a court would take it and why, the 30
    days, the competent courts, the materials, and what may be done now."""

    agreement_id = ma.fields.Integer()
    eligible = ma.fields.Boolean()
    refusals = ma.fields.List(ma.fields.String(), metadata={
        "description": "Why a court would not accept it (CPL Interpretation arts. 355, 358)."})
    warnings = ma.fields.List(ma.fields.String(), metadata={
        "description": "What to check before applying."})
    in_force = ma.fields.Boolean()
    effective_on = ma.fields.Date(allow_none=True)
    deadline = ma.fields.Date(allow_none=True, metadata={
        "description": "The last day for the parties' joint application: 30 days from the "
                       "effective date, moved off a holiday (People's Mediation Law art. 33, "
                       "Civil Procedure Law arts. 85, 205)."})
    days_left = ma.fields.Integer(allow_none=True, metadata={
        "description": "Negative once the deadline has passed."})
    provisional_years = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "Years counted without the official holiday schedule."})
    competent_courts = ma.fields.List(ma.fields.Nested(CompetentCourt))
    materials = ma.fields.List(ma.fields.String(), metadata={
        "description": "What the parties bring with the application."})
    may_apply = ma.fields.Boolean(metadata={"description": "The application PDF can be made."})
    application_refusal = ma.fields.String(allow_none=True)
    application_closed = ma.fields.String(allow_none=True, metadata={
        "description": "The 30 days are over: what remains for the parties."})
    may_file = ma.fields.Boolean(metadata={"description": "A filing can be recorded."})
    filing_refusal = ma.fields.String(allow_none=True)
    confirmations = ma.fields.List(ma.fields.Nested(Confirmation))
