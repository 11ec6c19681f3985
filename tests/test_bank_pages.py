"""Organizer bank pages: upload, preview and confirm; question list; edit; deactivate; export."""

import io
import unicodedata
from datetime import timedelta

import pytest
import yaml
from sqlalchemy import func, select

from quizapp.admin.models import AuditLog
from quizapp.attempts.models import AttemptQuestion
from quizapp.attempts.services import start_attempt
from quizapp.auth.models import Role
from quizapp.banks.models import Category, Option, Question, QuestionBank
from quizapp.banks.services import (
    case_blind_pattern,
    claim_upload,
    import_bank,
    load_upload,
    release_upload,
    store_upload,
)
from quizapp.contests.models import Contest, Round, RoundDraw
from quizapp.draws import available_questions
from quizapp.errors import NotFound
from quizapp.extensions import db
from tests.conftest import DATA, START

BANK_YAML = """\
bank: Ngân hàng mới
categories:
  - name: Cải cách hành chính
    questions:
      - id: n-1
        text: "Chương trình tổng thể CCHC 2021–2030 ban hành kèm văn bản nào?"
        options:
          - {text: "Nghị quyết 76/NQ-CP", correct: true}
          - {text: "Nghị quyết 30c/NQ-CP"}
      - id: n-2
        text: "Ai là Trưởng Ban Chỉ đạo CCHC của Chính phủ?"
        options:
          - {text: "Thủ tướng Chính phủ", correct: true}
          - {text: "Bộ trưởng Bộ Nội vụ"}
  - name: Chuyển đổi số
    questions:
      - id: n-3
        text: "Ngày Chuyển đổi số quốc gia là ngày nào?"
        options:
          - {text: "10 tháng 10", correct: true}
          - {text: "2 tháng 9"}
"""

AIKEN_WITH_ERROR = "Câu hỏi một?\nA) Một\nB) Hai\nANSWER: A\n\nCâu hỏi hai?\nA) Ba\nB) Bốn\n"


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Assert messages by their English msgids, whatever the Vietnamese catalog says."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture(autouse=True)
def upload_folder(app, monkeypatch, tmp_path):
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "BANK_UPLOAD_FOLDER", str(folder))
    return folder


@pytest.fixture
def organizer(make_user):
    return make_user(role=Role.ORGANIZER)


@pytest.fixture
def bank(bank, organizer):
    """The small test bank, imported by the page's organizer (who may change it)."""
    bank.created_by_id = organizer.id
    db.session.commit()
    return bank


@pytest.fixture
def make_round(make_round, organizer):
    """Rounds of contests the page's organizer runs: they keep the right to change the bank."""

    def make(**fields):
        round_ = make_round(**fields)
        round_.contest.organizers.append(organizer)
        db.session.commit()
        return round_

    return make


def login(client, user):
    response = client.post("/login", data={"login": user.login, "password": "secret123"})
    assert response.status_code == 302


def upload(client, content, filename, target="file", new_name="", skip=False):
    """POST the upload form; returns the response (a redirect to the preview when valid)."""
    data = {
        "file": (io.BytesIO(content if isinstance(content, bytes) else content.encode()), filename),
        "target": str(target),
        "new_name": new_name,
    }
    if skip:
        data["skip_unsupported"] = "y"
    return client.post("/banks/import", data=data, content_type="multipart/form-data")


def preview_url(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def question_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Question))


def audit(action: str) -> list[AuditLog]:
    return list(
        db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
    )


def category_row(page: str, name: str) -> str:
    start = page.index(f'data-category="{name}"')
    return page[start : page.index("</tr>", start)]


# --- upload, preview, confirm ---------------------------------------------------------------


def test_preview_counts_per_category_and_writes_nothing(client, organizer, upload_folder):
    login(client, organizer)
    url = preview_url(upload(client, BANK_YAML, "moi.yaml"))
    page = client.get(url).get_data(as_text=True)
    assert "Ngân hàng mới (new bank)" in page
    cchc = category_row(page, "Cải cách hành chính")
    assert 'data-testid="count">2<' in cchc and 'data-testid="new">2<' in cchc
    assert 'data-testid="count">1<' in category_row(page, "Chuyển đổi số")
    assert "disabled" not in page[page.index('data-testid="confirm-import"') :].split(">")[0]
    # Nothing written: no bank, no question, no audit entry; the bytes wait on the server.
    assert question_count() == 0
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 0
    assert audit("bank.import") == []
    assert len(list(upload_folder.glob("*.data"))) == 1


def test_preview_against_a_bank_shows_new_updated_unchanged(client, organizer, bank):
    changed = yaml.safe_load((DATA / "small-bank.yaml").read_text(encoding="utf-8"))
    cchc = changed["categories"][0]["questions"]
    cchc[0]["text"] = "Văn bản nào ban hành Chương trình tổng thể CCHC 2021–2030?"
    cchc.append(
        {
            "id": "t-005",
            "text": "Câu hỏi mới về CCHC?",
            "options": [{"text": "Có", "correct": True}, {"text": "Không"}],
        }
    )
    login(client, organizer)
    response = upload(client, yaml.safe_dump(changed, allow_unicode=True), "small-bank.yaml")
    page = client.get(preview_url(response)).get_data(as_text=True)
    assert "Ngân hàng thử nghiệm (existing bank)" in page
    row = category_row(page, "Cải cách hành chính")
    assert 'data-testid="new">1<' in row
    assert 'data-testid="updated">1<' in row
    assert 'data-testid="unchanged">3<' in row
    assert 'data-testid="unchanged">4<' in category_row(page, "Chuyển đổi số")
    db.session.expire_all()
    assert question_count() == 8  # unchanged until confirmed


