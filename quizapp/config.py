"""Configuration classes; environment variables prefixed QUIZAPP_ override them."""

import os

DEFAULT_SECRET_KEY = "dev-only-change-me"


class Config:
    """Defaults for development and `make run`."""

    SECRET_KEY = DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in by create_app: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_TIME_LIMIT = None  # a quiz page stays open for the whole round
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The remember cookie logs its holder in as the session cookie does: the same protections.
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PASSWORD_HASH_METHOD = "scrypt"
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ["vi", "en"]
    DISPLAY_TIMEZONE = "Asia/Ho_Chi_Minh"
    DEMO_PASSWORD = "demo1234"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # uploads (bank, unit and roster files)
    JSON_MAX_CONTENT_LENGTH = 64 * 1024  # a JSON request body (an answer save is ~100 bytes)
    # How far an uploaded file may expand once read (quizapp.uploads.UploadLimits): enough for
    # a 100,000-person roster and a 5,000-question bank with room to spare, and no more, so a
    # small file cannot stand for a huge one (a zip bomb, a YAML "billion laughs").
    UPLOAD_MAX_ROWS = 200_000  # rows of a spreadsheet (XLSX or CSV)
    UPLOAD_MAX_COLUMNS = 250  # cells in one row
    UPLOAD_MAX_CELLS = 3_000_000  # cells in one workbook
    UPLOAD_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024  # an .xlsx file's parts, unzipped
    UPLOAD_MAX_LINE_LENGTH = 200_000  # characters in one CSV row
    YAML_MAX_NODES = 1_000_000  # values in a YAML file, an alias counted as what it repeats
    YAML_MAX_ALIASES = 1_000
    YAML_MAX_DEPTH = 50
    # Failed logins allowed per window (successes never count). ASVS 2.2.1: at most 100 an hour
    # per account. Per address: generous, since a whole department logs in through one NAT.
    LOGIN_FAILURES_PER_ACCOUNT = "100 per hour"
    LOGIN_FAILURES_PER_ADDRESS = "1000 per hour"
    # Registration forms sent per address: an office behind one NAT address registers a few
    # dozen colleagues an hour (typing errors included); a script is stopped at 60.
    REGISTRATIONS_PER_ADDRESS = "60 per hour"
    # Logins in each worker process's line for a password check (scrypt, ~0.1 s of CPU), the
    # one being checked included; each holds a request thread, so keep it below the threads
    # (gunicorn.conf.py: 4). Beyond it: 503 "busy, retry".
    LOGIN_LINE = 3
    # Counters live in the database (rate_limit_hits), which every worker and host shares, so
    # the limits hold across them; in Redis instead when QUIZAPP_REDIS_URL is set (cached
    # boards, below, stay in each process without it).
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "quizapp-database://"
    RATELIMIT_STRATEGY = "moving-window"  # exact: never more than the limit in any hour
    RATELIMIT_KEY_PREFIX = "quizapp"
    # Store unreachable: count in this process meanwhile (checked again every few seconds).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Off: it stamps Retry-After (the whole window) on every login answer, a 200 included;
    # the 429 handlers set Retry-After themselves (auth.limits.retry_after_seconds).
    RATELIMIT_HEADERS_ENABLED = False
    # Leaderboards are read from the cache for this long, and read afresh as soon as a result
    # of the round changes (in this process, or on any host when they share Redis); 0: no cache.
    STANDINGS_CACHE_SECONDS = 10
    CACHE_TYPE = "SimpleCache"
    CACHE_DEFAULT_TIMEOUT = 300
    CACHE_KEY_PREFIX = "quizapp:"
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none); the
    # per-address limit needs the client's address, not the proxy's.
    TRUSTED_PROXIES = 0


class TestConfig(Config):
    """Fast hashing, in-memory-like database, no CSRF on HTML forms unless a test asks."""

    TESTING = True
    SECRET_KEY = "test-secret"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    WTF_CSRF_ENABLED = False


class ProductionConfig(Config):
    """Secure cookies; refuses to start with the default secret key."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


CONFIGS = {
    "development": Config,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The config class named by QUIZAPP_ENV (development by default)."""
    return CONFIGS.get(os.environ.get("QUIZAPP_ENV", "development"), Config)
