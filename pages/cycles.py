"""Cycles: create and run a feedback round — dates, pairings, raters, invitations,
reminders and response tracking.

The page acts on what it shows: every button records, in its on_click callback, the cycle
and the status the user saw; what cannot be undone asks once, naming the cycle and its
council (ui.confirm); the domain function refuses a status that has moved meanwhile. The
chosen cycle stays chosen through every action (ui.pickers), a new cycle is chosen, and
the tab shown stays shown. Each tab's body is a function."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

from core.errors import Conflict, Invalid, TandemError
from core.formats import DATE_INPUT, uk_date
from core.mail import SendReport, SmtpSettings
from core.roles import Actor
from core.settings import load_settings
from core.vocabulary import GROUP_LABELS, LANGUAGE_LABELS, CycleKind, CycleStatus
from core.vocabulary import pairing_label as vocabulary_label
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
from feedback.models import Cycle
from feedback.results.report_ready import notify_report_ready
from feedback.setup.cycles import (
    GROUP_KIND,
    TRANSITIONS,
    Nomination,
    add_pairing_to_cycle,
    create_cycle,
    cycle_settings,
    get_cycle,
    language_notices,
    list_cycles,
    nominate_raters,
    nomination_checks,
    nominations,
    opening_refusal,
    pairings_in_cycle,
    set_cycle_language,
    set_cycle_status,
    update_cycle,
)
from feedback.setup.people import list_councils, list_pairings, list_people, pairing_label
from planning.pulse import plan_pulse, start_pulse
from ui import confirm, cycle_messages
from ui.errors import show_error
from ui.notices import flash
from ui.pairing_forms import remove_from_cycle
from ui.pickers import choose, pick, pick_council
from ui.state import current_actor, unit_of_work
from ui.text import alert, show

actor = current_actor()

# The button for each move, from the status it starts at.
STATUS_BUTTONS: dict[tuple[str, str], str] = {
    (CycleStatus.draft, CycleStatus.open): "Open for responses",
    (CycleStatus.open, CycleStatus.closed): "Close to responses",
    (CycleStatus.closed, CycleStatus.open): "Reopen for late responses",
    (CycleStatus.closed, CycleStatus.published): "Publish results",
    (CycleStatus.published, CycleStatus.closed): "Withdraw publication",
}
# The question each move asks (the cycle's name and council are user text: {} and {}).
STATUS_QUESTIONS: dict[tuple[str, str], tuple[str, str]] = {
    (CycleStatus.draft, CycleStatus.open): (
        "Open <b>{}</b> ({}) for responses? Links work from now on, and raters can be "
        "sent their invitations.",
        "Yes, open it",
    ),
    (CycleStatus.open, CycleStatus.closed): (
        "Close <b>{}</b> ({}) to responses? Links stop working at once: raters who have "
        "not submitted can no longer answer.",
        "Yes, close it",
    ),
    (CycleStatus.closed, CycleStatus.open): (
        "Reopen <b>{}</b> ({}) for late responses? The links of raters who have not "
        "submitted work again until you close it.",
        "Yes, reopen it",
    ),
    (CycleStatus.closed, CycleStatus.published): (
        "Publish the results of <b>{}</b> ({})? Principals can read their reports at once, "
        "and the edition is kept for good.",
        "Yes, publish",
    ),
    (CycleStatus.published, CycleStatus.closed): (
        "Withdraw the publication of <b>{}</b> ({})? Principals can no longer read its "
        "reports until it is published again.",
        "Yes, withdraw it",
    ),
}
STATUS_DONE = {
    CycleStatus.open: "'{}' is open for responses.",
    CycleStatus.closed: "'{}' is closed to responses.",
    CycleStatus.published: "'{}' is published.",
}
CHECK_COLUMNS = {
    "pairing": "Pairing",
    "group": "Group",
    "nominated": st.column_config.TextColumn(
        "Nominated", help="Raters nominated in the group, of the anonymity threshold."
    ),
    "note": st.column_config.TextColumn("What to check", width="large"),
}
TABS = ["Pairings and raters", "Invitations", "Tracking"]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def checks_table(cycle_id: int) -> pd.DataFrame:
    """What to check in the cycle's nominations, as one table (groups under the threshold,
    then the balance of each pairing's raters)."""
    with unit_of_work() as session:
        rows = nomination_checks(session, cycle_id)
    return pd.DataFrame(
        [
            {
                "pairing": r.pairing,
                "group": r.group,
                "nominated": "" if r.nominated is None else f"{r.nominated} of {r.needed}",
                "note": r.note,
            }
            for r in rows
        ],
        columns=list(CHECK_COLUMNS),
    )


