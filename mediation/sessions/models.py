"""Mediation sessions (调解会): when, where, who — and whether they came."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.areas.models import Centre, Room
from mediation.cases.models import Case, Party
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.users.models import User

LOCAL = ZoneInfo("Asia/Shanghai")


class PlaceKind(TitledEnum):
    ROOM = "room"
    ON_SITE = "on_site"
    VIDEO = "video"

    @classmethod
    def __titles__(cls):
        return {cls.ROOM: _l("Room at a centre"), cls.ON_SITE: _l("On site"),
                cls.VIDEO: _l("Video link")}


class SessionStatus(TitledEnum):
    PLANNED = "planned"
    HELD = "held"
    ADJOURNED = "adjourned"
    CANCELLED = "cancelled"

    @classmethod
    def __titles__(cls):
        return {cls.PLANNED: _l("Planned"), cls.HELD: _l("Held"),
                cls.ADJOURNED: _l("Adjourned"), cls.CANCELLED: _l("Cancelled")}


class ParticipantRole(TitledEnum):
    PARTY = "party"
    AGENT = "agent"
    LEAD_MEDIATOR = "lead_mediator"
    CO_MEDIATOR = "co_mediator"
    LEGAL_AID = "legal_aid"
    INVITED = "invited"

    @classmethod
    def __titles__(cls):
        return {cls.PARTY: _l("Party"), cls.AGENT: _l("Agent"),
                cls.LEAD_MEDIATOR: _l("Lead mediator"), cls.CO_MEDIATOR: _l("Co-mediator"),
                cls.LEGAL_AID: _l("Legal-aid volunteer"), cls.INVITED: _l("Invited guest")}


class Attendance(TitledEnum):
    INVITED = "invited"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    ATTENDED = "attended"
    ABSENT = "absent"

    @classmethod
    def __titles__(cls):
        return {cls.INVITED: _l("Invited"), cls.CONFIRMED: _l("Confirmed"),
                cls.DECLINED: _l("Declined to come"), cls.ATTENDED: _l("Attended"),
                cls.ABSENT: _l("Absent")}


class Reply(TitledEnum):
    """A party's answer to its notice, given on the residents' portal (当事人回复)."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    OTHER_TIME = "other_time"

    @classmethod
    def __titles__(cls):
        return {cls.CONFIRMED: _l("Will come"), cls.DECLINED: _l("Cannot come"),
                cls.OTHER_TIME: _l("Asks for another time")}


class MediationSession(db.Model):
    """One meeting of a case's parties with the mediators, in a room, on site or by video."""

    __tablename__ = "mediation_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("(place_kind = 'room') = (room_id IS NOT NULL)", name="room_iff_room"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)",
                        name="cancelled_at_iff_cancelled"),
        Index("ix_mediation_sessions_time", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place_kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind, name="place_kind"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="RESTRICT"),
                                                index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    video_link: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, name="status"),
                                                  default=SessionStatus.PLANNED)
    override_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship()
    room: Mapped[Room | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Participant.id")

    @property
    def is_active(self) -> bool:
        return self.status is not SessionStatus.CANCELLED


class Participant(db.Model):
    """Someone at a session: a party or agent of the case, staff, or an invited person."""

    __tablename__ = "session_participants"
    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR party_id IS NOT NULL OR name IS NOT NULL",
                        name="who"),
        CheckConstraint("(reply IS NULL) = (replied_at IS NULL)", name="replied_at_iff_reply"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("mediation_sessions.id", ondelete="CASCADE"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole, name="role"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"),
                                                index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id", ondelete="CASCADE"),
                                                 index=True)
    name: Mapped[str | None] = mapped_column(String(120))
    organisation: Mapped[str | None] = mapped_column(String(120))
    # An invited guest's phone (normalised digits): the clash check's key for a guest.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    attendance: Mapped[Attendance] = mapped_column(enum_column(Attendance, name="attendance"),
                                                   default=Attendance.INVITED)
    consent_recorded: Mapped[bool] = mapped_column(default=False)
    # The party's own answer from the portal; attendance stays the mediator's record.
    reply: Mapped[Reply | None] = mapped_column(enum_column(Reply, name="reply"))
    reply_reason: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]

    session: Mapped[MediationSession] = relationship(back_populates="participants")
    user: Mapped[User | None] = relationship()
    party: Mapped[Party | None] = relationship()

    @property
    def display_name(self) -> str:
        if self.user is not None:
            return self.user.full_name
        if self.party is not None:
            return self.party.agent_name if self.role is ParticipantRole.AGENT and \
                self.party.agent_name else self.party.name
        return self.name or ""


class VolunteerDuty(db.Model):
    """When a legal-aid volunteer is on duty at a centre (weekday, local hours)."""

    __tablename__ = "volunteer_duties"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"),
                                           index=True)
    weekday: Mapped[int]  # Monday 0 … Sunday 6
    starts_at: Mapped[time]
    ends_at: Mapped[time]

    user: Mapped[User] = relationship()
    centre: Mapped[Centre] = relationship()

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) (aware) lies inside this duty, in China's local time."""
        local_start, local_end = start.astimezone(LOCAL), end.astimezone(LOCAL)
        return (local_start.weekday() == self.weekday and local_start.date() == local_end.date()
                and self.starts_at <= local_start.time() and local_end.time() <= self.ends_at)
