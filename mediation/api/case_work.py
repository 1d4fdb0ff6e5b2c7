"""The rest of the case page through the API: taking a case over, assignments, notes and legal
opinions, follow-up visits, a party's refusal, requests to escalate, supervision notices,
help from departments, files, edits of the case and of a party, and a party's full ID
number, phone or new access code on request.  Each call runs the operation the page runs,
with the page's permission, in the token's jurisdiction (another case is a 404)."""

import base64
import binascii
import math

from flask import request, send_file, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.api import case_schemas as shapes
from mediation.api import schemas
from mediation.api.cases import _party_input, load_case, refusal
from mediation.api.cases import bp as cases_bp
from mediation.api.http import (
    ID,
    blueprint,
    caller,
    commit_or_problem,
    idempotent,
    problem,
    respond_to_error,
    writes,
)
from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import attachments, operations
from mediation.cases.models import (
    Attachment,
    Case,
    Category,
    Department,
    FollowUp,
    HelpRequest,
    Party,
    SupervisionNotice,
)
from mediation.cases.operations import CaseInput, StaleEdit
from mediation.cases.states import RISK_FACTORS, Level, Source
from mediation.core.db import write_intent
from mediation.core.errors import OperationError
from mediation.core.money import parse_yuan
from mediation.core.permissions import scope_query
from mediation.extensions import db
from mediation.portal import operations as portal_ops

PROBLEM = "application/problem+json"
NO_STORE = {"Cache-Control": "no-store"}  # a full ID number, phone or code: kept nowhere

supervision_bp = blueprint("supervision_api", "/supervision_notices", "Supervision notices "
                           "(督办): several cases at once, and the handler's response.")
help_bp = blueprint("help_api", "/help_requests", "Help requested from departments (吹哨报到): "
                    "recording the department's response.")
attachments_bp = blueprint("attachments_api", "/attachments", "Photos and documents of a "
                           "case: downloading them.")
BLUEPRINTS = (supervision_bp, help_bp, attachments_bp)


def _problems(blp, *statuses: int):
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=schemas.Problem, content_type=PROBLEM)(view)
        return view
    return decorate


def _case_for(number: str, permission: str):
    """(the case, None) if the caller may do ``permission`` on it; else (None, the problem):
    404 outside the jurisdiction, 409 on a closed case, 403 otherwise."""
    case = load_case(number)
    if case is None:
        return None, problem(404)
    return (None, refused) if (refused := refusal(case, permission)) else (case, None)


def _party(case: Case, party_id: int) -> Party | None:
    return next((p for p in case.parties if p.id == party_id), None)


def _listed(number: str, model, *order):
    """The case's rows of ``model`` (its notices, visits, files…) in ``order``."""
    case = load_case(number)
    if case is None:
        return problem(404)
    found = db.session.scalars(select(model).where(model.case_id == case.id)
                               .order_by(*order)).all()
    return {"items": found, "total": len(found)}


def _created(number: str, permission: str, operation):
    """201 with what ``operation(case)`` made on the case, if the caller may ``permission``
    on it (a stale ``version`` is a 409)."""
    case, refused = _case_for(number, permission)
    if refused:
        return refused
    made, failure = commit_or_problem(lambda: operation(case), conflict_types=(StaleEdit,))
    return failure or (made, 201)


def _answered(model, row_id: int, permission: str, operation):
    """A response recorded on a row of a case (a supervision notice, a help request)."""
    row = db.session.get(model, row_id)
    if row is None:
        return problem(404)
    _case, refused = _case_for(row.case.number, permission)
    if refused:
        return refused
    _result, failure = commit_or_problem(lambda: operation(caller(), row))
    return failure or row


# ---- the handler and the people on the case -----------------------------------------------

