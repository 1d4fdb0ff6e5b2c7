"""The residents' public API (/api/v1/public): a report, a party's own view, its answer to a
session and its rating, with no token — the same operations, checks and limits as the
pages, and nothing of another party in any answer."""

import base64
import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import test_portal_status
from api_helpers import API, bearer, cli_token, expect_problem
from cases_helpers import applicant, area, make_case, make_city, respondent, walk_to
from conftest import Auth, csrf_from
from PIL import Image
from sqlalchemy import event, func, select
from test_portal_report import SCRIPT, photo
from test_portal_status import SECRETS, book, party, registered, sms_code

from mediation import demo
from mediation.cases import operations as case_ops
from mediation.cases.models import AssignmentRole, Attachment, Case
from mediation.cases.states import CaseState, Source
from mediation.core import photos
from mediation.core.audit import AuditEntry
from mediation.core.identity import id_check_char, mask_phone
from mediation.core.ratelimit import RateLimitCounter
from mediation.extensions import db
from mediation.portal import api, codes
from mediation.portal import operations as portal_operations
from mediation.portal.models import Rating
from mediation.sessions.models import Reply
from mediation.sessions.operations import Invitee

city = test_portal_status.city  # the demo city with its centre and accounts (a fixture)
PUBLIC = f"{API}/public"
GRID = "370599001001-02"  # 文苑社区第2网格: the demo mediator's community
WRONG_ZH = "案件编号或查询码不正确"
OWN_ID = "37050219800101123" + id_check_char("37050219800101123")


@pytest.fixture
def files(city, app, tmp_path):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    return tmp_path / "attachments"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def report_body(**overrides) -> dict:
    body = {"name": "赵桂兰", "phone": "139 0546 1234", "grid": GRID,
            "narrative": "楼上每天夜里十二点以后还在装修，敲打声很大。\n多次敲门沟通无果。",
            "other_name": "楼上住户", "consent": True}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def pair(case: Case, name: str, **body) -> dict:
    return {"case_number": case.number, "access_code": sms_code(party(case, name)), **body}


def _cases() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Case))


def _stored(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ---- report a dispute -----------------------------------------------------------------------

def test_a_resident_reports_a_dispute_and_checks_it_with_the_code(files, client):
    response = client.post(f"{PUBLIC}/reports", json=report_body(
        in_danger=True, category=None, address="文苑小区3号楼", photos=[b64(photo())]))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    receipt = response.get_json()
    number, code = receipt["case_number"], receipt["access_code"]
    assert receipt["grid"] == "文苑社区第2网格"
    assert receipt["check_at"] == "http://localhost/status"
    assert receipt["check_api"] == f"http://localhost{PUBLIC}/status"

    case = db.session.scalar(select(Case).where(Case.number == number))
    assert (case.state, case.source, case.grid.code) == (CaseState.REPORTED,
                                                        Source.RESIDENT_REPORT, GRID)
    assert case.category.code == "other" and case.violence_threat and case.reported_by is None
    applicant_, other = case.parties
    assert (applicant_.name, applicant_.phone, other.name) == ("赵桂兰", "13905461234", "楼上住户")
    assert codes.party_for(number, code) == applicant_
    (attachment,) = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id))
    assert attachment.filename == "photo-1.jpg"
    (stored,) = _stored(files)
    image = Image.open(io.BytesIO(stored.read_bytes()))
    assert dict(image.getexif()) == {} and image.size == (40, 60)  # upright, no GPS

    view = client.post(f"{PUBLIC}/status", json={"case_number": number, "access_code": code})
    assert view.status_code == 200 and view.headers["Cache-Control"] == "no-store"
    facts = view.get_json()
    assert (facts["case_number"], facts["name"], facts["state"]) == (number, "赵桂兰",
                                                                      "reported")
    assert facts["level"] == "grid" and facts["accepted_on"] is None
    assert facts["sessions"] == [] and facts["may_rate"] is False

    # The grid worker finds it in the grid's queue.
    worker = Auth(client)
    worker.login("gridworker")
    assert number in client.get("/cases/?queue=awaiting").get_data(as_text=True)


