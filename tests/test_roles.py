"""Roles: every domain action and page refuses whoever must not reach it — a facilitator of
another council, a principal of another pairing, a principal before publication — and rater
links: guessed tokens, reuse after submit, after revocation."""

from __future__ import annotations

import secrets
from datetime import date
from types import SimpleNamespace

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, html_texts
from signing_in import sign_in
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core import audit
from core.db import session_scope
from core.errors import PermissionDenied
from core.roles import SYSTEM
from feedback.collection.invitations import (
    LinkOutcome,
    issue_links,
    issue_token,
    resolve_token,
    revoke_invitation,
    send_reminders,
    update_wording,
)
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.collection.tracking import (
    cycle_totals,
    message_history,
    not_responded,
    response_rates,
)
from feedback.models import Invitation
from feedback.results.publication import list_editions, publish_cycle, read_council_overview
from feedback.results.publication import read_pairing_report as read_report
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.pairings import (
    edit_pairing,
    end_pairing,
    remove_pairing,
    remove_pairing_from_cycle,
)
from feedback.setup.people import (
    add_person,
    create_council,
    create_pairing,
    delete_council,
    remove_person,
    set_governance,
    set_person_kind,
)
from feedback.setup.people_import import import_people, update_person
from governance.accounts import actor_for, create_user, unlock_user, update_user, users_table
from governance.retention import expired_cycles, purge, set_retention
from governance.subject_access import subject_access
from planning.excel import export_plans
from planning.plans import add_goal, create_plan, plan_history, read_plan

APP = "../app.py"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _world(engine) -> SimpleNamespace:
    built = build_cycle(engine)
    p = built.people
    with session_scope(engine) as s:
        other = create_council(s, SYSTEM, "Elsewhere District Council")
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        inv = s.exec(select(Invitation).where(Invitation.rater_id == p["m0"])).first()
        fac = create_user(s, SYSTEM, "fac@elsewhere.gov.uk", "facilitator", council_ids=[other.id])
        # Accounts without passwords (identity-provider only): no hashing, fast tests.
        # Principal of the second pairing (cabinet–director), and of the first.
        other_principal = create_user(
            s, SYSTEM, "dir@llanfair.gov.uk", "principal", person_id=p["dir"]
        )
        own_principal = create_user(
            s, SYSTEM, "leader@llanfair.gov.uk", "principal", person_id=p["leader"]
        )
        admin = create_user(s, SYSTEM, "admin@example.org", "admin")
        actors = {
            "facilitator of another council": actor_for(s, fac),
            "principal of another pairing": actor_for(s, other_principal),
            "principal before publication": actor_for(s, own_principal),
        }
        return SimpleNamespace(
            built=built,
            other_id=other.id,
            plan_id=plan.id,
            invitation_id=inv.id,
            admin_id=admin.id,
            fac_id=fac.id,
            actors=actors,
            users={
                "facilitator of another council": fac.id,
                "principal of another pairing": other_principal.id,
                "principal before publication": own_principal.id,
            },
        )


@pytest.fixture
def world(engine) -> SimpleNamespace:
    return _world(engine)


def _council(w):
    return w.built.council_id


