"""Progress reminders for plans: a real SMTP server receives one email per principal of each
pairing with actions overdue or due soon — their own plan's actions only, nothing of the
feedback — through the domain function, the command line and the plan page."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import streamlit as st
from cycle_builder import build_cycle
from mail_server import body, running_inbox
from shown import alerts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Invalid, PermissionDenied
from core.models import AuditEvent
from core.roles import SYSTEM, Actor
from planning.nudges import DUE_SOON_DAYS, plan_reminders, send_plan_reminders
from planning.plans import add_action, add_goal, create_plan, set_action_status

TANDEM = str(Path(sys.executable).with_name("tandem"))
APP = "../app.py"
TODAY = date.today()


@pytest.fixture
def smtp(monkeypatch):
    with running_inbox(monkeypatch) as inbox:
        yield inbox


@pytest.fixture
def plans(engine):
    """Two pairings: the leader's plan has one action overdue, one due soon, one due later,
    one overdue but done and one overdue but dropped; the cabinet pairing's plan has nothing
    due."""
    built = build_cycle(engine)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        add_action(s, SYSTEM, goal.id, "Options note before key decisions", "officer",
                   TODAY - timedelta(days=3))  # fmt: skip
        add_action(s, SYSTEM, goal.id, "Monthly one-to-one", "joint", TODAY + timedelta(days=5))
        add_action(s, SYSTEM, goal.id, "Review the protocol", "member", TODAY + timedelta(days=60))
        done = add_action(s, SYSTEM, goal.id, "Done already", "member", TODAY - timedelta(days=9))
        set_action_status(s, SYSTEM, done.id, "done")
        dropped = add_action(s, SYSTEM, goal.id, "Dropped", "officer", TODAY - timedelta(days=9))
        set_action_status(s, SYSTEM, dropped.id, "dropped")
        other = create_plan(s, SYSTEM, built.pairing_ids[1], built.cycle_id)
        later = add_goal(s, SYSTEM, other.id, "credit", "Share the credit")
        add_action(s, SYSTEM, later.id, "Thank officers", "member", TODAY + timedelta(days=90))
    return built


def test_each_principal_is_reminded_of_their_own_plan_only(engine, plans, smtp) -> None:
    with session_scope(engine) as s:
        [reminder] = plan_reminders(s, SYSTEM, plans.cycle_id, TODAY)
        assert [a.description for a in reminder.overdue] == ["Options note before key decisions"]
        assert [a.description for a in reminder.due_soon] == ["Monthly one-to-one"]
        report = send_plan_reminders(s, SYSTEM, plans.cycle_id)
    assert report.sent == 2 and not report.failed
    assert sorted(str(m["To"]) for m in smtp.messages) == [
        "Cllr Siân Llewelyn <leader@llanfair.example.gov.uk>",
        "Rhodri ap Dafydd <ceo@llanfair.example.gov.uk>",
    ]
    [to_leader] = smtp.to("leader@llanfair")
    assert str(to_leader["Subject"]).strip() == (
        "Your development plan with Rhodri ap Dafydd: 1 action overdue and 1 due soon"
    )
    text = body(to_leader)
    assert "Dear Cllr Siân Llewelyn," in text
    assert "- Options note before key decisions (Seek advice first) — Rhodri ap Dafydd, due" in text
    assert "- Monthly one-to-one (Seek advice first) — both of you, due" in text
    assert f"Due in the next {DUE_SOON_DAYS} days:" in text
    assert "https://tandem.example.gov.uk" in text
    for absent in ("Review the protocol", "Done already", "Dropped", "Thank officers"):
        assert absent not in text
    [to_ceo] = smtp.to("ceo@llanfair")
    assert "— you, due" in body(to_ceo)  # the officer's own action, as they would say it
    # nobody else, and nothing of the cabinet pairing, which has nothing due
    assert not smtp.to("cab@") and not smtp.to("dir@") and not smtp.to("m0@")
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "send plan reminders")).one()
    assert event.detail == {"pairings": 1, "sent": 2, "failed": 0}


def test_reminders_need_staff_and_an_email_server(engine, plans, monkeypatch) -> None:
    with session_scope(engine) as s:
        leader = Actor("leader", "principal", person_id=plans.people["leader"])
        with pytest.raises(PermissionDenied):
            plan_reminders(s, leader, plans.cycle_id, TODAY)
        stranger = Actor("f", "facilitator", council_ids=frozenset({plans.council_id + 1}))
        with pytest.raises(PermissionDenied):
            send_plan_reminders(s, stranger, plans.cycle_id)
        monkeypatch.delenv("TANDEM_SMTP_HOST", raising=False)
        with pytest.raises(Invalid, match="No email server is configured"):
            send_plan_reminders(s, SYSTEM, plans.cycle_id)


@pytest.mark.slow
def test_command_line_dry_run_then_send(db_url, smtp) -> None:
    from core.db import make_engine

    engine = make_engine(db_url)
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        add_action(s, SYSTEM, goal.id, "Options note", "officer", TODAY - timedelta(days=1))
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=120)

    dry = cli("remind-plans", str(built.cycle_id), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Cllr Siân Llewelyn & Rhodri ap Dafydd: 1 overdue, 0 due soon" in dry.stdout
    assert "dry run: nothing was sent" in dry.stdout and not smtp.messages
    sent = cli("remind-plans", "Adolygiad 2027")
    assert sent.returncode == 0, sent.stderr
    assert "2 reminders sent." in sent.stdout and len(smtp.messages) == 2


def test_the_plan_page_lists_and_sends_the_reminders(
    sqlite_engine, sqlite_url, monkeypatch, smtp
) -> None:
    built = build_cycle(sqlite_engine, second_pairing=False)
    with session_scope(sqlite_engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        add_action(s, SYSTEM, goal.id, "Options note", "officer", TODAY + timedelta(days=2))
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/plan.py").run()
        assert not at.exception
        table = next(
            d.value for d in at.dataframe if "Due soon" in d.value.columns
        )  # the reminders' preview
        assert table.to_dict("records") == [
            {"Pairing": "Cllr Siân Llewelyn & Rhodri ap Dafydd", "Overdue": 0, "Due soon": 1}
        ]
        next(b for b in at.button if b.label == "Email these reminders").click().run()
        assert not at.exception and not alerts(at, "error")
        assert any("2 reminders sent." in m for m in alerts(at, "success"))
        assert len(smtp.messages) == 2
    finally:
        st.cache_resource.clear()


def test_a_carried_plan_is_reminded_in_its_new_cycle_and_a_bad_name_stops_nobody_else(
    engine, plans, smtp
) -> None:
    """Carried forward, a plan lives on in the later cycle: the earlier cycle reminds nobody
    about it. A name the email headers refuse (stored before line separators were checked)
    fails that one email; the rest are sent and the run is audited."""
    from sqlalchemy import text

    from feedback.models import Person
    from feedback.setup.cycles import add_pairing_to_cycle, create_cycle
    from planning.models import DevelopmentPlan, PlanGoal
    from planning.nudges import last_sent
    from planning.suggestions import carry_forward

    with session_scope(engine) as s:
        assert last_sent(s, SYSTEM, plans.cycle_id) is None
        plan_ids = [
            s.exec(select(DevelopmentPlan.id).where(DevelopmentPlan.pairing_id == p)).one()
            for p in plans.pairing_ids
        ]
        cabinet_goal = s.exec(select(PlanGoal.id).where(PlanGoal.plan_id == plan_ids[1])).one()
        add_action(s, SYSTEM, cabinet_goal, "Credit the team", "member", TODAY - timedelta(1))
        later = create_cycle(
            s, SYSTEM, plans.council_id, "Adolygiad 2028", date(2028, 1, 3), date(2028, 2, 1)
        )
        later_id = later.id
        for pairing_id, plan_id in zip(plans.pairing_ids, plan_ids, strict=True):
            add_pairing_to_cycle(s, SYSTEM, later_id, pairing_id)
            carry_forward(s, SYSTEM, plan_id, later_id)
        assert plan_reminders(s, SYSTEM, plans.cycle_id, TODAY) == []
        leaders, cabinet = plan_reminders(s, SYSTEM, later_id, TODAY)
        assert [a.description for a in leaders.overdue] == ["Options note before key decisions"]
        assert [a.description for a in cabinet.overdue] == ["Credit the team"]
        # the chief executive's name as an older Tandem could have stored it
        s.execute(
            text("UPDATE person SET full_name = :n WHERE id = :i"),
            {"n": "Rhodri ap Dafydd\u2028Jr", "i": plans.people["ceo"]},
        )
        s.expire_all()
        assert "\u2028" in s.get(Person, plans.people["ceo"]).full_name
        report = send_plan_reminders(s, SYSTEM, later_id)
    # The leader's subject names the chief executive: that one email fails, in words.
    [failed] = report.failed
    assert failed.startswith("Cllr Siân Llewelyn <leader@") and "linefeed" in failed
    assert report.sent == 3  # the chief executive's own, and the cabinet pair's after it
    assert sorted(str(m["To"]).split("<")[1] for m in smtp.messages) == [
        "cab@llanfair.example.gov.uk>",
        "ceo@llanfair.example.gov.uk>",
        "dir@llanfair.example.gov.uk>",
    ]
    with session_scope(engine) as s:
        when, by = last_sent(s, SYSTEM, later_id)
        assert by == SYSTEM.label
