"""Disputes (纠纷案件), their parties, timeline, proposals, supervision and follow-up."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.areas.models import AreaNode
from mediation.cases.states import (
    OPEN_STATES,
    RISK_FACTORS,
    CaseState,
    Level,
    RiskLevel,
    Source,
)
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.users.models import User


class Category(db.Model):
    """A dispute category (纠纷类型) with its time limits per level: rules as data."""

    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("grid_days > 0 AND community_days > 0 AND street_days > 0 "
                        "AND overall_days > 0", name="days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(60))
    grid_days: Mapped[int] = mapped_column(default=3)
    community_days: Mapped[int] = mapped_column(default=7)
    street_days: Mapped[int] = mapped_column(default=15)
    overall_days: Mapped[int] = mapped_column(default=30)
    working_days: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=100)
    # Everyday categories (noise, leaks...) count under a justice-bureau category in statistics.
    report_as: Mapped[str | None] = mapped_column(String(32))

    def days_for(self, level: Level) -> int:
        return getattr(self, f"{level.value}_days")

    def display(self, locale: str) -> str:
        return self.name if locale.startswith("zh") else self.name_en


class LevelRule(db.Model):
    """What a level may handle: above ``amount_limit_fen`` a case is proposed for escalation."""

    __tablename__ = "level_rules"

    level: Mapped[Level] = mapped_column(enum_column(Level, name="level"), primary_key=True)
    amount_limit_fen: Mapped[int | None] = mapped_column(BigInteger)
    warn_days_before: Mapped[int] = mapped_column(default=1)


class CaseCounter(db.Model):
    """The last case number handed out per year (allocated by an atomic UPDATE … RETURNING)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Case(db.Model):
    """One dispute from intake to archive."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("year", "seq"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)",
                        name="closed_at_iff_closed"),
        CheckConstraint("(state IN ('reported', 'accepted', 'in_mediation')) = "
                        "(outcome_at IS NULL)", name="outcome_at_iff_outcome"),
        # The outcome is one of the six and is recorded with its time (the statistics).
        CheckConstraint("outcome IS NULL OR outcome IN ('settled', 'partly_settled', "
                        "'failed', 'withdrawn', 'declined', 'referred_out')",
                        name="outcome_is_an_outcome"),
        CheckConstraint("(outcome IS NULL) = (outcome_at IS NULL)",
                        name="outcome_iff_outcome_at"),
        CheckConstraint("hotline_ticket IS NULL OR source = 'hotline'",
                        name="hotline_ticket_of_hotline"),
        Index("ix_cases_state_level", "state", "level"),
        Index("ix_cases_outcome_at", "outcome_at"),
        # One's cases outside one's jurisdiction (access.case_scope), from the index alone.
        Index("ix_cases_handler_grid", "handler_id", "grid_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    year: Mapped[int]
    seq: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    source: Mapped[Source] = mapped_column(enum_column(Source, 30, name="source"))
    # The 12345 hotline's own ticket number (工单号) of a case it handed over: every webhook
    # delivery about the case repeats it, so that the hotline files the reply (回单) under it.
    hotline_ticket: Mapped[str | None] = mapped_column(String(40))
    grid_id: Mapped[int] = mapped_column(ForeignKey("area_nodes.id", ondelete="RESTRICT"),
                                         index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"),
                                             index=True)
    narrative: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(200))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)

    violence_threat: Mapped[bool] = mapped_column(default=False)
    criminal_risk: Mapped[bool] = mapped_column(default=False)
    vulnerable_party: Mapped[bool] = mapped_column(default=False)
    group_dispute: Mapped[bool] = mapped_column(default=False)
    repeat_petition: Mapped[bool] = mapped_column(default=False)
    risk_level: Mapped[RiskLevel] = mapped_column(enum_column(RiskLevel, name="risk_level"),
                                                  index=True)

    state: Mapped[CaseState] = mapped_column(enum_column(CaseState, name="state"), index=True)
    level: Mapped[Level] = mapped_column(enum_column(Level, name="level"))
    level_entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    level_deadline: Mapped[date | None] = mapped_column(index=True)
    overall_deadline: Mapped[date | None]
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    reported_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accepted_at: Mapped[datetime | None]
    outcome_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)

    # Outcome details (the written agreement has its own feature).
    decline_reason: Mapped[str | None] = mapped_column(Text)
    referred_to: Mapped[str | None] = mapped_column(String(120))
    oral_agreement: Mapped[str | None] = mapped_column(Text)
    routes_told: Mapped[list | None] = mapped_column(JSON)
    settled_level: Mapped[Level | None] = mapped_column(enum_column(Level, name="settled_level"))
    # Which outcome the case had: kept through follow-up and closure, for the statistics.
    outcome: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="outcome"))
    # An escalation proposal of the case waits for a decision: kept by mediation/cases/waiting.py
    # from the proposals themselves, so that a street's proposals queue and its badge are
    # read from one index of the cases (migration b1a0d17a0023).
    proposal_waiting: Mapped[bool] = mapped_column(default=False, server_default=false())

    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": version}

    grid: Mapped[AreaNode] = relationship()
    category: Mapped[Category] = relationship()
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    parties: Mapped[list["Party"]] = relationship(back_populates="case", order_by="Party.id",
                                                  cascade="all, delete-orphan")
    events: Mapped[list["CaseEvent"]] = relationship(back_populates="case",
                                                     order_by="CaseEvent.id",
                                                     cascade="all, delete-orphan")
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="case",
                                                           cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Case {self.number} {self.state.value} {self.level.value}>"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def risk_flags(self) -> dict[str, bool]:
        return {name: getattr(self, name) for name in RISK_FACTORS}

    @property
    def amount_yuan(self) -> str | None:
        if self.amount_fen is None:
            return None
        return f"{self.amount_fen // 100:,}.{self.amount_fen % 100:02d}"


class PartyRole(TitledEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    THIRD_PARTY = "third_party"

    @classmethod
    def __titles__(cls):
        return {cls.APPLICANT: _l("Applicant"), cls.RESPONDENT: _l("Respondent"),
                cls.THIRD_PARTY: _l("Third party")}


class PartyKind(TitledEnum):
    PERSON = "person"
    ORGANISATION = "organisation"

    @classmethod
    def __titles__(cls):
        return {cls.PERSON: _l("Natural person"), cls.ORGANISATION: _l("Organisation")}


class Gender(TitledEnum):
    MALE = "male"
    FEMALE = "female"

    @classmethod
    def __titles__(cls):
        return {cls.MALE: _l("Male"), cls.FEMALE: _l("Female")}


class HomeRegion(TitledEnum):
    """Where a Chinese citizen from outside the mainland lives, read off their document."""

    HONG_KONG = "hong_kong"
    MACAO = "macao"
    TAIWAN = "taiwan"

    @classmethod
    def __titles__(cls):
        return {cls.HONG_KONG: _l("Hong Kong resident"), cls.MACAO: _l("Macao resident"),
                cls.TAIWAN: _l("Taiwan resident")}


CHINA = "中国"  # a Chinese citizen's nationality; an empty nationality means the same
STATELESS = "无国籍"


class Party(db.Model):
    """A party to a dispute (当事人): a person or an organisation, with an optional agent."""

    __tablename__ = "parties"
    __table_args__ = (
        CheckConstraint("id_issuing_country IS NULL OR id_type = 'passport'",
                        name="issuing_country_of_passports"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole, name="role"))
    kind: Mapped[PartyKind] = mapped_column(enum_column(PartyKind, name="kind"))
    name: Mapped[str] = mapped_column(String(120), index=True)
    gender: Mapped[Gender | None] = mapped_column(enum_column(Gender, name="gender"))
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    # 国籍: a foreign national's (or 无国籍); empty, or 中国 beside a passport, for a citizen.
    nationality: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[date | None]
    occupation: Mapped[str | None] = mapped_column(String(60))
    id_type: Mapped[str | None] = mapped_column(String(30))
    id_number_encrypted: Mapped[str | None] = mapped_column(Text)
    id_number_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    id_issuing_country: Mapped[str | None] = mapped_column(String(40))  # passports only
    # Set from a Hong Kong, Macao or Taiwan resident's document number when it is recorded.
    home_region: Mapped[HomeRegion | None] = mapped_column(
        enum_column(HomeRegion, name="home_region"))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="SET NULL"))
    uscc: Mapped[str | None] = mapped_column(String(18))
    legal_representative: Mapped[str | None] = mapped_column(String(60))
    legal_representative_title: Mapped[str | None] = mapped_column(String(40))
    agent_name: Mapped[str | None] = mapped_column(String(60))
    agent_phone: Mapped[str | None] = mapped_column(String(20))
    agent_power_of_attorney: Mapped[bool] = mapped_column(default=False)
    refuses_mediation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="parties")
    community: Mapped[AreaNode | None] = relationship()

    @property
    def is_foreign(self) -> bool:
        """A foreign national or stateless person: no ethnicity (民族), which only Chinese
        citizens have, but a nationality."""
        return self.kind is PartyKind.PERSON and bool(self.nationality) \
            and self.nationality != CHINA

    @property
    def is_stateless(self) -> bool:
        return self.nationality == STATELESS


class EventKind(TitledEnum):
    STATE = "state"
    LEVEL = "level"
    NOTE = "note"
    OPINION = "opinion"
    PROPOSAL = "proposal"
    SUPERVISION = "supervision"
    HELP = "help"
    ASSIGNMENT = "assignment"
    PARTY = "party"
    ATTACHMENT = "attachment"
    FOLLOW_UP = "follow_up"
    SESSION = "session"
    AGREEMENT = "agreement"
    DEADLINE = "deadline"  # a time limit moved because the holiday calendar changed

    @classmethod
    def __titles__(cls):
        return {
            cls.SESSION: _l("Mediation session"), cls.AGREEMENT: _l("Written agreement"),
            cls.DEADLINE: _l("Time limit"),
            cls.STATE: _l("Status"), cls.LEVEL: _l("Level"), cls.NOTE: _l("Note"),
            cls.OPINION: _l("Legal opinion"), cls.PROPOSAL: _l("Escalation proposal"),
            cls.SUPERVISION: _l("Supervision"), cls.HELP: _l("Help from departments"),
            cls.ASSIGNMENT: _l("Assignment"), cls.PARTY: _l("Parties"),
            cls.ATTACHMENT: _l("Attachment"), cls.FOLLOW_UP: _l("Follow-up visit"),
        }


class CaseEvent(db.Model):
    """One entry on a case's timeline: who did what, when and why."""

    __tablename__ = "case_events"
    # The statistics count a period's escalations from here.
    __table_args__ = (Index("ix_case_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, name="kind"))
    from_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="from_state"))
    to_state: Mapped[CaseState | None] = mapped_column(enum_column(CaseState, name="to_state"))
    from_level: Mapped[Level | None] = mapped_column(enum_column(Level, name="from_level"))
    to_level: Mapped[Level | None] = mapped_column(enum_column(Level, name="to_level"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[Any | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class AssignmentRole(TitledEnum):
    CO_HANDLER = "co_handler"
    LEGAL_AID = "legal_aid"

    @classmethod
    def __titles__(cls):
        return {cls.CO_HANDLER: _l("Co-handler"), cls.LEGAL_AID: _l("Legal-aid volunteer")}


class Assignment(db.Model):
    """Someone besides the handler working on a case; it also opens the case to them."""

    __tablename__ = "case_assignments"
    __table_args__ = (UniqueConstraint("case_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(enum_column(AssignmentRole, name="role"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="assignments")
    user: Mapped[User] = relationship()


class ProposalRule(TitledEnum):
    DEADLINE_PASSED = "deadline_passed"
    HIGH_RISK = "high_risk"
    AMOUNT_OVER_LIMIT = "amount_over_limit"
    CROSS_COMMUNITY = "cross_community"
    MEDIATOR_REQUEST = "mediator_request"

    @classmethod
    def __titles__(cls):
        return {
            cls.DEADLINE_PASSED: _l("The level's time limit has passed"),
            cls.HIGH_RISK: _l("High risk"),
            cls.AMOUNT_OVER_LIMIT: _l("Amount above the level's limit"),
            cls.CROSS_COMMUNITY: _l("Parties live in different communities"),
            cls.MEDIATOR_REQUEST: _l("Requested by the handler"),
        }


class ProposalStatus(TitledEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    WITHDRAWN = "withdrawn"  # by the system: the deadline it was raised on no longer holds

    @classmethod
    def __titles__(cls):
        return {cls.OPEN: _l("Awaiting decision"), cls.CONFIRMED: _l("Confirmed"),
                cls.DISMISSED: _l("Dismissed"), cls.WITHDRAWN: _l("Withdrawn")}


class EscalationProposal(db.Model):
    """A rule's suggestion to move a case up; a person confirms or dismisses it."""

    __tablename__ = "escalation_proposals"
    __table_args__ = (
        # One open proposal per case and rule: check-deadlines can run again safely.
        Index("uq_escalation_proposals_open", "case_id", "rule", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rule: Mapped[ProposalRule] = mapped_column(enum_column(ProposalRule, 30, name="rule"))
    from_level: Mapped[Level] = mapped_column(enum_column(Level, name="from_level"))
    to_level: Mapped[Level] = mapped_column(enum_column(Level, name="to_level"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ProposalStatus] = mapped_column(enum_column(ProposalStatus, name="status"),
                                                   index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class SupervisionNotice(db.Model):
    """督办: a coordinator (or the deadline check) presses the handler, who must respond."""

    __tablename__ = "supervision_notices"
    __table_args__ = (
        # The deadline check issues one notice per case, level and deadline (a notice
        # withdrawn because the calendar moved the deadline does not count).
        Index("uq_supervision_notices_auto", "case_id", "level", "deadline", unique=True,
              sqlite_where=text("automatic AND withdrawn_at IS NULL"),
              postgresql_where=text("automatic AND withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    level: Mapped[Level] = mapped_column(enum_column(Level, name="level"))
    deadline: Mapped[date | None]
    automatic: Mapped[bool] = mapped_column(default=False)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   index=True)
    message: Mapped[str] = mapped_column(Text)
    respond_by: Mapped[date | None]
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None]
    responded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    # An automatic notice raised on a deadline that the holiday calendar has since moved.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])


class Department(TitledEnum):
    """Departments that can be whistled in (吹哨报到)."""

    POLICE = "police"
    HOUSING = "housing"
    LABOUR = "labour"
    COURT = "court"
    JUSTICE = "justice"
    URBAN_MANAGEMENT = "urban_management"
    MARKET_REGULATION = "market_regulation"
    CIVIL_AFFAIRS = "civil_affairs"
    WOMENS_FEDERATION = "womens_federation"
    OTHER = "other"

    @classmethod
    def __titles__(cls):
        return {
            cls.POLICE: _l("Police station"), cls.HOUSING: _l("Housing and construction"),
            cls.LABOUR: _l("Human resources and social security"),
            cls.COURT: _l("Court liaison"), cls.JUSTICE: _l("Justice office"),
            cls.URBAN_MANAGEMENT: _l("Urban management"),
            cls.MARKET_REGULATION: _l("Market regulation"),
            cls.CIVIL_AFFAIRS: _l("Civil affairs"), cls.WOMENS_FEDERATION: _l("Women's federation"),
            cls.OTHER: _l("Other department"),
        }


class HelpRequest(db.Model):
    """吹哨报到: a department asked to join a case, and what it answered."""

    __tablename__ = "help_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department: Mapped[Department] = mapped_column(enum_column(Department, 30, name="department"))
    department_detail: Mapped[str | None] = mapped_column(String(120))
    message: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship()


class FollowUp(db.Model):
    """回访: a visit after the outcome — was it performed, are the parties satisfied, any risk?"""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    visited_on: Mapped[date]
    visitor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    performance: Mapped[str] = mapped_column(Text)
    satisfaction: Mapped[int]
    new_lawsuit: Mapped[bool] = mapped_column(default=False)
    remaining_risk: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship()
    visitor: Mapped[User | None] = relationship()


class Attachment(db.Model):
    """A photo or document of a case, stored outside the web root under its SHA-256."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    case: Mapped[Case] = relationship()
