"""How many wrong case-number/access-code pairs a client may try (查询限流).

Two counts, in the limiter's shared storage (the app's database by default, Redis when
configured: every gunicorn worker and app server sees the same numbers): per client
address, and per case number whether that case exists or not (a count only known
numbers had would tell which numbers exist).  Only failures count: each attempt reserves
one in both, and the right pair gives them back.  While either is used up, every pair is
refused, the right one too.
"""

import hashlib
import math
import time
import unicodedata

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from mediation.cases.models import Party
from mediation.extensions import db, limiter
from mediation.portal import codes

SCOPE = "portal-status"


def fold(case_number: str) -> str:
    """A case number as typed on a phone (full-width, lower case, spaces) as it is stored."""
    return unicodedata.normalize("NFKC", case_number or "").strip().upper()


def case_key(case_number: str) -> str:
    """The case number as typed, folded the way the lookup folds it, hashed to a short key."""
    return hashlib.sha256(fold(case_number).encode("utf-8")).hexdigest()[:24]


def _counts(case_number: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
    address = (prefix, SCOPE, "address", get_remote_address() or "unknown")
    number = (prefix, SCOPE, "case", case_key(case_number))
    return [(item, address) for item in parse_many(config["PORTAL_ADDRESS_RATE_LIMIT"])] + \
        [(item, number) for item in parse_many(config["PORTAL_CASE_RATE_LIMIT"])]


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


class Attempt:
    """One try at a pair: ``refused`` (seconds to wait) if a count is used up, else reserved."""

    def __init__(self, case_number: str):
        self.counts = _counts(case_number) if _enabled() else []
        self.reserved: list[tuple[RateLimitItem, tuple[str, ...]]] = []
        self.retry_after = 0
        # SQLite: the counts are written on a connection of their own, which would wait
        # for the write lock a POST's session takes on its first query (loading a signed-in
        # user); nothing has been changed yet, so end that transaction first.
        db.session.rollback()
        if not self.counts:
            return
        strategy = limiter.limiter
        if any(not strategy.test(item, *ids) for item, ids in self.counts):
            self._refuse()
            return
        for item, ids in self.counts:
            self.reserved.append((item, ids))
            if not strategy.hit(item, *ids):  # another worker took the last one meanwhile
                self.give_back()
                self._refuse()
                return

    def _refuse(self) -> None:
        strategy = limiter.limiter
        resets = [strategy.get_window_stats(item, *ids).reset_time
                  for item, ids in self.counts if not strategy.test(item, *ids)]
        self.retry_after = max(1, math.ceil(max(resets, default=time.time() + 60) - time.time()))

    @property
    def refused(self) -> bool:
        return self.retry_after > 0

    def give_back(self) -> None:
        """The pair was right: it is no failure (the request's transaction ends first)."""
        db.session.rollback()
        for item, ids in self.reserved:
            limiter.storage.incr(item.key_for(*ids), item.get_expiry(), amount=-1)
        self.reserved = []


def party_for(case_number: str, code: str) -> tuple[Party | None, int]:
    """The party a case number and access code open, the try counted: ``(party, 0)`` for
    the right pair (no failure), ``(None, 0)`` for a wrong code and an unknown number
    alike (the same work: one query), ``(None, seconds to wait)`` while refused.

    The request's transaction has ended either way; the party comes from a new one.
    """
    number = fold(case_number)
    attempt = Attempt(number)
    if attempt.refused:
        return None, attempt.retry_after
    party = codes.party_for(number, code)
    if party is None:
        db.session.rollback()
        return None, 0
    party_id = party.id
    attempt.give_back()
    return db.session.get(Party, party_id), 0
