"""Cycles: create and run a feedback round — dates, pairings, raters, invitations,
reminders and response tracking."""

from datetime import date, timedelta

import streamlit as st

from core.errors import Conflict, Invalid, TandemError
from core.mail import SmtpSettings
from core.vocabulary import GROUP_LABELS
from feedback.collection.invitations import (
    PLACEHOLDERS,
    issue_links,
    mail_merge_csv,
    mail_merge_rows,
    mail_merge_xlsx,
    revoke_invitation,
    send_invitations,
    send_reminders,
    update_wording,
    wording_for,
)
from feedback.results.report_ready import notify_report_ready
from feedback.setup.cycles import (
    GROUP_KIND,
    TRANSITIONS,
    add_pairing_to_cycle,
    create_cycle,
    cycle_settings,
    list_cycles,
    nominate_raters,
    nomination_warnings,
    nominations,
    pairings_in_cycle,
    set_cycle_status,
    update_cycle,
)
from feedback.setup.people import list_councils, list_pairings, list_people, pairing_label
from ui import cycle_messages
from ui.errors import show_error
from ui.notices import flash
from ui.pairing_forms import remove_from_cycle
from ui.pickers import pick, pick_council
from ui.state import current_actor, unit_of_work
from ui.text import alert, show

actor = current_actor()
STATUS_ACTIONS = {
    "open": "Open for responses",
    "closed": "Close to responses",
    "published": "Publish results",
}


def run_action(success: str, fn, *args, **kwargs) -> bool:
    """Call one domain function in its own unit of work; report the outcome."""
    try:
        with unit_of_work() as session:
            fn(session, actor, *args, **kwargs)
        flash("success", success)
        return True
    except TandemError as exc:
        show_error(exc)
        return False


def tell_principals(cycle_id: int) -> None:
    """After the publication has committed: email the principals that their report is
    ready, and say how that went (a failure never undoes the publication)."""
    try:
        with unit_of_work() as session:
            emailed = notify_report_ready(session, actor, cycle_id)
    except TandemError as exc:
        flash(
            "warning",
            "The results are published, but the principals were not emailed: {}",
            str(exc),
        )
        return
    flash("success" if emailed.ok else "warning", "{}", emailed.summary())


st.title("Cycles")
with unit_of_work() as session:
    councils = list_councils(session, actor)
if not councils:
    st.info("There are no councils you can manage yet. Add one on the People page.")
    st.stop()
council_id = pick_council(councils)

with unit_of_work() as session:
    cycles = list_cycles(session, council_id)

with (
    st.expander("Create a cycle", expanded=not cycles, icon=":material/add:"),
    st.form("new_cycle"),
):
    name = st.text_input("Name", placeholder="e.g. Annual review 2027")
    opens_on = st.date_input("Opens on", date.today())
    closes_on = st.date_input("Closes on", date.today() + timedelta(days=21))
    threshold = st.number_input(
        "Anonymity threshold",
        min_value=2,
        max_value=10,
        value=3,
        help="Councillors, officers and partners are shown as a group only when at least "
        "this many of them respond. Never below 2.",
    )
    if st.form_submit_button("Create cycle") and run_action(
        "Cycle created.", create_cycle, council_id, name, opens_on, closes_on, int(threshold)
    ):
        st.rerun()

if not cycles:
    st.stop()
cycle_id = pick("Cycle", {c.id: f"{c.name} ({c.status})" for c in cycles}, "cycle_id")
cycle = next(c for c in cycles if c.id == cycle_id)
st.caption(
    f"{cycle.opens_on:%-d %b %Y} to {cycle.closes_on:%-d %b %Y} · status **{cycle.status}** · "
    f"anonymity threshold {cycle.anonymity_threshold}"
)
for target in sorted(TRANSITIONS.get(cycle.status, set())):
    label = STATUS_ACTIONS.get(target, target)
    if cycle.status == "closed" and target == "open":
        label = "Reopen for late responses"
    if cycle.status == "published" and target == "closed":
        label = "Withdraw publication"
    if st.button(label, key=f"status_{target}") and run_action(
        f"The cycle is now {target}.", set_cycle_status, cycle.id, target
    ):
        if target == "published":
            tell_principals(cycle.id)
        st.rerun()

