"""Units as a tree: import (all or nothing, parents in any order, cycles), headcounts, pages."""

import io
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from quizapp.admin.models import AuditLog
from quizapp.auth.models import Role, Unit
from quizapp.extensions import db
from quizapp.units.services import UnitTree, import_units, unit_headcounts

UNITS_CSV = """code,name,parent_code,headcount
SGTVT-VP,Văn phòng Sở,SGTVT,20
SGTVT-KHTC,Phòng Kế hoạch - Tài chính,SGTVT,
SGTVT,Sở Giao thông vận tải,QT,60
QT,UBND tỉnh Quảng Trị,,
STTTT,Sở Thông tin và Truyền thông,QT,40
"""


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Assert messages by their English msgids, whatever the Vietnamese catalog says."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


def unit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Unit))


def parents() -> dict[str, str | None]:
    units = {u.id: u for u in db.session.scalars(select(Unit))}
    return {u.code: units[u.parent_id].code if u.parent_id else None for u in units.values()}


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_import_builds_the_tree_with_parents_listed_after_children(ctx):
    report = import_units(UNITS_CSV.encode(), "units.csv")
    assert report.ok, report.describe_problems()
    assert (report.created, report.updated) == (5, 0)
    assert parents() == {
        "QT": None,
        "SGTVT": "QT",
        "SGTVT-VP": "SGTVT",
        "SGTVT-KHTC": "SGTVT",
        "STTTT": "QT",
    }
    tree = UnitTree()
    # Tree order, siblings in Vietnamese alphabetical order (Phòng < Văn phòng).
    assert [n.code for n in tree.order] == ["QT", "SGTVT", "SGTVT-KHTC", "SGTVT-VP", "STTTT"]
    assert [n.depth for n in tree.order] == [0, 1, 2, 2, 1]
    assert db.session.scalar(select(AuditLog.action)) == "units.import"


def test_reimport_updates_by_code(ctx):
    import_units(UNITS_CSV.encode(), "units.csv")
    changed = UNITS_CSV.replace("Văn phòng Sở,SGTVT,20", "Văn phòng Sở GTVT,QT,25")
    report = import_units(changed.encode(), "units.csv")
    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    assert unit_count() == 5
    office = db.session.scalar(select(Unit).where(Unit.code == "SGTVT-VP"))
    assert (office.name, office.parent.code, office.headcount) == ("Văn phòng Sở GTVT", "QT", 25)


def test_names_only_file_keeps_parents_and_headcounts(ctx):
    import_units(UNITS_CSV.encode(), "units.csv")
    report = import_units("Mã đơn vị;Tên đơn vị\nSGTVT;Sở GTVT\n".encode(), "names.csv")
    assert report.ok and report.updated == 1
    unit = db.session.scalar(select(Unit).where(Unit.code == "SGTVT"))
    assert (unit.name, unit.parent.code, unit.headcount) == ("Sở GTVT", "QT", 60)


def test_unknown_parent_is_an_error_by_row_and_nothing_is_written(ctx):
    bad = UNITS_CSV.replace("STTTT,Sở Thông tin và Truyền thông,QT", "STTTT,Sở TTTT,XYZ")
    report = import_units(bad.encode(), "units.csv")
    assert not report.ok
    assert report.describe_problems() == [
        "units.csv: row 6: Unit 'STTTT': parent code 'XYZ' is neither in the file nor an "
        "existing unit."
    ]
    assert unit_count() == 0


def test_cycles_are_errors_on_each_row_involved(ctx):
    text = "code,name,parent_code\nA,Đơn vị A,C\nB,Đơn vị B,A\nC,Đơn vị C,B\nD,Đơn vị D,A\nE,E,E\n"
    report = import_units(text.encode(), "cycle.csv")
    rows = {p.row: str(p.message) for p in report.problems}
    assert set(rows) == {2, 3, 4, 6}
    assert "A → C → B → A" in rows[2]
    assert "E → E" in rows[6]
    assert unit_count() == 0


def test_cycle_through_an_existing_unit_is_caught(ctx, make_unit):
    top = make_unit("TOP")
    make_unit("MID", parent=top)
    report = import_units(b"code,name,parent_code\nTOP,Top,MID\n", "units.csv")
    assert not report.ok
    assert "TOP → MID → TOP" in report.describe_problems()[0]
    assert db.session.get(Unit, top.id).parent_id is None


def test_duplicate_codes_and_bad_headcount(ctx):
    text = "code,name,headcount\nA,Một,10\nA,Hai,5\nB,Ba,mười\nC,,-3\n"
    report = import_units(text.encode(), "units.csv")
    described = report.describe_problems()
    assert described[0] == "units.csv: row 3: Unit code 'A' is listed twice (first in row 2)."
    assert "row 4: Headcount 'mười' is not a whole number" in described[1]
    assert [p.row for p in report.problems] == [3, 4, 5, 5]
    assert unit_count() == 0


