"""The whole quiz by keyboard alone: log in, start, answer, submit, score; focus always shows."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, focus_ring, screenshot, tab_to


def assert_focus_visible(page) -> None:
    ring = focus_ring(page)
    assert ring["visible"] and ring["style"] == "solid" and ring["width"] >= 2, ring


def test_a_quiz_taken_with_the_keyboard_alone(live_server, desktop):
    page = desktop.new_page()
    page.goto(live_server["url"] + "/login")

    # The skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert_focus_visible(page)

    tab_to(page, 'input[autocomplete="username"]')
    assert_focus_visible(page)
    page.keyboard.type("thisinh2@demo.vn")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="start-attempt"]')

    tab_to(page, '[data-testid="start-attempt"]', inside="Tuần 1")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="question"]')
    total = page.locator('[data-testid="question"]').count()

    # The navigator is reachable and shows its focus too.
    tab_to(page, ".navigator a")
    assert_focus_visible(page)

    # Answer every question but the last two: Tab into each group, Space picks an option.
    for position in range(1, total - 1):
        tab_to(page, f"#q-{position} input")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        assert_focus_visible(page)
        if position == 1:
            screenshot(page, "quiz-keyboard-1280", full_page=False)
    expect(page.locator('[data-testid="save-status"]')).to_have_attribute(
        "data-state", "saved", timeout=15000
    )
    assert page.locator(".navigator a.unanswered").count() == 2

    # Submit: the dialog names the two unanswered questions; Escape goes back to the quiz.
    tab_to(page, '[data-testid="submit-attempt"]')
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    assert (
        dialog.locator("#confirm-unanswered")
        .inner_text()
        .endswith(f"{total - 1}, {total} (2/{total})")
    )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.dataset.testid") == "submit-attempt"

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    tab_to(page, '[data-testid="confirm-submit"]')
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    score = page.locator('[data-testid="score"]')
    score.wait_for()
    assert re.fullmatch(rf"\d+/{total}", score.inner_text())
    assert int(score.inner_text().split("/")[0]) <= total - 2
