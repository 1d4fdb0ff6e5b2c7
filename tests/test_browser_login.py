"""A person logs in, sees their jurisdiction, and switches the language, in real Chromium."""

import pytest
from browser import screenshot
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
