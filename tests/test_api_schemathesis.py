"""The API tested from its own OpenAPI document with schemathesis: every operation gets a
bounded, seeded set of generated requests (valid and invalid ones: boundary values, then
fuzzing) with a demo mediator's token, in-process through the WSGI app; any 5xx, or any
response whose content type or body the document does not describe, fails the test.

The demo city holds a case in mediation with a planned session and an issued agreement, and
generated path parameters are often swapped for those real ones (and generated new cases and
sessions for a real category, grid and free slot), so the calls reach existing resources
and the operations themselves, not only 404s and lookups.  All operations share one database
(made once for this module): what a generated POST changes stays changed, which is fine as
long as no call ever answers 5xx.  The schemathesis version installed cannot load the schema
from a pytest fixture under pytest 9 (``from_fixture``), hence the document made at import.
"""

import os
import re

import pytest
import schemathesis
from api_helpers import (
    API,
    GRID,
    agreement_body,
    bearer,
    case_body,
    case_in_mediation,
    cli_token,
    issued_agreement,
    post_ok,
    session_body,
    working_slot,
)
from conftest import DEMO_PASSWORD
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from mediation import create_app, demo
from mediation.cases.rules import today
from mediation.extensions import db
from mediation.sessions.reminders import ACCESS, OutboxMessage

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# Examples per operation: few by default so that `make test` stays quick; the release check
# runs SCHEMATHESIS_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or 25)
SEED = 20_261_123
# The real case, session, agreement and verification code, filled in by the fixture.
KNOWN: dict = {}


def _document() -> dict:
    """The OpenAPI document as the app serves it (making it touches no database)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    response = app.test_client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


schema = schemathesis.openapi.from_dict(_document(), config=schemathesis.Config.from_dict({
    "seed": SEED,
    # Every example goes through the app and its database: slow for Hypothesis, not a flaw.
    "suppress-health-check": ["too_slow", "data_too_large", "filter_too_much"],
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none",
                   "with-security-parameters": False},
    "phases": {"stateful": {"enabled": False}},
}))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Often one of the real cases, sessions or agreements, or the verification code."""
    choices = {k: KNOWN[k] for k in (path_parameters or {}) if k in KNOWN}
    if not choices:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in choices.items()})
    return st.one_of(real.map(lambda r: {**path_parameters, **r}), st.just(path_parameters))


@schema.hook
def flatmap_body(context, body):
    """Often real codes, parties, free slots, party ids or a party's case number and access
    code in a generated body, so that it gets past the lookups into the operations."""
    variants = KNOWN.get("bodies", {}).get(context.operation.path)
    if not isinstance(body, dict) or not variants:
        return st.just(body)
    return st.one_of(st.sampled_from(variants).map(lambda v: {**body, **v}), st.just(body))


@pytest.fixture(scope="module")
def api(database):
    """One demo city for all the operations, with the demo mediator's token (文苑社区): a
    settled case with a session and an issued agreement, and a case in mediation."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database.fresh_uri("schemathesis"),
                     DEMO_PASSWORD=DEMO_PASSWORD)
    with app.app_context():
        demo.seed()
        db.session.commit()
        secret = cli_token(app, "mediator", name="schemathesis")
        slot, free = working_slot(days_ahead=10), working_slot(days_ahead=12, hour=15)
    client = app.test_client()
    headers = bearer(secret)
    settled = case_in_mediation(client, headers)
    session = post_ok(client, f"{API}/cases/{settled['number']}/sessions", headers,
                      session_body(*slot), 201)
    agreement = issued_agreement(client, headers, settled)
    open_case = case_in_mediation(client, headers, title="邻居噪音纠纷", category="noise")
    valid_draft = agreement_body(open_case)
    # A draft with an instalment, and a filing for the issued agreement once in force.
    drafting = case_in_mediation(client, headers, title="拖欠租金纠纷", category="contract")
    draft_body = agreement_body(drafting)
    draft_body["terms"][0]["instalments"] = [{"due_on": draft_body["terms"][0]["due_on"],
                                              "amount": "3800"}]
    draft = post_ok(client, f"{API}/cases/{drafting['number']}/agreements", headers,
                    draft_body, 201)
    with app.app_context():
        day = today().isoformat()
    for signer in [{"signer": "party", "party_id": p["id"]} for p in settled["parties"]] + [
            {"signer": "mediator"}, {"signer": "seal"}]:
        post_ok(client, f"{API}/agreements/{agreement['id']}/signatures", headers,
                {**signer, "signed_on": day})
    confirmation = post_ok(client, f"{API}/agreements/{agreement['id']}/confirmations",
                           headers, {"court_name": "东湖区人民法院", "filed_on": day}, 201)
    with app.app_context():  # a party's real pair, from its access-code SMS
        text = db.session.scalar(db.select(OutboxMessage.body).where(
            OutboxMessage.kind == ACCESS, OutboxMessage.party_id == settled["parties"][0]["id"]))
    pair = {"case_number": settled["number"],
            "access_code": re.search(r"查询码(\d{8})", text).group(1)}
    KNOWN.update(
        number=[settled["number"], open_case["number"]], session_id=[session["id"]],
        agreement_id=[agreement["id"], draft["id"]], code=[agreement["verification_code"]],
        term_id=[t["id"] for t in agreement["terms"] + draft["terms"]],
        instalment_id=[draft["terms"][0]["instalments"][0]["id"]],
        confirmation_id=[confirmation["id"]],
        party_id=[p["id"] for p in drafting["parties"] + open_case["parties"]],
        participant_id=[p["id"] for p in session["participants"]],
        bodies={
            f"{API}/cases": [{"category": "water_leak", "grid": GRID},
                             {"category": "water_leak", "grid": GRID,
                              "parties": case_body()["parties"]}],
            f"{API}/cases/{{number}}/sessions": [
                {"starts_at": free[0].isoformat(), "ends_at": free[1].isoformat()},
                session_body(*free, parties=None, lead_mediator=None)],
            f"{API}/cases/{{number}}/free_slots": [
                {"around": free[0].isoformat(), "duration_minutes": 60}],
            f"{API}/sessions/{{session_id}}/attendance": [{"attendance": [
                {"participant_id": p["id"], "attendance": "confirmed"}
                for p in session["participants"]]}],
            f"{API}/cases/{{number}}/agreements": [
                {k: valid_draft[k] for k in ("terms", "responsibilities")}],
            f"{API}/agreements/{{agreement_id}}/signatures": [
                {"signer": "recorder", "signed_on": day, "party_id": None}],
            f"{API}/agreements/{{agreement_id}}/confirmations": [
                {"court_name": "东湖区人民法院", "filed_on": day, "court_id": None}],
            f"{API}/agreements/confirmations/{{confirmation_id}}/ruling": [
                {"result": "confirmed", "ruled_on": day}],
            f"{API}/agreements/terms/{{term_id}}/performed": [{"performed_on": day}],
            f"{API}/agreements/instalments/{{instalment_id}}/paid": [{"paid_on": day}],
            f"{API}/public/reports": [{"grid": GRID, "consent": True, "photos": [],
                                       "phone": "13905461234"}],
            f"{API}/public/status": [pair],
            f"{API}/public/sessions/{{session_id}}/reply": [pair],
            f"{API}/public/ratings": [pair],
        })
    yield app, headers
    KNOWN.clear()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case, api):
    app, headers = api
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)

