"""`flask units …` and `flask roster …`: the unit tree and staff rosters."""

from contextlib import nullcontext
from pathlib import Path

import click

from quizapp.cli_support import fail
from quizapp.database import writing


@click.group(help="Units (the organisation tree).")
def units():
    pass


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
def units_import(file: Path, dry_run: bool):
    """Create or update units from XLSX/CSV: code, name, parent_code, headcount."""
    from quizapp.units.services import import_units

    data = file.read_bytes()
    with nullcontext() if dry_run else writing():  # it reads, then writes: queue for the lock
        report = import_units(data, file.name, dry_run=dry_run)
    for line in report.describe_problems():
        click.echo(f"error: {line}", err=True)
    if not report.ok:
        fail(f"{len(report.problems)} error(s); nothing was imported.")
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {report.total} units: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged."
    )


@units.command("list")
def units_list():
    """Print the tree with each unit's headcount."""
    from quizapp.units.services import UnitTree

    for node in UnitTree().order:
        source = "roster" if node.headcount_from_roster else "typed"
        headcount = "-" if node.headcount is None else f"{node.headcount} ({source})"
        click.echo(f"{'  ' * node.depth}{node.code}  {node.name}  {headcount}")


@click.group(help="Staff rosters.")
def roster():
    pass


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--passwords-out",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write generated first passwords (.xlsx or .csv); needed when the file has "
    "people without a password.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Take members of the units in the file who are missing from it off the roster.",
)
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option(
    "--adopt-self-registered",
    is_flag=True,
    help="Adopt the accounts that rows match but their owners registered themselves: each takes "
    "the row's login, name and unit, gets a new first password, and is logged out everywhere. "
    "Without it those rows are left out and listed.",
)
@click.option(
    "--separate-self-registered",
    is_flag=True,
    help="Give each person whose email or phone (not login or employee code) is on an account "
    "its owner registered a new account apart from it, leaving that account as it is.",
)
def roster_import(
    file: Path,
    passwords_out: Path | None,
    replace: bool,
    dry_run: bool,
    adopt_self_registered: bool,
    separate_self_registered: bool,
):
    """Create or update participant accounts from XLSX/CSV.

    Columns: full_name, unit_code, login, email, phone, employee_code, password (optional),
    position, date_of_birth. A bad row imports nothing; rows of staff accounts, and of
    accounts their owners registered (unless adopted), are left out and listed.
    """
    from quizapp.clock import now
    from quizapp.units.roster import Decisions, import_roster

    if passwords_out and passwords_out.suffix.lower() not in (".xlsx", ".csv"):
        fail("--passwords-out must end in .xlsx or .csv")
    if adopt_self_registered and separate_self_registered:
        fail("Give --adopt-self-registered or --separate-self-registered, not both.")
    decisions = Decisions(adopt_all=adopt_self_registered, apart_all=separate_self_registered)
    with writing():  # even the check writes (and rolls back): it queues for the write lock
        check = import_roster(
            file.read_bytes(),
            file.name,
            now=now(),
            replace=replace,
            dry_run=True,
            decisions=decisions,
        )
    for line in check.describe_problems():
        click.echo(f"error: {line}", err=True)
    if not check.ok:
        fail(f"{len(check.problems)} error(s); nothing was imported.")
    if check.first_passwords and not dry_run and passwords_out is None:
        new_without_password = check.first_passwords - len(check.adopted)
        fail(
            f"{new_without_password} new people have no password in the file"
            + (f" and {len(check.adopted)} adopted accounts get a new one" if check.adopted else "")
            + ": give --passwords-out FILE.xlsx to receive their generated first passwords."
        )
    if dry_run:
        _summary(check, "Would import")
        return
    with (
        passwords_out.open("wb") if check.first_passwords else nullcontext() as out,
        writing(),  # it reads, then writes: the transaction queues for the write lock
    ):
        report = import_roster(
            file.read_bytes(), file.name, now=now(), replace=replace, decisions=decisions
        )
        if not report.ok:  # changed between the check and the import
            for line in report.describe_problems():
                click.echo(f"error: {line}", err=True)
            fail("nothing was imported.")
        if report.credentials:
            _write_credentials(report.credentials, passwords_out, out)
    _summary(report, "Imported")
    if report.credentials:
        click.echo(
            f"First passwords of {len(report.credentials)} people written to "
            f"{passwords_out}; hand them over and delete the file."
        )


def _write_credentials(credentials, path: Path, out) -> None:
    from quizapp.reports.sheets import csv_chunks, write_xlsx
    from quizapp.units.roster import credentials_sheet

    sheet = credentials_sheet(credentials)
    if path.suffix.lower() == ".csv":
        for chunk in csv_chunks(sheet.columns, sheet.rows):
            out.write(chunk)
    else:
        write_xlsx([sheet], out)


def _summary(report, verb: str) -> None:
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}")
    left_out = report.describe_left_out()
    click.echo(
        f"{verb} {report.total - len(left_out)} people: {report.created} new, "
        f"{report.updated} updated"
        + (
            f", {report.removed_from_roster} taken off the roster"
            if report.removed_from_roster
            else ""
        )
        + (f", {len(report.adopted)} self-registered accounts adopted" if report.adopted else "")
        + (f" ({len(report.apart)} new beside a self-registered account)" if report.apart else "")
        + "."
    )
    for line in left_out:
        click.echo(f"left out: {line}", err=True)
    if left_out:
        click.echo(f"{len(left_out)} row(s) left out (listed above).")
    if report.self_registered:
        click.echo(
            f"{len(report.self_registered)} row(s) match accounts their owners registered "
            "themselves: run again with --adopt-self-registered to adopt them, or with "
            "--separate-self-registered to give the people matched by email or phone new "
            "accounts of their own."
        )
    if report.kept_passwords:
        click.echo(
            f"{report.kept_passwords} existing accounts keep their own password "
            "(the file's password is used for new accounts only)."
        )