if cycle.status == "open" and cycle.closes_on < date.today():
    st.warning(
        f"The closing date ({cycle.closes_on:%-d %B %Y}) has passed and the cycle is still "
        "open, so links still work. Close it to read the results, or move the closing date "
        "to give people more time.",
        icon=":material/event_busy:",
    )

EDIT_FIELDS = ("name", "opens_on", "closes_on", "anonymity_threshold")


def edit_key(field: str) -> str:
    return f"cycle_edit_{cycle.id}_{field}"


def restart_edit_form() -> None:
    """The form starts again from the settings as stored (after a save or a clash)."""
    for field in (*EDIT_FIELDS, "seen"):
        st.session_state.pop(edit_key(field), None)


with st.expander("Change name, dates or threshold", icon=":material/edit_calendar:"):
    if any(edit_key(f) not in st.session_state for f in (*EDIT_FIELDS, "seen")):
        # The form starts from the settings as they are now and remembers them, so a save
        # can check that nobody changed them in the meantime.
        now_stored = cycle_settings(cycle)
        st.session_state[edit_key("seen")] = now_stored
        for field in EDIT_FIELDS:
            st.session_state[edit_key(field)] = now_stored[field]
    if clash := st.session_state.pop(edit_key("clash"), None):
        alert("error", clash, icon="sync_problem")
    draft = cycle.status == "draft"
    published = cycle.status == "published"
    with st.form(f"edit_cycle_{cycle.id}"):
        new_name = st.text_input("Name", key=edit_key("name"))
        left, right = st.columns(2)
        new_opens = left.date_input(
            "Opens on",
            key=edit_key("opens_on"),
            disabled=not draft,
            help=None if draft else "The cycle has opened; its opening date is history.",
        )
        new_closes = right.date_input(
            "Closes on",
            key=edit_key("closes_on"),
            disabled=published,
            help="Move it to give people more time. Reminders quote this date.",
        )
        new_threshold = st.number_input(
            "Anonymity threshold",
            min_value=2 if draft else cycle.anonymity_threshold,
            max_value=10,
            key=edit_key("anonymity_threshold"),
            disabled=published,
            help="Raters have been told this number once the cycle opens, so after that it "
            "can only be raised.",
        )
        if st.form_submit_button("Save changes"):
            try:
                with unit_of_work() as session:
                    update_cycle(
                        session,
                        actor,
                        cycle.id,
                        new_name,
                        new_opens,
                        new_closes,
                        int(new_threshold),
                        as_seen=st.session_state[edit_key("seen")],
                    )
            except Conflict as exc:  # changed by someone else: show theirs, say so
                restart_edit_form()
                st.session_state[edit_key("clash")] = str(exc)
                st.rerun()
            except TandemError as exc:  # the editor's values stay, to be put right
                show_error(exc)
            else:
                restart_edit_form()
                flash("success", "Cycle changed.")
                st.rerun()

raters_tab, invite_tab, track_tab = st.tabs(["Pairings and raters", "Invitations", "Tracking"])

with unit_of_work() as session:
    in_cycle = pairings_in_cycle(session, cycle.id)
    all_pairings = list_pairings(session, council_id)
    labels = {p.id: pairing_label(session, p) for p in all_pairings}
    people = {p.id: p for p in list_people(session, council_id)}
    warnings = nomination_warnings(session, cycle.id)
    nominated = {p.id: nominations(session, cycle.id, p.id) for p in in_cycle}

