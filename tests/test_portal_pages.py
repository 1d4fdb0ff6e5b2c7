"""The residents' pages as a phone gets them: the large-type switch, and the weight of every
page (HTML and style sheet together, photos aside)."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import csrf_from
from sqlalchemy import select

from mediation.areas.models import Room
from mediation.cases.states import CaseState
from mediation.extensions import db
from mediation.sessions.models import PlaceKind
from mediation.sessions.operations import SessionInput, schedule_session
from mediation.sessions.reminders import ACCESS, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "static" / "css" / "portal.css"
MAX_BYTES = 100_000


def _body_class(html: str) -> str:
    return re.search(r'<body class="([^"]*)"', html).group(1)


def _pressed(html: str) -> dict[str, str]:
    """Each type-size button's label and its aria-pressed."""
    form = re.search(r'<form[^>]*action="/type-size".*?</form>', html, re.S).group(0)
    return {label: pressed for pressed, label in re.findall(
        r'aria-pressed="(\w+)"[^>]*>([^<]+)</button>', form)}


def _switch(client, page: str, size: str, next_url: str | None = None):
    return client.post("/type-size", data={"csrf_token": csrf_from(page), "size": size,
                                           "next": next_url or "/status"})


# ---- large type ---------------------------------------------------------------------------

def test_the_large_type_switch_works_without_script_and_stays_on(client):
    page = client.get("/status").get_data(as_text=True)
    assert _body_class(page) == "portal" and 'class="p-large"' not in page
    assert _pressed(page) == {"标准字": "true", "大字": "false"}
    assert "<script" not in page and "style=" not in page  # the CSP allows neither

    response = _switch(client, page, "large")
    assert response.status_code == 303 and response.headers["Location"] == "/status"
    page = client.get("/status").get_data(as_text=True)
    assert _body_class(page) == "portal portal--large" and 'class="p-large"' in page
    assert _pressed(page) == {"标准字": "false", "大字": "true"}
    # Every residents' page, the front page too, until it is switched off.
    assert _body_class(client.get("/").get_data(as_text=True)) == "portal portal--large"
    assert _body_class(client.get("/report").get_data(as_text=True)) == \
        "portal portal--large"

    response = _switch(client, page, "standard", "/report")
    assert response.headers["Location"] == "/report"
    page = client.get("/status").get_data(as_text=True)
    assert _body_class(page) == "portal" and 'class="p-large"' not in page
    assert _pressed(page) == {"标准字": "true", "大字": "false"}

    # English labels say the same.
    client.post("/language", data={"csrf_token": csrf_from(page), "lang": "en",
                                   "next": "/status"})
    assert _pressed(client.get("/status").get_data(as_text=True)) == {
        "Standard type": "true", "Large type": "false"}


def test_the_switch_needs_its_token_and_goes_back_only_to_this_site(client):
    page = client.get("/status").get_data(as_text=True)
    refused = client.post("/type-size", data={"size": "large", "next": "/status"})
    assert refused.status_code in (302, 303, 400)
    assert _body_class(client.get("/status").get_data(as_text=True)) == "portal"
    for target in ("https://evil.example/", "//evil.example/", "/\t/evil.example"):
        response = _switch(client, page, "large", target)
        assert response.headers["Location"] == "/", target
    _switch(client, page, "huge")
    assert _body_class(client.get("/status").get_data(as_text=True)) == \
        "portal portal--large"  # an unknown size changes nothing


def test_large_type_is_much_larger_in_the_style_sheet():
    css = CSS.read_text()
    base = re.search(r":root \{[^}]*font-size: (\d+)px", css).group(1)
    large = re.search(r"html\.p-large \{ font-size: (\d+)px", css).group(1)
    assert int(base) == 18 and int(large) >= 22


# ---- the weight of every page -------------------------------------------------------------

def _report(client, url: str) -> str:
    """A report without photos, sent as a resident does: the receipt's address."""
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={
        "csrf_token": csrf_from(page), "name": "赵桂兰", "phone": "13905461234",
        "other_name": "楼上住户", "grid": str(area("370599001001-02").id),
        "address": "文苑小区3号楼", "narrative": "楼上每天夜里装修，敲打声很大。" * 20,
        "in_danger": "no", "consent": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def test_every_residents_page_is_under_100_kb_with_its_style_sheet(demo_city, client):
    """Photos aside, a page and what it loads stay under 100 KB on a slow mobile line."""
    mediator = user("mediator")
    case = make_case(mediator, grid=area("370599001001-01"), parties=[
        applicant("王建国", phone="13800138000"), respondent("李卫东", phone="13912345678")])
    walk_to(case, CaseState.ACCEPTED, mediator)
    case.handler = mediator
    room = db.session.scalar(select(Room).where(Room.name == "第一调解室"))
    start = datetime(2027, 3, 16, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    schedule_session(mediator, case, SessionInput(
        starts_at=start, ends_at=start + timedelta(hours=1), place_kind=PlaceKind.ROOM,
        room=room, purpose="调解维修费用分担", lead_mediator=mediator,
        parties=list(case.parties)))
    db.session.commit()
    body = db.session.scalar(select(OutboxMessage.body).where(
        OutboxMessage.party_id == case.parties[0].id, OutboxMessage.kind == ACCESS))
    code = re.search(r"查询码(\d{8})", body).group(1)

    street, community = area("370599001").id, area("370599001001").id
    urls = ["/", "/report", f"/report?street={street}", f"/report?community={community}",
            "/report?by=address", "/status"]
    pages = {url: client.get(url) for url in urls}
    receipt = _report(client, f"/report?community={community}")
    pages["receipt"] = client.get(receipt)
    form = pages["/status"].get_data(as_text=True)
    pages["wrong pair"] = client.post("/status", data={
        "csrf_token": csrf_from(form), "case_number": case.number, "access_code": "1"})
    opened = client.post("/status", data={"csrf_token": csrf_from(form),
                                          "case_number": case.number, "access_code": code})
    assert opened.headers["Location"] == "/status/case"
    pages["case view"] = client.get("/status/case")

    css = client.get("/static/css/portal.css")
    icon = client.get("/static/favicon.svg")
    assert css.status_code == icon.status_code == 200
    loaded = len(css.data) + len(icon.data)
    assert "王建国您好" in pages["case view"].get_data(as_text=True)
    assert re.search(r"<dd>\d{4}-\d{6}</dd>", pages["receipt"].get_data(as_text=True))
    for name, response in pages.items():
        html = response.data
        assert response.status_code == 200, name
        assert b"css/portal.css" in html and b"<script" not in html and b"<img" not in html, \
            name
        assert len(html) + loaded < MAX_BYTES, (name, len(html), loaded)
