"""The verbs on subscribers: register, change, give a new secret, pause, resume, remove.
Each checks, changes, writes the audit log and flushes; the caller commits once."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import update

from mediation.areas.models import AreaKind, AreaNode
from mediation.core import audit, crypto
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users.models import User
from mediation.webhooks import addresses
from mediation.webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookSubscriber,
)

SECRET_PREFIX = "whsec_"
MAX_URL = 500
# The areas a subscriber's scope may be (None: the whole city).
SCOPE_KINDS = frozenset({AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY})
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass
class SubscriberInput:
    name: str
    url: str
    event_types: list[str]
    area: AreaNode | None = None


def check_url(url: str | None) -> str:
    """The address events are posted to: http(s), with a host, nothing hidden in it."""
    url = (url or "").strip()
    if not url:
        raise OperationError(_("Give the address the events are sent to."), field="url")
    if len(url) > MAX_URL:
        raise OperationError(_("The address is longer than %(max)d characters.", max=MAX_URL),
                             field="url")
    if _UNSAFE.search(url):
        raise OperationError(_("The address may not contain spaces or control characters."),
                             field="url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise OperationError(_("The address must start with https:// or http://."), field="url")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number from 0 to 65535)
    except ValueError:
        raise OperationError(_("The address's port is not valid."), field="url") from None
    if not parts.hostname:
        raise OperationError(_("The address has no host name, e.g. "
                               "https://hotline.example.gov.cn/mediation/events."), field="url")
    if parts.username is not None or parts.password is not None:
        raise OperationError(_("Do not put a user name or password in the address: the "
                               "signature proves that the events come from here."),
                             field="url")
    # A host name is checked when events are sent (what it then resolves to); an address
    # written as a number, or this computer's name, can be refused now.
    host = parts.hostname.lower().rstrip(".")
    number = addresses.literal(host) or (
        "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else None)
    if number and not addresses.allowed(number, addresses.allowed_networks()):
        raise OperationError(_("Events are sent only to public addresses: %(host)s is this "
                               "server, or a private or reserved address. The server's "
                               "administrator may allow its network (WEBHOOK_ALLOWED_NETWORKS).",
                               host=parts.hostname), field="url")
    return url


def _check(data: SubscriberInput) -> tuple[str, str, list[str]]:
    name = (data.name or "").strip()
    if not name:
        raise OperationError(_("Name the subscriber after who receives the events, e.g. "
                               "12345 hotline."), field="name")
    if len(name) > 80:
        raise OperationError(_("The name is longer than %(max)d characters.", max=80),
                             field="name")
    url = check_url(data.url)
    wanted = set(data.event_types or ())
    types = [t.value for t in EventType if t.value in wanted]  # in the order of the list
    if not types or len(types) != len(wanted):
        raise OperationError(_("Choose the events the subscriber receives."),
                             field="event_types")
    if data.area is not None and data.area.kind not in SCOPE_KINDS:
        raise OperationError(_("The area is the whole city, a district, a street or a "
                               "community."), field="area")
    return name, url, types


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _shown(subscriber: WebhookSubscriber) -> dict:
    """What the audit log keeps of a subscriber: the address without its query, which may
    carry the receiver's own credentials."""
    parts = urlsplit(subscriber.url)
    return {"name": subscriber.name, "url": parts._replace(query="", fragment="").geturl(),
            "event_types": list(subscriber.event_types),
            "area": subscriber.area.code if subscriber.area else None}


def create_subscriber(by: User | None, data: SubscriberInput) -> tuple[WebhookSubscriber, str]:
    """Register a subscriber; its signing secret is returned once, to be given to it."""
    name, url, types = _check(data)
    secret = _new_secret()
    subscriber = WebhookSubscriber(name=name, url=url, event_types=types, area=data.area,
                                   secret_encrypted=crypto.encrypt(secret),
                                   secret_set_at=utcnow(), consecutive_failures=0,
                                   created_by_id=by.id if by else None)
    db.session.add(subscriber)
    db.session.flush()
    audit.record("webhook.create", subscriber, actor=by, after=_shown(subscriber))
    return subscriber, secret


def update_subscriber(by: User | None, subscriber: WebhookSubscriber,
                      data: SubscriberInput) -> None:
    """Change the name, address, events or area; what is queued keeps going to it."""
    before = _shown(subscriber)
    subscriber.name, subscriber.url, subscriber.event_types = _check(data)
    subscriber.area = data.area
    after = _shown(subscriber)
    if after != before:
        audit.record("webhook.update", subscriber, actor=by, before=before, after=after)
    db.session.flush()


def new_secret(by: User | None, subscriber: WebhookSubscriber) -> str:
    """Replace the signing secret (returned once): deliveries from now on are signed with it."""
    secret = _new_secret()
    subscriber.secret_encrypted = crypto.encrypt(secret)
    subscriber.secret_set_at = utcnow()
    audit.record("webhook.secret", subscriber, actor=by, after={"name": subscriber.name})
    db.session.flush()
    return secret


def secret_of(subscriber: WebhookSubscriber) -> str:
    return crypto.decrypt(subscriber.secret_encrypted)


def pause(by: User | None, subscriber: WebhookSubscriber, *,
          now: datetime | None = None) -> None:
    """Stop the deliveries (they wait); ``by`` None: paused automatically after failures."""
    if subscriber.paused:
        return
    subscriber.paused_at = now or utcnow()
    subscriber.paused_by_id = by.id if by else None
    audit.record("webhook.pause", subscriber, actor=by,
                 after={"name": subscriber.name, "automatic": by is None,
                        "consecutive_failures": subscriber.consecutive_failures})
    db.session.flush()


def resume(by: User | None, subscriber: WebhookSubscriber, *,
           now: datetime | None = None) -> None:
    """Deliver again: the waiting deliveries are due at once, the failure count starts anew."""
    if not subscriber.paused:
        raise OperationError(_("%(name)s is not paused.", name=subscriber.name))
    now = now or utcnow()
    subscriber.paused_at = subscriber.paused_by_id = None
    subscriber.consecutive_failures = 0
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.subscriber_id == subscriber.id,
        WebhookDelivery.status == DeliveryStatus.PENDING).values(next_attempt_at=now))
    audit.record("webhook.resume", subscriber, actor=by, after={"name": subscriber.name})
    db.session.flush()


def delete_subscriber(by: User | None, subscriber: WebhookSubscriber) -> None:
    """Remove the subscriber with its deliveries and their log (the events go with prune)."""
    audit.record("webhook.delete", subscriber, actor=by, before=_shown(subscriber))
    db.session.delete(subscriber)
    db.session.flush()
