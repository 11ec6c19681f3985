"""Forms for the organizer's contest and round pages, and the participant's contest password."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import TextInput

from quizapp.inputs import WholeNumberField
from quizapp.text import CONTROL_CHARACTERS

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LOCAL_FORMAT = "%d/%m/%Y %H:%M"
RANKING_CHOICES = [
    SelectChoice("score", _l("Score, high to low")),
    SelectChoice("prediction", _l("Prediction error, small to large")),
    SelectChoice("duration", _l("Time taken, short to long")),
    SelectChoice("submitted_at", _l("Submission time, early to late")),
]
DEFAULT_CHAIN = ["score", "prediction", "duration", "submitted_at"]


def _without_control_characters(value):
    """Typed text never carries control characters (PostgreSQL refuses NUL outright)."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


class CatalogTranslations:
    """WTForms' own messages looked up in the app's catalog (WTForms ships no Vietnamese)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


class TextForm(FlaskForm):
    """A form with messages in the interface language whose text fields drop control
    characters from what was typed."""

    class Meta:
        def get_translations(self, form):
            return CatalogTranslations()

        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                filters = unbound_field.kwargs.get("filters", [])
                options["filters"] = [_without_control_characters, *filters]
            return unbound_field.bind(form=form, **options)


class VietnamTimeField(Field):
    """A date and time typed as dd/mm/yyyy HH:MM in Vietnam time; data is timezone-aware."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.astimezone(LOCAL_TZ).strftime(LOCAL_FORMAT) if self.data else ""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            naive = datetime.strptime(" ".join(valuelist[0].split()), LOCAL_FORMAT)
        except ValueError:
            self.data = None
            raise ValueError(
                _l("Write the date and time as dd/mm/yyyy HH:MM, e.g. 02/10/2023 08:00.")
            ) from None
        if not 2000 <= naive.year <= 2099:
            self.data = None
            raise ValueError(_l("Enter a year between 2000 and 2099."))
        self.data = naive.replace(tzinfo=LOCAL_TZ)


