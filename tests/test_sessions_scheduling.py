"""Scheduling mediation sessions: every kind of clash refused with free slots, capacity,
holidays and opening hours, bad input, cancelling, and the last-slot race on both databases.

All dates are in 2027, a year the ``chinesecalendar`` library does not know: weekends are
days off unless a CalendarDay row says otherwise, and official holidays come from rows.
"""

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import Auth
from sqlalchemy import func, select

from mediation.areas.models import Centre, Room
from mediation.cases import access
from mediation.cases.models import (
    AssignmentRole,
    Case,
    CaseEvent,
    EventKind,
    PartyKind,
    PartyRole,
)
from mediation.cases.operations import PartyInput, assign
from mediation.cases.states import CaseState
from mediation.core.audit import AuditEntry, verify_chain
from mediation.core.calendar import CalendarDay, is_working_day
from mediation.core.db import utcnow, write_intent
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import scheduling
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    Participant,
    ParticipantRole,
    PlaceKind,
    SessionStatus,
    VolunteerDuty,
)
from mediation.sessions.operations import (
    Invitee,
    SchedulingConflict,
    SessionInput,
    cancel_session,
    check_availability,
    record_attendance,
    schedule_session,
)
from mediation.users.models import User
from mediation.users.roles import Role

LOCAL = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
ID_NUMBER = "11010519491231002X"
TUESDAY = date(2027, 3, 16)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL)


@pytest.fixture
def city(demo_city):
    """The demo city's staff and rooms, plus a second mediator of the street."""
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    rooms = {room.name: room for room in centre.rooms}
    # Never logs in: a placeholder hash spares argon2.
    second = User(username="mediator2", full_name="王海波", role=Role.MEDIATOR,
                  password_hash="!", areas=[area("370599001")])
    db.session.add(second)
    db.session.commit()
    return SimpleNamespace(
        admin=user("admin"), coordinator=user("coordinator"), mediator=user("mediator"),
        mediator2=second, legalaid=user("legalaid"), centre=centre,
        room1=rooms["第一调解室"], room2=rooms["第二调解室"], video=rooms["远程视频调解室"],
        hall=rooms["联合调解大厅"],
    )


def new_case(city, parties=None, *, legal_aid: bool = False) -> Case:
    case = make_case(city.admin, grid=area(GRID),
                     parties=parties if parties is not None else [applicant(), respondent()])
    if legal_aid:
        assign(city.admin, case, city.legalaid, AssignmentRole.LEGAL_AID)
    return case


def plan(case: Case, start: datetime, end: datetime | None = None, *, lead: User,
         room: Room | None, parties=None, **fields) -> SessionInput:
    fields.setdefault("place_kind", PlaceKind.ROOM)
    fields.setdefault("purpose", "调解维修费用分担")
    return SessionInput(starts_at=start, ends_at=end or start + HOUR,
                        lead_mediator=lead, room=room,
                        parties=list(case.parties) if parties is None else parties, **fields)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def active_sessions() -> list[MediationSession]:
    return list(db.session.scalars(select(MediationSession).where(
        MediationSession.status != SessionStatus.CANCELLED)))


def assert_good_slots(slots: list[datetime], data: SessionInput, centre: Centre) -> None:
    """Free slots: in order, the requested day first, in the future, on working days,
    within opening hours, clear of every booked session, and bookable as offered."""
    assert slots, "no free slots offered"
    assert slots == sorted(slots)
    assert slots[0].astimezone(LOCAL).date() == data.starts_at.astimezone(LOCAL).date()
    duration = data.ends_at - data.starts_at
    busy = [(s.starts_at, s.ends_at) for s in active_sessions()]
    now = datetime.now(UTC)
    for start in slots:
        end = start + duration
        local_start, local_end = start.astimezone(LOCAL), end.astimezone(LOCAL)
        assert start > now
        assert is_working_day(local_start.date()), start
        assert local_end.date() == local_start.date()
        assert centre.opens_at <= local_start.time() and local_end.time() <= centre.closes_at
        assert not any(b_start < end and b_end > start for b_start, b_end in busy), start
        # Everyone required is free then: the same request at that time passes, no override.
        check_availability(replace(data, starts_at=start, ends_at=end, override_reason=None),
                           data.lead_mediator)


# ---- the happy path ----------------------------------------------------------------------

