"""/api/v1/agreements: the draft (whole, its text, its terms, its parties' missing details),
issuing, correcting and discarding, reading and downloading; signatures and the signed copy,
performance, and judicial confirmation (eligibility, the application, filing, the ruling) —
each calling the operation the agreement's page calls.  Verification is on the residents'
public blueprint (/api/v1/public, no token)."""

from urllib.parse import quote

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.agreements import documents, operations, queries
from mediation.agreements.models import (
    Agreement,
    AgreementStatus,
    ConfirmationResult,
    Instalment,
    JudicialConfirmation,
    Liability,
    SignMethod,
    Term,
)
from mediation.agreements.operations import DraftInput, StaleAgreement, TermInput
from mediation.api import agreement_schemas as shapes
from mediation.api import schemas
from mediation.api.cases import bp as cases_bp
from mediation.api.cases import load_case, page, refusal
from mediation.api.http import (
    BODY_LIMITS,
    ID,
    PROBLEM,
    blueprint,
    caller,
    commit_or_problem,
    idempotent,
    operation_problem,
    problem,
    writes,
)
from mediation.areas.models import Court
from mediation.cases import access, attachments
from mediation.cases.models import Case
from mediation.cases.rules import today
from mediation.core.db import write_intent
from mediation.core.errors import OperationError
from mediation.core.money import format_yuan, parse_yuan
from mediation.extensions import db
from mediation.portal.api import bp as public_bp
from mediation.users.operations import find_user

bp = blueprint("agreements_api", "/agreements", "Written settlement agreements "
               "(人民调解协议书): drafting, issuing, signatures, performance and judicial "
               "confirmation (司法确认).")
courts_bp = blueprint("courts_api", "/courts", "The people's courts on record, which "
                      "confirm agreements (an agreement's inviting court is one of them).")
ISSUE = "agreements.issue"
BINARY = {"type": "string", "format": "binary"}
# Signatures, performance and judicial confirmation: allowed on a closed case too.
TRACK = "agreements.track"


def _load(agreement: Agreement | None, permission: str | None = None):
    """(the agreement, None) if the caller sees its case and may do ``permission`` there;
    else (None, the problem to answer): 404 for one out of sight, never a hint that it
    exists."""
    if agreement is None or load_case(agreement.case.number) is None:
        return None, problem(404)
    refused = refusal(agreement.case, permission) if permission else None
    return (None, refused) if refused else (agreement, None)


def _change(answer, refused, action, *, conflicts=()):
    """Run ``action`` (one operation) unless ``refused``: the problem, or ``answer``."""
    if refused:
        return refused
    _result, failure = commit_or_problem(action, conflict_types=conflicts)
    return failure or answer


def _visible(agreement_id: int) -> Agreement | None:
    return _load(db.session.get(Agreement, agreement_id))[0]


def _audited(read):
    """A GET whose read is in the audit log: the read transaction ends first, so that the
    write begins as one (SQLite takes its lock then, rather than failing halfway)."""
    db.session.commit()
    write_intent.set(True)
    result = read()
    db.session.commit()
    return result


def _file_response(data: bytes, mimetype: str, filename: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "no-store"})


@bp.route("")
class Agreements(MethodView):
    @bp.arguments(schemas.AgreementQuery, location="query")
    @bp.response(200, schemas.AgreementPage)
    @bp.alt_response(401, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, query):
        """Agreements of the cases in the token's jurisdiction, newest first."""
        visible = access.visible_cases(caller(), select(Case.id)).subquery()
        stmt = select(Agreement).join(Case, Agreement.case_id == Case.id) \
            .where(Agreement.case_id.in_(select(visible.c.id)))
        if query.get("case"):
            stmt = stmt.where(Case.number == query["case"])
        if query.get("status"):
            stmt = stmt.where(Agreement.status == AgreementStatus(query["status"]))
        return page(stmt.order_by(Agreement.id.desc()), query)


@courts_bp.route("")
class Courts(MethodView):
    @courts_bp.arguments(schemas.PageQuery, location="query")
    @courts_bp.response(200, schemas.CourtPage)
    @courts_bp.alt_response(401, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, query):
        """The courts in use, by name."""
        return page(select(Court).where(Court.active).order_by(Court.name, Court.id), query)


# ---- the draft --------------------------------------------------------------------------

