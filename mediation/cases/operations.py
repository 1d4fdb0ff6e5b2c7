"""The verbs on cases.  Each validates, changes the objects, writes the timeline and the
audit log, and flushes; the caller commits once."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from mediation.areas.models import AreaKind, AreaNode
from mediation.cases import access, rules
from mediation.cases import waiting as proposal_marks
from mediation.cases.models import (
    CHINA,
    STATELESS,
    Assignment,
    AssignmentRole,
    Case,
    CaseCounter,
    CaseEvent,
    Category,
    Department,
    EscalationProposal,
    EventKind,
    FollowUp,
    Gender,
    HelpRequest,
    HomeRegion,
    Party,
    PartyKind,
    PartyRole,
    ProposalRule,
    ProposalStatus,
    SupervisionNotice,
)
from mediation.cases.states import (
    ALLOWED,
    OPEN_STATES,
    OUTCOME_STATES,
    PORTAL_SOURCES,
    REASON_REQUIRED,
    RISK_FACTORS,
    CaseState,
    Level,
    RiskLevel,
    Source,
    assess_risk,
)
from mediation.core import audit, bulk, crypto
from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.identity import DocumentType, check_id_number, check_uscc, mask_id
from mediation.core.permissions import can_view_path
from mediation.core.validators import PHONE_INVALID, normalise_phone
from mediation.extensions import db
from mediation.users.models import User
from mediation.users.operations import find_user
from mediation.users.roles import Role
from mediation.webhooks.outbox import EventType, emit, emit_state_change

S = CaseState
# Domains above cases act when a party joins a case, in the same transaction: functions of
# (by, party). The portal gives each party with a phone its access code (查询码).
PARTY_ADDED: list = []
# ... and when staff accept a case, in the same transaction: functions of (by, case). The
# portal gives a code to each party with a phone that has none yet (the other side named
# in a resident's own report).
CASE_ACCEPTED: list = []


class StaleEdit(OperationError):
    """Someone else changed the case since this person loaded it."""


def check_version(case: Case, seen_version: int | None) -> None:
    """Optimistic locking for forms: refuse a change based on an old copy of the case."""
    if seen_version is not None and seen_version != case.version:
        raise StaleEdit(_("Someone else changed this case while you were editing it. Nothing "
                          "was saved: reload the page, check the changes and try again."))


def log_event(case: Case, by: User | None, kind: EventKind, *, reason: str | None = None,
              **fields) -> CaseEvent:
    """Add an entry to the case's timeline (other domains use it for their steps too)."""
    event = CaseEvent(case=case, actor=by, kind=kind, reason=reason or None, **fields)
    db.session.add(event)
    return event


def event_row(case_id: int, kind: EventKind, reason: str, **fields) -> dict:
    """A system entry on a case's timeline (no actor), as a row for ``log_events``."""
    return {"case_id": case_id, "actor_id": None, "kind": kind, "reason": reason,
            "from_level": None, "to_level": None, "data": None, **fields}


def log_events(rows: list[dict]) -> None:
    """Many entries at once (the nightly checks): one INSERT; a timeline already read in
    this session shows them."""
    bulk.insert_rows(CaseEvent, rows)
    for case_id in {row["case_id"] for row in rows}:
        case = db.session.identity_map.get(db.session.identity_key(Case, case_id))
        if case is not None:
            db.session.expire(case, ["events"])


def audit_case(action: str, case: Case, by: User | None, **kwargs) -> None:
    """An audit entry about a case, filed under its number."""
    audit.record(f"case.{action}", object_type="Case", object_id=case.number, actor=by,
                 **kwargs)


# ---- numbers ----------------------------------------------------------------------------

def allocate_number(year: int) -> tuple[str, int]:
    """The next number of ``year``: an atomic UPDATE … RETURNING on the year's counter row.

    The row lock (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE) makes concurrent
    intakes queue; the UNIQUE (year, seq) constraint stands behind it.
    """
    stmt = (update(CaseCounter).where(CaseCounter.year == year)
            .values(last=CaseCounter.last + 1).returning(CaseCounter.last))
    seq = db.session.execute(stmt).scalar()
    if seq is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(CaseCounter).values(year=year, last=0))
        except IntegrityError:
            pass  # another intake created the row first: fine
        seq = db.session.execute(stmt).scalar_one()
    return f"{year}-{seq:06d}", seq


# ---- intake -----------------------------------------------------------------------------

@dataclass
class PartyInput:
    role: PartyRole
    kind: PartyKind
    name: str
    gender: Gender | None = None
    ethnicity: str | None = None
    nationality: str | None = None
    birth_date: date | None = None
    occupation: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    id_issuing_country: str | None = None
    phone: str | None = None
    address: str | None = None
    community: AreaNode | None = None
    uscc: str | None = None
    legal_representative: str | None = None
    legal_representative_title: str | None = None
    agent_name: str | None = None
    agent_phone: str | None = None
    agent_power_of_attorney: bool = False


@dataclass
class CaseInput:
    title: str
    source: Source
    grid: AreaNode
    category: Category
    narrative: str
    address: str | None = None
    amount_fen: int | None = None
    risks: dict[str, bool] = field(default_factory=dict)
    parties: list[PartyInput] = field(default_factory=list)
    hotline_ticket: str | None = None


HOTLINE_TICKET = re.compile(r"[A-Za-z0-9-]{1,40}")


def check_hotline_ticket(source: Source, ticket: str | None) -> str | None:
    """The hotline's ticket number as recorded (None for none): letters, digits and '-',
    typed full-width or not; only a case from the hotline has one."""
    ticket = unicodedata.normalize("NFKC", ticket or "").strip()
    if not ticket:
        return None
    if source is not Source.HOTLINE:
        raise OperationError(_("Only a case from the 12345 hotline has a hotline ticket "
                               "number."), field="hotline_ticket")
    if not HOTLINE_TICKET.fullmatch(ticket):
        raise OperationError(_("A hotline ticket number has letters, digits and “-” only, "
                               "at most 40 of them."), field="hotline_ticket")
    return ticket


# Documents only Chinese citizens hold, and those that tell the holder's nationality.  The
# Hong Kong/Macao travel permit is left out: since 2024 non-Chinese permanent residents of
# Hong Kong and Macao hold one too.
CITIZENS_DOCUMENTS = frozenset({DocumentType.RESIDENT_ID, DocumentType.RESIDENCE_PERMIT,
                                DocumentType.TAIWAN_PERMIT})
