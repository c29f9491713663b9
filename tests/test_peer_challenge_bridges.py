"""Bridges to the LGA corporate peer challenge (data/bridges.yaml): every dimension mapped
with sources cited; a plan goal citing a peer challenge recommendation (domain, `tandem plan
cite`, the workbook out and back in, read cell by cell); the council pack's anonymised
evidence summary for the peer team, read back with pypdf."""

from __future__ import annotations

from io import BytesIO

import pytest
import yaml
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select
from test_cli_actions import demo as demo
from test_cli_actions import ok, refused

from core.db import DATA_DIR
from core.errors import Invalid
from core.roles import SYSTEM
from feedback.models import Comment, Cycle, Invitation, Pairing, Person
from feedback.results.bridges import elements_of, evidence_summary, load_bridges
from feedback.results.pack import council_pack
from feedback.results.publication import read_all_pairing_reports
from planning.excel import CITATION_HEADERS, CITATIONS_SHEET, export_plans
from planning.excel_import import import_plans
from planning.plans import cite_peer_challenge, find_plan, read_plan

REF, TEXT = "CPC 2025 rec. 3", "Agree a member–officer protocol and review it after elections."


def _demo(session: Session) -> tuple[int, int, int]:
    leader = session.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
    pairing = session.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
    cycle = session.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
    plan = find_plan(session, pairing.id, cycle.id)
    return pairing.id, cycle.id, plan.id


def test_every_dimension_is_mapped_with_sources() -> None:
    bridges = load_bridges()
    framework = yaml.safe_load((DATA_DIR / "framework" / "tandem-core-2026.2.yaml").read_text())
    codes = [d["code"] for d in framework["dimensions"]]
    assert len(codes) == 9 and set(bridges["dimensions"]) == set(codes)
    assert list(bridges["elements"].values()) == [
        "Local priorities and outcomes",
        "Organisational and place leadership",
        "Governance and culture",
        "Financial planning and management",
        "Capacity for improvement",
    ]
    for code in codes:
        entry = bridges["dimensions"][code]
        assert entry["elements"] and set(entry["elements"]) <= set(bridges["elements"])
        assert entry["why"]
    for source in bridges["sources"].values():
        assert source["title"] and source["year"]
    assert "Politics and the political interface" in bridges["political_interface"]
    assert elements_of("neutrality") == [
        "Governance and culture",
        "CE framework: Politics and the political interface",
    ]


def test_a_goal_cites_a_recommendation(demo_engine) -> None:
    with Session(demo_engine) as s:
        _, _, plan_id = _demo(s)
        goal = read_plan(s, SYSTEM, plan_id).goals[0]
        assert cite_peer_challenge(s, SYSTEM, goal.id, REF, TEXT)
        again = read_plan(s, SYSTEM, plan_id).goals[0]
        assert (again.peer_challenge_ref, again.peer_challenge_text) == (REF, TEXT)
        assert again.citation == f"{REF}: {TEXT}"
        assert not cite_peer_challenge(s, SYSTEM, goal.id, REF, TEXT)  # nothing changed
        with pytest.raises(Invalid, match="reference as well"):
            cite_peer_challenge(s, SYSTEM, goal.id, "", TEXT)
        with pytest.raises(Invalid, match="one line"):
            cite_peer_challenge(s, SYSTEM, goal.id, "CPC\n2025", TEXT)
        assert cite_peer_challenge(s, SYSTEM, goal.id, "", "")
        assert read_plan(s, SYSTEM, plan_id).goals[0].citation == ""


def test_tandem_plan_cite(demo) -> None:
    tandem, engine = demo
    with Session(engine) as s:
        pairing_id, cycle_id, plan_id = _demo(s)
        goal_id = read_plan(s, SYSTEM, plan_id).goals[0].id
    assert f"now cites {REF}" in ok(
        tandem("plan", "cite", str(goal_id), "--ref", REF, "--text", TEXT)
    )
    shown = ok(tandem("plan", "show", str(cycle_id), "--pairing", str(pairing_id)))
    assert f"Answers peer challenge recommendation {REF}: {TEXT}" in shown
    assert "--ref" in refused(tandem("plan", "cite", str(goal_id)), 2)
    assert "Citation removed" in ok(tandem("plan", "cite", str(goal_id), "--clear"))
    with Session(engine) as s:
        assert read_plan(s, SYSTEM, plan_id).goals[0].citation == ""


