"""Sessions through the API as the pages have them: co-mediators, legal-aid volunteers and
invited guests at a booking, guests checked for clashes (by phone, also against agents, else
by name and organisation), attendance, minutes and their PDF, each participant's notice, a
free-slot query, volunteers' duty hours; and another community's token sees none of it."""

from datetime import time, timedelta

import pytest
from api_helpers import (
    API,
    OTHER_GRID,
    bearer,
    case_in_mediation,
    cli_token,
    other_community_mediator,
    person,
    post_ok,
    session_body,
    working_slot,
)
from api_helpers import error_fields as _fields
from api_helpers import expect_problem as _problem
from sqlalchemy import func, select

from mediation.areas.models import Centre
from mediation.cases import operations as case_ops
from mediation.cases.models import Assignment, AssignmentRole, Case
from mediation.extensions import db
from mediation.sessions import minutes as minutes_module
from mediation.sessions import operations as session_ops
from mediation.sessions.models import MediationSession, VolunteerDuty
from mediation.users.operations import find_user

CENTRE = "文汇街道矛盾纠纷调处化解中心"
DOCTOR = {"name": "刘医生", "organisation": "区心理咨询中心", "phone": "138 0546 1234",
          "consent_recorded": True}
BUSY_GUEST = "受邀人员刘医生在该时段已有其他安排"


@pytest.fixture
def mediator(demo_city):
    return bearer(cli_token(demo_city, "mediator"))


@pytest.fixture
def outsider(demo_city):
    """清风社区's mediator, who may not see 文苑社区's cases."""
    return bearer(cli_token(demo_city, other_community_mediator(), name="清风社区平板"))


