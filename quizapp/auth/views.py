"""Login, logout and registration pages."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, login_required
from werkzeug.exceptions import ServiceUnavailable

from quizapp.auth import limits
from quizapp.auth.forms import LoginForm, RegisterForm
from quizapp.auth.services import (
    NewUser,
    authenticate,
    create_user,
    registration_units,
    self_registration_open,
)
from quizapp.auth.sessions import begin_session, end_session
from quizapp.database import reads_first
from quizapp.errors import ServiceError
from quizapp.extensions import db

blueprint = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only paths on this site; anything else goes home."""
    # Browsers read a backslash as a slash and drop tabs and newlines, so a path made of a slash,
    # a backslash (or a tab and a slash) and a host leads off-site just as "//host" does.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and all(ord(char) > 31 and ord(char) != 127 for char in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("contests.home")


@blueprint.route("/login", methods=["GET", "POST"])
@reads_first  # a login writes nothing; its failures are counted apart (auth.limit_store)
@limits.per_account
@limits.per_address
def login():
    if current_user.is_authenticated:
        return redirect(url_for("contests.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is not None:
            begin_session(user)
            return redirect(safe_next(request.args.get("next")))
        limits.note_failed_login()
        flash(_("Wrong login or password."), "error")
    return render_template("auth/login.html", form=form, registration_open=self_registration_open())


@blueprint.errorhandler(RateLimitExceeded)
def too_many_tries(error: RateLimitExceeded):
    """The form again (login or registration), saying how long to wait."""
    flash(error.description, "error")
    return _form_page(), 429, {"Retry-After": str(limits.retry_after_seconds())}


@blueprint.errorhandler(ServiceUnavailable)
def busy(error: ServiceUnavailable):
    """A login or registration rush: the form again with what was typed kept, saying to press
    once more shortly."""
    flash(error.description, "error")
    # Retry-After, without the error page's content type.
    return _form_page(), 503, dict(error.get_headers()[1:])


def _form_page() -> str:
    if request.endpoint == "auth.register":
        return render_template("auth/register.html", form=_register_form())
    return render_template(
        "auth/login.html", form=LoginForm(), registration_open=self_registration_open()
    )


@blueprint.post("/logout")
@login_required
def logout():
    end_session(current_user)
    return redirect(url_for("auth.login"))


@blueprint.route("/register", methods=["GET", "POST"])
@reads_first  # the password is hashed before the write lock is taken (create_user)
@limits.per_address_registrations
def register():
    if not self_registration_open():
        flash(_("Registration is closed; ask your unit for an account."), "error")
        return redirect(url_for("auth.login"))
    form = _register_form()
    if form.validate_on_submit():
        from quizapp.auth.models import Unit

        unit = db.session.get(Unit, form.unit_id.data)
        try:
            user = create_user(
                NewUser(
                    login=form.login.data,
                    password=form.password.data,
                    full_name=form.full_name.data,
                    unit_code=unit.code if unit else None,
                    email=form.email.data or None,
                    self_registered=True,
                )
            )
        except ServiceError as error:
            form.login.errors.append(
                _("This login is already taken.") if error.status == 409 else error.message
            )
        else:
            begin_session(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("contests.home"))
    return render_template("auth/register.html", form=form)


def _register_form() -> RegisterForm:
    form = RegisterForm()
    # No unit is preselected (people would keep the first one), and each names its parent,
    # since many bodies have a "Văn phòng" of their own.
    form.unit_id.choices = [(0, _("— Choose your unit —"))] + [
        (unit.id, f"{unit.name} ({unit.parent.name})" if unit.parent else unit.name)
        for unit in registration_units()
    ]
    return form
