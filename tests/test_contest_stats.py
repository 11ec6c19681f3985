"""Contest statistics add up, agree across dashboard, API and CLI, and respect HR's scope."""

import json
from datetime import timedelta

import jsonschema
import pytest

from quizapp.attempts.services import save_answer, start_attempt, submit_attempt
from quizapp.auth.models import Role
from quizapp.contests.stats import contest_stats, question_stats
from quizapp.extensions import db
from tests.conftest import api_login


@pytest.fixture
def contest_with_entries(make_unit, make_user, make_round, clock):
    """Two departments under a province; people taking part once, twice, or never."""
    province = make_unit("P", "Tỉnh", headcount=None)
    a = make_unit("A", "Sở A", parent=province, headcount=10)
    b = make_unit("B", "Sở B", parent=province, headcount=4)
    round_ = make_round(max_attempts=3, closes_at=clock.at + timedelta(hours=2))
    round_.contest.unit_rank_threshold = 0.5
    people = {
        "a": [make_user(unit=a) for _ in range(6)],
        "b": [make_user(unit=b) for _ in range(1)],
        "none": [make_user()],
    }
    make_user(unit=a)  # never takes part
    organizer = make_user(role=Role.ORGANIZER, unit=a)
    db.session.commit()

    def take(user, right):
        attempt, _ = start_attempt(user, round_, clock.at)
        for index, aq in enumerate(attempt.questions):
            chosen = (
                sorted(aq.correct_ids)
                if index < right
                else [next(o["id"] for o in aq.snapshot["options"] if not o["correct"])]
            )
            save_answer(user, attempt.id, aq.question_id, chosen, clock.at)
        submit_attempt(user, attempt.id, clock.at + timedelta(minutes=5))

    for index, user in enumerate(people["a"]):
        take(user, right=index)  # 0..5 of 8
    take(people["a"][0], right=8)  # a second entry, full marks
    take(people["b"][0], right=6)
    take(people["none"][0], right=2)
    take(organizer, right=8)  # not counted
    start_attempt(people["b"][0], round_, clock.at)  # in progress
    return round_.contest


def test_statistics_add_up(contest_with_entries, clock):
    stats = contest_stats(contest_with_entries, clock.at)
    assert (stats.entries, stats.participants, stats.in_progress) == (9, 8, 1)
    assert stats.participants <= stats.entries
    assert stats.score_bands == {"100": 1, "75-99": 1, "25-74": 5, "1-24": 1, "0": 1}
    assert sum(stats.score_bands.values()) == stats.entries
    units = {u.code: u for u in stats.by_unit}
    assert (units["A"].participants, units["A"].entries) == (6, 7)
    assert (units["B"].participants, units["B"].entries) == (1, 1)
    assert (units["P"].participants, units["P"].entries) == (7, 8)  # with its sub-units
    roots = [u for u in stats.by_unit if u.depth == 0]
    assert sum(u.entries for u in roots) + stats.without_unit.entries == stats.entries
    # Everyone who took part: counted in a rate, not counted, or in no unit.
    assert (
        sum(u.participants + u.not_counted for u in roots) + (stats.without_unit.participants)
        == stats.participants
    )
    assert units["A"].rate == 0.6 and units["B"].rate == 0.25
    assert (units["A"].rank, units["B"].rank) == (1, None)  # B is under the 50 % threshold
    assert [d for d, _ in stats.by_day] and sum(n for _, n in stats.by_day) == stats.entries


def _organizer_of(contest, make_user) -> None:
    """btc@example.vn, recorded as the contest's organizer (others get 404 for its numbers)."""
    from quizapp.contests.models import contest_organizers

    user = make_user("btc@example.vn", role=Role.ORGANIZER)
    db.session.execute(contest_organizers.insert().values(contest_id=contest.id, user_id=user.id))
    db.session.commit()


