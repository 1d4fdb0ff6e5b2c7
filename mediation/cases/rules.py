"""Deadlines and escalation rules: computed from the rule tables, never hard-coded."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from mediation.cases.models import Case, LevelRule, ProposalRule
from mediation.cases.states import Level, RiskLevel
from mediation.core.calendar import add_days, provisional_years, roll_to_working_day
from mediation.extensions import db

LOCAL = ZoneInfo("Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """The calendar day in China of a UTC timestamp (deadlines count local days)."""
    return moment.astimezone(LOCAL).date()


def today() -> date:
    return local_date(datetime.now(LOCAL))


def time_limit_end(start: date, days: int, *, working: bool) -> date:
    """The last day of a time limit of ``days`` from ``start`` (not counted): in working
    days, or in calendar days carried out of a holiday to the next working day (CPL 85)."""
    end = add_days(start, days, working=working)
    return end if working else roll_to_working_day(end)


def level_deadline(case: Case) -> date:
    category = case.category
    return time_limit_end(local_date(case.level_entered_at), category.days_for(case.level),
                          working=category.working_days)


def overall_deadline(case: Case) -> date:
    category = case.category
    return time_limit_end(local_date(case.reported_at), category.overall_days,
                          working=category.working_days)


def level_rules() -> dict[Level, LevelRule]:
    return {rule.level: rule for rule in db.session.scalars(select(LevelRule))}


@dataclass(frozen=True)
class DeadlineStatus:
    """Yellow before the level's deadline, red after it (the supervision flags)."""

    colour: str | None  # None, "yellow" or "red"
    days_left: int | None


def deadline_status(case: Case, on: date, warn_days: int = 1) -> DeadlineStatus:
    """The nearer of the level's and the overall deadline decides the colour."""
    deadlines = [d for d in (case.level_deadline, case.overall_deadline) if d is not None]
    if not case.is_open or not deadlines:
        return DeadlineStatus(None, None)
    left = (min(deadlines) - on).days
    if left < 0:
        return DeadlineStatus("red", left)
    if left <= warn_days:
        return DeadlineStatus("yellow", left)
    return DeadlineStatus(None, left)


@dataclass(frozen=True)
class Suggestion:
    rule: ProposalRule
    to_level: Level
    reason: str


def suggestions(case: Case, on: date, rules: dict[Level, LevelRule]) -> list[Suggestion]:
    """What the escalation rules say about an open case below street level."""
    if not case.is_open or case.level is Level.STREET:
        return []
    found = []
    if case.level_deadline is not None and on > case.level_deadline:
        found.append(Suggestion(ProposalRule.DEADLINE_PASSED, case.level.next,
                                _("The %(level)s time limit ended on %(date)s.",
                                  level=case.level.title, date=case.level_deadline.isoformat())))
    if case.risk_level is RiskLevel.HIGH:
        found.append(Suggestion(ProposalRule.HIGH_RISK, Level.STREET,
                                _("High-risk disputes are handled at street level.")))
    limit = rules.get(case.level).amount_limit_fen if rules.get(case.level) else None
    if limit is not None and case.amount_fen is not None and case.amount_fen > limit:
        found.append(Suggestion(ProposalRule.AMOUNT_OVER_LIMIT, case.level.next,
                                _("%(amount)s yuan is above the %(level)s limit of %(limit)s "
                                  "yuan.", amount=case.amount_yuan, level=case.level.title,
                                  limit=f"{limit // 100:,}")))
    communities = {p.community_id for p in case.parties if p.community_id}
    if len(communities) > 1:
        found.append(Suggestion(ProposalRule.CROSS_COMMUNITY, Level.STREET,
                                _("The parties live in %(n)d different communities.",
                                  n=len(communities))))
    return found


def calendar_warning(case: Case) -> list[int]:
    """The provisional years (no official holiday schedule yet) the case's deadlines fall in."""
    return provisional_years(case.level_deadline, case.overall_deadline)
