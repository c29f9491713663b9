"""Messy real-world text (issue 13, points 1, 3, 6 and 7): an action without a due date,
control characters pasted from Word, text too long for PostgreSQL's columns, and leading
tabs — one rule for every field (core.text), the same on SQLite and PostgreSQL, and no
export that fails or loses links. Run through the domain functions the pages call, the
plan workbook import and the real `tandem` command."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from cycle_builder import build_cycle
from openpyxl import load_workbook
from shown import alerts
from sqlmodel import Session, func, select, update

from core.db import session_scope
from core.errors import Invalid
from core.models import Council
from core.roles import SYSTEM
from core.text import one_line, paragraphs
from feedback.models import Cycle, Invitation, Pairing, Person
from feedback.setup.cycles import create_cycle, update_cycle
from feedback.setup.people import add_person, create_council, create_pairing
from feedback.setup.people_import import update_person
from planning.excel import export_plans
from planning.excel_import import import_plans
from planning.models import PlanAction, PlanGoal
from planning.plans import add_action, add_check_in, add_goal, create_plan, read_plan, update_goal

TANDEM = str(Path(sys.executable).with_name("tandem"))


def tandem(*args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)


def no_formulas(data: bytes) -> list:
    """Every cell of a workbook: none is a formula, and text a spreadsheet would run is
    marked as text (quote prefix)."""
    wb = load_workbook(BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    for c in cells:
        assert c.data_type != "f", (c.coordinate, c.value)
        if isinstance(c.value, str) and c.value[:1] in "=+-@":
            assert c.quotePrefix, (c.coordinate, c.value)
    return cells


@pytest.fixture
def plan(engine):
    built = build_cycle(engine, raters_per_group=1)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        add_action(s, SYSTEM, goal.id, "Options note before decisions", "officer", date(2027, 3, 1))
        return built, plan.id, goal.id


# --- point 1: a plan whose actions have no due date --------------------------------------


def test_clearing_every_due_date_in_the_workbook_leaves_the_export_working(engine, plan) -> None:
    built, plan_id, _goal_id = plan
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, built.cycle_id, charts=False)
    wb = load_workbook(BytesIO(data))
    ws = wb[wb.sheetnames[1]]
    ws["F5"] = None  # the one action's due date, cleared
    out = BytesIO()
    wb.save(out)
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, out.getvalue(), apply=True)
    assert result.ok and result.applied, result.errors
    with Session(engine) as s:
        assert [a.due_on for a in read_plan(s, SYSTEM, plan_id).goals[0].actions] == [None]
        for pairing in (None, built.pairing_ids[0]):  # both Excel buttons on the plan page
            wb = load_workbook(BytesIO(export_plans(s, SYSTEM, built.cycle_id, pairing)))
            overview = wb["Overview"]
            assert overview["F4"].value == 1 and overview["I4"].value == 0  # 1 action, 0 overdue


@pytest.mark.slow
def test_an_action_saved_without_a_due_date_on_the_page_leaves_the_export_working(
    demo_url, demo_engine, tmp_path, monkeypatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from planning.plans import find_plan, update_action

    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    st.cache_resource.clear()
    with Session(demo_engine) as s:
        leader = s.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        plan_id = find_plan(s, pairing.id, cycle.id).id
        actions = [a for g in read_plan(s, SYSTEM, plan_id).goals for a in g.actions]
    with session_scope(demo_engine) as s:  # all but one already without a date …
        for a in actions[1:]:
            update_action(s, SYSTEM, a.id, due_on=None)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/plan.py").run()
    form = at.form(f"action_{actions[0].id}")  # … and the last one cleared on the page
    form.date_input[0].set_value(None)
    form.form_submit_button[0].click().run()
    assert not at.exception and "Action saved." in alerts(at, "success")
    st.cache_resource.clear()
    with Session(demo_engine) as s:
        assert all(a.due_on is None for g in read_plan(s, SYSTEM, plan_id).goals for a in g.actions)
        for one in (pairing.id, None):  # what the two download buttons call
            no_formulas(export_plans(s, SYSTEM, cycle.id, one))
    out = tandem("export-plans", str(cycle.id), "-o", str(tmp_path / "p.xlsx"), url=demo_url)
    assert out.returncode == 0, out.stderr
    no_formulas((tmp_path / "p.xlsx").read_bytes())


# --- point 3: control characters -----------------------------------------------------------


def test_word_line_breaks_become_line_breaks_and_control_characters_are_refused(
    engine, plan
) -> None:
    built, plan_id, goal_id = plan
    with session_scope(engine) as s:
        action = add_action(
            s,
            SYSTEM,
            goal_id,
            "First line\vsecond line\u2028third\u2029fourth\r\nfifth",  # Word's Shift+Enter …
            "joint",
            success_measure="\tindented\r\n\r\n",
        )
        assert action.description == "First line\nsecond line\nthird\nfourth\nfifth"
        assert action.success_measure == "\tindented"
    for call, field in (
        (lambda s: add_goal(s, SYSTEM, plan_id, "advice", "Ring\x07 the bell"), "goal's title"),
        (lambda s: update_goal(s, SYSTEM, goal_id, description="Why\x00"), "why it matters"),
        (lambda s: add_action(s, SYSTEM, goal_id, "Esc\x1b", "joint"), "The action"),
        (
            lambda s: add_action(s, SYSTEM, goal_id, "Fine", "joint", success_measure="\x07"),
            "The success measure",
        ),
        (
            lambda s: add_check_in(s, SYSTEM, plan_id, date(2027, 1, 9), "Met\x00"),
            "The check-in note",
        ),
        (lambda s: create_council(s, SYSTEM, "Bell\x07 Council"), "The council's name"),
        (
            lambda s: create_cycle(
                s, SYSTEM, built.council_id, "Cycle\x0b2", date(2027, 1, 1), date(2027, 2, 1)
            ),
            "The cycle's name must be on one line",
        ),
    ):
        with session_scope(engine) as s:
            before = read_plan(s, SYSTEM, plan_id)
            with pytest.raises(Invalid) as err:
                call(s)
            assert field in str(err.value), str(err.value)
            assert "Traceback" not in str(err.value)
        with Session(engine) as s:
            after = read_plan(s, SYSTEM, plan_id)
            assert after.revision == before.revision  # nothing stored
    with Session(engine) as s:
        assert s.exec(select(Council).where(Council.name.startswith("Bell"))).first() is None


def test_a_typed_underscore_x_code_comes_back_from_the_workbook_as_written(engine, plan) -> None:
    """`_x0007_` in a cell is how a workbook spells a bell: text typed that way must stay
    text in Tandem's export, and a bell typed in Excel is refused in a sentence."""
    built, plan_id, goal_id = plan
    with session_scope(engine) as s:
        add_action(s, SYSTEM, goal_id, "Press _x0007_ then _x005F_", "joint")
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, built.cycle_id, charts=False)
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, data, apply=True)
    assert result.ok and result.changes == [], (result.errors, result.changes)
    wb = load_workbook(BytesIO(data))
    ws = wb[wb.sheetnames[1]]
    ws["D6"] = "Ring_x0007_twice"  # as Excel saves a bell character typed into a cell
    out = BytesIO()
    wb.save(out)
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, out.getvalue(), apply=True)
    assert not result.applied
    assert result.errors == [
        f"Sheet '{ws.title}', row 6: The action holds an invisible control character (U+0007) "
        "after “Ring”, often left by text pasted from another program. Delete it (retype "
        "that part) and try again."
    ]


