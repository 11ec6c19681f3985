"""`flask attempts …`: attempts."""

import click

from quizapp.clock import now


@click.group(help="Attempts.")
def attempts():
    pass


@attempts.command("close-expired")
def attempts_close_expired():
    """Expire attempts past deadline + grace, stamped at their deadline."""
    from quizapp.attempts.services import close_expired

    closed = close_expired(now())  # takes the write lock only when something is overdue
    click.echo(f"Closed {closed} expired attempt(s).")
