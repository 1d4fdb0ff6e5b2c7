"""Moving a planned session (改期): to a free time or another place, refused onto a clash
(with free slots) and for sessions that cannot move, the participants told once, the
calendar file's SEQUENCE raised; through the operation, the pages and the API.

The operation tests reuse the outbox tests' city and booking (test_sessions_reminders.py):
a Tuesday in 2027, five reachable participants — the mediator by email, four by SMS.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import test_sessions_reminders as outbox_tests
from api_helpers import (
    API,
    PROBLEM,
    bearer,
    case_in_mediation,
    cli_token,
    other_community_mediator,
    post_ok,
    session_body,
    working_slot,
)
from conftest import Auth
from icalendar import Calendar
from sqlalchemy import func, select, text
from test_sessions_reminders import MONDAY, TUESDAY, at, book, kinds, outbox

from mediation.areas.models import Centre
from mediation.cases.models import CaseEvent, EventKind
from mediation.cases.operations import StaleEdit, move_level
from mediation.cases.states import Level
from mediation.core.audit import AuditEntry, verify_chain
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import notices, operations, reminders, scheduling, views
from mediation.sessions.models import (
    Attendance,
    MediationSession,
    ParticipantRole,
    PlaceKind,
    SessionStatus,
)
from mediation.sessions.operations import (
    MoveInput,
    SchedulingConflict,
    cancel_session,
    move_session,
    record_attendance,
)
from mediation.sessions.reminders import MOVED, NOTICE, REMINDER, OutboxMessage, OutboxStatus

# The demo city's staff with contact details, and its centre's rooms (one fixture, shared).
city = outbox_tests.city

REASON = "被申请人因病住院，申请改期"
WEDNESDAY = TUESDAY + timedelta(days=1)
SATURDAY = date(2027, 3, 20)
SMS_NAMES = {"李红梅", "王建国", "赵律师", "李卫东"}  # reachable by SMS; 张志强 by email


def moving(city, start: datetime, end: datetime | None = None, **fields) -> MoveInput:
    """To ``start`` (an hour) in the first room, unless told otherwise."""
    fields.setdefault("place_kind", PlaceKind.ROOM)
    fields.setdefault("room", city.room1 if fields["place_kind"] is PlaceKind.ROOM else None)
    fields.setdefault("reason", REASON)
    return MoveInput(starts_at=start, ends_at=end or start + timedelta(hours=1), **fields)


def room(city, name: str):
    return next(r for r in city.centre.rooms if r.name == name)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def state(session: MediationSession) -> tuple:
    """What a refused move must leave alone: the session as loaded, then (queries flush
    whatever was changed) the timeline, the audit log and the outbox."""
    mine = (session.starts_at, session.ends_at, session.place_kind, session.room_id,
            session.address, session.video_link, session.override_reason, session.status,
            session.version, [p.attendance for p in session.participants])
    messages = db.session.execute(select(
        OutboxMessage.id, OutboxMessage.kind, OutboxMessage.status, OutboxMessage.due_at,
        OutboxMessage.body).order_by(OutboxMessage.id)).all()
    return mine, count(CaseEvent), count(AuditEntry), messages


def sequence(session: MediationSession) -> tuple[int, datetime, str]:
    """The calendar file's SEQUENCE, DTSTART and LOCATION."""
    event = Calendar.from_ical(notices.session_ics(session)).walk("VEVENT")[0]
    return int(event["SEQUENCE"]), event.decoded("DTSTART"), str(event["LOCATION"])


def export_sms() -> list[OutboxMessage]:
    """The staff hand the due text messages to their SMS gateway: they count as sent."""
    sent = reminders.due_sms()
    reminders.mark_exported(sent)
    db.session.commit()
    return sent


# ---- the operation ------------------------------------------------------------------------

