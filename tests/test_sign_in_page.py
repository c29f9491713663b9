"""The sign-in gate through AppTest: local administrator until accounts exist, then only the
sign-in page for visitors; password sign-in, lock, sign-out, switched-off accounts, rater
links without an account, and no traceback ever shown."""

from __future__ import annotations

import logging

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, headings, html_texts
from signing_in import TEST_PASSWORD, sign_in
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.models import AuditEvent, UserAccount
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.models import Invitation
from governance.accounts import create_user, update_user

APP = "../app.py"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def demo(demo_url, demo_engine, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    return demo_engine


def everything_shown(at: AppTest) -> str:
    parts = [str(getattr(e, "value", "")) for e in at.main]
    for kind in ("markdown", "title", "subheader", "caption", "info", "error", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(df.value.to_dict()) for df in at.dataframe]
    parts += [str(sb.options) for sb in at.selectbox]
    return " ".join(parts + html_texts(at))


def add_user(engine, username="fac@example.org", role="admin") -> int:
    with session_scope(engine) as s:
        return create_user(s, SYSTEM, username, role, TEST_PASSWORD).id


def fill(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    return at.button(key="sign_in_submit").click().run()


def test_without_accounts_the_local_administrator_sees_the_banner(demo) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "tandem user add" in at.sidebar.info[0].value
    assert "Kingsmere Borough Council" in headings(at, 3)
    assert not at.text_input  # no sign-in form


def test_without_accounts_a_visitor_from_another_machine_gets_nothing(demo, monkeypatch) -> None:
    """The no-accounts convenience is for a browser on the server only: over the network,
    before any account exists, nobody is an administrator."""
    import ui.auth

    monkeypatch.setattr(ui.auth, "_from_this_machine", lambda: False)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Tandem"
    assert "no user accounts yet" in alerts(at, "warning")[0]
    shown = everything_shown(at)
    assert "Kingsmere" not in shown and "Margaret Oduya" not in shown
    assert not at.sidebar.info and not at.dataframe


def test_a_visitor_sees_only_the_sign_in_page(demo) -> None:
    add_user(demo)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Tandem"
    # The sign-in form, and the address for "Forgot your password?"
    assert [t.label for t in at.text_input] == ["Username", "Password", "Your email address"]
    shown = everything_shown(at)
    assert "Kingsmere" not in shown and "Margaret Oduya" not in shown
    assert not at.dataframe and not at.sidebar.info  # no banner once accounts exist
    assert not at.sidebar.button  # no sign-out, no menu


@pytest.mark.parametrize("page", ["pages/cycles.py", "pages/people.py", "pages/home.py"])
def test_a_page_run_without_a_sign_in_shows_nothing(demo, page) -> None:
    """Pages check the sign-in themselves: Streamlit can run a pages/ file without app.py
    (AppTest does on every rerun; a fresh server can for its first request)."""
    add_user(demo, "admin@example.org")
    at = AppTest.from_file(APP, default_timeout=30)
    with Session(demo) as s:
        sign_in(at, s, role="admin")
    at.run()
    at.switch_page(page).run()
    assert not at.exception and "Kingsmere" in everything_shown(at)
    del at.session_state["user_id"]
    at.run()
    assert not at.exception
    assert "Please sign in" in alerts(at, "warning")[0]
    assert "Kingsmere" not in everything_shown(at) and not at.dataframe


def test_sign_in_then_sign_out(demo) -> None:
    user_id = add_user(demo, "Boss@Example.org")
    at = fill(AppTest.from_file(APP, default_timeout=30).run(), "boss@example.org", TEST_PASSWORD)
    assert not at.exception
    assert "Kingsmere Borough Council" in headings(at, 3)
    assert at.session_state["user_id"] == user_id
    assert "Signed in as boss@example.org (admin)" in html_texts(at.sidebar)
    at.button(key="sign_out").click().run()
    assert "user_id" not in at.session_state
    assert "Kingsmere" not in everything_shown(at)
    again = AppTest.from_file(APP, default_timeout=30).run()
    assert again.title[0].value == "Sign in to Tandem"
    with Session(demo) as s:
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.entity == "useraccount"))
        assert {"sign in", "sign out"} <= set(actions.all())


