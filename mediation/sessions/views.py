"""Scheduling pages, a session's page with its calendar file, and the day calendars."""

from datetime import date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from mediation.areas.models import Centre
from mediation.cases import access
from mediation.cases.models import Assignment, Case
from mediation.cases.views import CASE_PAGE_EXTRAS
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.forms import ActionForm, options, show_operation_error
from mediation.core.permissions import require
from mediation.extensions import db
from mediation.sessions import access as calendar_access
from mediation.sessions import documents, notices, operations, scheduling
from mediation.sessions.forms import CancelForm, DutyForm, MinutesForm, MoveForm, SessionForm
from mediation.sessions.minutes import (
    Minutes,
    MinutesOutcome,
    recorder_named,
    save_minutes,
    session_staff,
)
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    Participant,
    PlaceKind,
    SessionStatus,
    VolunteerDuty,
)
from mediation.users.models import User

bp = Blueprint("sessions", __name__)
LOCAL = ZoneInfo("Asia/Shanghai")


def _case_sessions(case: Case) -> dict:
    return {"sessions": db.session.scalars(select(MediationSession).where(
        MediationSession.case_id == case.id).order_by(MediationSession.starts_at)).all()}


CASE_PAGE_EXTRAS.append(_case_sessions)


def _case(number: str, permission: str = "cases.view") -> Case:
    case = db.session.scalar(select(Case).where(Case.number == number))
    if case is None or not access.can_view(current_user, case):
        abort(404)
    if not access.can(current_user, permission, case):
        abort(403)
    return case


def _session(session_id: int, permission: str = "cases.view") -> MediationSession:
    session = db.get_or_404(MediationSession, session_id)
    _case(session.case.number, permission)
    return session


WEEKDAYS = "一二三四五六日"


def _volunteers(case: Case) -> list[tuple[User, str]]:
    """Volunteers on the case, and those on duty at its centres with their hours."""
    offered = []
    for user, duties in operations.volunteers_for(case, operations.centres_for(case)):
        hours = "、".join(f"周{WEEKDAYS[d.weekday]} {d.starts_at:%H:%M}–{d.ends_at:%H:%M}"
                         for d in duties)
        offered.append((user, f"{user.full_name}（{hours}）" if hours else user.full_name))
    return offered


def _form(case: Case) -> SessionForm:
    rooms = [r for c in operations.centres_for(case) for r in c.rooms if r.active]
    return SessionForm(case=case, rooms=rooms, handlers=access.possible_handlers(case),
                       volunteers=_volunteers(case))


@bp.route("/cases/<number>/sessions/new", methods=["GET", "POST"])
@require("cases.handle")
def new(number: str):
    case = _case(number, "cases.handle")
    form = _form(case)
    slots: list[datetime] = []
    if request.method == "GET":
        form.parties.data = [str(p.id) for p in case.parties if not p.refuses_mediation]
        form.lead.data = current_user.username
        form.day.data = datetime.now(LOCAL).date() + timedelta(days=1)
    if request.method == "POST" and "show_week" in request.form:
        pass  # the week's free and busy times for what was chosen; nothing is booked
    elif _took_slot(form):
        flash(_("Moved to the free slot. Check the details and schedule."), "info")
    elif form.validate_on_submit():
        users = {u.username: u for u in access.possible_handlers(case)}
        users.update({u.username: u for u, _label in _volunteers(case)})
        data = operations.SessionInput(
            starts_at=form.starts_at, ends_at=form.ends_at,
            place_kind=PlaceKind(form.place_kind.data), room=form.chosen_room,
            address=form.address.data, video_link=form.video_link.data,
            purpose=form.purpose.data, lead_mediator=users[form.lead.data],
            co_mediators=form.co_mediator_users,
            legal_aid=[users[name] for name in form.legal_aid.data or []],
            parties=[p for p in case.parties if str(p.id) in (form.parties.data or [])],
            with_agents=form.with_agents.data,
            invited=[operations.Invitee(name, org, form.consent.data, phone)
                     for name, org, phone in form.invitees()],
            override_reason=form.override_reason.data)
        done, session, slots = _book(form, lambda: operations.schedule_session(
            current_user, case, data))
        if done:
            flash(_("Session scheduled. Give each participant the notice and the calendar "
                    "file."), "success")
            return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/form.html", form=form, case=case, slots=slots,
                           **_week(form))


