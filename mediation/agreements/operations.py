"""The verbs on agreements.  Each validates, changes the objects, writes the case's timeline
and the audit log, and flushes; the caller commits once."""

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from mediation.agreements import courts, documents, rules
from mediation.agreements.models import (
    Agreement,
    AgreementCounter,
    AgreementParty,
    AgreementStatus,
    ConfirmationResult,
    Instalment,
    JudicialConfirmation,
    Liability,
    SignMethod,
    Term,
    TermParty,
    TermSide,
)
from mediation.areas.models import Court
from mediation.cases import access, attachments
from mediation.cases import operations as case_ops
from mediation.cases.models import Attachment, Case, EventKind, Party
from mediation.cases.operations import (
    audit_case,
    event_row,
    log_event,
    log_events,
    reveal_id_number,
    transition,
)
from mediation.cases.queries import committee_for
from mediation.cases.rules import LOCAL, local_date, today
from mediation.cases.states import CaseState
from mediation.core import audit
from mediation.core.calendar import provisional_years_between
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.money import format_yuan, parse_yuan
from mediation.extensions import db
from mediation.users.models import User
from mediation.webhooks.outbox import EventType, emit

S = CaseState
# A written agreement is drafted while the parties are settling, or after they have.
DRAFTING_STATES = frozenset({S.IN_MEDIATION, S.SETTLED, S.PARTLY_SETTLED, S.FOLLOW_UP})
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


class StaleAgreement(OperationError):
    """Someone else changed the draft (or issued it) since this person loaded it."""


def _check_version(agreement: Agreement, seen_version: int | None) -> None:
    if seen_version is not None and seen_version != agreement.lock_version:
        raise StaleAgreement(_("Someone else changed this agreement while you were editing it. "
                               "Nothing was saved: reload the page and try again."))


def _event(agreement: Agreement, by: User | None, reason: str, **data) -> None:
    log_event(agreement.case, by, EventKind.AGREEMENT, reason=reason,
              data={"agreement_id": agreement.id, **data})


def _audit(action: str, agreement: Agreement, by: User | None, **kwargs) -> None:
    audit_case(f"agreement.{action}", agreement.case, by, **kwargs)


def _require_draft(agreement: Agreement) -> None:
    if not agreement.is_draft:
        raise OperationError(_("Agreement %(number)s has been issued and can no longer change: "
                               "make a correction instead.", number=agreement.number))


def _may_sign(user: User, case: Case) -> bool:
    """Whether ``user`` may sign the case's agreement as its people's mediator."""
    return user.active and access.can(user, "agreements.issue", case)


def _lock_case(case: Case) -> None:
    """Serialise drafting, correcting and issuing on one case (PostgreSQL row lock; SQLite
    writers queue anyway): a double click waits, then finds what the first one made."""
    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


def open_draft(case: Case) -> Agreement | None:
    return db.session.scalar(select(Agreement).where(Agreement.case_id == case.id,
                                                     Agreement.status == AgreementStatus.DRAFT))


# ---- drafting ---------------------------------------------------------------------------

def start_draft(by: User, case: Case) -> Agreement:
    """A new draft from the case: its parties, facts and handler filled in."""
    _lock_case(case)
    if case.state not in DRAFTING_STATES:
        raise OperationError(_("A written agreement is drawn up while the case is in "
                               "mediation or after it has been settled."))
    if open_draft(case) is not None:
        raise OperationError(_("This case already has a draft agreement."))
    current = db.session.scalar(select(Agreement).where(
        Agreement.case_id == case.id, Agreement.status == AgreementStatus.ISSUED))
    if current is not None:
        raise OperationError(_("This case already has agreement %(number)s: to change it, "
                               "make a correction.", number=current.number))
    committee = committee_for(case)
    if committee is None:
        raise OperationError(_("No active mediation committee serves this case's area: an "
                               "administrator must set one up before an agreement can be "
                               "issued in its name."))
    parties = [p for p in case.parties if not p.refuses_mediation]
    version = 1 + (db.session.scalar(select(db.func.max(Agreement.version))
                                     .where(Agreement.case_id == case.id)) or 0)
    agreement = Agreement(case=case, committee=committee, version=version,
                          facts=case.narrative, disputed_matters="",
                          copies=max(len(parties) + 1, 2),
                          mediator=case.handler if case.handler and _may_sign(case.handler, case)
                          else by, created_by_id=by.id)
    agreement.parties = [AgreementParty(party=p, position=i) for i, p in enumerate(parties)]
    db.session.add(agreement)
    db.session.flush()
    _event(agreement, by, _("Draft agreement started."))
    _audit("draft", agreement, by)
    return agreement


@dataclass
class DraftInput:
    facts: str
    disputed_matters: str
    copies: int
    mediator: User | None
    recorder_name: str | None
    inviting_court: Court | None
    concerns_status: bool
    determines_ownership: bool
    responsibilities: dict[int, str]  # party id → that party's responsibility


def update_draft(by: User, agreement: Agreement, data: DraftInput,
                 seen_version: int | None = None) -> None:
    _check_version(agreement, seen_version)
    _require_draft(agreement)
    if data.copies < len(agreement.parties) + 1:
        raise OperationError(_("Each party holds a copy and the committee keeps one: at least "
                               "%(n)d copies.", n=len(agreement.parties) + 1), field="copies")
    if data.mediator is not None and not _may_sign(data.mediator, agreement.case):
        raise OperationError(_("%(name)s is not a mediator.", name=data.mediator.full_name),
                             field="mediator")
    agreement.facts = data.facts.strip()
    agreement.disputed_matters = data.disputed_matters.strip()
    agreement.copies = data.copies
    agreement.mediator = data.mediator
    agreement.recorder_name = (data.recorder_name or "").strip() or None
    agreement.inviting_court = data.inviting_court
    agreement.concerns_status = data.concerns_status
    agreement.determines_ownership = data.determines_ownership
    for entry in agreement.parties:
        entry.responsibility = (data.responsibilities.get(entry.party_id) or "").strip()
    agreement.updated_at = utcnow()
    db.session.flush()


