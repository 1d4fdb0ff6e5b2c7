"""The reminders outbox: messages to participants, queued with the session and sent by cron.

``queue_for_session`` and ``queue_cancellation`` only flush (the caller commits, as with
every operation).  ``send_due`` (``flask send-reminders``) sends the due email through
SMTP when ``MAIL_SERVER`` is set and commits after each message.  SMS messages, and
email while no mail server is configured, stay pending in the outbox: the staff export
them for their SMS gateway with ``flask send-reminders --list-sms [--mark-sent]``.

A message about a case rather than a session (a party's access code, ``ACCESS``) has a
``party`` and no participant; ``queue_to_party`` queues it, and once handed to the gateway
its stored text no longer holds the code.

Nothing is sent twice: a UNIQUE (participant, kind, due time) makes queuing idempotent,
and on PostgreSQL ``FOR UPDATE SKIP LOCKED`` keeps two runs off the same message (SQLite
writers queue on the database lock).
"""

import csv
import io
import re
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import Party
from mediation.core import audit
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.validators import normalise_phone
from mediation.extensions import db
from mediation.sessions.models import MediationSession, Participant, ParticipantRole
from mediation.sessions.notices import place_text, when_text
from mediation.sessions.scheduling import LOCAL

# What a message is about (``OutboxMessage.kind``).
NOTICE = "notice"
REMINDER = "reminder"
CANCELLATION = "cancellation"
MOVED = "moved"
ACCESS = "access"  # a party's access code to the portal, about the case (no session)

REMINDER_BEFORE = timedelta(hours=24)

# The texts participants receive.  Written in Chinese on purpose, whatever the interface
# language: the recipients are residents of a Chinese city.  Short enough for an SMS.
TEMPLATES: dict[str, dict[str, str]] = {
    NOTICE: {
        "subject": "调解会通知（案件{number}）",
        "body": "【人民调解】{name}您好：案件{number}的调解会定于{when}在{place}举行，"
                "请携带身份证件及相关证据材料准时参加。如需改期，请尽早与调解员联系。"
                "可凭登记短信中的网址和查询码查询进度、回复是否参加。",
    },
    REMINDER: {
        "subject": "调解会提醒（案件{number}）",
        "body": "【人民调解】{name}您好：案件{number}的调解会将于{when}在{place}举行，"
                "请准时参加。如需改期，请尽早与调解员联系。",
    },
    MOVED: {
        "subject": "调解会改期通知（案件{number}）",
        "body": "【人民调解】{name}您好：案件{number}的调解会已改期，现定于{when}在{place}"
                "举行，请以本通知为准准时参加。如有不便，请尽早与调解员联系。"
                "可凭登记短信中的网址和查询码查询进度。",
    },
    CANCELLATION: {
        "subject": "调解会取消通知（案件{number}）",
        "body": "【人民调解】{name}您好：原定于{when}在{place}举行的案件{number}调解会"
                "已取消，新的时间另行通知。",
    },
}

_STAFF = frozenset({ParticipantRole.LEAD_MEDIATOR, ParticipantRole.CO_MEDIATOR,
                    ParticipantRole.LEGAL_AID})


class Channel(TitledEnum):
    EMAIL = "email"
    SMS = "sms"

    @classmethod
    def __titles__(cls):
        return {cls.EMAIL: _l("Email"), cls.SMS: _l("SMS")}


