"""`tandem people import`, `tandem person add|set`, `tandem governance` and `tandem nominate`:
the people of a council, how it is run, and who rates a pairing — the same functions as the People,
Pairings and Cycles pages, acting as the system (recorded in the audit log)."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlmodel import Session

from cli.common import confirm, echo, engine, fail, friendly, unit_of_work
from cli.common import council_id as _council_id
from core.roles import SYSTEM
from feedback.models import Person

GROUP_HELP = "members (other councillors), officers (other officers) or partners (external)."
GROUP_HELP_TEXT = "Councillors only: their political group, e.g. Labour, Independent."
SIDE_HELP = "Councillors only: administration or opposition."
ROLE_HELP = (
    "monitoring officer, chief finance officer (s151), head of paid service, or scrutiny chair."
)


def _person(session: Session, council: str, email: str) -> Person:
    """A person of a council by their email address, or a one-line NotFound."""
    from core.errors import NotFound
    from feedback.setup.people import find_person

    person = find_person(session, _council_id(session, council), email.strip())
    if person is None:
        raise NotFound(f"Nobody with the email address {email} is recorded there.")
    return person


def register(app: typer.Typer) -> None:
    people_app = typer.Typer(
        help="A council's people: list, import, template, remove, set-kind.", no_args_is_help=True
    )
    app.add_typer(
        people_app,
        name="people",
        help="A council's people (list, import, template, remove, set-kind).",
    )

    @people_app.command("remove")
    @friendly
    def people_remove(
        council: str = typer.Argument(..., help="The council (name or id)."),
        email: str = typer.Argument(..., help="The person's email address."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Remove a person added by mistake (refused, saying what, while a pairing, an
        invitation or a user account holds them)."""
        from feedback.setup.people import remove_person

        engine()
        with unit_of_work() as session:
            person = _person(session, council, email)
            person_id, name = person.id, person.full_name
        assert person_id is not None
        confirm(yes, f"Remove {name} <{email.strip().lower()}>?")
        with unit_of_work() as session:
            remove_person(session, SYSTEM, person_id)
        echo(f"Removed {name}.")

    @people_app.command("set-kind")
    @friendly
    def people_set_kind(
        council: str = typer.Argument(..., help="The council (name or id)."),
        email: str = typer.Argument(..., help="The person's email address."),
        kind: str = typer.Argument(..., help="member (a councillor), officer or external."),
    ) -> None:
        """Record a person as a councillor, an officer or an external partner instead
        (refused while a pairing or an invitation depends on their kind)."""
        from feedback.setup.people import set_person_kind

        engine()
        with unit_of_work() as session:
            person = _person(session, council, email)
            assert person.id is not None
            cleared = set_person_kind(session, SYSTEM, person.id, kind.strip().lower())
            echo(f"{person.full_name} is now recorded as {person.kind}.")
            if cleared:
                echo("Cleared, as it does not fit the new kind: " + "; ".join(cleared) + ".")

    @people_app.command("list")
    @friendly
    def people_list(council: str = typer.Argument(..., help="The council (name or id).")) -> None:
        """List a council's people: name, email, kind, title and standing."""
        from core.vocabulary import SIDE_LABELS, SPECIAL_ROLE_LABELS
        from feedback.setup.people import list_people

        engine()
        with unit_of_work() as session:
            people = list_people(session, _council_id(session, council))
        for p in people:
            extra = [
                p.title,
                p.political_group,
                SIDE_LABELS[p.political_side].lower() if p.political_side else "",
                SPECIAL_ROLE_LABELS[p.special_role].lower() if p.special_role else "",
            ]
            echo(f"{p.full_name} <{p.email}>, {p.kind}" + "".join(f"; {e}" for e in extra if e))
        echo(f"{len(people)} people.")

    @people_app.command("template")
    @friendly
    def people_template(
        output: Path = typer.Option(..., "--output", "-o", help="A .xlsx or .csv file."),
    ) -> None:
        """Write the spreadsheet template for `tandem people import` (as the People page's
        download)."""
        from feedback.setup.people_import import template_csv, template_xlsx

        suffix = output.suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            raise typer.BadParameter("--output must end in .xlsx or .csv")
        output.write_bytes(template_xlsx() if suffix == ".xlsx" else template_csv())
        echo(f"Wrote the people template to {output}.")

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
        from feedback.setup.people import list_councils
        from feedback.setup.people_import import MAX_BYTES, import_people

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
                assert councils[0].id is not None  # a stored council has an id
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

    person_app = typer.Typer(help="People of a council: add, set.", no_args_is_help=True)
    app.add_typer(person_app, name="person", help="People of a council (add, set).")

    @person_app.command("add")
    @friendly
    def person_add(
        council: str = typer.Argument(..., help="The council (name or id)."),
        name: str = typer.Argument(..., help="Full name, e.g. 'Cllr Siân Llewelyn'."),
        email: str = typer.Argument(..., help="Their email address."),
        kind: str = typer.Argument(..., help="member (a councillor), officer or external."),
        title: str = typer.Option("", "--title", help="e.g. Leader of the Council."),
        portfolio: str = typer.Option("", "--portfolio"),
        organisation: str = typer.Option("", "--organisation", help="External partners."),
        group: str = typer.Option("", "--group", help=GROUP_HELP_TEXT),
        side: str = typer.Option("", "--side", help=SIDE_HELP),
        role: str = typer.Option("", "--role", help=ROLE_HELP),
    ) -> None:
        """Add a person to a council."""
        from feedback.setup.people import add_person

        engine()
        with unit_of_work() as session:
            person = add_person(
                session,
                SYSTEM,
                _council_id(session, council),
                name,
                email,
                kind,
                title=title,
                portfolio=portfolio,
                organisation=organisation,
                political_group=group,
                political_side=side,
                special_role=role,
            )
            echo(f"Added {person.full_name} ({person.kind}).")

    @person_app.command("set")
    @friendly
    def person_set(
        council: str = typer.Argument(..., help="The council (name or id)."),
        email: str = typer.Argument(..., help="The person's email address."),
        name: str | None = typer.Option(None, "--name", help="A new full name."),
        new_email: str | None = typer.Option(None, "--email", help="A new email address."),
        title: str | None = typer.Option(None, "--title"),
        portfolio: str | None = typer.Option(None, "--portfolio"),
        organisation: str | None = typer.Option(None, "--organisation"),
        group: str | None = typer.Option(None, "--group", help=GROUP_HELP_TEXT),
        side: str | None = typer.Option(None, "--side", help=SIDE_HELP + " '' clears it."),
        role: str | None = typer.Option(None, "--role", help=ROLE_HELP + " '' clears it."),
    ) -> None:
        """Change a person's name, email, title, portfolio or organisation, or record their
        political group and side or statutory or special role (what is not given is kept;
        their kind is fixed once recorded)."""
        from core.errors import NotFound
        from core.vocabulary import SIDE_LABELS, SPECIAL_ROLE_LABELS
        from feedback.setup.people import find_person
        from feedback.setup.people_import import update_person

        engine()
        with unit_of_work() as session:
            council_id = _council_id(session, council)
            person = find_person(session, council_id, email.strip())
            if person is None or person.id is None:
                raise NotFound(f"Nobody with the email address {email} is recorded there.")
            person = update_person(
                session,
                SYSTEM,
                person.id,
                person.full_name if name is None else name,
                person.email if new_email is None else new_email,
                person.title if title is None else title,
                person.portfolio if portfolio is None else portfolio,
                person.organisation if organisation is None else organisation,
                political_group=group,
                political_side=side,
                special_role=role,
            )
            if any(v is not None for v in (name, new_email, title, portfolio, organisation)):
                echo(f"Saved {person.full_name} <{person.email}>, {person.title or 'no title'}.")
            echo(
                f"{person.full_name}: group {person.political_group or 'not recorded'}, "
                f"side {SIDE_LABELS[person.political_side].lower()}, special role "
                f"{SPECIAL_ROLE_LABELS[person.special_role].lower()}."
            )

    @app.command()
    @friendly
    def governance(
        council: str = typer.Argument(..., help="The council (name or id)."),
        model: str = typer.Argument(
            "", help="leader and cabinet, mayor and cabinet, or committee system; omit to show."
        ),
    ) -> None:
        """Show or set how a council is run, which decides its kinds of pairing."""
        from core.vocabulary import GOVERNANCE_LABELS, kind_label, kinds_for
        from feedback.setup.people import get_council, set_governance

        engine()
        with unit_of_work() as session:
            council_id = _council_id(session, council)
            found = (
                set_governance(session, SYSTEM, council_id, model.strip().lower())
                if model
                else get_council(session, council_id)
            )
            echo(f"{found.name}: {GOVERNANCE_LABELS[found.governance].lower()}.")
            echo("Its pairings: " + "; ".join(kind_label(k) for k in kinds_for(found.governance)))

    @app.command()
    @friendly
    def nominate(
        cycle: str = typer.Argument(..., help="The cycle (id or name)."),
        emails: list[str] = typer.Argument(None, help="The raters' email addresses."),
        pairing: int = typer.Option(..., "--pairing", help="The pairing's id."),
        group: str = typer.Option(..., "--group", help=GROUP_HELP),
    ) -> None:
        """Nominate raters for a pairing (all or nothing), then show what to check: groups
        below the anonymity threshold, councillors all from one side, statutory officers
        missing from the top pairing's raters. With no emails, only shows the checks."""
        from core.errors import Invalid, NotFound
        from core.vocabulary import GROUP_LABELS
        from feedback.models import Pairing
        from feedback.setup.cycles import (
            find_cycle,
            nominate_raters,
            pairing_nomination_warnings,
        )
        from feedback.setup.people import find_person, get_council, pairing_label

        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            chosen = session.get(Pairing, pairing)
            if chosen is None or chosen.council_id != found.council_id:
                raise NotFound(f"Pairing {pairing} is not one of this cycle's council's.")
            assert found.id is not None and chosen.id is not None  # stored rows have ids
            council = get_council(session, found.council_id)
            people: list[int] = []
            unknown: list[str] = []
            for email in emails or []:
                person = find_person(session, found.council_id, email.strip())
                if person is None or person.id is None:
                    unknown.append(
                        f"{email} is not recorded at {council.name}: add them first "
                        "(`tandem person add` or the People page)."
                    )
                else:
                    people.append(person.id)
            if unknown:
                raise Invalid("Nobody was nominated:", unknown)
            if people:
                nominate_raters(session, SYSTEM, found.id, chosen.id, people, group)
                echo(
                    f"Nominated {len(people)} {GROUP_LABELS[group].lower()} for "
                    f"{pairing_label(session, chosen)}."
                )
            warnings = pairing_nomination_warnings(session, found, chosen)
        for warning in warnings:
            echo(f"Warning: {warning}")
        if not warnings:
            echo("Nothing to check: the raters are balanced and every group is large enough.")
