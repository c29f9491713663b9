"""`tandem export-plans CYCLE -o FILE.xlsx`, `tandem import-plans FILE.xlsx [--apply]` and
`tandem remind-plans CYCLE [--dry-run]`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cli.common import echo, fail, friendly, unit_of_work
from core.roles import SYSTEM
from core.vocabulary import pairing_label


def register(app: typer.Typer) -> None:
    @app.command("export-plans")
    @friendly
    def export_plans_command(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int | None = typer.Option(
            None, "--pairing", help="Only this pairing's plan (its id); default: the council's."
        ),
        output: Path = typer.Option(..., "--output", "-o", help="The .xlsx file to write."),
    ) -> None:
        """Write a cycle's development plans to an Excel workbook (.xlsx).

        Edit status, due dates and check-in notes in it, or add actions, then bring the
        changes back with `tandem import-plans`.
        """
        from feedback.setup.cycles import find_cycle
        from planning.excel import export_plans

        if output.suffix.lower() != ".xlsx":
            raise typer.BadParameter("--output must end in .xlsx")
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            data = export_plans(session, SYSTEM, found.id, pairing)
        output.write_bytes(data)
        echo(f"Wrote the development plans of '{found.name}' to {output}.")

    @app.command("import-plans")
    @friendly
    def import_plans_command(
        file: Path = typer.Argument(..., help="An exported plans workbook (.xlsx), edited."),
        apply: bool = typer.Option(
            False, "--apply", help="Save the changes (without it, only show what would change)."
        ),
    ) -> None:
        """Bring progress back from an edited plans workbook (a dry run unless --apply).

        Every row is checked first; if any is wrong, each problem is listed with its sheet
        and row and nothing is saved.
        """
        from planning.excel_import import MAX_BYTES, import_plans

        if not file.is_file():
            fail(f"There is no file {file}.")
        if file.stat().st_size > MAX_BYTES:
            fail(
                f"{file} is {file.stat().st_size / 1024 / 1024:.1f} MB; a plans workbook can "
                f"be at most {MAX_BYTES // 1024 // 1024} MB."
            )
        with unit_of_work() as session:
            result = import_plans(session, SYSTEM, file.read_bytes(), apply=apply)
        for note in result.notes:
            echo(f"Note: {note}")
        if not result.ok:
            fail("\n".join([result.summary(), *(f"  - {e}" for e in result.errors)]))
        for change in result.changes:
            echo(f"  {change}")
        echo(result.summary())
        if result.changes and not apply:
            echo("This was a dry run: nothing was saved. Run again with --apply to save.")

    @app.command("remind-plans")
    @friendly
    def remind_plans_command(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Only list who would be reminded of what; send nothing."
        ),
    ) -> None:
        """Email both principals of each pairing whose plan has actions overdue or due in
        the next two weeks (run it weekly, e.g. from cron, to keep plans moving)."""
        from feedback.setup.cycles import find_cycle
        from planning.nudges import DUE_SOON_DAYS, plan_reminders, send_plan_reminders

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            reminders = plan_reminders(session, SYSTEM, found.id, date.today())
            if not reminders:
                echo(
                    f"No plan of '{found.name}' has an action overdue or due in the next "
                    f"{DUE_SOON_DAYS} days: nobody to remind."
                )
                return
            for r in reminders:
                echo(
                    f"{pairing_label(r.member[0], r.officer[0])}: {len(r.overdue)} overdue, "
                    f"{len(r.due_soon)} due soon"
                )
            if dry_run:
                echo("This was a dry run: nothing was sent.")
                return
            report = send_plan_reminders(session, SYSTEM, found.id)
        echo(report.summary("reminder"))
        for failure in report.failed:
            echo(f"  could not send: {failure}")
