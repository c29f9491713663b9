"""Development plan: the pairing's joint plan for a cycle — suggestions from the feedback,
goals and actions, check-ins, agreement by both principals, history, and the plans as an
Excel workbook out and back in."""

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from core.errors import Conflict, TandemError
from core.formats import DATE_INPUT, uk_datetime
from core.roles import is_principal, is_staff
from core.vocabulary import council_date_label, pairing_label
from planning.calendar import (
    KINDS,
    default_period,
    list_council_dates,
    plan_flags,
    remove_council_date,
    set_council_date,
)
from planning.development_guide import development_guide
from planning.excel import export_filename, export_plans
from planning.excel_import import MAX_BYTES, ImportResult, import_plans
from planning.models import CHALLENGE_LABELS
from planning.nudges import DUE_SOON_DAYS, last_sent, plan_reminders, send_plan_reminders
from planning.plans import (
    OWNERS,
    STATUSES,
    add_action,
    add_check_in,
    add_goal,
    agreement_words,
    cite_peer_challenge,
    create_plan,
    dimension_names,
    find_plan,
    plan_choices,
    plan_cycles,
    plan_history,
    previous_plan,
    read_plan,
    remove_action,
    remove_goal,
    set_action_status,
    sign_plan,
    update_action,
    update_goal,
)
from planning.pulse import pulse_heading, pulse_lines, pulse_result
from planning.suggestions import (
    accept_suggestion,
    carried_summary,
    carry_forward,
    dismiss_suggestion,
    suggest,
)
from ui.development_guide import show_guide
from ui.errors import show_error
from ui.links import follow_link
from ui.notices import flash
from ui.pickers import pick
from ui.state import current_actor, unit_of_work
from ui.text import alert, bullets, show, show_html
from ui.uploads import checked_once, forget

actor = current_actor()
CONFLICT = "plan_notice_conflict"
PLAN_CHECK_KEY = "plan_upload_check"


def opened_key(plan_id: int) -> str:
    return f"plan_opened_rev_{plan_id}"


def run_action(success: str, fn, *args, plan_id: int | None = None, **kwargs) -> bool:
    """One domain function in its own unit of work. After a change of our own, the page
    counts as opened at the plan's new revision."""
    try:
        with unit_of_work() as session:
            fn(session, actor, *args, **kwargs)
            if plan_id is not None:
                st.session_state[opened_key(plan_id)] = read_plan(session, actor, plan_id).revision
        flash("success", success)
        return True
    except Conflict as exc:  # shown at the top of the page, beside the reload button
        st.session_state[CONFLICT] = str(exc)
        st.rerun()
    except TandemError as exc:
        show_error(exc)
        return False


st.title("Development plan")

with unit_of_work() as session:
    cycles = plan_cycles(session, actor)
if not cycles:
    st.info(
        "There is no plan to show you yet: a plan belongs to a pairing taking part in a "
        "feedback cycle."
    )
    st.stop()

follow_link("plan_cycle", "cycle")
follow_link("plan_pairing", "pairing")
cycle_id = pick("Cycle", cycles, "plan_cycle")
with unit_of_work() as session:  # the chosen cycle's pairings only (a national body's are many)
    pairings = {c.pairing_id: c.pairing for c in plan_choices(session, actor, int(cycle_id))}
pairing_id = pick("Pairing", pairings, "plan_pairing")


