"""When the holiday calendar changes, the time limits computed from it follow.

An administrator entering a holiday, removing one, or marking a year's schedule complete
changes which days are working days.  ``recompute_deadlines`` then, in the caller's
transaction:

- recomputes the level and overall deadlines of every open case counted in working days
  whose period reaches the changed days, and puts each move on the case's timeline;
- withdraws the open escalation proposals and automatic supervision notices that were
  raised on a deadline that no longer holds (it had not passed when they were raised);
- leaves a person's decision standing: a confirmed proposal raised on such a deadline
  keeps its decision and gets a note saying so.

The judicial-confirmation deadlines of agreements (``agreements.rules.confirmation_deadline``)
and the performance reminders are computed from the calendar whenever they are read, so
they are right as soon as the change is saved.
"""

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from mediation.cases import rules
from mediation.cases.models import (
    Case,
    CaseEvent,
    Category,
    EscalationProposal,
    EventKind,
    ProposalRule,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.operations import audit_case, log_event
from mediation.cases.states import OPEN_STATES
from mediation.core.calendar import add_days
from mediation.core.db import utcnow
from mediation.extensions import db


@dataclass
class RecomputeReport:
    moved: int = 0         # cases whose deadline moved
    withdrawn: int = 0     # proposals and notices withdrawn
    noted: int = 0         # confirmed proposals that got a note


def recompute_deadlines(by, first: date, last: date, change: str) -> RecomputeReport:
    """The calendar changed between ``first`` and ``last`` (``change`` says how, for the
    timeline): bring the open cases' deadlines, proposals and notices in line."""
    on = rules.today()
    report = RecomputeReport()
    # A period (start, deadline] is affected only if it reaches a changed day.
    cases = db.session.scalars(
        select(Case).join(Category, Case.category_id == Category.id)
        .where(Case.state.in_(OPEN_STATES), Category.working_days.is_(True),
               or_(Case.level_deadline >= first, Case.overall_deadline >= first))
        .order_by(Case.id)).all()
    for case in cases:
        old = _move_deadlines(by, case, change)
        if old is not None:
            report.moved += 1
            report.withdrawn += _withdraw_stale(by, case, old, on)
    report.noted += _note_confirmed(by, first, on)
    db.session.flush()
    return report


def _move_deadlines(by, case: Case, change: str) -> dict[str, date | None] | None:
    """Recompute the case's deadlines; the old ones if they moved, else None."""
    old = {"level": case.level_deadline, "overall": case.overall_deadline}
    new = {"level": rules.level_deadline(case) if old["level"] else None,
           "overall": rules.overall_deadline(case) if old["overall"] else None}
    if new == old:
        return None
    case.level_deadline, case.overall_deadline = new["level"], new["overall"]
    for which in ("level", "overall"):
        if new[which] == old[which]:
            continue
        dates = {"old": old[which].isoformat(), "new": new[which].isoformat(),
                 "change": change}
        reason = _("The %(level)s time limit moved from %(old)s to %(new)s: the holiday "
                   "calendar changed (%(change)s).", level=case.level.title, **dates) \
            if which == "level" else \
            _("The overall time limit moved from %(old)s to %(new)s: the holiday calendar "
              "changed (%(change)s).", **dates)
        log_event(case, by, EventKind.DEADLINE, reason=reason,
                  data={"deadline": which, "from": old[which].isoformat(),
                        "to": new[which].isoformat()})
    audit_case("deadline.recompute", case, by,
               before={k: v.isoformat() if v else None for k, v in old.items()},
               after={k: v.isoformat() if v else None for k, v in new.items()}, note=change)
    return old


def _withdraw_stale(by, case: Case, old: dict[str, date | None], on: date) -> int:
    """Withdraw what was raised on the case's old deadlines where the new ones have not
    passed: the open deadline proposal of its level, its automatic supervision notices."""
    withdrawn = 0
    if old["level"] is not None and case.level_deadline is not None \
            and on <= case.level_deadline:
        reason = _("Withdrawn: the %(level)s time limit now ends on %(date)s (the holiday "
                   "calendar changed).", level=case.level.title,
                   date=case.level_deadline.isoformat())
        for proposal in db.session.scalars(select(EscalationProposal).where(
                EscalationProposal.case_id == case.id,
                EscalationProposal.rule == ProposalRule.DEADLINE_PASSED,
                EscalationProposal.from_level == case.level,
                EscalationProposal.status == ProposalStatus.OPEN)):
            proposal.status, proposal.decided_at = ProposalStatus.WITHDRAWN, utcnow()
            proposal.decision_note = reason
            log_event(case, by, EventKind.PROPOSAL, reason=reason, from_level=case.level,
                      to_level=proposal.to_level, data={"rule": proposal.rule.value,
                                                        "withdrawn": True})
            withdrawn += 1
    # Which deadline each automatic notice stood for: the old level or overall one.
    now_for = {old["level"]: case.level_deadline, old["overall"]: case.overall_deadline}
    notices = db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.automatic,
        SupervisionNotice.level == case.level, SupervisionNotice.withdrawn_at.is_(None)))
    for notice in notices:
        current = now_for.get(notice.deadline)
        if notice.deadline is None or current is None or current == notice.deadline \
                or on > current:
            continue  # not one of the moved deadlines, or the new one has passed too
        notice.withdrawn_at = utcnow()
        notice.withdrawn_reason = _(
            "Withdrawn: the time limit that ended on %(old)s now ends on %(new)s (the holiday "
            "calendar changed).", old=notice.deadline.isoformat(), new=current.isoformat())
        log_event(case, by, EventKind.SUPERVISION, reason=notice.withdrawn_reason,
                  data={"withdrawn": True})
        withdrawn += 1
    return withdrawn


