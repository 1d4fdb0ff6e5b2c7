"""The API's contract under any body: what Python's json or the database cannot take (lone
surrogates, nesting without end, numbers beyond reason, other encodings) answers 400 or 422
as problem+json, never 500, and saves nothing; 405 names the methods an address takes; the
OpenAPI document's required bodies and nullable fields are what the API enforces; a video
link is a web link, in the API, on the pages and in the calendar file.  Run on PostgreSQL too.
"""

import json
from datetime import timedelta

import pytest
from api_helpers import (
    API,
    bearer,
    case_body,
    case_in_mediation,
    cli_token,
    person,
    post_ok,
    session_body,
    working_slot,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from icalendar import Calendar
from sqlalchemy import func, select

from mediation.cases.models import Case, Party
from mediation.core.errors import OperationError
from mediation.extensions import db
from mediation.sessions import notices, operations
from mediation.sessions.models import MediationSession, PlaceKind
from mediation.users.operations import find_user

UTF8_MESSAGE = "请求体须为 UTF-8 编码的 JSON。"
DEEP_MESSAGE = "请求体嵌套层级过深。"
NUMBER_MESSAGE = "请求体中的数字过大。"
JSON_MESSAGE = "请求体不是有效的 JSON。"
LINK_MESSAGE = "视频链接须以 https:// 或 http:// 开头。"


@pytest.fixture
def mediator(demo_city):
    return bearer(cli_token(demo_city, "mediator"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _with(body: dict, raw: bytes) -> bytes:
    """``body`` as JSON with one more member written out by hand."""
    return json.dumps(body).encode()[:-1] + b", " + raw + b"}"


DEEP = b"[" * 5000 + b"]" * 5000
# name: (body, status, message or error fields) — each sent as application/json.
HOSTILE = {
    "lone surrogate in a text": (json.dumps(case_body(title="漏水\ud800")).encode(), 422,
                                 {"title"}),
    "lone surrogate in a party": (json.dumps(case_body(parties=[
        person("applicant", "\udfff王建国")])).encode(), 422, {"parties.0.name"}),
    "lone surrogate in a name": (b'{"\\udfff": "x"}', 422, {"\ufffd"}),
    "array 5,000 deep": (DEEP, 400, DEEP_MESSAGE),
    "object 5,000 deep": (b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, DEEP_MESSAGE),
    "5,000 deep in a field": (_with(case_body(), b'"risks": ' + DEEP), 400, DEEP_MESSAGE),
    "40 deep in a field": (_with(case_body(), b'"risks": ' + b"[" * 40 + b"]" * 40), 400,
                           DEEP_MESSAGE),
    "1e400": (_with(case_body(), b'"amount": 1e400'), 400, NUMBER_MESSAGE),
    "5,000 digits": (_with(case_body(), b'"amount": ' + b"9" * 5000), 400, NUMBER_MESSAGE),
    "-5,000 digits": (b'{"version": -' + b"9" * 5000 + b"}", 400, NUMBER_MESSAGE),
    "NaN": (_with(case_body(), b'"amount": NaN'), 400, JSON_MESSAGE),
    "Infinity": (_with(case_body(), b'"amount": -Infinity'), 400, JSON_MESSAGE),
    "invalid UTF-8": (json.dumps(case_body()).encode()[:-1] + b', "address": "\xff\xfe"}',
                      400, UTF8_MESSAGE),
    "UTF-16": (json.dumps(case_body(), ensure_ascii=False).encode("utf-16"), 400,
               UTF8_MESSAGE),
    "GB18030": (json.dumps(case_body(), ensure_ascii=False).encode("gb18030"), 400,
                UTF8_MESSAGE),
    "truncated": (json.dumps(case_body()).encode()[:-5], 400, JSON_MESSAGE),
    "null": (b"null", 422, {None}),
    "a list": (b"[]", 422, {None}),
    "a number": (b"12", 422, {None}),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_body_is_refused_as_problem_json_and_saves_nothing(client, mediator, name):
    case = case_in_mediation(client, mediator)
    number = case["number"]
    start, end = working_slot()
    session = post_ok(client, f"{API}/cases/{number}/sessions", mediator,
                      session_body(start, end), 201)
    saved = (_count(Case), _count(Party), _count(MediationSession))
    body, status, expected = HOSTILE[name]
    targets = [f"{API}/cases", f"{API}/cases/{number}/parties", f"{API}/cases/{number}/settle",
               f"{API}/sessions/{session['id']}/move", f"{API}/cases/{number}/agreements"]
    for url in targets:
        for content_type in ("application/json", "application/json; charset=utf-8"):
            response = client.post(url, data=body, headers={
                **mediator, "Content-Type": content_type, "Idempotency-Key": f"k-{url}"})
            problem = _problem(response, status)
            if url != targets[0]:
                continue
            if isinstance(expected, set):
                assert _fields(problem) == expected, problem
            else:
                assert problem["detail"] == expected
                assert problem["errors"] == [{"field": None, "message": expected}]
    english = client.post(targets[0], data=body, headers={
        **mediator, "Content-Type": "application/json", "Accept-Language": "en"})
    assert _problem(english, status)["detail"].isascii()
    assert (_count(Case), _count(Party), _count(MediationSession)) == saved
    assert client.get(f"{API}/cases/{number}", headers=mediator).get_json()["state"] == \
        "in_mediation"


def test_the_body_is_utf8_json_whatever_its_charset_says(client, mediator):
    """RFC 8259: JSON between systems is UTF-8, and a charset parameter has no effect."""
    body = json.dumps(case_body(), ensure_ascii=False).encode()
    for index, charset in enumerate(("utf-8", "UTF-16", "gb18030", "latin-1", "bogus")):
        created = client.post(f"{API}/cases", data=body, headers={
            **mediator, "Content-Type": f"application/json; charset={charset}"})
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["title"] == "楼上漏水导致天花板受损"
        assert _count(Case) == index + 1
    # A Unicode escape is JSON too; a BOM is not.
    escaped = client.post(f"{API}/cases", data=json.dumps(case_body()).encode(),
                          headers={**mediator, "Content-Type": "application/json"})
    assert escaped.get_json()["title"] == "楼上漏水导致天花板受损"
    with_bom = client.post(f"{API}/cases", data=b"\xef\xbb\xbf" + body,
                           headers={**mediator, "Content-Type": "application/json"})
    assert _problem(with_bom, 400)["detail"] == JSON_MESSAGE
    # Numbers up to a hundred digits are read, and judged by their field.
    long = client.post(f"{API}/cases/2026-000001/accept", data=b'{"version": ' + b"9" * 100
                       + b"}", headers={**mediator, "Content-Type": "application/json"})
    assert _fields(_problem(long, 422)) == {"version"}
    assert _count(Case) == 6


def test_an_empty_body_is_an_empty_request_not_an_error(client, mediator):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    for headers in ({}, {"Content-Type": "application/json"}):
        missing = client.post(f"{API}/cases", data=b"", headers={**mediator, **headers})
        assert {"title", "source", "category", "narrative"} <= _fields(_problem(missing, 422))
    accepted = client.post(f"{API}/cases/{number}/accept", headers=mediator)
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    assert _count(Case) == 1


# ---- 405 ------------------------------------------------------------------------------------

def test_a_method_not_allowed_names_the_allowed_ones(client, mediator, auth):
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    for method, url, allowed in (
            ("delete", f"{API}/cases", {"GET", "POST"}),
            ("put", f"{API}/cases/{number}", {"GET"}),
            ("get", f"{API}/cases/{number}/accept", {"POST"}),
            ("patch", f"{API}/sessions/1/cancel", {"POST"}),
            ("delete", f"{API}/public/agreements/ABCD", {"GET"})):
        response = getattr(client, method)(url, headers=mediator)
        _problem(response, 405)
        assert allowed <= set(response.headers["Allow"].split(", ")), (url, response.headers)
    auth.login("mediator")
    for method, url, allowed in (("delete", "/login", {"GET", "POST"}),
                                 ("get", "/logout", {"POST"}),
                                 ("put", f"/cases/{number}", {"GET"})):
        response = getattr(client, method)(url)
        assert response.status_code == 405 and response.mimetype == "text/html"
        assert allowed <= set(response.headers["Allow"].split(", ")), (url, response.headers)


# ---- the document and the behaviour ----------------------------------------------------------

PATH_VALUES = {"number": "2026-999999", "action": "accept", "session_id": "999999",
               "agreement_id": "999999", "proposal_id": "999999", "term_id": "999999",
               "instalment_id": "999999", "confirmation_id": "999999", "party_id": "999999",
               "participant_id": "999999", "duty_id": "999999", "notice_id": "999999",
               "help_id": "999999", "attachment_id": "999999"}


def _operations_with_bodies(spec: dict):
    for path, operations_ in spec["paths"].items():
        for method, operation in operations_.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                url = path.format(**PATH_VALUES)
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                yield method, url, operation["requestBody"], ref.rsplit("/", 1)[-1]


def _nulls(schemas: dict, name: str, prefix: str = ""):
    """(a body with one field null, its dotted path, whether the document lets it be null),
    for every field of the schema and of the objects it nests."""
    for field, prop in schemas[name]["properties"].items():
        nullable = bool(prop.get("nullable"))
        if "enum" in prop:
            assert (None in prop["enum"]) == nullable, (name, field, prop)
        yield {field: None}, prefix + field, nullable
        item = prop.get("items", {})
        if "$ref" in item:
            for body, path, inner in _nulls(schemas, item["$ref"].rsplit("/", 1)[-1],
                                            f"{prefix}{field}.0."):
                yield {field: [body]}, path, inner


def test_every_body_is_required_and_every_field_nullable_exactly_as_documented(client,
                                                                                mediator):
    spec = client.get(f"{API}/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    checked = 0
    for method, url, request_body, name in _operations_with_bodies(spec):
        required = set(schemas[name].get("required", []))
        # A body is required exactly when its schema has required fields; without one, the
        # API refuses the call naming them (or, the body being optional, takes the call).
        assert request_body.get("required", False) == bool(required), (url, name)
        for headers in ({}, {"Content-Type": "application/json"}):
            response = getattr(client, method)(url, data=b"", headers={**mediator, **headers})
            if required:
                assert _fields(_problem(response, 422)) == required, (url, response.get_json())
            else:
                _problem(response, 404)  # past the body, to the unknown resource
        for body, path, nullable in _nulls(schemas, name):
            response = getattr(client, method)(url, json=body, headers=mediator)
            fields = _fields(response.get_json()) if response.status_code == 422 else set()
            assert (path in fields) != nullable, (url, path, nullable, response.get_json())
            checked += 1
    assert checked > 80


def test_a_null_document_type_is_refused_where_the_document_says_so(client, mediator):
    """The issue's example: a party's id_type is nullable (null: none given, or a resident
    ID card when an ID number is), and says so; its role is not."""
    spec = client.get(f"{API}/openapi.json").get_json()
    party = spec["components"]["schemas"]["PartyIn"]["properties"]
    assert party["id_type"]["nullable"] and None in party["id_type"]["enum"]
    assert "nullable" not in party["role"] and None not in party["role"]["enum"]
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    url = f"{API}/cases/{number}/parties"
    refused = client.post(url, json={**person("third_party", "赵六"), "role": None},
                          headers=mediator)
    assert _fields(_problem(refused, 422)) == {"role"}
    refused = client.post(url, json=person("third_party", "赵六", kind=None), headers=mediator)
    assert _fields(_problem(refused, 422)) == {"kind"}
    added = post_ok(client, url, mediator, person(
        "third_party", "赵六", id_type=None, id_number="370502198001011239",
        birth_date="1980-01-01"), 201)
    assert added["id_type"] == "resident_id"


# ---- video links ------------------------------------------------------------------------------

HOSTILE_LINKS = ["javascript:alert(document.cookie)", "JavaScript://%0aalert(1)",
                 "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
                 "vbscript:msgbox", "//meet.example.cn/abc", "meet.example.cn/abc",
                 "https://", "https:// meet.example.cn", "https://meet.example.cn/a\r\nURL:x",
                 "https://meet.example.cn/a b", "ftp://meet.example.cn/abc"]


def test_the_api_takes_only_web_links_for_video(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    url = f"{API}/cases/{number}/sessions"
    for link in HOSTILE_LINKS:
        for place_kind in ("video", "on_site"):
            body = session_body(start, end, place_kind=place_kind, video_link=link)
            problem = _problem(client.post(url, json=body, headers=mediator), 422)
            assert problem["errors"] == [{"field": "video_link", "message": LINK_MESSAGE}], link
    english = client.post(url, json=session_body(start, end, place_kind="video",
                                                 video_link=HOSTILE_LINKS[0]),
                          headers={**mediator, "Accept-Language": "en"})
    assert _problem(english, 422)["errors"][0]["message"] == \
        "The video link must start with https:// or http://."
    assert _count(MediationSession) == 0

    session = post_ok(client, url, mediator, session_body(
        start, end, place_kind="video", video_link="HTTPS://meet.example.cn/r/8812?pwd=1"), 201)
    ics = Calendar.from_ical(client.get(f"{API}/sessions/{session['id']}/ics",
                                        headers=mediator).data)
    event = ics.walk("VEVENT")[0]
    assert str(event["url"]) == "HTTPS://meet.example.cn/r/8812?pwd=1"
    move = {"starts_at": (start + timedelta(hours=2)).isoformat(),
            "ends_at": (end + timedelta(hours=2)).isoformat(), "reason": "主持人临时有事"}
    for link in HOSTILE_LINKS[:3]:
        problem = _problem(client.post(f"{API}/sessions/{session['id']}/move", json={
            **move, "video_link": link}, headers=mediator), 422)
        assert _fields(problem) == {"video_link"}
    moved = post_ok(client, f"{API}/sessions/{session['id']}/move", mediator,
                    {**move, "video_link": "http://10.0.0.8/room/2"})
    assert moved["starts_at"] == (start + timedelta(hours=2)).isoformat()


def test_the_operation_refuses_other_links_and_the_calendar_file_never_carries_them(
        client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    case = db.session.scalar(select(Case).where(Case.number == number))
    user = find_user("mediator")
    start, end = working_slot()
    plan = operations.SessionInput(starts_at=start, ends_at=end, place_kind=PlaceKind.VIDEO,
                                   purpose="视频调解", lead_mediator=user,
                                   video_link="javascript:alert(1)", parties=case.parties)
    with pytest.raises(OperationError) as refused:
        operations.schedule_session(user, case, plan)
    assert refused.value.field == "video_link" and str(refused.value.message) == LINK_MESSAGE
    db.session.rollback()
    plan.video_link = "  https://meet.example.cn/abc  "
    session = operations.schedule_session(user, case, plan)
    db.session.commit()
    assert session.video_link == "https://meet.example.cn/abc"
    # A link stored before links were checked stays out of the calendar file's URL.
    for stored in ("javascript:alert(1)", "https://x.cn/\r\nATTACH:http://evil"):
        session.video_link = stored
        db.session.commit()
        calendar = notices.session_ics(session)
        assert b"\nURL" not in calendar and b"javascript" not in calendar.split(b"LOCATION")[0]
        event = Calendar.from_ical(calendar).walk("VEVENT")[0]
        assert "url" not in event and "attach" not in event


def _page_form(session_day, **fields) -> dict:
    form = {"day": session_day.isoformat(), "start": "10:00", "end": "11:00",
            "place_kind": "video", "room": "", "address": "", "override_reason": "",
            "purpose": "视频调解", "lead": "mediator", "co_mediators": "", "invited": "",
            "with_agents": "y"}
    form.update(fields)
    return form


def test_the_pages_take_only_web_links_for_video(client, mediator, auth):
    case = case_in_mediation(client, mediator)
    day = working_slot()[0].date()
    parties = [str(p["id"]) for p in case["parties"]]
    auth.login("mediator")
    new = f"/cases/{case['number']}/sessions/new"
    for link in ("javascript:alert(1)", "data:text/html,x", "meet.example.cn"):
        page = auth.post(new, _page_form(day, video_link=link, parties=parties))
        assert page.status_code == 200 and LINK_MESSAGE in page.get_data(as_text=True)
    assert _count(MediationSession) == 0
    booked = auth.post(new, _page_form(day, video_link="https://meet.example.cn/abc",
                                       parties=parties))
    assert booked.status_code == 302, booked.get_data(as_text=True)
    session = db.session.scalar(select(MediationSession))
    move = f"/sessions/{session.id}/move"
    moved = auth.post(move, {**_page_form(day, video_link="javascript:alert(2)"),
                             "version": str(session.version), "reason": "主持人临时有事",
                             "start": "14:00", "end": "15:00"})
    assert moved.status_code == 200 and LINK_MESSAGE in moved.get_data(as_text=True)
    db.session.expire_all()
    assert session.video_link == "https://meet.example.cn/abc"


def test_dates_beyond_the_calendar_are_422_not_overflows(client, mediator):
    """Year 1 east of UTC, or a day after 9999-12-31, is outside Python's calendar once
    converted: schemathesis found GET /sessions?from=0001-01-01 answering 500."""
    english = {**mediator, "Accept-Language": "en"}
    for url, query in ((f"{API}/sessions", {"from": "0001-01-01"}),
                       (f"{API}/sessions", {"to": "9999-12-31"}),
                       (f"{API}/cases", {"updated_since": "0001-01-01T00:00:00+01:00"}),
                       (f"{API}/cases", {"updated_since": "9999-12-31T23:00:00-05:00"})):
        problem = _problem(client.get(url, query_string=query, headers=english), 422)
        assert problem["errors"] == [{"field": next(iter(query)), "message":
                                      "Must be between 1900-01-01 and 2100-12-31."}]
    assert client.get(f"{API}/sessions", query_string={"from": "2026-01-01", "to": "2100-12-31"},
                      headers=mediator).status_code == 200
    case = case_in_mediation(client, mediator)
    number = case["number"]
    start, end = working_slot()
    session = post_ok(client, f"{API}/cases/{number}/sessions", mediator,
                      session_body(start, end), 201)
    early, late = "0001-01-01T08:00:00+08:00", "9999-12-31T23:00:00-05:00"
    for url, body, field in (
            (f"{API}/cases/{number}/sessions", session_body(start, end, starts_at=early),
             "starts_at"),
            (f"{API}/cases/{number}/sessions", session_body(start, end, ends_at=late),
             "ends_at"),
            (f"{API}/sessions/{session['id']}/move", {"starts_at": early, "ends_at": late,
                                                      "reason": "改期"}, None),
            (f"{API}/cases/{number}/parties", person("third_party", "赵六",
                                                     birth_date="0001-01-01"), "birth_date"),
            (f"{API}/cases", case_body(parties=[person("applicant", "王建国",
                                                       birth_date="9999-12-31")]),
             "parties.0.birth_date")):
        problem = _problem(client.post(url, json=body, headers=mediator), 422)
        assert _fields(problem) == ({field} if field else {"starts_at", "ends_at"}), problem
    draft = client.post(f"{API}/cases/{number}/agreements", json={
        "disputed_matters": "赔偿", "recorder_name": "刘晓燕", "terms": [{
            "content": "分期付款", "obligor_id": case["parties"][1]["id"],
            "due_on": "9999-12-31", "instalments": [{"due_on": "0001-01-01", "amount": "1"}]}]},
        headers=mediator)
    assert _fields(_problem(draft, 422)) == {"terms.0.due_on", "terms.0.instalments.0.due_on"}
    assert _count(MediationSession) == 1 and _count(Case) == 1