FOREIGNERS_DOCUMENTS = frozenset({DocumentType.FOREIGN_PERMANENT})
_CHINA_NAMES = frozenset({"中国", "中华人民共和国", "CHINA", "CHN", "PRC",
                          "PEOPLESREPUBLICOFCHINA"})
_REGION_NAMES = frozenset({"香港", "澳门", "台湾", "中国香港", "中国澳门", "中国台湾",
                           "香港特别行政区", "澳门特别行政区", "台湾地区", "中国台湾地区"})


def normalise_country(value: str | None) -> str | None:
    """'美国国籍 ' → '美国'; 中华人民共和国 → 中国; 无 → 无国籍; empty → None."""
    text = " ".join(unicodedata.normalize("NFKC", value or "").split())
    if text in ("无", STATELESS):
        return STATELESS
    text = text.removesuffix("国籍").strip() or text
    if re.sub(r"[\s.'’]", "", text).upper() in _CHINA_NAMES:
        return CHINA
    return text or None


def check_nationality(id_type: str | None, nationality: str | None,
                      issuing_country: str | None,
                      ethnicity: str | None) -> tuple[str | None, str | None]:
    """The (nationality, passport issuing country) to record for a person holding
    ``id_type`` (None: no document on record); OperationError where they do not fit."""
    document = DocumentType(id_type) if id_type else None
    nationality = normalise_country(nationality)
    if nationality in _REGION_NAMES:
        raise OperationError(_("Residents of Hong Kong, Macao and Taiwan are Chinese citizens: "
                               "leave the nationality empty and choose their document."),
                             field="nationality")
    foreign = nationality not in (None, CHINA)
    if document in CITIZENS_DOCUMENTS and foreign:
        raise OperationError(_("Only Chinese citizens hold this document (%(document)s): "
                               "leave the nationality empty, or choose the document the "
                               "party holds.", document=document.title), field="nationality")
    if document in FOREIGNERS_DOCUMENTS and not foreign:
        raise OperationError(_("Enter the nationality of the holder of a foreign permanent "
                               "resident ID card."), field="nationality")
    if document is DocumentType.PASSPORT and nationality is None:
        raise OperationError(_("Enter the passport holder's nationality (e.g. 美国; 中国 "
                               "for a Chinese passport)."), field="nationality")
    if foreign and (ethnicity or "").strip():
        raise OperationError(_("Ethnicity (民族) is recorded for Chinese citizens only: leave "
                               "it empty for a foreign national."), field="ethnicity")
    if document is not DocumentType.PASSPORT:
        return nationality, None
    issuing_country = normalise_country(issuing_country)
    if issuing_country is None and nationality == STATELESS:
        raise OperationError(_("Enter the country that issued the passport."),
                             field="id_issuing_country")
    return nationality, issuing_country or nationality


def home_region_of(id_type: str | None, number: str) -> HomeRegion | None:
    """Hong Kong, Macao or Taiwan, as a resident's document number tells it."""
    if id_type == DocumentType.RESIDENCE_PERMIT:
        return {"81": HomeRegion.HONG_KONG, "82": HomeRegion.MACAO,
                "83": HomeRegion.TAIWAN}.get(number[:2])
    if id_type == DocumentType.HK_MACAO_PERMIT:
        return {"H": HomeRegion.HONG_KONG, "M": HomeRegion.MACAO}.get(number[:1])
    if id_type == DocumentType.TAIWAN_PERMIT:
        return HomeRegion.TAIWAN
    return None


def _apply_party(party: Party, data: PartyInput) -> None:
    if data.kind is PartyKind.PERSON:
        if data.id_number:
            info = check_id_number(data.id_type, data.id_number)
            if info.birth_date and data.birth_date and info.birth_date != data.birth_date:
                raise OperationError(_("The birth date does not match the ID number (%(date)s).",
                                       date=info.birth_date.isoformat()), field="birth_date")
            party.id_type = data.id_type
            party.id_number_encrypted = crypto.encrypt(info.number)
            party.id_number_index = crypto.blind_index(info.number)
            party.id_number_masked = mask_id(info.number)
            party.birth_date = info.birth_date or data.birth_date
            party.gender = Gender(info.gender) if info.gender else data.gender
            party.home_region = home_region_of(data.id_type, info.number)
        elif party.id_number_encrypted and (data.id_type or None) == party.id_type:
            # Editing without retyping the number keeps the recorded one.
            party.birth_date = party.birth_date or data.birth_date
            party.gender = party.gender or data.gender
        else:
            party.id_type = party.id_number_encrypted = party.id_number_index = None
            party.id_number_masked = party.home_region = None
            party.birth_date, party.gender = data.birth_date, data.gender
        if party.birth_date and party.birth_date > rules.today():
            raise OperationError(_("The birth date is in the future."), field="birth_date")
        party.nationality, party.id_issuing_country = check_nationality(
            party.id_type, data.nationality, data.id_issuing_country, data.ethnicity)
        party.uscc = party.legal_representative = party.legal_representative_title = None
    else:
        party.uscc = check_uscc(data.uscc) if data.uscc else None
        party.legal_representative = data.legal_representative or None
        party.legal_representative_title = data.legal_representative_title or None
        party.id_type = party.id_number_encrypted = party.id_number_index = None
        party.id_number_masked = party.birth_date = party.gender = None
        party.nationality = party.id_issuing_country = party.home_region = None
    if data.community is not None and data.community.kind is not AreaKind.COMMUNITY:
        raise OperationError(_("Choose a community for where the party lives."),
                             field="community")
    party.role, party.kind, party.name = data.role, data.kind, data.name.strip()
    party.ethnicity = data.ethnicity or None
    party.occupation = data.occupation or None
    # Left empty, the recorded numbers stay (the edit form does not show them in full).
    party.phone = _phone(data.phone, "phone") or party.phone
    party.address = data.address or None
    party.community = data.community
    party.agent_name = data.agent_name or None
    party.agent_phone = _phone(data.agent_phone, "agent_phone") or party.agent_phone
    party.agent_power_of_attorney = bool(data.agent_name and data.agent_power_of_attorney)



def _phone(value: str | None, field: str) -> str | None:
    """A phone as the clash checks and reminders compare it (the forms give it so already;
    an API client may type anything)."""
    if not (value or "").strip():
        return None
    phone = normalise_phone(value)
    if phone is None:
        raise OperationError(str(PHONE_INVALID), field=field)
    return phone

