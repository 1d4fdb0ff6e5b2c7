"""No text a person or the API typed reaches a page as markup (issue 11).

Hostile strings go into every free-text field, through the JSON API and the operations (so
their checks apply, and within each field's length); then every role of the demo logs in
in headless Chromium and follows the links of every page it can reach, and the public
pages are visited logged out.  A page fails if an injected element is in its DOM, if the
browser went where an injected ``<meta http-equiv=refresh>`` sends it, if an injected
handler ran, or if a template expression typed by someone was evaluated.
"""

import re
import time
from collections import Counter, deque
from datetime import timedelta
from itertools import count
from types import SimpleNamespace
from urllib.parse import quote, urlencode, urlsplit

import pytest
from api_helpers import API, bearer, cli_token, post_ok, session_body, working_slot
from browser import log_in, screenshot
from cases_helpers import area, user
from conftest import DEMO_PASSWORD
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from mediation.agreements import operations as agreement_ops
from mediation.agreements.models import Agreement, ConfirmationResult
from mediation.areas import operations as area_ops
from mediation.areas.models import Committee
from mediation.cases import attachments, settings
from mediation.cases import operations as case_ops
from mediation.cases.models import AssignmentRole, Case, Department, Party
from mediation.cases.rules import today
from mediation.cases.states import Level
from mediation.demo import ACCOUNTS
from mediation.extensions import db
from mediation.sessions import minutes as minutes_module
from mediation.sessions import operations as session_ops
from mediation.sessions.minutes import MinutesOutcome
from mediation.sessions.models import PlaceKind
from mediation.sessions.operations import Invitee, SessionInput
from mediation.users import operations as user_ops
from mediation.users.roles import Role

pytestmark = pytest.mark.browser

MARK = "data-pwned"
META = f'<meta {MARK} http-equiv="refresh" content="0;url=/verify?pwned=1">'
IMG = f'"><img {MARK} src=x onerror=alert(1)>'
BOLD = f"<b {MARK}>x</b>"
JINJA = "{{7*7}}"
RAW = "{% raw %}"
LT = "<"
QUOTES = "'\";--"
# Taken in turn, so that the fields get different ones; a field skips those too long for it.
PAYLOADS = [META + JINJA, RAW + IMG + LT, BOLD + QUOTES + JINJA, IMG + RAW, JINJA + LT + BOLD,
            QUOTES + META, LT + IMG + QUOTES, BOLD + RAW, BOLD, f"<i {MARK}>", LT + JINJA]
_turn = count()


def hostile(limit: int = 10_000) -> str:
    """The next hostile string that fits ``limit`` characters (each call takes another)."""
    start = next(_turn)
    for offset in range(len(PAYLOADS)):
        payload = PAYLOADS[(start + offset) % len(PAYLOADS)]
        if len(payload) <= limit:
            return payload
    raise AssertionError(f"no payload fits {limit} characters")


STAFF_PASSWORD = "Vq7#pLm2-Wz9!rTx"
CASE_TITLE = JINJA + IMG  # the case page must show it as typed
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082")


# ---- filling every field ----------------------------------------------------------------

def _person(role: str, name: str, **fields) -> dict:
    details = {"role": role, "kind": "person", "name": name, "gender": "male",
               "ethnicity": hostile(20), "birth_date": "1975-03-08",
               "occupation": hostile(60), "phone": "13805461234", "address": hostile(200),
               "agent_name": hostile(60), "agent_phone": "13905460000"}
    details.update(fields)
    return details


def _organisation(role: str) -> dict:
    return {"role": role, "kind": "organisation", "name": hostile(120),
            "legal_representative": hostile(60), "legal_representative_title": hostile(40),
            "address": hostile(200), "phone": "05468310000"}


def _case(client, headers, grid: str, parties: list[dict], **fields) -> dict:
    body = {"title": hostile(120), "source": "hotline", "category": "water_leak", "grid": grid,
            "narrative": hostile() + "\n" + hostile(), "address": hostile(200),
            "parties": parties, **fields}
    return post_ok(client, f"{API}/cases", headers, body, 201)


