"""/api/v1/areas and /api/v1/cases: read the tree; list, create, read and move cases."""

from flask import current_app, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mediation.api import schemas
from mediation.api.http import (
    ID,
    blueprint,
    caller,
    commit_or_problem,
    idempotent,
    problem,
    writes,
)
from mediation.areas import operations as area_ops
from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import access, operations
from mediation.cases.models import (
    Case,
    Category,
    EscalationProposal,
    Gender,
    Party,
    PartyKind,
    PartyRole,
)
from mediation.cases.operations import CaseInput, PartyInput, StaleEdit
from mediation.cases.queries import Filters, case_list, overdue
from mediation.cases.states import RISK_FACTORS, CaseState, Level, Source
from mediation.core.errors import OperationError
from mediation.core.identity import DocumentType
from mediation.core.money import parse_yuan
from mediation.core.pages import capped_count
from mediation.core.permissions import scope_query
from mediation.extensions import db
from mediation.users.operations import find_user

areas_bp = blueprint("areas_api", "/areas", "The area tree (district → street → community "
                     "→ grid) within the token's jurisdiction.")
bp = blueprint("cases_api", "/cases", "Disputes, their parties and their workflow.")


def page(stmt, query: dict, options=()) -> dict:
    """One page of ``stmt``; ``total`` is counted up to 1,000 (``total_exact`` false beyond:
    a client that needs everything walks with ``cursor``). ``options``: loader options for
    what the items show."""
    total = capped_count(stmt)
    items = db.session.scalars(stmt.options(*options).limit(query["per_page"])
                               .offset((query["page"] - 1) * query["per_page"])).all()
    return {"items": items, "total": total.value, "total_exact": total.exact,
            "page": query["page"], "per_page": query["per_page"]}


@areas_bp.route("")
class Areas(MethodView):
    @areas_bp.arguments(schemas.PageQuery, location="query")
    @areas_bp.response(200, schemas.AreaPage)
    @areas_bp.alt_response(401, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, query):
        """The areas the token's account may see, from the top down."""
        if not caller().can("areas.view"):
            return problem(403)
        stmt = scope_query(caller(), select(AreaNode), AreaNode.path).order_by(AreaNode.path)
        return page(stmt, query)


def load_case(number: str, permission: str = "cases.view") -> Case | None:
    """The case if the caller may see it; None is a 404 (no hint that it exists)."""
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not access.can_view(caller(), case):
        return None
    return case


def refusal(case: Case, permission: str):
    """None if the caller may do ``permission`` on the case; else the problem to answer: 409
    for a closed case (it no longer changes), 403 otherwise."""
    if access.can(caller(), permission, case):
        return None
    if case.state is CaseState.CLOSED and caller().can(permission):
        return problem(409, _("Case %(number)s is closed: it no longer changes.",
                              number=case.number))
    return problem(403)


def _party_input(data: dict) -> PartyInput:
    # An ID number without its document type is a resident ID card, as on the web form.
    id_type = data.get("id_type") or (DocumentType.RESIDENT_ID.value if data.get("id_number")
                                      else None)
    community = None
    if data.get("community"):
        community = db.session.scalar(select(AreaNode).where(
            AreaNode.code == data["community"], AreaNode.kind == AreaKind.COMMUNITY))
        if community is None:
            raise OperationError(_("No community has this code."), field="community")
    return PartyInput(
        role=PartyRole(data["role"]), kind=PartyKind(data.get("kind") or "person"),
        community=community,
        name=data["name"], gender=Gender(data["gender"]) if data.get("gender") else None,
        id_type=id_type, **{key: data.get(key) for key in (
            "ethnicity", "nationality", "birth_date", "occupation", "id_number",
            "id_issuing_country", "phone",
            "address", "uscc", "legal_representative", "legal_representative_title",
            "agent_name", "agent_phone")})


def _case_input(data: dict) -> CaseInput:
    category = db.session.scalar(select(Category).where(Category.code == data["category"],
                                                        Category.active))
    if category is None:
        raise OperationError(_("Unknown category."), field="category")
    grids = list(db.session.scalars(scope_query(caller(), select(AreaNode), AreaNode.path)
                                    .where(AreaNode.kind == AreaKind.GRID)))
    if data.get("grid"):
        grid = next((g for g in grids if g.code == data["grid"]), None)
        if grid is None:
            raise OperationError(_("No grid with this code in your jurisdiction."),
                                 field="grid")
    else:
        grid = area_ops.grid_for_address(data.get("address") or "", grids)
        if grid is None:
            raise OperationError(_("Give the grid: it could not be found from the address."),
                                 field="grid")
    return CaseInput(
        title=data["title"], source=Source(data["source"]), grid=grid, category=category,
        narrative=data["narrative"], address=data.get("address"),
        amount_fen=parse_yuan(data.get("amount")),
        risks={name: name in data.get("risks", []) for name in RISK_FACTORS},
        parties=[_party_input(p) for p in data.get("parties", [])],
        hotline_ticket=data.get("hotline_ticket"))


