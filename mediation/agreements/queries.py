"""Reading agreements for pages: what needs attention, how terms stand, the public facts."""

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from mediation.agreements import rules
from mediation.agreements.models import (
    Agreement,
    AgreementStatus,
    ConfirmationResult,
    JudicialConfirmation,
    Term,
)
from mediation.cases.access import visible_cases
from mediation.cases.models import Case, PartyKind
from mediation.core.calendar import provisional_years_between
from mediation.core.identity import mask_name
from mediation.core.pages import capped_count
from mediation.extensions import db

CONFIRMATION_WARN_DAYS = 7


@dataclass
class TermStatus:
    term: Term
    numeral: str
    label: str
    colour: str | None  # None, "yellow" or "red"


def term_status(term: Term, on: date) -> TermStatus:
    """Performed (on the spot), instalments paid so far, due by a day, or overdue."""
    numeral = rules.chinese_ordinal(term.position + 1)
    if term.performed_on is not None:
        label = _("Performed on the spot") if term.on_the_spot else \
            _("Performed on %(date)s", date=term.performed_on.isoformat())
        return TermStatus(term, numeral, label, None)
    late = rules.overdue_parts(term, on)
    if late:
        return TermStatus(term, numeral, _("Overdue since %(date)s",
                                           date=min(late).isoformat()), "red")
    if term.instalments:
        paid = sum(1 for i in term.instalments if i.paid_on)
        return TermStatus(term, numeral, _("%(paid)d of %(total)d instalments paid",
                                           paid=paid, total=len(term.instalments)), None)
    if term.due_on:
        return TermStatus(term, numeral, _("Due by %(date)s", date=term.due_on.isoformat()),
                          "yellow" if (term.due_on - on).days <= 3 else None)
    return TermStatus(term, numeral, _("No deadline"), None)


def performance(agreement: Agreement, on: date) -> list[TermStatus]:
    if agreement.status is not AgreementStatus.ISSUED:
        return []
    return [term_status(term, on) for term in agreement.terms]


def attention(user, on: date, shown: int = 10) -> dict | None:
    """For a mediator's home page: confirmation windows closing, and overdue terms — the
    ``shown`` most urgent of each, however many a city's jurisdiction holds."""
    cases = visible_cases(user, select(Case.id))
    # The last day to apply is 30 days after the agreement took effect, moved past holidays
    # (never earlier for a later day): the days of taking effect whose last day falls in the
    # warning window are found once, so that only those agreements are read.
    back = range(45, 30 - CONFIRMATION_WARN_DAYS - 1, -1)  # days before today, oldest first
    window = [day for day in (on - timedelta(days=n) for n in back)
              if on <= rules.confirmation_deadline(day)
              <= on + timedelta(days=CONFIRMATION_WARN_DAYS)]
    if not window:
        window = [on + timedelta(days=1)]  # none: an empty range below
    in_force = (select(Agreement)
                .where(Agreement.case_id.in_(cases),
                       Agreement.status == AgreementStatus.ISSUED,
                       Agreement.effective_on.between(window[0], window[-1]),
                       ~Agreement.id.in_(select(JudicialConfirmation.agreement_id).where(
                           JudicialConfirmation.result != ConfirmationResult.NOT_ACCEPTED)))
                .order_by(Agreement.effective_on, Agreement.id)
                # What the refusals and the panel read: the terms for the batch at once, the
                # case in the same statement.
                .options(selectinload(Agreement.terms), joinedload(Agreement.case)))
    closing, offset = [], 0
    while len(closing) < shown:
        batch = db.session.scalars(in_force.offset(offset).limit(shown * 2)).all()
        for agreement in batch:
            deadline = rules.confirmation_deadline(agreement.effective_on)
            if on <= deadline <= on + timedelta(days=CONFIRMATION_WARN_DAYS) \
                    and not rules.refusals(agreement) and len(closing) < shown:
                closing.append((agreement, deadline))
        if len(batch) < shown * 2:
            break
        offset += len(batch)
    overdue_terms = (select(Term).join(Term.agreement)
                     .where(Agreement.case_id.in_(cases),
                            Agreement.status == AgreementStatus.ISSUED,
                            Term.performed_on.is_(None), Term.overdue_since.is_not(None))
                     .order_by(Term.overdue_since, Term.id))
    overdue = db.session.scalars(overdue_terms.limit(shown)
                                 .options(contains_eager(Term.agreement))).all()
    if not closing and not overdue:
        return None
    return {"closing": closing, "overdue": overdue,
            "overdue_count": capped_count(overdue_terms) if len(overdue) == shown else None,
            "calendar_warning": sorted({y for _a, deadline in closing
                                        for y in provisional_years_between(on, deadline)})}


def public_facts(agreement: Agreement) -> dict:
    """All the verification page shows: nothing about the case beyond these."""
    newer = agreement.superseded_by
    if newer is not None and newer.is_draft:
        newer = None
    return {
        "number": agreement.number,
        "committee": agreement.committee.name,
        "issued_on": agreement.issued_on,
        "effective_on": agreement.effective_on,
        "parties": [mask_name(entry.party.name,
                              organisation=entry.party.kind is PartyKind.ORGANISATION)
                    for entry in agreement.parties],
        "sha256": agreement.sha256,
        "status": _("Superseded by a correction") if agreement.status is
        AgreementStatus.SUPERSEDED else (_("In force") if agreement.effective_on
                                         else _("Issued, not yet in force")),
        "superseded_by": newer.number if newer is not None else None,
        "confirmed": any(c.result is ConfirmationResult.CONFIRMED
                         for c in agreement.confirmations),
    }
