"""Written settlement agreements (人民调解协议书), their terms, signatures and judicial
confirmation (司法确认)."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from mediation.areas.models import Committee, Court
from mediation.cases.models import Attachment, Case, Party
from mediation.core.db import enum_column, utcnow
from mediation.core.enums import TitledEnum
from mediation.core.i18n import lazy_gettext as _l
from mediation.core.money import format_yuan, rmb_capital
from mediation.extensions import db
from mediation.users.models import User


class AgreementStatus(TitledEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    SUPERSEDED = "superseded"

    @classmethod
    def __titles__(cls):
        return {cls.DRAFT: _l("Draft"), cls.ISSUED: _l("Issued"),
                cls.SUPERSEDED: _l("Superseded by a correction")}


class SignMethod(TitledEnum):
    """How a party executed the agreement (签名、盖章或按指印, PML 29)."""

    SIGNATURE = "signature"
    SEAL = "seal"
    FINGERPRINT = "fingerprint"

    @classmethod
    def __titles__(cls):
        return {cls.SIGNATURE: _l("Signature"), cls.SEAL: _l("Seal"),
                cls.FINGERPRINT: _l("Fingerprint")}


class AgreementCounter(db.Model):
    """The last agreement number handed out per committee and year."""

    __tablename__ = "agreement_counters"

    committee_id: Mapped[int] = mapped_column(
        ForeignKey("committees.id", ondelete="RESTRICT"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Agreement(db.Model):
    """One version of a case's written agreement: a draft, then issued bytes that never change."""

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("committee_id", "year", "seq"),
        # Versions of a case's agreement are numbered once each: two drafts started at the
        # same moment cannot both be kept.
        Index("uq_agreements_case_version", "case_id", "version", unique=True),
        CheckConstraint("copies >= 2", name="copies_at_least_two"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_iff_issued"),
        CheckConstraint("(status = 'draft') = (sha256 IS NULL)", name="pdf_iff_issued"),
        CheckConstraint("(status = 'draft') = (verification_code IS NULL)",
                        name="code_iff_issued"),
        CheckConstraint("effective_on IS NULL OR status <> 'draft'",
                        name="only_issued_take_effect"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id", ondelete="RESTRICT"),
                                              index=True)
    version: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="RESTRICT"), unique=True)
    status: Mapped[AgreementStatus] = mapped_column(
        enum_column(AgreementStatus, name="status"), default=AgreementStatus.DRAFT, index=True)

    facts: Mapped[str] = mapped_column(Text, default="")
    disputed_matters: Mapped[str] = mapped_column(Text, default="")
    copies: Mapped[int] = mapped_column(default=3)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorder_name: Mapped[str | None] = mapped_column(String(60))
    inviting_court_id: Mapped[int | None] = mapped_column(
        ForeignKey("courts.id", ondelete="RESTRICT"))
    # What the mediator declares about the subject (beside the keyword rules): both make an
    # agreement ineligible for judicial confirmation (CPL-Interp 355).
    concerns_status: Mapped[bool] = mapped_column(default=False)
    determines_ownership: Mapped[bool] = mapped_column(default=False)

    year: Mapped[int | None]
    seq: Mapped[int | None]
    number: Mapped[str | None] = mapped_column(String(80), unique=True)
    verification_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    issued_at: Mapped[datetime | None]
    issued_on: Mapped[date | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)

    mediator_signed_on: Mapped[date | None]
    recorder_signed_on: Mapped[date | None]
    sealed_on: Mapped[date | None]
    # Or the scanned paper copy with every signature and the seal, and the day it was done.
    signed_copy_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="RESTRICT"))
    signed_copy_on: Mapped[date | None]
    effective_on: Mapped[date | None] = mapped_column(index=True)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lock_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    __mapper_args__ = {"version_id_col": lock_version}

    case: Mapped[Case] = relationship()
    committee: Mapped[Committee] = relationship()
    mediator: Mapped[User | None] = relationship(foreign_keys=[mediator_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    inviting_court: Mapped[Court | None] = relationship()
    supersedes: Mapped["Agreement | None"] = relationship(remote_side=[id],
                                                          back_populates="superseded_by")
    superseded_by: Mapped["Agreement | None"] = relationship(back_populates="supersedes")
    signed_copy: Mapped[Attachment | None] = relationship()
    parties: Mapped[list["AgreementParty"]] = relationship(
        back_populates="agreement", order_by="AgreementParty.position",
        cascade="all, delete-orphan")
    terms: Mapped[list["Term"]] = relationship(back_populates="agreement",
                                               order_by="Term.position",
                                               cascade="all, delete-orphan")
    confirmations: Mapped[list["JudicialConfirmation"]] = relationship(
        back_populates="agreement", order_by="JudicialConfirmation.id")

    def __repr__(self) -> str:
        return f"<Agreement {self.number or 'draft'} v{self.version}>"

    @property
    def is_draft(self) -> bool:
        return self.status is AgreementStatus.DRAFT

    @property
    def in_force(self) -> bool:
        return self.status is AgreementStatus.ISSUED and self.effective_on is not None


class AgreementParty(db.Model):
    """A party as it appears in an agreement: its responsibility and its signature."""

    __tablename__ = "agreement_parties"
    __table_args__ = (UniqueConstraint("agreement_id", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"),
                                              index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id", ondelete="RESTRICT"),
                                          index=True)
    position: Mapped[int] = mapped_column(default=0)
    responsibility: Mapped[str] = mapped_column(Text, default="")
    signed_on: Mapped[date | None]
    sign_method: Mapped[SignMethod | None] = mapped_column(
        enum_column(SignMethod, name="sign_method"))

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    party: Mapped[Party] = relationship()


class Liability(TitledEnum):
    """How several obligors owe one term (Civil Code arts. 517–518)."""

    JOINT = "joint"  # 连带: each owes the whole
    SEVERAL = "several"  # 按份: each owes its share

    @classmethod
    def __titles__(cls):
        return {cls.JOINT: _l("Jointly (each liable for the whole)"),
                cls.SEVERAL: _l("By shares (each liable for its share)")}


class TermSide(TitledEnum):
    OBLIGOR = "obligor"  # 义务人
    OBLIGEE = "obligee"  # 权利人


class Term(db.Model):
    """One numbered term (一、二、三…): who owes whom what, how, where and by when."""

    __tablename__ = "agreement_terms"
    __table_args__ = (
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"),
                                              index=True)
    position: Mapped[int] = mapped_column(default=0)
    content: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Set when the term has several obligors, None with one.
    liability: Mapped[Liability | None] = mapped_column(enum_column(Liability, name="liability"))
    method: Mapped[str | None] = mapped_column(String(120))
    place: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None]
    # Performance (履行情况), tracked after issue.
    performed_on: Mapped[date | None]
    on_the_spot: Mapped[bool] = mapped_column(default=False)
    overdue_since: Mapped[date | None]

    agreement: Mapped[Agreement] = relationship(back_populates="terms")
    bound: Mapped[list["TermParty"]] = relationship(
        back_populates="term", order_by="TermParty.position", cascade="all, delete-orphan")
    instalments: Mapped[list["Instalment"]] = relationship(
        back_populates="term", order_by="Instalment.due_on", cascade="all, delete-orphan")

    @property
    def obligor_links(self) -> list["TermParty"]:
        return [link for link in self.bound if link.side is TermSide.OBLIGOR]

    @property
    def obligors(self) -> list[Party]:
        return [link.party for link in self.obligor_links]

    @property
    def obligees(self) -> list[Party]:
        return [link.party for link in self.bound if link.side is TermSide.OBLIGEE]

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)

    @property
    def amount_capital(self) -> str:
        return rmb_capital(self.amount_fen) if self.amount_fen else ""


class TermParty(db.Model):
    """A party a term binds, as obligor or obligee; an obligor by shares owes its share.

    One row per party and term: a party is never on both sides of the same term.
    """

    __tablename__ = "agreement_term_parties"
    __table_args__ = (
        CheckConstraint("share_fen IS NULL OR (share_fen > 0 AND side = 'obligor')",
                        name="share_of_an_obligor"),
    )

    term_id: Mapped[int] = mapped_column(
        ForeignKey("agreement_terms.id", ondelete="CASCADE"), primary_key=True)
    party_id: Mapped[int] = mapped_column(
        ForeignKey("parties.id", ondelete="RESTRICT"), primary_key=True, index=True)
    side: Mapped[TermSide] = mapped_column(enum_column(TermSide, name="side"))
    position: Mapped[int] = mapped_column(default=0)
    share_fen: Mapped[int | None] = mapped_column(BigInteger)

    term: Mapped[Term] = relationship(back_populates="bound")
    party: Mapped[Party] = relationship()

    @property
    def share_yuan(self) -> str:
        return format_yuan(self.share_fen)


class Instalment(db.Model):
    """One instalment of a term paid in parts (分期履行)."""

    __tablename__ = "agreement_instalments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("agreement_terms.id", ondelete="CASCADE"),
                                         index=True)
    due_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date | None]

    term: Mapped[Term] = relationship(back_populates="instalments")

    @property
    def amount_yuan(self) -> str:
        return format_yuan(self.amount_fen)


