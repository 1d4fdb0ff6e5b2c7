"""The verbs on sessions: schedule (refusing clashes), move, cancel, attendance.  Callers
commit."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select, text

from mediation.areas.models import Centre, Room
from mediation.cases import access
from mediation.cases import operations as case_operations
from mediation.cases.models import AssignmentRole, Case, EventKind, Party
from mediation.cases.operations import check_version, log_event
from mediation.core import audit
from mediation.core.calendar import holiday_name
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.i18n import sentences
from mediation.core.validators import is_web_link
from mediation.extensions import db
from mediation.sessions import notices, reminders, scheduling
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    Participant,
    ParticipantRole,
    PlaceKind,
    SessionStatus,
    VolunteerDuty,
)
from mediation.users.models import User
from mediation.users.roles import Role
from mediation.webhooks.outbox import EventType, emit

# How far ahead a session may be booked, and how long it may last.
BOOKING_HORIZON = timedelta(days=366)
MAX_LENGTH = timedelta(hours=12)

# Names the PostgreSQL advisory lock that makes bookings queue (SQLite: BEGIN IMMEDIATE).
_BOOKING_LOCK = 7_305_104_221


class SchedulingConflict(OperationError):
    """A clash: the message names the clashing session; ``slots`` are free alternatives."""

    def __init__(self, message: str, slots: list[datetime]):
        super().__init__(message)  # shown above the form, with the free slots
        self.slots = slots


@dataclass
class Invitee:
    """An invited guest (PML art. 20): known by their phone where given, else by name and
    organisation, when clashes are checked."""
    name: str
    organisation: str | None = None
    consent_recorded: bool = False
    phone: str | None = None


@dataclass
class SessionInput:
    starts_at: datetime
    ends_at: datetime
    place_kind: PlaceKind
    purpose: str
    lead_mediator: User
    room: Room | None = None
    address: str | None = None
    video_link: str | None = None
    co_mediators: list[User] = field(default_factory=list)
    legal_aid: list[User] = field(default_factory=list)
    parties: list[Party] = field(default_factory=list)
    with_agents: bool = True
    invited: list[Invitee] = field(default_factory=list)
    override_reason: str | None = None


def _when(moment: datetime) -> str:
    return format_datetime(moment, "yyyy-MM-dd HH:mm")


def _lock_bookings() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _BOOKING_LOCK})


def _check(case: Case, data: SessionInput, now: datetime) -> None:
    if data.ends_at <= data.starts_at:
        raise OperationError(_("The end must be after the start."), field="end")
    if data.starts_at < now:
        raise OperationError(_("A session cannot start in the past."), field="start")
    if data.starts_at > now + BOOKING_HORIZON:
        raise OperationError(_("A session is scheduled at most a year ahead."), field="day")
    if data.ends_at - data.starts_at > MAX_LENGTH:
        raise OperationError(_("A session lasts at most 12 hours."), field="end")
    if not (data.purpose or "").strip():
        raise OperationError(_("Say what the session is for."), field="purpose")
    if data.place_kind is PlaceKind.ROOM:
        _check_room(case, data)
    elif data.place_kind is PlaceKind.ON_SITE and not (data.address or "").strip():
        raise OperationError(_("Give the address of the on-site meeting."), field="address")
    elif data.place_kind is PlaceKind.VIDEO and not (data.video_link or "").strip():
        raise OperationError(_("Give the video link."), field="video_link")
    elif data.place_kind is PlaceKind.VIDEO and not is_web_link(data.video_link.strip()):
        raise OperationError(_("The video link must start with https:// or http://."),
                             field="video_link")
    if not case.is_open:
        raise OperationError(_("Sessions are scheduled for open cases only."))
    _check_people(case, data, on_call=lambda volunteer: on_duty(volunteer, data))
    for person in data.invited:
        if not person.consent_recorded:
            raise OperationError(_("Inviting %(name)s needs the parties' consent "
                                   "(People’s Mediation Law, art. 20).", name=person.name),
                                 field="consent")


def _check_room(case: Case, data: SessionInput) -> None:
    if data.room is None or not data.room.active:
        raise OperationError(_("Choose a room that is in use."), field="room")
    if data.room.centre not in centres_for(case):
        raise OperationError(_("%(room)s is not at a centre serving this case's area.",
                               room=data.room.name), field="room")


def _check_people(case: Case, data: SessionInput, *, on_call) -> None:
    """Who may be at a session of the case: its parties (none refusing), staff working on
    it, legal-aid volunteers on it or ``on_call`` (on duty), guests named, each once."""
    outsiders = [p.name for p in data.parties if p.case_id != case.id]
    if outsiders:
        raise OperationError(_("%(names)s is not a party of this case.",
                               names="、".join(outsiders)), field="parties")
    refusing = [p.name for p in data.parties if p.refuses_mediation]
    if refusing:
        raise OperationError(_("%(names)s refused mediation (People’s Mediation Law, art. 17).",
                               names="、".join(refusing)), field="parties")
    staff = [data.lead_mediator, *data.co_mediators, *data.legal_aid]
    for person in [data.lead_mediator, *data.co_mediators]:
        if not person.active or not access.can(person, "cases.handle", case):
            raise OperationError(_("%(name)s does not work on this case.",
                                   name=person.full_name), field="lead")
    for volunteer in data.legal_aid:
        if volunteer.role is not Role.LEGAL_AID or not volunteer.active:
            raise OperationError(_("%(name)s is not a legal-aid volunteer.",
                                   name=volunteer.full_name), field="legal_aid")
        if not access.can_view(volunteer, case) and not on_call(volunteer):
            raise OperationError(_("%(name)s is neither assigned to this case nor on duty at "
                                   "the centre then.", name=volunteer.full_name),
                                 field="legal_aid")
    if len({u.id for u in staff}) != len(staff):
        raise OperationError(_("The same person is listed twice."), field="lead")
    guests: list[scheduling.Guest] = []
    for person in data.invited:
        guest = scheduling.Guest.of(person.name, person.organisation, person.phone)
        if not guest.name:
            raise OperationError(_("Give the name of each invited person."), field="invited")
        if len(guest.name) > 120 or len(guest.organisation) > 120:
            raise OperationError(_("A name or an organisation has at most 120 characters."),
                                 field="invited")
        if person.phone and guest.phone is None:
            raise OperationError(_("The phone number given for %(name)s is not valid: a "
                                   "mobile has 11 digits starting with 13–19; a landline has "
                                   "its area code, e.g. 0546-8888888.", name=guest.name),
                                 field="invited")
        if any(guest.is_(other) for other in guests):
            raise OperationError(_("%(name)s is invited twice.", name=guest.name),
                                 field="invited")
        guests.append(guest)


def centres_for(case: Case) -> list[Centre]:
    """The one-stop centres serving the case's place (on its street or district): their
    rooms are the ones its sessions may use."""
    centres = db.session.scalars(select(Centre).join(Centre.area).order_by(Centre.name)).all()
    return [c for c in centres if case.grid.path.startswith(c.area.path)]


def _duties(volunteer: User, room: Room | None) -> list[VolunteerDuty]:
    """The volunteer's duty hours at the room's centre (none without a room)."""
    if room is None:
        return []
    return list(db.session.scalars(select(VolunteerDuty).where(
        VolunteerDuty.user_id == volunteer.id, VolunteerDuty.centre_id == room.centre_id)))


def on_duty(volunteer: User, data: SessionInput) -> bool:
    """Whether the volunteer declared duty hours at the session's centre covering it."""
    return any(duty.covers(data.starts_at, data.ends_at)
               for duty in _duties(volunteer, data.room))


