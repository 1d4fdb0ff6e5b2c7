"""A party checks its case with the case number and its own access code (查询进度): the codes
staff registration gives out, the party's view and what it never shows, the answer to a
session notice, the party's papers, and the limits on guessing.

Sessions are on a Tuesday in 2027 (a provisional holiday year) at the demo city's centre.
"""

import hmac
import re
import subprocess
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from agreements_helpers import full_person
from cases_helpers import (
    applicant,
    area,
    category,
    make_case,
    make_city,
    respondent,
    user,
    walk_to,
)
from conftest import csrf_from
from flask_babel import force_locale
from sqlalchemy import event, func, select

from mediation.agreements import documents as agreement_documents
from mediation.agreements import operations as agreement_ops
from mediation.agreements.rules import confirmation_deadline
from mediation.areas.models import Centre, Committee
from mediation.cases import operations as case_ops
from mediation.cases.models import AssignmentRole, Case, Party
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.core.audit import AuditEntry
from mediation.core.ratelimit import RateLimitCounter
from mediation.extensions import db
from mediation.portal import codes
from mediation.portal import operations as portal_ops
from mediation.portal.models import AccessCode
from mediation.sessions.models import MediationSession, PlaceKind, Reply
from mediation.sessions.operations import Invitee, SessionInput, cancel_session, schedule_session
from mediation.sessions.reminders import ACCESS, OutboxMessage, OutboxStatus

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
TUESDAY = date(2027, 3, 16)
COMMITTEE_PHONE = "0546-8339911"
WRONG = "Case number or access code is not right"
WRONG_ZH = "案件编号或查询码不正确"
CODE_SMS = re.compile(r"查询码(\d{8})")


@pytest.fixture
def city(demo_city):
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    committee = db.session.scalar(select(Committee).where(Committee.short_name == "文苑社区"))
    committee.phone = COMMITTEE_PHONE
    db.session.commit()
    return SimpleNamespace(mediator=user("mediator"), coordinator=user("coordinator"),
                           gridworker=user("gridworker"), legalaid=user("legalaid"),
                           admin=user("admin"), centre=centre, committee=committee,
                           room1=next(r for r in centre.rooms if r.name == "第一调解室"))


def sms_code(party: Party) -> str:
    """The code in the party's pending access-code SMS (what the resident received)."""
    message = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.party_id == party.id, OutboxMessage.kind == ACCESS,
        OutboxMessage.status == OutboxStatus.PENDING))
    assert message is not None, f"no access-code SMS for {party.name}"
    return CODE_SMS.search(message.body).group(1)


def registered(city, parties=None, **fields) -> Case:
    case = make_case(city.mediator, grid=area(GRID), parties=parties or [
        applicant("王建国", phone="13800138000"), respondent("李卫东", phone="13912345678")],
        **fields)
    db.session.commit()
    return case


def party(case: Case, name: str) -> Party:
    return next(p for p in case.parties if p.name == name)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), LOCAL)


def book(city, case: Case, start: datetime | None = None, **fields) -> MediationSession:
    start = start or at(TUESDAY, 10)
    fields.setdefault("room", city.room1)
    session = schedule_session(city.mediator, case, SessionInput(
        starts_at=start, ends_at=start + timedelta(hours=1), place_kind=PlaceKind.ROOM,
        purpose="调解维修费用分担", lead_mediator=city.mediator, parties=list(case.parties),
        **fields))
    db.session.commit()
    return session


def check(client, number: str, code: str, **kw):
    """The "check my case" form, filled in and sent, as a resident does."""
    page = client.get("/status", **kw).get_data(as_text=True)
    return client.post("/status", data={"csrf_token": csrf_from(page), "case_number": number,
                                        "access_code": code}, **kw)


def opened(client, number: str, code: str) -> str:
    response = check(client, number, code)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Location"] == "/status/case"
    return client.get("/status/case").get_data(as_text=True)