class OutboxStatus(TitledEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def __titles__(cls):
        return {cls.PENDING: _l("Pending"), cls.SENT: _l("Sent"), cls.FAILED: _l("Failed"),
                cls.CANCELLED: _l("Cancelled")}


class OutboxMessage(db.Model):
    """One message to one participant: what, to whom, by which channel, when, and how it went.

    ``exported_at`` is set when an SMS was handed to the staff's SMS gateway (the CSV of
    ``flask send-reminders --list-sms --mark-sent``) rather than sent by the system.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("participant_id", "kind", "due_at"),
        Index("ix_outbox_messages_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_participants.id", ondelete="SET NULL"))
    # A message about the case rather than a session (a party's access code): its party.
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="SET NULL"),
                                                 index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, name="channel"))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, name="status"), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    exported_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[MediationSession | None] = relationship()
    participant: Mapped[Participant | None] = relationship()
    party: Mapped[Party | None] = relationship()


# ---- queuing ------------------------------------------------------------------------------

def address_of(participant: Participant) -> str | None:
    """Where a participant can be reached: an email address or a normalised phone number.

    Staff: their email, else their phone; parties: their phone; agents: the agent's
    phone; invited people: nothing (the mediator contacts them).
    """
    if participant.role in _STAFF and participant.user is not None:
        email = (participant.user.email or "").strip()
        if "@" in email:
            return email
        raw = participant.user.phone
    elif participant.role is ParticipantRole.PARTY and participant.party is not None:
        raw = participant.party.phone
    elif participant.role is ParticipantRole.AGENT and participant.party is not None:
        raw = participant.party.agent_phone
    else:
        return None
    return normalise_phone(raw) if raw else None


def local_time(moment: datetime) -> str:
    """yyyy-MM-dd HH:mm in China, whatever the interface language or the server's zone."""
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def render(kind: str, session: MediationSession, participant: Participant) -> tuple[str, str]:
    """The (subject, body) of a message, from ``TEMPLATES``: ``when`` from the start to the
    end (2027年3月16日（星期二）9:00至11:00)."""
    template = TEMPLATES[kind]
    values = {"name": participant.display_name, "number": session.case.number,
              "when": when_text(session), "place": place_text(session)}
    return template["subject"].format(**values), template["body"].format(**values)


def _queue(session: MediationSession, kind: str, due_at: datetime,
           *, once_per_participant: bool = False) -> list[OutboxMessage]:
    """One ``kind`` message due at ``due_at`` per reachable participant; returns the new ones.

    A row already there for the same participant and time (the UNIQUE key) is brought up
    to date if it was not sent, never duplicated.
    """
    db.session.flush()  # participants need their ids
    existing = list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.session_id == session.id, OutboxMessage.kind == kind)))
    by_key = {(m.participant_id, m.due_at): m for m in existing}
    told = {m.participant_id for m in existing}
    queued = []
    for participant in session.participants:
        recipient = address_of(participant)
        if recipient is None or (once_per_participant and participant.id in told):
            continue
        subject, body = render(kind, session, participant)
        fields = {"channel": Channel.EMAIL if "@" in recipient else Channel.SMS,
                  "recipient": recipient, "subject": subject, "body": body}
        message = by_key.get((participant.id, due_at))
        if message is None:
            message = OutboxMessage(session=session, participant=participant, kind=kind,
                                    due_at=due_at, status=OutboxStatus.PENDING, attempts=0,
                                    **fields)
            db.session.add(message)
            queued.append(message)
        elif message.status in (OutboxStatus.PENDING, OutboxStatus.CANCELLED):
            if message.status is OutboxStatus.CANCELLED:  # e.g. moved away and back again
                message.status, message.attempts, message.last_error = \
                    OutboxStatus.PENDING, 0, None
                queued.append(message)
            for name, value in fields.items():
                setattr(message, name, value)
    db.session.flush()
    return queued


def queue_for_session(session: MediationSession) -> list[OutboxMessage]:
    """Queue the notice now and a reminder 24 hours before the start for every reachable
    participant.

    No reminder is queued when that moment has passed, nothing when the session is
    cancelled; queuing again adds nothing but brings unsent messages up to date (an unsent
    notice gives the session's time and place as they are now; a reminder for another time,
    or for someone no longer invited, is withdrawn).  Flushes, never commits.
    """
    due_at = session.starts_at - REMINDER_BEFORE
    current = {p.id for p in session.participants}
    stale = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.session_id == session.id, OutboxMessage.kind == REMINDER,
        OutboxMessage.status == OutboxStatus.PENDING))
    for message in stale:
        if (not session.is_active or message.due_at != due_at
                or message.participant_id not in current):
            message.status = OutboxStatus.CANCELLED
    db.session.flush()
    if not session.is_active:
        return []
    _refresh_unsent(session, NOTICE)
    # Everyone hears of the session at once; a reminder follows the day before, if there
    # is still a day to go (a session booked for tomorrow morning gets the notice only).
    queued = _queue(session, NOTICE, utcnow(), once_per_participant=True)
    if due_at > utcnow():
        queued += _queue(session, REMINDER, due_at)
    return queued


