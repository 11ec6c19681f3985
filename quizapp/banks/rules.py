"""What every bank question follows, whether it comes from a file or the edit page."""

import re
import unicodedata

from quizapp.banks.formats.base import MAX_OPTIONS  # noqa: F401  (the readers take as many)

MAX_TEXT = 5000
QUESTION_NUMBER = re.compile(r"^\s*(câu|cau|question)\s*\d+\s*[.:)\-–]\s*", re.IGNORECASE)
# Options whose meaning depends on the others' positions: keep the written order.
POSITIONAL_OPTION = re.compile(
    r"(tất cả|cả [a-d] và [a-d]|[a-d] và [a-d] (đều )?(đúng|sai)|cả hai|không có (đáp án|phương án)"
    r"|các (đáp án|phương án) trên|all of the above|none of the above|both [a-d] and [a-d])",
    re.IGNORECASE,
)
TRUE_FALSE = ({"đúng", "sai"}, {"true", "false"})


def normalise_text(text: str) -> str:
    """NFC, single spaces, no stray line breaks from PDF copying."""
    text = unicodedata.normalize("NFC", text or "")
    return re.sub(r"\s+", " ", text).strip()


def text_key(text: str) -> str:
    return normalise_text(text).casefold()