def volunteers_for(case: Case, centres) -> list[tuple[User, list[VolunteerDuty]]]:
    """Legal-aid volunteers to offer: those on the case, and those on duty at its centres."""
    assigned = {a.user_id: a.user for a in case.assignments
                if a.role is AssignmentRole.LEGAL_AID and a.user.active}
    duties = db.session.scalars(select(VolunteerDuty).where(
        VolunteerDuty.centre_id.in_([c.id for c in centres])).order_by(
        VolunteerDuty.weekday, VolunteerDuty.starts_at)).all()
    people: dict[int, tuple[User, list[VolunteerDuty]]] = {
        user_id: (user, []) for user_id, user in assigned.items()}
    for duty in duties:
        if duty.user.active and duty.user.role is Role.LEGAL_AID:
            people.setdefault(duty.user_id, (duty.user, []))[1].append(duty)
    return sorted(people.values(), key=lambda pair: pair[0].full_name)


def _headcount(data: SessionInput) -> int:
    agents = sum(1 for p in data.parties if data.with_agents and p.agent_name)
    return (len(data.parties) + agents + 1 + len(data.co_mediators) + len(data.legal_aid)
            + len(data.invited))


def _resources(data: SessionInput) -> scheduling.Resources:
    users = {data.lead_mediator.id, *(u.id for u in data.co_mediators),
             *(u.id for u in data.legal_aid)}
    return scheduling.Resources(
        room_id=data.room.id if data.place_kind is PlaceKind.ROOM else None,
        user_ids=frozenset(users),
        person_keys=frozenset(scheduling.person_key(p) for p in data.parties),
        agent_phones=frozenset(p.agent_phone for p in data.parties
                               if data.with_agents and p.agent_name and p.agent_phone),
        guests=frozenset(scheduling.Guest.of(p.name, p.organisation, p.phone)
                         for p in data.invited))


