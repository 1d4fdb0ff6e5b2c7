"""When people and rooms are free: clashes, opening hours, holidays and free slots."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select

from mediation.areas.models import Centre
from mediation.cases.models import Party
from mediation.core.calendar import is_working_day
from mediation.core.validators import normalise_phone
from mediation.extensions import db
from mediation.sessions.models import (
    MediationSession,
    Participant,
    ParticipantRole,
    SessionStatus,
)

LOCAL = ZoneInfo("Asia/Shanghai")
STEP = timedelta(minutes=30)
DEFAULT_HOURS = (time(8, 30), time(17, 30))


@dataclass(frozen=True)
class Guest:
    """An invited guest as the clash check knows them: by phone where one is given (as an
    agent is known by theirs), else by name and organisation, spaces evened out."""

    name: str
    organisation: str = ""
    phone: str | None = None

    @classmethod
    def of(cls, name: str | None, organisation: str | None = None,
           phone: str | None = None) -> "Guest":
        """The guest as typed: a phone that is not one counts as none (the booking refuses
        it before)."""
        return cls(" ".join((name or "").split()), " ".join((organisation or "").split()),
                   normalise_phone(phone) if phone else None)

    def is_(self, other: "Guest") -> bool:
        """The same person: the same phone; with a phone missing on either side, the same
        name and organisation."""
        if self.phone and other.phone:
            return self.phone == other.phone
        return (self.name, self.organisation) == (other.name, other.organisation)


@dataclass(frozen=True)
class Resources:
    """What a session needs free: a room, staff accounts, and people (by party key)."""

    room_id: int | None
    user_ids: frozenset[int]
    person_keys: frozenset[str]
    # Agents (often one lawyer for several clients) are known by their phone number.
    agent_phones: frozenset[str] = frozenset()
    guests: frozenset[Guest] = frozenset()

    @property
    def phones(self) -> frozenset[str]:
        """Agents' and guests' phones: a lawyer may be an agent here and a guest there."""
        return self.agent_phones | {g.phone for g in self.guests if g.phone}


def person_key(party: Party) -> str:
    """The same person across cases: by ID number where known, else by the party row."""
    return f"id:{party.id_number_index}" if party.id_number_index else f"party:{party.id}"


@dataclass(frozen=True)
class Clash:
    session: MediationSession
    what: str  # "room", "user", "person" (a party or agent) or "guest"
    who: str  # the name in the other session
    # What of the proposed session's is busy: the room's or user's id, the person key, the
    # agent's phone or the guest (so a caller who may not see the other case can be told
    # which).
    mine: int | str | Guest | None = None


def guest_of(participant: Participant) -> Guest:
    return Guest.of(participant.name, participant.organisation, participant.phone)


def _same_name(guest: Guest):
    """An invited participant known by the guest's name and organisation, in SQL: where a
    phone is missing on either side (see ``Guest.is_``; phones are matched apart). Guests'
    names are stored evened out."""
    same_name = and_(Participant.name == guest.name,
                     func.coalesce(Participant.organisation, "") == guest.organisation)
    return same_name if guest.phone is None else and_(Participant.phone.is_(None), same_name)


def _my_guest(participant: Participant, resources: Resources) -> Guest | None:
    """The booking's guest who is this participant of another session: a guest there, or
    an agent there known by the same phone."""
    if participant.role is ParticipantRole.INVITED:
        theirs = guest_of(participant)
        return next((g for g in resources.guests if g.is_(theirs)), None)
    if participant.role is ParticipantRole.AGENT and participant.party is not None \
            and participant.party.agent_phone:
        return next((g for g in resources.guests if g.phone == participant.party.agent_phone),
                    None)
    return None


def busy_sessions(start: datetime, end: datetime, resources: Resources,
                  exclude_id: int | None = None) -> list[MediationSession]:
    """Active sessions overlapping [start, end) that use any of the resources.

    Sessions that only touch (one ends when the other starts) do not overlap.
    """
    conditions = []
    if resources.room_id is not None:
        conditions.append(MediationSession.room_id == resources.room_id)
    if resources.user_ids:
        conditions.append(MediationSession.id.in_(select(Participant.session_id).where(
            Participant.user_id.in_(resources.user_ids))))
    ids = {int(k.split(":")[1]) for k in resources.person_keys if k.startswith("party:")}
    indexes = {k.split(":", 1)[1] for k in resources.person_keys if k.startswith("id:")}
    if ids or indexes:
        people = select(Participant.session_id).join(Party, Participant.party_id == Party.id)
        people = people.where(or_(Party.id.in_(ids), Party.id_number_index.in_(indexes)))
        conditions.append(MediationSession.id.in_(people))
    if resources.phones:
        agents = select(Participant.session_id).join(Party, Participant.party_id == Party.id)
        conditions.append(MediationSession.id.in_(agents.where(
            Participant.role == ParticipantRole.AGENT,
            Party.agent_phone.in_(resources.phones))))
        conditions.append(MediationSession.id.in_(select(Participant.session_id).where(
            Participant.role == ParticipantRole.INVITED,
            Participant.phone.in_(resources.phones))))
    if resources.guests:
        conditions.append(MediationSession.id.in_(select(Participant.session_id).where(
            Participant.role == ParticipantRole.INVITED,
            or_(*(_same_name(g) for g in resources.guests)))))
    if not conditions:
        return []
    stmt = select(MediationSession).where(
        MediationSession.status != SessionStatus.CANCELLED,
        MediationSession.starts_at < end, MediationSession.ends_at > start, or_(*conditions))
    if exclude_id is not None:
        stmt = stmt.where(MediationSession.id != exclude_id)
    return list(db.session.scalars(stmt.order_by(MediationSession.starts_at)))


def clashes(start: datetime, end: datetime, resources: Resources,
            exclude_id: int | None = None) -> list[Clash]:
    """Each overlapping session with what it shares with the proposed one."""
    found = []
    for other in busy_sessions(start, end, resources, exclude_id):
        if resources.room_id is not None and other.room_id == resources.room_id:
            found.append(Clash(other, "room", other.room.name, other.room_id))
            continue
        for participant in other.participants:
            if participant.user_id in resources.user_ids:
                found.append(Clash(other, "user", participant.display_name,
                                   participant.user_id))
                break
            if participant.role is ParticipantRole.AGENT and participant.party is not None \
                    and participant.party.agent_phone in resources.agent_phones:
                found.append(Clash(other, "person", participant.display_name,
                                   participant.party.agent_phone))
                break
            guest = _my_guest(participant, resources)
            if guest is not None:
                found.append(Clash(other, "guest" if participant.role is
                                   ParticipantRole.INVITED else "person",
                                   participant.display_name, guest))
                break
            if participant.role is ParticipantRole.INVITED and participant.phone \
                    and participant.phone in resources.agent_phones:
                found.append(Clash(other, "guest", participant.display_name,
                                   participant.phone))
                break
            if participant.party is not None and \
                    person_key(participant.party) in resources.person_keys:
                found.append(Clash(other, "person", participant.party.name,
                                   person_key(participant.party)))
                break
    return found


def opening_hours(centre: Centre | None) -> tuple[time, time]:
    return (centre.opens_at, centre.closes_at) if centre is not None else DEFAULT_HOURS


def outside_hours_reasons(start: datetime, end: datetime, centre: Centre | None) -> list[str]:
    """Why a slot needs an override: 'holiday' (weekend or public holiday), 'hours'."""
    local_start, local_end = start.astimezone(LOCAL), end.astimezone(LOCAL)
    reasons = []
    if not is_working_day(local_start.date()):
        reasons.append("holiday")
    opens, closes = opening_hours(centre)
    if local_start.time() < opens or local_end.time() > closes or \
            local_end.date() != local_start.date():
        reasons.append("hours")
    return reasons


def free_slots(duration: timedelta, around: datetime, resources: Resources,
               centre: Centre | None, *, count: int = 3, days: int = 14,
               now: datetime | None = None, exclude_id: int | None = None,
               fits: Callable[[datetime, datetime], bool] | None = None) -> list[datetime]:
    """The next free starts for everyone required: the same day first, then working days
    (``exclude_id``: a session being moved does not stand in its own way; ``fits``: what
    else a start must meet, e.g. a volunteer's duty hours)."""
    now = now or datetime.now(LOCAL)
    first_day = around.astimezone(LOCAL).date()
    window_start = datetime.combine(first_day, time(0), LOCAL)
    window_end = window_start + timedelta(days=days + 1)
    busy = [(s.starts_at, s.ends_at)
            for s in busy_sessions(window_start, window_end, resources, exclude_id)]
    opens, closes = opening_hours(centre)
    found: list[datetime] = []
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        if not is_working_day(day):
            continue
        for start in _starts(day, opens, closes, duration):
            end = start + duration
            if start < now:
                continue
            if any(b_start < end and b_end > start for b_start, b_end in busy):
                continue
            if fits is not None and not fits(start, end):
                continue
            found.append(start)
            if len(found) >= count:
                return found
    return found


def _starts(day: date, opens: time, closes: time, duration: timedelta) -> Iterable[datetime]:
    start = datetime.combine(day, opens, LOCAL)
    last = datetime.combine(day, closes, LOCAL) - duration
    while start <= last:
        yield start
        start += STEP


@dataclass(frozen=True)
class DayBusy:
    """One day of a week: whether it is a working day, and the busy times of the room and of
    the person (local start and end; nothing about the sessions themselves)."""

    day: date
    working: bool
    room: list[tuple[time, time]]
    person: list[tuple[time, time]]


def week_busy(day: date, room_id: int | None, user_id: int | None) -> list[DayBusy]:
    """The week (Monday to Sunday) holding ``day``: when the room and the person are taken,
    for the booking form to show before anything is refused."""
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time.min, LOCAL)
    end = start + timedelta(days=7)
    taken = busy_sessions(start, end, Resources(
        room_id, frozenset({user_id} if user_id else ()), frozenset()))

    def spans(d: date, sessions) -> list[tuple[time, time]]:
        return [(s.starts_at.astimezone(LOCAL).time(), s.ends_at.astimezone(LOCAL).time())
                for s in sessions if s.starts_at.astimezone(LOCAL).date() == d]

    in_room = [s for s in taken if room_id is not None and s.room_id == room_id]
    with_person = [s for s in taken if user_id is not None
                   and any(p.user_id == user_id for p in s.participants)]
    days = [monday + timedelta(days=n) for n in range(7)]
    return [DayBusy(d, is_working_day(d), spans(d, in_room), spans(d, with_person))
            for d in days]
