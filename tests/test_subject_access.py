"""Subject access export: everything about one person, and nobody else's data."""

from __future__ import annotations

import io
import json

import pytest
from cycle_builder import build_cycle
from openpyxl import load_workbook
from shown import alerts
from sqlmodel import Session, select

from core.errors import NotFound, PermissionDenied
from core.models import AuditEvent
from core.roles import SYSTEM, Actor
from feedback.collection.invitations import issue_links
from feedback.collection.responses import dimensions_for_cycle, items_for_invitation, save_answers
from feedback.models import Invitation, Person
from feedback.setup.cycles import get_cycle
from feedback.setup.people import add_person, create_council
from governance.accounts import create_user
from governance.subject_access import find_subject, subject_access, to_json, to_xlsx
from planning.plans import add_goal, create_plan

PASSWORD = "correct horse battery"


def answer(session: Session, invitation: Invitation, value: int, comment: str) -> None:
    items = items_for_invitation(session, invitation)
    dims = dimensions_for_cycle(session, get_cycle(session, invitation.cycle_id))
    save_answers(
        session,
        invitation.id,
        {i.id: value for i in items},
        {d.id: comment for d in dims[:1]},
        open_answers={"open.partnership": f"{comment}-OPEN"},
        picks=[dims[1].id],
    )


def invitation(session: Session, person_id: int, pairing_id: int) -> Invitation:
    return session.exec(
        select(Invitation).where(
            Invitation.rater_id == person_id, Invitation.pairing_id == pairing_id
        )
    ).one()


@pytest.fixture
def world(engine, session):
    built = build_cycle(engine)
    p = built.people
    pairing = built.pairing_ids[0]
    # The leader (a principal) answers about their own pairing; member 0 and member 1 rate it.
    answer(session, invitation(session, p["leader"], pairing), 4, "LEADER-OWN-COMMENT")
    answer(session, invitation(session, p["m0"], pairing), 2, "M0-SECRET-COMMENT")
    answer(session, invitation(session, p["m1"], pairing), 5, "M1-SECRET-COMMENT")
    issue_links(session, SYSTEM, built.cycle_id)
    plan = create_plan(session, SYSTEM, pairing, built.cycle_id)
    add_goal(session, SYSTEM, plan.id, "D1", "Shared goal for the pair")
    create_user(
        session,
        SYSTEM,
        "leader@llanfair.example.gov.uk",
        "principal",
        PASSWORD,
        person_id=p["leader"],
    )
    session.commit()
    return built


def test_principal_export_holds_their_data_and_nobody_elses(session, world) -> None:
    leader = session.get(Person, world.people["leader"])
    data = subject_access(session, SYSTEM, leader.id)
    text = to_json(data).decode()

    assert data["person"]["email"] == "leader@llanfair.example.gov.uk"
    assert data["person"]["name"] == "Cllr Siân Llewelyn"
    assert [p["their_role"] for p in data["pairings"]] == ["member"]
    assert data["pairings"][0]["partner"] == "Rhodri ap Dafydd"
    assert len(data["invitations"]) == 1 and data["invitations"][0]["rater_group"] == "principal"
    assert len(data["messages"]) == 1  # the mail-merge invitation
    assert {a["value"] for a in data["own_answers_as_principal"]} == {4}
    assert [c["text"] for c in data["own_comments_as_principal"]] == ["LEADER-OWN-COMMENT"]
    # Framework 2026.2: their own open answers and chosen dimensions, nobody else's.
    assert [a["text"] for a in data["own_open_answers_as_principal"]] == ["LEADER-OWN-COMMENT-OPEN"]
    assert [p["dimension"] for p in data["own_picks_as_principal"]] == ["Respect and empathy"]
    assert [g["title"] for g in data["plan_goals"]] == ["Shared goal for the pair"]
    assert data["user_accounts"][0]["username"] == "leader@llanfair.example.gov.uk"
    assert data["user_accounts"][0]["password_set"] is True
    # Nobody else's answers, comments, emails or names; no hashes.
    assert "M0-SECRET-COMMENT" not in text and "M1-SECRET-COMMENT" not in text
    for key in ("m0", "m1", "o0", "p0", "cab", "dir"):
        assert f"{key}@llanfair" not in text
    for name in ("Cllr Member 0", "Cllr Member 1", "Officer 0", "Ffion Rhys-Jones"):
        assert name not in text
    assert "argon2" not in text and "token" not in text.replace("Link tokens", "")
    json.loads(text)