# --- progress reminders (staff): for the whole cycle, so above any one pairing's plan -------
def reminders_panel(cycle_id: int) -> None:
    with st.expander("Progress reminders for this cycle", icon=":material/notifications:"):
        with unit_of_work() as session:
            due = plan_reminders(session, actor, cycle_id, date.today())
            sent = last_sent(session, actor, cycle_id)
        if sent is not None:
            show("Last sent {} by {}.", uk_datetime(sent[0]), sent[1], kind="caption")
        if not due:
            st.caption(
                f"No plan in this cycle has an action overdue or due in the next "
                f"{DUE_SOON_DAYS} days."
            )
            return
        st.caption(
            "Each pairing below gets one email to each of the two: their actions that are "
            f"overdue or due in the next {DUE_SOON_DAYS} days, and how to record progress. "
            "Nothing about anyone's feedback is in it. During a pre-election period, "
            "publicity-type actions are held back (no email about them) until after polling day."
        )
        table = {
            "Pairing": [pairing_label(r.member[0], r.officer[0]) for r in due],
            "Overdue": [len(r.overdue) for r in due],
            "Due soon": [len(r.due_soon) for r in due],
        }
        if any(r.held for r in due):  # only while a pre-election period runs
            table["Held back (pre-election period)"] = [len(r.held) for r in due]
        st.dataframe(
            pd.DataFrame(table),
            hide_index=True,
            width="stretch",
        )
        if st.button("Email these reminders", icon=":material/send:", key="plan_remind"):
            try:
                with unit_of_work() as session:
                    report = send_plan_reminders(session, actor, cycle_id)
            except TandemError as exc:
                show_error(exc)
            else:
                alert("success", report.summary("reminder"), icon="check_circle")
                for failure in report.failed:
                    st.text(f"Could not send: {failure}")


# --- the council calendar (staff): the dates plan due dates work around ------------------
def calendar_panel(council_id: int) -> None:
    with st.expander("Council calendar", icon=":material/calendar_month:"):
        try:
            with unit_of_work() as session:
                dates = list_council_dates(session, actor, council_id)
        except TandemError as exc:
            show_error(exc)
            return
        st.caption(
            "Budget council, annual council and elections. Suggested due dates avoid the "
            "week of budget and annual council, and keep publicity-type actions out of the "
            "pre-election period (by default six weeks before polling day to polling day); "
            "a working agreement's review falls four weeks after annual council."
        )
        for d in dates:
            c1, c2 = st.columns([5, 1])
            show("{}", d.describe(), into=c1)
            if c2.button("Remove", key=f"cal_remove_{d.id}") and run_action(
                "Date removed.", remove_council_date, d.id
            ):
                st.rerun()
        if not dates:
            st.caption("No key dates recorded yet.")
        with st.form("cal_add", clear_on_submit=True):
            st.markdown("**Record a key date**")
            c1, c2 = st.columns(2)
            kind = c1.selectbox("What", KINDS, format_func=council_date_label, key="cal_kind")
            on = c2.date_input("On", date.today(), format=DATE_INPUT, key="cal_on")
            label = st.text_input("Description (optional)", key="cal_label")
            custom = st.checkbox(
                "Set the pre-election period myself (elections only)", key="cal_custom"
            )
            c3, c4 = st.columns(2)
            start = c3.date_input(
                "Pre-election period from", None, format=DATE_INPUT, key="cal_from"
            )
            end = c4.date_input("to", None, format=DATE_INPUT, key="cal_to")
            if st.form_submit_button("Save the date") and run_action(
                "Date saved.",
                set_council_date,
                council_id,
                kind,
                on,
                label=label,
                period_starts_on=start if custom else None,
                period_ends_on=end if custom else None,
            ):
                st.rerun()
        first, last = default_period(date.today())
        st.caption(
            f"For polling day today the default period would run {first.day} {first:%B} to "
            f"{last.day} {last:%B %Y}."
        )


if is_staff(actor):
    reminders_panel(cycle_id)

with unit_of_work() as session:
    plan = find_plan(session, pairing_id, cycle_id)
    earlier = previous_plan(session, actor, pairing_id, cycle_id) if plan is None else None
    dims = dimension_names(session, cycle_id)

