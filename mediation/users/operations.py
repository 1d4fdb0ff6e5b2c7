"""The verbs on accounts.  They change objects, write the audit entry and flush; callers commit."""

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from mediation.areas.models import AreaNode, Committee
from mediation.core import audit, crypto
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users import auth, two_factor
from mediation.users.models import PasswordHistory, RecoveryCode, User
from mediation.users.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
    weak_words,
)
from mediation.users.roles import SCOPE_RULES, Role

ANONYMOUS = "anonymous"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")

AUDITED_FIELDS = ["username", "full_name", "role", "phone", "email", "active",
                  "must_change_password"]


def _user_snapshot(user: User) -> dict:
    data = audit.snapshot(user, AUDITED_FIELDS)
    data["areas"] = sorted(node.code for node in user.areas)
    data["committees"] = sorted(c.short_name for c in user.committees)
    return data


def find_user(username: str, *, for_update: bool = False) -> User | None:
    """The account with this username, whatever its case; ``for_update`` locks the row."""
    stmt = select(User).where(func.lower(User.username) == username.strip().lower())
    if for_update:
        stmt = stmt.with_for_update()
    return db.session.scalar(stmt)


def check_password_policy(password: str, *, username: str, full_name: str,
                          user: User | None = None) -> None:
    """The policy, and for an existing account: none of its last passwords again."""
    problems = password_problems(password, user_inputs=[username, full_name],
                                 weak=weak_words())
    if problems:
        raise OperationError(" ".join(problems), field="password")
    if user is not None and _used_recently(user, password):
        raise OperationError(
            _("This password was used recently. Choose one that differs from your last "
              "%(n)d passwords.", n=current_app.config["PASSWORD_HISTORY"]),
            field="password")


def _recent_password_hashes(user: User) -> list[str]:
    kept = current_app.config["PASSWORD_HISTORY"]
    stored = db.session.scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(kept)).all()
    return [user.password_hash, *stored]


def _used_recently(user: User, password: str) -> bool:
    return any(verify_password(hashed, password) for hashed in set(_recent_password_hashes(user)))


def _set_password(user: User, password: str) -> None:
    """Hash and keep the new password; the history keeps the last PASSWORD_HISTORY of them."""
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    db.session.flush()
    older = (select(PasswordHistory.id).where(PasswordHistory.user_id == user.id)
             .order_by(PasswordHistory.id.desc()).offset(current_app.config["PASSWORD_HISTORY"]))
    db.session.execute(delete(PasswordHistory).where(PasswordHistory.id.in_(older)))


def check_jurisdiction(role: Role, areas: list[AreaNode], committees: list[Committee]) -> None:
    """The attachments must suit the role (SCOPE_RULES)."""
    rule = SCOPE_RULES[role]
    wrong = [a for a in areas if a.kind not in rule["area_kinds"]]
    if wrong:
        allowed = "、".join(str(k.title) for k in rule["area_kinds"]) or _("none")
        raise OperationError(
            _("Accounts with the role %(role)s cannot be attached to %(areas)s; allowed area "
              "types: %(allowed)s.",
              role=role.title, areas="、".join(a.display_name for a in wrong), allowed=allowed),
            field="area_codes",
        )
    if committees and not rule["committees"]:
        raise OperationError(_("Accounts with the role %(role)s are not attached to "
                               "committees.", role=role.title),
                             field="committee_names")
    if rule["required"] and not areas and not committees:
        raise OperationError(
            _("Accounts with the role %(role)s need a jurisdiction: attach at least one area "
              "or committee.",
              role=role.title),
            field="area_codes",
        )


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    # The password was right but the second factor is still due: "verify" (give a code)
    # or "enrol" (set up the authenticator app first).  No session is open yet.
    second_factor: str | None = None


