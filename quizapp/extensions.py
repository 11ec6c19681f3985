"""Flask extensions, created unbound and initialised in create_app."""

from flask_babel import Babel
from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared on the views that need them (login); storage and strategy come from
# RATELIMIT_* config: memory by default, Redis when QUIZAPP_REDIS_URL is set.
limiter = Limiter(get_remote_address)
# Standings of the boards people refresh (contests.standings.cached_standings): this process's
# memory by default, Redis (shared by every worker and host) when QUIZAPP_REDIS_URL is set.
cache = Cache()