def test_wrong_passwords_lock_the_account(demo) -> None:
    add_user(demo)
    at = AppTest.from_file(APP, default_timeout=30).run()
    for _ in range(2):
        fill(at, "fac@example.org", "not my password")
        assert "do not match an account" in alerts(at, "error")[0]
    fill(at, "fac@example.org", "not my password")
    assert "locked for 30 seconds" in alerts(at, "error")[0]
    fill(at, "fac@example.org", TEST_PASSWORD)  # right password, but locked
    assert "locked" in alerts(at, "error")[0] and at.title[0].value == "Sign in to Tandem"
    with Session(demo) as s:
        assert s.exec(select(UserAccount.failed_attempts)).one() == 3
    assert "user_id" not in at.session_state


def test_a_switched_off_account_is_signed_out_at_the_next_click(demo) -> None:
    add_user(demo, "admin@example.org")
    at = AppTest.from_file(APP, default_timeout=30)
    with Session(demo) as s:
        actor = sign_in(at, s, role="facilitator", council_ids=[1])
    at.run()
    assert "Kingsmere Borough Council" in headings(at, 3)
    with session_scope(demo) as s:
        update_user(s, SYSTEM, actor.user_id, active=False)
    at.run()
    assert "user_id" not in at.session_state
    assert "Please sign in" in alerts(at, "warning")[0]
    assert "Kingsmere" not in everything_shown(at)
    at.switch_page("app.py").run()  # through the router: the sign-in page says why
    assert at.title[0].value == "Sign in to Tandem"
    assert "switched off" in alerts(at, "warning")[0]


def test_rater_links_need_no_account(sqlite_engine, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = build_cycle(sqlite_engine)
    add_user(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        inv = s.exec(select(Invitation).where(Invitation.rater_id == built.people["m0"])).one()
        token = issue_token(s, SYSTEM, inv.id)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    assert not any(t.label == "Password" for t in at.text_input)
    assert "Cllr Siân Llewelyn" in everything_shown(at)
    assert not at.sidebar.button and "user_id" not in at.session_state


def test_an_unexpected_error_shows_a_reference_never_a_traceback(
    tmp_path, monkeypatch, caplog
) -> None:
    # A file that is not a database: SQLite's own error, not one of Tandem's.
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database " * 100)
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{broken}")
    with caplog.at_level(logging.ERROR, logger="tandem.ui"):
        at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    message = alerts(at, "error")[0]
    assert message.startswith("Something went wrong; it has been logged (reference ")
    reference = message.split("reference ")[1][:6]
    assert "OperationalError" not in message and "Traceback" not in message
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (None, True),
        ("127.0.0.1", True),
        ("::ffff:127.0.0.1", True),
        ("::1", True),
        ("192.0.2.2", False),
        ("::ffff:192.0.2.2", False),
        ("2001:db8::1", False),
        ("not an address", False),
    ],
)
def test_only_the_server_itself_counts_as_local(address, local) -> None:
    from ui.auth import is_local_address

    assert is_local_address(address) is local


def test_a_visitor_through_a_reverse_proxy_is_never_local() -> None:
    from ui.auth import came_through_proxy

    assert came_through_proxy({"X-Forwarded-For": "203.0.113.9"})
    assert came_through_proxy({"Forwarded": "for=203.0.113.9"})
    assert not came_through_proxy({"Host": "localhost:8501"})
    assert not came_through_proxy({})


def test_a_spent_or_unknown_reset_link_says_so_in_words(demo) -> None:
    add_user(demo)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["reset"] = "x" * 43
    at.run()
    assert not at.exception
    assert at.title[0].value == "Set a new password"
    assert "has expired or has already been used" in " ".join(alerts(at, "error"))
    assert not at.text_input  # no form to set a password with


def test_forgot_password_answers_the_same_for_any_address(demo) -> None:
    add_user(demo)
    answers = []
    for address in ("nobody@example.org", "fac@example.org"):
        at = AppTest.from_file(APP, default_timeout=30).run()
        at.text_input(key="forgot_address").input(address)
        at.button(key="forgot_submit").click().run()
        assert not at.exception
        answers.append(alerts(at, "info"))
    assert answers[0] == answers[1] and "If an account has that address" in answers[0][0]