STAFF_ACTIONS = {
    "add person": lambda s, a, w: add_person(s, a, _council(w), "X Y", "x@y.org", "member"),
    "update person": lambda s, a, w: update_person(
        s, a, w.built.people["m0"], "Renamed", "m0@llanfair.example.gov.uk"
    ),
    "import people": lambda s, a, w: import_people(
        s, a, _council(w), "people.csv", b"name,email,kind\nA B,a@b.org,member\n"
    ),
    "create pairing": lambda s, a, w: create_pairing(
        s, a, _council(w), "cabinet–director", w.built.people["m0"], w.built.people["o0"]
    ),
    "edit pairing": lambda s, a, w: edit_pairing(
        s,
        a,
        w.built.pairing_ids[1],
        kind="cabinet–director",
        member_id=w.built.people["m0"],
        officer_id=w.built.people["o0"],
        portfolio="",
        started_on=None,
    ),  # fmt: skip
    "end pairing": lambda s, a, w: end_pairing(s, a, w.built.pairing_ids[1]),
    "remove pairing": lambda s, a, w: remove_pairing(s, a, w.built.pairing_ids[1]),
    "remove pairing from cycle": lambda s, a, w: remove_pairing_from_cycle(
        s, a, w.built.cycle_id, w.built.pairing_ids[1]
    ),
    "remove person": lambda s, a, w: remove_person(s, a, w.built.people["p0"]),
    "set person kind": lambda s, a, w: set_person_kind(s, a, w.built.people["p0"], "officer"),
    "create council": lambda s, a, w: create_council(s, a, "Rogue Council"),
    "set governance": lambda s, a, w: set_governance(s, a, _council(w), "committee system"),
    "delete council": lambda s, a, w: delete_council(s, a, _council(w)),
    "create cycle": lambda s, a, w: create_cycle(
        s, a, _council(w), "Rogue", date(2027, 3, 1), date(2027, 4, 1)
    ),
    "close cycle": lambda s, a, w: set_cycle_status(s, a, w.built.cycle_id, "closed"),
    "add pairing to cycle": lambda s, a, w: add_pairing_to_cycle(
        s, a, w.built.cycle_id, w.built.pairing_ids[1]
    ),
    "nominate rater": lambda s, a, w: nominate_rater(
        s, a, w.built.cycle_id, w.built.pairing_ids[1], w.built.people["m1"], "members"
    ),
    "issue link": lambda s, a, w: issue_token(s, a, w.invitation_id),
    "issue links (mail merge)": lambda s, a, w: issue_links(s, a, w.built.cycle_id),
    "revoke invitation": lambda s, a, w: revoke_invitation(s, a, w.invitation_id),
    "change wording": lambda s, a, w: update_wording(
        s, a, w.built.cycle_id, "S", "Body {link}", "R", "Body {link}"
    ),
    "send reminders": lambda s, a, w: send_reminders(s, a, w.built.cycle_id),
    "response rates": lambda s, a, w: response_rates(s, a, w.built.cycle_id),
    "cycle totals": lambda s, a, w: cycle_totals(s, a, w.built.cycle_id),
    "not responded": lambda s, a, w: not_responded(s, a, w.built.cycle_id),
    "message history": lambda s, a, w: message_history(s, a, w.built.cycle_id),
    "publish": lambda s, a, w: publish_cycle(s, a, w.built.cycle_id),
    "list editions": lambda s, a, w: list_editions(s, a, w.built.cycle_id),
    "council overview": lambda s, a, w: read_council_overview(s, a, w.built.cycle_id),
    "set retention": lambda s, a, w: set_retention(s, a, _council(w), 12),
    "purge": lambda s, a, w: purge(s, a, date(2040, 1, 1), council_id=_council(w)),
    "expired cycles": lambda s, a, w: expired_cycles(s, a, date(2040, 1, 1), _council(w)),
    "subject access export": lambda s, a, w: subject_access(s, a, w.built.people["m0"]),
    "create user": lambda s, a, w: create_user(s, a, "new@example.org", "admin", PASSWORD),
    "switch off user": lambda s, a, w: update_user(s, a, w.admin_id, active=False),
    "unlock user": lambda s, a, w: unlock_user(s, a, w.fac_id),
    "list users": lambda s, a, w: users_table(s, a),
    "read audit log": lambda s, a, w: audit.read_log(s, a),
}
PAIRING_ACTIONS = {
    "read report": lambda s, a, w: read_report(s, a, w.built.cycle_id, w.built.pairing_ids[0]),
    "read plan": lambda s, a, w: read_plan(s, a, w.plan_id),
    "plan history": lambda s, a, w: plan_history(s, a, w.plan_id),
    "add goal": lambda s, a, w: add_goal(s, a, w.plan_id, "D1", "Rogue goal"),
    "export plan": lambda s, a, w: export_plans(
        s, a, w.built.cycle_id, pairing_id=w.built.pairing_ids[0]
    ),
}
ROLES = [
    "facilitator of another council",
    "principal of another pairing",
    "principal before publication",
]


@pytest.mark.parametrize("role", ROLES)
def test_domain_actions_refuse_the_wrong_role(world, session: Session, role) -> None:
    """Every action, each in a savepoint rolled back afterwards, must raise PermissionDenied."""
    actions = dict(STAFF_ACTIONS)
    for name, fn in PAIRING_ACTIONS.items():
        # The pairing's own principal may read and write its plan; only the report waits.
        if role != "principal before publication" or name == "read report":
            actions[name] = fn
    let_through = []
    for name, fn in actions.items():
        savepoint = session.begin_nested()
        try:
            fn(session, world.actors[role], world)
            let_through.append(name)
        except PermissionDenied:
            pass
        finally:
            savepoint.rollback()
    assert let_through == [], f"{role} was let through: {let_through}"
    assert len(actions) >= 32


def test_principal_reads_own_report_once_published_and_never_anothers(engine) -> None:
    w = _world(engine)
    own = w.actors["principal before publication"]
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, w.built.cycle_id, "closed")
        publish_cycle(s, SYSTEM, w.built.cycle_id)
    with Session(engine) as s:
        report = read_report(s, own, w.built.cycle_id, w.built.pairing_ids[0])
        assert report is not None
        assert read_plan(s, own, w.plan_id)
        with pytest.raises(PermissionDenied):
            read_report(s, own, w.built.cycle_id, w.built.pairing_ids[1])
        with pytest.raises(PermissionDenied):
            read_report(
                s,
                w.actors["principal of another pairing"],
                w.built.cycle_id,
                w.built.pairing_ids[0],
            )


# --- pages -----------------------------------------------------------------------------

