"""`tandem cycle create|show|set|open|close|reopen|publish|pulse|unpublish|wording`,
`tandem tracking`, `tandem pairing create|add|list` and `tandem withdraw`: running a feedback
round — the same functions as the Cycles and Pairings pages, acting as the system (recorded
in the audit log)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session

from cli.common import confirm, council_id, echo, engine, fail, friendly, unit_of_work
from core.formats import share_of, uk_date
from core.roles import SYSTEM
from core.vocabulary import CycleStatus, PairingKind

CYCLE_HELP = "The cycle's id or name (`tandem cycles` lists them)."
PAIRING_HELP = "The pairing's id (`tandem pairing list COUNCIL` lists them)."
EXCEPTION_HELP = (
    "Why this is a second top pairing at the council (leader, mayor or convener with the "
    "chief executive), e.g. 'joint chief executive shared with …'; kept with the pairing."
)


def _print_table(frame: Any) -> None:
    """A table with its headings in words, columns padded to their widest cell."""
    columns = list(frame.columns)
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    echo("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        echo("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date: give it as YYYY-MM-DD.") from None


def _kind(value: str) -> str:
    """A pairing kind as stored, or with a plain hyphen for the dash, or its short name
    (leader_chief_executive)."""
    wanted = value.strip().lower()
    for kind in PairingKind:
        if wanted in (kind.value, kind.value.replace("–", "-"), kind.name):
            return kind.value
    return value  # the domain function says which kinds there are


def _person_id(session: Session, council: int, email: str, what: str) -> int:
    from core.errors import NotFound
    from feedback.setup.people import find_person

    person = find_person(session, council, email.strip())
    if person is None or person.id is None:
        raise NotFound(
            f"{what}: nobody with the email address {email} is recorded at this council "
            "(`tandem person add`, or the People page)."
        )
    return person.id


def _status(
    cycle: str, target: str, done: str, only_from: str | None = None, verb: str = ""
) -> None:
    """Move a cycle to another status with the Cycles page's function."""
    from feedback.setup.cycles import find_cycle, set_cycle_status

    engine()
    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        if only_from is not None and found.status != only_from:
            article = "an" if only_from[0] in "aeiou" else "a"
            fail(
                f"'{found.name}' is {found.status}; only {article} {only_from} cycle can be "
                f"{verb}. Nothing was changed."
            )
        assert found.id is not None
        set_cycle_status(session, SYSTEM, found.id, target)
        name = found.name
    echo(f"'{name}' is now {target}: {done}.")


def _tell_principals(cycle: str) -> None:
    """After the publication committed: email the principals that their report is ready
    (a failure to send is reported, never undoes the publication)."""
    from feedback.results.report_ready import notify_report_ready
    from feedback.setup.cycles import find_cycle

    with unit_of_work() as session:
        found = find_cycle(session, cycle)
        assert found.id is not None
        emailed = notify_report_ready(session, SYSTEM, found.id)
    echo(emailed.summary())


