"""What the portal does for a party of a case: its access code, its own view of the case,
and its answer to a session notice (当事人查询、回复)."""

from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mediation.agreements import rules as agreement_rules
from mediation.agreements.models import Agreement, AgreementParty, AgreementStatus
from mediation.areas.models import AreaKind, Centre
from mediation.cases import operations as case_ops
from mediation.cases.models import Case, EventKind, Party
from mediation.cases.queries import committee_for
from mediation.cases.states import CaseState
from mediation.core import audit
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.i18n import lazy_gettext as _l
from mediation.extensions import db
from mediation.portal import codes
from mediation.portal.models import AccessCode, Rating, Satisfaction
from mediation.sessions import reminders
from mediation.sessions.models import (
    MediationSession,
    Participant,
    ParticipantRole,
    Reply,
    SessionStatus,
)
from mediation.sessions.notices import place_text, status_page, when_text

# The text that carries a party's code: Chinese whatever the interface language (the
# recipients are residents), short enough for two SMS.
ACCESS_SMS = ("【人民调解】{name}您好：您的纠纷已登记，案件编号{number}，查询码{code}。"
              "可在{where}输入案件编号和查询码，查询办理进度、回复调解会议通知。"
              "查询码请勿告诉他人。")
ACCESS_SUBJECT = "案件查询码（案件{number}）"
REASON_MAX = 500
COMMENT_MAX = 500
RESIDENT = "resident"  # the audit log's actor for what a party does on the portal
WHAT_TO_BRING = _l("Your identity document and the evidence you have (papers, photos, "
                   "receipts). Someone coming for you brings a signed power of attorney.")
ALREADY_RATED = _l("You have already rated the service for this case. Thank you.")
# The outcomes after which a party is told whom to turn to (case.referred_to).
REFERRING = frozenset({CaseState.DECLINED, CaseState.REFERRED_OUT})


def issue_code(by, party: Party) -> str:
    """A new code for ``party`` (the old one stops working), texted to its mobile phone;
    the plain code, to show once (a page that then redirects shows it on the case page)."""
    code = codes.issue(by, party)
    values = {"name": party.name, "number": party.case.number, "code": code,
              "where": status_page()}
    reminders.queue_to_party(party, reminders.ACCESS, ACCESS_SUBJECT.format(**values),
                             ACCESS_SMS.format(**values))
    if has_request_context():
        g.setdefault("new_access_codes", []).append(
            {"case": party.case.number, "party": party.id, "name": party.name, "code": code})
    return code


def give_code_on_registration(by, party: Party) -> None:
    """Staff registered the case or added the party: a party with a phone gets its code.

    A resident's own report (``by`` None) hands its code out on the receipt instead.
    """
    if by is not None and party.phone:
        issue_code(by, party)


case_ops.PARTY_ADDED.append(give_code_on_registration)


def give_codes_on_acceptance(by, case: Case) -> None:
    """Staff accepted the case: each party with a phone and no code yet gets one (the other
    side a resident's report named gets none before staff have looked at the case)."""
    coded = parties_with_codes(case)
    for party in case.parties:
        if party.phone and party.id not in coded:
            issue_code(by, party)


case_ops.CASE_ACCEPTED.append(give_codes_on_acceptance)


def parties_with_codes(case: Case) -> set[int]:
    return set(db.session.scalars(select(AccessCode.party_id).join(Party).where(
        Party.case_id == case.id)))


def shown_codes(case: Case, remembered: list[dict]) -> tuple[list[dict], list[dict]]:
    """Of the codes remembered for display, those of this case that still open their
    party's view (a code replaced or never saved is not shown), and the others."""
    mine = [entry for entry in remembered if entry.get("case") == case.number]
    rest = [entry for entry in remembered if entry.get("case") != case.number]
    valid = []
    for entry in mine:
        party = codes.party_for(case.number, entry["code"])
        if party is not None and party.id == entry["party"]:
            valid.append(entry)
    return valid, rest


# ---- the party's view ---------------------------------------------------------------------

@dataclass
class SessionItem:
    session: MediationSession
    participant: Participant
    when: str
    place: str
    may_reply: bool


def _centre_of(case: Case) -> Centre | None:
    node = case.grid
    while node is not None:
        if node.kind in (AreaKind.STREET, AreaKind.DISTRICT):
            centre = db.session.scalar(select(Centre).where(Centre.area_id == node.id)
                                       .order_by(Centre.id).limit(1))
            if centre is not None:
                return centre
        node = node.parent
    return None


def sessions_of(party: Party, now: datetime | None = None) -> list[SessionItem]:
    """The party's own sessions that have not ended, soonest first (cancelled ones too:
    a party must hear that one is off)."""
    now = now or utcnow()
    rows = db.session.execute(
        select(MediationSession, Participant)
        .join(Participant, Participant.session_id == MediationSession.id)
        .where(Participant.party_id == party.id, Participant.role == ParticipantRole.PARTY,
               MediationSession.ends_at > now)
        .order_by(MediationSession.starts_at)).all()
    return [SessionItem(session, participant, when_text(session), place_text(session),
                        may_reply=session.status is SessionStatus.PLANNED
                        and session.starts_at > now)
            for session, participant in rows]


