"""The Cycles page's messages to raters: the email preview and a test send to oneself, the
built-in reminder schedule (Invitations tab), and response tracking in stages (Tracking tab).
pages/cycles.py calls `preview_and_schedule` and `tracking`; each action calls one domain
function (feedback.collection.invitations, reminder_schedule, tracking)."""

from __future__ import annotations

import streamlit as st

from core.errors import TandemError
from core.mail import SmtpSettings
from core.roles import Actor
from feedback.collection.invitations import message_preview, own_address, send_test_message
from feedback.collection.reminder_schedule import (
    check_interval_words,
    days_text,
    planned_reminders,
    schedule_of,
    set_schedule,
)
from feedback.collection.tracking import (
    message_history,
    rater_stages,
    rates_in_words,
    response_rates,
    totals_in_words,
    totals_of,
    tracking_csv,
    tracking_xlsx,
)
from feedback.models import Cycle
from ui.errors import show_error
from ui.notices import flash
from ui.state import unit_of_work
from ui.text import alert, show

KINDS = {"invitation": "The invitation", "reminder": "The reminder"}


def preview_and_schedule(actor: Actor, cycle: Cycle, smtp: SmtpSettings | None) -> None:
    """The Invitations tab's preview, test send and reminder schedule."""
    assert cycle.id is not None
    _preview(actor, cycle, smtp)
    _schedule(actor, cycle, smtp)


def _preview(actor: Actor, cycle: Cycle, smtp: SmtpSettings | None) -> None:
    st.markdown("#### Preview and test")
    kind = st.radio(
        "Message",
        list(KINDS),
        format_func=KINDS.__getitem__,
        horizontal=True,
        key=f"preview_kind_{cycle.id}",
    )
    try:
        with unit_of_work() as session:
            preview = message_preview(session, actor, cycle.id or 0, kind)
            try:
                mine: str | None = own_address(session, actor)
            except TandemError:
                mine = None
    except TandemError as exc:
        show_error(exc)
        return
    show(
        "As {} would get it, with the saved wording. The link is a sample: it opens nothing, "
        "and nobody's own link is changed.",
        preview.sample_name,
        kind="caption",
    )
    with st.container(border=True):
        show("Subject: {}", preview.subject, kind="strong")
        show("{}", preview.body)
    if smtp is None:
        st.caption("Email is not set up on this server, so a test cannot be sent.")
        return
    if mine is None:
        st.caption(
            "A test goes to your own account's email address, and yours has none: ask an "
            "administrator to add it on the Users page."
        )
        return
    if st.button("Send me a test", key=f"test_send_{cycle.id}", icon=":material/forward_to_inbox:"):
        try:
            with unit_of_work() as session:
                address = send_test_message(session, actor, cycle.id or 0, kind, settings=smtp)
            alert("success", "A test {} was sent to {}.", kind, address)
        except TandemError as exc:
            show_error(exc)
    show("A test goes only to your own address ({}).", mine, kind="caption")


def _schedule(actor: Actor, cycle: Cycle, smtp: SmtpSettings | None) -> None:
    st.markdown("#### Reminder schedule")
    st.caption(
        "On each of these days before closing, raters who have not submitted are emailed "
        "the reminder with a fresh link. Each goes once, however many servers run Tandem. "
        + check_interval_words()
    )
    if smtp is None:
        st.caption("Email is not set up on this server, so scheduled reminders wait until it is.")
    with st.form(f"reminder_days_{cycle.id}"):
        days = st.text_input(
            "Days before closing",
            days_text(schedule_of(cycle)),
            placeholder="e.g. 7, 2 (empty: no scheduled reminders)",
            disabled=cycle.status == "published",
        )
        if st.form_submit_button("Save schedule"):
            try:
                with unit_of_work() as session:
                    chosen = set_schedule(session, actor, cycle.id or 0, days)
                flash(
                    "success",
                    "Reminder schedule saved: {}.",
                    ", ".join(map(str, chosen)) + " days before closing" if chosen else "none",
                )
                st.rerun()
            except TandemError as exc:
                show_error(exc)
    with unit_of_work() as session:
        planned = planned_reminders(session, actor, cycle.id or 0)
    for p in planned:
        show("{}", p.line, kind="caption")


def tracking(actor: Actor, cycle: Cycle) -> None:
    """The Tracking tab: each stage in words with its share of those invited, by pairing and
    group; every rater's stage; the messages sent. Never what anyone answered."""
    assert cycle.id is not None
    with unit_of_work() as session:
        rates = response_rates(session, actor, cycle.id)
        totals = totals_of(rates)  # the same counts, not read again
        raters = rater_stages(session, actor, cycle.id)
        history = message_history(session, actor, cycle.id)
    stages = totals_in_words(totals)
    for row in (stages[:3], stages[3:]):  # three a row: "100% (11 of 11)" needs the width
        for column, (label, value) in zip(st.columns(3), row, strict=True):
            column.metric(label, value)
    st.caption(
        "Exported for mail merge: the link went into a file for your own mail, so Tandem "
        "cannot say it arrived. Opened: the rater opened their link. Started: a draft is saved."
    )
    st.markdown("#### Response rate by pairing and group")
    shown = rates_in_words(rates, cycle.anonymity_threshold)
    st.dataframe(shown, hide_index=True, width="stretch")
    below = int(rates["below_threshold"].sum()) if not rates.empty else 0
    if below:
        st.caption(
            f"{below} anonymous group(s) have fewer than {cycle.anonymity_threshold} "
            "responses so far and would be left out of the report."
        )
    waiting = raters[raters["Stage"] != "submitted"]
    st.markdown(f"#### Raters ({len(raters)}; {len(waiting)} not yet submitted)")
    st.caption("How far each rater has got — never what anyone answered.")
    only_waiting = st.toggle("Only those who have not submitted", key=f"waiting_{cycle.id}")
    st.dataframe(waiting if only_waiting else raters, hide_index=True, width="stretch")
    left, right = st.columns(2)
    # The files are made when a button is pressed, not on every click of the page.
    left.download_button(
        "Download raters (.xlsx)",
        lambda: tracking_xlsx(raters),
        file_name=f"tandem-tracking-{cycle.id}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        key=f"tracking_xlsx_{cycle.id}",
        on_click="ignore",
    )
    right.download_button(
        "Download raters (.csv)",
        lambda: tracking_csv(raters),
        file_name=f"tandem-tracking-{cycle.id}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"tracking_csv_{cycle.id}",
        on_click="ignore",
    )
    st.markdown("#### Invitations and reminders sent")
    st.dataframe(history, hide_index=True, width="stretch")
