"""The verbs on accounts.  They change objects, write the audit entry and flush; callers commit."""

import hashlib
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from mediation.areas.models import AreaNode, Committee
from mediation.core import audit
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users import auth
from mediation.users.models import User
from mediation.users.passwords import (
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
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


def check_password_policy(password: str, *, username: str, full_name: str) -> None:
    problems = password_problems(password, user_inputs=[username, full_name])
    if problems:
        raise OperationError(" ".join(problems), field="password")


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


def attempt_login(username: str, password: str) -> LoginResult:
    """Check a login; count failures, lock after too many, open a session on success.

    Until the password is right, every refusal reads the same, so the page does not tell
    which usernames exist or are locked.  Attempts are logged as by "anonymous".
    """
    user = find_user(username, for_update=True)  # concurrent failures count under a lock
    now = utcnow()
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
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(None, _("This account is locked after too many failed logins. "
                                   "Try again in %(minutes)d minutes or ask an administrator.",
                                   minutes=minutes))
    if not correct:
        user.failed_logins += 1
        audit.record("login_failed", user, actor_name=ANONYMOUS,
                     note=f"failure {user.failed_logins}")
        if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
            user.locked_until = now + current_app.config["LOGIN_LOCKOUT"]
            user.failed_logins = 0
            audit.record("account_locked", user, actor_name=ANONYMOUS,
                         after={"locked_until": user.locked_until})
        return LoginResult(None, wrong)
    if not user.active:
        audit.record("login_refused_disabled", user, actor_name=ANONYMOUS)
        return LoginResult(None, _("This account is disabled. Ask an administrator."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    auth.open_session(user)
    audit.record("login", user, actor=user)
    return LoginResult(user)


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
    check_password_policy(new_password, username=user.username, full_name=user.full_name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
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
                email=email or None, password_hash=hash_password(password),
                must_change_password=must_change_password, areas=list(areas),
                committees=list(committees))
    db.session.add(user)
    db.session.flush()
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
        user.failed_logins = 0
        user.locked_until = None
    audit.record("user.enable" if active else "user.disable", user, actor=by,
                 before={"active": not active}, after={"active": active})


def reset_password(by: User | None, user: User, new_password: str, *,
                   must_change: bool = True) -> None:
    """An administrator sets a temporary password; the user must change it at next login."""
    check_password_policy(new_password, username=user.username, full_name=user.full_name)
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
    auth.revoke_sessions(user, "password_reset")
    audit.record("user.password_reset", user, actor=by)


def unlock(by: User, user: User) -> None:
    """Lift a lockout before it runs out."""
    if not user.is_locked:
        return
    before = {"locked_until": user.locked_until}
    user.failed_logins = 0
    user.locked_until = None
    audit.record("user.unlock", user, actor=by, before=before, after={"locked_until": None})
