"""`flask banks …`: question banks."""

import json
from contextlib import nullcontext
from pathlib import Path

import click

from quizapp.cli_support import fail
from quizapp.database import writing


@click.group(help="Question banks.")
def banks():
    pass


@banks.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", help="Bank name (when the file names none, or to override).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@click.option(
    "--skip-unsupported",
    is_flag=True,
    help="Leave out question types the platform does not grade (reported).",
)
def banks_import(file: Path, bank_name, dry_run, skip_unsupported):
    """Import a bank file (all or nothing)."""
    from quizapp.banks.services import import_bank
    from quizapp.clock import now

    # No actor: the operator at the shell may change any bank. Rounds still to close are
    # protected all the same: an import that would leave one short of questions is refused.
    data = file.read_bytes()
    with nullcontext() if dry_run else writing():  # it reads, then writes: queue for the lock
        report = import_bank(
            data,
            file.name,
            bank_name=bank_name,
            dry_run=dry_run,
            skip_unsupported=skip_unsupported,
            now=now(),
        )
    for problem in report.problems:
        label = "error" if problem.level == "error" else "warning"
        click.echo(f"{label}: {problem.describe(str(file))}", err=True)
    for shortfall in report.shortfalls:
        click.echo(f"error: {file}: {shortfall.text}", err=True)
    if report.shortfalls:
        fail(
            f"{len(report.shortfalls)} round(s) would be left short of questions; "
            "nothing was imported. Add questions to their categories first, or change the "
            "rounds' draws."
        )
    if not report.ok:
        fail(f"{len(report.errors)} error(s); nothing was imported.")
    for category, count in report.per_category.items():
        click.echo(f"  {category}: {count}")
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {report.total} questions into {report.bank_name!r}: "
        f"{report.created} new, {report.updated} updated, {report.unchanged} unchanged."
    )


@banks.command("list")
@click.option("--json", "as_json", is_flag=True)
def banks_list(as_json):
    """List banks with their categories and question counts."""
    from quizapp.banks.services import list_banks

    summaries = list_banks()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": s.name,
                        "questions": s.questions,
                        "categories": [{"name": n, "questions": c} for n, c in s.categories],
                    }
                    for s in summaries
                ],
                ensure_ascii=False,
            )
        )
        return
    for summary in summaries:
        click.echo(f"{summary.name}: {summary.questions} questions")
        for name, count in summary.categories:
            click.echo(f"  {name}: {count}")


@banks.command("export")
@click.argument("name")
@click.option("--format", "format_name", type=click.Choice(["yaml", "gift", "xlsx"]), required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def banks_export(name: str, format_name: str, output: Path):
    """Write a bank to a file that imports back as the same bank."""
    from quizapp.banks.services import export_bank
    from quizapp.errors import ServiceError

    try:
        data = export_bank(name, format_name)
    except ServiceError as error:
        fail(f"Error: {error.message}")
    output.write_bytes(data)
    click.echo(f"Exported {name!r} to {output} ({len(data):,} bytes).")
