"""`tandem links CYCLE`, `tandem remind CYCLE`, `tandem invite [send] CYCLE`, `tandem invite
preview|test` and `tandem reminders schedule|run-due`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from cli.common import echo, engine, fail, friendly, unit_of_work
from core.db import TandemError
from core.roles import SYSTEM

CYCLE_HELP = "The cycle's id or name (`tandem cycles` lists them)."


class SendByDefault(TyperGroup):
    """`tandem invite CYCLE` still sends, as before `preview` and `test` existed: anything
    that is not one of the group's commands is given to `send`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["send", *args]
        return super().parse_args(ctx, args)


invite_app = typer.Typer(
    cls=SendByDefault,
    no_args_is_help=True,
    help="Email invitations (`send`, the default), or preview one and send yourself a test.",
)
reminders_app = typer.Typer(
    no_args_is_help=True,
    help="The built-in reminder schedule: days before closing, and sending what is due.",
)


def _progress(done: int, total: int, text: str) -> None:
    if done:
        echo(f"  {text}")


def register(app: typer.Typer) -> None:
    app.add_typer(invite_app, name="invite")
    app.add_typer(reminders_app, name="reminders")

    @app.command()
    @friendly
    def links(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        reissue: bool = typer.Option(
            False,
            "--reissue",
            help="Make new links for everyone who has not submitted (old links stop working).",
        ),
        output: Path | None = typer.Option(
            None,
            "--output",
            "-o",
            help="Write a mail-merge file (.xlsx or .csv) instead of printing the links.",
        ),
    ) -> None:
        """Make personal links for a cycle's raters; print or export them.

        Tandem stores only a fingerprint of each link, so a link can be shown only when it
        is made: this gives a new link to every rater who has none yet (or, with
        --reissue, to everyone who has not submitted).
        """
        from feedback.collection.invitations import (
            issue_links,
            mail_merge_csv,
            mail_merge_rows,
            mail_merge_xlsx,
        )
        from feedback.setup.cycles import find_cycle

        if output is not None and output.suffix.lower() not in (".xlsx", ".csv"):
            raise typer.BadParameter("--output must end in .xlsx or .csv")
        written = False
        try:
            with unit_of_work() as session:
                found = find_cycle(session, cycle)
                assert found.id is not None  # a stored cycle has an id
                fresh, skipped = issue_links(session, SYSTEM, found.id, reissue=reissue)
                rows = mail_merge_rows(session, found.id, fresh)
                if output is not None:
                    # Written before the new links are saved: if the file cannot be made or
                    # written, the links are rolled back and the raters keep their old ones,
                    # rather than links being saved that nobody can ever see.
                    data = (
                        mail_merge_xlsx(rows)
                        if output.suffix.lower() == ".xlsx"
                        else mail_merge_csv(rows)
                    )
                    try:
                        output.write_bytes(data)
                        written = True
                    except OSError as exc:
                        raise TandemError(
                            f"Could not write {output} ({exc.strerror or exc}); no links were "
                            "made. Check the folder exists and can be written to, and try again."
                        ) from exc
        except BaseException:
            if (
                written and output is not None
            ):  # the links were not saved after all: the file would mislead
                output.unlink(missing_ok=True)
            raise
        if output is not None:
            echo(f"Wrote {len(rows)} links to {output}.")
        else:
            for r in fresh:
                echo(f"{r.name} <{r.email}>\t{r.pairing}\t{r.group}\t{r.link}")
            echo(f"{len(fresh)} new links.")
        if skipped:
            echo(
                f"{len(skipped)} raters already have a live link, which cannot be shown again "
                "(only a fingerprint is stored). Use --reissue to give them new ones."
            )

    @app.command()
    @friendly
    def remind(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
    ) -> None:
        """Email a reminder and fresh link to raters who have not submitted.

        Each reminder carries a new personal link, which replaces the earlier one; answers
        already saved are kept.
        """
        from feedback.collection.invitations import send_reminders
        from feedback.setup.cycles import find_cycle

        def progress(done: int, total: int, text: str) -> None:
            if done:
                echo(f"  {text}")

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            report = send_reminders(session, SYSTEM, found.id, progress=progress)
        echo(report.summary("reminder"))
        for failure in report.failed:
            echo(f"  could not send: {failure}")