def test_a_move_to_a_free_time_changes_the_session_and_is_recorded(city):
    session = book(city)
    version, start, location = sequence(session)
    assert start == at(TUESDAY, 10)
    lead, co, volunteer, first, agent, second, third, invited = session.participants
    record_attendance(city.mediator, session, {first.id: Attendance.CONFIRMED,
                                               second.id: Attendance.DECLINED,
                                               agent.id: Attendance.CONFIRMED})
    db.session.commit()
    events_before = count(CaseEvent, CaseEvent.kind == EventKind.SESSION)

    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 14, 30),
                                                reason=f"  {REASON} "),
                 seen_version=session.version)
    db.session.commit()

    db.session.expire_all()
    session = db.session.get(MediationSession, session.id)
    assert (session.starts_at, session.ends_at) == (at(WEDNESDAY, 14, 30), at(WEDNESDAY, 15, 30))
    assert session.status is SessionStatus.PLANNED and session.room_id == city.room1.id
    assert session.version == version + 1
    # Calendars replace the event: same UID, a higher SEQUENCE, the new time.
    new_version, new_start, new_location = sequence(session)
    assert (new_version, new_start, new_location) == (version + 1, at(WEDNESDAY, 14, 30),
                                                      location)
    # Everyone stays invited; answers given for the old time are asked again.
    assert [p.id for p in session.participants] == [p.id for p in (
        lead, co, volunteer, first, agent, second, third, invited)]
    assert {p.attendance for p in session.participants} == {Attendance.INVITED}

    events = list(db.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == session.case_id, CaseEvent.kind == EventKind.SESSION)
        .order_by(CaseEvent.id)))
    assert len(events) == events_before + 1
    event = events[-1]
    assert event.actor_id == city.mediator.id
    assert event.data["session"] == session.id
    assert datetime.fromisoformat(event.data["moved_from"]) == at(TUESDAY, 10)
    assert "2027-03-16 10:00" in event.reason and "2027-03-17 14:30" in event.reason
    assert REASON in event.reason

    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "session.move"))
    assert entry.object_type == "MediationSession" and entry.object_id == str(session.id)
    assert entry.actor_name == "mediator" and entry.note == REASON
    assert datetime.fromisoformat(entry.before["starts_at"]) == at(TUESDAY, 10)
    assert datetime.fromisoformat(entry.before["ends_at"]) == at(TUESDAY, 11)
    assert datetime.fromisoformat(entry.after["starts_at"]) == at(WEDNESDAY, 14, 30)
    assert datetime.fromisoformat(entry.after["ends_at"]) == at(WEDNESDAY, 15, 30)
    assert "第一调解室" in entry.before["place"] and entry.after["place"] == entry.before["place"]
    assert verify_chain().ok


def test_a_move_to_another_place_at_the_same_time_follows_in_the_outbox(city):
    session = book(city)
    move_session(city.mediator, session, moving(
        city, at(TUESDAY, 10), place_kind=PlaceKind.ON_SITE, address="文苑小区3号楼物业办公室"))
    db.session.commit()
    db.session.expire_all()
    assert session.place_kind is PlaceKind.ON_SITE and session.room_id is None
    assert session.address == "文苑小区3号楼物业办公室"
    assert sequence(session)[1:] == (at(TUESDAY, 10), "文苑小区3号楼物业办公室")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.move"))
    assert "第一调解室" in entry.before["place"]
    assert entry.after["place"] == "文苑小区3号楼物业办公室"
    pending = [m for m in outbox() if m.status is OutboxStatus.PENDING]
    assert kinds(pending) == {NOTICE: 5, REMINDER: 5}
    assert all("文苑小区3号楼物业办公室" in m.body and "调解室" not in m.body for m in pending)
    # The room is free again at that hour.
    room_only = scheduling.Resources(room_id=city.room1.id, user_ids=frozenset(),
                                     person_keys=frozenset())
    assert scheduling.clashes(at(TUESDAY, 10), at(TUESDAY, 11), room_only) == []


