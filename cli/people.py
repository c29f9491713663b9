"""`tandem people import FILE [--council C] [--apply]`: a spreadsheet of people, checked in
full (a dry run) unless --apply, through the same function as the People page."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import echo, fail, friendly, unit_of_work
from feedback.access import SYSTEM


def register(app: typer.Typer) -> None:
    people_app = typer.Typer(help="A council's people: import.", no_args_is_help=True)
    app.add_typer(people_app, name="people", help="A council's people (import a spreadsheet).")

    @people_app.command("import")
    @friendly
    def import_command(
        file: Path = typer.Argument(..., help="A spreadsheet of people (.xlsx or .csv)."),
        council: str | None = typer.Option(
            None, "--council", help="The council (name or id); needed if there are several."
        ),
        apply: bool = typer.Option(
            False, "--apply", help="Add the people (without it, only check the file)."
        ),
    ) -> None:
        """Add people from a spreadsheet (a dry run unless --apply).

        Every row is checked first; if any is wrong, each problem is listed with its row
        and nobody is added. Download the template from the People page, or use headings
        full_name, email, kind, title, portfolio, organisation.
        """
        from cli.users import _council_id
        from feedback.people import list_councils
        from feedback.people_import import MAX_BYTES, import_people

        if not file.is_file():
            fail(f"There is no file {file}.")
        if file.stat().st_size > MAX_BYTES:
            fail(
                f"{file} is {file.stat().st_size / 1024 / 1024:.1f} MB; a spreadsheet of "
                f"people can be at most {MAX_BYTES // 1024 // 1024} MB."
            )
        with unit_of_work() as session:
            if council is not None:
                council_id = _council_id(session, council)
            else:
                councils = list_councils(session, SYSTEM)
                if len(councils) != 1:
                    names = ", ".join(f"'{c.name}'" for c in councils) or "none yet"
                    fail(f"Say which council with --council (councils: {names}).")
                council_id = councils[0].id
            result = import_people(
                session, SYSTEM, council_id, file.name, file.read_bytes(), apply=apply
            )
        for note in result.notes:
            echo(f"Note: {note}")
        if not apply:
            for row in result.rows:
                echo(f"  row {row.row}: {row.full_name} <{row.email}>, {row.kind}")
        echo(result.summary())
        if result.rows and not apply:
            echo("This was a dry run: nobody was added. Run again with --apply to add them.")
