"""The development plan page through AppTest on the demo council: suggestions, goals and
actions, check-ins, agreement, someone else's change meanwhile, a principal's own view, and
the Excel workbook coming back with a preview before anything is saved."""

from __future__ import annotations

from io import BytesIO

import pytest
import streamlit as st
from openpyxl import load_workbook
from shown import alerts, html_texts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.roles import SYSTEM, Actor
from feedback.models import Cycle, Pairing, Person
from governance.accounts import create_user
from planning.excel import export_plans
from planning.models import CheckIn, DevelopmentPlan
from planning.plans import find_plan, read_plan, update_goal

APP = "../app.py"
PASSWORD = "three-random-words-for-plans-2026"


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


def open_page(actor_state: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (actor_state or {}).items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/plan.py").run()
    assert not at.exception
    return at


def plan_view(engine, plan_id: int) -> dict:
    with Session(engine) as s:
        return read_plan(s, SYSTEM, plan_id)


def test_staff_accept_a_suggestion_and_record_both_agreements(demo) -> None:
    engine, pairing, cycle, plan = demo
    at = open_page()
    assert at.selectbox(key="plan_cycle").value == cycle.id
    assert at.selectbox(key="plan_pairing").value == pairing.id
    assert at.subheader[0].value == "Draft: not yet agreed by both"
    labels = [b.label for b in at.button]
    assert labels.count("Add to the plan") == 3
    goals_before = len(plan_view(engine, plan.id).goals)

    accept = next(b.key for b in at.button if b.label == "Add to the plan")
    at.button(key=accept).click().run()
    assert not at.exception
    assert alerts(at, "success")[0].startswith("Added: ")
    view = plan_view(engine, plan.id)
    assert len(view.goals) == goals_before + 1 and view.goals[-1].source == "suggested"
    assert view.goals[-1].dimension == accept.removeprefix("accept_")

    dismiss = next(b.key for b in at.button if b.label == "Not for us")
    at.button(key=dismiss).click().run()
    assert alerts(at, "success")[0].startswith("Dismissed: ")
    offered = {b.key for b in at.button}
    assert accept not in offered and dismiss not in offered  # neither is offered again
    assert len(plan_view(engine, plan.id).goals) == goals_before + 1

    # Staff recording an agreement for a principal must say how it was given.
    at.button(key="sign_member").click().run()
    assert not at.exception and "a note is required" in " ".join(alerts(at, "error"))
    assert plan_view(engine, plan.id).status != "agreed"
    at.text_input(key="sign_note_member").input("agreed by email 3 Dec")
    at.button(key="sign_member").click().run()
    assert alerts(at, "success")[0] == "Agreement recorded on their behalf."
    at.text_input(key="sign_note_officer").input("signed at the board meeting")
    at.button(key="sign_officer").click().run()
    assert not at.exception
    assert at.subheader[0].value == "Agreed by both"
    page = " ".join(html_texts(at))
    assert (
        "on behalf of Cllr Margaret Oduya" in page
        and "with the note “agreed by email 3 Dec”" in page
    )
    assert plan_view(engine, plan.id).status == "agreed"


def test_add_a_goal_an_action_and_a_check_in(demo) -> None:
    engine, pairing, cycle, plan = demo
    at = open_page()
    form = at.form("new_goal")
    form.text_input[0].input("Say thank you in public")
    form.selectbox[0].select("credit")
    form.form_submit_button[0].click().run()
    assert not at.exception and alerts(at, "success")[0] == "Goal added."
    goal = plan_view(engine, plan.id).goals[-1]
    assert (goal.title, goal.dimension) == ("Say thank you in public", "credit")

    form = at.form(f"new_action_{goal.id}")
    form.text_area[0].input("Thank the housing team at full council")
    form.selectbox[0].select("member")
    form.form_submit_button[0].click().run()
    assert alerts(at, "success")[0] == "Action added."
    [action] = plan_view(engine, plan.id).goals[-1].actions
    assert action.owner == "member" and action.status == "not started"

    form = at.form("check_in")
    form.text_area[0].input("Done at the March meeting")
    form.selectbox[0].select(action.id)
    form.selectbox[1].select("done")
    form.form_submit_button[0].click().run()
    assert alerts(at, "success")[0] == "Check-in saved."
    view = plan_view(engine, plan.id)
    assert view.goals[-1].actions[0].status == "done"
    assert view.check_ins[-1].note == "Done at the March meeting"
    table = next(d.value for d in at.dataframe if "Note" in d.value.columns)  # newest first
    assert table.iloc[0]["Note"] == "Done at the March meeting"
    assert table.iloc[0]["Status"] == "not started → done"

    # a bad form shows the reason and saves nothing
    at.form("new_goal").form_submit_button[0].click().run()
    assert alerts(at, "error")[0] == "A goal needs a title."


def test_a_change_made_meanwhile_is_not_overwritten(demo) -> None:
    engine, pairing, cycle, plan = demo
    at = open_page()
    goal_id = plan_view(engine, plan.id).goals[0].id
    with session_scope(engine) as s:  # the chief executive edits from another browser
        ceo = Actor("ceo", "principal", person_id=pairing.officer_id)
        update_goal(s, ceo, goal_id, title="Advice before announcements")
    form = at.form(f"goal_{goal_id}")
    form.text_input[0].input("The leader's wording")
    form.form_submit_button[0].click().run()
    assert not at.exception
    [error] = alerts(at, "error")
    assert error.startswith("David Ashworth changed this plan at ")
    assert error.endswith("your change was not saved — reload to see theirs.")
    assert plan_view(engine, plan.id).goals[0].title == "Advice before announcements"
    assert "has changed this plan since you opened it" in alerts(at, "warning")[0]
    at.button(key="reload").click().run()
    assert not alerts(at, "warning")
    form = at.form(f"goal_{goal_id}")
    form.text_input[0].input("The leader's wording")
    form.form_submit_button[0].click().run()
    assert alerts(at, "success")[0] == "Goal saved."
    assert plan_view(engine, plan.id).goals[0].title == "The leader's wording"


def test_a_principal_sees_only_their_own_pairing_and_signs_for_themself(demo) -> None:
    engine, pairing, cycle, plan = demo
    with session_scope(engine) as s:
        create_user(s, SYSTEM, "admin@example.org", "admin", PASSWORD)
        user = create_user(
            s, SYSTEM, "oduya@example.org", "principal", PASSWORD, person_id=pairing.member_id
        )
        user_id = user.id
    me = Actor("oduya@example.org", "principal", person_id=pairing.member_id, user_id=user_id)
    at = open_page({"user_id": user_id, "actor": me})
    assert at.selectbox(key="plan_pairing").options == [
        "Cllr Margaret Oduya & David Ashworth (Leadership of the council)"
    ]
    labels = [b.label for b in at.button]
    assert "I agree to this plan" in labels
    assert not any(label.startswith("Record ") for label in labels)
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download this plan (.xlsx)"]
    at.button(key="sign_member").click().run()
    assert not at.exception
    [me_signed, ceo] = plan_view(engine, plan.id).signoffs
    assert me_signed.current and not ceo.current


def test_upload_shows_a_preview_then_saves_on_confirmation(demo) -> None:
    engine, pairing, cycle, plan = demo
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, cycle.id, pairing.id)
    wb = load_workbook(BytesIO(data))
    ws = wb["Leadership of the council"]
    ws["H5"] = "in progress"
    ws["J5"] = "Agenda item added"
    buf = BytesIO()
    wb.save(buf)
    wb = load_workbook(BytesIO(data))
    wb["Leadership of the council"]["H5"] = "Finished"
    bad = BytesIO()
    wb.save(bad)

    at = open_page()
    at.file_uploader(key="plan_upload").upload("bad.xlsx", bad.getvalue()).run()
    assert not at.exception
    assert alerts(at, "error")[0].startswith("Nothing was saved")
    assert "status 'Finished' is not one of" in alerts(at, "error")[0]
    assert "Save these changes" not in [b.label for b in at.button]

    at.file_uploader(key="plan_upload").clear()
    at.file_uploader(key="plan_upload").upload("plans.xlsx", buf.getvalue()).run()
    assert not at.exception
    assert "Ready to save: 2 changes." in html_texts(at)
    with Session(engine) as s:
        assert s.exec(select(CheckIn)).all() == []  # the preview saved nothing
    next(b for b in at.button if b.label == "Save these changes").click().run()
    assert not at.exception
    assert alerts(at, "success")[0] == "Saved: 2 changes."
    with Session(engine) as s:
        [check_in] = s.exec(select(CheckIn)).all()
        assert check_in.note == "Agenda item added" and check_in.status_to == "in progress"
        assert s.get(DevelopmentPlan, plan.id).revision > plan.revision


def test_an_uploaded_workbook_is_checked_once_not_on_every_rerun(demo, monkeypatch) -> None:
    """The dry run reads the whole workbook; clicks elsewhere on the page must not repeat it."""
    import planning.excel_import as excel_import

    engine, pairing, cycle, plan = demo
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, cycle.id, pairing.id)
    wb = load_workbook(BytesIO(data))
    wb["Leadership of the council"]["H5"] = "in progress"
    buf = BytesIO()
    wb.save(buf)
    dry_runs: list[bytes] = []
    real = excel_import.import_plans

    def counting(session, actor, data, apply=False, **kwargs):
        if not apply:
            dry_runs.append(data)  # a spy: the real import still runs
        return real(session, actor, data, apply, **kwargs)

    monkeypatch.setattr(excel_import, "import_plans", counting)
    at = open_page()
    at.file_uploader(key="plan_upload").upload("plans.xlsx", buf.getvalue()).run()
    assert "Ready to save: 1 change." in html_texts(at)
    at.run()
    at.run()
    assert not at.exception
    assert "Ready to save: 1 change." in html_texts(at)
    assert len(dry_runs) == 1  # three runs of the page, one check