# --- the cycle's status ------------------------------------------------------------------


def move(who: Actor, cycle_id: int, seen: str, target: str, name: str) -> None:
    with unit_of_work() as session:
        set_cycle_status(session, who, cycle_id, target, expected_status=seen)
    flash("success", STATUS_DONE[target], name)
    if target == CycleStatus.published:
        tell_principals(who, cycle_id)


def tell_principals(who: Actor, cycle_id: int) -> None:
    """After the publication has committed: email the principals that their report is
    ready, and say how that went (a failure never undoes the publication)."""
    try:
        with unit_of_work() as session:
            emailed = notify_report_ready(session, who, cycle_id)
    except TandemError as exc:
        flash(
            "warning",
            "The results are published, but the principals were not emailed: {}",
            str(exc),
        )
        return
    flash("success" if emailed.ok else "warning", "{}", emailed.summary())


def ask_move(cycle_id: int, seen: str, target: str, name: str, council: str) -> None:
    """The click on a status button: ask, naming the cycle (opening: refused at once when
    nobody would be asked, with the groups under the threshold in the question)."""
    question, yes = STATUS_QUESTIONS[(seen, target)]
    table = None
    if target == CycleStatus.open and seen == CycleStatus.draft:
        try:
            with unit_of_work() as session:
                cycle = get_cycle(session, cycle_id)
                if cycle.status == seen and (refusal := opening_refusal(session, cycle)):
                    raise Invalid(refusal)
        except TandemError as exc:
            confirm.cancel("status")
            confirm.fail("status", exc)
            return
        table = checks_table(cycle_id)
    confirm.ask(
        "status",
        question,
        name,
        council,
        yes=yes,
        action=lambda who: move(who, cycle_id, seen, target, name),
        about=cycle_id,
        table=table,
        table_config=CHECK_COLUMNS,
        table_caption="Before it opens — groups under the anonymity threshold are left out "
        "of the report:",
    )


# --- a 90-day pulse -----------------------------------------------------------------------

PULSE_QUESTION = (
    "Start a 90-day pulse after <b>{}</b> ({})? It is created as a draft asking each pairing "
    "below only its plan's focus dimensions and the partnership questions, of the same "
    "raters, under the same anonymity threshold. You can change its dates and raters before "
    "you open it."
)
PULSE_COLUMNS = {
    "pairing": "Pairing",
    "focus": st.column_config.TextColumn("Focus dimensions asked", width="large"),
}


def ask_pulse(cycle_id: int, seen: str, name: str, council: str) -> None:
    """The click on "Start a 90-day pulse": refused at once when there can be none (not
    published, no plan with focus dimensions), else asked once, naming the cycle."""
    try:
        with unit_of_work() as session:
            draft = plan_pulse(session, confirm.acting(), cycle_id)
    except TandemError as exc:
        confirm.cancel("pulse")
        confirm.fail("pulse", exc)
        return
    table = pd.DataFrame(
        [{"pairing": label, "focus": ", ".join(focus)} for _p, label, focus in draft.pairings],
        columns=list(PULSE_COLUMNS),
    )
    caption = (
        f"Opens {uk_date(draft.opens_on)} and closes {uk_date(draft.closes_on)} (about 90 "
        "days after the results were published, for two weeks)."
        + (" Left out: " + " ".join(draft.skipped) if draft.skipped else "")
    )
    confirm.ask(
        "pulse",
        PULSE_QUESTION,
        name,
        council,
        yes="Yes, start the pulse",
        action=lambda who: pulse(who, cycle_id, seen),
        about=cycle_id,
        table=table,
        table_config=PULSE_COLUMNS,
        table_caption=caption,
    )