def test_xlsx_import_and_empty_or_unreadable_files(ctx):
    header = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Biên chế"]
    data = xlsx([header, ["X", "Sở X", None, 12.0]])
    report = import_units(data, "units.xlsx")
    assert report.ok and db.session.scalar(select(Unit.headcount)) == 12

    assert "empty" in import_units(b"", "empty.csv").describe_problems()[0]
    header_only = import_units(xlsx([["code", "name"]]), "header.xlsx")
    assert header_only.describe_problems() == [
        "header.xlsx: row 1: The sheet has a header row but no data rows."
    ]
    broken = import_units(b"PK-junk", "broken.xlsx").describe_problems()
    assert broken == [
        "broken.xlsx: This is not an Excel .xlsx file (an old .xls file, or another file "
        "renamed?); save it as .xlsx."
    ]
    missing = import_units(b"code,title\nA,B\n", "units.csv").describe_problems()[0]
    assert missing.startswith("units.csv: row 1: Missing column(s) name")


def cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: letters with breve, circumflex or horn whole, tones apart."""
    out = b""
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = decomposed[-1]
            out += unicodedata.normalize("NFC", decomposed[:-1]).encode("cp1258")
            out += tone.encode("cp1258")
    return out


def test_windows_1258_csv_names_the_row_and_asks_for_utf8(ctx):
    text = "code,name\nA,Van phong\nB,Sở Tư pháp\n"
    data = cp1258(text)
    assert unicodedata.normalize("NFC", data.decode("cp1258")) == text
    report = import_units(data, "units.csv")
    (problem,) = report.describe_problems()
    assert problem.startswith("units.csv: row 3: The file is not UTF-8")
    assert "CSV UTF-8" in problem
    assert unit_count() == 0


def test_headcount_from_typed_numbers_and_from_the_roster(ctx, make_unit, make_user):
    province = make_unit("P", headcount=500)
    dept = make_unit("D", parent=province, headcount=100)
    division = make_unit("D1", parent=dept, headcount=30)
    make_unit("D2", parent=dept, headcount=40)
    other = make_unit("O", parent=province, headcount=70)
    assert unit_headcounts()[province.id] == 500  # typed numbers include sub-units

    for _ in range(3):
        user = make_user(unit=division)
        user.on_roster = True
    make_user(unit=division)  # an account that is not on the roster
    db.session.commit()
    counts = unit_headcounts()
    assert counts[division.id] == 3  # the roster wins over the typed 30
    assert counts[dept.id] == 3 + 40  # roster below: own roster + sub-units (D2 still typed)
    assert counts[province.id] == 43 + 70
    assert counts[other.id] == 70


def test_units_cli(ctx, runner, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(UNITS_CSV, encoding="utf-8-sig")
    result = runner.invoke(args=["units", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 5 units: 5 new" in result.output
    listing = runner.invoke(args=["units", "list"]).output
    assert "    SGTVT-VP  Văn phòng Sở  20 (typed)" in listing

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,parent_code\nZ,Z,NOPE\n", encoding="utf-8")
    result = runner.invoke(args=["units", "import", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv: row 2: Unit 'Z': parent code 'NOPE'" in result.output


def login(client, user):
    response = client.post("/login", data={"login": user.login, "password": "secret123"})
    assert response.status_code == 302


def test_admin_edits_units_others_may_not(client, make_unit, make_user):
    top = make_unit("TOP", name="Tỉnh")
    child = make_unit("CHILD", name="Sở", parent=top)
    admin = make_user(role=Role.ADMIN)
    login(client, admin)
    page = client.get("/units?lang=en").get_data(as_text=True)
    assert "Tỉnh" in page and 'data-code="CHILD"' in page

    response = client.post(
        f"/units/{child.id}/edit",
        data={"code": "CHILD", "name": "Sở mới", "parent_id": top.id, "headcount": "35"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (child.name, child.headcount) == ("Sở mới", 35)
    # A unit cannot be put under its own child: the choice is not offered.
    response = client.post(
        f"/units/{top.id}/edit", data={"code": "TOP", "name": "Tỉnh", "parent_id": child.id}
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert top.parent_id is None
    response = client.post("/units/new", data={"code": "NEW", "name": "Mới", "parent_id": 0})
    assert response.status_code == 302
    assert db.session.scalar(select(Unit).where(Unit.code == "NEW")).parent_id is None
    assert {a for (a,) in db.session.execute(select(AuditLog.action))} == {
        "unit.update",
        "unit.create",
    }

    client.post("/logout")
    hr = make_user(role=Role.HR, unit=child)
    login(client, hr)
    page = client.get("/units").get_data(as_text=True)
    assert 'data-code="CHILD"' in page and 'data-code="TOP"' not in page  # own subtree only
    assert client.get(f"/units/{child.id}/edit").status_code == 403
    client.post("/logout")
    login(client, make_user())
    assert client.get("/units").status_code == 403


def test_admin_uploads_units(client, make_user):
    login(client, make_user(role=Role.ADMIN))
    bad = {"file": (io.BytesIO(b"code,name,parent_code\nA,A,B\n"), "u.csv")}
    response = client.post("/units/import", data=bad, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "u.csv: row 2: Unit &#39;A&#39;: parent code &#39;B&#39;" in response.get_data(
        as_text=True
    )
    good = {"file": (io.BytesIO(UNITS_CSV.encode()), "u.csv")}
    response = client.post("/units/import", data=good, content_type="multipart/form-data")
    assert response.status_code == 302
    assert unit_count() == 5


def test_unknown_or_huge_unit_ids_are_404(client, make_user):
    login(client, make_user(role=Role.ADMIN))
    assert client.get("/units/999/edit").status_code == 404
    assert client.get(f"/units/{2**70}/edit").status_code == 404
