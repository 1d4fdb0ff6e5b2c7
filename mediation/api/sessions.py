"""/api/v1/sessions and /api/v1/cases/{number}/sessions: list, book (with everyone the page
invites), free slots, move, cancel, attendance, minutes, notices, the calendar file; and
legal-aid volunteers' duty hours at the centres."""

from datetime import datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from mediation.api import schemas, session_schemas
from mediation.api.cases import bp as cases_bp
from mediation.api.cases import load_case, page, refusal
from mediation.api.http import (
    API_FIELDS,
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
from mediation.cases.models import AssignmentRole, Case
from mediation.cases.operations import StaleEdit
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import access as calendar_access
from mediation.sessions import documents, notices, operations
from mediation.sessions.minutes import Minutes, MinutesOutcome, recorder_named, save_minutes
from mediation.sessions.models import Attendance, MediationSession, PlaceKind, VolunteerDuty
from mediation.sessions.operations import Invitee, SchedulingConflict, SessionInput
from mediation.users.models import User
from mediation.users.operations import find_user

bp = blueprint("sessions_api", "/sessions", "Mediation sessions: booking, moving, cancelling, "
               "attendance, minutes, notices and the calendar file.")
LOCAL = ZoneInfo("Asia/Shanghai")


def _visible_session(session_id: int) -> MediationSession | None:
    session = db.session.get(MediationSession, session_id)
    if session is None or load_case(session.case.number) is None:
        return None
    return session


def _session_to_handle(session_id: int):
    """(the session, None) if the caller may handle its case; else (None, the problem to
    answer: 404 for one out of sight, 403 or 409 as ``refusal`` has it)."""
    session = _visible_session(session_id)
    if session is None:
        return None, problem(404)
    refused = refusal(session.case, "cases.handle")
    return (None, refused) if refused else (session, None)


def _case_to_handle(number: str):
    """(the case, None) if the caller may handle it; else (None, the problem to answer)."""
    case = load_case(number)
    if case is None:
        return None, problem(404)
    refused = refusal(case, "cases.handle")
    return (None, refused) if refused else (case, None)


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
    session, refused = _session_to_handle(session_id)
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
    session, refused = _session_to_handle(session_id)
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


def _pdf(make, filename: str) -> Response:
    try:
        data = make()
    except OperationError as error:  # no font to print Chinese with
        return operation_problem(error)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"})


@bp.route(f"/<{ID}:session_id>/participants/<{ID}:participant_id>/notice")
@bp.response(200, content_type="application/pdf",
             description="The mediation notice (调解通知书) for one participant.")
@bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def notice(session_id, participant_id):
    """The notice for one participant, as the session page prints it (a party's names no
    staff but the case's mediator)."""
    session = _visible_session(session_id)
    participant = next((p for p in session.participants if p.id == participant_id), None) \
        if session is not None and session.is_active else None
    if participant is None:
        return problem(404)
    return _pdf(lambda: documents.notice_pdf(session, participant),
                f"调解通知书-{session.case.number}-{participant.display_name}.pdf")


@bp.route(f"/<{ID}:session_id>/attendance", methods=["POST"])
@writes
@bp.arguments(session_schemas.AttendanceIn)
@bp.response(200, schemas.Session)
@bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def attendance(data, session_id):
    """Record who confirmed, declined, attended or was absent (participant ids from the
    session); those not listed stay as they are."""
    session, refused = _session_to_handle(session_id)
    if refused:
        return refused
    ids = {p.id for p in session.participants}
    for index, entry in enumerate(data["attendance"]):
        if entry["participant_id"] not in ids:
            return operation_problem(OperationError(
                _("No participant of this session has this id."),
                field=f"attendance.{index}.participant_id"))
    values = {e["participant_id"]: Attendance(e["attendance"]) for e in data["attendance"]}
    _result, failure = commit_or_problem(
        lambda: operations.record_attendance(caller(), session, values))
    return failure or session


def _minutes(session: MediationSession) -> Minutes | None:
    return db.session.scalar(select(Minutes).where(Minutes.session_id == session.id))


@bp.route(f"/<{ID}:session_id>/minutes")
class SessionMinutes(MethodView):
    @bp.response(200, session_schemas.Minutes)
    @bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json",
                     description="No such session, or no minutes yet.")
    def get(self, session_id):
        """The minutes (调解记录) of a session."""
        session = _visible_session(session_id)
        record = _minutes(session) if session is not None else None
        return record if record is not None else problem(404)

    @writes
    @bp.arguments(session_schemas.MinutesIn)
    @bp.response(200, session_schemas.Minutes)
    @bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
    def put(self, data, session_id):
        """Write or correct the minutes once the session has begun; the session then counts
        as held (adjourned, with the date mediation continues)."""
        session, refused = _session_to_handle(session_id)
        if refused:
            return refused
        record, failure = commit_or_problem(lambda: save_minutes(
            caller(), session, matter=data["matter"], body=data["body"],
            outcome=MinutesOutcome(data["outcome"]), next_date=data.get("next_date"),
            recorder=recorder_named(session, data.get("recorder"))))
        return failure or record


