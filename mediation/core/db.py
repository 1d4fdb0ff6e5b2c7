"""Declarative base, column types and the SQLite connection rules."""

import sqlite3
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import request
from sqlalchemy import DateTime, Engine, Enum, MetaData, event
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (called per row, never once at import)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware.

    SQLite keeps no offset, so values are normalised to naive UTC on the way in
    and marked UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls, length: int = 20, *, name: str | None = None):
    """Enums stored as their value in a VARCHAR with a CHECK (portable, easy to extend).

    ``name`` names the CHECK constraint; give the column's name when a table has two
    columns of the same enum (PostgreSQL needs distinct constraint names).
    """
    return Enum(enum_cls, native_enum=False, length=length, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], validate_strings=True,
                name=name or enum_cls.__name__.lower())


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime})


# SQLite: a transaction that reads and later writes fails with "database is locked"
# when another writer got in between, whatever the busy timeout.  Write transactions
# therefore begin IMMEDIATE (taking the write lock up front, so writers queue);
# read-only requests (GET/HEAD/OPTIONS) begin DEFERRED so readers never wait.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def declare_write_intent() -> None:
    """Per request: only methods that may change state take the write lock."""
    write_intent.set(request.method not in SAFE_METHODS)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 15000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