def test_rater_export_leaves_out_the_answers_they_gave(session, world) -> None:
    m0 = world.people["m0"]
    data = subject_access(session, SYSTEM, m0)
    text = to_json(data).decode()
    assert data["person"]["name"] == "Cllr Member 0"
    assert data["pairings"] == []
    assert [i["status"] for i in data["invitations"]] == ["in progress"]
    assert data["own_answers_as_principal"] == [] and data["own_comments_as_principal"] == []
    assert "M0-SECRET-COMMENT" not in text  # pseudonymous: never tied back to the rater
    assert "M1-SECRET-COMMENT" not in text and "LEADER-OWN-COMMENT" not in text
    assert "Cllr Member 1" not in text and "m1@llanfair" not in text
    assert data["plans"] == [] and data["user_accounts"] == []
    assert "pseudonymous" in data["about"]["left_out"]


def test_export_is_audited_without_answers(session, world) -> None:
    subject_access(session, SYSTEM, world.people["leader"])
    session.flush()
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "subject access export")
    ).one()
    assert event.entity == "person" and event.entity_id == world.people["leader"]
    assert "COMMENT" not in json.dumps(event.detail)


def test_workbook_has_a_sheet_per_section_and_no_formulas(session, world) -> None:
    session.get(Person, world.people["leader"]).title = '=HYPERLINK("http://evil")'
    session.flush()
    data = subject_access(session, SYSTEM, world.people["leader"])
    book = load_workbook(io.BytesIO(to_xlsx(data)))
    assert {"person", "pairings", "invitations", "own_answers_as_principal"} <= set(book.sheetnames)
    person = book["person"]
    header = [c.value for c in person[1]]
    row = dict(zip(header, [c.value for c in person[2]], strict=True))
    assert row["email"] == "leader@llanfair.example.gov.uk"
    cell = person.cell(2, header.index("title") + 1)
    assert cell.data_type == "s" and cell.quotePrefix  # text, never evaluated


def test_facilitator_of_another_council_is_refused(session, world) -> None:
    other = create_council(session, SYSTEM, "Elsewhere District Council")
    outsider = Actor("fac", "facilitator", council_ids=frozenset({other.id}))
    with pytest.raises(PermissionDenied):
        subject_access(session, outsider, world.people["leader"])
    with pytest.raises(PermissionDenied):
        find_subject(session, outsider, "leader@llanfair.example.gov.uk", world.council_id)
    with pytest.raises(PermissionDenied):  # not "nobody with that email": that would tell
        find_subject(session, outsider, "nobody@llanfair.example.gov.uk", world.council_id)
    principal = Actor("p", "principal", person_id=world.people["leader"])
    with pytest.raises(PermissionDenied):
        subject_access(session, principal, world.people["leader"])
    own = Actor("fac2", "facilitator", council_ids=frozenset({world.council_id}))
    assert subject_access(session, own, world.people["m0"])["person"]["name"] == "Cllr Member 0"


def _staff_with_history(session: Session, world, other_council: int) -> dict[str, str]:
    """Council B's facilitator and an administrator, each with sign-in failures, a lock and
    audit events of their own. Returns their usernames by role."""
    from datetime import timedelta

    from core import audit
    from core.models import utcnow
    from governance.accounts import actor_for, authenticate

    names = {"facilitator": "fac-b@elsewhere.example.gov.uk", "admin": "root@tandem.example.org"}
    for role, username in names.items():
        user = create_user(
            session,
            SYSTEM,
            username,
            role,
            PASSWORD,
            email=username,
            council_ids=[other_council] if role == "facilitator" else None,
        )
        attempt = authenticate(session, username, "wrong password entirely")
        assert attempt.user is None
        user.locked_until = utcnow() + timedelta(hours=1)  # as after many more failures
        audit.record(
            session, actor_for(session, user), f"SECRET-ACTION-{role}", "cycle", 1, other_council
        )
    session.commit()
    return names


