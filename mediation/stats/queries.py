"""The network's figures (统计), defined once: the dashboard, its exports, the monthly
table and the API all read them from here, and every figure's list of cases comes from the
same condition as its count.

Definitions (the README repeats them):
- A case belongs to the area of its grid; a user's figures cover the areas of their
  jurisdiction (an administrator: the city), never cases merely assigned to them.
- The period is a range of local dates (Asia/Shanghai), both ends included, within
  2000–2100 and at most five years long; without a start, the twelve months up to its
  end; without an end, up to today.
- *Received*: reported in the period.
- *Concluded*: its outcome was recorded in the period, whatever happened to the case since
  (follow-up, closure). The outcome is the one recorded: settled, partly settled, failed,
  withdrawn, declined (不予受理) or referred out.
- *Settled* counts settled and partly settled cases (partly settled is also shown alone).
  *Settled at grid / community / street level* is the level handling the case when the
  settlement was recorded: a case escalated from its grid and settled by the community
  counts once, at community level. Cases never move down a level.
- *Settlement rate*: settled ÷ (settled + failed), among cases concluded in the period;
  withdrawn, declined and referred-out cases were not mediated to an end and are left out.
- *Open now*, *overdue now*: today, whatever the period; overdue is open and past its
  level's or its overall time limit. *Overdue rate*: overdue now ÷ open now.
- *Handling time*: days (elapsed time, fractional) from report to outcome, of the cases
  settled, partly settled or failed in the period, by the level that concluded them;
  median and 90th percentile by nearest rank.
- *Escalations*: the cases that moved grid → community, community → street, or straight
  from grid to street, with the move in the period.
- *Judicial confirmation*: applications filed in the period, by the court's answer so far;
  *within 30 days*: filed by the last day the law allows after the agreement took effect.
- *Terms*: the terms of agreements in force whose last day for performance falls in the
  period: performed on time, performed late, overdue now (not performed, past due), not
  yet due.
- *Satisfaction*: the parties' ratings given in the period; the satisfaction rate is
  satisfied + fairly satisfied ÷ all ratings.
The last three count applications, terms and ratings; the list behind each of them is of
the cases holding one (a case can hold several).
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import (
    and_,
    case,
    distinct,
    exists,
    false,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
)

from mediation.agreements.models import (
    Agreement,
    AgreementStatus,
    ConfirmationResult,
    Instalment,
    JudicialConfirmation,
    Term,
)
from mediation.agreements.rules import confirmation_deadline
from mediation.areas.models import AreaKind, AreaNode
from mediation.cases.models import Case, CaseEvent, Category, EventKind
from mediation.cases.queries import overdue
from mediation.cases.rules import LOCAL, today
from mediation.cases.states import OPEN_STATES, CaseState, Level, Source
from mediation.core.permissions import scope_filter
from mediation.extensions import db
from mediation.portal.models import Rating, Satisfaction
from mediation.stats.aggregates import (
    RATING_COUNTS,
    StatsCategoryCount,
    StatsCount,
    StatsHandling,
    StatsOpen,
    whole_days,
)

S = CaseState
SETTLED = (S.SETTLED, S.PARTLY_SETTLED)
MEDIATED = (S.SETTLED, S.PARTLY_SETTLED, S.FAILED)

# Long enough for five years of trend, short enough to stay one page of months.
MAX_DAYS = 366 * 5
# The dates a period may hold: the records start after 2000, and a later year is a typo
# (and a timestamp's arithmetic must not overflow at year 1 or 9999).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


class PeriodError(ValueError):
    """A period the figures cannot be shown for: ``message`` is translated for the person,
    ``field`` is the end at fault (``start`` or ``end``)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.message, self.field = message, field


