"""Which cases have an escalation proposal waiting: ``Case.proposal_waiting``.

The proposals queue and its badge ask, of a street's open cases, which have an open
proposal.  Asked of the proposals table, that is one lookup per open case of the street
(2,600 of them in a city of a million); marked on the case, it is one partial index of the
cases by grid (migration b1a0d17a0023).  The mark follows the proposals: every flush that
adds, removes or changes the status of a proposal sets it again, for those cases, from what
is then stored, in the same transaction; a bulk insert of proposals (``check-deadlines``)
calls ``mark`` itself.
"""

from sqlalchemy import event, exists, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from mediation.cases.models import Case, EscalationProposal, ProposalStatus


def _status_changed(proposal) -> bool:
    return inspect(proposal).attrs["status"].history.has_changes()


@event.listens_for(Session, "before_flush")
def _touched(session, _context, _instances) -> None:
    """Note the cases whose proposals this flush adds, removes or decides."""
    touched = session.info.setdefault("proposals_touched", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, EscalationProposal) and (
                obj in session.new or obj in session.deleted or _status_changed(obj)):
            touched.add(obj.case if obj.case_id is None else obj.case_id)


@event.listens_for(Session, "after_flush_postexec")
def _remark(session, _context) -> None:
    touched = session.info.pop("proposals_touched", None)
    if touched:
        ids = {item if isinstance(item, int) else item.id for item in touched}
        ids.discard(None)
        mark(session, ids)


def mark(session, case_ids) -> None:
    """Set ``proposal_waiting`` on the cases ``case_ids`` from their stored proposals (and on
    the copies of them this session holds, without marking them changed)."""
    ids = sorted(case_ids)
    if not ids:
        return
    connection = session.connection()
    waiting = set(connection.scalars(
        select(EscalationProposal.case_id).distinct()
        .where(EscalationProposal.case_id.in_(ids),
               EscalationProposal.status == ProposalStatus.OPEN)))
    cases = Case.__table__
    for value, chosen in ((True, waiting), (False, set(ids) - waiting)):
        if chosen:
            # updated_at kept: a mark is not an edit of the case (no onupdate).
            connection.execute(update(cases).where(cases.c.id.in_(sorted(chosen)),
                                                   cases.c.proposal_waiting.is_not(value))
                               .values(proposal_waiting=value, updated_at=cases.c.updated_at))
            for case_id in chosen:
                case = session.identity_map.get(identity_key(Case, case_id))
                if case is not None:
                    set_committed_value(case, "proposal_waiting", value)


def recount():
    """The condition that ``proposal_waiting`` stands for, asked of the proposals (tests)."""
    return exists().where(EscalationProposal.case_id == Case.id,
                          EscalationProposal.status == ProposalStatus.OPEN)
