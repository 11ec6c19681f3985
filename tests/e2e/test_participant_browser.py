"""A participant on a phone: log in, start, answer, reload, go offline and back, submit, score."""

import contextlib
import re
from datetime import timedelta

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.conftest import (
    accessibility_violations,
    contest_file,
    log_in,
    no_horizontal_scroll,
    screenshot,
)
from tests.live_server import flask_cli


def wait_saved(page, timeout: int = 10000) -> None:
    expect(page.locator('[data-testid="save-status"]')).to_have_attribute(
        "data-state", "saved", timeout=timeout
    )


def go_offline(context, page) -> None:
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")


def go_online(context, page) -> None:
    """Back online; Chromium may fire 'online' itself, and the page may then already be
    leaving (a submit that waited for the connection), so the extra event is best effort."""
    context.set_offline(False)
    with contextlib.suppress(PlaywrightError):
        page.evaluate("window.dispatchEvent(new Event('online'))")


def start_round(page, title: str) -> None:
    card = page.locator("section.round", has_text=title)
    card.locator('[data-testid="start-attempt"]').click()
    page.wait_for_selector('[data-testid="question"]')


def test_phone_participant_journey(live_server, phone):
    base = live_server["url"]
    page = phone.new_page()
    log_in(page, base, "thisinh1@demo.vn")

    start_round(page, "Tuần 1")
    questions = page.locator('[data-testid="question"]')
    total = questions.count()
    assert total >= 4
    timer = page.locator('[data-testid="timer"]')
    assert re.fullmatch(r"1[45]:\d\d", timer.inner_text().strip())

    # Answer two questions; each click is saved at once, so there is no Save button to find.
    assert page.locator("#save-button").is_hidden()
    first_nav = page.locator(".navigator a").first
    assert first_nav.get_attribute("class") == "unanswered"
    assert "(chưa trả lời)" in first_nav.get_attribute("aria-label")
    for index in range(2):
        questions.nth(index).locator("label").first.click()
        wait_saved(page)
    chosen = [questions.nth(i).locator("input:checked").get_attribute("value") for i in range(2)]
    assert first_nav.get_attribute("class") == "answered"
    assert first_nav.get_attribute("aria-label") == "Câu 1"
    assert page.locator("#answered-count").inner_text() == f"Đã trả lời 2/{total}"
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "quiz-journey-360", full_page=False)
    assert accessibility_violations(page) == []

    # Reload: the same attempt, the same answers, the server's remaining time.
    page.reload()
    assert [
        questions.nth(i).locator("input:checked").get_attribute("value") for i in range(2)
    ] == chosen

    # Offline: the answer waits on the phone and is sent when the connection returns.
    go_offline(phone, page)
    questions.nth(2).locator("label").nth(1).click()
    status = page.locator('[data-testid="save-status"]')
    expect(status).to_have_attribute("data-state", "offline")
    assert status.inner_text().startswith("Mất kết nối")
    screenshot(page, "quiz-offline-360", full_page=False)
    assert no_horizontal_scroll(page)
    go_online(phone, page)
    wait_saved(page, timeout=15000)
    assert status.get_attribute("data-state") == "saved"
    page.reload()
    assert questions.nth(2).locator("input:checked").count() == 1

    # The navigator and progress show three answered, the rest marked unanswered.
    assert page.locator(".navigator a.answered").count() == 3
    assert page.locator(".navigator a.unanswered").count() == total - 3
    assert page.locator("#progress").get_attribute("value") == "3"
    assert page.locator("#progress").get_attribute("max") == str(total)

    # The navigator leads to a question without hiding it under the sticky bar.
    page.locator(f'.navigator a[href="#q-{total}"]').click()
    bar_bottom = page.locator("#quiz-bar").bounding_box()
    target_top = page.locator(f"#q-{total} legend").bounding_box()
    assert target_top["y"] >= bar_bottom["y"] + bar_bottom["height"]

    # Submit: the dialog lists the unanswered questions, then the score.
    page.locator('[data-testid="submit-attempt"]').click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    unanswered = ", ".join(str(n) for n in range(4, total + 1))
    assert dialog.locator("#confirm-unanswered").inner_text() == (
        f"Các câu chưa trả lời: {unanswered} ({total - 3}/{total})"
    )
    screenshot(page, "confirm-journey-360", full_page=False)
    # Confirmed while the connection is down: the page waits and submits when it is back.
    go_offline(phone, page)
    page.locator('[data-testid="confirm-submit"]').click()
    expect(dialog).to_be_hidden()
    expect(status).to_have_attribute("data-state", "offline")
    assert "/result" not in page.url
    go_online(phone, page)
    score = page.locator('[data-testid="score"]')
    score.wait_for()
    assert re.fullmatch(rf"[0-3]/{total}", score.inner_text())
    screenshot(page, "result-journey-360", full_page=False)


