"""Pairings: one councillor and one officer who lead together."""

import streamlit as st

from core.errors import TandemError
from core.formats import DATE_COLUMN, DATE_INPUT
from core.vocabulary import GOVERNANCE_LABELS, is_top_pairing, kind_label, kinds_for
from feedback.setup.people import (
    create_pairing,
    get_council,
    list_councils,
    list_pairings,
    list_people,
    set_governance,
)
from ui.errors import show_error
from ui.notices import flash
from ui.pairing_forms import TOP_HELP, change_pairing, person_choice, unpaired_first
from ui.pickers import pick_council
from ui.state import current_actor, unit_of_work
from ui.text import alert

actor = current_actor()
st.title("Pairings")

with unit_of_work() as session:
    councils = list_councils(session, actor)
if not councils:
    st.info("There are no councils you can manage yet. Add one on the People page.")
    st.stop()
council_id = pick_council(councils)

with unit_of_work() as session:
    council = get_council(session, council_id)
    people = {p.id: p for p in list_people(session, council_id)}
    pairings = list_pairings(session, council_id)

# How the council is run decides its kinds of pairing (and what each principal is called).
with st.form(f"governance_{council_id}"):
    models = list(GOVERNANCE_LABELS)
    governance = st.selectbox(
        "How the council is run",
        models,
        index=models.index(council.governance),
        format_func=GOVERNANCE_LABELS.get,
        help="Leader and cabinet, a directly elected mayor and cabinet, or a committee system "
        "(most Scottish and all Northern Irish councils). Pairings already formed keep "
        "their kind.",
    )
    st.caption(
        "Its pairings: " + "; ".join(kind_label(k) for k in kinds_for(council.governance)) + "."
    )
    if st.form_submit_button("Save") and governance != council.governance:
        try:
            with unit_of_work() as session:
                set_governance(session, actor, council_id, governance)
            st.rerun()
        except TandemError as exc:
            show_error(exc)

if pairings:
    st.dataframe(
        [
            {
                "Kind": kind_label(p.kind),
                "Councillor": people[p.member_id].full_name,
                "Officer": people[p.officer_id].full_name,
                "Portfolio": p.portfolio,
                "Working together since": p.started_on,
                "Ended": "" if p.active else "Ended",
                "Second top pairing because": p.top_exception,
            }
            for p in pairings
        ],
        hide_index=True,
        width="stretch",
        column_config={"Working together since": st.column_config.DateColumn(format=DATE_COLUMN)},
    )
else:
    st.info("No pairings yet.")

members = [p for p in people.values() if p.kind == "member"]
officers = [p for p in people.values() if p.kind == "officer"]
st.subheader("Add a pairing")
if not members or not officers:
    st.info("A pairing needs at least one councillor and one officer: add them on People.")
    st.stop()
# A refused pairing keeps what was chosen, to correct it; an added one empties the form.
NEW_PAIRING_KEYS = ("new_member", "new_officer", "new_portfolio", "new_since", "new_exception")
with st.form("new_pairing"):
    # Once the council has its top pairing, a new one is most likely a cabinet or committee
    # pairing: that kind is chosen to start with (a second top pairing needs a reason).
    kinds = kinds_for(council.governance)
    has_top = any(p.active and is_top_pairing(p.kind) for p in pairings)
    first = next((i for i, k in enumerate(kinds) if not is_top_pairing(k)), 0) if has_top else 0
    kind = st.selectbox("Kind", kinds, index=first, format_func=kind_label)
    # Nobody is chosen for you: those not yet in a pairing are listed first.
    member_id = st.selectbox(
        "Councillor",
        unpaired_first(members, pairings),
        index=None,
        placeholder="Choose the councillor…",
        format_func=lambda i: person_choice(people[i], pairings),
        key="new_member",
    )
    officer_id = st.selectbox(
        "Officer",
        unpaired_first(officers, pairings),
        index=None,
        placeholder="Choose the officer…",
        format_func=lambda i: person_choice(people[i], pairings),
        key="new_officer",
    )
    portfolio = st.text_input(
        "Portfolio", placeholder="e.g. Adult Social Care and Health", key="new_portfolio"
    )
    started_on = st.date_input(
        "Working together since",
        value=None,
        max_value="today",
        format=DATE_INPUT,
        help="When the two began working together in these roles. A pairing under 12 months "
        "old is reported apart in the comparison with the national figures, as a new "
        "relationship is still developing by design. Leave empty if not known.",
        key="new_since",
    )
    exception = st.text_input(
        "If the council already has a top pairing: why this is a second one",
        placeholder="e.g. joint chief executive shared with another council",
        help=TOP_HELP,
        key="new_exception",
    )
    if st.form_submit_button("Add pairing"):
        if member_id is None or officer_id is None:
            alert("error", "Choose the councillor and the officer of the pairing.", icon="error")
        else:
            try:
                with unit_of_work() as session:
                    create_pairing(
                        session,
                        actor,
                        council_id,
                        kind,
                        member_id,
                        officer_id,
                        portfolio,
                        started_on,
                        top_exception=exception,
                    )
                for key in NEW_PAIRING_KEYS:
                    st.session_state.pop(key, None)
                flash("success", "Pairing added.")
                st.rerun()
            except TandemError as exc:
                show_error(exc)

if pairings:
    change_pairing(actor, council_id, council.governance, pairings, people)
