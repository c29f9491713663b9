"""`tandem export-plans CYCLE -o FILE.xlsx`, `tandem import-plans FILE.xlsx [--apply]`,
`tandem remind-plans CYCLE [--dry-run]` and `tandem plan …`: the Development plan page's
actions, acting as the system."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from sqlmodel import Session

from cli.common import confirm, echo, fail, friendly, unit_of_work
from core.formats import uk_date, uk_datetime
from core.roles import SYSTEM
from core.vocabulary import pairing_label

if TYPE_CHECKING:
    from planning.models import DevelopmentPlan


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
            assert found.id is not None  # a stored cycle has an id
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
            assert found.id is not None
            reminders = plan_reminders(session, SYSTEM, found.id, date.today())
            if not reminders:
                echo(
                    f"No plan of '{found.name}' has an action overdue or due in the next "
                    f"{DUE_SOON_DAYS} days: nobody to remind."
                )
                return
            for r in reminders:
                held = (
                    f", {len(r.held)} publicity action{'s' * (len(r.held) != 1)} held back "
                    "(pre-election period)"
                    if r.held
                    else ""
                )
                echo(
                    f"{pairing_label(r.member[0], r.officer[0])}: {len(r.overdue)} overdue, "
                    f"{len(r.due_soon)} due soon{held}"
                )
            if dry_run:
                echo("This was a dry run: nothing was sent.")
                return
            report = send_plan_reminders(session, SYSTEM, found.id)
        echo(report.summary("reminder"))
        for failure in report.failed:
            echo(f"  could not send: {failure}")


PLAN_OPTIONS_HELP = "The pairing's id (`tandem pairing list --cycle CYCLE` lists them)."


def _plan(session: Session, cycle: str, pairing: int) -> DevelopmentPlan:
    """The pairing's plan for the cycle, or a message saying how to start one."""
    from core.errors import NotFound
    from feedback.setup.cycles import find_cycle
    from planning.plans import find_plan

    found = find_cycle(session, cycle)
    assert found.id is not None
    plan = find_plan(session, pairing, found.id)
    if plan is None:
        raise NotFound(
            f"Pairing {pairing} has no plan for '{found.name}' yet: start one with "
            f"`tandem plan start {found.id} --pairing {pairing}`."
        )
    return plan


