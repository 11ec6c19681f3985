"""A participant on a phone: log in, start, answer, reload, go offline and back, submit, score."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import accessibility_violations, contest_file, log_in, screenshot
from tests.live_server import flask_cli


def wait_saved(page, timeout: int = 10000) -> None:
    expect(page.locator('[data-testid="save-status"]')).to_have_attribute(
        "data-state", "saved", timeout=timeout
    )


def start_round(page, title: str) -> None:
    card = page.locator("section.round", has_text=title)
    card.locator('[data-testid="start-attempt"]').click()
    page.wait_for_selector('[data-testid="question"]')


def test_phone_participant_journey(live_server, phone):
    base = live_server["url"]
    page = phone.new_page()
    log_in(page, base, "thisinh1@demo.vn")
    screenshot(page, "home-360")
    assert accessibility_violations(page) == []

    start_round(page, "Tuần 1")
    questions = page.locator('[data-testid="question"]')
    total = questions.count()
    assert total >= 4
    timer = page.locator('[data-testid="timer"]')
    assert re.fullmatch(r"1[45]:\d\d", timer.inner_text().strip())

    # Answer two questions; each click is saved at once.
    for index in range(2):
        questions.nth(index).locator("label").first.click()
        wait_saved(page)
    chosen = [questions.nth(i).locator("input:checked").get_attribute("value") for i in range(2)]
    screenshot(page, "quiz-360")
    assert accessibility_violations(page) == []

    # Reload: the same attempt, the same answers, the server's remaining time.
    page.reload()
    assert [
        questions.nth(i).locator("input:checked").get_attribute("value") for i in range(2)
    ] == chosen

    # Offline: the answer waits on the phone and is sent when the connection returns.
    phone.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    questions.nth(2).locator("label").nth(1).click()
    status = page.locator('[data-testid="save-status"]')
    expect(status).to_have_attribute("data-state", "offline")
    screenshot(page, "quiz-offline-360")
    phone.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_saved(page, timeout=15000)
    assert status.get_attribute("data-state") == "saved"
    page.reload()
    assert questions.nth(2).locator("input:checked").count() == 1

    # The navigator and progress show three answered.
    assert page.locator(".navigator a.answered").count() == 3
    assert page.locator("#progress").get_attribute("value") == "3"

    # Submit: the dialog lists the unanswered questions, then the score.
    page.locator('[data-testid="submit-attempt"]').click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    unanswered = ", ".join(str(n) for n in range(4, total + 1))
    assert dialog.locator("#confirm-unanswered").inner_text().endswith(unanswered)
    screenshot(page, "confirm-360")
    page.locator('[data-testid="confirm-submit"]').click()
    score = page.locator('[data-testid="score"]')
    score.wait_for()
    assert re.fullmatch(rf"[0-3]/{total}", score.inner_text())
    screenshot(page, "result-360")
    assert accessibility_violations(page) == []


def test_the_page_submits_itself_when_time_is_up(live_server, phone, tmp_path):
    file = tmp_path / "short.yaml"
    file.write_text(contest_file("vong-ngan", closes_in=timedelta(seconds=12)), encoding="utf-8")
    flask_cli(live_server["env"], "contests", "create", str(file))
    page = phone.new_page()
    log_in(page, live_server["url"], "thisinh3@demo.vn")
    start_round(page, "Vòng vong-ngan")
    page.locator('[data-testid="question"]').first.locator("label").first.click()
    wait_saved(page)
    page.locator('[data-testid="score"]').wait_for(timeout=30000)
    assert page.url.endswith("/result")
    assert re.fullmatch(r"[01]/4", page.locator('[data-testid="score"]').inner_text())


def test_login_page_at_both_widths(live_server, phone, desktop):
    for context, name in ((phone, "login-360"), (desktop, "login-1280")):
        page = context.new_page()
        page.goto(live_server["url"] + "/login")
        screenshot(page, name)
        assert accessibility_violations(page) == []