def _instalments(term: dict) -> str:
    lines = []
    for part in term.get("instalments", []):
        fen = parse_yuan(part["amount"], field="instalments")
        lines.append(f"{part['due_on'].isoformat()} {format_yuan(fen).replace(',', '')}")
    return "\n".join(lines)


def _shares(term: dict) -> dict[int, str]:
    shares = {}
    for share in term.get("shares", []):
        if share["party_id"] in shares:
            raise OperationError(_("Each obligor has one share."), field="shares")
        shares[share["party_id"]] = share["amount"]
    return shares


def _term_input(term: dict) -> TermInput:
    return TermInput(
        content=term["content"], obligor_id=term.get("obligor_id"),
        obligee_id=term.get("obligee_id"), obligor_ids=term.get("obligor_ids") or [],
        obligee_ids=term.get("obligee_ids") or [],
        liability=Liability(term["liability"]) if term.get("liability") else None,
        shares=_shares(term), amount=term.get("amount"), method=term.get("method"),
        place=term.get("place"), due_on=term.get("due_on"), instalments=_instalments(term),
        on_the_spot=term.get("on_the_spot", False))


def _court(court_id: int | None, field: str) -> Court | None:
    if court_id is None:
        return None
    court = db.session.get(Court, court_id)
    if court is None or not court.active:
        raise OperationError(_("No court in use has this id."), field=field)
    return court


def _draft_input(agreement: Agreement, data: dict) -> DraftInput:
    """The draft's text as it stands, with what ``data`` gives instead."""
    party_ids = {entry.party_id for entry in agreement.parties}
    given = {r["party_id"]: r["text"] for r in data.get("responsibilities", [])}
    unknown = set(given) - party_ids
    if unknown:
        raise OperationError(_("%(names)s is not a party of this case.",
                               names="、".join(map(str, sorted(unknown)))),
                             field="responsibilities")
    mediator = agreement.mediator
    if "mediator" in data:
        mediator = find_user(data["mediator"]) if data["mediator"] else None
        if data["mediator"] and mediator is None:
            raise OperationError(_("No account has this username."), field="mediator")
    court = _court(data["inviting_court_id"], "inviting_court_id") \
        if "inviting_court_id" in data else agreement.inviting_court
    current = {name: getattr(agreement, name) for name in (
        "facts", "disputed_matters", "copies", "recorder_name", "concerns_status",
        "determines_ownership")}
    text = {**current, **{k: v for k, v in data.items() if k in current}}
    return DraftInput(
        facts=text["facts"] or "", disputed_matters=text["disputed_matters"] or "",
        copies=text["copies"], mediator=mediator, recorder_name=text["recorder_name"],
        inviting_court=court, concerns_status=text["concerns_status"],
        determines_ownership=text["determines_ownership"],
        responsibilities={entry.party_id: given.get(entry.party_id, entry.responsibility)
                          for entry in agreement.parties})


def _draft(case: Case, data: dict) -> Agreement:
    """The whole draft in one call: started from the case, filled in, its terms added."""
    by = caller()
    agreement = operations.start_draft(by, case)
    # Left out or empty, the facts are the case's narrative and the copies one per party
    # and the committee's, as the draft starts with them.
    text = {k: v for k, v in data.items() if k != "terms"
            and not (k in ("facts", "copies") and not v)}
    operations.update_draft(by, agreement, _draft_input(agreement, text))
    for term in data["terms"]:
        operations.save_term(by, agreement, None, _term_input(term))
    return agreement


@cases_bp.route("/<number>/agreements", methods=["POST"])
@idempotent
@cases_bp.arguments(schemas.AgreementIn)
@cases_bp.response(201, shapes.AgreementDetail)
@cases_bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def create_draft(data, number):
    """Draw up a draft agreement for a case in mediation or settled."""
    case = load_case(number)
    if case is None:
        return problem(404)
    refused = refusal(case, ISSUE)
    if refused:
        return refused
    agreement, failure = commit_or_problem(lambda: _draft(case, data))
    if failure:
        return failure
    return agreement, 201, {"Location": url_for("agreements_api.AgreementById",
                                                agreement_id=agreement.id)}


