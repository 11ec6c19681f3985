"""Sessions and accounts: logout voids old cookies, cookie flags in production, a production
app refuses the default key, `next` never leads off-site, imported text is shown as text."""

import pytest
from sqlalchemy import select

from quizapp import create_app
from quizapp.auth.models import Role, User
from quizapp.auth.services import hash_password
from quizapp.banks.services import import_bank
from quizapp.config import DEFAULT_SECRET_KEY, ProductionConfig, TestConfig
from quizapp.extensions import db
from tests.conftest import api_login


@pytest.fixture
def account(app):
    """One participant, created outside the test's requests (each request gets its own g)."""
    with app.app_context():
        db.session.add(
            User(
                login="an@example.vn",
                full_name="Nguyễn Văn An",
                password_hash=hash_password("secret123"),
                role=Role.PARTICIPANT,
            )
        )
        db.session.commit()
    return "an@example.vn"


def copy_cookies(source, target, names=("session", "remember_token")) -> None:
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_logout_voids_the_cookies_taken_before_it(app, account):
    browser = app.test_client()
    browser.post("/login", data={"login": account, "password": "secret123"})
    thief = app.test_client()
    copy_cookies(browser, thief)
    assert thief.get("/").status_code == 200  # a copied cookie works while the session lives

    assert browser.post("/logout").status_code == 302
    assert browser.get("/").status_code == 302
    assert thief.get("/").headers["Location"].startswith("/login")
    assert thief.get("/api/v1/rounds").status_code == 401
    remember_only = app.test_client()
    copy_cookies(thief, remember_only, names=("remember_token",))
    assert remember_only.get("/").status_code == 302