def register(app: typer.Typer) -> None:
    cycle_app = typer.Typer(
        help="A council's feedback cycles: create, show, change and move through their stages.",
        no_args_is_help=True,
    )
    app.add_typer(
        cycle_app,
        name="cycle",
        help="One feedback cycle (create, show, set, open, close, reopen, publish, unpublish, "
        "wording).",
    )

    @cycle_app.command("create")
    @friendly
    def cycle_create(
        council: str = typer.Argument(..., help="The council (name or id)."),
        name: str = typer.Argument(..., help="e.g. 'Annual review 2027'."),
        opens: str | None = typer.Option(None, "--opens", help="YYYY-MM-DD; default today."),
        closes: str | None = typer.Option(
            None, "--closes", help="YYYY-MM-DD; default three weeks after it opens."
        ),
        threshold: int = typer.Option(
            3,
            "--threshold",
            help="Anonymity threshold: a rater group is shown only with at least this many "
            "replies (never below 2).",
        ),
        language: str = typer.Option(
            "en",
            "--language",
            help="What raters read: en (English), cy (Welsh) or both (Welsh first, with a "
            "switch to English).",
        ),
    ) -> None:
        """Create a cycle (a draft: nobody is invited until it is opened)."""
        from feedback.setup.cycles import create_cycle

        opens_on = _day(opens, "--opens") or date.today()
        closes_on = _day(closes, "--closes") or opens_on + timedelta(days=21)
        engine()
        with unit_of_work() as session:
            cycle = create_cycle(
                session,
                SYSTEM,
                council_id(session, council),
                name,
                opens_on,
                closes_on,
                threshold,
                language=language,
            )
            echo(
                f"Created cycle {cycle.id} '{cycle.name}' ({uk_date(cycle.opens_on)} to "
                f"{uk_date(cycle.closes_on)}, anonymity threshold {cycle.anonymity_threshold})."
            )

    @cycle_app.command("show")
    @friendly
    def cycle_show(cycle: str = typer.Argument(..., help=CYCLE_HELP)) -> None:
        """Show a cycle: its settings, pairings, who is invited (status only, never answers),
        response counts and what to check in the nominations."""
        from core.vocabulary import GROUP_LABELS
        from feedback.collection.tracking import cycle_totals
        from feedback.setup.cycles import (
            TRANSITIONS,
            find_cycle,
            nomination_warnings,
            nominations,
            pairings_in_cycle,
        )
        from feedback.setup.people import pairing_label

        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            echo(
                f"Cycle {found.id} '{found.name}': {found.status}, {uk_date(found.opens_on)} to "
                f"{uk_date(found.closes_on)}, anonymity threshold {found.anonymity_threshold}."
            )
            nexts = ", ".join(sorted(TRANSITIONS.get(found.status, set()))) or "nothing"
            echo(f"It can become: {nexts}.")
            totals = cycle_totals(session, SYSTEM, found.id)
            echo(
                f"{share_of(int(totals['submitted']), int(totals['invited']))} of those invited "
                "have submitted."
            )
            in_cycle = pairings_in_cycle(session, found.id)
            if not in_cycle:
                echo("No pairings in this cycle yet (`tandem pairing add`).")
            for pairing in in_cycle:
                assert pairing.id is not None
                echo(f"\nPairing {pairing.id}: {pairing_label(session, pairing)}")
                for r in nominations(session, found.id, pairing.id):
                    group = "Principal" if r.group == "principal" else GROUP_LABELS[r.group]
                    echo(f"  {group:<19} {r.name:<32} {r.status}")
            warnings = nomination_warnings(session, found.id)
        for warning in warnings:
            echo(f"Warning: {warning}")

    @app.command()
    @friendly
    def tracking(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        raters: bool = typer.Option(
            False, "--raters", help="Also list every rater and how far they have got."
        ),
        waiting: bool = typer.Option(
            False, "--waiting", help="Also list who has not responded yet (never answers)."
        ),
        sent: bool = typer.Option(False, "--sent", help="Also list the messages sent."),
        output: Path | None = typer.Option(
            None,
            "--output",
            "-o",
            help="Also write the raters' stages to a file (.xlsx or .csv), headings in words.",
        ),
    ) -> None:
        """Response tracking, as the Cycles page's Tracking tab: each stage (emailed,
        exported for mail merge, opened, started, submitted) by pairing and rater group;
        every rater's stage (--raters), who has not responded (--waiting) and the messages
        sent (--sent). Never what anyone answered."""
        from feedback.collection.tracking import (
            cycle_totals,
            message_history,
            not_responded,
            rater_stages,
            rates_in_words,
            response_rates,
            totals_in_words,
        )
        from feedback.setup.cycles import find_cycle

        if output is not None and output.suffix.lower() not in (".xlsx", ".csv"):
            raise typer.BadParameter("--output must end in .xlsx or .csv")
        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            totals = cycle_totals(session, SYSTEM, found.id)
            rates = rates_in_words(
                response_rates(session, SYSTEM, found.id), found.anonymity_threshold
            )
            everyone = rater_stages(session, SYSTEM, found.id) if raters or output else None
            late = not_responded(session, SYSTEM, found.id) if waiting else None
            history = message_history(session, SYSTEM, found.id) if sent else None
        echo(f"'{found.name}':")
        for label, value in totals_in_words(totals):
            echo(f"  {label}: {value}")
        echo("")
        _print_table(rates)
        if everyone is not None and raters:
            echo(f"\nRaters ({len(everyone)}):")
            _print_table(everyone)
        if late is not None:
            echo(f"\nNot yet responded ({len(late)}):")
            for r in late.to_dict("records"):
                echo(f"  {r['Name']} <{r['Email']}>, {r['Group']}, {r['Pairing']}: {r['Stage']}")
        if history is not None:
            echo(f"\nInvitations and reminders sent ({len(history)}):")
            for r in history.to_dict("records"):
                echo(f"  {r['When']}  {r['Message']} {r['How']} to {r['Name']}: {r['Outcome']}")
        if output is not None and everyone is not None:
            from feedback.collection.tracking import tracking_csv, tracking_xlsx

            data = (
                tracking_xlsx(everyone)
                if output.suffix.lower() == ".xlsx"
                else tracking_csv(everyone)
            )
            try:
                output.write_bytes(data)
            except OSError as exc:
                fail(f"Could not write {output} ({exc.strerror or exc}).")
            echo(f"\nWrote {len(everyone)} raters' stages to {output}.")

    @cycle_app.command("set")
    @friendly
    def cycle_set(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        name: str | None = typer.Option(None, "--name", help="A new name."),
        opens: str | None = typer.Option(None, "--opens", help="YYYY-MM-DD (drafts only)."),
        closes: str | None = typer.Option(
            None, "--closes", help="YYYY-MM-DD: move it to give people more time."
        ),
        threshold: int | None = typer.Option(
            None, "--threshold", help="Anonymity threshold: after opening, it can only rise."
        ),
    ) -> None:
        """Rename a cycle, move its dates or change its anonymity threshold (what is not
        given is kept)."""
        from feedback.setup.cycles import find_cycle, update_cycle

        opens_on, closes_on = _day(opens, "--opens"), _day(closes, "--closes")
        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            changed = update_cycle(
                session,
                SYSTEM,
                found.id,
                name if name is not None else found.name,
                opens_on or found.opens_on,
                closes_on or found.closes_on,
                threshold if threshold is not None else found.anonymity_threshold,
            )
            echo(
                f"Cycle {changed.id} '{changed.name}': {uk_date(changed.opens_on)} to "
                f"{uk_date(changed.closes_on)}, anonymity threshold "
                f"{changed.anonymity_threshold}."
            )

    @cycle_app.command("set-language")
    @friendly
    def cycle_set_language(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        language: str = typer.Argument(..., help="en, cy or both."),
    ) -> None:
        """Run a cycle in English (en), Welsh (cy) or both: the questionnaire, its pages and
        the rater's emails. Says what staff must know first (Welsh not yet checked)."""
        from core.vocabulary import LANGUAGE_LABELS
        from feedback.setup.cycles import find_cycle, language_notices, set_cycle_language

        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            changed = set_cycle_language(session, SYSTEM, found.id, language)
            echo(
                f"Cycle {changed.id} '{changed.name}': raters read "
                f"{LANGUAGE_LABELS[changed.language]}."
            )
            for notice in language_notices(session, changed):
                echo(f"Note: {notice}")

    @cycle_app.command("open")
    @friendly
    def cycle_open(cycle: str = typer.Argument(..., help=CYCLE_HELP)) -> None:
        """Open a draft cycle for responses (links work from now on)."""
        _status(cycle, CycleStatus.open, "opened for responses", CycleStatus.draft, "opened")

    @cycle_app.command("close")
    @friendly
    def cycle_close(cycle: str = typer.Argument(..., help=CYCLE_HELP)) -> None:
        """Close an open cycle to responses (links stop working; results can be read)."""
        # not a published cycle: that is `unpublish`, which asks first
        _status(cycle, CycleStatus.closed, "closed to responses", CycleStatus.open, "closed")

    @cycle_app.command("reopen")
    @friendly
    def cycle_reopen(cycle: str = typer.Argument(..., help=CYCLE_HELP)) -> None:
        """Reopen a closed cycle for late responses."""
        _status(
            cycle, CycleStatus.open, "reopened for late responses", CycleStatus.closed, "reopened"
        )

    @cycle_app.command("publish")
    @friendly
    def cycle_publish(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Publish a closed cycle's results: freezes an edition that principals can read."""
        confirm(
            yes,
            f"Publish the results of '{cycle}'? Principals can read their reports at once, "
            "and the edition is kept for good.",
        )
        _status(cycle, CycleStatus.published, "results published as a new edition")
        _tell_principals(cycle)

    @cycle_app.command("pulse")
    @friendly
    def cycle_pulse(
        cycle: str = typer.Argument(..., help="The published full cycle the pulse follows."),
        pairing: int | None = typer.Option(
            None, "--pairing", help="Only this pairing (its id); default every pairing with a plan."
        ),
        name: str | None = typer.Option(None, "--name", help="Default '90-day pulse after …'."),
        opens: str | None = typer.Option(
            None, "--opens", help="YYYY-MM-DD; default 90 days after the results were published."
        ),
        closes: str | None = typer.Option(
            None, "--closes", help="YYYY-MM-DD; default two weeks after it opens."
        ),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Start a 90-day pulse after a published full cycle: a draft cycle asking each
        pairing only its plan's focus dimensions and the partnership (mirror) questions, of
        the same raters, under the same anonymity rules. Change the raters or dates, then
        open it like any cycle."""
        from feedback.setup.cycles import find_cycle
        from planning.pulse import plan_pulse, start_pulse

        opens_on, closes_on = _day(opens, "--opens"), _day(closes, "--closes")
        engine()
        with unit_of_work() as session:
            full = find_cycle(session, cycle)
            assert full.id is not None
            draft = plan_pulse(session, SYSTEM, full.id, pairing)
        confirm(
            yes,
            f"Start a 90-day pulse after '{full.name}' for "
            + ", ".join(label for _p, label, _f in draft.pairings)
            + "?",
        )
        with unit_of_work() as session:
            pulse = start_pulse(
                session,
                SYSTEM,
                full.id,
                pairing,
                name=name,
                opens_on=opens_on,
                closes_on=closes_on,
            )
            echo(
                f"Created pulse {pulse.id} '{pulse.name}' (a draft, {uk_date(pulse.opens_on)} "
                f"to {uk_date(pulse.closes_on)}, anonymity threshold "
                f"{pulse.anonymity_threshold}), following '{full.name}'."
            )
            for _pid, label, focus in draft.pairings:
                echo(f"  {label}: asks {', '.join(focus)} and the partnership questions.")
        for why in draft.skipped:
            echo(f"Left out: {why}")

    @cycle_app.command("unpublish")
    @friendly
    def cycle_unpublish(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Withdraw a cycle's publication: it goes back to closed (as the Cycles page's
        "Withdraw publication")."""
        confirm(yes, f"Withdraw the publication of '{cycle}'?")
        _status(
            cycle,
            CycleStatus.closed,
            "publication withdrawn",
            CycleStatus.published,
            "unpublished",
        )

    @cycle_app.command("wording")
    @friendly
    def cycle_wording(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        invitation_subject: str | None = typer.Option(None, "--invitation-subject"),
        invitation_body: Path | None = typer.Option(
            None, "--invitation-body", help="A text file with the invitation's text."
        ),
        reminder_subject: str | None = typer.Option(None, "--reminder-subject"),
        reminder_body: Path | None = typer.Option(
            None, "--reminder-body", help="A text file with the reminder's text."
        ),
    ) -> None:
        """Show the invitation and reminder wording, or change it (what is not given is
        kept). The texts must contain {link}."""
        from feedback.collection.invitations import PLACEHOLDERS, update_wording, wording_for
        from feedback.setup.cycles import find_cycle

        def read(path: Path | None) -> str | None:
            if path is None:
                return None
            if not path.is_file():
                fail(f"There is no file {path}.")
            return path.read_text(encoding="utf-8")

        texts = [invitation_subject, read(invitation_body), reminder_subject, read(reminder_body)]
        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            now = wording_for(found)
            if any(t is not None for t in texts):
                update_wording(
                    session,
                    SYSTEM,
                    found.id,
                    texts[0] if texts[0] is not None else now.invitation_subject,
                    texts[1] if texts[1] is not None else now.invitation_body,
                    texts[2] if texts[2] is not None else now.reminder_subject,
                    texts[3] if texts[3] is not None else now.reminder_body,
                )
                now = wording_for(found)
                echo("Wording saved.")
        echo(f"Invitation subject: {now.invitation_subject}\n\n{now.invitation_body}\n")
        echo(f"Reminder subject: {now.reminder_subject}\n\n{now.reminder_body}\n")
        echo("Placeholders: " + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)))

    @app.command()
    @friendly
    def withdraw(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        email: str = typer.Argument(..., help="The rater's email address."),
        pairing: int = typer.Option(..., "--pairing", help="The pairing they were to rate."),
    ) -> None:
        """Withdraw a rater's invitation to rate a pairing: their link stops working at once
        (answers already saved are kept; nominate them again to bring them back)."""
        from core.errors import NotFound
        from feedback.collection.invitations import revoke_invitation
        from feedback.setup.cycles import find_cycle, nominations

        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            person_id = _person_id(session, found.council_id, email, "Nobody was withdrawn")
            invitation = next(
                (r for r in nominations(session, found.id, pairing) if r.person_id == person_id),
                None,
            )
            if invitation is None:
                raise NotFound(
                    f"{email} is not invited to rate pairing {pairing} in '{found.name}' "
                    "(`tandem cycle show` lists who is)."
                )
            revoke_invitation(session, SYSTEM, invitation.invitation_id)
            echo(f"{invitation.name} withdrawn from rating pairing {pairing}.")

    pairing_app = typer.Typer(
        help="Pairings: form one at a council, correct, end or remove it, put them in a "
        "cycle, list them.",
        no_args_is_help=True,
    )
    app.add_typer(
        pairing_app,
        name="pairing",
        help="Leadership pairings (create, edit, end, remove, add to a cycle, list).",
    )

    @pairing_app.command("create")
    @friendly
    def pairing_create(
        council: str = typer.Argument(..., help="The council (name or id)."),
        kind: str = typer.Argument(
            ...,
            help="leader-chief executive, mayor-chief executive, convener-chief executive, "
            "cabinet-director or committee chair-director (`tandem governance` says which "
            "the council has).",
        ),
        member: str = typer.Argument(..., help="The councillor's email address."),
        officer: str = typer.Argument(..., help="The officer's email address."),
        portfolio: str = typer.Option("", "--portfolio", help="e.g. Adult Social Care."),
        since: str | None = typer.Option(
            None, "--since", help="When the two began working together (YYYY-MM-DD)."
        ),
        exception: str = typer.Option("", "--exception", help=EXCEPTION_HELP),
    ) -> None:
        """Form a pairing of one councillor and one officer at a council (a council has one
        top pairing: a second needs --exception with the reason)."""
        from feedback.setup.people import create_pairing, pairing_label

        started_on = _day(since, "--since")
        engine()
        with unit_of_work() as session:
            council_ref = council_id(session, council)
            pairing = create_pairing(
                session,
                SYSTEM,
                council_ref,
                _kind(kind),
                _person_id(session, council_ref, member, "No pairing was formed"),
                _person_id(session, council_ref, officer, "No pairing was formed"),
                portfolio,
                started_on,
                top_exception=exception,
            )
            echo(f"Created pairing {pairing.id}: {pairing_label(session, pairing)}.")
            if pairing.top_exception:
                echo(f"A second top pairing at this council: {pairing.top_exception}.")

    @pairing_app.command("add")
    @friendly
    def pairing_add(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        pairings: list[str] = typer.Argument(..., help="The pairings' ids."),
    ) -> None:
        """Put pairings in a cycle (all or nothing); both principals of each are invited."""
        from feedback.setup.cycles import add_pairing_to_cycle, find_cycle

        ids = []
        for ref in pairings:
            if not ref.isdigit():
                raise typer.BadParameter(
                    f"'{ref}' is not a pairing id (`tandem pairing list COUNCIL` lists them)."
                )
            ids.append(int(ref))
        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            for pid in ids:
                add_pairing_to_cycle(session, SYSTEM, found.id, pid)
            name = found.name
        echo(f"Added {len(ids)} pairing(s) to '{name}'; both principals of each are invited.")

    @pairing_app.command("list")
    @friendly
    def pairing_list(
        council: str | None = typer.Argument(None, help="The council (name or id)."),
        cycle: str | None = typer.Option(None, "--cycle", help="Only the pairings in a cycle."),
    ) -> None:
        """List a council's pairings, or those taking part in a cycle, with their ids."""
        from core.vocabulary import kind_label
        from feedback.setup.cycles import find_cycle, pairings_in_cycle
        from feedback.setup.people import list_pairings, pairing_label

        if (council is None) == (cycle is None):
            fail("Give a council, or a cycle with --cycle (not both).")
        engine()
        with unit_of_work() as session:
            if cycle is not None:
                found = find_cycle(session, cycle)
                assert found.id is not None
                rows = pairings_in_cycle(session, found.id)
                where = f"'{found.name}'"
            else:
                rows = list_pairings(session, council_id(session, str(council)))
                where = "this council"
            if not rows:
                echo(f"No pairings in {where} yet.")
            for p in rows:
                since = f", since {uk_date(p.started_on)}" if p.started_on else ""
                ended = "" if p.active else " (ended)"
                why = f"; exception: {p.top_exception}" if p.top_exception else ""
                echo(
                    f"{p.id:>5}  {kind_label(p.kind):<42} {pairing_label(session, p)}{since}"
                    f"{ended}{why}"
                )