@bp.route(f"/<{ID}:agreement_id>")
class AgreementById(MethodView):
    @bp.response(200, shapes.AgreementDetail)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, agreement_id):
        """One agreement: its text and terms, signatures, performance and judicial
        confirmation."""
        agreement = _visible(agreement_id)
        return agreement if agreement is not None else problem(404)

    @writes
    @bp.arguments(shapes.DraftIn, required=False)
    @bp.response(200, shapes.AgreementDetail)
    @bp.alt_response(409, schema=schemas.Problem, content_type=PROBLEM,
                     description="A stale ``lock_version``, or a closed case.")
    @bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
    def patch(self, data, agreement_id):
        """Save the draft's text, as the builder's form does: the fields given change, the
        others stay. An issued agreement no longer changes (422): correct it instead."""
        agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
        return _change(agreement, refused, lambda: operations.update_draft(
            caller(), agreement, _draft_input(agreement, data),
            seen_version=data.get("lock_version")), conflicts=(StaleAgreement,))


@bp.route(f"/<{ID}:agreement_id>/problems")
class Problems(MethodView):
    @bp.response(200, shapes.DraftProblemList)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, agreement_id):
        """What stops the draft from being issued, as its page lists it (none once issued)."""
        agreement = _visible(agreement_id)
        if agreement is None:
            return problem(404)
        found = operations.problems(agreement) if agreement.is_draft else []
        return {"items": [{"field": field, "message": message} for field, message in found],
                "total": len(found)}


@bp.route(f"/<{ID}:agreement_id>/terms", methods=["POST"])
@idempotent
@bp.arguments(schemas.TermIn)
@bp.response(201, schemas.Term)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def add_term(data, agreement_id):
    """Add a term to the draft, numbered after the others."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    if refused:
        return refused
    term, failure = commit_or_problem(lambda: operations.save_term(
        caller(), agreement, None, _term_input(data)))
    if failure:
        return failure
    return term, 201, {"Location": url_for("agreements_api.TermById", term_id=term.id)}


def _term(term_id: int, permission: str | None = None):
    term = db.session.get(Term, term_id)
    agreement, refused = _load(term.agreement if term else None, permission)
    return (term, agreement, None) if agreement else (None, None, refused)


@bp.route(f"/terms/<{ID}:term_id>")
class TermById(MethodView):
    @bp.response(200, schemas.Term)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, term_id):
        """One term of an agreement."""
        term, _agreement, refused = _term(term_id)
        return refused or term

    @writes
    @bp.arguments(schemas.TermIn)
    @bp.response(200, schemas.Term)
    @bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
    def put(self, data, term_id):
        """Change a term of the draft: it becomes what the body says."""
        term, agreement, refused = _term(term_id, ISSUE)
        return _change(term, refused, lambda: operations.save_term(
            caller(), agreement, term, _term_input(data)))

    @writes
    @bp.response(200, shapes.AgreementDetail)
    @bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
    def delete(self, term_id):
        """Delete a term of the draft; the others are numbered again."""
        term, agreement, refused = _term(term_id, ISSUE)
        return _change(agreement, refused, lambda: operations.delete_term(caller(), term))


@bp.route(f"/terms/<{ID}:term_id>/move", methods=["POST"])
@writes
@bp.arguments(shapes.TermMoveIn)
@bp.response(200, shapes.AgreementDetail)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def move_term(data, term_id):
    """Move a term of the draft up or down in the numbering (the first stays first)."""
    term, agreement, refused = _term(term_id, ISSUE)
    return _change(agreement, refused, lambda: operations.move_term(
        caller(), term, -1 if data["direction"] == "up" else 1))


@bp.route(f"/<{ID}:agreement_id>/parties/<{ID}:party_id>", methods=["POST"])
@writes
@bp.arguments(shapes.PartyDetailsIn, required=False)
@bp.response(200, shapes.PartyCompleted)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def complete_party(data, agreement_id, party_id):
    """Complete what a party's block in the draft lacks (its problems name them): saved on
    the case's party, as the builder does; details already recorded stay as they are."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    if refused:
        return refused
    entry = next((e for e in agreement.parties if e.party_id == party_id), None)
    if entry is None:
        return problem(404)
    details = {name: value for name, value in data.items() if value is not None}
    filled, failure = commit_or_problem(lambda: operations.complete_party(
        caller(), agreement, party_id, details))
    if failure:
        return failure
    if not filled:
        return problem(422, _("Nothing was saved: fill in at least one of the details."))
    return {"filled": filled, "party": entry.party}


@bp.route(f"/<{ID}:agreement_id>/preview")
@bp.response(200, BINARY, content_type="application/pdf",
             description="The draft as it will print, watermarked; never kept.")
@bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
@bp.alt_response(409, schema=schemas.Problem, content_type=PROBLEM,
                 description="Issued: download its PDF instead.")
def preview(agreement_id):
    """The draft as a PDF, as the builder previews it (each preview is in the audit log)."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    if refused:
        return refused
    number = agreement.case.number
    try:
        data = _audited(lambda: operations.preview_pdf(
            caller(), db.session.get(Agreement, agreement_id)))
    except OperationError as error:
        db.session.rollback()
        return operation_problem(error, 409)
    return _file_response(data, "application/pdf", f"协议书草稿-{number}.pdf")


@bp.route(f"/<{ID}:agreement_id>/issue", methods=["POST"])
@writes
@bp.arguments(schemas.IssueIn, required=False)
@bp.response(200, shapes.AgreementDetail)
@bp.alt_response(409, schema=schemas.Problem, content_type=PROBLEM)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def issue(data, agreement_id):
    """Issue the draft: its number and verification code, and the PDF kept for good.
    Issuing twice answers 422 and issues nothing."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    return _change(agreement, refused,
        lambda: operations.issue(caller(), agreement, verify_url=documents.verify_url(),
                                 seen_version=data.get("lock_version")),
        conflicts=(StaleAgreement,))


@bp.route(f"/<{ID}:agreement_id>/discard", methods=["POST"])
@writes
@bp.response(204, description="Discarded, with its terms.")
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def discard(agreement_id):
    """Discard a draft with its terms (the case's timeline keeps that it was)."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    return _change(Response(status=204), refused,
                   lambda: operations.discard_draft(caller(), agreement))


@bp.route(f"/<{ID}:agreement_id>/correct", methods=["POST"])
@idempotent
@bp.response(201, shapes.AgreementDetail)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def correct(agreement_id):
    """Start a correction of the agreement in force: a new draft version, a copy of it,
    which supersedes it once issued. Refused while a court has it, or once confirmed."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), ISSUE)
    if refused:
        return refused
    draft, failure = commit_or_problem(lambda: operations.correct(caller(), agreement))
    if failure:
        return failure
    return draft, 201, {"Location": url_for("agreements_api.AgreementById",
                                            agreement_id=draft.id)}


@bp.route(f"/<{ID}:agreement_id>/pdf")
@bp.response(200, BINARY, content_type="application/pdf",
             description="The issued PDF, as kept.")
@bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
@bp.alt_response(409, schema=schemas.Problem, content_type=PROBLEM)
def pdf(agreement_id):
    """The issued PDF, byte for byte (each download is in the audit log)."""
    agreement = _visible(agreement_id)
    if agreement is None:
        return problem(404)
    if agreement.is_draft:
        return problem(409, _("A draft has no issued PDF: issue it first."))
    data = _audited(lambda: operations.read_pdf(caller(), db.session.get(Agreement,
                                                                         agreement_id)))
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="agreement-{agreement_id}.pdf"'})


# ---- signatures, the signed copy and performance ----------------------------------------

@bp.route(f"/<{ID}:agreement_id>/signatures", methods=["POST"])
@writes
@bp.arguments(shapes.SignatureIn)
@bp.response(200, shapes.AgreementDetail)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def sign(data, agreement_id):
    """Record a party's signature (seal or fingerprint), the mediator's, the recorder's or
    the committee's seal; the agreement is in force from the latest that the law requires
    (People's Mediation Law art. 29)."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), TRACK)
    signer = f"party:{data['party_id']}" if data["signer"] == "party" else data["signer"]
    method = SignMethod(data["method"]) if data.get("method") else None
    return _change(agreement, refused, lambda: operations.record_signature(
        caller(), agreement, signer, data["signed_on"], method))


def _signed_copy_body_limit() -> int:
    """The largest scan allowed as base64 (four characters for three bytes) in its JSON
    body, with room for an encoder that escapes base64's slashes."""
    return 2 * attachments.upload_limit() + 64 * 1024


SCAN = "The scan as uploaded: a PDF, or a JPEG, PNG or WebP photo."