def test_the_grid_comes_from_its_code_or_the_address_or_the_answer_says_to_choose(files,
                                                                                 client):
    grid = area("370599001001-05")
    picked = client.post(f"{PUBLIC}/reports", json=report_body(
        grid=None, address=f"东湖区{grid.hints[0]}2单元301"))
    assert picked.status_code == 201
    case = db.session.scalar(select(Case).where(Case.number == picked.get_json()["case_number"]))
    assert case.grid == grid

    for body, field, words in (
            (report_body(grid=None), "address", "请填写纠纷发生的地址"),
            (report_body(grid=None, address="火星路1号"), "address", "无法确定所属网格"),
            (report_body(grid="370599001001"), "grid", "没有此区划代码的网格"),  # a community
            (report_body(category="no_such_kind"), "category", None)):
        refused = expect_problem(client.post(f"{PUBLIC}/reports", json=body), 422)
        assert refused["errors"][0]["field"] == field, refused
        assert words is None or words in refused["detail"], refused["detail"]
    assert _cases() == 1


def test_a_report_without_consent_points_to_the_notice_and_keeps_nothing(files, client):
    refused = expect_problem(client.post(f"{PUBLIC}/reports",
                                         json=report_body(consent=False)), 422)
    (error,) = refused["errors"]
    assert error["field"] == "consent"
    assert error["link"] == "http://localhost/report?by=address#consent-text"
    assert error["link"] in refused["detail"]
    notice = client.get("/report?by=address").get_data(as_text=True)
    assert 'id="consent-text"' in notice and "个人信息告知" in notice
    missing = expect_problem(client.post(f"{PUBLIC}/reports", json=report_body(consent=None)),
                             422)
    assert missing["errors"] == [{"field": "consent", "message": "此字段为必填项。"}]
    assert _cases() == 0


def test_a_report_sent_with_a_staff_login_is_still_the_residents(files, client):
    """The public API ignores the login on this browser: every entry of the report is the
    resident's."""
    Auth(client).login("mediator")
    response = client.post(f"{PUBLIC}/reports", json=report_body(photos=[b64(photo())]))
    assert response.status_code == 201, response.get_json()
    entries = list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_id == response.get_json()["case_number"])))
    assert {e.action for e in entries} == {"case.create", "case.resident_consent",
                                           "case.attachment.add", "party.access_code.issue"}
    assert {(e.actor_id, e.actor_name) for e in entries} == {(None, "resident")}


def test_a_report_body_over_what_the_page_takes_is_refused_with_a_clear_problem(files,
                                                                              client):
    """The JSON is read whole: at most the page's six photos in base64 and the text."""
    body = json.dumps(report_body()).encode()
    room = api.REPORT_BODY_BYTES
    assert room - photos.MAX_PHOTOS * photos.MAX_BYTES * 4 // 3 < 200 * 1024
    # Six photos of the largest size, in base64, with their report: that much is read ...
    fits = client.post(f"{PUBLIC}/reports", data=b" " * (room - len(body)) + body,
                       content_type="application/json")
    assert fits.status_code == 201, fits.get_json()
    # ... a byte more is not, with an answer that says what fits.
    refused = expect_problem(client.post(f"{PUBLIC}/reports",
                                         data=b" " * (room + 1 - len(body)) + body,
                                         content_type="application/json"), 413)
    assert "最多附6张照片，每张不超过8 MB" in refused["detail"], refused
    assert _cases() == 1
    # The other public calls keep the app's own limit and answer.
    other = expect_problem(client.post(f"{PUBLIC}/status", data=b" " * (room + 1),
                                       content_type="application/json"), 413)
    assert "照片" not in (other.get("detail") or "")


def test_a_non_image_photo_is_refused_by_its_place_and_nothing_is_saved(files, client):
    program = b64(b"MZ\x90\x00 this is a program")
    response = client.post(f"{PUBLIC}/reports", json=report_body(
        photos=[b64(photo()), program]))
    refused = expect_problem(response, 422)
    assert refused["errors"][0]["field"] == "photos.1"
    assert refused["detail"].startswith("第2张照片：") and "不是照片" in refused["detail"]
    not_base64 = expect_problem(client.post(f"{PUBLIC}/reports", json=report_body(
        photos=["not base64 at all!"])), 422)
    assert not_base64["errors"][0]["field"] == "photos.0"
    too_many = expect_problem(client.post(f"{PUBLIC}/reports", json=report_body(
        photos=[b64(photo())] * 7)), 422)
    assert too_many["errors"][0]["field"] == "photos"
    english = expect_problem(client.post(f"{PUBLIC}/reports", json=report_body(
        photos=[program]), headers={"Accept-Language": "en"}), 422)
    assert english["detail"].startswith("Photo 1: A file is not a photo")
    assert _cases() == 0 and _stored(files) == []