@cases_bp.route("/<number>/take_over", methods=["POST"])
@writes
@cases_bp.response(200, schemas.Case)
@_problems(cases_bp, 404, 409, 422)
def take_over(number):
    """Become the handler of a case that waits for one (one moved above its handler), as the
    case page's "take over" does."""
    case, refused = _case_for(number, "cases.handle")
    if refused:
        return refused
    _result, failure = commit_or_problem(lambda: operations.take_over(caller(), case))
    return failure or case


def _team(case: Case) -> dict:
    return {"handler": case.handler, "items": case.assignments,
            "total": len(case.assignments)}


@cases_bp.route("/<number>/assignments")
class Assignments(MethodView):
    @cases_bp.response(200, shapes.Team)
    @_problems(cases_bp, 404)
    def get(self, number):
        """Who works on the case: the handler, co-handlers and legal-aid volunteers."""
        case = load_case(number)
        return _team(case) if case is not None else problem(404)

    @idempotent
    @cases_bp.arguments(shapes.AssignIn)
    @cases_bp.response(200, shapes.Team)
    @_problems(cases_bp, 404, 409, 422)
    def post(self, data, number):
        """Give the case to a handler, or add a co-handler or a legal-aid volunteer (it opens
        the case to them); answers who now works on it."""
        case, refused = _case_for(number, "cases.assign")
        if refused:
            return refused
        _result, failure = commit_or_problem(lambda: operations.assign_person(
            caller(), case, data["username"], data["role"]))
        return failure or _team(case)


# ---- notes, opinions, visits, refusals, requests to escalate ---------------------------------



@cases_bp.route("/<number>/notes", methods=["POST"])
@idempotent
@cases_bp.arguments(shapes.TextIn)
@cases_bp.response(201, schemas.Event)
@_problems(cases_bp, 404, 409, 422)
def add_note(data, number):
    """A note on the case's timeline."""
    return _created(number, "cases.handle", lambda case: operations.add_note(
        caller(), case, data["text"]))


@cases_bp.route("/<number>/opinions", methods=["POST"])
@idempotent
@cases_bp.arguments(shapes.TextIn)
@cases_bp.response(201, schemas.Event)
@_problems(cases_bp, 404, 409, 422)
def add_opinion(data, number):
    """A legal-aid volunteer's legal opinion, on the timeline."""
    return _created(number, "cases.opinion", lambda case: operations.add_opinion(
        caller(), case, data["text"]))


@cases_bp.route("/<number>/follow_ups")
class FollowUps(MethodView):
    @cases_bp.response(200, shapes.FollowUpList)
    @_problems(cases_bp, 404)
    def get(self, number):
        """The follow-up visits (回访), latest first."""
        return _listed(number, FollowUp, FollowUp.visited_on.desc(), FollowUp.id.desc())

    @idempotent
    @cases_bp.arguments(shapes.FollowUpIn)
    @cases_bp.response(201, shapes.FollowUp)
    @_problems(cases_bp, 404, 409, 422)
    def post(self, data, number):
        """Record a follow-up visit after the outcome; the first moves the case into
        follow-up."""
        return _created(number, "cases.handle", lambda case: operations.record_follow_up(
            caller(), case, visited_on=data["visited_on"], performance=data["performance"],
            satisfaction=data["satisfaction"], new_lawsuit=data["new_lawsuit"],
            remaining_risk=data.get("remaining_risk"), measures=data.get("measures"),
            seen_version=data.get("version")))


@cases_bp.route(f"/<number>/parties/<{ID}:party_id>/refusal", methods=["POST"])
@writes
@cases_bp.arguments(shapes.RefusalIn, required=False)
@cases_bp.response(200, schemas.Case)
@_problems(cases_bp, 404, 409, 422)
def record_refusal(data, number, party_id):
    """The party expressly refuses mediation (PML 17): a case not yet mediated is declined,
    one in mediation fails; answers the case."""
    case, refused = _case_for(number, "cases.handle")
    if refused:
        return refused
    party = _party(case, party_id)
    if party is None:
        return problem(404)
    _result, failure = commit_or_problem(lambda: operations.record_refusal(
        caller(), party, data.get("reason") or ""))
    return failure or case


