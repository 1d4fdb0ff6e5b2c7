"""What participants receive: an iCalendar (RFC 5545) file for their calendar program."""

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from mediation.core.db import utcnow
from mediation.core.validators import is_web_link
from mediation.sessions.models import MediationSession, PlaceKind, SessionStatus


def place_text(session: MediationSession) -> str:
    if session.place_kind is PlaceKind.ROOM and session.room is not None:
        centre = session.room.centre
        return f"{centre.name} {session.room.name}" + (f"（{centre.address}）"
                                                        if centre.address else "")
    if session.place_kind is PlaceKind.VIDEO:
        return session.video_link or ""
    return session.address or ""


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
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    # Calendars sync to phones and clouds: no party names or dispute details in them.
    event.add("summary", f"人民调解会议（案件{session.case.number}）")
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
    return calendar.to_ical()