def test_a_move_keeps_only_the_new_places_details(city):
    session = book(city)
    move_session(city.mediator, session, moving(
        city, at(TUESDAY, 10), place_kind=PlaceKind.VIDEO, room=city.room1,
        video_link="https://meet.example.cn/tiaojie-1", address="不用的地址"))
    db.session.commit()
    assert (session.place_kind, session.room_id, session.address, session.video_link) == (
        PlaceKind.VIDEO, None, None, "https://meet.example.cn/tiaojie-1")
    assert "URL:https://meet.example.cn/tiaojie-1" in notices.session_ics(session).decode()
    move_session(city.mediator, session, moving(
        city, at(TUESDAY, 10), place_kind=PlaceKind.ON_SITE, address="文苑小区3号楼402室",
        video_link="https://meet.example.cn/tiaojie-1"))
    db.session.commit()
    assert (session.place_kind, session.room_id, session.address, session.video_link) == (
        PlaceKind.ON_SITE, None, "文苑小区3号楼402室", None)
    assert "meet.example.cn" not in notices.session_ics(session).decode()
    # A video session needs its link.
    with pytest.raises(OperationError) as refused:
        move_session(city.mediator, session, moving(city, at(TUESDAY, 10),
                                                    place_kind=PlaceKind.VIDEO))
    assert refused.value.field == "video_link"


def test_a_move_overlapping_its_own_old_time_is_no_clash(city):
    session = book(city)
    move_session(city.mediator, session, moving(city, at(TUESDAY, 10, 30)))
    db.session.commit()
    assert (session.starts_at, session.ends_at) == (at(TUESDAY, 10, 30), at(TUESDAY, 11, 30))


@pytest.mark.parametrize(("other_room", "named"), [
    ("第一调解室", "第一调解室"),  # the same room (and people) booked then
    ("联合调解大厅", "张志强"),  # another room, the same mediator
], ids=["room", "mediator"])
def test_a_move_onto_a_clash_is_refused_with_free_slots_and_changes_nothing(city, other_room,
                                                                           named):
    session = book(city)
    other = book(city, at(TUESDAY, 14), room=room(city, other_room))
    before = state(session)

    with pytest.raises(SchedulingConflict) as refused:
        move_session(city.mediator, session, moving(city, at(TUESDAY, 14, 30)),
                     seen_version=session.version)
    error = refused.value
    assert named in error.message and other.case.number in error.message
    assert "2027-03-16 14:00" in error.message
    assert state(session) == before
    db.session.rollback()
    assert state(session) == before
    assert MOVED not in kinds(outbox())

    # Free for everyone: the same day first, clear of the other session, each bookable;
    # the session's own hour does not stand in its way (09:30 overlaps it).
    slots = error.slots
    assert slots == [at(TUESDAY, 8, 30), at(TUESDAY, 9), at(TUESDAY, 9, 30)]
    for slot in slots:
        assert slot + timedelta(hours=1) <= other.starts_at or slot >= other.ends_at, slot
        assert slot.strftime("%H:%M") in error.message
    move_session(city.mediator, session, moving(city, slots[0]), seen_version=session.version)
    db.session.commit()
    assert session.starts_at == slots[0]


def _cancelled(city, session):
    cancel_session(city.mediator, session, "申请人撤回调解申请")
    db.session.commit()
    return moving(city, at(TUESDAY, 15)), None


def _already_begun(city, session, monkeypatch):
    begun = at(TUESDAY, 10, 30).astimezone(UTC)
    monkeypatch.setattr(operations, "utcnow", lambda: begun)
    return moving(city, at(TUESDAY, 15)), None


def _no_reason(city, session):
    return moving(city, at(TUESDAY, 15), reason="  "), "reason"


def _same_time_and_place(city, session):
    return moving(city, at(TUESDAY, 10), reason="改期"), "start"


def _end_before_start(city, session):
    return moving(city, at(TUESDAY, 15), at(TUESDAY, 14)), "end"


def _in_the_past(city, session):
    past = datetime.now(outbox_tests.LOCAL).replace(second=0, microsecond=0) - timedelta(days=1)
    return moving(city, past), "start"


def _weekend_without_override(city, session):
    return moving(city, at(SATURDAY, 10), override_reason="  "), "override_reason"


def _room_without_room(city, session):
    return moving(city, at(TUESDAY, 15), room=None), "room"


REFUSED = [_cancelled, _already_begun, _no_reason, _same_time_and_place, _end_before_start,
           _in_the_past, _weekend_without_override, _room_without_room]


