"""`flask backup` and `flask restore`."""

from datetime import datetime
from pathlib import Path

import click

from quizapp.admin.backup import BackupError, backup, restore
from quizapp.cli_support import fail


@click.command("backup")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Backup file (default: instance/backups/quizapp-YYYYmmdd-HHMMSS.backup).",
)
def backup_command(output: Path | None):
    """Write a consistent backup of the database while the app keeps serving."""
    from flask import current_app

    target = output or Path(
        current_app.instance_path, "backups", f"quizapp-{datetime.now():%Y%m%d-%H%M%S}.backup"
    )
    try:
        written = backup(target)
    except BackupError as error:
        fail(f"Backup failed: {error}")
    click.echo(f"Backup written to {written} ({written.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(file: Path, yes: bool):
    """Replace the database with a backup. Stop the app servers first."""
    if not yes:
        click.confirm(f"Replace ALL data with {file}?", abort=True)
    try:
        restore(file)
    except BackupError as error:
        fail(f"Restore failed: {error}")
    click.echo(f"Restored from {file}.")
