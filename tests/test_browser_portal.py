"""A resident reports a dispute on an old phone without JavaScript; the grid worker sees it."""

import io
import re

import pytest
from browser import log_in, screenshot
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 667}


def _fits(page) -> None:
    """Nothing sticks out sideways on the 375-pixel screen."""
    widest = max(box["x"] + box["width"] for box in
                 (element.bounding_box() for element in page.locator("body *").all())
                 if box is not None)
    assert widest <= PHONE["width"] + 0.5, f"{page.url}: {widest}px wide"


def _photo(path) -> None:
    image = Image.new("RGB", (640, 480), (90, 140, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (37.0, 27.0, 36.0), 3: "E", 4: (118.0, 29.0, 24.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    path.write_bytes(out.getvalue())


def test_a_resident_reports_a_dispute_and_the_grid_worker_sees_it(live_server, browser,
                                                                    tmp_path):
    live_server.app.config["ATTACHMENT_DIR"] = str(tmp_path / "attachments")
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("人民调解")
        expect(page.get_by_text("东湖区文汇路88号")).to_be_visible()
        _fits(page)
        screenshot(page, "portal-home-375")
        # The rest in large type (大字), the hardest case for the small screen.
        page.get_by_role("button", name="大字").click()
        expect(page.locator("body")).to_have_class("portal portal--large")
        expect(page.get_by_role("button", name="大字")).to_have_attribute("aria-pressed", "true")
        assert page.evaluate("getComputedStyle(document.body).fontSize") == "24px"
        _fits(page)
        screenshot(page, "portal-home-large-375")

        page.get_by_role("link", name=re.compile("申请调解")).click()
        page.get_by_label("街道（镇）").select_option(label="文汇街道")
        page.get_by_role("button", name="下一步").click()
        page.get_by_label("社区（村）").select_option(label="文苑社区")
        page.get_by_role("button", name="下一步").click()
        expect(page.get_by_text("第2步（共2步）")).to_be_visible()

        page.get_by_label("您的姓名").fill("赵桂兰")
        page.get_by_label("您的电话").fill("13905461234")
        page.get_by_label("对方姓名").fill("楼上住户")
        page.get_by_label("网格").select_option(label="文苑社区第2网格")
        page.get_by_label("纠纷发生的地址").fill("文苑小区3号楼502室")
        page.get_by_label("纠纷经过").fill("楼上每天夜里装修，敲打声很大，多次沟通无果。")
        photo = tmp_path / "IMG_0001.jpg"
        _photo(photo)
        page.get_by_label("照片（最多6张）").set_input_files(str(photo))
        page.get_by_label("我已阅读并同意以上告知。").check()
        _fits(page)
        screenshot(page, "portal-report-large-375")
        page.get_by_role("button", name="提交").click()

        expect(page.get_by_role("heading", name="我们已收到您的申请")).to_be_visible()
        number = page.locator(".p-receipt dd").first.inner_text().strip()
        code = "".join(page.locator(".p-code").inner_text().split())
        assert re.fullmatch(r"\d{4}-\d{6}", number) and re.fullmatch(r"\d{8}", code)
        assert code not in page.url and number not in page.url
        _fits(page)
        screenshot(page, "portal-receipt-large-375")
        page.emulate_media(media="print")
        expect(page.locator(".p-header")).to_be_hidden()  # the print shows the receipt only
        expect(page.locator(".p-code")).to_be_visible()
        screenshot(page, "portal-receipt-print")
        page.emulate_media(media="screen")

        log_in(page, live_server, "gridworker")
        page.goto(live_server.url + "/cases/?queue=awaiting")
        row = page.get_by_role("link", name=number)
        expect(row).to_be_visible()
        screenshot(page, "portal-report-in-grid-queue")
        row.click()
        expect(page.get_by_text("居民线上申请").first).to_be_visible()
        expect(page.get_by_text("赵桂兰").first).to_be_visible()
    finally:
        context.close()