@pytest.mark.parametrize("spoil", REFUSED, ids=lambda f: f.__name__.strip("_"))
def test_moves_that_break_the_rules_are_refused_and_nothing_is_saved(city, monkeypatch, spoil):
    session = book(city)
    args = (city, session, monkeypatch) if spoil is _already_begun else (city, session)
    move, field = spoil(*args)
    before = state(session)
    with pytest.raises(OperationError) as refused:
        move_session(city.mediator, session, move, seen_version=session.version)
    assert not isinstance(refused.value, SchedulingConflict | StaleEdit)
    assert refused.value.field == field and refused.value.message
    assert state(session) == before
    db.session.rollback()
    assert state(session) == before
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0


def test_a_weekend_needs_an_override_and_keeps_it(city):
    session = book(city)
    move_session(city.mediator, session, moving(city, at(SATURDAY, 10),
                                                override_reason="双方工作日均无法到场"))
    db.session.commit()
    assert session.starts_at == at(SATURDAY, 10)
    assert session.override_reason == "双方工作日均无法到场"
    # Back to a working day, no override is needed, and none is kept.
    move_session(city.mediator, session, moving(city, at(TUESDAY, 10)))
    db.session.commit()
    assert session.starts_at == at(TUESDAY, 10) and session.override_reason is None


def test_a_stale_version_is_refused(city):
    session = book(city)
    seen = session.version
    move_session(city.mediator, session, moving(city, at(TUESDAY, 15)), seen_version=seen)
    db.session.commit()
    before = state(session)
    with pytest.raises(StaleEdit):
        move_session(city.mediator, session, moving(city, at(TUESDAY, 16)), seen_version=seen)
    assert state(session) == before


# ---- what the participants are told -------------------------------------------------------

def test_unsent_notices_follow_the_move_and_nobody_gets_a_moved_message(city):
    session = book(city)
    notices_before = {(m.id, m.participant_id, m.due_at) for m in outbox(kind=NOTICE)}
    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 9)))
    db.session.commit()

    assert kinds(outbox()) == {NOTICE: 5, REMINDER: 10}
    notices_now = outbox(kind=NOTICE)
    assert {(m.id, m.participant_id, m.due_at) for m in notices_now} == notices_before
    for message in notices_now:
        assert message.status is OutboxStatus.PENDING
        assert "调解会定于2027年3月17日（星期三）9:00至" in message.body
        assert "2027-03-16" not in message.body
    old = outbox(kind=REMINDER, due_at=at(MONDAY, 10))
    new = outbox(kind=REMINDER, due_at=at(TUESDAY, 9))
    assert len(old) == len(new) == 5
    assert {m.status for m in old} == {OutboxStatus.CANCELLED}
    assert {m.status for m in new} == {OutboxStatus.PENDING}
    assert all("2027年3月17日（星期三）9:00至" in m.body for m in new)


def test_whoever_was_sent_the_notice_gets_one_moved_message(city):
    session = book(city)
    number = session.case.number
    assert {m.participant.display_name for m in export_sms()} == SMS_NAMES
    moment = datetime.now(UTC)
    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 14)))
    db.session.commit()

    moved = outbox(kind=MOVED)
    assert Counter(m.participant.display_name for m in moved) == Counter(SMS_NAMES)
    sent_to = {m.participant_id: m.recipient for m in outbox(kind=NOTICE)
               if m.status is OutboxStatus.SENT}
    for message in moved:
        assert message.status is OutboxStatus.PENDING and message.session_id == session.id
        assert moment <= message.due_at <= datetime.now(UTC)  # due at once
        assert message.recipient == sent_to[message.participant_id]
        assert message.subject == f"调解会改期通知（案件{number}）"
        assert f"{message.participant.display_name}您好" in message.body
        assert "已改期，现定于2027年3月17日（星期三）14:00至" in message.body
        assert "第一调解室" in message.body
        assert REASON[:5] not in message.body  # the reason (someone's health) is not sent
    # The mediator's notice had not gone out yet: it now gives the new time instead.
    [email] = [m for m in outbox(kind=NOTICE) if m.status is OutboxStatus.PENDING]
    assert email.participant.display_name == "张志强"
    assert "2027年3月17日（星期三）14:00至" in email.body
    # The SMS notices already sent stay as they were.
    assert all("2027年3月16日（星期二）10:00至" in m.body
               for m in outbox(kind=NOTICE, status=OutboxStatus.SENT))
    assert {m.status for m in outbox(kind=REMINDER, due_at=at(MONDAY, 10))} == {
        OutboxStatus.CANCELLED}
    new = outbox(kind=REMINDER, due_at=at(TUESDAY, 14))
    assert len(new) == 5 and {m.status for m in new} == {OutboxStatus.PENDING}
    assert reminders.queue_move(session) == []  # asked again: nothing more
    # The moved messages go out with the SMS export, once.
    assert {m.kind for m in export_sms()} == {MOVED}
    assert export_sms() == []