STAFF_PAGES = [
    "pages/people.py",
    "pages/pairings.py",
    "pages/cycles.py",
    "pages/council.py",
    "pages/present.py",
    "pages/users.py",
    "pages/audit.py",
    "pages/data_protection.py",
]
SECRETS = ("Llanfair", "Siân", "Rhodri", "Adolygiad", "Cllr Member 0", "m0@llanfair")
# What a principal's own home rightly shows them: their council and cycle, and (for the
# leader's pairing) the two of them. Never a rater, nor another pairing.
OWN_ON_HOME = {
    "principal of another pairing": ("Llanfair", "Adolygiad"),
    "principal before publication": ("Llanfair", "Adolygiad", "Siân", "Rhodri"),
}


def shown(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "title", "subheader", "caption", "info", "error", "warning", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [str(sb.options) for sb in at.selectbox]
    return " ".join(parts + html_texts(at))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", [*STAFF_PAGES, "pages/report.py", "pages/home.py"])
def test_pages_show_nothing_of_another_council_or_pairing(
    sqlite_engine, sqlite_url, monkeypatch, role, page
) -> None:
    """The page itself refuses: it is run directly (as AppTest does after the first run, and
    as Streamlit can for a fresh server's first request), with the menu out of the way."""
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    w = _world(sqlite_engine)
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user_id"] = w.admin_id
    at.run()  # the administrator's menu registers every page
    at.session_state["user_id"] = w.users[role]
    at.switch_page(page).run()
    assert not at.exception
    text = shown(at)
    for secret in SECRETS:
        if page == "pages/home.py" and secret in OWN_ON_HOME.get(role, ()):
            continue  # a principal's home shows their own council, cycle and pairing
        assert secret not in text, f"{role} saw {secret!r} on {page}"
    if page in ("pages/users.py", "pages/audit.py"):
        assert "Only an administrator can do this." in alerts(at, "error")
    if page == "pages/data_protection.py" and role.startswith("principal"):
        assert "Only facilitators and administrators" in alerts(at, "error")[0]


def test_the_menu_offers_each_role_only_its_screens(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    w = _world(sqlite_engine)
    for role, expected_missing in (
        ("principal before publication", STAFF_PAGES),
        ("facilitator of another council", ["pages/users.py", "pages/audit.py"]),
    ):
        at = AppTest.from_file(APP, default_timeout=30)
        at.session_state["user_id"] = w.users[role]
        at.run()
        for page in expected_missing:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(page)


# --- rater links -----------------------------------------------------------------------


def test_guessed_tokens_are_not_recognised(sqlite_engine, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    w = _world(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        issue_links(s, SYSTEM, w.built.cycle_id)
    with Session(sqlite_engine) as s:
        for _ in range(200):
            assert resolve_token(s, secrets.token_urlsafe(32)).outcome == LinkOutcome.unknown
        for guess in ("1", "admin", "' OR 1=1 --", "../../etc/passwd", "<script>", "A" * 500):
            assert resolve_token(s, guess).outcome == LinkOutcome.unknown
    for guess in (secrets.token_urlsafe(32), "' OR 1=1 --"):
        at = AppTest.from_file(APP, default_timeout=30)
        at.query_params["t"] = guess
        at.run()
        assert not at.exception
        assert "not recognised" in at.info[0].value
        text = shown(at)
        assert not any(secret in text for secret in SECRETS)
        assert not at.radio and not at.button and not at.text_area


def test_a_link_after_submit_shows_no_answers_and_after_revocation_dead(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    w = _world(sqlite_engine)
    p = w.built.people
    with session_scope(sqlite_engine) as s:
        submitted = s.exec(select(Invitation).where(Invitation.rater_id == p["m1"])).one()
        token = issue_token(s, SYSTEM, submitted.id)
        items = items_for_invitation(s, submitted)
        save_answers(s, submitted.id, {i.id: 4 for i in items})
        submit_response(s, submitted.id)
        revoked = s.exec(select(Invitation).where(Invitation.rater_id == p["m2"])).one()
        dead = issue_token(s, SYSTEM, revoked.id)
        revoke_invitation(s, SYSTEM, revoked.id)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    # Submitted answers are never shown again, not even read-only (issue 12).
    assert not at.radio and not at.text_area and "Submitted on" in at.success[0].value
    assert not [b for b in at.button if "Submit" in b.label and not b.disabled]
    with session_scope(sqlite_engine) as s, pytest.raises(Exception, match="already"):
        save_answers(s, submitted.id, {items[0].id: 1})
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = dead
    at.run()
    # Revoking forgets the link's fingerprint, so it is simply not recognised any more.
    assert "not recognised" in at.info[0].value or "withdrawn" in at.info[0].value
    assert not at.radio and not at.button
    assert not any(secret in shown(at) for secret in SECRETS)
    with Session(sqlite_engine) as s:
        outcome = resolve_token(s, dead).outcome
        assert outcome in (LinkOutcome.unknown, LinkOutcome.revoked)


def test_sign_in_helper_for_other_tests(sqlite_engine, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    w = _world(sqlite_engine)
    at = AppTest.from_file(APP, default_timeout=30)
    with Session(sqlite_engine) as s:
        actor = sign_in(at, s, role="facilitator", council_ids=[w.built.council_id])
    at.run()
    assert not at.exception and actor.council_ids == {w.built.council_id}
    assert "Llanfair County Council" in shown(at)
