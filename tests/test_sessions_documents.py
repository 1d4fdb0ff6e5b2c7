"""The session's papers: notices and minutes as Chinese PDFs, the .ics a calendar imports."""

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cases_helpers import applicant, area, make_case, respondent, user
from conftest import Auth
from icalendar import Calendar
from sqlalchemy import select

from mediation.core.db import utcnow
from mediation.core.errors import OperationError
from mediation.core.pdf import MissingFont, inside_only_fetcher, serif_family
from mediation.extensions import db
from mediation.sessions import operations
from mediation.sessions.minutes import MinutesOutcome, save_minutes
from mediation.sessions.models import MediationSession, PlaceKind

LOCAL = ZoneInfo("Asia/Shanghai")


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data,
                            capture_output=True, check=True)
    return result.stdout.decode("utf-8")


@pytest.fixture
def booked(demo_city):
    admin = user("admin")
    case = make_case(admin, grid=area("370599001001-01"),
                     parties=[applicant("李秀英"), respondent("王建军", agent_name="赵律师")])
    from mediation.cases import operations as case_ops

    case_ops.accept_case(admin, case, handler=user("mediator"))
    room = db.session.scalars(select(operations.Room).where(
        operations.Room.name == "第一调解室")).one()
    start = datetime(2027, 3, 16, 10, 0, tzinfo=LOCAL)
    session = operations.schedule_session(user("mediator"), case, operations.SessionInput(
        starts_at=start, ends_at=start + timedelta(minutes=90), place_kind=PlaceKind.ROOM,
        room=room, purpose="核实漏水原因与维修费用", lead_mediator=user("mediator"),
        parties=list(case.parties)))
    db.session.commit()
    return session


def test_the_font_is_found_through_fontconfig():
    assert serif_family() is not None, "install fonts-noto-cjk (make test does)"


def test_notice_pdf_per_participant_in_chinese(booked, auth):
    auth.login("mediator")
    party = next(p for p in booked.participants if p.party and p.party.name == "李秀英")
    response = auth.client.get(f"/sessions/{booked.id}/notice/{party.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data).replace(" ", "").replace("\n", "")
    for expected in ("调解通知书", "李秀英", "王建军", "2027年3月16日（星期二）10:00至11:30",
                     "第一调解室", "文苑社区人民调解委员会", booked.case.number, "授权委托书",
                     "第1页共1页"):
        assert expected in text, expected


def test_ics_imports_into_a_calendar(booked, auth):
    auth.login("mediator")
    response = auth.client.get(f"/sessions/{booked.id}/ics")
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = [c for c in calendar.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == booked.starts_at
    assert event.decoded("dtend") == booked.ends_at
    assert booked.case.number in str(event.get("summary"))
    assert str(event.get("uid")).startswith(f"session-{booked.id}@")


def test_cancelled_session_ics_cancels_the_event(booked, auth):
    operations.cancel_session(user("mediator"), booked, "当事人生病")
    db.session.commit()
    auth.login("mediator")
    calendar = Calendar.from_ical(auth.client.get(f"/sessions/{booked.id}/ics").data)
    assert str(calendar.get("method")) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0].get("status")) == "CANCELLED"


def test_cancelling_on_the_page_takes_a_ticked_confirmation(booked, auth):
    auth.login("mediator")
    url = f"/sessions/{booked.id}"
    page = auth.post(f"{url}/cancel", {"reason": "当事人生病", "version": str(booked.version)},
                     form_url=url, follow_redirects=True).get_data(as_text=True)
    assert "请勾选确认：此操作不可撤销。" in page
    db.session.expire_all()
    assert db.session.get(MediationSession, booked.id).status.value == "planned"
    auth.post(f"{url}/cancel", {"reason": "当事人生病", "version": str(booked.version),
                                "confirm": "y"}, form_url=url)
    db.session.expire_all()
    assert db.session.get(MediationSession, booked.id).status.value == "cancelled"


