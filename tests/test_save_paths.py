"""The answer save's two paths: on PostgreSQL one statement saves when every rule holds, and
anything it refuses goes the read-then-UPDATE way (SQLite's only way), which says why; either
way a refused save changes nothing."""

import sqlite3
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from quizapp.attempts import saving
from quizapp.attempts.models import Answer, AttemptQuestion
from quizapp.extensions import db
from tests.conftest import api_login

CASES = {
    "another person's attempt": (404, "not_found"),
    "a question not in this attempt": (404, "not_found"),
    "an option of another question": (422, "unknown_option"),
    "two options for a single-answer question": (422, "single_answer"),
    "an option twice": (422, None),
    "an option id that is not a number": (422, None),
    "a revision someone saved after": (409, "stale_revision"),
    "a revision that is not a number": (422, None),
    "a cookie from before logging out everywhere": (401, "unauthorized"),
    "a submitted attempt": (409, "attempt_closed"),
    "after the deadline and its grace": (409, "deadline_passed"),
}


@contextmanager
def listening(pool, **hooks):
    """The pool's events (by name) reach these functions meanwhile."""
    for name, hook in hooks.items():
        event.listen(pool, name, hook)
    try:
        yield
    finally:
        for name, hook in hooks.items():
            event.remove(pool, name, hook)


@contextmanager
def statements(app):
    """The SQL statements the app runs meanwhile, as the database driver gets them: SQLite's
    trace, BEGIN and COMMIT included; psycopg's cursors (its own BEGIN is not a statement it
    is given)."""
    seen: list[str] = []

    class RecordingCursor(psycopg.Cursor):
        def execute(self, query, *args, **kwargs):
            seen.append(str(query))
            return super().execute(query, *args, **kwargs)

    def watch(dbapi_connection, *_args):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(seen.append)
        else:
            dbapi_connection.cursor_factory = RecordingCursor

    def unwatch(dbapi_connection, *_args):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(None)
        elif dbapi_connection is not None:
            dbapi_connection.cursor_factory = psycopg.Cursor

    with app.app_context():
        pool = db.engine.pool
    with listening(pool, checkout=watch, checkin=unwatch):
        yield seen


@pytest.fixture
def attempt(app, client, make_user, make_round):
    make_user("an@example.vn")
    make_user("binh@example.vn")
    round_ = make_round(time_limit_minutes=10, grace_seconds=15)
    with app.app_context():  # a g of its own: make_round's context would lend the user to it
        token = api_login(client, "an@example.vn")
        body = client.post(
            f"/api/v1/rounds/{round_.id}/attempts", headers={"X-CSRFToken": token}
        ).get_json()
    db.session.remove()
    return body, token


def put(app, client, path: str, payload: dict, token: str):
    with app.app_context():
        return client.put(path, json=payload, headers={"X-CSRFToken": token})


def answer_row(app, question_id: int) -> tuple[list, int]:
    with app.app_context():
        answer = db.session.scalar(
            select(Answer).join(AttemptQuestion).where(AttemptQuestion.question_id == question_id)
        )
        return answer.selected, answer.revision


@pytest.fixture
def fast_paths(monkeypatch):
    """What each fast path of save_answer returned (the new revision, or None to fall back)."""
    returned: dict[str, list] = {}
    for name in ("_save_aside", "_save_in_one_statement"):
        path = getattr(saving, name)

        def watched(*args, _path=path, _name=name, **kwargs):
            revision = _path(*args, **kwargs)
            returned.setdefault(_name, []).append(revision)
            return revision

        monkeypatch.setattr(saving, name, watched)
    return returned


@pytest.mark.parametrize("save", ["one option", "two options", "none (cleared)", "on a revision"])
def test_an_accepted_save_is_one_statement_on_postgresql(app, client, attempt, save, fast_paths):
    body, token = attempt
    question = next(q for q in body["questions"] if q["multiple"] == (save == "two options"))
    options = [option["id"] for option in question["options"]]
    chosen = {"two options": options[:2], "none (cleared)": []}.get(save, options[1:2])
    payload: dict = {"option_ids": chosen}
    if save == "on a revision":
        payload["revision"] = 0
    path = f"/api/v1/attempts/{body['id']}/answers/{question['id']}"
    with statements(app) as seen:
        response = put(app, client, path, payload, token)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["revision"] == 1
    assert answer_row(app, question["id"]) == (sorted(chosen), 1)
    if db.engine.dialect.name == "postgresql":
        assert [statement.split()[0] for statement in seen] == ["UPDATE"], seen
        assert fast_paths == {"_save_in_one_statement": [1]}
    else:  # the read outside SQLite's write lock, then the UPDATE under it, off the ORM session
        kinds = [
            statement if statement.startswith("BEGIN") else statement.split()[0]
            for statement in seen
        ]
        assert kinds == ["SELECT", "BEGIN IMMEDIATE", "UPDATE", "COMMIT"], seen
        assert fast_paths == {"_save_aside": [1]}


