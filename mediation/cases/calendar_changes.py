"""When the holiday calendar changes, the time limits computed from it follow.

An administrator entering a holiday, removing one, or marking a year's schedule complete
changes which days are working days.  The change is made inside ``calendar_change``,
which, in the caller's transaction:

- moves the level and overall deadlines of the open cases that the change moves — a
  deadline computed under other rules (the category's time limits edited since) is left
  as it is: only the calendar's own effect is applied — and puts each move on the case's
  timeline;
- withdraws the open escalation proposals and automatic supervision notices that were
  raised on a deadline that moved and has not passed under the new calendar;
- leaves a person's decision standing: a confirmed proposal that was raised on such a
  deadline keeps its decision and gets a note saying so.

The judicial-confirmation deadlines of agreements (``agreements.rules.confirmation_deadline``)
and the yellow "due soon" warnings are computed from the calendar whenever they are read,
so they are right as soon as the change is saved.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select

from mediation.cases import rules
from mediation.cases.models import (
    Case,
    CaseEvent,
    EscalationProposal,
    EventKind,
    ProposalRule,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.operations import audit_case, log_event
from mediation.cases.states import OPEN_STATES
from mediation.core.db import utcnow
from mediation.extensions import db

LEVEL, OVERALL = "level", "overall"


@dataclass
class RecomputeReport:
    moved: int = 0         # cases whose deadline moved
    withdrawn: int = 0     # proposals and notices withdrawn
    noted: int = 0         # confirmed proposals that got a note


Deadlines = dict[str, date | None]


def _computed(case: Case) -> Deadlines:
    """The case's deadlines as the rules and the calendar give them now."""
    return {LEVEL: rules.level_deadline(case) if case.level_deadline else None,
            OVERALL: rules.overall_deadline(case) if case.overall_deadline else None}


@contextmanager
def calendar_change(by, first: date, last: date, change: str, *,
                    from_stored: bool = False) -> Iterator[RecomputeReport]:
    """Make a change to the calendar between ``first`` and ``last`` inside this block
    (``change`` says what it is, for the timeline); on leaving it, what the change moved
    is brought in line.  The report is filled in then.

    ``from_stored``: the calendar already changed (a library upgrade): every stored
    deadline is taken as computed under the old calendar, and recomputed.
    """
    # A deadline on or after the first changed day is the only kind the change can move.
    cases = db.session.scalars(
        select(Case).where(Case.state.in_(OPEN_STATES),
                           or_(Case.level_deadline >= first, Case.overall_deadline >= first))
        .order_by(Case.id)).all()
    before = {case.id: {LEVEL: case.level_deadline, OVERALL: case.overall_deadline}
              if from_stored else _computed(case) for case in cases}
    confirmed = _confirmed_deadline_proposals(first)
    raised_under = {p.id: _level_deadline_when_raised(p) for p in confirmed}
    report = RecomputeReport()
    yield report
    db.session.flush()
    on = rules.today()
    for case in cases:
        old = {LEVEL: case.level_deadline, OVERALL: case.overall_deadline}
        new = _computed(case)
        moved = {kind: new[kind] for kind in (LEVEL, OVERALL)
                 if old[kind] is not None and old[kind] == before[case.id][kind]
                 and new[kind] != old[kind]}
        if moved:
            _move(by, case, old, moved, change)
            report.moved += 1
            report.withdrawn += _withdraw_stale(by, case, old, moved, on)
    for proposal in confirmed:
        report.noted += _note_confirmed(by, proposal, raised_under[proposal.id])
    db.session.flush()


def _move(by, case: Case, old: Deadlines, moved: dict[str, date], change: str) -> None:
    if LEVEL in moved:
        case.level_deadline = moved[LEVEL]
    if OVERALL in moved:
        case.overall_deadline = moved[OVERALL]
    for kind, new in moved.items():
        dates = {"old": old[kind].isoformat(), "new": new.isoformat(), "change": change}
        reason = _("The %(level)s time limit moved from %(old)s to %(new)s: the holiday "
                   "calendar changed (%(change)s).", level=case.level.title, **dates) \
            if kind == LEVEL else \
            _("The overall time limit moved from %(old)s to %(new)s: the holiday calendar "
              "changed (%(change)s).", **dates)
        log_event(case, by, EventKind.DEADLINE, reason=reason,
                  data={"deadline": kind, "from": dates["old"], "to": dates["new"]})
    audit_case("deadline.recompute", case, by,
               before={k: old[k].isoformat() for k in moved},
               after={k: v.isoformat() for k, v in moved.items()}, note=change)