def test_a_three_party_session_with_co_mediator_and_legal_aid_is_scheduled(city):
    case = new_case(city, [
        applicant("王建国", id_type="resident_id", id_number=ID_NUMBER,
                  agent_name="赵律师", agent_power_of_attorney=True),
        respondent("李卫东"),
        PartyInput(role=PartyRole.THIRD_PARTY, kind=PartyKind.PERSON, name="孙丽"),
    ], legal_aid=True)
    db.session.commit()
    data = plan(case, at(TUESDAY, 10), lead=city.mediator, room=city.room1,
                co_mediators=[city.coordinator], legal_aid=[city.legalaid],
                invited=[Invitee("周心怡", "区心理咨询中心", consent_recorded=True)])
    session = schedule_session(city.mediator, case, data)
    db.session.commit()

    db.session.expire_all()
    session = db.session.get(MediationSession, session.id)
    assert session.case_id == case.id
    assert session.status is SessionStatus.PLANNED
    assert session.place_kind is PlaceKind.ROOM and session.room_id == city.room1.id
    assert session.starts_at == at(TUESDAY, 10) and session.ends_at == at(TUESDAY, 11)
    assert session.starts_at.tzinfo is not None
    assert session.override_reason is None
    assert session.created_by_id == city.mediator.id
    roles = [(p.role, p.display_name) for p in session.participants]
    assert roles == [
        (ParticipantRole.LEAD_MEDIATOR, "张志强"),
        (ParticipantRole.CO_MEDIATOR, "李红梅"),
        (ParticipantRole.LEGAL_AID, "陈思远"),
        (ParticipantRole.PARTY, "王建国"),
        (ParticipantRole.AGENT, "赵律师"),
        (ParticipantRole.PARTY, "李卫东"),
        (ParticipantRole.PARTY, "孙丽"),
        (ParticipantRole.INVITED, "周心怡"),
    ]
    assert all(p.attendance is Attendance.INVITED for p in session.participants)
    invited = session.participants[-1]
    assert invited.organisation == "区心理咨询中心" and invited.consent_recorded

    events = list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.SESSION)))
    assert len(events) == 1
    assert events[0].data == {"session": session.id}
    assert events[0].actor_id == city.mediator.id
    assert "2027-03-16 10:00" in events[0].reason

    entries = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "session.schedule")))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.object_type == "MediationSession" and entry.object_id == str(session.id)
    assert entry.actor_name == "mediator"
    assert entry.after["case"] == case.number
    assert entry.after["room"] == "第一调解室"
    assert entry.after["participants"] == 8
    assert datetime.fromisoformat(entry.after["starts_at"]) == at(TUESDAY, 10)
    assert verify_chain().ok


def test_sessions_on_site_and_by_video_need_no_room(city):
    case = new_case(city)
    on_site = schedule_session(city.mediator, case, plan(
        case, at(TUESDAY, 9), lead=city.mediator, room=None, place_kind=PlaceKind.ON_SITE,
        address="文苑小区3号楼402室"))
    video = schedule_session(city.mediator, case, plan(
        case, at(TUESDAY, 14), lead=city.mediator, room=None, place_kind=PlaceKind.VIDEO,
        video_link="https://meet.example.cn/abc"))
    db.session.commit()
    assert on_site.room_id is None and on_site.address == "文苑小区3号楼402室"
    assert video.room_id is None and video.video_link == "https://meet.example.cn/abc"
    # Without a room the people still clash.
    with pytest.raises(SchedulingConflict):
        schedule_session(city.mediator, case, plan(
            case, at(TUESDAY, 9, 30), lead=city.mediator, room=None,
            place_kind=PlaceKind.VIDEO, video_link="https://meet.example.cn/x"))


# ---- clashes -----------------------------------------------------------------------------

CLASH_KINDS = ["room", "lead_mediator", "mediator_as_co", "co_mediator", "legal_aid",
               "same_party", "same_person_other_case"]