@cases_bp.route("/<number>/proposals", methods=["POST"])
@idempotent
@cases_bp.arguments(shapes.EscalationRequestIn)
@cases_bp.response(201, schemas.Proposal)
@_problems(cases_bp, 404, 409, 422)
def request_escalation(data, number):
    """Ask for the case to move up: a proposal that someone at that level decides."""
    return _created(number, "cases.request_escalation",
                    lambda case: operations.request_escalation(
                        caller(), case, Level(data["to_level"]), data["reason"]))


# ---- supervision (督办) -------------------------------------------------------------------

@cases_bp.route("/<number>/supervision_notices")
class SupervisionNotices(MethodView):
    @cases_bp.response(200, shapes.SupervisionNoticeList)
    @_problems(cases_bp, 404)
    def get(self, number):
        """The case's supervision notices, newest first: those without a response wait for
        the handler's."""
        return _listed(number, SupervisionNotice, SupervisionNotice.id.desc())

    @idempotent
    @cases_bp.arguments(shapes.SupervisionIn)
    @cases_bp.response(201, shapes.SupervisionNotice)
    @_problems(cases_bp, 404, 409, 422)
    def post(self, data, number):
        """Press the handler of an open case (督办), optionally for a response by a day."""
        return _created(number, "cases.supervise", lambda case: operations.issue_supervision(
            caller(), case, data["message"], data.get("respond_by")))


@supervision_bp.route("", methods=["POST"])
@idempotent
@supervision_bp.arguments(shapes.SupervisionManyIn)
@supervision_bp.response(201, shapes.SupervisionNoticeList)
@_problems(supervision_bp, 422)
def supervise_many(data):
    """Supervise several cases with one message, as the dashboard's overdue list does: all
    or none."""
    if not caller().can("cases.supervise"):
        return problem(403)
    notices, failure = commit_or_problem(lambda: operations.supervise_many(
        caller(), data["cases"], data["message"], data.get("respond_by")))
    return failure or ({"items": notices, "total": len(notices)}, 201)


@supervision_bp.route(f"/<{ID}:notice_id>/respond", methods=["POST"])
@writes
@supervision_bp.arguments(shapes.ResponseIn)
@supervision_bp.response(200, shapes.SupervisionNotice)
@_problems(supervision_bp, 404, 409, 422)
def respond_supervision(data, notice_id):
    """The handler's (or a co-handler's) response to a notice, once."""
    return _answered(SupervisionNotice, notice_id, "cases.handle",
                     lambda by, notice: operations.respond_supervision(
                         by, notice, data["response"]))


# ---- help from departments (吹哨报到) -------------------------------------------------------

@cases_bp.route("/<number>/help_requests")
class HelpRequests(MethodView):
    @cases_bp.response(200, shapes.HelpRequestList)
    @_problems(cases_bp, 404)
    def get(self, number):
        """The departments asked to help, newest first, with their responses."""
        return _listed(number, HelpRequest, HelpRequest.id.desc())

    @idempotent
    @cases_bp.arguments(shapes.HelpIn)
    @cases_bp.response(201, shapes.HelpRequest)
    @_problems(cases_bp, 404, 409, 422)
    def post(self, data, number):
        """Whistle a department in."""
        return _created(number, "cases.request_help", lambda case: operations.request_help(
            caller(), case, Department(data["department"]), data.get("department_detail"),
            data["message"]))


@help_bp.route(f"/<{ID}:help_id>/response", methods=["POST"])
@writes
@help_bp.arguments(shapes.ResponseIn)
@help_bp.response(200, shapes.HelpRequest)
@_problems(help_bp, 404, 409, 422)
def record_help_response(data, help_id):
    """What the department answered, recorded once."""
    return _answered(HelpRequest, help_id, "cases.request_help",
                     lambda by, help_request: operations.record_help_response(
                         by, help_request, data["response"]))


