"""What the admin pages read: the subscribers with their queues, and a subscriber's log."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload

from mediation.extensions import db
from mediation.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscriber,
)


@dataclass(frozen=True)
class Queue:
    """A subscriber's deliveries by status, and when it was last tried."""

    waiting: int = 0
    delivered: int = 0
    given_up: int = 0
    last_attempt_at: datetime | None = None


_COUNTED = {DeliveryStatus.PENDING: "waiting", DeliveryStatus.DELIVERED: "delivered",
            DeliveryStatus.FAILED: "given_up"}


def subscribers() -> list[tuple[WebhookSubscriber, Queue]]:
    """Every subscriber, by name, with its queue (three queries however many there are)."""
    rows = db.session.scalars(select(WebhookSubscriber)
                              .options(selectinload(WebhookSubscriber.area))
                              .order_by(WebhookSubscriber.name, WebhookSubscriber.id)).all()
    counts: dict[int, dict] = {}
    for subscriber_id, status, number in db.session.execute(
            select(WebhookDelivery.subscriber_id, WebhookDelivery.status, func.count())
            .group_by(WebhookDelivery.subscriber_id, WebhookDelivery.status)):
        counts.setdefault(subscriber_id, {})[_COUNTED[status]] = number
    for subscriber_id, last in db.session.execute(
            select(WebhookDelivery.subscriber_id, func.max(WebhookAttempt.attempted_at))
            .join(WebhookAttempt.delivery).group_by(WebhookDelivery.subscriber_id)):
        counts.setdefault(subscriber_id, {})["last_attempt_at"] = last
    return [(s, Queue(**counts.get(s.id, {}))) for s in rows]


def waiting(subscriber: WebhookSubscriber, limit: int = 100) -> list[WebhookDelivery]:
    """Its deliveries still to be made, the next due first."""
    return list(db.session.scalars(
        select(WebhookDelivery).join(WebhookDelivery.event)
        .options(contains_eager(WebhookDelivery.event))
        .where(WebhookDelivery.subscriber_id == subscriber.id,
               WebhookDelivery.status == DeliveryStatus.PENDING)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))


# What each line of the log shows, read for the whole page at once.
LOG_LOADS = (contains_eager(WebhookAttempt.delivery).contains_eager(WebhookDelivery.event),)


def attempt_log(subscriber: WebhookSubscriber):
    """Its attempts, the latest first (for ``core.pages.Page`` with ``LOG_LOADS``)."""
    return (select(WebhookAttempt)
            .join(WebhookAttempt.delivery).join(WebhookDelivery.event)
            .where(WebhookDelivery.subscriber_id == subscriber.id)
            .order_by(WebhookAttempt.id.desc()))
