"""Forms for units and roster uploads."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from quizapp.inputs import WholeNumberField
from quizapp.units.services import HEADCOUNT_MAX

SPREADSHEETS = FileAllowed(["xlsx", "csv"], _l("Upload an .xlsx or .csv file."))


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


class PasswordsDownloadForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    format = StringField(default="xlsx", validators=[AnyOf(["xlsx", "csv"])])