def without_token(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


# ---- codes for staff-registered cases ----------------------------------------------------

def test_registering_a_case_texts_each_party_its_code_and_shows_them_once(city, auth, runner):
    auth.login("mediator")
    response = auth.post("/cases/new", {
        "version": "0", "title": "楼上漏水导致天花板受损", "source": "grid_patrol",
        "grid": str(area(GRID).id), "category": str(category("water_leak").id),
        "narrative": "卫生间漏水。", "applicant-kind": "person", "applicant-name": "李秀英",
        "applicant-phone": "138 1234 5678", "applicant-ethnicity": "汉族",
        "respondent-kind": "person", "respondent-name": "王建军",
        "respondent-phone": "0546-8123456", "respondent-ethnicity": "汉族"})
    assert response.status_code == 302
    case = db.session.scalar(select(Case).order_by(Case.id.desc()))
    applicant_, respondent_ = party(case, "李秀英"), party(case, "王建军")

    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "当事人查询码（仅显示一次）" in page
    shown = dict(re.findall(r"<li>(\S+?)：<strong class=\"mono\">(\d{8})</strong>", page))
    assert set(shown) == {"李秀英", "王建军"}  # a landline gets a code too, but no SMS
    assert codes.party_for(case.number, shown["李秀英"]) == applicant_
    assert codes.party_for(case.number, shown["王建军"]) == respondent_
    # Once: the next visit shows no code.
    again = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "当事人查询码" not in again and shown["李秀英"] not in again

    # Only keyed hashes are kept; the SMS carries the code and where to use it.
    stored = db.session.scalars(select(AccessCode.code_hash)).all()
    assert len(stored) == 2 and not any(c in h for h in stored for c in shown.values())
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ACCESS))
    assert message.recipient == "13812345678" and message.party_id == applicant_.id
    assert f"案件编号{case.number}，查询码{shown['李秀英']}" in message.body
    assert "http://localhost/status" in message.body
    assert [e.after["party"] for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "party.access_code.issue"))] == [applicant_.id, respondent_.id]

    # The SMS gateway's export carries it; once handed over, the text keeps no code.
    listed = runner.invoke(args=["send-reminders", "--list-sms", "--mark-sent"])
    assert listed.exit_code == 0 and shown["李秀英"] in listed.stdout
    db.session.expire_all()
    assert "查询码********" in message.body and shown["李秀英"] not in message.body
    assert opened(auth.client, case.number, shown["李秀英"])  # the code itself still works


def test_a_party_added_later_gets_its_code_and_a_party_without_phone_none(city):
    case = registered(city, parties=[applicant("王建国", phone="13800138000")])
    case_ops.add_party(city.mediator, case, respondent("李卫东"))
    case_ops.add_party(city.mediator, case, respondent("孙丽", phone="+86 137 0000 2222"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AccessCode)) == 2
    assert codes.party_for(case.number, sms_code(party(case, "孙丽"))) == party(case, "孙丽")
    assert db.session.get(AccessCode, party(case, "李卫东").id) is None


def test_a_mediator_issues_a_new_code_and_the_old_one_stops_working(city, auth):
    case = registered(city)
    wang = party(case, "王建国")
    old = sms_code(wang)
    resident = auth.client.application.test_client()
    assert "王建国您好" in opened(resident, case.number, old)

    auth.login("mediator")
    page = auth.client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "为王建国重新发放查询码" in page
    url = f"/cases/{case.number}/parties/{wang.id}/access-code"
    assert auth.client.post(url).status_code == 400  # no CSRF token
    response = auth.post(url, form_url=f"/cases/{case.number}")
    assert response.status_code == 302
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)
    new = re.search(r"王建国：<strong class=\"mono\">(\d{8})</strong>", page).group(1)
    assert new != old and new == sms_code(wang)
    assert "当事人查询码" not in auth.client.get(f"/cases/{case.number}").get_data(as_text=True)

    # The old code opens nothing, and the view it opened is closed.
    assert resident.get("/status/case").headers["Location"] == "/status"
    assert WRONG_ZH in check(resident, case.number, old).get_data(as_text=True)
    assert "王建国您好" in opened(resident, case.number, new)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.party_id == wang.id, OutboxMessage.status == OutboxStatus.CANCELLED)) == 1
    entry = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "party.access_code.renew"))
    assert entry.actor_id == city.mediator.id and entry.object_id == case.number


