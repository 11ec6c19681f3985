"""The participant's home (open rounds), starting a round, and the leaderboard page."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from quizapp.attempts.services import start_attempt
from quizapp.clock import now
from quizapp.contests.services import get_round, rounds_for_user
from quizapp.contests.standings import standings
from quizapp.errors import NotFound

blueprint = Blueprint("contests", __name__)


@blueprint.get("/")
@login_required
def home():
    return render_template("contests/home.html", cards=rounds_for_user(current_user, now()))


@blueprint.post("/rounds/<id:round_id>/start")
@login_required
def start(round_id: int):
    attempt, _created = start_attempt(
        current_user,
        get_round(round_id),
        now(),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    return redirect(url_for("attempts.show", attempt_id=attempt.id))


@blueprint.get("/rounds/<id:round_id>/leaderboard")
@login_required
def leaderboard(round_id: int):
    round_ = get_round(round_id)
    if not (current_user.is_staff or round_.contest.public_leaderboard):
        raise NotFound("No such leaderboard.")
    rows = standings(round_, now(), limit=100)
    return render_template("contests/leaderboard.html", round=round_, rows=rows)
