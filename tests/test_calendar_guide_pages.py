"""The plan and report pages' new sections through AppTest on the demo council: the council
calendar (staff), a publicity action flagged in the pre-election period, a goal citing a
peer challenge recommendation, and the development guide, one expander per dimension."""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from shown import alerts, html_texts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.roles import SYSTEM
from feedback.models import Cycle, Pairing, Person
from planning.calendar import set_council_date
from planning.models import CouncilDate
from planning.plans import add_action, add_goal, find_plan, read_plan

APP = "../app.py"
POLL = date(2027, 5, 6)
PUBLICITY = "Issue a joint press release on the new leisure centre"
DIMENSIONS = [
    "Clear roles",
    "Respect and empathy",
    "Listening and advice",
]


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def demo(demo_url, demo_engine, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    with Session(demo_engine) as s:
        leader = s.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        plan = find_plan(s, pairing.id, cycle.id)
    return demo_engine, pairing, cycle, plan


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def expander_labels(at: AppTest) -> list[str]:
    return [e.label for e in at.expander]


def test_staff_record_and_remove_a_council_date(demo) -> None:
    engine, pairing, *_ = demo
    at = open_page("pages/plan.py")
    assert "Council calendar" in expander_labels(at)
    at.selectbox(key="cal_kind").set_value("election")
    at.date_input(key="cal_on").set_value(POLL)
    at.text_input(key="cal_label").set_value("Borough elections")
    next(b for b in at.button if b.label == "Save the date").click().run()
    assert not at.exception
    assert "Date saved." in alerts(at, "success")
    with Session(engine) as s:
        [row] = s.exec(select(CouncilDate)).all()
        assert (row.kind, row.falls_on, row.label) == ("election", POLL, "Borough elections")
        assert row.council_id == pairing.council_id and row.period_starts_on is None
    texts = html_texts(at)
    assert any(
        "Polling day: Borough elections, 6 May 2027 (pre-election period 25 March 2027 to "
        "6 May 2027, the default)" in t
        for t in texts
    )
    at.button(key=f"cal_remove_{row.id}").click().run()
    assert not at.exception
    with Session(engine) as s:
        assert s.exec(select(CouncilDate)).all() == []


def test_a_publicity_action_in_the_period_is_flagged(demo) -> None:
    engine, pairing, cycle, plan = demo
    with Session(engine) as s:
        goal = add_goal(s, SYSTEM, plan.id, "credit", "Share the credit")
        add_action(s, SYSTEM, goal.id, PUBLICITY, "joint", due_on=date(2027, 4, 20))
        add_action(s, SYSTEM, goal.id, "Review the scheme of delegation", "joint",
                   due_on=date(2027, 4, 21))  # fmt: skip
        s.commit()
    at = open_page("pages/plan.py")
    assert not [a for a in alerts(at, "warning") if "pre-election period" in a]  # no election
    with Session(engine) as s:
        set_council_date(s, SYSTEM, pairing.council_id, "election", POLL)
        s.commit()
    at = open_page("pages/plan.py")
    flagged = [a for a in alerts(at, "warning") if "pre-election period" in a]
    assert len(flagged) == 1
    assert flagged[0].startswith("Action 1: Due in the pre-election period (25 March 2027")


def test_a_goal_cites_a_peer_challenge_recommendation_on_the_page(demo) -> None:
    engine, _, _, plan = demo
    with Session(engine) as s:
        goal = read_plan(s, SYSTEM, plan.id).goals[0]
    at = open_page("pages/plan.py")
    at.text_input(key=f"cite_ref_{goal.id}").set_value("CPC 2025 rec. 3")
    at.text_area(key=f"cite_text_{goal.id}").set_value("Agree a member–officer protocol.")
    next(b for b in at.button if b.label == "Save the citation").click().run()
    assert not at.exception
    assert "Citation saved." in alerts(at, "success")
    with Session(engine) as s:
        assert read_plan(s, SYSTEM, plan.id).goals[0].citation == (
            "CPC 2025 rec. 3: Agree a member–officer protocol."
        )
    assert any(
        "Answers peer challenge recommendation CPC 2025 rec. 3: Agree a member–officer "
        "protocol." in t
        for t in html_texts(at)
    )


@pytest.mark.parametrize("page", ["pages/plan.py", "pages/report.py"])
def test_the_development_guide_has_an_expander_per_dimension(demo, page: str) -> None:
    at = open_page(page)
    assert "Development guide" in [h.value for h in at.subheader]
    labels = expander_labels(at)
    for name in DIMENSIONS:
        assert name in labels
    guides = [e for e in at.expander if e.label in DIMENSIONS]
    texts = html_texts(guides[0])
    assert "What good looks like" in texts and "Practical actions" in texts
    assert any("Cllr Margaret Oduya (the member): sets out the destination" in t for t in texts)
    assert any("Hold an introductory one-to-one" in t for t in texts)
    assert any("Speaks to: Governance and culture" in t for t in texts)