with raters_tab:
    missing = [p.id for p in all_pairings if p.id not in {q.id for q in in_cycle}]
    if missing:
        with st.form("add_pairings"):
            chosen = st.multiselect("Add pairings to this cycle", missing, format_func=labels.get)
            if st.form_submit_button("Add pairings") and chosen:
                try:
                    with unit_of_work() as session:
                        for pid in chosen:
                            add_pairing_to_cycle(session, actor, cycle.id, pid)
                    flash("success", "Pairings added; both principals invited.")
                    st.rerun()
                except TandemError as exc:
                    show_error(exc)
    for warning in warnings:
        alert("warning", warning, icon="warning")
    if not in_cycle:
        st.info("No pairings in this cycle yet.")
    # Pairings are named by their people and portfolio (user text), which a widget label
    # would render as Markdown: they are chosen from a list (plain text) instead.
    shown = {p.id: f"{labels[p.id]} — {len(nominated[p.id])} invited" for p in in_cycle}
    chosen_pairing = pick("Pairing", shown, "cycle_pairing") if in_cycle else None
    for pairing in (p for p in in_cycle if p.id == chosen_pairing):
        rows = nominated[pairing.id]
        with st.container(border=True):
            st.caption(
                "The councillor and the officer of the pair are invited automatically; they "
                "rate themselves, each other and the partnership."
            )
            for group in ["principal", *GROUP_KIND]:
                in_group = [r for r in rows if r.group == group]
                title = "Principals" if group == "principal" else GROUP_LABELS[group]
                live = [r for r in in_group if r.live]
                st.markdown(f"**{title}** ({len(live)})")
                for r in in_group:
                    text = r.name + (f" — {r.title}" if r.title else "")
                    show("{}", f"{text} · {r.status}", kind="caption")
                withdrawable = {r.invitation_id: r.name for r in in_group if r.withdrawable}
                if withdrawable:
                    left, right = st.columns([3, 1], vertical_alignment="bottom")
                    gone = left.selectbox(
                        f"Withdraw one of the {title.lower()}",
                        list(withdrawable),
                        format_func=withdrawable.get,
                        index=None,
                        placeholder="Choose someone to withdraw",
                        key=f"revoke_pick_{pairing.id}_{group}",
                        help="Their link stops working at once.",
                    )
                    if (
                        right.button(
                            "Withdraw", key=f"revoke_{pairing.id}_{group}", disabled=gone is None
                        )
                        and gone is not None
                        and run_action(f"{withdrawable[gone]} withdrawn.", revoke_invitation, gone)
                    ):
                        st.session_state.pop(f"revoke_pick_{pairing.id}_{group}", None)
                        st.rerun()
                if group == "principal":
                    continue
                taken = {r.person_id for r in rows}
                eligible = [
                    p.id
                    for p in people.values()
                    if p.kind == GROUP_KIND[group] and p.id not in taken
                ]
                chosen = st.multiselect(
                    f"Nominate {title.lower()}",
                    eligible,
                    format_func=lambda i: f"{people[i].full_name} — {people[i].title}".rstrip(" —"),
                    key=f"nominate_{pairing.id}_{group}",
                    disabled=cycle.status in ("closed", "published"),
                )
                if (
                    chosen
                    and st.button(
                        f"Nominate {len(chosen)}", key=f"nominate_btn_{pairing.id}_{group}"
                    )
                    and run_action(
                        f"Nominated {len(chosen)} {title.lower()}.",
                        nominate_raters,
                        cycle.id,
                        pairing.id,
                        chosen,
                        group,
                    )
                ):
                    st.session_state.pop(f"nominate_{pairing.id}_{group}", None)
                    st.rerun()
            remove_from_cycle(actor, cycle, pairing)