def _party_summary(party: Party) -> dict:
    return {"name": party.name, "role": party.role.value, "kind": party.kind.value,
            "id_number": party.id_number_masked}


def _check_words(data: CaseInput) -> None:
    """A title and a narrative that say something (a form refuses blanks; so must the API)."""
    for name in ("title", "narrative"):
        if not (getattr(data, name) or "").strip():
            raise OperationError(_("This field is required."), field=name)


def create_case(by: User | None, data: CaseInput) -> Case:
    """Register a dispute: number, level by who reports it, risk, parties, deadlines.

    ``by`` is None for a resident's own report (the residents' portal): it starts in the grid.
    """
    _check_words(data)
    if data.grid.kind is not AreaKind.GRID:
        raise OperationError(_("Choose a grid."), field="grid")
    if not data.category.active:
        raise OperationError(_("This category is no longer in use."), field="category")
    if data.amount_fen is not None and data.amount_fen < 0:
        raise OperationError(_("The amount cannot be negative."), field="amount")
    if not any(p.role is PartyRole.APPLICANT for p in data.parties):
        raise OperationError(_("A case needs at least one applicant."), field="applicant_name")
    if by is not None and data.source in PORTAL_SOURCES:
        raise _portal_source(data.source)
    hotline_ticket = check_hotline_ticket(data.source, data.hotline_ticket)
    now = utcnow()
    number, seq = allocate_number(rules.local_date(now).year)
    risks = {name: bool(data.risks.get(name)) for name in RISK_FACTORS}
    case = Case(number=number, year=rules.local_date(now).year, seq=seq,
                title=data.title.strip(), source=data.source, grid=data.grid,
                category=data.category, narrative=data.narrative.strip(),
                address=data.address or None, amount_fen=data.amount_fen,
                risk_level=assess_risk(risks), state=S.REPORTED,
                level=starting_level(by), level_entered_at=now,
                reported_at=now, reported_by=by, hotline_ticket=hotline_ticket, **risks)
    db.session.add(case)
    for item in data.parties:
        # Attached once filled in: an autoflush during the checks must not meet a bare party.
        party = Party()
        _apply_party(party, item)
        party.case = case
        db.session.add(party)
    db.session.flush()
    case.level_deadline = rules.level_deadline(case)
    case.overall_deadline = rules.overall_deadline(case)
    log_event(case, by, EventKind.STATE, to_state=S.REPORTED, to_level=case.level,
           data={"source": data.source.value})
    audit_case("create", case, by, after={
        "number": case.number, "grid": data.grid.code, "category": data.category.code,
        "level": case.level.value, "risk": case.risk_level.value,
        "hotline_ticket": case.hotline_ticket,
        "parties": [_party_summary(p) for p in case.parties]})
    emit(EventType.CASE_CREATED, case)
    for party in case.parties:
        for hook in PARTY_ADDED:
            hook(by, party)
    propose_by_rules(case)
    return case


# A case starts at the level of whoever takes it in: a grid worker's patrol in the grid,
# a community committee's intake in the community, a street centre's at street level.
LEVEL_OF_KIND = {AreaKind.GRID: Level.GRID, AreaKind.COMMUNITY: Level.COMMUNITY,
                 AreaKind.STREET: Level.STREET, AreaKind.DISTRICT: Level.STREET}


def starting_level(user: User | None) -> Level:
    if user is None or user.role is Role.GRID_WORKER:
        return Level.GRID
    levels = [LEVEL_OF_KIND[node.kind] for node in user.jurisdiction_nodes]
    return max(levels, key=lambda level: level.rank) if levels else Level.GRID


def _portal_source(source: Source) -> OperationError:
    return OperationError(_("Only residents' own reports on the portal have the source "
                            "“%(source)s”: choose how the dispute reached you.",
                            source=source.title), field="source")


def update_case(by: User, case: Case, data: CaseInput, seen_version: int | None) -> None:
    """Edit the intake details; the parties are edited on their own."""
    check_version(case, seen_version)
    if data.source is not case.source and data.source in PORTAL_SOURCES:
        raise _portal_source(data.source)
    if data.source is not case.source and case.source in PORTAL_SOURCES:
        raise OperationError(_("This case is a resident's own report on the portal: its "
                               "source stays “%(source)s”.", source=case.source.title),
                             field="source")
    _check_words(data)
    hotline_ticket = check_hotline_ticket(data.source, data.hotline_ticket)
    fields = ["title", "narrative", "address", "amount_fen", "source", "hotline_ticket",
              "risk_level", *RISK_FACTORS]
    before = audit.snapshot(case, fields)
    before["grid"], before["category"] = case.grid.code, case.category.code
    if data.grid.kind is not AreaKind.GRID:
        raise OperationError(_("Choose a grid."), field="grid")
    if data.grid.id != case.grid_id and not can_view_path(by, data.grid.path):
        raise OperationError(_("Choose a grid in your jurisdiction."), field="grid")
    recategorised = data.category.id != case.category_id
    if recategorised and not data.category.active:
        raise OperationError(_("This category is no longer in use."), field="category")
    case.title, case.narrative = data.title.strip(), data.narrative.strip()
    case.address, case.amount_fen = data.address or None, data.amount_fen
    case.source, case.grid, case.category = data.source, data.grid, data.category
    case.hotline_ticket = hotline_ticket
    for name in RISK_FACTORS:
        setattr(case, name, bool(data.risks.get(name)))
    case.risk_level = assess_risk(case.risk_flags)
    if case.is_open and recategorised:  # new time limits; a typo fix moves no deadline
        case.level_deadline = rules.level_deadline(case)
        case.overall_deadline = rules.overall_deadline(case)
    after = audit.snapshot(case, fields)
    after["grid"], after["category"] = case.grid.code, case.category.code
    if after != before:
        log_event(case, by, EventKind.NOTE, reason=_("Intake details edited."),
               data={"changed": sorted(k for k in after if after[k] != before.get(k))})
        audit_case("update", case, by, before=before, after=after)
        db.session.flush()
        propose_by_rules(case)


def add_party(by: User, case: Case, data: PartyInput,
              seen_version: int | None = None) -> Party:
    check_version(case, seen_version)
    party = Party()
    _apply_party(party, data)
    party.case = case
    db.session.add(party)
    db.session.flush()
    log_event(case, by, EventKind.PARTY, reason=_("Party added: %(name)s (%(role)s)",
                                                name=party.name, role=party.role.title))
    audit_case("party.add", case, by, after=_party_summary(party))
    for hook in PARTY_ADDED:
        hook(by, party)
    propose_by_rules(case)
    return party