def check_availability(data: SessionInput, by: User, *,
                       exclude_id: int | None = None) -> None:
    """Refuse over-capacity rooms, hours needing an override, and every kind of clash."""
    centre = data.room.centre if data.room is not None else None
    _check_capacity(data)
    reasons = scheduling.outside_hours_reasons(data.starts_at, data.ends_at, centre)
    if reasons and not (data.override_reason or "").strip():
        # A public holiday by its name (a provisional year's statutory days included).
        day = data.starts_at.astimezone(scheduling.LOCAL).date()
        holiday = holiday_name(day) if "holiday" in reasons else None
        message = {
            "holiday": (_("%(day)s is a public holiday (%(name)s).", day=day.isoformat(),
                          name=holiday) if holiday
                        else _("This day is a weekend or a public holiday.")),
            "hours": _("This is outside the centre's opening hours."),
        }
        raise OperationError(sentences(*(message[r] for r in reasons),
                                       _("Give a reason to schedule it anyway.")),
                             field="override_reason")
    resources = _resources(data)
    found = scheduling.clashes(data.starts_at, data.ends_at, resources, exclude_id)
    if found:
        slots = scheduling.free_slots(data.ends_at - data.starts_at, data.starts_at, resources,
                                      centre, exclude_id=exclude_id)
        free = _("Free for everyone: %(slots)s.",
                 slots="、".join(_when(s) for s in slots)) if slots else ""
        raise SchedulingConflict(sentences(_clash_message(found[0], data, by), free), slots)


def _check_capacity(data: SessionInput) -> None:
    if data.place_kind is PlaceKind.ROOM and _headcount(data) > data.room.capacity:
        raise OperationError(_("%(room)s holds %(capacity)d people; this session has "
                               "%(count)d.", room=data.room.name, capacity=data.room.capacity,
                               count=_headcount(data)), field="room")


def free_starts(case: Case, data: SessionInput, *, count: int = 3,
                now: datetime | None = None) -> list[datetime]:
    """When a session of ``data``'s length and people could start, the day of
    ``data.starts_at`` first: the free slots a clash offers, asked beforehand (nothing of
    other sessions but that they are not free). The room and the people are checked as a
    booking checks them; a volunteer not on the case is offered only their duty hours."""
    now = now or utcnow()
    if not timedelta(0) < data.ends_at - data.starts_at <= MAX_LENGTH:
        raise OperationError(_("A session lasts at most 12 hours."), field="end")
    if data.starts_at > now + BOOKING_HORIZON:
        raise OperationError(_("A session is scheduled at most a year ahead."), field="day")
    if data.place_kind is PlaceKind.ROOM:
        _check_room(case, data)
    if not case.is_open:
        raise OperationError(_("Sessions are scheduled for open cases only."))
    _check_people(case, data, on_call=lambda volunteer: bool(_duties(volunteer, data.room)))
    _check_capacity(data)
    on_call = [_duties(v, data.room) for v in data.legal_aid if not access.can_view(v, case)]

    def fits(start: datetime, end: datetime) -> bool:
        return start <= now + BOOKING_HORIZON and all(
            any(duty.covers(start, end) for duty in duties) for duties in on_call)

    return scheduling.free_slots(
        data.ends_at - data.starts_at, max(data.starts_at, now), _resources(data),
        data.room.centre if data.place_kind is PlaceKind.ROOM else None, count=count,
        now=now, fits=fits)


