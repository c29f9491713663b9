"""The sign-in gate. Run by app.py before any page.

- No user accounts yet: the app works for the local administrator — a browser on the server
  itself — with a banner saying how to create one (`tandem user add`); a visitor from
  another machine is told to create an account first and sees nothing else.
- Accounts exist: a visitor who has not signed in sees only the sign-in page (username and
  password, and a button per identity provider when `st.secrets` has an [auth] section).
- A sign-in lasts like a website's: it begins a server-side session
  (governance.sign_in) whose random token the browser keeps in a first-party cookie, so a
  refresh or a new tab of the same browser is still signed in. The token is checked against
  the database on every run (an ended, expired or idle session, or a switched-off account,
  signs out at the next click, in every tab); its Actor is re-read each time, so a changed
  role applies at once. Sign-out ends the session on the server and forgets the cookie.
- A page asked for while signed out (a deep link such as /report?cycle=…) shows the
  sign-in form at that address, so after sign-in that page opens, with its query.
- "Forgot your password?" emails a one-time link (?reset=…), which app.py sends to
  `reset_page`; the answer is the same whether or not an account has the address.

Rater links (?t=…) never come here: app.py sends them straight to the questionnaire.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

import streamlit as st
from streamlit.errors import StreamlitDuplicateElementKey

from core.errors import TandemError
from core.roles import Actor
from governance.accounts import (
    MIN_PASSWORD_LENGTH,
    SignInRefused,
    authenticate,
    count_users,
    oidc_user,
    signed_in_actor,
)
from governance.sign_in import (
    HOW_LONG,
    RESET_ANSWER,
    SESSION_LIFETIME,
    ResetLetter,
    begin_session,
    check_session,
    end_session,
    request_password_reset,
    reset_account_name,
    reset_password,
    send_reset_letters,
)
from ui.cookies import keep_cookie
from ui.errors import friendly_errors, show_error
from ui.menu import SCREENS, STATEMENT_SCREEN, public_pages
from ui.state import ACTOR_KEY, LOCAL_ADMIN, ROUTED_KEY, USER_ID_KEY, unit_of_work
from ui.text import alert, show

log = logging.getLogger(__name__)
SESSION_COOKIE = "tandem_session"
TOKEN_KEY = "session_token"  # this browser session's sign-in token (server memory only)
COOKIE_READ_KEY = "session_cookie_read"  # the cookie sent with the page has been tried
FORGET_COOKIE_KEY = "forget_session_cookie"

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


def _page_cookie() -> str | None:
    """The session cookie the browser sent when this page loaded (read once per browser
    session: after a sign-out in this tab the value Streamlit holds is stale)."""
    if st.session_state.get(COOKIE_READ_KEY):
        return None
    st.session_state[COOKIE_READ_KEY] = True
    try:
        value = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser connection (AppTest)
        return None
    return value if isinstance(value, str) and value else None


def _forget_sign_in(notice: str = "") -> None:
    st.session_state.pop(USER_ID_KEY, None)
    st.session_state.pop(TOKEN_KEY, None)
    st.session_state[FORGET_COOKIE_KEY] = True
    if notice:
        st.session_state[NOTICE_KEY] = notice


def resolve_actor() -> Actor | None:
    """The actor for this run from the database (no rendering), or None when the visitor
    must sign in first: the local administrator while no account exists, else the account
    of this browser's sign-in session (kept in session state, or brought by the cookie after
    a refresh or in a new tab) while it lasts, else an identity-provider sign-in matched to
    an account."""
    with unit_of_work() as session:
        if count_users(session) == 0:
            st.session_state.pop(USER_ID_KEY, None)
            if _from_this_machine():
                return LOCAL_ADMIN
            # Reached over the network before anyone has an account: nobody is let in.
            st.session_state[NOTICE_KEY] = NO_ACCOUNTS_REMOTE
            return None
        actor = None
        token = st.session_state.get(TOKEN_KEY)
        from_cookie = None if token else _page_cookie()
        if token or from_cookie:
            check = check_session(session, token or from_cookie)
            if check.actor is not None:
                actor = check.actor
                st.session_state[TOKEN_KEY] = token or from_cookie
                st.session_state[USER_ID_KEY] = actor.user_id
            else:
                # Ended elsewhere (another tab, an administrator, a new password): said in
                # words when this tab was signed in; a stale cookie is just forgotten.
                _forget_sign_in(check.ended if token else "")
                if check.ended and oidc_providers() and _oidc_logged_in():
                    st.logout()  # an ended sign-in is not renewed by the provider's cookie
        elif (user_id := st.session_state.get(USER_ID_KEY)) is not None:
            # Signed in without a cookie session (the first administrator just created, or
            # a page test): held in this browser session only.
            actor = signed_in_actor(session, user_id)
            if actor is None:
                _forget_sign_in(
                    "Your account has been switched off or removed, so you have been signed "
                    "out. Ask an administrator if you need access."
                )
    if actor is None and oidc_providers() and _oidc_logged_in():
        actor = _oidc_actor()
    return actor


def _cookie_keeper(actor: Actor | None) -> None:
    """Tell the browser to keep this sign-in's cookie (drawn on every signed-in run, so it
    is written whatever the run after the sign-in did), or to forget it."""
    token = st.session_state.get(TOKEN_KEY)
    if actor is not None and token:
        days = SESSION_LIFETIME.days
        keep_cookie(SESSION_COOKIE, token, days, key="session_cookie_keep")
    elif st.session_state.pop(FORGET_COOKIE_KEY, False):
        keep_cookie(SESSION_COOKIE, "", 0, key="session_cookie_forget")


def begin_signed_in(user_id: int) -> None:
    """Sign this browser in as the account: a new server-side session, kept by a cookie."""
    with unit_of_work() as session:
        token = begin_session(session, user_id)
    st.session_state[TOKEN_KEY] = token
    st.session_state[USER_ID_KEY] = user_id
    st.session_state[COOKIE_READ_KEY] = True


def gate() -> Actor | None:
    """Run by app.py before any page: the actor, or None (app.py then shows only the
    sign-in page). Shows the banner while no account exists."""
    st.session_state[ROUTED_KEY] = True
    actor = resolve_actor()
    _cookie_keeper(actor)
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
            user_id = user.id
        if user_id is None:
            return None
        begin_signed_in(user_id)
        with unit_of_work() as session:
            return signed_in_actor(session, user_id)
    except SignInRefused as exc:
        st.session_state[NOTICE_KEY] = str(exc)  # may quote the provider's email
        st.session_state["oidc_refused"] = True
        return None


RETURN_KEY = "return_to"  # (page address, query) of a deep link run before the router


def remember_deep_link() -> None:
    """Called when Streamlit ran a pages/ file straight from its address before the router
    had run in this browser session (the first request to a fresh server process): keep
    the address and its query, so the router opens it once the visitor is signed in."""
    try:
        path = urlparse(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    except Exception:  # no browser connection (AppTest)
        return
    if path:
        st.session_state[RETURN_KEY] = (path, st.query_params.to_dict())


def follow_deep_link(pages: Mapping[str, list[st.Page]] | list[st.Page]) -> None:
    """After the router drew the menu for a signed-in actor: open the page a deep link
    asked for before the router ran (see remember_deep_link), with its query."""
    target = st.session_state.pop(RETURN_KEY, None)
    if not target:
        return
    path, query = target
    listed = pages if isinstance(pages, list) else [p for ps in pages.values() for p in ps]
    for page in listed:
        if page.url_path == path:
            st.switch_page(page, query_params=query)


def sign_in_pages() -> list[st.Page]:
    """The sign-in form at the home address and at every page's address, so a deep link
    opened while signed out (/report?cycle=…) asks for a sign-in there; the page's script
    hash is its address, so the next run after sign-in opens the page asked for, with its
    query, instead of "Page not found"."""
    pages = [st.Page(sign_in_page, title="Sign in", icon=":material/login:", default=True)]
    for screen in SCREENS:
        if screen.default or screen.public:
            continue
        pages.append(
            st.Page(
                sign_in_page,
                title="Sign in",
                icon=":material/login:",
                url_path=Path(screen.path).stem,
                visibility="hidden",
            )
        )
    return pages + public_pages()


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
    with st.expander("Forgot your password?", icon=":material/key:"):
        forgot_password_form()
    st.caption(HOW_LONG)
    st.caption(
        "Asked to give feedback? Use the personal link in your invitation email; you do not "
        "need an account."
    )
    st.page_link(STATEMENT_SCREEN.path, label=STATEMENT_SCREEN.title, icon=STATEMENT_SCREEN.icon)


def forgot_password_form() -> None:
    """Ask for a reset link: the same answer whether or not an account has the address."""
    with st.form("forgot_password", enter_to_submit=True, border=False):
        address = st.text_input(
            "Your email address", key="forgot_address", autocomplete="email", max_chars=320
        )
        asked = st.form_submit_button("Email me a link", key="forgot_submit")
    if not asked:
        return
    if "@" not in address:
        st.error("Enter the email address your account uses.")
        return
    with unit_of_work() as session:
        letters = request_password_reset(session, address)
    # Sent apart from this run, so the answer takes as long whether or not a letter goes.
    threading.Thread(target=_send_quietly, args=(letters,), daemon=True).start()
    alert("info", RESET_ANSWER, icon="mail")


def _send_quietly(letters: list[ResetLetter]) -> None:
    try:
        report = send_reset_letters(letters)
    except TandemError as exc:  # no connection to the email server
        log.warning("password reset email not sent: %s", exc)
        return
    for failure in report.failed:
        log.warning("password reset email not sent: %s", failure)


def reset_page() -> None:
    """Set a new password through an emailed one-time link (?reset=…)."""
    st.title("Set a new password")
    token = st.query_params.get("reset", "")
    try:
        with unit_of_work() as session:
            username = reset_account_name(session, token)
    except TandemError as exc:
        show_error(exc)
        if st.button("Go to the sign-in page", key="reset_to_sign_in"):
            st.query_params.clear()
            st.rerun()
        return
    show("For the account **{}**.", username)
    with st.form("reset_password", enter_to_submit=True):
        first = st.text_input(
            f"New password (at least {MIN_PASSWORD_LENGTH} characters)",
            type="password",
            key="reset_new",
            autocomplete="new-password",
        )
        again = st.text_input(
            "New password again", type="password", key="reset_again", autocomplete="new-password"
        )
        done = st.form_submit_button("Set the new password", type="primary", key="reset_submit")
    if not done:
        return
    if first != again:
        st.error("The two passwords differ; nothing was changed.")
        return
    try:
        with unit_of_work() as session:
            reset_password(session, token, first)
    except TandemError as exc:
        show_error(exc)
        return
    # Every session of the account has ended, this browser's too.
    _forget_sign_in("Your password has been changed. Sign in with your new password.")
    st.session_state.pop(ACTOR_KEY, None)
    st.query_params.clear()
    st.rerun()


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
    begin_signed_in(user_id)
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
            end_session(session, actor, st.session_state.get(TOKEN_KEY))
        _forget_sign_in("You have signed out.")
        st.session_state.pop(ACTOR_KEY, None)
        if oidc_providers() and _oidc_logged_in():
            st.logout()
        st.rerun()
