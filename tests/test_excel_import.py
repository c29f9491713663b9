"""Progress coming back from the plans workbook: a round trip with edits, bad rows listed
with sheet and row while nothing is saved, files from elsewhere, and two people editing
copies of the same export — on SQLite and PostgreSQL."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from cycle_builder import build_cycle
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from core.db import session_scope
from core.roles import SYSTEM, Actor
from feedback.models import Person
from planning.excel import export_plans
from planning.excel_import import MAX_BYTES, import_plans
from planning.models import CheckIn
from planning.plans import add_action, add_goal, create_plan, read_plan, sign_plan

SHEET = "Llewelyn & Dafydd"


@pytest.fixture
def plans(engine):
    built = build_cycle(engine, raters_per_group=1)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        g1 = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first", challenge="strategy")
        add_action(
            s, SYSTEM, g1.id, "Options note before key decisions", "officer", date(2027, 3, 1)
        )
        add_action(s, SYSTEM, g1.id, "Listen first in one-to-ones", "member", date(2027, 4, 1))
        g2 = add_goal(s, SYSTEM, plan.id, "priorities", "Priorities in writing")
        add_action(s, SYSTEM, g2.id, "One-page statement", "member", None, "Shared with staff")
        other = create_plan(s, SYSTEM, built.pairing_ids[1], built.cycle_id)
        g3 = add_goal(s, SYSTEM, other.id, "credit", "Share the credit")
        add_action(s, SYSTEM, g3.id, "Thank officers in public", "member", date(2027, 2, 1))
        sign_plan(s, SYSTEM, plan.id, built.people["leader"], plan.revision, "signed on paper")
        sign_plan(s, SYSTEM, plan.id, built.people["ceo"], plan.revision, "signed on paper")
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, built.cycle_id, charts=False)
    return built, plan.id, other.id, data


def edit(data: bytes, fn) -> bytes:
    wb = load_workbook(BytesIO(data))
    fn(wb)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def view(engine, plan_id: int) -> dict:
    with Session(engine) as s:
        return read_plan(s, SYSTEM, plan_id)


def run(engine, data: bytes, apply: bool, actor: Actor = SYSTEM):
    with session_scope(engine) as s:
        return import_plans(s, actor, data, apply=apply, today=date(2027, 2, 10))


def test_round_trip_with_edits_dry_run_then_apply(engine, plans) -> None:
    built, plan_id, other_id, data = plans
    wb = load_workbook(BytesIO(data))
    assert wb.sheetnames == ["Overview", SHEET, "Place", "Peer challenge", "Lists", "Tandem"]
    before = view(engine, plan_id)

    def changes(wb) -> None:
        ws = wb[SHEET]
        ws["H5"] = "in progress"  # status
        ws["J5"] = "Draft note shared on Monday"  # check-in note with the status change
        ws["F6"] = datetime(2027, 5, 15)  # a later due date
        ws["J7"] = "Statement drafted"  # a check-in note only
        ws["H7"] = "  Done "  # spacing and capitals do not matter
        ws["A8"] = "Seek advice first"  # a new action under an existing goal
        ws["D8"] = "Ask the monitoring officer to brief on neutrality"
        ws["E8"] = "officer"
        ws["F8"] = datetime(2027, 6, 30)

    edited = edit(data, changes)
    dry = run(engine, edited, apply=False)
    assert dry.ok, dry.errors
    assert not dry.applied
    assert [str(c) for c in dry.changes] == [
        f"Sheet '{SHEET}', row 5: status not started → in progress",
        f"Sheet '{SHEET}', row 5: check-in note 'Draft note shared on Monday'",
        f"Sheet '{SHEET}', row 6: due date 1 Apr 2027 → 15 May 2027",
        f"Sheet '{SHEET}', row 7: status not started → done",
        f"Sheet '{SHEET}', row 7: check-in note 'Statement drafted'",
        f"Sheet '{SHEET}', row 8: new action 'Ask the monitoring officer to brief on "
        "neutrality' (officer)",
    ]
    assert dry.summary() == "Ready to save: 6 changes."
    assert view(engine, plan_id).revision == before.revision  # a dry run saves nothing

    done = run(engine, edited, apply=True)
    assert done.ok and done.applied and done.summary() == "Saved: 6 changes."
    after = view(engine, plan_id)
    a1, a2 = after.goals[0].actions[:2]
    assert a1.status == "in progress" and a2.due_on == date(2027, 5, 15)
    new = after.goals[0].actions[2]
    assert (new.description, new.owner, new.due_on, new.status) == (
        "Ask the monitoring officer to brief on neutrality",
        "officer",
        date(2027, 6, 30),
        "not started",
    )
    assert after.goals[1].actions[0].status == "done"
    notes = {(c.note, c.status_from, c.status_to, c.held_on) for c in after.check_ins}
    assert notes == {
        ("Draft note shared on Monday", "not started", "in progress", date(2027, 2, 10)),
        ("Statement drafted", "not started", "done", date(2027, 2, 10)),
    }
    # the due date and the new action change what was agreed; the other plan is untouched
    assert after.status == "changed since agreed"
    assert view(engine, other_id).revision == 3

    # Importing the same file again: every edited row is in Tandem already, exactly, so
    # nothing is saved twice (no second check-in, no duplicate new action) and nobody is
    # told off for a conflict that is not one.
    settled = view(engine, plan_id)
    again = run(engine, edited, apply=True)
    assert again.ok, again.errors
    assert again.changes == []
    assert (
        again.summary() == "The workbook matches the plans in Tandem: there is nothing to change."
    )
    assert again.notes == [
        f"Sheet '{SHEET}', rows 5, 6, 7, 8: already in Tandem exactly as in this workbook (it "
        "was probably imported before), so there is nothing to save for them."
    ]
    assert view(engine, plan_id) == settled

    # The same stale workbook with one row changed again: that row now conflicts with the
    # newer plan in Tandem and is refused; the rows already in Tandem are not errors.
    def another(wb) -> None:
        changes(wb)
        wb[SHEET]["F6"] = datetime(2027, 7, 1)

    conflicting = run(engine, edit(data, another), apply=True)
    assert not conflicting.ok and not conflicting.applied
    assert len(conflicting.errors) == 1
    assert conflicting.errors[0].startswith(
        f"Sheet '{SHEET}', row 6: this plan was changed in Tandem"
    )
    assert "Export the plans again" in conflicting.errors[0]
    assert view(engine, plan_id) == settled


def test_an_unchanged_workbook_changes_nothing(engine, plans) -> None:
    _, plan_id, _, data = plans
    before = view(engine, plan_id)
    result = run(engine, data, apply=True)
    assert result.ok and result.changes == [] and not result.applied
    assert result.summary().startswith("The workbook matches")
    assert view(engine, plan_id).revision == before.revision
    assert view(engine, plan_id).status == "agreed"


def test_bad_rows_are_all_listed_and_nothing_is_saved(engine, plans) -> None:
    _, plan_id, other_id, data = plans
    before = view(engine, plan_id)

    def bad(wb) -> None:
        ws = wb[SHEET]
        ws["H5"] = "done"  # a good change …
        ws["H6"] = "Finished"  # … and bad ones
        ws["F7"] = "12/03/2027"  # a date typed as text
        ws["E7"] = "mayor"
        ws["D6"] = ""
        ws["A8"] = "A goal nobody wrote"
        ws["D8"] = "New action"
        ws["E8"] = "joint"
        ws["J5"] = '=HYPERLINK("http://example.invalid")'  # a formula typed in

    result = run(engine, edit(data, bad), apply=True)
    assert not result.ok and not result.applied
    assert result.errors == [
        f"Sheet '{SHEET}', row 5: New check-in note holds a formula "
        '(=HYPERLINK("http://example.invalid")); type the value itself.',
        f"Sheet '{SHEET}', row 6: Action is empty; say what will be done.",
        f"Sheet '{SHEET}', row 6: status 'Finished' is not one of: not started, in progress, "
        "done, dropped",
        f"Sheet '{SHEET}', row 7: owner 'mayor' is not one of: member, officer, joint",
        f"Sheet '{SHEET}', row 7: due date '12/03/2027' is text, not a date. Enter it as a "
        "date (for example 31/03/2027) in a cell formatted as a date.",
        f"Sheet '{SHEET}', row 8: goal 'A goal nobody wrote' is not in this plan. New rows "
        "add actions to an existing goal: copy its name exactly, or add new goals in Tandem.",
    ]
    assert result.summary() == "Nothing was saved: the workbook has 6 problems to put right first."
    after = view(engine, plan_id)
    assert after.revision == before.revision
    assert after.goals[0].actions[0].status == "not started"
    with Session(engine) as s:
        assert s.exec(select(CheckIn)).all() == []


def _drop_meta(wb) -> None:
    del wb["Tandem"]


def _rename(wb) -> None:
    wb[SHEET].title = "Leader and CEO"


def _delete_id_column(wb) -> None:
    wb[SHEET].delete_cols(14)  # Action ID


def _move_row(wb) -> None:
    wb[SHEET]["K5"] = 999_999  # the Plan ID of another plan


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop_meta, "This workbook was not exported by Tandem"),
        (
            _rename,
            f"Sheet '{SHEET}': this sheet is missing. Sheets must keep the names they were "
            "exported with. The workbook has a sheet 'Leader and CEO' Tandem did not export: "
            "if that is it renamed, give it its old name back.",
        ),
        (
            _delete_id_column,
            f"Sheet '{SHEET}', row 4: the column 'Action ID' is missing. It is a hidden column "
            "holding the references Tandem needs to match each row; export again and keep it.",
        ),
        (_move_row, f"Sheet '{SHEET}', row 5: this row belongs to another pairing's plan"),
    ],
)
def test_damaged_workbooks_get_a_clear_message(engine, plans, change, message) -> None:
    _, plan_id, _, data = plans

    def with_an_edit(wb) -> None:
        if SHEET in wb.sheetnames:
            wb[SHEET]["H6"] = "done"
        change(wb)

    result = run(engine, edit(data, with_an_edit), apply=True)
    assert not result.ok and not result.applied
    assert any(e.startswith(message) for e in result.errors), result.errors
    assert view(engine, plan_id).goals[0].actions[1].status == "not started"


def test_files_that_are_not_plans_workbooks(engine, plans) -> None:
    other_tool = Workbook()
    other_tool.active["A1"] = "Status"
    buf = BytesIO()
    other_tool.save(buf)
    assert run(engine, buf.getvalue(), True).errors == [
        "This workbook was not exported by Tandem: it has no hidden 'Tandem' sheet saying "
        "which plans it holds. Export the plans from Tandem, edit that file, and import it."
    ]
    for junk in (b"name,status\nx,done\n", b"", _zip_without_workbook()):
        [error] = run(engine, junk, True).errors
        assert error.startswith("This file is not an Excel workbook (.xlsx)")
    [error] = run(engine, b"x" * (MAX_BYTES + 1), True).errors
    assert error == "The file is 5.0 MB; a plans workbook can be at most 5 MB."


def _zip_without_workbook() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def test_two_people_editing_copies_of_one_export(engine, plans) -> None:
    built, plan_id, _, data = plans
    with Session(engine) as s:
        leader = s.get(Person, built.people["leader"])
        ceo = s.get(Person, built.people["ceo"])
    as_leader = Actor(leader.email, "principal", person_id=leader.id)
    as_ceo = Actor(ceo.email, "principal", person_id=ceo.id)
    # the leader may import only their own pairing's sheet
    leader_copy = edit(data, lambda wb: wb[SHEET].__setitem__("H5", "done"))
    denied = run(engine, leader_copy, True, as_leader)
    assert not denied.ok
    assert denied.errors == ["Sheet 'Place': You can only work on your own pairing's plan."]
    assert view(engine, plan_id).goals[0].actions[0].status == "not started"
    with Session(engine) as s:
        mine = export_plans(s, as_leader, built.cycle_id, charts=False)
    leader_copy = edit(mine, lambda wb: wb[SHEET].__setitem__("H5", "done"))
    ceo_copy = edit(mine, lambda wb: wb[SHEET].__setitem__("H6", "in progress"))
    unchanged_row_ceo = edit(mine, lambda wb: None)
    assert run(engine, leader_copy, True, as_leader).applied
    refused = run(engine, ceo_copy, True, as_ceo)
    assert not refused.ok
    [error] = refused.errors
    assert error.startswith(
        f"Sheet '{SHEET}', row 6: this plan was changed in Tandem after the workbook was "
        "exported (Cllr Siân Llewelyn, at "
    )
    assert error.endswith(
        "so this row's change was not applied. Export the plans again and make the change "
        "in the new file."
    )
    # the chief executive's copy without edits is fine: nothing of theirs is lost
    assert run(engine, unchanged_row_ceo, True, as_ceo).ok
    after = view(engine, plan_id)
    assert [a.status for a in after.goals[0].actions] == ["done", "not started"]


@pytest.mark.slow
def test_command_line_export_dry_run_and_apply(db_url, tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    from core.db import make_engine

    engine = make_engine(db_url)
    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        add_action(s, SYSTEM, goal.id, "Options note first", "officer", date(2027, 3, 1))
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([tandem, *args], capture_output=True, text=True, env=env, timeout=300)

    xlsx = tmp_path / "plans.xlsx"
    out = cli("export-plans", "Adolygiad 2027", "-o", str(xlsx))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"Wrote the development plans of 'Adolygiad 2027' to {xlsx}."
    wb = load_workbook(xlsx)
    wb[SHEET]["H5"] = "in progress"
    wb.save(tmp_path / "edited.xlsx")
    wb = load_workbook(xlsx)
    wb[SHEET]["H5"] = "Finished"
    wb.save(tmp_path / "bad.xlsx")

    dry = cli("import-plans", str(tmp_path / "edited.xlsx"))
    assert dry.returncode == 0, dry.stderr
    assert f"Sheet '{SHEET}', row 5: status not started → in progress" in dry.stdout
    assert "dry run: nothing was saved" in dry.stdout
    assert view(engine, plan.id).goals[0].actions[0].status == "not started"

    bad = cli("import-plans", str(tmp_path / "bad.xlsx"), "--apply")
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert (
        f"Sheet '{SHEET}', row 5: status 'Finished' is not one of: not started, in progress, "
        "done, dropped" in bad.stderr
    )

    done = cli("import-plans", str(tmp_path / "edited.xlsx"), "--apply")
    assert done.returncode == 0, done.stderr
    assert "Saved: 1 change." in done.stdout
    assert view(engine, plan.id).goals[0].actions[0].status == "in progress"
    engine.dispose()


def test_a_repeated_note_in_an_out_of_date_workbook_is_refused_not_dropped(engine) -> None:
    """Only what was added after the export can make a row "already in Tandem": the same
    note written again this month ("On track" again) or a new action identical to an older
    one is a new entry — in an out-of-date workbook it is refused with the reason, never
    silently dropped."""
    from planning.plans import add_check_in

    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "advice", "Seek advice first")
        first = add_action(s, SYSTEM, goal.id, "Options note first", "officer", date(2027, 3, 1))
        second = add_action(s, SYSTEM, goal.id, "Listen first", "member", date(2027, 4, 1))
        add_check_in(s, SYSTEM, plan.id, date(2027, 1, 10), "On track", first.id)
        plan_id, second_id = plan.id, second.id
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, built.cycle_id, charts=False)
    with session_scope(engine) as s:  # someone changes another action in Tandem
        from planning.plans import set_action_status

        set_action_status(s, SYSTEM, second_id, "in progress")

    def again(wb) -> None:
        ws = wb[SHEET]
        ws["J5"] = "On track"  # the same words as January's check-in, a month later
        ws["A7"] = "Seek advice first"  # a new row identical to the existing first action
        ws["D7"] = "Options note first"
        ws["E7"] = "officer"
        ws["F7"] = datetime(2027, 3, 1)

    result = run(engine, edit(data, again), apply=True)
    assert not result.ok and not result.applied
    assert [e.split(":")[0] for e in result.errors] == [
        f"Sheet '{SHEET}', row 5",
        f"Sheet '{SHEET}', row 7",
    ]
    assert all("changed in Tandem after the workbook was exported" in e for e in result.errors)
    with Session(engine) as s:
        notes = s.exec(select(CheckIn.note).where(CheckIn.plan_id == plan_id)).all()
    assert notes == ["On track"]  # January's only: nothing saved, nothing lost silently


def test_owners_chosen_by_name_come_back_as_their_role(engine, plans) -> None:
    """The workbook names owners ("Cllr Siân Llewelyn (member)", "Joint: … and …"); the
    dropdown offers the pairing's three names; a name chosen from it, or the plain role word,
    comes back as the role it stands for."""
    built, plan_id, _other, data = plans
    wb = load_workbook(BytesIO(data))
    ws = wb[SHEET]
    assert [ws[f"E{r}"].value for r in (5, 6, 7)] == [
        "Rhodri ap Dafydd (officer)",
        "Cllr Siân Llewelyn (member)",
        "Cllr Siân Llewelyn (member)",
    ]
    joint = "Joint: Cllr Siân Llewelyn and Rhodri ap Dafydd"
    assert wb["Lists"]["B4"].value == joint

    def changes(wb) -> None:
        ws = wb[SHEET]
        ws["E5"] = joint  # chosen from the dropdown
        ws["E6"] = "Rhodri ap Dafydd (officer)"
        ws["A8"] = "Seek advice first"
        ws["D8"] = "Brief the group leaders together"
        ws["E8"] = "member"  # the plain role word still reads

    done = run(engine, edit(data, changes), apply=True)
    assert done.ok and done.applied, done.errors
    actions = view(engine, plan_id).goals[0].actions
    assert [a.owner for a in actions] == ["joint", "officer", "member"]
    # the same workbook exported again names them
    with Session(engine) as s:
        again = load_workbook(BytesIO(export_plans(s, SYSTEM, built.cycle_id, charts=False)))
    assert [again[SHEET][f"E{r}"].value for r in (5, 6, 8)] == [
        joint,
        "Rhodri ap Dafydd (officer)",
        "Cllr Siân Llewelyn (member)",
    ]
