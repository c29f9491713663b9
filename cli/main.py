"""`tandem`: the command line. It calls the same functions as the app."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import echo, engine, friendly, unit_of_work
from core.db import database_url, make_engine, schema_state, upgrade
from core.roles import SYSTEM

app = typer.Typer(
    name="tandem",
    help="Tandem: 360-degree feedback and joint development plans for council leadership pairings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Look after the database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db", help="Look after the database schema (upgrade, status).")


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Create or upgrade the database schema to this version of Tandem."""
    echo(upgrade(make_engine()))


@db_app.command("status")
@friendly
def db_status() -> None:
    """Say which database is in use and whether its schema is current."""
    from sqlalchemy.engine import make_url

    echo(f"Database: {make_url(database_url()).render_as_string(hide_password=True)}")
    state = schema_state(make_engine())
    advice = {
        "current": "The schema is up to date.",
        "empty": "The database is empty. Run `tandem db upgrade` (the app also does this).",
        "older": "The schema is older than this Tandem. Run `tandem db upgrade`.",
        "newer": "The database was made by a newer Tandem. Update Tandem before using it.",
        "unmanaged": "The database has tables Tandem did not create. Use another database.",
    }
    echo(advice[state])


@app.command()
@friendly
def backup(
    file: Path = typer.Argument(..., help="The new file to write (never overwritten)."),
) -> None:
    """Back up the whole database while the app keeps running (SQLite: its online backup;
    PostgreSQL: pg_dump --format=custom)."""
    from governance.backup import back_up

    summary = back_up(engine(), SYSTEM, file)
    echo(f"Backed up {summary.describe()} to {summary.path}.")


@app.command()
@friendly
def restore(
    file: Path = typer.Argument(..., help="A file written by `tandem backup`."),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Replace a database that already holds councils (it is backed up beside itself "
        "first).",
    ),
) -> None:
    """Replace the whole database with a backup (stop the app first)."""
    from governance.backup import restore as restore_backup

    summary = restore_backup(engine(), SYSTEM, file, replace=replace)
    echo(f"Restored {summary.describe()} from {summary.path}.")


@app.command()
@friendly
def demo(
    reset: bool = typer.Option(
        False, "--reset", help="Delete the demo council and build it again."
    ),
) -> None:
    """Create the fictional Kingsmere Borough Council with two cycles of answers and plans."""
    from tools.demo import build_demo

    with unit_of_work() as session:
        echo(build_demo(session, reset=reset, actor=SYSTEM))


@app.command()
@friendly
def cycles() -> None:
    """List every council's cycles with their status and response counts."""
    from feedback.results.overview import council_overview

    engine()
    with unit_of_work() as session:
        table = council_overview(session, SYSTEM)
    if table.empty:
        echo("No cycles yet. Run `tandem demo` for a demo council.")
        return
    for row in table.itertuples():
        echo(
            f"{row.cycle_id:>4}  {row.council:<30} {row.cycle:<22} {row.status:<10} "
            f"{row.submitted:>4}/{row.invited:<4} responses"
        )


from cli import invitations as _invitations  # noqa: E402

_invitations.register(app)

from cli import bench as _bench  # noqa: E402

_bench.register(app)

from cli import users as _users  # noqa: E402

_users.register(app)

from cli import report as _report  # noqa: E402

_report.register(app)

from cli import plans as _plans  # noqa: E402

_plans.register(app)
_plans.register_plan(app)

from cli import people as _people  # noqa: E402

_people.register(app)

from cli import cycles as _cycles  # noqa: E402

_cycles.register(app)
_cycles.register_undo(app)

from cli import admin as _admin  # noqa: E402

_admin.register(app)

from cli import comments as _comments  # noqa: E402

_comments.register(app)

from cli import calendar as _calendar  # noqa: E402

_calendar.register(app)


@app.command("accessibility-statement")
@friendly
def accessibility_statement_command() -> None:
    """Print the accessibility statement as Markdown (the page's words, for a council's site)."""
    from governance.accessibility import accessibility_statement

    engine()
    with unit_of_work() as session:
        echo(accessibility_statement(session).markdown())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
