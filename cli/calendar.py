"""`tandem calendar list|set|remove`: the council calendar (the plan page's "Council
calendar" section), acting as the system."""

from __future__ import annotations

from datetime import date

import typer

from cli.common import council_id, echo, friendly, unit_of_work
from core.roles import SYSTEM


def _day(value: str | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{what} '{value}' is not a date: give it as YYYY-MM-DD."
        ) from None


def register(app: typer.Typer) -> None:
    calendar_app = typer.Typer(
        help="A council's key dates: budget council, annual council, elections and their "
        "pre-election periods.",
        no_args_is_help=True,
    )
    app.add_typer(
        calendar_app,
        name="calendar",
        help="A council's key dates (list, set, remove) that plan due dates work around.",
    )

    @calendar_app.command("list")
    @friendly
    def calendar_list(
        council: str = typer.Argument(..., help="The council's id or exact name."),
    ) -> None:
        """List the council's key dates, with each election's pre-election period."""
        from planning.calendar import list_council_dates

        with unit_of_work() as session:
            dates = list_council_dates(session, SYSTEM, council_id(session, council))
        if not dates:
            echo("No key dates recorded yet (`tandem calendar set`).")
        for d in dates:
            echo(f"{d.id:>4}  {d.describe()}")

    @calendar_app.command("set")
    @friendly
    def calendar_set(
        council: str = typer.Argument(..., help="The council's id or exact name."),
        kind: str = typer.Argument(
            ..., help="budget council, annual council or election (polling day)."
        ),
        on: str = typer.Argument(..., help="The date (YYYY-MM-DD)."),
        label: str = typer.Option("", "--label", help='What it is, e.g. "County elections".'),
        period_from: str | None = typer.Option(
            None,
            "--period-from",
            help="An election's pre-election period starts (default: "
            "six weeks before polling day).",
        ),
        period_to: str | None = typer.Option(
            None, "--period-to", help="It ends (default: polling day)."
        ),
        date_id: int | None = typer.Option(
            None, "--id", help="Change this recorded date (its id from `tandem calendar list`)."
        ),
    ) -> None:
        """Record a key date of the council's year, or change one (--id)."""
        from planning.calendar import set_council_date

        falls_on = _day(on, "The date")
        assert falls_on is not None
        with unit_of_work() as session:
            saved = set_council_date(
                session,
                SYSTEM,
                council_id(session, council),
                kind,
                falls_on,
                label=label,
                period_starts_on=_day(period_from, "--period-from"),
                period_ends_on=_day(period_to, "--period-to"),
                date_id=date_id,
            )
        echo(f"Saved {saved.id}: {saved.describe()}.")

    @calendar_app.command("remove")
    @friendly
    def calendar_remove(
        date_id: int = typer.Argument(..., help="The date's id (`tandem calendar list`)."),
    ) -> None:
        """Remove a key date from the council's calendar."""
        from planning.calendar import remove_council_date

        with unit_of_work() as session:
            gone = remove_council_date(session, SYSTEM, date_id)
        echo(f"Removed: {gone.describe()}.")