def _week(form: SessionForm) -> dict:
    """The room's and the lead mediator's busy times in the week of the chosen day, shown
    on the booking form (only times: nothing of the other sessions)."""
    day = form.day.data if isinstance(form.day.data, date) else \
        datetime.now(LOCAL).date() + timedelta(days=1)
    # Only a room and a mediator the form offers for this case.
    rooms = {choice.value for choice in form.room.choices if choice.value}
    room = form.chosen_room if form.place_kind.data == "room" and form.room.data in rooms \
        else None
    offered = {choice.value for choice in form.lead.choices}
    lead = db.session.scalar(select(User).where(User.username == form.lead.data)) \
        if form.lead.data in offered else None
    return {"week": scheduling.week_busy(day, room.id if room else None,
                                         lead.id if lead else None),
            "week_room": room, "week_lead": lead}


def _book(form, action) -> tuple[bool, object, list[datetime]]:
    """Run a booking or a move and commit: (True, its result, []); refused, (False, None,
    the free slots of a clash) with the reason on the form and nothing saved."""
    try:
        result = action()
        db.session.commit()
    except operations.SchedulingConflict as conflict:
        db.session.rollback()
        show_operation_error(form, conflict)
        return False, None, conflict.slots
    except OperationError as error:
        db.session.rollback()
        show_operation_error(form, error)
    except StaleDataError:  # changed by someone else while this one waited for the lock
        db.session.rollback()
        flash(_("Someone else changed this case while you were editing it. Nothing was "
                "saved: reload the page, check the changes and try again."), "error")
    else:
        return True, result, []
    return False, None, []


def _took_slot(form) -> bool:
    """A free slot was picked: put the form's time there, keep everything else as typed."""
    slot = _slot(request.form.get("use_slot")) if request.method == "POST" else None
    if slot is None or not form.start.data or not form.end.data:
        return False
    length = datetime.combine(date.min, form.end.data) - \
        datetime.combine(date.min, form.start.data)
    form.day.data, form.start.data = slot.date(), slot.time()
    form.end.data = (slot + length).time()
    for field in (form.day, form.start, form.end):
        field.raw_data = None  # render the new values, not what was posted
    return True


@bp.route("/sessions/<int:session_id>/move", methods=["GET", "POST"])
@require("cases.handle")
def move(session_id: int):
    """Another time or place for a planned session (改期), with free slots on a clash."""
    session = _session(session_id, "cases.handle")
    if session.status is not SessionStatus.PLANNED:
        flash(_("Only a planned session can be moved."), "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    rooms = [r for c in operations.centres_for(session.case) for r in c.rooms if r.active]
    form = MoveForm(rooms=rooms)
    slots: list[datetime] = []
    if request.method == "GET":
        starts, ends = session.starts_at.astimezone(LOCAL), session.ends_at.astimezone(LOCAL)
        form.version.data = session.version
        form.day.data, form.start.data, form.end.data = starts.date(), starts.time(), \
            ends.time()
        form.place_kind.data = session.place_kind.value
        form.room.data = str(session.room_id) if session.room_id else ""
        form.address.data, form.video_link.data = session.address, session.video_link
        form.override_reason.data = session.override_reason
    if _took_slot(form):
        flash(_("Moved to the free slot. Check the details and move the session."), "info")
    elif form.validate_on_submit():
        version = form.version.data
        data = operations.MoveInput(
            starts_at=form.starts_at, ends_at=form.ends_at,
            place_kind=PlaceKind(form.place_kind.data), reason=form.reason.data,
            room=form.chosen_room, address=form.address.data, video_link=form.video_link.data,
            override_reason=form.override_reason.data)
        done, _moved, slots = _book(form, lambda: operations.move_session(
            current_user, session, data, int(version) if (version or "").isdigit() else None))
        if done:
            flash(_("Session moved. The participants are told of the new time; give them the "
                    "new notice and calendar file."), "success")
            return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/move.html", form=form, session=session, slots=slots,
                           place=notices.place_text(session))


def _slot(value: str | None) -> datetime | None:
    """A free slot offered earlier (ISO 8601 with its offset); anything else is ignored."""
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None or not 2000 <= moment.year <= 2100:
        return None
    return moment.astimezone(LOCAL)


@bp.get("/sessions/<int:session_id>")
@require("cases.view")
def detail(session_id: int):
    session = _session(session_id)
    record = db.session.scalar(select(Minutes).where(Minutes.session_id == session.id))
    return render_template("sessions/detail.html", session=session, minutes=record,
                           cancel_form=CancelForm(data={"version": session.version}),
                           action_form=ActionForm(), attendance=list(Attendance),
                           can_handle=access.can(current_user, "cases.handle", session.case),
                           place=notices.place_text(session), now=utcnow())