@bp.route(f"/<{ID}:session_id>/minutes/pdf")
@bp.response(200, content_type="application/pdf",
             description="The minutes with signature lines, as the session page prints them.")
@bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def minutes_pdf(session_id):
    """The minutes to print and sign (调解记录)."""
    session = _visible_session(session_id)
    record = _minutes(session) if session is not None else None
    if record is None:
        return problem(404)
    return _pdf(lambda: documents.minutes_pdf(record), f"调解记录-{session.case.number}.pdf")


def _accounts(names: list[str], field: str) -> list[User]:
    found = {name: find_user(name) for name in names}
    unknown = [name for name, user in found.items() if user is None]
    if unknown:
        raise OperationError(_("Unknown usernames: %(names)s", names=", ".join(unknown)),
                             field=field)
    return [found[name] for name in names]


def _session_input(case: Case, data: dict) -> SessionInput:
    """The booking as the operation takes it: the page's form, field for field."""
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
        place_kind=PlaceKind(data.get("place_kind") or "room"),
        purpose=data.get("purpose") or "", lead_mediator=lead, room=room,
        address=data.get("address"), video_link=data.get("video_link"),
        co_mediators=_accounts(data.get("co_mediators", []), "co_mediators"),
        legal_aid=_accounts(data.get("legal_aid", []), "legal_aid"),
        parties=parties, with_agents=data.get("with_agents", True),
        invited=[Invitee(i["name"], i.get("organisation"), i.get("consent_recorded", False),
                         i.get("phone")) for i in data.get("invited", [])],
        override_reason=data.get("override_reason"))


@cases_bp.route("/<number>/sessions", methods=["POST"])
@idempotent
@cases_bp.arguments(session_schemas.SessionIn)
@cases_bp.response(201, schemas.Session)
@cases_bp.alt_response(409, schema=schemas.Problem, content_type="application/problem+json",
                       description="A clash: the message names the clashing session, "
                                   "``slots`` lists free alternatives.")
@cases_bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def schedule(data, number):
    """Book a session for a case with everyone the booking page invites; a clash of room,
    mediator, volunteer, party, agent or invited guest answers 409."""
    case, refused = _case_to_handle(number)
    if refused:
        return refused
    session, failure = commit_or_problem(
        lambda: operations.schedule_session(caller(), case, _session_input(case, data)),
        conflict_types=(SchedulingConflict,))
    if failure:
        return failure
    return session, 201, {"Location": url_for("sessions_api.SessionById",
                                              session_id=session.id)}


# What the free-slot query calls its fields that a booking calls otherwise.
FREE_SLOT_FIELDS = {"starts_at": "around", "ends_at": "duration_minutes"}


