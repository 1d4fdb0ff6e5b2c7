"""Lists that stay fast at a city's size: a page reads its rows and one more, and a count
stops at a cap ("1,000+") instead of reading every matching row."""

from dataclasses import dataclass
from math import ceil

from flask_babel import format_decimal
from sqlalchemy import func, inspect, literal_column, select

from mediation.extensions import db

COUNT_CAP = 1000


@dataclass(frozen=True)
class Count:
    """A count of at most ``COUNT_CAP``, or the knowledge that there are more."""

    value: int
    exact: bool

    def __bool__(self) -> bool:
        return self.value > 0

    def __str__(self) -> str:
        return format_decimal(self.value) + ("" if self.exact else "+")


def capped_count(stmt, cap: int | None = None) -> Count:
    """How many rows ``stmt`` selects, reading at most ``cap`` (default ``COUNT_CAP``) + 1."""
    cap = COUNT_CAP if cap is None else cap
    # Only a 1 per row (keeping the statement's tables), and never more than cap + 1 rows.
    limited = (stmt.order_by(None)
               .with_only_columns(literal_column("1"), maintain_column_froms=True)
               .limit(cap + 1).subquery())
    n = db.session.scalar(select(func.count()).select_from(limited))
    return Count(min(n, cap), n <= cap)


class Page:
    """One page of ``stmt``'s rows (the pager's interface of Flask-SQLAlchemy's pagination).

    ``options`` are loader options for the rows shown (what each row displays, read for the
    whole page at once); ``total`` is the count when the caller has already read it."""

    def __init__(self, stmt, page: int, per_page: int, *, options=(), total: Count | None = None):
        self.page, self.per_page = max(page, 1), per_page
        rows = _rows(stmt.limit(per_page + 1).offset((self.page - 1) * per_page), options)
        self.items = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_prev = self.page > 1
        self.prev_num, self.next_num = self.page - 1, self.page + 1
        self.total = total if total is not None else capped_count(stmt)
        self.pages = ceil(self.total.value / per_page) if self.total.exact else None


def _rows(stmt, options) -> list:
    """The rows of ``stmt`` (ordered and limited): the keys of its entity first, then the rows
    themselves by key, in the same statement (its joins and loader options kept).  The page's
    order is then found from indexes alone where the statement allows (a street's queue walks
    the queue-order index, testing the grid in it), and only the page's rows are read from
    the table: asked at once, a street's queue sorted all its open cases, every column."""
    entity = stmt.column_descriptions[0]["entity"]
    key = inspect(entity).primary_key if entity is not None else ()
    if len(key) != 1:
        return db.session.scalars(stmt.options(*options)).all()
    keys = db.session.scalars(stmt.with_only_columns(key[0], maintain_column_froms=True)).all()
    if not keys:
        return []
    found = {getattr(row, key[0].key): row for row in db.session.scalars(
        stmt.limit(None).offset(None).where(key[0].in_(keys)).options(*options))}
    return [found[k] for k in keys if k in found]  # (unless removed in between)