@invite_app.command("send")
@friendly
def invite_send(
    cycle: str = typer.Argument(..., help=CYCLE_HELP),
    resend: bool = typer.Option(
        False,
        "--resend",
        help="Send again to raters already emailed (gives them a new link).",
    ),
) -> None:
    """Email invitations, each with a personal link, to raters not yet emailed (the cycle
    must be open; email is set up with TANDEM_SMTP_HOST and TANDEM_SMTP_SENDER).
    `tandem invite CYCLE` does the same."""
    from feedback.collection.invitations import send_invitations
    from feedback.setup.cycles import find_cycle

    engine()
    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        assert found.id is not None
        report = send_invitations(session, SYSTEM, found.id, resend=resend, progress=_progress)
    echo(report.summary("invitation"))
    for failure in report.failed:
        echo(f"  could not send: {failure}")


def _kind(reminder: bool) -> str:
    return "reminder" if reminder else "invitation"


@invite_app.command("preview")
@friendly
def invite_preview(
    cycle: str = typer.Argument(..., help=CYCLE_HELP),
    reminder: bool = typer.Option(False, "--reminder", help="The reminder, not the invitation."),
) -> None:
    """Show the invitation (or reminder) as the cycle's first rater would get it, with a
    sample link in place of their personal one. Nothing is sent or changed."""
    from feedback.collection.invitations import message_preview
    from feedback.setup.cycles import find_cycle

    engine()
    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        assert found.id is not None
        preview = message_preview(session, SYSTEM, found.id, _kind(reminder))
    echo(f"As {preview.sample_name} would get it (the link is a sample and opens nothing):\n")
    echo(f"Subject: {preview.subject}\n")
    echo(preview.body)


@invite_app.command("test")
@friendly
def invite_test(
    cycle: str = typer.Argument(..., help=CYCLE_HELP),
    to: str = typer.Option(..., "--to", help="Where the test goes: your own address."),
    reminder: bool = typer.Option(False, "--reminder", help="The reminder, not the invitation."),
) -> None:
    """Email yourself the preview (subject marked [Test], a sample link that opens
    nothing). On the page a test goes only to the signed-in person's own address; the
    command line is the server's operator and names it. Recorded in the audit log."""
    from feedback.collection.invitations import send_test_message
    from feedback.setup.cycles import find_cycle

    engine()
    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        assert found.id is not None
        address = send_test_message(session, SYSTEM, found.id, _kind(reminder), to=to)
    echo(f"A test {_kind(reminder)} was sent to {address}.")


@reminders_app.command("schedule")
@friendly
def reminders_schedule(
    cycle: str = typer.Argument(..., help=CYCLE_HELP),
    days: str | None = typer.Option(
        None,
        "--days",
        help='Days before closing, e.g. "7,2"; "off" for no scheduled reminders. Without '
        "it: show the schedule.",
    ),
) -> None:
    """Show or set a cycle's reminder schedule: on each of these days before closing,
    raters who have not submitted are emailed a reminder (by the app's own check, or by
    cron running `tandem reminders run-due`)."""
    from feedback.collection.reminder_schedule import planned_reminders, set_schedule
    from feedback.setup.cycles import find_cycle

    engine()
    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        assert found.id is not None
        if days is not None:
            chosen = set_schedule(session, SYSTEM, found.id, days)
            echo(
                "Schedule saved: "
                + (
                    ", ".join(str(d) for d in chosen) + " days before closing."
                    if chosen
                    else "none."
                )
            )
        planned = planned_reminders(session, SYSTEM, found.id)
    if not planned:
        echo(f"'{found.name}' has no scheduled reminders.")
    for p in planned:
        echo(f"  {p.line}")


@reminders_app.command("run-due")
@friendly
def reminders_run_due() -> None:
    """Send every scheduled reminder that is due now, across all cycles, each once — also
    when the app's own check or another cron runs at the same moment. For cron, e.g.
    every 10 minutes:  */10 * * * * tandem reminders run-due"""
    from feedback.collection.reminder_schedule import run_due_reminders

    outcomes = run_due_reminders(engine())
    if not outcomes:
        echo("No scheduled reminders are due.")
    for outcome in outcomes:
        echo(outcome.line)
    if any(o.problem for o in outcomes):
        fail("Some reminders could not be sent (see above); they are tried again next time.")
