"""JSON endpoints: thin wrappers that parse, call one service, and serialise."""

from functools import wraps

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from quizapp.api.openapi import OPENAPI
from quizapp.attempts.presenters import public_questions
from quizapp.attempts.services import (
    get_attempt,
    remaining_seconds,
    result_of,
    save_answer,
    save_prediction,
    start_attempt,
    submit_attempt,
)
from quizapp.auth import limits
from quizapp.auth.services import authenticate, claimed_user
from quizapp.auth.sessions import begin_session, end_session
from quizapp.clock import now
from quizapp.contests.services import (
    get_round,
    require_contest_access,
    rounds_for_user,
)
from quizapp.contests.standings import cached_standings
from quizapp.database import reads_first
from quizapp.errors import Invalid, NotFound, Unauthorized, error_response
from quizapp.extensions import csrf, limiter
from quizapp.inputs import query_number
from quizapp.policy import can_see_leaderboard

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(blueprint)  # checked in api_login_required, after the login: 401 comes before 400
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@blueprint.errorhandler(RateLimitExceeded)
def too_many_failed_logins(error: RateLimitExceeded):
    """429 in the API's error shape, with the seconds until the next try is counted."""
    body, status = error_response(429, "too_many_requests", str(error.description))
    return body, status, {"Retry-After": str(limits.retry_after_seconds())}


def api_login_required(view):
    """Logged-in users only (401 otherwise); writes must carry the X-CSRFToken header."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        logged_in_user()
        protect_writes()
        return view(*args, **kwargs)

    return wrapped


def logged_in_user():
    """The user Flask-Login loads for this request; 401 without one."""
    if not current_user.is_authenticated:
        raise Unauthorized(_l("Log in first."))
    return current_user


def protect_writes() -> None:
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()


def json_body() -> dict:
    """The request's JSON object; bounded in size and depth by `quizapp.inputs.BoundedRequest`
    (unreadable JSON: 400 bad_json; not JSON, or not an object: 422 bad_json)."""
    body = request.get_json()
    if not isinstance(body, dict):
        raise Invalid(
            _l("Send a JSON object with Content-Type: application/json."), code="bad_json"
        )
    return body


def iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def user_json(user) -> dict:
    return {
        "id": user.id,
        "login": user.login,
        "full_name": user.full_name,
        "role": user.role,
        "unit": user.unit.code if user.unit else None,
    }


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@blueprint.post("/login")  # no CSRF token exists before login; a JSON body cannot come from a form
@reads_first  # a login writes nothing; its failures are counted apart (auth.limit_store)
@limits.per_account  # failures shared with the login page; over the limit: 429 with Retry-After
@limits.per_address
def login():
    body = json_body()
    user = authenticate(str(body.get("login") or ""), str(body.get("password") or ""))
    if user is None:
        limits.note_failed_login()
        raise Unauthorized("Wrong login or password.", code="bad_credentials")
    begin_session(user)
    return jsonify(user=user_json(user), csrf_token=generate_csrf())


@blueprint.post("/logout")
@api_login_required
def logout():
    end_session(current_user)
    return jsonify(status="logged_out")


@blueprint.get("/rounds")
@api_login_required
def rounds():
    cards = rounds_for_user(current_user, now())
    return jsonify(
        rounds=[
            {
                "id": card.round.id,
                "contest": card.round.contest.slug,
                "number": card.round.number,
                "title": card.round.title,
                "state": card.state,
                "opens_at": iso(card.round.opens_at),
                "closes_at": iso(card.round.closes_at),
                "time_limit_minutes": card.round.time_limit_minutes,
                "question_count": card.round.question_count,
                "attempts_used": card.attempts_used,
                "attempts_allowed": card.attempts_allowed,
                "in_progress_attempt": card.in_progress_id,
            }
            for card in cards
        ]
    )


@blueprint.post("/rounds/<id:round_id>/attempts")
@reads_first  # the draw is made before the write lock is taken
@api_login_required
def start(round_id: int):
    round_ = get_round(round_id)
    require_contest_access(current_user, round_.contest)
    attempt, created = start_attempt(
        current_user,
        round_,
        now(),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    return jsonify(attempt_json(attempt)), 201 if created else 200


@blueprint.get("/attempts/<id:attempt_id>")
@api_login_required
def attempt(attempt_id: int):
    return jsonify(attempt_json(get_attempt(current_user, attempt_id, now())))


def attempt_json(attempt) -> dict:
    round_ = attempt.round
    data = {
        "id": attempt.id,
        "round_id": round_.id,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": iso(attempt.started_at),
        "deadline": iso(attempt.deadline),
        "remaining_seconds": round(remaining_seconds(attempt, now()), 3),
        "grace_seconds": round_.grace_seconds,
        "questions": public_questions(attempt) if attempt.is_in_progress else [],
        "prediction": None,
    }
    if round_.prediction_question:
        data["prediction"] = {"question": round_.prediction_question, "value": attempt.prediction}
    if not attempt.is_in_progress:
        data["result"] = result_json(result_of(attempt))
    return data


@limiter.request_filter
def answers_are_never_limited() -> bool:
    """No rate limit refuses a logged-in person's answer (and the hot path skips resolving the
    limits per save); requests without a session's user still count."""
    return request.endpoint == "api.answer" and claimed_user() is not None


