"""The OpenAPI 3.1 document served at /api/v1/openapi.json."""

from quizapp.inputs import MAX_JSON_DEPTH


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema_ref: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


ID = {"type": "integer", "minimum": 1}
CSRF = [{"cookieAuth": [], "csrfToken": []}]
SESSION = [{"cookieAuth": []}]
ATTEMPT_ID = {"name": "attempt_id", "in": "path", "required": True, "schema": ID}
ROUND_ID = {"name": "round_id", "in": "path", "required": True, "schema": ID}
QUESTION_ID = {"name": "question_id", "in": "path", "required": True, "schema": ID}
NOT_LOGGED_IN = _error("Not logged in")
NOT_FOUND = _error("No such item, or not yours")
COUNT = {"type": "integer", "minimum": 0}
CSRF_FAILED = _error("The X-CSRFToken header is missing or wrong (code csrf_failed)")
BAD_JSON = _error(
    "The body is not readable JSON: malformed, or lists and objects nested more than "
    f"{MAX_JSON_DEPTH} deep (code bad_json)"
)
JSON_WRITE_REFUSED = _error(
    "The X-CSRFToken header is missing or wrong (code csrf_failed), or the body is not "
    "readable JSON (code bad_json)"
)
JSON_TOO_LARGE = _error("The JSON body is over JSON_MAX_CONTENT_LENGTH (64 KB by default)")

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Contest platform API",
        "version": "1.0.0",
        "description": "Timed quizzes on administrative reform and digital transformation. "
        "Log in to get a session cookie and a CSRF token; send the token as "
        "X-CSRFToken on every write. The server is the only clock.",
    },
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {
            "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
            "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
        },
        "schemas": {
            "Stats": {
                "type": "object",
                "required": [
                    "participants",
                    "entries",
                    "in_progress",
                    "mean_score",
                    "by_unit",
                    "score_bands",
                    "by_day",
                ],
                "properties": {
                    "participants": COUNT,
                    "entries": COUNT,
                    "in_progress": COUNT,
                    "mean_score": {"type": ["number", "null"]},
                    "mean_score_ratio": {"type": ["number", "null"]},
                    "mean_duration_seconds": {"type": ["number", "null"]},
                    "by_unit": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "code",
                                "name",
                                "headcount",
                                "participants",
                                "entries",
                                "rate",
                            ],
                            "properties": {
                                "code": {"type": "string"},
                                "name": {"type": "string"},
                                "depth": COUNT,
                                "headcount": {"type": ["integer", "null"]},
                                "participants": COUNT,
                                "not_counted": COUNT,
                                "entries": COUNT,
                                "rate": {"type": ["number", "null"]},
                                "mean_counted_score": {"type": ["number", "null"]},
                                "rank": {"type": ["integer", "null"]},
                            },
                        },
                    },
                    "without_unit": {
                        "type": "object",
                        "properties": {"participants": COUNT, "entries": COUNT},
                    },
                    "score_bands": {
                        "type": "object",
                        "required": ["100", "75-99", "25-74", "1-24", "0"],
                        "additionalProperties": COUNT,
                    },
                    "by_day": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["date", "entries"],
                            "properties": {
                                "date": {"type": "string", "format": "date"},
                                "entries": COUNT,
                            },
                        },
                    },
                    "unit_rank_threshold": {"type": "number"},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "User": {
                "type": "object",
                "properties": {
                    "id": ID,
                    "login": {"type": "string"},
                    "full_name": {"type": "string"},
                    "role": {"type": "string"},
                    "unit": {"type": ["string", "null"]},
                },
            },
            "Round": {
                "type": "object",
                "properties": {
                    "id": ID,
                    "contest": {"type": "string"},
                    "number": {"type": "integer"},
                    "title": {"type": "string"},
                    "state": {"enum": ["upcoming", "open", "closed"]},
                    "opens_at": {"type": "string", "format": "date-time"},
                    "closes_at": {"type": "string", "format": "date-time"},
                    "time_limit_minutes": {"type": "integer"},
                    "question_count": {"type": "integer"},
                    "attempts_used": {"type": "integer"},
                    "attempts_allowed": {"type": "integer"},
                    "in_progress_attempt": {"type": ["integer", "null"]},
                },
            },
            "Question": {
                "type": "object",
                "required": ["id", "position", "text", "multiple", "options", "selected"],
                "properties": {
                    "id": ID,
                    "position": {"type": "integer"},
                    "text": {"type": "string"},
                    "multiple": {"type": "boolean"},
                    "options": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"id": ID, "text": {"type": "string"}},
                        },
                    },
                    "selected": {"type": "array", "items": ID},
                    "revision": {"type": "integer"},
                },
            },
            "Result": {
                "type": "object",
                "required": [
                    "score",
                    "max_score",
                    "correct_count",
                    "question_count",
                    "duration_seconds",
                    "submitted_at",
                ],
                "properties": {
                    "status": {"enum": ["submitted", "expired"]},
                    "score": {
                        "type": ["integer", "null"],
                        "description": "null when the round's review policy is none",
                    },
                    "score_shown": {"type": "boolean"},
                    "max_score": {"type": "integer"},
                    "correct_count": {"type": ["integer", "null"]},
                    "question_count": {"type": "integer"},
                    "duration_seconds": {"type": "number"},
                    "submitted_at": {"type": "string", "format": "date-time"},
                },
            },
            "Attempt": {
                "type": "object",
                "required": ["id", "status", "deadline", "remaining_seconds", "questions"],
                "properties": {
                    "id": ID,
                    "round_id": ID,
                    "number": {"type": "integer"},
                    "status": {"enum": ["in_progress", "submitted", "expired"]},
                    "started_at": {"type": "string", "format": "date-time"},
                    "deadline": {"type": "string", "format": "date-time"},
                    "remaining_seconds": {"type": "number"},
                    "grace_seconds": {"type": "integer"},
                    "questions": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Question"},
                    },
                    "prediction": {
                        "type": ["object", "null"],
                        "properties": {
                            "question": {"type": "string"},
                            "value": {"type": ["integer", "null"]},
                        },
                    },
                    "result": {"$ref": "#/components/schemas/Result"},
                },
            },
            "LeaderboardEntry": {
                "type": "object",
                "properties": {
                    "rank": {"type": "integer"},
                    "name": {"type": "string"},
                    "unit": {"type": ["string", "null"]},
                    "score": {"type": "integer"},
                    "max_score": {"type": "integer"},
                    "duration_seconds": {"type": "number"},
                    "prediction": {"type": ["integer", "null"]},
                    "submitted_at": {"type": "string", "format": "date-time"},
                    "decided_by": {
                        "type": ["string", "null"],
                        "enum": [
                            None,
                            "score",
                            "prediction",
                            "duration",
                            "submitted_at",
                            "attempt_id",
                        ],
                    },
                },
            },
        },
    },
    "paths": {
        "/api/v1/login": {
            "post": {
                "summary": "Log in",
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["login", "password"],
                        "properties": {"login": {"type": "string"}, "password": {"type": "string"}},
                    }
                ),
                "responses": {
                    "200": {
                        "description": "Logged in",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "user": {"$ref": "#/components/schemas/User"},
                                        "csrf_token": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    "400": BAD_JSON,
                    "401": _error("Wrong login or password"),
                    "413": JSON_TOO_LARGE,
                    "422": _error("Not a JSON object"),
                    "429": {
                        **_error(
                            "Too many failed logins for this account (100 an hour) or from "
                            "this address; successful logins never count"
                        ),
                        "headers": {
                            "Retry-After": {
                                "description": "Seconds until the next try is accepted",
                                "required": True,
                                "schema": {"type": "integer", "minimum": 0},
                            }
                        },
                    },
                },
            }
        },
        "/api/v1/logout": {
            "post": {
                "summary": "Log out",
                "security": CSRF,
                "responses": {
                    "400": CSRF_FAILED,
                    "200": {"description": "Logged out"},
                    "401": NOT_LOGGED_IN,
                },
            }
        },
        "/api/v1/rounds": {
            "get": {
                "summary": "Rounds the user may take, with attempts used and allowed",
                "security": SESSION,
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "rounds": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Round"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": NOT_LOGGED_IN,
                },
            }
        },
        "/api/v1/rounds/{round_id}/attempts": {
            "post": {
                "summary": "Start an attempt, or resume the one in progress",
                "security": CSRF,
                "parameters": [ROUND_ID],
                "responses": {
                    "400": CSRF_FAILED,
                    "201": _json("Attempt", "Started"),
                    "200": _json("Attempt", "Resumed"),
                    "401": NOT_LOGGED_IN,
                    "403": _error(
                        "The contest has a password the user has not entered yet "
                        "(code contest_password_required; enter it on the contest page)"
                    ),
                    "404": NOT_FOUND,
                    "409": _error("Round not open, closed, or attempt limit reached"),
                },
            }
        },
        "/api/v1/attempts/{attempt_id}": {
            "get": {
                "summary": "An attempt with its questions (never the correct answers)",
                "security": SESSION,
                "parameters": [ATTEMPT_ID],
                "responses": {"200": _json("Attempt"), "401": NOT_LOGGED_IN, "404": NOT_FOUND},
            }
        },
        "/api/v1/attempts/{attempt_id}/answers/{question_id}": {
            "put": {
                "summary": "Save the options chosen for one question",
                "security": CSRF,
                "parameters": [ATTEMPT_ID, QUESTION_ID],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["option_ids"],
                        "properties": {
                            "option_ids": {"type": "array", "items": ID},
                            "revision": {
                                "type": "integer",
                                "minimum": 0,
                                "description": "the revision this change is based on",
                            },
                        },
                    }
                ),
                "responses": {
                    "400": JSON_WRITE_REFUSED,
                    "200": {
                        "description": "Saved",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "saved_at": {"type": "string", "format": "date-time"},
                                        "revision": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "401": NOT_LOGGED_IN,
                    "404": NOT_FOUND,
                    "409": _error("Past the deadline, already submitted, or a stale revision"),
                    "413": JSON_TOO_LARGE,
                    "422": _error(
                        "Options not in the question, or more than one for a single answer"
                    ),
                },
            }
        },
        "/api/v1/attempts/{attempt_id}/prediction": {
            "put": {
                "summary": "Answer the round's prediction question",
                "security": CSRF,
                "parameters": [ATTEMPT_ID],
                "requestBody": _body(
                    {
                        "type": "object",
                        "required": ["value"],
                        "properties": {"value": {"type": "integer", "minimum": 0}},
                    }
                ),
                "responses": {
                    "400": JSON_WRITE_REFUSED,
                    "200": {"description": "Saved"},
                    "401": NOT_LOGGED_IN,
                    "404": NOT_FOUND,
                    "409": _error("Past the deadline or submitted"),
                    "413": JSON_TOO_LARGE,
                    "422": _error("Not a whole number, or the round has no prediction"),
                },
            }
        },
        "/api/v1/attempts/{attempt_id}/submit": {
            "post": {
                "summary": "Submit and score; a second submit returns the first result",
                "security": CSRF,
                "parameters": [ATTEMPT_ID],
                "responses": {
                    "400": CSRF_FAILED,
                    "200": _json("Result"),
                    "401": NOT_LOGGED_IN,
                    "404": NOT_FOUND,
                },
            }
        },
        "/api/v1/rounds/{round_id}/leaderboard": {
            "get": {
                "summary": "The round's standings by the ranking chain",
                "security": SESSION,
                "parameters": [
                    ROUND_ID,
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "entries": {
                                            "type": "array",
                                            "items": {
                                                "$ref": "#/components/schemas/LeaderboardEntry"
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "401": NOT_LOGGED_IN,
                    "404": NOT_FOUND,
                    "422": _error("limit is not a whole number from 1 to 1000 (code bad_number)"),
                },
            }
        },
        "/api/v1/contests/{slug}/stats": {
            "get": {
                "summary": "The contest's statistics, as its dashboard shows them",
                "description": "Organizers and admins see every unit; an HR officer sees their "
                "own unit and its sub-units. Entries are finished attempts, participants "
                "distinct people; organizers are never counted.",
                "security": SESSION,
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}
                        },
                    },
                    "401": NOT_LOGGED_IN,
                    "403": _error("Participants see no statistics"),
                    "404": NOT_FOUND,
                },
            }
        },
    },
}
