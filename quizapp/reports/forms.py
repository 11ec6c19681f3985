"""The export form on the participation page."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import AnyOf


class ExportForm(FlaskForm):
    format = StringField(default="xlsx", validators=[AnyOf(["xlsx", "csv"])])
