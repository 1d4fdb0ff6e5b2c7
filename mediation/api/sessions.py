"""/api/v1/sessions and /api/v1/cases/{number}/sessions: list, book, cancel, calendar file."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.api import schemas
from mediation.api.cases import bp as cases_bp
from mediation.api.cases import load_case, page, refusal
from mediation.api.http import (
    ID,
    blueprint,
    caller,
    commit_or_problem,
    idempotent,
    operation_problem,
    problem,
    writes,
)
from mediation.areas.models import AreaNode, Centre, Room
from mediation.cases import access
from mediation.cases.models import Case
from mediation.cases.operations import StaleEdit
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import access as calendar_access
from mediation.sessions import notices, operations
from mediation.sessions.models import MediationSession, PlaceKind
from mediation.sessions.operations import SchedulingConflict, SessionInput
from mediation.users.operations import find_user

bp = blueprint("sessions_api", "/sessions", "Mediation sessions: booking, cancelling and the "
               "calendar file.")
LOCAL = ZoneInfo("Asia/Shanghai")


def _visible_session(session_id: int) -> MediationSession | None:
    session = db.session.get(MediationSession, session_id)
    if session is None or load_case(session.case.number) is None:
        return None
    return session


@bp.route("")
class Sessions(MethodView):
    @bp.arguments(schemas.SessionQuery, location="query")
    @bp.response(200, schemas.SessionPage)
    @bp.alt_response(401, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, query):
        """Sessions of the cases in the token's jurisdiction, by date range (local days)
        and/or case, soonest first."""
        visible = access.visible_cases(caller(), select(Case.id)).subquery()
        stmt = select(MediationSession).join(Case, MediationSession.case_id == Case.id) \
            .where(MediationSession.case_id.in_(select(visible.c.id)))
        if query.get("from_"):
            stmt = stmt.where(MediationSession.ends_at > datetime.combine(
                query["from_"], time.min, LOCAL))
        if query.get("to"):
            stmt = stmt.where(MediationSession.starts_at < datetime.combine(
                query["to"] + timedelta(days=1), time.min, LOCAL))
        if query.get("case"):
            stmt = stmt.where(Case.number == query["case"])
        return page(stmt.order_by(MediationSession.starts_at, MediationSession.id), query)


@bp.route(f"/<{ID}:session_id>")
class SessionById(MethodView):
    @bp.response(200, schemas.Session)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
    def get(self, session_id):
        """One session."""
        session = _visible_session(session_id)
        return session if session is not None else problem(404)


@bp.route(f"/<{ID}:session_id>/cancel", methods=["POST"])
@writes
@bp.arguments(schemas.CancelIn)
@bp.response(200, schemas.Session)
@bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def cancel(data, session_id):
    """Cancel a session, with the reason; participants are told."""
    session = _visible_session(session_id)
    if session is None:
        return problem(404)
    refused = refusal(session.case, "cases.handle")
    if refused:
        return refused
    _result, failure = commit_or_problem(
        lambda: operations.cancel_session(caller(), session, data["reason"]))
    return failure or session


@bp.route(f"/<{ID}:session_id>/move", methods=["POST"])
@writes
@bp.arguments(schemas.MoveIn)
@bp.response(200, schemas.Session)
@bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json",
                 description="A clash (``slots`` lists free alternatives), or a stale "
                             "``version``.")
@bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def move(data, session_id):
    """Move a planned session to another time or place (改期), with the reason; the same
    people stay invited and are told of the change."""
    session = _visible_session(session_id)
    if session is None:
        return problem(404)
    refused = refusal(session.case, "cases.handle")
    if refused:
        return refused
    # What is not given stays as it is: the kind of place, and its room, address or link.
    place_kind = PlaceKind(data["place_kind"]) if data.get("place_kind") else \
        PlaceKind.ROOM if data.get("room_id") else session.place_kind
    same_place = place_kind is session.place_kind
    room = session.room if same_place else None
    if data.get("room_id"):
        room = db.session.get(Room, data["room_id"])
        if room is None:
            return operation_problem(OperationError(_("No room has this id."), field="room_id"))
    _result, failure = commit_or_problem(lambda: operations.move_session(
        caller(), session, operations.MoveInput(
            starts_at=data["starts_at"], ends_at=data["ends_at"], place_kind=place_kind,
            reason=data["reason"], room=room,
            address=data.get("address") or (session.address if same_place else None),
            video_link=data.get("video_link") or (session.video_link if same_place else None),
            override_reason=data.get("override_reason")),
        data.get("version")), conflict_types=(SchedulingConflict, StaleEdit))
    return failure or session


@bp.route(f"/<{ID}:session_id>/ics")
@bp.response(200, content_type="text/calendar",
             description="The session as an iCalendar file.")
@bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def ics(session_id):
    """The session as a calendar file (RFC 5545)."""
    session = _visible_session(session_id)
    if session is None:
        return problem(404)
    return Response(notices.session_ics(session), mimetype="text/calendar")


def _session_input(case: Case, data: dict) -> SessionInput:
    room = db.session.get(Room, data["room_id"]) if data.get("room_id") else None
    if data.get("room_id") and room is None:
        raise OperationError(_("No room has this id."), field="room_id")
    lead = find_user(data["lead_mediator"]) if data.get("lead_mediator") else caller()
    if lead is None:
        raise OperationError(_("No account has this username."), field="lead_mediator")
    if data.get("parties") is None:
        parties = [p for p in case.parties if not p.refuses_mediation]
    else:
        by_id = {p.id: p for p in case.parties}
        unknown = [i for i in data["parties"] if i not in by_id]
        if unknown:
            raise OperationError(_("%(names)s is not a party of this case.",
                                   names="、".join(map(str, unknown))), field="parties")
        parties = [by_id[i] for i in data["parties"]]
    return SessionInput(
        starts_at=data["starts_at"], ends_at=data["ends_at"],
        place_kind=PlaceKind(data.get("place_kind") or "room"), purpose=data["purpose"],
        lead_mediator=lead, room=room, address=data.get("address"),
        video_link=data.get("video_link"), parties=parties,
        override_reason=data.get("override_reason"))


@cases_bp.route("/<number>/sessions", methods=["POST"])
@idempotent
@cases_bp.arguments(schemas.SessionIn)
@cases_bp.response(201, schemas.Session)
@cases_bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json",
                       description="A clash: the message names the clashing session, "
                                   "``slots`` lists free alternatives.")
@cases_bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def schedule(data, number):
    """Book a session for a case; a clash of room, mediator or party answers 409."""
    case = load_case(number)
    if case is None:
        return problem(404)
    refused = refusal(case, "cases.handle")
    if refused:
        return refused
    session, failure = commit_or_problem(
        lambda: operations.schedule_session(caller(), case, _session_input(case, data)),
        conflict_types=(SchedulingConflict,))
    if failure:
        return failure
    return session, 201, {"Location": url_for("sessions_api.SessionById",
                                              session_id=session.id)}


places_bp = blueprint("places_api", "", "The one-stop centres and their rooms: where "
                      "sessions are held.")


def _centres() -> list:
    """The centres whose calendars the caller may see (those serving or within its areas,
    or serving a case it is assigned to)."""
    centres = db.session.scalars(select(Centre).join(Centre.area)
                                 .order_by(AreaNode.path, Centre.name)).all()
    return [c for c in centres if calendar_access.can_see_centre(caller(), c)]


@places_bp.route("/centres")
class Centres(MethodView):
    @places_bp.response(200, schemas.CentreList)
    @places_bp.alt_response(401, schema=schemas.Problem,
                            content_type="application/problem+json")
    def get(self):
        """The centres the token's account may book in, with their hours and rooms."""
        centres = _centres()
        return {"items": centres, "total": len(centres)}


@places_bp.route("/rooms")
class Rooms(MethodView):
    @places_bp.arguments(schemas.RoomQuery, location="query")
    @places_bp.response(200, schemas.RoomList)
    @places_bp.alt_response(404, schema=schemas.Problem,
                            content_type="application/problem+json")
    def get(self, query):
        """The rooms of those centres; with ``case``, only where that case's sessions may
        be (the centres serving its place)."""
        centres = _centres()
        if query.get("case"):
            case = load_case(query["case"])
            if case is None:
                return problem(404)
            serving = {c.id for c in operations.centres_for(case)}
            centres = [c for c in centres if c.id in serving]
        rooms = [room for centre in centres for room in centre.rooms]
        return {"items": rooms, "total": len(rooms)}