def update_party(by: User, party: Party, data: PartyInput,
                 seen_version: int | None = None) -> None:
    check_version(party.case, seen_version)
    before = _party_summary(party)
    _apply_party(party, data)
    db.session.flush()
    log_event(party.case, by, EventKind.PARTY, reason=_("Party details edited: %(name)s",
                                                      name=party.name))
    audit_case("party.update", party.case, by, before=before, after=_party_summary(party))
    propose_by_rules(party.case)


# What a document may ask to be completed on a party without its whole form (the agreement
# builder): the details of its block (PML 29), by the party's kind.
COMPLETABLE = {PartyKind.PERSON: ("gender", "ethnicity", "birth_date", "occupation", "phone",
                                  "address"),
               PartyKind.ORGANISATION: ("address", "legal_representative",
                                        "legal_representative_title")}


def complete_party(by: User, party: Party, details: dict) -> list[str]:
    """Fill in the given ``details`` (name: value) that the party lacks, leaving everything
    recorded as it is; returns the names filled. Values are checked as on the party form."""
    allowed = COMPLETABLE[party.kind]
    filled = []
    before = _party_summary(party)
    for name, value in details.items():
        if name not in allowed:
            raise OperationError(_("This detail cannot be completed here."), field=name)
        if value in (None, "") or getattr(party, name):
            continue
        if isinstance(value, str):
            value = value.strip()[:200]
        if name == "gender":
            value = Gender(value)
        elif name == "birth_date" and value > rules.today():
            raise OperationError(_("The birth date is in the future."), field=name)
        elif name == "phone":
            value = normalise_phone(value)
            if value is None:
                raise OperationError(str(PHONE_INVALID), field=name)
        elif name == "ethnicity" and (party.is_foreign or party.home_region):
            continue  # foreigners and HK/Macao/Taiwan residents state none
        setattr(party, name, value)
        filled.append(name)
    if filled:
        db.session.flush()
        log_event(party.case, by, EventKind.PARTY, reason=_("Party details edited: %(name)s",
                                                          name=party.name))
        audit_case("party.update", party.case, by, before=before,
                   after={**_party_summary(party), "completed": filled})
    return filled


def reveal_id_number(by: User, party: Party) -> str:
    """The full ID number, for someone who needs it; every such read is audited (PML 15)."""
    if not party.id_number_encrypted:
        raise OperationError(_("No ID number is recorded for this party."))
    audit.record("party.id_number.read", object_type="Party", object_id=party.id, actor=by,
                 note=party.case.number)
    return crypto.decrypt(party.id_number_encrypted)


def reveal_phone(by: User, party: Party) -> str:
    """The full phone number, for the staff member who must call the party; audited like an
    ID number (PML 15)."""
    if not party.phone:
        raise OperationError(_("No phone number is recorded for this party."))
    audit.record("party.phone.read", object_type="Party", object_id=party.id, actor=by,
                 note=party.case.number)
    return party.phone


def other_cases_of(party: Party) -> list[Case]:
    """Other cases with a party holding the same ID number: repeat disputes are a risk sign."""
    if not party.id_number_index:
        return []
    # IN, not JOIN + DISTINCT: PostgreSQL cannot compare the JSON column for DISTINCT.
    same_person = select(Party.case_id).where(Party.id_number_index == party.id_number_index,
                                              Party.case_id != party.case_id)
    return list(db.session.scalars(
        select(Case).where(Case.id.in_(same_person)).order_by(Case.reported_at.desc())))


def record_refusal(by: User, party: Party, reason: str) -> None:
    """A party expressly refuses mediation: it may not proceed (PML 17)."""
    party.refuses_mediation = True
    case = party.case
    reason = reason or _("%(name)s expressly refused mediation.", name=party.name)
    if case.state in {S.ACCEPTED, S.IN_MEDIATION}:
        transition(case, S.FAILED, by, reason, routes_told=[])
    elif case.state is S.REPORTED:
        transition(case, S.DECLINED, by, reason, decline_reason=reason)
    else:
        log_event(case, by, EventKind.PARTY, reason=reason)


# ---- the state machine ------------------------------------------------------------------

# Domains above cases react when a case leaves mediation (e.g. future sessions are cancelled).
LEAVING_MEDIATION: list = []


def can_transition(case: Case, to: CaseState) -> bool:
    return to in ALLOWED[case.state]


def transition(case: Case, to: CaseState, by: User | None, reason: str | None = None,
               *, seen_version: int | None = None, **details) -> CaseEvent:
    """The single entry point for a change of state: checked against ALLOWED, recorded."""
    check_version(case, seen_version)
    if to not in ALLOWED[case.state]:
        raise OperationError(_("A case that is “%(current)s” cannot become “%(target)s”.",
                               current=case.state.title, target=to.title))
    if to in REASON_REQUIRED and not (reason or "").strip():
        raise OperationError(_("Please give the reason."), field="reason")
    before = case.state
    now = utcnow()
    case.state = to
    if to is S.ACCEPTED:
        case.accepted_at = now
    if to in OUTCOME_STATES:
        case.outcome_at = now
        case.outcome = to
        case.level_deadline = None
        if to in {S.SETTLED, S.PARTLY_SETTLED}:
            case.settled_level = case.level
    if to is S.CLOSED:
        case.closed_at = now
    for key, value in details.items():
        setattr(case, key, value)
    emit_state_change(case)
    if before in OPEN_STATES and to not in OPEN_STATES:
        for hook in LEAVING_MEDIATION:
            hook(by, case, reason or to.title)
        for proposal in open_proposals(case):
            proposal.status = ProposalStatus.DISMISSED
            proposal.decided_at = now
            proposal.decision_note = _("The case left mediation.")
    event = log_event(case, by, EventKind.STATE, reason=reason, from_state=before, to_state=to,
                   data={k: audit.jsonable(v) for k, v in details.items()} or None)
    audit_case("transition", case, by, before={"state": before}, after={"state": to, **details},
           note=reason)
    db.session.flush()
    return event


