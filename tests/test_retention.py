"""Retention: a purge leaves nothing of a cycle behind but an audit entry without answers."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cycle_builder import build_cycle
from shown import alerts
from sqlmodel import Session, func, select

from core.errors import Invalid, PermissionDenied
from core.models import AuditEvent, Council
from core.roles import SYSTEM, Actor
from feedback.collection.invitations import issue_links
from feedback.collection.responses import (
    dimensions_for_cycle,
    items_for_invitation,
    save_answers,
    submit_response,
)
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Invitation,
    MessageLog,
    Pairing,
    Person,
    Rating,
    Response,
)
from feedback.setup.cycles import create_cycle, get_cycle
from feedback.setup.people import create_council
from governance.retention import expired_cycles, months_before, purge, set_retention
from planning.models import DevelopmentPlan, PlanGoal, PlanRevision
from planning.plans import add_goal, create_plan

SECRET = "SECRET-COMMENT-TEXT"
# build_cycle's cycle closes on 1 Feb 2027; 36 months later is 1 Feb 2030.
AFTER = date(2030, 3, 1)
BEFORE = date(2029, 12, 1)


def count(session: Session, model, *where) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def built(engine, session):
    built = build_cycle(engine)
    invitations = session.exec(
        select(Invitation).where(Invitation.cycle_id == built.cycle_id)
    ).all()
    for inv in invitations[:4]:
        items = items_for_invitation(session, inv)
        dims = dimensions_for_cycle(session, get_cycle(session, inv.cycle_id))
        save_answers(session, inv.id, {i.id: 3 for i in items}, {dims[0].id: SECRET})
        submit_response(session, inv.id)
    issue_links(session, SYSTEM, built.cycle_id)
    plan = create_plan(session, SYSTEM, built.pairing_ids[0], built.cycle_id)
    add_goal(session, SYSTEM, plan.id, "D1", "A goal")
    session.commit()
    return built


def test_dry_run_lists_and_deletes_nothing(session, built) -> None:
    assert expired_cycles(session, SYSTEM, BEFORE).empty
    report = purge(session, SYSTEM, AFTER, dry_run=True)
    assert report.dry_run and list(report.cycles["cycle_id"]) == [built.cycle_id]
    row = report.cycles.iloc[0]
    assert row["responses"] == 4 and row["comments"] == 4 and row["ratings"] > 0
    assert row["messages"] > 0 and row["expired_on"] == date(2030, 2, 1)
    assert report.summary().startswith("Would delete 1 cycle(s)")
    session.commit()
    assert count(session, Response) == 4 and count(session, Cycle) == 1


def test_purge_leaves_nothing_of_the_cycle_behind(session, built) -> None:
    other = create_cycle(
        session, SYSTEM, built.council_id, "Later review", date(2029, 6, 1), date(2029, 7, 1)
    )
    session.commit()
    report = purge(session, SYSTEM, AFTER)
    session.commit()
    assert not report.dry_run and report.summary().startswith("Deleted 1 cycle(s)")
    gone = built.cycle_id
    assert session.get(Cycle, gone) is None
    assert session.get(Cycle, other.id) is not None  # not yet past retention
    assert count(session, Invitation, Invitation.cycle_id == gone) == 0
    assert count(session, CyclePairing, CyclePairing.cycle_id == gone) == 0
    # Nothing else in the database held answers, so every table of answers is empty.
    for model in (Response, Rating, Comment, MessageLog, Invitation):
        assert count(session, model) == 0, model.__name__
    for model in (DevelopmentPlan, PlanGoal, PlanRevision):
        assert count(session, model) == 0, model.__name__
    # The council and its pairings stay.
    assert session.get(Council, built.council_id) is not None
    assert count(session, Pairing) == 2
    # The audit entry says what went, never what anyone said.
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "purge cycle")).one()
    assert event.entity_id == gone and event.council_id == built.council_id
    assert event.detail["name"] == "Adolygiad 2027" and event.detail["responses_deleted"] == 4
    every_detail = json.dumps([e.detail for e in session.exec(select(AuditEvent)).all()])
    assert SECRET not in every_detail
    # A second purge has nothing left to do.
    assert purge(session, SYSTEM, AFTER, dry_run=True).cycles.empty


def test_purge_deletes_raters_nothing_refers_to_any_more(session, built) -> None:
    # People are "past retention" once they were added before the cut-off; move the clock
    # far enough that everyone created today is.
    far = date(2040, 1, 1)
    assert months_before(far, 36) > date.today()
    report = purge(session, SYSTEM, far)
    session.commit()
    principals = {built.people[k] for k in ("leader", "ceo", "cab", "dir")}
    left = set(session.exec(select(Person.id)).all())
    assert left == principals  # still in pairings
    assert len(report.people) == len(built.people) - 4
    assert count(session, AuditEvent, AuditEvent.action == "purge person") == len(report.people)


def test_retention_period_is_per_council_and_checked(session, built) -> None:
    set_retention(session, SYSTEM, built.council_id, 120)
    assert expired_cycles(session, SYSTEM, AFTER).empty
    set_retention(session, SYSTEM, built.council_id, 1)
    assert list(expired_cycles(session, SYSTEM, date(2027, 3, 2))["cycle_id"]) == [built.cycle_id]
    with pytest.raises(Invalid):
        set_retention(session, SYSTEM, built.council_id, 0)
    with pytest.raises(Invalid):
        set_retention(session, SYSTEM, built.council_id, 121)


def test_facilitators_purge_only_their_councils(session, built) -> None:
    elsewhere = create_council(session, SYSTEM, "Elsewhere District Council")
    theirs = Actor("fac", "facilitator", council_ids=frozenset({elsewhere.id}))
    with pytest.raises(PermissionDenied):
        purge(session, theirs, AFTER, council_id=built.council_id)
    with pytest.raises(PermissionDenied):
        set_retention(session, theirs, built.council_id, 12)
    with pytest.raises(PermissionDenied):
        purge(session, Actor("p", "principal", person_id=1), AFTER, council_id=built.council_id)
    # Without a council, a facilitator's purge covers only their own councils.
    assert purge(session, theirs, AFTER).cycles.empty
    session.commit()
    assert session.get(Cycle, built.cycle_id) is not None
    assert count(session, Response) == 4


# --- the data protection page and `tandem purge` -------------------------------------------


def test_data_protection_page_sets_retention_previews_and_purges(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = build_cycle(sqlite_engine)
    with Session(sqlite_engine) as s:
        # Closed long ago: move the cycle back so today is past a 1-month retention.
        cycle = s.get(Cycle, built.cycle_id)
        cycle.opens_on, cycle.closes_on = date(2020, 1, 6), date(2020, 2, 3)
        s.add(cycle)
        s.commit()
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/data_protection.py").run()
    assert not at.exception and at.title[0].value == "Data protection"
    at.number_input[0].set_value(120)
    next(b for b in at.button if b.label == "Save retention period").click().run()
    assert "keeps data for 120 months" in alerts(at, "success")[0]
    assert any("Nothing is past its retention period" in t.value for t in at.text)
    at.number_input[0].set_value(1)
    next(b for b in at.button if b.label == "Save retention period").click().run()
    assert any(t.value.startswith("Would delete 1 cycle(s)") for t in at.text)
    assert at.button(key="dp_purge").disabled  # not before the box is ticked
    at.checkbox(key="dp_sure").check().run()
    at.button(key="dp_purge").click().run()
    assert not at.exception
    assert alerts(at, "success")[0].startswith("Deleted 1 cycle(s)")
    with Session(sqlite_engine) as s:
        assert s.get(Cycle, built.cycle_id) is None
        assert count(s, Response) == 0 and count(s, Invitation) == 0


@pytest.mark.slow
def test_cli_purge_is_a_dry_run_unless_applied(tmp_path, sqlite_template) -> None:
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
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": f"sqlite:///{path}"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [tandem, "purge", *args], capture_output=True, text=True, env=env, timeout=120
        )

    out = run("--today", "2029-12-01")
    assert out.returncode == 0 and "Nothing is past its retention period" in out.stdout
    out = run("--today", "2030-03-01")
    assert "Would delete 1 cycle(s)" in out.stdout and "--apply" in out.stdout
    with Session(engine) as s:
        assert count(s, Cycle) == 1
    out = run("--today", "2030-03-01", "--council", "No Such Council", "--apply")
    assert out.returncode == 1 and "no council called" in out.stderr
    out = run("--today", "2030-03-01", "--council", "Llanfair County Council", "--apply")
    assert out.returncode == 0 and "Deleted 1 cycle(s)" in out.stdout
    with Session(engine) as s:
        assert count(s, Cycle) == 0 and count(s, Invitation) == 0
        assert count(s, AuditEvent, AuditEvent.action == "purge cycle") == 1
    engine.dispose()