def _clash_message(clash: scheduling.Clash, data: SessionInput, by: User) -> str:
    """The clash named in full when ``by`` may see the other case; otherwise only what of
    this booking is busy, never the other case's number, names, times or purpose."""
    if access.can_view(by, clash.session.case):
        what = {"room": _("the room %(name)s", name=clash.who),
                "user": _("%(name)s", name=clash.who),
                "person": _("the party %(name)s", name=clash.who),
                "guest": _("the invited guest %(name)s", name=clash.who)}[clash.what]
        return _("%(what)s is already booked from %(start)s to %(end)s (case %(number)s).",
                 what=what, start=_when(clash.session.starts_at),
                 end=format_datetime(clash.session.ends_at, "HH:mm"),
                 number=clash.session.case.number)
    if clash.what == "room":
        return _("The room %(name)s is already in use at this time.", name=data.room.name)
    if clash.what == "user":
        people = [data.lead_mediator, *data.co_mediators, *data.legal_aid]
        name = next(u.full_name for u in people if u.id == clash.mine)
        return _("%(name)s already has another engagement at this time.", name=name)
    if isinstance(clash.mine, scheduling.Guest):
        return _("The invited guest %(name)s already has another engagement at this time.",
                 name=clash.mine.name)
    party = next((p for p in data.parties if scheduling.person_key(p) == clash.mine
                  or p.agent_phone == clash.mine), None)
    if party is not None and scheduling.person_key(party) != clash.mine:
        return _("The agent of %(name)s already has another mediation arranged at this time.",
                 name=party.name)
    return _("The party %(name)s already has another mediation arranged at this time.",
             name=party.name if party is not None else "")


def schedule_session(by: User, case: Case, data: SessionInput, *,
                     now: datetime | None = None) -> MediationSession:
    """Book a session; clashes are refused, never warned (the booking lock makes races queue).

    ``now`` is the moment of booking, the real clock by default: the demo's history
    (mediation.demo_activity) books its past sessions at the moment it says they were booked.
    """
    _check(case, data, now or utcnow())
    _lock_bookings()
    check_availability(data, by)
    session = MediationSession(
        case=case, starts_at=data.starts_at, ends_at=data.ends_at, place_kind=data.place_kind,
        room=data.room if data.place_kind is PlaceKind.ROOM else None,
        address=(data.address or None) if data.place_kind is PlaceKind.ON_SITE else None,
        video_link=(data.video_link or "").strip() or None if data.place_kind is PlaceKind.VIDEO
        else None,
        purpose=data.purpose.strip(), status=SessionStatus.PLANNED,
        override_reason=data.override_reason or None, created_by=by)
    db.session.add(session)
    session.participants.append(Participant(role=ParticipantRole.LEAD_MEDIATOR,
                                            user=data.lead_mediator))
    for user in data.co_mediators:
        session.participants.append(Participant(role=ParticipantRole.CO_MEDIATOR, user=user))
    for user in data.legal_aid:
        session.participants.append(Participant(role=ParticipantRole.LEGAL_AID, user=user))
        if not access.can_view(user, case):  # on duty: joining the session opens the case
            case_operations.assign(by, case, user, AssignmentRole.LEGAL_AID)
    for party in data.parties:
        session.participants.append(Participant(role=ParticipantRole.PARTY, party=party))
        if data.with_agents and party.agent_name:
            session.participants.append(Participant(role=ParticipantRole.AGENT, party=party))
    for person in data.invited:
        guest = scheduling.Guest.of(person.name, person.organisation, person.phone)
        session.participants.append(Participant(
            role=ParticipantRole.INVITED, name=guest.name,
            organisation=guest.organisation or None, phone=guest.phone, consent_recorded=True))
    db.session.flush()
    log_event(case, by, EventKind.SESSION,
              reason=_("Session on %(when)s: %(purpose)s", when=_when(data.starts_at),
                       purpose=session.purpose),
              data={"session": session.id})
    audit.record("session.schedule", session, actor=by, after={
        "case": case.number, "starts_at": data.starts_at, "ends_at": data.ends_at,
        "room": data.room.name if session.room else None,
        "participants": len(session.participants)})
    emit(EventType.SESSION_BOOKED, case, session=session)
    reminders.queue_for_session(session)
    return session