if plan is None:
    st.info("This pairing has no plan for this cycle yet.")
    cols = st.columns(2)
    if cols[0].button("Start an empty plan", type="primary") and run_action(
        "Plan started.", create_plan, pairing_id, cycle_id
    ):
        st.rerun()
    if (
        earlier is not None
        and cols[1].button(
            "Start from the earlier plan",
            help="Carries forward the unfinished actions, and says what was done and whether "
            "each goal's dimension moved between the cycles.",
        )
        and run_action("Plan carried forward.", carry_forward, earlier.id, cycle_id)
    ):
        st.rerun()
    st.stop()

plan_id = plan.id
with unit_of_work() as session:
    view = read_plan(session, actor, plan_id)
    history = plan_history(session, actor, plan_id)
    carried = carried_summary(session, actor, plan_id)
    flags = plan_flags(session, view.council_id, view.goals)
    pulsed = pulse_result(session, actor, plan_id)
opened = st.session_state.setdefault(opened_key(plan_id), view.revision)
if is_staff(actor):
    calendar_panel(view.council_id)

if conflict := st.session_state.pop(CONFLICT, None):
    alert("error", conflict, icon="sync_problem")
if opened != view.revision:
    alert(
        "warning",
        "{} has changed this plan since you opened it (what you see below is the latest). "
        "Reload before saving a change of your own.",
        view.updated_by,
        icon="sync_problem",
    )
    if st.button("Reload the plan", key="reload"):
        st.session_state[opened_key(plan_id)] = view.revision
        st.rerun()

# --- agreement --------------------------------------------------------------------------

status_word = {
    "draft": "Draft: not yet agreed by both",
    "agreed": "Agreed by both",
    "changed since agreed": "Changed since it was agreed: needs agreement again",
}[view.status]
st.subheader(status_word)
show("Revision {}, last changed by {}.", view.revision, view.updated_by, kind="caption")
sign_cols = st.columns(2)
for col, s in zip(sign_cols, view.signoffs, strict=True):
    with col:
        icon = "check_circle" if s.current else "pending"
        show(agreement_words(s), icon="how_to_reg" if s.current and s.recorded_by else icon)
        mine = is_principal(actor) and actor.person_id == s.person_id
        staff = is_staff(actor)
        if not s.current and mine:
            if st.button("I agree to this plan", key=f"sign_{s.side}") and run_action(
                "Agreement recorded.", sign_plan, plan_id, s.person_id, opened, plan_id=plan_id
            ):
                st.rerun()
        elif not s.current and staff:
            whose = "councillor" if s.side == "member" else "officer"
            with st.form(f"sign_form_{s.side}", border=False):
                # A widget's label is Markdown in the browser: the name (user text) is
                # shown as text above it, never inside the label.
                show("How did {} agree?", s.name, kind="caption")
                note = st.text_input(
                    f"How the {whose} agreed (required)",
                    key=f"sign_note_{s.side}",
                    placeholder="For example: agreed by email on 3 December",
                    help="Shown with the agreement as “recorded by you on behalf of” them, "
                    "on this page, in the workbook and on the command line.",
                )
                record = st.form_submit_button(
                    f"Record the {whose}'s agreement", key=f"sign_{s.side}"
                )
            if record and run_action(
                "Agreement recorded on their behalf.",
                sign_plan,
                plan_id,
                s.person_id,
                opened,
                note,
                plan_id=plan_id,
            ):
                st.rerun()

if carried:
    with st.expander("From the earlier plan", expanded=True):
        show_html(bullets(carried))

# --- suggestions ------------------------------------------------------------------------