@bp.route(f"/<{ID}:agreement_id>/signed_copy")
class SignedCopy(MethodView):
    @bp.response(200, BINARY, content_type="application/pdf", description=SCAN)
    @bp.alt_response(200, schema=BINARY, content_type="image/jpeg", description=SCAN,
                     success=True)
    @bp.alt_response(200, schema=BINARY, content_type="image/png", description=SCAN,
                     success=True)
    @bp.alt_response(200, schema=BINARY, content_type="image/webp", description=SCAN,
                     success=True)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, agreement_id):
        """The scanned signed copy (each download is in the audit log)."""
        agreement = _visible(agreement_id)
        if agreement is None:
            return problem(404)
        if agreement.signed_copy is None:
            return problem(404, _("No signed copy of this agreement has been uploaded."))
        copy, data = _audited(lambda: operations.read_signed_copy(
            caller(), db.session.get(Agreement, agreement_id)))
        return _file_response(data, copy.content_type, copy.filename)

    @writes
    @bp.arguments(shapes.SignedCopyIn)
    @bp.response(200, shapes.AgreementDetail)
    @bp.alt_response(413, schema=schemas.Problem, content_type=PROBLEM)
    @bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
    def post(self, data, agreement_id):
        """Upload the scanned paper copy with every signature and the seal, as JSON with the
        file in base64; checked by its content as on the page (a PDF or a photo, within the
        size limit). Its day sets the effective date if it is the latest."""
        agreement, refused = _load(db.session.get(Agreement, agreement_id), TRACK)
        return _change(agreement, refused, lambda: operations.attach_signed_copy(
            caller(), agreement, data.get("filename") or "signed.pdf", data["file"],
            data["completed_on"]))


BODY_LIMITS["agreements_api.SignedCopy"] = _signed_copy_body_limit


@bp.route(f"/terms/<{ID}:term_id>/performed", methods=["POST"])
@writes
@bp.arguments(shapes.PerformanceIn)
@bp.response(200, shapes.AgreementDetail)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def performed(data, term_id):
    """Record that a term of the agreement in force was performed (its instalments with
    it)."""
    term, agreement, refused = _term(term_id, TRACK)
    return _change(agreement, refused, lambda: operations.record_performance(
        caller(), term, data["performed_on"], data["on_the_spot"]))


@bp.route(f"/instalments/<{ID}:instalment_id>/paid", methods=["POST"])
@writes
@bp.arguments(shapes.InstalmentPaidIn)
@bp.response(200, shapes.AgreementDetail)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def instalment_paid(data, instalment_id):
    """Record the payment of one instalment; the last one paid performs the term."""
    instalment = db.session.get(Instalment, instalment_id)
    agreement, refused = _load(instalment.term.agreement if instalment else None, TRACK)
    return _change(agreement, refused, lambda: operations.record_instalment(
        caller(), instalment, data["paid_on"]))


# ---- judicial confirmation (司法确认) ---------------------------------------------------

@bp.route(f"/<{ID}:agreement_id>/eligibility")
class Eligibility(MethodView):
    @bp.response(200, shapes.Eligibility)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, agreement_id):
        """Judicial confirmation as the agreement's page shows it: whether a court would
        accept the agreement and why not, the 30 days for the parties' joint application,
        the competent courts with their grounds, the materials, and whether the application
        can be made and a filing recorded now (and why not)."""
        agreement = _visible(agreement_id)
        if agreement is None:
            return problem(404)
        track = operations.confirmation_track(agreement)
        return {
            "agreement_id": agreement.id, "eligible": track.eligibility.eligible,
            "refusals": track.eligibility.refusals, "warnings": track.eligibility.warnings,
            "in_force": agreement.in_force, "effective_on": agreement.effective_on,
            "deadline": track.deadline,
            "days_left": (track.deadline - today()).days if track.deadline else None,
            "provisional_years": track.provisional_years,
            "competent_courts": [{"index": index, "court_id": c.court.id if c.court else None,
                                  "name": c.name, "grounds": c.grounds}
                                 for index, c in enumerate(track.competent)],
            "materials": track.materials, "may_apply": track.may_apply,
            "application_refusal": track.application_refusal,
            "application_closed": track.application_closed, "may_file": track.may_file,
            "filing_refusal": track.filing_refusal,
            "confirmations": agreement.confirmations}


@bp.route(f"/<{ID}:agreement_id>/application", methods=["POST"])
@writes
@bp.arguments(shapes.ApplicationIn, required=False)
@bp.response(200, BINARY, content_type="application/pdf",
             description="The joint application (司法确认申请书) with the parties' full ID "
                         "numbers, for them to sign.")