def test_the_page_warns_in_the_last_minute_and_submits_itself(live_server, phone, tmp_path):
    file = tmp_path / "short.yaml"
    file.write_text(contest_file("vong-ngan", closes_in=timedelta(seconds=12)), encoding="utf-8")
    flask_cli(live_server["env"], "contests", "create", str(file))
    page = phone.new_page()
    log_in(page, live_server["url"], "thisinh3@demo.vn")
    start_round(page, "Vòng vong-ngan")
    # Under a minute left: the timer turns red and a warning stays in the sticky bar.
    warning = page.locator('[data-testid="time-warning"]')
    expect(warning).to_be_visible()
    assert "tự động nộp" in warning.inner_text()
    assert "last-minute" in page.locator('[data-testid="timer"]').get_attribute("class")
    page.locator('[data-testid="question"]').first.locator("label").first.click()
    wait_saved(page)
    screenshot(page, "quiz-last-minute-360", full_page=False)
    assert no_horizontal_scroll(page)
    # Offline when the time runs out: the post waits for the connection.
    go_offline(phone, page)
    page.locator('[data-testid="question"]').nth(1).locator("label").first.click()
    expect(page.locator('[data-testid="save-status"]')).to_have_attribute(
        "data-state", "closed", timeout=30000
    )
    assert "/result" not in page.url
    go_online(phone, page)
    page.locator('[data-testid="score"]').wait_for(timeout=30000)
    assert page.url.endswith("/result")
    assert re.fullmatch(r"[0-2]/4", page.locator('[data-testid="score"]').inner_text())


def test_save_status_says_saving_then_retries_after_errors_and_a_lost_session(live_server, phone):
    base = live_server["url"]
    page = phone.new_page()
    log_in(page, base, "thisinh2@demo.vn")
    start_round(page, "Tuần 1")
    questions = page.locator('[data-testid="question"]')
    status = page.locator('[data-testid="save-status"]')

    # While the server has not answered, the page says "saving".
    held = []
    page.route("**/answers/**", lambda route: held.append(route))
    questions.nth(0).locator("label").first.click()
    expect(status).to_have_attribute("data-state", "saving")
    assert status.inner_text() == "Đang lưu…"
    held[0].continue_()
    page.unroute("**/answers/**")
    wait_saved(page)
    assert status.inner_text() == "Đã lưu"

    # A server error: "not saved, retrying", then the retry goes through by itself.
    page.route("**/answers/**", lambda route: route.fulfill(status=503), times=1)
    questions.nth(1).locator("label").first.click()
    expect(status).to_have_attribute("data-state", "error")
    wait_saved(page)

    # The session ended (401): the page says to log in again and keeps the answer; after a
    # reload (logged in again) the kept answer is sent.
    page.route("**/answers/**", lambda route: route.fulfill(status=401), times=1)
    questions.nth(2).locator("label").nth(1).click()
    expect(status).to_have_attribute("data-state", "login")
    assert "đăng nhập lại" in status.inner_text()
    chosen = questions.nth(2).locator("input:checked").get_attribute("value")
    page.reload()
    wait_saved(page)
    page.reload()  # what the server has, not what the browser kept
    assert questions.nth(2).locator("input:checked").get_attribute("value") == chosen

    # The prediction is saved as typed; Enter in its box saves it rather than posting the form.
    url = page.url
    page.fill("#prediction", "120")
    page.press("#prediction", "Enter")
    wait_saved(page)
    assert page.url == url
    page.reload()
    assert page.input_value("#prediction") == "120"

    # Back from sleep (the page shown again), the countdown takes the server's time anew.
    attempt_api = page.locator("#quiz-form").get_attribute("data-api")
    page.route(
        lambda url: url.endswith(attempt_api),
        lambda route: route.fulfill(json={"status": "in_progress", "remaining_seconds": 42}),
    )
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(page.locator('[data-testid="timer"]')).to_have_text(re.compile(r"00:[34]\d"))
    expect(page.locator('[data-testid="time-warning"]')).to_be_visible()
