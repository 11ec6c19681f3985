"""Contest statistics: one service for the dashboard, the API and `flask stats --json`.

Entries (lượt thi) are finished attempts (submitted or expired); participants are distinct people
with at least one entry. Organizers, admins and the contest's own organizers are left out, as
from the rankings. By-unit figures (participants, rate, entries, ranks) are those of
quizapp.reports.participation_rate, the definition the HR report uses too: each unit with its
sub-units, its participants the people its headcount counts; the top-level units' participants
and "not counted", plus the people outside them, add up to the totals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Float, case, cast, func, select

from quizapp.attempts.models import (
    FINISHED,
    Answer,
    Attempt,
    AttemptQuestion,
    AttemptStatus,
)
from quizapp.attempts.services import is_correct, settle_rounds
from quizapp.auth.models import User
from quizapp.contests.models import Contest, Round
from quizapp.contests.standings import is_final, ranked_people
from quizapp.extensions import db
from quizapp.reports.participation_rate import (
    UnitParticipation,
    entrants,
    finished_entries,
    rank_units,
    unit_participation,
)
from quizapp.units.services import UnitTree

BANDS = ("100", "75-99", "25-74", "1-24", "0")


@dataclass
class ContestStats:
    participants: int
    entries: int
    in_progress: int
    mean_score: float | None  # points per entry
    mean_score_ratio: float | None  # share of the maximum per entry, 0–1
    mean_duration: float | None  # seconds per entry
    by_unit: list[UnitParticipation]
    without_unit: UnitParticipation  # without a unit, or outside the contest's units
    score_bands: dict[str, int]
    by_day: list[tuple[date, int]]
    threshold: float

    def as_json(self) -> dict:
        return {
            "participants": self.participants,
            "entries": self.entries,
            "in_progress": self.in_progress,
            "mean_score": _rounded(self.mean_score),
            "mean_score_ratio": _rounded(self.mean_score_ratio, 4),
            "mean_duration_seconds": _rounded(self.mean_duration),
            "by_unit": [
                {
                    "code": u.code,
                    "name": u.name,
                    "depth": u.depth,
                    "headcount": u.headcount,
                    "participants": u.participants,
                    "not_counted": u.not_counted,
                    "entries": u.entries,
                    "rate": _rounded(u.rate, 4),
                    "mean_counted_score": _rounded(u.mean_counted_score, 4),
                    "rank": u.rank,
                }
                for u in self.by_unit
            ],
            "without_unit": {
                "participants": self.without_unit.participants,
                "entries": self.without_unit.entries,
            },
            "score_bands": self.score_bands,
            "by_day": [{"date": day.isoformat(), "entries": n} for day, n in self.by_day],
            "unit_rank_threshold": self.threshold,
        }


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def contest_stats(
    contest: Contest, now: datetime, *, unit_ids: set[int] | None = None
) -> ContestStats:
    """Every number of the dashboard, from SQL aggregates; `unit_ids` limits to a scope (HR).

    One pass over the finished attempts, grouped by (unit, day, score band) with plain counts
    and sums, gives entries, means, bands and days; the units' numbers and the participants come
    from quizapp.reports.participation_rate.unit_participation, given this pass's entries.
    """
    settle_rounds(contest.rounds, now)  # late attempts count, closed at their deadline
    round_ids = [r.id for r in contest.rounds]
    people = entrants(contest, unit_ids)

    in_progress = db.session.scalar(
        select(func.count())
        .select_from(Attempt)
        .join(User, User.id == Attempt.user_id)
        .where(
            Attempt.round_id.in_(round_ids), Attempt.status == AttemptStatus.IN_PROGRESS, *people
        )
    )
    ratio = cast(Attempt.score, Float) / func.nullif(Attempt.max_score, 0)
    band = case(
        (Attempt.max_score == 0, "0"),
        (Attempt.score >= Attempt.max_score, "100"),
        (Attempt.score * 4 >= Attempt.max_score * 3, "75-99"),
        (Attempt.score * 4 >= Attempt.max_score, "25-74"),
        (Attempt.score > 0, "1-24"),
        else_="0",
    ).label("band")
    groups = db.session.execute(
        select(
            User.unit_id,
            Attempt.day,
            band,
            func.count(),
            func.sum(Attempt.score),
            func.sum(ratio),
            func.count(ratio),
            func.sum(Attempt.duration),
            func.count(Attempt.duration),
        )
        .select_from(Attempt)
        .join(User, User.id == Attempt.user_id)
        .where(*finished_entries(contest, round_ids, unit_ids))
        .group_by(User.unit_id, Attempt.day, band)
    ).all()

    bands = dict.fromkeys(BANDS, 0)
    days: Counter[date] = Counter()
    by_unit: Counter[int | None] = Counter()
    entries = score_sum = ratio_sum = ratio_count = duration_sum = duration_count = 0
    for unit_id, day, band_name, count, scores, ratios, n_ratios, durations, n_durations in groups:
        entries += count
        score_sum += scores or 0
        ratio_sum += ratios or 0.0
        ratio_count += n_ratios
        duration_sum += durations or 0.0
        duration_count += n_durations
        bands[band_name] += count
        days[day] += count
        by_unit[unit_id] += count

    units = unit_participation(
        contest, round_ids, UnitTree(), people_ids=unit_ids, entries_by_unit=by_unit.items()
    )
    rank_units(units.units, contest.unit_rank_threshold)
    return ContestStats(
        participants=units.participants,
        entries=units.entries,
        in_progress=in_progress,
        mean_score=score_sum / entries if entries else None,
        mean_score_ratio=ratio_sum / ratio_count if ratio_count else None,
        mean_duration=duration_sum / duration_count if duration_count else None,
        by_unit=units.units,
        without_unit=units.elsewhere,
        score_bands=bands,
        by_day=sorted(days.items()),
        threshold=contest.unit_rank_threshold,
    )


# --- per-question statistics (after the round closes) --------------------------------------


@dataclass
class QuestionStats:
    question_id: int
    text: str
    answered: int
    facility: float  # share of entries that got it right
    discrimination: float | None  # upper 27 % minus lower 27 % facility
    top_wrong_option: str | None  # the wrong option the upper group chose most
    top_wrong_share: float  # its share of the upper group
    flags: list[str]


def question_stats(round_: Round, now: datetime) -> list[QuestionStats] | None:
    """Facility and discrimination per question once the round is final (None before)."""
    if not is_final(round_, now):
        return None
    settle_rounds([round_], now)  # the last attempts still open count, closed at their deadline
    attempts = dict(
        db.session.execute(
            select(Attempt.id, Attempt.score)
            .join(User, User.id == Attempt.user_id)
            .where(
                Attempt.round_id == round_.id,
                Attempt.status.in_(FINISHED),
                *ranked_people(round_.contest_id),
            )
        ).all()
    )
    if not attempts:
        return []
    ordered = sorted(attempts, key=lambda a: attempts[a])
    group = max(1, round(len(ordered) * 0.27))
    lower, upper = set(ordered[:group]), set(ordered[-group:])
    seen: dict[int, dict] = {}
    for attempt_id, question_id, snapshot, selected in db.session.execute(
        select(
            AttemptQuestion.attempt_id,
            AttemptQuestion.question_id,
            AttemptQuestion.snapshot,
            Answer.selected,
        )
        .join(Answer, Answer.attempt_question_id == AttemptQuestion.id)
        .where(AttemptQuestion.attempt_id.in_(attempts))
    ):
        item = seen.setdefault(
            question_id,
            {
                "text": snapshot["text"],
                "n": 0,
                "right": 0,
                "upper": [0, 0],
                "lower": [0, 0],
                "upper_wrong": Counter(),
                "options": {},
            },
        )
        right = is_correct(snapshot, selected)
        item["n"] += 1
        item["right"] += right
        # Answers hold each attempt's own option numbers; count wrong choices by the bank's option.
        bank_id = {o["id"]: o.get("option_id", o["id"]) for o in snapshot["options"]}
        item["options"].update(
            {bank_id[o["id"]]: (o["text"], o["correct"]) for o in snapshot["options"]}
        )
        for name, members in (("upper", upper), ("lower", lower)):
            if attempt_id in members:
                item[name][0] += right
                item[name][1] += 1
        if attempt_id in upper:
            item["upper_wrong"].update(
                bank_id[o]
                for o in selected or []
                if o in bank_id and not item["options"][bank_id[o]][1]
            )
    results = []
    for question_id, item in seen.items():
        facility = item["right"] / item["n"]
        discrimination = None
        if item["upper"][1] and item["lower"][1]:
            discrimination = (
                item["upper"][0] / item["upper"][1] - item["lower"][0] / item["lower"][1]
            )
        top_wrong, top_share = None, 0.0
        if item["upper_wrong"] and item["upper"][1]:
            option_id, count = item["upper_wrong"].most_common(1)[0]
            top_wrong, top_share = item["options"][option_id][0], count / item["upper"][1]
        flags = []
        if top_share > 0.5:
            flags.append("strong_chose_wrong")
        if discrimination is not None and discrimination < 0:
            flags.append("negative_discrimination")
        if facility < 0.2:
            flags.append("very_hard")
        results.append(
            QuestionStats(
                question_id,
                item["text"],
                item["n"],
                facility,
                discrimination,
                top_wrong,
                top_share,
                flags,
            )
        )
    results.sort(key=lambda q: (not q.flags, q.facility))
    return results


__all__ = ["BANDS", "ContestStats", "QuestionStats", "contest_stats", "question_stats"]
