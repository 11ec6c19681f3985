"""The organizer's pages in Chromium: a contest and a round made through the forms, the share
panel's QR code, and axe-core finding nothing serious on any of them (phone and desktop)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import (
    accessibility_violations,
    log_in,
    no_horizontal_scroll,
    screenshot,
)

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_organizer_creates_a_contest_and_a_round(live_server, desktop):
    base = live_server["url"]
    page = desktop.new_page()
    log_in(page, base, "bantochuc@demo.vn")
    page.get_by_role("link", name="Cuộc thi tôi tổ chức").click()
    expect(page.locator("main h1")).to_have_text("Cuộc thi tôi tổ chức")
    assert accessibility_violations(page) == []

    page.get_by_role("link", name="Cuộc thi mới").click()
    assert accessibility_violations(page) == []
    page.get_by_label("Tiêu đề").fill("Cuộc thi thử trên trình duyệt")
    page.get_by_label("Địa chỉ (slug)").fill("thu-trinh-duyet")
    page.get_by_label("Thể lệ").fill("Mỗi người thi một lần.")
    # Only a unit without demo participants, so the other browser tests see no new round.
    page.get_by_label("Chỉ các đơn vị chọn dưới đây").check()
    page.get_by_label("Đơn vị (gồm cả các đơn vị trực thuộc)").select_option(
        label="\u2003\u2003Phòng Kế hoạch - Tài chính (SGTVT-KHTC)"
    )
    page.get_by_label("Mật khẩu cuộc thi (không bắt buộc)").fill("bi-mat-1")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("main h1")).to_have_text("Cuộc thi thử trên trình duyệt")

    page.get_by_role("link", name="Thêm đợt thi").click()
    assert accessibility_violations(page) == []
    opens = datetime.now(UTC).astimezone(VIETNAM) + timedelta(days=3)
    page.get_by_label("Tiêu đề").fill("Đợt thử trình duyệt")
    page.get_by_label("Mở lúc (dd/mm/yyyy HH:MM, giờ Việt Nam)").fill(
        opens.strftime("%d/%m/%Y 08:00")
    )
    page.get_by_label("Đóng lúc (dd/mm/yyyy HH:MM, giờ Việt Nam)").fill(
        (opens + timedelta(days=6)).strftime("%d/%m/%Y 17:00")
    )
    first_line = page.locator(".draw-row").first
    first_line.get_by_label("Chủ đề").select_option(index=1)
    first_line.get_by_label("Số câu hỏi").fill("150")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".field-error").first).to_contain_text("cần 150")  # checked vs the bank
    page.locator(".draw-row").first.get_by_label("Số câu hỏi").fill("2")
    page.get_by_role("button", name="Lưu").click()

    expect(page.locator("main h1")).to_have_text("Cuộc thi thử trên trình duyệt")
    expect(page.get_by_role("cell", name="Đợt thử trình duyệt")).to_be_visible()
    expect(page.get_by_test_id("share-link")).to_have_value(base + "/contests/thu-trinh-duyet")
    qr = page.locator('[data-testid="share-qr"] svg')
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 120  # big enough to scan from a screen
    assert accessibility_violations(page) == []
    screenshot(page, "organizer-contest-page")


def test_organizer_pages_fit_a_phone(live_server, phone):
    base = live_server["url"]
    page = phone.new_page()
    log_in(page, base, "bantochuc@demo.vn")
    for path in ("/manage/contests", "/manage/contests/new", "/manage/contests/cds-cchc-demo"):
        page.goto(base + path)
        assert no_horizontal_scroll(page), path
        assert accessibility_violations(page) == [], path
    screenshot(page, "organizer-contest-page-phone")