class ConfirmationResult(TitledEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    NOT_ACCEPTED = "not_accepted"

    @classmethod
    def __titles__(cls):
        return {cls.PENDING: _l("Filed, awaiting the ruling"),
                cls.CONFIRMED: _l("Confirmed valid"),
                cls.DISMISSED: _l("Application dismissed"),
                cls.NOT_ACCEPTED: _l("Not accepted by the court")}


class JudicialConfirmation(db.Model):
    """The parties' joint application to a court (司法确认) and the court's ruling (裁定)."""

    __tablename__ = "judicial_confirmations"
    __table_args__ = (
        CheckConstraint("(result = 'pending') = (ruled_on IS NULL)", name="ruled_iff_decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="RESTRICT"),
                                              index=True)
    court_id: Mapped[int | None] = mapped_column(ForeignKey("courts.id", ondelete="RESTRICT"))
    court_name: Mapped[str] = mapped_column(String(120))
    filed_on: Mapped[date] = mapped_column(index=True)
    case_reference: Mapped[str | None] = mapped_column(String(80))
    result: Mapped[ConfirmationResult] = mapped_column(
        enum_column(ConfirmationResult, name="result"), default=ConfirmationResult.PENDING)
    ruling_number: Mapped[str | None] = mapped_column(String(80))
    ruled_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    agreement: Mapped[Agreement] = relationship(back_populates="confirmations")
    court: Mapped[Court | None] = relationship()
