"""Agreements through their operations: drafting, bad input, issuing and numbering (also under
concurrency), corrections, signatures, performance and judicial confirmation."""

import hashlib
import re
import threading
from datetime import date, datetime, time

import pytest
from agreements_helpers import VERIFY_URL, agreement_city, full_person, ready_draft, settled_case
from cases_helpers import applicant, audit_entries, make_case, respondent, walk_to
from flask_babel import force_locale
from sqlalchemy import func, select

from mediation.agreements import courts, documents, operations, queries, rules
from mediation.agreements.models import (
    Agreement,
    AgreementCounter,
    AgreementStatus,
    ConfirmationResult,
    JudicialConfirmation,
    SignMethod,
)
from mediation.areas import operations as area_ops
from mediation.areas.models import Court
from mediation.cases.models import Attachment, Case, CaseEvent, EventKind
from mediation.cases.rules import LOCAL, local_date
from mediation.cases.states import CaseState, Source
from mediation.core import calendar
from mediation.core.db import write_intent
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.users.models import User

S = CaseState
ISSUE_DAY = date(2026, 9, 1)
needs_2026 = pytest.mark.skipif(not calendar.library_covers(2026),
                                reason="chinesecalendar lacks the 2026 schedule")
CODE = re.compile(r"[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}")


def _number(n: int, year: int = 2026, short_name: str = "东苑社区") -> str:
    return f"（{year}）{short_name}人调字第{n}号"


@pytest.fixture
def city(app):
    with force_locale("en"):  # the refusals' messages, asserted below, in English
        yield agreement_city()


