"""Role checks for views: organizer, HR and admin pages."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from quizapp.auth.models import Role


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