@pytest.mark.parametrize("kind", [None, *CLASH_KINDS])
def test_every_kind_of_clash_is_refused_with_free_slots(city, kind):
    first_case = new_case(city, [
        applicant("王建国", id_type="resident_id", id_number=ID_NUMBER),
        respondent("李卫东"),
    ], legal_aid=True)
    schedule_session(city.mediator, first_case, plan(
        first_case, at(TUESDAY, 10), lead=city.mediator, room=city.room1,
        co_mediators=[city.coordinator], legal_aid=[city.legalaid]))
    db.session.commit()

    # The same hour, with nothing in common with the first session …
    if kind == "same_person_other_case":
        parties = [applicant("王建国", id_type="resident_id", id_number=ID_NUMBER),
                   respondent("吴国栋")]
    else:
        parties = [applicant("周海燕"), respondent("吴国栋")]
    other_case = new_case(city, parties, legal_aid=kind == "legal_aid")
    fields = {"lead": city.mediator2, "room": city.room2, "co_mediators": [], "legal_aid": []}
    case, expected = other_case, None
    # … except one thing.
    if kind == "room":
        fields["room"], expected = city.room1, "第一调解室"
    elif kind == "lead_mediator":
        fields["lead"], expected = city.mediator, "张志强"
    elif kind == "mediator_as_co":
        fields["co_mediators"], expected = [city.mediator], "张志强"
    elif kind == "co_mediator":
        fields["co_mediators"], expected = [city.coordinator], "李红梅"
    elif kind == "legal_aid":
        fields["legal_aid"], expected = [city.legalaid], "陈思远"
    elif kind == "same_party":
        # Another session of the first case, another room and mediator, one party in common.
        case, expected = first_case, "李卫东"
        fields["parties"] = [first_case.parties[1]]
    elif kind == "same_person_other_case":
        expected = "王建国"
        assert other_case.parties[0].id != first_case.parties[0].id
        assert other_case.parties[0].id_number_index == first_case.parties[0].id_number_index
    data = plan(case, at(TUESDAY, 10, 30), at(TUESDAY, 11, 30), **fields)

    if kind is None:
        schedule_session(city.mediator2, case, data)
        db.session.commit()
        assert len(active_sessions()) == 2
        return

    events_before = count(CaseEvent)
    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(city.mediator2, case, data)
    error = refused.value
    assert isinstance(error, OperationError) and error.field is None  # shown above the form
    assert first_case.number in error.message
    assert expected in error.message
    assert "2027-03-16 10:00" in error.message
    # Nothing saved half-way.
    assert count(MediationSession) == 1
    assert count(Participant) == len(active_sessions()[0].participants)
    assert count(CaseEvent) == events_before
    # The same day first: before the clash, and right after it (an hour each).
    assert error.slots == [at(TUESDAY, 8, 30), at(TUESDAY, 9), at(TUESDAY, 11)]
    assert_good_slots(error.slots, data, city.centre)
    for slot in error.slots:
        assert slot.strftime("%H:%M") in error.message
    # The first slot offered can indeed be booked.
    booked = schedule_session(city.mediator2, case, replace(
        data, starts_at=error.slots[0], ends_at=error.slots[0] + HOUR))
    db.session.commit()
    assert booked.status is SessionStatus.PLANNED


# Kinds of clash with a session of a case the booking mediator may not see, and what the
# refusal may say of it: only what of this booking is busy.
FOREIGN_CLASHES = {
    "room": "调解室第一调解室在该时段已被占用",
    "co_mediator": "李红梅在该时段已有其他安排",
    "same_person": "当事人王建国在该时段已有其他调解安排",
    "same_agent": "王建国的代理人在该时段已有其他调解安排",
}


@pytest.mark.parametrize("kind", FOREIGN_CLASHES)
def test_a_clash_with_a_case_out_of_sight_names_nothing_of_it(city, kind, client):
    from api_helpers import other_community_mediator
    outsider = user(other_community_mediator())  # 清风社区's mediator: 文苑社区 is not his
    first_case = new_case(city, [
        applicant("王建国", id_type="resident_id", id_number=ID_NUMBER, agent_name="赵律师",
                  agent_phone="13912345678", agent_power_of_attorney=True),
        respondent("李卫东"),
    ])
    schedule_session(city.mediator, first_case, plan(
        first_case, at(TUESDAY, 10), lead=city.mediator, room=city.room1,
        co_mediators=[city.coordinator], purpose="商议漏水赔偿的秘密方案"))
    db.session.commit()
    mine = make_case(city.admin, grid=area("370599001002-01"), parties=[
        applicant("王建国", **({"id_type": "resident_id", "id_number": ID_NUMBER}
                             if kind == "same_person" else {}),
                  **({"agent_name": "赵律师", "agent_phone": "13912345678",
                      "agent_power_of_attorney": True} if kind == "same_agent" else {})),
        respondent("吴国栋")])
    db.session.commit()
    fields = {"lead": outsider, "room": city.room2, "co_mediators": []}
    if kind == "room":
        fields["room"] = city.room1
    if kind == "co_mediator":
        fields["co_mediators"] = [city.coordinator]
    data = plan(mine, at(TUESDAY, 10, 30), at(TUESDAY, 11, 30), **fields)
    assert not access.can_view(outsider, first_case)

    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(outsider, mine, data)
    message = refused.value.message
    assert FOREIGN_CLASHES[kind] + "。各方均有空的时段：2027-03-16 08:30" in message
    for secret in (first_case.number, "李卫东", "张志强", "秘密方案", "10:00", "赵律师"):
        assert secret not in message, secret
    assert refused.value.slots == [at(TUESDAY, 8, 30), at(TUESDAY, 9), at(TUESDAY, 11)]

    # The coordinator sees both cases: the same clash is named in full for her.
    if kind != "co_mediator":
        with pytest.raises(SchedulingConflict) as named:
            schedule_session(city.coordinator, mine, replace(data, lead_mediator=city.mediator2))
        assert first_case.number in named.value.message

    # The API's 409 says the same.
    if kind == "room":
        from api_helpers import API, bearer, cli_token, session_body
        headers = bearer(cli_token(client.application, outsider.username))
        start, end = at(TUESDAY, 10, 30), at(TUESDAY, 11, 30)
        response = client.post(f"{API}/cases/{mine.number}/sessions", headers=headers,
                               json=session_body(start, end, place_kind="room",
                                                 room_id=city.room1.id))
        assert response.status_code == 409
        assert FOREIGN_CLASHES[kind] in response.get_json()["detail"]
        assert first_case.number not in response.get_data(as_text=True)


