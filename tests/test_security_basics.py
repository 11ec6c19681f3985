"""Security headers, a fresh session on login, and a backup that restores."""

from sqlalchemy import func, select

from quizapp.auth.models import User
from quizapp.extensions import db


def test_security_headers_on_pages_and_api(client):
    for url in ("/login", "/api/v1/openapi.json", "/healthz"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_header_the_view_set_is_kept_once(host):
    app = host()

    @app.get("/framed")
    def framed():
        return {"ok": True}, 200, {"X-Frame-Options": "SAMEORIGIN", "Cache-Control": "max-age=60"}

    headers = app.test_client().get("/framed").headers
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert headers.getlist("Cache-Control") == ["max-age=60"]
    assert headers["X-Content-Type-Options"] == "nosniff"  # the others are still added
    assert app.test_client().get("/healthz").headers.getlist("Cache-Control") == ["no-store"]


def test_pages_carry_no_inline_script(client, make_user, make_round):
    make_user("an@example.vn")
    round_ = make_round()
    client.post("/login", data={"login": "an@example.vn", "password": "secret123"})
    quiz = client.get(client.post(f"/rounds/{round_.id}/start").headers["Location"])
    for html in (client.get("/login").get_data(as_text=True), quiz.get_data(as_text=True)):
        assert "<script>" not in html and " onclick=" not in html and " style=" not in html


def test_login_starts_a_fresh_session_keeping_the_language(client, make_user):
    make_user("an@example.vn")
    client.get("/login?lang=en")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    client.post("/login", data={"login": "an@example.vn", "password": "secret123"})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["lang"] == "en"
        assert session["_user_id"]


def test_backup_then_restore_brings_the_data_back(runner, make_user, tmp_path):
    make_user("an@example.vn")
    target = tmp_path / "quizapp.backup"
    result = runner.invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    make_user("binh@example.vn")
    assert db.session.scalar(select(func.count()).select_from(User)) == 2

    restored = runner.invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    logins = db.session.scalars(select(User.login)).all()
    assert logins == ["an@example.vn"]


def test_restore_refuses_a_file_that_is_not_a_backup(runner, make_user, tmp_path):
    make_user("an@example.vn")
    bogus = tmp_path / "notes.backup"
    bogus.write_text("hello", encoding="utf-8")
    result = runner.invoke(args=["restore", str(bogus), "--yes"])
    assert result.exit_code == 1 and "not a backup" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
