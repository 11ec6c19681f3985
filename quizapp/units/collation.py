"""Vietnamese alphabetical order for names of people and units, without a C library.

The Vietnamese alphabet is a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y: the letters
with a breve, circumflex or horn and đ are letters of their own (primary differences). Tone marks
come after the base letters (secondary differences, in the dictionary order ngang, huyền, hỏi,
ngã, sắc, nặng), and case last. This matches ICU's `vi` collation (checked against PyICU in the
tests when it is installed) for text written in the Vietnamese alphabet.
"""

import unicodedata
from functools import lru_cache

ALPHABET = tuple("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")  # f j w z: loanwords, in Latin order
# Marks that make a letter of its own (with their base): breve, circumflex, horn.
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}
# Tones in dictionary order: huyền (grave), hỏi (hook), ngã (tilde), sắc (acute), nặng (dot).
_TONES = {"\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0301": 5, "\u0323": 6}

_SPACE, _PUNCT, _DIGIT, _LETTER, _OTHER = 0x100, 0x200, 0x3000, 0x3100, 0x4000
_LETTER_WEIGHT = {
    unicodedata.normalize("NFD", letter): _LETTER + index for index, letter in enumerate(ALPHABET)
}


def _elements(text: str):
    """Split NFD text into (base with its letter marks, other marks) pairs."""
    base = ""
    marks = ""
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and base:
            if char in _LETTER_MARKS and base[0].lower() in "aeouy":
                base += char
            else:
                marks += char
            continue
        if base:
            yield base, marks
        base, marks = char, ""
    if base:
        yield base, marks


def _primary(base: str) -> int:
    lower = base.lower()
    if lower in _LETTER_WEIGHT:
        return _LETTER_WEIGHT[lower]
    if base[0].isspace():
        return _SPACE
    if base[0].isdigit():
        return _DIGIT + unicodedata.digit(base[0], 0)
    if base[0].isalpha():
        # A letter outside the alphabet: after it, by code point, its marks secondary.
        return _OTHER + ord(lower[0]) % 0xB000
    return _PUNCT + ord(base[0]) % 0x2E00


@lru_cache(maxsize=50_000)  # names repeat a lot: a few hundred given names cover most people
def collation_key(text: str) -> str:
    """A string whose ordinary comparison is Vietnamese alphabetical order.

    Layout: primary weights (letters), NUL, secondary weights (tones), NUL, tertiary (case);
    every weight is above NUL so a shorter word sorts before its extensions.
    """
    primary, secondary, tertiary = [], [], []
    for base, marks in _elements(text.strip()):
        primary.append(chr(_primary(base)))
        tone = 1
        for mark in marks:
            tone = tone * 8 + _TONES.get(mark, 7)
        secondary.append(chr(tone))
        tertiary.append("\x02" if base != base.lower() else "\x01")
    return "".join(primary) + "\x00" + "".join(secondary) + "\x00" + "".join(tertiary)


def split_name(full_name: str) -> tuple[str, str]:
    """(given name, the rest): Vietnamese names end with the given name ("Nguyễn Văn An" → An)."""
    words = full_name.split()
    if not words:
        return "", ""
    return words[-1], " ".join(words[:-1])


def name_key(full_name: str) -> tuple[str, str]:
    """Sort key for a person: given name first, then family and middle names."""
    given, rest = split_name(full_name)
    return collation_key(given), collation_key(rest)
