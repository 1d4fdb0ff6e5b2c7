"""Migrations over a database in use: going down and up again keeps every row.

SQLite changes a table's constraints by copying it to a new table and dropping the old one;
with foreign keys on (every connection turns them on) that drop deletes the rows cascading
from it and fails on the rows restricting it. The revisions that touch the parties
(b1a0d17a0008) and the agreement terms (b1a0d17a0007) are run here, down and up, over a case
with a booked session, an issued agreement and its terms, on both databases."""

from datetime import datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from agreements_helpers import full_person, ready_draft
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from flask import current_app
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from mediation.agreements import operations
from mediation.areas.models import Court
from mediation.cases import operations as case_operations
from mediation.cases.models import Gender
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.core.calendar import is_working_day
from mediation.core.db import include_object
from mediation.core.identity import id_check_char
from mediation.extensions import db
from mediation.sessions.models import PlaceKind
from mediation.sessions.operations import SessionInput, schedule_session

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
PARTIES = "b1a0d17a0008"  # nationality, issuing country, home region
TERMS = "b1a0d17a0007"  # several obligors and obligees per term
BEFORE_TERMS = "b1a0d17a0006"
WANG_ID = "37050219750308001" + id_check_char("37050219750308001")

# The rows that must outlive the migrations, as each table holds them (these tables' own
# columns do not change in the revisions run here; the parties' are read by name).
KEPT = {
    "parties": "SELECT id, case_id, name, id_type, id_number_encrypted, id_number_masked "
               "FROM parties ORDER BY id",
    "session_participants": "SELECT id, session_id, role, user_id, party_id, name, "
                            "organisation, attendance, consent_recorded "
                            "FROM session_participants ORDER BY id",
    "outbox_messages": "SELECT id, session_id, participant_id, kind FROM outbox_messages "
                       "ORDER BY id",
    "agreement_parties": "SELECT * FROM agreement_parties ORDER BY id",
    "agreement_term_parties": "SELECT * FROM agreement_term_parties "
                              "ORDER BY term_id, party_id",
    "agreement_instalments": "SELECT * FROM agreement_instalments ORDER BY id",
}


def _rows(*tables: str) -> dict[str, list[tuple]]:
    return {name: [tuple(r) for r in db.session.execute(text(KEPT[name]))]
            for name in tables or KEPT}


def _migrate(step: str, revision: str) -> None:
    db.session.remove()
    getattr(command, step)(current_app.extensions["migrate"].migrate.get_config(), revision)


def _next_working_day(day):
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@pytest.fixture
def in_use(demo_city):
    """A case with two people, a session booked with them (notices queued), and an issued,
    signed agreement whose first term is paid in two instalments."""
    mediator = user("mediator")
    case = make_case(mediator, grid=area(GRID), category="neighbour", parties=[
        full_person(applicant, "王建国", id_type="resident_id", id_number=WANG_ID),
        full_person(respondent, "李卫东", gender=Gender.FEMALE, phone="13905467788",
                    address="东营市东湖区东苑小区3号楼402室")])
    walk_to(case, CaseState.IN_MEDIATION, mediator)
    case.handler = mediator
    if db.session.scalar(select(Court)) is None:
        db.session.add(Court(name="东湖区人民法院", area=area("370599")))
    day = _next_working_day(today() + timedelta(days=14))
    session = schedule_session(mediator, case, SessionInput(
        starts_at=datetime.combine(day, time(10), LOCAL),
        ends_at=datetime.combine(day, time(11), LOCAL), place_kind=PlaceKind.ON_SITE,
        address="东苑小区3号楼502室", purpose="调解漏水损失", lead_mediator=mediator,
        parties=list(case.parties)))
    db.session.commit()
    wang, li = case.parties
    later = today() + timedelta(days=60)
    agreement = ready_draft(SimpleNamespace(mediator=mediator), case, terms=[
        operations.TermInput(content="李卫东分两期赔偿王建国天花板修复费用", obligor_id=li.id,
                             obligee_id=wang.id, method="银行转账",
                             instalments=f"{later - timedelta(days=30)} 1900\n{later} 1900"),
        operations.TermInput(content="李卫东于本协议签订后十五日内修复卫生间防水层",
                             obligor_id=li.id, due_on=later, method="自行委托施工")])
    operations.issue(mediator, agreement, verify_url="http://localhost/v/{code}")
    for signer in [f"party:{e.party_id}" for e in agreement.parties] + ["mediator", "seal"]:
        operations.record_signature(mediator, agreement, signer, agreement.issued_on)
    db.session.commit()
    assert agreement.in_force
    kept = _rows()
    # What the test is about is there: party participants (and the lead mediator), the
    # notices to the parties, both parties of the agreement, the terms' parties.
    assert sorted(p.party_id for p in session.participants if p.party_id) == [wang.id, li.id]
    assert [r[2] for r in kept["outbox_messages"] if r[2] is not None]
    assert len(kept["agreement_parties"]) == 2
    assert len(kept["agreement_term_parties"]) == 3 and len(kept["agreement_instalments"]) == 2
    return kept