@dataclass
class TermInput:
    content: str
    obligor_id: int | None = None  # one obligor: or several in obligor_ids
    obligee_id: int | None = None
    amount: str | None = None  # yuan, as typed
    method: str | None = None
    place: str | None = None
    due_on: date | None = None
    instalments: str | None = None  # "YYYY-MM-DD amount" a line
    on_the_spot: bool = False
    obligor_ids: list[int] = field(default_factory=list)
    obligee_ids: list[int] = field(default_factory=list)
    liability: Liability | None = None  # for several obligors
    shares: dict[int, str] = field(default_factory=dict)  # obligor id → yuan, by shares

    def obligors(self) -> list[int]:
        return _unique(self.obligor_ids or ([self.obligor_id] if self.obligor_id else []))

    def obligees(self) -> list[int]:
        return _unique(self.obligee_ids or ([self.obligee_id] if self.obligee_id else []))


def _unique(ids) -> list[int]:
    return list(dict.fromkeys(ids))


INSTALMENT_LINE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})\s*[,，\s]\s*(.+?)\s*$")


def parse_instalments(text: str | None) -> list[tuple[date, int]]:
    """One instalment a line, ``2026-12-31 5000``; each bad line is named."""
    schedule = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = INSTALMENT_LINE.match(line)
        try:
            due = date.fromisoformat(_iso(match.group(1))) if match else None
        except ValueError:
            due = None
        if due is None:
            raise OperationError(_("Instalment line %(n)d: write the date and the amount, e.g. "
                                   "2026-12-31 5000.", n=number), field="instalments")
        try:
            amount = parse_yuan(match.group(2), field="instalments")
        except OperationError as error:
            raise OperationError(_("Instalment line %(n)d: %(problem)s", n=number,
                                   problem=error.message), field="instalments") from None
        schedule.append((due, amount))
    dates = [due for due, _amount in schedule]
    if len(set(dates)) != len(dates):
        raise OperationError(_("Two instalments fall on the same day."), field="instalments")
    return sorted(schedule)


