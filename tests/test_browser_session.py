"""A mediator schedules a session in headless Chromium: the session page, its calendar file,
a refused clash with its free slots, and the centre's day calendar."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser import screenshot
from cases_helpers import applicant, make_case, respondent, user
from conftest import DEMO_PASSWORD
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from mediation.areas.models import Centre
from mediation.cases import operations
from mediation.cases.models import AssignmentRole, PartyKind, PartyRole
from mediation.cases.operations import PartyInput
from mediation.core.calendar import is_working_day
from mediation.extensions import db

pytestmark = pytest.mark.browser

LOCAL = ZoneInfo("Asia/Shanghai")
GRID = "370599001001-01"
CENTRE = "文汇街道矛盾纠纷调处化解中心"
PARTIES = ("王建国", "李卫东", "孙丽华")
STAFF = ("张志强", "李红梅", "陈思远")  # lead mediator, co-mediator, legal-aid volunteer


def _working_day(at_least: int = 3) -> date:
    """The first working day (no weekend, no holiday) at least ``at_least`` days ahead."""
    day = datetime.now(LOCAL).date() + timedelta(days=at_least)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _prepare_case() -> tuple[str, int, date]:
    """An accepted case with three parties and a legal-aid volunteer: its number, the
    centre's id and the working day to meet on (asked before the browser: in this thread
    a query would begin a write transaction and lock SQLite against the server)."""
    admin = user("admin")
    third = PartyInput(role=PartyRole.THIRD_PARTY, kind=PartyKind.PERSON, name=PARTIES[2])
    case = make_case(user("gridworker"), grid=GRID,
                     parties=[applicant(PARTIES[0]), respondent(PARTIES[1]), third])
    operations.accept_case(admin, case, handler=user("mediator"))
    operations.assign(admin, case, user("legalaid"), AssignmentRole.LEGAL_AID)
    centre = db.session.scalar(select(Centre).where(Centre.name == CENTRE))
    number, centre_id, day = case.number, centre.id, _working_day()
    db.session.commit()
    db.session.remove()  # hold no transaction while the server's threads write
    return number, centre_id, day


def _log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/")


def _fill_when_and_where(page, day: date) -> None:
    page.locator("#day").fill(day.isoformat())
    page.locator("#start").fill("10:00")
    page.locator("#end").fill("11:30")
    room = page.locator("#room option", has_text="第一调解室")
    expect(room).to_have_count(1)
    page.locator("#room").select_option(value=room.get_attribute("value"))


def _room_cell(page, room: str, day: date):
    """The centre calendar's cell for ``room`` (a column) on ``day`` (a row)."""
    calendar = page.locator("table.calendar")
    headers = calendar.locator("thead th").all_inner_texts()
    column = [index for index, text in enumerate(headers) if room in text]
    assert len(column) == 1, headers
    row = calendar.locator("tbody tr", has=page.locator("th", has_text=day.isoformat()))
    expect(row).to_have_count(1)
    return row.locator("> th, > td").nth(column[0])


def test_mediator_schedules_a_session_and_a_clash_is_refused(live_server, page):
    number, centre_id, day = _prepare_case()
    base = live_server.url
    starts = datetime.combine(day, time(10, 0), LOCAL)
    ends = datetime.combine(day, time(11, 30), LOCAL)

    _log_in(page, base, "mediator")
    page.goto(f"{base}/cases/{number}")
    page.get_by_role("link", name="安排调解会").click()
    page.wait_for_url(f"**/cases/{number}/sessions/new")
    _fill_when_and_where(page, day)
    page.locator("#purpose").fill("首次面对面调解：核实漏水原因与维修费用")
    page.locator("#co_mediators").fill("coordinator")
    page.get_by_label("陈思远").check()
    parties = page.locator("input[name=parties]")
    expect(parties).to_have_count(3)
    for index in range(3):
        expect(parties.nth(index)).to_be_checked()
    page.get_by_role("button", name="确认安排").click()

    page.wait_for_url(re.compile(r".*/sessions/\d+$"))
    expect(page.locator(".flash--success")).to_be_visible()
    participants = page.locator("table.table tbody")
    for name in PARTIES + STAFF:
        expect(participants.get_by_text(name, exact=True)).to_be_visible()
    expect(participants.locator("tr")).to_have_count(6)
    screenshot(page, "session-scheduled")

    # The calendar file, fetched with the browser's cookies.
    link = page.get_by_role("link", name="加入手机日历")
    response = page.request.get(base + link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(response.body()).walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == starts
    assert event.decoded("dtend") == ends
    assert event.decoded("dtstart").astimezone(LOCAL).time() == time(10, 0)
    assert number in str(event.get("summary"))

    # The same room at the same time is refused, with free slots offered.
    page.goto(f"{base}/cases/{number}")
    page.get_by_role("link", name="安排调解会").click()
    page.wait_for_url(f"**/cases/{number}/sessions/new")
    _fill_when_and_where(page, day)
    page.locator("#purpose").fill("第二次调解")
    page.get_by_role("button", name="确认安排").click()
    page.wait_for_load_state()
    error = page.locator(".flash--error")
    expect(error).to_be_visible()
    expect(error).to_contain_text(number)
    expect(error).to_contain_text("第一调解室")
    slots_card = page.locator("section.card", has=page.get_by_role(
        "heading", name="各方均有空的时段"))
    expect(slots_card).to_be_visible()
    first_slot = slots_card.locator(".slot-list button").first
    expect(first_slot).to_be_visible()
    slot_text = first_slot.inner_text()
    match = re.match(r"(\d{4}-\d{2}-\d{2}) \S+ (\d{2}:\d{2})", slot_text)
    assert match, slot_text
    assert match.group(1) == day.isoformat(), "the same day's free slots come first"
    screenshot(page, "session-clash")
    first_slot.click()
    page.wait_for_load_state()
    expect(page.locator(".flash--info")).to_be_visible()  # moved; the rest is kept
    expect(page.locator("#purpose")).to_have_value("第二次调解")
    expect(page.locator("#day")).to_have_value(match.group(1))
    expect(page.locator("#start")).to_have_value(match.group(2))
    slot_start = datetime.combine(date.fromisoformat(match.group(1)),
                                  time.fromisoformat(match.group(2)))
    expect(page.locator("#end")).to_have_value(
        (slot_start + timedelta(minutes=90)).strftime("%H:%M"))
    screenshot(page, "session-slot-prefilled")

    # The centre's day calendar shows the session under 第一调解室, and only there.
    page.goto(f"{base}/sessions/centre/{centre_id}?day={day.isoformat()}")
    expect(page.locator("h1")).to_contain_text(CENTRE)
    room_1, room_2 = _room_cell(page, "第一调解室", day), _room_cell(page, "第二调解室", day)
    expect(room_1.get_by_role("link", name=number)).to_be_visible()
    expect(room_1).to_contain_text("10:00–11:30")
    expect(room_2.get_by_role("link", name=number)).to_have_count(0)
    screenshot(page, "session-centre-day")

    assert page.console_problems == []
