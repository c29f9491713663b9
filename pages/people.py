"""People: the councils a facilitator looks after and the people in them (add, edit,
bulk import from .xlsx or .csv, checked in full before anything is saved)."""

import pandas as pd
import streamlit as st

from core.errors import TandemError
from core.roles import is_admin
from core.vocabulary import GOVERNANCE_LABELS, SIDE_LABELS, SPECIAL_ROLE_HOLDER, SPECIAL_ROLE_LABELS
from feedback.setup.people import (
    NATIONS,
    add_person,
    create_council,
    list_councils,
    list_people,
    remove_person,
    set_person_kind,
)
from feedback.setup.people_import import (
    MAX_BYTES,
    ImportResult,
    import_people,
    template_csv,
    template_xlsx,
    update_person,
)
from ui.errors import show_error
from ui.notices import flash
from ui.pairing_forms import ask_once
from ui.pickers import choose, pick_council
from ui.state import current_actor, unit_of_work
from ui.text import alert, show
from ui.uploads import checked_once, forget, keep

actor = current_actor()
KIND_LABELS = {"member": "Councillor", "officer": "Officer", "external": "External partner"}
CHECK_KEY = "people_upload_check"
ROLE_HELP = (
    "Who should rate the leader (or mayor, or convener) and chief executive: Tandem warns at "
    "nomination if the monitoring officer, the chief finance officer or a scrutiny chair is "
    "missing."
)


def standing_inputs(kind: str | None, person=None) -> tuple[str, str, str]:
    """Political group and side (councillors) and special role; kind None: the add form,
    where the kind is chosen in the same form, so every field is offered."""
    group = side = ""
    if kind in (None, "member"):
        group = st.text_input(
            "Political group (councillors)",
            person.political_group if person else "",
            placeholder="e.g. Labour, Independent",
        )
        sides = list(SIDE_LABELS)
        side = st.selectbox(
            "Administration or opposition (councillors)",
            sides,
            index=sides.index(person.political_side) if person else 0,
            format_func=SIDE_LABELS.get,
            help="Tandem warns at nomination when the other councillors rating a pairing are "
            "all from one side.",
        )
    roles = [
        r for r in SPECIAL_ROLE_LABELS if not r or kind is None or SPECIAL_ROLE_HOLDER[r] == kind
    ]
    role = st.selectbox(
        "Statutory or special role",
        roles,
        index=roles.index(person.special_role) if person and person.special_role in roles else 0,
        format_func=SPECIAL_ROLE_LABELS.get,
        help=ROLE_HELP,
    )
    return group, side, role


def change_kind_or_remove(person) -> None:
    """Record the person as another kind, or remove them: each refused in words while
    something depends on them (ui.pairing_forms.ask_once asks before removal)."""
    left, right = st.columns(2, vertical_alignment="bottom")
    kinds = list(KIND_LABELS)
    new_kind = left.selectbox(
        "Kind",
        kinds,
        index=kinds.index(person.kind),
        format_func=KIND_LABELS.get,
        key=f"kind_{person.id}",
    )
    if right.button("Change kind", key=f"set_kind_{person.id}", disabled=new_kind == person.kind):
        try:
            with unit_of_work() as session:
                cleared = set_person_kind(session, actor, person.id, new_kind)
        except TandemError as exc:
            show_error(exc)
        else:
            note = (" Cleared, as it does not fit: " + "; ".join(cleared) + ".") if cleared else ""
            flash("success", "{} is now recorded as " + KIND_LABELS[new_kind].lower() + ".{}",
                  person.full_name, note)  # fmt: skip
            st.rerun()
    if ask_once(
        f"remove_person_{person.id}",
        "Remove {} ({}) from this council's people? This cannot be undone.",
        person.full_name,
        person.email,
        yes="Remove this person",
    ):
        try:
            with unit_of_work() as session:
                name = remove_person(session, actor, person.id)
        except TandemError as exc:
            show_error(exc)
        else:
            st.session_state.pop("edit_person", None)
            flash("success", "Removed {}.", name)
            st.rerun()


st.title("People")

with unit_of_work() as session:
    councils = list_councils(session, actor)

if is_admin(actor):
    with (
        st.expander("Add a council", expanded=not councils, icon=":material/add:"),
        st.form("new_council", clear_on_submit=True),
    ):
        name = st.text_input("Council name", placeholder="e.g. Kingsmere Borough Council")
        nation = st.selectbox("Nation", NATIONS)
        governance = st.selectbox(
            "How it is run",
            ["", *GOVERNANCE_LABELS],
            format_func=lambda g: (
                GOVERNANCE_LABELS.get(g)
                or "As usual for the nation (committee system in Scotland and Northern Ireland, "
                "leader and cabinet elsewhere)"
            ),
            help="Decides the kinds of pairing: leader, elected mayor or convener with the "
            "chief executive; cabinet member or committee chair with a director.",
        )
        if st.form_submit_button("Add council"):
            try:
                with unit_of_work() as session:
                    council = create_council(
                        session, actor, name, nation, governance=governance or None
                    )
                choose("council_id", council.id)
                flash("success", "Added {}.", council.name)
                st.rerun()
            except TandemError as exc:
                show_error(exc)

if not councils:
    st.info("There are no councils you can manage yet.")
    st.stop()

