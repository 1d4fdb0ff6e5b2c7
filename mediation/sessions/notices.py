"""What participants receive: an iCalendar (RFC 5545) file for their calendar program."""

from flask import request
from icalendar import Calendar, Event, vCalAddress, vText

from mediation.core.db import utcnow
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
    host = request.host.split(":")[0] if request else "mediation.local"
    event.add("uid", f"session-{session.id}@{host}")
    event.add("sequence", session.version)
    event.add("dtstamp", utcnow())
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", f"人民调解：{session.case.title}（{session.case.number}）")
    event.add("location", place_text(session))
    event.add("description", session.purpose)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if session.place_kind is PlaceKind.VIDEO and session.video_link:
        event.add("url", session.video_link)
    lead = next((p for p in session.participants if p.role.value == "lead_mediator"), None)
    if lead is not None and lead.user is not None:
        organizer = vCalAddress(f"mailto:{lead.user.email or lead.user.username + '@' + host}")
        organizer.params["cn"] = vText(lead.user.full_name)
        event.add("organizer", organizer)
    calendar.add_component(event)
    return calendar.to_ical()
