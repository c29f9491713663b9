"""Accounts: Argon2id with RFC 9106 parameters, the growing lock, unlock, roles and links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY
from shown import alerts
from sqlmodel import Session, select

from core.errors import Conflict, Invalid, PermissionDenied
from core.models import AuditEvent, Council, SignInFailure, UserAccount, utcnow
from core.roles import SYSTEM, Actor
from feedback.setup.people import add_person, create_council
from governance.accounts import (
    FIRST_LOCK_SECONDS,
    MAX_LOCK_SECONDS,
    NO_MATCH,
    SignInRefused,
    actor_for,
    authenticate,
    change_own_password,
    create_user,
    hash_parameters,
    lock_seconds,
    oidc_user,
    set_password,
    signed_in_actor,
    unlock_user,
    update_user,
    users_table,
)

PASSWORD = "correct horse battery"
ADMIN = Actor("boss", "admin", user_id=None)


@pytest.fixture
def council_id(session) -> int:
    return create_council(session, SYSTEM, "Kingsmere Borough Council").id


def test_password_is_hashed_with_argon2id_and_the_documented_cost(session) -> None:
    user = create_user(session, SYSTEM, "Admin@Example.org", "admin", PASSWORD)
    session.commit()
    stored = session.exec(select(UserAccount.password_hash)).one()
    assert PASSWORD not in stored
    params = hash_parameters(stored)
    assert params.type == "argon2id"
    assert params.version == 19
    assert params.time_cost == 3 == RFC_9106_LOW_MEMORY.time_cost
    assert params.memory_cost_kib == 64 * 1024 == RFC_9106_LOW_MEMORY.memory_cost
    assert params.parallelism == 4
    assert user.username == "admin@example.org"  # usernames are not case-sensitive
    assert authenticate(session, "ADMIN@example.org", PASSWORD).ok


def test_two_accounts_with_one_password_get_different_hashes(session) -> None:
    a = create_user(session, SYSTEM, "a@example.org", "admin", PASSWORD)
    b = create_user(session, SYSTEM, "b@example.org", "admin", PASSWORD)
    assert a.password_hash != b.password_hash


def test_wrong_passwords_grow_a_lock_that_holds_even_for_the_right_one(session) -> None:
    create_user(session, SYSTEM, "fac@example.org", "admin", PASSWORD)
    now = utcnow()
    for _ in (1, 2):
        result = authenticate(session, "fac@example.org", "wrong password!", now)
        assert not result.ok and result.message == NO_MATCH and result.wait_seconds == 0
    third = authenticate(session, "fac@example.org", "wrong password!", now)
    assert third.wait_seconds == FIRST_LOCK_SECONDS == 30
    assert "locked for 30 seconds" in third.message
    assert "ask an administrator to unlock it" in third.message
    # During the lock even the right password is refused, and not counted.
    during = authenticate(session, "fac@example.org", PASSWORD, now + timedelta(seconds=10))
    assert not during.ok and 0 < during.wait_seconds <= 21
    user = session.exec(select(UserAccount)).one()
    assert user.failed_attempts == 3
    # After the lock, another wrong guess doubles it.
    later = now + timedelta(seconds=31)
    fourth = authenticate(session, "fac@example.org", "wrong password!", later)
    assert fourth.wait_seconds == 60 and "locked for 1 minutes" in fourth.message
    session.commit()
    session.refresh(user)
    assert user.failed_attempts == 4
    locked_until = user.locked_until.replace(tzinfo=later.tzinfo)
    assert abs((locked_until - later).total_seconds() - 60) < 1
    # Once it has passed, the right password works and clears the count.
    ok = authenticate(session, "fac@example.org", PASSWORD, later + timedelta(seconds=61))
    assert ok.ok and ok.user.failed_attempts == 0 and ok.user.locked_until is None
    locks = session.exec(select(AuditEvent).where(AuditEvent.action == "account locked")).all()
    assert [e.detail["seconds"] for e in locks] == [30, 60]


@pytest.mark.slow
def test_an_unknown_username_is_answered_exactly_like_a_real_one(session) -> None:
    """Guessing cannot tell which usernames exist: the same messages, the same lock after
    the same number of tries, the same waits, for a real account and for a made-up name
    (and for an account that only signs in through the identity provider)."""
    create_user(session, SYSTEM, "real@example.org", "admin", PASSWORD)
    create_user(session, SYSTEM, "sso@example.org", "admin", None)
    session.commit()
    now = utcnow()

    def answers(username: str) -> list[tuple[str, int]]:
        seen = []
        # seconds after the first try; the last two a day after the last failure, when
        # both kinds of failure are forgotten
        for at in (0, 1, 2, 10, 40, 45, 200, 90_000, 90_001):
            result = authenticate(session, username, "wrong password!", now + timedelta(seconds=at))
            session.commit()
            assert not result.ok
            seen.append((result.message, result.wait_seconds))
        return seen

    real = answers("real@example.org")
    assert [w for _m, w in real] == [0, 0, 30, 23, 60, 56, 120, 0, 0]
    assert answers("nobody@example.org") == real
    assert answers("  NoBody.Else@Example.org ") == real
    assert answers("sso@example.org") == real
    # A locked made-up name stays locked even for a "right" password: nothing is checked.
    third = authenticate(session, "nobody@example.org", "wrong!", now + timedelta(seconds=90_002))
    assert third.wait_seconds == 30
    later = authenticate(session, "nobody@example.org", PASSWORD, now + timedelta(seconds=90_010))
    assert later.wait_seconds > 0 and "locked" in later.message
    # The real account still signs in once its own lock has passed.
    assert authenticate(session, "real@example.org", PASSWORD, now + timedelta(days=2)).ok


def test_failures_of_unknown_names_are_forgotten_after_a_day(session) -> None:
    now = utcnow()
    for _ in range(3):
        authenticate(session, "ghost@example.org", "wrong password!", now)
    session.commit()
    assert session.get(SignInFailure, "ghost@example.org").failed_attempts == 3
    # A day later any sign-in attempt clears the old names (the table stays small) ...
    authenticate(
        session, "other@example.org", "wrong password!", now + timedelta(days=1, seconds=1)
    )
    session.commit()
    session.expire_all()
    assert session.get(SignInFailure, "ghost@example.org") is None
    # ... and a name that fails again after a day starts afresh.
    again = authenticate(session, "other@example.org", "wrong password!", now + timedelta(days=3))
    assert again.message == NO_MATCH and again.wait_seconds == 0
    session.commit()
    assert session.get(SignInFailure, "other@example.org").failed_attempts == 1


def test_lock_doubles_up_to_fifteen_minutes() -> None:
    assert [lock_seconds(n) for n in range(0, 8)] == [0, 0, 0, 30, 60, 120, 240, 480]
    assert lock_seconds(20) == MAX_LOCK_SECONDS == 900


def test_unknown_username_gets_the_same_message(session) -> None:
    create_user(session, SYSTEM, "real@example.org", "admin", PASSWORD)
    unknown = authenticate(session, "nobody@example.org", PASSWORD)
    wrong = authenticate(session, "real@example.org", "not the password")
    assert unknown.message == wrong.message == NO_MATCH


def test_administrator_unlocks_at_once(session, council_id) -> None:
    admin = create_user(session, SYSTEM, "admin@example.org", "admin", PASSWORD)
    user = create_user(
        session, SYSTEM, "fac@example.org", "facilitator", PASSWORD, council_ids=[council_id]
    )
    for _ in range(5):
        authenticate(session, "fac@example.org", "wrong password!")
    assert authenticate(session, "fac@example.org", PASSWORD).wait_seconds > 0
    facilitator = actor_for(session, user)
    with pytest.raises(PermissionDenied):
        unlock_user(session, facilitator, user.id)
    unlock_user(session, actor_for(session, admin), user.id)
    assert authenticate(session, "fac@example.org", PASSWORD).ok
    rows = {r["username"]: r for r in users_table(session, actor_for(session, admin))}
    assert rows["fac@example.org"]["locked"] is False
    assert "password_hash" not in rows["fac@example.org"]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "unlock user")).one()


def test_switched_off_account_is_refused_at_once(session, council_id) -> None:
    create_user(session, SYSTEM, "admin@example.org", "admin", PASSWORD)
    user = create_user(
        session, SYSTEM, "fac@example.org", "facilitator", PASSWORD, council_ids=[council_id]
    )
    actor = signed_in_actor(session, user.id)
    assert actor.role == "facilitator" and actor.council_ids == {council_id}
    update_user(session, SYSTEM, user.id, active=False)
    assert signed_in_actor(session, user.id) is None
    result = authenticate(session, "fac@example.org", PASSWORD)
    assert not result.ok and "switched off" in result.message


def test_last_administrator_cannot_be_switched_off_or_demoted(session, council_id) -> None:
    admin = create_user(session, SYSTEM, "admin@example.org", "admin", PASSWORD)
    with pytest.raises(Invalid) as refused:
        update_user(session, SYSTEM, admin.id, active=False)
    assert "only active administrator" in refused.value.problems[0]
    with pytest.raises(Invalid):
        update_user(session, SYSTEM, admin.id, role="facilitator", council_ids=[council_id])
    create_user(session, SYSTEM, "admin2@example.org", "admin", PASSWORD)
    update_user(session, SYSTEM, admin.id, active=False)
    assert signed_in_actor(session, admin.id) is None


def test_first_admin_only_while_there_are_no_accounts(session) -> None:
    nobody = Actor("visitor", "principal")
    create_user(session, nobody, "first@example.org", "admin", PASSWORD, first_admin=True)
    with pytest.raises(PermissionDenied):
        create_user(session, nobody, "second@example.org", "admin", PASSWORD, first_admin=True)
    with pytest.raises(PermissionDenied):
        create_user(session, nobody, "third@example.org", "admin", PASSWORD)


def test_account_rules(session, council_id) -> None:
    with pytest.raises(Invalid) as weak:
        create_user(session, SYSTEM, "x@example.org", "admin", "short")
    assert any("12 characters" in p for p in weak.value.problems)
    with pytest.raises(Invalid) as mixed:
        create_user(session, SYSTEM, "f@example.org", "facilitator", PASSWORD)
    assert any("at least one council" in p for p in mixed.value.problems)
    with pytest.raises(Invalid) as principal:
        create_user(session, SYSTEM, "p@example.org", "principal", PASSWORD)
    assert any("person record" in p for p in principal.value.problems)
    with pytest.raises(Invalid):
        create_user(session, SYSTEM, "r@example.org", "rater", PASSWORD)
    create_user(session, SYSTEM, "dup@example.org", "admin", PASSWORD)
    with pytest.raises(Conflict):
        create_user(session, SYSTEM, "DUP@example.org", "admin", PASSWORD)


def test_principal_is_linked_to_their_person(session, council_id) -> None:
    person = add_person(session, SYSTEM, council_id, "Cllr A", "a@kingsmere.gov.uk", "member")
    user = create_user(
        session, SYSTEM, "a@kingsmere.gov.uk", "principal", PASSWORD, person_id=person.id
    )
    actor = actor_for(session, user)
    assert actor.person_id == person.id and actor.council_ids == frozenset()


def test_passwords_changed_by_admin_or_by_the_user(session) -> None:
    admin = create_user(session, SYSTEM, "admin@example.org", "admin", PASSWORD)
    other = create_user(session, SYSTEM, "other@example.org", "admin", PASSWORD)
    me = actor_for(session, other)
    change_own_password(session, me, PASSWORD, "a brand new passphrase")
    assert authenticate(session, "other@example.org", "a brand new passphrase").ok
    with pytest.raises(Invalid):
        change_own_password(session, me, "wrong current one", "another new passphrase")
    set_password(session, actor_for(session, admin), other.id, "set by the admin today")
    assert authenticate(session, "other@example.org", "set by the admin today").ok


def test_oidc_sign_in_matches_an_active_account_by_email(session) -> None:
    user = create_user(session, SYSTEM, "sso-admin", "admin", email="Boss@Example.org")
    assert user.password_hash is None
    assert oidc_user(session, "boss@example.org").id == user.id
    assert oidc_user(session, "boss@example.org", email_verified=True).id == user.id
    with pytest.raises(SignInRefused, match="not verified"):
        oidc_user(session, "boss@example.org", email_verified=False)
    assert not authenticate(session, "sso-admin", "").ok  # no password: OIDC only
    with pytest.raises(SignInRefused):
        oidc_user(session, "stranger@example.org")


# --- the users page and `tandem user` ------------------------------------------------------


def _users_page(monkeypatch, url: str):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    return at.switch_page("pages/users.py").run()


def _fill_add_form(at, username: str, role: str, password: str = PASSWORD, **extra):
    form = [t for t in at.text_input]
    by_label = {t.label: t for t in form}
    by_label["Username"].input(username)
    by_label["Password"].input(password)
    by_label["Password again"].input(extra.pop("again", password))
    if "person_email" in extra:
        by_label["Principal's email on their council's list of people"].input(extra["person_email"])
    at.selectbox[0].set_value(role)
    if "councils" in extra:
        at.multiselect[0].set_value(extra["councils"])
    return next(b for b in at.button if b.label == "Add user").click().run()


@pytest.mark.slow
def test_users_page_first_admin_then_a_facilitator(demo_url, demo_engine, monkeypatch) -> None:
    at = _users_page(monkeypatch, demo_url)
    assert not at.exception and at.title[0].value == "Users"
    assert "No accounts yet" in alerts(at, "info")[0]
    at = _fill_add_form(at, "Boss@Example.org", "admin", again="something else entirely")
    assert "The two passwords differ" in alerts(at, "error")[0]
    at = _fill_add_form(at, "Boss@Example.org", "admin")
    assert not at.exception
    assert "Account boss@example.org added." in alerts(at, "success")[0]
    assert at.session_state["user_id"]  # the first administrator is signed in at once
    with Session(demo_engine) as s:
        council_id = s.exec(select(Council.id)).first()
    at = _fill_add_form(at, "fac@example.org", "facilitator", "short", councils=[council_id])
    assert "The account was not created." in alerts(at, "error")[0]
    assert "12 characters" in alerts(at, "error")[0]
    at = _fill_add_form(at, "fac@example.org", "facilitator", councils=[council_id])
    assert "Account fac@example.org added." in alerts(at, "success")[0]
    table = at.dataframe[0].value
    assert list(table["username"]) == ["boss@example.org", "fac@example.org"]
    assert "password_hash" not in table.columns
    # Switch the facilitator off from the page.
    at.selectbox(key="users_selected").set_value(2).run()
    at.button(key="user_deactivate").click().run()
    assert "can no longer sign in" in alerts(at, "success")[0]
    with Session(demo_engine) as s:
        assert s.get(UserAccount, 2).active is False
        assert signed_in_actor(s, 2) is None


def test_users_page_refuses_a_facilitator(demo_url, demo_engine, monkeypatch) -> None:
    import streamlit as st
    from signing_in import sign_in
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    at = AppTest.from_file("../app.py", default_timeout=30)
    with Session(demo_engine) as s:
        admin = sign_in(at, s, role="admin")
        fac = create_user(s, SYSTEM, "fac@example.org", "facilitator", council_ids=[1])
        s.commit()
        fac_id = fac.id
    at.run()
    at.switch_page("pages/users.py").run()
    assert at.dataframe  # the administrator sees the accounts
    at.session_state["user_id"] = fac_id
    at.run()
    assert "Only an administrator can do this." in alerts(at, "error")[0]
    assert not at.dataframe and admin.username not in str([t.value for t in at.text])


@pytest.mark.slow
def test_cli_user_add_and_list(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [tandem, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
        )

    out = run("user", "list")
    assert out.returncode == 0 and "No accounts yet" in out.stdout
    out = run("user", "add", "boss@example.org", "--role", "admin", "--password-stdin", stdin="x\n")
    assert out.returncode == 1 and "12 characters" in out.stderr and "Traceback" not in out.stderr
    out = run("user", "add", "boss@example.org", "--role", "admin", stdin=f"{PASSWORD}\nother\n")
    assert out.returncode == 1 and "differ" in out.stderr
    out = run(
        "user", "add", "boss@example.org", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert out.returncode == 0, out.stderr
    out = run(
        "user",
        "add",
        "p@example.org",
        "--role",
        "principal",
        "--person-email",
        "nobody@example.org",
        "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )
    assert out.returncode == 1 and "Nobody with the email" in out.stderr
    out = run("user", "list")
    assert "boss@example.org" in out.stdout and "admin" in out.stdout
    assert "argon2" not in out.stdout
