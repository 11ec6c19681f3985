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

    click.echo(f"Closed {close_expired(now())} expired attempt(s).")
