"""What the statistics keep counted, so that a page need not count a city's cases (统计汇总).

A year of a city holds hundreds of thousands of cases; counting them again for every page
would take seconds. Four small tables keep, by the definitions of mediation/stats/queries.py,
what the dashboard counts of them:

- ``stats_counts``: per month and per day (local dates; ``span`` says which) and community,
  the cases received, concluded by outcome, settled by level and escalated, and the ratings
  given: the dashboard's rows, its months and its satisfaction;
- ``stats_category_counts``: the same spans per street and category: received, concluded,
  settled, failed (its table by category);
- ``stats_open``: the open cases per community and the first day they are overdue (the
  day after their earlier deadline): open now and overdue now, whatever today is;
- ``stats_handling``: per month, district and concluding level, the mediated cases by
  whole days from report to outcome: which day holds the median and the 90th percentile,
  whose cases queries.handling_times then ranks exactly.

A period's whole months come from the monthly rows and the days at its ends from the daily
ones (queries.figures, by_month, by_category, satisfaction); a community's drill-down by
grid, and anyone whose jurisdiction is a grid, read the cases themselves.

Database triggers (migration b1a0d17a0018) keep the tables exact in the same transaction as
every write to a case, a level move on its timeline or a rating, however it is written (an
operation, the API, a script's UPDATE): each change subtracts the row's old contribution
and adds its new one with an upsert, so two writers' changes add up. A row may come to
count nothing (its one case moved elsewhere): it is left, harmless. ``rebuild`` makes the
tables again from the records (``flask stats-rebuild``; ``flask seed-scale`` calls it after
its bulk load, which runs without triggers).
"""

from datetime import date

from sqlalchemy import (
    Date,
    ForeignKey,
    String,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Mapped, aliased, mapped_column

from mediation.extensions import db

# The counts of ``stats_counts``: the dashboard's figures that count cases (not "open" and
# "overdue", today's), and the ratings by answer.
OUTCOME_COUNTS = ("concluded", "settled", "partly_settled", "settled_grid", "settled_community",
                  "settled_street", "failed", "withdrawn", "declined", "referred_out")
MOVE_COUNTS = ("escalated_grid_community", "escalated_community_street",
               "escalated_grid_street")
RATING_COUNTS = {"rated_satisfied": "satisfied", "rated_fairly_satisfied": "fairly_satisfied",
                 "rated_unsatisfied": "unsatisfied"}
COUNTS = ("received", *OUTCOME_COUNTS, *MOVE_COUNTS, *RATING_COUNTS)
CATEGORY_COUNTS = ("received", "concluded", "settled", "failed")
SPANS = ("month", "day")
# The overdue day of an open case without deadlines: never.
NEVER = date(9999, 12, 31)


def _count() -> Mapped[int]:
    return mapped_column(default=0, server_default=text("0"))


class StatsCount(db.Model):
    """One community's counts in one month (``start`` its first day) or day."""

    __tablename__ = "stats_counts"

    span: Mapped[str] = mapped_column(String(5), primary_key=True)
    start: Mapped[date] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="CASCADE"), primary_key=True)
    received: Mapped[int] = _count()
    concluded: Mapped[int] = _count()
    settled: Mapped[int] = _count()
    partly_settled: Mapped[int] = _count()
    settled_grid: Mapped[int] = _count()
    settled_community: Mapped[int] = _count()
    settled_street: Mapped[int] = _count()
    failed: Mapped[int] = _count()
    withdrawn: Mapped[int] = _count()
    declined: Mapped[int] = _count()
    referred_out: Mapped[int] = _count()
    escalated_grid_community: Mapped[int] = _count()
    escalated_community_street: Mapped[int] = _count()
    escalated_grid_street: Mapped[int] = _count()
    rated_satisfied: Mapped[int] = _count()
    rated_fairly_satisfied: Mapped[int] = _count()
    rated_unsatisfied: Mapped[int] = _count()