def _iso(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


# Performance stretched over decades (support until a child is grown) stays within this.
MAX_TERM_YEARS = 30


def save_term(by: User, agreement: Agreement, term: Term | None, data: TermInput) -> Term:
    """Add or change a numbered term; its obligor and obligee must be parties to the draft."""
    _require_draft(agreement)
    content = (data.content or "").strip()
    if not content:
        raise OperationError(_("Write what the term says."), field="content")
    party_ids = {entry.party_id for entry in agreement.parties}
    obligors, obligees = data.obligors(), data.obligees()
    if not obligors or not set(obligors) <= party_ids:
        raise OperationError(_("Choose who performs the term (the obligor)."),
                             field="obligor_ids")
    if not set(obligees) <= party_ids:
        raise OperationError(_("Choose a party to the agreement."), field="obligee_ids")
    if set(obligees) & set(obligors):
        raise OperationError(_("A party cannot owe itself."), field="obligee_ids")
    amount = parse_yuan(data.amount)
    schedule = parse_instalments(data.instalments)
    latest = date(today().year + MAX_TERM_YEARS, 12, 31)
    if data.due_on is not None and data.due_on > latest:
        raise OperationError(_("A deadline after %(date)s is not a real one: check the year.",
                               date=latest.isoformat()), field="due_on")
    if schedule and schedule[-1][0] > latest:
        raise OperationError(_("A deadline after %(date)s is not a real one: check the year.",
                               date=latest.isoformat()), field="instalments")
    if schedule:
        total = sum(part for _due, part in schedule)
        if amount is None:
            amount = total
        elif total != amount:
            raise OperationError(_("The instalments add up to %(total)s yuan, not %(amount)s.",
                                   total=format_yuan(total), amount=format_yuan(amount)),
                                 field="instalments")
        if data.due_on is not None and data.due_on < schedule[-1][0]:
            raise OperationError(_("The last instalment falls after the term's deadline."),
                                 field="due_on")
    liability, shares = _liability(data, obligors, amount)
    names = {entry.party_id: entry.party.name for entry in agreement.parties}
    left_out = unnamed_co_obligors(content, list(names.values()),
                                   [names[i] for i in obligors], [names[i] for i in obligees])
    if left_out:
        raise OperationError(_("The term says %(names)s act together: choose each of them as "
                               "an obligor (or as an obligee).", names="、".join(left_out)),
                             field="obligor_ids")
    if term is None:
        term = Term(agreement=agreement, position=len(agreement.terms))
        db.session.add(term)
    term.content = content
    _bind(term, obligors, obligees, shares)
    term.liability = liability
    term.amount_fen = amount
    term.method = (data.method or "").strip() or None
    term.place = (data.place or "").strip() or None
    term.due_on = data.due_on or (schedule[-1][0] if schedule else None)
    term.on_the_spot = data.on_the_spot
    term.instalments = [Instalment(due_on=due, amount_fen=part) for due, part in schedule]
    agreement.updated_at = utcnow()
    db.session.flush()
    return term


def _liability(data: TermInput, obligors: list[int],
               amount: int | None) -> tuple[Liability | None, dict[int, int]]:
    """Several obligors owe jointly or each a share, and the shares make up the amount."""
    typed = {party_id: text for party_id, text in data.shares.items() if (text or "").strip()}
    if len(obligors) < 2:
        if typed:
            raise OperationError(_("Shares are given only when several obligors are liable by "
                                   "shares."), field="shares")
        return None, {}
    if data.liability is None:
        raise OperationError(_("Several obligors: say whether they are liable jointly (连带, "
                               "each for the whole) or by shares (按份)."), field="liability")
    if data.liability is Liability.JOINT:
        if typed:
            raise OperationError(_("Obligors liable jointly each owe the whole: leave the "
                                   "shares empty, or choose liability by shares."),
                                 field="shares")
        return Liability.JOINT, {}
    if set(typed) - set(obligors):
        raise OperationError(_("A share is given for a party who is not an obligor of the "
                               "term."), field="shares")
    if amount is None:
        raise OperationError(_("Liability by shares divides the term's amount: give the "
                               "amount."), field="amount")
    shares = {}
    for party_id in obligors:
        if party_id not in typed:
            raise OperationError(_("Give each obligor's share of the amount."), field="shares")
        shares[party_id] = parse_yuan(typed[party_id], field="shares")
    total = sum(shares.values())
    if total != amount:
        raise OperationError(_("The shares add up to %(total)s yuan, not the term's amount of "
                               "%(amount)s yuan.", total=format_yuan(total),
                               amount=format_yuan(amount)), field="shares")
    return Liability.SEVERAL, shares


def _bind(term: Term, obligors: list[int], obligees: list[int], shares: dict[int, int]) -> None:
    """The term's parties become these, in this order; rows of parties who stay are kept."""
    wanted = [(party_id, TermSide.OBLIGOR) for party_id in obligors] + \
        [(party_id, TermSide.OBLIGEE) for party_id in obligees]
    existing = {link.party_id: link for link in term.bound}
    bound = []
    for position, (party_id, side) in enumerate(wanted):
        link = existing.get(party_id) or TermParty(party_id=party_id)
        link.side, link.position, link.share_fen = side, position, shares.get(party_id)
        bound.append(link)
    term.bound = bound


# A run of names joined by 、/和/与/及, then 共同/连带/分别/各自: "陶喆、周堃共同赔偿王喆".
TOGETHER = r"((?:{name})(?:\s*[、，,和与及]\s*(?:{name}))+)\s*(?:共同|连带|分别|各自|均|各)"


def unnamed_co_obligors(content: str, party_names: list[str], obligor_names: list[str],
                        obligee_names: list[str]) -> list[str]:
    """The parties a term's text says act together (共同, 分别…) that the term does not
    bind: a text binding two is never followed by a details line naming one."""
    names = sorted({n for n in party_names if n}, key=len, reverse=True)
    if len(names) < 2:
        return []
    alternatives = "|".join(re.escape(n) for n in names)
    bound = set(obligor_names) | set(obligee_names)
    missing = []
    for match in re.finditer(TOGETHER.format(name=alternatives), content):
        missing += [n for n in re.findall(alternatives, match.group(1))
                    if n not in bound and n not in missing]
    return missing


def delete_term(by: User, term: Term) -> None:
    agreement = term.agreement
    _require_draft(agreement)
    agreement.terms.remove(term)
    for position, other in enumerate(agreement.terms):
        other.position = position
    db.session.flush()


def move_term(by: User, term: Term, step: int) -> None:
    """Move a term up (-1) or down (+1) in the numbering."""
    agreement = term.agreement
    _require_draft(agreement)
    terms = list(agreement.terms)
    index = terms.index(term)
    target = index + step
    if 0 <= target < len(terms):
        terms[index], terms[target] = terms[target], terms[index]
        for position, other in enumerate(terms):
            other.position = position
        agreement.terms = terms  # in their new order for what this transaction does next
    db.session.flush()


def discard_draft(by: User, agreement: Agreement) -> None:
    _require_draft(agreement)
    _event(agreement, by, _("Draft agreement discarded."))
    _audit("discard", agreement, by)
    db.session.delete(agreement)
    db.session.flush()


def complete_party(by: User, agreement: Agreement, party_id: int, details: dict) -> list[str]:
    """Complete what a party's block in the draft lacks (the case's party record, as on the
    party form); returns the names of the details filled, none if each was recorded."""
    _require_draft(agreement)
    entry = next((e for e in agreement.parties if e.party_id == party_id), None)
    if entry is None:
        raise OperationError(_("Choose a party to the agreement."), field="party_id")
    return case_ops.complete_party(by, entry.party, details)


def problems(agreement: Agreement) -> list[tuple[str, str]]:
    """What stops the draft from being issued, as (field, message) pairs."""
    found = []
    if len(agreement.parties) < 2:
        found.append(("parties", _("An agreement needs at least two parties.")))
    for entry in agreement.parties:
        missing = rules.missing_details(entry.party)
        if missing:
            found.append(("parties", _("%(name)s: the agreement must state the %(details)s — "
                                       "complete them under Parties, on this page.",
                                       name=entry.party.name, details="、".join(missing))))
        if not entry.responsibility:
            found.append(("parties", _("%(name)s: state this party's responsibility.",
                                       name=entry.party.name)))
    if not agreement.facts.strip():
        found.append(("facts", _("State the main facts of the dispute.")))
    if not agreement.disputed_matters.strip():
        found.append(("disputed_matters", _("State the disputed matters.")))
    if not agreement.terms:
        found.append(("terms", _("An agreement needs at least one term.")))
    for index, term in enumerate(agreement.terms, start=1):
        label = rules.chinese_ordinal(index)
        if not term.obligors or not term.content.strip():
            found.append(("terms", _("Term %(n)s has no obligor or no content.", n=label)))
        elif len(term.obligors) > 1 and term.liability is None:
            found.append(("terms", _("Term %(n)s: say whether its obligors are liable jointly "
                                     "(连带) or by shares (按份).", n=label)))
        left_out = unnamed_co_obligors(term.content, [e.party.name for e in agreement.parties],
                                       [p.name for p in term.obligors],
                                       [p.name for p in term.obligees])
        if left_out:
            found.append(("terms", _("Term %(n)s says %(names)s act together: choose each of "
                                     "them as an obligor.", n=label,
                                     names="、".join(left_out))))
        # PML art. 29: the agreement states the method and deadline of performance.
        if term.due_on is None and not term.on_the_spot and not term.instalments:
            found.append(("terms", _("Term %(n)s: give the deadline of performance (a date, "
                                     "on the spot, or instalments) — People's Mediation Law "
                                     "art. 29.", n=label)))
        if term.amount_fen is not None and not (term.method or "").strip():
            found.append(("terms", _("Term %(n)s: say how the amount is paid (the method of "
                                     "performance, e.g. 银行转账 or 现金).", n=label)))
    if courts.needs_inviting_court(agreement.case) and agreement.inviting_court is None:
        found.append(("inviting_court_id", _("The case was referred by a court: name the court "
                                             "that invited the mediation, the one competent to "
                                             "confirm it (Civil Procedure Law art. 205). An "
                                             "administrator adds a missing court under Courts.")))
    if agreement.mediator is None:
        found.append(("mediator", _("Name the mediator who signs the agreement.")))
    if not agreement.recorder_name:
        found.append(("recorder_name", _("Name the recorder.")))
    if agreement.copies < len(agreement.parties) + 1:
        found.append(("copies", _("Each party holds a copy and the committee keeps one: at "
                                  "least %(n)d copies.", n=len(agreement.parties) + 1)))
    if agreement.case.state not in DRAFTING_STATES:
        found.append(("case", _("The case is no longer in mediation or settled.")))
    return found


# ---- issuing ----------------------------------------------------------------------------

def _allocate(committee_id: int, year: int) -> int:
    """The next number of the committee's year, gapless: the counter row is updated in the
    same transaction as the issue, so a failed issue gives its number back."""
    stmt = (update(AgreementCounter)
            .where(AgreementCounter.committee_id == committee_id, AgreementCounter.year == year)
            .values(last=AgreementCounter.last + 1).returning(AgreementCounter.last))
    seq = db.session.execute(stmt).scalar()
    if seq is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(AgreementCounter).values(committee_id=committee_id,
                                                                    year=year, last=0))
        except IntegrityError:
            pass  # created by a concurrent issue: fine
        seq = db.session.execute(stmt).scalar_one()
    return seq