class Clock:
    """"Today" as the agreement operations see it (China's date)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.set(ISSUE_DAY)

    def set(self, day: date) -> None:
        self.day = day
        self.monkeypatch.setattr(operations, "today", lambda: day)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def quick_pdf(monkeypatch):
    """A stand-in for the rendered PDF where its content is not the point (it costs ~0.5 s);
    the real one is read back in test_agreements_pdf.py."""

    def fake(agreement, *, verify_url=None, draft=False):
        terms = ";".join(f"{t.content} {t.amount_fen}" for t in agreement.terms)
        return f"%PDF-1.7 {agreement.number} {verify_url} {terms}".encode()

    monkeypatch.setattr(documents, "agreement_pdf", fake)


def _issue(city, agreement: Agreement) -> Agreement:
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.commit()
    return agreement


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _counter(city) -> int | None:
    return db.session.scalar(select(AgreementCounter.last).where(
        AgreementCounter.committee_id == city.committee.id))


def _sign_all(city, agreement: Agreement, day: date) -> None:
    for entry in agreement.parties:
        operations.record_signature(city.mediator, agreement, f"party:{entry.party_id}", day)
    operations.record_signature(city.mediator, agreement, "mediator", day)
    operations.record_signature(city.mediator, agreement, "seal", day)
    db.session.commit()


# ---- drafting -------------------------------------------------------------------------------

def test_a_draft_starts_from_the_case(city):
    case = settled_case(city, parties=[
        full_person(applicant, "王建国"), full_person(respondent, "李卫东"),
        full_person(respondent, "赵明")])
    case.parties[2].refuses_mediation = True  # no longer takes part: not a party to sign
    agreement = operations.start_draft(city.mediator, case)
    db.session.commit()
    assert agreement.is_draft and agreement.version == 1 and agreement.number is None
    assert agreement.committee == city.committee
    assert [e.party.name for e in agreement.parties] == ["王建国", "李卫东"]
    assert agreement.facts == case.narrative
    assert agreement.copies == 3  # each party and the committee
    assert agreement.mediator == city.mediator  # the case's handler
    assert case.events[-1].kind is EventKind.AGREEMENT
    assert len(audit_entries("case.agreement.draft", case)) == 1
    with pytest.raises(OperationError, match="already has a draft"):
        operations.start_draft(city.mediator, case)


def test_a_draft_from_a_settled_case(city):
    case = make_case(city.mediator, grid=city.east_1,
                     parties=[full_person(applicant, "王建国"), full_person(respondent, "李卫东")])
    walk_to(case, S.SETTLED, city.mediator)
    agreement = operations.start_draft(city.mediator, case)
    assert agreement.is_draft and len(agreement.parties) == 2


@pytest.mark.parametrize("state", [S.REPORTED, S.ACCEPTED, S.FAILED, S.CLOSED])
def test_no_draft_outside_mediation(city, state):
    case = walk_to(make_case(city.mediator, grid=city.east_1), state, city.mediator)
    with pytest.raises(OperationError, match="in mediation or after it has been settled"):
        operations.start_draft(city.mediator, case)


def test_no_draft_without_a_committee(city):
    case = settled_case(city, grid=city.west_1)  # 西苑社区 has no committee
    with pytest.raises(OperationError, match="No active mediation committee"):
        operations.start_draft(city.mediator, case)


# ---- what stops a draft from being issued ------------------------------------------------------

def test_a_party_missing_details_stops_the_issue(city, clock, quick_pdf):
    case = settled_case(city, parties=[
        full_person(applicant, "王建国"),
        full_person(respondent, "李卫东", ethnicity=None, occupation=None)])
    agreement = ready_draft(city, case)
    found = operations.problems(agreement)
    assert len(found) == 1
    field, message = found[0]
    assert field == "parties"
    assert "李卫东" in message and "ethnicity" in message and "occupation" in message
    assert "王建国" not in message
    with pytest.raises(OperationError) as refused:
        operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    assert refused.value.message == message
    db.session.rollback()
    assert agreement.is_draft and agreement.number is None and _counter(city) is None
    # Completed on the case's party form, the same draft issues, and gets the first number.
    party = case.parties[1]
    party.ethnicity, party.occupation = "回族", "个体经营"
    db.session.commit()
    assert operations.problems(agreement) == []
    assert _issue(city, agreement).number == _number(1)


def test_an_empty_draft_lists_everything_missing(city):
    agreement = operations.start_draft(city.mediator, settled_case(city))
    db.session.commit()
    found = operations.problems(agreement)
    fields = [field for field, _message in found]
    assert set(fields) == {"parties", "disputed_matters", "terms", "recorder_name"}
    messages = " | ".join(message for _field, message in found)
    assert "王建国: state this party's responsibility" in messages
    assert "李卫东: state this party's responsibility" in messages
    assert "at least one term" in messages


def _term_cases():
    def first(a):
        return a.parties[0].party_id

    def second(a):
        return a.parties[1].party_id

    def t(**fields):
        return lambda a, stranger: operations.TermInput(**{
            "content": "李卫东赔偿王建国修复费用", "obligor_id": second(a),
            "obligee_id": first(a), "amount": "3800", "due_on": date(2026, 12, 31),
            **{k: (v(a, stranger) if callable(v) else v) for k, v in fields.items()}})

    return [
        ("no content", t(content="   "), "content", "Write what the term says"),
        ("no obligor", t(obligor_id=None), "obligor_ids", "who performs the term"),
        ("obligor of another case", t(obligor_id=lambda a, s: s), "obligor_ids",
         "who performs the term"),
        ("obligee of another case", t(obligee_id=lambda a, s: s), "obligee_ids",
         "a party to the agreement"),
        ("owes itself", t(obligee_id=lambda a, s: second(a)), "obligee_ids", "cannot owe itself"),
        ("abc", t(amount="abc"), "amount", "“abc” is not an amount in yuan"),
        ("negative", t(amount="-5"), "amount", "must be more than zero"),
        ("zero", t(amount="0"), "amount", "must be more than zero"),
        ("three decimals", t(amount="1.234"), "amount", "at most two decimals"),
        ("huge", t(amount="1e30"), "amount", "too large"),
        ("instalment without a date", t(instalments="下个月 1900"), "instalments",
         "Instalment line 1: write the date and the amount"),
        ("instalment not a sum", t(amount="", instalments="2026-10-01 1900\n2026-11-01 abc"),
         "instalments", "Instalment line 2: “abc” is not an amount"),
        ("instalment on 31 February", t(instalments="2026-02-31 3800"), "instalments",
         "Instalment line 1"),
        ("instalments off the total", t(instalments="2026-10-01 1000\n2026-11-01 2000"),
         "instalments", "add up to 3,000.00 yuan, not 3,800.00"),
        ("instalments on one day", t(instalments="2026-10-01 1900\n2026-10-01 1900"),
         "instalments", "same day"),
        ("deadline before the last instalment",
         t(due_on=date(2026, 10, 15), instalments="2026-10-01 1900\n2026-11-01 1900"),
         "due_on", "last instalment falls after the term's deadline"),
    ]


TERM_CASES = _term_cases()


@pytest.mark.parametrize(("make", "field", "message"), [c[1:] for c in TERM_CASES],
                         ids=[c[0] for c in TERM_CASES])
def test_a_bad_term_is_refused_with_a_clear_message(city, make, field, message):
    agreement = ready_draft(city, settled_case(city))
    stranger = settled_case(city, parties=[applicant("周海燕"), respondent("吴国栋")])
    before = [(t.content, t.amount_fen) for t in agreement.terms]
    with pytest.raises(OperationError) as refused:
        operations.save_term(city.mediator, agreement, None,
                             make(agreement, stranger.parties[0].id))
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert [(t.content, t.amount_fen) for t in agreement.terms] == before


def test_instalments_make_the_amount_and_the_deadline(city):
    agreement = ready_draft(city, settled_case(city))
    debtor, creditor = agreement.parties[1].party_id, agreement.parties[0].party_id
    term = operations.save_term(city.mediator, agreement, None, operations.TermInput(
        content="李卫东分两期支付误工费", obligor_id=debtor, obligee_id=creditor,
        instalments="2027-1-1 1,900\n2026-12-01，1900.00元", method="银行转账"))
    db.session.commit()
    assert term.amount_fen == 380000 and term.amount_capital == "人民币叁仟捌佰元整"
    assert [(i.due_on, i.amount_fen) for i in term.instalments] == [
        (date(2026, 12, 1), 190000), (date(2027, 1, 1), 190000)]
    assert term.due_on == date(2027, 1, 1)
    assert [t.position for t in agreement.terms] == [0, 1, 2]


def test_terms_are_renumbered_when_moved_or_deleted(city):
    agreement = ready_draft(city, settled_case(city))
    first, second = agreement.terms
    operations.move_term(city.mediator, second, -1)
    db.session.commit()
    db.session.expire(agreement)
    assert [t.id for t in agreement.terms] == [second.id, first.id]
    operations.delete_term(city.mediator, second)
    db.session.commit()
    db.session.expire(agreement)
    assert [(t.id, t.position) for t in agreement.terms] == [(first.id, 0)]


# ---- issuing: numbers ---------------------------------------------------------------------------

def test_numbers_run_per_committee_and_year_without_gaps(city, clock, quick_pdf, monkeypatch):
    west = area_ops.save_committee(
        None, None, area=city.west, name="西苑社区人民调解委员会", short_name="西苑社区",
        registration_number=None, registered_on=None, registration_authority=None,
        seal_holder=None, address=None, phone=None, active=True)
    east_a = ready_draft(city, settled_case(city))
    east_b = ready_draft(city, settled_case(city))
    west_a = ready_draft(city, settled_case(city, grid=city.west_1))
    assert west_a.committee == west

    # The PDF fails after the number was taken: everything is rolled back, the number too.
    fake = documents.agreement_pdf

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(documents, "agreement_pdf", broken)
    with pytest.raises(RuntimeError):
        operations.issue(city.mediator, east_b, verify_url=VERIFY_URL)
    db.session.rollback()
    assert east_b.is_draft and east_b.number is None and east_b.verification_code is None
    monkeypatch.setattr(documents, "agreement_pdf", fake)

    assert _issue(city, east_a).number == _number(1)
    assert _issue(city, west_a).number == _number(1, short_name="西苑社区")
    assert _issue(city, east_b).number == _number(2)
    assert (east_a.year, east_a.seq, east_b.seq) == (2026, 1, 2)
    # A new year starts again at 1.
    clock.set(date(2027, 1, 4))
    assert _issue(city, ready_draft(city, settled_case(city))).number == _number(1, year=2027)
    clock.set(date(2026, 12, 31))  # 2026's own sequence is untouched by 2027's
    assert _issue(city, ready_draft(city, settled_case(city))).number == _number(3)


def test_a_committee_with_its_own_pattern(city, clock, quick_pdf):
    city.committee.agreement_number_pattern = "东人调〔{year}〕{n:03d}号"
    db.session.commit()
    assert _issue(city, ready_draft(city, settled_case(city))).number == "东人调〔2026〕001号"


def _local_moment(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=LOCAL)


def test_an_agreement_issued_on_an_earlier_day_takes_that_days_year(city, clock, quick_pdf):
    """The demo's history issues on past days: in January, an agreement issued last December
    is numbered in last year's sequence, dated then, and this year's sequence is untouched."""
    clock.set(date(2027, 1, 5))
    case = settled_case(city)
    case.accepted_at = _local_moment(date(2026, 12, 1))
    agreement = ready_draft(city, case)
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL, on=date(2026, 12, 20))
    db.session.commit()
    assert agreement.number == _number(1) and (agreement.year, agreement.seq) == (2026, 1)
    assert agreement.issued_on == date(2026, 12, 20)
    assert local_date(agreement.issued_at) == date(2026, 12, 20)
    assert agreement.number.encode() in agreement.pdf  # the PDF was made with that number
    assert case.state is S.SETTLED
    # Today is the default: this year's first.
    assert _issue(city, ready_draft(city, settled_case(city))).number == _number(1, year=2027)
    # On today, given: the same as the default (and the moment is now).
    third = ready_draft(city, settled_case(city))
    operations.issue(city.mediator, third, verify_url=VERIFY_URL, on=date(2027, 1, 5))
    assert third.number == _number(2, year=2027) and third.issued_on == date(2027, 1, 5)


@pytest.mark.parametrize(("state", "on", "message"), [
    (S.IN_MEDIATION, date(2027, 1, 6), "The date is in the future."),
    (S.IN_MEDIATION, date(2026, 11, 30), "before the case was accepted (2026-12-01)"),
    (S.SETTLED, date(2026, 12, 9), "before the case was settled (2026-12-10)"),
], ids=["future", "before-acceptance", "before-settlement"])
def test_a_day_of_issue_to_come_or_before_the_case_allows_one_is_refused(
        city, clock, quick_pdf, state, on, message):
    clock.set(date(2027, 1, 5))
    case = make_case(city.mediator, grid=city.east_1,
                     parties=[full_person(applicant, "王建国"), full_person(respondent, "李卫东")])
    walk_to(case, state, city.mediator)
    case.accepted_at = _local_moment(date(2026, 12, 1))
    if state is S.SETTLED:
        case.outcome_at = _local_moment(date(2026, 12, 10))
    db.session.commit()
    agreement = ready_draft(city, case)
    with pytest.raises(OperationError, match=re.escape(message)):
        operations.issue(city.mediator, agreement, verify_url=VERIFY_URL, on=on)
    db.session.rollback()
    assert agreement.is_draft and agreement.number is None and _counter(city) is None
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL, on=date(2026, 12, 10))
    assert agreement.number == _number(1)


def test_a_correction_is_not_dated_before_what_it_replaces(city, clock, quick_pdf):
    clock.set(date(2027, 1, 5))
    case = settled_case(city)
    case.accepted_at = _local_moment(date(2026, 12, 1))
    agreement = ready_draft(city, case)
    operations.issue(city.mediator, agreement, verify_url=VERIFY_URL, on=date(2026, 12, 20))
    correction = operations.correct(city.mediator, agreement)
    db.session.commit()
    with pytest.raises(OperationError, match=re.escape("before the agreement was issued "
                                                       "(2026-12-20)")):
        operations.issue(city.mediator, correction, verify_url=VERIFY_URL,
                         on=date(2026, 12, 19))
    db.session.rollback()
    operations.issue(city.mediator, correction, verify_url=VERIFY_URL, on=date(2026, 12, 28))
    assert correction.number == _number(2) and agreement.status is AgreementStatus.SUPERSEDED


def test_issuing_keeps_the_pdf_and_settles_the_case(city, clock, quick_pdf):
    case = settled_case(city)
    assert case.state is S.IN_MEDIATION
    agreement = _issue(city, ready_draft(city, case))
    assert agreement.status is AgreementStatus.ISSUED and not agreement.is_draft
    assert agreement.issued_on == ISSUE_DAY and agreement.issued_by == city.mediator
    assert CODE.fullmatch(agreement.verification_code)
    assert agreement.sha256 == hashlib.sha256(agreement.pdf).hexdigest()
    # The PDF was made with the public verification address of its own code.
    assert VERIFY_URL.format(code=agreement.verification_code).encode() in agreement.pdf
    assert case.state is S.SETTLED
    state_event = [e for e in case.events if e.kind is EventKind.STATE][-1]
    assert state_event.to_state is S.SETTLED and agreement.number in state_event.reason
    assert len(audit_entries("case.agreement.issue", case)) == 1
    assert not agreement.in_force  # issued, not yet in force
    assert queries.public_facts(agreement)["status"] == "Issued, not yet in force"


def test_issuing_on_an_already_settled_case_keeps_it_settled(city, clock, quick_pdf):
    case = make_case(city.mediator, grid=city.east_1,
                     parties=[full_person(applicant, "王建国"), full_person(respondent, "李卫东")])
    walk_to(case, S.SETTLED, city.mediator)
    db.session.commit()
    _issue(city, ready_draft(city, case))
    assert case.state is S.SETTLED


@pytest.mark.parametrize(("term", "message"), [
    (dict(content="李卫东修复卫生间防水层"), "give the deadline of performance"),
    (dict(content="李卫东赔偿王建国修复费用", amount="3800", due_on=date(2026, 12, 31)),
     "say how the amount is paid"),
], ids=["no-deadline", "money-without-method"])
def test_a_term_without_how_or_when_it_is_performed_is_not_issued(city, clock, quick_pdf,
                                                                  term, message):
    """PML art. 29 wants the method and the deadline of performance in the agreement."""
    case = settled_case(city)
    first, second = (p.id for p in case.parties)
    draft = ready_draft(city, case, terms=[
        operations.TermInput(obligor_id=second, obligee_id=first, **term)])
    with force_locale("en"), pytest.raises(OperationError, match=message):
        operations.issue(city.mediator, draft, verify_url=VERIFY_URL)
    db.session.rollback()
    assert db.session.get(Agreement, draft.id).is_draft and not _counter(city)


def test_a_court_referred_case_names_its_inviting_court(city, clock, quick_pdf):
    """CPL art. 205: the court that invited the mediation is the one to confirm it."""
    draft = ready_draft(city, settled_case(city, source=Source.COURT_REFERRAL))
    found = dict(operations.problems(draft))
    assert "invited the mediation" in str(found.get("inviting_court_id"))
    with pytest.raises(OperationError):
        operations.issue(city.mediator, draft, verify_url=VERIFY_URL)
    db.session.rollback()
    draft.inviting_court = city.court
    db.session.commit()
    assert "inviting_court_id" not in dict(operations.problems(draft))
    assert _issue(city, draft).number == _number(1)
    assert [(c.court, c.grounds) for c in courts.competent_courts(draft)] == [
        (city.court, ["It invited the mediation (CPL art. 205)."])]


def test_the_signing_mediator_must_be_one_who_may_issue(city):
    """A grid worker handling the case cannot sign as the people's mediator."""
    case = settled_case(city)
    draft = ready_draft(city, case)
    data = operations.DraftInput(
        facts=draft.facts, disputed_matters=draft.disputed_matters, copies=3,
        mediator=city.gridworker, recorder_name="刘晓燕", inviting_court=None,
        concerns_status=False, determines_ownership=False,
        responsibilities={e.party_id: e.responsibility for e in draft.parties})
    with pytest.raises(OperationError) as refused:
        operations.update_draft(city.mediator, draft, data)
    assert refused.value.field == "mediator"
    db.session.rollback()
    assert db.session.get(Agreement, draft.id).mediator == city.mediator


