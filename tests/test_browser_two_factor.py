"""A coordinator sets up two-factor sign-in at the first login and gives a code at the next,
in real Chromium (the QR code must show under the Content-Security-Policy)."""

import pytest
from browser import log_in, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_coordinator_enrols_then_logs_in_with_a_code(live_server, page):
    log_in(page, live_server, "coordinator", shots="two-factor-zh")
    assert page.url == live_server.url + "/"
    assert page.get_by_text("李红梅").first.is_visible()

    page.goto(live_server.url + "/account")
    expect(page.locator("#two-factor")).to_contain_text("已开启")
    expect(page.locator("#two-factor")).to_contain_text("未使用的恢复码：10 个")
    screenshot(page, "two-factor-account-zh")
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url("**/login")

    log_in(page, live_server, "coordinator", shots="two-factor-again-zh")
    assert page.url == live_server.url + "/"
    assert page.console_problems == []  # no CSP violation (the QR is a data: image)


def test_the_qr_code_is_drawn(live_server, page):
    page.goto(live_server.url + "/login")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("Tiaojie-Demo-2026")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/login/enrol")
    expect(page.get_by_role("heading", name="设置双因素登录")).to_be_visible()
    qr = page.get_by_role("img", name="供身份验证器应用扫描的二维码")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    assert len("".join(page.locator("#totp-secret").inner_text().split())) == 32
    page.goto(live_server.url + "/cases/")  # no page opens before the enrolment is done
    assert "/login" in page.url
    assert page.console_problems == []
