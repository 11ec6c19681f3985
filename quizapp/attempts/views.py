"""The quiz page (works without JavaScript too), the submit confirmation and the result."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from quizapp.attempts.presenters import public_questions, review_for
from quizapp.attempts.services import (
    PREDICTION_MAX,
    get_attempt,
    history,
    prediction_range_message,
    remaining_seconds,
    save_answer,
    save_prediction,
    submit_attempt,
)
from quizapp.clock import now
from quizapp.errors import Conflict, Invalid
from quizapp.inputs import whole_number

blueprint = Blueprint("attempts", __name__)


@blueprint.get("/attempts/<id:attempt_id>")
@login_required
def show(attempt_id: int):
    moment = now()
    attempt = get_attempt(current_user, attempt_id, moment)
    if not attempt.is_in_progress:
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    return render_template(
        "attempts/quiz.html",
        attempt=attempt,
        questions=public_questions(attempt),
        remaining=remaining_seconds(attempt, moment),
    )


@blueprint.post("/attempts/<id:attempt_id>")
@login_required
def save_form(attempt_id: int):
    """The plain form post: save every changed answer, then confirm or submit."""
    moment = now()
    attempt = get_attempt(current_user, attempt_id, moment)
    if not attempt.is_in_progress:
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    action = request.form.get("action", "save")
    try:
        # Everything read before anything is saved: a value the page never sends changes nothing.
        changed = []
        for question in public_questions(attempt):
            chosen = sorted(_option_id(v) for v in request.form.getlist(f"q{question['id']}"))
            if chosen != sorted(question["selected"]):
                changed.append((question["id"], chosen))
        prediction = None
        if attempt.round.prediction_question:
            prediction = _prediction(request.form.get("prediction", ""))
            if prediction == attempt.prediction:
                prediction = None
        for question_id, chosen in changed:
            save_answer(current_user, attempt.id, question_id, chosen, moment)
        if prediction is not None:
            save_prediction(current_user, attempt.id, prediction, moment)
    except Conflict:
        submit_attempt(current_user, attempt.id, moment)
        flash(_("Time was up; your saved answers were submitted."), "warning")
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    except Invalid as error:
        flash(error.message, "error")
        return redirect(url_for("attempts.show", attempt_id=attempt.id))
    if action == "confirm":
        submit_attempt(current_user, attempt.id, moment)
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    if action == "submit":
        return redirect(url_for("attempts.confirm", attempt_id=attempt.id))
    flash(_("Your answers are saved."), "success")
    return redirect(url_for("attempts.show", attempt_id=attempt.id))


def _option_id(text: str) -> int:
    """An option number from the form; anything else was not sent by the quiz page."""
    value = whole_number(text, minimum=1)
    if value is None:
        raise Invalid(_("An answer was not one of the question's options; reload the page."))
    return value


def _prediction(text: str) -> int | None:
    """The typed prediction (thousands separated by dots, commas or spaces), None if blank."""
    digits = text.strip().replace(".", "").replace(",", "").replace(" ", "")
    if not digits:
        return None
    value = whole_number(digits, maximum=PREDICTION_MAX)
    if value is None:
        raise Invalid(prediction_range_message())
    return value


@blueprint.get("/attempts/<id:attempt_id>/confirm")
@login_required
def confirm(attempt_id: int):
    moment = now()
    attempt = get_attempt(current_user, attempt_id, moment)
    if not attempt.is_in_progress:
        return redirect(url_for("attempts.result", attempt_id=attempt.id))
    questions = public_questions(attempt)
    unanswered = [q["position"] for q in questions if not q["selected"]]
    return render_template(
        "attempts/confirm.html",
        attempt=attempt,
        unanswered=unanswered,
        total=len(questions),
        remaining=remaining_seconds(attempt, moment),
    )


@blueprint.post("/attempts/<id:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    submit_attempt(current_user, attempt_id, now())
    return redirect(url_for("attempts.result", attempt_id=attempt_id))


@blueprint.get("/attempts/<id:attempt_id>/result")
@login_required
def result(attempt_id: int):
    moment = now()
    attempt = get_attempt(current_user, attempt_id, moment)
    if attempt.is_in_progress:
        return redirect(url_for("attempts.show", attempt_id=attempt.id))
    return render_template(
        "attempts/result.html", attempt=attempt, review=review_for(attempt, moment)
    )


@blueprint.get("/history")
@login_required
def my_history():
    return render_template("attempts/history.html", attempts=history(current_user, now()))
