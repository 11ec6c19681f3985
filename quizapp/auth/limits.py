"""Login limits: failed logins counted per account and per address (ASVS 2.2.1); and
registrations counted per address.

Only failures count, so an office of hundreds behind one NAT address logs in freely; once a
limit is reached every try on that account (or from that address) answers 429 until the window
moves on, a correct password included, so the answer never tells a guess was right. The
counters are shared by every worker and host (auth.limit_store, or Redis).
"""

import hashlib
import math
import time

from flask import current_app, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from quizapp.auth.services import normalise_login
from quizapp.extensions import limiter


def note_failed_login() -> None:
    """Mark this request as a failed login, to be counted when its response goes out."""
    # In the request's environ rather than g: an app context may outlive one request.
    request.environ["quizapp.login_failed"] = True


def _login_failed(response) -> bool:
    return bool(request.environ.get("quizapp.login_failed"))


def submitted_account() -> str:
    """The login being tried, hashed (no personal data in the counter store); '' if none."""
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("login") if isinstance(body, dict) else None
    else:
        value = request.form.get("login")
    login = normalise_login(str(value)) if value else ""
    return hashlib.sha256(login.encode()).hexdigest()[:32] if login else ""


def retry_after_seconds() -> int:
    """Seconds until the breached login limit lets this account or address try again."""
    current = limiter.current_limit
    if current is None:
        return 60
    # reset_at is a whole second: never say more than the window itself.
    seconds = min(current.reset_at - time.time(), current.limit.get_expiry())
    return max(1, math.ceil(seconds))


def too_many_failures() -> str:
    """The message for a breached login limit, with the minutes to wait."""
    return _(
        "Too many failed logins. Try again in %(minutes)d minutes, or ask your unit to reset "
        "your password.",
        minutes=_minutes_to_wait(),
    )


def _minutes_to_wait() -> int:
    return math.ceil(retry_after_seconds() / 60)


# Shared scopes: the login page and POST /api/v1/login draw on the same counters.
per_account = limiter.shared_limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"],
    scope="login-account",
    key_func=submitted_account,
    exempt_when=lambda: not submitted_account(),  # no login given: the address limit still counts
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=too_many_failures,
)
per_address = limiter.shared_limit(
    lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"],
    scope="login-address",
    key_func=get_remote_address,
    methods=["POST"],
    deduct_when=_login_failed,
    error_message=too_many_failures,
)


def too_many_registrations() -> str:
    """The message for a breached registration limit, with the minutes to wait."""
    return _(
        "Too many accounts were registered from your network in the last hour. Try again in "
        "%(minutes)d minutes, or ask your unit for an account.",
        minutes=_minutes_to_wait(),
    )


# Every registration form sent counts (checked before the view, so simultaneous ones cannot
# slip past): enough for an office behind one address to register its people, not a script.
per_address_registrations = limiter.limit(
    lambda: current_app.config["REGISTRATIONS_PER_ADDRESS"],
    scope="register-address",
    key_func=get_remote_address,
    methods=["POST"],
    error_message=too_many_registrations,
)
