"""Login sessions: server-side records behind Flask-Login, timeouts and revocation."""

import secrets
import time

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import and_, delete, or_, select, update

from mediation.core import crypto
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.users import two_factor
from mediation.users.models import User, UserSession, hash_token

# Endpoints a person who must change the password may still reach.
_OPEN_WHEN_PASSWORD_EXPIRED = {"users.change_password", "users.logout", "core.set_language",
                               "static"}
# And one whose role needs a second factor that is not set up yet (a login from before).
_OPEN_WHEN_SECOND_FACTOR_DUE = {"users.two_factor_setup", "users.two_factor_start",
                                "users.logout", "core.set_language", "static"}
_PENDING = "pending_login"
# The secret an account-page enrolment is setting up (the login's is in its pending note).
_ENROLMENT = "two_factor_enrolment"


def init_login_manager(login_manager) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_message = None


def load_user(token: str) -> User | None:
    """The user behind a session token, if that session is still valid."""
    row = db.session.execute(
        select(UserSession, User)
        .join(User, UserSession.user_id == User.id)
        .where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    if user_session.revoked_at is not None or not user.active:
        return None
    if utcnow() - user_session.created_at > current_app.config["SESSION_ABSOLUTE_TIMEOUT"]:
        return None
    user.session_token = token
    return user


def open_session(user: User) -> str:
    """Record a new login session for ``user`` and return its (secret) token."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(
        user=user,
        token_hash=hash_token(token),
        ip=request.remote_addr if request else None,
        user_agent=(request.user_agent.string or "")[:255] if request else None,
    ))
    user.session_token = token
    return token


def revoke_sessions(user: User, reason: str, *, token: str | None = None) -> None:
    """End one session (``token``) or all of the user's sessions, server-side."""
    stmt = (update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason))
    if token is not None:
        stmt = stmt.where(UserSession.token_hash == hash_token(token))
    db.session.execute(stmt)


def prune_sessions(before) -> int:
    """Forget logins that ended (revoked, or past the absolute timeout) before ``before``;
    the audit log keeps every login and logout."""
    expired = utcnow() - current_app.config["SESSION_ABSOLUTE_TIMEOUT"]
    ended = db.session.execute(delete(UserSession).where(
        or_(UserSession.revoked_at < before,
            and_(UserSession.revoked_at.is_(None), UserSession.created_at < expired,
                 UserSession.created_at < before))))
    return ended.rowcount


def begin_browser_session(user: User) -> None:
    """A fresh cookie session for a login (no fixation), keeping only the language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(user)
    session["seen"] = time.time()


def begin_second_step(user: User, target: str | None) -> None:
    """The password was right; until the second factor is given the cookie holds only this
    (a fresh session: no fixation), and no login session exists."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[_PENDING] = {"user": user.id, "at": time.time(), "next": target,
                         "password": user.password_changed_at.isoformat()}


def pending_login() -> tuple[User | None, str | None]:
    """The account whose login awaits its second factor, and where to go afterwards.

    None when there is none, when it has timed out, or when the account changed since
    (disabled, or a new password set).
    """
    pending = session.get(_PENDING)
    if not isinstance(pending, dict):
        return None, None
    timeout = current_app.config["LOGIN_SECOND_STEP_TIMEOUT"].total_seconds()
    if time.time() - pending.get("at", 0) > timeout:
        session.pop(_PENDING, None)
        return None, None
    user = db.session.get(User, pending.get("user"))
    if (user is None or not user.active
            or user.password_changed_at.isoformat() != pending.get("password")):
        session.pop(_PENDING, None)
        return None, None
    enrolled = pending.get("enrolled")
    if enrolled is not None and (user.totp_enabled_at is None
                                 or user.totp_enabled_at.isoformat() != enrolled
                                 or (user.last_login_at or user.totp_enabled_at)
                                 > user.totp_enabled_at):
        # The enrolment this cookie confirmed was replaced, or its login already made.
        session.pop(_PENDING, None)
        return None, None
    return user, pending.get("next")


def mark_enrolled(user: User) -> None:
    """The first code confirmed the app during the login: the login may finish, once."""
    pending = dict(session[_PENDING])
    pending.pop("secret", None)
    pending["enrolled"] = user.totp_enabled_at.isoformat()
    session[_PENDING] = pending


def enrolment_secret(user: User, *, in_login: bool) -> str | None:
    """The authenticator secret this browser is setting up for ``user``, if it began.

    It belongs to this attempt only (the login's pending note, or this login's cookie),
    never to the account, until a first code confirms it.  Encrypted: the cookie is only
    signed.
    """
    if in_login:
        note = session.get(_PENDING)
    else:
        note = session.get(_ENROLMENT)
        note = note if isinstance(note, dict) and note.get("user") == user.id else None
    stored = note.get("secret") if isinstance(note, dict) else None
    if not stored:
        return None
    try:
        return crypto.decrypt(stored)
    except crypto.InvalidToken:  # a key since retired: begin afresh
        return None


def keep_enrolment_secret(user: User, secret: str, *, in_login: bool) -> None:
    encrypted = crypto.encrypt(secret)
    if in_login:
        pending = dict(session[_PENDING])
        pending["secret"] = encrypted
        session[_PENDING] = pending
    else:
        session[_ENROLMENT] = {"user": user.id, "secret": encrypted}


def forget_enrolment_secret() -> None:
    session.pop(_ENROLMENT, None)


def is_enrolled_in_login() -> bool:
    return bool(session.get(_PENDING, {}).get("enrolled"))


def end_second_step() -> None:
    session.pop(_PENDING, None)


def end_browser_session() -> None:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang


def enforce_session_rules():
    """Before each request: idle timeout, the forced password change, then the second
    factor a role needs."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = time.time()
    seen = session.get("seen", 0)  # every login sets it; a cookie without it is stale
    idle = current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds()
    if now - seen > idle:
        # The login ends for good, not only in this cookie (a copy of it must not revive it).
        revoke_sessions(current_user, "idle", token=current_user.session_token)
        db.session.commit()
        end_browser_session()
        flash(_("You were logged out after a period of inactivity. Please log in again."),
              "warning")
        return redirect(url_for("users.login", next=request.full_path
                                if request.method == "GET" else None))
    session["seen"] = now
    if current_user.must_change_password:
        # The password rule decides alone while it applies; the second factor comes after.
        if request.endpoint in _OPEN_WHEN_PASSWORD_EXPIRED:
            return None
        flash(_("Please choose a new password before you continue."), "warning")
        return redirect(url_for("users.change_password"))
    if (not current_user.two_factor_enabled and two_factor.required_for(current_user)
            and request.endpoint not in _OPEN_WHEN_SECOND_FACTOR_DUE):
        flash(_("Your role signs in with a second factor: set it up before you continue."),
              "warning")
        return redirect(url_for("users.two_factor_setup"))
    return None