class ContestForm(TextForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    slug = StringField(
        _l("Address (slug)"),
        validators=[
            DataRequired(),
            Length(min=2, max=99),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$",
                message=_l("Use lower-case letters without accents, digits and hyphens."),
            ),
        ],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    rules = TextAreaField(_l("Rules (thể lệ)"), validators=[Optional(), Length(max=20000)])
    audience_mode = RadioField(
        _l("Who may take part"),
        choices=[
            SelectChoice("everyone", _l("Everyone")),
            SelectChoice("units", _l("Only the units chosen below")),
        ],
        default="everyone",
    )
    units = SelectMultipleField(_l("Units (each with its sub-units)"), coerce=int)
    organizers = SelectMultipleField(_l("Organizers (run this contest with you)"), coerce=int)
    self_registration = BooleanField(_l("People may register themselves"))
    password = PasswordField(
        _l("Contest password (optional)"),
        validators=[Optional(), Length(min=4, max=128)],
        render_kw={"autocomplete": "new-password"},
    )
    clear_password = BooleanField(_l("Remove the contest password"))
    public_leaderboard = BooleanField(_l("Show the leaderboard to participants"))
    threshold_percent = WholeNumberField(
        _l("Units are ranked from a participation rate of (%)"),
        default=50,
        validators=[InputRequired(message=_l("Fill in this number."))],
        minimum=0,
        maximum=100,
    )
    rank_1 = SelectField(_l("Ranking: 1st"), choices=RANKING_CHOICES, default="score")
    rank_2 = SelectField(_l("Ranking: 2nd"), default="prediction")
    rank_3 = SelectField(_l("Ranking: 3rd"), default="duration")
    rank_4 = SelectField(_l("Ranking: 4th"), default="submitted_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        optional = [SelectChoice("", _l("— none —"))] + RANKING_CHOICES
        for name in ("rank_2", "rank_3", "rank_4"):
            self[name].choices = optional

    @property
    def ranking(self) -> list[str]:
        return [self[f"rank_{i}"].data for i in range(1, 5) if self[f"rank_{i}"].data]

    def set_ranking(self, steps: list[str]) -> None:
        shown = [s for s in steps if s != "attempt_id"][:4]
        for i in range(1, 5):
            self[f"rank_{i}"].data = shown[i - 1] if i <= len(shown) else ""

    def validate_rank_4(self, field):
        if len(set(self.ranking)) != len(self.ranking):
            raise ValidationError(_l("Each ranking step may be chosen only once."))

    def validate_units(self, field):
        if self.audience_mode.data == "units" and not field.data:
            raise ValidationError(_l("Choose at least one unit, or open the contest to everyone."))


class DrawRowForm(Form):
    """One blueprint line; a line without a category is left out."""

    class Meta:
        def get_translations(self, form):
            return CatalogTranslations()

    category = SelectField(_l("Category"), coerce=int, default=0)
    count = WholeNumberField(
        _l("Questions"),
        validators=[Optional()],
        minimum=1,
        maximum=200,
    )
    difficulty = SelectField(
        _l("Difficulty"),
        choices=[
            SelectChoice("", _l("any")),
            SelectChoice("1", "1"),
            SelectChoice("2", "2"),
            SelectChoice("3", "3"),
        ],
        default="",
        validators=[AnyOf(["", "1", "2", "3"])],
    )

    def validate_count(self, field):
        if self.category.data and not field.data:
            raise ValidationError(_l("How many questions from this category?"))


class RoundForm(TextForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    opens_at = VietnamTimeField(_l("Opens (dd/mm/yyyy HH:MM, Vietnam time)"))
    closes_at = VietnamTimeField(_l("Closes (dd/mm/yyyy HH:MM, Vietnam time)"))
    time_limit_minutes = WholeNumberField(
        _l("Time limit (minutes)"),
        default=20,
        validators=[InputRequired(message=_l("Fill in this number."))],
        minimum=1,
        maximum=600,
    )
    max_attempts = WholeNumberField(
        _l("Attempts allowed"),
        default=3,
        validators=[InputRequired(message=_l("Fill in this number."))],
        minimum=1,
        maximum=100,
    )
    daily_limit = WholeNumberField(
        _l("Attempts per day (optional)"),
        validators=[Optional()],
        minimum=1,
        maximum=100,
    )
    counting = SelectField(
        _l("Attempt that counts"),
        choices=[
            SelectChoice("best", _l("The best")),
            SelectChoice("last", _l("The last")),
            SelectChoice("first", _l("The first")),
        ],
        default="best",
    )
    review = SelectField(
        _l("Review after submitting"),
        choices=[
            SelectChoice("none", _l("Nothing")),
            SelectChoice("score", _l("The score only")),
            SelectChoice("after_close", _l("Answers after the round closes")),
            SelectChoice("immediate", _l("Answers at once")),
        ],
        default="after_close",
    )
    grace_seconds = WholeNumberField(
        _l("Grace (seconds)"),
        default=15,
        validators=[InputRequired(message=_l("Fill in this number."))],
        minimum=0,
        maximum=600,
    )
    prediction_question = TextAreaField(
        _l("Prediction question (optional)"), validators=[Optional(), Length(max=2000)]
    )
    prediction_target = SelectField(
        _l("The prediction asks about"),
        choices=[
            SelectChoice("participants", _l("The number of participants")),
            SelectChoice("perfect_scores", _l("The number of entries with every answer right")),
        ],
        default="participants",
    )
    draws = FieldList(FormField(DrawRowForm), min_entries=1, max_entries=50)
    add_row = SubmitField(_l("Add a line"))

    def validate_opens_at(self, field):
        if field.data is None and not field.errors:
            raise ValidationError(_l("Enter when the round opens."))

    def validate_closes_at(self, field):
        if field.data is None:
            if not field.errors:
                raise ValidationError(_l("Enter when the round closes."))
            return
        if self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The round must close after it opens."))

    def validate_draws(self, field):
        if not any(row.category.data for row in field):
            # A plain str: the list's errors also hold each line's error dict.
            raise ValidationError(gettext("Add at least one line of questions."))


class ContestPasswordForm(TextForm):
    password = PasswordField(
        _l("Contest password"),
        validators=[DataRequired(), Length(max=128)],
        render_kw={"autocomplete": "off"},
    )


class ResultsExportForm(FlaskForm):
    format = StringField(_l("File format"), default="xlsx", validators=[AnyOf(["xlsx", "csv"])])
    round = WholeNumberField(_l("Round"), validators=[Optional()], minimum=1)

    def problems(self) -> str:
        """What is wrong, field by field, for the error page."""
        return "; ".join(
            f"{self[name].label.text}: {message}"
            for name, messages in self.errors.items()
            for message in messages
        )
