"""A grid worker walks one dispute from intake to closure in headless Chromium."""

import pytest
from browser import screenshot
from conftest import DEMO_PASSWORD
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _do(page, action: str, fill: dict[str, str] | None = None, check: list[str] = ()):
    """Open the action's panel on the case page, fill it in and submit it."""
    panel = page.locator(f"#action-{action}")
    panel.locator("summary").click()
    for selector, value in (fill or {}).items():
        panel.locator(selector).fill(value)
    for selector in check:
        panel.locator(selector).check()
    panel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash--success")).to_be_visible()


def test_grid_worker_takes_a_case_from_intake_to_closure(live_server, page):
    page.goto(live_server.url + "/login")
    page.get_by_label("用户名").fill("gridworker")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server.url + "/")

    page.get_by_role("link", name="纠纷登记").first.click()
    page.get_by_label("简要标题").fill("楼上漏水导致天花板受损")
    page.locator("#category").select_option(label="房屋漏水")
    page.locator("#grid").select_option(label="文苑社区 · 文苑社区第1网格")
    page.locator("#amount").fill("3500")
    page.locator("#narrative").fill("住户王某家中卫生间漏水，导致楼下李某家天花板受损，双方协商未果。")
    page.locator("#applicant-name").fill("李秀英")
    page.locator("#applicant-id_number").fill("11010519491231002X")
    page.locator("#applicant-phone").fill("13812345678")
    page.locator("#respondent-name").fill("王建军")
    screenshot(page, "case-intake")
    page.locator("form.case-form button.button--primary").click()
    page.wait_for_url("**/cases/*-*")
    number = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_role("heading", name="楼上漏水导致天花板受损")).to_be_visible()
    expect(page.get_by_text("**************002X")).to_be_visible()
    expect(page.get_by_text("*******5678")).to_be_visible()

    _do(page, "accept")
    _do(page, "start")
    _do(page, "settle",
        {"textarea[name='settle-oral_agreement']": "王某赔偿李某维修费3000元，当场付清。"})
    expect(page.locator(".tag--state-settled").first).to_be_visible()
    _do(page, "follow_up", {"textarea[name='follow-performance']": "已当场履行完毕",
                            "input[name='follow-satisfaction']": "5"})
    _do(page, "close", {"textarea[name='close-note']": "归档"})
    expect(page.locator(".tag--state-closed").first).to_be_visible()
    timeline = page.locator(".timeline")
    for state in ("已登记", "已受理", "调解中", "调解成功", "回访中", "已结案"):
        expect(timeline.get_by_text(state).first).to_be_visible()
    screenshot(page, "case-closed")

    page.goto(live_server.url + f"/cases/?queue=all&q={number}")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    assert page.console_problems == []
