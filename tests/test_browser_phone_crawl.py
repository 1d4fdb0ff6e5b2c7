"""Every page each role can reach, on a phone: starting at the workbench and following the
links (one page of each kind: /cases/N for every case number, a query by its keys), in
Chromium at 375×667, the header takes at most a fifth of the screen, and every page
answers, is no wider than the screen and has no WCAG 2.1 A/AA violation that axe-core
finds. The demo city with its living cases (sessions,
agreements, ratings) is the city crawled. axe-core is injected by the test only."""

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import axe_playwright_python
import pytest
from browser import LiveServer, log_in, screenshot
from conftest import DEMO_PASSWORD

from mediation import create_app, demo
from mediation.extensions import db

pytestmark = pytest.mark.browser

AXE = Path(axe_playwright_python.__file__).with_name("axe.min.js").read_text()
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTH, HEIGHT = 375, 667
# Links that are downloads or actions, not pages (and the page that goes on to the draft's
# preview PDF by itself).
NOT_PAGES = re.compile(r"(\.pdf\b|\.ics\b|\.csv\b|\.xlsx\b|/pdf$|/ics$|/files/|/export|"
                       r"/download|/static/|/logout|/language|/preview$)")
ROLES = ["gridworker", "mediator", "coordinator", "legalaid", "admin"]


@pytest.fixture(scope="module")
def city(database):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database.fresh_uri("phone_crawl"),
                     DEMO_PASSWORD=DEMO_PASSWORD, DEMO_CASES=True)
    with app.app_context():
        demo.seed()
        db.session.commit()
        db.session.remove()
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        db.engine.dispose()


def _kind(path: str) -> str:
    """One page of each kind: numbers stand for any number, a query for its keys."""
    parts = urlsplit(path)
    keys = ",".join(sorted({key for key, _value in parse_qsl(parts.query)}))
    return re.sub(r"\d+", "N", parts.path) + "?" + keys


@pytest.mark.parametrize("username", ROLES)
def test_every_page_fits_a_phone_and_passes_axe(city, browser, username):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                  locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, city, username)
        seen, queue = set(), ["/"]
        wide, violations, broken = [], [], []
        while queue:
            path = queue.pop(0)
            if _kind(path) in seen:
                continue
            seen.add(_kind(path))
            response = page.goto(city.url + path)
            if response.status != 200:
                broken.append((path, response.status))
                continue
            if "text/html" not in response.headers.get("content-type", ""):
                continue  # a document for programs (the API's description), not a page
            if path == "/":  # the workbench: the header leaves the screen to the work
                header = page.locator("header").bounding_box()["height"]
                assert header <= HEIGHT / 5, f"the header takes {header} px of {HEIGHT}"
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                wide.append((path, width))
                screenshot(page, f"too-wide-{username}-{len(wide)}")
            found = page.evaluate(AXE + "\n;axe.run(document, {runOnly: {type: 'tag', "
                                  f"values: {WCAG}}}}}).then(r => r.violations.map("
                                  "v => [v.id, v.nodes[0].target.join(' ')]))")
            violations += [(path, *v) for v in found]
            for href in page.eval_on_selector_all(
                    "a[href]", "links => links.map(a => a.getAttribute('href'))"):
                href = href.split("#")[0]
                if href.startswith("/") and not href.startswith("//") \
                        and not NOT_PAGES.search(href) and _kind(href) not in seen:
                    queue.append(href)
        assert len(seen) >= 8, f"only {sorted(seen)}"
        assert broken == [], broken
        assert wide == [], f"wider than {WIDTH} px: {wide}"
        assert violations == [], violations
    finally:
        context.close()

