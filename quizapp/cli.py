"""Command-line interface: `flask --app wsgi <group> <command>`."""

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app

from quizapp.clock import now
from quizapp.errors import ServiceError


def fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    for group in (users, banks, contests, attempts):
        app.cli.add_command(group)
    app.cli.add_command(seed_demo_command)


@click.group(help="Manage accounts.")
def users():
    pass


@users.command("create")
@click.option("--login", required=True, help="Email, phone or employee code.")
@click.option("--password", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", default="participant",
              type=click.Choice(["participant", "organizer", "hr", "admin"]))
@click.option("--unit", "unit_code", help="Unit code.")
def users_create(login, password, full_name, role, unit_code):
    """Create an account."""
    from quizapp.auth.services import NewUser, create_user

    try:
        user = create_user(NewUser(login=login, password=password, full_name=full_name,
                                   role=role, unit_code=unit_code))
    except ServiceError as error:
        fail(f"Error: {error.message}")
    click.echo(f"Created {user.role} {user.login} (id {user.id}).")


@click.group(help="Question banks.")
def banks():
    pass


@banks.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--bank", "bank_name", help="Bank name (when the file names none, or to override).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
def banks_import(file: Path, bank_name, dry_run):
    """Import a bank file (all or nothing)."""
    from quizapp.banks.services import import_bank

    report = import_bank(file.read_bytes(), file.name, bank_name=bank_name, dry_run=dry_run)
    for problem in report.problems:
        label = "error" if problem.level == "error" else "warning"
        click.echo(f"{label}: {problem.describe(str(file))}", err=True)
    if not report.ok:
        fail(f"{len(report.errors)} error(s); nothing was imported.")
    for category, count in report.per_category.items():
        click.echo(f"  {category}: {count}")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {report.total} questions into {report.bank_name!r}: "
               f"{report.created} new, {report.updated} updated, {report.unchanged} unchanged.")


@banks.command("list")
@click.option("--json", "as_json", is_flag=True)
def banks_list(as_json):
    """List banks with their categories and question counts."""
    from quizapp.banks.services import list_banks

    summaries = list_banks()
    if as_json:
        click.echo(json.dumps([
            {"name": s.name, "questions": s.questions,
             "categories": [{"name": n, "questions": c} for n, c in s.categories]}
            for s in summaries
        ], ensure_ascii=False))
        return
    for summary in summaries:
        click.echo(f"{summary.name}: {summary.questions} questions")
        for name, count in summary.categories:
            click.echo(f"  {name}: {count}")


@click.group(help="Contests and rounds.")
def contests():
    pass


@contests.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def contests_create(file: Path):
    """Create a contest from its YAML file (schema in the README)."""
    from quizapp.contests.schema import ContestFileError
    from quizapp.contests.services import create_contest_from_file

    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file}: not UTF-8 text; save it again as UTF-8.")
    try:
        contest = create_contest_from_file(text, str(file))
    except ContestFileError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        fail(f"{len(error.problems)} error(s); nothing was created.")
    click.echo(f"Created contest {contest.slug!r} with {len(contest.rounds)} round(s).")


@contests.command("list")
@click.option("--json", "as_json", is_flag=True)
def contests_list(as_json):
    """List contests and their rounds."""
    from sqlalchemy import select

    from quizapp.contests.models import Contest
    from quizapp.extensions import db

    items = [
        {"slug": c.slug, "title": c.title, "rounds": [
            {"id": r.id, "number": r.number, "title": r.title,
             "opens_at": r.opens_at.isoformat(), "closes_at": r.closes_at.isoformat()}
            for r in c.rounds]}
        for c in db.session.scalars(select(Contest).order_by(Contest.id))
    ]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        click.echo(f"{item['slug']}: {item['title']}")
        for r in item["rounds"]:
            click.echo(f"  #{r['number']} {r['title']} (id {r['id']}) "
                       f"{r['opens_at']} → {r['closes_at']}")


@click.group(help="Attempts.")
def attempts():
    pass


@attempts.command("close-expired")
def attempts_close_expired():
    """Expire attempts past deadline + grace, stamped at their deadline."""
    from quizapp.attempts.services import close_expired

    click.echo(f"Closed {close_expired(now())} expired attempt(s).")


@click.command("seed-demo")
def seed_demo_command():
    """Load demo units, accounts, the shipped banks and one open contest."""
    from quizapp.demo import seed_demo

    report = seed_demo(now(), current_app.config["DEMO_PASSWORD"])
    click.echo(f"Demo data ready: {report.created_units} new unit(s), "
               f"{report.created_users} new account(s); contest {report.contest!r}.")
    for bank in report.banks:
        click.echo(f"  bank: {bank}")
    click.echo("Demo logins (password for all: "
               f"{current_app.config['DEMO_PASSWORD']}):")
    for login, _password, role in report.logins:
        click.echo(f"  {role:<12} {login}")
