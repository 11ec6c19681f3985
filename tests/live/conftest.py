"""A live gunicorn server (two workers) and direct database access to check what it stored."""

import pytest
from werkzeug.security import generate_password_hash

from quizapp import create_app
from quizapp.auth.models import User
from quizapp.extensions import db
from tests.live_server import LiveServer

PASSWORD = "secret123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("live"), workers=2, threads=4)
    live.seed()
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def database(server):
    """An app bound to the server's database, for arranging users and checking results."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": server.env["QUIZAPP_DATABASE_URL"], "TESTING": True}
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()  # before the server's database is dropped


def make_participants(count: int, prefix: str) -> list[str]:
    """Participant accounts with a cheap password hash; returns their logins."""
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    logins = [f"{prefix}{n}@live.test" for n in range(count)]
    db.session.add_all(
        User(login=login, full_name=f"Thí sinh {login}", password_hash=hashed) for login in logins
    )
    db.session.commit()
    return logins
