"""Plans never read results around the publication gate: suggestions, carrying a plan forward
and the Excel gap chart use only what `read_pairing_report` gives the actor — nothing from an
open cycle, nothing unpublished for a principal, and never a late reply the published
edition holds back (both backends)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pandas as pd
import pytest
from analysis_builder import Small, add_rater, small_cycle
from openpyxl import load_workbook
from sqlmodel import Session

from core.errors import Invalid, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle
from feedback.results.publication import read_pairing_report
from feedback.results.report import dimension_gaps
from feedback.setup.cycles import set_cycle_status
from planning.excel import chart_gaps, export_plans, key_gaps
from planning.plans import add_action, add_goal, create_plan, plan_history, read_plan
from planning.suggestions import (
    carried_summary,
    carry_forward,
    dimension_scores,
    movement_between,
    suggest,
)

ADVICE = "advice"  # "Listening and advice"


def _principal(person_id: int) -> Actor:
    return Actor(username=f"p{person_id}", role="principal", person_id=person_id)


def _facilitator(small: Small) -> Actor:
    return Actor(username="fac", role="facilitator", council_ids=frozenset({small.council_id}))


def _rate(session: Session, small: Small, self_view: int, others: tuple[int, ...]) -> None:
    """Both principals and three councillors and three officers: enough to show both groups."""
    add_rater(session, small, "member", self_view)
    add_rater(session, small, "officer", self_view)
    for v in others:
        add_rater(session, small, "members", v)
        add_rater(session, small, "officers", v)


def _cycle(session: Session, small: Small) -> Cycle:
    return session.get(Cycle, small.cycle_id)


def _next_cycle(session: Session, first: Small, status: str, year: int) -> Small:
    return small_cycle(
        session,
        status=status,
        opens_on=date(year, 1, 4),
        council_id=first.council_id,
        member_id=first.member_id,
        officer_id=first.officer_id,
        pairing_id=first.pairing_id,
    )


def _publish(session: Session, small: Small) -> None:
    set_cycle_status(session, SYSTEM, small.cycle_id, "published")
    session.commit()


def _plan_with_advice_goal(session: Session, small: Small) -> int:
    plan = create_plan(session, SYSTEM, small.pairing_id, small.cycle_id)
    goal = add_goal(session, SYSTEM, plan.id, ADVICE, "Ask for advice before deciding")
    add_action(session, SYSTEM, goal.id, "Fortnightly one-to-one", "joint", status="done")
    add_action(session, SYSTEM, goal.id, "Advice log for big decisions", "member")
    session.commit()
    return plan.id


def _stored_text(session: Session, actor: Actor, plan_id: int) -> str:
    """Everything the new plan keeps: its goals as read now, and every history snapshot."""
    view = read_plan(session, actor, plan_id)
    return str(view["goals"]) + str(plan_history(session, actor, plan_id))


def _earlier_published_and_next(session: Session, status: str) -> tuple[Small, Small, int]:
    """A published cycle with a plan (advice rated 4 by everyone), and the next cycle of the
    same pairing in `status` where everyone has rated advice 1."""
    first = small_cycle(session)
    _rate(session, first, 4, (4, 4, 4))
    _publish(session, first)
    plan_id = _plan_with_advice_goal(session, first)
    later = _next_cycle(session, first, status, 2028)
    _rate(session, later, 1, (1, 1, 1))
    session.commit()
    # the live engine would say "Listening and advice fell (4.0 → 1.0)"
    live = dimension_gaps(session, later.cycle_id, later.pairing_id)
    assert (live.loc[live["dimension_code"] == ADVICE, "others_mean"] == 1.0).all()
    return first, later, plan_id


# --- (a) carrying a plan forward into a cycle whose results are not readable -------------


def test_principal_carrying_into_an_open_cycle_gets_no_figures_and_stores_none(
    session: Session,
) -> None:
    first, later, plan_id = _earlier_published_and_next(session, "open")
    member = _principal(first.member_id)
    result = carry_forward(session, member, plan_id, later.cycle_id)
    session.commit()
    [goal] = result.goals
    assert goal.score_after is None and goal.change is None
    name = _cycle(session, later).name
    assert goal.movement == f"not measured yet — results for {name} are not published"
    assert (goal.actions_total, goal.actions_done, goal.actions_carried) == (2, 1, 1)
    [sentence] = result.sentences()
    assert "not measured yet" in sentence and "not published" in sentence
    assert "→" not in sentence and "fell" not in sentence and "1.0" not in sentence

    stored = _stored_text(session, member, result.plan.id)
    assert "1 of 2 actions done" in stored
    assert "→" not in stored and "fell" not in stored and "1.0" not in stored

    for who in (member, SYSTEM, _principal(first.officer_id)):
        [line] = carried_summary(session, who, result.plan.id)
        assert "not measured yet" in line and "→" not in line and "1.0" not in line

    # Once the cycle is closed and published, the same summary gives the movement.
    set_cycle_status(session, SYSTEM, later.cycle_id, "closed")
    _publish(session, later)
    [line] = carried_summary(session, member, result.plan.id)
    assert line.endswith("Listening and advice fell (4.0 → 1.0).")


def test_staff_carrying_into_a_closed_unpublished_cycle_store_nothing_principals_cannot_read(
    session: Session,
) -> None:
    first, later, plan_id = _earlier_published_and_next(session, "closed")
    result = carry_forward(session, SYSTEM, plan_id, later.cycle_id)
    session.commit()
    [goal] = result.goals
    # Staff may read a closed cycle's results (with the hold-back) ...
    assert goal.movement == "fell" and (goal.score_before, goal.score_after) == (4.0, 1.0)
    # ... but the goal's note is read by the principals, so it carries no unpublished figure.
    member = _principal(first.member_id)
    stored = _stored_text(session, SYSTEM, result.plan.id)
    assert "1 of 2 actions done" in stored
    assert "→" not in stored and "fell" not in stored and "1.0" not in stored
    [line] = carried_summary(session, member, result.plan.id)
    assert "not measured yet" in line and "→" not in line


# --- (b) suggestions and the chart for an open cycle --------------------------------------


def test_suggestions_and_chart_for_an_open_cycle_are_refused_not_computed(
    session: Session,
) -> None:
    s = small_cycle(session, status="open")
    _rate(session, s, 5, (1, 2, 1))  # the live engine would suggest plenty
    session.commit()
    assert not dimension_gaps(session, s.cycle_id, s.pairing_id).empty
    for staff in (SYSTEM, _facilitator(s), None):
        with pytest.raises(Invalid, match="No suggestions yet.*are not published"):
            suggest(session, s.cycle_id, s.pairing_id, staff)
    with pytest.raises(PermissionDenied, match="not published yet"):
        suggest(session, s.cycle_id, s.pairing_id, _principal(s.member_id))

    plan = create_plan(session, SYSTEM, s.pairing_id, s.cycle_id)
    add_goal(session, SYSTEM, plan.id, ADVICE, "Ask for advice before deciding")
    session.commit()
    for who in (SYSTEM, _principal(s.member_id)):
        assert chart_gaps(session, who, _cycle(session, s), s.pairing_id, {ADVICE}) is None
    wb = load_workbook(BytesIO(export_plans(session, SYSTEM, s.cycle_id)))
    notes = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert f"No gap chart: results for {_cycle(session, s).name} are not published yet." in notes
    assert not any(ws._images for ws in wb.worksheets)


# --- (c) a late reply after publication changes nothing the plans show -------------------


@pytest.mark.parametrize("after", ["still published", "closed again"])
def test_one_late_officer_reply_changes_no_suggestion_chart_or_carried_figure(
    session: Session, after: str
) -> None:
    first = small_cycle(session)
    _rate(session, first, 3, (3, 3, 3))
    _publish(session, first)
    earlier_plan = _plan_with_advice_goal(session, first)

    s = _next_cycle(session, first, "closed", 2028)
    add_rater(session, s, "member", 5)
    add_rater(session, s, "officer", 5)
    for v in (2, 3, 4):
        add_rater(session, s, "members", v)
    for _ in range(3):
        add_rater(session, s, "officers", 4)
    _publish(session, s)

    member = _principal(s.member_id)
    published = read_pairing_report(session, member, s.cycle_id, s.pairing_id).gaps
    goal_dims = {ADVICE, "culture"}
    before = {
        "suggestions": suggest(session, s.cycle_id, s.pairing_id, SYSTEM, limit=9),
        "chart": chart_gaps(session, SYSTEM, _cycle(session, s), s.pairing_id, goal_dims),
    }
    assert before["suggestions"]
    pd.testing.assert_frame_equal(before["chart"], key_gaps(published, goal_dims))

    # One officer replies late with 1 everywhere: officers' mean 4 → 3.25, and
    # 4 × 3.25 − 3 × 4 = 1 would give the reply away.
    if after == "closed again":
        set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
        set_cycle_status(session, SYSTEM, s.cycle_id, "open")
    add_rater(session, s, "officers", 1)
    if after == "closed again":
        set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    session.commit()
    live = dimension_gaps(session, s.cycle_id, s.pairing_id)
    assert not live["others_mean"].equals(published["others_mean"])  # the live engine moved

    assert suggest(session, s.cycle_id, s.pairing_id, SYSTEM, limit=9) == before["suggestions"]
    for who in (SYSTEM, _facilitator(s), member):
        chart = chart_gaps(session, who, _cycle(session, s), s.pairing_id, goal_dims)
        pd.testing.assert_frame_equal(chart, before["chart"])

    earlier = read_pairing_report(session, member, first.cycle_id, first.pairing_id).gaps
    expected = movement_between(earlier, published).set_index("dimension_code").loc[ADVICE]
    result = carry_forward(session, SYSTEM, earlier_plan, s.cycle_id)
    session.commit()
    [goal] = result.goals
    assert goal.score_before == pytest.approx(expected["score_before"], abs=0.01)
    assert goal.score_after == pytest.approx(expected["score_after"], abs=0.01)
    assert goal.change == pytest.approx(expected["change"], abs=0.01)
    assert goal.movement == expected["movement"]
    scores = dimension_scores(published).set_index("dimension_code")
    assert goal.score_after == pytest.approx(scores.loc[ADVICE, "score"], abs=0.01)
    figures = f"({goal.score_before:.1f} → {goal.score_after:.1f})"
    assert figures in _stored_text(session, member, result.plan.id)
    for who in (SYSTEM, member):
        assert figures in carried_summary(session, who, result.plan.id)[0]
