"""What every browser test uses: the app served on a local port, and headless Chromium.

Playwright's own browser download does not work on these machines: it drives Debian's
``chromium`` (``make test`` installs it), or the one named by CHROMIUM_PATH.
"""

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import DEMO_PASSWORD
from two_factor_helpers import Device, keyring
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is missing: run `make test` (it installs Debian's chromium) or "
                    "set CHROMIUM_PATH")
    return path


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(demo_city):
    from mediation.extensions import db

    db.session.commit()
    db.session.remove()  # hold no transaction while the server's threads write
    with LiveServer(demo_city) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.console_problems = []
    page.on("console", lambda msg: msg.type == "error" and page.console_problems.append(msg.text))
    yield page
    context.close()


def log_in(page, server: LiveServer, username: str, password: str = DEMO_PASSWORD,
           *, shots: str | None = None) -> None:
    """Log in through the pages, in either language, as the person would: an account that
    signs in with two factors sets up the tests' authenticator app at its first login
    (keeping the recovery codes shown) and gives the app's code at later ones.
    ``shots`` names screenshots of the second-factor pages."""
    page.goto(server.url + "/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    devices = keyring(server.app)
    path = urlsplit(page.url).path
    if path == "/login/enrol":
        if shots:
            screenshot(page, f"{shots}-enrol")
        device = Device("".join(page.locator("#totp-secret").inner_text().split()))
        page.locator("#code").fill(device.next_code())
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        device.recovery_codes = page.locator("#recovery-codes code").all_inner_texts()
        devices[username.lower()] = device
        if shots:
            screenshot(page, f"{shots}-recovery-codes")
        page.locator("main form button[type=submit]").click()
    elif path == "/login/code":
        if shots:
            screenshot(page, f"{shots}-code")
        page.locator("#code").fill(devices[username.lower()].next_code())
        page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fill_the_draft(page) -> None:
    """On an agreement's builder: the disputed matters, both parties' responsibility and the
    recorder, saved (the dispute of the agreement tests: a leak from the flat above)."""
    from playwright.sync_api import expect

    page.locator("#disputed_matters").fill("漏水损失的赔偿数额，以及防水层由谁维修。")
    boxes = page.locator("textarea[id^=responsibility_]")
    boxes.nth(0).fill("对损失无过错。")
    boxes.nth(1).fill("卫生间防水层老化未及时维修，应承担全部责任。")
    page.locator("#recorder_name").fill("刘晓燕")
    page.locator("form.card button[type=submit]").first.click()
    expect(page.locator(".flash--success")).to_be_visible()
