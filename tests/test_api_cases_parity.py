"""What the case page does, through the API: taking a case over, assignments, notes and
legal opinions, follow-up visits, a party's refusal, requests to escalate, supervision,
help from departments, files, edits of the case and its parties, a party's full ID number
or phone, and a new access code — each with the page's permission, refused on a closed
case, and invisible (404) to another community's mediator."""

import base64
import re
from datetime import timedelta

import pytest
from api_helpers import (
    API,
    OTHER_GRID,
    bearer,
    case_body,
    case_in_mediation,
    cli_token,
    other_community_mediator,
    person,
    post_ok,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from conftest import Auth
from sqlalchemy import func, select

from mediation.cases import rules
from mediation.cases.models import Attachment, Case, Party, SupervisionNotice
from mediation.core.audit import AuditEntry
from mediation.extensions import db
from mediation.sessions.reminders import ACCESS, OutboxMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ID_NUMBER = "370502198001011239"


@pytest.fixture(autouse=True)
def attachment_dir(app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")


@pytest.fixture
def tokens(demo_city):
    """A token for each demo account that works on 文苑社区's cases, and one for 王建国, the
    mediator of 清风社区 and 明德社区 (``outsider``)."""
    made = {name: bearer(cli_token(demo_city, name, name=f"{name}-app"))
            for name in ("mediator", "coordinator", "gridworker", "legalaid")}
    made["outsider"] = bearer(cli_token(demo_city, other_community_mediator(), name="清风社区"))
    return made


@pytest.fixture
def mediator(tokens):
    return tokens["mediator"]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audited(action: str) -> int:
    return _count(AuditEntry, AuditEntry.action == action)


def _case(client, headers, number: str) -> dict:
    return client.get(f"{API}/cases/{number}", headers=headers).get_json()


def _closed(client, headers) -> dict:
    case = case_in_mediation(client, headers)
    post_ok(client, f"{API}/cases/{case['number']}/settle", headers, {"note": "当场履行"})
    return post_ok(client, f"{API}/cases/{case['number']}/close", headers)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---- the handler and the people on a case -------------------------------------------------

def test_a_case_moved_above_its_handler_is_taken_over(client, tokens):
    grid, mediator = tokens["gridworker"], tokens["mediator"]
    number = post_ok(client, f"{API}/cases", grid, case_body(), 201)["number"]
    post_ok(client, f"{API}/cases/{number}/accept", grid)
    refused = client.post(f"{API}/cases/{number}/take_over", headers=mediator)
    assert "刘晓燕" in _problem(refused, 422)["detail"]  # the grid worker handles it
    post_ok(client, f"{API}/cases/{number}/escalate", mediator,
            {"to_level": "community", "reason": "双方分歧较大"})
    team = client.get(f"{API}/cases/{number}/assignments", headers=mediator).get_json()
    assert team["handler"] is None
    assert [(a["username"], a["role"]) for a in team["items"]] == [("gridworker", "co_handler")]
    # Now above the grid: the grid worker follows but may not take it over.
    _problem(client.post(f"{API}/cases/{number}/take_over", headers=grid), 403)
    case = post_ok(client, f"{API}/cases/{number}/take_over", mediator)
    assert case["handler"] == "mediator"
    _problem(client.post(f"{API}/cases/{number}/take_over", headers=tokens["coordinator"]),
             422)
    assert _case(client, mediator, number)["handler"] == "mediator"


def test_the_page_no_longer_takes_over_a_handled_case(demo_city, client, mediator):
    """The rule moved from the page's offer into the operation: a handcrafted POST is
    refused too."""
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    post_ok(client, f"{API}/cases/{number}/accept", mediator)
    coordinator = Auth(demo_city.test_client())
    coordinator.login("coordinator")
    version = _case(client, mediator, number)["version"]
    response = coordinator.post(f"/cases/{number}/do/take_over",
                                {"take_over-version": str(version)}, form_url=f"/cases/{number}")
    assert response.status_code == 422
    assert _case(client, mediator, number)["handler"] == "mediator"


def test_assignments_add_volunteers_and_co_handlers_and_change_the_handler(client, tokens):
    mediator, volunteer = tokens["mediator"], tokens["legalaid"]
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/assignments"
    team = client.get(url, headers=mediator).get_json()
    assert team == {"handler": {"username": "mediator", "full_name": "张志强"}, "items": [],
                    "total": 0}
    _problem(client.get(url, headers=volunteer), 404)  # not yet on the case

    team = post_ok(client, url, mediator, {"username": "legalaid", "role": "legal_aid"})
    assert [(a["username"], a["full_name"], a["role"]) for a in team["items"]] == [
        ("legalaid", "陈思远", "legal_aid")]
    assert client.get(url, headers=volunteer).get_json() == team  # it opened the case
    again = client.post(url, json={"username": "legalaid", "role": "legal_aid"},
                        headers=mediator)
    assert "陈思远" in _problem(again, 422)["detail"]
    not_a_volunteer = client.post(url, json={"username": "gridworker", "role": "legal_aid"},
                                  headers=mediator)
    assert _fields(_problem(not_a_volunteer, 422)) == {"user"}
    unknown = client.post(url, json={"username": "nobody", "role": "co_handler"},
                          headers=mediator)
    assert _fields(_problem(unknown, 422)) == {"username"}
    assert _fields(_problem(client.post(url, json={"username": "legalaid", "role": "boss"},
                                        headers=mediator), 422)) == {"role"}
    # Only those who may assign: not the volunteer, not a grid worker above the grid.
    _problem(client.post(url, json={"username": "gridworker", "role": "co_handler"},
                         headers=volunteer), 403)
    _problem(client.post(url, json={"username": "gridworker", "role": "co_handler"},
                         headers=tokens["gridworker"]), 403)

    team = post_ok(client, url, mediator, {"username": "coordinator", "role": "handler"})
    assert team["handler"]["username"] == "coordinator"
    assert _case(client, mediator, number)["handler"] == "coordinator"
    events = client.get(f"{API}/cases/{number}/events", headers=mediator).get_json()["items"]
    assert [e["reason"] for e in events if e["kind"] == "assignment"][-2:] == [
        "法律援助志愿者：陈思远", "承办人：李红梅"]


# ---- notes, opinions, visits, refusals, requests to escalate ---------------------------------

def test_notes_and_legal_opinions_go_on_the_timeline(client, tokens):
    mediator, volunteer = tokens["mediator"], tokens["legalaid"]
    number = case_in_mediation(client, mediator)["number"]
    note = post_ok(client, f"{API}/cases/{number}/notes", mediator, {"text": "已电话联系双方"}, 201)
    assert (note["kind"], note["actor"], note["reason"]) == ("note", "张志强", "已电话联系双方")
    blank = client.post(f"{API}/cases/{number}/notes", json={"text": "  "}, headers=mediator)
    assert _fields(_problem(blank, 422)) == {"text"}
    # A legal opinion is the volunteer's, once on the case; a mediator gives none.
    opinion = {"text": "依据《民法典》第一千一百六十五条，漏水方应承担赔偿责任。"}
    _problem(client.post(f"{API}/cases/{number}/opinions", json=opinion, headers=volunteer),
             404)
    _problem(client.post(f"{API}/cases/{number}/opinions", json=opinion, headers=mediator),
             403)
    post_ok(client, f"{API}/cases/{number}/assignments", mediator,
            {"username": "legalaid", "role": "legal_aid"})
    given = post_ok(client, f"{API}/cases/{number}/opinions", volunteer, opinion, 201)
    assert given["kind"] == "opinion" and given["actor"] == "陈思远"
    _problem(client.post(f"{API}/cases/{number}/notes", json={"text": "x"}, headers=volunteer),
             403)
    events = client.get(f"{API}/cases/{number}/events", headers=mediator).get_json()["items"]
    assert [e["id"] for e in events][-3:] == [note["id"], events[-2]["id"], given["id"]]
    assert _audited("case.opinion") == 1


def test_a_follow_up_visit_after_the_outcome(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/follow_ups"
    visit = {"visited_on": rules.today().isoformat(), "performance": "已全部履行",
             "satisfaction": 5}
    early = client.post(url, json=visit, headers=mediator)
    assert _problem(early, 422)["detail"] == "回访须在得出调解结果之后进行。"
    settled = post_ok(client, f"{API}/cases/{number}/settle", mediator, {"note": "达成口头协议"})
    stale = client.post(url, json={**visit, "version": settled["version"] - 1},
                        headers=mediator)
    _problem(stale, 409)
    future = {**visit, "visited_on": (rules.today() + timedelta(days=1)).isoformat()}
    assert _fields(_problem(client.post(url, json=future, headers=mediator), 422)) == {
        "visited_on"}
    assert _fields(_problem(client.post(url, json={**visit, "satisfaction": 6},
                                        headers=mediator), 422)) == {"satisfaction"}
    made = post_ok(client, url, mediator, {**visit, "version": settled["version"],
                                           "remaining_risk": "无"}, 201)
    assert made["visitor"] == "张志强" and made["satisfaction"] == 5 and not made["new_lawsuit"]
    assert _case(client, mediator, number)["state"] == "follow_up"
    listed = client.get(url, headers=mediator).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == made["id"]


def test_a_partys_refusal_stops_the_mediation(client, mediator):
    case = case_in_mediation(client, mediator)
    party = case["parties"][1]
    url = f"{API}/cases/{case['number']}/parties/{party['id']}/refusal"
    failed = post_ok(client, url, mediator, {"reason": "李卫东明确表示不同意调解"})
    assert failed["state"] == "failed"
    assert next(p for p in failed["parties"] if p["id"] == party["id"])["refuses_mediation"]
    # Not yet accepted: declined, with the default reason; another case's party is unknown.
    reported = post_ok(client, f"{API}/cases", mediator, case_body(), 201)
    other = f"{API}/cases/{reported['number']}/parties/{party['id']}/refusal"
    _problem(client.post(other, headers=mediator), 404)
    first = reported["parties"][0]
    declined = post_ok(client, f"{API}/cases/{reported['number']}/parties/{first['id']}/refusal",
                       mediator)
    assert declined["state"] == "declined"
    events = client.get(f"{API}/cases/{reported['number']}/events",
                        headers=mediator).get_json()["items"]
    assert events[-1]["reason"] == "王建国明确拒绝调解。"


def test_a_grid_worker_asks_for_the_case_to_move_up(client, tokens):
    grid, mediator = tokens["gridworker"], tokens["mediator"]
    number = post_ok(client, f"{API}/cases", grid, case_body(), 201)["number"]
    post_ok(client, f"{API}/cases/{number}/accept", grid)
    url = f"{API}/cases/{number}/proposals"
    asked = {"to_level": "community", "reason": "双方分歧较大，需社区调委会介入"}
    proposal = post_ok(client, url, grid, asked, 201)
    assert proposal["rule"] == "mediator_request" and proposal["status"] == "open"
    assert (proposal["from_level"], proposal["to_level"]) == ("grid", "community")
    assert _fields(_problem(client.post(url, json=asked, headers=grid), 422)) == {"to_level"}
    assert client.get(url, headers=grid).get_json()["items"][0]["id"] == proposal["id"]
    decided = post_ok(client, f"{API}/proposals/{proposal['id']}/decide", mediator,
                      {"decision": "confirm"})
    assert decided["status"] == "confirmed"
    assert _case(client, mediator, number)["level"] == "community"
    # At the community level the grid worker no longer acts on it.
    _problem(client.post(url, json={"to_level": "street", "reason": "x"}, headers=grid), 403)


# ---- supervision --------------------------------------------------------------------------

def test_supervision_notices_are_issued_listed_and_answered(client, tokens):
    mediator, coordinator = tokens["mediator"], tokens["coordinator"]
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/supervision_notices"
    press = {"message": "请于三日内报告进展", "respond_by": (rules.today()
                                                      + timedelta(days=3)).isoformat()}
    _problem(client.post(url, json=press, headers=mediator), 403)  # a mediator does not
    past = {**press, "respond_by": (rules.today() - timedelta(days=1)).isoformat()}
    assert _fields(_problem(client.post(url, json=past, headers=coordinator), 422)) == {
        "respond_by"}
    notice = post_ok(client, url, coordinator, press, 201)
    assert notice["to"] == "mediator" and notice["issued_by"] == "李红梅"
    assert notice["response"] is None and not notice["automatic"]
    assert client.get(url, headers=mediator).get_json()["items"] == [notice]

    respond = f"{API}/supervision_notices/{notice['id']}/respond"
    # Answered by the handler, not by the coordinator who pressed (not the addressee).
    _problem(client.post(respond, json={"response": "好"}, headers=coordinator), 422)
    answered = post_ok(client, respond, mediator, {"response": "已约双方本周五面谈"})
    assert answered["response"] == "已约双方本周五面谈" and answered["responded_at"]
    assert _problem(client.post(respond, json={"response": "再答"}, headers=mediator),
                    422)["detail"] == "该督办通知已答复。"
    _problem(client.post(f"{API}/supervision_notices/999999/respond", json={"response": "x"},
                         headers=mediator), 404)


def test_several_cases_are_supervised_at_once_or_none(client, tokens):
    mediator, coordinator = tokens["mediator"], tokens["coordinator"]
    numbers = [case_in_mediation(client, mediator)["number"] for _ in range(2)]
    url = f"{API}/supervision_notices"
    _problem(client.post(url, json={"cases": numbers, "message": "请办结"}, headers=mediator),
             403)
    unknown = client.post(url, json={"cases": [*numbers, "2026-999999"], "message": "请办结"},
                          headers=coordinator)
    assert "2026-999999" in _problem(unknown, 422)["detail"]
    many = [f"2026-{n:06d}" for n in range(101)]
    assert _problem(client.post(url, json={"cases": many, "message": "请办结"},
                                headers=coordinator), 422)["detail"] == "一次最多督办100件案件。"
    assert _count(SupervisionNotice) == 0
    made = post_ok(client, url, coordinator, {"cases": numbers + numbers[:1],
                                              "message": "请办结"}, 201)
    assert made["total"] == 2 and [n["case_number"] for n in made["items"]] == numbers
    # A coordinator of another street: the cases read as unknown, nothing issued.
    from mediation.areas.models import AreaNode
    from mediation.users import operations as user_ops
    from mediation.users.roles import Role
    street = db.session.scalar(select(AreaNode).where(AreaNode.code == "370599002"))
    user_ops.create_user(None, username="huanghe", full_name="黄河", role=Role.COORDINATOR,
                         password="Tiaojie-Demo-2026", areas=[street],
                         must_change_password=False)
    db.session.commit()
    other = bearer(cli_token(client.application, "huanghe"))
    refused = client.post(url, json={"cases": numbers, "message": "请办结"}, headers=other)
    assert numbers[0] in _problem(refused, 422)["detail"]
    assert _count(SupervisionNotice) == 2


# ---- help from departments ----------------------------------------------------------------

def test_a_department_is_asked_for_help_and_its_response_recorded(client, tokens):
    mediator = tokens["mediator"]
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/help_requests"
    asked = post_ok(client, url, mediator, {"department": "housing",
                                            "department_detail": "东湖区住建局物业科",
                                            "message": "请协助鉴定漏水原因"}, 201)
    assert asked["department"] == "housing" and asked["response"] is None
    assert _fields(_problem(client.post(url, json={"department": "army", "message": "x"},
                                        headers=mediator), 422)) == {"department"}
    _problem(client.post(url, json={"department": "police", "message": "x"},
                         headers=tokens["gridworker"]), 403)
    assert client.get(url, headers=tokens["gridworker"]).get_json()["items"] == [asked]
    response = f"{API}/help_requests/{asked['id']}/response"
    recorded = post_ok(client, response, mediator, {"response": "已派员现场查看"})
    assert recorded["response"] == "已派员现场查看" and recorded["responded_at"]
    again = client.post(response, json={"response": "又来"}, headers=mediator)
    assert _problem(again, 422)["detail"] == "该部门的答复已记录。"
    events = client.get(f"{API}/cases/{number}/events", headers=mediator).get_json()["items"]
    assert [e["reason"] for e in events if e["kind"] == "help"] == [
        "请协助鉴定漏水原因", "已派员现场查看"]


# ---- files --------------------------------------------------------------------------------

def test_a_photo_is_attached_listed_and_downloaded_with_an_audited_read(client, tokens):
    mediator = tokens["mediator"]
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/attachments"
    sent = client.post(url, json={"filename": "天花板.png", "file": _b64(PNG),
                                  "description": "402室天花板"}, headers=mediator)
    assert sent.status_code == 201, sent.get_json()
    made = sent.get_json()
    assert made["content_type"] == "image/png" and made["size"] == len(PNG)
    assert made["filename"] == "天花板.png" and made["description"] == "402室天花板"
    assert client.get(url, headers=tokens["gridworker"]).get_json()["items"] == [made]
    download = sent.headers["Location"]
    assert download.endswith(f"{API}/attachments/{made['id']}/file")
    before = _audited("attachment.read")
    with client.get(download, headers=tokens["gridworker"]) as got:
        assert got.status_code == 200 and got.data == PNG and got.mimetype == "image/png"
        assert "attachment" in got.headers["Content-Disposition"]
    assert _audited("attachment.read") == before + 1
    # Whatever the name or the line breaks of MIME base64, the content decides.
    pdf = b"%PDF-1.7\n" + b"0" * 200
    wrapped = "\r\n".join(re.findall(".{1,76}", _b64(pdf)))
    made = post_ok(client, url, mediator, {"filename": "photo.jpg", "file": wrapped}, 201)
    assert made["content_type"] == "application/pdf"
    _problem(client.post(url, json={"filename": "a.png", "file": _b64(PNG)},
                         headers=tokens["gridworker"]), 403)  # above the grid: reads only


@pytest.mark.parametrize("content, message", [
    (b"<script>alert(1)</script>", "只能上传照片（JPEG、PNG、WebP）和 PDF 文件。"),
    (b"", "文件为空。"),
])
def test_a_file_is_checked_by_its_content(client, mediator, content, message):
    number = case_in_mediation(client, mediator)["number"]
    refused = client.post(f"{API}/cases/{number}/attachments",
                          json={"filename": "x.png", "file": _b64(content)}, headers=mediator)
    problem = _problem(refused, 422)
    assert problem["errors"] == [{"field": "file", "message": message}]
    assert _count(Attachment) == 0


def test_what_is_not_base64_or_too_large_is_refused(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/attachments"
    for text in ("not base64!", "iVBORw0KGgo=é"):
        refused = client.post(url, json={"filename": "x.png", "file": text}, headers=mediator)
        assert _problem(refused, 422)["errors"] == [{"field": "file",
                                                     "message": "文件不是base64编码。"}]
    client.application.config["MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    big = PNG + b"\x00" * (1024 * 1024)
    refused = client.post(url, json={"filename": "x.png", "file": _b64(big)}, headers=mediator)
    assert _fields(_problem(refused, 422)) == {"file"}
    # A body beyond the largest file in base64 is not read at all.
    huge = client.post(url, json={"filename": "x.png", "file": "A" * (2 * 1024 * 1024)},
                       headers=mediator)
    assert _problem(huge, 413)["detail"] == "文件大小超过 1 MB，请换一个较小的文件。"
    # The room is the upload's only: elsewhere the app's limit holds.
    client.application.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    note = client.post(f"{API}/cases/{number}/notes", json={"text": "长" * (600 * 1024)},
                       headers=mediator)
    _problem(note, 413)
    assert _count(Attachment) == 0


def test_an_upload_is_json_as_every_other_body(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    url = f"{API}/cases/{number}/attachments"
    form = client.post(url, data={"filename": "x.png"}, headers=mediator)
    _problem(form, 415)
    multipart = client.post(url, data={"file": (__import__("io").BytesIO(PNG), "x.png")},
                            headers=mediator, content_type="multipart/form-data")
    _problem(multipart, 415)
    nul = client.post(url, json={"filename": "x\u0000.png", "file": _b64(PNG)},
                      headers=mediator)
    assert _fields(_problem(nul, 422)) == {"filename"}
    assert _count(Attachment) == 0


# ---- editing the case and its parties -----------------------------------------------------

def test_the_intake_details_are_edited_with_the_version_check(client, mediator):
    case = post_ok(client, f"{API}/cases", mediator, case_body(), 201)
    url = f"{API}/cases/{case['number']}"
    edited = client.patch(url, json={"title": "卫生间漏水致楼下受损", "amount": "3800",
                                     "risks": ["repeat_petition"], "version": case["version"]},
                          headers=mediator)
    assert edited.status_code == 200, edited.get_json()
    edited = edited.get_json()
    assert edited["title"] == "卫生间漏水致楼下受损" and edited["amount"] == "3800.00"
    assert edited["narrative"] == case["narrative"] and edited["grid"] == case["grid"]
    assert edited["version"] > case["version"]
    stale = client.patch(url, json={"title": "旧", "version": case["version"]},
                         headers=mediator)
    _problem(stale, 409)
    for body, field in (({"grid": OTHER_GRID}, "grid"), ({"category": "nope"}, "category"),
                        ({"source": "resident_report"}, "source"), ({"amount": "-1"}, "amount"),
                        ({"title": None}, "title")):
        assert _fields(_problem(client.patch(url, json=body, headers=mediator), 422)) == {
            field}, body
    unchanged = client.patch(url, json={"amount": None, "category": "neighbour"},
                             headers=mediator).get_json()
    assert unchanged["amount"] is None and unchanged["category"] == "neighbour"
    assert unchanged["title"] == "卫生间漏水致楼下受损"
    events = client.get(f"{url}/events", headers=mediator).get_json()["items"]
    assert [e["reason"] for e in events].count("已修改登记信息。") == 2


def test_a_party_is_edited_and_keeps_its_recorded_id_number_and_phone(client, mediator):
    case = post_ok(client, f"{API}/cases", mediator, case_body(parties=[
        person("applicant", "王建国", id_number=ID_NUMBER, birth_date="1980-01-01"),
        person("respondent", "李卫东")]), 201)
    party = case["parties"][0]
    url = f"{API}/cases/{case['number']}/parties/{party['id']}"
    edited = client.put(url, json={"role": "applicant", "name": "王建国",
                                   "address": "东营市东湖区文苑小区5号楼101室",
                                   "version": case["version"]}, headers=mediator)
    assert edited.status_code == 200, edited.get_json()
    edited = edited.get_json()
    assert edited["address"] == "东营市东湖区文苑小区5号楼101室"
    assert edited["id_number_masked"] == party["id_number_masked"]
    assert edited["id_type"] == "resident_id" and edited["phone_masked"] == "*******1234"
    assert edited["occupation"] is None  # the whole party: what is left out is cleared
    stale = client.put(url, json={"role": "applicant", "name": "王", "version": 1},
                       headers=mediator)
    _problem(stale, 409)
    wrong = client.put(url, json={"role": "applicant", "name": "王建国",
                                  "id_number": "370502198001011230"}, headers=mediator)
    assert _fields(_problem(wrong, 422)) == {"id_number"}
    _problem(client.put(f"{API}/cases/{case['number']}/parties/999999",
                        json={"role": "applicant", "name": "王"}, headers=mediator), 404)
    cleared = client.put(url, json={"role": "applicant", "name": "王建国", "id_type": None},
                         headers=mediator).get_json()
    assert cleared["id_number_masked"] is None


# ---- a party's details in full, on request --------------------------------------------------

def test_an_id_number_and_a_phone_are_revealed_with_an_audited_read(client, tokens):
    mediator = tokens["mediator"]
    case = post_ok(client, f"{API}/cases", mediator, case_body(parties=[
        person("applicant", "王建国", id_number=ID_NUMBER, birth_date="1980-01-01"),
        person("respondent", "李卫东", phone=None)]), 201)
    applicant, respondent = case["parties"]
    base = f"{API}/cases/{case['number']}/parties"
    shown = client.post(f"{base}/{applicant['id']}/id_number", headers=mediator)
    assert shown.status_code == 200 and shown.get_json() == {"party_id": applicant["id"],
                                                             "value": ID_NUMBER}
    assert shown.headers["Cache-Control"] == "no-store"
    assert _audited("party.id_number.read") == 1
    # A grid worker calls the parties but does not read ID numbers.
    grid = tokens["gridworker"]
    _problem(client.post(f"{base}/{applicant['id']}/id_number", headers=grid), 403)
    phone = post_ok(client, f"{base}/{applicant['id']}/phone", grid)
    assert phone["value"] == "13805461234"
    assert _audited("party.phone.read") == 1
    _problem(client.post(f"{base}/{respondent['id']}/phone", headers=mediator), 422)
    _problem(client.post(f"{base}/{respondent['id']}/id_number", headers=mediator), 422)
    assert _audited("party.id_number.read") == 1
    # An archived case is still read.
    closed = _closed(client, mediator)
    party = closed["parties"][0]
    phone = post_ok(client, f"{API}/cases/{closed['number']}/parties/{party['id']}/phone",
                    mediator)
    assert phone["value"] == "13805461234"


def test_a_new_access_code_replaces_the_old_one(client, mediator):
    case = case_in_mediation(client, mediator)
    party = case["parties"][0]

    def texted() -> str:
        body = db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.kind == ACCESS, OutboxMessage.party_id == party["id"])
            .order_by(OutboxMessage.id.desc())).first()
        return re.search(r"查询码(\d{8})", body).group(1)

    old = texted()
    renewed = client.post(f"{API}/cases/{case['number']}/parties/{party['id']}/portal_code",
                          headers=mediator)
    assert renewed.status_code == 200 and renewed.headers["Cache-Control"] == "no-store"
    code = renewed.get_json()["code"]
    assert re.fullmatch(r"\d{8}", code) and code == texted() and code != old
    status = f"{API}/public/status"
    _problem(client.post(status, json={"case_number": case["number"], "access_code": old}), 404)
    view = client.post(status, json={"case_number": case["number"], "access_code": code})
    assert view.status_code == 200
    assert _audited("party.access_code.renew") == 1


# ---- the page's permission and scope --------------------------------------------------------

def _case_calls(number: str, party_id: int) -> list[tuple[str, str, dict | None]]:
    party = f"{API}/cases/{number}/parties/{party_id}"
    return [
        ("post", f"{API}/cases/{number}/take_over", None),
        ("post", f"{API}/cases/{number}/assignments", {"username": "legalaid",
                                                       "role": "legal_aid"}),
        ("post", f"{API}/cases/{number}/notes", {"text": "跟进"}),
        ("post", f"{API}/cases/{number}/follow_ups", {
            "visited_on": rules.today().isoformat(), "performance": "履行", "satisfaction": 4}),
        ("post", f"{party}/refusal", {}),
        ("post", f"{API}/cases/{number}/proposals", {"to_level": "street", "reason": "复杂"}),
        ("post", f"{API}/cases/{number}/supervision_notices", {"message": "请办结"}),
        ("post", f"{API}/cases/{number}/help_requests", {"department": "police",
                                                         "message": "协助"}),
        ("post", f"{API}/cases/{number}/attachments", {"filename": "a.png",
                                                       "file": _b64(PNG)}),
        ("patch", f"{API}/cases/{number}", {"title": "改"}),
        ("put", party, {"role": "applicant", "name": "王建国"}),
        ("post", f"{party}/portal_code", None),
    ]


READS = ["assignments", "follow_ups", "supervision_notices", "help_requests", "attachments"]


def test_another_communitys_mediator_gets_404_for_everything(client, tokens):
    mediator, outsider = tokens["mediator"], tokens["outsider"]
    case = case_in_mediation(client, mediator)
    number, party_id = case["number"], case["parties"][0]["id"]
    notice = post_ok(client, f"{API}/cases/{number}/supervision_notices",
                     tokens["coordinator"], {"message": "请办结"}, 201)
    asked = post_ok(client, f"{API}/cases/{number}/help_requests", mediator,
                    {"department": "police", "message": "协助"}, 201)
    attached = post_ok(client, f"{API}/cases/{number}/attachments", mediator,
                       {"filename": "a.png", "file": _b64(PNG)}, 201)
    saved = db.session.scalar(select(Case.version).where(Case.number == number))
    calls = _case_calls(number, party_id) + [
        ("post", f"{API}/cases/{number}/opinions", {"text": "意见"}),
        ("post", f"{API}/cases/{number}/parties/{party_id}/id_number", None),
        ("post", f"{API}/cases/{number}/parties/{party_id}/phone", None),
        ("post", f"{API}/supervision_notices/{notice['id']}/respond", {"response": "好"}),
        ("post", f"{API}/help_requests/{asked['id']}/response", {"response": "好"}),
        ("get", f"{API}/attachments/{attached['id']}/file", None),
    ] + [("get", f"{API}/cases/{number}/{name}", None) for name in READS]
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body, headers=outsider)
        _problem(response, 404)
        assert "2026" not in response.get_data(as_text=True), url
    db.session.expire_all()
    assert db.session.scalar(select(Case.version).where(Case.number == number)) == saved
    assert _audited("attachment.read") == 0 and _audited("party.phone.read") == 0


def test_a_closed_case_no_longer_changes(client, tokens):
    mediator = tokens["mediator"]
    case = _closed(client, mediator)
    number, party_id = case["number"], case["parties"][0]["id"]
    for method, url, body in _case_calls(number, party_id):
        headers = tokens["coordinator"] if "supervision" in url else mediator
        problem = _problem(getattr(client, method)(url, json=body, headers=headers), 409)
        assert number in problem["detail"], url
    for name in READS:
        assert client.get(f"{API}/cases/{number}/{name}", headers=mediator).status_code == 200
    assert _case(client, mediator, number)["version"] == case["version"]


def test_accepting_names_only_a_handler_whose_jurisdiction_covers_the_case(client, tokens,
                                                                          mediator):
    """The page offers the accounts that may handle the case; a client may name anyone, and
    a mediator of another community, or a legal-aid volunteer, is refused — the case stays as it
    was, its handler unchanged."""
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    for stranger in ("wangjianguo", "legalaid"):  # 清风社区's mediator; a volunteer
        refused = client.post(f"{API}/cases/{number}/accept", headers=mediator,
                              json={"handler": stranger})
        assert "handler" in _fields(_problem(refused, 422)), stranger
    case = client.get(f"{API}/cases/{number}", headers=mediator).get_json()
    assert case["state"] == "reported" and case["handler"] is None
    accepted = post_ok(client, f"{API}/cases/{number}/accept", mediator, {"handler": "mediator"})
    assert accepted["handler"] == "mediator"


def test_a_title_or_narrative_of_spaces_is_refused_as_on_the_form(client, mediator):
    for field in ("title", "narrative"):
        refused = client.post(f"{API}/cases", headers=mediator,
                              json=case_body(**{field: "  \u3000 "}))
        assert field in _fields(_problem(refused, 422))
    number = post_ok(client, f"{API}/cases", mediator, case_body(), 201)["number"]
    refused = client.patch(f"{API}/cases/{number}", headers=mediator, json={"title": "   "})
    assert "title" in _fields(_problem(refused, 422))


def test_party_phones_are_checked_and_stored_as_the_forms_store_them(client, mediator):
    """A phone typed with spaces or +86 is kept as the clash check and the reminders compare
    it; one that is no phone is refused, naming its field."""
    refused = client.post(f"{API}/cases", headers=mediator, json=case_body(parties=[
        person("applicant", "王建国", phone="call me")]))
    assert "phone" in " ".join(_fields(_problem(refused, 422)))
    case = post_ok(client, f"{API}/cases", mediator, case_body(parties=[
        person("applicant", "王建国", phone="+86 138 0546 1234", agent_name="赵律师",
               agent_phone="139 0546 7788")]), 201)
    party = db.session.get(Party, case["parties"][0]["id"])
    assert (party.phone, party.agent_phone) == ("13805461234", "13905467788")