def pulse(who: Actor, cycle_id: int, seen: str) -> None:
    with unit_of_work() as session:
        made = start_pulse(session, who, cycle_id, expected_status=seen)
        made_id, made_name = made.id, made.name
    choose("cycle_id", made_id)  # the new pulse is the one shown
    confirm.cancel("status")
    flash("success", "'{}' created as a draft: check its dates and raters, then open.", made_name)


# --- creating a cycle ----------------------------------------------------------------------


def create(who: Actor, council_id: int) -> None:
    state = st.session_state
    with unit_of_work() as session:
        made = create_cycle(
            session,
            who,
            council_id,
            state["new_cycle_name"],
            state["new_cycle_opens"],
            state["new_cycle_closes"],
            int(state["new_cycle_threshold"]),
            language=state["new_cycle_language"],
        )
        made_id, made_name = made.id, made.name
    choose("cycle_id", made_id)  # the new cycle is the one shown
    confirm.cancel("status")
    state["new_cycle_name"] = ""
    flash("success", "Cycle '{}' created. Add its pairings below.", made_name)


def main() -> None:
    st.title("Cycles")
    with unit_of_work() as session:
        councils = list_councils(session, actor)
    if not councils:
        st.info("There are no councils you can manage yet. Add one on the People page.")
        st.stop()
    council_id = pick_council(councils)
    council_name = next(c.name for c in councils if c.id == council_id)

    with unit_of_work() as session:
        cycles = list_cycles(session, council_id)

    with st.expander("Create a cycle", expanded=not cycles, icon=":material/add:"):
        confirm.errors("create")
        with st.form("new_cycle"):
            st.text_input("Name", placeholder="e.g. Annual review 2027", key="new_cycle_name")
            st.date_input("Opens on", date.today(), format=DATE_INPUT, key="new_cycle_opens")
            st.date_input(
                "Closes on",
                date.today() + timedelta(days=21),
                format=DATE_INPUT,
                key="new_cycle_closes",
            )
            st.number_input(
                "Anonymity threshold",
                min_value=2,
                max_value=10,
                value=3,
                key="new_cycle_threshold",
                help="Councillors, officers and partners are shown as a group only when at "
                "least this many of them respond. Never below 2.",
            )
            st.selectbox(
                "Language raters read",
                options=list(LANGUAGE_LABELS),
                format_func=LANGUAGE_LABELS.__getitem__,
                key="new_cycle_language",
                help="The questionnaire, its emails and pages in English, in Welsh, or in both "
                "(Welsh first, with a switch to English on the page).",
            )
            st.form_submit_button(
                "Create cycle",
                on_click=confirm.act,
                args=("create", lambda who: create(who, council_id)),
            )

    if not cycles:
        st.stop()
    cycle_id = pick("Cycle", {c.id: f"{c.name} ({c.status})" for c in cycles}, "cycle_id")
    cycle = next(c for c in cycles if c.id == cycle_id)
    st.caption(
        f"{uk_date(cycle.opens_on)} to {uk_date(cycle.closes_on)} · status **{cycle.status}** "
        f"· anonymity threshold {cycle.anonymity_threshold} "
        f"· raters read {LANGUAGE_LABELS.get(cycle.language, cycle.language)}"
    )
    link_address()
    with st.container(horizontal=True):
        for target in sorted(TRANSITIONS.get(cycle.status, set())):
            st.button(
                STATUS_BUTTONS[(cycle.status, target)],
                key=f"status_{target}",
                on_click=ask_move,
                args=(stored(cycle), cycle.status, target, cycle.name, council_name),
            )
    confirm.confirmation("status", about=cycle.id)
    if cycle.kind == CycleKind.full and cycle.status == CycleStatus.published:
        st.button(
            "Start a 90-day pulse",
            key="start_pulse",
            icon=":material/monitor_heart:",
            on_click=ask_pulse,
            args=(stored(cycle), cycle.status, cycle.name, council_name),
        )
    confirm.confirmation("pulse", about=cycle.id)
    if cycle.kind == CycleKind.pulse:
        st.caption(
            "A 90-day pulse: each pairing is asked only its plan's focus dimensions and the "
            "partnership questions; its report shows change since the full cycle it follows."
        )

    if cycle.status == CycleStatus.open and cycle.closes_on < date.today():
        st.warning(
            f"The closing date ({uk_date(cycle.closes_on)}) has passed and the cycle is still "
            "open, so links still work. Close it to read the results, or move the closing "
            "date to give people more time.",
            icon=":material/event_busy:",
        )

    edit_settings(cycle)
    language_setting(cycle)

    # The tab shown is kept by its key, through every action and rerun on the page.
    raters_tab, invite_tab, track_tab = st.tabs(TABS, key="cycle_tab", on_change="rerun")
    with raters_tab:
        pairings_and_raters(cycle, council_id, council_name)
    with invite_tab:
        invitations(cycle, council_name)
    with track_tab:
        tracking(cycle)


