"""Staff recording a principal's agreement to a plan on their behalf (issue 17): a note of
how it was given is required, and the agreement then reads "recorded by <staff> on behalf
of <principal>" with the note — in the domain's words, the audit log, and the plan workbook
read back cell by cell — never like the principal's own."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from cycle_builder import build_cycle
from openpyxl import load_workbook
from sqlmodel import Session, select

from core.audit import read_log
from core.errors import Invalid
from core.roles import SYSTEM, Actor
from governance.accounts import actor_for, create_user
from planning.excel import export_plans
from planning.models import SignOff
from planning.plans import (
    add_action,
    add_goal,
    agreement_words,
    create_plan,
    plan_history,
    read_plan,
    sign_plan,
)

LEADER = "Cllr Siân Llewelyn"
CEO = "Rhodri ap Dafydd"
NOTE = "agreed by email 3 Dec"


@pytest.fixture
def plan(engine):
    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with Session(engine, expire_on_commit=False) as s:
        leader = Actor("leader", "principal", person_id=built.people["leader"])
        ceo = Actor("ceo", "principal", person_id=built.people["ceo"])
        plan = create_plan(s, leader, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, leader, plan.id, "advice", "Seek advice before big decisions")
        add_action(s, leader, goal.id, "Write an options note", "officer", date(2027, 3, 1))
        fran = actor_for(
            s,
            create_user(
                s, SYSTEM, "fran@example.org", "facilitator", None,
                display_name="Fran Okafor", council_ids=[built.council_id],
            ),
        )  # fmt: skip
        s.commit()
        return built, plan.id, leader, ceo, fran


def test_staff_must_say_how_the_principal_agreed(engine, plan) -> None:
    built, plan_id, _leader, _ceo, fran = plan
    with Session(engine) as s:
        revision = read_plan(s, fran, plan_id).revision
        for note in ("", "   "):
            with pytest.raises(Invalid, match=f"Say how {LEADER} agreed"):
                sign_plan(s, fran, plan_id, built.people["leader"], revision, note)
        with pytest.raises(Invalid, match="a note is required"):
            sign_plan(s, SYSTEM, plan_id, built.people["leader"], revision)
        assert s.exec(select(SignOff)).all() == []


def test_a_recorded_agreement_never_reads_like_the_principals_own(engine, plan) -> None:
    built, plan_id, _leader, ceo, fran = plan
    with Session(engine) as s:
        revision = read_plan(s, fran, plan_id).revision
        sign_plan(s, fran, plan_id, built.people["leader"], revision, NOTE)
        sign_plan(s, ceo, plan_id, built.people["ceo"], revision, "ignored: their own")
        s.commit()
        view = read_plan(s, ceo, plan_id)
        assert view.status == "agreed"
        mine, theirs = view.signoffs
        assert (mine.recorded_by, mine.note) == ("Fran Okafor", NOTE)
        assert (theirs.recorded_by, theirs.note) == ("", "")
        words = agreement_words(mine)
        assert words.startswith(
            f"{LEADER} has agreed: recorded by Fran Okafor on behalf of {LEADER}"
        )
        assert words.endswith(f", with the note “{NOTE}”.")
        own = agreement_words(theirs)
        assert own.startswith(f"{CEO} has agreed on ") and "recorded by" not in own
        history = plan_history(s, fran, plan_id)
        assert next(h.signed_by for h in history if h.revision == revision) == [
            f"{LEADER} (recorded by Fran Okafor on their behalf)",
            CEO,
        ]
        log = read_log(s, SYSTEM, action="record agreement for a principal")
        assert list(log["actor"]) == ["fran@example.org"]
        assert NOTE in log["detail"].iloc[0] and LEADER in log["detail"].iloc[0]


def test_the_plan_workbook_says_recorded_by_cell_by_cell(engine, plan) -> None:
    built, plan_id, _leader, ceo, fran = plan
    with Session(engine) as s:
        revision = read_plan(s, fran, plan_id).revision
        sign_plan(s, fran, plan_id, built.people["leader"], revision, NOTE)
        sign_plan(s, ceo, plan_id, built.people["ceo"], revision)
        s.commit()
        data = export_plans(s, fran, built.cycle_id, today=date(2027, 3, 2))
        signed_on = agreement_words(read_plan(s, fran, plan_id).signoffs[0])
    wb = load_workbook(BytesIO(data))
    cells = [
        (ws.title, cell.coordinate, cell.value)
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "agreed" in cell.value and LEADER in cell.value
    ]
    assert len(cells) == 1, cells  # one cell says who agreed, on the pairing's sheet
    sheet, where, text = cells[0]
    assert sheet != "Overview" and where == "A2"
    assert wb[sheet]["A2"].data_type == "s"  # text, never a formula
    assert f"Plan status: agreed (agreed by both: {signed_on} {CEO} has agreed on " in text
    assert f"recorded by Fran Okafor on behalf of {LEADER}" in text
    assert f"with the note “{NOTE}”" in text
    assert f"on behalf of {CEO}" not in text