@pytest.mark.slow
def test_exports_of_text_stored_before_the_rule_still_open(engine, db_url, plan, tmp_path) -> None:
    """Records an older Tandem let in (a bell in a name, a vertical tab in a goal) still
    export: every workbook opens, as text, and `links` gives the links it made."""
    built, plan_id, goal_id = plan
    with session_scope(engine) as s:
        s.exec(update(PlanGoal).where(PlanGoal.id == goal_id).values(title="Goal\x0bone"))
        s.exec(update(PlanAction).values(description="Ring\x07", success_measure="=1+1\x1b"))
        s.exec(update(Person).where(Person.id == built.people["m0"]).values(full_name="Bell\x07"))
        s.exec(update(Council).values(name="Llanfair\x07"))
    url = db_url
    out = tandem("export-plans", str(built.cycle_id), "-o", str(tmp_path / "p.xlsx"), url=url)
    assert out.returncode == 0, out.stderr
    cells = no_formulas((tmp_path / "p.xlsx").read_bytes())
    assert "Goal_x000B_one" in {c.value for c in cells}  # as Excel itself writes it
    out = tandem("links", str(built.cycle_id), "-o", str(tmp_path / "l.xlsx"), url=url)
    assert out.returncode == 0, out.stderr
    rows = [[c.value for c in r] for r in load_workbook(tmp_path / "l.xlsx").active.iter_rows()]
    assert any(r[0] == "Bell_x0007_" for r in rows) and len(rows) > 1
    sa = tmp_path / "sa.xlsx"
    out = tandem("subject-access", "m0@llanfair.example.gov.uk", "-o", str(sa), url=url)
    assert out.returncode == 0, out.stderr
    no_formulas(sa.read_bytes())


