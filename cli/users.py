"""`tandem user add|list|set|password|link|sessions|reset-link|home`, `tandem purge` and
`tandem subject-access`.

The command line is run by someone with access to the server and its database, so it acts
as the system (every action is still recorded in the audit log)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import typer
from sqlmodel import Session

from cli.common import council_id as _council_id
from cli.common import echo, engine, fail, friendly, unit_of_work
from core.formats import uk_date
from core.roles import SYSTEM, Role


def _day(value: object) -> date | None:
    """A date from a pandas row (a Timestamp is a datetime, hence a date)."""
    return value if isinstance(value, date) else None


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("No password was given on standard input.")
        return password
    first = typer.prompt("Password (at least 12 characters)", hide_input=True)
    again = typer.prompt("Password again", hide_input=True)
    if first != again:
        fail("The two passwords differ; nothing was saved.")
    return str(first)


def register(app: typer.Typer) -> None:
    user_app = typer.Typer(
        help="User accounts: add, list, set, password, link, sessions, reset-link, home.",
        no_args_is_help=True,
    )
    app.add_typer(
        user_app,
        name="user",
        help="User accounts (add, list, set, password, link, sessions, reset-link, home).",
    )

    @user_app.command("add")
    @friendly
    def user_add(
        username: str = typer.Argument(..., help="The sign-in name (an email address works)."),
        role: str = typer.Option(..., "--role", help="admin, facilitator or principal."),
        council: list[str] = typer.Option(
            [], "--council", help="A council a facilitator looks after (name or id; repeat)."
        ),
        person_email: str = typer.Option(
            "", "--person-email", help="A principal's email on their council's list of people."
        ),
        name: str = typer.Option("", "--name", help="The person's name, for display."),
        email: str = typer.Option(
            "", "--email", help="Email for sign-in through an identity provider (OIDC)."
        ),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
        no_password: bool = typer.Option(
            False, "--no-password", help="Sign-in only through the identity provider (OIDC)."
        ),
    ) -> None:
        """Create a user account (asks for the password twice)."""
        from governance.accounts import add_account

        engine()
        password = None if no_password else _read_password(password_stdin)
        with unit_of_work() as session:
            council_ids = [_council_id(session, ref) for ref in council]
            person_council = council_ids[0] if role == Role.principal and council_ids else None
            user = add_account(
                session,
                SYSTEM,
                username,
                role,
                password,
                display_name=name,
                email=email,
                council_ids=council_ids if role == Role.facilitator else [],
                person_email=person_email,
                person_council_id=person_council,
            )
            echo(f"Created {user.role} account '{user.username}'.")

    @user_app.command("list")
    @friendly
    def user_list() -> None:
        """List user accounts with their role, councils and state."""
        from governance.accounts import users_table

        engine()
        with unit_of_work() as session:
            rows = users_table(session, SYSTEM)
        if not rows:
            echo(
                "No accounts yet. Create an administrator with `tandem user add NAME --role admin`."
            )
            return
        for r in rows:
            state = "active" if r["active"] else "switched off"
            if r["locked"]:
                state += ", locked"
            extra = r["councils"] or r["person"]
            echo(f"{r['username']:<36} {r['role']:<12} {state:<22} {extra}")

    def _user_id(session: Session, username: str) -> int:
        from core.errors import NotFound
        from governance.accounts import find_user

        user = find_user(session, username)
        if user is None or user.id is None:
            raise NotFound(f"There is no account '{username}' (`tandem user list` lists them).")
        return user.id

    @user_app.command("set")
    @friendly
    def user_set(
        username: str = typer.Argument(..., help="The account's sign-in name."),
        active: bool | None = typer.Option(
            None, "--on/--off", help="Switch the account on (can sign in) or off."
        ),
        council: list[str] = typer.Option(
            [],
            "--council",
            help="Facilitators: the councils they look after (name or id; repeat). Replaces "
            "the list.",
        ),
        no_councils: bool = typer.Option(
            False, "--no-councils", help="Facilitators: look after no council."
        ),
        unlock: bool = typer.Option(
            False, "--unlock", help="Unlock after too many failed sign-ins."
        ),
    ) -> None:
        """Switch an account on or off, set a facilitator's councils, or unlock it (as the
        Users page)."""
        from governance.accounts import unlock_user, update_user

        if active is None and not council and not no_councils and not unlock:
            fail("Say what to change: --on, --off, --council, --no-councils or --unlock.")
        if council and no_councils:
            fail("Give --council or --no-councils, not both.")
        engine()
        with unit_of_work() as session:
            user_id = _user_id(session, username)
            if active is not None or council or no_councils:
                ids = [_council_id(session, ref) for ref in council]
                update_user(
                    session,
                    SYSTEM,
                    user_id,
                    active=active,
                    council_ids=ids if (council or no_councils) else None,
                )
            if unlock:
                unlock_user(session, SYSTEM, user_id)
        if active is not None:
            echo(
                f"{username} can sign in again." if active else f"{username} can no longer sign in."
            )
        if council or no_councils:
            echo("Councils saved.")
        if unlock:
            echo(f"{username} is unlocked.")

    @user_app.command("password")
    @friendly
    def user_password(
        username: str = typer.Argument(..., help="The account's sign-in name."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input."
        ),
    ) -> None:
        """Set an account's password (asks for it twice); this also unlocks it."""
        from governance.accounts import set_password

        engine()
        password = _read_password(password_stdin)
        assert password is not None
        with unit_of_work() as session:
            set_password(session, SYSTEM, _user_id(session, username), password)
        echo(f"Password set for {username}; the account is unlocked.")

    @user_app.command("sessions")
    @friendly
    def user_sessions(
        username: str = typer.Argument(..., help="The account's sign-in name."),
        end: bool = typer.Option(
            False, "--end", help="End every sign-in of this account, in every browser."
        ),
    ) -> None:
        """List an account's sign-ins (browsers kept signed in by a cookie), or end them all
        with --end: each browser asks for a sign-in again at its next click."""
        from core.formats import uk_datetime
        from governance.sign_in import end_all_sessions, list_sessions

        engine()
        with unit_of_work() as session:
            if end:
                ended = end_all_sessions(session, SYSTEM, username)
            rows = list_sessions(session, SYSTEM, username)
        if end:
            echo(f"{ended} sign-in{'s' if ended != 1 else ''} of {username} ended.")
            return
        if not rows:
            echo(f"{username} has no sign-ins.")
        for r in rows:
            state = (
                f"ended {uk_datetime(r.ended)} ({r.ended_because})"
                if r.ended
                else f"last used {uk_datetime(r.last_seen)}, lasts until {uk_datetime(r.expires)}"
            )
            echo(f"signed in {uk_datetime(r.started)} · {state}")

    @user_app.command("home")
    @friendly
    def user_home(
        username: str = typer.Argument(..., help="A principal's account."),
    ) -> None:
        """What a principal's Home page shows: their pairing(s), each cycle's report (or
        when it will come) and their plan."""
        from governance.accounts import actor_for, find_user
        from planning.home import principal_home

        engine()
        with unit_of_work() as session:
            user = find_user(session, username)
            if user is None:
                fail(f"There is no account called '{username}'.")
            homes = principal_home(session, actor_for(session, user))
        if not homes:
            echo(f"{username} is not a principal linked to a pairing.")
        for home in homes:
            echo(f"{home.pairing} · {home.council} · {home.kind}")
            for cycle in home.cycles:
                echo(f"  {cycle.name}: {cycle.report} {cycle.plan}")

    @user_app.command("reset-link")
    @friendly
    def user_reset_link(
        username: str = typer.Argument(..., help="The account's sign-in name."),
    ) -> None:
        """Print a one-time link to set a new password (valid for one hour), to pass on by
        hand when Tandem sends no email. Nothing changes until it is used."""
        from governance.sign_in import issue_reset_link

        engine()
        with unit_of_work() as session:
            link = issue_reset_link(session, SYSTEM, username)
        echo(link)
        echo("It works once, for one hour. Give it only to the account's owner.")

    @user_app.command("link")
    @friendly
    def user_link(
        username: str = typer.Argument(..., help="A principal's account."),
        person_email: str = typer.Argument(
            ..., help="Their email on their council's list of people."
        ),
        council: str | None = typer.Option(
            None, "--council", help="Their council (needed if the email is on several lists)."
        ),
    ) -> None:
        """Link a principal's account to their person record (found by email)."""
        from governance.accounts import link_person

        engine()
        with unit_of_work() as session:
            council_ref = _council_id(session, council) if council else None
            link_person(session, SYSTEM, _user_id(session, username), person_email, council_ref)
        echo(f"{username} is linked to {person_email.strip().lower()}.")

    @app.command()
    @friendly
    def purge(
        council: str | None = typer.Option(None, "--council", help="Only this council."),
        apply: bool = typer.Option(
            False, "--apply", help="Really delete. Without it, only say what would go."
        ),
        today: str | None = typer.Option(
            None, "--today", help="Pretend today is this date (YYYY-MM-DD), to preview."
        ),
    ) -> None:
        """Delete cycles past their council's retention period (dry run unless --apply)."""
        from governance.retention import purge as run_purge

        engine()
        when = date.fromisoformat(today) if today else None
        with unit_of_work() as session:
            council_id = _council_id(session, council) if council else None
            report = run_purge(session, SYSTEM, when, council_id=council_id, dry_run=not apply)
        for row in report.cycles.itertuples():
            echo(
                f"{row.council}: {row.cycle} (closed {uk_date(_day(row.closes_on))}, retention "
                f"ended {uk_date(_day(row.expired_on))}) — {row.responses} responses, "
                f"{row.invitations} invitations"
            )
        for person in report.people:
            echo(f"Person nothing refers to any more: {person}")
        echo(report.summary())
        if not apply and (not report.cycles.empty or report.people):
            echo("Nothing was deleted. Run again with --apply to delete.")

    @app.command("subject-access")
    @friendly
    def subject_access_export(
        email: str = typer.Argument(..., help="The person's email address."),
        output: Path = typer.Option(..., "--output", "-o", help="A .json or .xlsx file."),
        council: str | None = typer.Option(
            None, "--council", help="Their council (needed if the email is on several lists)."
        ),
    ) -> None:
        """Export everything held about one person (a subject access request)."""
        from governance.accounts import person_for_email
        from governance.subject_access import find_subject, subject_access, to_json, to_xlsx

        suffix = output.suffix.lower()
        if suffix not in (".json", ".xlsx"):
            raise typer.BadParameter("--output must end in .json or .xlsx")
        engine()
        with unit_of_work() as session:
            # With the council, the person is found as the Data protection page finds them;
            # without, by an email that is on one council's list only.
            person = (
                find_subject(session, SYSTEM, email, _council_id(session, council))
                if council
                else person_for_email(session, email)
            )
            assert person.id is not None  # a stored person has an id
            data = subject_access(session, SYSTEM, person.id)
            # written before the export is recorded as done, so the audit never claims one
            # that failed
            output.write_bytes(to_json(data) if suffix == ".json" else to_xlsx(data))
        echo(f"Wrote everything held about {person.full_name} to {output}.")