council_id = pick_council(councils)

with unit_of_work() as session:
    people = list_people(session, council_id)

list_tab, add_tab, import_tab, edit_tab = st.tabs(
    ["People", "Add a person", "Import from a spreadsheet", "Edit a person"]
)

with list_tab:
    if not people:
        st.info("No people yet. Add them one by one or import a spreadsheet.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Name": p.full_name,
                        "Email": p.email,
                        "Kind": KIND_LABELS[p.kind],
                        "Title": p.title,
                        "Portfolio": p.portfolio,
                        "Organisation": p.organisation,
                        "Group": p.political_group,
                        "Side": SIDE_LABELS[p.political_side] if p.political_side else "",
                        "Special role": SPECIAL_ROLE_LABELS[p.special_role]
                        if p.special_role
                        else "",
                    }
                    for p in people
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        st.caption(f"{len(people)} people.")

with add_tab, st.form("add_person", clear_on_submit=True):
    full_name = st.text_input("Full name", placeholder="e.g. Cllr Siân Llewelyn")
    email = st.text_input("Email")
    kind = st.selectbox("Kind", list(KIND_LABELS), format_func=KIND_LABELS.get)
    title = st.text_input("Title", placeholder="e.g. Cabinet Member, Director of Place")
    portfolio = st.text_input("Portfolio (cabinet members and directors)")
    organisation = st.text_input("Organisation (external partners)")
    group, side, role = standing_inputs(None)
    if st.form_submit_button("Add person"):
        try:
            with unit_of_work() as session:
                person = add_person(
                    session,
                    actor,
                    council_id,
                    full_name,
                    email,
                    kind,
                    title=title,
                    portfolio=portfolio,
                    organisation=organisation,
                    political_group=group,
                    political_side=side,
                    special_role=role,
                )
        except TandemError as exc:
            show_error(exc)
        else:  # read again, so the list shows them
            flash("success", "Added {}.", person.full_name)
            st.rerun()

with import_tab:
    st.write(
        "Import many people at once from an Excel workbook (.xlsx) or a CSV file. Every "
        "row is checked as soon as the file is chosen; if anything is wrong, nothing is "
        "imported and each problem is listed with its row number."
    )
    left, right = st.columns(2)
    left.download_button(
        "Download the Excel template",
        template_xlsx,  # made when pressed, not on every click of the page
        file_name="tandem-people-template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        "Download the CSV template",
        template_csv,
        file_name="tandem-people-template.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    upload = st.file_uploader(
        f"Spreadsheet of people (.xlsx or .csv, up to {MAX_BYTES // 1024 // 1024} MB)",
        type=["xlsx", "csv"],
        key="people_upload",
    )
    if upload is not None:
        data = upload.getvalue()

        def dry_run() -> ImportResult | TandemError:
            try:
                with unit_of_work() as session:
                    return import_people(session, actor, council_id, upload.name, data, apply=False)
            except TandemError as exc:
                return exc

        # Checked once per file (and council), not again on every click of the page.
        scope = (actor.username, council_id, upload.name)
        check = checked_once(CHECK_KEY, scope, data, dry_run)
        if isinstance(check, TandemError):
            show_error(check)
        elif check.applied:
            alert("success", check.summary(), icon="check_circle")
        else:
            alert("info", check.summary(), icon="fact_check")
            for note in check.notes:
                show(note, kind="caption")
            n = len(check.rows)
            label = f"Import {n} {'person' if n == 1 else 'people'}"
            if st.button(label, type="primary", key="do_import"):
                forget(CHECK_KEY)
                try:
                    with unit_of_work() as session:
                        result = import_people(session, actor, council_id, upload.name, data)
                except TandemError as exc:
                    show_error(exc)
                else:
                    keep(CHECK_KEY, scope, data, result)
                    st.rerun()

with edit_tab:
    if not people:
        st.info("No people to edit yet.")
    else:
        by_id = {p.id: p for p in people}
        chosen = st.selectbox(
            "Person",
            list(by_id),
            format_func=lambda i: f"{by_id[i].full_name} ({by_id[i].email})",
            key="edit_person",
        )
        person = by_id[chosen]
        with st.form(f"edit_person_{person.id}"):
            new_name = st.text_input("Full name", person.full_name)
            new_email = st.text_input("Email", person.email)
            new_title = st.text_input("Title", person.title)
            new_portfolio = st.text_input("Portfolio", person.portfolio)
            new_org = st.text_input("Organisation", person.organisation)
            new_group, new_side, new_role = standing_inputs(person.kind, person)
            st.caption(
                f"Kind: {KIND_LABELS[person.kind]} (change it below while no pairing or "
                "invitation depends on it)."
            )
            if st.form_submit_button("Save changes"):
                try:
                    with unit_of_work() as session:
                        update_person(
                            session,
                            actor,
                            person.id,
                            new_name,
                            new_email,
                            new_title,
                            new_portfolio,
                            new_org,
                            political_group=new_group if person.kind == "member" else None,
                            political_side=new_side if person.kind == "member" else None,
                            special_role=new_role,
                        )
                except TandemError as exc:
                    show_error(exc)
                else:  # read again, so the list shows the change
                    flash("success", "Saved.")
                    st.rerun()

        change_kind_or_remove(person)