def _refresh_unsent(session: MediationSession, kind: str) -> None:
    """Unsent ``kind`` messages of the session say what is true now."""
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.session_id == session.id, OutboxMessage.kind == kind,
            OutboxMessage.status == OutboxStatus.PENDING)):
        if message.participant is not None:
            message.subject, message.body = render(kind, session, message.participant)


def queue_move(session: MediationSession) -> list[OutboxMessage]:
    """The session moved: unsent notices and reminders follow it, and whoever was already
    sent a notice (or an earlier change) is told of the change now.  Flushes, never commits.
    """
    _refresh_unsent(session, MOVED)
    queued = queue_for_session(session)
    told = set(db.session.scalars(select(OutboxMessage.participant_id).where(
        OutboxMessage.session_id == session.id, OutboxMessage.kind.in_((NOTICE, MOVED)),
        OutboxMessage.status == OutboxStatus.SENT)))
    waiting = set(db.session.scalars(select(OutboxMessage.participant_id).where(
        OutboxMessage.session_id == session.id, OutboxMessage.kind == MOVED,
        OutboxMessage.status == OutboxStatus.PENDING)))
    now = utcnow()
    for participant in session.participants:
        recipient = address_of(participant)
        if participant.id not in told or participant.id in waiting or recipient is None:
            continue
        subject, body = render(MOVED, session, participant)
        message = OutboxMessage(session=session, participant=participant, kind=MOVED,
                                due_at=now, status=OutboxStatus.PENDING, attempts=0,
                                channel=Channel.EMAIL if "@" in recipient else Channel.SMS,
                                recipient=recipient, subject=subject, body=body)
        db.session.add(message)
        queued.append(message)
    db.session.flush()
    return queued


def queue_cancellation(session: MediationSession) -> list[OutboxMessage]:
    """Cancel the session's unsent messages and tell every reachable participant, now.

    Flushes, never commits; a participant is told of the cancellation only once.
    """
    pending = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.session_id == session.id, OutboxMessage.status == OutboxStatus.PENDING))
    for message in pending:
        message.status = OutboxStatus.CANCELLED
    db.session.flush()
    return _queue(session, CANCELLATION, utcnow(), once_per_participant=True)


def queue_to_party(party: Party, kind: str, subject: str, body: str) -> OutboxMessage | None:
    """One SMS about the case to a party's mobile phone, due now (None without a mobile).

    Unsent messages of the same kind to the party are withdrawn: only the latest holds
    (a renewed access code makes the earlier one useless).  Flushes, never commits.
    """
    for message in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.party_id == party.id, OutboxMessage.kind == kind,
            OutboxMessage.status == OutboxStatus.PENDING)):
        message.status = OutboxStatus.CANCELLED
    recipient = normalise_phone(party.phone) if party.phone else None
    if recipient is None or not recipient.startswith("1"):  # a landline takes no SMS
        db.session.flush()
        return None
    message = OutboxMessage(party=party, kind=kind, channel=Channel.SMS, recipient=recipient,
                            subject=subject, body=body, due_at=utcnow(),
                            status=OutboxStatus.PENDING, attempts=0)
    db.session.add(message)
    db.session.flush()
    return message


# Once handed over, an access code is no longer kept in plain text: only its hash stays.
_SECRET = re.compile(r"(查询码)\d+")


def _forget_secrets(message: OutboxMessage) -> None:
    if message.kind == ACCESS:
        message.body = _SECRET.sub(r"\1********", message.body)


# ---- sending ------------------------------------------------------------------------------

