"""Every shipped bank in question_banks/ loads cleanly: no errors, no warnings, sourced."""

from pathlib import Path

import pytest

from quizapp.banks.services import read_bank

BANKS = sorted((Path(__file__).resolve().parent.parent / "question_banks").glob("*.yaml"))


def test_there_is_a_shipped_bank():
    assert BANKS, "question_banks/ holds no bank"


@pytest.mark.parametrize("path", BANKS, ids=[p.name for p in BANKS])
def test_shipped_bank_loads_without_warnings(ctx, path):
    parsed = read_bank(path.read_bytes(), path.name)
    assert [p.describe(path.name) for p in parsed.problems] == []
    assert parsed.name and len(parsed.questions) >= 30
    for question in parsed.questions:
        assert question.external_id, question.text
        assert question.source, question.external_id
        assert question.explanation, question.external_id
    assert {q.difficulty for q in parsed.questions} == {1, 2, 3}