def _verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _i in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(text: str | None) -> str:
    raw = re.sub(r"[^A-Z0-9]", "", (text or "").upper())
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _check_issue_day(agreement: Agreement, on: date) -> None:
    """A day of issue the caller gives: not to come, not before the case could have had its
    agreement (issuing settles a case in mediation: it had been accepted), and a correction
    not before the agreement it replaces."""
    case, replaced = agreement.case, agreement.supersedes
    if on > today():
        raise OperationError(_("The date is in the future."))
    if case.state is S.IN_MEDIATION:
        if case.accepted_at is not None and on < local_date(case.accepted_at):
            raise OperationError(_("The date is before the case was accepted (%(date)s).",
                                   date=local_date(case.accepted_at).isoformat()))
    elif case.outcome_at is not None and on < local_date(case.outcome_at):
        raise OperationError(_("The date is before the case was settled (%(date)s).",
                               date=local_date(case.outcome_at).isoformat()))
    if replaced is not None and on < replaced.issued_on:
        raise OperationError(_("The date is before the agreement was issued (%(date)s).",
                               date=replaced.issued_on.isoformat()))


def issue(by: User, agreement: Agreement, *, verify_url: str,
          seen_version: int | None = None, on: date | None = None) -> Agreement:
    """Number the draft, render its PDF once and keep the bytes; a correction supersedes.

    ``verify_url`` is the public verification page's address with ``{code}`` in it.
    ``on`` is the day of issue, today by default: the number's year, ``issued_on``, the
    day of ``issued_at`` and so the PDF follow it.  The demo's history
    (mediation.demo_activity) issues its agreements on the days it says they were issued:
    one issued last December is numbered in last year's sequence even in January.
    """
    # Lock the case (PostgreSQL) so that a double click waits and then finds it issued.
    _lock_case(agreement.case)
    db.session.refresh(agreement)
    if not agreement.is_draft:
        raise OperationError(_("This agreement has already been issued as %(number)s.",
                               number=agreement.number))
    other = db.session.scalar(select(Agreement).where(
        Agreement.case_id == agreement.case_id, Agreement.status == AgreementStatus.ISSUED,
        Agreement.id != (agreement.supersedes_id or 0)))
    if other is not None:  # one agreement in force per case: a change is a correction
        raise OperationError(_("This case already has agreement %(number)s: to change it, "
                               "make a correction.", number=other.number))
    _check_version(agreement, seen_version)
    found = problems(agreement)
    if found:
        raise OperationError(found[0][1], field=found[0][0])
    if on is not None:
        _check_issue_day(agreement, on)
    committee = agreement.committee
    now = utcnow()
    issued_on = today() if on is None else on
    # A day given: the clock's time of day on that day (Beijing time).
    issued_at = now if on is None else datetime.combine(
        on, now.astimezone(LOCAL).timetz()).astimezone(UTC)
    seq = _allocate(committee.id, issued_on.year)
    # The row's CHECKs want number, code, PDF and status together: no flush in between.
    with db.session.no_autoflush:
        agreement.year, agreement.seq = issued_on.year, seq
        agreement.number = rules.format_number(rules.number_pattern(committee),
                                               year=issued_on.year,
                                               short_name=committee.short_name, n=seq)
        agreement.verification_code = _verification_code()
        agreement.issued_on, agreement.issued_at = issued_on, issued_at
        agreement.issued_by_id = by.id
        pdf = documents.agreement_pdf(agreement, verify_url=verify_url.format(
            code=agreement.verification_code))
        agreement.pdf, agreement.sha256 = pdf, hashlib.sha256(pdf).hexdigest()
        agreement.status = AgreementStatus.ISSUED
    previous = agreement.supersedes
    if previous is not None:
        previous.status = AgreementStatus.SUPERSEDED
        _event(previous, by, _("Agreement %(old)s superseded by %(new)s.", old=previous.number,
                               new=agreement.number))
    case = agreement.case
    if case.state is S.IN_MEDIATION:
        transition(case, S.SETTLED, by, _("Written agreement %(number)s issued.",
                                          number=agreement.number))
    _event(agreement, by, _("Agreement %(number)s issued.", number=agreement.number),
           number=agreement.number, sha256=agreement.sha256)
    _audit("issue", agreement, by, after={"number": agreement.number,
                                          "sha256": agreement.sha256,
                                          "version": agreement.version})
    emit(EventType.AGREEMENT_ISSUED, case, agreement=agreement)
    db.session.flush()
    return agreement


