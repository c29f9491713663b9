"""The plans workbook read back cell by cell with openpyxl: values and types, the tables,
dropdowns over named lists, overdue highlighting, the gap chart, hidden identifiers;
formula-injection payloads in every text field; LibreOffice converts it headless."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from cycle_builder import build_cycle
from openpyxl import load_workbook
from sqlmodel import Session, select

from core.db import session_scope
from core.errors import PermissionDenied
from core.roles import SYSTEM, Actor
from core.text import paragraphs
from feedback.models import Cycle, Pairing, Person
from planning.excel import DATE_FORMAT, HEADERS, export_plans, owner_label
from planning.excel_import import import_plans
from planning.models import PlanAction
from planning.plans import add_action, add_check_in, add_goal, create_plan, find_plan, plan_snapshot
from tools.demo import build_demo

PAYLOADS = [
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@SUM(A1)",
    "\t=cmd|' /C calc'!A0",
    '\r=HYPERLINK("http://example.invalid","click")',
    '=HYPERLINK("http://example.invalid","click")',
    "=cmd|' /C notepad'!'A1'",
]
TODAY = date(2026, 11, 23)


def read(data: bytes):
    return load_workbook(BytesIO(data))


def leader_pairing(s: Session) -> Pairing:
    leader = s.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
    return s.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()


@pytest.mark.slow
def test_exported_workbook_read_back_cell_by_cell(engine) -> None:
    with session_scope(engine) as s:
        build_demo(s)
    with Session(engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2025")).one()
        pairing = leader_pairing(s)
        plan = find_plan(s, pairing.id, cycle.id)
        snap = plan_snapshot(s, plan)
        data = export_plans(s, SYSTEM, cycle.id, today=TODAY)
    wb = read(data)
    assert wb.sheetnames == [
        "Overview",
        "Leadership of the council",
        "Peer challenge",
        "Lists",
        "Tandem",
    ]
    assert wb["Lists"].sheet_state == "hidden" and wb["Tandem"].sheet_state == "hidden"

    # overview: one row per pairing in the cycle, as a table
    ov = wb["Overview"]
    assert ov.tables["Overview"].ref == "A3:J8"
    assert ov.freeze_panes == "A4"
    assert [c.value for c in ov[3]] == [
        "Pairing",
        "Sheet",
        "Plan status",
        "Agreed by both",
        "Goals",
        "Actions",
        "Done",
        "Done (%)",
        "Overdue",
        "Kind",
    ]
    row = [c.value for c in ov[4]]
    assert row[0] == "Cllr Margaret Oduya & David Ashworth (Leadership of the council)"
    assert row[1:] == [
        "Leadership of the council",
        "agreed",
        "yes",
        1,
        3,
        2,
        pytest.approx(2 / 3),
        1,  # the quarterly reviews were due on 14 November 2026 and are not done
        "Leader and chief executive",
    ]
    assert ov["H4"].number_format == "0%"
    assert [ov.cell(r, 3).value for r in range(5, 9)] == ["no plan yet"] * 4

    # the pairing's sheet: the table, its cells and their types
    ws = wb["Leadership of the council"]
    assert [c.value for c in ws[4]] == HEADERS
    table = ws.tables["Plan1"]
    assert table.ref == "A4:N7"
    assert [c.name for c in table.tableColumns] == HEADERS
    assert ws.freeze_panes == "A5"
    goal = snap["goals"][0]
    for r, action in enumerate(goal["actions"], start=5):
        assert ws.cell(r, 1).value == goal["title"]
        assert ws.cell(r, 2).value == "Clear priorities"
        assert ws.cell(r, 3).value == "Strategy"
        assert ws.cell(r, 4).value == action["description"]
        assert ws.cell(r, 5).value == owner_label(
            action["owner"], "Cllr Margaret Oduya", "David Ashworth"
        )
        due = ws.cell(r, 6)
        assert isinstance(due.value, datetime) and due.is_date
        assert due.value.date().isoformat() == action["due_on"]
        assert due.number_format == DATE_FORMAT
        assert ws.cell(r, 7).value == action["success_measure"]
        assert ws.cell(r, 8).value == action["status"]
        assert [ws.cell(r, c).value for c in range(11, 15)] == [
            plan.id,
            plan.revision,
            goal["id"],
            action["id"],
        ]
        assert all(isinstance(ws.cell(r, c).value, int) for c in range(11, 15))
    assert [ws.column_dimensions[c].hidden for c in "ABCDEFGHIJKLMN"] == [False] * 10 + [True] * 4
    assert ws.column_dimensions["D"].width == 30

    # status and owner dropdowns over named lists on the hidden Lists sheet
    dvs = {dv.formula1: dv for dv in ws.data_validations.dataValidation}
    assert set(dvs) == {"StatusList", "OwnerList1"}
    assert dvs["StatusList"].type == "list" and "H5" in dvs["StatusList"].sqref
    assert "H200" in dvs["StatusList"].sqref  # new rows below the table get it too
    assert wb.defined_names["StatusList"].attr_text == "Lists!$A$2:$A$5"
    assert wb.defined_names["OwnerList1"].attr_text == "Lists!$B$2:$B$4"
    assert [wb["Lists"].cell(r, 2).value for r in range(2, 5)] == [
        "Cllr Margaret Oduya (member)",
        "David Ashworth (officer)",
        "Joint: Cllr Margaret Oduya and David Ashworth",
    ]
    assert [wb["Lists"].cell(r, 1).value for r in range(2, 6)] == [
        "not started",
        "in progress",
        "done",
        "dropped",
    ]

    # overdue, not done: highlighted by a formula rule over the rows
    [cf] = list(ws.conditional_formatting)
    assert str(cf.sqref).startswith("A5:J")
    [rule] = cf.rules
    assert rule.type == "expression"
    assert rule.formula == ['AND(ISNUMBER($F5),$F5<TODAY(),$H5<>"done",$H5<>"dropped")']
    assert rule.dxf.fill.fgColor.rgb.endswith("F8D7DA")

    # the gap chart is a PNG picture on the sheet
    [image] = ws._images
    assert image._data()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.anchor._from.col == 15  # column P, right of the table

    # printed (or saved as PDF) for a meeting: landscape, one page wide, header repeated
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$4:$4"
    assert ws.print_area.startswith("'") and ws.print_area.endswith(
        f"!$A$1:$N${ws.tables[next(iter(ws.tables))].ref.split(':')[1][1:]}"
    )

    # the hidden metadata: which plan and revision each sheet came from
    meta = wb["Tandem"]
    assert meta["A1"].value == "format" and meta["B1"].value == "tandem-plans/1"
    assert [meta.cell(8, c).value for c in range(1, 5)] == [
        "Leadership of the council",
        plan.id,
        pairing.id,
        plan.revision,
    ]
    # no formula anywhere except none: the workbook computes nothing itself
    for sheet in wb.worksheets:
        for line in sheet.iter_rows():
            assert all(c.data_type != "f" for c in line)


def test_overdue_count_and_a_principal_exports_only_their_own(demo_engine) -> None:
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2025")).one()
        pairing = leader_pairing(s)
        plan = find_plan(s, pairing.id, cycle.id)
        late = s.exec(select(PlanAction).where(PlanAction.status == "in progress")).first()
        me = Actor("oduya", "principal", person_id=pairing.member_id)
        before = export_plans(s, me, cycle.id, today=late.due_on)
        after = export_plans(s, me, cycle.id, today=late.due_on.replace(day=late.due_on.day + 1))
        other = s.exec(select(Pairing).where(Pairing.id != pairing.id)).first()
        with pytest.raises(PermissionDenied):
            export_plans(s, me, cycle.id, other.id)
    ov = read(before)["Overview"]
    assert ov.max_row == 4  # only the principal's own pairing
    assert ov["I4"].value == 0 and ov["C4"].value == plan.status
    assert read(after)["Overview"]["I4"].value == 1


def _injection_plan(engine) -> tuple[int, int]:
    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with session_scope(engine) as s:
        # names and portfolios are typed by people too
        pairing = s.get(Pairing, built.pairing_ids[0])
        pairing.portfolio = "@Finance"
        s.get(Person, pairing.member_id).full_name = "+Cllr Plus"
        s.get(Person, pairing.officer_id).full_name = "-Officer Minus"
        s.flush()
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        for i, payload in enumerate(PAYLOADS):
            goal = add_goal(s, SYSTEM, plan.id, "advice", payload, description=payload)
            action = add_action(
                s,
                SYSTEM,
                goal.id,
                payload,
                "joint",
                date(2027, 1, 1 + i),
                success_measure=payload,
            )
            add_check_in(s, SYSTEM, plan.id, date(2027, 1, 2), payload, action.id)
        return built.cycle_id, plan.id


def _ids(s: Session, plan_id: int) -> tuple[int, int]:
    from planning.plans import get_plan

    plan = get_plan(s, plan_id)
    return plan.pairing_id, plan.cycle_id


def test_formula_injection_payloads_are_stored_as_text_exactly(engine) -> None:
    cycle_id, plan_id = _injection_plan(engine)
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, cycle_id, today=TODAY)
        snap = plan_snapshot(s, find_plan(s, *_ids(s, plan_id)))
    wb = read(data)
    ws = wb[wb.sheetnames[1]]
    starts = set()
    for r, goal in enumerate(snap["goals"], start=5):
        [action] = goal["actions"]
        # the one rule for text (core.text): a goal's title is one line, trimmed; an
        # action, a measure and a note keep their indentation (a leading tab), and a leading
        # carriage return is a line break before the text, dropped like a blank line
        assert goal["title"] == PAYLOADS[r - 5].strip()
        note = paragraphs(PAYLOADS[r - 5], "the note")
        assert action["success_measure"] == action["description"] == note
        expected = {
            1: goal["title"],
            4: action["description"],
            7: action["success_measure"],
            9: f"02 Jan 2027: {note}",
        }
        for col, value in expected.items():
            cell = ws.cell(r, col)
            assert cell.value == value, (r, col)
            assert cell.data_type == "s", (r, col)
            if col != 9:
                assert cell.quotePrefix is True, (r, col)
                starts.add(value[0])
    assert starts == {"=", "+", "-", "@", "\t"}
    assert wb.sheetnames[1] == "@Finance"
    label = wb["Overview"]["A4"]
    assert label.value == "+Cllr Plus & -Officer Minus (@Finance)"
    assert label.data_type == "s" and label.quotePrefix is True
    assert wb["Overview"]["B4"].value == "@Finance" and wb["Overview"]["B4"].quotePrefix
    title = ws["A1"]
    assert title.value == "+Cllr Plus & -Officer Minus (@Finance): development plan, Adolygiad 2027"
    assert title.data_type == "s" and title.quotePrefix is True
    for sheet in wb.worksheets:
        for line in sheet.iter_rows():
            assert all(c.data_type != "f" for c in line)
    # and it comes back unchanged: text is text, not a change
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, data, apply=True)
    assert result.ok and result.changes == [], result.errors


def _soffice() -> str:
    for _ in range(60):  # scripts/test-setup.sh may still be installing LibreOffice
        found = shutil.which("soffice") or shutil.which("libreoffice")
        if found:
            return found
        time.sleep(10)
    pytest.fail("LibreOffice (soffice) is not installed: run scripts/test-setup.sh")


@pytest.mark.slow
def test_libreoffice_converts_the_workbook_headless(demo_engine, engine, tmp_path: Path) -> None:
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2025")).one()
        demo = export_plans(s, SYSTEM, cycle.id, today=TODAY)
    cycle_id, _ = _injection_plan(engine)
    with Session(engine) as s:
        injected = export_plans(s, SYSTEM, cycle_id, today=TODAY)
    soffice = _soffice()
    for name, data in (("plans.xlsx", demo), ("payloads.xlsx", injected)):
        src = tmp_path / name
        src.write_bytes(data)
        out = tmp_path / "pdf"
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        pdf = out / name.replace(".xlsx", ".pdf")
        assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
        assert pdf.stat().st_size > 1000
    # saved again by LibreOffice, the payload workbook still comes back with no change at all
    resaved = tmp_path / "resaved"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(resaved),
            str(tmp_path / "payloads.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    with session_scope(engine) as s:
        result = import_plans(s, SYSTEM, (resaved / "payloads.xlsx").read_bytes(), apply=False)
    assert result.ok and result.changes == [], (result.errors, result.changes)


LONG = (
    "Agree with the chief executive how advice is asked for and recorded before each "
    "cabinet decision, and review together after three months whether it is working "
)


def _long_plan(engine) -> tuple[int, int]:
    """A plan of thirty actions with long wrapped text: several printed pages."""
    built = build_cycle(engine, raters_per_group=1, second_pairing=False)
    with session_scope(engine) as s:
        plan = create_plan(s, SYSTEM, built.pairing_ids[0], built.cycle_id)
        for g in range(3):
            goal = add_goal(s, SYSTEM, plan.id, "advice", f"Goal {g}: {LONG[:60]}")
            for a in range(10):
                owner = ("member", "officer", "joint")[a % 3]
                add_action(
                    s,
                    SYSTEM,
                    goal.id,
                    f"Action {g}.{a}: {LONG * (1 + a % 2)}",
                    owner,
                    date(2027, 1 + a, 1),
                    success_measure=f"Measure {g}.{a}: {LONG[:90]}",
                )
        return built.cycle_id, plan.id


def _pdf_words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every word of every page with its box, from pdftotext -bbox."""
    import re

    html = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages = []
    for page in html.split("<page ")[1:]:
        words = re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page,
        )
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in words])
    return pages