def accept_case(by: User, case: Case, *, handler: User | None = None,
                seen_version: int | None = None) -> None:
    handler = handler or by
    # As the page offers (access.possible_handlers): an active account that handles cases
    # and whose jurisdiction covers this one — an API client may name anyone.
    if not handler.can("cases.handle") or not handler.active or \
            not access.can_view(handler, case):
        raise OperationError(_("%(name)s cannot handle cases.", name=handler.full_name),
                             field="handler")
    transition(case, S.ACCEPTED, by, seen_version=seen_version, handler_id=handler.id)
    for hook in CASE_ACCEPTED:
        hook(by, case)


def start_mediation(by: User, case: Case, seen_version: int | None = None) -> None:
    refusing = [p.name for p in case.parties if p.refuses_mediation]
    if refusing:
        raise OperationError(_("%(names)s refused mediation; it may not proceed (People’s "
                               "Mediation Law, art. 17).", names="、".join(refusing)))
    transition(case, S.IN_MEDIATION, by, seen_version=seen_version)


def decline_case(by: User, case: Case, reason: str, referred_to: str | None,
                 seen_version: int | None = None) -> None:
    transition(case, S.DECLINED, by, reason, seen_version=seen_version,
               decline_reason=reason, referred_to=referred_to or None)


def settle_case(by: User, case: Case, *, partly: bool, oral_agreement: str | None,
                note: str | None, seen_version: int | None = None) -> None:
    """Settled (or partly). An oral agreement is registered here and in force today (PML 30)."""
    transition(case, S.PARTLY_SETTLED if partly else S.SETTLED, by, note,
               seen_version=seen_version, oral_agreement=oral_agreement or None)


FAILURE_ROUTES = ("arbitration", "administrative", "court")


def fail_case(by: User, case: Case, reason: str, routes_told: list[str],
              seen_version: int | None = None) -> None:
    """Mediation failed: record which other routes the parties were told of (PML 26)."""
    unknown = set(routes_told) - set(FAILURE_ROUTES)
    if unknown:
        raise OperationError(_("Unknown route."), field="routes_told")
    transition(case, S.FAILED, by, reason, seen_version=seen_version,
               routes_told=sorted(routes_told))


def withdraw_case(by: User, case: Case, reason: str, seen_version: int | None = None) -> None:
    transition(case, S.WITHDRAWN, by, reason, seen_version=seen_version)


def refer_out(by: User, case: Case, body: str, reason: str,
              seen_version: int | None = None) -> None:
    """Hand the dispute to a court, an arbitration commission or an administrative body."""
    if not (body or "").strip():
        raise OperationError(_("Name the body the case is referred to."), field="referred_to")
    transition(case, S.REFERRED_OUT, by, reason, seen_version=seen_version,
               referred_to=body.strip())


def record_follow_up(by: User, case: Case, *, visited_on: date, performance: str,
                     satisfaction: int, new_lawsuit: bool, remaining_risk: str | None,
                     measures: str | None, seen_version: int | None = None) -> FollowUp:
    """A follow-up visit (回访); the first one moves the case into follow-up."""
    check_version(case, seen_version)
    if case.state not in {S.SETTLED, S.PARTLY_SETTLED, S.FAILED, S.REFERRED_OUT,
                          S.FOLLOW_UP}:
        raise OperationError(_("A follow-up visit comes after the outcome."))
    if visited_on > rules.today():
        raise OperationError(_("The visit date is in the future."), field="visited_on")
    if not 1 <= satisfaction <= 5:
        raise OperationError(_("Satisfaction is from 1 to 5."), field="satisfaction")
    visit = FollowUp(case=case, visited_on=visited_on, visitor=by, performance=performance,
                     satisfaction=satisfaction, new_lawsuit=new_lawsuit,
                     remaining_risk=remaining_risk or None, measures=measures or None)
    db.session.add(visit)
    if case.state is not S.FOLLOW_UP:
        transition(case, S.FOLLOW_UP, by, _("Follow-up visit on %(date)s.",
                                              date=visited_on.isoformat()))
    log_event(case, by, EventKind.FOLLOW_UP, reason=performance,
           data={"satisfaction": satisfaction, "new_lawsuit": new_lawsuit,
                 "remaining_risk": remaining_risk or None, "visited_on": visited_on.isoformat()})
    audit_case("follow_up", case, by, after={"satisfaction": satisfaction,
                                         "new_lawsuit": new_lawsuit})
    db.session.flush()
    return visit


def close_case(by: User, case: Case, note: str | None = None,
               seen_version: int | None = None) -> None:
    transition(case, S.CLOSED, by, note, seen_version=seen_version)


# ---- levels and escalation --------------------------------------------------------------

def move_level(by: User | None, case: Case, to: Level, reason: str,
               proposal: EscalationProposal | None = None) -> None:
    """Escalate an open case up one or more levels (straight to street is allowed)."""
    if not case.is_open:
        raise OperationError(_("Only an open case can change level."))
    if to.rank <= case.level.rank:
        raise OperationError(_("A case only moves up: it is already at %(level)s.",
                               level=case.level.title), field="to_level")
    if not (reason or "").strip():
        raise OperationError(_("Please give the reason."), field="reason")
    before = case.level
    case.level = to
    case.level_entered_at = utcnow()
    case.level_deadline = rules.level_deadline(case)
    for other in open_proposals(case):
        if other is not proposal and other.to_level.rank <= to.rank:
            other.status = ProposalStatus.DISMISSED
            other.decided_at = utcnow()
            other.decision_note = _("The case moved to %(level)s.", level=to.title)
    log_event(case, by, EventKind.LEVEL, reason=reason, from_level=before, to_level=to,
              data={"proposal": proposal.id if proposal else None,
                    "deadline": case.level_deadline.isoformat()})
    emit(EventType.CASE_ESCALATED, case, from_level=before)
    _hand_over(by, case)
    audit_case("escalate", case, by, before={"level": before}, after={"level": to}, note=reason)
    db.session.flush()
    propose_by_rules(case)  # the new level has its own limits


def _hand_over(by: User | None, case: Case) -> None:
    """A handler who cannot act at the new level follows as co-handler; the case waits for
    someone at that level to take it over (it shows in "awaiting" until then)."""
    handler = case.handler
    if handler is None or access.can(handler, "cases.handle", case):
        return
    case.handler = None
    if not any(a.user_id == handler.id for a in case.assignments):
        db.session.add(Assignment(case=case, user=handler, role=AssignmentRole.CO_HANDLER))
    log_event(case, by, EventKind.ASSIGNMENT,
              reason=_("%(name)s follows the case as co-handler; someone at %(level)s takes it "
                       "over.", name=handler.full_name, level=case.level.title))