def _columns(table: str) -> set[str]:
    return {c["name"] for c in inspect(db.session.connection()).get_columns(table)}


def _refused(statement: str) -> str:
    with pytest.raises(IntegrityError) as caught:
        db.session.execute(text(statement))
        db.session.flush()
    db.session.rollback()
    return str(caught.value)


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_parties_revision_down_and_up_keeps_sessions_and_agreements(in_use):
    _migrate("downgrade", TERMS)
    assert not _columns("parties") & {"nationality", "id_issuing_country", "home_region"}
    assert _rows() == in_use
    # Data as it stood at the older revision: a Taiwan resident's travel permit.
    taiwan = in_use["parties"][1][0]
    db.session.execute(text("UPDATE parties SET id_type = 'taiwan_permit' WHERE id = :id"),
                       {"id": taiwan})
    db.session.commit()

    for _ in range(2):
        _migrate("upgrade", "head")
        assert _rows("session_participants", "outbox_messages", "agreement_parties",
                     "agreement_term_parties", "agreement_instalments") == {
            name: rows for name, rows in in_use.items() if name != "parties"}
        assert db.session.execute(text("SELECT id, home_region FROM parties "
                                       "WHERE home_region IS NOT NULL")).all() == [
            (taiwan, "taiwan")]
        _migrate("downgrade", TERMS)
        assert len(_rows()["session_participants"]) == len(in_use["session_participants"])
    _migrate("upgrade", "head")
    db.session.execute(text("UPDATE parties SET id_type = NULL, home_region = NULL "
                            "WHERE id = :id"), {"id": taiwan})
    db.session.commit()
    assert _rows() == in_use

    # The constraints are back under the names the models give them, on either database.
    wang = in_use["parties"][0][0]
    assert "ck_parties_issuing_country_of_passports" in _refused(
        f"UPDATE parties SET id_issuing_country = '美国' WHERE id = {wang}")
    assert "ck_parties_home_region" in _refused(
        f"UPDATE parties SET home_region = 'macau' WHERE id = {wang}")
    db.session.execute(text(f"UPDATE parties SET id_type = 'passport', "
                            f"id_issuing_country = '美国', home_region = 'macao' "
                            f"WHERE id = {wang}"))
    db.session.rollback()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                          "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_the_terms_revision_down_and_up_keeps_instalments_and_term_parties(in_use):
    """b1a0d17a0007 copies agreement_terms on SQLite: its instalments and the parties
    bound by its terms come back; nothing else is touched."""
    _migrate("downgrade", BEFORE_TERMS)
    assert "agreement_term_parties" not in inspect(db.session.connection()).get_table_names()
    kept = {name: rows for name, rows in in_use.items() if name != "agreement_term_parties"}
    assert _rows(*kept) == kept
    assert db.session.execute(text("SELECT obligor_id, obligee_id FROM agreement_terms "
                                   "ORDER BY position")).all() == [
        (in_use["parties"][1][0], in_use["parties"][0][0]), (in_use["parties"][1][0], None)]
    _migrate("upgrade", "head")
    assert _rows() == in_use