def test_errors_are_listed_with_lines_and_block_the_import(client, organizer, upload_folder):
    login(client, organizer)
    url = preview_url(upload(client, AIKEN_WITH_ERROR, "cau-hoi.txt", "new", "Aiken"))
    page = client.get(url).get_data(as_text=True)
    assert "Line 6:</strong> this question has no ANSWER line" in page
    assert 'data-testid="confirm-import" disabled' in page
    # A confirm sent anyway (the button is disabled, not the route) writes nothing.
    response = client.post(url + "/confirm")
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert question_count() == 0
    assert audit("bank.import") == []

    csv = "Chủ đề,Câu hỏi,A,B,Đáp án đúng\nCCHC,Câu một?,Có,Không,A\nCCHC,Câu hai?,Có,Không,E\n"
    page = client.get(preview_url(upload(client, csv, "b.csv", "new", "CSV"))).get_data(
        as_text=True
    )
    assert "Row 3:</strong> correct answer E names no filled option column" in page


def test_a_file_naming_no_bank_needs_a_choice(client, organizer):
    login(client, organizer)
    aiken = "Câu hỏi một?\nA) Một\nB) Hai\nANSWER: A\n"
    page = client.get(preview_url(upload(client, aiken, "a.txt"))).get_data(as_text=True)
    assert "The file names no bank" in page
    assert 'data-testid="confirm-import" disabled' in page
    page = client.get(preview_url(upload(client, aiken, "a.txt", "new", "Aiken"))).get_data(
        as_text=True
    )
    assert 'data-testid="confirm-import" disabled' not in page


