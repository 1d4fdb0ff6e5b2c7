"""Sending the outbox (``flask deliver-webhooks``): each due delivery is POSTed, signed, and
marked delivered only on a 2xx answer — at least once, never silently dropped.

The signature (README, "Webhooks"): ``X-Mediation-Signature: sha256=<hex>``, the
HMAC-SHA256 with the subscriber's secret of ``<X-Mediation-Timestamp>.<body>`` (the Unix
time of the attempt, a dot, the body's bytes). A retry sends the same body and event id
with a new timestamp and signature; a receiver refuses a stale timestamp (a replay) and
drops an event id it has seen (a retry of what it already took).

A delivery is claimed in a short transaction of its own (on PostgreSQL ``FOR UPDATE SKIP
LOCKED``, so that two workers never take the same one; SQLite has one writer at a time)
and held for ``Policy.hold`` while it is posted with no transaction open; its outcome is
written in another. A worker that dies mid-post leaves it to be tried again once the hold
ends. Each outcome is committed as it comes: what was delivered is never forgotten.
"""

import hashlib
import hmac
import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update

from mediation.core.crypto import InvalidToken
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.webhooks import addresses, operations
from mediation.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscriber,
    is_success,
)

SIGNATURE = "X-Mediation-Signature"
TIMESTAMP = "X-Mediation-Timestamp"
EVENT_ID = "X-Mediation-Event-Id"
EVENT_TYPE = "X-Mediation-Event-Type"
ATTEMPT = "X-Mediation-Attempt"
USER_AGENT = "mediation-webhooks/1"


@dataclass(frozen=True)
class Policy:
    """How deliveries are tried (rules as data)."""

    timeout: float = 10.0  # seconds to connect, and for each read of the answer
    first_wait: timedelta = timedelta(minutes=1)  # before the first retry; doubled each time
    longest_wait: timedelta = timedelta(hours=6)
    give_up_after: int = 20  # attempts of one delivery (about three days of retries)
    pause_after: int = 10  # failed attempts in a row to one subscriber, whatever the events
    hold: timedelta = timedelta(minutes=2)  # a claimed delivery is left alone while posted


POLICY = Policy()


