"""Every model, imported in one place so the metadata (and Alembic) sees them all."""

from quizapp.admin.models import AuditLog
from quizapp.attempts.models import Answer, Attempt, AttemptQuestion, AttemptStatus
from quizapp.auth.models import Role, Unit, User
from quizapp.banks.models import Category, Option, Question, QuestionBank, QuestionKind
from quizapp.contests.models import Contest, Counting, ReviewPolicy, Round, RoundDraw

__all__ = [
    "Answer",
    "Attempt",
    "AttemptQuestion",
    "AttemptStatus",
    "AuditLog",
    "Category",
    "Contest",
    "Counting",
    "Option",
    "Question",
    "QuestionBank",
    "QuestionKind",
    "ReviewPolicy",
    "Role",
    "Round",
    "RoundDraw",
    "Unit",
    "User",
]
