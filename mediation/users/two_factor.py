"""Two-factor sign-in (双因素登录): TOTP codes (RFC 6238) from an authenticator app, and
one-time recovery codes for when the phone is lost.

Only the pieces that need no database live here; the verbs are in ``operations``.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app

STEP_SECONDS = 30
# A code of the previous or the next time step is taken too: phone clocks drift.
ALLOWED_DRIFT = 1
RECOVERY_CODES = 10
# No 0/o, 1/l/i: the codes are read off paper and typed by hand.
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_RECOVERY_LENGTH = 12  # 12 of 31 characters: about 59 bits


def required_for(user) -> bool:
    """Whether the account's role must sign in with a second factor (TWO_FACTOR_ROLES)."""
    return user.role.value in current_app.config["TWO_FACTOR_ROLES"]


def new_secret() -> str:
    """A random base32 secret of 160 bits (the size RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, username: str) -> str:
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_data_uri(secret: str, username: str) -> str:
    """The enrolment QR code as a ``data:`` SVG image (the CSP allows data: images only)."""
    return segno.make(provisioning_uri(secret, username), error="m").svg_data_uri(scale=5)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, *, after: int | None,
                  now: float | None = None) -> int | None:
    """The time step whose code ``code`` is, if it is within the allowed drift and later
    than ``after`` (the step last accepted: a code is good once); else None."""
    code = normalise_code(code)
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    step = current_step(now)
    for candidate in range(step - ALLOWED_DRIFT, step + ALLOWED_DRIFT + 1):
        if after is not None and candidate <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def normalise_code(code: str) -> str:
    """Spaces and dashes (as printed or as an app groups the digits) do not count."""
    return "".join((code or "").split()).replace("-", "").lower()


def is_totp_code(code: str) -> bool:
    code = normalise_code(code)
    return len(code) == 6 and code.isdigit()


def new_recovery_codes() -> list[str]:
    """Ten fresh codes, shown once as ``xxxx-xxxx-xxxx``."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("utf-8")).hexdigest()
