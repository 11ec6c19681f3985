"""Who gets what: every route of the URL map, for each role, against one small world.

Roles: anonymous, the participant who owns the attempt, another participant of the same unit,
the contest's organizer, an organizer of another contest, an HR officer of the contest's unit,
an HR officer of another unit, an admin. A route missing from MATRIX fails
test_every_route_is_classified: a new page or endpoint must say here who may use it.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.attempts.services import start_attempt
from quizapp.auth.models import Role, User
from quizapp.banks.models import Category, Option, Question, QuestionBank
from quizapp.contests.models import RoundDraw
from quizapp.database import writing
from quizapp.extensions import db
from tests.conftest import api_login

ROLES = (
    "anonymous",
    "participant",
    "other",
    "organizer",
    "organizer_other",
    "hr",
    "hr_other",
    "admin",
)
LOGINS = {
    "participant": "owner@a.vn",
    "other": "other@a.vn",
    "organizer": "btc@a.vn",
    "organizer_other": "btc@b.vn",
    "hr": "hr@a.vn",
    "hr_other": "hr@b.vn",
    "admin": "admin@a.vn",
}

# Outcomes. OK: the role gets past access control (2xx, 3xx other than to the login page, or a
# 400/409/422 about the request itself). LOGIN: anonymous, sent to log in (pages: 302 to
# /login; API: 401). DENIED: 403. HIDDEN: 404, the thing is not shown to this role at all.
OK, LOGIN, DENIED, HIDDEN = "ok", "login", "denied", "hidden"


def access(
    anonymous, participant, other, organizer, organizer_other, hr, hr_other, admin
) -> dict[str, str]:
    return dict(
        zip(
            ROLES,
            (anonymous, participant, other, organizer, organizer_other, hr, hr_other, admin),
            strict=True,
        )
    )


PUBLIC = access(OK, OK, OK, OK, OK, OK, OK, OK)
SIGNED_IN = access(LOGIN, OK, OK, OK, OK, OK, OK, OK)
# An attempt is its owner's only.
OWNER_ONLY = access(LOGIN, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN, HIDDEN)
# The contest is for unit A: its organizer and HR officer belong to A, the others to B; its
# leaderboard is public, so its audience sees it too.
AUDIENCE = access(LOGIN, OK, OK, OK, HIDDEN, OK, HIDDEN, OK)
# Taking part: the audience only; an admin belongs to no unit, so is outside it too.
ENTRANTS = access(LOGIN, OK, OK, OK, HIDDEN, OK, HIDDEN, HIDDEN)
# Pages of the organizer's role (their own list, a new contest, the banks).
ORGANIZERS = access(LOGIN, DENIED, DENIED, OK, OK, DENIED, DENIED, OK)
# Everything about this contest: its organizers and admins; anyone else's role gets 404.
CONTEST_RUNNERS = access(LOGIN, DENIED, DENIED, OK, HIDDEN, DENIED, DENIED, OK)
# A contest's numbers: its runners, and HR officers whose units it concerns (their units only).
CONTEST_NUMBERS = access(LOGIN, DENIED, DENIED, OK, HIDDEN, OK, HIDDEN, OK)
HR_ONLY = access(LOGIN, DENIED, DENIED, DENIED, DENIED, OK, OK, OK)
ADMINS = access(LOGIN, DENIED, DENIED, DENIED, DENIED, DENIED, DENIED, OK)
# An upload token that does not exist: organizers learn that, nobody else gets that far.
NO_SUCH_UPLOAD = access(LOGIN, DENIED, DENIED, HIDDEN, HIDDEN, DENIED, DENIED, HIDDEN)
# A board the organizer has not published: only those who run the contest.
PRIVATE_BOARD = access(LOGIN, HIDDEN, HIDDEN, OK, HIDDEN, HIDDEN, HIDDEN, OK)
# Changing the world's bank: the organizers of the contests that draw from it, and admins; the
# other organizer (whose contest draws from a bank of their own) gets 404, other roles 403.
BANK_CHANGERS = access(LOGIN, DENIED, DENIED, OK, HIDDEN, DENIED, DENIED, OK)
# The other organizer's bank: theirs and admins' to change.
OTHER_BANK_CHANGERS = access(LOGIN, DENIED, DENIED, HIDDEN, OK, DENIED, DENIED, OK)


@dataclass
class World:
    """Units A (with the participants) and B (its HR officer), one contest for A, one attempt."""

    make_round: object
    slug: str = ""
    round_id: int = 0
    attempt_id: int = 0
    question_id: int = 0
    bank_id: int = 0
    bank_question_id: int = 0
    other_bank_id: int = 0
    other_bank_question_id: int = 0
    unit_id: int = 0
    private_round_id: int = 0
    spare: list = field(default_factory=list)

    def fresh_attempt(self) -> tuple[int, int]:
        """A new attempt of the owner (for writes that finish it), with one question id."""
        db.session.rollback()  # drop the read snapshot taken before the requests wrote
        with writing():
            round_ = self.make_round(audience=self.audience)
            owner = db.session.scalar(select(User).where(User.login == LOGINS["participant"]))
            attempt, _ = start_attempt(owner, round_, round_.opens_at + timedelta(hours=1))
            ids = attempt.id, attempt.questions[0].question_id
            db.session.commit()  # reading those began a write transaction: end it
        return ids

    def fresh_question(self, bank_id: int | None = None) -> int:
        """A question of its own in the world's bank (or another), for writes that change or
        delete it."""
        db.session.rollback()
        with writing():
            category = db.session.scalar(
                select(Category)
                .where(Category.bank_id == (bank_id or self.bank_id))
                .order_by(Category.id)
            )
            question = Question(
                bank_id=category.bank_id,
                category=category,
                kind="single",
                text=f"Câu hỏi phụ {len(self.spare)}",
                difficulty=1,
                options=[
                    Option(position=0, text="Đúng", is_correct=True),
                    Option(position=1, text="Sai"),
                ],
            )
            db.session.add(question)
            db.session.commit()
            question_id = question.id
            db.session.commit()
        self.spare.append(question_id)
        return question_id


@pytest.fixture
def world(make_unit, make_user, make_round, clock) -> World:
    province = make_unit("A", "Sở A")
    other_unit = make_unit("B", "Sở B")
    make_user(LOGINS["participant"], unit=province)
    make_user(LOGINS["other"], unit=province)
    organizer = make_user(LOGINS["organizer"], role=Role.ORGANIZER, unit=province)
    organizer_other = make_user(LOGINS["organizer_other"], role=Role.ORGANIZER, unit=other_unit)
    make_user(LOGINS["hr"], role=Role.HR, unit=province)
    make_user(LOGINS["hr_other"], role=Role.HR, unit=other_unit)
    make_user(LOGINS["admin"], role=Role.ADMIN)
    built = World(make_round=make_round)
    built.audience = [province]
    round_ = make_round(audience=[province])
    round_.contest.organizers.append(organizer)
    # Unit B's own contest, run by the other organizer, drawing from a bank of its own.
    other_round = make_round(audience=[other_unit])
    other_round.contest.organizers.append(organizer_other)
    other_bank = QuestionBank(name="Ngân hàng của Sở B")
    other_category = Category(bank=other_bank, name="Chủ đề B")
    db.session.add(other_category)
    db.session.flush()
    for n in range(2):
        other_category.questions.append(
            Question(
                bank_id=other_bank.id,
                kind="single",
                text=f"Câu hỏi của Sở B số {n + 1}?",
                options=[
                    Option(position=0, text="Có", is_correct=True),
                    Option(position=1, text="Không"),
                ],
            )
        )
    other_round.draws = [RoundDraw(position=0, category=other_category, count=2)]
    # A second contest for A whose board is not published.
    private = make_round(audience=[province], public_leaderboard=False)
    private_contest = private.contest
    private_contest.organizers.append(organizer)
    db.session.commit()
    built.private_round_id = private.id
    owner = db.session.scalar(select(User).where(User.login == LOGINS["participant"]))
    attempt, _ = start_attempt(owner, round_, clock.at)
    built.slug, built.round_id = round_.contest.slug, round_.id
    built.attempt_id, built.question_id = attempt.id, attempt.questions[0].question_id
    built.bank_id = db.session.scalar(select(QuestionBank.id).order_by(QuestionBank.id))
    built.bank_question_id = db.session.scalar(
        select(Question.id).where(Question.bank_id == built.bank_id).order_by(Question.id)
    )
    built.other_bank_id = other_bank.id
    built.other_bank_question_id = other_category.questions[0].id
    built.unit_id = province.id
    return built


@dataclass
class Case:
    url: object  # str, or a function of the World giving the URL
    expect: dict[str, str]
    json: dict | None = None
    why: str = ""


def attempt_url(suffix="", api=False):
    prefix = "/api/v1/attempts" if api else "/attempts"
    return lambda w: f"{prefix}/{w.attempt_id}{suffix}"


def fresh_attempt_url(suffix="", api=False):
    def build(w):
        attempt_id, _ = w.fresh_attempt()
        return f"{'/api/v1/attempts' if api else '/attempts'}/{attempt_id}{suffix}"

    return build


MATRIX: dict[tuple[str, str], Case] = {
    # --- pages anyone may open ---
    ("GET", "/healthz"): Case("/healthz", PUBLIC),
    ("GET", "/static/<path:filename>"): Case("/static/css/app.css", PUBLIC),
    ("GET", "/login"): Case("/login", PUBLIC),
    ("POST", "/login"): Case("/login", PUBLIC, why="a form that fails validation"),
    ("GET", "/register"): Case("/register", PUBLIC, why="closed: a redirect to the login page"),
    ("POST", "/register"): Case("/register", PUBLIC),
    ("GET", "/api/v1/openapi.json"): Case("/api/v1/openapi.json", PUBLIC),
    ("POST", "/api/v1/login"): Case(
        "/api/v1/login",
        access(401, 401, 401, 401, 401, 401, 401, 401),
        json={"login": "nobody@a.vn", "password": "x"},
        why="open to all; these credentials are wrong",
    ),
    # --- every signed-in person ---
    ("GET", "/"): Case("/", SIGNED_IN),
    ("GET", "/history"): Case("/history", SIGNED_IN),
    ("POST", "/logout"): Case("/logout", SIGNED_IN),
    ("POST", "/api/v1/logout"): Case("/api/v1/logout", SIGNED_IN),
    ("GET", "/api/v1/rounds"): Case("/api/v1/rounds", SIGNED_IN),
    # --- the contest's audience (unit A and below) ---
    ("GET", "/contests/<slug>"): Case(lambda w: f"/contests/{w.slug}", AUDIENCE),
    ("POST", "/contests/<slug>/password"): Case(lambda w: f"/contests/{w.slug}/password", ENTRANTS),
    ("POST", "/rounds/<id:round_id>/start"): Case(
        lambda w: f"/rounds/{w.round_id}/start", ENTRANTS
    ),
    ("POST", "/api/v1/rounds/<id:round_id>/attempts"): Case(
        lambda w: f"/api/v1/rounds/{w.round_id}/attempts", ENTRANTS
    ),
    ("GET", "/rounds/<id:round_id>/leaderboard"): Case(
        lambda w: f"/rounds/{w.round_id}/leaderboard", AUDIENCE
    ),
    ("GET", "/api/v1/rounds/<id:round_id>/leaderboard"): Case(
        lambda w: f"/api/v1/rounds/{w.round_id}/leaderboard", AUDIENCE
    ),
    # --- one person's attempt: everyone else gets 404, admins included ---
    ("GET", "/attempts/<id:attempt_id>"): Case(attempt_url(), OWNER_ONLY),
    ("POST", "/attempts/<id:attempt_id>"): Case(attempt_url(), OWNER_ONLY),
    ("GET", "/attempts/<id:attempt_id>/confirm"): Case(attempt_url("/confirm"), OWNER_ONLY),
    ("GET", "/attempts/<id:attempt_id>/result"): Case(attempt_url("/result"), OWNER_ONLY),
    ("POST", "/attempts/<id:attempt_id>/submit"): Case(fresh_attempt_url("/submit"), OWNER_ONLY),
    ("GET", "/api/v1/attempts/<id:attempt_id>"): Case(attempt_url(api=True), OWNER_ONLY),
    ("PUT", "/api/v1/attempts/<id:attempt_id>/answers/<id:question_id>"): Case(
        lambda w: f"/api/v1/attempts/{w.attempt_id}/answers/{w.question_id}",
        OWNER_ONLY,
        json={"option_ids": []},
    ),
    ("PUT", "/api/v1/attempts/<id:attempt_id>/prediction"): Case(
        attempt_url("/prediction", api=True), OWNER_ONLY, json={"value": 1}
    ),
    ("POST", "/api/v1/attempts/<id:attempt_id>/submit"): Case(
        fresh_attempt_url("/submit", api=True), OWNER_ONLY
    ),
    # --- running contests ---
    ("GET", "/manage/contests"): Case("/manage/contests", ORGANIZERS),
    ("GET", "/manage/contests/new"): Case("/manage/contests/new", ORGANIZERS),
    ("POST", "/manage/contests/new"): Case("/manage/contests/new", ORGANIZERS),
    ("GET", "/manage/contests/<slug>"): Case(
        lambda w: f"/manage/contests/{w.slug}", CONTEST_RUNNERS
    ),
    ("GET", "/manage/contests/<slug>/edit"): Case(
        lambda w: f"/manage/contests/{w.slug}/edit", CONTEST_RUNNERS
    ),
    ("POST", "/manage/contests/<slug>/edit"): Case(
        lambda w: f"/manage/contests/{w.slug}/edit", CONTEST_RUNNERS
    ),
    ("GET", "/manage/contests/<slug>/qr.<any(svg, png):kind>"): Case(
        lambda w: f"/manage/contests/{w.slug}/qr.svg", CONTEST_RUNNERS
    ),
    ("POST", "/manage/contests/<slug>/results"): Case(
        lambda w: f"/manage/contests/{w.slug}/results", CONTEST_RUNNERS
    ),
    ("GET", "/manage/contests/<slug>/rounds/new"): Case(
        lambda w: f"/manage/contests/{w.slug}/rounds/new", CONTEST_RUNNERS
    ),
    ("POST", "/manage/contests/<slug>/rounds/new"): Case(
        lambda w: f"/manage/contests/{w.slug}/rounds/new", CONTEST_RUNNERS
    ),
    ("GET", "/manage/rounds/<id:round_id>/edit"): Case(
        lambda w: f"/manage/rounds/{w.round_id}/edit", CONTEST_RUNNERS
    ),
    ("POST", "/manage/rounds/<id:round_id>/edit"): Case(
        lambda w: f"/manage/rounds/{w.round_id}/edit", CONTEST_RUNNERS
    ),
    # Switched on for the world's contest: rank, name and unit for anyone with the link.
    ("GET", "/contests/<slug>/board"): Case(lambda w: f"/contests/{w.slug}/board", PUBLIC),
    ("GET", "/contests/<slug>/dashboard"): Case(
        lambda w: f"/contests/{w.slug}/dashboard", CONTEST_NUMBERS
    ),
    ("GET", "/api/v1/contests/<slug>/stats"): Case(
        lambda w: f"/api/v1/contests/{w.slug}/stats", CONTEST_NUMBERS
    ),
    ("GET", "/contests/<slug>/rounds/<int:number>/questions"): Case(
        lambda w: f"/contests/{w.slug}/rounds/1/questions", CONTEST_RUNNERS
    ),
    # --- question banks ---
    ("GET", "/banks/"): Case("/banks/", ORGANIZERS),
    ("GET", "/banks/<id:bank_id>"): Case(lambda w: f"/banks/{w.bank_id}", ORGANIZERS),
    ("GET", "/banks/<id:bank_id>/export/<format_name>"): Case(
        lambda w: f"/banks/{w.bank_id}/export/yaml", ORGANIZERS
    ),
    ("GET", "/banks/import"): Case("/banks/import", ORGANIZERS),
    ("POST", "/banks/import"): Case("/banks/import", ORGANIZERS),
    ("GET", "/banks/import/<token>"): Case("/banks/import/no-such-upload", NO_SUCH_UPLOAD),
    ("POST", "/banks/import/<token>/confirm"): Case(
        "/banks/import/no-such-upload/confirm", NO_SUCH_UPLOAD
    ),
    ("POST", "/banks/import/<token>/cancel"): Case(
        "/banks/import/no-such-upload/cancel", NO_SUCH_UPLOAD
    ),
    ("GET", "/banks/questions/<id:question_id>/edit"): Case(
        lambda w: f"/banks/questions/{w.bank_question_id}/edit", BANK_CHANGERS
    ),
    ("POST", "/banks/questions/<id:question_id>/edit"): Case(
        lambda w: f"/banks/questions/{w.fresh_question()}/edit", BANK_CHANGERS
    ),
    ("POST", "/banks/questions/<id:question_id>/status"): Case(
        lambda w: f"/banks/questions/{w.fresh_question()}/status", BANK_CHANGERS
    ),
    ("POST", "/banks/questions/<id:question_id>/delete"): Case(
        lambda w: f"/banks/questions/{w.fresh_question()}/delete", BANK_CHANGERS
    ),
    # --- units, rosters, participation ---
    ("GET", "/reports/participation"): Case(
        lambda w: f"/reports/participation?contest={w.slug}", CONTEST_NUMBERS
    ),
    ("POST", "/reports/participation/export"): Case(
        lambda w: f"/reports/participation/export?contest={w.slug}", CONTEST_NUMBERS
    ),
    ("GET", "/units"): Case("/units", HR_ONLY),
    ("GET", "/roster/import"): Case("/roster/import", HR_ONLY),
    ("POST", "/roster/import"): Case("/roster/import", HR_ONLY),
    ("POST", "/roster/passwords"): Case("/roster/passwords", HR_ONLY),
    ("GET", "/units/new"): Case("/units/new", ADMINS),
    ("POST", "/units/new"): Case("/units/new", ADMINS),
    ("GET", "/units/<id:unit_id>/edit"): Case(lambda w: f"/units/{w.unit_id}/edit", ADMINS),
    ("POST", "/units/<id:unit_id>/edit"): Case(lambda w: f"/units/{w.unit_id}/edit", ADMINS),
    ("GET", "/units/import"): Case("/units/import", ADMINS),
    ("POST", "/units/import"): Case("/units/import", ADMINS),
}


def classify(response, api: bool) -> str:
    status = response.status_code
    assert status < 500, f"{response.request.method} {response.request.path}: {status}"
    location = response.headers.get("Location", "")
    if status == 401 or (status == 302 and location.startswith("/login?next=")):
        # Flask-Login's redirect carries next=; a page's own redirect to the login page does not.
        # The API must answer 401 (JSON), pages must redirect: anything else is a wrong answer.
        return LOGIN if (status == 401) == api else f"login as {status}"
    return {403: DENIED, 404: HIDDEN}.get(status, OK)


def rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def test_every_route_is_classified(app):
    missing = sorted(
        f'    ("{method}", "{rule.rule}"): Case(...),  # endpoint {rule.endpoint}'
        for method, rule in rules(app)
        if (method, rule.rule) not in MATRIX
    )
    assert not missing, (
        "Routes nobody has classified for access. Add each to MATRIX in "
        "tests/test_access_matrix.py with the URL to try and what each role gets "
        "(PUBLIC, SIGNED_IN, AUDIENCE, OWNER_ONLY, ORGANIZERS, CONTEST_RUNNERS, CONTEST_NUMBERS, "
        "HR_ONLY, "
        "ADMINS, or access(...)):\n" + "\n".join(missing)
    )
    stale = sorted(set(MATRIX) - {(method, rule.rule) for method, rule in rules(app)})
    assert not stale, f"MATRIX lists routes that no longer exist: {stale}"


# The same routes on other things of the world, where the answer differs from MATRIX's.
EXTRA: list[tuple[str, Case]] = [
    ("GET", Case(lambda w: f"/rounds/{w.private_round_id}/leaderboard", PRIVATE_BOARD)),
    ("GET", Case(lambda w: f"/api/v1/rounds/{w.private_round_id}/leaderboard", PRIVATE_BOARD)),
    # The other organizer's bank: every organizer reads it, its owners change it.
    ("GET", Case(lambda w: f"/banks/{w.other_bank_id}", ORGANIZERS)),
    ("GET", Case(lambda w: f"/banks/{w.other_bank_id}/export/yaml", ORGANIZERS)),
    (
        "GET",
        Case(lambda w: f"/banks/questions/{w.other_bank_question_id}/edit", OTHER_BANK_CHANGERS),
    ),
    *[
        (
            "POST",
            Case(
                lambda w, action=action: (
                    f"/banks/questions/{w.fresh_question(w.other_bank_id)}/{action}"
                ),
                OTHER_BANK_CHANGERS,
            ),
        )
        for action in ("edit", "status", "delete")
    ],
]


def test_each_role_gets_what_the_matrix_says(app, world):
    cases = [
        (method, rule.rule, MATRIX[(method, rule.rule)])
        for method, rule in sorted(rules(app), key=lambda pair: (pair[1].rule, pair[0]))
        if (method, rule.rule) in MATRIX  # the others are reported by the test above
    ] + [(method, "(extra)", case) for method, case in EXTRA]
    wrong, page_problems, pages_checked, stored = [], [], 0, []
    for method, name, case in cases:
        for role in ROLES:
            client = app.test_client()
            url = case.url(world) if callable(case.url) else case.url
            with app.app_context():  # one app context per request, as in production
                if role != "anonymous":
                    api_login(client, LOGINS[role])
                response = client.open(url, method=method, json=case.json)
            if response.status_code == 200 and response.mimetype == "text/html":
                page_problems.extend(unsafe_page(f"{method} {url} as {role}", response))
                pages_checked += 1  # noqa: SIM113
            if not url.startswith("/static/") and "no-store" not in response.headers.get(
                "Cache-Control", ""
            ):  # anything but a static file may name people: no browser or proxy keeps it
                stored.append(f"{method} {url} as {role}: {response.headers.get('Cache-Control')}")
            expected = case.expect[role]
            api = url.startswith("/api/")
            got = response.status_code if isinstance(expected, int) else classify(response, api)
            response.close()
            if got != expected:
                wrong.append(
                    f"{method} {name} {url} as {role}: {got} ({response.status_code}), "
                    f"expected {case.expect[role]}"
                )
    assert not wrong, "\n".join(wrong)
    assert pages_checked >= 40 and not page_problems, "\n".join(page_problems)
    assert not stored, "Cache-Control without no-store:\n" + "\n".join(stored)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)


def unsafe_page(where: str, response) -> list[str]:
    """Every page: the CSP, no framing, no sniffing, and no inline script for the CSP to block."""
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    if (
        "script-src 'self'" not in csp
        or "unsafe-inline" in csp
        or "frame-ancestors 'none'" not in csp
    ):
        problems.append(f"{where}: Content-Security-Policy {csp!r}")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"{where}: X-Frame-Options")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options")
    inline = INLINE_SCRIPT.search(response.get_data(as_text=True))
    if inline:
        problems.append(f"{where}: inline script {inline.group(0)!r}")
    return problems
