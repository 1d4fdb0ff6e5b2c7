"""/api/v1/public: what residents do on the portal's pages, for apps — no token, the same
operations, checks and limits as the pages.

The case number and the access code travel in the body only: no address, access log or
audit entry holds the pair (public calls leave no ``api.call`` entry; the operations
record what they change with the case's number, as the pages do).  A wrong code and an
unknown number get the same 404, after the same work, and both count towards the limits
on guessing (``limits.party_for``).  Every answer holding a code or a party's view is
marked ``no-store``.
"""

import base64
import binascii

from flask import current_app, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.api import schemas
from mediation.api.http import (
    ID,
    blueprint,
    commit_or_problem,
    problem,
    respond_to_error,
    writes,
)
from mediation.cases.models import Category, Party
from mediation.core import photos
from mediation.core.calendar import LOCAL, provisional_years
from mediation.core.errors import OperationError
from mediation.core.ratelimit import limit_views
from mediation.extensions import db
from mediation.portal import api_schemas as shapes
from mediation.portal import limits, operations, places, reports
from mediation.portal.models import Rating, Satisfaction
from mediation.sessions.models import Reply
from mediation.sessions.notices import status_page

bp = blueprint("public", "/public", "Open to anyone, no token. Residents report a dispute, "
               "and a party checks its own case with the case number and its access code "
               "(sent in the body, never in the address), answers a session notice and rates "
               "the service — what the residents' pages do, with the same limits. Anyone "
               "verifies an agreement by its code.", public=True)
PROBLEM = "application/problem+json"
NO_STORE = {"Cache-Control": "no-store"}  # shared and borrowed phones, proxies
REPORT = "public.report"
# A report's body: the photos the report page takes (MAX_PHOTOS of MAX_BYTES), in base64,
# and room for the text around them (a narrative of emoji, each written \ud83d\ude00, is
# 60 kB). The JSON is read whole into memory, so the room is no larger than that needs.
REPORT_BODY_BYTES = photos.MAX_PHOTOS * shapes.PHOTO_CHARACTERS + 128 * 1024

# Reports from one client address: one count with the report page (its scope), kept where
# every worker and server counts.
limit_views(bp, lambda: current_app.config["REPORT_RATE_LIMIT"], REPORT, methods=["POST"],
            scope="portal-report")


@bp.url_value_preprocessor
def _room_for_photos(endpoint, values):
    """A report carries up to six photos in base64, more than the app's limit on a request
    (set before any hook reads the body)."""
    if endpoint == REPORT and request.method == "POST":
        request.max_content_length = REPORT_BODY_BYTES