def register_undo(app: typer.Typer) -> None:
    """`tandem pairing edit|end|remove` and `tandem cycle remove-pairing`: undoing set-up
    mistakes, as the Pairings page and the Cycles page's Pairings and raters tab."""
    pairing_app = _group(app, "pairing")
    cycle_app = _group(app, "cycle")

    @pairing_app.command("edit")
    @friendly
    def pairing_edit(
        pairing: int = typer.Argument(..., help=PAIRING_HELP),
        kind: str | None = typer.Option(None, "--kind", help="A new kind (as for create)."),
        member: str | None = typer.Option(None, "--member", help="The councillor's email."),
        officer: str | None = typer.Option(None, "--officer", help="The officer's email."),
        portfolio: str | None = typer.Option(None, "--portfolio", help="'' clears it."),
        since: str | None = typer.Option(
            None, "--since", help="When the two began working together (YYYY-MM-DD)."
        ),
        no_since: bool = typer.Option(False, "--no-since", help="Forget the start date."),
        exception: str | None = typer.Option(None, "--exception", help=EXCEPTION_HELP),
    ) -> None:
        """Correct a pairing (what is not given is kept). Its kind and its two people are
        fixed once a cycle holds answers for it: end it and form a new one instead."""
        from feedback.setup.pairings import edit_pairing, get_pairing
        from feedback.setup.people import pairing_label

        started = _day(since, "--since")
        engine()
        with unit_of_work() as session:
            found = get_pairing(session, pairing)
            council = found.council_id
            changed = edit_pairing(
                session,
                SYSTEM,
                pairing,
                kind=found.kind if kind is None else _kind(kind),
                member_id=found.member_id
                if member is None
                else _person_id(session, council, member, "The pairing was not changed"),
                officer_id=found.officer_id
                if officer is None
                else _person_id(session, council, officer, "The pairing was not changed"),
                portfolio=found.portfolio if portfolio is None else portfolio,
                started_on=None if no_since else started or found.started_on,
                top_exception=exception,
            )
            since_text = f", since {uk_date(changed.started_on)}" if changed.started_on else ""
            echo(f"Pairing {pairing}: {pairing_label(session, changed)}{since_text}.")

    @pairing_app.command("end")
    @friendly
    def pairing_end(
        pairing: int = typer.Argument(..., help=PAIRING_HELP),
        resume: bool = typer.Option(
            False, "--resume", help="Take an ended pairing up again (checks the top pairing)."
        ),
    ) -> None:
        """End a pairing: it keeps its cycles, answers, reports and plans, but joins no new
        cycle and is no longer the council's top pairing."""
        from feedback.setup.pairings import end_pairing
        from feedback.setup.people import pairing_label

        engine()
        with unit_of_work() as session:
            found = end_pairing(session, SYSTEM, pairing, ended=not resume)
            state = "taken up again" if resume else "ended"
            echo(f"Pairing {pairing} ({pairing_label(session, found)}) is {state}.")

    @pairing_app.command("remove")
    @friendly
    def pairing_remove(
        pairing: int = typer.Argument(..., help=PAIRING_HELP),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Remove a pairing formed by mistake (refused while a cycle holds it: take it out of
        the cycle first, or end it if anyone has answered)."""
        from feedback.setup.pairings import get_pairing, remove_pairing
        from feedback.setup.people import pairing_label

        engine()
        with unit_of_work() as session:
            label = pairing_label(session, get_pairing(session, pairing))
        confirm(yes, f"Remove pairing {pairing} ({label})?")
        with unit_of_work() as session:
            remove_pairing(session, SYSTEM, pairing)
        echo(f"Removed pairing {pairing} ({label}).")

    @cycle_app.command("remove-pairing")
    @friendly
    def cycle_remove_pairing(
        cycle: str = typer.Argument(..., help=CYCLE_HELP),
        pairing: int = typer.Argument(..., help=PAIRING_HELP),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Take a pairing out of a draft or open cycle before anyone has answered for it: its
        principals' and raters' invitations go with it, and their links stop working."""
        from feedback.setup.cycles import find_cycle
        from feedback.setup.pairings import get_pairing, remove_pairing_from_cycle
        from feedback.setup.people import pairing_label

        engine()
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            name, cycle_id = found.name, found.id
            label = pairing_label(session, get_pairing(session, pairing))
        assert cycle_id is not None
        confirm(
            yes,
            f"Take pairing {pairing} ({label}) out of '{name}'? Its invitations there go with "
            "it and their links stop working.",
        )
        with unit_of_work() as session:
            remove_pairing_from_cycle(session, SYSTEM, cycle_id, pairing)
        echo(f"Pairing {pairing} ({label}) is no longer in '{name}'.")


def _group(app: typer.Typer, name: str) -> typer.Typer:
    """The sub-command group `name` registered on `app` (register() made it)."""
    for group in app.registered_groups:
        if group.name == name and group.typer_instance is not None:
            return group.typer_instance
    raise LookupError(f"No command group {name!r}.")
