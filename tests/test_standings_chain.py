"""The ranking chain on a few hundred participants: every step decides some pair."""

import random
from datetime import date, timedelta

from sqlalchemy import select

from quizapp.attempts.models import Attempt, AttemptStatus, RoundResult
from quizapp.attempts.services import close_expired, save_answer, start_attempt
from quizapp.auth.models import Role
from quizapp.contests.round_results import rebuild_results, record_result
from quizapp.contests.standings import standings
from quizapp.extensions import db

STEPS = ("score", "prediction", "duration", "submitted_at", "attempt_id")


def add_attempt(user, round_, *, number=1, score, prediction, duration, submitted_at):
    attempt = Attempt(
        user_id=user.id,
        round_id=round_.id,
        number=number,
        day=date(2026, 10, 5),
        day_number=number,
        status=AttemptStatus.SUBMITTED,
        started_at=submitted_at - timedelta(seconds=duration),
        deadline=submitted_at,
        submitted_at=submitted_at,
        score=score,
        max_score=20,
        correct_count=score,
        duration=duration,
        prediction=prediction,
    )
    db.session.add(attempt)
    db.session.flush()
    record_result(attempt)  # as the scoring service does when an attempt finishes
    return attempt


def expected_key(attempt, actual):
    error = abs(attempt.prediction - actual) if attempt.prediction is not None else 2**62
    return (-attempt.score, error, attempt.duration, attempt.submitted_at, attempt.id)


def test_every_step_of_the_chain_decides_some_pair(make_user, make_round, clock):
    rng = random.Random(269)
    round_ = make_round(
        prediction_question="Bao nhiêu người tham gia?",
        prediction_target="participants",
        opens_at=clock.at - timedelta(days=7),
        closes_at=clock.at - timedelta(hours=1),
    )
    users = [make_user() for _ in range(300)]
    organizer = make_user(role=Role.ORGANIZER)
    base = clock.at - timedelta(days=2)
    attempts = []
    for index, user in enumerate(users):
        group = index % 5
        # Groups share more and more of the chain, so each later step has ties to break.
        score = rng.randint(0, 20) if group == 0 else 15
        prediction = rng.choice([250, 290, 300, 310, None]) if group <= 1 else 300
        duration = round(rng.uniform(60, 900), 3) if group <= 2 else 300.5
        submitted = (
            base + timedelta(seconds=rng.randint(0, 90000))
            if group <= 3
            else base + timedelta(hours=3)
        )
        attempts.append(
            add_attempt(
                user,
                round_,
                score=score,
                prediction=prediction,
                duration=duration,
                submitted_at=submitted,
            )
        )
    add_attempt(
        organizer, round_, score=20, prediction=300, duration=10.0, submitted_at=base
    )  # never ranked
    db.session.commit()

    rows = standings(round_, clock.at)
    actual = round_.prediction_actual
    assert actual == 300  # the organizer is not counted among participants

    expected = sorted(attempts, key=lambda a: expected_key(a, actual))
    assert [row.attempt_id for row in rows] == [a.id for a in expected]
    assert [row.rank for row in rows] == list(range(1, 301))
    by_id = {a.id: a for a in attempts}
    for above, row in zip(rows, rows[1:], strict=False):
        keys = (
            expected_key(by_id[above.attempt_id], actual),
            expected_key(by_id[row.attempt_id], actual),
        )
        first_difference = next(i for i in range(5) if keys[0][i] != keys[1][i])
        assert row.decided_by == STEPS[first_difference]
    assert rows[0].decided_by is None
    assert {row.decided_by for row in rows[1:]} == set(STEPS)


def test_prediction_step_waits_for_the_round_to_close(make_user, make_round, clock):
    round_ = make_round(prediction_question="?", prediction_target="participants")
    near, far = make_user(), make_user()
    base = clock.at - timedelta(hours=1)
    add_attempt(near, round_, score=10, prediction=2, duration=500.0, submitted_at=base)
    add_attempt(far, round_, score=10, prediction=900, duration=100.0, submitted_at=base)
    db.session.commit()
    open_rows = standings(round_, clock.at)
    assert [r.user_id for r in open_rows] == [far.id, near.id]  # duration decides while open
    assert open_rows[1].decided_by == "duration"
    final = clock.at + timedelta(days=8)
    closed_rows = standings(round_, final)
    assert [r.user_id for r in closed_rows] == [near.id, far.id]  # |2 - 2| beats |900 - 2|
    assert closed_rows[1].decided_by == "prediction"


def test_counting_best_last_first(make_user, make_round, clock):
    base = clock.at - timedelta(hours=5)
    for counting, expected_score in (("best", 18), ("last", 12), ("first", 9)):
        round_ = make_round(counting=counting)
        user = make_user()
        for number, (score, minutes) in enumerate(((9, 0), (18, 60), (12, 120)), start=1):
            add_attempt(
                user,
                round_,
                number=number,
                score=score,
                prediction=None,
                duration=300.0,
                submitted_at=base + timedelta(minutes=minutes),
            )
        db.session.commit()
        [row] = standings(round_, clock.at)
        assert row.score == expected_score, counting


