"""A login rush: beyond a short line of password checks per worker, "busy, retry" (503)."""

import threading

import pytest

from quizapp import create_app
from quizapp.auth import services
from tests.conftest import api_login


def test_login_beyond_the_line_is_told_to_retry(client, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr(services, "_LOGIN_LINE", threading.BoundedSemaphore(1))
    services._LOGIN_LINE.acquire()  # the line is full: another login is being checked

    response = client.post("/api/v1/login", json={"login": user.login, "password": "secret123"})
    assert response.status_code == 503
    assert 2 <= int(response.headers["Retry-After"]) <= 5  # spread out, and short
    assert response.get_json()["error"]["code"] == "service_unavailable"
    assert "đăng nhập" in response.get_json()["error"]["message"]  # Vietnamese by default
    assert client.get("/api/v1/rounds").status_code == 401  # not logged in

    services._LOGIN_LINE.release()
    assert api_login(client, user.login)  # once the line moves, the same login succeeds


def test_password_checks_run_on_the_low_priority_hashing_thread(client, make_user):
    user = make_user()
    seen = []
    original = services.check_password_hash

    def spy(stored, password):
        seen.append(threading.current_thread().name)
        return original(stored, password)

    services._HASHER.submit(lambda: None).result()
    try:
        services.check_password_hash = spy
        api_login(client, user.login)
    finally:
        services.check_password_hash = original
    assert len(seen) == 1 and seen[0].startswith("password-hash")
    assert services._LOGIN_LINE._value == client.application.config["LOGIN_LINE"]  # all back


def test_the_login_form_in_a_rush_keeps_the_login_typed(client, make_user, monkeypatch):
    user = make_user()
    monkeypatch.setattr(services, "_LOGIN_LINE", threading.BoundedSemaphore(1))
    services._LOGIN_LINE.acquire()
    page = client.post("/login", data={"login": user.login, "password": "secret123"})
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and 2 <= int(page.headers["Retry-After"]) <= 5
    assert f'value="{user.login}"' in html and 'autocomplete="current-password"' in html
    assert "đăng nhập" in html  # the Vietnamese "try again in a few seconds"
    services._LOGIN_LINE.release()


def test_an_ordinary_wrong_password_carries_no_retry_after(client, make_user):
    user = make_user()
    wrong = client.post("/api/v1/login", json={"login": user.login, "password": "nope"})
    assert wrong.status_code == 401 and "Retry-After" not in wrong.headers
    form = client.post("/login", data={"login": user.login, "password": "nope"})
    assert "Retry-After" not in form.headers


def test_an_unknown_login_hashes_on_the_hashing_thread_too(client, monkeypatch):
    monkeypatch.setattr(services, "_DUMMY_HASH", {})  # as in a fresh worker
    seen = []
    original = services.generate_password_hash

    def spy(*args, **kwargs):
        seen.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "generate_password_hash", spy)
    wrong = client.post("/api/v1/login", json={"login": "nobody@example.vn", "password": "x"})
    assert wrong.status_code == 401
    assert seen and all(name.startswith("password-hash") for name in seen)


def test_the_login_line_is_sized_by_the_config(host):
    host(LOGIN_LINE=5)
    assert services._LOGIN_LINE._value == 5


@pytest.mark.parametrize("places", [0, "three", 2.5])
def test_a_login_line_that_is_not_a_whole_number_stops_the_start(app, places):
    with pytest.raises(RuntimeError, match="QUIZAPP_LOGIN_LINE"):
        create_app({**app.config, "LOGIN_LINE": places})