with st.expander("Suggestions from the feedback", expanded=not view.goals):
    try:
        with unit_of_work() as session:
            offered = suggest(session, cycle_id, pairing_id, actor)
    except TandemError as exc:
        offered = []
        alert("info", exc)
    if not offered:
        st.caption("No suggestions to show.")
    for s in offered:
        with st.container(border=True):
            show("<b>{}</b> — {}", s.title, s.dimension_name)
            show(s.reason, kind="caption")
            show_html(
                bullets(
                    f"{a.description} ({a.owner}"
                    + (f", due {a.due_on.day} {a.due_on:%B %Y}" if a.due_on else "")
                    + (f": {a.due_why}" if a.due_why else "")
                    + ")"
                    for a in s.actions
                )
            )
            c1, c2 = st.columns(2)
            if c1.button("Add to the plan", key=f"accept_{s.dimension_code}") and run_action(
                f"Added: {s.title}. Edit or remove its actions below.",
                accept_suggestion,
                plan_id,
                s.dimension_code,
                expected_revision=opened,
                plan_id=plan_id,
            ):
                st.rerun()
            if c2.button("Not for us", key=f"dismiss_{s.dimension_code}") and run_action(
                f"Dismissed: {s.title}.",
                dismiss_suggestion,
                plan_id,
                s.dimension_code,
                expected_revision=opened,
                plan_id=plan_id,
            ):
                st.rerun()

# --- goals and actions ------------------------------------------------------------------

challenges = {"": "(none)", **CHALLENGE_LABELS}
dim_codes = list(dims)
st.subheader("Goals and actions")
if not view.goals:
    st.caption("No goals yet: add one from the suggestions or write your own below.")
for goal in view.goals:
    # A goal's title is user text, so it is a heading shown as text, not an expander label.
    with st.container(border=True):
        show("{} — {}", goal.title, goal.dimension_name, kind="h4")
        if goal.description:
            show(goal.description)
        if goal.citation:
            show("Answers peer challenge recommendation {}", goal.citation, icon="link")
        actions = goal.actions
        for number, a in enumerate(actions, 1):
            if a.id in flags:
                alert("warning", "Action {}: {}", number, flags[a.id], icon="campaign")
        if actions:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "No.": number,
                            "Action": a.description,
                            "Owner": a.owner,
                            "Due": a.due_on,
                            "Success measure": a.success_measure,
                            "Status": a.status,
                            "Pre-election period": "publicity due in it" if a.id in flags else "",
                        }
                        for number, a in enumerate(actions, 1)
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        for number, a in enumerate(actions, 1):
            # The label names the action by number (a label is Markdown); its text is inside.
            with st.popover(f"Edit action {number}", width="stretch"):
                show(a.description, kind="strong")
                with st.form(f"action_{a.id}"):
                    text = st.text_area("What will be done", a.description)
                    owner = st.selectbox("Owner", OWNERS, index=OWNERS.index(a.owner))
                    due = st.date_input(
                        "Due",
                        a.due_on,
                        format=DATE_INPUT,
                    )
                    measure = st.text_input("Success measure", a.success_measure)
                    status = st.selectbox("Status", STATUSES, index=STATUSES.index(a.status))
                    save = st.form_submit_button("Save")
                    drop = st.form_submit_button("Remove this action")
                if save:
                    ok = run_action(
                        "Action saved.",
                        update_action,
                        a.id,
                        description=text,
                        owner=owner,
                        due_on=due,
                        success_measure=measure,
                        expected_revision=opened,
                        plan_id=plan_id,
                    )
                    if ok and status != a.status:
                        ok = run_action(
                            "Action saved.",
                            set_action_status,
                            a.id,
                            status,
                            expected_revision=st.session_state[opened_key(plan_id)],
                            plan_id=plan_id,
                        )
                    if ok:
                        st.rerun()
                if drop and run_action(
                    "Action removed.",
                    remove_action,
                    a.id,
                    expected_revision=opened,
                    plan_id=plan_id,
                ):
                    st.rerun()
        with st.form(f"new_action_{goal.id}", clear_on_submit=True):
            st.markdown("**Add an action**")
            text = st.text_area("What will be done", key=f"new_text_{goal.id}")
            c1, c2 = st.columns(2)
            owner = c1.selectbox("Owner", OWNERS, index=2, key=f"new_owner_{goal.id}")
            due = c2.date_input(
                "Due",
                date.today() + timedelta(days=90),
                format=DATE_INPUT,
                key=f"new_due_{goal.id}",
            )
            measure = st.text_input("Success measure", key=f"new_measure_{goal.id}")
            if st.form_submit_button("Add action") and run_action(
                "Action added.",
                add_action,
                goal.id,
                text,
                owner,
                due_on=due,
                success_measure=measure,
                expected_revision=opened,
                plan_id=plan_id,
            ):
                st.rerun()
        with st.popover("Peer challenge recommendation"):
            with st.form(f"cite_{goal.id}"):
                ref = st.text_input(
                    "Reference",
                    goal.peer_challenge_ref,
                    placeholder="For example: CPC 2025 rec. 3",
                    key=f"cite_ref_{goal.id}",
                )
                words = st.text_area(
                    "The recommendation", goal.peer_challenge_text, key=f"cite_text_{goal.id}"
                )
                save = st.form_submit_button("Save the citation")
            if save and run_action(
                "Citation saved.",
                cite_peer_challenge,
                goal.id,
                ref,
                words,
                expected_revision=opened,
                plan_id=plan_id,
            ):
                st.rerun()
        with st.popover("Edit or remove this goal"):
            with st.form(f"goal_{goal.id}"):
                title = st.text_input("Goal", goal.title)
                description = st.text_area("Why it matters", goal.description)
                dim = st.selectbox(
                    "Dimension",
                    dim_codes,
                    index=dim_codes.index(goal.dimension) if goal.dimension in dims else 0,
                    format_func=dims.get,
                )
                challenge = st.selectbox(
                    "Council challenge",
                    list(challenges),
                    index=list(challenges).index(goal.challenge or ""),
                    format_func=challenges.get,
                )
                save = st.form_submit_button("Save goal")
                drop = st.form_submit_button("Remove this goal and its actions")
            if save and run_action(
                "Goal saved.",
                update_goal,
                goal.id,
                title=title,
                description=description,
                dimension_code=dim,
                challenge=challenge or None,
                expected_revision=opened,
                plan_id=plan_id,
            ):
                st.rerun()
            if drop and run_action(
                "Goal removed.", remove_goal, goal.id, expected_revision=opened, plan_id=plan_id
            ):
                st.rerun()