def correct(by: User, agreement: Agreement) -> Agreement:
    """A new draft version from an issued agreement; issuing it supersedes this one."""
    _lock_case(agreement.case)
    db.session.refresh(agreement)
    refusal = correction_refusal(agreement)
    if refusal:
        raise OperationError(refusal)
    version = 1 + db.session.scalar(select(db.func.max(Agreement.version))
                                    .where(Agreement.case_id == agreement.case_id))
    # Setting ``supersedes`` puts the draft on the old version's ``superseded_by`` before
    # the draft is in the session: no autoflush until it is added.
    with db.session.no_autoflush:
        draft = Agreement(
            case=agreement.case, committee=agreement.committee, version=version,
            supersedes=agreement, facts=agreement.facts,
            disputed_matters=agreement.disputed_matters, copies=agreement.copies,
            mediator=agreement.mediator, recorder_name=agreement.recorder_name,
            inviting_court=agreement.inviting_court, concerns_status=agreement.concerns_status,
            determines_ownership=agreement.determines_ownership, created_by_id=by.id)
        draft.parties = [AgreementParty(party_id=e.party_id, position=e.position,
                                        responsibility=e.responsibility)
                         for e in agreement.parties]
        draft.terms = [Term(position=t.position, content=t.content, amount_fen=t.amount_fen,
                            liability=t.liability, method=t.method, place=t.place,
                            due_on=t.due_on, on_the_spot=t.on_the_spot,
                            bound=[TermParty(party_id=b.party_id, side=b.side,
                                             position=b.position, share_fen=b.share_fen)
                                   for b in t.bound],
                            instalments=[Instalment(due_on=i.due_on, amount_fen=i.amount_fen)
                                         for i in t.instalments])
                       for t in agreement.terms]
        db.session.add(draft)
    db.session.flush()
    _event(draft, by, _("Correction of %(number)s started (version %(version)d).",
                        number=agreement.number, version=version))
    _audit("correct", draft, by, after={"supersedes": agreement.number})
    return draft


# ---- signatures and effect (PML 29) -----------------------------------------------------

SIGNERS = ("mediator", "recorder", "seal")


def _check_signing_date(agreement: Agreement, signed_on: date | None,
                        field: str = "signed_on") -> date:
    if agreement.status is not AgreementStatus.ISSUED:
        raise OperationError(_("Only an issued agreement in force is signed."))
    if signed_on is None:
        raise OperationError(_("Give the date."), field=field)
    if signed_on < agreement.issued_on:
        raise OperationError(_("The date is before the agreement was issued (%(date)s).",
                               date=agreement.issued_on.isoformat()), field=field)
    if signed_on > today():
        raise OperationError(_("The date is in the future."), field=field)
    return signed_on


def _update_effect(agreement: Agreement, by: User) -> None:
    """In force from the latest of all signatures and the seal, or the signed copy's date."""
    dates = [e.signed_on for e in agreement.parties] + [
        agreement.mediator_signed_on, agreement.sealed_on]
    # The recorder signs too, but PML 29 does not make the effect wait for it.
    effective = max(dates) if all(dates) else None
    if agreement.signed_copy_on is not None:
        effective = max(filter(None, [agreement.signed_copy_on, effective]))
    if effective != agreement.effective_on:
        agreement.effective_on = effective
        if effective is not None:
            _event(agreement, by, _("Agreement %(number)s in force from %(date)s.",
                                    number=agreement.number, date=effective.isoformat()),
                   effective_on=effective.isoformat())


