"""Timing and attempt rules of DESIGN.md §3, on the services with a frozen clock."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from quizapp.attempts.models import Attempt, AttemptStatus
from quizapp.attempts.services import (
    close_expired,
    get_attempt,
    save_answer,
    save_prediction,
    start_attempt,
    submit_attempt,
)
from quizapp.errors import Conflict, Invalid, NotFound
from quizapp.extensions import db


def correct_ids(attempt, question_index=0):
    aq = attempt.questions[question_index]
    return sorted(aq.correct_ids)


def wrong_id(attempt, question_index=0):
    aq = attempt.questions[question_index]
    return next(o["id"] for o in aq.snapshot["options"] if not o["correct"])


def answer_all(user, attempt, now, right: int):
    """Answer the first `right` questions correctly and the rest wrongly."""
    for index, aq in enumerate(attempt.questions):
        chosen = correct_ids(attempt, index) if index < right else [wrong_id(attempt, index)]
        save_answer(user, attempt.id, aq.question_id, chosen, now)


def test_deadline_is_time_limit_or_round_close_whichever_first(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(time_limit_minutes=20, closes_at=clock.at + timedelta(minutes=5))
    attempt, created = start_attempt(user, round_, clock.at)
    assert created
    assert attempt.deadline == clock.at + timedelta(minutes=5)

    other = make_round(time_limit_minutes=20)
    attempt, _ = start_attempt(user, other, clock.at)
    assert attempt.deadline == clock.at + timedelta(minutes=20)
    assert attempt.max_score == 8 and len(attempt.questions) == 8


def test_save_accepted_within_grace_refused_after(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    attempt, _ = start_attempt(user, round_, clock.at)
    qid = attempt.questions[0].question_id

    saved = save_answer(
        user, attempt.id, qid, correct_ids(attempt), attempt.deadline + timedelta(seconds=15)
    )
    assert saved.revision == 1

    with pytest.raises(Conflict) as refused:
        save_answer(
            user,
            attempt.id,
            qid,
            [wrong_id(attempt)],
            attempt.deadline + timedelta(seconds=15, microseconds=1),
        )
    assert refused.value.code == "deadline_passed"
    db.session.expire_all()
    assert attempt.questions[0].answer.selected == correct_ids(attempt)
    assert attempt.status == AttemptStatus.EXPIRED


def test_lazy_expiry_scores_saved_answers_stamped_at_deadline(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(time_limit_minutes=10)
    attempt, _ = start_attempt(user, round_, clock.at)
    answer_all(user, attempt, clock.at + timedelta(minutes=1), right=3)

    much_later = clock.at + timedelta(hours=5)
    seen = get_attempt(user, attempt.id, much_later)
    assert seen.status == AttemptStatus.EXPIRED
    assert seen.submitted_at == attempt.deadline
    assert seen.score == 3 and seen.max_score == 8
    assert seen.duration == 600.0


def test_close_expired_stamps_deadline_not_sweep_time(make_user, make_round, clock):
    users = [make_user() for _ in range(3)]
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    attempts = [start_attempt(u, round_, clock.at)[0] for u in users]
    submit_attempt(users[0], attempts[0].id, clock.at + timedelta(minutes=2))

    assert close_expired(clock.at + timedelta(minutes=10, seconds=15)) == 0  # still in grace
    assert close_expired(clock.at + timedelta(days=2)) == 2
    for attempt in attempts[1:]:
        db.session.refresh(attempt)
        assert attempt.status == AttemptStatus.EXPIRED
        assert attempt.submitted_at == attempt.deadline


def test_submit_is_idempotent(make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(), clock.at)
    answer_all(user, attempt, clock.at, right=5)
    first = submit_attempt(user, attempt.id, clock.at + timedelta(minutes=3))
    second = submit_attempt(user, attempt.id, clock.at + timedelta(minutes=4))
    assert first == second
    assert first.score == 5 and first.correct_count == 5 and first.question_count == 8
    with pytest.raises(Conflict):
        save_answer(user, attempt.id, attempt.questions[0].question_id, [], clock.at)


def test_duration_keeps_sub_second_precision_and_caps_at_deadline(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    attempt, _ = start_attempt(user, round_, clock.at)
    result = submit_attempt(user, attempt.id, clock.at + timedelta(seconds=95, milliseconds=250))
    assert result.duration_seconds == pytest.approx(95.25)

    late = make_round(time_limit_minutes=10, grace_seconds=15)
    attempt, _ = start_attempt(user, late, clock.at)
    result = submit_attempt(user, attempt.id, attempt.deadline + timedelta(seconds=10))
    assert result.status == AttemptStatus.SUBMITTED
    assert result.duration_seconds == 600.0
    assert result.submitted_at == attempt.deadline + timedelta(seconds=10)


def test_submit_after_grace_expires_at_deadline(make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(time_limit_minutes=10), clock.at)
    result = submit_attempt(user, attempt.id, clock.at + timedelta(minutes=30))
    assert result.status == AttemptStatus.EXPIRED
    assert result.submitted_at == attempt.deadline


def test_start_again_resumes_the_attempt_in_progress(make_user, make_round, clock):
    user = make_user()
    round_ = make_round()
    first, created = start_attempt(user, round_, clock.at)
    again, created_again = start_attempt(user, round_, clock.at + timedelta(minutes=1))
    assert created and not created_again
    assert again.id == first.id


def test_max_attempts_enforced(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(max_attempts=2)
    for _ in range(2):
        attempt, _ = start_attempt(user, round_, clock.at)
        submit_attempt(user, attempt.id, clock.at)
    with pytest.raises(Conflict) as refused:
        start_attempt(user, round_, clock.at)
    assert refused.value.code == "attempt_limit"
    assert db.session.scalar(select(func.count()).select_from(Attempt)) == 2


def test_daily_limit_counts_vietnam_days(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(max_attempts=5, daily_limit=1)
    attempt, _ = start_attempt(user, round_, clock.at)  # 08:00 in Vietnam
    submit_attempt(user, attempt.id, clock.at)
    with pytest.raises(Conflict) as refused:
        start_attempt(user, round_, clock.at + timedelta(hours=15))  # 23:00 the same day
    assert refused.value.code == "daily_limit"
    attempt, created = start_attempt(user, round_, clock.at + timedelta(hours=16))  # 00:00 next
    assert created and attempt.number == 2 and attempt.day_number == 1


def test_round_not_open_or_closed(make_user, make_round, clock):
    user = make_user()
    upcoming = make_round(opens_at=clock.at + timedelta(hours=1))
    closed = make_round(opens_at=clock.at - timedelta(days=2), closes_at=clock.at)
    with pytest.raises(Conflict) as not_open:
        start_attempt(user, upcoming, clock.at)
    assert not_open.value.code == "round_not_open"
    with pytest.raises(Conflict) as is_closed:
        start_attempt(user, closed, clock.at)
    assert is_closed.value.code == "round_closed"


def test_audience_limits_who_may_start(make_user, make_unit, make_round, clock):
    province = make_unit("P")
    department = make_unit("D", parent=province)
    elsewhere = make_unit("X")
    round_ = make_round(audience=[province])
    inside = make_user(unit=department)
    outside = make_user(unit=elsewhere)
    assert start_attempt(inside, round_, clock.at)[1]
    with pytest.raises(NotFound):
        start_attempt(outside, round_, clock.at)


def test_another_persons_attempt_is_not_found(make_user, make_round, clock):
    owner, intruder = make_user(), make_user()
    attempt, _ = start_attempt(owner, make_round(), clock.at)
    qid = attempt.questions[0].question_id
    with pytest.raises(NotFound):
        get_attempt(intruder, attempt.id, clock.at)
    with pytest.raises(NotFound):
        save_answer(intruder, attempt.id, qid, [], clock.at)
    with pytest.raises(NotFound):
        submit_attempt(intruder, attempt.id, clock.at)


def test_options_must_belong_to_the_question(make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(), clock.at)
    first, second = attempt.questions[0], attempt.questions[1]
    with pytest.raises(Invalid) as foreign:
        save_answer(user, attempt.id, first.question_id, [second.option_ids[0]], clock.at)
    assert foreign.value.code == "unknown_option"
    single = next(aq for aq in attempt.questions if aq.snapshot["kind"] != "multiple")
    with pytest.raises(Invalid):
        save_answer(user, attempt.id, single.question_id, single.option_ids[:2], clock.at)
    with pytest.raises(Invalid):
        save_answer(user, attempt.id, first.question_id, ["1"], clock.at)
    db.session.expire_all()
    assert all(aq.answer.revision == 0 for aq in attempt.questions)


def test_multiple_choice_is_all_or_nothing(make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(), clock.at)
    multiple = next(aq for aq in attempt.questions if aq.snapshot["kind"] == "multiple")
    right = sorted(multiple.correct_ids)
    save_answer(user, attempt.id, multiple.question_id, right[:1], clock.at)
    assert submit_attempt(user, attempt.id, clock.at).score == 0

    again, _ = start_attempt(user, attempt.round, clock.at)
    multiple = next(aq for aq in again.questions if aq.snapshot["kind"] == "multiple")
    save_answer(user, again.id, multiple.question_id, sorted(multiple.correct_ids), clock.at)
    assert submit_attempt(user, again.id, clock.at).score == 1


def test_stale_revision_is_refused(make_user, make_round, clock):
    user = make_user()
    attempt, _ = start_attempt(user, make_round(), clock.at)
    aq = attempt.questions[0]
    first = save_answer(
        user, attempt.id, aq.question_id, [aq.option_ids[0]], clock.at, base_revision=0
    )
    assert first.revision == 1
    with pytest.raises(Conflict) as stale:
        save_answer(user, attempt.id, aq.question_id, [aq.option_ids[1]], clock.at, base_revision=0)
    assert stale.value.code == "stale_revision"
    db.session.expire_all()
    assert aq.answer.selected == [aq.option_ids[0]] and aq.answer.revision == 1


def test_prediction_is_stored_with_the_attempt(make_user, make_round, clock):
    user = make_user()
    round_ = make_round(
        prediction_question="Bao nhiêu người tham gia?", prediction_target="participants"
    )
    attempt, _ = start_attempt(user, round_, clock.at)
    save_prediction(user, attempt.id, 269, clock.at)
    with pytest.raises(Invalid):
        save_prediction(user, attempt.id, -1, clock.at)
    submit_attempt(user, attempt.id, clock.at)
    with pytest.raises(Conflict):
        save_prediction(user, attempt.id, 300, clock.at)
    db.session.refresh(attempt)
    assert attempt.prediction == 269


def test_questions_and_options_are_shuffled_per_attempt_except_fixed_ones(
    make_user, make_round, clock
):
    round_ = make_round(max_attempts=1)
    orders, option_orders, fixed_orders = set(), set(), set()
    for seed in range(12):
        user = make_user()
        attempt, _ = start_attempt(user, round_, clock.at, rng=random.Random(seed))
        orders.add(tuple(aq.question_id for aq in attempt.questions))
        by_text = {aq.snapshot["text"]: aq for aq in attempt.questions}
        first = by_text[next(t for t in by_text if t.startswith("Chương trình tổng thể cải"))]
        option_orders.add(tuple(first.option_ids))
        fixed = by_text[next(t for t in by_text if "2011–2020" in t)]
        fixed_orders.add(tuple(o["text"] for o in fixed.snapshot["options"]))
    assert len(orders) > 1
    assert len(option_orders) > 1
    assert fixed_orders == {
        (
            "Nghị quyết 30c/NQ-CP",
            "Nghị quyết 76/NQ-CP",
            "Quyết định 749/QĐ-TTg",
            "Tất cả các đáp án trên",
        )
    }


def test_blueprint_draws_by_category_and_difficulty(make_user, make_round, clock):
    round_ = make_round(draw=[("Chuyển đổi số", 1, 3), ("Cải cách hành chính", 2, 2)])
    attempt, _ = start_attempt(make_user(), round_, clock.at)
    texts = sorted(aq.snapshot["text"] for aq in attempt.questions)
    assert len(texts) == 3
    assert "Đề án 06 được phê duyệt tại văn bản nào?" in texts


def test_editing_a_question_never_changes_past_attempts(make_user, make_round, clock):
    from quizapp.banks.models import Question

    user = make_user()
    attempt, _ = start_attempt(user, make_round(), clock.at)
    aq = attempt.questions[0]
    before = dict(aq.snapshot)
    question = db.session.get(Question, aq.question_id)
    question.text = "Đã sửa"
    for option in question.options:
        option.is_correct = not option.is_correct
    db.session.commit()
    db.session.expire_all()
    assert aq.snapshot == before