class _Mailer:
    """One SMTP connection for a run, opened on first use and reopened after an error."""

    def __init__(self, config):
        self.config = config
        self.smtp = None

    @property
    def sender(self) -> str:
        username = self.config.get("MAIL_USERNAME") or ""
        return (self.config.get("MAIL_SENDER") or (username if "@" in username else None)
                or f"no-reply@{self.config['MAIL_SERVER']}")

    def _connect(self):
        config = self.config
        smtp = smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 587),
                            timeout=30)
        try:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        except Exception:
            self._quit(smtp)
            raise
        return smtp

    def send(self, message: OutboxMessage) -> None:
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Date"] = format_datetime(utcnow())
        email["Message-ID"] = make_msgid(f"outbox-{message.id}",
                                         domain=self.sender.rpartition("@")[2] or None)
        email.set_content(message.body)
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(email)
        except Exception:
            self.close()
            raise

    @staticmethod
    def _quit(smtp) -> None:
        try:
            smtp.quit()
        except Exception:  # the connection is going away anyway
            pass

    def close(self) -> None:
        if self.smtp is not None:
            self._quit(self.smtp)
            self.smtp = None


def _due(now: datetime):
    return (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.due_at <= now)


def send_due(now: datetime | None = None, max_attempts: int = 5) -> dict[str, int]:
    """Send the due email (when ``MAIL_SERVER`` is set), one message per transaction.

    Returns counts: ``sent``; ``retrying`` (an error, tried again next run); ``failed``
    (an error on the last allowed attempt); ``sms_waiting`` and ``email_waiting`` (due
    and left in the outbox: SMS for the staff's gateway, email while no mail server is
    configured).  Commits after each message, so what was sent is never forgotten.
    """
    now = now or utcnow()
    counts = {"sent": 0, "retrying": 0, "failed": 0, "sms_waiting": 0, "email_waiting": 0}
    config = current_app.config
    if config.get("MAIL_SERVER"):
        mailer = _Mailer(config)
        last_id = 0
        try:
            while True:
                message = db.session.scalars(
                    select(OutboxMessage)
                    .where(_due(now), OutboxMessage.channel == Channel.EMAIL,
                           OutboxMessage.attempts < max_attempts, OutboxMessage.id > last_id)
                    .order_by(OutboxMessage.id).limit(1)
                    .with_for_update(skip_locked=True)
                    .execution_options(populate_existing=True)).first()
                if message is None:
                    db.session.commit()
                    break
                last_id = message.id
                message.attempts += 1
                try:
                    mailer.send(message)
                except Exception as error:
                    message.last_error = f"{type(error).__name__}: {error}"
                    if message.attempts >= max_attempts:
                        message.status = OutboxStatus.FAILED
                        counts["failed"] += 1
                    else:
                        counts["retrying"] += 1
                else:
                    message.status = OutboxStatus.SENT
                    message.sent_at = utcnow()
                    message.last_error = None
                    counts["sent"] += 1
                db.session.commit()
        finally:
            mailer.close()
    left_for = [Channel.SMS] if config.get("MAIL_SERVER") else [Channel.SMS, Channel.EMAIL]
    waiting = db.session.execute(
        select(OutboxMessage.channel, func.count())
        .where(_due(now), OutboxMessage.channel.in_(left_for))
        .group_by(OutboxMessage.channel)).all()
    for channel, number in waiting:
        counts[f"{channel.value}_waiting"] = number
    db.session.commit()
    return counts


# ---- the SMS gateway's export -------------------------------------------------------------

def due_sms(now: datetime | None = None, *, lock: bool = False) -> list[OutboxMessage]:
    """The pending SMS messages that are due, oldest first (``lock``: for marking them)."""
    query = (select(OutboxMessage)
             .where(_due(now or utcnow()), OutboxMessage.channel == Channel.SMS)
             .order_by(OutboxMessage.due_at, OutboxMessage.id))
    if lock:
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def sms_csv(messages: list[OutboxMessage]) -> str:
    """recipient,due_at,text: one row per message, due time in China, for the gateway."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["recipient", "due_at", "text"])
    for message in messages:
        writer.writerow([message.recipient, local_time(message.due_at), message.body])
    return out.getvalue()


def mark_exported(messages: list[OutboxMessage]) -> None:
    """Record that these SMS went to the staff's gateway: sent, and when.  Flushes."""
    if not messages:
        return
    moment = utcnow()
    for message in messages:
        message.status = OutboxStatus.SENT
        message.sent_at = message.exported_at = moment
        _forget_secrets(message)
    audit.record("outbox.sms_export", object_type="OutboxMessage",
                 after={"count": len(messages), "ids": [m.id for m in messages]})
    db.session.flush()
