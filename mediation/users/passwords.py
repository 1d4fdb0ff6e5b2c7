"""Password hashing (argon2id) and the password policy."""

from functools import cache

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from zxcvbn import zxcvbn

from mediation.areas.models import AreaNode
from mediation.extensions import db


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


# The product's own names (pinyin and English): the first words an attacker tries here.
PRODUCT_WORDS = ("tiaojie", "renmin", "renmintiaojie", "rmtj", "tiaojiewei", "tiaowei",
                 "jiufen", "mediation", "mediator", "peoplesmediation", "调解", "人民调解",
                 "调委会")
_AREA_SUFFIXES = ("街道", "区", "县", "市", "镇", "乡")


def weak_words() -> list[str]:
    """The product's names, the names and codes of the area tree's top two levels (the
    district and its streets, as stored), and the words configured in PASSWORD_WEAK_WORDS."""
    roots = select(AreaNode.id).where(AreaNode.parent_id.is_(None))
    rows = db.session.execute(select(AreaNode.name, AreaNode.code).where(
        or_(AreaNode.parent_id.is_(None), AreaNode.parent_id.in_(roots)))).all()
    words = [*PRODUCT_WORDS, *current_app.config["PASSWORD_WEAK_WORDS"]]
    for name, code in rows:
        words += [name, code]
        for suffix in _AREA_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                words.append(name.removesuffix(suffix))
                break
    return words


def password_problems(password: str, *, user_inputs: list[str] = (),
                      weak: list[str] = ()) -> list[str]:
    """Why ``password`` is refused (empty when it is acceptable).

    ``user_inputs`` are the person's own (username, name): never part of the password;
    ``weak`` are the product's and the city's words: they count as guessed at once.
    """
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
    words = [v for v in (*user_inputs, *weak) if v]
    result = zxcvbn(password, user_inputs=words)
    # Made only of common passwords (e.g. woaini + 1314520) counts as common too.
    common = all(m.get("dictionary_name") == "passwords" for m in result["sequence"])
    lowered_weak = {w.lower() for w in weak if w}
    used = [m["matched_word"] for m in result["sequence"]
            if m.get("dictionary_name") == "user_inputs" and m["matched_word"] in lowered_weak]
    if common:
        problems.append(_("This password is on the list of commonly used passwords."))
    elif used and result["score"] < 3:
        problems.append(_("This password is built on the name of the system, the city or one "
                          "of its areas (%(word)s): such words are among the first an attacker "
                          "tries. Choose a password that does not rest on them.",
                          word=used[0]))
    elif result["score"] < 3:
        problems.append(_("This password is too easy to guess: avoid words, names, dates, "
                          "keyboard rows and repeats, or use a longer passphrase."))
    return problems
