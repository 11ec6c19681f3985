"""Forms for the organizer's bank pages: upload, question filters, question edit, actions."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from quizapp.banks.models import QuestionKind
from quizapp.banks.services import MAX_TEXT, bank_named, supported_extensions
from quizapp.inputs import WholeNumberField

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PER_PAGE = 50


def max_upload_bytes() -> int:
    return int(current_app.config.get("BANK_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def file_size(size: int) -> str:
    """A size as people read it: "300 KB", "10 MB", "12.5 MB"."""
    if size < 1024 * 1024:
        return f"{max(size // 1024, 1)} KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"


KIND_LABELS = {
    QuestionKind.SINGLE.value: _l("Single answer"),
    QuestionKind.MULTIPLE.value: _l("Multiple answers"),
    QuestionKind.TRUE_FALSE.value: _l("True / false"),
}
DIFFICULTY_LABELS = {1: _l("1 – easy"), 2: _l("2 – medium"), 3: _l("3 – hard")}


def kind_choices(blank=None) -> list[SelectChoice]:
    choices = [SelectChoice(value, label) for value, label in KIND_LABELS.items()]
    return ([SelectChoice("", blank)] if blank else []) + choices


def difficulty_choices(blank=None) -> list[SelectChoice]:
    """Difficulty choices; with a blank first choice (a filter) the values are strings."""
    if blank:
        return [SelectChoice("", blank)] + [
            SelectChoice(str(value), label) for value, label in DIFFICULTY_LABELS.items()
        ]
    return [SelectChoice(value, label) for value, label in DIFFICULTY_LABELS.items()]


class UploadForm(FlaskForm):
    """A bank file and where it goes; nothing is written until the preview is confirmed."""

    file = FileField(
        _l("Bank file"),
        validators=[
            FileRequired(_l("Choose a file to upload.")),
            FileAllowed(
                [extension.lstrip(".") for extension in supported_extensions()],
                _l(
                    "This file type cannot be read; upload one of: %(types)s.",
                    types=", ".join(supported_extensions()),
                ),
            ),
        ],
    )
    target = SelectField(_l("Import into"), validators=[DataRequired()])
    new_name = StringField(_l("Name of the new bank"), validators=[Length(max=255)])
    skip_unsupported = BooleanField(
        _l("Leave out question types the platform does not grade (they are listed)")
    )

    def validate_file(self, field):
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        limit = max_upload_bytes()
        if size > limit:
            raise ValidationError(
                _l(
                    "The file is %(size)s; the limit is %(limit)s. Split the bank into "
                    "several files.",
                    size=file_size(size),
                    limit=file_size(limit),
                )
            )
        if size == 0:
            raise ValidationError(_l("The file is empty."))

    def validate_new_name(self, field):
        if self.target.data != "new":
            return
        if not (field.data or "").strip():
            raise ValidationError(_l("Type a name for the new bank."))
        if bank_named(field.data) is not None:
            raise ValidationError(
                _l("A bank with this name exists already; choose it under “Import into”.")
            )


class QuestionFilterForm(FlaskForm):
    """Search and filters of a bank's question list (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search the question text or id"), validators=[Length(max=200)])
    category = SelectField(_l("Category"), validate_choice=False)
    difficulty = SelectField(_l("Difficulty"), validate_choice=False)
    kind = SelectField(_l("Kind"), validate_choice=False)
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Active and inactive")),
            SelectChoice("active", _l("Active")),
            SelectChoice("inactive", _l("Inactive")),
        ],
        validate_choice=False,
    )
    page = WholeNumberField(_l("Page"), default=1, validators=[Optional()], minimum=1)


class OptionForm(Form):
    """One option row of the edit form; a blank unmarked row is ignored."""

    option_id = HiddenField()
    text = TextAreaField(_l("Option text"), validators=[Length(max=MAX_TEXT)])
    correct = BooleanField(_l("Correct"))
    remove = BooleanField(_l("Remove"))


class QuestionForm(FlaskForm):
    """The editable content of a question."""

    text = TextAreaField(
        _l("Question"),
        validators=[DataRequired(_l("The question has no text.")), Length(max=MAX_TEXT)],
    )
    kind = SelectField(_l("Kind"), choices=kind_choices())
    category_id = SelectField(_l("Category"), coerce=int)
    difficulty = SelectField(_l("Difficulty"), coerce=int, choices=difficulty_choices())
    shuffle = BooleanField(_l("Shuffle the options in each attempt"))
    explanation = TextAreaField(
        _l("Explanation (shown with the answers after the attempt)"),
        validators=[Length(max=MAX_TEXT)],
    )
    source = TextAreaField(
        _l("Source (the legal document or fact the question rests on)"),
        validators=[Length(max=MAX_TEXT)],
    )
    options = FieldList(FormField(OptionForm))


class ActionForm(FlaskForm):
    """A bare form for buttons that change something (CSRF only)."""
