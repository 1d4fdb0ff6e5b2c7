"""调解记录: what was said and agreed at a session, signed by parties, mediator and recorder."""

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import EventKind
from mediation.cases.operations import log_event
from mediation.core import audit
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.errors import OperationError
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.sessions.models import LOCAL, MediationSession, SessionStatus
from mediation.users.models import User


class MinutesOutcome(TitledEnum):
    SETTLED = "settled"
    PARTLY = "partly"
    ADJOURNED = "adjourned"
    FAILED = "failed"

    @classmethod
    def __titles__(cls):
        return {cls.SETTLED: _l("Agreement reached"), cls.PARTLY: _l("Partly agreed"),
                cls.ADJOURNED: _l("Adjourned"), cls.FAILED: _l("No agreement")}


class Minutes(db.Model):
    """The record of one session (one per session; edited until the case closes)."""

    __tablename__ = "session_minutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), unique=True)
    recorder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    matter: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    outcome: Mapped[MinutesOutcome] = mapped_column(enum_column(MinutesOutcome, name="outcome"))
    next_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    session: Mapped[MediationSession] = relationship()
    recorder: Mapped[User | None] = relationship()


def session_staff(session: MediationSession) -> list[User]:
    """The staff at a session: who may be named as the minutes' recorder."""
    return [p.user for p in session.participants if p.user is not None]


def recorder_named(session: MediationSession, username: str | None) -> User | None:
    """The recorder a form or an API client names (None: the writer records); a name that
    is not of a staff member at the session is refused."""
    if not (username or "").strip():
        return None
    wanted = username.strip().lower()
    found = next((u for u in session_staff(session) if u.username.lower() == wanted), None)
    if found is None:
        raise OperationError(_("The recorder must be a staff member at the session."),
                             field="recorder")
    return found


def save_minutes(by: User, session: MediationSession, *, matter: str, body: str,
                 outcome: MinutesOutcome, next_date: date | None,
                 recorder: User | None = None) -> Minutes:
    """Write or correct the minutes; the session then counts as held (or adjourned)."""
    if session.status is SessionStatus.CANCELLED:
        raise OperationError(_("A cancelled session has no minutes."))
    if session.starts_at > utcnow():
        raise OperationError(_("Minutes are written once the session has begun."))
    if not body.strip() or not matter.strip():
        raise OperationError(_("Write the matter and the record."), field="body")
    session_day = session.starts_at.astimezone(LOCAL).date()
    if outcome is MinutesOutcome.ADJOURNED and (next_date is None or next_date <= session_day):
        raise OperationError(_("Give the date the mediation continues (after this session)."),
                             field="next_date")
    if outcome is not MinutesOutcome.ADJOURNED:
        next_date = None
    minutes = db.session.query(Minutes).filter_by(session_id=session.id).one_or_none()
    before = None if minutes is None else audit.snapshot(minutes, ["outcome", "next_date"])
    if minutes is None:
        minutes = Minutes(session=session)
        db.session.add(minutes)
    minutes.recorder = recorder or by
    minutes.matter, minutes.body = matter.strip(), body.strip()
    minutes.outcome, minutes.next_date = outcome, next_date
    session.status = SessionStatus.ADJOURNED if outcome is MinutesOutcome.ADJOURNED \
        else SessionStatus.HELD
    db.session.flush()
    if before is None:
        log_event(session.case, by, EventKind.SESSION,
                  reason=_("Minutes of the session on %(day)s: %(outcome)s",
                           day=session_day.isoformat(), outcome=outcome.title),
                  data={"session": session.id, "minutes": minutes.id})
    audit.record("session.minutes", minutes, actor=by, before=before,
                 after=audit.snapshot(minutes, ["outcome", "next_date"]))
    return minutes