@pytest.mark.parametrize("whose", ["facilitator", "admin"])
def test_a_facilitators_export_holds_no_account_or_audit_data(session, world, whose) -> None:
    """Issue 12: a facilitator of council A adds a "person" with council B's facilitator's
    (or an administrator's) email and asks for their data: only what council A holds."""
    other = create_council(session, SYSTEM, "Elsewhere District Council")
    staff = _staff_with_history(session, world, other.id)
    decoy = add_person(session, SYSTEM, world.council_id, "Decoy", staff[whose], "officer")
    session.commit()
    facilitator = Actor("fac-a", "facilitator", council_ids=frozenset({world.council_id}))

    data = subject_access(session, facilitator, decoy.id)
    text = to_json(data).decode()
    assert data["user_accounts"] == [] and data["audit_events"] == []
    for leaked in ("failed_attempts", "locked_until", "last_sign_in_at", "SECRET-ACTION"):
        assert leaked not in text
    assert "only an administrator" in data["about"]["not_included"]
    book = load_workbook(io.BytesIO(to_xlsx(data)))
    assert book["user_accounts"]["A1"].value == "(nothing held)"

    # An administrator's export of the same person does hold them.
    admin_data = subject_access(session, SYSTEM, decoy.id)
    [account] = admin_data["user_accounts"]
    assert account["username"] == staff[whose] and account["failed_attempts"] == 1
    assert account["locked_until"] is not None
    assert f"SECRET-ACTION-{whose}" in {e["action"] for e in admin_data["audit_events"]}
    assert admin_data["about"]["not_included"] == ""


def test_find_subject_by_council_name_or_id(session, world) -> None:
    other = create_council(session, SYSTEM, "Elsewhere District Council")
    twin = add_person(session, SYSTEM, other.id, "Namesake", "m0@llanfair.example.gov.uk", "member")
    found = find_subject(session, SYSTEM, "M0@llanfair.example.gov.uk", "Llanfair County Council")
    assert found.id == world.people["m0"]
    assert find_subject(session, SYSTEM, "m0@llanfair.example.gov.uk", other.id).id == twin.id
    with pytest.raises(NotFound):
        find_subject(session, SYSTEM, "nobody@example.org", world.council_id)
    with pytest.raises(NotFound):
        find_subject(session, SYSTEM, "m0@llanfair.example.gov.uk", "No Such Council")


# --- the data protection page and `tandem subject-access` ----------------------------------


def test_page_prepares_both_downloads(sqlite_engine, sqlite_url, monkeypatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    build_cycle(sqlite_engine)
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/data_protection.py").run()
    at.text_input(key="dp_email").input("nobody@example.org")
    next(b for b in at.button if b.label == "Prepare the export").click().run()
    assert "Nobody with the email nobody@example.org" in alerts(at, "error")[0]
    at.text_input(key="dp_email").input("m0@llanfair.example.gov.uk")
    next(b for b in at.button if b.label == "Prepare the export").click().run()
    assert not at.exception
    assert any("Export for Cllr Member 0 is ready." in t.value for t in at.text)
    name, as_json, as_xlsx, _not_included = at.session_state["dp_export"]
    assert json.loads(as_json)["person"]["email"] == "m0@llanfair.example.gov.uk"
    assert load_workbook(io.BytesIO(as_xlsx))["person"]["A1"].value == "name"
    labels = {getattr(el.proto, "label", "") for el in _leaves(at.main)}
    assert {"Download JSON", "Download workbook"} <= labels


def _leaves(node):
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from _leaves(child)
    else:
        yield node


@pytest.mark.slow
def test_cli_subject_access_json_and_xlsx(tmp_path, sqlite_template) -> None:
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from core.db import make_engine

    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    build_cycle(engine)
    engine.dispose()
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": f"sqlite:///{path}"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [tandem, "subject-access", *args], capture_output=True, text=True, env=env, timeout=120
        )

    out = run("ceo@llanfair.example.gov.uk", "-o", str(tmp_path / "ceo.json"))
    assert out.returncode == 0, out.stderr
    data = json.loads((tmp_path / "ceo.json").read_text())
    assert data["person"]["name"] == "Rhodri ap Dafydd"
    assert data["pairings"][0]["partner"] == "Cllr Siân Llewelyn"
    out = run("ceo@llanfair.example.gov.uk", "-o", str(tmp_path / "ceo.xlsx"))
    assert out.returncode == 0
    assert "person" in load_workbook(tmp_path / "ceo.xlsx").sheetnames
    out = run("ceo@llanfair.example.gov.uk", "-o", str(tmp_path / "ceo.txt"))
    assert out.returncode != 0 and "json or .xlsx" in out.stderr
    out = run("nobody@example.org", "-o", str(tmp_path / "x.json"))
    assert out.returncode == 1 and "Nobody with the email" in out.stderr
    assert "Traceback" not in out.stderr
