"""`flask export …`: files for HR and organizers."""

import getpass
from pathlib import Path

import click

from quizapp.cli_support import fail
from quizapp.errors import ServiceError


@click.group(help="Export lists and results as XLSX or CSV.")
def export():
    pass


@export.command("participation")
@click.option("--contest", "slug", required=True, help="Contest slug.")
@click.option("--unit", "unit_code", help="Only this unit and its sub-units.")
@click.option("--round", "round_number", type=int, help="Only this round (by number).")
@click.option("--format", "file_format", type=click.Choice(["xlsx", "csv"]), default="xlsx")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True
)
def export_participation(slug, unit_code, round_number, file_format, output: Path):
    """Who took part and who did not, per unit (the same file as the HR page)."""
    from quizapp.clock import now
    from quizapp.contests.services import get_contest
    from quizapp.reports.participation_export import record_export, sheets_for
    from quizapp.reports.services import participation, participation_scope
    from quizapp.reports.sheets import write_file
    from quizapp.units.services import UnitTree

    moment = now()
    try:
        contest = get_contest(slug)
        tree = UnitTree()
        scope = participation_scope(None, contest, unit_code, tree)
        report = participation(contest, scope, moment, round_number=round_number, tree=tree)
    except ServiceError as error:
        fail(f"Error: {error.message}")
    sheets = sheets_for(report, file_format)
    with output.open("wb") as out:
        write_file(sheets, file_format, out)
    record_export(report, file_format, moment, actor=None, via=f"cli:{_os_user()}")
    took_part = sum(1 for row in report.rows if row.took_part)
    click.echo(f"Wrote {len(report.rows)} people ({took_part} took part) to {output}.")


@export.command("results")
@click.option("--contest", "slug", required=True, help="Contest slug.")
@click.option("--round", "round_number", type=int, help="Only this round (by number).")
@click.option("--format", "file_format", type=click.Choice(["xlsx", "csv"]), default="xlsx")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True
)
def export_results(slug, round_number, file_format, output: Path):
    """Ranked results of a round (or every round), as the leaderboard orders them."""
    from quizapp.clock import now
    from quizapp.contests.services import get_contest
    from quizapp.database import writing
    from quizapp.reports.results import record_results_export, results, results_sheets
    from quizapp.reports.sheets import write_file

    moment = now()
    try:
        with writing():  # a closed round's prediction count is stored on first ranking
            contest = get_contest(slug)
            report = results(contest, moment, round_number=round_number)
    except ServiceError as error:
        fail(f"Error: {error.message}")
    sheets = results_sheets(report, file_format)
    with output.open("wb") as out:
        write_file(sheets, file_format, out)
    record_results_export(report, file_format, moment, actor=None, via=f"cli:{_os_user()}")
    click.echo(f"Wrote {len(report.rows)} ranked entries to {output}.")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