def test_a_full_day_offers_the_next_working_day_skipping_weekend_and_holiday(city):
    db.session.add(CalendarDay(day=date(2027, 3, 22), is_workday=False, name="测试假日"))
    case = new_case(city)
    friday = date(2027, 3, 19)
    schedule_session(city.mediator, case, plan(
        case, at(friday, 8, 30), at(friday, 17, 30), lead=city.mediator, room=city.room1))
    db.session.commit()
    other = new_case(city, [applicant("周海燕"), respondent("吴国栋")])
    data = plan(other, at(friday, 10), lead=city.mediator2, room=city.room1)
    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(city.mediator2, other, data)
    tuesday = date(2027, 3, 23)  # Saturday, Sunday and the Monday holiday skipped
    assert refused.value.slots == [at(tuesday, 8, 30), at(tuesday, 9), at(tuesday, 9, 30)]
    for slot in refused.value.slots:
        local = slot.astimezone(LOCAL)
        assert is_working_day(local.date())
        assert city.centre.opens_at <= local.time()
        assert (local + HOUR).time() <= city.centre.closes_at


def test_free_slots_are_in_the_future_and_follow_the_opening_hours(city):
    case = new_case(city)
    schedule_session(city.mediator, case, plan(case, at(TUESDAY, 10), lead=city.mediator,
                                               room=city.room1))
    db.session.commit()
    room_only = scheduling.Resources(room_id=city.room1.id, user_ids=frozenset(),
                                     person_keys=frozenset())
    # Asked at 12:10 that day: nothing earlier than now is offered.
    slots = scheduling.free_slots(HOUR, at(TUESDAY, 10), room_only, city.centre,
                                  now=at(TUESDAY, 12, 10))
    assert slots == [at(TUESDAY, 12, 30), at(TUESDAY, 13), at(TUESDAY, 13, 30)]
    # Late in the day: the rest comes from the next working day.
    slots = scheduling.free_slots(HOUR, at(TUESDAY, 10), room_only, city.centre,
                                  now=at(TUESDAY, 16, 20))
    assert slots == [at(TUESDAY, 16, 30), at(date(2027, 3, 17), 8, 30),
                     at(date(2027, 3, 17), 9)]
    # Configured opening hours are kept to.
    city.centre.opens_at, city.centre.closes_at = time(9), time(12)
    db.session.flush()
    slots = scheduling.free_slots(HOUR, at(TUESDAY, 10), room_only, city.centre,
                                  now=at(date(2027, 3, 1), 8))
    assert slots == [at(TUESDAY, 9), at(TUESDAY, 11), at(date(2027, 3, 17), 9)]


# ---- capacity ----------------------------------------------------------------------------

def test_more_people_than_the_room_holds_is_refused_counting_agents(city):
    case = new_case(city, [applicant("王建国", agent_name="赵律师"),
                           respondent("李卫东", agent_name="钱律师")])
    db.session.commit()
    assert city.video.capacity == 4
    # Two parties, two agents and the mediator: five for a room of four.
    data = plan(case, at(TUESDAY, 10), lead=city.mediator, room=city.video)
    with pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, data)
    assert not isinstance(refused.value, SchedulingConflict)
    assert refused.value.field == "room"
    assert "远程视频调解室" in refused.value.message
    assert "4" in refused.value.message and "5" in refused.value.message
    assert count(MediationSession) == 0 and count(Participant) == 0
    # Without the agents three people fit; with a co-mediator too, exactly four.
    session = schedule_session(city.mediator, case, replace(
        data, with_agents=False, co_mediators=[city.coordinator]))
    db.session.commit()
    assert len(session.participants) == 4
    assert ParticipantRole.AGENT not in {p.role for p in session.participants}


