"""Forms for units and roster uploads."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from quizapp.inputs import ASCII_DIGITS, WholeNumberField
from quizapp.units.roster_accounts import ADOPT, APART, Decisions
from quizapp.units.services import HEADCOUNT_MAX

SPREADSHEETS = FileAllowed(["xlsx", "csv"], _l("Upload an .xlsx or .csv file."))
DECISIONS = (ADOPT, APART)


def parse_decision(value: str) -> tuple[str, int] | None:
    """'adopt:12' → ('adopt', 12); '' (leave the row out) → None; anything else is refused."""
    if isinstance(value, tuple) or not value:
        return value or None
    kind, _sep, account = str(value).partition(":")
    if kind not in DECISIONS or not ASCII_DIGITS.fullmatch(account):
        raise ValueError(value)
    return kind, int(account)


class UnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    parent_id = SelectField(_l("Parent unit"), coerce=int)
    headcount = WholeNumberField(
        _l("Headcount (typed in; used while no roster is loaded)"),
        validators=[Optional()],
        maximum=HEADCOUNT_MAX,
    )


class UnitImportForm(FlaskForm):
    file = FileField(_l("Units file (.xlsx or .csv)"), validators=[FileRequired(), SPREADSHEETS])
    dry_run = BooleanField(_l("Only check the file; change nothing"))


class RosterImportForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx or .csv)"), validators=[FileRequired(), SPREADSHEETS])
    replace = BooleanField(
        _l("Take people missing from the file off the roster of the units it lists")
    )
    dry_run = BooleanField(_l("Only check the file; change nothing"))
    adopt_self_registered = BooleanField(
        _l(
            "Adopt every account in the file that its owner registered themselves (each gets a "
            "new first password and is logged out everywhere)"
        )
    )
    # Chosen row by row on the report of an earlier upload, "adopt:ID" or "apart:ID" for an
    # account id (a row acts only on the account it matches: any other id does nothing).
    decisions = SelectMultipleField(
        coerce=parse_decision,
        validate_choice=False,
        invalid_value_message=_l(
            "A decision on a row is not one this page offers: upload the file again and choose "
            "from the list."
        ),
    )

    def decisions_made(self) -> Decisions:
        """What HR chose for rows matching accounts their owners registered."""
        chosen = [decision for decision in self.decisions.data or () if decision]
        return Decisions(
            adopt_all=self.adopt_self_registered.data,
            adopt=frozenset(account for kind, account in chosen if kind == ADOPT),
            apart=frozenset(account for kind, account in chosen if kind == APART),
        )


class PasswordsDownloadForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    format = StringField(default="xlsx", validators=[AnyOf(["xlsx", "csv"])])
