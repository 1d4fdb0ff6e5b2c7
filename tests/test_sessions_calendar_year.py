"""Sessions in 2027, a provisional year (chinesecalendar 1.11 stops at 2026): its statutory
holidays refuse a booking like official ones, every page showing or choosing one of its
dates says the year is provisional (2026, official, says nothing), the .ics carries
TZID=Asia/Shanghai with its VTIMEZONE, and the notices give the end time.

Today is in December 2026 in these tests' world; sessions are booked up to a year ahead.
"""

import re
import subprocess
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select
from test_sessions_reminders import registration_texts_sent

from mediation.areas.models import Centre, Room
from mediation.cases import operations as case_operations
from mediation.core.calendar import CalendarYear, is_working_day
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import documents, notices, reminders, scheduling
from mediation.sessions.minutes import MinutesOutcome, save_minutes
from mediation.sessions.models import MediationSession, PlaceKind
from mediation.sessions.operations import (
    MoveInput,
    SchedulingConflict,
    SessionInput,
    move_session,
    schedule_session,
)
from mediation.sessions.reminders import CANCELLATION, MOVED, NOTICE, REMINDER, OutboxMessage

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
NEW_YEAR = date(2027, 1, 1)            # a Friday: 元旦
SPRING_FESTIVAL = date(2027, 2, 8)     # a Monday: 春节 (2027-02-05..10 off)
SPRING_DAYS = [date(2027, 2, 5) + timedelta(days=n) for n in range(6)]
SATURDAY = date(2027, 3, 20)           # a plain weekend
TUESDAY = date(2027, 3, 16)
OFFICIAL_TUESDAY = date(2026, 12, 15)  # 2026 is in chinesecalendar: official
HOLIDAY_MESSAGE = "当天是周末或法定节假日。"
REASON = "双方当事人仅此日均在本地"


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL)


@pytest.fixture
def city(demo_city):
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    return SimpleNamespace(admin=user("admin"), mediator=user("mediator"), centre=centre,
                           room1=next(r for r in centre.rooms if r.name == "第一调解室"))


def new_case(city):
    case = make_case(city.admin, grid=area(GRID), parties=[
        applicant("王建国", phone="13800138000"), respondent("李卫东", phone="13900139000")])
    registration_texts_sent()
    case_operations.accept_case(city.admin, case, handler=city.mediator)
    db.session.commit()
    return case


def plan(city, case, start: datetime, end: datetime | None = None, **fields) -> SessionInput:
    return SessionInput(starts_at=start, ends_at=end or start + timedelta(hours=1),
                        place_kind=PlaceKind.ROOM, room=city.room1, purpose="调解维修费用分担",
                        lead_mediator=city.mediator, parties=list(case.parties), **fields)


def book(city, start: datetime, end: datetime | None = None, **fields) -> MediationSession:
    case = new_case(city)
    session = schedule_session(city.mediator, case, plan(city, case, start, end, **fields))
    db.session.commit()
    return session


def sessions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MediationSession))


def notes(html: str) -> list[str]:
    """The provisional notes on a page (the text of each)."""
    return re.findall(r'<p class="[^"]*provisional-note[^"]*"[^>]*>(.*?)</p>', html, re.S)


def says_provisional(html: str, year: int = 2027) -> bool:
    found = notes(html)
    assert len(found) <= 1, "one note per page"
    return bool(found) and str(year) in found[0]


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")
    return text.replace(" ", "").replace("\n", "")


# ---- holidays of a provisional year refuse a booking ---------------------------------------

@pytest.mark.parametrize(("day", "name", "english"), [
    (NEW_YEAR, "元旦", "New Year's Day"),
    (SPRING_FESTIVAL, "春节", "Spring Festival"),
])
def test_a_statutory_holiday_of_2027_needs_an_override_and_is_named(city, day, name, english):
    assert not is_working_day(day)
    case = new_case(city)
    data = plan(city, case, at(day, 10))
    for reason in (None, "   "):
        with pytest.raises(OperationError) as refused:
            schedule_session(city.mediator, case, plan(city, case, at(day, 10),
                                                       override_reason=reason))
        db.session.rollback()
        assert refused.value.field == "override_reason"
        message = str(refused.value.message)
        assert f"{day.isoformat()}是法定节假日（{name}）" in message, message
        assert HOLIDAY_MESSAGE not in message
    with force_locale("en"), pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, data)
    db.session.rollback()
    message = str(refused.value.message)
    assert f"{day.isoformat()} is a public holiday (" in message and english in message, message
    assert sessions_count() == 0

    session = schedule_session(city.mediator, case, plan(city, case, at(day, 10),
                                                         override_reason=REASON))
    db.session.commit()
    assert session.starts_at == at(day, 10) and session.override_reason == REASON
    assert sessions_count() == 1


