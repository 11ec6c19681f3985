"""URL converters: ids that fit the database's integer keys (larger ones are simply 404)."""

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL


class IdConverter(IntegerConverter):
    """`<id:name>`: a positive database id."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, min=1, max=MAX_ID)