def test_only_who_handles_the_case_issues_codes(city, auth):
    case = registered(city)
    wang = party(case, "王建国")
    issued = db.session.get(AccessCode, wang.id).issued_at
    url = f"/cases/{case.number}/parties/{wang.id}/access-code"
    for username in ("legalaid", "gridworker"):  # no such right; sees it, acts on grid cases
        auth.login(username)
        assert auth.post(url, form_url="/").status_code == 403
        auth.logout()
    db.session.expire_all()
    assert db.session.get(AccessCode, wang.id).issued_at == issued


# ---- the party's view --------------------------------------------------------------------

SECRETS = {
    "other's ID number": "11010519491231002X", "other's phone": "13912345678",
    "other's address": "幸福路888号机密楼", "narrative": "叙述中的机密XQ",
    "note": "内部备注机密ZK", "opinion": "法律意见机密LY",
    "co-mediator": "李红梅", "legal-aid": "陈思远", "reporter": "刘晓燕",
    "risk": "高风险", "risk factor": "暴力威胁", "own ID": "370502198001011234",
}


def test_the_party_sees_its_course_and_nothing_of_the_others(city, client):
    case = make_case(city.gridworker, grid=area(GRID), narrative=SECRETS["narrative"],
                     risks={"violence_threat": True}, parties=[
                         applicant("王建国", phone="13800138000", address="文苑小区1号"),
                         respondent("李卫东", phone=SECRETS["other's phone"],
                                    id_type="resident_id",
                                    id_number=SECRETS["other's ID number"],
                                    address=SECRETS["other's address"])])
    case_ops.accept_case(city.mediator, case, handler=city.mediator)
    case_ops.add_note(city.mediator, case, SECRETS["note"])
    case_ops.assign(city.admin, case, city.legalaid, AssignmentRole.LEGAL_AID)
    case_ops.add_opinion(city.legalaid, case, SECRETS["opinion"])
    db.session.commit()
    book(city, case, co_mediators=[city.coordinator], legal_aid=[city.legalaid],
         invited=[Invitee("周心怡", "区心理咨询中心", consent_recorded=True)])
    assert case.risk_level.value == "high" and case.reported_by == city.gridworker

    page = opened(client, case.number, sms_code(party(case, "王建国")))
    for what, secret in SECRETS.items():
        assert secret not in page, what
    assert "李卫东" not in page  # not even the other party's name
    # What the party does see: the course, the level and its deadline, the next session.
    assert "王建国您好" in page and case.number in page
    with force_locale("zh"):
        level = str(case.level.title)
    assert "已受理调解" in page and f"当前办理层级：{level}" in page
    assert f"本层级办理期限至{case.level_deadline.isoformat()}" in page
    assert "2027年3月16日（星期二）10:00至11:00" in page and "第一调解室" in page
    assert "调解维修费用分担" in page and "本人身份证件" in page  # what about, what to bring
    assert 'class="hint provisional-note"' in page  # 2027's holidays are provisional
    assert "张志强" in page and COMMITTEE_PHONE in page
    response = client.get("/status/case")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_party_page_reads_its_sessions_and_rating_once(city, client, monkeypatch):
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    book(city, case)
    code = sms_code(party(case, "王建国"))
    calls = []

    def counted(name: str):
        read = getattr(portal_ops, name)

        def reading(*args, **kwargs):
            calls.append(name)
            return read(*args, **kwargs)
        return reading

    for name in ("sessions_of", "rating_of"):
        monkeypatch.setattr(portal_ops, name, counted(name))
    page = opened(client, case.number, code)
    assert 'action="/status/sessions/' in page  # the session's answer form
    assert sorted(calls) == ["rating_of", "sessions_of"]


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(city, client):
    case = registered(city)
    wrong = check(client, case.number, "00000000" if sms_code(party(case, "王建国")) !=
                  "00000000" else "11111111")
    unknown = check(client, "2026-999999", "12345678")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG_ZH in wrong.get_data(as_text=True)
    assert without_token(wrong.get_data(as_text=True)) == \
        without_token(unknown.get_data(as_text=True))
    # Neither the number nor the code goes back into the page.
    assert case.number not in wrong.get_data(as_text=True)
    assert "2026-999999" not in unknown.get_data(as_text=True)