def test_best_breaks_a_persons_own_ties_by_the_chain(make_user, make_round, clock):
    round_ = make_round(counting="best")
    user = make_user()
    base = clock.at - timedelta(hours=5)
    add_attempt(
        user, round_, number=1, score=15, prediction=None, duration=400.0, submitted_at=base
    )
    faster = add_attempt(
        user,
        round_,
        number=2,
        score=15,
        prediction=None,
        duration=200.0,
        submitted_at=base + timedelta(hours=1),
    )
    db.session.commit()
    [row] = standings(round_, clock.at)
    assert row.attempt_id == faster.id


def test_contest_can_reorder_the_chain(make_user, make_round, clock):
    round_ = make_round(ranking=["score", "submitted_at", "duration"])
    early, quick = make_user(), make_user()
    base = clock.at - timedelta(hours=5)
    add_attempt(early, round_, score=10, prediction=None, duration=600.0, submitted_at=base)
    add_attempt(
        quick,
        round_,
        score=10,
        prediction=None,
        duration=60.0,
        submitted_at=base + timedelta(minutes=30),
    )
    db.session.commit()
    rows = standings(round_, clock.at)
    assert [r.user_id for r in rows] == [early.id, quick.id]
    assert rows[1].decided_by == "submitted_at"


def kept_results(round_) -> set[tuple]:
    return {
        (r.user_id, r.attempt_id, r.score, r.duration, r.prediction_error)
        for r in db.session.scalars(select(RoundResult).where(RoundResult.round_id == round_.id))
    }


def test_kept_counted_entries_match_a_rebuild_from_the_attempts(make_user, make_round, clock):
    rng = random.Random(7)
    base = clock.at - timedelta(hours=20)
    for counting in ("best", "last", "first"):
        round_ = make_round(counting=counting, max_attempts=4)
        for user in [make_user() for _ in range(40)]:
            for number in range(1, rng.randint(1, 4) + 1):
                add_attempt(
                    user,
                    round_,
                    number=number,
                    score=rng.choice([12, 15, 15, 18]),  # ties between one person's attempts
                    prediction=None,
                    duration=rng.choice([200.0, 300.0]),
                    submitted_at=base + timedelta(minutes=30 * number + rng.randint(0, 20)),
                )
        db.session.commit()
        kept = kept_results(round_)
        assert len(kept) == 40
        rebuild_results(round_)
        assert kept_results(round_) == kept, counting


def test_the_prediction_step_can_change_which_entry_counts_at_close(make_user, make_round, clock):
    round_ = make_round(counting="best", prediction_question="?", max_attempts=2)
    user = make_user()
    base = clock.at - timedelta(hours=2)
    quick = add_attempt(
        user, round_, number=1, score=15, prediction=40, duration=100.0, submitted_at=base
    )
    exact = add_attempt(
        user,
        round_,
        number=2,
        score=15,
        prediction=1,
        duration=500.0,
        submitted_at=base + timedelta(minutes=30),
    )
    db.session.commit()
    assert standings(round_, clock.at)[0].attempt_id == quick.id  # open: duration decides
    [row] = standings(round_, round_.closes_at + timedelta(days=1))
    assert (row.attempt_id, row.prediction_error) == (exact.id, 0)  # one participant, |1 - 1|


def test_an_attempt_closed_by_expiry_reaches_the_board(make_user, make_round, clock):
    round_ = make_round(time_limit_minutes=10)
    user = make_user()
    attempt, _ = start_attempt(user, round_, clock.at)
    first = attempt.questions[0]
    save_answer(user, attempt.id, first.question_id, sorted(first.correct_ids), clock.at)
    later = clock.at + timedelta(minutes=30)
    assert close_expired(later) == 1
    [row] = standings(round_, later)
    assert (row.attempt_id, row.score, row.submitted_at) == (attempt.id, 1, attempt.deadline)


def test_public_board_shows_rank_name_and_unit_only_when_switched_on(
    client, make_user, make_round, clock
):
    round_ = make_round()
    user = make_user(full_name="Trần Thị Bình")
    user.phone = "0912345678"
    add_attempt(user, round_, score=17, prediction=None, duration=321.0, submitted_at=clock.at)
    db.session.commit()
    page = client.get(f"/contests/{round_.contest.slug}/board")  # anonymous
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Trần Thị Bình" in html
    assert "17/20" not in html and "0912345678" not in html and user.login not in html
    round_.contest.public_leaderboard = False
    db.session.commit()
    assert client.get(f"/contests/{round_.contest.slug}/board").status_code == 404
    assert client.get("/contests/no-such/board").status_code == 404
