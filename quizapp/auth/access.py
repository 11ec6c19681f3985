"""Role checks for views: organizer, HR and admin pages."""

from functools import wraps

from flask import abort, redirect, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_url

from quizapp.auth.models import Role
from quizapp.errors import Unauthorized, wants_json


def roles_required(*roles: str):
    """Allow only these roles (admins always); others get 403, anonymous users the login page."""
    allowed = set(roles) | {Role.ADMIN}

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def unauthorized():
    """Anonymous visitors: the JSON API answers 401, pages send the browser to log in."""
    if wants_json():
        raise Unauthorized(_l("Log in first."))
    return redirect(login_url("auth.login", next_url=request.url))