def test_a_plain_weekend_keeps_the_weekend_message(city):
    case = new_case(city)
    with pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, plan(city, case, at(SATURDAY, 10)))
    assert refused.value.field == "override_reason"
    assert HOLIDAY_MESSAGE in str(refused.value.message)
    assert "法定节假日（" not in str(refused.value.message)


def test_a_holiday_out_of_hours_says_both(city):
    case = new_case(city)
    with pytest.raises(OperationError) as refused:
        schedule_session(city.mediator, case, plan(city, case, at(NEW_YEAR, 19)))
    message = str(refused.value.message)
    assert "2027-01-01是法定节假日（元旦）" in message and "开放时间" in message, message


def test_moving_onto_a_holiday_needs_an_override_too(city):
    session = book(city, at(date(2027, 2, 4), 10))
    move = MoveInput(starts_at=at(SPRING_FESTIVAL, 10), ends_at=at(SPRING_FESTIVAL, 11),
                     place_kind=PlaceKind.ROOM, room=city.room1, reason="被申请人出差")
    with pytest.raises(OperationError) as refused:
        move_session(city.mediator, session, move)
    db.session.rollback()
    assert "2027-02-08是法定节假日（春节）" in str(refused.value.message)
    move.override_reason = REASON
    move_session(city.mediator, session, move)
    db.session.commit()
    assert session.starts_at == at(SPRING_FESTIVAL, 10)


# ---- free slots skip them ----------------------------------------------------------------

def test_free_slots_skip_new_year_and_spring_festival(city):
    everyone = scheduling.Resources(room_id=city.room1.id, user_ids=frozenset(),
                                    person_keys=frozenset())
    now = at(date(2026, 12, 20), 8)
    slots = scheduling.free_slots(timedelta(hours=1), at(NEW_YEAR, 8), everyone, city.centre,
                                  now=now)
    assert slots[0] == at(date(2027, 1, 4), 8, 30)  # Friday 1st off, then the weekend
    slots = scheduling.free_slots(timedelta(hours=1), at(date(2027, 2, 5), 8), everyone,
                                  city.centre, now=now)
    assert slots[0] == at(date(2027, 2, 11), 8, 30)  # the first working day after the holiday


def test_a_clash_before_spring_festival_offers_slots_after_it(city, auth):
    eve = date(2027, 2, 4)  # the Thursday before: the room is taken all day
    book(city, at(eve, 8, 30), at(eve, 17, 30))
    case = new_case(city)
    with pytest.raises(SchedulingConflict) as refused:
        schedule_session(city.mediator, case, plan(city, case, at(eve, 10)))
    db.session.rollback()
    slots = refused.value.slots
    assert slots and all(s.astimezone(LOCAL).date() == date(2027, 2, 11) for s in slots)

    # The page offers the same slots, and says 2027 is provisional.
    auth.login("mediator")
    page = auth.post(f"/cases/{case.number}/sessions/new", page_form(city, case, eve))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="use_slot"' in html
    assert "2027-02-11" in html and says_provisional(html)


# ---- the pages say 2027 is provisional, and only 2027 --------------------------------------

def page_form(city, case, day: date, **fields) -> dict:
    """The booking form (and the move form's fields) at 10:00–11:00 in the first room."""
    form = {"day": day.isoformat(), "start": "10:00", "end": "11:00", "place_kind": "room",
            "room": str(city.room1.id), "address": "", "video_link": "",
            "override_reason": "", "purpose": "调解维修费用分担", "lead": "mediator",
            "co_mediators": "", "parties": [str(p.id) for p in case.parties],
            "with_agents": "y"}
    form.update(fields)
    return form


def test_the_booking_form_says_so_for_the_date_it_holds(city, auth):
    case = new_case(city)
    auth.login("mediator")
    url = f"/cases/{case.number}/sessions/new"
    # Sent back with the holiday refusal: the note stays beside the chosen 2027 date.
    refused = auth.post(url, page_form(city, case, NEW_YEAR))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "2027-01-01是法定节假日（元旦）" in html
    assert says_provisional(html)
    assert sessions_count() == 0
    # Sent back for another reason, on a 2026 date: no note.
    html = auth.post(url, page_form(city, case, OFFICIAL_TUESDAY, purpose="")) \
        .get_data(as_text=True)
    assert 'value="2026-12-15"' in html and not notes(html)

    booked = auth.post(url, page_form(city, case, NEW_YEAR, override_reason=REASON))
    assert booked.status_code == 302, booked.get_data(as_text=True)
    session = db.session.scalar(select(MediationSession))
    assert session.starts_at == at(NEW_YEAR, 10) and session.override_reason == REASON


