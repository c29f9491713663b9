"""`tandem council add`, `tandem retention` and `tandem audit`: the administrator's actions of
the People, Data protection and Audit log pages, acting as the system."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import typer

from cli.common import council_id, echo, engine, friendly, unit_of_work
from core.formats import uk_datetime
from core.roles import SYSTEM


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date: give it as YYYY-MM-DD.") from None


def register(app: typer.Typer) -> None:
    council_app = typer.Typer(help="Councils: add.", no_args_is_help=True)
    app.add_typer(council_app, name="council", help="Councils (add).")

    @council_app.command("add")
    @friendly
    def council_add(
        name: str = typer.Argument(..., help="e.g. 'Kingsmere Borough Council'."),
        nation: str = typer.Option(
            "England", "--nation", help="England, Scotland, Wales or Northern Ireland."
        ),
        governance: str = typer.Option(
            "",
            "--governance",
            help="leader and cabinet, mayor and cabinet, or committee system; default: as "
            "usual for the nation.",
        ),
    ) -> None:
        """Add a council (its people, pairings and cycles come next)."""
        from core.vocabulary import GOVERNANCE_LABELS
        from feedback.setup.people import create_council

        engine()
        with unit_of_work() as session:
            council = create_council(
                session, SYSTEM, name, nation, governance=governance.strip().lower() or None
            )
            echo(
                f"Added council {council.id} '{council.name}' ({council.nation}, "
                f"{GOVERNANCE_LABELS[council.governance].lower()})."
            )

    @app.command()
    @friendly
    def retention(
        council: str = typer.Argument(..., help="The council (name or id)."),
        months: int | None = typer.Argument(
            None, help="Months to keep a cycle's data after it closes; omit to show."
        ),
    ) -> None:
        """Show or set how long a council keeps each cycle's data after it closes."""
        from feedback.setup.people import get_council
        from governance.retention import set_retention

        engine()
        with unit_of_work() as session:
            ref = council_id(session, council)
            found = (
                set_retention(session, SYSTEM, ref, months)
                if months is not None
                else get_council(session, ref)
            )
            echo(f"{found.name} keeps each cycle's data for {found.retention_months} months.")

    @app.command()
    @friendly
    def audit(
        council: str | None = typer.Option(None, "--council", help="Only this council."),
        action: str | None = typer.Option(None, "--action", help="Only this action."),
        user: str | None = typer.Option(None, "--user", help="Only what this username did."),
        since: str | None = typer.Option(None, "--since", help="From this day (YYYY-MM-DD)."),
        until: str | None = typer.Option(None, "--until", help="To this day (YYYY-MM-DD)."),
        limit: int = typer.Option(100, "--limit", help="At most this many events (newest)."),
    ) -> None:
        """Print the audit log, newest first: who did what, when, on which record (never
        answers)."""
        from core import audit as audit_log

        start, end = _day(since), _day(until)
        engine()
        with unit_of_work() as session:
            log = audit_log.read_log(
                session,
                SYSTEM,
                council_id=council_id(session, council) if council else None,
                action=action,
                username=user,
                since=datetime.combine(start, time.min, UTC) if start else None,
                until=datetime.combine(end, time.max, UTC) if end else None,
                limit=limit,
            )
        for event in log.to_dict("records"):
            entity_id = event["entity_id"]
            known = entity_id is not None and entity_id == entity_id  # neither None nor NaN
            what = f"{event['entity']} {int(entity_id)}" if known else str(event["entity"])
            council_name = f" [{event['council']}]" if event["council"] else ""
            detail = f" — {event['detail']}" if event["detail"] else ""
            when = uk_datetime(event["at"])
            echo(f"{when}  {event['actor']}: {event['action']} {what}{council_name}{detail}")
        echo(f"{len(log)} event(s).")