@dataclass
class MoveInput:
    """Where a planned session goes: a new time and/or place; everyone invited stays."""
    starts_at: datetime
    ends_at: datetime
    place_kind: PlaceKind
    reason: str
    room: Room | None = None
    address: str | None = None
    video_link: str | None = None
    override_reason: str | None = None


def _as_booked(session: MediationSession, move: MoveInput) -> SessionInput:
    """The session's people at the new time and place, as a booking to check."""
    def users(role):
        return [p.user for p in session.participants if p.role is role and p.user is not None]

    lead = users(ParticipantRole.LEAD_MEDIATOR)
    return SessionInput(
        starts_at=move.starts_at, ends_at=move.ends_at, place_kind=move.place_kind,
        purpose=session.purpose, lead_mediator=lead[0] if lead else None, room=move.room,
        address=move.address, video_link=move.video_link,
        co_mediators=users(ParticipantRole.CO_MEDIATOR),
        legal_aid=users(ParticipantRole.LEGAL_AID),
        parties=[p.party for p in session.participants
                 if p.role is ParticipantRole.PARTY and p.party is not None],
        with_agents=any(p.role is ParticipantRole.AGENT for p in session.participants),
        invited=[Invitee(p.name, p.organisation, consent_recorded=True, phone=p.phone)
                 for p in session.participants if p.role is ParticipantRole.INVITED],
        override_reason=move.override_reason)


def move_session(by: User, session: MediationSession, move: MoveInput,
                 seen_version: int | None = None) -> None:
    """Move a planned session (改期) to another time or place, refusing clashes as a booking
    does; the same people stay invited and are told, and answers given for the old time
    (confirmed, declined) are asked again."""
    check_version(session, seen_version)
    if session.status is not SessionStatus.PLANNED:
        raise OperationError(_("Only a planned session can be moved."))
    now = utcnow()
    if session.starts_at <= now:
        raise OperationError(_("The session has already begun: record its minutes instead."))
    if not (move.reason or "").strip():
        raise OperationError(_("Please give the reason."), field="reason")
    data = _as_booked(session, move)
    _check(session.case, data, now)
    room = move.room if move.place_kind is PlaceKind.ROOM else None
    address = (move.address or None) if move.place_kind is PlaceKind.ON_SITE else None
    video_link = (move.video_link or "").strip() or None if move.place_kind is PlaceKind.VIDEO \
        else None
    before = {"starts_at": session.starts_at, "ends_at": session.ends_at,
              "place": notices.place_text(session)}
    if (move.starts_at, move.ends_at, move.place_kind, room, address, video_link) == (
            session.starts_at, session.ends_at, session.place_kind, session.room,
            session.address, session.video_link):
        raise OperationError(_("This is when and where the session already is."),
                             field="start")
    _lock_bookings()
    check_availability(data, by, exclude_id=session.id)
    session.starts_at, session.ends_at = move.starts_at, move.ends_at
    session.place_kind, session.room = move.place_kind, room
    session.address, session.video_link = address, video_link
    session.override_reason = (move.override_reason or "").strip() or None
    for participant in session.participants:
        if participant.attendance in (Attendance.CONFIRMED, Attendance.DECLINED):
            participant.attendance = Attendance.INVITED
    reason = move.reason.strip()
    after = {"starts_at": move.starts_at, "ends_at": move.ends_at,
             "place": notices.place_text(session)}
    log_event(session.case, by, EventKind.SESSION,
              reason=_("Session of %(old)s moved to %(new)s: %(reason)s",
                       old=_when(before["starts_at"]), new=_when(move.starts_at),
                       reason=reason),
              data={"session": session.id, "moved_from": before["starts_at"].isoformat()})
    audit.record("session.move", session, actor=by, before=before, after=after, note=reason)
    emit(EventType.SESSION_MOVED, session.case, session=session, moved_from=before)
    db.session.flush()
    reminders.queue_move(session)


