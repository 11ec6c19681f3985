"""What of an attempt may be shown, and when: the single place that strips correct answers."""

from dataclasses import dataclass
from datetime import datetime

from quizapp.attempts.models import Attempt
from quizapp.attempts.services import is_correct
from quizapp.banks.models import QuestionKind
from quizapp.policy import answers_shown_from, shows_answers, shows_score


def public_questions(attempt: Attempt) -> list[dict]:
    """Questions as a participant sees them while answering: no correctness, no explanation."""
    return [
        {
            "id": aq.question_id,
            "position": aq.position,
            "text": aq.snapshot["text"],
            "multiple": aq.snapshot["kind"] == QuestionKind.MULTIPLE,
            "options": [{"id": o["id"], "text": o["text"]} for o in aq.snapshot["options"]],
            "selected": list(aq.answer.selected or []) if aq.answer else [],
            "revision": aq.answer.revision if aq.answer else 0,
        }
        for aq in attempt.questions
    ]


@dataclass
class Review:
    show_score: bool
    show_answers: bool
    answers_from: datetime | None  # when answers become visible, if later
    questions: list[dict]


def review_for(attempt: Attempt, now: datetime) -> Review:
    """Apply the round's review policy (quizapp.policy) to a finished attempt."""
    show_score = shows_score(attempt.round)
    show_answers = not attempt.is_in_progress and shows_answers(attempt, now)
    questions = []
    if show_answers:
        for aq in attempt.questions:
            selected = list(aq.answer.selected or []) if aq.answer else []
            questions.append(
                {
                    "position": aq.position,
                    "text": aq.snapshot["text"],
                    "options": aq.snapshot["options"],
                    "selected": selected,
                    "correct": is_correct(aq.snapshot, selected),
                    "explanation": aq.snapshot.get("explanation"),
                    "source": aq.snapshot.get("source"),
                }
            )
    return Review(show_score, show_answers, answers_shown_from(attempt.round), questions)