with st.form("new_goal", clear_on_submit=True):
    st.markdown("**Add a goal of your own**")
    title = st.text_input("Goal")
    dim = st.selectbox("Dimension", dim_codes, format_func=dims.get) if dim_codes else ""
    challenge = st.selectbox(
        "Council challenge (optional)", list(challenges), format_func=challenges.get
    )
    description = st.text_area("Why it matters (optional)")
    if st.form_submit_button("Add goal") and run_action(
        "Goal added.",
        add_goal,
        plan_id,
        dim,
        title,
        description,
        challenge or None,
        expected_revision=opened,
        plan_id=plan_id,
    ):
        st.rerun()

# --- the development guide: what good looks like, dimension by dimension -----------------

st.subheader("Development guide")
st.caption(
    "For each dimension: what good looks like for each of you and for the pair, practical "
    "actions, and the peer challenge elements it speaks to."
)
show_guide(development_guide(dims, view.member_name, view.officer_name), view.member_name,
           view.officer_name)  # fmt: skip

# --- check-ins --------------------------------------------------------------------------

st.subheader("Check-ins")
if pulsed is not None:
    # The 90-day pulse beside each focus goal: its published change since the full cycle.
    with st.container(border=True, key="pulse_result"):
        show(pulse_heading(pulsed), kind="h4")
        for goal in view.goals:
            show("<b>{}</b> — {}", goal.title, goal.dimension_name)
            show_html(
                bullets(pulse_lines(pulsed, goal.dimension, view.member_name, view.officer_name))
            )
