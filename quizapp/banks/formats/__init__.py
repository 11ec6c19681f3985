"""Question-bank file formats: one reader (and optionally a writer) per format, by extension."""

from quizapp.banks.formats.base import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    Reader,
    reader_for,
    register_reader,
    supported_extensions,
)
from quizapp.banks.formats.native_yaml import YAMLReader

register_reader(YAMLReader())

__all__ = [
    "ParsedBank",
    "ParsedOption",
    "ParsedQuestion",
    "Problem",
    "Reader",
    "reader_for",
    "register_reader",
    "supported_extensions",
]
