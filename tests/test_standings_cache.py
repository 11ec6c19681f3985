"""Cached leaderboards: a result shows at once, an unsignalled change waits for the cache, and
with Redis every host shares the boards and sees each other's results."""

from sqlalchemy import update

from quizapp.attempts.models import RoundResult
from quizapp.contests.models import Round
from quizapp.contests.standings import cached_standings
from quizapp.extensions import cache, db
from tests.conftest import START
from tests.test_standings_chain import add_attempt


def board(round_, clock) -> list[tuple[str, int]]:
    return [(row.name, row.score) for row in cached_standings(round_, clock.at)]


def test_a_new_result_shows_at_once_and_the_board_is_read_from_the_cache(
    make_user, make_round, clock
):
    round_ = make_round()
    an, binh = make_user(full_name="An"), make_user(full_name="Bình")
    add_attempt(an, round_, score=15, prediction=None, duration=300.0, submitted_at=clock.at)
    db.session.commit()
    assert board(round_, clock) == [("An", 15)]

    add_attempt(binh, round_, score=18, prediction=None, duration=200.0, submitted_at=clock.at)
    db.session.commit()  # the scoring service's commit marks the board stale
    assert board(round_, clock) == [("Bình", 18), ("An", 15)]

    # A change the scoring service did not make is not seen until the cache lets go.
    db.session.execute(update(RoundResult).values(score=1))
    db.session.commit()
    assert board(round_, clock) == [("Bình", 18), ("An", 15)]
    cache.clear()
    assert board(round_, clock) == [("Bình", 1), ("An", 1)]


def test_an_uncommitted_result_never_reaches_the_board(make_user, make_round, clock):
    round_ = make_round()
    an = make_user(full_name="An")
    assert board(round_, clock) == []
    add_attempt(an, round_, score=15, prediction=None, duration=300.0, submitted_at=clock.at)
    db.session.rollback()
    assert board(round_, clock) == []


def test_hosts_sharing_redis_share_boards_and_see_each_others_results(
    host,
    make_user,
    make_round,
    clock,
    redis_url,  # noqa: F811
):
    import redis

    round_ = make_round()
    an, binh = make_user(full_name="An"), make_user(full_name="Bình")
    add_attempt(an, round_, score=15, prediction=None, duration=300.0, submitted_at=clock.at)
    db.session.commit()
    round_id = round_.id
    host_a, host_b = host(REDIS_URL=redis_url), host(REDIS_URL=redis_url)

    def board_on(host) -> list[str]:
        with host.app_context():
            return [row.name for row in cached_standings(db.session.get(Round, round_id), START)]

    assert board_on(host_a) == ["An"]
    with redis.Redis.from_url(redis_url) as client:
        assert client.keys("quizapp:standings:*")  # the board host A read, kept in Redis
    with host_a.app_context():
        add_attempt(binh, round_, score=18, prediction=None, duration=200.0, submitted_at=clock.at)
        db.session.commit()
    assert board_on(host_b) == ["Bình", "An"]  # host B's next look, no waiting


def test_without_redis_boards_come_from_the_database_and_logins_still_work(
    host, make_user, make_round, clock
):
    round_ = make_round()
    an = make_user(full_name="An")
    add_attempt(an, round_, score=15, prediction=None, duration=300.0, submitted_at=clock.at)
    db.session.commit()
    round_id = round_.id
    broken = host(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens on the discard port
    with broken.app_context():
        rows = cached_standings(db.session.get(Round, round_id), START)
        assert [row.name for row in rows] == ["An"]
    login = {"login": an.login, "password": "secret123"}
    assert broken.test_client().post("/api/v1/login", json=login).status_code == 200