if view.check_ins:
    action_text = {a.id: a.description for g in view.goals for a in g.actions}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Date": c.held_on,
                    "Action": action_text.get(c.action_id, ""),
                    "Note": c.note,
                    "Status": f"{c.status_from} → {c.status_to}" if c.status_to else "",
                    "Recorded by": c.recorded_by,
                }
                for c in reversed(view.check_ins)
            ]
        ),
        hide_index=True,
        width="stretch",
    )
all_actions = {a.id: a.description for g in view.goals for a in g.actions}
with st.form("check_in", clear_on_submit=True):
    st.markdown("**Record a check-in**")
    held = st.date_input("Held on", date.today(), format=DATE_INPUT)
    note = st.text_area("Note")
    about = st.selectbox(
        "About an action (optional)",
        [None, *all_actions],
        format_func=lambda i: "(the plan as a whole)" if i is None else all_actions[i][:90],
    )
    new_status = st.selectbox("Change its status to (optional)", [None, *STATUSES])
    if st.form_submit_button("Save check-in") and run_action(
        "Check-in saved.",
        add_check_in,
        plan_id,
        held,
        note,
        about,
        new_status,
        expected_revision=opened,
        plan_id=plan_id,
    ):
        st.rerun()

# --- history ----------------------------------------------------------------------------

with st.expander("History"):
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Revision": h.revision,
                    "When": h.changed_at,
                    "Who": h.changed_by,
                    "What": h.summary,
                    "Agreed by": ", ".join(h.signed_by),
                }
                for h in history
            ]
        ),
        hide_index=True,
        width="stretch",
    )

# --- Excel out and back in --------------------------------------------------------------

st.subheader("Excel")


def _export(pairing: int | None) -> bytes:
    with unit_of_work() as session:
        return export_plans(session, actor, cycle_id, pairing)


with unit_of_work() as session:
    name_one = export_filename(session, cycle_id, pairing_id)
    name_all = export_filename(session, cycle_id)
c1, c2 = st.columns(2)
c1.download_button(
    "Download this plan (.xlsx)",
    data=lambda: _export(pairing_id),
    file_name=name_one,
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    on_click="ignore",
    icon=":material/download:",
)
if is_staff(actor):
    c2.download_button(
        "Download every plan in this cycle (.xlsx)",
        data=lambda: _export(None),
        file_name=name_all,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        icon=":material/download:",
    )
upload = st.file_uploader(
    "Bring back an edited workbook",
    type=["xlsx"],
    help=f"The workbook downloaded here, with status, dates, check-in notes or new actions "
    f"changed. At most {MAX_BYTES // 1024 // 1024} MB.",
    key="plan_upload",
)
if upload is not None:
    data = upload.getvalue()

    def dry_run() -> ImportResult:
        with unit_of_work() as session:
            return import_plans(session, actor, data, apply=False)

    # Checked once per file, not again on every click while it sits in the uploader; again
    # only if the plan on screen has changed since (its revision), or after saving.
    scope = (actor.username, plan_id, view.revision)
    preview = checked_once(PLAN_CHECK_KEY, scope, data, dry_run)
    if not preview.ok:
        alert("error", preview.summary(), icon="error", details=preview.errors)
    elif not preview.changes:
        alert("info", preview.summary())
    else:
        show(preview.summary(), kind="strong")
        show_html(bullets(preview.changes))
    for n in preview.notes:
        show(n, kind="caption")
    if preview.ok and preview.changes and st.button("Save these changes", type="primary"):
        try:
            with unit_of_work() as session:
                result = import_plans(session, actor, data, apply=True)
        except TandemError as exc:
            show_error(exc)
        else:
            forget(PLAN_CHECK_KEY)  # the plans changed (or not): check the file afresh
            if result.ok:
                st.session_state.pop(opened_key(plan_id), None)
                flash("success", result.summary())
                st.rerun()
            alert("error", result.summary(), details=result.errors)