def test_a_script_laden_report_is_kept_and_given_back_as_text(files, client, app):
    response = client.post(f"{PUBLIC}/reports", json=report_body(
        name=f"赵{SCRIPT}", narrative=f"楼上装修{SCRIPT}"))
    assert response.status_code == 201
    receipt = response.get_json()
    case = db.session.scalar(select(Case).where(Case.number == receipt["case_number"]))
    assert case.narrative == f"楼上装修{SCRIPT}"

    # Back verbatim, as JSON data: to the party, and to staff through the API.
    view = client.post(f"{PUBLIC}/status", json={"case_number": receipt["case_number"],
                                                 "access_code": receipt["access_code"]})
    assert view.mimetype == "application/json" and view.get_json()["name"] == f"赵{SCRIPT}"
    token = bearer(cli_token(app, "mediator"))
    staff = client.get(f"{API}/cases/{case.number}", headers=token)
    assert staff.mimetype == "application/json"
    assert staff.get_json()["narrative"] == f"楼上装修{SCRIPT}"
    # The staff's case page shows it as text.
    Auth(client).login("mediator")
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;alert(" in page


# ---- a party's own view ---------------------------------------------------------------------

def test_an_unknown_number_and_a_wrong_code_get_the_same_answer_after_the_same_work(city,
                                                                                   client):
    case = registered(city)
    right = sms_code(party(case, "王建国"))
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def ask(number: str, code: str):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            response = client.post(f"{PUBLIC}/status",
                                   json={"case_number": number, "access_code": code})
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return response, list(statements)

    wrong, wrong_work = ask(case.number, "00000000" if right != "00000000" else "11111111")
    unknown, unknown_work = ask("2026-999999", "12345678")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_data() == unknown.get_data()
    assert dict(wrong.headers) == dict(unknown.headers)
    assert wrong_work == unknown_work and len(wrong_work) >= 1, (wrong_work, unknown_work)
    body = expect_problem(wrong, 404)
    assert WRONG_ZH in body["detail"] and case.number not in wrong.get_data(as_text=True)
    english = client.post(f"{PUBLIC}/status", json={"case_number": "2026-999999",
                                                    "access_code": "1"},
                          headers={"Accept-Language": "en"})
    assert "The case number or the access code is not right" in english.get_json()["detail"]
    # The pair travels in the body only: neither ends up in the audit log.
    assert client.post(f"{PUBLIC}/status", json={"case_number": case.number,
                                                 "access_code": right}).status_code == 200
    entries = db.session.scalars(select(AuditEntry)).all()
    assert not any(right in repr((e.action, e.before, e.after, e.note)) for e in entries)
    assert not any(e.action == "api.call" for e in entries)
    assert [e.note for e in entries if e.action == "portal.open"] == ["API"]


def test_the_view_holds_nothing_of_the_other_party_nor_other_staff(city, client):
    case = make_case(city.gridworker, grid=area(test_portal_status.GRID),
                     narrative=SECRETS["narrative"], risks={"violence_threat": True}, parties=[
                         applicant("王建国", phone="13800138000", id_type="resident_id",
                                   id_number=OWN_ID, address="文苑小区1号楼"),
                         respondent("李卫东", phone=SECRETS["other's phone"],
                                    id_type="resident_id",
                                    id_number=SECRETS["other's ID number"],
                                    address=SECRETS["other's address"])])
    case_ops.accept_case(city.mediator, case, handler=city.mediator)
    case_ops.add_note(city.mediator, case, SECRETS["note"])
    case_ops.assign(city.admin, case, city.legalaid, AssignmentRole.LEGAL_AID)
    case_ops.add_opinion(city.legalaid, case, SECRETS["opinion"])
    db.session.commit()
    session = book(city, case, co_mediators=[city.coordinator], legal_aid=[city.legalaid],
                   invited=[Invitee("周心怡", "区心理咨询中心", consent_recorded=True)])

    response = client.post(f"{PUBLIC}/status", json=pair(case, "王建国"))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    raw = json.dumps(response.get_json(), ensure_ascii=False)  # \u escapes undone
    for what, secret in {**SECRETS, "other's name": "李卫东", "invited": "周心怡",
                         "other's masked phone": mask_phone(SECRETS["other's phone"]),
                         "ID tail": SECRETS["other's ID number"][-6:],
                         "own phone": "13800138000", "own address": "文苑小区1号楼",
                         "own ID number": OWN_ID}.items():
        assert secret not in text and secret not in raw, what
    for word in ("risk", "violence", "note", "opinion", "id_number", "username"):
        assert word not in raw, word
    facts = response.get_json()
    assert facts["mediator"] == "张志强" and facts["phone"] == test_portal_status.COMMITTEE_PHONE
    assert facts["committee"] == "文苑社区人民调解委员会"
    assert facts["centre"]["name"] == test_portal_status.CENTRE
    assert facts["state"] == "accepted" and facts["accepted_on"]
    assert facts["level_deadline"] == case.level_deadline.isoformat()
    (own,) = facts["sessions"]
    assert own["id"] == session.id and own["may_reply"] and own["reply"] is None
    assert own["provisional"] is True  # 2027's holidays are not in yet
    assert "第一调解室" in own["place"] and own["purpose"] == "调解维修费用分担"

    # And the other way round.
    theirs = client.post(f"{PUBLIC}/status", json=pair(case, "李卫东")).get_data(as_text=True)
    theirs = json.dumps(json.loads(theirs), ensure_ascii=False)
    for secret in ("王建国", "13800138000", OWN_ID, OWN_ID[-6:], "文苑小区1号楼",
                   SECRETS["note"], SECRETS["opinion"], "李红梅", "陈思远", "刘晓燕"):
        assert secret not in theirs, secret


def test_the_page_and_the_api_tell_a_closed_case_the_same_outcome(city, app):
    """Closed after settling, after a refusal, after a referral: both still say which
    outcome the case had and, after a refusal or a referral, where to turn."""
    settled = registered(city)
    walk_to(settled, CaseState.SETTLED, city.mediator)
    declined = registered(city)
    case_ops.decline_case(city.mediator, declined, "不属于人民调解范围", "东湖区人民法院")
    referred = registered(city)
    walk_to(referred, CaseState.ACCEPTED, city.mediator)
    case_ops.refer_out(city.mediator, referred, "东湖区劳动人事争议仲裁委员会", "劳动争议")
    for case in (settled, declined, referred):
        case_ops.close_case(city.mediator, case)
    db.session.commit()
    for case, outcome, title, body in (
            (settled, "settled", "调解成功", None),
            (declined, "declined", "不予受理", "东湖区人民法院"),
            (referred, "referred_out", "已移交", "东湖区劳动人事争议仲裁委员会")):
        assert case.state is CaseState.CLOSED
        facts = app.test_client().post(f"{PUBLIC}/status", json=pair(case, "王建国")).get_json()
        assert (facts["state"], facts["outcome"], facts["outcome_title"]) == (
            "closed", outcome, title)
        assert facts["referred_to"] == body and facts["outcome_on"]
        page = test_portal_status.opened(app.test_client(), case.number,
                                         sms_code(party(case, "王建国")))
        assert f"调解结果: {title}</strong>" in page and "已结案" not in page, case.number
        assert (body is not None and f"请向{body}反映" in page) or "请向" not in page
    assert "未受理调解" in test_portal_status.opened(app.test_client(), declined.number,
                                                   sms_code(party(declined, "王建国")))


def test_what_to_bring_is_the_same_on_the_page_and_in_the_api(city, app):
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    session = book(city, case)
    client = app.test_client()
    (own,) = client.post(f"{PUBLIC}/status", json=pair(case, "王建国")).get_json()["sessions"]
    assert own["what_to_bring"].startswith("本人身份证件及与纠纷有关的证据材料")
    replied = client.post(f"{PUBLIC}/sessions/{session.id}/reply",
                          json=pair(case, "王建国", reply="confirmed")).get_json()
    assert replied["session"]["what_to_bring"] == own["what_to_bring"]
    page = test_portal_status.opened(client, case.number, sms_code(party(case, "王建国")))
    assert f"<dd>{own['what_to_bring']}</dd>" in page


# ---- answering a session, rating the service -----------------------------------------------

def test_a_party_answers_a_session_and_the_mediator_sees_it(city, app, auth):
    client = app.test_client()
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    session = book(city, case)
    url = f"{PUBLIC}/sessions/{session.id}/reply"

    refused = expect_problem(client.post(url, json=pair(case, "王建国", reply="declined")),
                             422)
    assert refused["errors"][0]["field"] == "reason"
    hostile = "<script>alert(1)</script>下午有课"
    answered = client.post(url, json=pair(case, "王建国", reply="other_time", reason=hostile))
    assert answered.status_code == 200 and answered.mimetype == "application/json"
    assert answered.get_json()["session"]["reply"] == "other_time"
    assert answered.get_json()["session"]["reply_reason"] == hostile

    auth.login("mediator")
    staff = auth.client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "当事人回复：请求改期" in staff and "<script>alert(1)" not in staff
    assert "&lt;script&gt;alert(1)&lt;/script&gt;下午有课" in staff
    assert client.post(url, json=pair(case, "王建国", reply="confirmed")).status_code == 200
    staff = auth.client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "当事人回复：会参加" in staff

    # A wrong code changes nothing; another case's session is none of the party's.
    wrong = pair(case, "李卫东", reply="declined", reason="不来了")
    wrong["access_code"] = "0" * 8 if wrong["access_code"] != "0" * 8 else "1" * 8
    expect_problem(client.post(url, json=wrong), 404)
    other = registered(city, parties=[applicant("赵六", phone="13700001111")])
    walk_to(other, CaseState.ACCEPTED, city.mediator)
    theirs = book(city, other, start=test_portal_status.at(test_portal_status.TUESDAY, 14))
    expect_problem(client.post(f"{PUBLIC}/sessions/{theirs.id}/reply",
                               json=pair(case, "王建国", reply="confirmed")), 404)
    db.session.expire_all()
    replies = {p.party.name: p.reply for p in session.participants if p.party}
    assert replies == {"王建国": Reply.CONFIRMED, "李卫东": None}
    assert all(p.reply is None for p in theirs.participants)


def test_a_party_rates_once_after_the_outcome_and_the_staff_see_it(city, app, auth):
    client = app.test_client()
    case = registered(city)
    walk_to(case, CaseState.IN_MEDIATION, city.mediator)
    db.session.commit()
    body = pair(case, "王建国", satisfaction="fairly_satisfied", comment="调解员很耐心")
    still_open = expect_problem(client.post(f"{PUBLIC}/ratings", json=body), 422)
    assert still_open["detail"] == "案件办结后才能评价调解服务。"
    assert db.session.scalar(select(Rating)) is None

    case_ops.transition(case, CaseState.SETTLED, city.mediator, reason="达成协议")
    db.session.commit()
    rated = client.post(f"{PUBLIC}/ratings", json=body)
    assert rated.status_code == 201, rated.get_json()
    assert rated.get_json()["rating"]["satisfaction"] == "fairly_satisfied"
    again = expect_problem(client.post(f"{PUBLIC}/ratings", json={
        **body, "satisfaction": "unsatisfied"}), 422)
    assert "您已评价过本案的调解服务" in again["detail"]
    # Sent at the same moment (the check passed for both): the same answer, not a 409.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(portal_operations, "rating_of", lambda party: None)
        raced = expect_problem(client.post(f"{PUBLIC}/ratings", json=body), 422)
    assert "您已评价过本案的调解服务" in raced["detail"]
    assert db.session.scalar(select(func.count()).select_from(Rating)) == 1
    facts = client.post(f"{PUBLIC}/status", json=pair(case, "王建国")).get_json()
    assert facts["rating"]["comment"] == "调解员很耐心" and facts["may_rate"] is False
    assert facts["outcome"] == "settled" and facts["level"] is None

    auth.login("mediator")
    staff = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "王建国</strong>：基本满意" in staff and "调解员很耐心" in staff


# ---- limits ----------------------------------------------------------------------------------

def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def guarded(app_factory):
    """An app whose limits are on (the suite's are off), with a case of two parties."""
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        city = make_city()
        case = make_case(city.mediator, grid=city.east_1, parties=[
            applicant("王建国", phone="13800138000"), respondent("李卫东")])
        db.session.commit()
        made = SimpleNamespace(app=app, number=case.number, code=sms_code(case.parties[0]))
    # Requests outside this app context, as served: its session would hold SQLite's write
    # lock, which the counters, written on connections of their own, would wait for.
    return made


def test_a_brute_force_loop_is_refused_at_the_limit(guarded):
    client = guarded.app.test_client()
    right = {"case_number": guarded.number, "access_code": guarded.code}
    wrong = [{"case_number": f"2026-{n:06d}", "access_code": "12345678"} for n in range(11)]
    # Failures count on every endpoint that takes a pair; the right pair counts none.
    answers = [client.post(f"{PUBLIC}/status", json=right, **_from("198.51.100.7")).status_code
               for _ in range(3)]
    for n, body in enumerate(wrong):
        url = (f"{PUBLIC}/status", f"{PUBLIC}/ratings", f"{PUBLIC}/sessions/1/reply")[n % 3]
        extra = ({}, {"satisfaction": "satisfied"}, {"reply": "confirmed"})[n % 3]
        answers.append(client.post(url, json={**body, **extra},
                                   **_from("198.51.100.7")).status_code)
    assert answers == [200] * 3 + [404] * 10 + [429]
    refused = client.post(f"{PUBLIC}/status", json=right, **_from("198.51.100.7"))
    body = expect_problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0 and "错误次数过多" in body["detail"]
    # The page counts with the API: it is refused too.
    page = client.get("/status", **_from("198.51.100.7")).get_data(as_text=True)
    assert client.post("/status", data={"csrf_token": csrf_from(page), **right},
                       **_from("198.51.100.7")).status_code == 429
    assert client.post(f"{PUBLIC}/status", json=right, **_from("198.51.100.8")).status_code \
        == 200
    with guarded.app.app_context():
        keys = db.session.scalars(select(RateLimitCounter.key)).all()
    assert keys and not any(guarded.number in key or guarded.code in key for key in keys)


def test_reports_are_limited_per_client_address_with_the_page(app_factory, tmp_path):
    app = app_factory(RATELIMIT_ENABLED=True, REPORT_RATE_LIMIT="2 per hour",
                      ATTACHMENT_DIR=str(tmp_path))
    with app.app_context():
        demo.seed()
        db.session.commit()
        form = f"/report?community={area('370599001001').id}"
        grid_id = str(area(GRID).id)
    client = app.test_client()
    assert client.post(f"{PUBLIC}/reports", json=report_body()).status_code == 201
    assert client.post(f"{PUBLIC}/reports",
                       json=report_body(consent=False)).status_code == 422  # counts too
    refused = client.post(f"{PUBLIC}/reports", json=report_body())
    body = expect_problem(refused, 429)
    assert "Retry-After" in refused.headers and "请求过于频繁" in body["detail"]
    # One count with the report page.
    page = client.get(form).get_data(as_text=True)
    fields = {"csrf_token": csrf_from(page), "name": "赵桂兰", "phone": "13905461234",
              "grid": grid_id, "narrative": "装修噪音", "in_danger": "no", "consent": "y"}
    assert client.post(form, data=fields).status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.post(f"{PUBLIC}/reports", json=report_body()).status_code == 201
    with app.app_context():
        assert _cases() == 2


# ---- the document ----------------------------------------------------------------------------

def test_the_public_operations_are_documented_under_the_public_tag(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert "public_api" not in {tag["name"] for tag in spec["tags"]}
    assert "public" in {tag["name"] for tag in spec["tags"]}
    for path, method, body in (("/reports", "post", "ReportIn"), ("/status", "post", "StatusIn"),
                               ("/sessions/{session_id}/reply", "post", "SessionReplyIn"),
                               ("/ratings", "post", "RatingIn"),
                               ("/agreements/{code}", "get", None)):
        operation = spec["paths"][f"{PUBLIC}{path}"][method]
        assert operation["tags"] == ["public"] and operation["security"] == [], path
        if body:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith(f"/{body}")
    status = spec["components"]["schemas"]["PartyView"]["properties"]
    assert {"sessions", "agreements", "mediator", "level_deadline_provisional",
            "may_rate"} <= set(status)
    assert "consent-text" in spec["components"]["schemas"]["ReportIn"]["properties"][
        "consent"]["description"]
    for path in spec["paths"]:
        assert "access_code" not in path and "case_number" not in path