@bp.get("/sessions/<int:session_id>/ics")
@require("cases.view")
def ics(session_id: int):
    session = _session(session_id)
    return Response(notices.session_ics(session), mimetype="text/calendar",
                    headers={"Content-Disposition":
                             f'attachment; filename="session-{session.id}.ics"'})


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}"})


@bp.get("/sessions/<int:session_id>/notice/<int:participant_id>.pdf")
@require("cases.view")
def notice(session_id: int, participant_id: int):
    """The mediation notice (调解通知书) for one participant."""
    session = _session(session_id)
    participant = next((p for p in session.participants if p.id == participant_id), None)
    if participant is None or not session.is_active:
        abort(404)
    try:
        data = documents.notice_pdf(session, participant)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    return _pdf_response(data, f"调解通知书-{session.case.number}-{participant.display_name}.pdf")


@bp.route("/sessions/<int:session_id>/minutes", methods=["GET", "POST"])
@require("cases.handle")
def minutes(session_id: int):
    session = _session(session_id, "cases.handle")
    record = db.session.scalar(select(Minutes).where(Minutes.session_id == session.id))
    form = MinutesForm(obj=record)
    form.recorder.choices = options((u.username, u.full_name) for u in session_staff(session))
    if request.method == "GET":
        form.outcome.data = record.outcome.value if record else "settled"
        form.recorder.data = record.recorder.username if record and record.recorder \
            else current_user.username
        form.matter.data = form.matter.data or session.purpose
    if form.validate_on_submit():
        try:
            save_minutes(current_user, session, matter=form.matter.data, body=form.body.data,
                         outcome=MinutesOutcome(form.outcome.data),
                         next_date=form.next_date.data,
                         recorder=recorder_named(session, form.recorder.data))
            db.session.commit()
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            flash(_("Minutes saved. Print them for the signatures."), "success")
            return redirect(url_for("sessions.detail", session_id=session.id))
    return render_template("sessions/minutes.html", form=form, session=session)


@bp.get("/sessions/<int:session_id>/minutes.pdf")
@require("cases.view")
def minutes_pdf(session_id: int):
    session = _session(session_id)
    record = db.session.scalar(select(Minutes).where(Minutes.session_id == session.id))
    if record is None:
        abort(404)
    try:
        data = documents.minutes_pdf(record)
    except OperationError as error:
        flash(error.message, "error")
        return redirect(url_for("sessions.detail", session_id=session.id))
    return _pdf_response(data, f"调解记录-{session.case.number}.pdf")


@bp.post("/sessions/<int:session_id>/cancel")
@require("cases.handle")
def cancel(session_id: int):
    session = _session(session_id, "cases.handle")
    form = CancelForm()
    if form.validate_on_submit():
        try:
            version = form.version.data
            operations.cancel_session(current_user, session, form.reason.data,
                                      int(version) if (version or "").isdigit() else None)
            db.session.commit()
        except OperationError as error:
            db.session.rollback()
            flash(error.message, "error")
        except StaleDataError:  # changed by someone else at the same moment
            db.session.rollback()
            flash(_("Someone else changed this case while you were editing it. Nothing was "
                    "saved: reload the page, check the changes and try again."), "error")
        else:
            flash(_("Session cancelled. Tell the participants; their calendar file now "
                    "cancels the event."), "success")
    elif form.reason.errors:
        flash(_("Please give the reason."), "error")
    else:
        flash(form.confirm.errors[0], "error")
    return redirect(url_for("sessions.detail", session_id=session.id))


@bp.post("/sessions/<int:session_id>/attendance")
@require("cases.handle")
def attendance(session_id: int):
    session = _session(session_id, "cases.handle")
    if not ActionForm().validate_on_submit():
        abort(400)
    values = {}
    for participant in session.participants:
        value = request.form.get(f"p{participant.id}")
        if value in {a.value for a in Attendance}:
            values[participant.id] = Attendance(value)
    try:
        operations.record_attendance(current_user, session, values)
        db.session.commit()
    except OperationError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Attendance saved."), "success")
    return redirect(url_for("sessions.detail", session_id=session.id))


def _calendar_owner(username: str | None) -> User:
    """Whose calendar: one's own, or a colleague's the viewer may see (404 otherwise)."""
    if not username or username == current_user.username:
        return current_user._get_current_object()
    person = db.session.scalar(select(User).where(User.username == username))
    if person is None or not calendar_access.can_see_calendar(current_user, person):
        abort(404)
    return person


def _day(arg: str | None) -> date:
    """A day from the address bar, within reach (calendars step by a week either way)."""
    try:
        day = date.fromisoformat(arg) if arg else datetime.now(LOCAL).date()
    except ValueError:
        abort(400)
    if not 2000 <= day.year <= 2100:
        abort(400)
    return day