def test_number_and_code_never_appear_in_an_address_or_the_audit_log(city, client):
    case = registered(city)
    code = sms_code(party(case, "王建国"))
    response = check(client, case.number, code)
    assert code not in response.headers["Location"] and case.number not in \
        response.headers["Location"]
    page = client.get("/status/case")
    assert page.status_code == 200
    assert "/status/case" == page.request.path
    entries = db.session.scalars(select(AuditEntry)).all()
    assert not any(code in repr((e.before, e.after, e.note)) for e in entries)
    assert any(e.action == "portal.open" for e in entries)
    # Full-width digits and a lower-case number, as typed on some phones, are the same pair.
    other = client.application.test_client()
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert check(other, " " + case.number.lower(), full_width).status_code == 303


def test_leaving_and_the_time_limit_close_the_view(city, client, app):
    case = registered(city)
    opened(client, case.number, sms_code(party(case, "王建国")))
    page = client.get("/status/case").get_data(as_text=True)
    client.post("/status/leave", data={"csrf_token": csrf_from(page)})
    assert client.get("/status/case").headers["Location"] == "/status"
    app.config["PORTAL_VIEW_MINUTES"] = 0
    check(client, case.number, sms_code(party(case, "王建国")))
    assert client.get("/status/case").headers["Location"] == "/status"


# ---- the answer to a session, and the party's papers -------------------------------------

def _reply(client, session_id: int, reply: str, reason: str = ""):
    page = client.get("/status/case").get_data(as_text=True)
    return client.post(f"/status/sessions/{session_id}/reply", data={
        "csrf_token": csrf_from(page), f"s{session_id}-reply": reply,
        f"s{session_id}-reason": reason})