def test_cli_api_and_dashboard_show_the_same_numbers(
    app, contest_with_entries, runner, clock, make_user
):
    expected = contest_stats(contest_with_entries, clock.at).as_json()
    cli = json.loads(
        runner.invoke(args=["stats", "--contest", contest_with_entries.slug, "--json"]).output
    )
    assert cli == expected
    assert set(cli) >= {
        "participants",
        "entries",
        "in_progress",
        "mean_score",
        "by_unit",
        "score_bands",
        "by_day",
    }
    assert set(cli["by_unit"][0]) >= {
        "code",
        "name",
        "headcount",
        "participants",
        "entries",
        "rate",
    }
    _organizer_of(contest_with_entries, make_user)
    client = app.test_client()
    api_login(client, "btc@example.vn")
    assert client.get(f"/api/v1/contests/{contest_with_entries.slug}/stats").get_json() == (
        expected
    )
    page = client.get(f"/contests/{contest_with_entries.slug}/dashboard").get_data(as_text=True)
    assert 'data-testid="stat-entries">9<' in page and 'data-testid="stat-participants">8<' in page


def test_hr_sees_its_own_subtree_only(app, contest_with_entries, make_user):
    from quizapp.auth.models import Unit

    unit_b = db.session.scalar(db.select(Unit).where(Unit.code == "B"))
    make_user("hr-b@example.vn", role=Role.HR, unit=unit_b)
    hr = app.test_client()
    api_login(hr, "hr-b@example.vn")
    data = hr.get(f"/api/v1/contests/{contest_with_entries.slug}/stats").get_json()
    assert [u["code"] for u in data["by_unit"]] == ["B"]
    assert (data["entries"], data["participants"]) == (1, 1)
    missing = hr.get("/api/v1/contests/no-such/stats")
    assert missing.status_code == 404, missing.get_data(as_text=True)


def test_participants_see_no_statistics(app, contest_with_entries, make_user):
    make_user("someone@example.vn")
    participant = app.test_client()
    api_login(participant, "someone@example.vn")
    assert participant.get(f"/api/v1/contests/{contest_with_entries.slug}/stats").status_code == 403
    assert participant.get(f"/contests/{contest_with_entries.slug}/dashboard").status_code == 403


def test_question_statistics_after_close(contest_with_entries, clock):
    round_ = contest_with_entries.rounds[0]
    assert question_stats(round_, clock.at) is None  # still open
    items = question_stats(round_, clock.at + timedelta(days=1))
    assert items and all(0 <= q.facility <= 1 for q in items)
    assert all(q.answered >= 1 for q in items)


def test_question_statistics_page_after_close(app, contest_with_entries, make_user, clock):
    _organizer_of(contest_with_entries, make_user)
    client = app.test_client()
    api_login(client, "btc@example.vn")
    slug = contest_with_entries.slug
    dashboard = client.get(f"/contests/{slug}/dashboard").get_data(as_text=True)
    assert f"/contests/{slug}/rounds/1/questions" not in dashboard  # still open
    assert 'data-refresh-seconds="60"' in dashboard  # app.js reloads it, with a pause switch
    clock.at += timedelta(days=1)
    dashboard = client.get(f"/contests/{slug}/dashboard").get_data(as_text=True)
    assert f"/contests/{slug}/rounds/1/questions" in dashboard
    assert "Thống kê câu hỏi" in dashboard and "Lượt thi theo ngày" in dashboard  # Vietnamese
    page = client.get(f"/contests/{slug}/rounds/1/questions")
    assert page.status_code == 200 and 'data-testid="question-stats"' in page.get_data(True)
    assert client.get(f"/contests/{slug}/rounds/9/questions").status_code == 404


def test_hr_may_not_open_question_statistics(app, contest_with_entries, make_user):
    from quizapp.auth.models import Unit

    unit_b = db.session.scalar(db.select(Unit).where(Unit.code == "B"))
    make_user("hr-b@example.vn", role=Role.HR, unit=unit_b)
    hr = app.test_client()
    api_login(hr, "hr-b@example.vn")
    assert hr.get(f"/contests/{contest_with_entries.slug}/rounds/1/questions").status_code == 403


def test_statistics_answer_matches_the_openapi_document(app, contest_with_entries, make_user):
    _organizer_of(contest_with_entries, make_user)
    client = app.test_client()
    api_login(client, "btc@example.vn")
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/contests/{slug}/stats"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404"}
    schema = {**document["components"]["schemas"]["Stats"], "components": document["components"]}
    data = client.get(f"/api/v1/contests/{contest_with_entries.slug}/stats").get_json()
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["by_unit"] and data["by_day"]


def test_stats_command_names_an_unknown_contest(runner):
    result = runner.invoke(args=["stats", "--contest", "no-such", "--json"])
    assert result.exit_code == 1 and "no-such" in result.output