class StatsCategoryCount(db.Model):
    """One street's counts of one category in one month or day."""

    __tablename__ = "stats_category_counts"

    span: Mapped[str] = mapped_column(String(5), primary_key=True)
    start: Mapped[date] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    received: Mapped[int] = _count()
    concluded: Mapped[int] = _count()
    settled: Mapped[int] = _count()
    failed: Mapped[int] = _count()


class StatsOpen(db.Model):
    """One community's open cases that are overdue from ``overdue_from`` (NEVER: none)."""

    __tablename__ = "stats_open"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="CASCADE"), primary_key=True)
    overdue_from: Mapped[date] = mapped_column(primary_key=True)
    open: Mapped[int] = _count()


class StatsHandling(db.Model):
    """One district's cases mediated to an end in one month at one level, that took
    ``days`` whole days from report to outcome."""

    __tablename__ = "stats_handling"

    month: Mapped[date] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(
        ForeignKey("area_nodes.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cases: Mapped[int] = _count()


TABLES = (StatsCount, StatsCategoryCount, StatsOpen, StatsHandling)
TABLE_COUNTS = {StatsCount: COUNTS, StatsCategoryCount: CATEGORY_COUNTS,
                StatsOpen: ("open",), StatsHandling: ("cases",)}


# ---- the expressions the tables are keyed by, shared with the queries ---------------------

def local_start(span: str, column):
    """The local (Asia/Shanghai) day of a timestamp, or the first day of its month."""
    if db.engine.dialect.name == "postgresql":
        local = func.timezone(literal_column("'Asia/Shanghai'"), column)
        if span == "month":
            return func.date_trunc(literal_column("'month'"), local).cast(Date)
        return local.cast(Date)
    modifiers = [literal_column("'+8 hours'")]
    if span == "month":
        modifiers.append(literal_column("'start of month'"))
    return func.date(column, *modifiers, type_=Date)


def whole_days(first, then):
    """Whole days from ``first`` to ``then``: a row of ``stats_handling`` (the migration's
    index ix_cases_handling is on this very expression)."""
    if db.engine.dialect.name == "postgresql":
        return func.floor(func.extract("epoch", then - first)
                          / literal_column("86400")).cast(db.Integer)
    return (func.julianday(then) - func.julianday(first)).cast(db.Integer)


def overdue_from(level_deadline, overall_deadline):
    """The first day an open case counts as overdue: past its earlier deadline (NEVER:
    without deadlines)."""
    never = literal(NEVER, Date)
    if db.engine.dialect.name == "postgresql":
        return func.coalesce(func.least(level_deadline, overall_deadline), never)
    return func.coalesce(func.min(func.coalesce(level_deadline, overall_deadline),
                                  func.coalesce(overall_deadline, level_deadline)), never)


# ---- counting them again from the records ------------------------------------------------

class AllTime:
    """A period without ends, for the conditions of mediation/stats/queries.py: a case counts
    in the month of its timestamp, whenever that is."""

    @staticmethod
    def holds(column):
        return column.is_not(None)


def _contributions(table):
    """Every record's contribution to ``table``, by the conditions the dashboard counts with
    (``queries.FIGURES`` and its neighbours), one row each."""
    from mediation.areas.models import AreaNode
    from mediation.cases.models import Case, CaseEvent, EventKind
    from mediation.cases.states import OPEN_STATES
    from mediation.portal.models import Rating
    from mediation.stats.queries import (
        ESCALATIONS,
        FIGURES,
        MEDIATED,
        concluding_level,
    )

    community, street = aliased(AreaNode), aliased(AreaNode)
    AREA = object()  # noqa: N806 (where the area goes in a key)
    names = TABLE_COUNTS[table]
    ever = AllTime()

    def one_if(condition):
        return case((condition, 1), else_=0)

    def row(key: list, values: dict):
        """The select of one kind of contribution: ``key`` with AREA where the table's
        area goes (the grid's community; for categories its street; for handling times its
        district)."""
        statement = select().select_from(Case).join(AreaNode, AreaNode.id == Case.grid_id)
        area = func.coalesce(AreaNode.parent_id, AreaNode.id)
        if table is StatsCategoryCount or table is StatsHandling:
            statement = statement.join(community, community.id == AreaNode.parent_id) \
                .where(community.parent_id.is_not(None))
            area = community.parent_id
            if table is StatsHandling:
                statement = statement.join(street, street.id == community.parent_id) \
                    .where(street.parent_id.is_not(None))
                area = street.parent_id
        key = [area if value is AREA else value for value in key]
        return statement.add_columns(
            *(value.label(name) for value, name in zip(key, _key(table), strict=True)),
            *(values.get(name, literal(0)).label(name) for name in names))

    if table is StatsOpen:
        parts = [row([AREA, overdue_from(Case.level_deadline, Case.overall_deadline)],
                     {"open": literal(1)}).where(Case.state.in_(OPEN_STATES))]
    elif table is StatsHandling:
        parts = [row([local_start("month", Case.outcome_at), AREA, concluding_level(),
                      whole_days(Case.reported_at, Case.outcome_at)], {"cases": literal(1)})
                 .where(Case.outcome.in_(MEDIATED), Case.outcome_at.is_not(None))]
    else:
        parts = []
        category = [Case.category_id] if table is StatsCategoryCount else []
        for span in SPANS:
            parts += [
                row([literal(span), local_start(span, Case.reported_at), AREA, *category],
                    {"received": literal(1)}),
                row([literal(span), local_start(span, Case.outcome_at), AREA, *category],
                    {name: one_if(FIGURES[name](ever)) for name in names
                     if name in OUTCOME_COUNTS}).where(Case.outcome_at.is_not(None)),
            ]
            if table is StatsCount:
                parts.append(
                    row([literal(span), local_start(span, CaseEvent.at), AREA],
                        {name: one_if(and_(CaseEvent.from_level == first,
                                           CaseEvent.to_level == then))
                         for (first, then), name in ESCALATIONS.items()})
                    .join(CaseEvent, CaseEvent.case_id == Case.id)
                    .where(CaseEvent.kind == EventKind.LEVEL,
                           or_(*(and_(CaseEvent.from_level == first,
                                      CaseEvent.to_level == then)
                                 for first, then in ESCALATIONS))))
                parts.append(
                    row([literal(span), local_start(span, Rating.rated_at), AREA],
                        {name: one_if(Rating.satisfaction == answer)
                         for name, answer in RATING_COUNTS.items()})
                    .join(Rating, Rating.case_id == Case.id))
    return union_all(*parts).subquery("contributions")


def _key(table) -> list[str]:
    return [column.name for column in table.__table__.primary_key.columns]


def recount(table):
    """``table``'s rows as the records make them now: what ``rebuild`` writes."""
    rows = _contributions(table)
    key = [rows.c[name] for name in _key(table)]
    return select(*key, *(func.sum(rows.c[name]).label(name) for name in TABLE_COUNTS[table])) \
        .group_by(*key).order_by(*key)  # stored in the order the pages read them


def rebuild() -> dict[str, int]:
    """Count every table again from the records, one INSERT … SELECT each (``flask
    stats-rebuild``, and ``flask seed-scale`` after its load); the rows written, by table.
    The caller commits."""
    if db.engine.dialect.name == "postgresql":
        # Writers' triggers wait until this commits: their changes then apply to the rebuilt
        # counts, which did not see them.
        db.session.execute(text("LOCK TABLE " + ", ".join(t.__tablename__ for t in TABLES)
                                + " IN EXCLUSIVE MODE"))
    written = {}
    for table in TABLES:
        db.session.execute(delete(table))
        db.session.execute(insert(table).from_select([*_key(table), *TABLE_COUNTS[table]],
                                                     recount(table)))
        written[table.__tablename__] = db.session.scalar(
            select(func.count()).select_from(table))
    return written