def test_moving_twice_leaves_one_moved_message_each_then_tells_again_after_it_went(city):
    session = book(city)
    export_sms()
    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 14)))
    db.session.commit()
    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 15, 30)))
    db.session.commit()

    moved = outbox(kind=MOVED)
    assert Counter(m.participant.display_name for m in moved) == Counter(SMS_NAMES)
    assert {m.status for m in moved} == {OutboxStatus.PENDING}
    assert all("现定于2027年3月17日（星期三）15:30至" in m.body for m in moved)
    assert all("14:00" not in m.body for m in moved)
    reminders_ = outbox(kind=REMINDER)
    assert Counter((m.due_at, m.status) for m in reminders_) == {
        (at(MONDAY, 10), OutboxStatus.CANCELLED): 5,
        (at(TUESDAY, 14), OutboxStatus.CANCELLED): 5,
        (at(TUESDAY, 15, 30), OutboxStatus.PENDING): 5}

    # Once the change has gone out, a further move is told again, by one new message each.
    assert {m.kind for m in export_sms()} == {MOVED}
    move_session(city.mediator, session, moving(city, at(WEDNESDAY, 9)))
    db.session.commit()
    latest = [m for m in outbox(kind=MOVED) if m.status is OutboxStatus.PENDING]
    assert Counter(m.participant.display_name for m in latest) == Counter(SMS_NAMES)
    assert all("现定于2027年3月17日（星期三）9:00至" in m.body for m in latest)
    sent = outbox(kind=MOVED, status=OutboxStatus.SENT)
    assert len(sent) == 4 and all("2027年3月17日（星期三）15:30至" in m.body for m in sent)
    # The mediator, never sent anything, still has one notice waiting, with the latest time.
    [email] = outbox(kind=NOTICE, status=OutboxStatus.PENDING)
    assert email.participant.role is ParticipantRole.LEAD_MEDIATOR
    assert "2027年3月17日（星期三）9:00至" in email.body
    assert MOVED not in {m.kind for m in outbox() if m.participant_id == email.participant_id}


# ---- the pages ----------------------------------------------------------------------------

def form_data(session, start: datetime, end: datetime, **fields) -> dict:
    local_start, local_end = start.astimezone(outbox_tests.LOCAL), end.astimezone(
        outbox_tests.LOCAL)
    data = {"version": str(session.version), "day": local_start.date().isoformat(),
            "start": local_start.strftime("%H:%M"), "end": local_end.strftime("%H:%M"),
            "place_kind": "room", "room": str(session.room_id), "address": "",
            "video_link": "", "reason": REASON, "override_reason": ""}
    data.update(fields)
    return data