@bp.errorhandler(413)
def _too_large(error):
    """A report over its size: say what fits (the other calls keep the app's answer)."""
    if request.endpoint != REPORT:
        return respond_to_error(error)
    return problem(413, _("The report is too large: it may carry at most %(n)d photos of at "
                          "most %(mb)d MB each (in base64) besides its text. Send fewer or "
                          "smaller photos.", n=photos.MAX_PHOTOS,
                          mb=photos.MAX_BYTES // (1024 * 1024)))


@bp.errorhandler(429)
def _too_many(error):
    """The report limit: the caller has no token, so not the API's "with this token"."""
    return problem(429, _("Too many requests from this address: please wait a while and try "
                          "again, or call the mediation centre."))


def _problems(*statuses: int):
    def decorate(view):
        for status in statuses:
            view = bp.alt_response(status, schema=schemas.Problem, content_type=PROBLEM)(view)
        return view
    return decorate


# ---- report a dispute ---------------------------------------------------------------------

def consent_page() -> str:
    return url_for("portal.report", by="address", _external=True) + "#consent-text"


def _photo(position: int, text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise OperationError(_("Photo %(n)d is not a file in base64.", n=position),
                             field=f"photos.{position - 1}") from None


def _category(code: str | None) -> Category | None:
    if not (code or "").strip():
        return None  # not sure: filed as "other"
    category = db.session.scalar(select(Category).where(Category.code == code.strip(),
                                                        Category.active))
    if category is None:
        raise OperationError(_("Unknown category."), field="category")
    return category


def _reported(data: dict) -> reports.Receipt:
    sent = [_photo(n, text) for n, text in enumerate(data["photos"], start=1)]
    try:
        return reports.report_dispute(reports.ReportInput(
            name=data["name"], phone=data["phone"],
            grid=places.grid_for(data.get("grid"), data.get("address")),
            narrative=data["narrative"], category=_category(data.get("category")),
            address=data.get("address"), other_name=data.get("other_name"),
            other_phone=data.get("other_phone"), in_danger=data["in_danger"],
            minor=data["minor"], guardian_name=data.get("guardian_name"),
            guardian_phone=data.get("guardian_phone"), consent=data["consent"],
            photos=sent))
    except photos.PhotoRefused as error:
        raise OperationError(_("Photo %(n)d: %(problem)s", n=error.position,
                               problem=error.message),
                             field=f"photos.{error.position - 1}") from None


@bp.route("/reports", methods=["POST"])
@writes
@bp.arguments(shapes.ReportIn)
@bp.response(201, shapes.Receipt)
@_problems(422, 429)
@bp.doc(security=[])
def report(data):
    """Report a dispute (申请调解), as the report page does: the case lands in its grid's
    queue as reported via resident; the answer holds its number and the applicant's access
    code, shown this once. Limited per client address, with the report page."""
    if not data["consent"]:
        message = _("Send consent: true once the resident has read and agreed to the notice "
                    "on personal information: %(url)s", url=consent_page())
        return problem(422, message, errors=[{"field": "consent", "message": message,
                                              "link": consent_page()}])
    receipt, failure = commit_or_problem(lambda: _reported(data))
    if failure:
        return failure
    return {"case_number": receipt.case.number, "access_code": receipt.access_code,
            "grid": receipt.case.grid.name, "check_at": status_page(),
            "check_api": url_for("public.status", _external=True)}, 201, NO_STORE


# ---- a party's own view ---------------------------------------------------------------------

def _party(data: dict):
    """The party the body's number and code open; else the problem to answer (the same
    404 for a wrong code and an unknown number; 429 while refused)."""
    party, wait = limits.party_for(data["case_number"], data["access_code"])
    if wait:
        return None, problem(429, _(
            "Too many wrong attempts. For your safety, checking is paused: please try again "
            "in about %(minutes)d minutes, or call the mediation centre.",
            minutes=max(1, round(wait / 60))), headers={"Retry-After": str(wait), **NO_STORE})
    if party is None:
        return None, problem(404, _("The case number or the access code is not right. "
                                    "Please check both and try again."), headers=NO_STORE)
    return party, None


def _day(moment):
    return moment.astimezone(LOCAL).date() if moment else None


def _session(item: operations.SessionItem, what_to_bring: str) -> dict:
    session, participant = item.session, item.participant
    return {
        "id": session.id, "status": session.status.value, "starts_at": session.starts_at,
        "ends_at": session.ends_at, "when": item.when,
        "provisional": bool(provisional_years(session.starts_at)), "place": item.place,
        "purpose": session.purpose, "what_to_bring": what_to_bring,
        "reply": participant.reply.value if participant.reply else None,
        "reply_reason": participant.reply_reason, "may_reply": item.may_reply,
    }


def _agreement(entry: dict) -> dict:
    agreement, deadline = entry["agreement"], entry["confirmation_deadline"]
    return {
        "number": agreement.number, "issued_on": agreement.issued_on,
        "in_force_on": agreement.effective_on,
        "verification_url": url_for("agreements.check", code=agreement.verification_code,
                                    _external=True) if agreement.verification_code else None,
        "confirmation_last_day": deadline,
        "confirmation_last_day_provisional": bool(deadline and provisional_years(deadline)),
        "rulings": [{"court": c.court_name, "filed_on": c.filed_on, "result": c.result.value,
                     "result_title": str(c.result.title), "ruling_number": c.ruling_number}
                    for c in entry["confirmations"]],
    }


def _rating(rating: Rating | None) -> dict | None:
    if rating is None:
        return None
    return {"satisfaction": rating.satisfaction.value, "comment": rating.comment,
            "rated_at": rating.rated_at}


def _view(party: Party) -> dict:
    """``operations.view_of`` as data: what the party's page shows, and nothing more."""
    view = operations.view_of(party)
    case, centre, outcome = view["case"], view["centre"], view["outcome"]
    is_open = case.is_open
    return {
        "case_number": case.number, "name": party.name,
        "category": case.category.display(str(get_locale())),
        "received_on": _day(case.reported_at), "accepted_on": _day(case.accepted_at),
        "state": case.state.value, "state_title": str(case.state.title),
        "referred_to": view["referred_to"],
        "level": case.level.value if is_open else None,
        "level_title": str(case.level.title) if is_open else None,
        "level_deadline": case.level_deadline if is_open else None,
        "level_deadline_provisional": bool(is_open and case.level_deadline
                                           and provisional_years(case.level_deadline)),
        "outcome": outcome.value if outcome else None,
        "outcome_title": str(outcome.title) if outcome else None,
        "outcome_on": _day(case.outcome_at),
        "sessions": [_session(item, view["what_to_bring"]) for item in view["sessions"]],
        "agreements": [_agreement(entry) for entry in view["agreements"]],
        "mediator": view["handler"], "committee": view["committee"], "phone": view["phone"],
        "centre": {"name": centre.name, "address": centre.address, "phone": centre.phone}
        if centre else None,
        "rating": _rating(view["rating"]), "may_rate": view["may_rate"],
    }


@bp.route("/status", methods=["POST"])
@writes
@bp.arguments(shapes.StatusIn)
@bp.response(200, shapes.PartyView)
@_problems(404, 429)
@bp.doc(security=[])
def status(data):
    """A party's own view of its case (查询进度): its course, its own sessions and
    agreements, the handling mediator and whom to call. Never another party's details."""
    party, refused = _party(data)
    if refused:
        return refused
    operations.open_view(party, note="API")
    return _view(party), 200, NO_STORE


@bp.route(f"/sessions/<{ID}:session_id>/reply", methods=["POST"])
@writes
@bp.arguments(shapes.SessionReplyIn)
@bp.response(200, shapes.ReplyOut)
@_problems(404, 422, 429)
@bp.doc(security=[])
def reply(data, session_id):
    """The party's answer to one of its session notices: it will come, cannot, or asks for
    another time (with a reason); the mediator sees it on the session page."""
    party, refused = _party(data)
    if refused:
        return refused
    if operations.own_session(party, session_id) is None:
        return problem(404, _("None of your sessions has this number."), headers=NO_STORE)
    _done, failure = commit_or_problem(lambda: operations.reply_to_session(
        party, session_id, Reply(data["reply"]), data.get("reason")))
    if failure:
        return failure
    return {"session": _session(operations.own_session(party, session_id),
                                str(operations.WHAT_TO_BRING))}, 200, NO_STORE


@bp.route("/ratings", methods=["POST"])
@writes
@bp.arguments(shapes.RatingIn)
@bp.response(201, shapes.RatingOut)
@_problems(404, 409, 422, 429)
@bp.doc(security=[])
def rate(data):
    """The party rates the service once its case has its outcome, once per party (满意度
    评价); a second rating, or one while the case is open, is refused (422)."""
    party, refused = _party(data)
    if refused:
        return refused
    rating, failure = commit_or_problem(lambda: operations.rate_service(
        party, Satisfaction(data["satisfaction"]), data.get("comment")))
    if failure:
        return failure
    return {"rating": _rating(rating)}, 201, NO_STORE