# A cursor names the last case of the page before; signed, so a client can only pass on
# what it was given (any other value is a 400, not a walk from somewhere else).
CURSOR_SALT = "api.cases.cursor"
FIRST_PAGE = "*"


def _cursor(case_id: int) -> str:
    return URLSafeSerializer(current_app.secret_key, salt=CURSOR_SALT).dumps(case_id)


def _after(cursor: str) -> int | None:
    """The case id a cursor continues after (0 for ``*``); None for a cursor not ours."""
    if cursor == FIRST_PAGE:
        return 0
    try:
        case_id = URLSafeSerializer(current_app.secret_key, salt=CURSOR_SALT).loads(cursor)
    except BadData:
        return None
    valid = isinstance(case_id, int) and not isinstance(case_id, bool) and case_id >= 0
    return case_id if valid else None


# What a case in a list shows (schemas.Case), read for the whole page at once.
CASE_LOADS = (selectinload(Case.grid), selectinload(Case.category), selectinload(Case.handler),
              selectinload(Case.parties).selectinload(Party.community))


def walk(stmt, cursor: str, per_page: int):
    """One page of a walk through ``stmt``'s cases by id: keyset, so every case comes once
    however many there are and whatever changes meanwhile; ``next_cursor`` null at the end."""
    after = _after(cursor)
    if after is None:
        message = _("The cursor is not valid: start with cursor=* and then pass on each "
                    "reply's next_cursor unchanged.")
        return problem(400, message, errors=[{"field": "cursor", "message": message}])
    items = db.session.scalars(stmt.where(Case.id > after).order_by(None).order_by(Case.id)
                               .options(*CASE_LOADS).limit(per_page + 1)).all()
    more = len(items) > per_page
    items = items[:per_page]
    return {"items": items, "per_page": per_page,
            "next_cursor": _cursor(items[-1].id) if more else None}


@bp.route("")
class Cases(MethodView):
    @bp.arguments(schemas.CaseQuery, location="query")
    @bp.response(200, schemas.CasePage)
    @bp.alt_response(400, schema=schemas.Problem, content_type="application/problem+json")
    @bp.alt_response(401, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, query):
        """Cases in the token's jurisdiction, most recently updated first; with ``cursor``,
        all of them page by page in the order of their ids (``next_cursor`` until null).
        ``q`` searches them as the queue page does."""
        stmt = case_list(caller(), Filters(queue="all", q=(query.get("q") or "").strip()))
        for name, column in (("state", Case.state), ("level", Case.level),
                             ("risk", Case.risk_level)):
            if query.get(name):
                stmt = stmt.where(column == query[name])
        if query.get("category"):
            stmt = stmt.where(Case.category_id.in_(
                select(Category.id).where(Category.code == query["category"])))
        if query.get("grid"):
            stmt = stmt.where(Case.grid_id.in_(select(AreaNode.id)
                                               .where(AreaNode.code == query["grid"])))
        if query.get("overdue") is not None:
            stmt = stmt.where(overdue() if query["overdue"] else ~overdue())
        if query.get("updated_since"):
            stmt = stmt.where(Case.updated_at >= query["updated_since"])
        if "cursor" in query:
            return walk(stmt, query["cursor"], query["per_page"])
        return page(stmt.order_by(None).order_by(Case.updated_at.desc(), Case.id.desc()), query,
                    CASE_LOADS)

    @idempotent
    @bp.arguments(schemas.CaseIn)
    @bp.response(201, schemas.Case)
    @bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
    def post(self, data):
        """Register a dispute (the hotline's hand-over); send an Idempotency-Key to retry
        safely."""
        if not caller().can("cases.create"):
            return problem(403)
        case, failure = commit_or_problem(lambda: operations.create_case(caller(),
                                                                         _case_input(data)))
        if failure:
            return failure
        return case, 201, {"Location": url_for("cases_api.CaseByNumber", number=case.number)}


@bp.route("/<number>")
class CaseByNumber(MethodView):
    @bp.response(200, schemas.Case)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, number):
        """One case by its number."""
        case = load_case(number)
        return case if case is not None else problem(404)


@bp.route("/<number>/events")
class Events(MethodView):
    @bp.response(200, schemas.EventList)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, number):
        """The case's timeline, oldest first: who did what, when and why (the case page's)."""
        case = load_case(number)
        if case is None:
            return problem(404)
        return {"items": case.events, "total": len(case.events)}