@pytest.mark.parametrize("case", CASES)
def test_a_refused_save_changes_nothing(app, client, attempt, clock, case):
    body, token = attempt
    url = f"/api/v1/attempts/{body['id']}"
    single = next(q for q in body["questions"] if not q["multiple"] and len(q["options"]) > 2)
    other = next(q for q in body["questions"] if q["id"] != single["id"])
    options = [single["options"][0]["id"]]
    payload: dict = {"option_ids": options}
    target = single["id"]
    writer = client
    if case == "another person's attempt":
        writer = app.test_client()
        with app.app_context():
            token = api_login(writer, "binh@example.vn")
    elif case == "a question not in this attempt":
        target = max(q["id"] for q in body["questions"]) + 1000
    elif case == "an option of another question":
        payload["option_ids"] = [other["options"][0]["id"]]
    elif case == "two options for a single-answer question":
        payload["option_ids"] = [option["id"] for option in single["options"][:2]]
    elif case == "an option twice":
        payload["option_ids"] = options * 2
    elif case == "an option id that is not a number":
        payload["option_ids"] = [str(options[0])]
    elif case == "a revision that is not a number":
        payload["revision"] = False
    elif case == "a revision someone saved after":
        payload["revision"] = 0
        second_tab = {"option_ids": [single["options"][1]["id"]], "revision": 0}
        assert (
            put(app, client, f"{url}/answers/{single['id']}", second_tab, token).status_code == 200
        )
    elif case == "a cookie from before logging out everywhere":
        writer = app.test_client()
        writer.set_cookie("session", client.get_cookie("session").value)
        with app.app_context():
            logout = client.post("/api/v1/logout", headers={"X-CSRFToken": token})
        assert logout.status_code == 200
    elif case == "a submitted attempt":
        with app.app_context():
            submit = client.post(f"{url}/submit", headers={"X-CSRFToken": token})
        assert submit.status_code == 200
    elif case == "after the deadline and its grace":
        clock.advance(minutes=10, seconds=16)
    before = answer_row(app, single["id"])

    response = put(app, writer, f"{url}/answers/{target}", payload, token)

    status, code = CASES[case]
    assert response.status_code == status, response.get_json()
    if code:
        assert response.get_json()["error"]["code"] == code
    assert answer_row(app, single["id"]) == before


@pytest.mark.parametrize(
    ("after_the_grace", "status"),
    [(timedelta(0), 200), (timedelta(microseconds=1), 409), (timedelta(milliseconds=-1), 200)],
)
def test_the_grace_ends_to_the_microsecond(app, client, attempt, clock, after_the_grace, status):
    body, token = attempt
    question = body["questions"][0]
    path = f"/api/v1/attempts/{body['id']}/answers/{question['id']}"
    clock.advance(minutes=10, seconds=15)  # the time limit, then the grace
    clock.at += after_the_grace
    response = put(app, client, path, {"option_ids": [question["options"][0]["id"]]}, token)
    assert response.status_code == status, response.get_json()


def carried_back(dbapi_connection) -> dict:
    """What a connection carries back to the pool: a transaction, SQLite's writer lock file,
    psycopg's autocommit."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        return {"in transaction": dbapi_connection.in_transaction, "lock": dbapi_connection._locked}
    idle = dbapi_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    return {"in transaction": not idle, "autocommit": dbapi_connection.autocommit}


@pytest.mark.parametrize("ending", ["saved", "a stale revision", "a database error"])
def test_the_fast_path_gives_its_connection_back_as_it_was_lent(
    app, client, attempt, monkeypatch, ending
):
    """Saved, refused by its UPDATE, or failed in it: the connection goes back into the pool
    with no transaction, no writer lock and no autocommit (a later session would otherwise
    queue behind the lock, or commit statement by statement), and is not dropped from it."""
    body, token = attempt
    question = body["questions"][0]
    payload: dict = {"option_ids": [question["options"][0]["id"]]}
    with app.app_context():
        engine = db.engine
    if ending == "a stale revision":
        payload["revision"] = 7
    elif ending == "a database error":
        run = type(engine.dialect).do_execute

        def failing(dialect, cursor, statement, parameters, context=None):
            if statement.lstrip().startswith("UPDATE"):
                raise engine.dialect.loaded_dbapi.OperationalError("disk I/O error")
            return run(dialect, cursor, statement, parameters, context)

        monkeypatch.setattr(type(engine.dialect), "do_execute", failing)
    states, dropped = [], []
    path = f"/api/v1/attempts/{body['id']}/answers/{question['id']}"
    with listening(
        engine.pool,
        checkin=lambda dbapi_connection, *_: states.append(carried_back(dbapi_connection)),
        invalidate=lambda *_: dropped.append(True),
    ):
        if ending == "a database error":
            with pytest.raises(OperationalError, match="disk I/O error"):
                put(app, client, path, payload, token)
        else:
            expected = 200 if ending == "saved" else 409
            assert put(app, client, path, payload, token).status_code == expected
    assert states
    assert not any(any(state.values()) for state in states), states
    assert dropped == []