def test_api_logout_voids_the_old_cookie_too(app, account):
    client = app.test_client()
    token = client.post("/api/v1/login", json={"login": account, "password": "secret123"})
    thief = app.test_client()
    copy_cookies(client, thief)
    logout = client.post("/api/v1/logout", headers={"X-CSRFToken": token.get_json()["csrf_token"]})
    assert logout.status_code == 200
    assert thief.get("/api/v1/rounds").status_code == 401
    # Logging in again gives a working session.
    client.post("/api/v1/login", json={"login": account, "password": "secret123"})
    assert client.get("/api/v1/rounds").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_next_never_leads_off_site(app, account, target):
    response = app.test_client().post(
        "/login", query_string={"next": target}, data={"login": account, "password": "secret123"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_next_keeps_a_path_on_this_site(app, account):
    response = app.test_client().post(
        "/login?next=/history%3Fpage%3D2", data={"login": account, "password": "secret123"}
    )
    assert response.headers["Location"] == "/history?page=2"


def production_settings(app, **overrides) -> dict:
    settings = {k: getattr(ProductionConfig, k) for k in dir(ProductionConfig) if k.isupper()}
    settings.update(
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        PASSWORD_HASH_METHOD=TestConfig.PASSWORD_HASH_METHOD,
        **overrides,
    )
    return settings


def test_production_refuses_the_default_secret_key(app):
    with pytest.raises(RuntimeError, match="QUIZAPP_SECRET_KEY"):
        create_app(production_settings(app, SECRET_KEY=DEFAULT_SECRET_KEY))


def test_production_cookies_are_secure_httponly_and_samesite(app, account):
    production = create_app(production_settings(app, SECRET_KEY="a-long-random-production-key"))
    try:
        response = production.test_client().post(
            "/api/v1/login", json={"login": account, "password": "secret123"}
        )
        assert response.status_code == 200
        cookies = response.headers.getlist("Set-Cookie")
        for name in ("session=", "remember_token="):  # the remember cookie logs in as well
            [cookie] = [c for c in cookies if c.startswith(name)]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    finally:
        with production.app_context():
            db.engine.dispose()


EVIL_BANK = """
bank: Ngân hàng thử
categories:
  - name: Mã độc
    questions:
      - id: evil-1
        kind: single
        text: "<script>alert('câu hỏi')</script> Câu hỏi <b>đậm</b>?"
        options:
          - {text: "<img src=x onerror=alert(1)>", correct: true}
          - {text: "\\"><svg onload=alert(2)>"}
        explanation: "<iframe src=//evil.example></iframe>"
"""


def test_imported_question_text_is_shown_as_text(client, make_user, make_round, clock):
    report = import_bank(EVIL_BANK.encode(), "evil.yaml")
    assert report.ok, report.problems
    round_ = make_round(draw=[("Mã độc", 1, None)], review="immediate")
    make_user("binh@example.vn")
    client.post("/login", data={"login": "binh@example.vn", "password": "secret123"})
    quiz = client.get(client.post(f"/rounds/{round_.id}/start").headers["Location"])
    html = quiz.get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    for raw in ("<script>alert", "<img src=x", "<svg onload", "<b>đậm"):
        assert raw not in html

    attempt_url = quiz.request.path
    result = client.post(f"{attempt_url}/submit", follow_redirects=True)
    page = result.get_data(as_text=True)
    assert "&lt;iframe" in page and "<iframe" not in page  # the explanation, after submit
    assert db.session.scalar(select(User.login).where(User.login == "binh@example.vn"))


def test_the_client_address_comes_from_the_trusted_proxy_only(app, account, make_round):
    from quizapp.attempts.models import Attempt

    round_id = make_round().id
    behind_proxy = create_app(
        {
            **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CLOCK": app.extensions["quizapp.clock"],
            "TRUSTED_PROXIES": 1,
        }
    )
    try:
        for flask_app, expected in ((app, "10.0.0.2"), (behind_proxy, "198.51.100.9")):
            client = flask_app.test_client()
            client.post("/api/v1/login", json={"login": account, "password": "secret123"})
            started = client.post(
                f"/api/v1/rounds/{round_id}/attempts",
                environ_base={"REMOTE_ADDR": "10.0.0.2"},
                headers={"X-Forwarded-For": "198.51.100.9"},
            )
            assert started.status_code == 201, started.get_json()
            db.session.rollback()  # end this session's read snapshot: the other app wrote
            assert db.session.scalars(select(Attempt.ip)).all() == [expected]
            db.session.execute(Attempt.__table__.delete())
            db.session.commit()
    finally:
        with behind_proxy.app_context():
            db.engine.dispose()


def test_page_scripts_never_write_html():
    from pathlib import Path

    scripts = list((Path(__file__).parent.parent / "quizapp" / "static").rglob("*.js"))
    assert scripts
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, f"{script.name} uses {sink}: set textContent instead"


def test_answer_save_checks_the_session_epoch_without_loading_the_user(app, account, make_round):
    """The save path skips Flask-Login's user load; a cookie copied before logout still fails."""
    round_ = make_round()
    browser = app.test_client()
    headers = {"X-CSRFToken": api_login(browser, account)}
    attempt = browser.post(f"/api/v1/rounds/{round_.id}/attempts", headers=headers).get_json()
    question = attempt["questions"][0]
    path = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
    first, second = (option["id"] for option in question["options"][:2])
    assert browser.put(path, json={"option_ids": [first]}, headers=headers).status_code == 200

    thief = app.test_client()
    copy_cookies(browser, thief)
    with app.app_context():  # a g of its own: make_round's context would lend the user to it
        assert app.test_client().put(path, json={"option_ids": [second]}).status_code == 401

    assert browser.post("/api/v1/logout", headers=headers).status_code == 200
    with app.app_context():
        replayed = thief.put(path, json={"option_ids": [second]}, headers=headers)
    assert replayed.status_code == 401
    assert replayed.get_json()["error"]["code"] == "unauthorized"
    api_login(browser, account)
    state = browser.get(f"/api/v1/attempts/{attempt['id']}").get_json()
    chosen = {q["id"]: q.get("selected") for q in state["questions"]}
    assert chosen[question["id"]] == [first]