def test_the_citation_goes_out_and_comes_back_in_the_workbook(demo_engine) -> None:
    with Session(demo_engine) as s:
        pairing_id, cycle_id, plan_id = _demo(s)
        view = read_plan(s, SYSTEM, plan_id)
        cite_peer_challenge(s, SYSTEM, view.goals[0].id, REF, TEXT)
        s.commit()
        data = export_plans(s, SYSTEM, cycle_id, pairing_id, charts=False)
    wb = load_workbook(BytesIO(data))
    ws = wb[CITATIONS_SHEET]
    assert [ws.cell(2, c).value for c in range(1, 9)] == CITATION_HEADERS
    rows = list(range(3, 3 + len(view.goals)))
    assert [ws.cell(r, 2).value for r in rows] == [g.title for g in view.goals]
    assert [ws.cell(r, 8).value for r in rows] == [g.id for g in view.goals]
    assert (ws.cell(3, 4).value, ws.cell(3, 5).value) == (REF, TEXT)
    assert all(ws.cell(r, 4).value in (None, "") for r in rows[1:])
    assert ws.column_dimensions["H"].hidden
    # edit: the reference changed
    ws.cell(3, 4).value = "CPC 2025 rec. 4"
    edited = BytesIO()
    wb.save(edited)
    with Session(demo_engine) as s:
        dry = import_plans(s, SYSTEM, edited.getvalue(), apply=False)
        assert dry.ok, dry.errors
        assert [c.what for c in dry.changes] == [
            f"goal '{view.goals[0].title}' cites 'CPC 2025 rec. 4'"
        ]
        assert import_plans(s, SYSTEM, edited.getvalue(), apply=True).applied
        s.commit()
        after = read_plan(s, SYSTEM, plan_id)
        assert after.goals[0].citation == f"CPC 2025 rec. 4: {TEXT}"
        # the same workbook again: the plan moved on since, but the row says what it holds
        again = import_plans(s, SYSTEM, edited.getvalue(), apply=False)
        assert again.ok and again.changes == []
        back = load_workbook(BytesIO(export_plans(s, SYSTEM, cycle_id, pairing_id, charts=False)))
    ws = back[CITATIONS_SHEET]
    assert (ws.cell(3, 4).value, ws.cell(3, 5).value) == ("CPC 2025 rec. 4", TEXT)
    # a row with no goal behind it is refused, naming the row
    below = 3 + len(view.goals)
    ws.cell(below, 4).value = "CPC 2025 rec. 9"
    edited = BytesIO()
    back.save(edited)
    with Session(demo_engine) as s:
        result = import_plans(s, SYSTEM, edited.getvalue(), apply=True)
        assert not result.ok and f"row {below}: goals are added in Tandem" in result.errors[0]


def test_a_citation_without_its_reference_is_refused_from_the_workbook(demo_engine) -> None:
    with Session(demo_engine) as s:
        pairing_id, cycle_id, plan_id = _demo(s)
        data = export_plans(s, SYSTEM, cycle_id, pairing_id, charts=False)
    wb = load_workbook(BytesIO(data))
    wb[CITATIONS_SHEET].cell(3, 5).value = "Words with no reference"
    edited = BytesIO()
    wb.save(edited)
    with Session(demo_engine) as s:
        result = import_plans(s, SYSTEM, edited.getvalue(), apply=True)
        assert not result.ok and "row 3" in result.errors[0] and "reference" in result.errors[0]
        assert read_plan(s, SYSTEM, plan_id).goals[0].citation == ""


def test_the_pack_gives_the_peer_team_an_anonymised_summary(demo_engine) -> None:
    with Session(demo_engine) as s:
        _, cycle_id, _ = _demo(s)
        reports = read_all_pairing_reports(s, SYSTEM, cycle_id)
        summary = evidence_summary(reports.values())
        data = council_pack(s, SYSTEM, cycle_id)
        raters = {
            p.full_name
            for p in s.exec(
                select(Person)
                .join(Invitation, Invitation.rater_id == Person.id)
                .where(Invitation.cycle_id == cycle_id)
            )
        }
        comments = [c.text for c in s.exec(select(Comment)) if len(c.text) > 30]
    # the summary: one row per dimension, only the reports' shown figures
    assert len(summary) == 9
    shown = [
        r.dimensions[
            (r.dimensions["target"] == "partnership") & (r.dimensions["source"] == "others")
        ]
        for r in reports.values()
    ]
    roles = next(f for f in shown if len(f)).query("dimension_code == 'roles'")
    row = summary.set_index("dimension_code").loc["roles"]
    means = [float(f.query("dimension_code == 'roles'")["mean"].iloc[0]) for f in shown if len(f)]
    assert row["pairings"] == len(means) and len(roles) == 1
    assert row["lowest"] == pytest.approx(min(means)) and row["highest"] == pytest.approx(
        max(means)
    )
    # the pack, read back with pypdf: the section, its elements, no comment and no name
    pages = [p.extract_text() for p in PdfReader(BytesIO(data)).pages]
    [start] = [i for i, t in enumerate(pages) if "Evidence for the peer team" in t]
    evidence = " ".join(pages[start].split())
    assert "Governance and culture" in evidence and "Capacity for improvement" in evidence
    assert "Politics and the political interface" in evidence
    assert "Local Government Chief Executives" in evidence  # the source cited
    assert "median of" in evidence
    for name in raters:
        assert name not in evidence
    for pairing_label in (str(r.meta["member_name"]) for r in reports.values()):
        assert pairing_label not in evidence
    for text in comments:
        assert text[:30] not in evidence
