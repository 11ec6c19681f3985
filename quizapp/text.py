"""Checks on text that people type or upload."""

import re

# Control characters other than tab and line breaks: no name, code or question holds one, a
# worksheet cannot, and PostgreSQL refuses NUL in text outright.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