@pytest.mark.slow
def test_links_are_not_saved_when_their_file_cannot_be_written(
    engine, db_url, plan, tmp_path
) -> None:
    built, _plan_id, _goal_id = plan
    url = db_url
    out = tandem("links", str(built.cycle_id), "-o", str(tmp_path / "no" / "l.xlsx"), url=url)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "no links were made" in out.stderr
    out = tandem("links", str(built.cycle_id), "-o", str(tmp_path / "l.csv"), url=url)
    assert out.returncode == 0, out.stderr
    assert "cannot be shown again" not in out.stdout  # nothing was issued the first time
    with open(tmp_path / "l.csv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    with Session(engine) as s:
        invited = s.exec(select(func.count()).select_from(Invitation)).one()
    assert len(rows) == 1 + invited  # a heading, then everyone's link


# --- point 6: the same limits on SQLite and PostgreSQL ------------------------------------


def test_names_longer_than_their_column_are_refused_in_a_sentence(engine, plan) -> None:
    built, _plan_id, _goal_id = plan
    with session_scope(engine) as s:
        member = add_person(s, SYSTEM, built.council_id, "M", "m@x.example", "member")
        officer = add_person(s, SYSTEM, built.council_id, "O", "o@x.example", "officer")
        ids = member.id, officer.id
    calls = {
        "The council's name can be at most 200 characters; this one has 201.": lambda s: (
            create_council(s, SYSTEM, "C" * 201)
        ),
        "The cycle's name can be at most 120 characters; this one has 121.": lambda s: create_cycle(
            s, SYSTEM, built.council_id, "Y" * 121, date(2027, 1, 1), date(2027, 2, 1)
        ),
        "The name can be at most 200 characters; this one has 201.": lambda s: add_person(
            s, SYSTEM, built.council_id, "P" * 201, "long@x.example", "member"
        ),
        "The portfolio can be at most 200 characters; this one has 250.": lambda s: update_person(
            s, SYSTEM, ids[0], "M", "m@x.example", portfolio="Q" * 250
        ),
        "The pairing's portfolio can be at most 200 characters; this one has 201.": lambda s: (
            create_pairing(s, SYSTEM, built.council_id, "cabinet–director", *ids, "R" * 201)
        ),
        "The name holds an invisible control character (U+0000) after “Nul”": lambda s: add_person(
            s, SYSTEM, built.council_id, "Nul\x00", "nul@x.example", "member"
        ),
    }
    for message, call in calls.items():
        with pytest.raises(Invalid) as err, session_scope(engine) as s:
            call(s)
        assert str(err.value).startswith(message), str(err.value)
    with session_scope(engine) as s:  # exactly at the limit is fine, on both databases
        council = create_council(s, SYSTEM, "C" * 200)
        update_cycle(
            s,
            SYSTEM,
            built.cycle_id,
            "Y" * 120,
            date(2027, 1, 4),
            date(2027, 2, 1),
            s.get(Cycle, built.cycle_id).anonymity_threshold,
        )
        add_person(s, SYSTEM, council.id, "P" * 200, "long@x.example", "member")


# --- point 7: stored as typed, by one documented rule --------------------------------------


def test_a_leading_tab_follows_one_rule_everywhere(engine, plan) -> None:
    built, plan_id, goal_id = plan
    with session_scope(engine) as s:
        person = add_person(
            s, SYSTEM, built.council_id, "\tCllr Tab", "tab@x.example", "member", "\tLeader"
        )
        assert (person.full_name, person.title) == ("Cllr Tab", "Leader")  # single line: trimmed
        update_person(s, SYSTEM, person.id, "\tCllr Tab", "tab@x.example", portfolio="\tHousing")
        assert s.get(Person, person.id).portfolio == "Housing"
        goal = add_goal(s, SYSTEM, plan_id, "advice", "\tA goal", description="\tWhy\n\tit")
        assert (goal.title, goal.description) == ("A goal", "\tWhy\n\tit")  # several lines
        action = add_action(s, SYSTEM, goal.id, "\tDo it", "joint", success_measure="\tDone")
        assert (action.description, action.success_measure) == ("\tDo it", "\tDone")
        note = add_check_in(s, SYSTEM, plan_id, date(2027, 1, 9), "\tMet\n\n")
        assert note.note == "\tMet"
    with Session(engine) as s:
        assert s.get(PlanAction, action.id).description == "\tDo it"


def test_the_rule_itself() -> None:
    assert one_line("  Siân  ", "the name") == "Siân"
    assert one_line("=1+1 😀 שלום", "the name") == "=1+1 😀 שלום"
    for bad in ("a\nb", "a\u2028b", "a\tb", "a\x00b", "a\ufffeb", "a\ud800b"):
        with pytest.raises(Invalid):
            one_line(bad, "the name")
    assert paragraphs("\n\n  a \r\n\tb\x0bc\u2029\n\n", "the note") == "  a\n\tb\nc"
    with pytest.raises(Invalid, match="at most 10,000 characters"):
        paragraphs("x" * 10_001, "the note")
    with pytest.raises(Invalid, match="^A goal needs a title.$"):
        one_line(" \t ", "the goal's title", required="A goal needs a title.")
    assert csv_roundtrip("=1+1") == "'=1+1"


def csv_roundtrip(value: str) -> str:
    from core.cells import csv_text

    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_text(value)])
    return next(csv.reader(io.StringIO(buffer.getvalue())))[0]