def _note_confirmed(by, first: date, on: date) -> int:
    """A confirmed proposal raised on a deadline that no longer holds keeps its decision;
    the case's timeline and the proposal say so."""
    noted = 0
    proposals = db.session.scalars(
        select(EscalationProposal).join(Case, EscalationProposal.case_id == Case.id)
        .join(Category, Case.category_id == Category.id)
        .where(EscalationProposal.rule == ProposalRule.DEADLINE_PASSED,
               EscalationProposal.status == ProposalStatus.CONFIRMED,
               EscalationProposal.created_at >= datetime.combine(first, datetime.min.time(),
                                                                 rules.LOCAL),
               Case.state.in_(OPEN_STATES), Category.working_days.is_(True))).all()
    for proposal in proposals:
        deadline = _level_deadline_when_raised(proposal)
        raised_on = rules.local_date(proposal.created_at)
        if deadline is None or raised_on > deadline:
            continue  # the deadline had passed anyway
        note = _("The %(level)s time limit this proposal was raised on now ends on %(date)s "
                 "(the holiday calendar changed); the decision to escalate stands.",
                 level=proposal.from_level.title, date=deadline.isoformat())
        if note in (proposal.decision_note or ""):
            continue
        proposal.decision_note = "\n".join(filter(None, [proposal.decision_note, note]))
        log_event(proposal.case, by, EventKind.PROPOSAL, reason=note,
                  from_level=proposal.from_level, to_level=proposal.to_level,
                  data={"rule": proposal.rule.value, "noted": True})
        noted += 1
    return noted


def _level_deadline_when_raised(proposal: EscalationProposal) -> date | None:
    """The deadline of the level the proposal came from, computed with today's calendar:
    from the moment the case entered that level (the last move into it before the proposal,
    or the report when it started there)."""
    case = proposal.case
    entered = db.session.scalar(
        select(CaseEvent.at).where(CaseEvent.case_id == case.id,
                                   CaseEvent.to_level == proposal.from_level,
                                   CaseEvent.kind == EventKind.LEVEL,
                                   CaseEvent.at <= proposal.created_at)
        .order_by(CaseEvent.at.desc()).limit(1))
    start = entered or case.reported_at  # it started at that level
    category = case.category
    return add_days(rules.local_date(start), category.days_for(proposal.from_level),
                    working=category.working_days)
