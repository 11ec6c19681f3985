"""Login and registration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional


class LoginForm(FlaskForm):
    login = StringField(
        _l("Email, phone or employee code"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )


class RegisterForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=255)],
        render_kw={"autocomplete": "name"},
    )
    login = StringField(
        _l("Email or phone number (your login)"),
        validators=[DataRequired(), Length(min=3, max=255)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    email = StringField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Email(message=_l("Enter an email address such as ten@donvi.gov.vn.")),
        ],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    unit_id = SelectField(
        _l("Unit"), coerce=int, validators=[DataRequired(message=_l("Choose your unit."))]
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=6)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password")],
        render_kw={"autocomplete": "new-password"},
    )