def test_minutes_are_recorded_and_printed_with_signature_lines(booked, auth):
    session = db.session.get(MediationSession, booked.id)
    session.starts_at = utcnow() - timedelta(hours=2)
    session.ends_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    auth.login("mediator")
    response = auth.post(f"/sessions/{session.id}/minutes", {
        "matter": "楼上漏水赔偿", "body": "申请人陈述损失。\n被申请人同意赔偿维修费3000元。",
        "outcome": "settled", "recorder": "mediator"})
    assert response.status_code == 302
    db.session.expire_all()
    assert session.status.value == "held"
    text = _pdf_text(auth.client.get(f"/sessions/{session.id}/minutes.pdf").data) \
        .replace(" ", "").replace("\n", "")
    for expected in ("调解记录", "楼上漏水赔偿", "被申请人同意赔偿维修费3000元",
                     "当事人（签名或按指印）", "人民调解员（签名）", "记录人（签名）", "李秀英",
                     "王建军", "张志强"):
        assert expected in text, expected


def test_minutes_before_the_session_or_adjourned_without_date_are_refused(booked):
    with pytest.raises(OperationError):
        save_minutes(user("mediator"), booked, matter="x", body="y",
                     outcome=MinutesOutcome.SETTLED, next_date=None)
    db.session.rollback()
    session = db.session.get(MediationSession, booked.id)
    session.starts_at = utcnow() - timedelta(hours=1)
    session.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(OperationError):
        save_minutes(user("mediator"), session, matter="x", body="y",
                     outcome=MinutesOutcome.ADJOURNED, next_date=None)


def test_pdfs_load_nothing_from_outside():
    fetcher = inside_only_fetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png"):
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            fetcher.fetch(url)


def test_missing_font_is_a_clear_error(app, monkeypatch):
    from mediation.core import pdf

    monkeypatch.setattr(pdf, "serif_family", lambda: None)
    with app.test_request_context(), pytest.raises(MissingFont, match="fonts-noto-cjk"):
        pdf.render_pdf("session_notice.html", title="x")


def test_outside_scope_gets_404(booked, app):
    client = app.test_client()
    Auth(client).login("legalaid")
    assert client.get(f"/sessions/{booked.id}").status_code == 404
    assert client.get(f"/sessions/{booked.id}/ics").status_code == 404


def test_a_coordinator_sees_a_mediators_calendar_in_scope_only(booked, app):
    coordinator = Auth(app.test_client())
    coordinator.login("coordinator")
    day = booked.starts_at.astimezone(LOCAL).date().isoformat()
    page = coordinator.client.get(f"/sessions/mine?user=mediator&day={day}")
    assert page.status_code == 200 and booked.case.number in page.get_data(as_text=True)
    mediator = Auth(app.test_client())
    mediator.login("mediator")
    assert mediator.client.get("/sessions/mine?user=coordinator").status_code == 404


def test_a_case_leaving_mediation_cancels_its_future_sessions(booked):
    from mediation.cases import operations as case_ops
    from mediation.sessions.models import SessionStatus

    case_ops.withdraw_case(user("mediator"), booked.case, "申请人撤回调解申请")
    db.session.commit()
    session = db.session.get(MediationSession, booked.id)
    assert session.status is SessionStatus.CANCELLED
    assert session.cancel_reason == "申请人撤回调解申请"



def test_centre_calendars_follow_the_areas_they_serve(booked, app):
    from mediation.areas.models import Centre

    street = db.session.scalars(select(Centre).where(
        Centre.name == "文汇街道矛盾纠纷调处化解中心")).one()
    day = booked.starts_at.astimezone(LOCAL).date().isoformat()
    expected = {"mediator": 200, "coordinator": 200, "gridworker": 200, "legalaid": 404}
    for username, status in expected.items():
        client = app.test_client()
        Auth(client).login(username)
        response = client.get(f"/sessions/centre/{street.id}?day={day}")
        assert response.status_code == status, username
    client = app.test_client()
    Auth(client).login("gridworker")
    district = db.session.scalars(select(Centre).where(
        Centre.name == "东湖区社会治理综合服务中心")).one()
    assert client.get(f"/sessions/centre/{district.id}").status_code == 200  # serves them