def test_the_party_answers_a_session_and_the_mediator_sees_it(city, app, auth):
    client = app.test_client()  # the resident's phone; auth logs staff in on another
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    session = book(city, case)
    opened(client, case.number, sms_code(party(case, "王建国")))
    page = client.get("/status/case").get_data(as_text=True)
    assert f'action="/status/sessions/{session.id}/reply"' in page

    refused = _reply(client, session.id, "declined")
    assert refused.status_code == 303
    assert "请说明原因" in client.get("/status/case").get_data(as_text=True)
    hostile = "<script>alert(1)</script>下午有课"
    assert _reply(client, session.id, "other_time", hostile).status_code == 303
    page = client.get("/status/case").get_data(as_text=True)
    assert "谢谢，调解员会看到您的回复。" in page and "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;下午有课" in page
    db.session.expire_all()
    participant = next(p for p in session.participants if p.party_id == party(case, "王建国").id
                       and p.role.value == "party")
    assert participant.reply is Reply.OTHER_TIME and participant.replied_at is not None

    auth.login("mediator")
    staff = auth.client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "当事人回复：请求改期" in staff and "<script>alert(1)" not in staff
    assert _reply(client, session.id, "confirmed").status_code == 303
    staff = auth.client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "当事人回复：会参加" in staff and "下午有课" not in staff

    # Another case's session cannot be answered, nor a cancelled one.
    other = registered(city, parties=[applicant("赵六", phone="13700001111")])
    walk_to(other, CaseState.ACCEPTED, city.mediator)
    theirs = book(city, other, start=at(TUESDAY, 14))
    _reply(client, theirs.id, "confirmed")
    db.session.expire_all()
    assert all(p.reply is None for p in theirs.participants)
    cancel_session(city.mediator, session, "调解员临时有事")
    db.session.commit()
    _reply(client, session.id, "declined", "不来了")
    db.session.expire_all()
    assert participant.reply is Reply.CONFIRMED
    assert "已取消" in client.get("/status/case").get_data(as_text=True)


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_party_downloads_its_own_notice(city, client, tmp_path):
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    session = book(city, case)
    assert client.get(f"/status/sessions/{session.id}/notice.pdf").status_code == 302
    opened(client, case.number, sms_code(party(case, "李卫东")))
    response = client.get(f"/status/sessions/{session.id}/notice.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    text = re.sub(r"\s+", "", _pdf_text(response.data, tmp_path))
    assert "调解通知书" in text and "李卫东：" in text
    assert "可凭案件登记时短信发送的查询码，在http://localhost/status查询案件进度" in text
    assert "不在本通知上载明" in text
    other = registered(city, parties=[applicant("赵六", phone="13700001111")])
    walk_to(other, CaseState.ACCEPTED, city.mediator)
    theirs = book(city, other, start=at(TUESDAY, 14))
    assert client.get(f"/status/sessions/{theirs.id}/notice.pdf").status_code == 404


def test_a_partys_notice_names_no_staff_but_the_handling_mediator(city, client, auth,
                                                                  tmp_path):
    case = registered(city)
    walk_to(case, CaseState.ACCEPTED, city.mediator)
    case.handler = city.mediator
    case_ops.assign(city.admin, case, city.legalaid, AssignmentRole.LEGAL_AID)
    db.session.commit()
    session = book(city, case, co_mediators=[city.coordinator], legal_aid=[city.legalaid],
                   invited=[Invitee("周心怡", "区心理咨询中心", consent_recorded=True)])
    opened(client, case.number, sms_code(party(case, "李卫东")))
    response = client.get(f"/status/sessions/{session.id}/notice.pdf")
    text = re.sub(r"\s+", "", _pdf_text(response.data, tmp_path))
    assert "张志强（主持调解员）" in text  # the handling mediator
    assert "李红梅" not in text and "陈思远" not in text  # co-mediator, legal-aid volunteer
    # Everything else stays: who, when, where, about what, what to bring.
    for kept in ("李卫东：", "王建国", "周心怡", "2027年3月16日（星期二）10:00至11:00",
                 "第一调解室", "调解维修费用分担", "本人身份证件"):
        assert kept in text, kept

    # Staff print the same for the party; a staff member's notice still lists everyone.
    auth.login("mediator")
    by_role = {p.role.value: p for p in session.participants}
    printed = auth.client.get(f"/sessions/{session.id}/notice/{by_role['party'].id}.pdf")
    assert "李红梅" not in re.sub(r"\s+", "", _pdf_text(printed.data, tmp_path))
    staff = auth.client.get(f"/sessions/{session.id}/notice/{by_role['co_mediator'].id}.pdf")
    staff_text = re.sub(r"\s+", "", _pdf_text(staff.data, tmp_path))
    for name in ("张志强", "李红梅", "陈思远", "周心怡", "王建国", "李卫东"):
        assert name in staff_text, name


def test_the_party_downloads_the_issued_agreement_as_stored(city, client, monkeypatch):
    monkeypatch.setattr(agreement_documents, "agreement_pdf", lambda agreement, **kw:
                        f"%PDF-1.7 {agreement.number}".encode())
    case = registered(city, parties=[full_person(applicant, "王建国"),
                                     full_person(respondent, "李卫东", phone="13912345678")])
    walk_to(case, CaseState.IN_MEDIATION, city.mediator)
    case.handler = city.mediator
    db.session.commit()
    draft = agreement_ops.start_draft(city.mediator, case)
    db.session.commit()
    opened(client, case.number, sms_code(party(case, "王建国")))
    assert "调解协议书" not in client.get("/status/case").get_data(as_text=True)
    assert client.get(f"/status/agreements/{draft.id}.pdf").status_code == 404

    first, second = (e.party for e in draft.parties)
    agreement_ops.update_draft(city.mediator, draft, agreement_ops.DraftInput(
        facts=case.narrative, disputed_matters="维修费用", copies=3, mediator=city.mediator,
        recorder_name="记录员", inviting_court=None, concerns_status=False,
        determines_ownership=False, responsibilities={first.id: "无", second.id: "负责"}))
    agreement_ops.save_term(city.mediator, draft, None, agreement_ops.TermInput(
        content="李卫东赔偿王建国维修费", obligor_id=second.id, obligee_id=first.id,
        amount="3800", method="银行转账", place="调委会", due_on=date(2027, 1, 31)))
    agreement_ops.issue(city.mediator, draft, verify_url="https://t.example/v/{code}")
    db.session.commit()
    page = client.get("/status/case").get_data(as_text=True)
    assert draft.number in page and f"/v/{draft.verification_code}" in page
    assert "协议书生效后可以申请" in page
    pdf = client.get(f"/status/agreements/{draft.id}.pdf")
    assert pdf.status_code == 200 and pdf.data == draft.pdf

    day = today()
    for entry in draft.parties:
        agreement_ops.record_signature(city.mediator, draft, f"party:{entry.party_id}", day)
    agreement_ops.record_signature(city.mediator, draft, "mediator", day)
    agreement_ops.record_signature(city.mediator, draft, "seal", day)
    db.session.commit()
    page = client.get("/status/case").get_data(as_text=True)
    assert f"申请期限至{confirmation_deadline(day).isoformat()}" in page




# ---- limits on guessing ------------------------------------------------------------------

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
        other = make_case(city.mediator, grid=city.east_1, parties=[
            applicant("赵六", phone="13700001111")])
        db.session.commit()
        yield SimpleNamespace(app=app, number=case.number, code=sms_code(case.parties[0]),
                              other=other.number, other_code=sms_code(other.parties[0]))


def test_wrong_pairs_are_limited_per_address_and_the_right_one_is_refused_then(guarded):
    number, code = guarded.number, guarded.code
    client = guarded.app.test_client()
    # The right pair is no failure: it does not count.
    for _ in range(12):
        assert check(client, number, code, **_from("198.51.100.7")).status_code == 303
    answers = [check(client, f"2026-{n:06d}", "12345678", **_from("198.51.100.7")).status_code
               for n in range(11)]
    assert answers == [200] * 10 + [429]
    refused = check(client, number, code, **_from("198.51.100.7"))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "错误次数过多" in refused.get_data(as_text=True)
    assert check(client, number, code, **_from("198.51.100.8")).status_code == 303
    keys = db.session.scalars(select(RateLimitCounter.key)).all()
    assert keys and not any(number in key or code in key for key in keys)


def _answer_and_work(app, monkeypatch, number: str, code: str, address: str):
    """A fresh phone's POST of the pair: the answer, every SQL statement the server ran
    for it (the limits' counters too) and its HMAC work (calls, and the text the lookup
    hashed: its length, since equal lengths cost equal time)."""
    client = app.test_client()
    token = csrf_from(client.get("/status", **_from(address)).get_data(as_text=True))
    statements, macs, hashed = [], [], []
    real_new, real_index = hmac.new, codes.blind_index

    def counted_new(key, msg=None, digestmod=None):
        macs.append(len(msg) if msg is not None else None)
        return real_new(key, msg, digestmod)

    def counted_index(value):
        hashed.append(len(value.encode("utf-8")))
        return real_index(value)

    def executed(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    monkeypatch.setattr(hmac, "new", counted_new)
    monkeypatch.setattr(codes, "blind_index", counted_index)
    event.listen(db.engine, "before_cursor_execute", executed)
    try:
        response = client.post("/status", data={"csrf_token": token, "case_number": number,
                                                "access_code": code}, **_from(address))
    finally:
        event.remove(db.engine, "before_cursor_execute", executed)
        monkeypatch.undo()
    return response, statements, macs, hashed


def test_a_wrong_code_and_an_unknown_number_do_the_same_work(guarded, monkeypatch):
    """Equal timing, shown without a clock: the same answer from the same statements and
    the same keyed hashing (bench/portal_timing.py measures the time itself)."""
    number = guarded.number
    unknown = number[:5] + ("999999" if number[5:] != "999999" else "999998")
    wrong_code = "00000000" if guarded.code != "00000000" else "11111111"
    wrong, wrong_sql, wrong_macs, wrong_hashed = _answer_and_work(
        guarded.app, monkeypatch, number, wrong_code, "198.51.100.21")
    missing, missing_sql, missing_macs, missing_hashed = _answer_and_work(
        guarded.app, monkeypatch, unknown, "12345678", "198.51.100.22")

    assert wrong.status_code == missing.status_code == 200
    assert WRONG_ZH in wrong.get_data(as_text=True)
    assert without_token(wrong.get_data(as_text=True)) == \
        without_token(missing.get_data(as_text=True))
    assert wrong_sql == missing_sql and len(wrong_sql) == len(missing_sql)
    assert any("access_codes" in sql for sql in wrong_sql)  # the lookup was seen
    assert any("rate_limit_counters" in sql for sql in wrong_sql)  # and the counting
    assert wrong_hashed == missing_hashed and len(wrong_hashed) == 1
    assert wrong_macs == missing_macs and wrong_macs
    # The same work for a code of the wrong shape: it is hashed and looked up all the same.
    short, short_sql, _, short_hashed = _answer_and_work(
        guarded.app, monkeypatch, number, "12", "198.51.100.23")
    assert short.status_code == 200 and short_sql == wrong_sql and len(short_hashed) == 1


def test_wrong_pairs_are_limited_per_case_number_from_any_address(guarded):
    number, code = guarded.number, guarded.code
    client = guarded.app.test_client()
    answers = [check(client, number, f"{n:08d}" if f"{n:08d}" != code else "99999999",
                     **_from(f"203.0.113.{n % 4}")).status_code for n in range(21)]
    assert answers == [200] * 20 + [429]
    assert check(client, number, code, **_from("203.0.113.99")).status_code == 429
    # An unknown number is counted the same way: limits tell nothing about which exist.
    unknown = [check(client, "2026-999999", f"{n:08d}", **_from(f"192.0.2.{n % 4}")).status_code
               for n in range(21)]
    assert unknown == [200] * 20 + [429]
    # Another case is not affected.
    assert check(client, guarded.other, guarded.other_code,
                 **_from("203.0.113.99")).status_code == 303


# ---- on an old phone ---------------------------------------------------------------------

@pytest.mark.browser
def test_a_resident_checks_and_answers_on_a_small_screen_without_javascript(live_server,
                                                                           browser):
    from browser import screenshot

    with live_server.app.app_context():
        centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
        city = SimpleNamespace(mediator=user("mediator"),
                               room1=next(r for r in centre.rooms if r.name == "第一调解室"))
        case = registered(city)
        walk_to(case, CaseState.ACCEPTED, city.mediator)
        case.handler = city.mediator
        db.session.commit()
        session = book(city, case)
        number, code, session_id = case.number, sms_code(party(case, "王建国")), session.id
        db.session.remove()
    context = browser.new_context(viewport={"width": 375, "height": 667}, locale="zh-CN",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/status")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_role("button", name="大字").click()  # the hardest case for the screen
        page.wait_for_load_state()
        assert page.evaluate("document.body.className") == "portal portal--large"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.locator("#case_number").fill(number)
        page.locator("#access_code").fill(code)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url.endswith("/status/case")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        screenshot(page, "portal-status-case-large-375")
        page.locator(f"#session-{session_id} input[value=confirmed]").check()
        page.locator(f"#session-{session_id} button[type=submit]").click()
        page.wait_for_load_state()
        assert "谢谢，调解员会看到您的回复。" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
