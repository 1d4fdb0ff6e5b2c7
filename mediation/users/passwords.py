"""Password hashing (argon2id) and the password policy."""

from functools import cache

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from zxcvbn import zxcvbn


@cache
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    # Verified against when the username is unknown, so both paths take the same time.
    return hasher, hasher.hash("not-a-real-password-but-the-same-cost")


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the library's defaults, unless the config lowers them (tests only)."""
    config = current_app.config
    return _hasher_for(config.get("ARGON2_TIME_COST", DEFAULT_TIME_COST),
                       config.get("ARGON2_MEMORY_COST", DEFAULT_MEMORY_COST))


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        return hasher.verify(password_hash or dummy, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


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