def open_proposals(case: Case) -> list[EscalationProposal]:
    return list(db.session.scalars(
        select(EscalationProposal).where(EscalationProposal.case_id == case.id,
                                         EscalationProposal.status == ProposalStatus.OPEN)))


def propose(case: Case, rule: ProposalRule, to_level: Level, reason: str,
            by: User | None = None) -> EscalationProposal | None:
    """Open a proposal unless one for the same rule is already open (safe to repeat)."""
    if not case.is_open or to_level.rank <= case.level.rank:
        return None
    if db.session.scalar(select(EscalationProposal.id).where(
            EscalationProposal.case_id == case.id, EscalationProposal.rule == rule,
            or_(EscalationProposal.status == ProposalStatus.OPEN,
                and_(EscalationProposal.status == ProposalStatus.DISMISSED,
                     EscalationProposal.rule != ProposalRule.MEDIATOR_REQUEST,
                     EscalationProposal.from_level == case.level))).limit(1)):
        return None  # already waiting, or a person dismissed it at this level
    proposal = EscalationProposal(case=case, rule=rule, from_level=case.level,
                                  to_level=to_level, reason=reason,
                                  status=ProposalStatus.OPEN, created_by_id=by.id if by else None)
    db.session.add(proposal)
    log_event(case, by, EventKind.PROPOSAL, reason=reason, from_level=case.level,
           to_level=to_level, data={"rule": rule.value})
    db.session.flush()
    return proposal


def propose_by_rules(case: Case, on: date | None = None) -> list[EscalationProposal]:
    on = on or rules.today()
    made = []
    for suggestion in rules.suggestions(case, on, rules.level_rules()):
        proposal = propose(case, suggestion.rule, suggestion.to_level, suggestion.reason)
        if proposal:
            made.append(proposal)
    return made


def request_escalation(by: User, case: Case, to_level: Level,
                       reason: str) -> EscalationProposal:
    """The handler asks for the case to move up; someone at the receiving level decides."""
    if not (reason or "").strip():
        raise OperationError(_("Please give the reason."), field="reason")
    proposal = propose(case, ProposalRule.MEDIATOR_REQUEST, to_level, reason, by=by)
    if proposal is None:
        raise OperationError(_("An escalation request is already waiting, or the level is "
                               "not above the current one."), field="to_level")
    return proposal


def decide_proposal(by: User, proposal: EscalationProposal, confirm: bool,
                    note: str | None) -> None:
    if not access.may_decide(by, proposal):
        raise OperationError(_("A proposal is decided by someone at %(level)s or above, not by "
                               "the case's own handler.", level=proposal.to_level.title))
    if proposal.status is not ProposalStatus.OPEN:
        raise OperationError(_("This proposal has already been decided."))
    if not confirm and not (note or "").strip():
        raise OperationError(_("Say why the proposal is dismissed."), field="note")
    case = proposal.case
    proposal.decided_by = by
    proposal.decided_at = utcnow()
    proposal.decision_note = note or None
    if confirm:
        proposal.status = ProposalStatus.CONFIRMED
        reason = proposal.reason if not note else f"{proposal.reason} {note}"
        move_level(by, case, proposal.to_level, reason, proposal=proposal)
    else:
        proposal.status = ProposalStatus.DISMISSED
        log_event(case, by, EventKind.PROPOSAL, reason=note,
               data={"rule": proposal.rule.value, "dismissed": True})
    audit_case("proposal." + ("confirm" if confirm else "dismiss"), case, by,
           after={"rule": proposal.rule, "to_level": proposal.to_level}, note=note)
    db.session.flush()


# ---- supervision, help, people ----------------------------------------------------------

def issue_supervision(by: User | None, case: Case, message: str, respond_by: date | None,
                      *, automatic: bool = False, deadline: date | None = None,
                      on: date | None = None) -> SupervisionNotice | None:
    """督办: press the handler; the automatic one is issued once per level and deadline.
    ``on`` is the day it is issued (today; the demo, replaying history, gives its day)."""
    if not case.is_open:
        raise OperationError(_("Only an open case is supervised."))
    if respond_by is not None and respond_by < (on or rules.today()):
        raise OperationError(_("The day to respond by has passed."), field="respond_by")
    deadline = deadline or case.level_deadline
    if automatic and db.session.scalar(select(SupervisionNotice.id).where(
            SupervisionNotice.case_id == case.id, SupervisionNotice.automatic,
            SupervisionNotice.withdrawn_at.is_(None), SupervisionNotice.level == case.level,
            SupervisionNotice.deadline == deadline)):
        return None
    notice = SupervisionNotice(case=case, level=case.level, deadline=deadline,
                               automatic=automatic, issued_by=by, to_user_id=case.handler_id,
                               message=message, respond_by=respond_by)
    db.session.add(notice)
    log_event(case, by, EventKind.SUPERVISION, reason=message,
           data={"respond_by": respond_by.isoformat() if respond_by else None,
                 "automatic": automatic})
    audit_case("supervise", case, by, note=message)
    db.session.flush()
    return notice


# One notice each: a batch larger than a few pages of the overdue list is a mistake.
MAX_SUPERVISED = 100


def supervise_many(by: User, numbers: list[str], message: str,
                   respond_by: date | None) -> list[SupervisionNotice]:
    """督办 several cases with one message (from the dashboard's overdue list), all or none:
    a case the person may not supervise stops the whole batch, named by its number (a
    number outside their jurisdiction reads as unknown)."""
    wanted = list(dict.fromkeys(numbers))
    if len(wanted) > MAX_SUPERVISED:
        raise OperationError(_("Supervise at most %(n)d cases at once.", n=MAX_SUPERVISED),
                             field="cases")
    found = {case.number: case for case in db.session.scalars(
        access.visible_cases(by).where(Case.number.in_(wanted)))}
    notices = []
    for number in wanted:
        case = found.get(number)
        if case is None:
            raise OperationError(_("No case %(number)s in your jurisdiction.", number=number),
                                 field="cases")
        if not case.is_open or not access.can(by, "cases.supervise", case):
            raise OperationError(_("Case %(number)s cannot be supervised: it is no longer "
                                   "open.", number=number), field="cases")
        notices.append(issue_supervision(by, case, message, respond_by))
    return notices


