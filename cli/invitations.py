"""`tandem links CYCLE` and `tandem remind CYCLE`."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import echo, friendly, unit_of_work
from core.db import TandemError
from core.roles import SYSTEM


def register(app: typer.Typer) -> None:
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
