"""What participants receive: an iCalendar (RFC 5545) file for their calendar program, and
the session's time and place as their notices and messages say them."""

from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from icalendar import Calendar, Event, vCalAddress, vText

from mediation.core.db import utcnow
from mediation.core.validators import is_web_link
from mediation.sessions.models import MediationSession, PlaceKind, SessionStatus
from mediation.sessions.scheduling import LOCAL

WEEKDAYS = "一二三四五六日"


def place_text(session: MediationSession) -> str:
    if session.place_kind is PlaceKind.ROOM and session.room is not None:
        centre = session.room.centre
        return f"{centre.name} {session.room.name}" + (f"（{centre.address}）"
                                                        if centre.address else "")
    if session.place_kind is PlaceKind.VIDEO:
        return session.video_link or ""
    return session.address or ""


def status_page() -> str:
    """Where parties check their case with their access code (the residents' 查询进度 page):
    under PUBLIC_BASE_URL, else this request's host; words for it outside a request."""
    base = current_app.config.get("PUBLIC_BASE_URL") or (
        request.host_url if has_request_context() else None)
    if not base:
        return "人民调解网站“查询进度”页面"
    return base.rstrip("/") + current_app.url_map.bind("localhost").build("portal.status")


def _chinese_day(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日（星期{WEEKDAYS[moment.weekday()]}）"


def _clock(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def when_text(session: MediationSession) -> str:
    """From when to when, in China's time and in Chinese whatever the interface language:
    2027年3月16日（星期二）9:00至11:00 (the end's date too, should it be another day)."""
    start, end = session.starts_at.astimezone(LOCAL), session.ends_at.astimezone(LOCAL)
    until = "" if end.date() == start.date() else _chinese_day(end)
    return f"{_chinese_day(start)}{_clock(start)}至{until}{_clock(end)}"


def session_ics(session: MediationSession) -> bytes:
    """One VEVENT; a cancelled session is sent as METHOD:CANCEL so calendars remove it."""
    calendar = Calendar()
    calendar.add("prodid", "-//People's Mediation Case System//mediation//ZH")
    calendar.add("version", "2.0")
    cancelled = session.status is SessionStatus.CANCELLED
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"session-{session.id}@{current_app.config['CALENDAR_UID_DOMAIN']}")
    event.add("sequence", session.version)
    event.add("dtstamp", utcnow())
    # Local times with TZID=Asia/Shanghai (a VTIMEZONE below says what that is), so a
    # calendar shows the time the notice gives whatever zone the phone is set to.
    start, end = session.starts_at.astimezone(LOCAL), session.ends_at.astimezone(LOCAL)
    event.add("dtstart", start)
    event.add("dtend", end)
    # Calendars sync to phones and clouds: no party names or dispute details in them.
    event.add("summary", f"人民调解会（案件{session.case.number}）")
    event.add("location", place_text(session))
    event.add("description", "请携带身份证件及相关证据材料准时参加。")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Calendar programs open URL: with one tap: only a web link, whatever was stored before
    # links were checked.
    if session.place_kind is PlaceKind.VIDEO and is_web_link(session.video_link):
        event.add("url", session.video_link)
    lead = next((p for p in session.participants if p.role.value == "lead_mediator"), None)
    if lead is not None and lead.user is not None and lead.user.email:
        organizer = vCalAddress(f"mailto:{lead.user.email}")
        organizer.params["cn"] = vText(lead.user.full_name)
        event.add("organizer", organizer)
    calendar.add_component(event)
    # China has kept +08:00 since 1991: over the session's days that is one STANDARD.
    calendar.add_missing_timezones(first_date=start.date(),
                                   last_date=end.date() + timedelta(days=1))
    return calendar.to_ical()
