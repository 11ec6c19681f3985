"""`flask users …`: accounts."""

import click

from quizapp.cli_support import fail
from quizapp.database import writing
from quizapp.errors import ServiceError


@click.group(help="Manage accounts.")
def users():
    pass


@users.command("create")
@click.option("--login", required=True, help="Email, phone or employee code.")
@click.option("--password", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option(
    "--role", default="participant", type=click.Choice(["participant", "organizer", "hr", "admin"])
)
@click.option("--unit", "unit_code", help="Unit code.")
def users_create(login, password, full_name, role, unit_code):
    """Create an account."""
    from quizapp.auth.services import NewUser, create_user

    new = NewUser(
        login=login, password=password, full_name=full_name, role=role, unit_code=unit_code
    )
    try:
        with writing():  # it reads, then writes: the transaction queues for the write lock
            user = create_user(new)
    except ServiceError as error:
        fail(f"Error: {error.message}")
    click.echo(f"Created {user.role} {user.login} (id {user.id}).")
