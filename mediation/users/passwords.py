"""Password hashing (argon2id) and the password policy."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-the-same-cost")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, user_inputs: list[str] = ()) -> list[str]:
    """Why ``password`` is refused (empty when it is acceptable)."""
    problems = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(_("The password must have at least %(n)d characters.", n=minimum))
    if len(password) > 256:
        problems.append(_("The password may have at most 256 characters."))
        return problems
    lowered = password.lower()
    for value in user_inputs:
        if value and len(value) >= 3 and value.lower() in lowered:
            problems.append(_("The password must not contain your username or name."))
            break
    # zxcvbn knows the common-password lists and keyboard/date/repeat patterns.
    result = zxcvbn(password, user_inputs=[v for v in user_inputs if v])
    # Made only of common passwords (e.g. woaini + 1314520) counts as common too.
    common = all(m.get("dictionary_name") == "passwords" for m in result["sequence"])
    if common:
        problems.append(_("This password is on the list of commonly used passwords."))
    elif result["score"] < 3:
        problems.append(_("This password is too easy to guess: avoid words, names, dates, "
                          "keyboard rows and repeats, or use a longer passphrase."))
    return problems