def _draft(case: dict) -> dict:
    """An agreement body for ``case`` with hostile text wherever text goes."""
    first, second = case["parties"][0]["id"], case["parties"][1]["id"]
    due = (today() + timedelta(days=40)).isoformat()
    return {"facts": hostile(), "disputed_matters": hostile(), "recorder_name": hostile(60),
            "copies": 3,
            "responsibilities": [{"party_id": first, "text": hostile()},
                                 {"party_id": second, "text": hostile()}],
            "terms": [{"content": hostile(), "obligor_id": second, "obligee_id": first,
                       "amount": "3800", "method": hostile(120), "place": hostile(200),
                       "due_on": due},
                      {"content": hostile(), "obligor_id": second, "method": hostile(120),
                       "place": hostile(200), "due_on": due}]}


def _admin_names(admin) -> SimpleNamespace:
    """What an administrator names: a grid, a committee, a centre and its room, a court, a
    staff member, a holiday, a category, an API token."""
    grid = area("370599001001-03")
    area_ops.update_area(admin, grid, code=grid.code, name=hostile(100), households=200,
                         address_hints=hostile() + "\n" + hostile())
    committee = db.session.scalar(select(Committee).where(Committee.short_name == "文苑社区"))
    area_ops.save_committee(admin, committee, area=committee.area, name=hostile(120),
                            short_name=committee.short_name, seal_holder=hostile(60),
                            registration_authority=hostile(120), address=hostile(200))
    centre = area_ops.save_centre(admin, None, area=area("370599001"), name=hostile(120),
                                  address=hostile(200), phone=None, notes=hostile(2000))
    room = area_ops.save_room(admin, None, centre=centre, name=hostile(60), capacity=8,
                              video_capable=False)
    court = area_ops.save_court(admin, None, area=area("370599"), name=hostile(120),
                                address=hostile(200), phone=None, active=True)
    staff = user_ops.create_user(admin, username="xss.mediator", full_name=hostile(60),
                                 role=Role.MEDIATOR, password=STAFF_PASSWORD,
                                 committees=[committee], must_change_password=False)
    holiday = today() + timedelta(days=20)
    settings.save_calendar_day(admin, holiday, False, hostile(60))
    category = settings.save_category(
        admin, None, code="xss_dispute", name=hostile(40), name_en=hostile(60), grid_days=3,
        community_days=7, street_days=15, overall_days=30, working_days=False, report_as=None,
        sort_order=1, active=True)
    return SimpleNamespace(grid=grid, committee=committee, centre=centre, room=room,
                           court=court, staff=staff, holiday=holiday, category=category)