def test_the_session_page_and_move_form_say_so_for_2027_only(city, auth):
    later = book(city, at(TUESDAY, 10))
    sooner = book(city, at(OFFICIAL_TUESDAY, 10))
    auth.login("mediator")
    assert says_provisional(auth.client.get(f"/sessions/{later.id}").get_data(as_text=True))
    assert not notes(auth.client.get(f"/sessions/{sooner.id}").get_data(as_text=True))
    assert says_provisional(auth.client.get(f"/sessions/{later.id}/move")
                            .get_data(as_text=True))
    assert not notes(auth.client.get(f"/sessions/{sooner.id}/move").get_data(as_text=True))
    # Moving the 2026 session to a 2027 holiday: refused, and the form says 2027 is provisional.
    url = f"/sessions/{sooner.id}/move"
    html = auth.post(url, {**page_form(city, sooner.case, SPRING_FESTIVAL), "reason": "改期",
                           "version": str(sooner.version)}).get_data(as_text=True)
    assert "2027-02-08是法定节假日（春节）" in html and says_provisional(html)


def test_the_calendars_say_so_for_the_days_they_show(city, auth):
    book(city, at(TUESDAY, 10))
    auth.login("mediator")
    centre = f"/sessions/centre/{city.centre.id}"
    pages = {
        f"{centre}?day=2027-03-16": True,
        f"{centre}?day=2026-12-15": False,
        f"{centre}?day=2026-12-28&view=week": True,   # runs into 2027
        f"{centre}?day=2026-12-21&view=week": False,  # ends on the 27th
        "/sessions/mine?day=2027-03-16": True,
        "/sessions/mine?day=2026-12-15": False,
        "/sessions/mine?day=2026-12-28&view=week": True,
        "/sessions/mine?day=2026-12-21&view=week": False,
    }
    for url, provisional in pages.items():
        response = auth.client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert (says_provisional(html) if provisional else not notes(html)), url
    assert "调解维修费用分担" not in auth.client.get(f"{centre}?day=2026-12-15").get_data(
        as_text=True)


def test_the_duty_page_says_so_while_the_year_ahead_is_provisional(city, auth):
    auth.login("legalaid")
    assert says_provisional(auth.client.get("/sessions/duty").get_data(as_text=True))
    # An administrator entered the schedules and marked them complete: no note any more.
    db.session.add_all([CalendarYear(year=2027), CalendarYear(year=2028)])
    db.session.commit()
    assert not notes(auth.client.get("/sessions/duty").get_data(as_text=True))
    auth.logout()
    auth.login("mediator")
    assert not notes(auth.client.get("/sessions/mine?day=2027-03-16").get_data(as_text=True))


# ---- the calendar file ---------------------------------------------------------------------

def test_the_ics_gives_local_times_with_tzid_and_a_vtimezone(city, auth):
    session = book(city, at(TUESDAY, 9), at(TUESDAY, 11))
    auth.login("mediator")
    response = auth.client.get(f"/sessions/{session.id}/ics")
    assert response.mimetype == "text/calendar"
    raw = response.get_data(as_text=True).replace("\r\n", "\n")
    assert "DTSTART;TZID=Asia/Shanghai:20270316T090000" in raw
    assert "DTEND;TZID=Asia/Shanghai:20270316T110000" in raw
    assert "DTSTART:" not in raw.split("BEGIN:VEVENT")[1]  # no UTC (…Z) start
    calendar = Calendar.from_ical(response.data)
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Asia/Shanghai"]
    standard = zones[0].walk("STANDARD")
    assert standard and all(
        s.decoded("TZOFFSETFROM") == s.decoded("TZOFFSETTO") == timedelta(hours=8)
        and str(s["TZNAME"]) == "CST" for s in standard)
    zone = raw.split("BEGIN:VTIMEZONE")[1].split("END:VTIMEZONE")[0]
    for line in ("TZID:Asia/Shanghai", "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "TZNAME:CST"):
        assert line in zone.splitlines(), line
    assert not zones[0].walk("DAYLIGHT")
    event = calendar.walk("VEVENT")[0]
    start = event.decoded("DTSTART")
    assert start == session.starts_at and start.utcoffset() == timedelta(hours=8)
    assert (start.hour, event.decoded("DTEND").hour) == (9, 11)


# ---- the notices give the end time ---------------------------------------------------------

WHEN = "2027年3月16日（星期二）9:00至11:00"


def test_the_messages_give_the_end_time(city):
    session = book(city, at(TUESDAY, 9), at(TUESDAY, 11))
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert {m.kind for m in messages} == {NOTICE, REMINDER}
    for message in messages:
        assert f"{WHEN}在" in message.body, message.body
    move_session(city.mediator, session, MoveInput(
        starts_at=at(TUESDAY, 14), ends_at=at(TUESDAY, 15, 30), place_kind=PlaceKind.ROOM,
        room=city.room1, reason="调解员另有公务"))
    db.session.commit()
    pending = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == NOTICE))
    assert all("2027年3月16日（星期二）14:00至15:30在" in m.body for m in pending)
    assert MOVED not in {m.kind for m in db.session.scalars(select(OutboxMessage))}
    _subject, body = reminders.render(CANCELLATION, session, session.participants[0])
    assert "原定于2027年3月16日（星期二）14:00至15:30在" in body