def test_a_mediator_moves_a_session_through_the_page(city, client, auth):
    session = book(city)
    auth.login("mediator")
    url = f"/sessions/{session.id}/move"
    detail = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert f'href="{url}"' in detail
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="2027-03-16"' in html and 'value="10:00"' in html  # where it is now

    response = auth.post(url, form_data(session, at(WEDNESDAY, 14), at(WEDNESDAY, 15, 30)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session.id}")
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027-03-17" in shown and "14:00–15:30" in shown
    db.session.expire_all()
    assert (session.starts_at, session.ends_at) == (at(WEDNESDAY, 14), at(WEDNESDAY, 15, 30))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.move"))
    assert entry.actor_name == "mediator" and entry.note == REASON

    # The old version is stale now: the form says so and nothing changes.
    stale = auth.post(url, form_data(session, at(WEDNESDAY, 16), at(WEDNESDAY, 17),
                                     version=str(session.version - 1)))
    assert stale.status_code == 200 and "其他人修改了" in stale.get_data(as_text=True)
    db.session.expire_all()
    assert session.starts_at == at(WEDNESDAY, 14)
    # No reason, no move.
    assert auth.post(url, form_data(session, at(WEDNESDAY, 16), at(WEDNESDAY, 17),
                                    reason="")).status_code == 200
    db.session.expire_all()
    assert session.starts_at == at(WEDNESDAY, 14)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 1


def test_a_clash_on_the_page_offers_free_slots_that_can_be_taken(city, client, auth):
    session = book(city)
    other = book(city, at(TUESDAY, 14))
    auth.login("mediator")
    url = f"/sessions/{session.id}/move"
    data = form_data(session, at(TUESDAY, 14, 30), at(TUESDAY, 15, 30))
    clash = auth.post(url, data)
    assert clash.status_code == 200
    html = clash.get_data(as_text=True)
    assert other.case.number in html
    offered = [datetime.fromisoformat(v) for v in
               re.findall(r'name="use_slot" value="([^"]+)"', html)]
    assert offered and all(s + timedelta(hours=1) <= other.starts_at or s >= other.ends_at
                           for s in offered)
    db.session.expire_all()
    assert session.starts_at == at(TUESDAY, 10) and MOVED not in kinds(outbox())

    # Taking a slot puts the form there; moving then succeeds.
    slot = offered[0].astimezone(outbox_tests.LOCAL)
    taken = auth.post(url, {**data, "use_slot": offered[0].isoformat()})
    assert taken.status_code == 200
    form = taken.get_data(as_text=True)
    assert f'value="{slot:%Y-%m-%d}"' in form and f'value="{slot:%H:%M}"' in form
    db.session.expire_all()
    assert session.starts_at == at(TUESDAY, 10)
    moved = auth.post(url, form_data(session, slot, slot + timedelta(hours=1)))
    assert moved.status_code == 302
    db.session.expire_all()
    assert session.starts_at == offered[0]


def test_a_cancelled_or_begun_session_is_not_offered_a_move(city, client, auth, monkeypatch):
    session = book(city)
    auth.login("mediator")
    detail, url = f"/sessions/{session.id}", f"/sessions/{session.id}/move"
    assert url in client.get(detail).get_data(as_text=True)
    with monkeypatch.context() as patch:  # half an hour into the session
        patch.setattr(views, "utcnow", lambda: at(TUESDAY, 10, 30).astimezone(UTC))
        assert url not in client.get(detail).get_data(as_text=True)
    cancel_session(city.mediator, session, "申请人撤回调解申请")
    db.session.commit()
    assert url not in client.get(detail).get_data(as_text=True)
    for response in (client.get(url), auth.post(url, form_data(
            session, at(TUESDAY, 15), at(TUESDAY, 16)), form_url=detail)):
        assert response.status_code == 302 and response.headers["Location"].endswith(detail)
    db.session.expire_all()
    assert session.starts_at == at(TUESDAY, 10) and session.status is SessionStatus.CANCELLED
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0


def outsider_login(app) -> Auth:
    """王建国, mediator of 清风社区 and 明德社区 (not of 文苑社区, where the case is)."""
    other_community_mediator()
    outsider = Auth(app.test_client())
    outsider.login("wangjianguo")
    return outsider


@pytest.mark.parametrize(("username", "status"), [
    ("legalaid", 403),  # on the case, but no cases.handle
    ("gridworker", 403),  # sees the community case, may not handle it
    (None, 404),  # another community's mediator
], ids=["legal-aid", "grid-worker", "other-community"])
def test_who_may_not_handle_the_case_cannot_move_it(app, city, username, status):
    session = book(city)
    # The admin's intake leaves the case at grid level, where its grid worker acts on it;
    # escalated to the community, the grid worker follows it without handling it.
    move_level(city.admin, session.case, Level.COMMUNITY, "涉及多户，社区调委会调处")
    db.session.commit()
    before = state(session)
    if username is None:
        other = outsider_login(app)
    else:
        other = Auth(app.test_client())
        other.login(username)
    url = f"/sessions/{session.id}/move"
    assert other.client.get(url).status_code == status
    response = other.post(url, form_data(session, at(TUESDAY, 15), at(TUESDAY, 16)),
                          form_url="/")
    assert response.status_code == status
    if status == 403:  # they see the session, without the link
        detail = other.client.get(f"/sessions/{session.id}")
        assert detail.status_code == 200 and url not in detail.get_data(as_text=True)
    db.session.expire_all()
    mine, events, _audit, messages = state(session)  # (logging in is audited)
    assert (mine, events, messages) == (before[0], before[1], before[3])
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0


# ---- the API ------------------------------------------------------------------------------

@pytest.fixture
def mediator(demo_city):
    return bearer(cli_token(demo_city, "mediator"))


def api_problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(True))
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


