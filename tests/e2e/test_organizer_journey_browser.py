"""From a bank file to a score: an organizer imports a bank and opens a round drawing from it
through the pages, and a participant on a phone takes that round at once."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, log_in, screenshot

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
QUESTIONS = {
    "Cơ quan nào chủ trì Chỉ số cải cách hành chính (PAR INDEX)?": "Bộ Nội vụ",
    "Chỉ số SIPAS đo lường điều gì?": "Sự hài lòng của người dân",
    "Bộ phận Một cửa thuộc cấp nào tiếp nhận hồ sơ?": "Mọi cấp chính quyền",
}
BANK = "bank: Ngân hàng hành trình\ncategories:\n  - name: Chỉ số CCHC\n    questions:\n" + "".join(
    f'      - id: ht-{n}\n        text: "{text}"\n        options:\n'
    f'          - {{text: "{right}", correct: true}}\n          - {{text: "Không phải"}}\n'
    for n, (text, right) in enumerate(QUESTIONS.items(), 1)
)


def test_a_bank_imported_and_a_round_opened_in_the_browser_can_be_taken(
    live_server, browser, desktop, tmp_path
):
    base = live_server["url"]
    page = desktop.new_page()
    log_in(page, base, "bantochuc@demo.vn")

    # The bank, through the upload page.
    page.get_by_role("link", name="Ngân hàng câu hỏi").click()
    page.locator('[data-testid="import-bank"]').click()
    file = tmp_path / "hanh-trinh.yaml"
    file.write_text(BANK, encoding="utf-8")
    page.set_input_files("#file", str(file))
    page.locator('[data-testid="upload-form"] button[type=submit]').click()
    page.locator('[data-testid="confirm-import"]').click()
    expect(page.locator(".flash-success")).to_contain_text("Đã nhập 3 câu hỏi")

    # A contest for everyone, and a round open from now drawing two of the three questions.
    page.get_by_role("link", name="Cuộc thi tôi tổ chức").click()
    page.get_by_role("link", name="Cuộc thi mới").click()
    page.get_by_label("Tiêu đề").fill("Hành trình trên trình duyệt")
    page.get_by_label("Địa chỉ (slug)").fill("hanh-trinh")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator("main h1")).to_have_text("Hành trình trên trình duyệt")
    page.get_by_role("link", name="Thêm đợt thi").click()
    now = datetime.now(UTC).astimezone(VIETNAM)
    page.get_by_label("Tiêu đề").fill("Đợt hành trình")
    page.get_by_label("Mở lúc (dd/mm/yyyy HH:MM, giờ Việt Nam)").fill(
        (now - timedelta(minutes=2)).strftime("%d/%m/%Y %H:%M")
    )
    page.get_by_label("Đóng lúc (dd/mm/yyyy HH:MM, giờ Việt Nam)").fill(
        (now + timedelta(days=1)).strftime("%d/%m/%Y %H:%M")
    )
    page.locator("#review").select_option("immediate")
    row = page.locator(".draw-row").first
    category = row.locator("option", has_text="Ngân hàng hành trình — Chỉ số CCHC")
    row.get_by_label("Chủ đề").select_option(category.get_attribute("value"))
    row.get_by_label("Số câu hỏi").fill("2")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_role("cell", name="Đợt hành trình")).to_be_visible()

    # A participant on a phone sees the round and takes it.
    phone = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    try:
        player = phone.new_page()
        log_in(player, base, "thisinh2@demo.vn")
        card = player.locator("section.round", has_text="Đợt hành trình")
        expect(card).to_contain_text("Hành trình trên trình duyệt")
        card.locator('[data-testid="start-attempt"]').click()
        questions = player.locator('[data-testid="question"]')
        expect(questions).to_have_count(2)
        for index in range(2):
            block = questions.nth(index)
            text = block.locator("legend").inner_text()
            asked = next(q for q in QUESTIONS if q in text)  # drawn from the new bank
            block.locator("label", has_text=QUESTIONS[asked]).click()
        expect(player.locator('[data-testid="save-status"]')).to_have_attribute(
            "data-state", "saved"
        )
        player.locator('[data-testid="submit-attempt"]').click()
        player.locator('[data-testid="confirm-submit"]').click()
        expect(player.locator('[data-testid="score"]')).to_have_text("2/2")
        assert re.search(r"/attempts/\d+/result$", player.url)
        screenshot(player, "result-new-round-360", full_page=False)
    finally:
        phone.close()
