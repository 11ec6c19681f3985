"""Defaults that hold: the remember cookie as guarded as the session's, nothing that names
people kept by a browser or proxy, and the first-passwords file handed out once."""

import io
import re
import threading

import pytest
from sqlalchemy import func, select

from quizapp.admin.models import AuditLog
from quizapp.auth.models import Role
from quizapp.extensions import db
from tests.conftest import api_login
from tests.test_access_matrix import LOGINS, world  # noqa: F401  (the access matrix's world)

ROSTER = """full_name,unit_code,phone
Nguyễn Văn An,SO,0912345678
Trần Thị Bình,SO,0913000111
"""


def test_the_remember_cookie_is_lax_and_http_only_by_default(app, make_user):
    make_user("an@example.vn")
    client = app.test_client()
    with app.app_context():
        response = client.post("/login", data={"login": "an@example.vn", "password": "secret123"})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    [remember] = [c for c in cookies if c.startswith("remember_token=")]
    assert "SameSite=Lax" in remember and "HttpOnly" in remember, remember


# Pages and answers that name people, each opened by someone who may see it.
PERSONAL = [
    ("participant", "GET", lambda w: "/", None),
    ("participant", "GET", lambda w: "/history", None),
    ("participant", "GET", lambda w: f"/attempts/{w.attempt_id}", None),
    ("participant", "GET", lambda w: f"/api/v1/attempts/{w.attempt_id}", None),
    ("organizer", "GET", lambda w: f"/contests/{w.slug}/dashboard", None),
    ("organizer", "GET", lambda w: f"/reports/participation?contest={w.slug}", None),
    ("organizer", "GET", lambda w: f"/rounds/{w.round_id}/leaderboard", None),
    ("organizer", "POST", lambda w: f"/manage/contests/{w.slug}/results", {"format": "xlsx"}),
    (
        "organizer",
        "POST",
        lambda w: f"/reports/participation/export?contest={w.slug}",
        {"format": "csv"},
    ),
    ("admin", "GET", lambda w: "/units", None),
]


def test_pages_that_name_people_are_never_stored(app, world):  # noqa: F811
    for role, method, url, data in PERSONAL:
        client = app.test_client()
        with app.app_context():  # one app context per request, as in production
            api_login(client, LOGINS[role])
            target = url(world)
            response = client.open(target, method=method, data=data)
        assert response.status_code == 200, (target, response.status_code)
        assert response.headers.get("Cache-Control") == "no-store", (target, response.headers)
        response.close()


def test_static_files_keep_their_caching(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers.get("ETag") or response.headers.get("Last-Modified")
    response.close()


@pytest.fixture
def hr_with_passwords(app, make_unit, make_user):
    """An HR officer who has just imported a roster: a logged-in client and the download token."""
    unit = make_unit("SO", "Sở Giao thông vận tải")
    make_user("hr@so.vn", role=Role.HR, unit=unit)
    clients = [app.test_client(), app.test_client()]  # two tabs, or two browsers of one person
    for client in clients:
        with app.app_context():
            api_login(client, "hr@so.vn")
    with app.app_context():
        page = clients[0].post(
            "/roster/import",
            data={"file": (io.BytesIO(ROSTER.encode()), "roster.csv")},
            content_type="multipart/form-data",
        )
    assert page.status_code == 200, page.get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    return clients, token.group(1)


def downloads() -> int:
    db.session.rollback()  # a fresh snapshot
    action = AuditLog.action == "roster.passwords_download"
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(action))


def test_the_first_passwords_file_is_handed_out_once(app, hr_with_passwords, ctx):
    (client, _other), token = hr_with_passwords
    with app.app_context():
        first = client.post("/roster/passwords", data={"token": token, "format": "csv"})
        assert first.status_code == 200
        assert first.headers["Cache-Control"] == "no-store"
        assert "0912345678" in first.get_data(as_text=True)
    with app.app_context():
        second = client.post("/roster/passwords", data={"token": token, "format": "xlsx"})
    assert second.status_code == 404
    assert "0912345678" not in second.get_data(as_text=True)
    assert second.headers["Cache-Control"] == "no-store"
    assert downloads() == 1


def test_two_simultaneous_requests_get_one_file(app, hr_with_passwords, ctx):
    clients, token = hr_with_passwords
    start = threading.Barrier(2)
    statuses = []

    def fetch(client):
        with app.app_context():
            start.wait()
            response = client.post("/roster/passwords", data={"token": token, "format": "xlsx"})
            statuses.append(response.status_code)
            response.close()

    threads = [threading.Thread(target=fetch, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 404]
    assert downloads() == 1