def api_session(client, headers, **overrides) -> tuple[dict, datetime, datetime]:
    """A case in mediation with an on-site session booked a week ahead at 10:00."""
    case = case_in_mediation(client, headers, **overrides)
    start, end = working_slot()
    booked = post_ok(client, f"{API}/cases/{case['number']}/sessions", headers,
                     session_body(start, end), 201)
    return booked, start, end


def read(document: dict) -> dict:
    """A session document with its times as instants (replies give them in any zone)."""
    return {**document, "starts_at": datetime.fromisoformat(document["starts_at"]),
            "ends_at": datetime.fromisoformat(document["ends_at"])}


def fetch(client, headers, session_id: int) -> dict:
    response = client.get(f"{API}/sessions/{session_id}", headers=headers)
    assert response.status_code == 200
    return read(response.get_json())


def move_body(start: datetime, end: datetime, **fields) -> dict:
    return {"starts_at": start.isoformat(), "ends_at": end.isoformat(), "reason": REASON,
            **fields}


def test_a_token_moves_a_session(client, mediator):
    booked, start, end = api_session(client, mediator)
    url = f"{API}/sessions/{booked['id']}"
    later = start.replace(hour=14), end.replace(hour=15)
    moved = post_ok(client, f"{url}/move", mediator, move_body(*later, version=1))
    assert datetime.fromisoformat(moved["starts_at"]) == later[0]
    assert datetime.fromisoformat(moved["ends_at"]) == later[1]
    # What was not given stays: on site, at the same address.
    assert moved["place_kind"] == "on_site" and moved["address"] == booked["address"]
    assert moved["status"] == "planned"
    assert fetch(client, mediator, booked["id"]) == read(moved)
    ics = Calendar.from_ical(client.get(f"{url}/ics", headers=mediator).data)
    event = ics.walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 2 and event.decoded("DTSTART") == later[0]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.move"))
    assert entry.object_id == str(booked["id"]) and entry.note == REASON

    # Into a room of the case's centre: the address goes.
    centre_room = room(SimpleNamespace(centre=db.session.scalar(select(Centre).where(
        Centre.name == outbox_tests.CENTRE))), "第一调解室")
    in_room = post_ok(client, f"{url}/move", mediator, move_body(
        *later, place_kind="room", room_id=centre_room.id))
    assert (in_room["place_kind"], in_room["room_id"], in_room["address"]) == (
        "room", centre_room.id, None)

    # The version the client saw is now old: 409, nothing changed.
    stale = api_problem(client.post(f"{url}/move", json=move_body(
        start, end, version=1), headers=mediator), 409)
    assert "slots" not in stale
    assert fetch(client, mediator, booked["id"]) == read(in_room)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 2


def test_a_clash_answers_409_with_free_slots(client, mediator):
    booked, start, end = api_session(client, mediator)
    second = case_in_mediation(client, mediator, title="邻居噪音纠纷", category="noise")
    afternoon = start.replace(hour=14), end.replace(hour=15)
    other = post_ok(client, f"{API}/cases/{second['number']}/sessions", mediator,
                    session_body(*afternoon, address="文苑社区居委会"), 201)
    url = f"{API}/sessions/{booked['id']}"
    problem = api_problem(client.post(f"{url}/move", json=move_body(
        afternoon[0] + timedelta(minutes=30), afternoon[1] + timedelta(minutes=30)),
        headers=mediator), 409)
    assert second["number"] in problem["detail"]
    slots = [datetime.fromisoformat(s) for s in problem["slots"]]
    assert slots and all(s.tzinfo is not None for s in slots)
    assert all(s + timedelta(hours=1) <= afternoon[0] or s >= afternoon[1] for s in slots)
    assert fetch(client, mediator, booked["id"]) == read(booked)
    assert datetime.fromisoformat(other["starts_at"]) == afternoon[0]
    # A slot offered can be taken.
    taken = post_ok(client, f"{url}/move", mediator, move_body(
        slots[0], slots[0] + timedelta(hours=1)))
    assert datetime.fromisoformat(taken["starts_at"]) == slots[0]


