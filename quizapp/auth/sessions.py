"""Starting and ending a logged-in session: fresh on every login, void everywhere on logout."""

from flask import session
from flask_login import login_user, logout_user

from quizapp.auth.models import User
from quizapp.extensions import db

KEPT_ACROSS_LOGIN = ("lang",)


def begin_session(user: User) -> None:
    """Drop whatever the browser's session held before, keep the language, log the user in."""
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)
    login_user(user, remember=True)


def end_session(user: User) -> None:
    """Log out; raising the epoch voids every session and remember cookie issued before."""
    user.session_epoch += 1
    db.session.commit()
    logout_user()
