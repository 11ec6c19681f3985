"""URL converters: numbers in ASCII digits that fit the database's integer columns (anything
else in that part of the address is simply 404)."""

from werkzeug.routing import IntegerConverter

from quizapp.inputs import INT_MAX

MAX_ID = INT_MAX  # INTEGER primary keys on PostgreSQL


class WholeNumberConverter(IntegerConverter):
    """`<int:name>`: ASCII digits only (Werkzeug's `\\d` also takes '١', which int() reads as
    1), at most MAX_ID unless the rule says otherwise, so a number in a URL fits a query."""

    regex = r"[0-9]+"

    def __init__(self, url_map, fixed_digits=0, min=0, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class IdConverter(WholeNumberConverter):
    """`<id:name>`: a positive database id."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)
