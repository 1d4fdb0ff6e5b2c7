"""A mediator draws up, previews and issues an agreement; anyone checks it by its code."""

import re
from datetime import date
from pathlib import Path

import pytest
from agreements_helpers import full_person
from browser import fill_the_draft, screenshot
from cases_helpers import applicant, area, make_case, respondent, user, walk_to
from conftest import DEMO_PASSWORD
from playwright.sync_api import expect

from mediation.cases.models import Gender
from mediation.cases.rules import today
from mediation.cases.states import CaseState
from mediation.extensions import db

pytestmark = pytest.mark.browser


def _settled_case() -> str:
    mediator = user("mediator")
    case = make_case(mediator, grid=area("370599001001-01"), title="楼上漏水导致天花板受损",
                     parties=[full_person(applicant, "董金凤", gender=Gender.FEMALE),
                              full_person(respondent, "袁斌", birth_date=date(1988, 8, 14))])
    walk_to(case, CaseState.SETTLED, mediator)
    case.handler = mediator
    number = case.number
    db.session.commit()
    db.session.remove()
    return number


def test_a_mediator_issues_an_agreement_that_anyone_can_verify(live_server, page, browser):
    number = _settled_case()
    page.goto(live_server.url + "/login")
    page.get_by_label("用户名").fill("mediator")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server.url + "/")

    page.goto(f"{live_server.url}/cases/{number}")
    page.locator("#agreements form button").click()
    page.wait_for_url("**/agreements/*")
    fill_the_draft(page)

    page.locator("a[href$='/terms/new']").first.click()
    page.locator("#content").fill("袁斌赔偿董金凤天花板修复费用")
    page.locator("tr:has(th:text-is('袁斌')) input[name=obligor_ids]").check()
    page.locator("tr:has(th:text-is('董金凤')) input[name=obligee_ids]").check()
    page.locator("#amount").fill("3千8")
    page.locator("#due_on").fill("2026-12-31")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("#amount-error")).to_be_visible()  # not an amount: said, not saved
    page.locator("#amount").fill("3800")
    page.locator("#method").fill("微信转账")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("ol.terms")).to_contain_text("袁斌赔偿董金凤天花板修复费用")
    expect(page.locator("ol.terms")).to_contain_text("人民币叁仟捌佰元整")

    # The preview opens on a page saying it is being prepared, which then fetches the PDF.
    preparing = page.request.get(live_server.url + page.locator("a[href$='/preview']")
                                 .get_attribute("href")).text()
    assert "正在生成预览" in preparing
    target = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', preparing).group(1)
    preview = page.request.get(live_server.url + target)
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    screenshot(page, "agreement-draft")

    page.locator("form[action$='/issue'] button").click()
    expect(page.locator("h1")).to_contain_text("人调字第1号")
    code = page.locator("dd.mono").first.inner_text().strip()
    pdf = page.request.get(page.url + "/pdf").body()
    assert pdf.startswith(b"%PDF")
    screenshot(page, "agreement-issued")

    # Anyone holding the paper types the code (lower case, spaces: it is normalised).
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(live_server.url + "/verify")
    public.locator("#code").fill(code.lower().replace("-", " "))
    public.locator("form button[type=submit]").last.click()
    public.wait_for_url(f"**/v/{code}")
    expect(public.locator("main")).to_contain_text("人调字第1号")
    expect(public.locator("main")).to_contain_text("董**")
    expect(public.locator("main")).not_to_contain_text("董金凤")
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 1
    public.locator("#file").set_input_files(
        files=[{"name": "copy.pdf", "mimeType": "application/pdf", "buffer": bytes(tampered)}])
    public.locator("form[enctype] button").click()
    expect(public.locator(".banner--red")).to_be_visible()
    public.locator("#file").set_input_files(
        files=[{"name": "copy.pdf", "mimeType": "application/pdf", "buffer": pdf}])
    public.locator("form[enctype] button").click()
    expect(public.locator(".banner--green")).to_be_visible()
    screenshot(public, "agreement-verified")
    public.context.close()

    # Signed by everyone through the page: the application for judicial confirmation is
    # a button (a POST with the page's token, since it reveals ID numbers), downloaded.
    for signer in ["董金凤", "袁斌", "人民调解员", "人民调解委员会印章"]:
        page.locator("#signer").select_option(label=signer)
        page.locator("#signed_on").fill(today().isoformat())
        page.locator("form[action$='/signatures'] button").click()
        expect(page.locator(".flash--success")).to_be_visible()
    assert page.locator("a[href*='application.pdf']").count() == 0
    button = page.locator("form[method=post][action*='/application.pdf'] button").first
    expect(button).to_have_text("申请书（PDF）")
    with page.expect_download() as download:
        button.click()
    application = Path(download.value.path()).read_bytes()
    assert application.startswith(b"%PDF")
    assert download.value.suggested_filename.startswith("司法确认申请书-")
    assert page.request.get(page.url.split("#")[0] + "/application.pdf").status == 405
