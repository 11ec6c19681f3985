"""What of an attempt may be shown, and when: the single place that strips correct answers."""

from dataclasses import dataclass
from datetime import datetime

from quizapp.attempts.models import Attempt
from quizapp.attempts.services import is_correct
from quizapp.banks.models import QuestionKind
from quizapp.contests.models import ReviewPolicy


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
    """Apply the round's review policy to a finished attempt."""
    policy = attempt.round.review
    show_score = policy != ReviewPolicy.NONE
    show_answers = policy == ReviewPolicy.IMMEDIATE or (
        policy == ReviewPolicy.AFTER_CLOSE and now >= attempt.round.closes_at
    )
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
    answers_from = attempt.round.closes_at if policy == ReviewPolicy.AFTER_CLOSE else None
    return Review(show_score, show_answers, answers_from, questions)