def test_invited_people_count_towards_capacity(city):
    case = new_case(city)
    data = plan(case, at(TUESDAY, 10), lead=city.mediator, room=city.video,
                invited=[Invitee("周心怡", consent_recorded=True),
                         Invitee("刘警官", "文汇派出所", consent_recorded=True)])
    with pytest.raises(OperationError, match="远程视频调解室") as refused:
        schedule_session(city.mediator, case, data)
    assert refused.value.field == "room"
    schedule_session(city.mediator, case, replace(data, invited=data.invited[:1]))


# ---- adjacent and cancelled sessions -----------------------------------------------------

def test_adjacent_sessions_that_only_touch_are_allowed(city):
    case = new_case(city, legal_aid=True)
    people = {"lead": city.mediator, "room": city.room1, "co_mediators": [city.coordinator],
              "legal_aid": [city.legalaid]}
    first = schedule_session(city.mediator, case, plan(case, at(TUESDAY, 10), **people))
    after = schedule_session(city.mediator, case, plan(case, at(TUESDAY, 11), **people))
    before = schedule_session(city.mediator, case, plan(case, at(TUESDAY, 9), **people))
    db.session.commit()
    assert [s.id for s in (first, after, before)] == sorted({first.id, after.id, before.id})
    assert len(active_sessions()) == 3
    # One minute of overlap is a clash, and so are sessions inside or around a booked one.
    for start, end in [(at(TUESDAY, 11, 59), at(TUESDAY, 13)),
                       (at(TUESDAY, 10, 15), at(TUESDAY, 10, 45)),
                       (at(TUESDAY, 8, 30), at(TUESDAY, 12, 30))]:
        with pytest.raises(SchedulingConflict):
            schedule_session(city.mediator, case, plan(case, start, end, **people))
    assert len(active_sessions()) == 3


def test_a_cancelled_session_frees_its_slot_and_keeps_its_history(city):
    case = new_case(city)
    session = schedule_session(city.mediator, case, plan(case, at(TUESDAY, 10),
                                                         lead=city.mediator, room=city.room1))
    db.session.commit()
    other = new_case(city, [applicant("周海燕"), respondent("吴国栋")])
    data = plan(other, at(TUESDAY, 10), lead=city.mediator2, room=city.room1)
    with pytest.raises(SchedulingConflict):
        schedule_session(city.mediator2, other, data)

    with pytest.raises(OperationError) as refused:
        cancel_session(city.mediator, session, "  ")
    assert refused.value.field == "reason"
    with pytest.raises(OperationError):
        cancel_session(city.mediator, session, "申请人住院", seen_version=session.version + 1)
    cancel_session(city.mediator, session, "申请人住院，改期", seen_version=session.version)
    db.session.commit()

    db.session.expire_all()
    kept = db.session.get(MediationSession, session.id)
    assert kept is not None and kept.status is SessionStatus.CANCELLED
    assert kept.cancel_reason == "申请人住院，改期" and kept.cancelled_at is not None
    assert len(kept.participants) == 3
    events = list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == EventKind.SESSION).order_by(CaseEvent.id)))
    assert [e.data for e in events] == [{"session": kept.id},
                                        {"session": kept.id, "cancelled": True}]
    assert "申请人住院，改期" in events[1].reason
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.cancel"))
    assert entry.object_id == str(kept.id) and entry.note == "申请人住院，改期"
    with pytest.raises(OperationError):
        cancel_session(city.mediator, kept, "再次取消")

    # The slot is free again, for another case in the same room.
    booked = schedule_session(city.mediator2, other, data)
    db.session.commit()
    assert booked.room_id == city.room1.id and len(active_sessions()) == 1
    assert verify_chain().ok


def test_attendance_is_recorded_and_audited(city):
    case = new_case(city)
    session = schedule_session(city.mediator, case, plan(case, at(TUESDAY, 10),
                                                         lead=city.mediator, room=city.room1))
    db.session.commit()
    lead, first, second = session.participants
    # Before the session only confirmations count: who attended is known afterwards.
    with pytest.raises(OperationError):
        record_attendance(city.mediator, session, {first.id: Attendance.ATTENDED})
    db.session.rollback()
    session.starts_at = utcnow() - timedelta(hours=2)
    session.ends_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    record_attendance(city.mediator, session, {first.id: Attendance.ATTENDED,
                                               second.id: Attendance.ABSENT})
    db.session.commit()
    db.session.expire_all()
    assert [p.attendance for p in session.participants] == [
        Attendance.INVITED, Attendance.ATTENDED, Attendance.ABSENT]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.attendance"))
    assert entry.after[str(first.id)] == "attended" and entry.before[str(first.id)] == "invited"
    # Nothing changed, nothing audited.
    record_attendance(city.mediator, session, {first.id: Attendance.ATTENDED})
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "session.attendance")) == 1
    assert verify_chain().ok


