"""The outbox: an event is written in the transaction of the change it reports, so that it
is sent if and only if the change is kept (a refused or rolled-back change leaves none).

The operations call ``emit`` (or ``emit_state_change`` from the state machine) where the
change happens. The payload is built there and then — the case as it is at that moment —
and carries no party's name, ID number or phone: personal data does not leave by webhook.
Free text (reasons, notes, places on site) stays out too, as it may name people.
"""

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from mediation.areas.models import AreaNode
from mediation.cases.states import CaseState
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscriber,
)

__all__ = ["STATE_EVENTS", "EventType", "emit", "emit_state_change", "payload"]

S = CaseState

# Which change of a case's state is which event (rules as data). A state not named here
# (in mediation, withdrawn, referred out, follow-up) is not told.
STATE_EVENTS: dict[CaseState, EventType] = {
    S.ACCEPTED: EventType.CASE_ACCEPTED,
    S.DECLINED: EventType.CASE_DECLINED,
    S.SETTLED: EventType.CASE_SETTLED,
    S.PARTLY_SETTLED: EventType.CASE_SETTLED,
    S.FAILED: EventType.CASE_FAILED,
    S.CLOSED: EventType.CASE_CLOSED,
}


def emit(event_type: EventType, case, **facts) -> WebhookEvent | None:
    """Queue ``event_type`` about ``case`` for every subscriber that wants it and may see
    the case's grid; None (and nothing written) when no one does. Adds to the session; the
    operation's flush and its caller's commit write it with the change.

    ``facts``: ``session`` (with ``moved_from``, the old start and end), ``agreement``,
    ``confirmation`` or ``from_level`` — what the event is about besides the case.
    """
    # What it reads flushes nothing: the change is flushed by its operation, as before.
    with db.session.no_autoflush:
        subscribers = _subscribers_for(event_type, case.grid.path)
        if not subscribers:
            return None
        now = utcnow()
        event = WebhookEvent(uuid=str(uuid.uuid4()), type=event_type, occurred_at=now,
                             case_id=case.id, case_number=case.number)
        event.body = json.dumps(payload(event, case, **facts), ensure_ascii=False,
                                separators=(",", ":"), sort_keys=True)
        event.deliveries = [WebhookDelivery(subscriber=s, status=DeliveryStatus.PENDING,
                                            attempts=0, next_attempt_at=now)
                            for s in subscribers]
    db.session.add(event)
    return event


def emit_state_change(case) -> WebhookEvent | None:
    """The event of the state ``case`` has just entered, if that state has one."""
    event_type = STATE_EVENTS.get(case.state)
    return emit(event_type, case) if event_type else None


def _subscribers_for(event_type: EventType, grid_path: str) -> list[WebhookSubscriber]:
    """Subscribers of ``event_type`` whose area holds the grid (a paused one too: it gets
    its deliveries once resumed). There are a handful: they are filtered here."""
    rows = db.session.execute(select(WebhookSubscriber, AreaNode.path)
                              .outerjoin(AreaNode, WebhookSubscriber.area_id == AreaNode.id)
                              .order_by(WebhookSubscriber.id)).all()
    return [subscriber for subscriber, path in rows
            if subscriber.wants(event_type) and (path is None or grid_path.startswith(path))]


# ---- the payload ------------------------------------------------------------------------

def moment(value: datetime) -> str:
    """RFC 3339 in UTC, to the second: 2026-12-07T02:30:00Z."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def payload(event: WebhookEvent, case, *, session=None, moved_from=None, agreement=None,
            confirmation=None, from_level=None) -> dict:
    """What is sent: the event's id, type and time, the case, and what the event is about."""
    body = {"id": event.uuid, "type": event.type.value, "occurred_at": moment(event.occurred_at),
            "case": case_facts(case)}
    if from_level is not None:
        body["escalation"] = {"from_level": from_level.value, "to_level": case.level.value}
    if session is not None:
        body["session"] = session_facts(session, moved_from)
    if agreement is not None:
        body["agreement"] = agreement_facts(agreement)
    if confirmation is not None:
        body["agreement"] = agreement_facts(confirmation.agreement)
        body["ruling"] = ruling_facts(confirmation)
    return body


def case_facts(case) -> dict:
    """The case's number, where it stands, and the hotline's ticket number (null if none)."""
    return {"number": case.number, "state": case.state.value, "level": case.level.value,
            "source": case.source.value, "category": case.category.code,
            "grid": case.grid.code, "hotline_ticket": case.hotline_ticket}


def session_facts(session, moved_from: dict | None = None) -> dict:
    """When and what kind of place; a room is named with its centre, an address on site or
    a video link is not sent."""
    room = session.room
    facts = {"id": session.id, "status": session.status.value,
             "starts_at": moment(session.starts_at), "ends_at": moment(session.ends_at),
             "place_kind": session.place_kind.value,
             "centre": room.centre.name if room is not None else None,
             "room": room.name if room is not None else None}
    if moved_from is not None:
        facts["moved_from"] = {"starts_at": moment(moved_from["starts_at"]),
                               "ends_at": moment(moved_from["ends_at"])}
    return facts


def agreement_facts(agreement) -> dict:
    previous = agreement.supersedes
    return {"id": agreement.id, "number": agreement.number, "version": agreement.version,
            "issued_on": agreement.issued_on.isoformat() if agreement.issued_on else None,
            "supersedes": previous.number if previous is not None else None}


def ruling_facts(confirmation) -> dict:
    return {"court": confirmation.court_name, "result": confirmation.result.value,
            "ruled_on": confirmation.ruled_on.isoformat() if confirmation.ruled_on else None,
            "ruling_number": confirmation.ruling_number}