def test_moves_that_break_the_rules_answer_422_with_the_field(client, mediator):
    booked, start, end = api_session(client, mediator)
    url = f"{API}/sessions/{booked['id']}/move"
    later = start.replace(hour=14), end.replace(hour=15)
    for body, field in [
        (move_body(*later, reason=""), "reason"),
        (move_body(*later, reason="   "), "reason"),
        ({"starts_at": later[0].isoformat(), "ends_at": later[1].isoformat()}, "reason"),
        (move_body(later[1], later[0]), "ends_at"),
        (move_body(start - timedelta(days=30), end - timedelta(days=30)), "starts_at"),
        (move_body(start, end), "starts_at"),  # where it already is
        (move_body(*later, place_kind="room"), "room_id"),
        (move_body(*later, room_id=2**31 - 2), "room_id"),
    ]:
        problem = api_problem(client.post(url, json=body, headers=mediator), 422)
        assert {e["field"] for e in problem["errors"]} == {field}, (body, problem)
    assert fetch(client, mediator, booked["id"]) == read(booked)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0


def test_other_tokens_cannot_move_a_session(demo_city, client, mediator):
    booked, start, end = api_session(client, mediator)
    url = f"{API}/sessions/{booked['id']}"
    outsider = bearer(cli_token(demo_city, other_community_mediator(), name="清风社区平板"))
    gridworker = bearer(cli_token(demo_city, "gridworker", name="网格员手机"))
    body = move_body(start.replace(hour=14), end.replace(hour=15))
    api_problem(client.post(f"{url}/move", json=body, headers=outsider), 404)
    api_problem(client.post(f"{url}/move", json=body, headers=gridworker), 403)
    api_problem(client.post(f"{API}/sessions/999999/move", json=body, headers=mediator), 404)
    assert fetch(client, mediator, booked["id"]) == read(booked)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0


def someone_moves_it_meanwhile(monkeypatch, session_id: int):
    """Another move of the session is committed while this one waits for the booking lock
    (PostgreSQL: READ COMMITTED): the row's version is no longer the one this request
    loaded and checked."""
    lock = operations._lock_bookings

    def meanwhile():
        db.session.execute(text("UPDATE mediation_sessions SET version = version + 1 "
                                "WHERE id = :id"), {"id": session_id})
        lock()

    monkeypatch.setattr(operations, "_lock_bookings", meanwhile)


def test_a_move_racing_another_is_refused_on_the_page_not_a_server_error(city, client, auth,
                                                                         monkeypatch):
    session = book(city)
    auth.login("mediator")
    url = f"/sessions/{session.id}/move"
    token = auth.token(url)
    someone_moves_it_meanwhile(monkeypatch, session.id)
    response = client.post(url, data={"csrf_token": token, **form_data(
        session, at(WEDNESDAY, 14), at(WEDNESDAY, 15))})
    assert response.status_code == 200
    assert "其他人修改了" in response.get_data(as_text=True)
    db.session.expire_all()
    assert session.starts_at == at(TUESDAY, 10)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0
    assert MOVED not in kinds(outbox()) and count(OutboxMessage, OutboxMessage.due_at == at(
        TUESDAY, 14)) == 0


def test_a_move_racing_another_answers_409_in_the_api(client, mediator, monkeypatch):
    booked, start, end = api_session(client, mediator)
    someone_moves_it_meanwhile(monkeypatch, booked["id"])
    api_problem(client.post(f"{API}/sessions/{booked['id']}/move", json=move_body(
        start.replace(hour=14), end.replace(hour=15)), headers=mediator), 409)
    assert fetch(client, mediator, booked["id"]) == read(booked)
    assert count(AuditEntry, AuditEntry.action == "session.move") == 0