def stored(cycle: Cycle) -> int:
    assert cycle.id is not None
    return cycle.id


def link_address() -> None:
    """The address raters' links start with (TANDEM_BASE_URL), and a warning when it is
    this computer's own, which nobody else can open."""
    base = load_settings().base_url
    show("Raters' links start with {} (TANDEM_BASE_URL).", base, kind="caption", icon="link")
    host = (urlsplit(base).hostname or "").lower()
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        alert(
            "warning",
            "Links point at this computer ({}): raters elsewhere cannot open them. Set "
            "TANDEM_BASE_URL to the address people use to reach Tandem (see the README) and "
            "restart it before sending invitations or preparing a mail merge.",
            base,
            icon="link_off",
        )


EDIT_FIELDS = ("name", "opens_on", "closes_on", "anonymity_threshold")


def edit_settings(cycle: Cycle) -> None:
    """Change name, dates or threshold (the form remembers the settings it started from, so
    a save over someone else's change is refused)."""

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
                format=DATE_INPUT,
                disabled=not draft,
                help=None if draft else "The cycle has opened; its opening date is history.",
            )
            new_closes = right.date_input(
                "Closes on",
                key=edit_key("closes_on"),
                format=DATE_INPUT,
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


def language_setting(cycle: Cycle) -> None:
    """The language raters read (Cymraeg), and what staff must know before raters read
    Welsh: text still machine-drafted or missing."""
    with unit_of_work() as session:
        notices = language_notices(session, cycle)
    for notice in notices:
        alert("warning", notice, icon="translate")
    if cycle.status in (CycleStatus.closed, CycleStatus.published):
        return
    with (
        st.expander("Language raters read", icon=":material/translate:"),
        st.form(f"language_{cycle.id}", border=False),
    ):
        chosen = st.selectbox(
            "Language",
            options=list(LANGUAGE_LABELS),
            index=list(LANGUAGE_LABELS).index(cycle.language),
            format_func=LANGUAGE_LABELS.__getitem__,
            help="Welsh councils offer Welsh on equal terms (Welsh Language Standards). In "
            "both, the questionnaire opens in Welsh with a switch to English, and emails "
            "carry the Welsh first, then the English.",
        )
        if st.form_submit_button("Save language"):
            try:
                with unit_of_work() as session:
                    set_cycle_language(session, actor, stored(cycle), chosen)
            except TandemError as exc:
                show_error(exc)
            else:
                flash(
                    "success",
                    "Raters of '{}' now read {}.",
                    cycle.name,
                    LANGUAGE_LABELS[chosen],
                )
                st.rerun()


# --- the tabs: one function each ---------------------------------------------------------


def pairings_and_raters(cycle: Cycle, council_id: int, council_name: str) -> None:
    """The pairings of the cycle, who rates each (status only, never answers), nominating
    and withdrawing raters, and one table of what to check."""
    cid = stored(cycle)
    with unit_of_work() as session:
        in_cycle = pairings_in_cycle(session, cid)
        all_pairings = list_pairings(session, council_id)
        people = {p.id: p for p in list_people(session, council_id)}
        # Named from the council's people already read (one query, not two per pairing).
        labels = {
            p.id: vocabulary_label(
                people[p.member_id].full_name, people[p.officer_id].full_name, p.portfolio
            )
            if p.member_id in people and p.officer_id in people
            else pairing_label(session, p)
            for p in all_pairings
        }
        nominated = {p.id: nominations(session, cid, p.id) for p in in_cycle}
    closed = cycle.status in (CycleStatus.closed, CycleStatus.published)

    missing = [p.id for p in all_pairings if p.id not in {q.id for q in in_cycle}]
    if missing and not closed:
        confirm.errors(f"add_pairings_{cid}")
        # The form belongs to this cycle (its key names it), so a choice made for another
        # cycle is never added to this one.
        with st.form(f"add_pairings_{cid}", clear_on_submit=False):
            st.multiselect(
                "Add pairings to this cycle",
                missing,
                format_func=labels.get,
                key=f"add_pairings_pick_{cid}",
            )
            st.form_submit_button(
                "Add pairings",
                on_click=confirm.act,
                args=(f"add_pairings_{cid}", lambda who: add_pairings(who, cid)),
            )

    checks = checks_table(cid)
    if not checks.empty:
        st.markdown("#### What to check")
        st.dataframe(checks, hide_index=True, width="stretch", column_config=CHECK_COLUMNS)
    if not in_cycle:
        st.info("No pairings in this cycle yet.")
        return
    # Pairings are named by their people and portfolio (user text), which a widget label
    # would render as Markdown: they are chosen from a list (plain text) instead.
    shown = {
        p.id: f"{labels[p.id]} — {sum(r.live for r in nominated[p.id])} invited" for p in in_cycle
    }
    chosen_pairing = pick("Pairing", shown, "cycle_pairing")
    pairing = next(p for p in in_cycle if p.id == chosen_pairing)
    assert pairing.id is not None
    pid = pairing.id
    rows = nominated[pid]
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
            slot = f"withdraw_{cid}_{pid}_{group}"
            withdrawable = {r.invitation_id: r for r in in_group if r.withdrawable}
            if withdrawable and not closed:
                withdraw_picker(cycle, council_name, labels[pid], slot, withdrawable, title)
            confirm.confirmation(slot, about=cid)
            if group == "principal":
                continue
            taken = {r.person_id for r in rows if r.live}
            eligible = [
                p.id for p in people.values() if p.kind == GROUP_KIND[group] and p.id not in taken
            ]
            nominate_form(cid, pid, group, title, eligible, people, closed)
        remove_from_cycle(actor, cycle, pairing)


def add_pairings(who: Actor, cycle_id: int) -> None:
    key = f"add_pairings_pick_{cycle_id}"
    chosen = list(st.session_state.get(key) or [])
    if not chosen:
        raise Invalid("Choose one or more pairings to add first.")
    with unit_of_work() as session:
        for pid in chosen:
            add_pairing_to_cycle(session, who, cycle_id, pid)
    st.session_state[key] = []
    flash("success", f"{len(chosen)} pairing(s) added; both principals of each are invited.")


def withdraw_picker(
    cycle: Cycle,
    council_name: str,
    pairing: str,
    slot: str,
    withdrawable: dict[int, Nomination],
    title: str,
) -> None:
    """Choose a rater of the group and withdraw them, after one question naming them."""
    pick_key = f"{slot}_pick"
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox(
            f"Withdraw one of the {title.lower()}",
            list(withdrawable),
            format_func=lambda i: withdrawable[i].name if i in withdrawable else str(i),
            index=None,
            placeholder="Choose someone to withdraw",
            key=pick_key,
            help="Their link stops working at once; answers they saved are kept.",
        )
        st.button(
            "Withdraw",
            key=f"{slot}_button",
            type="secondary",
            icon=":material/person_remove:",
            on_click=ask_withdraw,
            args=(
                stored(cycle),
                cycle.name,
                council_name,
                pairing,
                slot,
                {i: (r.name, r.status) for i, r in withdrawable.items()},
            ),
        )


def ask_withdraw(
    cycle_id: int,
    cycle_name: str,
    council_name: str,
    pairing: str,
    slot: str,
    seen: dict[int, tuple[str, str]],
) -> None:
    chosen = st.session_state.get(f"{slot}_pick")
    if chosen not in seen:
        confirm.fail(slot, Invalid("Choose the rater to withdraw first."))
        return
    name, status = seen[chosen]

    def withdraw(who: Actor) -> None:
        with unit_of_work() as session:
            revoke_invitation(session, who, chosen, expected_status=status)
        st.session_state[f"{slot}_pick"] = None
        flash("success", "{} withdrawn; their link no longer works.", name)

    confirm.ask(
        slot,
        "Withdraw <b>{}</b> from rating {} in <b>{}</b> ({})? Their link stops working at "
        "once; answers they saved are kept.",
        name,
        pairing,
        cycle_name,
        council_name,
        yes="Yes, withdraw them",
        action=withdraw,
        about=cycle_id,
    )


def nominate_form(
    cycle_id: int,
    pairing_id: int,
    group: str,
    title: str,
    eligible: list[int],
    people: dict,
    closed: bool,
) -> None:
    """Pick any number of people, then nominate them at once: the list stays open while
    you pick (a form: no rerun per pick) and is emptied once they are nominated."""
    key = f"nominate_{pairing_id}_{group}"
    slot = f"{key}_form"
    confirm.errors(slot)
    with st.form(slot, border=False):
        st.multiselect(
            f"Nominate {title.lower()}",
            eligible,
            format_func=lambda i: (
                f"{people[i].full_name} — {people[i].title}".rstrip(" —") if i in people else str(i)
            ),
            key=key,
            disabled=closed,
            placeholder="Choose people to nominate",
        )
        st.form_submit_button(
            "Nominate",
            icon=":material/person_add:",
            disabled=closed,
            on_click=confirm.act,
            args=(slot, lambda who: nominate(who, cycle_id, pairing_id, group, title, key)),
        )


def nominate(who: Actor, cycle_id: int, pairing_id: int, group: str, title: str, key: str) -> None:
    chosen = list(st.session_state.get(key) or [])
    if not chosen:
        raise Invalid(f"Choose the {title.lower()} to nominate first.")
    with unit_of_work() as session:
        nominate_raters(session, who, cycle_id, pairing_id, chosen, group)
    st.session_state[key] = []  # nominated: the picker starts empty again
    flash("success", f"Nominated {len(chosen)} {title.lower()}.")


def invitations(cycle: Cycle, council_name: str) -> None:
    """Sending invitations and reminders, the mail-merge file, and the wording."""
    cid = stored(cycle)
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

        def send(kind: str, fn: Callable[..., SendReport], **kwargs: Any) -> None:
            bar = st.progress(0.0, text=f"Preparing {kind}…")

            def progress(done: int, total: int, text: str) -> None:
                # The progress label is Markdown: a count, never the rater's name.
                bar.progress(done / total if total else 1.0, text=f"{done} of {total}")

            try:
                with unit_of_work() as session:
                    report = fn(session, actor, cid, settings=smtp, progress=progress, **kwargs)
                alert("success", report.summary(kind.rstrip("s")))
                for failure in report.failed:
                    alert("error", failure)
            except TandemError as exc:
                show_error(exc)

        left, right = st.columns(2)
        sending = left.button(
            "Send invitations", key="send_invitations", type="primary",
            on_click=ask_resend, args=(cid, cycle.name, council_name),
        )  # fmt: skip
        if sending and not resend:
            send("invitations", send_invitations, resend=False)
        if st.session_state.pop(f"resend_agreed_{cid}", False):  # "Yes" to the question
            send("invitations", send_invitations, resend=True)
        if right.button("Send reminders", key="send_reminders", type="primary"):
            send("reminders", send_reminders)
        confirm.confirmation(f"resend_{cid}", about=cid)
        st.caption("Reminders go only to raters who have not submitted.")

    mail_merge(cycle, council_name)

    st.markdown("#### Wording")
    wording = wording_for(cycle)
    with st.form(f"wording_{cid}"):
        st.caption(
            "You can use "
            + ", ".join(f"`{{{p}}}`" for p in sorted(PLACEHOLDERS))
            + ". The text must contain `{link}`."
        )
        inv_subject = st.text_input("Invitation subject", wording.invitation_subject)
        inv_body = st.text_area("Invitation text", wording.invitation_body, height=260)
        rem_subject = st.text_input("Reminder subject", wording.reminder_subject)
        rem_body = st.text_area("Reminder text", wording.reminder_body, height=220)
        if st.form_submit_button("Save wording"):
            try:
                with unit_of_work() as session:
                    update_wording(
                        session, actor, cid, inv_subject, inv_body, rem_subject, rem_body
                    )
            except TandemError as exc:
                show_error(exc)
            else:
                flash("success", "Wording saved.")
                st.rerun()
    cycle_messages.preview_and_schedule(actor, cycle, smtp)


def ask_resend(cycle_id: int, name: str, council_name: str) -> None:
    """With "send again" ticked, new links kill the ones already sent: ask first, naming the
    cycle. "Yes" lets the next run send, with its progress bar."""
    if not st.session_state.get("resend"):
        return

    def agreed(_who: Actor) -> None:  # confirm re-checked who is signed in
        st.session_state[f"resend_agreed_{cycle_id}"] = True

    confirm.ask(
        f"resend_{cycle_id}",
        "Send the invitation again, with a new link, to everyone in <b>{}</b> ({}) who was "
        "already emailed and has not submitted? The links they already have stop working at "
        "once; answers they saved are kept.",
        name,
        council_name,
        yes="Yes, send again with new links",
        action=agreed,
        about=cycle_id,
    )


def mail_merge(cycle: Cycle, council_name: str) -> None:
    """Links for a mail merge: made for the cycle shown (and, replacing live links, only
    after one question naming it)."""
    cid = stored(cycle)
    st.markdown("#### Mail merge")
    st.caption(
        "Tandem keeps only a fingerprint of each link, never the link itself, so links can "
        "be shown only when they are made. Preparing the file makes links for raters who "
        "have none yet; tick the box to replace every unsubmitted rater's link (their old "
        "link stops working; answers already saved are kept)."
    )
    st.checkbox("Make new links for everyone who has not submitted", key=f"reissue_{cid}")
    st.button(
        "Prepare mail-merge file",
        key="mail_merge_prepare",
        on_click=ask_mail_merge,
        args=(cid, cycle.status, cycle.name, council_name),
    )
    confirm.confirmation(f"mail_merge_{cid}", about=cid)
    if merge := st.session_state.get(f"mail_merge_{cid}"):  # per cycle: never another's
        rows, skipped, (xlsx, csv) = merge
        st.success(
            f"{len(rows)} links made."
            + (f" {skipped} raters already had a link and were left out." if skipped else "")
        )
        left, right = st.columns(2)
        left.download_button(
            "Download .xlsx",
            xlsx,
            file_name=f"tandem-links-{cid}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
        )
        right.download_button(
            "Download .csv",
            csv,
            file_name=f"tandem-links-{cid}.csv",
            mime="text/csv",
            icon=":material/download:",
        )


def ask_mail_merge(cycle_id: int, seen: str, name: str, council_name: str) -> None:
    reissue = bool(st.session_state.get(f"reissue_{cycle_id}"))
    slot = f"mail_merge_{cycle_id}"

    def prepare(who: Actor) -> None:
        with unit_of_work() as session:
            fresh, skipped = issue_links(
                session, who, cycle_id, reissue=reissue, expected_status=seen
            )
            rows = mail_merge_rows(session, cycle_id, fresh)
            # Both files are made before the new links are saved: if either fails, the
            # links roll back rather than being saved where nobody can see them.
            files = (mail_merge_xlsx(rows), mail_merge_csv(rows))
        st.session_state[slot] = (rows, len(skipped), files)
        st.session_state[f"reissue_{cycle_id}"] = False

    st.session_state.pop(slot, None)  # the file shown is the one made by this click
    if not reissue or seen in (CycleStatus.closed, CycleStatus.published):
        # Nothing to ask: no link is replaced (or, closed, the domain refuses at once).
        confirm.cancel(slot)
        confirm.act(slot, prepare)
        return
    confirm.ask(
        slot,
        "Make new links for everyone in <b>{}</b> ({}) who has not submitted? Their old links "
        "stop working at once, including links already sent; answers they saved are kept.",
        name,
        council_name,
        yes="Yes, make new links",
        action=prepare,
        about=cycle_id,
    )


def tracking(cycle: Cycle) -> None:
    """Each rater's stage (invited, emailed, exported, opened, started, submitted), response
    rates with their n, and the messages sent (never answers): ui.cycle_messages."""
    cycle_messages.tracking(actor, cycle)


main()