def record_signature(by: User, agreement: Agreement, signer: str, signed_on: date | None,
                     method: SignMethod | None = None) -> None:
    """``signer`` is ``party:<id>``, ``mediator``, ``recorder`` or ``seal``."""
    signed_on = _check_signing_date(agreement, signed_on)
    if signer.startswith("party:"):
        entry = next((e for e in agreement.parties if str(e.party_id) == signer[6:]), None)
        if entry is None:
            raise OperationError(_("Choose who signed."), field="signer")
        entry.signed_on, entry.sign_method = signed_on, method or SignMethod.SIGNATURE
        who = entry.party.name
    elif signer in SIGNERS:
        setattr(agreement, {"mediator": "mediator_signed_on", "recorder": "recorder_signed_on",
                            "seal": "sealed_on"}[signer], signed_on)
        who = {"mediator": _("the mediator"), "recorder": _("the recorder"),
               "seal": _("the committee's seal")}[signer]
    else:
        raise OperationError(_("Choose who signed."), field="signer")
    _event(agreement, by, _("Signature of %(who)s on %(date)s recorded.", who=who,
                            date=signed_on.isoformat()))
    _audit("sign", agreement, by, after={"signer": signer, "signed_on": signed_on})
    _update_effect(agreement, by)
    db.session.flush()


def attach_signed_copy(by: User, agreement: Agreement, filename: str, data: bytes,
                       completed_on: date | None) -> None:
    """The scanned paper copy with every signature and the seal, completed on that day."""
    completed_on = _check_signing_date(agreement, completed_on, "completed_on")
    attachment = attachments.add_attachment(by, agreement.case, filename, data,
                                            _("Signed copy of %(number)s",
                                              number=agreement.number))
    agreement.signed_copy, agreement.signed_copy_on = attachment, completed_on
    _audit("signed_copy", agreement, by, after={"sha256": attachment.sha256,
                                                "completed_on": completed_on})
    _update_effect(agreement, by)
    db.session.flush()


# ---- performance (履行) -----------------------------------------------------------------

def record_performance(by: User, term: Term, performed_on: date | None,
                       on_the_spot: bool = False) -> None:
    agreement = term.agreement
    if agreement.status is not AgreementStatus.ISSUED:
        raise OperationError(_("Performance is recorded on the agreement in force."))
    if performed_on is None or performed_on > today():
        raise OperationError(_("Give the day it was performed (not in the future)."),
                             field="performed_on")
    term.performed_on, term.on_the_spot = performed_on, on_the_spot or term.on_the_spot
    for instalment in term.instalments:
        instalment.paid_on = instalment.paid_on or performed_on
    term.overdue_since = None
    _event(agreement, by, _("Term %(n)s performed on %(date)s.",
                            n=rules.chinese_ordinal(term.position + 1),
                            date=performed_on.isoformat()))
    _audit("perform", agreement, by, after={"term": term.position + 1,
                                            "performed_on": performed_on})
    db.session.flush()


def record_instalment(by: User, instalment: Instalment, paid_on: date | None) -> None:
    term = instalment.term
    if term.agreement.status is not AgreementStatus.ISSUED:
        raise OperationError(_("Performance is recorded on the agreement in force."))
    if paid_on is None or paid_on > today():
        raise OperationError(_("Give the day it was paid (not in the future)."),
                             field="paid_on")
    instalment.paid_on = paid_on
    if all(i.paid_on for i in term.instalments):
        term.performed_on = max(i.paid_on for i in term.instalments)
    if not rules.overdue_parts(term, today()):
        term.overdue_since = None
    _event(term.agreement, by, _("Instalment of %(amount)s yuan due %(due)s (term %(n)s) paid "
                                 "on %(date)s.", amount=instalment.amount_yuan,
                                 due=instalment.due_on.isoformat(),
                                 n=rules.chinese_ordinal(term.position + 1),
                                 date=paid_on.isoformat()))
    _audit("instalment", term.agreement, by, after={"term": term.position + 1,
                                                    "due_on": instalment.due_on,
                                                    "paid_on": paid_on})
    db.session.flush()


# Agreement terms checked per batch.
PERFORMANCE_BATCH = 1000


def _may_be_overdue(on: date):
    """Terms in force, not yet flagged, with a due day before ``on``: what
    ``rules.overdue_parts`` then decides on (an instalment's day decides where there are
    instalments)."""
    late_instalment = select(Instalment.id).where(
        Instalment.term_id == Term.id, Instalment.paid_on.is_(None), Instalment.due_on < on)
    return and_(Agreement.status == AgreementStatus.ISSUED, Term.performed_on.is_(None),
                Term.overdue_since.is_(None), or_(Term.due_on < on, late_instalment.exists()))


def terms_to_check(on: date | None = None) -> int:
    """How many terms the performance check goes through (for its progress bar)."""
    return db.session.scalar(select(func.count()).select_from(Term).join(Term.agreement)
                             .where(_may_be_overdue(on or today())))


def check_performance(on: date | None = None, *, batch_size: int = PERFORMANCE_BATCH,
                      after_batch: Callable[[int], None] | None = None) -> int:
    """Mark overdue terms of agreements in force and put a follow-up on the case's timeline
    for its mediator; running it again adds nothing.

    Like ``check_deadlines``: batches by term id, ``after_batch(terms gone through so far)``
    after each (the CLI commits there).
    """
    on = on or today()
    flagged = checked = last_id = 0
    while True:
        terms = db.session.scalars(
            select(Term).join(Term.agreement)
            .where(_may_be_overdue(on), Term.id > last_id).order_by(Term.id).limit(batch_size)
            .options(contains_eager(Term.agreement), selectinload(Term.instalments))).all()
        if not terms:
            return flagged
        events = []
        for term in terms:
            late = rules.overdue_parts(term, on)
            if not late:
                continue
            term.overdue_since = min(late)
            agreement = term.agreement
            # As ``_event`` words it, written with the batch's other entries at once.
            events.append(event_row(
                agreement.case_id, EventKind.AGREEMENT,
                _("Term %(n)s of %(number)s is overdue since %(date)s: visit the parties and "
                  "record a follow-up.", n=rules.chinese_ordinal(term.position + 1),
                  number=agreement.number, date=min(late).isoformat()),
                data={"agreement_id": agreement.id, "overdue_term": term.position + 1}))
        log_events(events)
        flagged += len(events)
        db.session.flush()
        last_id, checked = terms[-1].id, checked + len(terms)
        if after_batch is not None:
            after_batch(checked)