def _bounds(day: date, days: int = 1) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), LOCAL)
    return start, start + timedelta(days=days)


@bp.get("/sessions/centre/<int:centre_id>")
@require("cases.view")
def centre_day(centre_id: int):
    """A centre's day or week: rooms as columns, the sessions in them."""
    centre = db.get_or_404(Centre, centre_id)
    if not calendar_access.can_see_centre(current_user, centre):
        abort(404)
    day = _day(request.args.get("day"))
    days = 7 if request.args.get("view") == "week" else 1
    start, end = _bounds(day, days)
    sessions = db.session.scalars(select(MediationSession).where(
        MediationSession.room_id.in_([r.id for r in centre.rooms]),
        MediationSession.starts_at < end, MediationSession.ends_at > start)
        .order_by(MediationSession.starts_at)).all()
    dates = [day + timedelta(days=n) for n in range(days)]
    grid = {(d, room.id): [s for s in sessions if s.room_id == room.id
                           and s.starts_at.astimezone(LOCAL).date() == d]
            for d in dates for room in centre.rooms}
    return render_template("sessions/centre_day.html", centre=centre, day=day, days=days,
                           dates=dates, grid=grid, prev=day - timedelta(days=days),
                           next=day + timedelta(days=days),
                           can_open=lambda s: access.can_view(current_user, s.case))


@bp.get("/sessions/mine")
@require("cases.view")
def my_sessions():
    """My day (or week), or — for a coordinator — a mediator's in their jurisdiction."""
    person = _calendar_owner(request.args.get("user"))
    day = _day(request.args.get("day"))
    days = 7 if request.args.get("view") == "week" else 1
    start, end = _bounds(day, days)
    mine = select(Participant.session_id).where(Participant.user_id == person.id)
    stmt = select(MediationSession).where(
        MediationSession.starts_at < end, MediationSession.ends_at > start,
        or_(MediationSession.id.in_(mine),
            MediationSession.case_id.in_(select(Case.id).where(
                Case.handler_id == person.id)),
            MediationSession.case_id.in_(select(Assignment.case_id).where(
                Assignment.user_id == person.id))))
    sessions = db.session.scalars(stmt.order_by(MediationSession.starts_at)).all()
    colleagues = [u for u in db.session.scalars(select(User).where(User.active).order_by(
        User.full_name)) if u.id != current_user.id and u.can("cases.handle")
        and calendar_access.can_see_calendar(current_user, u)] \
        if current_user.can("cases.assign") else []
    return render_template("sessions/mine.html", sessions=sessions, day=day, days=days,
                           last=day + timedelta(days=days - 1), person=person,
                           colleagues=colleagues,
                           can_open=lambda s: access.can_view(current_user, s.case),
                           prev=day - timedelta(days=days), next=day + timedelta(days=days),
                           cancelled=SessionStatus.CANCELLED)


@bp.route("/sessions/duty", methods=["GET", "POST"])
@require("cases.opinion")
def duty():
    """A legal-aid volunteer's duty hours at the centres."""
    centres = db.session.scalars(select(Centre).order_by(Centre.name)).all()
    form = DutyForm()
    form.centre.choices = options((str(c.id), c.name) for c in centres)
    if form.validate_on_submit():
        try:
            operations.add_duty(current_user, db.get_or_404(Centre, int(form.centre.data)),
                                int(form.weekday.data), form.starts_at.data, form.ends_at.data)
            db.session.commit()
        except OperationError as error:
            db.session.rollback()
            show_operation_error(form, error)
        else:
            flash(_("Duty hours added."), "success")
            return redirect(url_for("sessions.duty"))
    duties = db.session.scalars(select(VolunteerDuty).where(
        VolunteerDuty.user_id == current_user.id).order_by(
        VolunteerDuty.weekday, VolunteerDuty.starts_at)).all()
    today = datetime.now(LOCAL).date()
    return render_template("sessions/duty.html", form=form, duties=duties,
                           weekdays=WEEKDAYS, action_form=ActionForm(),
                           bookable=(today, today + operations.BOOKING_HORIZON))


@bp.post("/sessions/duty/<int:duty_id>/delete")
@require("cases.opinion")
def duty_delete(duty_id: int):
    duty_row = db.get_or_404(VolunteerDuty, duty_id)
    if duty_row.user_id != current_user.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    operations.remove_duty(current_user, duty_row)
    db.session.commit()
    flash(_("Removed."), "success")
    return redirect(url_for("sessions.duty"))
