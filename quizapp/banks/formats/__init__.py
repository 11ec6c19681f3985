"""Question-bank file formats: one reader (and optionally a writer) per format, by extension."""

from quizapp.banks.formats.aiken import AikenReader
from quizapp.banks.formats.base import (
    ParsedBank,
    ParsedOption,
    ParsedQuestion,
    Problem,
    Reader,
    reader_for,
    register_reader,
    register_writer,
    supported_extensions,
    writer_for,
    writer_names,
)
from quizapp.banks.formats.gift import GIFTReader
from quizapp.banks.formats.native_yaml import YAMLReader
from quizapp.banks.formats.tabular import CSVReader, XLSXReader
from quizapp.banks.formats.writers import GIFTWriter, XLSXWriter, YAMLWriter

for _reader in (YAMLReader(), GIFTReader(), AikenReader(), XLSXReader(), CSVReader()):
    register_reader(_reader)
for _writer in (YAMLWriter(), GIFTWriter(), XLSXWriter()):
    register_writer(_writer)

__all__ = [
    "ParsedBank",
    "ParsedOption",
    "ParsedQuestion",
    "Problem",
    "Reader",
    "reader_for",
    "register_reader",
    "supported_extensions",
    "writer_for",
    "writer_names",
]
