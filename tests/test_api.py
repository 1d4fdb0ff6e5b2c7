"""The JSON API as its clients use it: tokens from `flask create-api-token` or the admin page,
a case walked from intake to closure with API calls only, retries with an Idempotency-Key,
problem+json errors in the caller's language, jurisdiction, filters, clashes, the public
verification, the audit log, rate limits and the OpenAPI document."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from api_helpers import (
    API,
    GRID,
    OTHER_GRID,
    PROBLEM,
    agreement_body,
    bearer,
    case_body,
    case_in_mediation,
    cli_token,
    issued_agreement,
    other_community_mediator,
    person,
    post_ok,
    session_body,
    working_slot,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from conftest import Auth
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import func, select

from mediation import demo
from mediation.api import tokens
from mediation.api.models import ApiToken, IdempotentReply
from mediation.areas.models import AreaKind, AreaNode, Centre, Room
from mediation.cases import operations as case_ops
from mediation.cases.models import Case
from mediation.cases.states import Level
from mediation.core import audit
from mediation.core.audit import AuditEntry
from mediation.core.db import utcnow
from mediation.extensions import db
from mediation.sessions import operations as session_ops
from mediation.sessions.models import MediationSession
from mediation.users.models import User

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def mediator(demo_city):
    """The demo mediator 张志强 (文苑社区) through a token from the CLI."""
    return bearer(cli_token(demo_city, "mediator"))


@pytest.fixture
def outsider(demo_city):
    """王建国 (wangjianguo), the demo mediator of 清风社区 and 明德社区, as the demo's
    development seed makes him, with a token of his own."""
    return bearer(cli_token(demo_city, other_community_mediator(), name="清风社区平板"))


def _token(secret: str) -> ApiToken:
    db.session.expire_all()
    return db.session.scalar(select(ApiToken).where(
        ApiToken.token_hash == hashlib.sha256(secret.encode()).hexdigest()))


def _secret(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


# ---- the whole walk -----------------------------------------------------------------------

def test_a_cli_token_walks_a_case_from_intake_to_closure(demo_city, client):
    secret = cli_token(demo_city, "mediator", name="12345热线", days=30)
    token = _token(secret)
    assert token.user.username == "mediator" and token.name == "12345热线"
    assert secret not in (token.token_hash, token.prefix) and secret.startswith(token.prefix)
    assert timedelta(days=29) < token.expires_at - utcnow() <= timedelta(days=30)
    headers = bearer(secret)

    created = client.post(f"{API}/cases", json=case_body(), headers=headers)
    assert created.status_code == 201, created.get_json()
    case = created.get_json()
    number = case["number"]
    assert created.headers["Location"].endswith(f"{API}/cases/{number}")
    assert case["state"] == "reported" and case["level"] == "community"
    assert case["grid"] == GRID and case["category"] == "water_leak"
    parties = {p["name"]: p for p in case["parties"]}
    assert parties["李卫东"]["gender"] == "female" and parties["王建国"]["ethnicity"] == "汉族"
    assert parties["王建国"]["phone_masked"] == "*******1234"
    assert "13805461234" not in created.get_data(as_text=True)
    assert client.get(f"{API}/cases/{number}", headers=headers).get_json()["number"] == number

    assert post_ok(client, f"{API}/cases/{number}/accept", headers)["state"] == "accepted"
    case = post_ok(client, f"{API}/cases/{number}/start", headers)
    assert case["state"] == "in_mediation" and case["handler"] == "mediator"

    start, end = working_slot()
    booked = client.post(f"{API}/cases/{number}/sessions", json=session_body(start, end),
                         headers=headers)
    assert booked.status_code == 201, booked.get_json()
    session = booked.get_json()
    assert session["case_number"] == number and session["status"] == "planned"
    assert session["room_id"] is None
    assert datetime.fromisoformat(session["starts_at"]) == start
    assert datetime.fromisoformat(session["ends_at"]) == end
    assert booked.headers["Location"].endswith(f"{API}/sessions/{session['id']}")

    day = start.date().isoformat()
    found = client.get(f"{API}/sessions", query_string={"from": day, "to": day, "case": number},
                       headers=headers).get_json()
    assert found["total"] == 1 and [s["id"] for s in found["items"]] == [session["id"]]
    later = (start.date() + timedelta(days=1)).isoformat()
    assert client.get(f"{API}/sessions", query_string={"from": later},
                      headers=headers).get_json()["total"] == 0
    ics = client.get(f"{API}/sessions/{session['id']}/ics", headers=headers)
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert ics.data.startswith(b"BEGIN:VCALENDAR") and b"BEGIN:VEVENT" in ics.data

    drafted = client.post(f"{API}/cases/{number}/agreements", json=agreement_body(case),
                          headers=headers)
    assert drafted.status_code == 201, drafted.get_json()
    draft = drafted.get_json()
    assert draft["status"] == "draft" and draft["number"] is None and len(draft["terms"]) == 2
    assert draft["terms"][0]["amount"] == "3800.00"
    assert _problem(client.get(f"{API}/agreements/{draft['id']}/pdf", headers=headers), 409)

    issued = post_ok(client, f"{API}/agreements/{draft['id']}/issue", headers)
    assert issued["status"] == "issued" and issued["number"] and issued["verification_code"]
    assert client.get(f"{API}/agreements/{draft['id']}", headers=headers).get_json() == issued
    listed = client.get(f"{API}/agreements", query_string={"case": number},
                        headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == draft["id"]

    pdf = client.get(f"{API}/agreements/{draft['id']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert hashlib.sha256(pdf.data).hexdigest() == issued["sha256"]

    assert client.get(f"{API}/cases/{number}", headers=headers).get_json()["state"] == "settled"
    closed = post_ok(client, f"{API}/cases/{number}/close", headers, {"note": "协议已履行"})
    assert closed["state"] == "closed"
    db.session.expire_all()
    assert db.session.scalar(select(Case.state).where(Case.number == number)).value == "closed"

    # Every changing call is in the audit log, as its account, beside the operations' own.
    calls = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "api.call")
                               .order_by(AuditEntry.id)).all()
    assert [c.note for c in calls] == [
        f"POST {API}/cases → 201",
        f"POST {API}/cases/{number}/accept → 200",
        f"POST {API}/cases/{number}/start → 200",
        f"POST {API}/cases/{number}/sessions → 201",
        f"POST {API}/cases/{number}/agreements → 201",
        f"POST {API}/agreements/{draft['id']}/issue → 200",
        f"POST {API}/cases/{number}/close → 200",
    ]
    assert {(c.actor_name, c.object_type, c.object_id) for c in calls} == {
        ("mediator", "ApiToken", str(token.id))}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "case.agreement.pdf.read")) == 1
    assert audit.verify_chain().ok
    assert _token(secret).last_used_at is not None


def test_a_token_used_only_for_reading_shows_when_it_was_last_used(demo_city, client):
    secret = cli_token(demo_city, "mediator", name="法院查询")
    assert _token(secret).last_used_at is None
    assert client.get(f"{API}/agreements", headers=bearer(secret)).status_code == 200
    assert _token(secret).last_used_at is not None


def test_reads_leave_no_api_call_in_the_audit_log(client, mediator):
    case = case_in_mediation(client, mediator)
    before = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "api.call"))
    for url in (f"{API}/cases", f"{API}/cases/{case['number']}", f"{API}/areas",
                f"{API}/sessions", f"{API}/agreements"):
        assert client.get(url, headers=mediator).status_code == 200, url
    refused = client.post(f"{API}/cases/{case['number']}/close", json={}, headers=mediator)
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "api.call")) == before


# ---- safe retries ---------------------------------------------------------------------------

def test_a_retried_post_with_the_same_key_returns_the_first_case(client, mediator):
    retry = {**mediator, "Idempotency-Key": "hotline-20261123-0001"}
    first = client.post(f"{API}/cases", json=case_body(), headers=retry)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = client.post(f"{API}/cases", json=case_body(), headers=retry)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert _case_count() == 1

    other = client.post(f"{API}/cases", json=case_body(title="另一起纠纷"), headers=retry)
    body = _problem(other, 422)
    assert "Idempotency-Key" in body["detail"]
    assert _case_count() == 1

    fresh = client.post(f"{API}/cases", json=case_body(),
                        headers={**mediator, "Idempotency-Key": "hotline-20261123-0002"})
    assert fresh.status_code == 201 and fresh.get_json()["number"] != first.get_json()["number"]
    assert _case_count() == 2


def test_a_refused_post_does_not_use_up_its_key(client, mediator):
    retry = {**mediator, "Idempotency-Key": "hotline-20261123-0003"}
    refused = client.post(f"{API}/cases", json=case_body(category="no_such_category"),
                          headers=retry)
    assert _fields(_problem(refused, 422)) == {"category"}
    assert db.session.scalar(select(func.count()).select_from(IdempotentReply)) == 0
    assert client.post(f"{API}/cases", json=case_body(), headers=retry).status_code == 201
    assert _case_count() == 1


def test_keys_belong_to_their_token_and_replay_sessions_too(demo_city, client, mediator):
    second = bearer(cli_token(demo_city, "mediator", name="第二个客户端"))
    key = {"Idempotency-Key": "same-key"}
    one = client.post(f"{API}/cases", json=case_body(), headers={**mediator, **key})
    two = client.post(f"{API}/cases", json=case_body(), headers={**second, **key})
    assert one.status_code == two.status_code == 201
    assert one.get_json()["number"] != two.get_json()["number"]

    number = one.get_json()["number"]
    post_ok(client, f"{API}/cases/{number}/accept", mediator)
    start, end = working_slot()
    booking = {**mediator, "Idempotency-Key": "session-1"}
    first = client.post(f"{API}/cases/{number}/sessions", json=session_body(start, end),
                        headers=booking)
    again = client.post(f"{API}/cases/{number}/sessions", json=session_body(start, end),
                        headers=booking)
    assert first.status_code == again.status_code == 201, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 1
    long_key = {**mediator, "Idempotency-Key": "k" * 256}
    assert _problem(client.post(f"{API}/cases", json=case_body(), headers=long_key), 400)


# ---- authentication ---------------------------------------------------------------------

def test_no_token_or_an_unknown_one_is_401_with_a_challenge(client, demo_city):
    for headers in ({}, {"Authorization": "Bearer mtk_not-a-real-token"},
                    {"Authorization": "Bearer "}, {"Authorization": "Basic bWVkaWF0b3I6eA=="}):
        response = client.get(f"{API}/cases", headers=headers)
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _case_count() == 0
    refused = client.post(f"{API}/cases", json=case_body())
    _problem(refused, 401)
    assert _case_count() == 0


def test_revoked_expired_and_disabled_tokens_are_refused(demo_city, client):
    revoked, expired, disabled = (cli_token(demo_city, name, name=f"{name}-token")
                                  for name in ("mediator", "coordinator", "gridworker"))
    for secret in (revoked, expired, disabled):
        assert client.get(f"{API}/cases", headers=bearer(secret)).status_code == 200

    to_revoke, to_expire, to_disable = (_token(s) for s in (revoked, expired, disabled))
    tokens.revoke_token(None, to_revoke)
    to_expire.expires_at = utcnow() - timedelta(minutes=1)
    to_disable.user.active = False
    db.session.commit()
    for secret in (revoked, expired, disabled):
        response = client.get(f"{API}/cases", headers=bearer(secret))
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_browser_session_is_no_token(client, demo_city):
    Auth(client).login("mediator")
    assert client.get("/", follow_redirects=False).status_code == 200
    _problem(client.get(f"{API}/cases"), 401)


def test_the_cli_refuses_unknown_accounts_and_bad_lengths(demo_city):
    runner = demo_city.test_cli_runner()
    unknown = runner.invoke(args=["create-api-token", "nobody", "--name", "x"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output
    too_long = runner.invoke(args=["create-api-token", "mediator", "--name", "x",
                                   "--days", "9999"])
    assert too_long.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


# ---- errors -------------------------------------------------------------------------------

def test_an_invalid_body_is_422_with_each_field(client, mediator):
    english = {**mediator, "Accept-Language": "en"}
    body = case_body(source="fax", parties=[{"role": "applicant"}], bogus=1)
    del body["title"]
    problem = _problem(client.post(f"{API}/cases", json=body, headers=english), 422)
    assert _fields(problem) == {"title", "source", "parties.0.name", "bogus"}
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["title"] == "This field is required."
    assert messages["bogus"] == "Unknown field."
    assert messages["source"].startswith("Must be one of: ")
    assert problem["detail"] == "Some fields are not valid."

    chinese = _problem(client.post(f"{API}/cases", json=body, headers=mediator), 422)
    assert _fields(chinese) == _fields(problem)
    assert all(CJK.search(e["message"]) for e in chinese["errors"])

    for broken in ("{not json", "[1, 2"):
        response = client.post(f"{API}/cases", data=broken, headers={
            **english, "Content-Type": "application/json"})
        assert "JSON" in _problem(response, 400)["detail"]
    assert _case_count() == 0


def test_a_form_encoded_body_is_415_not_a_list_of_missing_fields(client, mediator):
    response = client.post(f"{API}/cases", data={"title": "漏水"}, headers=mediator)
    body = _problem(response, 415)
    assert "application/json" in body["detail"]
    assert _case_count() == 0


def test_refused_rules_answer_in_the_callers_language(client, mediator):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    chinese = _problem(client.post(f"{API}/cases/{number}/close", json={}, headers=mediator),
                       422)
    assert chinese["detail"] == "案件当前为“已登记”，不能变更为“已结案”。"
    english = _problem(client.post(f"{API}/cases/{number}/close", json={},
                                   headers={**mediator, "Accept-Language": "en-GB,en;q=0.8"}),
                       422)
    assert english["detail"] == "A case that is “Reported” cannot become “Closed”."
    no_reason = _problem(client.post(f"{API}/cases/{number}/decline", json={},
                                     headers=mediator), 422)
    assert no_reason["errors"] == [{"field": "reason", "message": "请填写理由。"}]
    no_applicant = _problem(client.post(f"{API}/cases", json=case_body(
        parties=[person("respondent", "李卫东")]), headers=mediator), 422)
    assert _fields(no_applicant) == {"parties"}
    assert client.get(f"{API}/cases/{number}", headers=mediator).get_json()["state"] == \
        "reported"


def test_unknown_resources_are_404(client, mediator):
    for url in (f"{API}/cases/2026-999999", f"{API}/cases/2026-999999/parties",
                f"{API}/sessions/999", f"{API}/sessions/999/ics", f"{API}/agreements/999",
                f"{API}/agreements/999/pdf", f"{API}/agreements/0",
                f"{API}/sessions/99999999999999999999", f"{API}/no-such-thing"):
        _problem(client.get(url, headers=mediator), 404)
    for url, body in ((f"{API}/cases/2026-999999/accept", {}),
                      (f"{API}/agreements/999/issue", {}),
                      (f"{API}/sessions/99999999999/cancel", {"reason": "x"})):
        _problem(client.post(url, json=body, headers=mediator), 404)
    _problem(client.post(f"{API}/cases/2026-999999/sessions", json=session_body(
        *working_slot()), headers=mediator), 404)
    _problem(client.delete(f"{API}/cases", headers=mediator), 405)


def test_nul_characters_and_huge_numbers_are_refused_not_crashes(client, mediator):
    """PostgreSQL cannot store NUL, and ids beyond its INTEGER overflow the driver: both
    used to answer 500 (run this on PostgreSQL too)."""
    for query in ({"grid": "a\x00"}, {"category": "\x00"}, {"state": "reported\x00"}):
        assert _fields(_problem(client.get(f"{API}/cases", query_string=query,
                                           headers=mediator), 422)) == set(query)
    assert _fields(_problem(client.get(f"{API}/sessions", query_string={"case": "2026\x00"},
                                       headers=mediator), 422)) == {"case"}
    body = case_body(title="漏水\x00", parties=[person("applicant", "王\x00")])
    assert _fields(_problem(client.post(f"{API}/cases", json=body, headers=mediator), 422)) \
        == {"title", "parties.0.name"}
    keyed = client.post(f"{API}/cases", json=case_body(),
                        headers={**mediator, "Idempotency-Key": "key\x00"})
    assert _fields(_problem(keyed, 400)) == {"Idempotency-Key"}
    assert _case_count() == 0
    case = case_in_mediation(client, mediator)
    huge = session_body(*working_slot(), place_kind="room", room_id=2**40)
    assert _fields(_problem(client.post(f"{API}/cases/{case['number']}/sessions", json=huge,
                                        headers=mediator), 422)) == {"room_id"}
    assert _problem(client.post(f"{API}/cases/{case['number']}/accept", json={"version": 2**63},
                                headers=mediator), 422)
    assert _case_count() == 1


# ---- resources ----------------------------------------------------------------------------

def test_workflow_actions_each_take_their_reason(client, mediator):
    def act(number, action, body=None, status=200):
        return post_ok(client, f"{API}/cases/{number}/{action}", mediator, body, status)

    def new_case():
        return post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]

    declined = new_case()
    assert act(declined, "decline", {"reason": "不属于民间纠纷", "referred_to": "东湖区人民法院"}
               )["state"] == "declined"
    assert act(declined, "close")["state"] == "closed"

    withdrawn = new_case()
    assert act(withdrawn, "withdraw", {"reason": "申请人撤回"})["state"] == "withdrawn"

    escalated = new_case()
    assert act(escalated, "escalate", {"reason": "涉及多户居民"})["level"] == "street"
    problem = _problem(client.post(f"{API}/cases/{escalated}/escalate", json={"reason": "再升"},
                                   headers=mediator), 422)
    assert problem["detail"]

    referred = new_case()
    act(referred, "accept")
    assert _fields(_problem(client.post(f"{API}/cases/{referred}/refer_out",
                                        json={"reason": "需司法鉴定"}, headers=mediator), 422)
                   ) == {"referred_to"}
    assert act(referred, "refer_out", {"reason": "需司法鉴定", "referred_to": "东湖区人民法院"}
               )["state"] == "referred_out"

    failed = case_in_mediation(client, mediator)["number"]
    assert act(failed, "fail", {"reason": "双方分歧过大", "routes_told": ["court"]}
               )["state"] == "failed"

    settled = case_in_mediation(client, mediator)["number"]
    assert act(settled, "settle", {"oral_agreement": "李卫东当场赔偿王建国800元"}
               )["state"] == "settled"
    assert act(settled, "close")["state"] == "closed"
    # A closed case no longer changes: a conflict with its state, said so, not "not allowed".
    closed = _problem(client.post(f"{API}/cases/{settled}/sessions", headers=mediator,
                                  json=session_body(*working_slot())), 409)
    assert settled in closed["detail"]

    stale = new_case()
    conflict = _problem(client.post(f"{API}/cases/{stale}/accept", json={"version": 0},
                                    headers=mediator), 409)
    assert conflict["detail"]
    assert client.get(f"{API}/cases/{stale}", headers=mediator).get_json()["state"] == \
        "reported"


def test_parties_are_listed_masked_and_added(client, mediator):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    added = client.post(f"{API}/cases/{number}/parties", headers=mediator, json={
        "role": "third_party", "name": "赵物业", "id_number": "11010519491231002X",
        "phone": "13700001111"})
    assert added.status_code == 201, added.get_json()
    party = added.get_json()
    assert party["id_type"] == "resident_id" and party["id_number_masked"] != \
        "11010519491231002X" and party["birth_year"] == 1949
    assert party["birth_date"] is None  # part of the number: it would complete the mask
    listed = client.get(f"{API}/cases/{number}/parties", headers=mediator).get_json()
    assert listed["total"] == 3 and [p["role"] for p in listed["items"]] == [
        "applicant", "respondent", "third_party"]
    text = client.get(f"{API}/cases/{number}/parties", headers=mediator).get_data(as_text=True)
    assert "11010519491231002X" not in text and "13700001111" not in text
    wrong = client.post(f"{API}/cases/{number}/parties", headers=mediator, json={
        "role": "third_party", "name": "钱某", "id_number": "110105194912310021"})
    assert "id_number" in _fields(_problem(wrong, 422))


def test_the_timeline_is_the_case_pages_oldest_first_and_only_in_scope(client, mediator,
                                                                       outsider):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    post_ok(client, f"{API}/cases/{number}/escalate", mediator,
            {"to_level": "street", "reason": "涉及多户，需街道协调。"})
    timeline = client.get(f"{API}/cases/{number}/events", headers=mediator).get_json()
    kinds = [e["kind"] for e in timeline["items"]]
    assert timeline["total"] == len(kinds) and kinds == ["state", "state", "state", "level"]
    assert [(e["from_state"], e["to_state"]) for e in timeline["items"] if e["to_state"]][:3] \
        == [(None, "reported"), ("reported", "accepted"), ("accepted", "in_mediation")]
    escalated = timeline["items"][-1]
    assert (escalated["from_level"], escalated["to_level"], escalated["reason"]) == (
        "community", "street", "涉及多户，需街道协调。")
    assert escalated["actor"] == "张志强"
    assert [e["id"] for e in timeline["items"]] == sorted(e["id"] for e in timeline["items"])
    _problem(client.get(f"{API}/cases/{number}/events", headers=outsider), 404)
    _problem(client.get(f"{API}/cases/{number}/events"), 401)


def test_escalation_proposals_are_listed_and_decided_as_on_the_case_page(demo_city, client,
                                                                         mediator, outsider):
    number = case_in_mediation(client, mediator)["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    case_ops.request_escalation(case.handler, case, Level.STREET, "涉及三个社区的住户。")
    db.session.commit()
    listed = client.get(f"{API}/cases/{number}/proposals", headers=mediator).get_json()
    assert listed["total"] == 1
    proposal = listed["items"][0]
    assert (proposal["status"], proposal["to_level"], proposal["reason"]) == (
        "open", "street", "涉及三个社区的住户。")
    decide = f"{API}/proposals/{proposal['id']}/decide"
    # Never by the case's own handler; a dismissal says why; another community: not found.
    own = _problem(client.post(decide, json={"decision": "confirm"}, headers=mediator), 422)
    assert "承办人" in own["detail"]
    assert client.get(f"{API}/cases/{number}/proposals",
                      headers=mediator).get_json()["items"][0]["status"] == "open"
    coordinator = bearer(cli_token(demo_city, "coordinator", name="街道平板"))
    assert _fields(_problem(client.post(decide, json={"decision": "dismiss"},
                                        headers=coordinator), 422)) == {"note"}
    _problem(client.post(decide, json={"decision": "confirm"}, headers=outsider), 404)
    _problem(client.get(f"{API}/cases/{number}/proposals", headers=outsider), 404)
    decided = post_ok(client, decide, coordinator, {"decision": "confirm"})
    assert (decided["status"], decided["decided_by"]) == ("confirmed", "李红梅")
    assert client.get(f"{API}/cases/{number}", headers=mediator).get_json()["level"] == \
        "street"
    _problem(client.post(decide, json={"decision": "confirm"}, headers=coordinator), 422)


def test_centres_and_rooms_are_listed_for_booking(demo_city, client, mediator, outsider):
    centres = client.get(f"{API}/centres", headers=mediator).get_json()
    by_name = {c["name"]: c for c in centres["items"]}
    street = by_name["文汇街道矛盾纠纷调处化解中心"]
    assert (street["opens_at"], street["closes_at"], street["area"]) == (
        "08:30", "17:30", "370599001")
    first = next(r for r in street["rooms"] if r["name"] == "第一调解室")
    assert first["capacity"] > 0 and first["centre_id"] == street["id"] and first["active"]
    assert centres["total"] == len(centres["items"])

    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    rooms = client.get(f"{API}/rooms", query_string={"case": number},
                       headers=mediator).get_json()
    serving = {c.id for c in session_ops.centres_for(
        db.session.scalar(select(Case).where(Case.number == number)))}
    assert rooms["items"] and {r["centre_id"] for r in rooms["items"]} <= serving
    assert first["id"] in {r["id"] for r in rooms["items"]}
    # A case out of sight: no hint it exists. A volunteer assigned nothing sees no centre.
    _problem(client.get(f"{API}/rooms", query_string={"case": number}, headers=outsider), 404)
    volunteer = bearer(cli_token(demo_city, "legalaid", name="志愿者手机"))
    assert client.get(f"{API}/centres", headers=volunteer).get_json() == {"items": [],
                                                                         "total": 0}
    _problem(client.get(f"{API}/centres"), 401)


def test_a_partys_community_is_its_domicile_for_the_competent_court(client, mediator):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    added = post_ok(client, f"{API}/cases/{number}/parties", mediator,
                    person("third_party", "孙立", community="370599001001"), 201)
    assert added["community"] == "370599001001"
    grid = person("third_party", "周某", community="370599001001-01")  # a grid, not a community
    assert _fields(_problem(client.post(f"{API}/cases/{number}/parties", json=grid,
                                        headers=mediator), 422)) == {"community"}


def test_areas_are_the_tokens_jurisdiction(client, mediator, outsider):
    mine = client.get(f"{API}/areas", query_string={"per_page": 100}, headers=mediator)
    codes = {a["code"] for a in mine.get_json()["items"]}
    assert GRID in codes and OTHER_GRID not in codes
    theirs = client.get(f"{API}/areas", query_string={"per_page": 100}, headers=outsider)
    assert OTHER_GRID in {a["code"] for a in theirs.get_json()["items"]}


def test_a_grid_worker_reads_but_does_not_handle_a_community_case(demo_city, client, mediator):
    gridworker = bearer(cli_token(demo_city, "gridworker", name="网格员手机"))
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    assert client.get(f"{API}/cases/{number}", headers=gridworker).status_code == 200
    _problem(client.post(f"{API}/cases/{number}/accept", json={}, headers=gridworker), 403)
    _problem(client.post(f"{API}/cases/{number}/sessions", json=session_body(*working_slot()),
                         headers=gridworker), 403)
    assert client.get(f"{API}/cases/{number}", headers=gridworker).get_json()["state"] == \
        "reported"

    own = post_ok(client, f"{API}/cases", gridworker, case_body(), 201)
    assert own["level"] == "grid"
    assert post_ok(client, f"{API}/cases/{own['number']}/accept", gridworker)["state"] == \
        "accepted"
    _problem(client.post(f"{API}/cases", json=case_body(grid=OTHER_GRID), headers=gridworker),
             422)


def test_a_legal_aid_token_may_not_register_cases(demo_city, client):
    legalaid = bearer(cli_token(demo_city, "legalaid", name="法律援助"))
    _problem(client.post(f"{API}/cases", json=case_body(), headers=legalaid), 403)
    _problem(client.get(f"{API}/areas", headers=legalaid), 403)
    assert client.get(f"{API}/cases", headers=legalaid).get_json()["total"] == 0
    assert _case_count() == 0


def test_another_communitys_mediator_sees_nothing_of_a_case(client, mediator, outsider):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    session = post_ok(client, f"{API}/cases/{number}/sessions", mediator,
                      session_body(*working_slot()), 201)
    agreement = issued_agreement(client, mediator, case)
    for url in (f"{API}/cases/{number}", f"{API}/cases/{number}/parties",
                f"{API}/sessions/{session['id']}", f"{API}/sessions/{session['id']}/ics",
                f"{API}/agreements/{agreement['id']}", f"{API}/agreements/{agreement['id']}/pdf"):
        _problem(client.get(url, headers=outsider), 404)
    for url, body in ((f"{API}/cases/{number}/close", {}),
                      (f"{API}/cases/{number}/agreements", agreement_body(case)),
                      (f"{API}/cases/{number}/parties", person("third_party", "赵某")),
                      (f"{API}/sessions/{session['id']}/cancel", {"reason": "越权"}),
                      (f"{API}/agreements/{agreement['id']}/issue", {})):
        _problem(client.post(url, json=body, headers=outsider), 404)
    for url in (f"{API}/cases", f"{API}/sessions", f"{API}/agreements"):
        assert client.get(url, headers=outsider).get_json() == {
            "items": [], "total": 0, "total_exact": True, "page": 1, "per_page": 20}, url
    assert client.get(f"{API}/sessions", query_string={"case": number},
                      headers=outsider).get_json()["total"] == 0
    # Nor may they file a case into 文苑; in their own grid they may, and 张志强 cannot see it.
    assert _fields(_problem(client.post(f"{API}/cases", json=case_body(), headers=outsider),
                            422)) == {"grid"}
    theirs = post_ok(client, f"{API}/cases", outsider, case_body(grid=OTHER_GRID), 201)
    _problem(client.get(f"{API}/cases/{theirs['number']}", headers=mediator), 404)
    assert client.get(f"{API}/cases", headers=mediator).get_json()["total"] == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "case.agreement.pdf.read")) == 0


def test_case_list_filters_and_pages(demo_city, client, mediator):
    gridworker = bearer(cli_token(demo_city, "gridworker", name="网格员手机"))
    numbers = {}
    numbers["grid_level"] = post_ok(client, f"{API}/cases", gridworker, case_body(), 201)[
        "number"]
    numbers["risky"] = post_ok(client, f"{API}/cases", mediator, case_body(
        risks=["violence_threat"]), 201)["number"]
    numbers["noise"] = post_ok(client, f"{API}/cases", mediator, case_body(
        category="noise", grid="370599001001-02"), 201)["number"]
    numbers["accepted"] = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    post_ok(client, f"{API}/cases/{numbers['accepted']}/accept", mediator)
    numbers["overdue"] = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    late = db.session.scalar(select(Case).where(Case.number == numbers["overdue"]))
    late.level_deadline = late.overall_deadline = (utcnow() - timedelta(days=3)).date()
    db.session.commit()

    def listed(**query):
        response = client.get(f"{API}/cases", query_string=query, headers=mediator)
        assert response.status_code == 200, response.get_json()
        return {c["number"] for c in response.get_json()["items"]}

    assert listed(per_page=100) == set(numbers.values())
    assert listed(state="accepted") == {numbers["accepted"]}
    assert listed(level="grid") == {numbers["grid_level"]}
    assert listed(level="community") == set(numbers.values()) - {numbers["grid_level"]}
    assert listed(risk="high") == {numbers["risky"]}
    assert listed(category="noise") == {numbers["noise"]} == listed(grid="370599001001-02")
    assert listed(overdue="true") == {numbers["overdue"]}
    assert numbers["overdue"] not in listed(overdue="false")
    assert listed(state="reported", category="water_leak", level="community") == {
        numbers["risky"], numbers["overdue"]}
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert listed(updated_since=soon.isoformat()) == set()
    assert listed(updated_since=(soon - timedelta(hours=1)).isoformat()) == set(
        numbers.values())

    pages = [client.get(f"{API}/cases", query_string={"per_page": 2, "page": n},
                        headers=mediator).get_json() for n in (1, 2, 3, 4)]
    assert [(p["page"], p["per_page"], p["total"], len(p["items"])) for p in pages] == [
        (1, 2, 5, 2), (2, 2, 5, 2), (3, 2, 5, 1), (4, 2, 5, 0)]
    seen = [c["number"] for p in pages for c in p["items"]]
    assert sorted(seen) == sorted(numbers.values())
    assert seen[0] == numbers["overdue"]  # most recently updated first

    for query in ({"state": "lost"}, {"per_page": 0}, {"per_page": 101}, {"page": "x"},
                  {"overdue": "maybe"}, {"updated_since": "2026-11-01T00:00:00"},
                  {"level": "province"}):
        assert _fields(_problem(client.get(f"{API}/cases", query_string=query,
                                           headers=mediator), 422)) == set(query), query


def test_a_clash_answers_409_naming_the_booked_session(client, mediator):
    first = case_in_mediation(client, mediator)
    second = case_in_mediation(client, mediator, title="邻居噪音纠纷", category="noise")
    start, end = working_slot()
    booked = post_ok(client, f"{API}/cases/{first['number']}/sessions", mediator,
                     session_body(start, end), 201)
    overlapping = session_body(start + timedelta(minutes=30), end + timedelta(minutes=30),
                               address="文苑社区居委会")
    clash = client.post(f"{API}/cases/{second['number']}/sessions", json=overlapping,
                        headers=mediator)
    problem = _problem(clash, 409)
    assert start.strftime("%Y-%m-%d %H:%M") in problem["detail"]
    assert end.strftime("%H:%M") in problem["detail"] and first["number"] in problem["detail"]
    free = [datetime.fromisoformat(s) for s in problem["slots"]]
    assert free and all(s + timedelta(hours=1) <= start or s >= end for s in free), free
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 1

    cancelled = client.post(f"{API}/sessions/{booked['id']}/cancel", json={"reason": "申请人住院"},
                            headers=mediator)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    rebooked = client.post(f"{API}/cases/{second['number']}/sessions", json=overlapping,
                           headers=mediator)
    assert rebooked.status_code == 201, rebooked.get_json()


def test_session_bookings_that_break_the_rules_are_422(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    evening = start.replace(hour=20)
    cases = [
        (session_body(end, start), "ends_at"),
        (session_body(start - timedelta(days=30), end - timedelta(days=30)), "starts_at"),
        (session_body(start, end, address=None), "address"),
        (session_body(start, end, place_kind="room"), "room_id"),
        (session_body(evening, evening + timedelta(hours=1)), "override_reason"),
        (session_body(start, end, parties=[999]), "parties"),
        (session_body(start, end, lead_mediator="nobody"), "lead_mediator"),
    ]
    for body, field in cases:
        problem = _problem(client.post(f"{API}/cases/{number}/sessions", json=body,
                                       headers=mediator), 422)
        assert _fields(problem) == {field}, (field, problem)
    late = session_body(evening, evening + timedelta(hours=1), override_reason="双方白天上班")
    assert client.post(f"{API}/cases/{number}/sessions", json=late,
                       headers=mediator).status_code == 201
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 1


def test_a_room_at_a_centre_not_serving_the_case_is_refused(client, mediator):
    """Another street's centre is not the parties' to use, nor its bookings to see."""
    street = db.session.scalar(select(AreaNode).where(
        AreaNode.kind == AreaKind.STREET, AreaNode.code != "370599001"))
    elsewhere = Centre(name="另一街道调处中心", area=street)
    room = Room(centre=elsewhere, name="调解室", capacity=10)
    db.session.add_all([elsewhere, room])
    db.session.commit()
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    body = session_body(start, end, place_kind="room", room_id=room.id)
    problem = _problem(client.post(f"{API}/cases/{number}/sessions", json=body,
                                   headers=mediator), 422)
    assert _fields(problem) == {"room_id"}
    assert db.session.scalar(select(func.count()).select_from(MediationSession)) == 0


def test_agreement_drafts_are_checked_and_issued_once(client, mediator):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    unknown_party = agreement_body(case, responsibilities=[{"party_id": 999, "text": "x"}])
    assert _fields(_problem(client.post(f"{API}/cases/{number}/agreements", json=unknown_party,
                                        headers=mediator), 422)) == {"responsibilities"}
    no_terms = agreement_body(case, terms=[])
    assert _fields(_problem(client.post(f"{API}/cases/{number}/agreements", json=no_terms,
                                        headers=mediator), 422)) == {"terms"}
    agreement = issued_agreement(client, mediator, case)
    twice = _problem(client.post(f"{API}/agreements/{agreement['id']}/issue", json={},
                                 headers=mediator), 422)
    assert agreement["number"] in twice["detail"]
    listed = client.get(f"{API}/agreements", query_string={"status": "issued"},
                        headers=mediator).get_json()
    assert [a["id"] for a in listed["items"]] == [agreement["id"]]
    assert client.get(f"{API}/agreements", query_string={"status": "draft"},
                      headers=mediator).get_json()["total"] == 0


def test_a_court_referred_case_names_its_inviting_court_from_the_courts_list(client, mediator):
    courts = client.get(f"{API}/courts", headers=mediator).get_json()
    court = next(c for c in courts["items"] if c["name"] == "东湖区人民法院")
    case = case_in_mediation(client, mediator, source="court_referral")
    number = case["number"]
    wrong = agreement_body(case, inviting_court_id=2**31 - 1)
    assert _fields(_problem(client.post(f"{API}/cases/{number}/agreements", json=wrong,
                                        headers=mediator), 422)) == {"inviting_court_id"}
    # Without it the draft is kept but cannot be issued.
    draft = client.post(f"{API}/cases/{number}/agreements", json=agreement_body(case),
                        headers=mediator).get_json()
    refused = _problem(client.post(f"{API}/agreements/{draft['id']}/issue", json={},
                                   headers=mediator), 422)
    assert "第二百零五条" in refused["detail"]  # Chinese by default
    # Named from the courts list, it issues.
    other = case_in_mediation(client, mediator, source="court_referral")
    draft = client.post(f"{API}/cases/{other['number']}/agreements",
                        json=agreement_body(other, inviting_court_id=court["id"]),
                        headers=mediator).get_json()
    assert post_ok(client, f"{API}/agreements/{draft['id']}/issue", mediator)["number"]


def test_public_verification_needs_no_token_and_masks_names(client, mediator):
    case = case_in_mediation(client, mediator)
    agreement = issued_agreement(client, mediator, case)
    response = client.get(f"{API}/public/agreements/{agreement['verification_code']}")
    assert response.status_code == 200, response.get_json()
    facts = response.get_json()
    assert facts["number"] == agreement["number"] and facts["sha256"] == agreement["sha256"]
    assert facts["status"] == "issued" and facts["confirmed"] is False
    assert facts["committee"] == "文苑社区人民调解委员会"
    assert facts["parties"] == ["王**", "李**"]
    text = response.get_data(as_text=True)
    assert "王建国" not in text and "李卫东" not in text and "1380546" not in text
    lowercase = client.get(f"{API}/public/agreements/{agreement['verification_code'].lower()}",
                           headers={"Authorization": "Bearer nonsense"})
    assert lowercase.status_code == 200
    _problem(client.get(f"{API}/public/agreements/NOSUCHCODE"), 404)


def test_rate_limit_per_token_answers_429(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    with app.app_context():
        demo.seed()
        db.session.commit()
        busy = bearer(cli_token(app, "mediator", name="热线"))
        calm = bearer(cli_token(app, "mediator", name="网格"))
    # Each call in its own app context, as served: the counters are written on a connection
    # of their own, between the calls' transactions.
    client = app.test_client()
    codes = [client.get(f"{API}/cases", headers=busy).status_code for _ in range(3)]
    limited = client.get(f"{API}/cases", headers=busy)
    other = client.get(f"{API}/cases", headers=calm)
    assert codes == [200, 200, 200]
    assert limited.status_code == 429 and limited.mimetype == PROBLEM
    assert limited.get_json()["status"] == 429 and "Retry-After" in limited.headers
    assert other.status_code == 200


# ---- the document and the pages -----------------------------------------------------------

def test_the_openapi_document_is_valid_and_names_the_agreed_paths(client):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    validate_openapi(spec)
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [
        ("/cases", "get"), ("/cases", "post"), ("/cases/{number}", "get"),
        ("/cases/{number}/{action}", "post"), ("/cases/{number}/parties", "get"),
        ("/cases/{number}/events", "get"), ("/centres", "get"), ("/rooms", "get"),
        ("/cases/{number}/proposals", "get"), ("/proposals/{proposal_id}/decide", "post"),
        ("/sessions", "get"), ("/cases/{number}/sessions", "post"),
        ("/sessions/{session_id}/ics", "get"), ("/sessions/{session_id}/cancel", "post"),
        ("/sessions/{session_id}/attendance", "post"), ("/sessions/{session_id}/minutes", "get"),
        ("/sessions/{session_id}/minutes", "put"), ("/sessions/{session_id}/minutes/pdf", "get"),
        ("/sessions/{session_id}/participants/{participant_id}/notice", "get"),
        ("/cases/{number}/free_slots", "post"), ("/cases/{number}/volunteers", "get"),
        ("/duties", "get"), ("/duties", "post"), ("/duties/{duty_id}", "delete"),
        ("/cases/{number}/agreements", "post"), ("/agreements", "get"),
        ("/agreements/{agreement_id}", "get"), ("/agreements/{agreement_id}/issue", "post"),
        ("/agreements/{agreement_id}/pdf", "get"), ("/areas", "get"),
        ("/public/agreements/{code}", "get"),
        ("/agreements/{agreement_id}", "patch"), ("/agreements/{agreement_id}/problems", "get"),
        ("/agreements/{agreement_id}/terms", "post"), ("/agreements/terms/{term_id}", "get"),
        ("/agreements/terms/{term_id}", "put"), ("/agreements/terms/{term_id}", "delete"),
        ("/agreements/terms/{term_id}/move", "post"),
        ("/agreements/{agreement_id}/parties/{party_id}", "post"),
        ("/agreements/{agreement_id}/preview", "get"),
        ("/agreements/{agreement_id}/discard", "post"),
        ("/agreements/{agreement_id}/correct", "post"),
        ("/agreements/{agreement_id}/signatures", "post"),
        ("/agreements/{agreement_id}/signed_copy", "post"),
        ("/agreements/{agreement_id}/signed_copy", "get"),
        ("/agreements/terms/{term_id}/performed", "post"),
        ("/agreements/instalments/{instalment_id}/paid", "post"),
        ("/agreements/{agreement_id}/eligibility", "get"),
        ("/agreements/{agreement_id}/application", "post"),
        ("/agreements/{agreement_id}/confirmations", "post"),
        ("/agreements/confirmations/{confirmation_id}", "get"),
        ("/agreements/confirmations/{confirmation_id}/ruling", "post"),
        ("/cases/{number}/confirmations", "get"),
        ("/cases/{number}", "patch"), ("/cases/{number}/take_over", "post"),
        ("/cases/{number}/assignments", "get"), ("/cases/{number}/assignments", "post"),
        ("/cases/{number}/notes", "post"), ("/cases/{number}/opinions", "post"),
        ("/cases/{number}/follow_ups", "get"), ("/cases/{number}/follow_ups", "post"),
        ("/cases/{number}/proposals", "post"),
        ("/cases/{number}/supervision_notices", "get"),
        ("/cases/{number}/supervision_notices", "post"), ("/supervision_notices", "post"),
        ("/supervision_notices/{notice_id}/respond", "post"),
        ("/cases/{number}/help_requests", "get"), ("/cases/{number}/help_requests", "post"),
        ("/help_requests/{help_id}/response", "post"),
        ("/cases/{number}/attachments", "get"), ("/cases/{number}/attachments", "post"),
        ("/attachments/{attachment_id}/file", "get"),
        ("/cases/{number}/parties/{party_id}", "put"),
        ("/cases/{number}/parties/{party_id}/refusal", "post"),
        ("/cases/{number}/parties/{party_id}/id_number", "post"),
        ("/cases/{number}/parties/{party_id}/phone", "post"),
        ("/cases/{number}/parties/{party_id}/portal_code", "post"),
    ]:
        assert method in paths.get(API + path, {}), (method, path)
    action = next(p for p in paths[f"{API}/cases/{{number}}/{{action}}"]["parameters"]
                  if p["name"] == "action")
    assert {"accept", "decline", "escalate", "refer_out", "settle", "fail", "withdraw",
            "close"} <= set(action["schema"]["enum"])
    session_query = {p["name"] for p in paths[f"{API}/sessions"]["get"]["parameters"]}
    assert {"from", "to", "case", "page", "per_page"} <= session_query
    schemas = spec["components"]["schemas"]
    assert {"number", "state", "level"} <= set(schemas["Case"]["properties"])
    assert schemas["Case"]["properties"]["level"]["enum"] == ["grid", "community", "street"]
    assert {"id", "case_number", "status", "room_id", "starts_at", "ends_at"} <= set(
        schemas["Session"]["properties"])
    assert {"id", "role", "name", "attendance", "reply", "phone_masked"} <= set(
        schemas["Participant"]["properties"])
    assert {"items", "total", "page", "per_page"} <= set(schemas["CasePage"]["properties"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert paths[f"{API}/public/agreements/{{code}}"]["get"]["security"] == []
    errors = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(errors) == [PROBLEM]


def test_the_docs_page_is_readable_without_logging_in(client):
    response = client.get(f"{API}/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for text in (f"{API}/cases/{{number}}/{{action}}", f"{API}/sessions/{{session_id}}/ics",
                 "Bearer", "Idempotency-Key", "CaseIn"):
        assert text in html, text


def test_the_admin_page_creates_lists_and_revokes_tokens(demo_city, client, auth):
    auth.login("admin")
    page = client.get("/admin/api-tokens/")
    assert page.status_code == 200
    mediator_id = db.session.scalar(select(User.id).where(User.username == "mediator"))
    created = auth.post("/admin/api-tokens/", {"user_id": mediator_id, "name": "12345热线",
                                               "days": 90})
    assert created.status_code == 200
    secret = re.search(r'id="new-token">\s*(mtk_[\w-]+)\s*<', created.get_data(as_text=True))
    assert secret, "the new token is not shown"
    secret = secret.group(1)
    token = _token(secret)
    assert token.user.username == "mediator" and token.created_by.username == "admin"
    assert client.get(f"{API}/cases", headers=bearer(secret)).status_code == 200

    listing = client.get("/admin/api-tokens/").get_data(as_text=True)
    assert "12345热线" in listing and token.prefix in listing and secret not in listing
    assert 'id="new-token"' not in listing

    revoked = auth.post(f"/admin/api-tokens/{token.id}/revoke", form_url="/admin/api-tokens/")
    assert revoked.status_code == 302
    assert _token(secret).revoked_at is not None
    _problem(client.get(f"{API}/cases", headers=bearer(secret)), 401)
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.action.startswith("api_token.")).order_by(AuditEntry.id)).all()
    assert actions == ["api_token.create", "api_token.revoke"]

    invalid = auth.post("/admin/api-tokens/", {"user_id": mediator_id, "name": "",
                                               "days": 9999})
    assert invalid.status_code == 200 and 'id="new-token"' not in invalid.get_data(True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_only_administrators_manage_tokens(demo_city, client, auth):
    secret = cli_token(demo_city, "gridworker")
    token_id = _token(secret).id
    assert client.get("/admin/api-tokens/").status_code == 302  # to the login page
    auth.login("mediator")
    assert client.get("/admin/api-tokens/").status_code == 403
    token = auth.token("/")
    assert client.post(f"/admin/api-tokens/{token_id}/revoke",
                       data={"csrf_token": token}).status_code == 403
    assert client.post("/admin/api-tokens/", data={
        "csrf_token": token, "user_id": token_id, "name": "x", "days": 1}).status_code == 403
    assert _token(secret).revoked_at is None
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
