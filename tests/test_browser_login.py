"""A person logs in, sees their jurisdiction, and switches the language, in real Chromium."""

import pytest
from browser import log_in, screenshot
from conftest import DEMO_PASSWORD
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_login_switch_language_and_logout(live_server, page):
    page.goto(live_server.url + "/")  # the residents' front page, with a way in for staff
    page.get_by_role("link", name="工作人员登录").click()
    assert page.url == live_server.url + "/login"
    assert page.locator("html").get_attribute("lang") == "zh-Hans-CN"
    assert page.get_by_role("heading", name="登录").is_visible()
    screenshot(page, "login-zh")

    page.get_by_label("用户名").fill("mediator")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_text("张志强").first.is_visible()
    assert page.get_by_role("link", name="文苑社区").is_visible()
    screenshot(page, "home-mediator-zh")

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Your jurisdiction").is_visible()
    screenshot(page, "home-mediator-en")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    assert page.get_by_role("heading", name="Log in").is_visible()  # the language stays
    assert page.console_problems == []  # no CSP violations or script errors


def test_wrong_password_shows_a_message(live_server, page):
    page.goto(live_server.url + "/login")
    page.get_by_label("用户名").fill("mediator")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    assert "/login" in page.url


@pytest.mark.parametrize("username", ["gridworker", "admin"])
def test_on_a_phone_the_menu_is_one_control_and_the_header_stays_small(live_server, page,
                                                                        username):
    """At 375×667 the header takes at most a fifth of the first screen for the grid worker
    (the fewest entries) and the administrator (the most); the menu opens from one control,
    without JavaScript, and leads to the cases."""
    page.set_viewport_size({"width": 375, "height": 667})
    log_in(page, live_server, username)
    page.goto(live_server.url + "/")
    assert page.locator("header").bounding_box()["height"] <= 667 / 5
    cases = page.locator("nav.main-nav").get_by_role("link", name="案件", exact=True)
    expect(cases).to_be_hidden()
    page.get_by_text("菜单").click()
    expect(cases).to_be_visible()
    screenshot(page, f"phone-menu-{username}")
    cases.click()
    page.wait_for_url(live_server.url + "/cases/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # On a wide screen the same menu is simply there.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(cases).to_be_visible()