def _main_case(client, headers, people, names) -> SimpleNamespace:
    """Case A, in mediation: parties from the hotline API, sessions, minutes, a draft
    agreement, supervision, help, escalation, opinions, notes, a file."""
    mediator, coordinator, legalaid = people.mediator, people.coordinator, people.legalaid
    data = _case(client, headers, "370599001001-01",
                 [_person("applicant", META), _organisation("respondent")],
                 title=CASE_TITLE, narrative=RAW + " " + JINJA + "\n" + hostile())
    number = data["number"]
    post_ok(client, f"{API}/cases/{number}/accept", headers)
    data = post_ok(client, f"{API}/cases/{number}/start", headers)
    case = db.session.scalar(select(Case).where(Case.number == number))
    case_ops.assign(mediator, case, legalaid, AssignmentRole.LEGAL_AID)
    case_ops.assign(mediator, case, names.staff, AssignmentRole.CO_HANDLER)

    start, end = working_slot(7, 9)
    booked = SessionInput(starts_at=start, ends_at=end, place_kind=PlaceKind.ROOM,
                          purpose=hostile(2000), lead_mediator=mediator, room=names.room,
                          co_mediators=[names.staff], parties=list(case.parties),
                          invited=[Invitee(hostile(120), hostile(120), consent_recorded=True)])
    held = session_ops.schedule_session(mediator, case, booked)
    moved_start, moved_end = working_slot(8, 14)
    on_site = post_ok(client, f"{API}/cases/{number}/sessions", headers, session_body(
        *working_slot(9, 10), place_kind="on_site", address=hostile(200),
        purpose=hostile(2000)), 201)
    post_ok(client, f"{API}/sessions/{on_site['id']}/move", headers, {
        "starts_at": moved_start.isoformat(), "ends_at": moved_end.isoformat(),
        "address": hostile(200), "reason": hostile(1000)})
    cancelled = post_ok(client, f"{API}/cases/{number}/sessions", headers, session_body(
        *working_slot(10, 15), address=hostile(200), purpose=hostile(2000)), 201)
    post_ok(client, f"{API}/sessions/{cancelled['id']}/cancel", headers,
            {"reason": hostile(1000)})

    draft = post_ok(client, f"{API}/cases/{number}/agreements", headers, _draft(data), 201)

    notice = case_ops.issue_supervision(coordinator, case, hostile(4000), today())
    case_ops.respond_supervision(mediator, notice, hostile(4000))
    help_request = case_ops.request_help(mediator, case, Department.OTHER, hostile(120),
                                         hostile(4000))
    case_ops.record_help_response(mediator, help_request, hostile(4000))
    case_ops.request_escalation(mediator, case, Level.STREET, hostile(4000))
    case_ops.decide_proposal(coordinator, case_ops.open_proposals(case)[0], False,
                             hostile(2000))
    case_ops.request_escalation(mediator, case, Level.STREET, hostile(4000))
    case_ops.add_opinion(legalaid, case, hostile(8000))
    case_ops.add_note(mediator, case, hostile(8000))
    attachments.add_attachment(mediator, case, hostile(200) + ".png", PNG, hostile(200))
    return SimpleNamespace(number=number, case=case, held=held, draft_id=draft["id"],
                           session_ids=[held.id, on_site["id"], cancelled["id"]])


def _closed_case(client, headers, people, names) -> SimpleNamespace:
    """Case B, in the renamed grid and the hostile category: an agreement issued, signed,
    confirmed by the hostile court; followed up and closed."""
    mediator = people.mediator
    data = _case(client, headers, names.grid.code,
                 [_person("applicant", hostile(120)), _person("respondent", hostile(120))],
                 category="xss_dispute")
    number = data["number"]
    post_ok(client, f"{API}/cases/{number}/accept", headers)
    data = post_ok(client, f"{API}/cases/{number}/start", headers)
    draft = post_ok(client, f"{API}/cases/{number}/agreements", headers, _draft(data), 201)
    issued = post_ok(client, f"{API}/agreements/{draft['id']}/issue", headers)
    agreement = db.session.get(Agreement, issued["id"])
    agreement_ops.attach_signed_copy(mediator, agreement, hostile(196) + ".pdf",
                                     b"%PDF-1.4\n%signed\n", today())
    confirmation = agreement_ops.file_confirmation(
        mediator, agreement, court=None, court_name=hostile(120), filed_on=today(),
        case_reference=hostile(80))
    agreement_ops.record_ruling(mediator, confirmation, result=ConfirmationResult.CONFIRMED,
                                ruling_number=hostile(80), ruled_on=today(),
                                note=hostile(2000))
    case = db.session.scalar(select(Case).where(Case.number == number))
    case_ops.record_follow_up(mediator, case, visited_on=today(), performance=hostile(4000),
                              satisfaction=4, new_lawsuit=False, remaining_risk=hostile(4000),
                              measures=hostile(4000))
    post_ok(client, f"{API}/cases/{number}/close", headers, {"note": hostile(4000)})
    return SimpleNamespace(number=number, agreement_id=issued["id"],
                           code=issued["verification_code"])