def _day(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date: give it as YYYY-MM-DD.") from None


def register_plan(app: typer.Typer) -> None:
    """`tandem plan show|start|agree|suggestions|accept|dismiss|check-in|history` and
    `tandem plan goal|action add|set|remove`: the Development plan page's actions."""
    plan_app = typer.Typer(
        help="A pairing's development plan for a cycle: show, start, agree, suggestions, "
        "goals, actions, check-ins, history.",
        no_args_is_help=True,
    )
    app.add_typer(
        plan_app,
        name="plan",
        help="A pairing's development plan (show, start, agree, goals, actions, check-ins).",
    )
    goal_app = typer.Typer(help="A plan's goals: add, set, remove.", no_args_is_help=True)
    plan_app.add_typer(goal_app, name="goal", help="A plan's goals (add, set, remove).")
    action_app = typer.Typer(help="A goal's actions: add, set, remove.", no_args_is_help=True)
    plan_app.add_typer(action_app, name="action", help="A goal's actions (add, set, remove).")

    @plan_app.command("show")
    @friendly
    def plan_show(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
    ) -> None:
        """Show a plan: its revision and agreement, goals and actions (with their ids), and
        check-ins."""
        from planning.calendar import plan_flags
        from planning.plans import agreement_words, read_plan
        from planning.pulse import pulse_heading, pulse_lines, pulse_result

        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            view = read_plan(session, SYSTEM, plan.id)
            flags = plan_flags(session, view.council_id, view.goals)
            pulsed = pulse_result(session, SYSTEM, plan.id)
        echo(
            f"Plan {view.plan_id}: {pairing_label(view.member_name, view.officer_name)}, "
            f"{view.cycle_name}. Revision {view.revision}, {view.status}; last changed "
            f"by {view.updated_by}."
        )
        for s in view.signoffs:
            whose = "councillor" if s.side == "member" else "officer"
            echo(f"  ({whose}) {agreement_words(s)}")
        if not view.goals:
            echo("No goals yet (`tandem plan suggestions`, or `tandem plan goal add`).")
        for g in view.goals:
            challenge = f"; {g.challenge_label}" if g.challenge_label else ""
            echo(f"\nGoal {g.id}: {g.title} — {g.dimension_name}{challenge}")
            if g.description:
                echo(f"  {g.description}")
            if g.citation:
                echo(f"  Answers peer challenge recommendation {g.citation}")
            for a in g.actions:
                due = f", due {uk_date(a.due_on)}" if a.due_on else ""
                echo(f"  Action {a.id} [{a.status}] {a.description} ({a.owner}{due})")
                if a.success_measure:
                    echo(f"    Success measure: {a.success_measure}")
                if a.id in flags:
                    echo(f"    Pre-election period: {flags[a.id]}")
        if view.check_ins:
            echo("\nCheck-ins:")
        for c in view.check_ins:
            change = f" {c.status_from} → {c.status_to}" if c.status_to else ""
            about = f" (action {c.action_id})" if c.action_id else ""
            echo(f"  {uk_date(c.held_on)}{about}{change} {c.note} — {c.recorded_by}")
        if pulsed is not None:
            echo(f"\n{pulse_heading(pulsed)}")
            for g in view.goals:
                echo(f"  Goal {g.id}: {g.title} — {g.dimension_name}")
                for line in pulse_lines(pulsed, g.dimension, view.member_name, view.officer_name):
                    echo(f"    {line}")

    @plan_app.command("history")
    @friendly
    def plan_history_command(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
    ) -> None:
        """Every revision of a plan, newest first: who changed what, and who agreed it."""
        from planning.plans import plan_history

        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            rows = plan_history(session, SYSTEM, plan.id)
        for h in rows:
            agreed = f" (agreed by {', '.join(h.signed_by)})" if h.signed_by else ""
            echo(
                f"{h.revision:>4}  {uk_datetime(h.changed_at)}  {h.changed_by}: {h.summary}{agreed}"
            )

    @plan_app.command("start")
    @friendly
    def plan_start(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
        from_earlier: bool = typer.Option(
            False,
            "--from-earlier",
            help="Carry forward the unfinished actions of the pairing's earlier plan.",
        ),
    ) -> None:
        """Start a pairing's plan for a cycle: empty, or from its earlier plan."""
        from core.errors import NotFound
        from feedback.setup.cycles import find_cycle
        from planning.plans import create_plan, previous_plan
        from planning.suggestions import carry_forward

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            if from_earlier:
                earlier = previous_plan(session, SYSTEM, pairing, found.id)
                if earlier is None or earlier.id is None:
                    raise NotFound(
                        f"Pairing {pairing} has no earlier plan to carry forward; start an "
                        "empty one (without --from-earlier)."
                    )
                carried = carry_forward(session, SYSTEM, earlier.id, found.id)
                echo(f"Plan {carried.plan.id} carried forward.")
                for sentence in carried.sentences():
                    echo(f"  {sentence}")
            else:
                plan = create_plan(session, SYSTEM, pairing, found.id)
                echo(f"Plan {plan.id} started for pairing {pairing} in '{found.name}'.")

    @plan_app.command("agree")
    @friendly
    def plan_agree(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        who: str = typer.Argument(..., help="councillor or officer: whose agreement to record."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
        revision: int = typer.Option(
            ...,
            "--revision",
            help="The revision they agreed to (`tandem plan show` gives the current one).",
        ),
        note: str = typer.Option(
            ...,
            "--note",
            help='How they agreed, e.g. "agreed by email 3 Dec" (shown with the agreement).',
        ),
    ) -> None:
        """Record a principal's agreement to the plan, given elsewhere (on paper, by email,
        in a meeting), as staff can on the plan page: it shows as "recorded by … on behalf
        of …" with the note."""
        from planning.plans import agreement, agreement_words, sign_plan

        side = {"councillor": "member", "member": "member", "officer": "officer"}.get(
            who.strip().lower()
        )
        if side is None:
            raise typer.BadParameter("Say whose agreement: councillor or officer.")
        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            person = next(s for s in agreement(session, plan) if s.side == side)
            signed = sign_plan(session, SYSTEM, plan.id, person.person_id, revision, note)
            status = signed.status
            words = agreement_words(next(s for s in agreement(session, signed) if s.side == side))
        echo(f"{words}\nWith this, the plan is {status}.")

    @plan_app.command("suggestions")
    @friendly
    def plan_suggestions(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
    ) -> None:
        """Goals suggested by the pairing's feedback (accept one with `tandem plan accept`)."""
        from feedback.setup.cycles import find_cycle
        from planning.suggestions import suggest

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            offered = suggest(session, found.id, pairing, SYSTEM)
        if not offered:
            echo("No suggestions to show.")
        for s in offered:
            echo(f"{s.dimension_code}: {s.title} — {s.dimension_name}")
            echo(f"  {s.reason}")
            for a in s.actions:
                echo(f"  - {a.description} ({a.owner})")

    @plan_app.command("accept")
    @friendly
    def plan_accept(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        dimension: str = typer.Argument(..., help="The suggestion's dimension code."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
    ) -> None:
        """Add a suggested goal and its actions to the plan."""
        from planning.suggestions import accept_suggestion

        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            goal = accept_suggestion(session, SYSTEM, plan.id, dimension.strip())
            echo(f"Added goal {goal.id}: {goal.title}.")

    @plan_app.command("dismiss")
    @friendly
    def plan_dismiss(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        dimension: str = typer.Argument(..., help="The suggestion's dimension code."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
    ) -> None:
        """Dismiss a suggestion: it is not offered again for this plan."""
        from planning.suggestions import dismiss_suggestion

        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            dismiss_suggestion(session, SYSTEM, plan.id, dimension.strip())
        echo(f"Dismissed the suggestion for {dimension.strip()}.")

    @plan_app.command("check-in")
    @friendly
    def plan_check_in(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
        note: str = typer.Option("", "--note", help="What was noted."),
        held: str | None = typer.Option(None, "--on", help="When (YYYY-MM-DD); default today."),
        action: int | None = typer.Option(None, "--action", help="About this action (its id)."),
        status: str | None = typer.Option(None, "--status", help="Its new status."),
    ) -> None:
        """Record a check-in: a note, and for one action a change of status."""
        from planning.plans import add_check_in

        held_on = _day(held) or date.today()
        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            add_check_in(session, SYSTEM, plan.id, held_on, note, action, status)
        echo(f"Check-in of {uk_date(held_on)} saved.")

    @goal_app.command("add")
    @friendly
    def goal_add(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        title: str = typer.Argument(..., help="The goal."),
        pairing: int = typer.Option(..., "--pairing", help=PLAN_OPTIONS_HELP),
        dimension: str = typer.Option(..., "--dimension", help="The framework dimension's code."),
        description: str = typer.Option("", "--description", help="Why it matters."),
        challenge: str = typer.Option("", "--challenge", help="A council challenge's code."),
    ) -> None:
        """Add a goal of your own to a plan."""
        from planning.plans import add_goal

        with unit_of_work() as session:
            plan = _plan(session, cycle, pairing)
            assert plan.id is not None
            goal = add_goal(
                session, SYSTEM, plan.id, dimension, title, description, challenge or None
            )
            echo(f"Added goal {goal.id}: {goal.title}.")

    @goal_app.command("set")
    @friendly
    def goal_set(
        goal: int = typer.Argument(..., help="The goal's id (`tandem plan show`)."),
        title: str | None = typer.Option(None, "--title"),
        description: str | None = typer.Option(None, "--description"),
        dimension: str | None = typer.Option(None, "--dimension"),
        challenge: str | None = typer.Option(None, "--challenge", help="'' clears it."),
    ) -> None:
        """Change a goal's wording, dimension or challenge (what is not given is kept)."""
        from planning.plans import update_goal

        given: dict[str, Any] = {
            k: v
            for k, v in {
                "title": title,
                "description": description,
                "dimension_code": dimension,
            }.items()
            if v is not None
        }
        if challenge is not None:
            given["challenge"] = challenge or None
        with unit_of_work() as session:
            changed = update_goal(session, SYSTEM, goal, **given)
        echo("Goal saved." if changed else "Nothing to change.")

    @plan_app.command("cite")
    @friendly
    def plan_cite(
        goal: int = typer.Argument(..., help="The goal's id (`tandem plan show`)."),
        reference: str = typer.Option(
            "", "--ref", help='The recommendation\'s reference, e.g. "CPC 2025 rec. 3".'
        ),
        text: str = typer.Option("", "--text", help="The recommendation's words."),
        clear: bool = typer.Option(False, "--clear", help="Remove the citation."),
    ) -> None:
        """Tie a goal to a corporate peer challenge recommendation (or --clear it)."""
        from planning.plans import cite_peer_challenge

        if clear and (reference or text):
            raise typer.BadParameter("Give --clear alone, or --ref and --text.")
        if not clear and not reference:
            raise typer.BadParameter("Give the recommendation's --ref (and --text), or --clear.")
        with unit_of_work() as session:
            changed = cite_peer_challenge(session, SYSTEM, goal, reference, text)
        if not changed:
            echo("Nothing to change.")
        else:
            echo("Citation removed." if clear else f"Goal {goal} now cites {reference}.")

    @goal_app.command("remove")
    @friendly
    def goal_remove(
        goal: int = typer.Argument(..., help="The goal's id (`tandem plan show`)."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Remove a goal and its actions (they stay in the plan's history)."""
        from planning.plans import remove_goal

        confirm(yes, f"Remove goal {goal} and its actions?")
        with unit_of_work() as session:
            remove_goal(session, SYSTEM, goal)
        echo("Goal removed.")

    @action_app.command("add")
    @friendly
    def action_add(
        goal: int = typer.Argument(..., help="The goal's id (`tandem plan show`)."),
        text: str = typer.Argument(..., help="What will be done."),
        owner: str = typer.Option(
            "joint", "--owner", help="member (the councillor), officer or joint."
        ),
        due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD; default in 90 days."),
        measure: str = typer.Option("", "--measure", help="Success measure."),
    ) -> None:
        """Add an action to a goal."""
        from planning.plans import add_action

        due_on = _day(due) or date.today() + timedelta(days=90)
        with unit_of_work() as session:
            action = add_action(
                session, SYSTEM, goal, text, owner, due_on=due_on, success_measure=measure
            )
            echo(f"Added action {action.id}.")

    @action_app.command("set")
    @friendly
    def action_set(
        action: int = typer.Argument(..., help="The action's id (`tandem plan show`)."),
        text: str | None = typer.Option(None, "--text", help="What will be done."),
        owner: str | None = typer.Option(None, "--owner"),
        due: str | None = typer.Option(None, "--due", help="YYYY-MM-DD; '' clears it."),
        measure: str | None = typer.Option(None, "--measure", help="Success measure."),
        status: str | None = typer.Option(None, "--status", help="Its progress."),
    ) -> None:
        """Change an action or its status (what is not given is kept)."""
        from planning.plans import set_action_status, update_action

        given: dict[str, Any] = {
            k: v
            for k, v in {"description": text, "owner": owner, "success_measure": measure}.items()
            if v is not None
        }
        if due is not None:
            given["due_on"] = _day(due)
        with unit_of_work() as session:
            changed = update_action(session, SYSTEM, action, **given) if given else False
            if status is not None:
                changed = set_action_status(session, SYSTEM, action, status) or changed
        echo("Action saved." if changed else "Nothing to change.")

    @action_app.command("remove")
    @friendly
    def action_remove(
        action: int = typer.Argument(..., help="The action's id (`tandem plan show`)."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    ) -> None:
        """Remove an action (it stays in the plan's history)."""
        from planning.plans import remove_action

        confirm(yes, f"Remove action {action}?")
        with unit_of_work() as session:
            remove_action(session, SYSTEM, action)
        echo("Action removed.")