# ---- holidays and opening hours ----------------------------------------------------------

def refused_for_override(city, case, data) -> OperationError:
    with pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, data)
    assert not isinstance(refused.value, SchedulingConflict)
    assert refused.value.field == "override_reason"
    return refused.value


def test_a_public_holiday_needs_an_override(city):
    holiday = date(2027, 2, 10)  # a Wednesday
    db.session.add(CalendarDay(day=holiday, is_workday=False, name="春节"))
    case = new_case(city)
    db.session.commit()
    data = plan(case, at(holiday, 10), lead=city.mediator, room=city.room1)
    refused_for_override(city, case, data)
    refused_for_override(city, case, replace(data, override_reason="   "))
    assert count(MediationSession) == 0
    session = schedule_session(city.mediator, case, replace(
        data, override_reason="当事人春节返乡，仅此日双方均在本地"))
    db.session.commit()
    assert session.override_reason == "当事人春节返乡，仅此日双方均在本地"
    # An override lifts the holiday, not the clashes.
    other = new_case(city, [applicant("周海燕"), respondent("吴国栋")])
    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(city.mediator2, other, plan(
            other, at(holiday, 10, 30), lead=city.mediator2, room=city.room1,
            override_reason="春节期间集中调解"))
    assert case.number in refused.value.message
    assert all(s.astimezone(LOCAL).date() != holiday for s in refused.value.slots)


def test_a_make_up_saturday_needs_no_override_a_plain_one_does(city):
    makeup = date(2027, 2, 20)
    assert makeup.weekday() == 5
    db.session.add(CalendarDay(day=makeup, is_workday=True, name="春节调休上班"))
    case = new_case(city)
    db.session.commit()
    session = schedule_session(city.mediator, case, plan(case, at(makeup, 10),
                                                         lead=city.mediator, room=city.room1))
    assert session.override_reason is None

    saturday = date(2027, 3, 20)
    data = plan(case, at(saturday, 10), lead=city.mediator, room=city.room1)
    refused_for_override(city, case, data)
    sunday = replace(data, starts_at=at(saturday + timedelta(days=1), 10),
                     ends_at=at(saturday + timedelta(days=1), 11))
    refused_for_override(city, case, sunday)
    accepted = schedule_session(city.mediator, case,
                                replace(data, override_reason="双方工作日均无法到场"))
    db.session.commit()
    assert accepted.override_reason == "双方工作日均无法到场"
    assert len(active_sessions()) == 2


@pytest.mark.parametrize(("start", "end"), [
    ((7, 0), (8, 0)),       # before opening
    ((8, 0), (9, 0)),       # starts before 08:30
    ((17, 0), (18, 0)),     # runs past 17:30
    ((19, 0), (20, 30)),    # the evening
])
def test_outside_opening_hours_needs_an_override(city, start, end):
    case = new_case(city)
    db.session.commit()
    data = plan(case, at(TUESDAY, *start), at(TUESDAY, *end), lead=city.mediator,
                room=city.room1)
    refused_for_override(city, case, data)
    session = schedule_session(city.mediator, case,
                               replace(data, override_reason="申请人下班后方能到场"))
    assert session.override_reason == "申请人下班后方能到场"


def test_hours_and_days_are_judged_in_local_time_whatever_the_input_zone(city):
    case = new_case(city)
    db.session.commit()
    # 02:00 UTC is 10:00 in Shanghai: an ordinary working hour.
    utc_start = datetime(2027, 3, 16, 2, 0, tzinfo=UTC)
    session = schedule_session(city.mediator, case, plan(case, utc_start, lead=city.mediator,
                                                         room=city.room1))
    assert session.starts_at == at(TUESDAY, 10) and session.override_reason is None
    # Monday 23:00 UTC is Tuesday 07:00 in Shanghai: before opening.
    refused_for_override(city, case, plan(case, datetime(2027, 3, 15, 23, 0, tzinfo=UTC),
                                          lead=city.mediator, room=city.room1))
    # Friday 17:00 UTC is Saturday 01:00 in Shanghai: a weekend (and out of hours).
    refused = refused_for_override(city, case, plan(
        case, datetime(2027, 3, 19, 17, 0, tzinfo=UTC), lead=city.mediator, room=city.room1))
    assert "周末" in refused.message or "weekend" in refused.message