def wait_after(attempts: int, policy: Policy = POLICY) -> timedelta:
    """The back-off after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes, at most
    ``longest_wait``."""
    return min(policy.first_wait * 2 ** min(attempts - 1, 30), policy.longest_wait)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class Answer:
    """How an attempt went: the answer's status code, or the error that stopped it."""

    status_code: int | None
    error: str | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return is_success(self.status_code)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the receiver's answer (a failure), not followed: the signed body goes only
    to the address the administrator registered."""

    def redirect_request(self, *args, **kwargs):
        return None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to an address events may go to (``addresses``); the answer's own body
    is read (a little) and dropped."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    try:
        with addresses.opener(_NoRedirects).open(request, timeout=timeout) as response:
            response.read(1024)
            status, error = response.status, None
    except urllib.error.HTTPError as answer:  # a status outside 2xx
        status, error = answer.code, None
        answer.close()
    except urllib.error.URLError as failure:
        status, error = None, _describe(failure.reason)
    except (OSError, http.client.HTTPException, ValueError) as failure:
        status, error = None, _describe(failure)
    return Answer(status, error, int((time.monotonic() - started) * 1000))


def _describe(error) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return text[:300]


# ---- one run ----------------------------------------------------------------------------

@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0
    paused: list[str] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return self.delivered + self.retrying + self.given_up


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    subscriber_id: int
    url: str
    secret: str | None  # None: it cannot be decrypted (the encryption key changed)
    event_id: str
    event_type: str
    body: bytes
    attempt: int


def _due(now: datetime):
    return (select(WebhookDelivery).join(WebhookDelivery.subscriber)
            .where(WebhookDelivery.status == DeliveryStatus.PENDING,
                   WebhookDelivery.next_attempt_at <= now,
                   WebhookSubscriber.paused_at.is_(None))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id))


def _claim(now: datetime, policy: Policy) -> _Claimed | None:
    """The next due delivery, held for ``policy.hold`` and committed: no other worker takes
    it meanwhile."""
    delivery = db.session.scalars(_due(now).limit(1).with_for_update(
        skip_locked=True, of=WebhookDelivery)).first()
    if delivery is None:
        db.session.commit()
        return None
    delivery.next_attempt_at = now + policy.hold
    subscriber, event = delivery.subscriber, delivery.event
    try:
        secret = operations.secret_of(subscriber)
    except InvalidToken:
        secret = None
    claimed = _Claimed(delivery.id, subscriber.id, subscriber.url, secret, event.uuid,
                       event.type.value, event.body.encode("utf-8"), delivery.attempts + 1)
    db.session.commit()
    return claimed


def _send(claimed: _Claimed, now: datetime, policy: Policy, send) -> Answer:
    if claimed.secret is None:
        return Answer(None, "The signing secret cannot be decrypted (FIELD_ENCRYPTION_KEY "
                            "changed?): give the subscriber a new secret.")
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               EVENT_ID: claimed.event_id, EVENT_TYPE: claimed.event_type,
               ATTEMPT: str(claimed.attempt), TIMESTAMP: str(timestamp),
               SIGNATURE: signature(claimed.secret, timestamp, claimed.body)}
    return send(claimed.url, claimed.body, headers, policy.timeout)


def _record(claimed: _Claimed, answer: Answer, now: datetime, policy: Policy,
            report: Report) -> None:
    """The attempt in the log, the delivery's new state, the subscriber's run of failures
    (paused at ``policy.pause_after``); committed."""
    delivery = db.session.get(WebhookDelivery, claimed.delivery_id, populate_existing=True)
    if delivery is None or delivery.status is not DeliveryStatus.PENDING:
        db.session.commit()  # its subscriber was removed meanwhile
        return
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = answer.status_code, answer.error
    subscribers = update(WebhookSubscriber).where(WebhookSubscriber.id == claimed.subscriber_id)
    if answer.ok:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        delivery.next_attempt_at = None
        db.session.execute(subscribers.values(consecutive_failures=0))
        report.delivered += 1
    else:
        if delivery.attempts >= policy.give_up_after:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            report.given_up += 1
        else:
            delivery.next_attempt_at = now + wait_after(delivery.attempts, policy)
            report.retrying += 1
        failures = db.session.execute(
            subscribers.values(consecutive_failures=WebhookSubscriber.consecutive_failures + 1)
            .returning(WebhookSubscriber.consecutive_failures)).scalar_one()
        subscriber = db.session.get(WebhookSubscriber, claimed.subscriber_id,
                                    populate_existing=True)
        if failures >= policy.pause_after and not subscriber.paused:
            operations.pause(None, subscriber, now=now)
            report.paused.append(subscriber.name)
    db.session.add(WebhookAttempt(delivery=delivery, attempted_at=now,
                                  status_code=answer.status_code, error=answer.error,
                                  duration_ms=answer.duration_ms,
                                  next_attempt_at=delivery.next_attempt_at))
    db.session.commit()


def deliver_due(now: datetime | None = None, *, policy: Policy = POLICY,
                send: Callable[..., Answer] = post,
                stop: Callable[[], bool] = lambda: False) -> Report:
    """Post every due delivery of the subscribers that are not paused, one at a time, until
    none is due (or ``stop()``). ``now`` fixes the clock (tests; default: the real one, read
    at each step). Commits as it goes."""
    clock = (lambda: now) if now is not None else utcnow
    report = Report()
    while not stop():
        claimed = _claim(clock(), policy)
        if claimed is None:
            break
        answer = _send(claimed, clock(), policy, send)
        _record(claimed, answer, clock(), policy, report)
    return report


def prune(before: datetime) -> tuple[int, int]:
    """Forget deliveries delivered or given up that were queued before ``before`` (with their
    attempts), then the events left without a delivery: (deliveries, events) removed.
    Flushes; the caller commits."""
    deliveries = db.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status.in_([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]),
            WebhookDelivery.created_at < before)
        .execution_options(synchronize_session=False)).rowcount
    events = db.session.execute(
        delete(WebhookEvent).where(
            WebhookEvent.occurred_at < before,
            ~exists().where(WebhookDelivery.event_id == WebhookEvent.id))
        .execution_options(synchronize_session=False)).rowcount
    return deliveries, events
