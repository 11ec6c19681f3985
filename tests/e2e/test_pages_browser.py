"""Every main page at 360 and 1280 pixels: screenshot saved, no sideways scrolling, no axe-core
finding, and no request leaving the site (no CDN)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    accessibility_violations,
    contest_file,
    log_in,
    no_horizontal_scroll,
    screenshot,
)
from tests.live_server import flask_cli

LONG_PAGES = {"quiz", "confirm-dialog", "result"}  # saved as the window shows them


@pytest.fixture
def pair(browser, live_server):
    """Phone and desktop windows; afterwards, no request may have left the site and no page
    may have logged a script error or a Content-Security-Policy violation."""
    requests: list[str] = []
    errors: list[str] = []
    contexts = []

    def open_(viewport, **options):
        context = browser.new_context(viewport=viewport, locale="vi-VN", **options)
        context.on("request", lambda request: requests.append(request.url))
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "404 (NOT FOUND)" not in message.text.upper()
                else None
            ),
        )
        return page

    yield open_, requests
    for context in contexts:
        context.close()
    offsite = [url for url in requests if not url.startswith((live_server["url"], "data:"))]
    assert offsite == []
    assert errors == []


def check(page, name: str) -> None:
    """Screenshot as NAME-WIDTH.png, then the layout check; the accessibility audit on the
    phone (the same markup and colours at 1280 px; the phone is where layouts break)."""
    width = page.viewport_size["width"]
    screenshot(page, f"{name}-{width}", full_page=name not in LONG_PAGES)
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"
    if width == PHONE["width"]:
        assert accessibility_violations(page) == [], f"{name} at {width} px"


def both(pages, path: str, name: str) -> None:
    for page in pages:
        page.goto(path)
        check(page, name)


def test_participant_pages_at_both_widths(live_server, pair, tmp_path):
    base = live_server["url"]
    # A round that has closed and one not yet open sit on the home page beside the open one.
    for slug, opens, closes in (("da-dong", -3, -1), ("sap-mo", 2, 3)):
        file = tmp_path / f"{slug}.yaml"
        file.write_text(
            contest_file(slug, closes_in=timedelta(days=closes), opens_in=timedelta(days=opens)),
            encoding="utf-8",
        )
        flask_cli(live_server["env"], "contests", "create", str(file))
    open_, _ = pair
    phone = open_(PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    desktop = open_(DESKTOP)
    both([phone, desktop], base + "/login", "login")
    both([phone, desktop], base + "/register", "register")

    # A newcomer registers on the phone.
    unit = phone.locator("#unit_id option", has_text="Văn phòng Sở Giao thông vận tải").first
    phone.fill("#full_name", "Đặng Thị Giang")
    phone.fill("#login", "giang.vp@demo.vn")
    phone.select_option("#unit_id", value=unit.get_attribute("value"))
    phone.fill("#password", "matkhau123")
    phone.fill("#confirm", "matkhau123")
    phone.locator("main form button[type=submit]").click()
    expect(phone.locator(".flash-success")).to_be_visible()
    check(phone, "home")
    log_in(desktop, base, "giang.vp@demo.vn", "matkhau123")
    check(desktop, "home")

    phone.locator("section.round", has_text="Tuần 1").locator(
        '[data-testid="start-attempt"]'
    ).click()
    questions = phone.locator('[data-testid="question"]')
    questions.first.locator("label").first.click()
    expect(phone.locator('[data-testid="save-status"]')).to_have_attribute("data-state", "saved")
    attempt = phone.url.split("#")[0]
    phone.reload()  # the window at the top of the quiz
    check(phone, "quiz")
    both([desktop], attempt, "quiz")
    both([phone, desktop], attempt + "/confirm", "confirm-page")
    for page in (phone, desktop):
        page.goto(attempt)
        page.locator('[data-testid="submit-attempt"]').click()
        expect(page.locator("#confirm-dialog")).to_be_visible()
        check(page, "confirm-dialog")
    phone.locator('[data-testid="confirm-submit"]').click()
    phone.locator('[data-testid="score"]').wait_for()
    check(phone, "result")
    both([desktop], attempt + "/result", "result")
    both([phone, desktop], base + "/history", "history")
    phone.goto(base + "/")
    phone.locator("section.round", has_text="Tuần 1").get_by_role("link").click()
    expect(phone.locator('[data-testid="leaderboard"]')).to_be_visible()
    check(phone, "leaderboard")
    both([desktop], phone.url, "leaderboard")
    both([phone, desktop], base + "/no-such-page", "not-found")


def test_staff_pages_at_both_widths(live_server, pair):
    base = live_server["url"]
    open_, _ = pair
    phone = open_(PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    desktop = open_(DESKTOP)
    for page in (phone, desktop):
        log_in(page, base, "nhansu@demo.vn")
    both([phone, desktop], base + "/reports/participation?contest=cds-cchc-demo", "participation")
    # English on request, keeping the report's filter; Vietnamese again with one tap.
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("main h1")).to_have_text("Participation by unit")
    assert "contest=cds-cchc-demo" in phone.url
    phone.goto(base + "/roster/import")
    expect(phone.locator("main h1")).to_have_text("Import a staff roster")  # remembered
    phone.get_by_role("link", name="Tiếng Việt").click()
    expect(phone.locator("main h1")).to_have_text("Nhập danh sách cán bộ")
    both([phone, desktop], base + "/roster/import", "roster-import")
    both([phone, desktop], base + "/units", "units")
    phone = open_(PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    desktop = open_(DESKTOP)
    for page in (phone, desktop):
        log_in(page, base, "admin@demo.vn")
    both([phone, desktop], base + "/units/import", "units-import")
    both([phone, desktop], base + "/contests/cds-cchc-demo/dashboard", "dashboard")
    # The dashboard reloads itself every minute, and that can be switched off (WCAG 2.2.1).
    refresh = desktop.get_by_label("Tự động làm mới mỗi phút")
    expect(refresh).to_be_checked()
    refresh.uncheck()
    desktop.reload()
    expect(desktop.get_by_label("Tự động làm mới mỗi phút")).not_to_be_checked()
