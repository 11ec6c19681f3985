"""Organizer's bank pages in the browser: upload, preview, confirm, search, edit; axe-clean."""

from playwright.sync_api import expect

from tests.e2e.conftest import (
    PHONE,
    accessibility_violations,
    log_in,
    no_horizontal_scroll,
    screenshot,
)

BANK = """\
bank: Ngân hàng trình duyệt
categories:
  - name: Dịch vụ công
    questions:
      - id: b-1
        text: "Cổng Dịch vụ công quốc gia khai trương năm nào?"
        options:
          - {text: "2019", correct: true}
          - {text: "2017"}
          - {text: "2021"}
      - id: b-2
        text: "<script>alert('x')</script> Mức độ dịch vụ công trực tuyến cao nhất là?"
        options:
          - {text: "Toàn trình", correct: true}
          - {text: "Một phần"}
  - name: Chuyển đổi số
    questions:
      - id: b-3
        text: "Ngày Chuyển đổi số quốc gia là ngày nào?"
        options:
          - {text: "10 tháng 10", correct: true}
          - {text: "2 tháng 9"}
"""

BROKEN = "Câu hỏi một?\nA) Một\nB) Hai\nANSWER: A\n\nCâu hỏi hai?\nA) Ba\nB) Bốn\n"


def test_organizer_imports_searches_and_edits_a_bank(live_server, desktop, tmp_path):
    base = live_server["url"]
    page = desktop.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, base, "bantochuc@demo.vn")
    page.get_by_role("link", name="Ngân hàng câu hỏi").click()
    page.locator('[data-testid="import-bank"]').click()

    # A broken Aiken file: the error with its line, the Import button disabled; discard it.
    broken = tmp_path / "hong.txt"
    broken.write_text(BROKEN, encoding="utf-8")
    page.set_input_files("#file", str(broken))
    page.select_option("#target", "new")
    page.fill("#new_name", "Tệp hỏng")
    page.locator('[data-testid="upload-form"] button[type=submit]').click()
    expect(page.locator('[data-testid="import-errors"]')).to_contain_text(
        "Dòng 6: câu hỏi này không có dòng ANSWER"
    )
    expect(page.locator('[data-testid="confirm-import"]')).to_be_disabled()
    page.get_by_role("button", name="Hủy và tải lên tệp khác").click()

    # A good file: counts per category, then the import.
    good = tmp_path / "ngan-hang.yaml"
    good.write_text(BANK, encoding="utf-8")
    page.set_input_files("#file", str(good))
    page.locator('[data-testid="upload-form"] button[type=submit]').click()
    counts = page.locator('[data-testid="category-counts"]')
    expect(counts.locator('tr[data-category="Dịch vụ công"] [data-testid="new"]')).to_have_text("2")
    assert accessibility_violations(page) == []
    screenshot(page, "bank-preview-1280")
    page.locator('[data-testid="confirm-import"]').click()
    expect(page.locator(".flash-success")).to_contain_text("Đã nhập 3 câu hỏi")

    # The question list: markup in a question is text; search ignores letter case.
    expect(page.locator('[data-testid="question-list"]')).to_contain_text("<script>alert('x')")
    page.fill("#q", "NGÀY CHUYỂN ĐỔI SỐ")
    page.locator('[data-testid="question-filters"] button[type=submit]').click()
    expect(page.locator("tr[data-question]")).to_have_count(1)
    assert accessibility_violations(page) == []
    screenshot(page, "bank-questions-1280")

    # Edit: two correct answers for a single-answer question is refused in Vietnamese.
    page.locator("tr[data-question] a").click()
    page.check("#options-1-correct")
    page.locator('[data-testid="save-question"]').click()
    expect(page.locator('[data-testid="edit-errors"]')).to_contain_text(
        "chỉ có đúng một đáp án đúng"
    )
    page.uncheck("#options-1-correct")
    page.fill("#text", "Ngày Chuyển đổi số quốc gia là ngày nào hằng năm?")
    page.locator('[data-testid="save-question"]').click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu câu hỏi.")
    assert accessibility_violations(page) == []
    page.set_viewport_size(PHONE)
    assert no_horizontal_scroll(page)
    screenshot(page, "bank-edit-360")
    assert dialogs == []  # the imported <script> never ran