def _ended_cases(client, headers, people) -> list[str]:
    """Cases C–H: declined, referred out, failed on a refusal, failed, settled orally,
    withdrawn after escalation."""
    grid = "370599001001-02"
    declined = _case(client, headers, grid, [_person("applicant", hostile(120))])
    post_ok(client, f"{API}/cases/{declined['number']}/decline", headers,
            {"reason": hostile(4000), "referred_to": hostile(120)})
    referred = _case(client, headers, grid, [_person("applicant", hostile(120))])
    post_ok(client, f"{API}/cases/{referred['number']}/accept", headers)
    post_ok(client, f"{API}/cases/{referred['number']}/refer_out", headers,
            {"reason": hostile(4000), "referred_to": hostile(120)})
    refused = _case(client, headers, grid, [_person("applicant", hostile(120)),
                                            _person("respondent", hostile(120))])
    post_ok(client, f"{API}/cases/{refused['number']}/accept", headers)
    party = db.session.scalar(select(Party).where(Party.id == refused["parties"][1]["id"]))
    case_ops.record_refusal(people.mediator, party, hostile(2000))
    failed = _case(client, headers, grid, [_person("applicant", hostile(120))])
    post_ok(client, f"{API}/cases/{failed['number']}/accept", headers)
    post_ok(client, f"{API}/cases/{failed['number']}/start", headers)
    post_ok(client, f"{API}/cases/{failed['number']}/fail", headers,
            {"reason": hostile(4000), "routes_told": ["court"]})
    oral = _case(client, headers, grid, [_person("applicant", hostile(120))])
    post_ok(client, f"{API}/cases/{oral['number']}/accept", headers)
    post_ok(client, f"{API}/cases/{oral['number']}/start", headers)
    post_ok(client, f"{API}/cases/{oral['number']}/settle", headers,
            {"oral_agreement": hostile(4000), "note": hostile(4000)})
    withdrawn = _case(client, headers, grid, [_person("applicant", hostile(120))])
    case = db.session.scalar(select(Case).where(Case.number == withdrawn["number"]))
    case_ops.move_level(people.coordinator, case, Level.STREET, hostile(4000))
    db.session.commit()
    post_ok(client, f"{API}/cases/{withdrawn['number']}/withdraw", headers,
            {"reason": hostile(4000)})
    return [c["number"] for c in (declined, referred, refused, failed, oral, withdrawn)]


@pytest.fixture
def hostile_city(demo_city, monkeypatch):
    """The demo city with hostile text in every field; the pages to visit for sure."""
    people = SimpleNamespace(**{name: user(name) for name, *_rest in ACCOUNTS})
    names = _admin_names(people.admin)
    db.session.commit()
    client = demo_city.test_client()
    headers = bearer(cli_token(demo_city, "mediator", name=hostile(80)))
    main = _main_case(client, headers, people, names)
    with monkeypatch.context() as clock:  # minutes come once the session has begun
        clock.setattr(minutes_module, "utcnow", lambda: main.held.ends_at)
        minutes_module.save_minutes(people.mediator, main.held, matter=hostile(300),
                                    body=hostile(8000), outcome=MinutesOutcome.PARTLY,
                                    next_date=None)
    db.session.commit()
    closed = _closed_case(client, headers, people, names)
    ended = _ended_cases(client, headers, people)
    db.session.commit()
    pages = ([f"/cases/{n}" for n in [main.number, closed.number, *ended]]
             + [f"/agreements/{main.draft_id}", f"/agreements/{closed.agreement_id}"]
             + [f"/sessions/{i}" for i in main.session_ids]
             + [f"/sessions/{main.held.id}/minutes", f"/areas/{names.grid.id}",
                f"/centres/{names.centre.id}", f"/sessions/centre/{names.centre.id}",
                f"/admin/users/{names.staff.id}", f"/admin/rules/calendar?year="
                f"{names.holiday.year}"]
             + [f"{path}?{urlencode(query)}" for path, query in [
                 ("/cases/", {"q": IMG, "grid": BOLD}), ("/areas/", {"q": IMG}),
                 ("/admin/users", {"q": BOLD, "role": IMG}),
                 ("/admin/audit", {"action": IMG, "actor": BOLD}),
                 ("/sessions/mine", {"day": BOLD}),
                 (f"/sessions/centre/{names.centre.id}", {"day": IMG, "view": BOLD})]])
    # The forms that show an administrator's names in their boxes (one of each route is
    # crawled; these are the hostile ones).
    edits = [f"/areas/{names.grid.id}/edit", f"/committees/{names.committee.id}/edit",
             f"/centres/{names.centre.id}/edit", f"/rooms/{names.room.id}/edit",
             f"/courts/{names.court.id}/edit", f"/admin/users/{names.staff.id}/edit",
             f"/admin/rules/categories/{names.category.id}", f"/cases/{main.number}/edit"]
    city = SimpleNamespace(main=main.number, draft=f"/agreements/{main.draft_id}",
                           code=closed.code, pages=pages, admin_pages=edits,
                           staff_name=names.staff.full_name)
    db.session.remove()  # hold no transaction while the server's threads read
    return city