@bp.alt_response(403, schema=schemas.Problem, content_type=PROBLEM,
                 description="The token's account may not see full ID numbers.")
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def application(data, agreement_id):
    """The parties' joint application for judicial confirmation, prefilled and addressed to
    the competent court chosen; refused (with the page's reason) before the agreement is in
    force, when a court would not accept it, and after the 30 days. Each is in the audit
    log, with each full ID number it reveals."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), TRACK)
    if refused:
        return refused
    if not access.can(caller(), operations.REVEAL, agreement.case):
        return problem(403)
    pdf_data, failure = commit_or_problem(lambda: operations.application_pdf(
        caller(), agreement, data.get("court_index", 0)))
    if failure:
        return failure
    return _file_response(pdf_data, "application/pdf", f"司法确认申请书-{agreement.number}.pdf")


@bp.route(f"/<{ID}:agreement_id>/confirmations", methods=["POST"])
@idempotent
@bp.arguments(shapes.FilingIn)
@bp.response(201, shapes.Confirmation)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def file_confirmation(data, agreement_id):
    """Record that the parties filed their application with a court: a competent one on
    record (``court_id``), or one named (``court_name``)."""
    agreement, refused = _load(db.session.get(Agreement, agreement_id), TRACK)
    if refused:
        return refused
    confirmation, failure = commit_or_problem(lambda: operations.file_confirmation(
        caller(), agreement, court=_court(data.get("court_id"), "court_id"),
        court_name=data.get("court_name"), filed_on=data["filed_on"],
        case_reference=data.get("case_reference")))
    if failure:
        return failure
    return confirmation, 201, {"Location": url_for("agreements_api.ConfirmationById",
                                                   confirmation_id=confirmation.id)}


def _confirmation(confirmation_id: int, permission: str | None = None):
    confirmation = db.session.get(JudicialConfirmation, confirmation_id)
    agreement, refused = _load(confirmation.agreement if confirmation else None, permission)
    return (confirmation, None) if agreement else (None, refused)


@bp.route(f"/confirmations/<{ID}:confirmation_id>")
class ConfirmationById(MethodView):
    @bp.response(200, shapes.Confirmation)
    @bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, confirmation_id):
        """One filing with a court and its outcome."""
        confirmation, refused = _confirmation(confirmation_id)
        return refused or confirmation


@bp.route(f"/confirmations/<{ID}:confirmation_id>/ruling", methods=["POST"])
@writes
@bp.arguments(shapes.RulingIn)
@bp.response(200, shapes.Confirmation)
@bp.alt_response(422, schema=schemas.Problem, content_type=PROBLEM)
def ruling(data, confirmation_id):
    """Record the court's decision (裁定): confirmed valid (with the ruling's number: the
    agreement is then enforceable), dismissed, or not accepted."""
    confirmation, refused = _confirmation(confirmation_id, TRACK)
    return _change(confirmation, refused, lambda: operations.record_ruling(
        caller(), confirmation, result=ConfirmationResult(data["result"]),
        ruling_number=data.get("ruling_number"), ruled_on=data["ruled_on"],
        note=data.get("note")))


@cases_bp.route("/<number>/confirmations")
class CaseConfirmations(MethodView):
    @cases_bp.response(200, shapes.ConfirmationList)
    @cases_bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
    def get(self, number):
        """The filings for judicial confirmation of the case's agreements (every version),
        in the order they were filed."""
        case = load_case(number)
        if case is None:
            return problem(404)
        found = db.session.scalars(
            select(JudicialConfirmation).join(JudicialConfirmation.agreement)
            .where(Agreement.case_id == case.id).order_by(JudicialConfirmation.id)).all()
        return {"items": found, "total": len(found)}


# ---- public verification ----------------------------------------------------------------

@public_bp.route("/agreements/<code>")
@public_bp.doc(security=[])
@public_bp.response(200, schemas.Verification)
@public_bp.alt_response(404, schema=schemas.Problem, content_type=PROBLEM)
def verification(code):
    """What the verification page shows, for a code printed on an agreement."""
    agreement = operations.find_by_code(code)
    if agreement is None:
        return problem(404, _("No agreement has this verification code."))
    facts = queries.public_facts(agreement)
    status = "superseded" if agreement.status is AgreementStatus.SUPERSEDED else (
        "in_force" if agreement.effective_on else "issued")
    return {**facts, "status": status}
