"""Login limits: failures per account (ASVS 2.2.1: ≤ 100 an hour) and per address; successes
never count, so a whole office behind one NAT address still logs in."""

import httpx
import pytest
from limits import parse

from quizapp.extensions import limiter
from tests.conftest import api_login
from tests.live_server import LiveServer

OFFICE = "203.0.113.7"  # one NAT address for a whole department (TEST-NET-3, never contacted)


@pytest.fixture(autouse=True)
def fresh_counters(app):
    with app.app_context():  # the counters are in the app's database
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def api(client, login, password, address=OFFICE):
    # A fresh app context per request, as in production (the test's own context would share g).
    with client.application.app_context():
        return client.post(
            "/api/v1/login",
            json={"login": login, "password": password},
            environ_base={"REMOTE_ADDR": address},
        )


def form(client, login, password, address=OFFICE):
    with client.application.app_context():
        return client.post(
            "/login",
            data={"login": login, "password": password},
            environ_base={"REMOTE_ADDR": address},
        )


def test_defaults_follow_asvs_and_leave_room_for_an_office(app):
    per_account = parse(app.config["LOGIN_FAILURES_PER_ACCOUNT"])
    per_address = parse(app.config["LOGIN_FAILURES_PER_ADDRESS"])
    assert per_account.amount <= 100 and per_account.get_expiry() >= 3600
    assert per_address.amount >= 1000 and per_address.get_expiry() <= 3600


def test_an_account_is_locked_after_100_failures_from_anywhere(app, make_user):
    make_user("an@example.vn")
    make_user("binh@example.vn")
    client = app.test_client()
    # Failures from many addresses: the per-account limit follows the account, not the address.
    for n in range(99):
        assert api(client, "An@Example.vn ", "guess", address=f"198.51.100.{n}").status_code == 401
    assert api(client, "an@example.vn", "secret123").status_code == 200  # successes never count
    assert api(app.test_client(), "an@example.vn", "guess-100").status_code == 401

    locked = api(app.test_client(), "an@example.vn", "secret123")  # the right password, too late
    assert locked.status_code == 429
    error = locked.get_json()["error"]
    assert error["code"] == "too_many_requests" and error["message"]
    assert 0 < int(locked.headers["Retry-After"]) <= 3600
    document = client.get("/api/v1/openapi.json").get_json()
    assert (
        "Retry-After" in document["paths"]["/api/v1/login"]["post"]["responses"]["429"]["headers"]
    )
    assert "user_id" not in (locked.headers.get("Set-Cookie") or "")
    # Another account behind the same address is not affected.
    assert api(app.test_client(), "binh@example.vn", "secret123").status_code == 200


def test_the_form_and_the_api_share_the_count_and_the_form_says_so_in_vietnamese(app, make_user):
    make_user("an@example.vn")
    client = app.test_client()
    for _ in range(60):
        assert form(client, "an@example.vn", "guess").status_code == 200
    for _ in range(40):
        assert api(client, "an@example.vn", "guess").status_code == 401

    refused = form(client, "an@example.vn", "secret123")
    assert refused.status_code == 429
    html = refused.get_data(as_text=True)
    assert "Đăng nhập sai quá nhiều lần" in html and "phút" in html
    assert 'autocomplete="current-password"' in html  # the form is still there
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/").status_code == 302  # not logged in


def test_hundreds_of_colleagues_behind_one_address_log_in(app, make_user):
    colleagues = [make_user(f"cb{n}@so.gov.vn").login for n in range(300)]
    for login in colleagues:  # everyone mistypes once, then gets in
        client = app.test_client()
        assert form(client, login, "secret12").status_code == 200
        assert form(client, login, "secret123").status_code == 302


def test_an_address_is_stopped_after_its_failure_limit(app, make_user, monkeypatch):
    make_user("an@example.vn")
    monkeypatch.setitem(app.config, "LOGIN_FAILURES_PER_ADDRESS", "20 per hour")
    client = app.test_client()
    for n in range(20):  # password spraying: one guess each on many accounts
        assert api(client, f"staff{n}@example.vn", "123456").status_code == 401
    assert api(client, "an@example.vn", "secret123").status_code == 429
    assert api(client, "an@example.vn", "secret123", address="192.0.2.1").status_code == 200