def test_the_end_on_another_day_gives_its_date():
    evening = SimpleNamespace(starts_at=at(TUESDAY, 20), ends_at=at(TUESDAY, 20) + timedelta(
        hours=5))
    assert notices.when_text(evening) == \
        "2027年3月16日（星期二）20:00至2027年3月17日（星期三）1:00"
    utc = SimpleNamespace(starts_at=at(NEW_YEAR, 9).astimezone(ZoneInfo("UTC")),
                          ends_at=at(NEW_YEAR, 10, 30).astimezone(ZoneInfo("UTC")))
    assert notices.when_text(utc) == "2027年1月1日（星期五）9:00至10:30"


def test_the_notice_pdf_gives_the_end_time_and_says_2027_is_provisional(city, auth):
    later = book(city, at(TUESDAY, 9), at(TUESDAY, 11))
    sooner = book(city, at(OFFICIAL_TUESDAY, 14), at(OFFICIAL_TUESDAY, 15, 30))
    auth.login("mediator")
    party = next(p for p in later.participants if p.party is not None)
    text = pdf_text(auth.client.get(f"/sessions/{later.id}/notice/{party.id}.pdf").data)
    assert f"定于{WHEN}在" in text, text
    assert "注：2027年全年节假日安排尚未正式公布" in text
    party = next(p for p in sooner.participants if p.party is not None)
    text = pdf_text(auth.client.get(f"/sessions/{sooner.id}/notice/{party.id}.pdf").data)
    assert "定于2026年12月15日（星期二）14:00至15:30在" in text
    assert "节假日安排尚未正式公布" not in text


def test_the_minutes_pdf_says_so_when_the_next_date_is_in_2027(city):
    session = book(city, at(OFFICIAL_TUESDAY, 10))
    session.starts_at, session.ends_at = utcnow() - timedelta(hours=2), utcnow() - timedelta(
        hours=1)
    db.session.commit()
    minutes = save_minutes(city.mediator, session, matter="漏水赔偿", body="双方各自陈述。",
                           outcome=MinutesOutcome.SETTLED, next_date=None)
    db.session.commit()
    assert "节假日安排尚未正式公布" not in pdf_text(documents.minutes_pdf(minutes))
    minutes = save_minutes(city.mediator, session, matter="漏水赔偿", body="双方各自陈述。",
                           outcome=MinutesOutcome.ADJOURNED, next_date=date(2027, 1, 5))
    db.session.commit()
    text = pdf_text(documents.minutes_pdf(minutes))
    assert "下次调解日期：2027年01月05日" in text
    assert "注：2027年全年节假日安排尚未正式公布" in text


def test_the_booking_form_shows_the_week_s_busy_times_before_anything_is_refused(city, auth):
    """The week of the chosen day: the room's and the lead mediator's busy times (only
    times), refreshed for another date without booking anything."""
    book(city, at(TUESDAY, 10), at(TUESDAY, 11, 30))
    case = new_case(city)
    auth.login("mediator")
    url = f"/cases/{case.number}/sessions/new"
    html = auth.post(url, page_form(city, case, TUESDAY + timedelta(days=1),
                                    show_week="1")).get_data(as_text=True)
    week = re.search(r'<section class="card" aria-labelledby="week-h">.*?</section>', html,
                     re.S).group(0)
    assert "第一调解室" in week and "张志强" in week
    assert week.count("10:00–11:30 已占用") == 2  # the room and the mediator, Tuesday
    assert "全天空闲" in week and "星期二" in week
    assert "调解维修费用分担" not in week  # nothing of the session itself
    assert sessions_count() == 1  # shown, not booked
    # Another week: free.
    html = auth.post(url, page_form(city, case, TUESDAY + timedelta(days=7),
                                    show_week="1")).get_data(as_text=True)
    assert "已占用" not in re.search(r'aria-labelledby="week-h">.*?</section>', html,
                                    re.S).group(0)
    # A room the form does not offer for this case (here: out of use) is not shown.
    elsewhere = Room(centre=city.centre, name="旧调解室", capacity=4, active=False)
    db.session.add(elsewhere)
    db.session.commit()
    html = auth.post(url, page_form(city, case, TUESDAY, room=str(elsewhere.id),
                                    show_week="1")).get_data(as_text=True)
    week = re.search(r'aria-labelledby="week-h">.*?</section>', html, re.S).group(0)
    assert elsewhere.name not in week and week.count("10:00–11:30 已占用") == 1