def twelve_months_to(last: date) -> date:
    """The first day of the twelve months ending with ``last``'s month."""
    first = last.replace(day=1)
    for _month in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL)

    def holds(self, column):
        return and_(column >= self.start, column < self.end)

    def holds_day(self, column):
        return column.between(self.first, self.last)

    def months(self) -> list[str]:
        months, day = [], self.first.replace(day=1)
        while day <= self.last:
            months.append(f"{day.year:04d}-{day.month:02d}")
            day = (day + timedelta(days=32)).replace(day=1)
        return months

    def month(self, month: str) -> "Period":
        """The part of a month (YYYY-MM) inside this period: what its row counts."""
        first = date.fromisoformat(f"{month}-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return Period(max(first, self.first), min(last, self.last))

    def whole_months(self) -> tuple[date, date] | None:
        """The first days of the first and last calendar months wholly inside the period."""
        first = self.first if self.first.day == 1 else \
            (self.first + timedelta(days=32)).replace(day=1)
        after = self.last + timedelta(days=1)
        after = after if after.day == 1 else self.last.replace(day=1)
        if after <= first:
            return None
        return first, (after - timedelta(days=1)).replace(day=1)

    def outside(self, months: tuple[date, date]) -> "Days":
        """The days of the period before and after the months ``months`` (first, last)."""
        after = (months[1] + timedelta(days=32)).replace(day=1)
        pieces = [(self.first, months[0] - timedelta(days=1)), (after, self.last)]
        return Days(tuple((a, b) for a, b in pieces if a <= b), self.end)

    @classmethod
    def of(cls, first: date | None = None, last: date | None = None) -> "Period":
        """The one rule for a period asked for (the pages, the files, the API): no end is
        today, no start the twelve months up to the end; an end before the start, more
        than five years or a date outside 2000–2100 is refused (PeriodError)."""
        for day, end in ((first, "start"), (last, "end")):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise PeriodError(_("Choose dates from %(first)s to %(last)s.",
                                    first=EARLIEST.isoformat(), last=LATEST.isoformat()), end)
        # The error goes to an end the person chose: a missing one was not their doing.
        at_fault = "end" if last is not None or first is None else "start"
        last = last or today()
        first = first or twelve_months_to(last)
        if last < first:
            raise PeriodError(_("The end of the period comes before its start."), at_fault)
        if (last - first).days > MAX_DAYS:
            raise PeriodError(_("Choose a period of at most five years."), at_fault)
        return cls(first, last)

    @classmethod
    def default(cls) -> "Period":
        """The last twelve months, this one included."""
        return cls.of()


@dataclass(frozen=True)
class Days:
    """Some days of a period (ranges of local dates, both ends included): what the cases are
    read for when the whole months come from the kept counts. Its conditions are a
    Period's; without days it holds an empty range at ``end`` (a statement keeps its shape,
    and the indexes it reads, whatever the period)."""

    ranges: tuple[tuple[date, date], ...]
    end: datetime

    def holds(self, column):
        if not self.ranges:
            return and_(column >= self.end, column < self.end)
        return or_(*(Period(first, last).holds(column) for first, last in self.ranges))


def _concluded(period: Period, *outcomes: CaseState):
    return and_(Case.outcome.in_(outcomes), period.holds(Case.outcome_at))


def _settled_at(level: Level, period: Period):
    return and_(_concluded(period, *SETTLED), Case.settled_level == level)


def failed_at(level: Level, period: Period):
    """Failed in the period at ``level`` (a concluded case moves no more: its level is the
    one that concluded it)."""
    return and_(_concluded(period, S.FAILED), Case.level == level)


def concluding_level():
    """The level that settled or failed a case, as ``_settled_at`` and ``failed_at`` read it
    (the values written into the SQL: the migration's index ix_cases_handling is on it)."""
    settled = [literal_column(f"'{state.value}'") for state in SETTLED]
    return case((Case.outcome.in_(settled), Case.settled_level), else_=Case.level)


def _mediated_at(level: Level, period: Period):
    """Settled or failed in the period at ``level``: the cases of its handling time."""
    return or_(_settled_at(level, period), failed_at(level, period))


# The escalations: (from, to) → figure.
ESCALATIONS = {(Level.GRID, Level.COMMUNITY): "escalated_grid_community",
               (Level.COMMUNITY, Level.STREET): "escalated_community_street",
               (Level.GRID, Level.STREET): "escalated_grid_street"}


def _moved(first: Level, then: Level, period: Period):
    return exists(select(CaseEvent.id).where(
        CaseEvent.case_id == Case.id, CaseEvent.kind == EventKind.LEVEL,
        CaseEvent.from_level == first, CaseEvent.to_level == then, period.holds(CaseEvent.at)))


# ---- applications, terms and ratings: the conditions their counts and case lists share ----

def _within_30_days(period: Period):
    """An application (joined with its agreement) filed by the law's last day. The last
    day follows the holiday calendar, so it is looked up here for each day an agreement
    of the period's applications took effect, and written into the SQL."""
    days = db.session.scalars(
        select(Agreement.effective_on).distinct()
        .join(JudicialConfirmation, JudicialConfirmation.agreement_id == Agreement.id)
        .where(period.holds_day(JudicialConfirmation.filed_on),
               Agreement.effective_on.is_not(None))).all()
    if not days:
        return false()
    return JudicialConfirmation.filed_on <= case(
        {day: confirmation_deadline(day) for day in days}, value=Agreement.effective_on,
        else_=null())


CONFIRMATIONS: dict[str, Callable[[Period], object]] = {
    "applied": lambda p: true(),
    "within_30_days": _within_30_days,
    **{result.value: (lambda p, result=result: JudicialConfirmation.result == result)
       for result in ConfirmationResult},
}


def _applied(name: str):
    def condition(period: Period):
        return exists(select(JudicialConfirmation.id)
                      .join(Agreement, JudicialConfirmation.agreement_id == Agreement.id)
                      .where(Agreement.case_id == Case.id,
                             period.holds_day(JudicialConfirmation.filed_on),
                             CONFIRMATIONS[name](period)))
    return condition


def _term_due():
    """A term's last day for performance: its own, or its last instalment's."""
    return func.coalesce(Term.due_on, select(func.max(Instalment.due_on))
                         .where(Instalment.term_id == Term.id).scalar_subquery())


def _term_counted(period: Period, due):
    """A term (joined with its agreement) of an agreement in force, due in the period."""
    return and_(Agreement.status == AgreementStatus.ISSUED, Agreement.effective_on.is_not(None),
                period.holds_day(due))


# A term's performance, as of today (``due`` its last day).
TERM_STATES: dict[str, Callable[[object, date], object]] = {
    "on_time": lambda due, on: and_(Term.performed_on.is_not(None), Term.performed_on <= due),
    "late": lambda due, on: and_(Term.performed_on.is_not(None), Term.performed_on > due),
    "overdue": lambda due, on: and_(Term.performed_on.is_(None),
                                    or_(Term.overdue_since.is_not(None), due < on)),
    "not_yet_due": lambda due, on: and_(Term.performed_on.is_(None),
                                        Term.overdue_since.is_(None), due >= on),
}


def _has_term(name: str | None):
    def condition(period: Period):
        due = _term_due()
        return exists(select(Term.id).join(Agreement, Term.agreement_id == Agreement.id).where(
            Agreement.case_id == Case.id, _term_counted(period, due),
            *([TERM_STATES[name](due, today())] if name else [])))
    return condition


def _rated(*answers: Satisfaction):
    def condition(period: Period):
        return exists(select(Rating.id).where(
            Rating.case_id == Case.id, period.holds(Rating.rated_at),
            *([Rating.satisfaction.in_(answers)] if answers else [])))
    return condition


# Each figure about cases: its condition on a case (with its grid as AreaNode) in a period.
# The count and the list behind it both use it.
FIGURES: dict[str, Callable[[Period], object]] = {
    "received": lambda p: p.holds(Case.reported_at),
    "concluded": lambda p: p.holds(Case.outcome_at),
    "settled": lambda p: _concluded(p, *SETTLED),
    "partly_settled": lambda p: _concluded(p, S.PARTLY_SETTLED),
    "settled_grid": lambda p: _settled_at(Level.GRID, p),
    "settled_community": lambda p: _settled_at(Level.COMMUNITY, p),
    "settled_street": lambda p: _settled_at(Level.STREET, p),
    "failed": lambda p: _concluded(p, S.FAILED),
    "withdrawn": lambda p: _concluded(p, S.WITHDRAWN),
    "declined": lambda p: _concluded(p, S.DECLINED),
    "referred_out": lambda p: _concluded(p, S.REFERRED_OUT),
    "open": lambda p: Case.state.in_(OPEN_STATES),
    "overdue": lambda p: overdue(),
    **{name: (lambda p, moved=moved: _moved(*moved, p)) for moved, name in ESCALATIONS.items()},
    **{f"mediated_{level.value}": (lambda p, level=level: _mediated_at(level, p))
       for level in Level},
    # The cases holding applications, terms or ratings the dashboard counts.
    **{f"confirmation_{name}": _applied(name) for name in CONFIRMATIONS},
    "terms_due": _has_term(None),
    **{f"terms_{name}": _has_term(name) for name in TERM_STATES},
    "rated": _rated(),
    **{f"rated_{answer.value}": _rated(answer) for answer in Satisfaction},
}
# The figures a dashboard row counts (per area of the drill-down).
ROW_FIGURES = ("received", "concluded", "settled", "partly_settled", "settled_grid",
               "settled_community", "settled_street", "failed", "withdrawn", "declined",
               "referred_out", "open", "overdue", *ESCALATIONS.values())
# Those the pass over the cases received or concluded counts: the escalations are counted
# from the moves, open and overdue (today's) from the open cases.
_CASE_PASS = tuple(name for name in ROW_FIGURES
                   if name not in ("open", "overdue", *ESCALATIONS.values()))
# Those kept per month, community and category (aggregates.py).
KEPT_FIGURES = tuple(name for name in ROW_FIGURES if name not in ("open", "overdue"))
# The figures whose numbers count applications, terms or ratings: their lists are of the
# cases holding them, and a case can hold several.
MANY_PER_CASE = frozenset(name for name in FIGURES if name.startswith(
    ("confirmation_", "terms_", "rated")))
LEVEL_FIGURES = {Level.GRID: "settled_grid", Level.COMMUNITY: "settled_community",
                 Level.STREET: "settled_street"}


def in_scope(user, area: AreaNode | None):
    """The condition on a case's grid (AreaNode): inside the user's jurisdiction, and in
    ``area`` when one is chosen (the drill-down)."""
    condition = scope_filter(user, AreaNode.path)
    if area is not None:
        condition = and_(condition, AreaNode.path.startswith(area.path, autoescape=True))
    return condition


def _cases(user, area: AreaNode | None, *columns):
    return select(*columns).select_from(Case).join(AreaNode, Case.grid_id == AreaNode.id) \
        .where(in_scope(user, area))


def cases_behind(user, area: AreaNode | None, period: Period, figure: str,
                 category: Category | None = None):
    """The cases a figure counts (of one category if given), newest first (the statement;
    the caller pages it, or reads it with what its rows show)."""
    statement = _cases(user, area, Case).where(FIGURES[figure](period))
    if category is not None:
        statement = statement.where(Case.category_id == category.id)
    return statement.order_by(Case.reported_at.desc(), Case.id.desc())


def _outermost(nodes: list[AreaNode]) -> list[AreaNode]:
    """The nodes not inside another of them (a person holding a street and a community of
    it has the street): each case is then in one of them only."""
    kept: list[AreaNode] = []
    for node in sorted(nodes, key=lambda n: n.path):
        if not any(node.path.startswith(outer.path) for outer in kept):
            kept.append(node)
    return kept


def visible_areas(user) -> list[AreaNode]:
    """The areas a user may choose for the drill-down: their jurisdiction's outermost nodes
    (the city's districts for an administrator)."""
    if user.has_global_scope:
        return list(db.session.scalars(select(AreaNode).where(AreaNode.parent_id.is_(None))
                                       .order_by(AreaNode.code)))
    return _outermost(user.jurisdiction_nodes)


def may_see_area(user, area: AreaNode) -> bool:
    return user.has_global_scope or any(area.path.startswith(node.path)
                                        for node in user.jurisdiction_nodes)


def chosen_area(user, code: str | None) -> AreaNode | None:
    """The area asked for by its code, None for the whole jurisdiction. One outside the
    person's jurisdiction is as unknown as one that does not exist: LookupError."""
    code = (code or "").strip()
    if not code:
        return None
    area = db.session.scalar(select(AreaNode).where(AreaNode.code == code))
    if area is None or not may_see_area(user, area):
        raise LookupError(code)
    return area


def category_by_code(code: str) -> Category | None:
    return db.session.scalar(select(Category).where(Category.code == code))


# ---- the dashboard's figures -------------------------------------------------------------

@dataclass
class Row:
    """One area of the drill-down (or the whole), with its counts."""

    area: AreaNode | None
    counts: Counter = field(default_factory=lambda: Counter(dict.fromkeys(ROW_FIGURES, 0)))

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    @property
    def settled_low_share(self) -> float | None:
        """Of the settled cases, the share settled at grid or community level (the headline)."""
        settled = self.counts["settled"]
        return (self.counts["settled_grid"] + self.counts["settled_community"]) / settled \
            if settled else None

    @property
    def settlement_rate(self) -> float | None:
        mediated = self.counts["settled"] + self.counts["failed"]
        return self.counts["settled"] / mediated if mediated else None

    @property
    def overdue_rate(self) -> float | None:
        return self.counts["overdue"] / self.counts["open"] if self.counts["open"] else None


def _children(user, area: AreaNode | None) -> list[AreaNode]:
    """The rows of the drill-down: the area's children, or the user's own nodes."""
    if area is None:
        nodes = visible_areas(user)
        if len(nodes) == 1:
            return list(nodes[0].children)
        return nodes
    return list(area.children)


# The areas made of whole communities, streets or districts: the kept counts (per community;
# per street and category; handling times per district) answer for them.
COMMUNITIES = frozenset({AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY})
STREETS = frozenset({AreaKind.DISTRICT, AreaKind.STREET})
DISTRICTS = frozenset({AreaKind.DISTRICT})


def _made_of(kinds: frozenset[AreaKind], user, area: AreaNode | None,
             children: list[AreaNode] = ()) -> bool:
    """Whether the scope (the area chosen, or the user's jurisdiction) and the rows of its
    drill-down are each made of whole areas of ``kinds``."""
    scope = [area] if area is not None else \
        ([] if user.has_global_scope else user.jurisdiction_nodes)
    return all(node.kind in kinds for node in [*scope, *children])


def _spans(table, period: Period):
    """The kept rows of a period: its whole months' monthly rows and its other days' daily
    ones."""
    months = period.whole_months()
    days = period.outside(months).ranges if months else ((period.first, period.last),)
    return or_(and_(table.span == "month", table.start.between(*months)) if months else false(),
               *(and_(table.span == "day", table.start.between(*pair)) for pair in days))


def _kept(table, area_column, user, area: AreaNode | None, *columns):
    """The kept rows of the scope's areas."""
    return select(*columns).select_from(table) \
        .join(AreaNode, AreaNode.id == area_column).where(in_scope(user, area))


def _kept_sums(table, names):
    return [func.sum(getattr(table, name)).label(name) for name in names]


def _scoped(user, area: AreaNode | None, *columns):
    """``_cases`` without the join to the areas where the scope is the whole city."""
    if user.has_global_scope and area is None:
        return select(*columns).select_from(Case)
    return _cases(user, area, *columns)


def figures(user, area: AreaNode | None, period: Period, *,
            recount: bool = False) -> tuple[Row, list[Row]]:
    """Every case figure for the whole scope and for each area one level down. When the
    rows are communities or larger, from the counts kept per community (aggregates.py): the
    period's whole months and its other days, and today's open cases by the day they are
    overdue from. Otherwise (a community's grids; ``recount``) from the cases: one pass over
    those received or concluded in the period, one over its escalations (from the index on
    case_events' kind and time), one over the open cases, each grouped by grid."""
    total = Row(area)
    children = _children(user, area)
    by_child = {child.id: Row(child) for child in children}

    def add(path: str, counts: dict) -> None:
        total.counts.update(counts)
        for child in children:
            if path.startswith(child.path):
                by_child[child.id].counts.update(counts)
                break

    if not recount and _made_of(COMMUNITIES, user, area, children):
        for row in db.session.execute(
                _kept(StatsCount, StatsCount.community_id, user, area, AreaNode.path,
                      *_kept_sums(StatsCount, KEPT_FIGURES))
                .where(_spans(StatsCount, period))
                .group_by(StatsCount.community_id, AreaNode.path)):
            add(row.path, {name: int(getattr(row, name) or 0) for name in KEPT_FIGURES})
        late = case((StatsOpen.overdue_from < today(), StatsOpen.open), else_=0)
        for path, open_now, overdue_now in db.session.execute(
                _kept(StatsOpen, StatsOpen.community_id, user, area, AreaNode.path,
                      func.sum(StatsOpen.open), func.sum(late))
                .group_by(StatsOpen.community_id, AreaNode.path)):
            add(path, {"open": int(open_now or 0), "overdue": int(overdue_now or 0)})
        return total, [by_child[child.id] for child in children]

    sums = [func.sum(case((FIGURES[name](period), 1), else_=0)).label(name)
            for name in _CASE_PASS]
    relevant = or_(FIGURES["received"](period), FIGURES["concluded"](period))
    for row in db.session.execute(_cases(user, area, AreaNode.path, *sums).where(relevant)
                                  .group_by(Case.grid_id, AreaNode.path)):
        add(row.path, {name: int(getattr(row, name) or 0) for name in _CASE_PASS})
    for path, first, then, count in db.session.execute(
            _cases(user, area, AreaNode.path, CaseEvent.from_level, CaseEvent.to_level,
                   func.count(distinct(Case.id)))
            .join(CaseEvent, CaseEvent.case_id == Case.id)
            .where(CaseEvent.kind == EventKind.LEVEL, period.holds(CaseEvent.at))
            .group_by(Case.grid_id, AreaNode.path, CaseEvent.from_level, CaseEvent.to_level)):
        if (first, then) in ESCALATIONS:
            add(path, {ESCALATIONS[first, then]: count})
    for path, open_now, overdue_now in db.session.execute(
            _cases(user, area, AreaNode.path, func.count(),
                   func.sum(case((overdue(), 1), else_=0)))
            .where(FIGURES["open"](period)).group_by(Case.grid_id, AreaNode.path)):
        add(path, {"open": open_now, "overdue": int(overdue_now or 0)})
    return total, [by_child[child.id] for child in children]


def local_month(column):
    # Constants written into the SQL, so that GROUP BY repeats the very same expression.
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone(literal_column("'Asia/Shanghai'"), column),
                            literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column, literal_column("'+8 hours'"))