def test_the_opening_hours_of_the_centre_are_configurable(city):
    city.centre.opens_at, city.centre.closes_at = time(9), time(21)
    case = new_case(city)
    db.session.commit()
    evening = plan(case, at(TUESDAY, 19), at(TUESDAY, 20, 30), lead=city.mediator,
                   room=city.room1)
    assert schedule_session(city.mediator, case, evening).override_reason is None
    refused_for_override(city, case, plan(case, at(TUESDAY, 8, 30), lead=city.mediator,
                                          room=city.room1))


# ---- bad input ---------------------------------------------------------------------------

def _end_before_start(city, case, data):
    return replace(data, ends_at=data.starts_at - timedelta(minutes=30)), "end"


def _end_equals_start(city, case, data):
    return replace(data, ends_at=data.starts_at), "end"


def _in_the_past(city, case, data):
    past = datetime.now(LOCAL).replace(microsecond=0) - timedelta(days=1)
    return replace(data, starts_at=past, ends_at=past + HOUR), "start"


def _party_of_another_case(city, case, data):
    other = new_case(city, [applicant("周海燕"), respondent("吴国栋")])
    return replace(data, parties=[case.parties[0], other.parties[1]]), "parties"


def _invited_without_consent(city, case, data):
    return replace(data, invited=[Invitee("周心怡", "区心理咨询中心")]), "consent"


def _room_not_in_use(city, case, data):
    city.room1.active = False
    db.session.flush()
    return data, "room"


def _no_room(city, case, data):
    return replace(data, room=None), "room"


def _volunteer_not_on_the_case(city, case, data):
    return replace(data, legal_aid=[city.legalaid]), "legal_aid"


def _too_long(city, case, data):
    return replace(data, starts_at=at(TUESDAY, 8), ends_at=at(TUESDAY, 20, 30)), "end"


def _staff_listed_twice(city, case, data):
    return replace(data, co_mediators=[city.mediator]), "lead"


def _case_no_longer_open(city, case, data):
    walk_to(case, CaseState.WITHDRAWN, city.admin)
    return data, None


def _no_purpose(city, case, data):
    return replace(data, purpose="  "), "purpose"


def _on_site_without_address(city, case, data):
    return replace(data, place_kind=PlaceKind.ON_SITE, room=None), "address"


BAD_INPUT = [_end_before_start, _end_equals_start, _in_the_past, _too_long,
             _party_of_another_case, _invited_without_consent, _room_not_in_use, _no_room,
             _volunteer_not_on_the_case, _staff_listed_twice, _case_no_longer_open, _no_purpose,
             _on_site_without_address]


@pytest.mark.parametrize("spoil", BAD_INPUT, ids=lambda f: f.__name__.strip("_"))
def test_bad_input_is_refused_and_nothing_is_saved(city, spoil):
    case = new_case(city)
    db.session.commit()
    data, field = spoil(city, case, plan(case, at(TUESDAY, 10), lead=city.mediator,
                                         room=city.room1))
    events_before, audit_before = count(CaseEvent), count(AuditEntry)
    with pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, data)
    assert not isinstance(refused.value, SchedulingConflict)
    assert refused.value.field == field
    assert refused.value.message
    if spoil is _invited_without_consent:
        assert "周心怡" in refused.value.message
        assert "art. 20" in refused.value.message or "第二十条" in refused.value.message
    if spoil is _party_of_another_case:
        assert "吴国栋" in refused.value.message
    assert count(MediationSession) == 0 and count(Participant) == 0
    assert count(CaseEvent) == events_before and count(AuditEntry) == audit_before


# ---- the last free slot, booked twice at once --------------------------------------------

ROUNDS = [(9, 0), (10, 0), (11, 0), (13, 30), (14, 30), (15, 30)]


