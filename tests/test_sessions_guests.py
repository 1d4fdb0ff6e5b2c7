"""Invited guests on the booking page: "姓名, 单位, 电话" a line (the phone optional), the phone
shown masked on the session's page, and a guest already at another session then refused
with the clash on the form, by phone or by name and organisation.

Dates are in March 2027, as in test_sessions_scheduling."""

from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user
from sqlalchemy import func, select

from mediation.areas.models import Centre
from mediation.cases import operations as case_operations
from mediation.extensions import db
from mediation.sessions.models import MediationSession, ParticipantRole, PlaceKind
from mediation.sessions.operations import Invitee, SessionInput, schedule_session

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
TUESDAY = date(2027, 3, 16)


@pytest.fixture
def city(demo_city):
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    return SimpleNamespace(admin=user("admin"), mediator=user("mediator"),
                           coordinator=user("coordinator"),
                           room=next(r for r in centre.rooms if r.name == "第一调解室"))


def new_case(city, name: str = "王建国"):
    case = make_case(city.admin, grid=area(GRID), parties=[applicant(name), respondent()])
    case_operations.accept_case(city.admin, case, handler=city.mediator)
    db.session.commit()
    return case


def page_form(city, case, **fields) -> dict:
    form = {"day": TUESDAY.isoformat(), "start": "10:30", "end": "11:30", "place_kind": "room",
            "room": str(city.room.id), "address": "", "video_link": "", "override_reason": "",
            "purpose": "调解维修费用分担", "lead": "mediator", "co_mediators": "",
            "parties": [str(p.id) for p in case.parties], "with_agents": "y", "consent": "y"}
    form.update(fields)
    return form


def sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(MediationSession))


def test_guest_lines_take_an_optional_phone_shown_masked(city, auth):
    case = new_case(city)
    auth.login("mediator")
    booked = auth.post(f"/cases/{case.number}/sessions/new", page_form(city, case, invited=(
        "刘医生, 区心理咨询中心, 138 0546 1234\n周心怡，区心理咨询中心\n王村长, 0546-8881234\n")))
    assert booked.status_code == 302, booked.get_data(as_text=True)
    session = db.session.scalar(select(MediationSession))
    guests = [(p.name, p.organisation, p.phone) for p in session.participants
              if p.role is ParticipantRole.INVITED]
    assert guests == [("刘医生", "区心理咨询中心", "13805461234"),
                      ("周心怡", "区心理咨询中心", None), ("王村长", None, "0546-8881234")]
    html = auth.client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert "*******1234" in html and "****-***1234" in html
    assert "13805461234" not in html and "8881234" not in html


def test_a_guest_line_with_a_bad_phone_is_sent_back(city, auth):
    case = new_case(city)
    auth.login("mediator")
    page = auth.post(f"/cases/{case.number}/sessions/new", page_form(
        city, case, invited="周心怡, 区心理咨询中心\n刘医生, 区心理咨询中心, 1380546"))
    assert page.status_code == 200
    assert "刘医生的电话号码格式不正确" in page.get_data(as_text=True)
    assert sessions() == 0


@pytest.mark.parametrize("line", ["刘大夫, 区医院, 13805461234", "刘医生, 区心理咨询中心"],
                         ids=["by phone", "by name and organisation"])
def test_a_guest_already_at_another_session_is_refused_on_the_form(city, auth, line):
    first = new_case(city)
    schedule_session(city.coordinator, first, SessionInput(
        starts_at=datetime.combine(TUESDAY, time(10), LOCAL),
        ends_at=datetime.combine(TUESDAY, time(11), LOCAL), place_kind=PlaceKind.ON_SITE,
        address="文苑小区3号楼", purpose="现场查看漏水", lead_mediator=city.coordinator,
        parties=list(first.parties),
        invited=[Invitee("刘医生", "区心理咨询中心", consent_recorded=True, phone="13805461234")]))
    db.session.commit()
    case = new_case(city, "周海燕")
    auth.login("mediator")
    url = f"/cases/{case.number}/sessions/new"
    page = auth.post(url, page_form(city, case, invited=line))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "受邀人员刘医生在 2027-03-16 10:00 至 11:00 已有安排" in html and first.number in html
    assert sessions() == 1
    # Once the other session is over, the guest is free.
    booked = auth.post(url, page_form(city, case, invited=line, start="11:00", end="12:00"))
    assert booked.status_code == 302, booked.get_data(as_text=True)
