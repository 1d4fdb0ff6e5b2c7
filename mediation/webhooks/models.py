"""Subscribers (推送订阅方), the outbox of events, and each event's delivery to each subscriber
with the log of its attempts."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.areas.models import AreaNode
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.users.models import User


class EventType(TitledEnum):
    """What a subscriber can be told of; the value is the payload's ``type``."""

    CASE_CREATED = "case.created"
    CASE_ACCEPTED = "case.accepted"
    CASE_DECLINED = "case.declined"
    CASE_ESCALATED = "case.escalated"
    CASE_SETTLED = "case.settled"
    CASE_FAILED = "case.failed"
    CASE_CLOSED = "case.closed"
    SESSION_BOOKED = "session.booked"
    SESSION_MOVED = "session.moved"
    SESSION_CANCELLED = "session.cancelled"
    AGREEMENT_ISSUED = "agreement.issued"
    CONFIRMATION_RULED = "confirmation.ruled"

    @classmethod
    def __titles__(cls):
        return {
            cls.CASE_CREATED: _l("Case registered"),
            cls.CASE_ACCEPTED: _l("Case accepted"),
            cls.CASE_DECLINED: _l("Case declined"),
            cls.CASE_ESCALATED: _l("Case escalated"),
            cls.CASE_SETTLED: _l("Case settled"),
            cls.CASE_FAILED: _l("Mediation failed"),
            cls.CASE_CLOSED: _l("Case closed"),
            cls.SESSION_BOOKED: _l("Session booked"),
            cls.SESSION_MOVED: _l("Session moved"),
            cls.SESSION_CANCELLED: _l("Session cancelled"),
            cls.AGREEMENT_ISSUED: _l("Agreement issued"),
            cls.CONFIRMATION_RULED: _l("Judicial confirmation ruled"),
        }


class DeliveryStatus(TitledEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # given up after the last allowed attempt

    @classmethod
    def __titles__(cls):
        return {cls.PENDING: _l("Waiting"), cls.DELIVERED: _l("Delivered"),
                cls.FAILED: _l("Given up")}


class WebhookSubscriber(db.Model):
    """A receiver of events: where they go, which it wants, and the area it may hear of.

    The signing secret is kept encrypted (``core.crypto``): the app must sign with it, so
    it cannot be kept as a hash like an API token. ``area`` None is the whole city.
    ``paused_at`` stops its deliveries: set by an administrator (``paused_by``) or
    automatically (``paused_by`` None) after repeated failures.
    """

    __tablename__ = "webhook_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(500))
    event_types: Mapped[list] = mapped_column(JSON)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area_nodes.id", ondelete="RESTRICT"),
                                                index=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    secret_set_at: Mapped[datetime] = mapped_column(default=utcnow)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    paused_at: Mapped[datetime | None]
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    area: Mapped[AreaNode | None] = relationship()
    paused_by: Mapped[User | None] = relationship(foreign_keys=[paused_by_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def wants(self, event_type: EventType) -> bool:
        return event_type.value in (self.event_types or ())


class WebhookEvent(db.Model):
    """One event in the outbox, written with the change it reports; ``body`` is the JSON
    sent, the same bytes on every attempt (``uuid`` is its ``id``)."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[EventType] = mapped_column(enum_column(EventType, 40, name="type"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"),
                                                index=True)
    case_number: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="event", cascade="all, delete-orphan", passive_deletes=True)


class WebhookDelivery(db.Model):
    """One event to one subscriber: waiting (due at ``next_attempt_at``), delivered (a 2xx
    answer), or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber_id"),
        CheckConstraint("(status = 'delivered') = (delivered_at IS NOT NULL)",
                        name="delivered_at_iff_delivered"),
        CheckConstraint("(status = 'pending') = (next_attempt_at IS NOT NULL)",
                        name="next_attempt_iff_pending"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscribers.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = mapped_column(enum_column(DeliveryStatus, name="status"),
                                                   default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    delivered_at: Mapped[datetime | None]

    event: Mapped[WebhookEvent] = relationship(back_populates="deliveries")
    subscriber: Mapped[WebhookSubscriber] = relationship()
    attempt_log: Mapped[list["WebhookAttempt"]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.id", cascade="all, delete-orphan",
        passive_deletes=True)


def is_success(status_code: int | None) -> bool:
    """A delivery is made by a 2xx answer, and only by one (at least once)."""
    return status_code is not None and 200 <= status_code < 300


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, the answer's status code or the error, the next try."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        CheckConstraint("status_code IS NOT NULL OR error IS NOT NULL", name="has_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")

    @property
    def delivered(self) -> bool:
        return is_success(self.status_code)