def _convert(soffice: str, src: Path, out: Path, profile: Path) -> Path:
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return out / (src.stem + ".pdf")


@pytest.mark.slow
def test_the_workbook_prints_readably(engine, tmp_path: Path) -> None:
    """Row heights hold the wrapped text, landscape A4 one page wide and as many pages down
    as it needs, the header row and the council's name on every page, owners by name; then
    LibreOffice prints it: several pages, nothing overprinted, text at a readable size."""
    cycle_id, plan_id = _long_plan(engine)
    with Session(engine) as s:
        data = export_plans(s, SYSTEM, cycle_id, today=TODAY, charts=False)
    wb = read(data)
    ws = wb[wb.sheetnames[1]]
    assert ws.max_row == 4 + 30
    for r in range(5, 35):
        action = ws.cell(r, 4).value
        height = ws.row_dimensions[r].height
        # the Action column is 30 wide: about 33 characters to a line, 15 points a line
        assert height is not None and height >= 15 * (len(action) // 40), (r, height)
        assert height <= 15 * (len(action) // 25 + 1) + 3, (r, height)
    # owners by name, with the role the import reads back
    owners = [ws.cell(r, 5).value for r in range(5, 8)]
    assert owners == [
        "Cllr Siân Llewelyn (member)",
        "Rhodri ap Dafydd (officer)",
        "Joint: Cllr Siân Llewelyn and Rhodri ap Dafydd",
    ]
    # print setup, on the overview and each plan sheet
    for sheet in (wb["Overview"], ws):
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and setup.paperSize == 9  # A4
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0  # not squeezed to one page
        assert sheet.oddHeader.center.text == (
            "Llanfair County Council: development plans, Adolygiad 2027"
        )
        assert sheet.oddFooter.right.text == "Page &P of &N"
    assert ws.print_title_rows == "$4:$4"
    visible = [ws.column_dimensions[c].width for c in "ABCDEFGHIJ"]
    assert sum(visible) <= 180  # about 85% of a landscape A4 page's width: 9 pt text

    src = tmp_path / "plans.xlsx"
    src.write_bytes(data)
    pdf = _convert(_soffice(), src, tmp_path / "pdf", tmp_path / "lo-profile")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    words = _pdf_words(pdf)
    assert len(words) == pages
    plan_pages = [p for p in words if any(w[4] == "Action" for w in p)]
    assert len(plan_pages) >= 3, pages  # thirty long actions run over several pages …
    assert pages <= 12  # … but not one page per row
    for page in words:
        text = " ".join(w[4] for w in page)
        assert "Llanfair County Council: development plans" in text  # the page header
        assert "Page" in text
        # readable: the words' boxes are at least 7 points high (about 9 pt type)
        heights = sorted(w[3] - w[1] for w in page)
        assert heights[len(heights) // 2] >= 7, heights[len(heights) // 2]
        # nothing overprinted: no two words' boxes overlap by more than a sliver (the boxes
        # of two lines in one cell touch by about a point: ascent and descent)
        boxes = sorted(page)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                if b[0] >= a[2]:
                    break
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                assert dx <= 1 or dy <= 3, (a, b)
    for page in plan_pages:  # the header row repeats on every page of the plan
        assert {"Goal", "Owner", "Status"} <= {w[4] for w in page}
    everything = " ".join(w[4] for p in words for w in p)
    assert "Rhodri ap Dafydd (officer)" in everything
    assert "(member)" in everything and "Joint:" in everything
    assert "Action 2.9:" in everything  # the last row printed too
