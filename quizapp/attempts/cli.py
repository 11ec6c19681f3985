"""`flask attempts …`: attempts."""

import click

from quizapp.clock import now
from quizapp.database import writing


@click.group(help="Attempts.")
def attempts():
    pass


@attempts.command("close-expired")
def attempts_close_expired():
    """Expire attempts past deadline + grace, stamped at their deadline."""
    from quizapp.attempts.services import close_expired

    with writing():
        closed = close_expired(now())
    click.echo(f"Closed {closed} expired attempt(s).")
