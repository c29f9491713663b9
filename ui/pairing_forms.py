"""Correcting set-up: the Pairings page's "Change, end or remove a pairing" and the Cycles
page's "Remove from this cycle" (issue 17). Each calls one domain function
(feedback.setup.pairings) and shows a refusal in its own words; removal asks once, naming
what it removes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import streamlit as st

from core.errors import TandemError
from core.formats import DATE_INPUT
from core.roles import Actor
from core.vocabulary import kind_label, kinds_for
from feedback.models import Cycle, Pairing, Person
from feedback.setup.pairings import (
    edit_pairing,
    end_pairing,
    remove_pairing,
    remove_pairing_from_cycle,
)
from feedback.setup.people import pairing_label
from ui.errors import show_error
from ui.notices import flash
from ui.pickers import pick
from ui.state import unit_of_work
from ui.text import alert

TOP_HELP = (
    "A council has one top pairing (leader, elected mayor or convener with the chief "
    "executive): the one the national comparison describes. A second is accepted only with "
    "a reason, which is kept with it and shown in the list. If the leader or the chief "
    "executive has changed, end the old pairing instead."
)


def paired_ids(pairings: Iterable[Pairing]) -> set[int]:
    """People in a pairing that has not ended."""
    return {i for p in pairings if p.active for i in (p.member_id, p.officer_id)}


def unpaired_first(people: Sequence[Person], pairings: Iterable[Pairing]) -> list[int]:
    """The ids of `people`, those in no running pairing first (each part by name)."""
    taken = paired_ids(pairings)
    return [p.id for p in people if p.id not in taken and p.id is not None] + [
        p.id for p in people if p.id in taken and p.id is not None
    ]


def person_choice(person: Person, pairings: Iterable[Pairing]) -> str:
    """A person as a choice in the pairing form (plain text): name, title, and whether they
    are already in a pairing."""
    text = f"{person.full_name} — {person.title}".rstrip(" —")
    return text + (" · already in a pairing" if person.id in paired_ids(pairings) else "")


def ask_once(key: str, question: str, *args: object, yes: str) -> bool:
    """A button that asks once: the first click shows `question` (user text in `args`,
    shown as text) with "yes" and "Cancel"; True when the question was answered yes."""
    asking = f"{key}__asking"
    if not st.session_state.get(asking):
        if st.button(f"{yes}…", key=key):
            st.session_state[asking] = True
            st.rerun()
        return False
    alert("warning", question, *args, icon="help")
    left, right = st.columns(2)
    if right.button("Cancel", key=f"{key}__cancel"):
        st.session_state.pop(asking, None)
        st.rerun()
    if left.button(yes, key=f"{key}__yes", type="primary"):
        st.session_state.pop(asking, None)
        return True
    return False


def change_pairing(
    actor: Actor,
    council_id: int,
    governance: str,
    pairings: Sequence[Pairing],
    people: Mapping[int | None, Person],
) -> None:
    """Pick one of the council's pairings; correct it, end it (or take it up again) or
    remove it."""
    st.subheader("Change, end or remove a pairing")
    labels = {
        int(p.id or 0): vocabulary_label(p, people) + ("" if p.active else " (ended)")
        for p in pairings
    }
    chosen = pick("Pairing", labels, "pairing_to_change")
    pairing = next(p for p in pairings if p.id == chosen)
    members = [p for p in people.values() if p.kind == "member"]
    officers = [p for p in people.values() if p.kind == "officer"]
    kinds = kinds_for(governance)
    if pairing.kind not in kinds:  # formed before the council changed how it is run
        kinds = [pairing.kind, *kinds]
    with st.form(f"edit_pairing_{chosen}"):
        kind = st.selectbox("Kind", kinds, index=kinds.index(pairing.kind), format_func=kind_label)
        member_ids = [int(m.id or 0) for m in members]
        officer_ids = [int(o.id or 0) for o in officers]
        member_id = st.selectbox(
            "Councillor",
            member_ids,
            index=member_ids.index(pairing.member_id),
            format_func=lambda i: person_choice(people[i], ()),
        )
        officer_id = st.selectbox(
            "Officer",
            officer_ids,
            index=officer_ids.index(pairing.officer_id),
            format_func=lambda i: person_choice(people[i], ()),
        )
        portfolio = st.text_input("Portfolio", pairing.portfolio)
        started_on = st.date_input(
            "Working together since",
            value=pairing.started_on,
            max_value="today",
            format=DATE_INPUT,
        )
        exception = st.text_input(
            "If the council has another top pairing: why this is a second one",
            pairing.top_exception,
            help=TOP_HELP,
        )
        st.caption(
            "Its kind and its two people are fixed once a cycle holds answers for it (end it "
            "and form a new pairing instead); its portfolio and start date can always be "
            "corrected."
        )
        if st.form_submit_button("Save changes"):
            try:
                with unit_of_work() as session:
                    edit_pairing(
                        session,
                        actor,
                        chosen,
                        kind=kind,
                        member_id=member_id,
                        officer_id=officer_id,
                        portfolio=portfolio,
                        started_on=started_on,
                        top_exception=exception,
                    )
            except TandemError as exc:
                show_error(exc)
            else:
                flash("success", "Pairing saved.")
                st.rerun()
    left, right = st.columns(2)
    with left:
        end_label = "End this pairing" if pairing.active else "Take this pairing up again"
        if st.button(
            end_label,
            key=f"end_pairing_{chosen}",
            help="An ended pairing keeps its cycles, answers, reports and plans, but joins "
            "no new cycle and is no longer the council's top pairing.",
        ):
            try:
                with unit_of_work() as session:
                    end_pairing(session, actor, chosen, ended=pairing.active)
            except TandemError as exc:
                show_error(exc)
            else:
                flash(
                    "success",
                    "{} " + ("has ended." if pairing.active else "is taken up again."),
                    labels[chosen],
                )
                st.rerun()
    with right:
        if ask_once(
            f"remove_pairing_{chosen}",
            "Remove the pairing {}? This cannot be undone.",
            labels[chosen],
            yes="Remove this pairing",
        ):
            try:
                with unit_of_work() as session:
                    removed = remove_pairing(session, actor, chosen)
            except TandemError as exc:
                show_error(exc)
            else:
                st.session_state.pop("pairing_to_change", None)
                st.session_state.pop("pairing_to_change__chosen", None)
                flash("success", "Removed the pairing {}.", removed)
                st.rerun()


def vocabulary_label(pairing: Pairing, people: Mapping[int | None, Person]) -> str:
    """The pairing's label (core.vocabulary) from people already read."""
    from core.vocabulary import pairing_label as label

    return label(
        people[pairing.member_id].full_name, people[pairing.officer_id].full_name, pairing.portfolio
    )


def remove_from_cycle(actor: Actor, cycle: Cycle, pairing: Pairing) -> None:
    """The Cycles page's "Remove from this cycle" for one pairing (draft and open cycles):
    asks once, naming the pairing and the cycle; a refusal (answers already given) is shown
    in words."""
    if cycle.status not in ("draft", "open") or cycle.id is None or pairing.id is None:
        return
    with unit_of_work() as session:
        label = pairing_label(session, pairing)
    if ask_once(
        f"remove_from_cycle_{cycle.id}_{pairing.id}",
        "Take {} out of {}? Its invitations in this cycle go with it and their links stop working.",
        label,
        cycle.name,
        yes="Remove from this cycle",
    ):
        try:
            with unit_of_work() as session:
                remove_pairing_from_cycle(session, actor, cycle.id, pairing.id)
        except TandemError as exc:
            show_error(exc)
        else:
            flash("success", "{} is no longer in {}.", label, cycle.name)
            st.rerun()