def test_logging_in_and_out_many_times_is_never_limited(app, make_user):
    make_user("an@example.vn")
    client = app.test_client()
    for _ in range(120):
        token = api(client, "an@example.vn", "secret123").get_json()["csrf_token"]
        with app.app_context():
            logout = client.post("/api/v1/logout", headers={"X-CSRFToken": token})
        assert logout.status_code == 200


def test_no_rate_limit_refuses_an_answer(host, make_user, make_round):
    """An operator's default limit stops other API calls and anonymous floods of the save URL;
    a logged-in person's answer is never refused."""
    worker = host(RATELIMIT_DEFAULT="3 per minute")
    make_user("an@example.vn")
    round_ = make_round()
    client = worker.test_client()

    def call(method, path, **kwargs):
        with worker.app_context():  # a g of its own, as each request has in production
            return client.open(path, method=method, headers={"X-CSRFToken": token}, **kwargs)

    with worker.app_context():
        token = api_login(client, "an@example.vn")
    attempt = call("POST", f"/api/v1/rounds/{round_.id}/attempts").get_json()
    question = attempt["questions"][0]
    path = f"/api/v1/attempts/{attempt['id']}/answers/{question['id']}"
    for option in question["options"] * 3:
        saved = call("PUT", path, json={"option_ids": [option["id"]]})
        assert saved.status_code == 200, saved.get_json()
    # A default limit counts each route apart: the nine saves above went three times over it.
    reads = [call("GET", f"/api/v1/attempts/{attempt['id']}").status_code for _ in range(4)]
    assert reads == [200, 200, 200, 429]
    anonymous = worker.test_client()
    floods = []
    for _ in range(4):
        with worker.app_context():
            floods.append(anonymous.put(path, json={"option_ids": []}).status_code)
    assert floods == [401, 401, 401, 429]


# --- several worker processes share one set of counters ---------------------------------------


def fail_100_times_then_find_the_account_locked(live: LiveServer, tries: int = 1) -> None:
    """100 wrong passwords, then the right one `tries` times: refused (429) on any worker."""
    body = {"login": "thisinh1@demo.vn", "password": "wrong"}
    for _ in range(100):  # a new connection each time, so both workers take some
        with httpx.Client(base_url=live.url) as client:
            assert client.post("/api/v1/login", json=body).status_code == 401
    right = {"login": "thisinh1@demo.vn", "password": "demo1234"}
    for _ in range(tries):
        with httpx.Client(base_url=live.url) as client:
            locked = client.post("/api/v1/login", json=right)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0


def test_two_workers_share_counters_through_redis(tmp_path, redis_url):
    import redis

    live = LiveServer(tmp_path, workers=2, threads=2)
    live.env["QUIZAPP_REDIS_URL"] = redis_url
    live.seed()
    live.start()
    try:
        fail_100_times_then_find_the_account_locked(live)
        keys = redis.Redis.from_url(redis_url).keys("*")
        assert any(b"/quizapp/" in key and b"/login-account/" in key for key in keys), keys
        assert not any(b"demo.vn" in key for key in keys)  # no logins stored in clear
    finally:
        live.stop()


def test_two_workers_share_counters_through_the_database(tmp_path):
    """The default set-up, no Redis: failures on either worker count on both, and the limit is
    exactly the documented one (LOGIN_FAILURES_PER_ACCOUNT: 100 an hour)."""
    from sqlalchemy import create_engine, text

    live = LiveServer(tmp_path, workers=2, threads=2)
    live.env.pop("QUIZAPP_REDIS_URL", None)
    # Cheap hashes for the seeded accounts and the checks: the count matters here, not the cost.
    live.env["QUIZAPP_PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    live.seed()
    live.env["GUNICORN_CMD_ARGS"] = "--access-logformat '%(p)s %(r)s %(s)s'"
    live.start()
    try:
        fail_100_times_then_find_the_account_locked(live, tries=6)
        log = (tmp_path / "access.log").read_text().splitlines()
        failures = [line.split()[0] for line in log if " 401" in line]
        assert len(failures) == 100 and len(set(failures)) == 2, "both workers took failures"
        engine = create_engine(live.env["QUIZAPP_DATABASE_URL"])
        try:
            with engine.connect() as connection:
                keys = connection.scalars(text("SELECT key FROM rate_limit_hits")).all()
        finally:
            engine.dispose()
        assert len(keys) == 200  # 100 for the account, 100 for the address
        assert all(key.startswith("LIMITER/quizapp/") for key in keys)
        assert not any("demo.vn" in key for key in keys)  # no logins stored in clear
    finally:
        live.stop()
