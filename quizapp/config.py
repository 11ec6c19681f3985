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
    REMEMBER_COOKIE_HTTPONLY = True
    PASSWORD_HASH_METHOD = "scrypt"
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ["vi", "en"]
    DISPLAY_TIMEZONE = "Asia/Ho_Chi_Minh"
    DEMO_PASSWORD = "demo1234"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024


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