def test_confirm_imports_exactly_the_previewed_file_and_audits(client, organizer, upload_folder):
    login(client, organizer)
    url = preview_url(upload(client, BANK_YAML, "moi.yaml", skip=True))
    # The stored bytes are what gets imported, whatever arrives with the confirmation.
    response = client.post(
        url + "/confirm",
        data={"file": (io.BytesIO(b"bank: other"), "x.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    bank = db.session.scalar(select(QuestionBank))
    assert bank.name == "Ngân hàng mới"
    assert response.headers["Location"].endswith(f"/banks/{bank.id}")
    assert question_count() == 3
    [entry] = audit("bank.import")
    assert entry.user_id == organizer.id
    assert entry.target == "Ngân hàng mới"
    assert entry.details == {"filename": "moi.yaml", "created": 3, "updated": 0, "unchanged": 0}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Imported 3 questions into “Ngân hàng mới”: 3 new, 0 updated, 0 unchanged." in page
    assert list(upload_folder.iterdir()) == []  # used once, then removed
    assert client.post(url + "/confirm").status_code == 404


def test_import_into_a_chosen_bank(client, organizer, bank):
    login(client, organizer)
    url = preview_url(upload(client, BANK_YAML, "moi.yaml", target=bank.id))
    assert "Ngân hàng thử nghiệm (existing bank)" in client.get(url).get_data(as_text=True)
    client.post(url + "/confirm")
    assert db.session.scalar(select(func.count()).select_from(QuestionBank)) == 1
    assert question_count() == 11


def test_upload_form_refuses_bad_input_with_a_message(app, client, organizer, bank, monkeypatch):
    login(client, organizer)
    response = upload(client, b"whatever", "bank.docx")
    assert response.status_code == 422
    assert "This file type cannot be read; upload one of:" in response.get_data(as_text=True)
    response = upload(client, BANK_YAML, "moi.yaml", "new", "")
    assert "Type a name for the new bank." in response.get_data(as_text=True)
    response = upload(client, BANK_YAML, "moi.yaml", "new", "Ngân hàng thử nghiệm")
    assert "A bank with this name exists already" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "BANK_UPLOAD_MAX_BYTES", 200 * 1024)
    page = client.get("/banks/import").get_data(as_text=True)
    assert "at most 200 KB" in page
    response = upload(client, b"x" * (300 * 1024), "big.yaml")
    assert response.status_code == 422
    assert "The file is 300 KB; the limit is 200 KB." in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 100 * 1024)
    response = upload(client, b"x" * (150 * 1024), "huge.yaml")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The file is larger than 100 KB." in page
    response = upload(client, b"", "empty.yaml")
    assert "The file is empty." in response.get_data(as_text=True)


def test_unsupported_types_can_be_skipped(client, organizer):
    gift = "::Q1:: Viết một đoạn văn {}\n\n::Q2:: Đúng không? {=Có ~Không}\n"
    login(client, organizer)
    page = client.get(preview_url(upload(client, gift, "g.gift", "new", "GIFT"))).get_data(
        as_text=True
    )
    assert "Line 1:</strong> Essay questions are not supported" in page
    assert "tick “Leave out question types" in page
    url = preview_url(upload(client, gift, "g.gift", "new", "GIFT", skip=True))
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="import-warnings"' in page and "Essay question skipped" in page
    client.post(url + "/confirm")
    assert question_count() == 1


def test_pending_upload_is_the_uploaders_and_expires(client, organizer, make_user, clock):
    login(client, organizer)
    url = preview_url(upload(client, BANK_YAML, "moi.yaml"))
    client.post("/logout")
    login(client, make_user(role=Role.ORGANIZER))
    assert client.get(url).status_code == 404
    assert client.post(url + "/confirm").status_code == 404
    client.post("/logout")
    login(client, organizer)
    clock.at = START + timedelta(hours=2)
    assert client.get(url).status_code == 404
    assert client.get("/banks/import/..%2F..%2Fetc").status_code == 404
    assert question_count() == 0


def test_a_pending_upload_is_claimed_once(upload_folder, clock):
    """Two simultaneous confirmations (a double click): only the first gets the file."""
    pending = store_upload(
        upload_folder,
        BANK_YAML.encode(),
        "moi.yaml",
        user_id=7,
        bank_name=None,
        skip_unsupported=False,
        now=clock.now(),
        max_age=timedelta(hours=1),
    )
    args = {"user_id": 7, "now": clock.now(), "max_age": timedelta(hours=1)}
    assert claim_upload(upload_folder, pending.token, **args).data == BANK_YAML.encode()
    with pytest.raises(NotFound):
        claim_upload(upload_folder, pending.token, **args)
    release_upload(upload_folder, pending.token)  # the import failed: the preview shows it again
    assert load_upload(upload_folder, pending.token, **args).filename == "moi.yaml"
    with pytest.raises(NotFound):
        load_upload(upload_folder, pending.token, **{**args, "user_id": 8})


# --- question list ---------------------------------------------------------------------------


def listed(page: str) -> int:
    return page.count("data-question=")


def test_search_is_case_blind_with_diacritics_as_typed(client, organizer, bank):
    login(client, organizer)
    base = f"/banks/{bank.id}"
    assert listed(client.get(base).get_data(as_text=True)) == 8
    # Upper case Vietnamese letters match lower case ones (SQLite's LIKE would not).
    page = client.get(base, query_string={"q": "CHƯƠNG TRÌNH TỔNG THỂ"}).get_data(as_text=True)
    assert listed(page) == 3
    assert listed(client.get(base, query_string={"q": "chuyển ĐỔI số"}).get_data(as_text=True)) == 2
    # Decomposed input (some keyboards and Mac copies send NFD) matches the stored NFC text.
    decomposed = unicodedata.normalize("NFD", "chuyển đổi số")
    assert listed(client.get(base, query_string={"q": decomposed}).get_data(as_text=True)) == 2
    # Diacritics count: "chuong trinh" is another word.
    assert listed(client.get(base, query_string={"q": "chuong trinh"}).get_data(as_text=True)) == 0
    # Regular-expression characters are taken literally.
    assert listed(client.get(base, query_string={"q": "2021–2030?"}).get_data(as_text=True)) == 1
    assert listed(client.get(base, query_string={"q": "(chọn"}).get_data(as_text=True)) == 1
    assert listed(client.get(base, query_string={"q": "t-103"}).get_data(as_text=True)) == 1


def test_filters_combine(client, organizer, bank):
    digital = db.session.scalar(select(Category).where(Category.name == "Chuyển đổi số"))
    hard = db.session.scalar(select(Question).where(Question.external_id == "t-104"))
    hard.is_active = False
    db.session.commit()
    login(client, organizer)
    base = f"/banks/{bank.id}"

    def count(**args):
        return listed(client.get(base, query_string=args).get_data(as_text=True))

    assert count(category=digital.id) == 4
    assert count(category=digital.id, difficulty=1) == 2
    assert count(kind="true_false") == 1
    assert count(kind="multiple") == 1
    assert count(status="inactive") == 1
    assert count(status="active", category=digital.id) == 3
    # Nonsense in the query string means no filter, never an error.
    assert count(category="x", difficulty="9", kind="essay", status="?", page="-3") == 8


def test_question_list_is_paginated(client, organizer):
    questions = [
        {
            "id": f"q-{n:03}",
            "text": f"Câu hỏi số {n}?",
            "options": [{"text": "Có", "correct": True}, {"text": "Không"}],
        }
        for n in range(1, 121)
    ]
    document = {"bank": "Lớn", "categories": [{"name": "Chung", "questions": questions}]}
    assert import_bank(yaml.safe_dump(document, allow_unicode=True).encode(), "big.yaml").ok
    bank = db.session.scalar(select(QuestionBank))
    login(client, organizer)
    page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert listed(page) == 50 and "Page 1 of 3" in page and "120 questions" in page
    page = client.get(f"/banks/{bank.id}?page=3&q=câu").get_data(as_text=True)
    assert listed(page) == 20 and 'rel="prev"' in page and "q=c%C3%A2u" in page
    assert listed(client.get(f"/banks/{bank.id}?page=9").get_data(as_text=True)) == 0


def test_imported_markup_is_shown_as_text(client, organizer):
    document = BANK_YAML.replace(
        "Ai là Trưởng Ban Chỉ đạo CCHC của Chính phủ?", "<script>alert(1)</script> là gì?"
    ).replace("Bộ trưởng Bộ Nội vụ", "<b>đậm</b>")
    login(client, organizer)
    url = preview_url(upload(client, document, "xss.yaml"))
    client.post(url + "/confirm")
    question = db.session.scalar(select(Question).where(Question.external_id == "n-2"))
    for path in (f"/banks/{question.bank_id}", f"/banks/questions/{question.id}/edit"):
        page = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; là gì?" in page
        assert "<script>alert" not in page
    assert "&lt;b&gt;đậm&lt;/b&gt;" in page and "<b>đậm" not in page
    # An error message quoting the file's text escapes it too.
    bad = document.replace("2 tháng 9", "10 tháng 10").replace("10 tháng 10", "<i>x</i>")
    page = client.get(preview_url(upload(client, bad, "bad.yaml"))).get_data(as_text=True)
    assert "&lt;i&gt;x&lt;/i&gt;" in page and "<i>x</i>" not in page


# --- edit ------------------------------------------------------------------------------------


def edit_data(question: Question, **changes) -> dict:
    """The edit form as the page fills it for this question, with changes."""
    data = {
        "text": question.text,
        "kind": question.kind,
        "category_id": str(question.category_id),
        "difficulty": str(question.difficulty),
        "explanation": question.explanation or "",
        "source": question.source or "",
    }
    if question.shuffle_options:
        data["shuffle"] = "y"
    options = changes.pop("options", None)
    if options is None:
        options = [(o.text, o.is_correct, o.id) for o in question.options]
    for index, (text, correct, option_id) in enumerate(options):
        data[f"options-{index}-text"] = text
        data[f"options-{index}-option_id"] = str(option_id or "")
        if correct:
            data[f"options-{index}-correct"] = "y"
    data.update(changes)
    return data


def question_by_id(external_id: str) -> Question:
    return db.session.scalar(select(Question).where(Question.external_id == external_id))


@pytest.mark.parametrize(
    ("options", "kind", "message"),
    [
        ([("Một", True, None)], "single", "A question needs at least two options."),
        ([("Một", False, None), ("Hai", False, None)], "single", "Mark at least one option"),
        (
            [("Một", True, None), ("Hai", True, None)],
            "single",
            "exactly one correct option; 2 are marked",
        ),
        (
            [("Một", True, None), (" một ", False, None)],
            "single",
            "The option “Một” appears twice.",
        ),
        (
            [("Đúng", True, None), ("Sai", False, None), ("Không rõ", False, None)],
            "true_false",
            "A true/false question has exactly two options.",
        ),
        ([("Một", True, None), ("", True, None)], "multiple", "An option has no text"),
    ],
)
def test_edit_is_checked_like_an_import(client, organizer, bank, options, kind, message):
    question = question_by_id("t-001")
    before = [(o.id, o.text, o.is_correct) for o in question.options]
    login(client, organizer)
    response = client.post(
        f"/banks/questions/{question.id}/edit",
        data=edit_data(question, options=options, kind=kind, text="Câu đã sửa?"),
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert question.text.startswith("Chương trình tổng thể")
    assert [(o.id, o.text, o.is_correct) for o in question.options] == before
    assert audit("question.edit") == []


def test_edit_saves_options_and_audits_before_and_after(client, organizer, bank):
    question = question_by_id("t-001")
    first, second, third, _fourth = question.options
    digital = db.session.scalar(select(Category).where(Category.name == "Chuyển đổi số"))
    login(client, organizer)
    data = edit_data(
        question,
        text="Câu 5. Văn bản  nào ban hành Chương trình tổng thể CCHC?",
        category_id=str(digital.id),
        difficulty="2",
        options=[
            (first.text, True, first.id),
            (second.text + " (sửa)", False, second.id),
            (third.text, False, third.id),
            ("Chỉ thị 23/CT-TTg", False, _fourth.id),
            ("", False, None),  # an empty row is ignored
            ("Tất cả các đáp án trên", False, None),
        ],
    )
    data["options-2-remove"] = "y"
    response = client.post(f"/banks/questions/{question.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    # Normalised as on import ("Câu 5." prefix, double space); an option referring to the
    # others turns shuffling off.
    assert question.text == "Văn bản nào ban hành Chương trình tổng thể CCHC?"
    assert (question.category_id, question.difficulty) == (digital.id, 2)
    assert question.shuffle_options is False
    assert [(o.text, o.is_correct) for o in question.options] == [
        ("Nghị quyết 76/NQ-CP", True),
        ("Nghị quyết 30c/NQ-CP (sửa)", False),
        ("Chỉ thị 23/CT-TTg", False),
        ("Tất cả các đáp án trên", False),
    ]
    assert [o.id for o in question.options][:3] == [first.id, second.id, _fourth.id]
    assert db.session.get(Option, third.id) is None
    [entry] = audit("question.edit")
    assert entry.user_id == organizer.id
    assert entry.details["before"]["category"] == "Cải cách hành chính"
    assert entry.details["after"]["category"] == "Chuyển đổi số"
    assert entry.details["after"]["text"] == question.text
    assert set(entry.details["before"]) == {
        "text",
        "category",
        "difficulty",
        "shuffle",
        "options",
    }
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Question saved." in page and "keep their order" in page


def test_add_option_button_adds_a_row_and_saves_nothing(client, organizer, bank):
    question = question_by_id("t-102")  # three options
    login(client, organizer)
    page = client.get(f"/banks/questions/{question.id}/edit").get_data(as_text=True)
    assert page.count('data-testid="option-row"') == 5  # three plus two empty
    data = edit_data(question, text="Không lưu")
    data["add_option"] = "1"
    response = client.post(f"/banks/questions/{question.id}/edit", data=data)
    assert response.get_data(as_text=True).count('data-testid="option-row"') == 4
    db.session.expire_all()
    assert question.text != "Không lưu"
    # Every input of the form has a label.
    for name in ("options-0-text", "options-0-correct", "options-0-remove", "text", "source"):
        assert f'for="{name}"' in page


def test_editing_never_changes_a_past_attempt(client, organizer, make_user, make_round, clock):
    round_ = make_round(draw=[("Cải cách hành chính", 4, None)])
    participant = make_user()
    attempt, _created = start_attempt(participant, round_, clock.now())
    db.session.commit()
    question = question_by_id("t-001")
    frozen = db.session.scalar(
        select(AttemptQuestion.snapshot).where(AttemptQuestion.question_id == question.id)
    )
    login(client, organizer)
    options = [(o.text, o.is_correct, o.id) for o in question.options]
    options[0], options[1] = (options[0][0], False, options[0][2]), (options[1][0], True, None)
    response = client.post(
        f"/banks/questions/{question.id}/edit",
        data=edit_data(question, text="Câu hỏi đã sửa hoàn toàn?", options=options[:3]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert question.text == "Câu hỏi đã sửa hoàn toàn?"
    snapshot = db.session.scalar(
        select(AttemptQuestion.snapshot).where(AttemptQuestion.question_id == question.id)
    )
    assert snapshot == frozen
    assert snapshot["text"].startswith("Chương trình tổng thể")
    assert [o["text"] for o in snapshot["options"] if o["correct"]] == ["Nghị quyết 76/NQ-CP"]
    # The attempt page still shows the text as drawn.
    client.post("/logout")
    login(client, participant)
    page = client.get(f"/attempts/{attempt.id}").get_data(as_text=True)
    assert "Chương trình tổng thể cải cách hành chính" in page
    assert "Câu hỏi đã sửa hoàn toàn?" not in page


# --- deactivate, reactivate, delete ---------------------------------------------------------


def test_deactivated_questions_are_not_drawn(client, organizer, make_user, make_round, clock):
    round_ = make_round(draw=[("Cải cách hành chính", 3, None)])
    question = question_by_id("t-001")
    login(client, organizer)
    response = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    assert response.status_code == 302
    for _n in range(3):
        attempt, _created = start_attempt(make_user(), round_, clock.now())
        drawn = {aq.question_id for aq in attempt.questions}
        assert len(drawn) == 3 and question.id not in drawn
    # The contest set-up counts only active questions when it checks a draw.
    assert available_questions(question.category_id, None) == 3
    # A second one would leave the open round short (refused: see the tests further down).
    # Once the round has closed nothing draws from the category any more.
    second = question_by_id("t-002")
    clock.advance(days=8)
    client.post(f"/banks/questions/{second.id}/status", data={"active": "0"})
    assert available_questions(question.category_id, None) == 2
    client.post(f"/banks/questions/{second.id}/status", data={"active": "1"})
    assert available_questions(question.category_id, None) == 3
    actions = [
        (e.action, e.details["question_id"])
        for e in db.session.scalars(
            select(AuditLog).where(AuditLog.action.like("question.%")).order_by(AuditLog.id)
        )
    ]
    assert actions == [
        ("question.deactivate", question.id),
        ("question.deactivate", second.id),
        ("question.reactivate", second.id),
    ]
    assert "Inactive" in client.get(f"/banks/{question.bank_id}?status=inactive").get_data(
        as_text=True
    )


def test_only_a_never_used_question_may_be_deleted(client, organizer, make_user, make_round, clock):
    round_ = make_round(draw=[("Cải cách hành chính", 4, None)])
    start_attempt(make_user(), round_, clock.now())
    db.session.commit()
    used = question_by_id("t-001")
    unused = question_by_id("t-101")
    login(client, organizer)
    page = client.get(f"/banks/questions/{used.id}/edit").get_data(as_text=True)
    assert 'data-testid="delete-question"' not in page and "1 attempts have used" in page
    response = client.post(f"/banks/questions/{used.id}/delete")
    assert response.status_code == 302
    assert "cannot be deleted; deactivate it instead" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert db.session.get(Question, used.id) is not None
    response = client.post(f"/banks/questions/{unused.id}/delete")
    assert response.headers["Location"].endswith(f"/banks/{unused.bank_id}")
    db.session.expire_all()
    assert db.session.get(Question, unused.id) is None
    [entry] = audit("question.delete")
    assert entry.details["question"]["text"].startswith("Ngày Chuyển đổi số")


# --- export ----------------------------------------------------------------------------------


@pytest.mark.parametrize("format_name", ["yaml", "gift", "xlsx"])
def test_export_imports_back_unchanged(client, organizer, bank, format_name):
    login(client, organizer)
    response = client.get(f"/banks/{bank.id}/export/{format_name}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    report = import_bank(response.data, f"x.{format_name}", bank_name=bank.name, dry_run=True)
    assert report.ok and (report.created, report.updated, report.unchanged) == (0, 0, 8)
    assert client.get(f"/banks/{bank.id}/export/pdf").status_code == 404


# --- access ----------------------------------------------------------------------------------


def test_only_organizers_and_admins(client, make_user, bank):
    question = db.session.scalar(select(Question))
    pages = ["/banks/", "/banks/import", f"/banks/{bank.id}", f"/banks/{bank.id}/export/yaml"]
    pages.append(f"/banks/questions/{question.id}/edit")
    posts = [
        f"/banks/questions/{question.id}/edit",
        f"/banks/questions/{question.id}/status",
        f"/banks/questions/{question.id}/delete",
        "/banks/import",
        "/banks/import/" + "a" * 32 + "/confirm",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for role in (Role.PARTICIPANT, Role.HR):
        login(client, make_user(role=role))
        assert "/banks/" not in client.get("/").get_data(as_text=True)  # no nav link
        for path in pages:
            assert client.get(path).status_code == 403, (role, path)
        for path in posts:
            assert client.post(path, data={"active": "0"}).status_code == 403, (role, path)
        client.post("/logout")
    assert db.session.get(Question, question.id).is_active
    for role in (Role.ORGANIZER, Role.ADMIN):
        login(client, make_user(role=role))
        assert 'href="/banks/"' in client.get("/").get_data(as_text=True)
        for path in pages[:-1]:
            assert client.get(path).status_code == 200, (role, path)
        # Changing the bank is for whoever imported it (no contest draws from it) and admins.
        edit = client.get(pages[-1]).status_code
        assert edit == (200 if role == Role.ADMIN else 404), role
        client.post("/logout")


def test_forms_carry_csrf_tokens(app, client, organizer, bank, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post(
        "/login", data={"login": organizer.login, "password": "secret123", "csrf_token": token}
    )
    assert response.status_code == 302
    question = question_by_id("t-001")
    response = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    assert response.status_code == 400
    db.session.expire_all()
    assert question.is_active
    page = client.get(f"/banks/questions/{question.id}/edit").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3
    assert "<script" not in page.split("</header>")[1]


def test_pages_are_in_vietnamese(app, client, organizer, bank, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "vi")
    login(client, organizer)
    page = client.get("/banks/").get_data(as_text=True)
    assert "Ngân hàng câu hỏi" in page
    question = question_by_id("t-001")
    response = client.post(
        f"/banks/questions/{question.id}/edit",
        data=edit_data(question, options=[("Một", False, None), ("Hai", False, None)]),
    )
    assert "Hãy đánh dấu ít nhất một đáp án đúng." in response.get_data(as_text=True)
    # The readers' fixed messages are translated on the preview, with the line.
    url = preview_url(upload(client, AIKEN_WITH_ERROR, "cau-hoi.txt", "new", "Aiken"))
    page = client.get(url).get_data(as_text=True)
    assert "Dòng 6:</strong> câu hỏi này không có dòng ANSWER" in page


def test_case_blind_pattern_escapes_and_folds():
    assert case_blind_pattern("Đổi 1.5") == "[đĐ][ổỔ][iI]\\ 1\\.5"


# --- banks behind a live contest -------------------------------------------------------------

CCHC_SHORT = (
    "“Cuộc thi thử”, round 1 (Tuần 1) draws {needed} questions from the category "
    "“Cải cách hành chính”; this change would leave {left}."
)


@pytest.fixture
def other_organizer(make_user):
    """An organizer who runs a contest of their own, drawing from a bank of their own."""
    return make_user("btc@khac.vn", role=Role.ORGANIZER)


def run_contest(organizer, category: Category, count: int, *, slug="khac") -> Round:
    """A contest of `organizer`, open now, whose one round draws `count` from `category`."""
    round_ = Round(
        contest=Contest(slug=slug, title="Cuộc thi khác", organizers=[organizer]),
        number=1,
        title="Tuần 1",
        opens_at=START - timedelta(hours=1),
        closes_at=START + timedelta(days=7),
        draws=[RoundDraw(position=0, category=category, count=count)],
    )
    db.session.add(round_)
    db.session.commit()
    return round_


def flashed(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_organizer_of_another_contest_cannot_change_the_bank_it_draws_from(
    client, organizer, other_organizer, make_round, bank
):
    make_round()  # the organizer's live round draws from the bank
    import_bank(BANK_YAML.encode(), "moi.yaml", actor=other_organizer)
    own = db.session.scalar(select(QuestionBank).where(QuestionBank.name == "Ngân hàng mới"))
    run_contest(other_organizer, own.categories[0], 2)
    question = question_by_id("t-001")
    text = question.text
    imports = len(audit("bank.import"))
    login(client, other_organizer)
    edit_url = f"/banks/questions/{question.id}/edit"
    assert client.get(edit_url).status_code == 404
    changed = edit_data(question, text="Câu hỏi bị sửa?")
    assert client.post(edit_url, data=changed).status_code == 404
    status = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    assert status.status_code == 404
    assert client.post(f"/banks/questions/{question.id}/delete").status_code == 404
    # Reading stays open (a round's draw is built from any bank), without the change buttons.
    page = client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert f'data-question="{question.id}"' in page and edit_url not in page
    assert 'data-testid="import-into-bank"' not in page and 'data-testid="bank-read-only"' in page
    assert client.get(f"/banks/{bank.id}/export/yaml").status_code == 200
    # The upload form offers their own bank only; a file naming the other one is refused.
    form = client.get("/banks/import").get_data(as_text=True)
    assert f'<option value="{own.id}">' in form and f'<option value="{bank.id}">' not in form
    assert upload(client, BANK_YAML, "moi.yaml", target=bank.id).status_code == 422
    document = yaml.safe_load((DATA / "small-bank.yaml").read_text(encoding="utf-8"))
    document["categories"][0]["questions"][0]["text"] = "Câu hỏi bị sửa?"
    url = preview_url(upload(client, yaml.safe_dump(document, allow_unicode=True), "s.yaml"))
    page = client.get(url).get_data(as_text=True)
    assert "you may not change this bank" in page
    assert 'data-testid="confirm-import" disabled' in page
    client.post(url + "/confirm")
    db.session.expire_all()
    assert (question.text, question.is_active) == (text, True)
    assert audit("question.edit") == audit("question.deactivate") == []
    assert len(audit("bank.import")) == imports
    # Their own bank, which their contest draws from: theirs to change.
    mine = question_by_id("n-3")
    assert client.get(f"/banks/questions/{mine.id}/edit").status_code == 200
    response = client.post(f"/banks/questions/{mine.id}/status", data={"active": "0"})
    assert "new attempts no longer draw it" in flashed(client, response)
    page = client.get(f"/banks/{own.id}").get_data(as_text=True)
    assert 'data-testid="import-into-bank"' in page and f"/banks/questions/{mine.id}/edit" in page


def test_a_bank_is_its_importers_until_a_contest_draws_from_it(client, organizer, other_organizer):
    login(client, other_organizer)
    client.post(preview_url(upload(client, BANK_YAML, "moi.yaml")) + "/confirm")
    own = db.session.scalar(select(QuestionBank))
    assert own.created_by_id == other_organizer.id
    question = question_by_id("n-1")
    assert client.get(f"/banks/questions/{question.id}/edit").status_code == 200
    client.post("/logout")
    login(client, organizer)
    assert client.get(f"/banks/questions/{question.id}/edit").status_code == 404
    # Once the organizer's contest draws from it, it is that contest's organizers' to change.
    run_contest(organizer, own.categories[1], 1)
    assert client.get(f"/banks/questions/{question.id}/edit").status_code == 200
    client.post("/logout")
    login(client, other_organizer)
    assert client.get(f"/banks/questions/{question.id}/edit").status_code == 404


def test_a_change_that_would_leave_a_live_round_short_is_refused_naming_it(
    client, organizer, make_user, make_round, clock
):
    round_ = make_round(draw=[("Cải cách hành chính", 3, None), ("Chuyển đổi số", 4, None)])
    login(client, organizer)
    # Four questions for a draw of three: one may go.
    first = question_by_id("t-001")
    response = client.post(f"/banks/questions/{first.id}/status", data={"active": "0"})
    assert "new attempts no longer draw it" in flashed(client, response)
    # A second would leave two: refused, with the round named, and nothing changes.
    message = CCHC_SHORT.format(needed=3, left=2)
    second = question_by_id("t-002")
    response = client.post(f"/banks/questions/{second.id}/status", data={"active": "0"})
    page = flashed(client, response)
    assert message in page and "Nothing was changed" in page
    response = client.post(f"/banks/questions/{second.id}/delete")
    assert message in flashed(client, response)
    elsewhere = db.session.scalar(select(Category).where(Category.name == "Chuyển đổi số"))
    moved = edit_data(second, category_id=str(elsewhere.id))
    response = client.post(f"/banks/questions/{second.id}/edit", data=moved)
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert second.is_active and second.category.name == "Cải cách hành chính"
    assert [entry.details["question_id"] for entry in audit("question.deactivate")] == [first.id]
    assert audit("question.edit") == audit("question.delete") == []
    # What does not move a question between draws is still allowed, and the round starts.
    response = client.post(
        f"/banks/questions/{second.id}/edit", data=edit_data(second, text="Câu đúng sai mới?")
    )
    assert response.status_code == 302
    attempt, _created = start_attempt(make_user(), round_, clock.now())
    assert len(attempt.questions) == 7


def test_a_draw_by_difficulty_counts_that_difficulty(client, organizer, make_round):
    make_round(draw=[("Cải cách hành chính", 2, 2)])  # t-003 and t-004 are of difficulty 2
    login(client, organizer)
    hard = question_by_id("t-003")
    response = client.post(f"/banks/questions/{hard.id}/edit", data=edit_data(hard, difficulty="1"))
    assert response.status_code == 409
    assert (
        "“Cuộc thi thử”, round 1 (Tuần 1) draws 2 questions of difficulty 2 from the category "
        "“Cải cách hành chính”; this change would leave 1."
    ) in response.get_data(as_text=True)
    easy = question_by_id("t-001")  # of difficulty 1, which the round does not draw
    assert client.post(f"/banks/questions/{easy.id}/status", data={"active": "0"}).status_code
    db.session.expire_all()
    assert hard.difficulty == 2 and not easy.is_active


def test_scheduled_rounds_count_and_closed_ones_do_not(client, organizer, make_round, clock):
    make_round(opens_at=START + timedelta(days=7), closes_at=START + timedelta(days=14))
    question = question_by_id("t-001")
    login(client, organizer)
    response = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    assert CCHC_SHORT.format(needed=4, left=3) in flashed(client, response)
    clock.advance(days=15)
    response = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    assert "new attempts no longer draw it" in flashed(client, response)


def test_a_round_already_short_may_still_be_mended(client, organizer, make_round):
    login(client, organizer)
    first, second = question_by_id("t-001"), question_by_id("t-002")
    client.post(f"/banks/questions/{first.id}/status", data={"active": "0"})  # no round yet
    make_round(draw=[("Cải cách hành chính", 4, None)])  # three left: already short
    response = client.post(f"/banks/questions/{second.id}/status", data={"active": "0"})
    assert CCHC_SHORT.format(needed=4, left=2) in flashed(client, response)
    response = client.post(f"/banks/questions/{first.id}/status", data={"active": "1"})
    assert "new attempts may draw it" in flashed(client, response)
    db.session.expire_all()
    assert first.is_active and second.is_active


def test_admins_change_any_bank_but_not_below_a_live_rounds_draw(client, make_user, make_round):
    make_round()  # draws all four of each category
    admin = make_user(role=Role.ADMIN)  # runs no contest
    login(client, admin)
    question = question_by_id("t-101")
    response = client.post(
        f"/banks/questions/{question.id}/edit", data=edit_data(question, text="Ngày nào?")
    )
    assert response.status_code == 302
    response = client.post(f"/banks/questions/{question.id}/status", data={"active": "0"})
    page = flashed(client, response)
    assert (
        "“Cuộc thi thử”, round 1 (Tuần 1) draws 4 questions from the category “Chuyển đổi số”; "
        "this change would leave 3."
    ) in page
    db.session.expire_all()
    assert question.is_active and question.text == "Ngày nào?"


def moved_to_the_other_category() -> str:
    """The small bank's file with t-001 moved from CCHC to Chuyển đổi số."""
    document = yaml.safe_load((DATA / "small-bank.yaml").read_text(encoding="utf-8"))
    cchc, digital = document["categories"]
    digital["questions"].append(cchc["questions"].pop(0))
    return yaml.safe_dump(document, allow_unicode=True)


def test_a_reimport_that_would_leave_a_live_round_short_is_refused(
    client, organizer, make_round, upload_folder
):
    make_round()
    imports = len(audit("bank.import"))
    login(client, organizer)
    url = preview_url(upload(client, moved_to_the_other_category(), "small-bank.yaml"))
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="import-shortfalls"' in page
    assert CCHC_SHORT.format(needed=4, left=3) in page
    assert 'data-testid="confirm-import" disabled' in page
    response = client.post(url + "/confirm")
    assert response.headers["Location"].endswith(url)
    db.session.expire_all()
    assert question_by_id("t-001").category.name == "Cải cách hành chính"
    assert len(audit("bank.import")) == imports


def test_cli_import_may_change_any_bank_but_not_below_a_live_rounds_draw(
    runner, make_round, tmp_path
):
    make_round()  # a contest with no organizer on the site: the shell operator is trusted
    path = tmp_path / "small-bank.yaml"
    path.write_text(moved_to_the_other_category(), encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(path)])
    assert result.exit_code == 1
    assert (
        "'Cuộc thi thử', round 1 (Tuần 1) draws 4 questions from 'Cải cách hành chính'; "
        "this change would leave 3"
    ) in result.output
    assert "nothing was imported" in result.output
    db.session.expire_all()
    assert question_by_id("t-001").category.name == "Cải cách hành chính"
    # A re-import that keeps every draw whole goes through.
    document = yaml.safe_load((DATA / "small-bank.yaml").read_text(encoding="utf-8"))
    document["categories"][0]["questions"][0]["text"] = "Văn bản nào ban hành Chương trình?"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(args=["banks", "import", str(path)])
    assert result.exit_code == 0 and "1 updated" in result.output, result.output