# ---- files --------------------------------------------------------------------------------

UPLOAD = "cases_api.Attachments"
# What a download may be: what ``attachments.sniff`` recognises.
FILE_TYPES = [content_type for _sig, content_type in attachments.SIGNATURES] + \
    [attachments.WEBP[0]]


def upload_body_limit() -> int:
    """An upload's body: the largest file in base64 (with MIME line breaks, written \\r\\n in
    JSON), and room for the name and description around it."""
    return 4 * math.ceil(attachments.upload_limit() / 3) * 106 // 100 + 64 * 1024


@cases_bp.url_value_preprocessor
def _room_for_a_file(endpoint, values):
    """An upload is larger than the app's limit on a request (set before any hook reads the
    body)."""
    if endpoint == UPLOAD and request.method == "POST":
        request.max_content_length = upload_body_limit()


@cases_bp.errorhandler(413)
def _too_large(error):
    if request.endpoint != UPLOAD:
        return respond_to_error(error)
    return problem(413, _("The file is larger than %(mb)d MB.",
                          mb=attachments.upload_limit() // (1024 * 1024)))


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise OperationError(_("The file is not in base64."), field="file") from None


@cases_bp.route("/<number>/attachments")
class Attachments(MethodView):
    @cases_bp.response(200, shapes.AttachmentList)
    @_problems(cases_bp, 404)
    def get(self, number):
        """The case's photos and documents, in the order they were attached."""
        return _listed(number, Attachment, Attachment.id)

    @idempotent
    @cases_bp.arguments(shapes.AttachmentIn)
    @cases_bp.response(201, shapes.Attachment)
    @_problems(cases_bp, 404, 409, 413, 422)
    def post(self, data, number):
        """Attach a photo (JPEG, PNG, WebP) or a PDF, sent in base64 in the JSON body; the
        type is read from its first bytes, as on the case page, and anything else refused."""
        case, refused = _case_for(number, "cases.handle")
        if refused:
            return refused
        attachment, failure = commit_or_problem(lambda: attachments.add_attachment(
            caller(), case, data["filename"], _decoded(data["file"]), data.get("description")))
        if failure:
            return failure
        return attachment, 201, {"Location": url_for("attachments_api.download",
                                                     attachment_id=attachment.id)}


@attachments_bp.route(f"/<{ID}:attachment_id>/file")
@attachments_bp.doc(responses={"200": {"description": "The file as attached.", "content": {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in FILE_TYPES}}})
@_problems(attachments_bp, 404)
def download(attachment_id):
    """The file, byte for byte; each download is in the audit log, as on the case page."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or load_case(attachment.case.number) is None:
        return problem(404)
    db.session.commit()  # end the read transaction; the audited read writes (SQLite: queue)
    write_intent.set(True)
    path = attachments.open_attachment(caller(), attachment)
    mimetype, name = attachment.content_type, attachment.filename
    db.session.commit()
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name,
                     max_age=0)


# ---- editing the case and its parties -----------------------------------------------------

def _edited(case: Case, data: dict) -> CaseInput:
    """The case's intake details with the given ones changed."""
    category, grid = case.category, case.grid
    if "category" in data and data["category"] != category.code:
        category = db.session.scalar(select(Category).where(Category.code == data["category"]))
        if category is None:
            raise OperationError(_("Unknown category."), field="category")
    if "grid" in data and data["grid"] != grid.code:
        grid = db.session.scalar(scope_query(caller(), select(AreaNode), AreaNode.path).where(
            AreaNode.code == data["grid"], AreaNode.kind == AreaKind.GRID))
        if grid is None:
            raise OperationError(_("No grid with this code in your jurisdiction."),
                                 field="grid")
    risks = case.risk_flags if "risks" not in data else \
        {name: name in data["risks"] for name in RISK_FACTORS}
    return CaseInput(
        title=data.get("title", case.title), source=Source(data.get("source", case.source)),
        grid=grid, category=category, narrative=data.get("narrative", case.narrative),
        address=data.get("address", case.address),
        amount_fen=parse_yuan(data["amount"]) if "amount" in data else case.amount_fen,
        risks=risks)


@cases_bp.route("/<number>", methods=["PATCH"])
@writes
@cases_bp.arguments(shapes.CaseEditIn, required=False)
@cases_bp.response(200, schemas.Case)
@_problems(cases_bp, 404, 409, 422)
def edit_case(data, number):
    """Edit the intake details, as the case page's edit form does (the parties on their
    own); a stale ``version`` answers 409."""
    case, refused = _case_for(number, "cases.handle")
    if refused:
        return refused
    _result, failure = commit_or_problem(lambda: operations.update_case(
        caller(), case, _edited(case, data), data.get("version")),
        conflict_types=(StaleEdit,))
    return failure or case


@cases_bp.route(f"/<number>/parties/<{ID}:party_id>", methods=["PUT"])
@writes
@cases_bp.arguments(shapes.PartyEditIn)
@cases_bp.response(200, schemas.Party)
@_problems(cases_bp, 404, 409, 422)
def edit_party(data, number, party_id):
    """Replace a party's details, as its form on the case page does; a stale ``version``
    answers 409."""
    case, refused = _case_for(number, "cases.handle")
    if refused:
        return refused
    party = _party(case, party_id)
    if party is None:
        return problem(404)
    data.setdefault("kind", party.kind.value)
    if "id_type" not in data and not data.get("id_number"):
        data["id_type"] = party.id_type  # the recorded number stays, with its document
    _result, failure = commit_or_problem(lambda: operations.update_party(
        caller(), party, _party_input(data), seen_version=data.get("version")),
        conflict_types=(StaleEdit,))
    return failure or party


# ---- a party's details in full, on request --------------------------------------------------

def _party_detail(number: str, party_id: int, permission: str, operation):
    case, refused = _case_for(number, permission)
    if refused:
        return refused
    party = _party(case, party_id)
    if party is None:
        return problem(404)
    value, failure = commit_or_problem(lambda: operation(caller(), party))
    return failure or ({"party_id": party.id, "value": value}, 200, NO_STORE)


@cases_bp.route(f"/<number>/parties/<{ID}:party_id>/id_number", methods=["POST"])
@writes
@cases_bp.response(200, shapes.Revealed)
@_problems(cases_bp, 404, 409, 422)
def reveal_id_number(number, party_id):
    """The party's full ID number, once, for someone who may read it (PML 15): the read is
    in the audit log. Answers are never to be cached."""
    return _party_detail(number, party_id, "cases.reveal", operations.reveal_id_number)


@cases_bp.route(f"/<number>/parties/<{ID}:party_id>/phone", methods=["POST"])
@writes
@cases_bp.response(200, shapes.Revealed)
@_problems(cases_bp, 404, 422)
def reveal_phone(number, party_id):
    """The party's full phone number, to call them: the read is in the audit log."""
    return _party_detail(number, party_id, "cases.view", operations.reveal_phone)


@cases_bp.route(f"/<number>/parties/<{ID}:party_id>/portal_code", methods=["POST"])
@writes
@cases_bp.response(200, shapes.AccessCode)
@_problems(cases_bp, 404, 409)
def renew_access_code(number, party_id):
    """A new access code (查询码) for the party's own view of the case on the residents'
    portal; the old one stops working. Shown in this answer only."""
    case, refused = _case_for(number, "cases.handle")
    if refused:
        return refused
    party = _party(case, party_id)
    if party is None:
        return problem(404)
    code = portal_ops.issue_code(caller(), party)
    return {"case_number": case.number, "party_id": party.id, "code": code}, 200, NO_STORE