@blueprint.put("/attempts/<id:attempt_id>/answers/<id:question_id>")
@reads_first  # the write lock is taken for the UPDATE alone
def answer(attempt_id: int, question_id: int):
    # The hot path: save_answer checks the session's claim (id and session epoch) in its own
    # query instead of Flask-Login loading the User; a remember cookie alone goes the long way.
    caller = claimed_user() or logged_in_user()
    protect_writes()
    body = json_body()
    base_revision = body.get("revision")
    if base_revision is not None and (
        type(base_revision) is not int or not 0 <= base_revision < 2**31  # true is not 1
    ):
        raise Invalid(_l("revision must be a whole number."))
    saved = save_answer(
        caller,
        attempt_id,
        question_id,
        body.get("option_ids"),
        now(),
        base_revision=base_revision,
    )
    return jsonify(saved_at=iso(saved.saved_at), revision=saved.revision)


@blueprint.put("/attempts/<id:attempt_id>/prediction")
@api_login_required
def prediction(attempt_id: int):
    value = save_prediction(current_user, attempt_id, json_body().get("value"), now())
    return jsonify(value=value)


@blueprint.post("/attempts/<id:attempt_id>/submit")
@api_login_required
def submit(attempt_id: int):
    return jsonify(result_json(submit_attempt(current_user, attempt_id, now())))


def result_json(result) -> dict:
    """The result as the round's review policy lets its owner see it (no score under `none`)."""
    score_shown = result.score_shown
    return {
        "status": result.status,
        "score": result.score if score_shown else None,
        "score_shown": score_shown,
        "max_score": result.max_score,
        "correct_count": result.correct_count if score_shown else None,
        "question_count": result.question_count,
        "duration_seconds": result.duration_seconds,
        "submitted_at": iso(result.submitted_at),
    }


@blueprint.get("/rounds/<id:round_id>/leaderboard")
@api_login_required
def leaderboard(round_id: int):
    round_ = get_round(round_id)
    if not can_see_leaderboard(current_user, round_.contest):
        raise NotFound(_l("No such leaderboard."))
    limit = query_number("limit", default=100, minimum=1, maximum=1000)
    rows = cached_standings(round_, now(), limit=limit)
    return jsonify(
        entries=[
            {
                "rank": row.rank,
                "name": row.name,
                "unit": row.unit,
                "score": row.score,
                "max_score": row.max_score,
                "duration_seconds": row.duration_seconds,
                "prediction": row.prediction,
                "submitted_at": iso(row.submitted_at),
                "decided_by": row.decided_by,
            }
            for row in rows
        ]
    )