def cancel_session(by: User, session: MediationSession, reason: str,
                   seen_version: int | None = None) -> None:
    """Cancel, keeping the session and its history; the participants are told."""
    check_version(session, seen_version)
    if session.status is not SessionStatus.PLANNED:
        raise OperationError(_("Only a planned session can be cancelled."))
    if session.starts_at <= utcnow():
        raise OperationError(_("The session has already begun: record its minutes instead."))
    if not (reason or "").strip():
        raise OperationError(_("Please give the reason."), field="reason")
    session.status = SessionStatus.CANCELLED
    session.cancelled_at = utcnow()
    session.cancel_reason = reason.strip()
    log_event(session.case, by, EventKind.SESSION,
              reason=_("Session on %(when)s cancelled: %(reason)s",
                       when=_when(session.starts_at), reason=reason.strip()),
              data={"session": session.id, "cancelled": True})
    audit.record("session.cancel", session, actor=by, note=reason)
    emit(EventType.SESSION_CANCELLED, session.case, session=session)
    db.session.flush()
    reminders.queue_cancellation(session)


def record_attendance(by: User, session: MediationSession,
                      attendance: dict[int, Attendance]) -> None:
    if not session.is_active:
        raise OperationError(_("A cancelled session has no attendance."))
    if session.starts_at > utcnow() and any(
            value in (Attendance.ATTENDED, Attendance.ABSENT) for value in attendance.values()):
        raise OperationError(_("Who attended is recorded once the session has begun."))
    before = {p.id: p.attendance for p in session.participants}
    for participant in session.participants:
        if participant.id in attendance:
            participant.attendance = attendance[participant.id]
    after = {p.id: p.attendance for p in session.participants}
    if after != before:
        audit.record("session.attendance", session, actor=by, before=before, after=after)
    db.session.flush()


def add_duty(by: User, centre, weekday: int, starts_at, ends_at) -> VolunteerDuty:
    """A legal-aid volunteer declares hours on duty at a centre (offered for sessions then)."""
    if by.role is not Role.LEGAL_AID:
        raise OperationError(_("Only legal-aid volunteers declare duty hours."))
    if not 0 <= weekday <= 6:
        raise OperationError(_("Choose a weekday."), field="weekday")
    if ends_at <= starts_at:
        raise OperationError(_("The end must be after the start."), field="ends_at")
    duty = VolunteerDuty(user=by, centre=centre, weekday=weekday, starts_at=starts_at,
                         ends_at=ends_at)
    db.session.add(duty)
    db.session.flush()
    audit.record("duty.add", duty, actor=by, after={"centre": centre.name, "weekday": weekday,
                                                    "from": starts_at, "until": ends_at})
    return duty


def remove_duty(by: User, duty: VolunteerDuty) -> None:
    if duty.user_id != by.id:
        raise OperationError(_("These are someone else's duty hours."))
    audit.record("duty.remove", duty, actor=by)
    db.session.delete(duty)
    db.session.flush()


def _cancel_future_sessions(by: User | None, case: Case, reason: str) -> None:
    """A case that leaves mediation keeps no planned sessions (nor their reminders)."""
    for session in db.session.scalars(select(MediationSession).where(
            MediationSession.case_id == case.id,
            MediationSession.status == SessionStatus.PLANNED,
            MediationSession.starts_at > utcnow())):
        cancel_session(by, session, str(reason))


case_operations.LEAVING_MEDIATION.append(_cancel_future_sessions)