with invite_tab:
    try:
        smtp = SmtpSettings.from_env()
    except Invalid as exc:
        show_error(exc)
        smtp = None
    st.markdown("#### Send by email")
    if smtp is None:
        st.info(
            "Email is not set up on this server (TANDEM_SMTP_HOST and TANDEM_SMTP_SENDER). "
            "Use the mail-merge file below instead."
        )
    else:
        show(
            "Email goes out through {}:{} from {}.",
            smtp.host,
            smtp.port,
            smtp.sender,
            kind="caption",
        )
        resend = st.checkbox(
            "Send again to raters who were already emailed (gives them a new link)",
            key="resend",
        )
        left, right = st.columns(2)
        for column, kind, fn, kwargs in (
            (left, "invitations", send_invitations, {"resend": resend}),
            (right, "reminders", send_reminders, {}),
        ):
            if column.button(f"Send {kind}", key=f"send_{kind}", type="primary"):
                bar = st.progress(0.0, text=f"Preparing {kind}…")

                def progress(done: int, total: int, text: str, bar=bar) -> None:
                    # The progress label is Markdown: a count, never the rater's name.
                    bar.progress(done / total if total else 1.0, text=f"{done} of {total}")

                try:
                    with unit_of_work() as session:
                        report = fn(
                            session, actor, cycle.id, settings=smtp, progress=progress, **kwargs
                        )
                    alert("success", report.summary(kind.rstrip("s")))
                    for failure in report.failed:
                        alert("error", failure)
                except TandemError as exc:
                    show_error(exc)
        st.caption("Reminders go only to raters who have not submitted.")

    st.markdown("#### Mail merge")
    st.caption(
        "Tandem keeps only a fingerprint of each link, never the link itself, so links can "
        "be shown only when they are made. Preparing the file makes links for raters who "
        "have none yet; tick the box to replace every unsubmitted rater's link (their old "
        "link stops working; answers already saved are kept)."
    )
    reissue = st.checkbox("Make new links for everyone who has not submitted", key="reissue")
    merge_key = f"mail_merge_{cycle.id}"  # per cycle: never another cycle's links
    if st.button("Prepare mail-merge file", key="mail_merge_prepare"):
        try:
            with unit_of_work() as session:
                fresh, skipped = issue_links(session, actor, cycle.id, reissue=reissue)
                rows = mail_merge_rows(session, cycle.id, fresh)
                # Both files are made before the new links are saved: if either fails, the
                # links roll back rather than being saved where nobody can see them.
                files = (mail_merge_xlsx(rows), mail_merge_csv(rows))
            st.session_state[merge_key] = (rows, len(skipped), files)
        except TandemError as exc:
            show_error(exc)
    if merge := st.session_state.get(merge_key):
        rows, skipped, (xlsx, csv) = merge
        st.success(
            f"{len(rows)} links made."
            + (f" {skipped} raters already had a link and were left out." if skipped else "")
        )
        left, right = st.columns(2)
        left.download_button(
            "Download .xlsx",
            xlsx,
            file_name=f"tandem-links-{cycle.id}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
        )
        right.download_button(
            "Download .csv",
            csv,
            file_name=f"tandem-links-{cycle.id}.csv",
            mime="text/csv",
            icon=":material/download:",
        )

    st.markdown("#### Wording")
    wording = wording_for(cycle)
    with st.form(f"wording_{cycle.id}"):
        st.caption(
            "You can use "
            + ", ".join(f"`{{{p}}}`" for p in sorted(PLACEHOLDERS))
            + ". The text must contain `{link}`."
        )
        inv_subject = st.text_input("Invitation subject", wording.invitation_subject)
        inv_body = st.text_area("Invitation text", wording.invitation_body, height=260)
        rem_subject = st.text_input("Reminder subject", wording.reminder_subject)
        rem_body = st.text_area("Reminder text", wording.reminder_body, height=220)
        if st.form_submit_button("Save wording") and run_action(
            "Wording saved.", update_wording, cycle.id, inv_subject, inv_body, rem_subject, rem_body
        ):
            st.rerun()
    cycle_messages.preview_and_schedule(actor, cycle, smtp)

with track_tab:
    cycle_messages.tracking(actor, cycle)
