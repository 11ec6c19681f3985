"""Starting a logged-in session: a fresh session on every login (no fixation)."""

from flask import session
from flask_login import login_user

from quizapp.auth.models import User

KEPT_ACROSS_LOGIN = ("lang",)


def begin_session(user: User) -> None:
    """Drop whatever the browser's session held before, keep the language, log the user in."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=True)
