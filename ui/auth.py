"""The sign-in gate. Run by app.py before any page.

- No user accounts yet: the app works for the local administrator — a browser on the server
  itself — with a banner saying how to create one (`tandem user add`); a visitor from
  another machine is told to create an account first and sees nothing else.
- Accounts exist: a visitor who has not signed in sees only the sign-in page (username and
  password, and a button per identity provider when `st.secrets` has an [auth] section).
- The signed-in account's id is kept in `st.session_state`; its Actor is re-read from the
  database on every run, so switching an account off or changing its role applies at once.

Rater links (?t=…) never come here: app.py sends them straight to the questionnaire.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitDuplicateElementKey

from core.roles import Actor
from governance.accounts import (
    SignInRefused,
    authenticate,
    count_users,
    oidc_user,
    sign_out,
    signed_in_actor,
)
from ui.errors import friendly_errors
from ui.state import ACTOR_KEY, LOCAL_ADMIN, ROUTED_KEY, USER_ID_KEY, unit_of_work
from ui.text import alert, show

NOTICE_KEY = "sign_in_notice"
NO_ACCOUNTS_BANNER = (
    "Anyone who can open Tandem on this machine is its administrator. Create an "
    "administrator with `tandem user add USERNAME --role admin` in a terminal; from then on "
    "everyone signs in."
)


NO_ACCOUNTS_REMOTE = (
    "Tandem has no user accounts yet, and until it has, only someone at the server itself "
    "can use it. On the server, create an administrator with "
    "`tandem user add USERNAME --role admin`, then sign in here."
)


PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host")


def _from_this_machine() -> bool:
    """True when the browser is on the server itself (see is_local_address)."""
    try:
        if came_through_proxy(st.context.headers):
            return False  # the address seen is the proxy's, not the visitor's
        return is_local_address(st.context.ip_address)
    except Exception:
        return True


def came_through_proxy(headers: Mapping) -> bool:
    """A reverse proxy on the server makes every visitor look local; it says so in these."""
    return any(isinstance(v := headers.get(name), str) and v for name in PROXY_HEADERS)


def is_local_address(address: object) -> bool:
    """Streamlit reports no address for a localhost connection and "::ffff:127.0.0.1" for
    127.0.0.1; both are local, as is any loopback address. Under AppTest there is no real
    connection (the value is not a string), which counts as local too. Anything else,
    including an unreadable address, is a remote visitor."""
    if not isinstance(address, str) or not address:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # Python 3.11 does not call a mapped 127.0.0.1 loopback
    return ip.is_loopback


def oidc_providers() -> list[str | None]:
    """Identity providers configured in secrets: [auth.<name>] sections by name, or a
    single provider (None) configured directly in [auth]. Empty when there is no [auth]."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return []
    if not isinstance(auth, Mapping) or not auth:
        return []
    named = [name for name, value in auth.items() if isinstance(value, Mapping)]
    if named:
        return named
    return [None] if "client_id" in auth else []


def _oidc_logged_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except Exception:
        return False


def resolve_actor() -> Actor | None:
    """The actor for this run from the database (no rendering), or None when the visitor
    must sign in first: the local administrator while no account exists, else the signed-in
    account if it is still active, else an identity-provider sign-in matched to an account."""
    with unit_of_work() as session:
        if count_users(session) == 0:
            st.session_state.pop(USER_ID_KEY, None)
            if _from_this_machine():
                return LOCAL_ADMIN
            # Reached over the network before anyone has an account: nobody is let in.
            st.session_state[NOTICE_KEY] = NO_ACCOUNTS_REMOTE
            return None
        actor = None
        user_id = st.session_state.get(USER_ID_KEY)
        if user_id is not None:
            actor = signed_in_actor(session, user_id)
            if actor is None:
                st.session_state.pop(USER_ID_KEY, None)
                st.session_state[NOTICE_KEY] = (
                    "Your account has been switched off or removed, so you have been signed "
                    "out. Ask an administrator if you need access."
                )
    if actor is None and oidc_providers() and _oidc_logged_in():
        actor = _oidc_actor()
    return actor


def gate() -> Actor | None:
    """Run by app.py before any page: the actor, or None (app.py then shows only the
    sign-in page). Shows the banner while no account exists."""
    st.session_state[ROUTED_KEY] = True
    actor = resolve_actor()
    if actor is None:
        st.session_state.pop(ACTOR_KEY, None)
        return None
    st.session_state[ACTOR_KEY] = actor
    if actor is LOCAL_ADMIN:
        st.sidebar.info(NO_ACCOUNTS_BANNER, icon=":material/shield_person:")
    return actor


def _oidc_actor() -> Actor | None:
    email = str(st.user.get("email") or "")
    try:
        with unit_of_work() as session:
            verified = st.user.get("email_verified")
            user = oidc_user(session, email, verified if isinstance(verified, bool) else None)
            st.session_state[USER_ID_KEY] = user.id
            return signed_in_actor(session, user.id)
    except SignInRefused as exc:
        st.session_state[NOTICE_KEY] = str(exc)  # may quote the provider's email
        st.session_state["oidc_refused"] = True
        return None


def sign_in_page() -> None:
    """The only page a visitor sees before signing in."""
    st.title("Sign in to Tandem")
    st.caption("360-degree feedback for council leadership pairings.")
    if notice := st.session_state.pop(NOTICE_KEY, None):
        alert("warning", notice, icon="lock")
    if st.session_state.pop("oidc_refused", False) and st.button("Sign out of your provider"):
        st.logout()
    with st.form("sign_in", enter_to_submit=True):
        username = st.text_input("Username", key="sign_in_username", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="sign_in_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary", key="sign_in_submit")
    if submitted:
        with friendly_errors():
            _password_sign_in(username, password)
    providers = oidc_providers()
    if providers:
        st.divider()
        for provider in providers:
            label = f"Sign in with {provider}" if provider else "Sign in with your organisation"
            if st.button(label, key=f"oidc_{provider or 'default'}", icon=":material/login:"):
                st.login(provider) if provider else st.login()
    st.caption(
        "Asked to give feedback? Use the personal link in your invitation email; you do not "
        "need an account."
    )


def _password_sign_in(username: str, password: str) -> None:
    if not username.strip() or not password:
        st.error("Enter your username and password.")
        return
    # The outcome is returned, not raised, so a failure's count and lock are committed.
    with unit_of_work() as session:
        result = authenticate(session, username, password)
        user_id = result.user.id if result.ok else None
    if user_id is None:
        alert("error", result.message, icon="lock")
        return
    st.session_state[USER_ID_KEY] = user_id
    st.session_state.pop("sign_in_password", None)
    st.rerun()


def account_sidebar(actor: Actor) -> None:
    """Who is signed in, and the sign-out button (not shown to the local administrator).
    Drawn by current_actor(), once per run even if a page asks for the actor twice."""
    if actor.user_id is None:
        return
    try:
        clicked = st.sidebar.button("Sign out", key="sign_out", icon=":material/logout:")
    except StreamlitDuplicateElementKey:
        return  # already drawn in this run
    show("Signed in as {} ({})", actor.username, actor.role, kind="caption", into=st.sidebar)
    if clicked:
        with unit_of_work() as session:
            sign_out(session, actor)
        st.session_state.pop(USER_ID_KEY, None)
        st.session_state.pop(ACTOR_KEY, None)
        st.session_state[NOTICE_KEY] = "You have signed out."
        if oidc_providers() and _oidc_logged_in():
            st.logout()
        st.rerun()