def respond_supervision(by: User, notice: SupervisionNotice, response: str) -> None:
    if not access.may_respond(by, notice):
        raise OperationError(_("This notice is for %(name)s, the handler of the case.",
                               name=notice.to_user.full_name if notice.to_user else "—"))
    if notice.responded_at is not None:
        raise OperationError(_("This notice has already been answered."))
    if notice.withdrawn_at is not None:
        raise OperationError(_("This notice was withdrawn: %(reason)s",
                               reason=notice.withdrawn_reason))
    if not (response or "").strip():
        raise OperationError(_("Please write the response."), field="response")
    notice.response, notice.responded_at, notice.responded_by_id = response, utcnow(), by.id
    log_event(notice.case, by, EventKind.SUPERVISION, reason=response, data={"response": True})
    audit_case("supervise.respond", notice.case, by, note=response)
    db.session.flush()


def request_help(by: User, case: Case, department: Department, detail: str | None,
                 message: str) -> HelpRequest:
    """吹哨报到: whistle a department in."""
    if not (message or "").strip():
        raise OperationError(_("Say what help is needed."), field="message")
    help_request = HelpRequest(case=case, department=department,
                               department_detail=detail or None, message=message,
                               requested_by_id=by.id)
    db.session.add(help_request)
    log_event(case, by, EventKind.HELP, reason=message,
           data={"department": department.value, "detail": detail or None})
    audit_case("help.request", case, by, after={"department": department}, note=message)
    db.session.flush()
    return help_request


def record_help_response(by: User, help_request: HelpRequest, response: str) -> None:
    """The department's answer, recorded once (a later word goes in a note)."""
    if help_request.responded_at is not None:
        raise OperationError(_("The department's response is already recorded."))
    if not (response or "").strip():
        raise OperationError(_("Please write the response."), field="response")
    help_request.response, help_request.responded_at = response, utcnow()
    log_event(help_request.case, by, EventKind.HELP, reason=response,
           data={"department": help_request.department.value, "response": True})
    audit_case("help.response", help_request.case, by, note=response)
    db.session.flush()


def awaits_handler(case: Case) -> bool:
    """An accepted case without a handler (e.g. moved above its handler): someone at its
    level takes it over. A reported one is accepted instead."""
    return case.is_open and case.handler_id is None and case.state is not S.REPORTED


def take_over(by: User, case: Case) -> None:
    """Become the handler of a case that waits for one; a handled case is reassigned by
    someone who may assign (``assign_person``)."""
    if case.handler is not None:
        raise OperationError(_("%(name)s handles this case: it does not wait for a handler.",
                               name=case.handler.full_name))
    if not awaits_handler(case):
        raise OperationError(_("Only an accepted case that waits for a handler can be taken "
                               "over."))
    set_handler(by, case, by)


def set_handler(by: User, case: Case, handler: User) -> None:
    """Give the case to a handler whose jurisdiction covers it (or who takes it over)."""
    if not handler.can("cases.handle") or not handler.active or \
            not access.can_view(handler, case):
        raise OperationError(_("%(name)s cannot handle cases.", name=handler.full_name),
                             field="user")
    before = case.handler.username if case.handler else None
    case.handler = handler
    log_event(case, by, EventKind.ASSIGNMENT, reason=_("Handler: %(name)s", name=handler.full_name))
    audit_case("assign.handler", case, by, before={"handler": before},
           after={"handler": handler.username})
    db.session.flush()


def assign(by: User, case: Case, user: User, role: AssignmentRole) -> Assignment:
    """Add a co-handler or a legal-aid volunteer; it opens the case to them."""
    if role is AssignmentRole.LEGAL_AID and user.role is not Role.LEGAL_AID:
        raise OperationError(_("%(name)s is not a legal-aid volunteer.", name=user.full_name),
                             field="user")
    if role is AssignmentRole.CO_HANDLER and (not user.can("cases.handle")
                                              or not access.can_view(user, case)):
        raise OperationError(_("%(name)s cannot handle cases.", name=user.full_name),
                             field="user")
    if any(a.user_id == user.id for a in case.assignments) or case.handler_id == user.id:
        raise OperationError(_("%(name)s already works on this case.", name=user.full_name),
                             field="user")
    assignment = Assignment(case=case, user=user, role=role)
    db.session.add(assignment)
    log_event(case, by, EventKind.ASSIGNMENT, reason=_("%(role)s: %(name)s", role=role.title,
                                                     name=user.full_name))
    audit_case("assign", case, by, after={"user": user.username, "role": role})
    db.session.flush()
    return assignment


def assign_person(by: User, case: Case, username: str, role: str) -> Assignment | None:
    """The assignment form's choice: ``role`` "handler" gives the case to the account,
    otherwise an ``AssignmentRole`` adds it to the case."""
    user = find_user(username)
    if user is None or not user.active:
        raise OperationError(_("No active account is called %(name)s.", name=username),
                             field="username")
    if role == "handler":
        set_handler(by, case, user)
        return None
    return assign(by, case, user, AssignmentRole(role))


def add_opinion(by: User, case: Case, text: str) -> CaseEvent:
    """A legal-aid volunteer's legal opinion, on the timeline."""
    if not (text or "").strip():
        raise OperationError(_("The opinion is empty."), field="text")
    event = log_event(case, by, EventKind.OPINION, reason=text)
    audit_case("opinion", case, by)
    db.session.flush()
    return event


def add_note(by: User, case: Case, text: str) -> CaseEvent:
    if not (text or "").strip():
        raise OperationError(_("The note is empty."), field="text")
    event = log_event(case, by, EventKind.NOTE, reason=text)
    db.session.flush()
    return event


# ---- the deadline check (cron) ----------------------------------------------------------

# Open cases checked per batch: a few queries each, whatever the batch's size.
DEADLINE_BATCH = 1000


@dataclass
class DeadlineReport:
    checked: int = 0
    proposals: int = 0
    notices: int = 0


def open_case_count() -> int:
    """How many cases the deadline check goes through (for its progress bar)."""
    return db.session.scalar(select(func.count()).select_from(Case)
                             .where(Case.state.in_(OPEN_STATES)))


