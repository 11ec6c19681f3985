"""Small helpers shared by the feature CLIs."""

import sys

import click


def fail(message: str) -> None:
    """Print to stderr and exit with status 1."""
    click.echo(message, err=True)
    sys.exit(1)
