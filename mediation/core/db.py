"""Declarative base, column types and the SQLite connection rules."""

import sqlite3
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import request
from sqlalchemy import DateTime, Engine, Enum, Integer, MetaData, any_, bindparam, event
from sqlalchemy.dialects.postgresql import ARRAY
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


@event.listens_for(Engine, "connect")
def _postgresql_on_connect(dbapi_connection, connection_record):
    """No JIT compilation: PostgreSQL compiles a query once its estimated cost passes
    jit_above_cost, which the statistics' aggregates over a city's year do — and compiling
    took 210 of the administrator's dashboard's 290 ms (the query itself runs in 24 ms).
    The app's queries are short: they never win the compilation back."""
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.commit()  # a session setting, kept whatever the first transaction does


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


# Indexes that only the migrations describe: PostgreSQL's GIN indexes for search
# (mediation/cases/search.py), whose expression and operator class the models cannot state for
# both databases, and the work queues' ordered and partial indexes on cases (migration
# b1a0d17a0017 and 0020), which alembic cannot compare. Comparisons of the models with the database
# leave them out.
MIGRATION_ONLY_INDEXES = frozenset({"ix_case_search_bigrams", "ix_case_search_trigrams",
                                    "ix_cases_queue_order", "ix_cases_open_queue_order",
                                    "ix_cases_open_grid", "ix_agreement_terms_overdue",
                                    "ix_cases_awaiting_grid", "ix_cases_proposals_grid",
                                    "ix_cases_handler_queue",
                                    # the statistics' (migration b1a0d17a0018)
                                    "ix_cases_handling", "ix_cases_grid_mediated",
                                    "ix_cases_grid_case", "ix_agreement_terms_due_on",
                                    "ix_agreement_instalments_due_on",
                                    "ix_agreements_in_force"})


# PostgreSQL's column of the search text's bigrams (mediation/cases/search.py).
MIGRATION_ONLY_COLUMNS = frozenset({("case_search", "bigrams")})


def include_object(obj, name, type_, _reflected, _compare_to) -> bool:
    """Alembic's filter for schema comparisons (autogenerate and the schema tests)."""
    if type_ == "column":
        return (obj.table.name, name) not in MIGRATION_ONLY_COLUMNS
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def in_ids(column, ids):
    """``column IN ids``: on PostgreSQL one array parameter (``= ANY``), so that thousands of
    ids bind and plan at once; elsewhere the usual list."""
    from mediation.extensions import db

    if db.engine.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)
