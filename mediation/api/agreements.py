"""/api/v1/agreements: draft, issue, read and download; verification, on the residents'
public blueprint (/api/v1/public, no token)."""

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.agreements import documents, operations, queries
from mediation.agreements.models import Agreement, AgreementStatus, Liability
from mediation.agreements.operations import DraftInput, StaleAgreement, TermInput
from mediation.api import schemas
from mediation.api.cases import bp as cases_bp
from mediation.api.cases import load_case, page, refusal
from mediation.api.http import (
    ID,
    blueprint,
    caller,
    commit_or_problem,
    idempotent,
    problem,
    writes,
)
from mediation.areas.models import Court
from mediation.cases import access
from mediation.cases.models import Case
from mediation.core.errors import OperationError
from mediation.core.money import format_yuan, parse_yuan
from mediation.extensions import db
from mediation.portal.api import bp as public_bp

bp = blueprint("agreements_api", "/agreements", "Written settlement agreements "
               "(人民调解协议书): draft, issue, read, download.")
courts_bp = blueprint("courts_api", "/courts", "The people's courts on record, which "
                      "confirm agreements (an agreement's inviting court is one of them).")
ISSUE = "agreements.issue"


def _visible(agreement_id: int) -> Agreement | None:
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None or load_case(agreement.case.number) is None:
        return None
    return agreement


@bp.route("")
class Agreements(MethodView):
    @bp.arguments(schemas.AgreementQuery, location="query")
    @bp.response(200, schemas.AgreementPage)
    @bp.alt_response(401, schema=schemas.Problem, content_type="application/problem+json")
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
    @courts_bp.alt_response(401, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, query):
        """The courts in use, by name."""
        return page(select(Court).where(Court.active).order_by(Court.name, Court.id), query)


@bp.route(f"/<{ID}:agreement_id>")
class AgreementById(MethodView):
    @bp.response(200, schemas.Agreement)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, agreement_id):
        """One agreement with its terms and their performance."""
        agreement = _visible(agreement_id)
        return agreement if agreement is not None else problem(404)


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


def _draft(case: Case, data: dict) -> Agreement:
    """The whole draft in one call: started from the case, filled in, its terms added."""
    by = caller()
    agreement = operations.start_draft(by, case)
    party_ids = {entry.party_id for entry in agreement.parties}
    responsibilities = {r["party_id"]: r["text"] for r in data.get("responsibilities", [])}
    unknown = set(responsibilities) - party_ids
    if unknown:
        raise OperationError(_("%(names)s is not a party of this case.",
                               names="、".join(map(str, sorted(unknown)))),
                             field="responsibilities")
    court = None
    if data.get("inviting_court_id"):
        court = db.session.get(Court, data["inviting_court_id"])
        if court is None or not court.active:
            raise OperationError(_("No court in use has this id."), field="inviting_court_id")
    operations.update_draft(by, agreement, DraftInput(
        facts=data.get("facts") or case.narrative, disputed_matters=data["disputed_matters"],
        copies=data.get("copies") or agreement.copies, mediator=agreement.mediator,
        recorder_name=data["recorder_name"], inviting_court=court,
        concerns_status=data.get("concerns_status", False),
        determines_ownership=data.get("determines_ownership", False),
        responsibilities=responsibilities))
    for term in data["terms"]:
        operations.save_term(by, agreement, None, TermInput(
            content=term["content"], obligor_id=term.get("obligor_id"),
            obligee_id=term.get("obligee_id"), obligor_ids=term.get("obligor_ids") or [],
            obligee_ids=term.get("obligee_ids") or [],
            liability=Liability(term["liability"]) if term.get("liability") else None,
            shares=_shares(term), amount=term.get("amount"),
            method=term.get("method"), place=term.get("place"), due_on=term.get("due_on"),
            instalments=_instalments(term), on_the_spot=term.get("on_the_spot", False)))
    return agreement


@cases_bp.route("/<number>/agreements", methods=["POST"])
@idempotent
@cases_bp.arguments(schemas.AgreementIn)
@cases_bp.response(201, schemas.Agreement)
@cases_bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
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


@bp.route(f"/<{ID}:agreement_id>/issue", methods=["POST"])
@writes
@bp.arguments(schemas.IssueIn, required=False)
@bp.response(200, schemas.Agreement)
@bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json")
@bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def issue(data, agreement_id):
    """Issue the draft: its number and verification code, and the PDF kept for good.
    Issuing twice answers 422 and issues nothing."""
    agreement = _visible(agreement_id)
    if agreement is None:
        return problem(404)
    refused = refusal(agreement.case, ISSUE)
    if refused:
        return refused
    _result, failure = commit_or_problem(
        lambda: operations.issue(caller(), agreement, verify_url=documents.verify_url(),
                                 seen_version=data.get("lock_version")),
        conflict_types=(StaleAgreement,))
    return failure or agreement


@bp.route(f"/<{ID}:agreement_id>/pdf")
@bp.response(200, content_type="application/pdf", description="The issued PDF, as kept.")
@bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
@bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json")
def pdf(agreement_id):
    """The issued PDF, byte for byte (each download is in the audit log)."""
    agreement = _visible(agreement_id)
    if agreement is None:
        return problem(404)
    if agreement.is_draft:
        return problem(409, _("A draft has no issued PDF: issue it first."))
    data = operations.read_pdf(caller(), agreement)
    db.session.commit()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="agreement-{agreement.id}.pdf"'})


@public_bp.route("/agreements/<code>")
@public_bp.doc(security=[])
@public_bp.response(200, schemas.Verification)
@public_bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def verification(code):
    """What the verification page shows, for a code printed on an agreement."""
    agreement = operations.find_by_code(code)
    if agreement is None:
        return problem(404, _("No agreement has this verification code."))
    facts = queries.public_facts(agreement)
    status = "superseded" if agreement.status is AgreementStatus.SUPERSEDED else (
        "in_force" if agreement.effective_on else "issued")
    return {**facts, "status": status}