@bp.route("/<number>/proposals")
class Proposals(MethodView):
    @bp.response(200, schemas.ProposalList)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, number):
        """The escalation proposals of the case, newest first: open ones await a decision."""
        case = load_case(number)
        if case is None:
            return problem(404)
        found = db.session.scalars(select(EscalationProposal).where(
            EscalationProposal.case_id == case.id).order_by(EscalationProposal.id.desc())).all()
        return {"items": found, "total": len(found)}


proposals_bp = blueprint("proposals_api", "/proposals", "Escalation proposals: deciding them.")


@proposals_bp.route(f"/<{ID}:proposal_id>/decide", methods=["POST"])
@writes
@proposals_bp.arguments(schemas.DecisionIn)
@proposals_bp.response(200, schemas.Proposal)
@proposals_bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
@proposals_bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def decide_proposal(data, proposal_id):
    """Confirm (the case moves up now) or dismiss (with a note) an escalation proposal, as
    the case page's decision does: by someone at the receiving level, never the handler."""
    proposal = db.session.get(EscalationProposal, proposal_id)
    case = load_case(proposal.case.number) if proposal is not None else None
    if case is None:
        return problem(404)
    refused = refusal(case, "cases.decide")
    if refused:
        return refused
    _result, failure = commit_or_problem(lambda: operations.decide_proposal(
        caller(), proposal, data["decision"] == "confirm", data.get("note")))
    return failure or proposal


@bp.route("/<number>/parties")
class Parties(MethodView):
    @bp.response(200, schemas.PartyList)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, number):
        """The parties, ID numbers and phones masked."""
        case = load_case(number)
        if case is None:
            return problem(404)
        return {"items": case.parties, "total": len(case.parties)}

    @idempotent
    @bp.arguments(schemas.PartyIn)
    @bp.response(201, schemas.Party)
    @bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
    def post(self, data, number):
        """Add a party."""
        case = load_case(number)
        if case is None:
            return problem(404)
        refused = refusal(case, "cases.handle")
        if refused:
            return refused
        party, failure = commit_or_problem(
            lambda: operations.add_party(caller(), case, _party_input(data)))
        return failure or (party, 201)


def _handler(data):
    if not data.get("handler"):
        return None
    user = find_user(data["handler"])
    if user is None:
        raise OperationError(_("No account has this username."), field="handler")
    return user


# Workflow actions: (permission, the operation given the caller, the case and the body).
ACTIONS = {
    "accept": ("cases.handle", lambda by, case, d: operations.accept_case(
        by, case, handler=_handler(d), seen_version=d.get("version"))),
    "decline": ("cases.handle", lambda by, case, d: operations.decline_case(
        by, case, d.get("reason") or "", d.get("referred_to"), seen_version=d.get("version"))),
    "start": ("cases.handle", lambda by, case, d: operations.start_mediation(
        by, case, seen_version=d.get("version"))),
    "escalate": ("cases.decide", lambda by, case, d: operations.move_level(
        by, case, Level(d["to_level"]) if d.get("to_level") else case.level.next,
        d.get("reason") or "")),
    "refer_out": ("cases.handle", lambda by, case, d: operations.refer_out(
        by, case, d.get("referred_to") or "", d.get("reason") or "",
        seen_version=d.get("version"))),
    "settle": ("cases.handle", lambda by, case, d: operations.settle_case(
        by, case, partly=d.get("partly", False), oral_agreement=d.get("oral_agreement"),
        note=d.get("note"), seen_version=d.get("version"))),
    "fail": ("cases.handle", lambda by, case, d: operations.fail_case(
        by, case, d.get("reason") or "", d.get("routes_told", []),
        seen_version=d.get("version"))),
    "withdraw": ("cases.handle", lambda by, case, d: operations.withdraw_case(
        by, case, d.get("reason") or "", seen_version=d.get("version"))),
    "close": ("cases.handle", lambda by, case, d: operations.close_case(
        by, case, d.get("note"), seen_version=d.get("version"))),
}


@bp.route("/<number>/<any(" + ", ".join(ACTIONS) + "):action>", methods=["POST"])
@writes
@bp.arguments(schemas.ActionIn, required=False)
@bp.response(200, schemas.Case)
@bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json")
@bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def case_action(data, number, action):
    """A workflow step: accept, decline, start, escalate, refer_out, settle, fail, withdraw,
    close.  Refused moves answer 422 with the reason; a stale ``version`` 409."""
    case = load_case(number)
    if case is None:
        return problem(404)
    permission, operation = ACTIONS[action]
    refused = refusal(case, permission)
    if refused:
        return refused
    if action == "escalate" and case.level.next is None and not data.get("to_level"):
        return problem(422, _("The case is already at the street level."))
    _result, failure = commit_or_problem(lambda: operation(caller(), case, data),
                                         conflict_types=(StaleEdit,))
    return failure or case
