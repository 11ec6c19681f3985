"""What people type and send, read strictly and bounded before any of it reaches Python's int()
or the database: whole numbers (forms, query arguments, URLs) and JSON request bodies.

Python's `str.isdigit()` is true for '²' and '①', which `int()` refuses, and `int()` itself
takes '١٢', '１２', ' 12' and '1_000'; a number typed as 10^20 fits no integer column
(PostgreSQL INTEGER stops at 2^31 - 1, SQLite and BIGINT at 2^63 - 1). Here a whole number is
ASCII digits only, within bounds the caller names, and anything else is a message to the user.
"""

import json
import re

from flask import Request, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import format_number, gettext
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

from quizapp.errors import Invalid, ServiceError

INT_MAX = 2**31 - 1  # INTEGER columns on PostgreSQL, the narrower of the two databases
ASCII_DIGITS = re.compile(r"[0-9]+")
SIGNED_DIGITS = re.compile(r"-?[0-9]+")
MAX_JSON_DEPTH = 20  # lists and objects inside each other; the API needs 2


def whole_number(text, *, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """`text` as an int if it is ASCII digits (spaces around allowed) within the bounds, else
    None. Signs, separators and other scripts' digits are not whole numbers here."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    # Longer than the maximum's digits (leading zeros aside) is out of range: no int() of it.
    if not ASCII_DIGITS.fullmatch(text) or len(text.lstrip("0")) > len(str(maximum)):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def query_number(name: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
    """The query argument `name` as a whole number within bounds; absent or blank: `default`.
    Anything else is a 422 that names the argument and the range."""
    text = request.args.get(name, "")
    if not text.strip():
        return default
    value = whole_number(text, minimum=minimum, maximum=maximum)
    if value is None:
        raise Invalid(
            _l(
                "%(name)s must be a whole number from %(minimum)s to %(maximum)s.",
                name=name,
                minimum=format_number(minimum),
                maximum=format_number(maximum),
            ),
            code="bad_number",
        )
    return value


class WholeNumberField(IntegerField):
    """A whole number typed in a form, ASCII digits within [minimum, maximum]; anything else
    is an error on the field (WTForms' own messages, in the interface language). Empty is None
    (Optional or InputRequired decide whether that is allowed)."""

    def __init__(self, label=None, validators=None, *, minimum=0, maximum=INT_MAX, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        if not valuelist:
            return  # not in the form: the default or the object's value stays
        if valuelist[0] == "":
            self.data = None
            return
        text = str(valuelist[0]).strip()
        self.data = whole_number(text, minimum=self.minimum, maximum=self.maximum)
        if self.data is not None:
            return
        # WTForms' own messages, from the app's catalog whatever the form's Meta says.
        if not SIGNED_DIGITS.fullmatch(text):
            raise ValueError(gettext("Not a valid integer value."))
        raise ValueError(
            gettext(
                "Number must be between %(min)s and %(max)s.",
                min=format_number(self.minimum),
                max=format_number(self.maximum),
            )
        )


# --- JSON request bodies ---------------------------------------------------------------------


class BadJSON(ServiceError):
    status = 400
    code = "bad_json"


class JSONTooDeep(ValueError):
    """Lists and objects nested deeper than MAX_JSON_DEPTH."""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's extension, not JSON


def _nesting_exceeds(value, limit: int) -> bool:
    """Without recursion: is any list or object nested more than `limit` deep?"""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """The app's JSON reader (request bodies, and the session cookie through flask.json):
    strict JSON (no NaN or Infinity), nested at most MAX_JSON_DEPTH deep. Every failure is a
    ValueError, which `get_json` knows how to handle; Python's own parser raises RecursionError
    (a 500) past about a thousand levels, and deep values that do parse can still overflow
    the stack of code that walks them."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise JSONTooDeep() from None
        if _nesting_exceeds(value, MAX_JSON_DEPTH):
            raise JSONTooDeep()
        return value


class BoundedRequest(Request):
    """Requests whose JSON body is bounded in size (JSON_MAX_CONTENT_LENGTH, 413 beyond it)
    and depth (BoundedJSONProvider), and whose unreadable JSON is a 400 in the API's error
    shape."""

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if not self.is_json:
            return limit
        json_limit = current_app.config["JSON_MAX_CONTENT_LENGTH"]
        return json_limit if limit is None else min(limit, json_limit)

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:  # not sent as JSON
            raise Invalid(
                _l("Send a JSON object with Content-Type: application/json."), code="bad_json"
            )
        if isinstance(e, JSONTooDeep):
            raise BadJSON(
                _l(
                    "The request body nests lists and objects more than %(depth)s levels deep.",
                    depth=MAX_JSON_DEPTH,
                )
            )
        if isinstance(e, json.JSONDecodeError):
            raise BadJSON(
                _l(
                    "The request body is not valid JSON (line %(line)s, column %(column)s).",
                    line=e.lineno,
                    column=e.colno,
                )
            )
        raise BadJSON(_l("The request body is not valid JSON."))  # NaN, bad UTF-8, huge numbers
