"""Vietnamese alphabetical order: base letters first (a ă â … đ …), then tones, then case."""

import random
import unicodedata

import pytest

from quizapp.units.collation import collation_key, name_key, split_name


def test_alphabet_order_of_base_letters():
    words = ["y", "ư", "u", "ơ", "ô", "o", "ê", "e", "đ", "d", "â", "ă", "a", "b", "c"]
    assert sorted(words, key=collation_key) == [
        "a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "o", "ô", "ơ", "u", "ư", "y",
    ]  # fmt: skip


def test_tones_come_after_the_letters():
    # ngang, huyền, hỏi, ngã, sắc, nặng; a tone only decides between equal letters.
    assert sorted(["má", "mạ", "mà", "ma", "mã", "mả"], key=collation_key) == [
        "ma", "mà", "mả", "mã", "má", "mạ",
    ]  # fmt: skip
    assert sorted(["Ánh", "Anh", "Ân", "An", "Ăn"], key=collation_key) == [
        "An", "Anh", "Ánh", "Ăn", "Ân",
    ]  # fmt: skip
    assert sorted(["Đức", "Dũng", "Duy", "Đào"], key=collation_key) == [
        "Dũng", "Duy", "Đào", "Đức",
    ]  # fmt: skip


def test_composed_and_decomposed_text_sort_alike():
    composed = "Nguyễn Thị Ánh"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert collation_key(composed) == collation_key(decomposed)


def test_names_sort_by_given_name_then_the_rest():
    names = [
        "Trần Văn Bình",
        "Nguyễn Thị Ánh",
        "Lê An",
        "Đỗ Văn Ân",
        "Phạm Thị Anh",
        "Nguyễn Văn An",
        "Bùi Đức",
        "Vũ Dũng",
    ]
    assert sorted(names, key=name_key) == [
        "Lê An",
        "Nguyễn Văn An",
        "Phạm Thị Anh",
        "Nguyễn Thị Ánh",
        "Đỗ Văn Ân",
        "Trần Văn Bình",
        "Vũ Dũng",
        "Bùi Đức",
    ]
    assert split_name("  Nguyễn   Văn  An ") == ("An", "Nguyễn Văn")
    assert split_name("") == ("", "")


def test_agrees_with_icu_vietnamese_collation():
    icu = pytest.importorskip("icu")
    collator = icu.Collator.createInstance(icu.Locale("vi"))
    letters = list("aăâbcdđeêghiklmnoôơpqrstuưvxy")
    tones = ["", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"]
    rng = random.Random(5)

    def word() -> str:
        text = ""
        for _ in range(rng.randint(1, 4)):
            letter = rng.choice(letters)
            if letter in "aăâeêioôơuưy":
                letter += rng.choice(tones)
            text += letter.upper() if rng.random() < 0.1 else letter
        return unicodedata.normalize(rng.choice(["NFC", "NFD"]), text)

    words = [word() + (" " + word() if rng.random() < 0.3 else "") for _ in range(5000)]
    ours = sorted(words, key=collation_key)
    theirs = sorted(words, key=collator.getSortKey)
    assert all(collator.compare(a, b) == 0 for a, b in zip(ours, theirs, strict=True))