def test_two_mediators_racing_for_the_last_slot_one_wins(app, city):
    case_a = new_case(city, [applicant("王建国"), respondent("李卫东")])
    case_b = new_case(city, [applicant("周海燕"), respondent("吴国栋")])
    ids = {
        "a": (case_a.id, city.mediator.id), "b": (case_b.id, city.mediator2.id),
        "room": city.room1.id,
    }
    numbers = {"a": case_a.number, "b": case_b.number}
    db.session.commit()  # and hold no transaction open while the bookings run
    outcomes: list[dict[str, str]] = []
    errors: list[str] = []

    for hour, minute in ROUNDS:
        start = at(TUESDAY, hour, minute)
        barrier = threading.Barrier(2)
        result: dict[str, str] = {}

        def run(key: str, start=start, barrier=barrier, result=result) -> None:
            with app.app_context():
                try:
                    write_intent.set(True)
                    barrier.wait(timeout=10)
                    case_id, mediator_id = ids[key]
                    case = db.session.get(Case, case_id)
                    mediator = db.session.get(User, mediator_id)
                    room = db.session.get(Room, ids["room"])
                    schedule_session(mediator, case, plan(case, start, lead=mediator,
                                                          room=room))
                    db.session.commit()
                    result[key] = "booked"
                except SchedulingConflict as conflict:
                    db.session.rollback()
                    result[key] = conflict.message
                except Exception as error:  # noqa: BLE001 - collected and asserted below
                    db.session.rollback()
                    errors.append(repr(error))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, args=(key,)) for key in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
            assert not thread.is_alive()
        outcomes.append(result)

    assert errors == []
    for result in outcomes:
        assert sorted(result) == ["a", "b"]
        winners = [key for key, outcome in result.items() if outcome == "booked"]
        assert len(winners) == 1, result
        loser = "b" if winners == ["a"] else "a"
        assert numbers[winners[0]] in result[loser]
        assert "第一调解室" in result[loser]
    booked = sorted(active_sessions(), key=lambda s: s.starts_at)
    assert [s.starts_at for s in booked] == [at(TUESDAY, h, m) for h, m in ROUNDS]
    assert all(s.room_id == city.room1.id for s in booked)
    assert all(a.ends_at <= b.starts_at for a, b in zip(booked, booked[1:], strict=False))


def test_a_volunteer_on_duty_is_offered_and_joining_opens_the_case(city, app):
    from datetime import time as clock

    from mediation.sessions.operations import add_duty, volunteers_for

    case = new_case(city)  # the volunteer is not assigned to it
    add_duty(city.legalaid, city.centre, TUESDAY.weekday(), clock(9, 0), clock(12, 0))
    db.session.commit()
    offered = volunteers_for(case, [city.centre])
    assert [user.username for user, _duties in offered] == ["legalaid"]
    # Outside the duty hours the volunteer may not be booked for a case they do not have.
    with pytest.raises(OperationError):
        schedule_session(city.mediator, case, plan(case, at(TUESDAY, 14), lead=city.mediator,
                                                   room=city.room1, legal_aid=[city.legalaid]))
    db.session.rollback()
    session = schedule_session(city.mediator, case, plan(
        case, at(TUESDAY, 10), lead=city.mediator, room=city.room1, legal_aid=[city.legalaid]))
    db.session.commit()
    assert any(p.user_id == city.legalaid.id for p in session.participants)
    assert any(a.user_id == city.legalaid.id and a.role is AssignmentRole.LEGAL_AID
               for a in case.assignments)


def test_volunteers_manage_their_own_duty_hours(city, app):
    client = app.test_client()
    volunteer = Auth(client)
    volunteer.login("legalaid")
    response = volunteer.post("/sessions/duty", {"centre": str(city.centre.id), "weekday": "1",
                                                 "starts_at": "09:00", "ends_at": "12:00"})
    assert response.status_code == 302
    duty = db.session.scalars(select(VolunteerDuty)).one()
    assert (duty.weekday, duty.starts_at.hour, duty.ends_at.hour) == (1, 9, 12)
    response = volunteer.post("/sessions/duty", {"centre": str(city.centre.id), "weekday": "1",
                                                 "starts_at": "12:00", "ends_at": "09:00"})
    assert response.status_code == 200 and count(VolunteerDuty) == 1
    other = Auth(app.test_client())
    other.login("mediator")
    assert other.client.get("/sessions/duty").status_code == 403
    volunteer.post(f"/sessions/duty/{duty.id}/delete", {}, form_url="/sessions/duty")
    assert count(VolunteerDuty) == 0


def test_one_agent_cannot_be_in_two_sessions_at_once(city):
    lawyer = {"agent_name": "赵律师", "agent_phone": "13900001111"}
    first = new_case(city, [applicant("王建国", **lawyer), respondent()])
    second = new_case(city, [applicant("周晓梅", **lawyer), respondent("钱立新")])
    schedule_session(city.mediator, first, plan(first, at(TUESDAY, 10), lead=city.mediator,
                                                room=city.room1))
    db.session.commit()
    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(city.mediator2, second, plan(second, at(TUESDAY, 10, 30),
                                                      lead=city.mediator2, room=city.room2))
    assert "赵律师" in refused.value.message
    db.session.rollback()
    # Without the agents invited, the parties themselves are free.
    schedule_session(city.mediator2, second, plan(second, at(TUESDAY, 10, 30),
                                                  lead=city.mediator2, room=city.room2,
                                                  with_agents=False))