OUTCOME = "b1a0d17a0013"  # cases.outcome, filled from the timeline, and its CHECKs
BEFORE_OUTCOME = "b1a0d17a0012"
S = CaseState
OUTCOME_STORIES = {  # the case's way → the outcome the upgrade reads for it
    (S.ACCEPTED, S.IN_MEDIATION, S.SETTLED, S.CLOSED): "settled",
    (S.ACCEPTED, S.IN_MEDIATION, S.PARTLY_SETTLED, S.FOLLOW_UP): "partly_settled",
    (S.ACCEPTED, S.IN_MEDIATION, S.FAILED): "failed",
    (S.DECLINED, S.CLOSED): "declined",
    (S.WITHDRAWN,): "withdrawn",
    (S.ACCEPTED,): None,
}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_outcome_revision_reads_each_outcome_from_the_timeline(demo_city):
    mediator = user("mediator")
    ids = {}
    for way in OUTCOME_STORIES:
        case = make_case(mediator, grid=area(GRID))
        for step in way:
            case_operations.transition(case, step, mediator, reason="测试")
        ids[way] = case.id
    db.session.commit()

    def outcomes() -> dict:
        found = dict(db.session.execute(text("SELECT id, outcome FROM cases")).all())
        return {way: found[case_id] for way, case_id in ids.items()}

    for _ in range(2):
        _migrate("downgrade", BEFORE_OUTCOME)
        assert "outcome" not in _columns("cases")
        _migrate("upgrade", OUTCOME)
        assert outcomes() == OUTCOME_STORIES
    _migrate("upgrade", "head")

    # The CHECKs hold from now on, under the names the models give them.
    follow_up = ids[(S.ACCEPTED, S.IN_MEDIATION, S.PARTLY_SETTLED, S.FOLLOW_UP)]
    failed, still_open = ids[(S.ACCEPTED, S.IN_MEDIATION, S.FAILED)], ids[(S.ACCEPTED,)]
    assert "ck_cases_outcome_is_an_outcome" in _refused(
        f"UPDATE cases SET outcome = 'follow_up' WHERE id = {follow_up}")
    assert "ck_cases_outcome_iff_outcome_at" in _refused(
        f"UPDATE cases SET outcome = NULL WHERE id = {failed}")
    assert "ck_cases_outcome_iff_outcome_at" in _refused(
        f"UPDATE cases SET outcome = 'settled' WHERE id = {still_open}")
    assert outcomes() == OUTCOME_STORIES
    db.session.rollback()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                          "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


def test_the_outcome_revision_stops_on_an_outcome_it_cannot_read(demo_city):
    """A case with an outcome time and nothing on its timeline or in its state to say which
    outcome: the upgrade names it and changes nothing."""
    mediator = user("mediator")
    case = make_case(mediator, grid=area(GRID))
    walk_to(case, S.CLOSED, mediator)
    db.session.commit()
    case_id, number = case.id, case.number
    _migrate("downgrade", BEFORE_OUTCOME)
    db.session.execute(text("DELETE FROM case_events WHERE case_id = :id AND kind = 'state' "
                            "AND to_state = 'settled'"), {"id": case_id})
    db.session.commit()
    with pytest.raises(RuntimeError, match=number):
        _migrate("upgrade", OUTCOME)
    db.session.rollback()
    assert "outcome" not in _columns("cases")
    db.session.execute(text("DELETE FROM cases WHERE id = :id"), {"id": case_id})
    db.session.commit()
    _migrate("upgrade", "head")
