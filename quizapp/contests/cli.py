"""`flask contests …`: contests and rounds."""

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from quizapp.cli_support import fail
from quizapp.database import writing


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
        with writing():  # it reads, then writes: the transaction queues for the write lock
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
        {
            "slug": c.slug,
            "title": c.title,
            "rounds": [
                {
                    "id": r.id,
                    "number": r.number,
                    "title": r.title,
                    "opens_at": r.opens_at.isoformat(),
                    "closes_at": r.closes_at.isoformat(),
                }
                for r in c.rounds
            ],
        }
        for c in db.session.scalars(select(Contest).order_by(Contest.id))
    ]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False))
        return
    for item in items:
        click.echo(f"{item['slug']}: {item['title']}")
        for r in item["rounds"]:
            click.echo(
                f"  #{r['number']} {r['title']} (id {r['id']}) {r['opens_at']} → {r['closes_at']}"
            )


@click.command("stats")
@with_appcontext
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def stats_command(slug: str, as_json: bool):
    """The contest's statistics: exactly the numbers its dashboard shows."""

    from quizapp.clock import now
    from quizapp.contests.services import get_contest
    from quizapp.contests.stats import contest_stats
    from quizapp.errors import ServiceError

    try:
        contest = get_contest(slug)
    except ServiceError as error:
        fail(f"Error: {error.message} ({slug})")
    stats = contest_stats(contest, now())  # settles its rounds first, under the write lock
    data = stats.as_json()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    click.echo(
        f"{contest.title}: {data['participants']} participants, {data['entries']} "
        f"entries, {data['in_progress']} in progress, mean score {data['mean_score']}"
    )
    for unit in data["by_unit"]:
        rate = "—" if unit["rate"] is None else f"{unit['rate']:.1%}"
        click.echo(
            f"{'  ' * unit['depth']}{unit['code']} {unit['name']}: "
            f"{unit['participants']}/{unit['headcount'] or '—'} ({rate})"
        )