# ---- the crawl --------------------------------------------------------------------------

# Downloads (files, not pages) are checked by their own tests, e.g. the statistics' CSV and
# XLSX in test_stats_exports; so is the page that goes on to the draft's preview PDF by
# itself (test_browser_agreement).
SKIPPED = re.compile(
    r"^/(logout|language|static/|api/|cases/files/)"
    r"|(\.pdf|\.ics|\.csv|\.xlsx|/pdf|/ics|/preview)$")
PER_ROUTE = 1  # pages of a route (ids and query values aside), besides the seeded ones
LOOK = f"""() => [[...document.querySelectorAll('[{MARK}]')].map(e => e.outerHTML),
                  [...document.links].map(a => a.href)]"""


def route_of(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "#", parts.path) + "?" + "&".join(keys)


class Tab:
    """One browser tab, and what its pages did that they should not: elements with the mark
    in the DOM, navigations and requests an injected element caused, dialogs, script errors
    and CSP reports in the console."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(locale="zh-CN")
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.where = ""
        self.page.on("framenavigated", lambda frame: self._url("navigated to", frame.url))
        self.page.on("request", lambda request: self._url("requested", request.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.where}: {error}"))
        self.page.on("dialog", self._dialog)

    def visit(self, path: str) -> list[str]:
        """Open ``path`` and look at it: the page's links."""
        try:
            response = self.page.goto(self.base + path, wait_until="domcontentloaded")
        except PlaywrightError as error:  # e.g. an injected refresh of the last page
            self.problems.append(f"{path}: not reached: {error.message[:80]}")
            return []
        assert response is not None and response.status < 500, (path, response.status)
        return self.look(path)

    def submit(self, path: str, values: dict[str, str]) -> None:
        """Fill in the form on ``path``, send it and look at the answer."""
        self.visit(path)
        for selector, value in values.items():
            self.page.locator(selector).fill(value)
        with self.page.expect_navigation(wait_until="domcontentloaded"):
            self.page.locator("main form button[type=submit]").first.click()
        self.look(f"{path} (sent)")

    def look(self, where: str) -> list[str]:
        self.where = where
        try:
            injected, links = self.page.evaluate(LOOK)
        except PlaywrightError as error:  # e.g. an injected refresh took the page away
            self.problems.append(f"{where}: left while looked at: {error.message[:80]}")
            return []
        self.problems += [f"{where}: injected {html}" for html in injected]
        return links

    def expect_text(self, selector: str, text: str) -> None:
        """Note it unless ``text`` shows, as typed, in an element that ``selector`` finds."""
        if not any(text in shown for shown in self.page.locator(selector).all_inner_texts()):
            self.problems.append(f"{self.where}: {text!r} not shown as typed in {selector}")

    def _url(self, what: str, url: str) -> None:
        parts = urlsplit(url)
        if "pwned=1" in parts.query or parts.path.endswith("/x"):
            self.problems.append(f"{self.where}: {what} {url}")

    def _console(self, message) -> None:
        # An error page's own status is reported too; that is no injection.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.where}: console: {message.text}")

    def _dialog(self, dialog) -> None:
        self.problems.append(f"{self.where}: dialog {dialog.message!r}")
        dialog.dismiss()


def sign_in(tab: Tab, server, username: str, password: str = DEMO_PASSWORD) -> None:
    """Through the login page (and the second factor, for the roles that sign in with one)."""
    log_in(tab.page, server, username, password)
    tab.page.wait_for_url(tab.base + "/")