# ---- judicial confirmation (司法确认) ---------------------------------------------------

def application_refusal(agreement: Agreement) -> str | None:
    """Why no application for confirmation can be made for this agreement, or None."""
    if not agreement.in_force:
        return _("Only an agreement in force can be confirmed: record the signatures and the "
                 "seal first.")
    verdict = rules.eligibility(agreement)
    return None if verdict.eligible else verdict.refusals[0]


def filing_refusal(agreement: Agreement) -> str | None:
    """Why a filing with a court cannot be recorded now, or None."""
    results = {c.result for c in agreement.confirmations}
    if results & {ConfirmationResult.PENDING, ConfirmationResult.CONFIRMED}:
        return _("An application for this agreement is already with a court or has been "
                 "confirmed.")
    if ConfirmationResult.DISMISSED in results:
        return _("The court dismissed the application for this agreement: the parties may "
                 "change it (a correction) or reach a new one, or sue (Civil Procedure Law "
                 "art. 206).")
    return application_refusal(agreement)


def correction_refusal(agreement: Agreement) -> str | None:
    """Why this agreement cannot be corrected now, or None."""
    if agreement.status is not AgreementStatus.ISSUED:
        return _("Only the agreement in force can be corrected.")
    if agreement.superseded_by is not None or open_draft(agreement.case) is not None:
        return _("A correction of this agreement is already being drafted.")
    results = {c.result for c in agreement.confirmations}
    if ConfirmationResult.PENDING in results:
        return _("An application to confirm this agreement is with the court: record its "
                 "decision before changing the agreement.")
    if ConfirmationResult.CONFIRMED in results:
        return _("A court confirmed this agreement: it is enforced as confirmed and no longer "
                 "corrected here.")
    return None


def file_confirmation(by: User, agreement: Agreement, *, court: Court | None,
                      court_name: str | None, filed_on: date | None,
                      case_reference: str | None) -> JudicialConfirmation:
    """The parties have filed their joint application with a court."""
    refusal = filing_refusal(agreement)
    if refusal:
        raise OperationError(refusal)
    name = court.name if court else (court_name or "").strip()
    if not name:
        raise OperationError(_("Choose the court."), field="court_id")
    if court is not None and court.id not in {c.court.id for c in
                                              courts.competent_courts(agreement) if c.court}:
        raise OperationError(_("%(court)s is not competent to confirm this agreement (Civil "
                               "Procedure Law art. 205): choose one of the competent courts, "
                               "or name the court.", court=court.name), field="court_id")
    if filed_on is None or filed_on > today():
        raise OperationError(_("Give the day it was filed (not in the future)."),
                             field="filed_on")
    if filed_on < agreement.effective_on:
        raise OperationError(_("The agreement took effect on %(date)s: it cannot have been "
                               "filed before.", date=agreement.effective_on.isoformat()),
                             field="filed_on")
    confirmation = JudicialConfirmation(agreement=agreement, court=court, court_name=name,
                                        filed_on=filed_on,
                                        case_reference=(case_reference or "").strip() or None,
                                        created_by_id=by.id)
    db.session.add(confirmation)
    deadline = rules.confirmation_deadline(agreement.effective_on)
    _event(agreement, by, _("Application for judicial confirmation filed with %(court)s on "
                            "%(date)s.", court=name, date=filed_on.isoformat()),
           late=filed_on > deadline)
    _audit("confirmation.file", agreement, by, after={"court": name, "filed_on": filed_on})
    db.session.flush()
    return confirmation


def record_ruling(by: User, confirmation: JudicialConfirmation, *, result: ConfirmationResult,
                  ruling_number: str | None, ruled_on: date | None,
                  note: str | None) -> None:
    if confirmation.result is not ConfirmationResult.PENDING:
        raise OperationError(_("The court's decision has already been recorded."))
    if result is ConfirmationResult.PENDING:
        raise OperationError(_("Choose the court's decision."), field="result")
    if ruled_on is None or ruled_on > today() or ruled_on < confirmation.filed_on:
        raise OperationError(_("Give the day of the ruling (after filing, not in the future)."),
                             field="ruled_on")
    if result is ConfirmationResult.CONFIRMED and not (ruling_number or "").strip():
        raise OperationError(_("Give the ruling's number, e.g. （2026）鲁0502民特12号."),
                             field="ruling_number")
    confirmation.result, confirmation.ruled_on = result, ruled_on
    confirmation.ruling_number = (ruling_number or "").strip() or None
    confirmation.note = (note or "").strip() or None
    _event(confirmation.agreement, by, _("%(court)s: %(result)s on %(date)s.",
                                         court=confirmation.court_name, result=result.title,
                                         date=ruled_on.isoformat()),
           ruling_number=confirmation.ruling_number)
    _audit("confirmation.ruling", confirmation.agreement, by,
           after={"result": result, "ruling_number": confirmation.ruling_number,
                  "ruled_on": ruled_on})
    emit(EventType.CONFIRMATION_RULED, confirmation.agreement.case, confirmation=confirmation)
    db.session.flush()


