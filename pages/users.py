"""Users (administrators): accounts, roles, facilitators' councils, principals' person
records, unlocking and switching accounts off. Every action is checked again in
feedback/accounts.py."""

import streamlit as st

from core.errors import PermissionDenied
from core.formats import uk_datetime
from core.roles import Role, require_admin
from feedback.setup.people import list_councils
from governance.accounts import (
    ROLES,
    add_account,
    council_ids_for,
    get_user,
    link_person,
    set_password,
    unlock_user,
    update_user,
    users_table,
)
from ui.auth import begin_signed_in
from ui.errors import friendly_errors
from ui.notices import flash
from ui.state import current_actor, unit_of_work
from ui.text import alert, show

actor = current_actor()
st.title("Users")
try:
    require_admin(actor)
except PermissionDenied as exc:
    alert("error", exc, icon="lock")
    st.stop()


def done(message: str) -> None:
    flash("success", message)
    st.rerun()


def act(message: str, fn, *args, **kwargs) -> None:
    """One action in its own unit of work; the notice only once it is committed."""
    ok, result = False, None
    with friendly_errors():
        with unit_of_work() as session:
            result = fn(session, actor, *args, **kwargs)
        ok = True
    if ok:
        if kwargs.get("first_admin") and result is not None:
            # The first account: sign its creator in as it, or the sign-in page would
            # greet them on the next click.
            begin_signed_in(result.id)
        done(message)


with unit_of_work() as session:
    rows = users_table(session, actor)
    councils = {c.id: c.name for c in list_councils(session, actor)}

if rows:
    for row in rows:  # in words and local time, as everywhere else
        row["last_sign_in_at"] = uk_datetime(row["last_sign_in_at"], missing="never")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_order=[
            "username",
            "name",
            "role",
            "councils",
            "person",
            "active",
            "locked",
            "password",
            "last_sign_in_at",
        ],
        column_config={
            "username": "Username",
            "name": "Name",
            "role": "Role",
            "councils": "Councils (facilitators)",
            "person": "Person (principals)",
            "active": st.column_config.CheckboxColumn("Active"),
            "locked": st.column_config.CheckboxColumn("Locked"),
            "password": st.column_config.CheckboxColumn("Password set"),
            "last_sign_in_at": "Last sign-in",
        },
    )
else:
    st.info(
        "No accounts yet, so anyone who opens Tandem on this machine is its administrator. "
        "The first account you add must be an administrator; from then on everyone signs in.",
        icon=":material/info:",
    )

with (
    st.expander("Add a user", expanded=not rows, icon=":material/person_add:"),
    st.form("add_user", clear_on_submit=False),
):
    username = st.text_input("Username", help="An email address works well.")
    display_name = st.text_input("Name")
    email = st.text_input("Email (for sign-in through your organisation)")
    role = st.selectbox("Role", ROLES, index=0 if not rows else 1)
    council_ids = st.multiselect(
        "Councils this facilitator looks after", list(councils), format_func=councils.get
    )
    person_email = st.text_input(
        "Principal's email on their council's list of people",
        help="A principal reads their own pairing's report and works on its plan.",
    )
    password = st.text_input(
        "Password",
        type="password",
        help="At least 12 characters; leave empty for "
        "accounts that only sign in through your organisation's identity provider.",
    )
    confirm = st.text_input("Password again", type="password")
    if st.form_submit_button("Add user", type="primary"):
        if password != confirm:
            st.error("The two passwords differ; nothing was saved.")
        else:
            act(
                f"Account {username.strip().lower()} added.",
                add_account,
                username,
                role,
                password or None,
                display_name=display_name,
                email=email,
                council_ids=council_ids if role == Role.facilitator else [],
                person_email=person_email if role == Role.principal else "",
                first_admin=not rows,
            )

if not rows:
    st.stop()

st.subheader("Change a user")
labels = {r["id"]: f"{r['username']} ({r['role']})" for r in rows}
user_id = st.selectbox("User", list(labels), format_func=labels.get, key="users_selected")
row = next(r for r in rows if r["id"] == user_id)
with unit_of_work() as session:
    user = get_user(session, user_id)
    current_councils = sorted(council_ids_for(session, user_id) & set(councils))

left, right = st.columns(2)
with left:
    if row["active"]:
        if st.button("Switch this account off", key="user_deactivate", icon=":material/block:"):
            act(f"{row['username']} can no longer sign in.", update_user, user_id, active=False)
    elif st.button("Switch this account on", key="user_activate", icon=":material/check:"):
        act(f"{row['username']} can sign in again.", update_user, user_id, active=True)
    if row["locked"] and st.button("Unlock", key="user_unlock", icon=":material/lock_open:"):
        act(f"{row['username']} is unlocked.", unlock_user, user_id)

with right:
    if user.role == Role.facilitator:
        with st.form("user_councils"):
            chosen = st.multiselect(
                "Councils", list(councils), default=current_councils, format_func=councils.get
            )
            if st.form_submit_button("Save councils"):
                act("Councils saved.", update_user, user_id, council_ids=chosen)
    if user.role == Role.principal:
        with st.form("user_person"):
            show("Linked to: {}", row["person"] or "nobody yet", kind="caption")
            linked = st.text_input("Link to the person with this email")
            council = st.selectbox(
                "On the list of", [None, *councils], format_func=lambda c: councils.get(c, "any")
            )
            if st.form_submit_button("Link"):
                act("Person linked.", link_person, user_id, linked, council)
    with st.form("user_password", clear_on_submit=True):
        new_password = st.text_input("New password", type="password")
        again = st.text_input("New password again", type="password")
        if st.form_submit_button("Set password"):
            if new_password != again:
                st.error("The two passwords differ; nothing was saved.")
            else:
                act("Password set; the account is unlocked.", set_password, user_id, new_password)
