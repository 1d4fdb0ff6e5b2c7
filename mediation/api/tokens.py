"""Creating, checking and revoking API tokens."""

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.api.models import ApiToken
from mediation.core import audit
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users.models import User

PREFIX = "mtk_"
MAX_DAYS = 730


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(by: User | None, user: User, name: str, days: int = 365) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise OperationError(_("Name the token after what uses it, e.g. 12345 hotline."),
                             field="name")
    if not 1 <= days <= MAX_DAYS:
        raise OperationError(_("A token is valid for 1 to %(max)d days.", max=MAX_DAYS),
                             field="days")
    if not user.active:
        raise OperationError(_("%(name)s's account is disabled.", name=user.full_name))
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name[:80], token_hash=_hash(secret), prefix=secret[:12],
                     created_by_id=by.id if by else None,
                     expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.create", token, actor=by,
                 after={"user": user.username, "name": token.name,
                        "expires_at": token.expires_at})
    return token, secret


def revoke_token(by: User | None, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoke", token, actor=by,
                     after={"user": token.user.username, "name": token.name})
        db.session.flush()


def find_token(secret: str) -> ApiToken | None:
    """The usable token with this secret, else None (unknown, expired, revoked, disabled)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.usable(utcnow()):
        return None
    return token


def tokens_of(user: User | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(stmt))