# ---- reading ----------------------------------------------------------------------------

def read_pdf(by: User, agreement: Agreement) -> bytes:
    """The issued bytes; the parties' details are in them, so each read is in the audit log."""
    if agreement.is_draft:
        raise OperationError(_("A draft has no issued PDF."))
    _audit("pdf.read", agreement, by, note=agreement.number)
    return agreement.pdf


def read_signed_copy(by: User, agreement: Agreement) -> tuple[Attachment, bytes]:
    """The scanned signed copy and its bytes; each read is in the audit log, as a download
    of any of the case's files is."""
    attachment = agreement.signed_copy
    if attachment is None:
        raise OperationError(_("No signed copy of this agreement has been uploaded."))
    audit.record("attachment.read", attachment, actor=by, note=agreement.case.number)
    return attachment, attachments.read_attachment(attachment)


def preview_pdf(by: User, agreement: Agreement) -> bytes:
    """The draft as it will print, watermarked, never kept; audited like the issued PDF."""
    if not agreement.is_draft:
        raise OperationError(_("Agreement %(number)s has been issued: download its PDF.",
                               number=agreement.number))
    pdf = documents.agreement_pdf(agreement, draft=True)
    _audit("preview.read", agreement, by)
    return pdf


# Who may produce the application: it carries the parties' full ID numbers.
REVEAL = "cases.reveal"


def application_closed(agreement: Agreement, on: date | None = None) -> str | None:
    """After the 30 days (PML 33, CPL 205) no application is made: why, and what remains
    (PML 32); None while the window is open or the agreement is not in force yet."""
    if not agreement.in_force:
        return None
    deadline = rules.confirmation_deadline(agreement.effective_on)
    if (on or today()) <= deadline:
        return None
    return _("The 30 days for applying for judicial confirmation ended on %(date)s (People's "
             "Mediation Law art. 33, Civil Procedure Law art. 205): a court no longer accepts "
             "the application, so it is not produced. What remains: the parties may reach a "
             "new agreement through mediation, or a party may sue in the people's court over "
             "the performance or content of this agreement, which binds them as a contract "
             "(People's Mediation Law art. 32).", date=deadline.isoformat())


@dataclass
class ConfirmationTrack:
    """Where an agreement stands for judicial confirmation, as its page shows it."""

    eligibility: rules.Eligibility
    deadline: date | None  # the last day to apply; None until it takes effect
    provisional_years: list[int]  # of the days counted, those without the official calendar
    competent: list[courts.CompetentCourt]
    materials: list[str]
    application_closed: str | None  # the 30 days are over: why, and what remains
    application_refusal: str | None  # why no application is produced now (that, or another)
    filing_refusal: str | None  # why no filing can be recorded now

    @property
    def may_apply(self) -> bool:
        return self.application_refusal is None

    @property
    def may_file(self) -> bool:
        return self.filing_refusal is None


def confirmation_track(agreement: Agreement, on: date | None = None) -> ConfirmationTrack:
    """Eligibility and its reasons, the 30 days, the competent courts, the materials and what
    may be done now."""
    deadline = rules.confirmation_deadline(agreement.effective_on) \
        if agreement.effective_on else None
    issued = not agreement.is_draft
    closed = application_closed(agreement, on)
    return ConfirmationTrack(
        eligibility=rules.eligibility(agreement), deadline=deadline,
        provisional_years=provisional_years_between(agreement.effective_on, deadline)
        if deadline else [],
        competent=courts.competent_courts(agreement) if issued else [],
        materials=documents.materials(agreement) if issued and not closed else [],
        application_closed=closed, application_refusal=application_refusal(agreement) or closed,
        filing_refusal=filing_refusal(agreement))


def application_pdf(by: User, agreement: Agreement, choice: int = 0) -> bytes:
    """The joint application for judicial confirmation to the ``choice``-th competent court
    (the first by default), prefilled; audited (it carries the parties' details), and each
    full ID number in it is an audited reveal."""
    refusal = application_refusal(agreement) or application_closed(agreement)
    if refusal:
        raise OperationError(refusal)
    if not access.can(by, REVEAL, agreement.case):
        raise OperationError(_("The application shows the parties' full ID numbers: only "
                               "someone allowed to see them may produce it."))
    with force_locale("zh"):  # the court's name goes into a Chinese document
        names = [c.name for c in courts.competent_courts(agreement)]
    if not 0 <= choice < len(names):
        raise OperationError(_("The list of competent courts has no number %(n)d: choose one "
                               "of them.", n=choice), field="court_index")
    court_name = names[choice]
    id_numbers = {entry.party_id: reveal_id_number(by, entry.party)
                  for entry in agreement.parties if entry.party.id_number_encrypted}
    pdf = documents.application_pdf(agreement, court_name=court_name, id_numbers=id_numbers)
    _audit("application.read", agreement, by, note=court_name)
    return pdf


def find_by_code(code: str | None) -> Agreement | None:
    code = normalise_code(code)
    if len(code) != 19:
        return None
    return db.session.scalar(select(Agreement).where(Agreement.verification_code == code))


def same_bytes(agreement: Agreement, data: bytes) -> bool:
    return secrets.compare_digest(hashlib.sha256(data).hexdigest(), agreement.sha256 or "")


def agreements_of(case: Case) -> list[Agreement]:
    return list(db.session.scalars(select(Agreement).where(Agreement.case_id == case.id)
                                   .order_by(Agreement.version)))


def party_options(agreement: Agreement) -> list[Party]:
    return [entry.party for entry in agreement.parties]