def _days(first, then):
    """The time between two timestamps in days, fractional (elapsed time)."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", then - first) / 86400.0
    return func.julianday(then) - func.julianday(first)


def by_month(user, area: AreaNode | None, period: Period, *,
             recount: bool = False) -> list[dict]:
    """Received and settled per month of the period."""
    received, settled = Counter(), Counter()
    if not recount and _made_of(COMMUNITIES, user, area):
        for start, r, s in db.session.execute(
                _kept(StatsCount, StatsCount.community_id, user, area, StatsCount.start,
                      *_kept_sums(StatsCount, ("received", "settled")))
                .where(_spans(StatsCount, period)).group_by(StatsCount.start)):
            received[f"{start:%Y-%m}"] += int(r or 0)
            settled[f"{start:%Y-%m}"] += int(s or 0)
    else:
        received.update(dict(db.session.execute(
            _cases(user, area, local_month(Case.reported_at), func.count())
            .where(FIGURES["received"](period)).group_by(local_month(Case.reported_at))).all()))
        settled.update(dict(db.session.execute(
            _cases(user, area, local_month(Case.outcome_at), func.count())
            .where(FIGURES["settled"](period)).group_by(local_month(Case.outcome_at))).all()))
    return [{"month": month, "received": received[month], "settled": settled[month]}
            for month in period.months()]


def by_category(user, area: AreaNode | None, period: Period, *,
                recount: bool = False) -> list[dict]:
    """Received, settled and failed per category, most received first: the categories with
    cases received or concluded in the period."""
    names = ("received", "concluded", "settled", "failed")
    table = StatsCategoryCount
    if not recount and _made_of(STREETS, user, area):
        statement = _kept(table, table.street_id, user, area, table.category_id,
                          *_kept_sums(table, names)) \
            .where(_spans(table, period)).group_by(table.category_id)
    else:
        statement = _cases(user, area, Case.category_id,
                           *(func.sum(case((FIGURES[name](period), 1), else_=0))
                             for name in names)) \
            .where(or_(FIGURES["received"](period), FIGURES["concluded"](period))) \
            .group_by(Case.category_id)
    counts = {category_id: dict(zip(names, (int(v or 0) for v in values), strict=True))
              for category_id, *values in db.session.execute(statement)}
    categories = {c.id: c for c in db.session.scalars(select(Category))}
    result = [{"category": categories[cid], "received": c["received"],
               "settled": c["settled"], "failed": c["failed"]}
              for cid, c in counts.items() if c["received"] or c["concluded"]]
    return sorted(result, key=lambda item: (-item["received"], item["category"].code))


# The percentiles by nearest rank: the ⌈n × a ÷ b⌉-th smallest of n values, reckoned in
# whole numbers alike in SQL and Python.
PERCENTILES = {"median": (1, 2), "p90": (9, 10)}


def _rank(n: int, a: int, b: int) -> int:
    return -(-n * a // b)


def handling_times(user, area: AreaNode | None, period: Period, *,
                   recount: bool = False) -> dict[Level, dict]:
    """Median and 90th percentile of the days from report to outcome, by concluding level
    (its cases: ``mediated_<level>``). For the city and whole districts the kept counts by
    whole days (aggregates.StatsHandling) tell which day holds each rank, and only that
    day's cases are ranked (from the index ix_cases_handling); elsewhere the database ranks
    the jurisdiction's cases and answers only the ranked values asked for."""
    result = {level: {"cases": 0, **dict.fromkeys(PERCENTILES)} for level in Level}
    if not recount and _made_of(DISTRICTS, user, area):
        return _percentiles_by_day(user, area, period, result)
    if db.engine.dialect.name == "postgresql":
        return _percentiles_by_sort(user, area, period, result)
    days, level = _days(Case.reported_at, Case.outcome_at), concluding_level()
    ranked = _cases(user, area, level.label("level"), days.label("days"),
                    func.row_number().over(partition_by=level, order_by=(days, Case.id))
                    .label("rank"),
                    func.count().over(partition_by=level).label("n")) \
        .where(_concluded(period, *MEDIATED)).subquery()
    wanted = [(ranked.c.n * a + b - 1) // b for a, b in PERCENTILES.values()]
    rows = db.session.execute(select(ranked.c.level, ranked.c.n, ranked.c.rank, ranked.c.days)
                              .where(or_(*(ranked.c.rank == rank for rank in wanted)))).all()
    for level, n, rank, value in rows:
        level = Level(level)
        result[level]["cases"] = n
        for name, (a, b) in PERCENTILES.items():
            if rank == _rank(n, a, b):
                result[level][name] = float(value)
    return result


def _percentiles_by_sort(user, area: AreaNode | None, period: Period, result: dict) -> dict:
    """PostgreSQL's percentile_disc(a ÷ b) is the value at rank ⌈n × a ÷ b⌉, the nearest
    rank (for ½ and 9⁄10 the floating product rounds to the whole number when there is
    one). It sorts the durations themselves (intervals, cheaper than days and in the same
    order) once per level for both percentiles, and only the two answers become days."""
    concluding, span = concluding_level(), Case.outcome_at - Case.reported_at
    answers = [func.extract("epoch", func.percentile_disc(a / b).within_group(span)) / 86400.0
               for a, b in PERCENTILES.values()]
    for level, n, *values in db.session.execute(
            _cases(user, area, concluding, func.count(), *answers)
            .where(_concluded(period, *MEDIATED)).group_by(concluding)):
        result[Level(level)] = {"cases": n, **{name: float(value) for name, value in
                                               zip(PERCENTILES, values, strict=True)}}
    return result


def _percentiles_by_day(user, area: AreaNode | None, period: Period, result: dict) -> dict:
    """The cases of each level by whole days (the kept months, and the cases of the other
    days), then each rank's value: the right one among its day's cases, in order."""
    level, days = concluding_level(), whole_days(Case.reported_at, Case.outcome_at)
    by_day: dict[str, Counter] = {}
    months = period.whole_months()
    if months is not None:
        for value, day, count in db.session.execute(
                _kept(StatsHandling, StatsHandling.district_id, user, area, StatsHandling.level,
                      StatsHandling.days, func.sum(StatsHandling.cases))
                .where(StatsHandling.month.between(*months))
                .group_by(StatsHandling.level, StatsHandling.days)):
            by_day.setdefault(value, Counter())[day] += int(count or 0)
    rest = period.outside(months) if months is not None else period
    for value, day, count in db.session.execute(
            _scoped(user, area, level, days, func.count())
            .where(_concluded(rest, *MEDIATED)).group_by(level, days)):
        by_day.setdefault(value, Counter())[day] += count
    if db.engine.dialect.name == "postgresql":  # the order of the index: the durations
        order, value = Case.outcome_at - Case.reported_at, \
            func.extract("epoch", Case.outcome_at - Case.reported_at) / 86400.0
    else:
        order = value = _days(Case.reported_at, Case.outcome_at)
    for name, counts in by_day.items():
        n = sum(counts.values())
        if not n:
            continue
        found = {"cases": n}
        for percentile, (a, b) in PERCENTILES.items():
            rank, before = _rank(n, a, b), 0
            for day in sorted(counts):
                if before + counts[day] >= rank:
                    break
                before += counts[day]
            found[percentile] = float(db.session.scalar(
                _scoped(user, area, value)
                .where(_concluded(period, *MEDIATED), level == name, days == day)
                .order_by(order, Case.id).offset(rank - before - 1).limit(1)))
        result[Level(name)] = found
    return result


def _of_cases_in_scope(statement, case_id, user, area: AreaNode | None):
    """``statement`` kept to the records of cases (``case_id``) in the scope: their ids
    come from the scope's grids (an index on grid and id), nothing to do for the city."""
    if user.has_global_scope and area is None:
        return statement
    return statement.where(case_id.in_(_cases(user, area, Case.id)))


def confirmations(user, area: AreaNode | None, period: Period) -> dict:
    """Judicial confirmation applications filed in the period, by result, and how many were
    filed within the 30 days."""
    statement = select(func.count(JudicialConfirmation.id),
                       *(func.sum(case((CONFIRMATIONS[name](period), 1), else_=0))
                         for name in list(CONFIRMATIONS)[1:])) \
        .select_from(JudicialConfirmation) \
        .join(Agreement, JudicialConfirmation.agreement_id == Agreement.id) \
        .where(period.holds_day(JudicialConfirmation.filed_on))
    row = db.session.execute(_of_cases_in_scope(statement, Agreement.case_id, user, area)).one()
    return dict(zip(CONFIRMATIONS, (int(value or 0) for value in row), strict=True))


def terms(user, area: AreaNode | None, period: Period) -> dict:
    """The performance of agreements' terms whose last day falls in the period: the terms
    due then, and those paid in instalments whose last one is due then (each found from an
    index on its day)."""
    due, on = _term_due(), today()
    in_period = or_(
        and_(Term.due_on.is_not(None), period.holds_day(Term.due_on)),
        and_(Term.due_on.is_(None), Term.id.in_(
            select(Instalment.term_id).where(period.holds_day(Instalment.due_on))),
            period.holds_day(due)))
    statement = select(func.count(Term.id), *(func.sum(case((state(due, on), 1), else_=0))
                                               for state in TERM_STATES.values())) \
        .select_from(Term).join(Agreement, Term.agreement_id == Agreement.id) \
        .where(in_period, Agreement.status == AgreementStatus.ISSUED,
               Agreement.effective_on.is_not(None))
    row = db.session.execute(_of_cases_in_scope(statement, Agreement.case_id, user, area)).one()
    return dict(zip(("terms", *TERM_STATES), (int(value or 0) for value in row), strict=True))


def satisfaction(user, area: AreaNode | None, period: Period, *,
                 recount: bool = False) -> dict:
    """The parties' ratings given in the period."""
    if not recount and _made_of(COMMUNITIES, user, area):
        row = db.session.execute(
            _kept(StatsCount, StatsCount.community_id, user, area,
                  *_kept_sums(StatsCount, RATING_COUNTS)).where(_spans(StatsCount, period))
        ).one()
        counts = {Satisfaction(answer): int(getattr(row, name) or 0)
                  for name, answer in RATING_COUNTS.items()}
    else:
        counts = dict(db.session.execute(
            _cases(user, area, Rating.satisfaction, func.count())
            .join(Rating, Rating.case_id == Case.id).where(period.holds(Rating.rated_at))
            .group_by(Rating.satisfaction)).all())
    total = sum(counts.values())
    pleased = counts.get(Satisfaction.SATISFIED, 0) + counts.get(Satisfaction.FAIRLY, 0)
    return {"ratings": total, **{s.value: counts.get(s, 0) for s in Satisfaction},
            "rate": pleased / total if total else None}


@dataclass
class Dashboard:
    period: Period
    area: AreaNode | None
    total: Row
    areas: list[Row]
    months: list[dict]
    categories: list[dict]
    times: dict
    confirmations: dict
    terms: dict
    satisfaction: dict


def dashboard(user, area: AreaNode | None, period: Period, *,
              recount: bool = False) -> Dashboard:
    """The page's figures; ``recount`` counts every case again instead of reading the
    counts kept per month (the two agree: tests/test_stats_aggregates.py)."""
    total, areas = figures(user, area, period, recount=recount)
    return Dashboard(period, area, total, areas, by_month(user, area, period, recount=recount),
                     by_category(user, area, period, recount=recount),
                     handling_times(user, area, period, recount=recount),
                     confirmations(user, area, period), terms(user, area, period),
                     satisfaction(user, area, period, recount=recount))


def summary(board: Dashboard) -> dict:
    """The figures as plain data (the API and the exports)."""
    counts = board.total.counts
    return {
        "from": board.period.first.isoformat(), "to": board.period.last.isoformat(),
        "area": board.area.code if board.area else None,
        "received": counts["received"], "concluded": counts["concluded"],
        "settled": counts["settled"], "partly_settled": counts["partly_settled"],
        "settled_by_level": {level.value: counts[LEVEL_FIGURES[level]] for level in Level},
        "settled_at_grid_or_community_share": board.total.settled_low_share,
        "settlement_rate": board.total.settlement_rate,
        "failed": counts["failed"], "withdrawn": counts["withdrawn"],
        "declined": counts["declined"], "referred_out": counts["referred_out"],
        "open": counts["open"], "overdue": counts["overdue"],
        "overdue_rate": board.total.overdue_rate,
        "escalations": {"grid_to_community": counts["escalated_grid_community"],
                        "community_to_street": counts["escalated_community_street"],
                        "grid_to_street": counts["escalated_grid_street"]},
        "handling_days": {level.value: board.times[level] for level in Level},
        "by_month": board.months,
        "by_category": [{"category": item["category"].code, "received": item["received"],
                         "settled": item["settled"], "failed": item["failed"]}
                        for item in board.categories],
        "judicial_confirmation": board.confirmations,
        "terms": board.terms,
        "satisfaction": board.satisfaction,
    }


# ---- the monthly people's-mediation statistics table (人民调解工作统计表) ---------------------

OUTCOMES = (S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.WITHDRAWN, S.DECLINED, S.REFERRED_OUT)


@dataclass
class MonthlyTable:
    period: Period
    area: AreaNode | None
    # Per category: received, then concluded by outcome.
    categories: list[tuple[Category, int, dict[CaseState, int]]]
    levels: dict[Level, dict[str, int]]  # received at, settled at, failed at
    sources: dict[Source, int]  # received by source

    @property
    def totals(self) -> tuple[int, dict[CaseState, int]]:
        received = sum(row[1] for row in self.categories)
        return received, {o: sum(row[2][o] for row in self.categories) for o in OUTCOMES}


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def monthly_table(user, area: AreaNode | None, period: Period) -> MonthlyTable:
    """Cases by category × outcome, by level and by source, for the period (a month)."""
    received, concluded = FIGURES["received"](period), FIGURES["concluded"](period)
    by_outcome = [_count(_concluded(period, outcome)) for outcome in OUTCOMES]
    rows = {cid: (int(r or 0), [int(v or 0) for v in values])
            for cid, r, *values in db.session.execute(
                _cases(user, area, Case.category_id, _count(received), *by_outcome)
                .where(or_(received, concluded)).group_by(Case.category_id)).all()}
    categories = []
    for category in db.session.scalars(select(Category).order_by(Category.id)):
        r, values = rows.get(category.id, (0, [0] * len(OUTCOMES)))
        if category.active or r or any(values):
            categories.append((category, r, dict(zip(OUTCOMES, values, strict=True))))
    levels = {level: {"received": 0, "settled": 0, "failed": 0} for level in Level}
    # The level a case was received at: the one its intake entry on the timeline names.
    first_level = func.coalesce(select(CaseEvent.to_level).where(
        CaseEvent.case_id == Case.id, CaseEvent.kind == EventKind.STATE,
        CaseEvent.from_state.is_(None)).order_by(CaseEvent.id).limit(1).scalar_subquery(),
        Case.level)
    for level, count in db.session.execute(
            _cases(user, area, first_level, func.count()).where(received)
            .group_by(first_level)).all():
        levels[Level(level)]["received"] = count
    # Settled and failed at each level: the dashboard's figures, counted alike.
    counts = db.session.execute(
        _cases(user, area, *(_count(FIGURES[LEVEL_FIGURES[level]](period)) for level in Level),
               *(_count(failed_at(level, period)) for level in Level))
        .where(concluded)).one()
    for n, level in enumerate(Level):
        levels[level]["settled"] = int(counts[n] or 0)
        levels[level]["failed"] = int(counts[len(Level) + n] or 0)
    sources = {source: 0 for source in Source}
    for source, count in db.session.execute(
            _cases(user, area, Case.source, func.count()).where(received)
            .group_by(Case.source)).all():
        sources[source] = count
    return MonthlyTable(period, area, categories, levels, sources)
