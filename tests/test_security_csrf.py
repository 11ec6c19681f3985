"""CSRF: every form post and every API write, found in the URL map, is refused without the
token, even for an admin who may do everything else (new routes are covered automatically)."""

import pytest
from werkzeug.routing import Rule

from quizapp.auth.models import Role
from tests.conftest import api_login

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writes that need no token, and why. Add to this only with a reason a reviewer will accept.
EXEMPT = {
    ("api.login", "POST"): "reads a JSON body only; a cross-site form cannot send one",
}
SAMPLE = {"id": "1", "int": "1", "default": "x", "string": "x", "path": "x"}


def sample_url(rule: Rule) -> str:
    """The rule's path with a plausible value for each variable."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__.removesuffix("Converter").lower() or "default"
        if kind == "any":
            values[name] = next(iter(converter.items))  # type: ignore[attr-defined]
        else:
            values[name] = SAMPLE.get(kind, "x")
    return rule.build(values, append_unknown=False)[1]


def write_routes(app) -> list[tuple[str, str, str]]:
    return sorted(
        (rule.endpoint, method, sample_url(rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods & WRITES
    )


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_write_needs_the_token(app, make_user, csrf_on):
    make_user("admin@example.vn", role=Role.ADMIN)
    client = app.test_client()
    with app.app_context():
        api_login(client, "admin@example.vn")
    routes = write_routes(app)
    assert len(routes) >= 10, routes
    unprotected = []
    for endpoint, method, url in routes:
        if (endpoint, method) in EXEMPT:
            continue
        for headers in ({}, {"X-CSRFToken": "forged"}):
            with app.app_context():  # one app context per request, as in production
                response = client.open(url, method=method, headers=headers, data={"x": "1"})
            if response.status_code != 400:
                unprotected.append((method, url, headers, response.status_code))
    assert not unprotected, (
        "These writes answered without a valid CSRF token; protect them (Flask-WTF forms, or "
        "api_login_required for the API), or list them in EXEMPT with the reason: "
        f"{unprotected}"
    )


def test_exempt_login_accepts_json_only(app, make_user, csrf_on):
    make_user("an@example.vn")
    client = app.test_client()
    credentials = '{"login": "an@example.vn", "password": "secret123"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = client.post("/api/v1/login", data=credentials, content_type=content_type)
        assert response.status_code == 422
    assert client.get("/api/v1/rounds").status_code == 401
    form = client.post("/api/v1/login", data={"login": "an@example.vn", "password": "secret123"})
    assert form.status_code == 422
