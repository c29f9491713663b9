"""`tandem comments list|hide|redact|restore`: comment moderation before publication, the
same functions as the report page's "Moderate comments" (feedback.results.moderation)."""

from __future__ import annotations

import typer
from sqlmodel import Session

from cli.common import echo, friendly, unit_of_work
from core.formats import uk_datetime
from core.roles import SYSTEM

STATE_WORDS = {"shown": "shown", "hidden": "WITHHELD", "redacted": "WORDS REMOVED"}


def _cycle_id(session: Session, ref: str) -> int:
    from feedback.results.loading import stored_id
    from feedback.setup.cycles import find_cycle

    return stored_id(find_cycle(session, ref))


def register(app: typer.Typer) -> None:
    comments_app = typer.Typer(
        help="Moderate a pairing's comments before publication: list, hide, redact, restore.",
        no_args_is_help=True,
    )
    app.add_typer(
        comments_app,
        name="comments",
        help="Moderate a pairing's comments before publication (list, hide, redact, restore).",
    )
    pairing_option = typer.Option(..., "--pairing", help="The pairing's id.")
    reason_option = typer.Option(
        ..., "--reason", help="Why (kept in the audit log, without the comment)."
    )

    @comments_app.command("list")
    @friendly
    def comments_list(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = pairing_option,
    ) -> None:
        """Every comment a staff read of this pairing shows (a closed cycle, before
        publication), with its reference and how it is moderated."""
        from feedback.results.moderation import comments_to_moderate

        with unit_of_work() as session:
            listed = comments_to_moderate(session, SYSTEM, _cycle_id(session, cycle), pairing)
        if not listed:
            echo("No comments to show for this pairing.")
            return
        heading = None
        for c in listed:
            if c.heading != heading:
                heading = c.heading
                echo(f"\n{heading}")
            echo(f"  [{c.ref}] {STATE_WORDS[c.state]}: {c.text}")
            if c.state == "redacted":
                echo(f"      readers see: {c.shown}")
            if c.state != "shown":
                when = uk_datetime(c.moderated_at)
                echo(f"      by {c.moderated_by} on {when}; reason: {c.reason}")

    @comments_app.command("hide")
    @friendly
    def comments_hide(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        ref: str = typer.Argument(..., help="The comment's reference (`tandem comments list`)."),
        pairing: int = pairing_option,
        reason: str = reason_option,
    ) -> None:
        """Withhold a comment from the report, its PDF and every export until restored."""
        from feedback.results.moderation import hide_comment

        with unit_of_work() as session:
            done = hide_comment(session, SYSTEM, _cycle_id(session, cycle), pairing, ref, reason)
        echo(f"Withheld the comment {done.ref} under {done.heading}.")

    @comments_app.command("redact")
    @friendly
    def comments_redact(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        ref: str = typer.Argument(..., help="The comment's reference (`tandem comments list`)."),
        pairing: int = pairing_option,
        words: str = typer.Option(
            ..., "--words", help="The words to take out (whole words, every place, any case)."
        ),
        reason: str = reason_option,
    ) -> None:
        """Take some words out of a comment; readers see "[removed by the facilitator]"."""
        from feedback.results.moderation import redact_comment

        with unit_of_work() as session:
            done = redact_comment(
                session, SYSTEM, _cycle_id(session, cycle), pairing, ref, words, reason
            )
        echo(f"Readers will see: {done.shown}")

    @comments_app.command("restore")
    @friendly
    def comments_restore(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        ref: str = typer.Argument(..., help="The comment's reference (`tandem comments list`)."),
        pairing: int = pairing_option,
        reason: str = typer.Option("", "--reason", help="Why (optional; kept in the audit log)."),
    ) -> None:
        """Undo a comment's moderation: readers see it as it was written again."""
        from feedback.results.moderation import restore_comment

        with unit_of_work() as session:
            done = restore_comment(session, SYSTEM, _cycle_id(session, cycle), pairing, ref, reason)
        echo(f"Restored the comment {done.ref} under {done.heading}.")