def test_a_second_issue_is_refused_and_changes_nothing(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    kept = (agreement.number, agreement.verification_code, agreement.sha256, agreement.pdf,
            agreement.issued_at)
    events, audits = _count(CaseEvent), len(audit_entries("case.agreement.issue",
                                                          agreement.case))
    with pytest.raises(OperationError, match=re.escape(
            f"already been issued as {_number(1)}")):
        operations.issue(city.mediator, agreement, verify_url=VERIFY_URL)
    db.session.rollback()
    db.session.expire_all()
    assert (agreement.number, agreement.verification_code, agreement.sha256, agreement.pdf,
            agreement.issued_at) == kept
    assert _counter(city) == 1
    assert _count(CaseEvent) == events
    assert len(audit_entries("case.agreement.issue", agreement.case)) == audits


def test_an_issue_from_a_stale_page_is_refused(city, clock, quick_pdf):
    agreement = ready_draft(city, settled_case(city))
    seen = agreement.lock_version
    data = operations.DraftInput(
        facts=agreement.facts, disputed_matters="维修责任。", copies=4, mediator=city.mediator,
        recorder_name="刘晓燕", inviting_court=None, concerns_status=False,
        determines_ownership=False,
        responsibilities={e.party_id: e.responsibility for e in agreement.parties})
    operations.update_draft(city.mediator, agreement, data, seen_version=seen)
    db.session.commit()
    with pytest.raises(operations.StaleAgreement):
        operations.issue(city.mediator, agreement, verify_url=VERIFY_URL, seen_version=seen)
    db.session.rollback()
    assert agreement.is_draft and _counter(city) is None


def test_an_issued_agreement_never_changes(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    pdf, terms = agreement.pdf, [(t.content, t.amount_fen) for t in agreement.terms]
    first = agreement.terms[0]
    data = operations.DraftInput(
        facts="改过的事实", disputed_matters="改过的争议", copies=5, mediator=city.mediator,
        recorder_name="别人", inviting_court=None, concerns_status=False,
        determines_ownership=False, responsibilities={})
    change = operations.TermInput(content="李卫东赔偿王建国5000元",
                                  obligor_id=first.obligors[0].id, amount="5000")
    attempts = [
        lambda: operations.update_draft(city.mediator, agreement, data),
        lambda: operations.save_term(city.mediator, agreement, first, change),
        lambda: operations.save_term(city.mediator, agreement, None, change),
        lambda: operations.delete_term(city.mediator, first),
        lambda: operations.move_term(city.mediator, first, 1),
        lambda: operations.discard_draft(city.mediator, agreement),
    ]
    for attempt in attempts:
        with pytest.raises(OperationError, match="has been issued and can no longer change"):
            attempt()
        db.session.rollback()
    db.session.expire_all()
    assert agreement.pdf == pdf and agreement.copies == 3 and agreement.facts != "改过的事实"
    assert [(t.content, t.amount_fen) for t in agreement.terms] == terms


# ---- corrections ---------------------------------------------------------------------------------

def test_a_correction_is_a_new_version_and_the_old_one_stays(city, clock, quick_pdf):
    case = settled_case(city)
    v1 = _issue(city, ready_draft(city, case))
    v1_pdf, v1_sha = v1.pdf, v1.sha256
    v2 = operations.correct(city.mediator, v1)
    db.session.commit()
    assert (v2.version, v2.supersedes, v2.is_draft) == (2, v1, True)
    assert [(t.content, t.amount_fen, t.due_on, t.obligors, t.obligees) for t in v2.terms] == \
        [(t.content, t.amount_fen, t.due_on, t.obligors, t.obligees) for t in v1.terms]
    assert [(e.party_id, e.responsibility) for e in v2.parties] == \
        [(e.party_id, e.responsibility) for e in v1.parties]
    assert v1.status is AgreementStatus.ISSUED  # in force until the correction is issued
    with pytest.raises(OperationError, match="already being drafted"):
        operations.correct(city.mediator, v1)
    db.session.rollback()

    term = v2.terms[0]
    operations.save_term(city.mediator, v2, term, operations.TermInput(
        content=term.content, obligor_ids=[p.id for p in term.obligors],
        obligee_ids=[p.id for p in term.obligees],
        amount="4000", method=term.method, place=term.place, due_on=term.due_on))
    _issue(city, v2)
    assert v2.number == _number(2) and v2.status is AgreementStatus.ISSUED
    assert v1.status is AgreementStatus.SUPERSEDED and v1.superseded_by == v2
    assert (v1.number, v1.pdf, v1.sha256) == (_number(1), v1_pdf, v1_sha)
    assert v2.sha256 != v1_sha and v2.terms[0].amount_fen == 400000
    assert v1.terms[0].amount_fen == 380000
    assert operations.agreements_of(case) == [v1, v2]
    assert any(v2.number in (e.reason or "") and v1.number in (e.reason or "")
               for e in case.events)
    facts = queries.public_facts(v1)
    assert facts["status"] == "Superseded by a correction" and facts["superseded_by"] == v2.number
    assert not rules.eligibility(v1).eligible
    with pytest.raises(OperationError, match="Only the agreement in force can be corrected"):
        operations.correct(city.mediator, v1)
    db.session.rollback()
    with pytest.raises(OperationError, match="Only an issued agreement in force is signed"):
        operations.record_signature(city.mediator, v1, "seal", ISSUE_DAY)


# ---- signatures and effect ---------------------------------------------------------------------

def test_signature_dates_are_checked(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    clock.set(date(2026, 9, 10))
    signer = f"party:{agreement.parties[0].party_id}"
    for day, message in [(date(2026, 8, 31), "before the agreement was issued (2026-09-01)"),
                         (date(2026, 9, 11), "in the future"),
                         (None, "Give the date")]:
        with pytest.raises(OperationError, match=re.escape(message)) as refused:
            operations.record_signature(city.mediator, agreement, signer, day)
        assert refused.value.field == "signed_on"
        db.session.rollback()
    for who in ["party:999999", "janitor", "party:"]:
        with pytest.raises(OperationError, match="Choose who signed"):
            operations.record_signature(city.mediator, agreement, who, date(2026, 9, 2))
        db.session.rollback()
    db.session.expire_all()
    assert agreement.parties[0].signed_on is None and agreement.effective_on is None


def test_in_force_from_the_last_signature_or_seal(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    clock.set(date(2026, 9, 10))
    first, second = (f"party:{e.party_id}" for e in agreement.parties)
    operations.record_signature(city.mediator, agreement, first, date(2026, 9, 2))
    operations.record_signature(city.mediator, agreement, "mediator", date(2026, 9, 3))
    operations.record_signature(city.mediator, agreement, second, date(2026, 9, 6),
                                SignMethod.FINGERPRINT)
    db.session.commit()
    assert agreement.effective_on is None and not agreement.in_force  # no seal yet
    operations.record_signature(city.mediator, agreement, "seal", date(2026, 9, 4))
    db.session.commit()
    assert agreement.effective_on == date(2026, 9, 6) and agreement.in_force  # the latest
    assert agreement.parties[1].sign_method is SignMethod.FINGERPRINT
    assert agreement.parties[0].sign_method is SignMethod.SIGNATURE
    in_force = [e for e in agreement.case.events
                if (e.data or {}).get("effective_on") == "2026-09-06"]
    assert len(in_force) == 1
    assert queries.public_facts(agreement)["status"] == "In force"
    # The recorder's signature is not a condition of effect (PML art. 29): signing later
    # moves neither the effective date nor the 30 days for judicial confirmation.
    assert agreement.recorder_signed_on is None
    operations.record_signature(city.mediator, agreement, "recorder", date(2026, 9, 9))
    db.session.commit()
    assert agreement.effective_on == date(2026, 9, 6)


def test_a_case_with_an_agreement_gets_corrections_not_a_second_agreement(city, clock,
                                                                           quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    with pytest.raises(OperationError, match="make a correction"):
        operations.start_draft(city.mediator, agreement.case)
    db.session.rollback()
    correction = operations.correct(city.mediator, agreement)
    db.session.commit()
    assert correction.version == 2 and correction.supersedes == agreement


def test_the_scanned_signed_copy(city, clock, quick_pdf, app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path)
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    clock.set(date(2026, 9, 10))
    with pytest.raises(OperationError, match="Only photos") as refused:
        operations.attach_signed_copy(city.mediator, agreement, "signed.txt", b"not a scan",
                                      date(2026, 9, 5))
    assert refused.value.field == "file"
    db.session.rollback()
    with pytest.raises(OperationError, match="before the agreement was issued"):
        operations.attach_signed_copy(city.mediator, agreement, "signed.pdf",
                                      b"%PDF-1.4\n%%EOF\n", date(2026, 8, 20))
    db.session.rollback()
    assert _count(Attachment) == 0 and agreement.effective_on is None

    scan = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    operations.attach_signed_copy(city.mediator, agreement, "签字版.pdf", scan, date(2026, 9, 5))
    db.session.commit()
    assert agreement.signed_copy.filename == "签字版.pdf"
    assert agreement.signed_copy.case == agreement.case
    assert agreement.signed_copy.sha256 == hashlib.sha256(scan).hexdigest()
    assert (tmp_path / agreement.signed_copy.sha256[:2] / agreement.signed_copy.sha256) \
        .read_bytes() == scan
    assert agreement.effective_on == date(2026, 9, 5) and agreement.in_force


# ---- performance ----------------------------------------------------------------------------

PERFORMANCE_TERMS = [
    dict(content="李卫东赔偿王建国修复费用", amount="3800", method="银行转账",
         due_on=date(2026, 10, 31)),
    dict(content="李卫东修复卫生间防水层", due_on=date(2026, 10, 15)),
    dict(content="李卫东分两期支付误工费", method="现金",
         instalments="2026-10-01 1000\n2026-11-01 1000"),
]


def _performance_draft(city):
    case = settled_case(city)
    first, second = (p.id for p in case.parties)
    terms = [operations.TermInput(obligor_id=second, obligee_id=first, **t)
             for t in PERFORMANCE_TERMS]
    return ready_draft(city, case, terms=terms)


def _overdue_events(agreement) -> list[int]:
    return [e.data["overdue_term"] for e in agreement.case.events
            if (e.data or {}).get("overdue_term")]


def test_overdue_terms_are_flagged_once_for_the_mediator(city, clock, quick_pdf):
    agreement = _issue(city, _performance_draft(city))
    money, repair, parts = agreement.terms

    assert operations.check_performance(date(2026, 10, 1)) == 0  # due today is not late
    assert operations.check_performance(date(2026, 10, 10)) == 1
    db.session.commit()
    assert parts.overdue_since == date(2026, 10, 1)
    assert operations.check_performance(date(2026, 10, 10)) == 0  # nothing raised twice
    assert operations.check_performance(date(2026, 10, 12)) == 0
    db.session.commit()
    assert _overdue_events(agreement) == [3]
    event = [e for e in agreement.case.events if (e.data or {}).get("overdue_term")][0]
    assert agreement.number in event.reason and "三" in event.reason

    assert operations.check_performance(date(2026, 10, 20)) == 1
    db.session.commit()
    assert repair.overdue_since == date(2026, 10, 15) and money.overdue_since is None
    assert _overdue_events(agreement) == [3, 2]
    statuses = {s.numeral: s for s in queries.performance(agreement, date(2026, 10, 20))}
    assert statuses["二"].colour == "red" and "2026-10-15" in statuses["二"].label
    assert statuses["一"].colour is None and "2026-10-31" in statuses["一"].label
    assert statuses["三"].colour == "red"
    panel = queries.attention(city.mediator, date(2026, 10, 20))
    assert {t.id for t in panel["overdue"]} == {parts.id, repair.id}


def test_performance_and_instalments_are_recorded(city, clock, quick_pdf):
    agreement = _issue(city, _performance_draft(city))
    money, repair, parts = agreement.terms
    operations.check_performance(date(2026, 10, 20))
    db.session.commit()
    clock.set(date(2026, 10, 20))

    with pytest.raises(OperationError, match="not in the future"):
        operations.record_performance(city.mediator, repair, date(2026, 10, 21))
    db.session.rollback()
    operations.record_performance(city.mediator, repair, date(2026, 10, 18))
    first_part, second_part = parts.instalments
    operations.record_instalment(city.mediator, first_part, date(2026, 10, 12))
    db.session.commit()
    assert repair.performed_on == date(2026, 10, 18) and repair.overdue_since is None
    # The late instalment is paid and the next is not due yet: no longer overdue.
    assert parts.overdue_since is None and parts.performed_on is None
    statuses = {s.numeral: s for s in queries.performance(agreement, date(2026, 10, 20))}
    assert "1 of 2" in statuses["三"].label and statuses["三"].colour is None
    assert "2026-10-18" in statuses["二"].label

    # The second instalment becomes overdue: raised again, once.
    assert operations.check_performance(date(2026, 11, 5)) == 2  # and the money term
    assert parts.overdue_since == date(2026, 11, 1)
    clock.set(date(2026, 11, 5))
    operations.record_instalment(city.mediator, second_part, date(2026, 11, 4))
    operations.record_performance(city.mediator, money, date(2026, 11, 5), on_the_spot=False)
    db.session.commit()
    assert parts.performed_on == date(2026, 11, 4) and parts.overdue_since is None
    assert money.performed_on == date(2026, 11, 5)
    assert operations.check_performance(date(2026, 12, 31)) == 0
    assert queries.attention(city.mediator, date(2026, 11, 5)) is None


def test_performance_is_recorded_on_issued_agreements_only(city, clock):
    draft = _performance_draft(city)
    with pytest.raises(OperationError, match="agreement in force"):
        operations.record_performance(city.mediator, draft.terms[0], ISSUE_DAY)
    db.session.rollback()
    assert operations.check_performance(date(2027, 1, 1)) == 0  # drafts are never overdue


# ---- judicial confirmation ----------------------------------------------------------------------

def test_confirmation_is_filed_only_for_an_agreement_in_force(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    with pytest.raises(OperationError, match="Only an agreement in force can be confirmed"):
        operations.file_confirmation(city.mediator, agreement, court=city.court,
                                     court_name=None, filed_on=ISSUE_DAY, case_reference=None)
    db.session.rollback()
    assert _count(JudicialConfirmation) == 0


def test_a_divorce_is_refused_for_confirmation(city, clock, quick_pdf):
    case = settled_case(city)
    first, second = (p.id for p in case.parties)
    agreement = ready_draft(city, case, disputed="是否离婚及子女抚养。", terms=[
        operations.TermInput(content="双方自愿离婚", obligor_id=first, obligee_id=second,
                             on_the_spot=True),
        operations.TermInput(content="王建国每月支付子女抚养费", obligor_id=first,
                             obligee_id=second, amount="1500", method="银行转账",
                             due_on=date(2026, 12, 31))])
    _issue(city, agreement)
    _sign_all(city, agreement, ISSUE_DAY)
    assert agreement.in_force
    verdict = rules.eligibility(agreement)
    assert not verdict.eligible and "marriage" in verdict.refusals[0]
    with pytest.raises(OperationError) as refused:
        operations.file_confirmation(city.mediator, agreement, court=city.court,
                                     court_name=None, filed_on=ISSUE_DAY, case_reference=None)
    assert refused.value.message == verdict.refusals[0]
    db.session.rollback()
    assert _count(JudicialConfirmation) == 0


@needs_2026
def test_filing_and_the_ruling_are_tracked(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    clock.set(date(2026, 9, 5))
    _sign_all(city, agreement, date(2026, 9, 5))
    assert agreement.effective_on == date(2026, 9, 5)
    clock.set(date(2026, 10, 20))

    def file(**fields):
        values = {"court": city.court, "court_name": None, "filed_on": date(2026, 10, 8),
                  "case_reference": " （2026）测0699民特立12号 "}
        values.update(fields)
        return operations.file_confirmation(city.mediator, agreement, **values)

    for fields, message in [({"filed_on": date(2026, 9, 4)}, "took effect on 2026-09-05"),
                            ({"filed_on": date(2026, 10, 21)}, "not in the future"),
                            ({"filed_on": None}, "not in the future"),
                            ({"court": None}, "Choose the court")]:
        with pytest.raises(OperationError, match=message):
            file(**fields)
        db.session.rollback()
    assert _count(JudicialConfirmation) == 0

    confirmation = file()  # the last day: 5 October + 30 days falls in the holiday
    db.session.commit()
    assert (confirmation.court, confirmation.court_name) == (city.court, "测试区人民法院")
    assert confirmation.case_reference == "（2026）测0699民特立12号"
    assert confirmation.result is ConfirmationResult.PENDING
    filed = [e for e in agreement.case.events if "late" in (e.data or {})]
    assert len(filed) == 1 and filed[0].data["late"] is False
    with pytest.raises(OperationError, match="already with a court"):
        file(court=None, court_name="另一法院")
    db.session.rollback()

    def rule(**fields):
        values = {"result": ConfirmationResult.CONFIRMED, "ruling_number": "（2026）测0699民特12号",
                  "ruled_on": date(2026, 10, 15), "note": None}
        values.update(fields)
        operations.record_ruling(city.mediator, confirmation, **values)

    for fields, message in [({"ruling_number": " "}, "ruling's number"),
                            ({"ruled_on": date(2026, 10, 7)}, "after filing"),
                            ({"ruled_on": date(2026, 10, 21)}, "not in the future"),
                            ({"result": ConfirmationResult.PENDING}, "court's decision")]:
        with pytest.raises(OperationError, match=message):
            rule(**fields)
        db.session.rollback()
    assert confirmation.result is ConfirmationResult.PENDING
    rule()
    db.session.commit()
    assert (confirmation.result, confirmation.ruling_number, confirmation.ruled_on) == \
        (ConfirmationResult.CONFIRMED, "（2026）测0699民特12号", date(2026, 10, 15))
    assert queries.public_facts(agreement)["confirmed"] is True
    with pytest.raises(OperationError, match="already been recorded"):
        rule(result=ConfirmationResult.DISMISSED)
    db.session.rollback()


@needs_2026
def test_a_late_filing_is_marked_and_a_refused_one_can_be_filed_again(city, clock, quick_pdf):
    agreement = _issue(city, ready_draft(city, settled_case(city)))
    clock.set(date(2026, 9, 5))
    _sign_all(city, agreement, date(2026, 9, 5))
    clock.set(date(2026, 10, 20))
    first = operations.file_confirmation(city.mediator, agreement, court=None,
                                         court_name="外区人民法院", filed_on=date(2026, 10, 9),
                                         case_reference=None)
    operations.record_ruling(city.mediator, first, result=ConfirmationResult.NOT_ACCEPTED,
                             ruling_number=None, ruled_on=date(2026, 10, 12), note="无管辖权")
    db.session.commit()
    assert first.court is None and first.court_name == "外区人民法院"
    operations.file_confirmation(city.mediator, agreement, court=city.court, court_name=None,
                                 filed_on=date(2026, 10, 13), case_reference=None)
    db.session.commit()
    assert [c.result for c in agreement.confirmations] == [ConfirmationResult.NOT_ACCEPTED,
                                                           ConfirmationResult.PENDING]
    late = [e.data["late"] for e in agreement.case.events if "late" in (e.data or {})]
    assert late == [True, True]  # after 8 October, the last day


# ---- the competent courts (CPL 205) --------------------------------------------------------------

def test_competent_courts_with_their_grounds(city):
    case = settled_case(city, parties=[
        full_person(applicant, "王建国", community=city.east),
        full_person(respondent, "李卫东", community=city.west)])
    agreement = ready_draft(city, case)
    found = courts.competent_courts(agreement)
    assert [(c.court, c.name) for c in found] == [(city.court, "测试区人民法院")]
    grounds = " ".join(found[0].grounds)
    assert "王建国 is domiciled in its district" in grounds
    assert "李卫东 is domiciled in its district" in grounds
    assert "subject matter" in grounds and "mediation committee" in grounds
    assert len(found[0].grounds) == 4


def test_a_party_domiciled_elsewhere_adds_that_court(city):
    other = area_ops.create_area(None, parent=None, code="370698", name="邻区")
    street = area_ops.create_area(None, parent=other, code="370698001", name="新城街道")
    community = area_ops.create_area(None, parent=street, code="370698001001", name="新城社区")
    other_court = Court(name="邻区人民法院", area=other)
    db.session.add(other_court)
    case = settled_case(city, parties=[
        full_person(applicant, "王建国", community=city.east),
        full_person(respondent, "李卫东", community=community),
        full_person(respondent, "赵明", address="北京市朝阳区某街1号")])
    agreement = operations.start_draft(city.mediator, case)
    listed = courts.competent_courts(agreement)
    # The courts on record first (the application's default addressee), the placeholder last.
    assert [c.court is None for c in listed] == [False, False, True]
    found = {c.name: c for c in listed}
    assert found["测试区人民法院"].court == city.court
    assert found["邻区人民法院"].court == other_court
    assert found["邻区人民法院"].grounds == ["李卫东 is domiciled in its district."]
    elsewhere = [c for c in found.values() if c.court is None]
    assert len(elsewhere) == 1 and "赵明" in elsewhere[0].name
    assert "北京市朝阳区某街1号" in elsewhere[0].name
    assert len(found) == 3


def test_the_inviting_court_alone_when_set(city):
    other_court = Court(name="测试区人民法院诉前调解中心", area=city.district)
    db.session.add(other_court)
    agreement = ready_draft(city, settled_case(city))
    operations.update_draft(city.mediator, agreement, operations.DraftInput(
        facts=agreement.facts, disputed_matters=agreement.disputed_matters, copies=3,
        mediator=city.mediator, recorder_name="刘晓燕", inviting_court=other_court,
        concerns_status=False, determines_ownership=False,
        responsibilities={e.party_id: e.responsibility for e in agreement.parties}))
    db.session.commit()
    found = courts.competent_courts(agreement)
    assert [(c.court, c.name) for c in found] == [(other_court, other_court.name)]
    assert found[0].grounds == ["It invited the mediation (CPL art. 205)."]


# ---- concurrency: numbers under simultaneous issues ---------------------------------------------

def _at_once(app, jobs: list) -> tuple[list, list]:
    """Run each job (a function returning its outcome) in its own thread and transaction, at
    the same moment; (outcomes — a refusal's message for a refused job —, unexpected errors)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = []
    errors: list[str] = []

    def run(job) -> None:
        with app.app_context(), force_locale("en"):
            try:
                write_intent.set(True)
                barrier.wait(timeout=10)
                outcome = job()
                db.session.commit()
                outcomes.append(outcome)
            except OperationError as refused:
                db.session.rollback()
                outcomes.append(refused.message)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return outcomes, errors


def _issue_concurrently(app, agreement_ids: list[int], user_id: int) -> tuple[list, list]:
    """Issue the drafts at the same moment; (outcomes, unexpected errors), an outcome being
    (id, "issued", number) or (id, "refused", message)."""
    def issuing(agreement_id: int):
        def job():
            agreement = db.session.get(Agreement, agreement_id)
            try:
                operations.issue(db.session.get(User, user_id), agreement,
                                 verify_url=VERIFY_URL)
            except OperationError as refused:
                db.session.rollback()
                return agreement_id, "refused", refused.message
            return agreement_id, "issued", agreement.number
        return job

    return _at_once(app, [issuing(i) for i in agreement_ids])


def test_concurrent_issues_get_distinct_consecutive_numbers(app, city, clock, quick_pdf):
    drafts = [ready_draft(city, settled_case(city)) for _ in range(4)]
    ids, user_id = [d.id for d in drafts], city.mediator.id
    db.session.commit()  # and hold no transaction open while the issues run
    # First round: no counter row yet for the year (both insert it); then it exists.
    for round_ids in (ids[:2], ids[2:]):
        outcomes, errors = _issue_concurrently(app, round_ids, user_id)
        assert errors == []
        assert sorted(kind for _id, kind, _text in outcomes) == ["issued", "issued"]
    db.session.expire_all()
    numbers = sorted((a.seq, a.number) for a in db.session.scalars(select(Agreement)))
    assert numbers == [(n, _number(n)) for n in (1, 2, 3, 4)]
    assert _counter(city) == 4


def test_a_double_click_issues_once(app, city, clock, quick_pdf):
    draft = ready_draft(city, settled_case(city))
    draft_id, user_id = draft.id, city.mediator.id
    db.session.commit()
    outcomes, errors = _issue_concurrently(app, [draft_id, draft_id], user_id)
    assert errors == []
    kinds = sorted(kind for _id, kind, _text in outcomes)
    assert kinds == ["issued", "refused"], outcomes
    refusal = next(text for _id, kind, text in outcomes if kind == "refused")
    assert f"already been issued as {_number(1)}" in refusal
    db.session.expire_all()
    assert _counter(city) == 1
    assert db.session.scalar(select(func.count()).select_from(Agreement)
                             .where(Agreement.number.is_not(None))) == 1
    assert len(audit_entries("case.agreement.issue", draft.case)) == 1


def test_a_double_click_on_start_draft_makes_one_draft(app, city):
    """Two "draw up the agreement" clicks at once: one draft, the other click is told."""
    case = settled_case(city)
    case_id, user_id = case.id, city.mediator.id
    db.session.commit()

    def draw_up():
        operations.start_draft(db.session.get(User, user_id), db.session.get(Case, case_id))
        return "drafted"

    outcomes, errors = _at_once(app, [draw_up, draw_up])
    assert errors == []
    assert sorted(outcomes) == ["This case already has a draft agreement.", "drafted"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Agreement)
                             .where(Agreement.case_id == case_id)) == 1


def test_a_second_draft_cannot_be_issued_beside_the_agreement_in_force(city, quick_pdf):
    """Whatever made a second draft (an old double click), issuing it is refused: a case
    has one agreement in force, changed only by a correction."""
    case = settled_case(city)
    first = ready_draft(city, case)
    operations.issue(city.mediator, first, verify_url=VERIFY_URL)
    db.session.commit()
    stray = Agreement(case=case, committee=first.committee, version=2, facts=first.facts,
                      disputed_matters=first.disputed_matters, copies=3,
                      mediator=city.mediator, created_by_id=city.mediator.id)
    db.session.add(stray)
    db.session.commit()
    with pytest.raises(OperationError, match=re.escape(first.number)):
        operations.issue(city.mediator, stray, verify_url=VERIFY_URL)
    db.session.rollback()
    assert db.session.get(Agreement, stray.id).is_draft
