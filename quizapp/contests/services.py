"""Contests and rounds: who may enter, what a participant sees, creating and editing them.

A contest file and the organizer's pages build the same specs (quizapp.contests.schema) and go
through the same functions here, so both make the same rows.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from quizapp.admin.models import AuditLog
from quizapp.admin.services import record
from quizapp.auth.models import Role, Unit, User
from quizapp.auth.services import hash_new_password, verify_password
from quizapp.banks.models import Category, QuestionBank
from quizapp.contests.models import DEFAULT_RANKING, Contest, ContestAccess, Round, RoundDraw
from quizapp.contests.schema import (
    ContestFileError,
    ContestSettings,
    ContestSpec,
    DrawSpec,
    RoundSpec,
    parse_contest_file,
)
from quizapp.database import begin_writing
from quizapp.draws import available_questions
from quizapp.errors import Invalid, NotFound, ServiceError
from quizapp.extensions import db
from quizapp.policy import can_manage_contest, may_enter, shows_score


@dataclass
class RoundCard:
    """A round as the participant's home page lists it."""

    round: Round
    state: str  # upcoming | open | closed
    attempts_used: int
    attempts_allowed: int
    in_progress_id: int | None
    best_score: int | None
    needs_password: bool = False  # the contest's password is still to be entered

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
    rounds = [r for c in contests if may_enter(user, c) for r in c.rounds]
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
    unlocked = set(
        db.session.scalars(select(ContestAccess.contest_id).where(ContestAccess.user_id == user.id))
    )
    cards = []
    for round_ in rounds:
        used, best = used_and_best.get(round_.id, (0, None))
        contest = round_.contest
        cards.append(
            RoundCard(
                round=round_,
                state=round_state(round_, now),
                attempts_used=used,
                attempts_allowed=round_.max_attempts,
                in_progress_id=in_progress.get(round_.id),
                best_score=best if shows_score(round_) else None,
                needs_password=contest.password_hash is not None
                and contest.id not in unlocked
                and not can_manage_contest(user, contest),
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


# --- problems shared by the file and the pages --------------------------------------------


@dataclass
class SpecProblem:
    """One thing wrong with a contest or round spec, at a path into it."""

    path: tuple  # e.g. ("rounds", 0, "draw", 1); a file names its line, a page its field
    text: str  # English, for files and logs
    message: object  # for people: translated when shown


class ContestInvalid(Invalid):
    """The spec is well formed but does not fit the database (slug taken, draw too large...)."""

    code = "contest_invalid"

    def __init__(self, problems: list[SpecProblem]):
        super().__init__(" ".join(str(p.message) for p in problems))
        self.problems = problems


class PasswordRequired(ServiceError):
    """The contest has a password this participant has not entered yet."""

    status = 403
    code = "contest_password_required"


class TooManyGuesses(ServiceError):
    status = 429
    code = "too_many_attempts"


PASSWORD_FAILURES_ALLOWED = 10  # per person and contest within the window below
PASSWORD_FAILURE_WINDOW = timedelta(minutes=15)


def _resolve_units(codes: list[str]) -> tuple[list[Unit], list[SpecProblem]]:
    units, problems = [], []
    for index, code in enumerate(codes):
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            problems.append(
                SpecProblem(
                    ("audience", index),
                    f"unknown unit code {code!r}",
                    _l("Unknown unit code %(code)s.", code=code),
                )
            )
        else:
            units.append(unit)
    return units, problems


def _resolve_organizers(
    logins: list[str], actor: User | None
) -> tuple[list[User], list[SpecProblem]]:
    """The organizer accounts named, plus the acting organizer (never locked out of a contest)."""
    users, problems = [], []
    for index, login in enumerate(logins):
        user = db.session.scalar(select(User).where(User.login == login.strip().lower()))
        if user is None or user.role not in (Role.ORGANIZER, Role.ADMIN):
            problems.append(
                SpecProblem(
                    ("organizers", index),
                    f"no organizer account with login {login!r}",
                    _l("No organizer account has the login %(login)s.", login=login),
                )
            )
        elif user not in users:
            users.append(user)
    if actor is not None and actor.role == Role.ORGANIZER and actor not in users:
        users.insert(0, actor)
    return users, problems


def _resolve_draws(
    specs: list[DrawSpec], prefix: tuple = ("draw",)
) -> tuple[list[RoundDraw], list[SpecProblem]]:
    """The blueprint rows for these draw lines, checked against what the banks hold.

    Lines asking the same category (and level) are added up, since one attempt never draws a
    question twice.
    """
    draws, problems = [], []
    asked: dict[tuple[int, int | None], int] = defaultdict(int)
    for index, spec in enumerate(specs):
        path = prefix + (index,)
        category = db.session.scalar(
            select(Category)
            .join(QuestionBank)
            .where(QuestionBank.name == spec.bank, Category.name == spec.category)
        )
        if category is None:
            problems.append(
                SpecProblem(
                    path,
                    f"no category {spec.category!r} in bank {spec.bank!r}",
                    _l(
                        "The bank %(bank)s has no category %(category)s.",
                        bank=spec.bank,
                        category=spec.category,
                    ),
                )
            )
            continue
        asked[(category.id, spec.difficulty)] += spec.count
        needed = asked[(category.id, spec.difficulty)]
        available = available_questions(category.id, spec.difficulty)
        if available < needed:
            level = f" of difficulty {spec.difficulty}" if spec.difficulty else ""
            message = (
                _l(
                    "Category %(category)s has only %(available)s questions of difficulty "
                    "%(level)s; %(count)s needed.",
                    category=spec.category,
                    available=available,
                    level=spec.difficulty,
                    count=needed,
                )
                if spec.difficulty
                else _l(
                    "Category %(category)s has only %(available)s questions; %(count)s needed.",
                    category=spec.category,
                    available=available,
                    count=needed,
                )
            )
            problems.append(
                SpecProblem(
                    path,
                    f"asks for {needed} questions{level} from {spec.category!r}, "
                    f"which holds {available}",
                    message,
                )
            )
        draws.append(
            RoundDraw(
                position=index, category=category, count=spec.count, difficulty=spec.difficulty
            )
        )
    return draws, problems


def _slug_problem(slug: str, contest: Contest | None = None) -> list[SpecProblem]:
    query = select(func.count()).where(Contest.slug == slug)
    if contest is not None:
        query = query.where(Contest.id != contest.id)
    if not db.session.scalar(query.select_from(Contest)):
        return []
    return [
        SpecProblem(
            ("slug",),
            f"a contest with slug {slug!r} already exists",
            _l("A contest with the address %(slug)s already exists; choose another.", slug=slug),
        )
    ]


# --- creating -----------------------------------------------------------------------------


def create_contest_from_file(text: str, filename: str, *, actor: User | None = None) -> Contest:
    """Create a contest from its YAML file; every problem is reported with its line."""
    spec, lined = parse_contest_file(text, filename)
    try:
        return create_contest_from_spec(spec, actor=actor, source=filename)
    except ContestInvalid as error:
        raise ContestFileError(
            [
                f"{filename}:{lined.line_of(p.path) or '?'}: {'.'.join(map(str, p.path))}: {p.text}"
                for p in error.problems
            ]
        ) from None


def create_contest_from_spec(
    spec: ContestSettings, *, actor: User | None = None, source: str = "page"
) -> Contest:
    """Create a contest (with the rounds a full ContestSpec carries); all or nothing."""
    password_hash = hash_new_password(spec.password) if spec.password else None  # no lock held
    problems = _slug_problem(spec.slug)
    units, unit_problems = _resolve_units(spec.audience)
    problems += unit_problems
    organizers, organizer_problems = _resolve_organizers(spec.organizers, None)
    problems += organizer_problems
    if actor is not None and actor not in organizers:
        organizers.insert(0, actor)  # whoever creates a contest runs it, admins included
    rounds = []
    for r_index, round_spec in enumerate(getattr(spec, "rounds", None) or []):
        draws, draw_problems = _resolve_draws(round_spec.draw, ("rounds", r_index, "draw"))
        problems += draw_problems
        rounds.append(_round_from_spec(r_index + 1, round_spec, draws))
    if problems:
        raise ContestInvalid(problems)

    begin_writing(db.session)
    contest = _contest_from_spec(spec, units, rounds, actor)
    contest.password_hash = password_hash
    contest.organizers = organizers
    db.session.add(contest)
    record(
        "contest.create",
        user=actor,
        target=spec.slug,
        source=source,
        rounds=len(rounds),
        after=contest_snapshot(contest),
    )
    db.session.commit()
    return contest


def _round_from_spec(number: int, spec: RoundSpec, draws: list[RoundDraw]) -> Round:
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


def _contest_from_spec(spec: ContestSettings, units, rounds, actor) -> Contest:
    return Contest(
        slug=spec.slug,
        title=spec.title,
        description=spec.description,
        rules=spec.rules,
        self_registration=spec.self_registration,
        unit_rank_threshold=spec.unit_rank_threshold,
        public_leaderboard=spec.public_leaderboard,
        ranking=_ranking(spec),
        audience=units,
        rounds=rounds,
        organizers=[actor] if actor else [],
        created_by_id=getattr(actor, "id", None),
    )


def _ranking(spec: ContestSettings) -> list[str]:
    """The chain as given, always ending with the entry order so the order is total."""
    steps = [s for s in (spec.ranking or DEFAULT_RANKING) if s != "attempt_id"]
    return [*steps, "attempt_id"]


# --- snapshots for the audit log ----------------------------------------------------------


def contest_snapshot(contest: Contest) -> dict:
    """The contest's settings as plain values (the password only as set or not)."""
    return {
        "slug": contest.slug,
        "title": contest.title,
        "description": contest.description,
        "rules": contest.rules,
        "audience": sorted(unit.code for unit in contest.audience),
        "organizers": sorted(user.login for user in contest.organizers),
        "self_registration": bool(contest.self_registration),
        "password": contest.password_hash is not None,
        "unit_rank_threshold": contest.unit_rank_threshold,
        "public_leaderboard": bool(contest.public_leaderboard),
        "ranking": list(contest.ranking or DEFAULT_RANKING),
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def round_snapshot(round_: Round) -> dict:
    """The round's settings as plain values, comparable with spec_snapshot()."""
    return {
        "title": round_.title,
        "opens_at": _iso(round_.opens_at),
        "closes_at": _iso(round_.closes_at),
        "time_limit_minutes": round_.time_limit_minutes,
        "max_attempts": round_.max_attempts,
        "daily_limit": round_.daily_limit,
        "counting": str(round_.counting),
        "review": str(round_.review),
        "grace_seconds": round_.grace_seconds,
        "prediction_question": round_.prediction_question,
        "prediction_target": round_.prediction_target,
        "draw": [
            {
                "bank": d.category.bank.name,
                "category": d.category.name,
                "count": d.count,
                "difficulty": d.difficulty,
            }
            for d in round_.draws
        ],
    }


def spec_snapshot(spec: RoundSpec) -> dict:
    return {
        "title": spec.title,
        "opens_at": _iso(spec.opens_at),
        "closes_at": _iso(spec.closes_at),
        "time_limit_minutes": spec.time_limit_minutes,
        "max_attempts": spec.max_attempts,
        "daily_limit": spec.daily_limit,
        "counting": spec.counting,
        "review": spec.review,
        "grace_seconds": spec.grace_seconds,
        "prediction_question": spec.prediction.question if spec.prediction else None,
        "prediction_target": spec.prediction.target if spec.prediction else None,
        "draw": [d.model_dump() for d in spec.draw],
    }


def _changes(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [key for key in after if after[key] != before.get(key)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


# --- editing ------------------------------------------------------------------------------


def contests_managed_by(user: User) -> list[Contest]:
    """The contests this organizer runs (every contest for admins), newest first."""
    query = select(Contest).order_by(Contest.created_at.desc(), Contest.id.desc())
    if user.role != Role.ADMIN:
        query = query.where(Contest.organizers.any(User.id == user.id))
    return list(db.session.scalars(query))


def get_contest(slug: str) -> Contest:
    """The contest with this address (slug), or 404."""
    contest = db.session.scalar(select(Contest).where(Contest.slug == slug))
    if contest is None:
        raise NotFound(_l("No such contest."))
    return contest


def managed_contest(user: User, slug: str) -> Contest:
    """The contest by slug if this user runs it; otherwise 404 (its existence stays private)."""
    contest = get_contest(slug)
    if not can_manage_contest(user, contest):
        raise NotFound(_l("No such contest."))
    return contest


def managed_round(user: User, round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or not can_manage_contest(user, round_.contest):
        raise NotFound(_l("No such round."))
    return round_


def update_contest(
    contest: Contest,
    spec: ContestSettings,
    *,
    actor: User | None,
    now: datetime,
    clear_password: bool = False,
) -> list[str]:
    """Change a contest's settings; returns the changed keys (audited before and after).

    The ranking chain is fixed once a round has opened (recorded results rest on it). A new
    password (or none) withdraws the access granted with the old one.
    """
    password_hash = hash_new_password(spec.password) if spec.password else None  # no lock held
    problems = _slug_problem(spec.slug, contest)
    units, unit_problems = _resolve_units(spec.audience)
    problems += unit_problems
    organizers, organizer_problems = _resolve_organizers(spec.organizers, actor)
    problems += organizer_problems
    if problems:
        raise ContestInvalid(problems)
    if _ranking(spec) != list(contest.ranking or DEFAULT_RANKING) and any(
        round_is_live(r, now) for r in contest.rounds
    ):
        raise ContestInvalid(
            [
                SpecProblem(
                    ("ranking",),
                    "the ranking chain cannot change once a round has opened",
                    _l(
                        "The ranking chain cannot change once a round of the contest has "
                        "opened: results already recorded rest on it."
                    ),
                )
            ]
        )
    begin_writing(db.session)
    before = contest_snapshot(contest)
    contest.slug = spec.slug
    contest.title = spec.title
    contest.description = spec.description
    contest.rules = spec.rules
    contest.audience = units
    contest.organizers = organizers
    contest.self_registration = spec.self_registration
    contest.unit_rank_threshold = spec.unit_rank_threshold
    contest.public_leaderboard = spec.public_leaderboard
    contest.ranking = _ranking(spec)
    password_changed = bool(spec.password) or (clear_password and contest.password_hash)
    if spec.password:
        contest.password_hash = password_hash
    elif clear_password:
        contest.password_hash = None
    if password_changed:
        db.session.execute(delete(ContestAccess).where(ContestAccess.contest_id == contest.id))
    old, new = _changes(before, contest_snapshot(contest))
    if password_changed:
        old["password"], new["password"] = before["password"], "changed" if spec.password else False
    if old or new:
        record("contest.update", user=actor, target=contest.slug, before=old, after=new)
    db.session.commit()
    return list(new)


def add_round(contest: Contest, spec: RoundSpec, *, actor: User | None) -> Round:
    """Add a round after the contest's last one, its draw checked against the banks."""
    draws, problems = _resolve_draws(spec.draw)
    if problems:
        raise ContestInvalid(problems)
    number = max((r.number for r in contest.rounds), default=0) + 1
    round_ = _round_from_spec(number, spec, draws)
    contest.rounds.append(round_)
    record(
        "round.create",
        user=actor,
        target=f"{contest.slug}#{number}",
        after=spec_snapshot(spec),
    )
    db.session.commit()
    return round_


def round_is_live(round_: Round, now: datetime) -> bool:
    """Opened, or already holding attempts: results may exist that an edit must not change."""
    from quizapp.attempts.models import Attempt

    if now >= round_.opens_at:
        return True
    return bool(
        db.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.round_id == round_.id)
        )
    )


LIVE_EDITABLE = {"closes_at", "time_limit_minutes"}
FIELD_LABELS = {
    "title": _l("Title"),
    "opens_at": _l("Opens"),
    "closes_at": _l("Closes"),
    "time_limit_minutes": _l("Time limit (minutes)"),
    "max_attempts": _l("Attempts allowed"),
    "daily_limit": _l("Attempts per day"),
    "counting": _l("Attempt that counts"),
    "review": _l("Review after submitting"),
    "grace_seconds": _l("Grace (seconds)"),
    "prediction_question": _l("Prediction question"),
    "prediction_target": _l("The prediction asks about"),
    "draw": _l("Questions drawn"),
}


def update_round(round_: Round, spec: RoundSpec, *, actor: User | None, now: datetime) -> list[str]:
    """Change a round; returns the changed keys (audited before and after).

    Once the round is live only a later closing time (before it has closed) and a longer time
    limit are accepted, and attempts in progress get the extra time; anything else is refused.
    """
    before = round_snapshot(round_)
    old, new = _changes(before, spec_snapshot(spec))
    if not new:
        return []
    live = round_is_live(round_, now)
    if live:
        _check_live_edit(round_, spec, set(new), now)
    draws = None
    if "draw" in new:
        draws, problems = _resolve_draws(spec.draw)
        if problems:
            raise ContestInvalid(problems)
    fresh = _round_from_spec(round_.number, spec, [])
    for key in (
        "title",
        "opens_at",
        "closes_at",
        "time_limit_minutes",
        "max_attempts",
        "daily_limit",
        "counting",
        "review",
        "grace_seconds",
        "prediction_question",
        "prediction_target",
    ):
        setattr(round_, key, getattr(fresh, key))
    if draws is not None:
        round_.draws = draws
    if live:
        _extend_attempts_in_progress(round_, now)
    record(
        "round.update",
        user=actor,
        target=f"{round_.contest.slug}#{round_.number}",
        live=live,
        before=old,
        after=new,
    )
    db.session.commit()
    return list(new)


def _check_live_edit(round_: Round, spec: RoundSpec, changed: set[str], now: datetime) -> None:
    refused = changed - LIVE_EDITABLE
    if refused:
        fields = ", ".join(str(FIELD_LABELS[k]) for k in FIELD_LABELS if k in refused)
        raise Invalid(
            _l(
                "This round is under way (it has opened or has attempts), so only a later "
                "closing time and a longer time limit can be saved; these cannot change: "
                "%(fields)s.",
                fields=fields,
            ),
            code="round_live",
        )
    if changed and now >= round_.closes_at:
        raise Invalid(
            _l("This round has closed: its results stand and its closing time cannot move."),
            code="round_live",
        )
    if "closes_at" in changed and spec.closes_at < round_.closes_at:
        raise Invalid(
            _l("This round is under way: its closing time can only be moved later."),
            code="round_live",
        )
    if "time_limit_minutes" in changed and spec.time_limit_minutes < round_.time_limit_minutes:
        raise Invalid(
            _l("This round is under way: its time limit can only be lengthened."),
            code="round_live",
        )


def _extend_attempts_in_progress(round_: Round, now: datetime) -> None:
    """Give attempts still running the longer limit or later close (never revive expired ones)."""
    from quizapp.attempts.models import Attempt, AttemptStatus
    from quizapp.attempts.services import attempt_deadline, expire_if_overdue

    running = db.session.scalars(
        select(Attempt).where(
            Attempt.round_id == round_.id, Attempt.status == AttemptStatus.IN_PROGRESS
        )
    ).all()
    for attempt in running:
        if expire_if_overdue(attempt, now):
            continue  # already over: scored now, at its old deadline
        attempt.deadline = attempt_deadline(attempt.started_at, round_)  # only ever later


# --- the contest password -----------------------------------------------------------------


def has_contest_access(user: User, contest: Contest) -> bool:
    """True without a password, for the contest's organizers and admins, or once entered."""
    if contest.password_hash is None or can_manage_contest(user, contest):
        return True
    return db.session.get(ContestAccess, {"contest_id": contest.id, "user_id": user.id}) is not None


def require_contest_access(user: User, contest: Contest) -> None:
    """Refuse (403) a participant who has not yet entered the contest's password."""
    if not may_enter(user, contest):
        raise NotFound(_l("No such round."))
    if not has_contest_access(user, contest):
        raise PasswordRequired(
            _l(
                "This contest has a password: enter it once on the contest page "
                "(%(title)s) before starting a round.",
                title=contest.title,
            )
        )


def enter_contest_password(user: User, contest: Contest, password: str, now: datetime) -> None:
    """Grant this user access if the password is right; wrong guesses are counted and limited."""
    if has_contest_access(user, contest):
        return
    failures = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.action == "contest.password_failed",
            AuditLog.user_id == user.id,
            AuditLog.target == contest.slug,
            AuditLog.at > now - PASSWORD_FAILURE_WINDOW,
        )
    )
    if failures >= PASSWORD_FAILURES_ALLOWED:
        raise TooManyGuesses(_l("Too many wrong passwords; wait 15 minutes, then try again."))
    # Checked outside the write lock (verify_password ends this read), as a login is.
    if not verify_password(contest.password_hash, password or ""):
        entry = record("contest.password_failed", user=user, target=contest.slug)
        entry.at = now
        db.session.commit()
        raise Invalid(
            _l("That is not the contest password; check it with the organizers."),
            code="wrong_contest_password",
        )
    db.session.add(ContestAccess(contest_id=contest.id, user_id=user.id, granted_at=now))
    try:
        db.session.commit()
    except IntegrityError:  # a second tab entered it at the same moment
        db.session.rollback()


__all__ = [
    "ContestFileError",
    "ContestInvalid",
    "ContestSpec",
    "create_contest_from_file",
    "create_contest_from_spec",
    "rounds_for_user",
]