def crawl(tab: Tab, seeds: list[str]) -> int:
    """Breadth-first over the same-origin links from ``/`` (and ``seeds``, the pages of the
    hostile objects, visited whatever the cap): how many pages were seen."""
    queue = deque(["/", *seeds])
    seen = set(queue)
    per_route: Counter = Counter()
    visited = 0
    while queue:
        path = queue.popleft()
        visited += 1
        for href in tab.visit(path):
            parts = urlsplit(href)
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if (f"{parts.scheme}://{parts.netloc}" != tab.base or link in seen
                    or SKIPPED.search(parts.path)):
                continue
            seen.add(link)
            if per_route[route_of(link)] < PER_ROUTE:
                per_route[route_of(link)] += 1
                queue.append(link)
    return visited


# Forms sent back with hostile input: role → [(page, {field: value})].  The typed text must
# come back as typed, in the field and in the error under it.
SENT_BACK = {
    "admin": [("/committees/new", {"#area_code": META, "#name": IMG}),
              ("/courts/new", {"#area_code": IMG}),
              ("/admin/users/new", {"#username": BOLD, "#full_name": IMG,
                                    "#area_codes": IMG + " " + BOLD,
                                    "#committee_names": META})],
    "mediator": [("/cases/new", {"#title": IMG, "#narrative": ""})],
}


def send_back(tab: Tab, role: str) -> int:
    for path, values in SENT_BACK.get(role, []):
        tab.submit(path, values)
        assert tab.page.locator(".errors").count(), f"{path}: the form was not sent back"
        for selector, value in values.items():
            assert tab.page.locator(selector).input_value() == value, (path, selector)
    return len(SENT_BACK.get(role, []))


def test_no_typed_text_becomes_markup_on_any_page(hostile_city, live_server, browser):
    started = time.monotonic()
    base = live_server.url
    pages: dict[str, int] = {}
    problems: list[str] = []
    for role, *_rest in ACCOUNTS:
        tab = Tab(browser, base)
        sign_in(tab, live_server, role)
        seeds = hostile_city.pages + (hostile_city.admin_pages if role == "admin" else [])
        pages[role] = crawl(tab, seeds) + send_back(tab, role)
        if role == "mediator":
            # What was typed shows as typed: no template evaluated it, no label took it as
            # markup (the agreement draft's responsibility labels name the parties).
            tab.visit(f"/cases/{hostile_city.main}")
            tab.expect_text("main h1", CASE_TITLE)
            tab.expect_text("main", RAW + " " + JINJA)
            screenshot(tab.page, "hostile-case")
            tab.visit(hostile_city.draft)
            tab.expect_text("label[for^=responsibility_]", META)
            screenshot(tab.page, "hostile-agreement-draft")
        if role == "admin":  # the English pages, for the names kept in English too
            with tab.page.expect_navigation():
                tab.page.locator("form.lang-switch button[value=en]").click()
            for path in hostile_city.pages:
                tab.visit(path)
            pages[role] += len(hostile_city.pages)
        problems += tab.problems
        tab.context.close()

    tab = Tab(browser, base)  # the staff member with the hostile name sees it as typed
    sign_in(tab, live_server, "xss.mediator", STAFF_PASSWORD)
    for path in ("/", "/account"):
        tab.visit(path)
    tab.expect_text("header .user-name", hostile_city.staff_name)
    problems += tab.problems
    tab.context.close()

    tab = Tab(browser, base)  # logged out: the public pages
    public = [f"/v/{quote(IMG, safe='')}", f"/v/{quote(BOLD + JINJA, safe='')}",
              f"/v/{hostile_city.code}", "/verify?" + urlencode({"code": IMG})]
    for path in public:
        tab.visit(path)
    tab.submit("/verify", {"#code": IMG})
    tab.submit("/login", {"#username": BOLD, "#password": IMG})
    problems += tab.problems
    tab.context.close()

    elapsed = time.monotonic() - started
    print(f"\nhostile crawl: pages by role {pages}, {len(public) + 2} public, {elapsed:.1f} s")
    assert problems == [], "\n".join(problems)
    assert all(n > 30 for n in pages.values()), pages