def check_deadlines(on: date | None = None, *, batch_size: int = DEADLINE_BATCH,
                    after_batch: Callable[[DeadlineReport], None] | None = None
                    ) -> DeadlineReport:
    """Raise escalation proposals and supervision notices; running it again adds nothing.

    The open cases go in batches of ``batch_size`` in the order of their ids, each read and
    written in a few statements whatever its size. ``after_batch(report)`` is called once a
    batch is flushed: the CLI commits there, so memory stays bounded and a run that stops
    half-way keeps its finished batches; the next run finds what they raised (the same
    look-ups as ``propose`` and ``issue_supervision``) and carries on with the rest.
    """
    on = on or rules.today()
    report = DeadlineReport()
    last_id = 0
    while True:
        cases = _open_cases_after(last_id, batch_size)
        if not cases:
            return report
        _check_batch(cases, on, rules.level_rules(), report)
        db.session.flush()
        last_id = cases[-1].id
        if after_batch is not None:
            after_batch(report)


@dataclass(frozen=True)
class _CaseFacts:
    """What the rules (``rules.suggestions``) and the rows they raise read of an open case,
    read as plain rows: a night's check goes through every open case, and mapped objects
    (the case, each party) would cost it most of its time."""

    id: int
    number: str
    state: CaseState
    level: Level
    level_deadline: date | None
    overall_deadline: date | None
    risk_level: RiskLevel
    amount_fen: int | None
    handler_id: int | None
    parties: list  # rows with the party's community_id

    is_open = Case.is_open
    amount_yuan = Case.amount_yuan


def _open_cases_after(last_id: int, limit: int) -> list[_CaseFacts]:
    """The next ``limit`` open cases by id, with their parties' communities: two queries."""
    fields = [name for name in _CaseFacts.__dataclass_fields__ if name != "parties"]
    rows = db.session.execute(
        select(*(getattr(Case, name) for name in fields))
        .where(Case.state.in_(OPEN_STATES), Case.id > last_id)
        .order_by(Case.id).limit(limit)).all()
    parties = {row[0]: [] for row in rows}
    for party in db.session.execute(select(Party.case_id, Party.community_id)
                                    .where(Party.case_id.in_(list(parties)))
                                    .order_by(Party.id)):
        parties[party.case_id].append(party)
    return [_CaseFacts(*row, parties=parties[row[0]]) for row in rows]


def _check_batch(cases: list[_CaseFacts], on: date, level_rules: dict,
                 report: DeadlineReport) -> None:
    """The rules of ``propose`` and ``issue_supervision(automatic=True)`` for a batch: what
    they look up read for the whole batch at once, and the same rows (proposals, notices,
    their timeline entries and audit entries) written with one INSERT per table."""
    ids = [case.id for case in cases]
    waiting, dismissed = set(), set()
    for case_id, rule, status, from_level in db.session.execute(
            select(EscalationProposal.case_id, EscalationProposal.rule,
                   EscalationProposal.status, EscalationProposal.from_level)
            .where(EscalationProposal.case_id.in_(ids),
                   or_(EscalationProposal.status == ProposalStatus.OPEN,
                       and_(EscalationProposal.status == ProposalStatus.DISMISSED,
                            EscalationProposal.rule != ProposalRule.MEDIATOR_REQUEST)))):
        if status is ProposalStatus.OPEN:
            waiting.add((case_id, rule))
        else:
            dismissed.add((case_id, rule, from_level))
    issued = {tuple(row) for row in db.session.execute(
        select(SupervisionNotice.case_id, SupervisionNotice.level, SupervisionNotice.deadline)
        .where(SupervisionNotice.case_id.in_(ids), SupervisionNotice.automatic,
               SupervisionNotice.withdrawn_at.is_(None)))}
    texts = _NoticeTexts()
    proposals, notices, events, audits = [], [], [], []
    for case in cases:
        report.checked += 1
        for suggestion in rules.suggestions(case, on, level_rules):
            key = (case.id, suggestion.rule)
            if suggestion.to_level.rank <= case.level.rank or key in waiting \
                    or (*key, case.level) in dismissed:
                continue  # already waiting, or a person dismissed it at this level
            waiting.add(key)
            proposals.append({
                "case_id": case.id, "rule": suggestion.rule, "from_level": case.level,
                "to_level": suggestion.to_level, "reason": suggestion.reason,
                "status": ProposalStatus.OPEN, "created_by_id": None})
            events.append(event_row(case.id, EventKind.PROPOSAL, suggestion.reason,
                                    from_level=case.level, to_level=suggestion.to_level,
                                    data={"rule": suggestion.rule.value}))
        for deadline, overall in _passed_deadlines(case, on):
            if (case.id, case.level, deadline) in issued:
                continue  # one notice per level and deadline
            issued.add((case.id, case.level, deadline))
            message = texts.overall(deadline) if overall else texts.level(case.level, deadline)
            notices.append({
                "case_id": case.id, "level": case.level, "deadline": deadline,
                "automatic": True, "issued_by_id": None, "to_user_id": case.handler_id,
                "message": message, "respond_by": None})
            events.append(event_row(case.id, EventKind.SUPERVISION, message,
                                    data={"respond_by": None, "automatic": True}))
            audits.append({"action": "case.supervise", "object_type": "Case",
                           "object_id": case.number, "actor": None, "note": message})
    bulk.insert_rows(EscalationProposal, proposals)
    proposal_marks.mark(db.session, {row["case_id"] for row in proposals})
    bulk.insert_rows(SupervisionNotice, notices)
    log_events(events)
    audit.record_many(audits)
    report.proposals += len(proposals)
    report.notices += len(notices)


def _passed_deadlines(case: _CaseFacts, on: date) -> list[tuple[date, bool]]:
    """The case's deadlines that ``on`` is past: (deadline, whether it is the overall one)."""
    passed = []
    if case.level_deadline is not None and on > case.level_deadline:
        passed.append((case.level_deadline, False))
    if case.overall_deadline is not None and on > case.overall_deadline:
        passed.append((case.overall_deadline, True))
    return passed


class _NoticeTexts:
    """The automatic notices' messages, as ``issue_supervision``'s callers word them, with
    their translations looked up once per batch rather than once per notice."""

    def __init__(self):
        self._level = _("The %(level)s time limit ended on %(date)s: report on the case and "
                        "what is being done.")
        self._overall = _("The overall time limit of the mediation ended on %(date)s: "
                          "conclude it, or record the parties' consent to go on.")
        self._titles = {level: str(level.title) for level in Level}

    def level(self, level: Level, deadline: date) -> str:
        return self._level % {"level": self._titles[level], "date": deadline.isoformat()}

    def overall(self, deadline: date) -> str:
        return self._overall % {"date": deadline.isoformat()}

