"""Suggested goals from the gaps (pure, on a DataFrame) and on the demo council; accepting,
dismissing, and carrying a plan forward to the next cycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlmodel import Session, select

from core.db import session_scope
from core.errors import Conflict, NotFound, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle, Pairing, Person
from feedback.results.publication import read_pairing_report
from planning.models import DevelopmentPlan
from planning.plans import find_plan, plan_history, read_plan
from planning.suggestions import (
    accept_suggestion,
    carried_summary,
    carry_forward,
    dismiss_suggestion,
    load_action_library,
    movement_between,
    suggest,
    suggest_from_gaps,
)
from tools.demo import build_demo


def gaps_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["dimension_code", "dimension_name", "target", "self_mean", "partner_mean"]
    cols += ["others_mean", "others_n", "gap", "flag", "quadrant"]
    out = []
    for code, target, self_mean, others in rows:
        gap = None if self_mean is None or others is None else self_mean - others
        # as the report flags it (a gap of a third of the scale, enough raters and items)
        flag = "blind spot" if gap is not None and gap >= 4 / 3 else ""
        out.append((code, code.title(), target, self_mean, 3.0, others, 9, gap, flag, ""))
    return pd.DataFrame(out, columns=cols).astype({"gap": float, "others_mean": float})


def test_blind_spots_and_low_scores_come_first() -> None:
    gaps = gaps_frame(
        [
            ("advice", "member", 5.0, 2.7),  # blind spot 2.3 and low: need 2.3 + 1.3
            ("advice", "officer", 4.0, 3.8),
            ("priorities", "member", 2.5, 2.4),  # no blind spot, very low: need 1.6
            ("culture", "member", 4.2, 3.9),  # small: need 0.3 + 0.1
            ("credit", "member", 4.5, 4.5),  # fine: need 0
            ("respect", "member", 2.0, 3.0),  # hidden strength, others 3.0: need 1.0
        ]
    )
    got = suggest_from_gaps(gaps, member="Cllr Ann Bee", officer="Chris Dee")
    assert [s.dimension_code for s in got] == ["advice", "priorities", "respect"]
    advice = got[0]
    assert advice.need == pytest.approx(3.6)
    assert "blind spot" in advice.reason and "2.3" in advice.reason
    library = load_action_library()["dimensions"]["advice"]
    assert advice.title == library["goal"]
    assert len(advice.actions) == len(library["actions"])
    texts = " ".join(a.description + a.success_measure for a in advice.actions)
    assert "Chris Dee" in texts and "{officer}" not in texts and "{member}" not in texts
    assert {a.owner for a in advice.actions} <= {"member", "officer", "joint"}
    # left out: dimensions already handled; and the limit
    again = suggest_from_gaps(gaps, exclude={"advice"}, limit=1)
    assert [s.dimension_code for s in again] == ["priorities"]
    assert suggest_from_gaps(gaps.iloc[0:0]) == []


def test_suppressed_others_fall_back_to_the_principals_views() -> None:
    gaps = gaps_frame([("habits", "member", 2.0, None), ("roles", "member", 4.0, 4.1)])
    [only] = suggest_from_gaps(gaps)
    assert only.dimension_code == "habits"  # mean of own 2.0 and partner 3.0 = 2.5


def test_movement_between_cycles() -> None:
    before = gaps_frame([("priorities", "member", 2.5, 2.4), ("advice", "member", 5.0, 2.7)])
    after = gaps_frame([("priorities", "member", 4.5, 4.2), ("advice", "member", 4.0, 2.6)])
    m = movement_between(before, after).set_index("dimension_code")
    assert m.loc["priorities", "movement"] == "improved"
    assert m.loc["priorities", "change"] == pytest.approx(1.8)
    assert m.loc["advice", "movement"] == "no clear change"


def _demo(engine) -> dict:
    with session_scope(engine) as s:
        build_demo(s)
    with Session(engine) as s:
        cycles = {c.name[-4:]: c.id for c in s.exec(select(Cycle))}
        leader = s.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
        return {"cycles": cycles, "pairing": pairing, "leader": leader}


def test_suggest_accept_dismiss_and_carry_forward(engine) -> None:
    demo = _demo(engine)
    c25, c26, pairing = demo["cycles"]["2025"], demo["cycles"]["2026"], demo["pairing"]
    with Session(engine) as s:
        plan26 = find_plan(s, pairing.id, c26)
        offered = suggest(s, c26, pairing.id, SYSTEM)
        codes = [x.dimension_code for x in offered]
        # the 2026 plan already has an advice goal, so advice (its biggest gap) is left out
        assert "advice" not in codes and len(codes) == 3
        gaps = read_pairing_report(s, SYSTEM, c26, pairing.id).gaps  # the published edition
        # its one blind spot (advice) is already in the plan; the rest rank by low scores
        assert set(gaps.loc[gaps["flag"] == "blind spot", "dimension_code"]) == {"advice"}
        rev = plan26.revision
        goal = accept_suggestion(s, SYSTEM, plan26.id, codes[0], expected_revision=rev)
        dismiss_suggestion(s, SYSTEM, plan26.id, codes[1])
        s.commit()
        view = read_plan(s, SYSTEM, plan26.id)
        added = next(g for g in view.goals if g.id == goal.id)
        assert added.source == "suggested" and added.dimension == codes[0]
        assert len(added.actions) == len(offered[0].actions)
        assert all(a.due_on for a in added.actions)
        now = [x.dimension_code for x in suggest(s, c26, pairing.id, SYSTEM)]
        assert codes[0] not in now and codes[1] not in now
        assert plan_history(s, SYSTEM, plan26.id)[0].summary.startswith("Suggestion dismissed")
        with pytest.raises(NotFound, match="no longer offered"):
            accept_suggestion(s, SYSTEM, plan26.id, codes[1])
        with pytest.raises(Conflict, match="changed this plan"):
            accept_suggestion(s, SYSTEM, plan26.id, codes[2], expected_revision=rev)
        s.rollback()

        # carry the agreed 2025 plan forward (the demo's 2026 draft is removed first)
        s.delete(s.get(DevelopmentPlan, plan26.id))
        s.commit()
        plan25 = find_plan(s, pairing.id, c25)
        result = carry_forward(s, SYSTEM, plan25.id, c26)
        s.commit()
        [carried] = result.goals
        assert (carried.actions_total, carried.actions_done, carried.actions_carried) == (3, 2, 1)
        expected = movement_between(
            read_pairing_report(s, SYSTEM, c25, pairing.id).gaps,
            read_pairing_report(s, SYSTEM, c26, pairing.id).gaps,
        ).set_index("dimension_code")
        assert carried.dimension_code == "priorities"
        assert carried.movement == "improved"  # the demo's story: priorities agreed in 2025
        assert carried.change == pytest.approx(expected.loc["priorities", "change"], abs=0.01)
        assert carried.score_before < 3 < 4 < carried.score_after
        new = read_plan(s, SYSTEM, result.plan.id)
        assert new.carried_from_plan_id == plan25.id and new.cycle_id == c26
        [goal] = new.goals
        assert goal.source == "carried" and "2 of 3 actions done" in goal.description
        [action] = goal.actions
        assert action.status == "in progress"
        assert "improved" in result.sentences()[0]
        assert carried_summary(s, SYSTEM, result.plan.id)[0].startswith(
            "Agree the administration's priorities in writing: 2 of 3 actions done; "
            "Clear priorities improved"
        )
        with pytest.raises(Conflict):
            carry_forward(s, SYSTEM, plan25.id, c26)


def test_principals_see_suggestions_only_for_their_own_pairing(demo_engine) -> None:
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        pairings = s.exec(select(Pairing).order_by(Pairing.id)).all()
        own, other = pairings[0], pairings[1]
        me = Actor("m", "principal", person_id=own.member_id)
        assert suggest(s, cycle.id, own.id, me)
        with pytest.raises(PermissionDenied):
            suggest(s, cycle.id, other.id, me)
