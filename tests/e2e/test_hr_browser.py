"""HR in the browser: load a roster for its units, then download the participation list."""

import openpyxl
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot

ROSTER = (
    "full_name,unit_code,login,password,position\n"
    "Phạm Thị Dung,SGTVT-KHTC,dung.khtc@demo.vn,matkhau123,Chuyên viên\n"
    "Võ Văn Em,SGTVT-QLVT,em.qlvt@demo.vn,,Phó Trưởng phòng\n"
)


def sheet_records(path) -> tuple[list[str], list[dict]]:
    """Sheet names, and the first sheet's rows as dicts keyed by the header row."""
    book = openpyxl.load_workbook(path, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if "Họ và tên" in row)
    header = rows[header_at]
    records = [dict(zip(header, row, strict=False)) for row in rows[header_at + 1 :] if any(row)]
    return book.sheetnames, records


def test_hr_imports_a_roster_and_downloads_the_participation_list(live_server, desktop, tmp_path):
    base = live_server["url"]
    page = desktop.new_page()
    log_in(page, base, "nhansu@demo.vn")

    # The roster page, reached from the menu: two people for two divisions of the department.
    page.get_by_role("link", name="Danh sách cán bộ").click()
    roster = tmp_path / "danh-sach.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    page.set_input_files('input[type="file"]', str(roster))
    page.locator("main form button[type=submit]", has_text="Nhập").click()
    result = page.locator('[data-testid="roster-result"]')
    expect(result).to_be_visible()
    assert page.locator('[data-testid="created"]').inner_text() == "2"
    screenshot(page, "roster-imported-1280")

    # Võ Văn Em had no password in the file: his first password is handed over once.
    with page.expect_download() as passwords:
        page.locator('[data-testid="download-passwords"]').click()
    first_passwords = tmp_path / passwords.value.suggested_filename
    passwords.value.save_as(first_passwords)
    book = openpyxl.load_workbook(first_passwords, read_only=True)
    cells = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row]
    assert "Võ Văn Em" in cells and "Phạm Thị Dung" not in cells

    # Participation for the demo contest, then the XLSX download.
    page.get_by_role("link", name="Tình hình tham gia").click()
    page.select_option("#contest", value="cds-cchc-demo")
    page.locator("form.filters button[type=submit]").click()
    expect(page.locator('[data-testid="participation-totals"]')).to_be_visible()
    screenshot(page, "participation-1280")
    with page.expect_download() as download:
        page.locator('[data-testid="export-xlsx"]').click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    sheets, records = sheet_records(saved)
    assert len(sheets) >= 2  # the list and the summary by unit
    by_name = {r["Họ và tên"]: r for r in records}
    assert {"Phạm Thị Dung", "Võ Văn Em"} <= set(by_name)
    assert by_name["Phạm Thị Dung"]["Mã đơn vị"] == "SGTVT-KHTC"
    assert by_name["Phạm Thị Dung"]["Tham gia"] == "Không"
    assert by_name["Võ Văn Em"]["Chức vụ"] == "Phó Trưởng phòng"
    # HR of the department sees its own divisions only.
    assert {r["Mã đơn vị"] for r in records} <= {"SGTVT", "SGTVT-VP", "SGTVT-QLVT", "SGTVT-KHTC"}
