"""Units and roster membership live on the account models; this package works on them."""

from quizapp.auth.models import Unit, User

__all__ = ["Unit", "User"]
