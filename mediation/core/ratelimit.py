"""Rate-limit counters kept where every worker and app server sees them.

Flask-Limiter counts through a ``limits`` storage named by RATELIMIT_STORAGE_URI:
``database://`` (the default) is the one below, in the app's own database; ``redis://…``
is Redis (REDIS_URL selects it too). A process's memory (``memory://``) would let each
gunicorn worker count alone: production refuses it as soon as more than one process
answers (``check_counts_are_shared``).
"""

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import request
from flask_babel import gettext as _
from limits.storage import Storage
from sqlalchemy import Connection, Row, String, case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from mediation.core.db import utcnow, write_intent
from mediation.extensions import db, limiter


class RateLimitCounter(db.Model):
    """The hits of one limit for one client in its current fixed window (限流计数)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(index=True)


_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@contextmanager
def own_connection(*, write: bool) -> Iterator[Connection]:
    """A connection of the app's engine, apart from the request's session: a hit is
    committed at once and stays counted when the request's transaction rolls back."""
    intent = write_intent.set(write)  # SQLite: BEGIN IMMEDIATE only to write
    try:
        with db.engine.begin() as connection:
            yield connection
    finally:
        write_intent.reset(intent)


class DatabaseStorage(Storage):
    """Fixed-window counters in the ``rate_limit_counters`` table, one atomic upsert a hit."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = utcnow()
        table = RateLimitCounter.__table__
        insert = _INSERT[db.engine.dialect.name](table).values(
            key=key, hits=amount, expires_at=now + timedelta(seconds=expiry))
        over = table.c.expires_at <= now  # the stored window has ended: a new one begins
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"hits": case((over, insert.excluded.hits),
                               else_=table.c.hits + insert.excluded.hits),
                  "expires_at": case((over, insert.excluded.expires_at),
                                     else_=table.c.expires_at)},
        ).returning(table.c.hits)
        with own_connection(write=True) as connection:
            return connection.execute(statement).scalar_one()

    def _live(self, key: str) -> Row | None:
        with own_connection(write=False) as connection:
            row = connection.execute(
                select(RateLimitCounter.hits, RateLimitCounter.expires_at)
                .where(RateLimitCounter.key == key)).first()
        return row if row is not None and row.expires_at > utcnow() else None

    def get(self, key: str) -> int:
        row = self._live(key)
        return row.hits if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._live(key)
        return row.expires_at.timestamp() if row else time.time()

    def check(self) -> bool:
        try:
            with own_connection(write=False) as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int:
        with own_connection(write=True) as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with own_connection(write=True) as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


# Storages whose counts live in one process's memory.
IN_PROCESS_SCHEMES = frozenset({"memory", "async+memory"})
# Redis is asked with a deadline: a Redis that hangs refuses the limited requests (500)
# rather than holding every worker.
REDIS_OPTIONS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


def counts_in_process(uri: str) -> bool:
    return uri.partition("://")[0].strip().lower() in IN_PROCESS_SCHEMES


def check_counts_are_shared(config: Mapping, *, workers: int | None = None) -> None:
    """In production, refuse limits that each process would count alone: with N workers or
    app servers a client would get N times the logins the limit allows (and more at each
    restart). ``workers`` is what the server started, when it knows better than the config.
    """
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "")
    if config.get("ENV_NAME") != "production" or not counts_in_process(uri):
        return
    workers = int(config.get("WORKERS") or 1) if workers is None else workers
    servers = int(config.get("APP_SERVERS") or 1)
    if workers > 1 or servers > 1:
        raise RuntimeError(
            f"RATELIMIT_STORAGE_URI is {uri!r}, a process's own memory, but "
            f"{_count(workers, 'worker')} on each of {_count(servers, 'app server')} answer "
            "requests: each would count logins, verification lookups and API calls alone, "
            "and the limits would not hold. "
            "Count them where every worker and server sees them: unset RATELIMIT_STORAGE_URI "
            "(database://, the app's own database) or set REDIS_URL (or "
            "RATELIMIT_STORAGE_URI=redis://HOST:6379/0) to the Redis all servers share.")


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" + ("" if n == 1 else "s")


def prune_counters(now: datetime) -> int:
    """Remove the counters of windows that have ended (``flask prune``); the caller commits."""
    result = db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))
    return result.rowcount


def limit_views(blueprint, limit_value, *endpoints: str, methods: list[str] | None = None,
                scope: str | None = None):
    """Limit some views of ``blueprint`` by one count they share (a login's password, code
    and enrolment steps), counted before the request reaches the database. Another
    ``scope`` gives other views of the same blueprint a count of their own.

    A view's own ``@limiter.limit`` is only checked once the view is called, after the
    request's session has loaded the user; on SQLite that session then holds the write
    lock, and the counter, written on a connection of its own, would wait for it. A
    blueprint's limits are checked first thing in the request.
    """
    limiter.shared_limit(limit_value, scope=scope or f"{blueprint.name}-limited",
                         methods=methods,
                         error_message=_refusal,
                         exempt_when=lambda: request.endpoint not in endpoints)(blueprint)


def _refusal() -> str:
    """The 429 page's message, in the reader's language (not the limit's "20 per 1 minute")."""
    return _("Please wait a moment and try again.")