@cases_bp.route("/<number>/free_slots", methods=["POST"])
@cases_bp.arguments(session_schemas.FreeSlotsIn)
@cases_bp.response(200, session_schemas.FreeSlots)
@cases_bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
@cases_bp.alt_response(422, schema=schemas.Problem, content_type="application/problem+json")
def free_slots(data, number):
    """When a session of the case could be, for the room and everyone it would invite (as
    a booking names them): the free starts a clash would offer, asked first. Nothing is
    booked, and nothing of other sessions is told but that they are not free."""
    case, refused = _case_to_handle(number)
    if refused:
        return refused
    around = data["around"]
    window = {"starts_at": around, "ends_at": around + timedelta(
        minutes=data["duration_minutes"])}
    try:
        slots = operations.free_starts(case, _session_input(case, {**data, **window}),
                                       count=data["count"])
    except OperationError as error:
        error.field = FREE_SLOT_FIELDS.get(API_FIELDS.get(error.field, error.field),
                                           error.field)
        return operation_problem(error)
    return {"slots": slots}


@cases_bp.route("/<number>/volunteers")
@cases_bp.response(200, session_schemas.VolunteerList)
@cases_bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def volunteers(number):
    """The legal-aid volunteers a session of the case may have, as the booking form offers
    them: those on the case, and those on duty at the centres serving it (with the hours)."""
    case, refused = _case_to_handle(number)
    if refused:
        return refused
    assigned = {a.user_id for a in case.assignments if a.role is AssignmentRole.LEGAL_AID}
    items = [{"username": user.username, "name": user.full_name,
              "assigned": user.id in assigned, "duties": duties}
             for user, duties in operations.volunteers_for(case, operations.centres_for(case))]
    return {"items": items, "total": len(items)}


places_bp = blueprint("places_api", "", "The one-stop centres and their rooms: where "
                      "sessions are held, and legal-aid volunteers' duty hours there.")


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


def _volunteer_refusal():
    """Duty hours are a legal-aid volunteer's own, as on the duty page."""
    return None if caller().can("cases.opinion") else problem(403)


@places_bp.route("/duties")
class Duties(MethodView):
    @places_bp.response(200, session_schemas.DutyList)
    @places_bp.alt_response(403, schema=schemas.Problem,
                            content_type="application/problem+json")
    def get(self):
        """The token's volunteer's duty hours at the centres, by weekday."""
        refused = _volunteer_refusal()
        if refused:
            return refused
        duties = db.session.scalars(select(VolunteerDuty).where(
            VolunteerDuty.user_id == caller().id).order_by(
            VolunteerDuty.weekday, VolunteerDuty.starts_at)).all()
        return {"items": duties, "total": len(duties)}

    @idempotent
    @places_bp.arguments(session_schemas.DutyIn)
    @places_bp.response(201, session_schemas.Duty)
    @places_bp.alt_response(403, schema=schemas.Problem,
                            content_type="application/problem+json")
    @places_bp.alt_response(422, schema=schemas.Problem,
                            content_type="application/problem+json")
    def post(self, data):
        """Declare duty hours at a centre: sessions there and then may have the volunteer,
        whose case it then becomes."""
        refused = _volunteer_refusal()
        if refused:
            return refused
        centre = db.session.get(Centre, data["centre_id"])
        if centre is None:
            return operation_problem(OperationError(_("No centre has this id."),
                                                    field="centre_id"))
        duty, failure = commit_or_problem(lambda: operations.add_duty(
            caller(), centre, data["weekday"], time.fromisoformat(data["starts_at"]),
            time.fromisoformat(data["ends_at"])))
        return failure or (duty, 201)


@places_bp.route(f"/duties/<{ID}:duty_id>", methods=["DELETE"])
@writes
@places_bp.response(204, description="Removed.")
@places_bp.alt_response(404, schema=schemas.Problem, content_type="application/problem+json")
def remove_duty(duty_id):
    """Remove one's own duty hours (another volunteer's are a 404)."""
    refused = _volunteer_refusal()
    if refused:
        return refused
    duty = db.session.get(VolunteerDuty, duty_id)
    if duty is None or duty.user_id != caller().id:
        return problem(404)
    _result, failure = commit_or_problem(lambda: operations.remove_duty(caller(), duty))
    return failure or Response(status=204)
