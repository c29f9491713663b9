"""One engine per process (cached), one session per unit of work, and the current actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from sqlalchemy import Engine
from sqlmodel import Session

from core.db import ensure_schema, make_engine, session_scope
from core.roles import Actor, Role


@st.cache_resource(show_spinner=False)
def get_engine() -> Engine:
    engine = make_engine()
    ensure_schema(engine)
    return engine


@contextmanager
def unit_of_work() -> Iterator[Session]:
    with session_scope(get_engine()) as session:
        yield session


# While no user account exists, whoever uses the app on this machine is its administrator
# (the app shows a banner saying how to create one; see ui/auth.py).
LOCAL_ADMIN = Actor(username="local administrator", role=Role.admin)

# Set by ui.auth.gate() on every run of app.py, before any page runs.
ACTOR_KEY = "actor"
USER_ID_KEY = "user_id"
ROUTED_KEY = "routed"  # app.py's router has run in this browser session


def current_actor() -> Actor:
    """Who is using this page, re-read from the database on every call, so a page never
    trusts a stale or missing sign-in: app.py's gate normally runs first, but a page can be
    run without it (Streamlit runs a pages/ file directly when it is asked for before the
    router has run once in a fresh server process). A visitor who is not signed in is
    stopped here with a pointer to the sign-in page."""
    from ui.auth import account_sidebar, remember_deep_link, resolve_actor
    from ui.notices import show_notices

    if not st.session_state.get(ROUTED_KEY):
        # Streamlit ran this file straight from pages/ (an address opened before the
        # router had run in this server process): go through the router, which signs in
        # and shows the menu, instead of Streamlit's list of files; it then opens this
        # address, with its query (ui.auth.follow_deep_link).
        remember_deep_link()
        st.switch_page("app.py")
    actor = resolve_actor()
    if actor is None:
        st.session_state.pop(ACTOR_KEY, None)
        st.warning(
            "Please sign in to use Tandem: reload this page to reach the sign-in form.",
            icon=":material/lock:",
        )
        st.stop()
    st.session_state[ACTOR_KEY] = actor
    account_sidebar(actor)
    show_notices()  # what the last action did, at the top of the page
    return actor
