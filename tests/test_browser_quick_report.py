"""A grid worker on patrol reports a dispute from a phone: one form, two photos from the
camera, then finds it waiting in the queue — in real Chromium at 375×667."""

import pytest
from browser import log_in, screenshot
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_grid_worker_reports_from_a_phone_with_two_photos(live_server, page, tmp_path):
    shots = []
    for n, colour in enumerate(("#3a7", "#c53"), start=1):
        path = tmp_path / f"IMG_000{n}.jpg"
        Image.new("RGB", (1200, 900), colour).save(path)
        shots.append(path)
    page.set_viewport_size({"width": 375, "height": 667})
    log_in(page, live_server, "gridworker")
    page.get_by_role("link", name="快速上报").first.click()
    page.get_by_label("纠纷经过").fill("3号楼502室卫生间漏水，楼下402室天花板受损，双方争执。")
    page.get_by_label("纠纷类型").select_option(label="房屋漏水")
    page.get_by_label("网格").select_option(label="文苑社区 · 文苑社区第1网格")
    page.get_by_label("反映人姓名").fill("王秀英")
    page.get_by_label("反映人电话").fill("13812345678")
    page.get_by_label("照片 1").set_input_files(shots[0])
    page.get_by_label("照片 2").set_input_files(shots[1])
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "quick-report-phone")
    page.get_by_role("button", name="上报").click()
    expect(page.locator(".flash--success")).to_contain_text("2 张照片")
    number = page.url.rsplit("/", 1)[-1]
    thumbnails = page.locator("img[src*='/thumbnail']")
    expect(thumbnails).to_have_count(2)
    page.goto(live_server.url + "/cases/?queue=awaiting")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    screenshot(page, "quick-report-queue-phone")
