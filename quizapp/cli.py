"""Command-line interface: each feature keeps its click group in its own `cli.py`."""

from flask import Flask


def register_cli(app: Flask) -> None:
    from quizapp.admin.cli import backup_command, restore_command
    from quizapp.attempts.cli import attempts
    from quizapp.auth.cli import users
    from quizapp.banks.cli import banks
    from quizapp.contests.cli import contests, stats_command
    from quizapp.demo import seed_demo_command
    from quizapp.reports.cli import export
    from quizapp.units.cli import roster, units

    for command in (
        users,
        banks,
        contests,
        attempts,
        seed_demo_command,
        backup_command,
        restore_command,
        units,
        roster,
        export,
        stats_command,
    ):
        app.cli.add_command(command)