def _withdraw_stale(by, case: Case, old: Deadlines, moved: dict[str, date], on: date) -> int:
    """Withdraw what was raised on a deadline that moved and has not passed any more: the
    open deadline proposal of the case's level, its automatic supervision notices."""
    withdrawn = 0
    if LEVEL in moved and on <= moved[LEVEL]:
        reason = _("Withdrawn: the %(level)s time limit now ends on %(date)s (the holiday "
                   "calendar changed).", level=case.level.title, date=moved[LEVEL].isoformat())
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
    notices = db.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.automatic,
        SupervisionNotice.withdrawn_at.is_(None)))
    for notice in notices:
        # The deadlines this notice may stand for: the overall one at any level, the
        # level's one only at the case's level.  Unsure (one of them did not move, or
        # one still passed), it stays.
        kinds = [k for k in (LEVEL, OVERALL) if old[k] == notice.deadline
                 and (k == OVERALL or notice.level == case.level)]
        if not kinds or any(k not in moved or on > moved[k] for k in kinds):
            continue
        new = max(moved[k] for k in kinds)
        notice.withdrawn_at = utcnow()
        notice.withdrawn_reason = _(
            "Withdrawn: the time limit that ended on %(old)s now ends on %(new)s (the holiday "
            "calendar changed).", old=notice.deadline.isoformat(), new=new.isoformat())
        log_event(case, by, EventKind.SUPERVISION, reason=notice.withdrawn_reason,
                  data={"withdrawn": True})
        withdrawn += 1
    return withdrawn


def _confirmed_deadline_proposals(first: date) -> list[EscalationProposal]:
    """Confirmed deadline proposals of open cases that a change from ``first`` may concern
    (a proposal raised before the first changed day was raised on an earlier deadline)."""
    since = datetime.combine(first, datetime.min.time(), rules.LOCAL)
    return list(db.session.scalars(
        select(EscalationProposal).join(Case, EscalationProposal.case_id == Case.id)
        .where(EscalationProposal.rule == ProposalRule.DEADLINE_PASSED,
               EscalationProposal.status == ProposalStatus.CONFIRMED,
               EscalationProposal.created_at >= since, Case.state.in_(OPEN_STATES))
        .order_by(EscalationProposal.id)))


def _note_confirmed(by, proposal: EscalationProposal, raised_under: date) -> int:
    """A confirmed proposal raised on a deadline that had passed then, and would not have
    under the new calendar, keeps its decision; the proposal and the timeline say so."""
    deadline = _level_deadline_when_raised(proposal)
    raised_on = rules.local_date(proposal.created_at)
    if deadline == raised_under or raised_on > deadline or raised_on <= raised_under:
        return 0  # unchanged, still passed, or it was not raised on a passed deadline
    note = _("The %(level)s time limit this proposal was raised on now ends on %(date)s "
             "(the holiday calendar changed); the decision to escalate stands.",
             level=proposal.from_level.title, date=deadline.isoformat())
    if note in (proposal.decision_note or ""):
        return 0
    proposal.decision_note = "\n".join(filter(None, [proposal.decision_note, note]))
    log_event(proposal.case, by, EventKind.PROPOSAL, reason=note,
              from_level=proposal.from_level, to_level=proposal.to_level,
              data={"rule": proposal.rule.value, "noted": True})
    return 1


def _level_deadline_when_raised(proposal: EscalationProposal) -> date:
    """The deadline of the level the proposal came from, with the calendar as it is: from
    the moment the case entered that level (its last move into it before the proposal, or
    its report when it started there)."""
    case = proposal.case
    entered = db.session.scalar(
        select(CaseEvent.at).where(CaseEvent.case_id == case.id,
                                   CaseEvent.to_level == proposal.from_level,
                                   CaseEvent.kind == EventKind.LEVEL,
                                   CaseEvent.at <= proposal.created_at)
        .order_by(CaseEvent.at.desc()).limit(1))
    return rules.time_limit_end(rules.local_date(entered or case.reported_at),
                                case.category.days_for(proposal.from_level),
                                working=case.category.working_days)