@pytest.fixture
def volunteer(demo_city):
    return bearer(cli_token(demo_city, "legalaid", name="法律援助"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _case(number: str) -> Case:
    return db.session.scalar(select(Case).where(Case.number == number))


def _book(client, headers, number: str, start, end, status: int = 201, **fields):
    return client.post(f"{API}/cases/{number}/sessions", json=session_body(start, end, **fields),
                       headers=headers)


def _room(name: str = "第一调解室"):
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    return next(r for r in centre.rooms if r.name == name)


def _two_cases(client, mediator) -> tuple[str, str]:
    """The numbers of two cases in mediation, 文苑社区's."""
    return (case_in_mediation(client, mediator)["number"],
            case_in_mediation(client, mediator, title="邻居噪音纠纷", category="noise")["number"])


def _on_duty(day, from_hour: int, until_hour: int):
    """The demo volunteer on duty at the first room's centre on that weekday; the room."""
    room = _room()
    session_ops.add_duty(find_user("legalaid"), room.centre, day.weekday(),
                         time(from_hour), time(until_hour))
    db.session.commit()
    return room


# ---- booking with everyone the page invites --------------------------------------------------

def test_a_booking_takes_co_mediators_volunteers_guests_parties_and_agents(client, mediator):
    case = case_in_mediation(client, mediator, parties=[
        person("applicant", "王建国", agent_name="赵律师", agent_phone="13912345678"),
        person("respondent", "李卫东", phone="13905467788"),
        person("third_party", "孙丽", phone="13905460001")])
    number = case["number"]
    case_ops.assign(find_user("mediator"), _case(number), find_user("legalaid"),
                    AssignmentRole.LEGAL_AID)
    db.session.commit()
    applicant, respondent, _third = (p["id"] for p in case["parties"])
    start, end = working_slot()
    booked = post_ok(client, f"{API}/cases/{number}/sessions", mediator, session_body(
        start, end, place_kind="room", room_id=_room().id, co_mediators=["coordinator"],
        legal_aid=["legalaid"], parties=[applicant, respondent], with_agents=True,
        invited=[DOCTOR, {"name": " 刘 警官 ", "organisation": "文汇派出所",
                          "consent_recorded": True}]), 201)
    roles = [(p["role"], p["name"]) for p in booked["participants"]]
    assert roles == [("lead_mediator", "张志强"), ("co_mediator", "李红梅"),
                     ("legal_aid", "陈思远"), ("party", "王建国"), ("agent", "赵律师"),
                     ("party", "李卫东"), ("invited", "刘医生"), ("invited", "刘 警官")]
    shown = client.get(f"{API}/sessions/{booked['id']}", headers=mediator)
    people = {p["name"]: p for p in shown.get_json()["participants"]}
    assert people["刘医生"]["phone_masked"] == "*******1234"
    assert people["刘医生"]["organisation"] == "区心理咨询中心"
    assert people["刘医生"]["consent_recorded"] and people["刘 警官"]["phone_masked"] is None
    assert people["赵律师"]["phone_masked"] == "*******5678"
    assert people["赵律师"]["party_id"] == applicant
    assert people["李卫东"]["phone_masked"] == "*******7788"
    assert people["李红梅"]["username"] == "coordinator"
    assert people["李红梅"]["phone_masked"] is None
    assert all(p["attendance"] == "invited" and p["reply"] is None
               for p in people.values())
    for full in ("13805461234", "138 0546 1234", "13912345678", "13905467788"):
        assert full not in shown.get_data(as_text=True)
    stored = db.session.get(MediationSession, booked["id"])
    assert [p.phone for p in stored.participants if p.name == "刘医生"] == ["13805461234"]

    # Without the agents, and without a guest's consent, as on the page.
    later_start, later_end = start + timedelta(hours=3), end + timedelta(hours=3)
    refused = _book(client, mediator, number, later_start, later_end,
                    invited=[{**DOCTOR, "consent_recorded": False}])
    assert _fields(_problem(refused, 422)) == {"invited"}
    bare = post_ok(client, f"{API}/cases/{number}/sessions", mediator, session_body(
        later_start, later_end, with_agents=False), 201)
    assert "agent" not in {p["role"] for p in bare["participants"]}


def test_the_people_at_a_booking_are_checked_as_on_the_page(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    for fields, field in (
            ({"co_mediators": ["nobody"]}, "co_mediators"),
            ({"legal_aid": ["mediator"]}, "legal_aid"),
            ({"legal_aid": ["legalaid"]}, "legal_aid"),  # neither assigned nor on duty
            ({"invited": [{**DOCTOR, "phone": "12345"}]}, "invited"),
            ({"invited": [{**DOCTOR, "name": "  "}]}, "invited"),
            ({"invited": [DOCTOR, {**DOCTOR, "name": "刘大夫"}]}, "invited"),
            ({"invited": [{"organisation": "区心理咨询中心"}]}, "invited.0.name")):
        problem = _problem(_book(client, mediator, number, start, end, **fields), 422)
        assert _fields(problem) == {field}, (fields, problem)
    assert _count(MediationSession) == 0


def test_a_volunteer_on_duty_is_booked_in_the_duty_hours_and_joins_the_case(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot(hour=10)
    room = _on_duty(start, 9, 12)
    offered = client.get(f"{API}/cases/{number}/volunteers", headers=mediator).get_json()
    assert [(v["username"], v["assigned"]) for v in offered["items"]] == [("legalaid", False)]
    assert offered["items"][0]["duties"][0]["starts_at"] == "09:00"
    afternoon = _book(client, mediator, number, start + timedelta(hours=4),
                      end + timedelta(hours=4), place_kind="room", room_id=room.id,
                      legal_aid=["legalaid"])
    assert _fields(_problem(afternoon, 422)) == {"legal_aid"}
    post_ok(client, f"{API}/cases/{number}/sessions", mediator, session_body(
        start, end, place_kind="room", room_id=room.id, legal_aid=["legalaid"]), 201)
    assert db.session.scalar(select(Assignment).where(
        Assignment.user_id == find_user("legalaid").id)).role is AssignmentRole.LEGAL_AID


# ---- invited guests clash ----------------------------------------------------------------------

def test_a_guest_in_two_overlapping_sessions_is_refused_by_phone(client, mediator):
    first, second = _two_cases(client, mediator)
    start, end = working_slot()
    post_ok(client, f"{API}/cases/{first}/sessions", mediator,
            session_body(start, end, invited=[DOCTOR]), 201)
    # Another spelling of the name, the same phone written otherwise: the same person.
    other_spelling = {"name": "刘明", "phone": "+86 13805461234", "consent_recorded": True}
    clash = _problem(_book(client, mediator, second, start + timedelta(minutes=30),
                           end + timedelta(minutes=30), address="文苑社区居委会",
                           lead_mediator="coordinator", invited=[other_spelling]), 409)
    assert "受邀人员刘医生" in clash["detail"] and first in clash["detail"]
    assert clash["slots"]
    # Right after the first session, the guest is free.
    post_ok(client, f"{API}/cases/{second}/sessions", mediator, session_body(
        end, end + timedelta(hours=1), address="文苑社区居委会", lead_mediator="coordinator",
        invited=[other_spelling]), 201)


def test_a_guest_without_a_phone_is_known_by_name_and_organisation(client, mediator):
    first, second = _two_cases(client, mediator)
    start, end = working_slot()
    post_ok(client, f"{API}/cases/{first}/sessions", mediator, session_body(start, end, invited=[
        {"name": "周 心怡", "organisation": "区心理咨询中心", "consent_recorded": True}]), 201)
    later = {"address": "文苑社区居委会", "starts_at": (start + timedelta(minutes=30)).isoformat(),
             "ends_at": (end + timedelta(minutes=30)).isoformat(), "lead_mediator": "coordinator"}
    same = {"name": " 周  心怡", "organisation": "区心理咨询中心 ", "consent_recorded": True}
    clash = _problem(_book(client, mediator, second, start, end, invited=[same], **later), 409)
    assert "周 心怡" in clash["detail"]
    # With a phone the first had not, still the same name and organisation: the same person.
    _problem(_book(client, mediator, second, start, end, **later,
                   invited=[{**same, "phone": "13805469999"}]), 409)
    # Another organisation is someone else.
    post_ok(client, f"{API}/cases/{second}/sessions", mediator, session_body(
        start, end, **later, invited=[{**same, "organisation": "市第一人民医院"}]), 201)


def test_a_guest_who_is_an_agent_elsewhere_clashes_both_ways(client, mediator):
    lawyer = {"agent_name": "赵律师", "agent_phone": "13912345678"}
    first = case_in_mediation(client, mediator, parties=[
        person("applicant", "王建国", **lawyer), person("respondent", "李卫东")])["number"]
    second = case_in_mediation(client, mediator, title="邻居噪音纠纷", category="noise")["number"]
    start, end = working_slot()
    post_ok(client, f"{API}/cases/{first}/sessions", mediator, session_body(start, end), 201)
    as_guest = {"name": "赵明", "organisation": "明理律师事务所", "phone": "13912345678",
                "consent_recorded": True}
    clash = _problem(_book(client, mediator, second, start, end, address="文苑社区居委会",
                           lead_mediator="coordinator", invited=[as_guest]), 409)
    assert "赵律师" in clash["detail"]
    assert _count(MediationSession) == 1
    # The other way round: a guest first, the agent's session after.
    third = case_in_mediation(client, mediator, title="楼道堆物纠纷", category="noise")["number"]
    later_start, later_end = working_slot(days_ahead=10, hour=15)
    post_ok(client, f"{API}/cases/{third}/sessions", mediator,
            session_body(later_start, later_end, invited=[as_guest]), 201)
    clash = _problem(_book(client, mediator, first, later_start, later_end,
                           address="文苑社区居委会", lead_mediator="coordinator"), 409)
    assert "受邀人员赵明" in clash["detail"] and third in clash["detail"]


def test_an_outsiders_clash_with_a_guest_names_nothing_of_the_other_case(
        client, mediator, outsider):
    mine = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    post_ok(client, f"{API}/cases/{mine}/sessions", mediator, session_body(
        start, end, purpose="商议漏水赔偿的秘密方案", invited=[DOCTOR]), 201)
    theirs = case_in_mediation(client, outsider, grid=OTHER_GRID,
                               address="东营市东湖区清风小区1号楼")["number"]
    refused = _book(client, outsider, theirs, start + timedelta(minutes=30),
                    end + timedelta(minutes=30), address="清风社区居委会", invited=[DOCTOR])
    problem = _problem(refused, 409)
    assert problem["detail"].startswith(BUSY_GUEST + "。")
    text = refused.get_data(as_text=True)
    for secret in (mine, "秘密方案", "王建国", "张志强", start.strftime("%H:%M") + " 至"):
        assert secret not in text, secret


def test_moving_a_session_onto_a_guests_other_session_is_refused(client, mediator):
    first, second = _two_cases(client, mediator)
    start, end = working_slot()
    post_ok(client, f"{API}/cases/{first}/sessions", mediator,
            session_body(start, end, invited=[DOCTOR]), 201)
    later = post_ok(client, f"{API}/cases/{second}/sessions", mediator, session_body(
        start + timedelta(hours=3), end + timedelta(hours=3), address="文苑社区居委会",
        lead_mediator="coordinator", invited=[{**DOCTOR, "name": "刘大夫"}]), 201)
    clash = client.post(f"{API}/sessions/{later['id']}/move", headers=mediator, json={
        "starts_at": start.isoformat(), "ends_at": end.isoformat(), "reason": "调解员另有安排"})
    assert "受邀人员刘医生" in _problem(clash, 409)["detail"]


# ---- free slots --------------------------------------------------------------------------------

def test_free_slots_are_free_for_the_room_and_everyone_invited(client, mediator):
    first, second = _two_cases(client, mediator)
    start, end = working_slot(hour=9)
    post_ok(client, f"{API}/cases/{first}/sessions", mediator, session_body(
        start, end + timedelta(hours=1), purpose="秘密方案", invited=[DOCTOR],
        lead_mediator="coordinator"), 201)
    query = {"around": start.isoformat(), "duration_minutes": 60, "count": 4,
             "place_kind": "room", "room_id": _room("第二调解室").id, "parties": [],
             "invited": [DOCTOR]}
    found = client.post(f"{API}/cases/{second}/free_slots", json=query, headers=mediator)
    assert found.status_code == 200, found.get_json()
    assert set(found.get_json()) == {"slots"}
    slots = [start.fromisoformat(s) for s in found.get_json()["slots"]]
    # The guest is busy from 09:00 to 11:00 (nobody else is).
    assert [s.strftime("%H:%M") for s in slots] == ["11:00", "11:30", "12:00", "12:30"]
    assert all(s.date() == start.date() for s in slots)
    without = post_ok(client, f"{API}/cases/{second}/free_slots", mediator,
                      {**query, "invited": []})
    assert start.fromisoformat(without["slots"][0]).strftime("%H:%M") == "08:30"
    # The same room and guest are bookable at the first free slot offered after the busy one.
    post_ok(client, f"{API}/cases/{second}/sessions", mediator, session_body(
        slots[0], slots[0] + timedelta(hours=1), place_kind="room",
        room_id=query["room_id"], parties=[], invited=[DOCTOR]), 201)
    # Nothing booked by asking; bad questions are 422 on their own fields.
    assert _count(MediationSession) == 2
    for bad, field in (({"duration_minutes": 5}, "duration_minutes"),
                       ({"around": (start + timedelta(days=400)).isoformat()}, "around"),
                       ({"lead_mediator": "nobody"}, "lead_mediator"),
                       ({"room_id": 999999}, "room_id")):
        problem = _problem(client.post(f"{API}/cases/{second}/free_slots",
                                       json={**query, **bad}, headers=mediator), 422)
        assert _fields(problem) == {field}, (bad, problem)


def test_free_slots_keep_to_an_unassigned_volunteers_duty_hours(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    start, _end = working_slot(hour=9)
    room = _on_duty(start, 14, 16)
    found = post_ok(client, f"{API}/cases/{number}/free_slots", mediator, {
        "around": start.isoformat(), "duration_minutes": 60, "room_id": room.id,
        "legal_aid": ["legalaid"]})
    assert [start.fromisoformat(s).strftime("%H:%M") for s in found["slots"]] == \
        ["14:00", "14:30", "15:00"]


# ---- attendance, minutes, notices -------------------------------------------------------------

@pytest.fixture
def held(client, mediator, monkeypatch):
    """A session booked with a guest, and the clock moved past its end."""
    number = case_in_mediation(client, mediator)["number"]
    start, end = working_slot()
    session = post_ok(client, f"{API}/cases/{number}/sessions", mediator,
                      session_body(start, end, invited=[DOCTOR]), 201)
    return session, lambda: [monkeypatch.setattr(module, "utcnow", lambda: end)
                             for module in (session_ops, minutes_module)]


def test_attendance_is_recorded_once_the_session_has_begun(client, mediator, held):
    session, begin = held
    url = f"{API}/sessions/{session['id']}/attendance"
    ids = {p["name"]: p["id"] for p in session["participants"]}
    early = client.post(url, headers=mediator, json={"attendance": [
        {"participant_id": ids["刘医生"], "attendance": "attended"}]})
    _problem(early, 422)
    confirmed = post_ok(client, url, mediator, {"attendance": [
        {"participant_id": ids["刘医生"], "attendance": "confirmed"}]})
    assert {p["name"]: p["attendance"] for p in confirmed["participants"]}["刘医生"] == "confirmed"
    begin()
    recorded = post_ok(client, url, mediator, {"attendance": [
        {"participant_id": ids["王建国"], "attendance": "attended"},
        {"participant_id": ids["李卫东"], "attendance": "absent"}]})
    assert {p["name"]: p["attendance"] for p in recorded["participants"]} == {
        "张志强": "invited", "王建国": "attended", "李卫东": "absent", "刘医生": "confirmed"}
    stranger = client.post(url, headers=mediator, json={"attendance": [
        {"participant_id": 999999, "attendance": "absent"}]})
    assert _fields(_problem(stranger, 422)) == {"attendance.0.participant_id"}


def test_minutes_are_written_read_and_printed(client, mediator, held):
    session, begin = held
    url = f"{API}/sessions/{session['id']}/minutes"
    minutes = {"matter": "漏水赔偿", "body": "双方同意由李卫东赔偿修复费用。", "outcome": "settled"}
    _problem(client.get(url, headers=mediator), 404)
    _problem(client.get(f"{url}/pdf", headers=mediator), 404)
    _problem(client.put(url, json=minutes, headers=mediator), 422)  # not begun yet
    begin()
    for bad, field in (({"outcome": "adjourned"}, "next_date"),
                       ({"recorder": "coordinator"}, "recorder")):
        assert _fields(_problem(client.put(url, json={**minutes, **bad}, headers=mediator),
                                422)) == {field}
    saved = client.put(url, json=minutes, headers=mediator)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["recorder"] == "mediator" and saved.get_json()["outcome"] == "settled"
    assert client.get(f"{API}/sessions/{session['id']}", headers=mediator).get_json()[
        "status"] == "held"
    assert client.get(url, headers=mediator).get_json()["body"] == minutes["body"]
    pdf = client.get(f"{url}/pdf", headers=mediator)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_each_participant_has_a_notice(client, mediator, held):
    session, _begin = held
    guest = next(p for p in session["participants"] if p["role"] == "invited")
    pdf = client.get(f"{API}/sessions/{session['id']}/participants/{guest['id']}/notice",
                     headers=mediator)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    other = post_ok(client, f"{API}/cases/{session['case_number']}/sessions", mediator,
                    session_body(*working_slot(days_ahead=9)), 201)
    _problem(client.get(f"{API}/sessions/{other['id']}/participants/{guest['id']}/notice",
                        headers=mediator), 404)
    post_ok(client, f"{API}/sessions/{session['id']}/cancel", mediator, {"reason": "改期"})
    _problem(client.get(f"{API}/sessions/{session['id']}/participants/{guest['id']}/notice",
                        headers=mediator), 404)


# ---- duty hours ---------------------------------------------------------------------------------

def test_volunteers_keep_their_own_duty_hours(demo_city, client, volunteer, mediator):
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    duty = post_ok(client, f"{API}/duties", volunteer, {
        "centre_id": centre.id, "weekday": 1, "starts_at": "09:00", "ends_at": "12:00"}, 201)
    assert (duty["centre"], duty["weekday"], duty["starts_at"], duty["ends_at"]) == \
        (CENTRE, 1, "09:00", "12:00")
    listed = client.get(f"{API}/duties", headers=volunteer).get_json()
    assert [d["id"] for d in listed["items"]] == [duty["id"]]
    for bad, field in (({"ends_at": "08:00"}, "ends_at"), ({"starts_at": "9:00"}, "starts_at"),
                       ({"starts_at": "09:00+08:00"}, "starts_at"),
                       ({"centre_id": 999999}, "centre_id"), ({"weekday": 7}, "weekday")):
        problem = _problem(client.post(f"{API}/duties", headers=volunteer, json={
            "centre_id": centre.id, "weekday": 1, "starts_at": "09:00", "ends_at": "12:00",
            **bad}), 422)
        assert _fields(problem) == {field}, (bad, problem)
    # Duty hours are a volunteer's own: a mediator has none; another volunteer cannot
    # remove them.
    _problem(client.get(f"{API}/duties", headers=mediator), 403)
    _problem(client.post(f"{API}/duties", headers=mediator, json={
        "centre_id": centre.id, "weekday": 1, "starts_at": "09:00", "ends_at": "12:00"}), 403)
    from mediation.users import operations as user_ops
    from mediation.users.roles import Role
    user_ops.create_user(None, username="legalaid2", full_name="周律", role=Role.LEGAL_AID,
                         password="Vq7#pLm2-Wz9!rTx", must_change_password=False)
    db.session.commit()
    other = bearer(cli_token(demo_city, "legalaid2", name="另一位志愿者"))
    _problem(client.delete(f"{API}/duties/{duty['id']}", headers=other), 404)
    assert client.get(f"{API}/duties", headers=other).get_json()["total"] == 0
    removed = client.delete(f"{API}/duties/{duty['id']}", headers=volunteer)
    assert removed.status_code == 204 and _count(VolunteerDuty) == 0


# ---- places --------------------------------------------------------------------------------------

def test_centres_and_rooms_show_capacity_and_hours(client, mediator):
    number = case_in_mediation(client, mediator)["number"]
    centres = client.get(f"{API}/centres", headers=mediator).get_json()["items"]
    centre = next(c for c in centres if c["name"] == CENTRE)
    assert centre["opens_at"] == "08:30" and centre["closes_at"] == "17:30"
    rooms = client.get(f"{API}/rooms", query_string={"case": number},
                       headers=mediator).get_json()["items"]
    assert {r["name"]: r["capacity"] for r in rooms}["第一调解室"] == _room().capacity


# ---- scope -------------------------------------------------------------------------------------

def test_another_communitys_token_finds_none_of_it(client, mediator, outsider, held):
    session, begin = held
    number, sid = session["case_number"], session["id"]
    participant = session["participants"][0]["id"]
    begin()
    minutes = {"matter": "漏水赔偿", "body": "记录", "outcome": "settled"}
    post_ok(client, f"{API}/sessions/{sid}/attendance", mediator, {"attendance": [
        {"participant_id": participant, "attendance": "attended"}]})
    assert client.put(f"{API}/sessions/{sid}/minutes", json=minutes,
                      headers=mediator).status_code == 200
    for url in (f"{API}/sessions/{sid}/minutes", f"{API}/sessions/{sid}/minutes/pdf",
                f"{API}/sessions/{sid}/participants/{participant}/notice",
                f"{API}/cases/{number}/volunteers"):
        _problem(client.get(url, headers=outsider), 404)
    for url, body in ((f"{API}/sessions/{sid}/attendance", {"attendance": [
            {"participant_id": participant, "attendance": "absent"}]}),
            (f"{API}/cases/{number}/free_slots", {"around": working_slot()[0].isoformat(),
                                                  "duration_minutes": 60})):
        _problem(client.post(url, json=body, headers=outsider), 404)
    _problem(client.put(f"{API}/sessions/{sid}/minutes", json={**minutes, "body": "越权"},
                        headers=outsider), 404)
    _problem(client.get(f"{API}/duties", headers=outsider), 403)
    db.session.expire_all()
    assert client.get(f"{API}/sessions/{sid}/minutes", headers=mediator).get_json()[
        "body"] == "记录"
    stored = db.session.get(MediationSession, sid)
    assert stored.participants[0].attendance.value == "attended"
