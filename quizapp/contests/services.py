"""Contests and rounds: who may enter, what a participant sees, creating from a file."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from quizapp.admin.services import record
from quizapp.auth.models import Unit, User
from quizapp.banks.models import Category, Question, QuestionBank
from quizapp.contests.models import DEFAULT_RANKING, Contest, Round, RoundDraw
from quizapp.contests.schema import ContestFileError, ContestSpec, parse_contest_file
from quizapp.extensions import db


def unit_lineage_ids(unit_id: int | None) -> set[int]:
    """The unit and all its ancestors."""
    lineage: set[int] = set()
    while unit_id is not None and unit_id not in lineage:
        lineage.add(unit_id)
        unit_id = db.session.scalar(select(Unit.parent_id).where(Unit.id == unit_id))
    return lineage


def user_may_enter(user: User, contest: Contest) -> bool:
    """Everyone, or people whose unit lies in one of the audience units' subtrees."""
    if not contest.audience:
        return True
    return bool(unit_lineage_ids(user.unit_id) & {unit.id for unit in contest.audience})


@dataclass
class RoundCard:
    """A round as the participant's home page lists it."""

    round: Round
    state: str  # upcoming | open | closed
    attempts_used: int
    attempts_allowed: int
    in_progress_id: int | None
    best_score: int | None

    @property
    def can_start(self) -> bool:
        return self.state == "open" and (
            self.in_progress_id is not None or self.attempts_used < self.attempts_allowed
        )


def round_state(round_: Round, now: datetime) -> str:
    if now < round_.opens_at:
        return "upcoming"
    return "open" if now < round_.closes_at else "closed"


def rounds_for_user(user: User, now: datetime) -> list[RoundCard]:
    """Every round of every contest the user may enter, with the user's attempts so far."""
    from quizapp.attempts.models import Attempt, AttemptStatus

    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    rounds = [r for c in contests if user_may_enter(user, c) for r in c.rounds]
    if not rounds:
        return []
    round_ids = [r.id for r in rounds]
    mine = (Attempt.user_id == user.id, Attempt.round_id.in_(round_ids))
    used_and_best = {
        round_id: (used, best)
        for round_id, used, best in db.session.execute(
            select(Attempt.round_id, func.count(), func.max(Attempt.score))
            .where(*mine)
            .group_by(Attempt.round_id)
        )
    }
    in_progress = dict(
        db.session.execute(
            select(Attempt.round_id, Attempt.id).where(
                *mine, Attempt.status == AttemptStatus.IN_PROGRESS
            )
        ).all()
    )
    cards = []
    for round_ in rounds:
        used, best = used_and_best.get(round_.id, (0, None))
        cards.append(
            RoundCard(
                round=round_,
                state=round_state(round_, now),
                attempts_used=used,
                attempts_allowed=round_.max_attempts,
                in_progress_id=in_progress.get(round_.id),
                best_score=best,
            )
        )
    order = {"open": 0, "upcoming": 1, "closed": 2}
    cards.sort(key=lambda card: (order[card.state], card.round.opens_at))
    return cards


def get_round(round_id: int) -> Round:
    from flask_babel import lazy_gettext as _l

    from quizapp.errors import NotFound

    round_ = db.session.get(Round, round_id)
    if round_ is None:
        raise NotFound(_l("No such round."))
    return round_


def create_contest_from_file(text: str, filename: str, *, actor: User | None = None) -> Contest:
    """Create a contest from its YAML file; every problem is reported with its line."""
    spec, lined = parse_contest_file(text, filename)
    problems: list[str] = []

    def problem(path: tuple, message: str) -> None:
        problems.append(
            f"{filename}:{lined.line_of(path) or '?'}: {'.'.join(map(str, path))}: {message}"
        )

    if db.session.scalar(select(func.count()).where(Contest.slug == spec.slug)):
        problem(("slug",), f"a contest with slug {spec.slug!r} already exists")
    units = []
    for index, code in enumerate(spec.audience):
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            problem(("audience", index), f"unknown unit code {code!r}")
        units.append(unit)
    rounds = []
    for r_index, round_spec in enumerate(spec.rounds):
        draws = []
        for d_index, draw in enumerate(round_spec.draw):
            path = ("rounds", r_index, "draw", d_index)
            category = db.session.scalar(
                select(Category)
                .join(QuestionBank)
                .where(QuestionBank.name == draw.bank, Category.name == draw.category)
            )
            if category is None:
                problem(path, f"no category {draw.category!r} in bank {draw.bank!r}")
                continue
            available = available_questions(category.id, draw.difficulty)
            if available < draw.count:
                level = f" of difficulty {draw.difficulty}" if draw.difficulty else ""
                problem(
                    path,
                    f"asks for {draw.count} questions{level} from {draw.category!r}, "
                    f"which holds {available}",
                )
            draws.append(
                RoundDraw(
                    position=d_index,
                    category=category,
                    count=draw.count,
                    difficulty=draw.difficulty,
                )
            )
        rounds.append(_round_from_spec(r_index + 1, round_spec, draws))
    if problems:
        raise ContestFileError(problems)

    contest = _contest_from_spec(spec, units, rounds, actor)
    db.session.add(contest)
    record("contest.create", user=actor, target=spec.slug, source=filename, rounds=len(rounds))
    db.session.commit()
    return contest


def available_questions(category_id: int, difficulty: int | None) -> int:
    query = select(func.count()).where(
        Question.category_id == category_id, Question.is_active.is_(True)
    )
    if difficulty:
        query = query.where(Question.difficulty == difficulty)
    return db.session.scalar(query)


def _round_from_spec(number: int, spec, draws: list[RoundDraw]) -> Round:
    return Round(
        number=number,
        title=spec.title,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        time_limit_minutes=spec.time_limit_minutes,
        max_attempts=spec.max_attempts,
        daily_limit=spec.daily_limit,
        counting=spec.counting,
        review=spec.review,
        grace_seconds=spec.grace_seconds,
        prediction_question=spec.prediction.question if spec.prediction else None,
        prediction_target=spec.prediction.target if spec.prediction else None,
        draws=draws,
    )


def _contest_from_spec(spec: ContestSpec, units, rounds, actor) -> Contest:
    return Contest(
        slug=spec.slug,
        title=spec.title,
        description=spec.description,
        rules=spec.rules,
        self_registration=spec.self_registration,
        unit_rank_threshold=spec.unit_rank_threshold,
        public_leaderboard=spec.public_leaderboard,
        ranking=list(spec.ranking or DEFAULT_RANKING),
        audience=units,
        rounds=rounds,
        organizers=[actor] if actor else [],
        created_by_id=getattr(actor, "id", None),
    )


__all__ = ["ContestFileError", "create_contest_from_file", "rounds_for_user", "user_may_enter"]
