"""Accounts (账户), their jurisdiction, and server-side login sessions."""

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.areas.models import AreaNode, Committee
from mediation.core.db import enum_column, utcnow
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.users.roles import GLOBAL_SCOPE_ROLES, PERMISSIONS, Role

user_areas = Table(
    "user_areas",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("area_nodes.id", ondelete="RESTRICT"), primary_key=True,
           index=True),
)

user_committees = Table(
    "user_committees",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("committee_id", ForeignKey("committees.id", ondelete="RESTRICT"), primary_key=True,
           index=True),
)


class User(UserMixin, db.Model):
    """A person who logs in: staff, grid workers, volunteers and administrators."""

    __tablename__ = "users"
    # Logins ignore case, so "Mediator" and "mediator" must not both exist.
    __table_args__ = (Index("uq_users_username_lower", func.lower(text("username")),
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Lockouts since the last successful login: each lasts twice the one before.
    lockouts: Mapped[int] = mapped_column(default=0, server_default="0")
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Two-factor sign-in (双因素登录): the TOTP secret, encrypted like the ID numbers; it
    # counts once confirmed by a first code.  ``totp_last_step`` is the time step of the
    # last code accepted: a code of that step or an earlier one is never taken again.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    areas: Mapped[list[AreaNode]] = relationship(secondary=user_areas, order_by=AreaNode.code)
    committees: Mapped[list[Committee]] = relationship(secondary=user_committees,
                                                       order_by=Committee.name)
    sessions: Mapped[list["UserSession"]] = relationship(back_populates="user",
                                                         passive_deletes=True)
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(
        back_populates="user", passive_deletes=True, order_by="RecoveryCode.id")

    # The token of the login session this request runs under (set by the user loader).
    session_token = None

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"

    def get_id(self) -> str | None:
        """Flask-Login keeps the session token, not the user id, so a session can be revoked."""
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def unused_recovery_codes(self) -> int:
        return sum(1 for code in self.recovery_codes if code.used_at is None)

    @property
    def has_global_scope(self) -> bool:
        return self.role in GLOBAL_SCOPE_ROLES

    @property
    def jurisdiction_nodes(self) -> list[AreaNode]:
        """The area nodes this account is attached to, directly or through its committees."""
        nodes = {node.id: node for node in self.areas}
        for committee in self.committees:
            if not committee.active:
                continue  # a dissolved committee grants nothing
            nodes.setdefault(committee.area.id, committee.area)
        return sorted(nodes.values(), key=lambda n: n.path)

    @property
    def jurisdiction_paths(self) -> list[str]:
        return [node.path for node in self.jurisdiction_nodes]

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class UserSession(db.Model):
    """One login.  The cookie carries only its token; revoking the row ends the login."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="sessions")

    @property
    def reason_title(self):
        return REVOKE_REASONS.get(self.revoked_reason, self.revoked_reason)


REVOKE_REASONS = {
    "logout": _l("logged out"),
    "idle": _l("inactive too long"),
    "password_changed": _l("password changed"),
    "password_reset": _l("password reset by an administrator"),
    "disabled": _l("account disabled"),
    "rescoped": _l("role or jurisdiction changed"),
    "two_factor_reset": _l("second factor reset by an administrator"),
}


class RecoveryCode(db.Model):
    """A one-time code (恢复码) that stands in for the authenticator app once; only its
    SHA-256 is kept (the codes are random, so a slow hash adds nothing)."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class PasswordHistory(db.Model):
    """The hashes of an account's recent passwords, so an old one is not chosen again."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