def agreements_of(party: Party) -> list[Agreement]:
    """The issued agreements (in force or awaiting signature) that name this party."""
    return list(db.session.scalars(
        select(Agreement).join(AgreementParty, AgreementParty.agreement_id == Agreement.id)
        .where(Agreement.case_id == party.case_id, AgreementParty.party_id == party.id,
               Agreement.status == AgreementStatus.ISSUED)
        .order_by(Agreement.version)))


def view_of(party: Party) -> dict:
    """Everything a party's page shows, and nothing more: the case's course, the party's
    own sessions and agreements, the handling mediator's name and whom to call.

    The page and the API both show this, so they tell a party the same facts: the outcome
    is the one the case had (kept through follow-up and closure), with whom to turn to
    after a refusal or a referral.
    """
    case = party.case
    rating = rating_of(party)
    committee = committee_for(case)
    centre = _centre_of(case)
    agreements = [{"agreement": agreement,
                   "confirmation_deadline": agreement_rules.confirmation_deadline(
                       agreement.effective_on) if agreement.effective_on else None,
                   "confirmations": list(agreement.confirmations)}
                  for agreement in agreements_of(party)]
    return {
        "party": party, "case": case,
        "handler": case.handler.full_name if case.handler else None,
        "committee": committee.name if committee else None,
        "phone": (committee.phone if committee and committee.phone else None)
        or (centre.phone if centre else None),
        "centre": centre,
        "outcome": case.outcome,
        "referred_to": case.referred_to if case.outcome in REFERRING else None,
        "sessions": sessions_of(party), "what_to_bring": str(WHAT_TO_BRING),
        "agreements": agreements,
        "rating": rating, "may_rate": not case.is_open and rating is None,
    }


def may_download(party: Party, agreement: Agreement) -> bool:
    return agreement in agreements_of(party)


def own_session(party: Party, session_id: int) -> SessionItem | None:
    return next((item for item in sessions_of(party) if item.session.id == session_id), None)


def open_view(party: Party, note: str | None = None) -> None:
    """The right number and code opened the party's view: logged under the case's number,
    never with the code."""
    audit.record("portal.open", object_type="Case", object_id=party.case.number,
                 actor_name=RESIDENT, after={"party": party.id}, note=note)


@audit.acting_as(RESIDENT)
def reply_to_session(party: Party, session_id: int, reply: Reply, reason: str | None) -> None:
    """The party says whether it will come; the mediator sees it on the session page."""
    item = own_session(party, session_id)
    if item is None or not item.may_reply:
        raise OperationError(_("This session can no longer be answered here. Please call the "
                               "mediator."))
    reason = (reason or "").strip()[:REASON_MAX] or None
    if reply is not Reply.CONFIRMED and reason is None:
        raise OperationError(_("Please say why, or which time would suit you."),
                             field="reason")
    participant = item.participant
    before = {"reply": participant.reply.value if participant.reply else None}
    participant.reply = reply
    participant.reply_reason = reason if reply is not Reply.CONFIRMED else None
    participant.replied_at = utcnow()
    audit.record("session.reply", object_type="MediationSession", object_id=item.session.id,
                 before=before, after={"party": party.id, "reply": reply.value})
    db.session.flush()


# ---- the party's rating of the service ------------------------------------------------------

def rating_of(party: Party) -> Rating | None:
    return db.session.scalar(select(Rating).where(Rating.party_id == party.id))


def ratings_of(case: Case) -> list[Rating]:
    return list(db.session.scalars(select(Rating).where(Rating.case_id == case.id)
                                   .order_by(Rating.rated_at)))


def may_rate(party: Party) -> bool:
    """Once the case has its outcome (whatever it was), and once per party."""
    return not party.case.is_open and rating_of(party) is None


@audit.acting_as(RESIDENT)
def rate_service(party: Party, satisfaction: Satisfaction, comment: str | None) -> Rating:
    """The party rates the service; it joins the case's follow-up record (timeline) and,
    through the ratings table, the statistics."""
    case = party.case
    if case.is_open:
        raise OperationError(_("You can rate the service once your case has its outcome."))
    if rating_of(party) is not None:
        raise OperationError(str(ALREADY_RATED))
    comment = (comment or "").strip()[:COMMENT_MAX] or None
    rating = Rating(case=case, party=party, satisfaction=satisfaction, comment=comment)
    try:
        with db.session.begin_nested():  # the same party's rating sent at the same moment
            db.session.add(rating)        # (a double tap, two tabs) may have got in first
    except IntegrityError:
        raise OperationError(str(ALREADY_RATED)) from None
    # Written in Chinese whatever the resident's interface language: the record is the
    # centre's, read by its staff.
    with force_locale("zh"):
        said = _("%(name)s rated the service: %(rating)s.", name=party.name,
                 rating=str(satisfaction.title))
        if comment:
            said += _("Comment: %(comment)s", comment=comment)
    case_ops.log_event(case, None, EventKind.FOLLOW_UP, reason=said,
                       data={"rating": satisfaction.value, "party": party.id})
    audit.record("case.rating", object_type="Case", object_id=case.number,
                 after={"party": party.id, "satisfaction": satisfaction.value})
    db.session.flush()
    return rating
