"""Sign-in sessions and password reset links (governance.sign_in): what the cookie holds is
worth nothing without its row, rows expire, end and are used once, and the reset request
answers the same for every address."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from mail_server import BASE_URL, body, running_inbox
from sqlmodel import select

from core.errors import Invalid, PermissionDenied
from core.models import AuditEvent, PasswordReset, SignInSession, utcnow
from core.roles import SYSTEM, Actor
from governance.accounts import (
    actor_for,
    authenticate,
    change_own_password,
    create_user,
    set_password,
    update_user,
)
from governance.sign_in import (
    IDLE_LIMIT,
    RESET_LIFETIME,
    RESET_LINK_REFUSED,
    RESETS_PER_HOUR,
    SESSION_LIFETIME,
    TOUCH_EVERY,
    begin_session,
    check_session,
    end_all_sessions,
    end_session,
    issue_reset_link,
    list_sessions,
    request_password_reset,
    reset_account_name,
    reset_password,
    send_reset_letters,
)

PASSWORD = "correct horse battery"
NEW_PASSWORD = "purple otter lantern"


@pytest.fixture
def user(session):
    made = create_user(
        session, SYSTEM, "ceo@kingsmere.example.gov.uk", "admin", PASSWORD, display_name="Sam"
    )
    create_user(session, SYSTEM, "second-admin", "admin", PASSWORD)
    session.commit()
    return made


def test_only_a_hash_of_the_token_is_stored_and_it_signs_the_account_in(session, user) -> None:
    token = begin_session(session, user.id)
    session.commit()
    row = session.exec(select(SignInSession)).one()
    assert token not in row.token_hash and len(token) >= 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    checked = check_session(session, token)
    assert checked.actor is not None and checked.actor.user_id == user.id
    # A guessed or altered token signs nobody in, and says nothing about why.
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", None, "x" * 500):
        assert check_session(session, wrong).actor is None
        assert check_session(session, wrong).ended == ""


def test_a_session_expires_after_its_lifetime_and_after_idleness(session, user) -> None:
    start = utcnow()
    token = begin_session(session, user.id, now=start)
    session.commit()
    # Used every two days, it lasts until its lifetime is up, not longer.
    moment = start
    while moment + timedelta(days=2) < start + SESSION_LIFETIME:
        moment += timedelta(days=2)
        assert check_session(session, token, now=moment).actor is not None
        session.commit()
    late = check_session(session, token, now=start + SESSION_LIFETIME)
    assert late.actor is None and "expired" in late.ended

    idle = begin_session(session, user.id, now=start)
    session.commit()
    assert check_session(session, idle, now=start + IDLE_LIMIT - timedelta(minutes=1)).actor
    session.commit()
    gone = start + IDLE_LIMIT - timedelta(minutes=1) + IDLE_LIMIT
    assert check_session(session, idle, now=gone).actor is None


def test_use_is_noted_at_most_every_few_minutes(session, user) -> None:
    start = utcnow()
    token = begin_session(session, user.id, now=start)
    session.commit()
    check_session(session, token, now=start + TOUCH_EVERY / 2)
    session.commit()
    row = session.exec(select(SignInSession)).one()
    session.refresh(row)
    assert abs(row.last_seen_at.replace(tzinfo=None) - start.replace(tzinfo=None)) < (
        timedelta(seconds=1)
    )
    check_session(session, token, now=start + TOUCH_EVERY * 2)
    session.commit()
    session.refresh(row)
    assert row.last_seen_at.replace(tzinfo=None) > start.replace(tzinfo=None) + TOUCH_EVERY


def test_sign_out_ends_this_browsers_session_only(session, user) -> None:
    here, elsewhere = begin_session(session, user.id), begin_session(session, user.id)
    session.commit()
    actor = actor_for(session, user)
    end_session(session, actor, here)
    session.commit()
    assert check_session(session, here).actor is None
    assert "signed out" in check_session(session, here).ended
    assert check_session(session, elsewhere).actor is not None
    # Another account cannot end this one's session by presenting its token.
    other = Actor("mallory", "admin", user_id=user.id + 1)
    end_session(session, other, elsewhere)
    session.commit()
    assert check_session(session, elsewhere).actor is not None


def test_switching_an_account_off_ends_every_session(session, user) -> None:
    tokens = [begin_session(session, user.id) for _ in range(3)]
    session.commit()
    update_user(session, SYSTEM, user.id, active=False)
    session.commit()
    for token in tokens:
        ended = check_session(session, token)
        assert ended.actor is None and "switched off" in ended.ended
    # Switched on again, the old sessions stay ended: the person signs in afresh.
    update_user(session, SYSTEM, user.id, active=True)
    session.commit()
    assert all(check_session(session, t).actor is None for t in tokens)


def test_a_new_password_ends_every_session(session, user) -> None:
    by_admin = begin_session(session, user.id)
    session.commit()
    set_password(session, SYSTEM, user.id, NEW_PASSWORD)
    session.commit()
    assert "password was changed" in check_session(session, by_admin).ended
    own = begin_session(session, user.id)
    session.commit()
    change_own_password(session, actor_for(session, user), NEW_PASSWORD, PASSWORD)
    session.commit()
    assert check_session(session, own).actor is None


def test_ending_sessions_from_the_command_line_and_who_may(session, user) -> None:
    tokens = [begin_session(session, user.id) for _ in range(2)]
    session.commit()
    principal = Actor("someone", "principal", user_id=user.id + 100)
    with pytest.raises(PermissionDenied):
        end_all_sessions(session, principal, user.username)
    with pytest.raises(PermissionDenied):  # nor learn which names exist
        end_all_sessions(session, principal, "no-such-user")
    with pytest.raises(Invalid):
        end_all_sessions(session, SYSTEM, "no-such-user")
    assert end_all_sessions(session, SYSTEM, user.username) == 2
    session.commit()
    assert all("administrator ended" in check_session(session, t).ended for t in tokens)
    rows = list_sessions(session, SYSTEM, user.username)
    assert len(rows) == 2 and all(r.ended is not None for r in rows)
    assert end_all_sessions(session, SYSTEM, user.username) == 0


# --- password reset -------------------------------------------------------------------------


def test_a_reset_link_works_once_and_ends_every_session(session, user) -> None:
    signed_in = begin_session(session, user.id)
    letters = request_password_reset(session, "  CEO@Kingsmere.example.gov.uk ")
    session.commit()
    assert len(letters) == 1
    token = letters[0].link.split("?reset=", 1)[1]
    stored = session.exec(select(PasswordReset)).one()
    assert token not in stored.token_hash
    assert reset_account_name(session, token) == user.username

    with pytest.raises(Invalid) as refused:  # the same rules as any password
        reset_password(session, token, "short")
    assert "not changed" in str(refused.value)
    session.rollback()
    reset_password(session, token, NEW_PASSWORD)
    session.commit()
    assert authenticate(session, user.username, NEW_PASSWORD).ok
    assert check_session(session, signed_in).actor is None
    with pytest.raises(Invalid, match="already been used"):
        reset_password(session, token, "another fine password")
    actions = session.exec(select(AuditEvent.action)).all()
    assert "password reset requested" in actions and "password reset" in actions


def test_a_reset_link_expires(session, user) -> None:
    start = utcnow()
    letters = request_password_reset(session, user.username, now=start)
    session.commit()
    token = letters[0].link.split("?reset=", 1)[1]
    with pytest.raises(Invalid) as late:
        reset_password(session, token, NEW_PASSWORD, now=start + RESET_LIFETIME)
    assert str(late.value) == RESET_LINK_REFUSED
    assert authenticate(session, user.username, PASSWORD).ok


def test_a_new_password_spends_every_outstanding_link(session, user) -> None:
    first = request_password_reset(session, user.username)[0].link.split("=", 1)[1]
    second = request_password_reset(session, user.username)[0].link.split("=", 1)[1]
    session.commit()
    reset_password(session, second, NEW_PASSWORD)
    session.commit()
    with pytest.raises(Invalid):
        reset_account_name(session, first)


def test_a_switched_off_account_gets_no_link_and_its_links_stop(session, user) -> None:
    token = request_password_reset(session, user.username)[0].link.split("=", 1)[1]
    session.commit()
    update_user(session, SYSTEM, user.id, active=False)
    session.commit()
    with pytest.raises(Invalid):
        reset_password(session, token, NEW_PASSWORD)
    session.rollback()
    assert request_password_reset(session, user.username) == []


def test_reset_requests_are_limited_per_hour(session, user) -> None:
    start = utcnow()
    sent = [request_password_reset(session, user.username, now=start) for _ in range(5)]
    session.commit()
    assert [len(s) for s in sent] == [1] * RESETS_PER_HOUR + [0] * (5 - RESETS_PER_HOUR)
    later = request_password_reset(session, user.username, now=start + timedelta(minutes=61))
    assert len(later) == 1


def test_unknown_addresses_and_oidc_accounts_get_nothing(session, user) -> None:
    create_user(session, SYSTEM, "oidc@example.org", "admin", None)
    session.commit()
    assert request_password_reset(session, "nobody@example.org") == []
    assert request_password_reset(session, "oidc@example.org") == []
    assert request_password_reset(session, "not an address") == []


def test_an_administrator_can_issue_a_link_by_hand(session, user, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_BASE_URL", "https://tandem.example.gov.uk/")
    link = issue_reset_link(session, SYSTEM, user.username)
    session.commit()
    assert link.startswith("https://tandem.example.gov.uk/?reset=")
    with pytest.raises(PermissionDenied):
        issue_reset_link(session, actor_for(session, user).__class__("p", "principal"), "x")
    reset_password(session, link.split("=", 1)[1], NEW_PASSWORD)
    session.commit()
    assert authenticate(session, user.username, NEW_PASSWORD).ok


def test_reset_letters_go_through_the_real_smtp_server(session, user, monkeypatch) -> None:
    with running_inbox(monkeypatch) as inbox:
        letters = request_password_reset(session, user.username)
        session.commit()
        report = send_reset_letters(letters)
        assert report.sent == 1 and not report.failed
        message = inbox.to(user.username)[0]
        text = body(message)
        assert f"{BASE_URL}/?reset=" in text
        assert "works once" in text
        assert PASSWORD not in text and "Dear Sam" in text


def test_long_expired_sessions_are_deleted_at_the_next_sign_in(session, user) -> None:
    from governance.sign_in import KEEP_ENDED

    start = utcnow()
    begin_session(session, user.id, now=start)
    begin_session(session, user.id, now=start + SESSION_LIFETIME)
    session.commit()
    assert len(session.exec(select(SignInSession)).all()) == 2  # kept a while, for the list
    begin_session(session, user.id, now=start + SESSION_LIFETIME + KEEP_ENDED + timedelta(1))
    session.commit()
    assert len(session.exec(select(SignInSession)).all()) == 2  # the first is gone


# --- the command line -----------------------------------------------------------------------


def test_tandem_user_sessions_reset_link_and_home(sqlite_engine, sqlite_url) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cycle_builder import build_cycle

    from core.db import session_scope

    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        leader = create_user(
            s,
            SYSTEM,
            "leader@llanfair.gov.uk",
            "principal",
            PASSWORD,
            person_id=built.people["leader"],
        )
        tokens = [begin_session(s, leader.id) for _ in range(2)]
    tandem = str(Path(sys.executable).parent / "tandem")
    env = {**os.environ, "TANDEM_DATABASE_URL": sqlite_url, "TANDEM_BASE_URL": BASE_URL}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tandem, *args], capture_output=True, text=True, env=env, timeout=300)

    listed = run("user", "sessions", "leader@llanfair.gov.uk")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("lasts until") == 2
    ended = run("user", "sessions", "leader@llanfair.gov.uk", "--end")
    assert "2 sign-ins of leader@llanfair.gov.uk ended." in ended.stdout
    with session_scope(sqlite_engine) as s:
        assert all(check_session(s, t).actor is None for t in tokens)
    assert run("user", "sessions", "nobody").returncode == 1

    home = run("user", "home", "leader@llanfair.gov.uk")
    assert home.returncode == 0, home.stderr
    assert "Cllr Siân Llewelyn & Rhodri ap Dafydd" in home.stdout
    assert "closes on 1 February 2027" in home.stdout

    link = run("user", "reset-link", "leader@llanfair.gov.uk")
    assert link.returncode == 0, link.stderr
    url = link.stdout.splitlines()[0]
    assert url.startswith(f"{BASE_URL}/?reset=")
    with session_scope(sqlite_engine) as s:
        reset_password(s, url.split("=", 1)[1], NEW_PASSWORD)
    with session_scope(sqlite_engine) as s:
        assert authenticate(s, "leader@llanfair.gov.uk", NEW_PASSWORD).ok