def attempt_login(username: str, password: str) -> LoginResult:
    """Check a login; count failures, lock after too many, open a session on success.

    Until the password is right, every refusal reads the same, so the page does not tell
    which usernames exist or are locked.  Attempts are logged as by "anonymous".  An account
    that signs in with two factors gets no session here: the code is still due, and the
    failure count stands until it is given.
    """
    user = find_user(username, for_update=True)  # concurrent failures count under a lock
    correct = verify_password(user.password_hash if user else None, password)
    wrong = _("Wrong username or password.")
    if user is None:
        fingerprint = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:12]
        audit.record("login_failed", object_type="User", actor_name=ANONYMOUS,
                     note=f"unknown username #{fingerprint}")
        return LoginResult(None, wrong)
    if user.is_locked:
        audit.record("login_refused_locked", user, actor_name=ANONYMOUS)
        if not correct:
            return LoginResult(None, wrong)
        return LoginResult(None, _locked_message(user))
    if not correct:
        user.failed_logins += 1
        audit.record("login_failed", user, actor_name=ANONYMOUS,
                     note=f"failure {user.failed_logins}")
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            _lock(user)
        return LoginResult(None, wrong)
    if not user.active:
        audit.record("login_refused_disabled", user, actor_name=ANONYMOUS)
        return LoginResult(None, _("This account is disabled. Ask an administrator."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.two_factor_enabled:
        return LoginResult(user, second_factor="verify")
    if two_factor.required_for(user):
        return LoginResult(user, second_factor="enrol")
    complete_login(user)
    return LoginResult(user)


def complete_login(user: User, *, note: str | None = None) -> None:
    """Every factor is given: clear the failures and open the login session."""
    user.failed_logins = user.lockouts = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    auth.open_session(user)
    audit.record("login", user, actor=user, note=note)


def _lock_row(user: User) -> User:
    """The account re-read under a row lock, so two codes sent at once are judged in turn."""
    return db.session.get(User, user.id, with_for_update=True, populate_existing=True)


def verify_second_factor(user: User, code: str) -> LoginResult:
    """The login's second step: a code from the app (each time step once) or a recovery code.

    A wrong code counts towards the lockout like a wrong password.
    """
    user = _lock_row(user)
    if user.is_locked:
        audit.record("login_refused_locked", user, actor_name=ANONYMOUS)
        return LoginResult(None, _locked_message(user))
    if not user.active or not user.two_factor_enabled:
        return LoginResult(None, _("Please log in again."))
    step = two_factor.matching_step(crypto.decrypt(user.totp_secret_encrypted), code,
                                    after=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        complete_login(user, note="authenticator app")
        return LoginResult(user)
    recovery = None if two_factor.is_totp_code(code) else db.session.scalar(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == two_factor.hash_recovery_code(code),
                                   RecoveryCode.used_at.is_(None)))
    if recovery is not None:
        recovery.used_at = utcnow()
        left = user.unused_recovery_codes
        audit.record("two_factor.recovery_code_used", user, actor=user,
                     note=f"{left} recovery codes left")
        complete_login(user, note="recovery code")
        return LoginResult(user)
    user.failed_logins += 1
    audit.record("login_failed", user, actor_name=ANONYMOUS,
                 note=f"wrong second-factor code, failure {user.failed_logins}")
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        _lock(user)
        return LoginResult(None, _locked_message(user))
    return LoginResult(None, _("The code is not correct, or it was used already. Enter the "
                               "current code from your authenticator app, or one of your "
                               "recovery codes."))


def _lock(user: User) -> None:
    """Lock the account after too many failures, each lockout since the last successful
    login twice as long as the one before (up to LOGIN_LOCKOUT_MAX): someone who holds the
    password cannot go on guessing codes at five per quarter hour for ever."""
    lockout = current_app.config["LOGIN_LOCKOUT"] * 2 ** min(user.lockouts, 16)
    user.locked_until = utcnow() + min(lockout, current_app.config["LOGIN_LOCKOUT_MAX"])
    user.lockouts += 1
    user.failed_logins = 0
    audit.record("account_locked", user, actor_name=ANONYMOUS,
                 after={"locked_until": user.locked_until, "lockouts": user.lockouts})


def _locked_message(user: User) -> str:
    minutes = max(1, int((user.locked_until - utcnow()).total_seconds() // 60) + 1)
    return _("This account is locked after too many failed logins. Try again in %(minutes)d "
             "minutes or ask an administrator.", minutes=minutes)


def start_enrolment(user: User) -> str:
    """A fresh secret for the authenticator app, for this one attempt at setting it up.

    Nothing is stored on the account: the caller keeps the secret (encrypted) in that
    browser's session until a first code confirms it, so a person who only saw a key
    (someone else holding the password, say) cannot later share the owner's factor.
    """
    if user.two_factor_enabled:
        raise OperationError(_("Two-factor sign-in is already set up for this account."))
    return two_factor.new_secret()


def confirm_enrolment(user: User, secret: str, code: str) -> list[str]:
    """The first code proves the app holds ``secret``: it becomes the account's second
    factor, and two-factor sign-in is on.

    Returns the ten recovery codes, to be shown once; only their hashes are kept.
    Refused when the account set up a factor meanwhile (in another browser).
    """
    user = _lock_row(user)
    if user.two_factor_enabled:
        raise OperationError(_("Two-factor sign-in is already set up for this account."))
    step = two_factor.matching_step(secret, code, after=None)
    if step is None:
        raise OperationError(_("The code is not correct. Check that the app shows the account "
                               "you just added and enter its current six-digit code."),
                             field="code")
    user.totp_secret_encrypted = crypto.encrypt(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    audit.record("two_factor.enrol", user, actor=user)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = two_factor.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=two_factor.hash_recovery_code(c))
                       for c in codes)
    db.session.flush()
    db.session.expire(user, ["recovery_codes"])
    return codes


def _check_current_password(user: User, password: str) -> None:
    if not verify_password(user.password_hash, password):
        raise OperationError(_("The current password is not correct."), field="password")


def renew_recovery_codes(user: User, password: str) -> list[str]:
    """Ten new recovery codes; the old ones stop working."""
    _check_current_password(user, password)
    if not user.two_factor_enabled:
        raise OperationError(_("Two-factor sign-in is not set up for this account."))
    codes = _new_recovery_codes(user)
    audit.record("two_factor.recovery_codes_renewed", user, actor=user)
    return codes


def _clear_two_factor(user: User) -> None:
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.expire(user, ["recovery_codes"])


def disable_two_factor(user: User, password: str) -> None:
    """The person switches the second factor off (only where their role does not need it)."""
    if two_factor.required_for(user):
        raise OperationError(_("Accounts with the role %(role)s must sign in with a second "
                               "factor; it cannot be switched off.", role=user.role.title))
    _check_current_password(user, password)
    if not user.two_factor_enabled:
        raise OperationError(_("Two-factor sign-in is not set up for this account."))
    _clear_two_factor(user)
    audit.record("two_factor.disable", user, actor=user)


def reset_two_factor(by: User | None, user: User) -> None:
    """An administrator (or ``flask reset-two-factor``, ``by`` None) clears a colleague's
    second factor (a lost phone): the colleague's logins end, and they set it up again at
    their next login."""
    if by is not None and user.id == by.id:
        raise OperationError(_("You cannot reset your own second factor: ask another "
                               "administrator."))
    if not user.two_factor_enabled:
        raise OperationError(_("%(name)s has not set up two-factor sign-in.",
                               name=user.username))
    before = {"two_factor_enabled": user.two_factor_enabled}
    _clear_two_factor(user)
    auth.revoke_sessions(user, "two_factor_reset")
    audit.record("user.two_factor_reset", user, actor=by, before=before,
                 after={"two_factor_enabled": False})


def logout(user: User) -> None:
    if user.session_token:
        auth.revoke_sessions(user, "logout", token=user.session_token)
    audit.record("logout", user, actor=user)


def change_password(user: User, current_password: str, new_password: str) -> str:
    """Set a new password, end every session of the user, and open a fresh one for this login."""
    if not verify_password(user.password_hash, current_password):
        raise OperationError(_("The current password is not correct."), field="current_password")
    if current_password == new_password:
        raise OperationError(_("The new password must differ from the current one."),
                             field="password")
    check_password_policy(new_password, username=user.username, full_name=user.full_name,
                          user=user)
    _set_password(user, new_password)
    user.must_change_password = False
    auth.revoke_sessions(user, "password_changed")
    token = auth.open_session(user)
    audit.record("password_changed", user, actor=user)
    return token


def create_user(by: User | None, *, username: str, full_name: str, role: Role, password: str,
                phone: str | None = None, email: str | None = None,
                areas: list[AreaNode] = (), committees: list[Committee] = (),
                must_change_password: bool = True) -> User:
    username = username.strip()
    if not USERNAME_PATTERN.match(username):
        raise OperationError(_("A username has 2–40 letters, digits, dots, dashes or "
                               "underscores."), field="username")
    full_name = full_name.strip()
    if not full_name or len(full_name) > 60:
        raise OperationError(_("Give the person's full name (at most 60 characters)."),
                             field="full_name")
    if find_user(username):
        raise OperationError(_("The username %(name)s is already taken.", name=username),
                             field="username")
    check_password_policy(password, username=username, full_name=full_name)
    check_jurisdiction(role, list(areas), list(committees))
    user = User(username=username, full_name=full_name.strip(), role=role, phone=phone or None,
                email=email or None, password_hash="", must_change_password=must_change_password,
                areas=list(areas), committees=list(committees))
    db.session.add(user)
    db.session.flush()
    _set_password(user, password)
    audit.record("user.create", user, actor=by, after=_user_snapshot(user))
    return user


def update_user(by: User, user: User, *, full_name: str, role: Role, phone: str | None,
                email: str | None, areas: list[AreaNode], committees: list[Committee]) -> None:
    """Edit details and re-scope; a change of role or jurisdiction ends the user's sessions."""
    check_jurisdiction(role, areas, committees)
    if user.id == by.id and role != user.role:
        raise OperationError(_("You cannot change your own role."), field="role")
    before = _user_snapshot(user)
    rescoped = (role != user.role or {a.id for a in areas} != {a.id for a in user.areas}
                or {c.id for c in committees} != {c.id for c in user.committees})
    user.full_name = full_name.strip()
    user.role = role
    user.phone = phone or None
    user.email = email or None
    user.areas = list(areas)
    user.committees = list(committees)
    after = _user_snapshot(user)
    if before == after:
        return
    if rescoped:
        auth.revoke_sessions(user, "rescoped")
    audit.record("user.update", user, actor=by, before=before, after=after)


def set_active(by: User, user: User, active: bool) -> None:
    if user.id == by.id and not active:
        raise OperationError(_("You cannot disable your own account."))
    if user.active == active:
        return
    user.active = active
    if not active:
        auth.revoke_sessions(user, "disabled")
    else:
        user.failed_logins = user.lockouts = 0
        user.locked_until = None
    audit.record("user.enable" if active else "user.disable", user, actor=by,
                 before={"active": not active}, after={"active": active})


def reset_password(by: User | None, user: User, new_password: str, *,
                   must_change: bool = True) -> None:
    """An administrator sets a temporary password; the user must change it at next login."""
    check_password_policy(new_password, username=user.username, full_name=user.full_name,
                          user=user)
    _set_password(user, new_password)
    user.must_change_password = must_change
    user.failed_logins = user.lockouts = 0
    user.locked_until = None
    auth.revoke_sessions(user, "password_reset")
    audit.record("user.password_reset", user, actor=by)


def unlock(by: User, user: User) -> None:
    """Lift a lockout before it runs out."""
    if not user.is_locked:
        return
    before = {"locked_until": user.locked_until}
    user.failed_logins = user.lockouts = 0
    user.locked_until = None
    audit.record("user.unlock", user, actor=by, before=before, after={"locked_until": None})
