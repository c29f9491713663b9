"""The demo council has the promised shape, and its story is really in the numbers."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from core.models import Council
from feedback.models import Cycle, Invitation, Pairing
from planning.models import DevelopmentPlan, PlanAction
from tools.demo import build_demo

RATINGS_SQL = """
SELECT c.name AS cycle, p.portfolio AS pairing, d.code AS dimension, i.target, r.value,
       CASE WHEN inv.rater_id = p.member_id THEN 'member_principal'
            WHEN inv.rater_id = p.officer_id THEN 'officer_principal'
            ELSE 'others' END AS rater
FROM rating r
JOIN response resp ON resp.id = r.response_id AND resp.status = 'submitted'
JOIN invitation inv ON inv.id = resp.invitation_id
JOIN pairing p ON p.id = inv.pairing_id
JOIN cycle c ON c.id = inv.cycle_id
JOIN item i ON i.id = r.item_id
JOIN dimension d ON d.id = i.dimension_id
WHERE r.value IS NOT NULL
"""


def _ratings(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text(RATINGS_SQL), conn)


def _mean(df, cycle, pairing, dimension, target, rater) -> float:
    sel = df[
        (df.cycle == cycle)
        & (df.pairing == pairing)
        & (df.dimension == dimension)
        & (df.target == target)
        & (df.rater == rater)
    ]
    assert len(sel) > 0
    return sel.value.mean()


def test_demo_shape(demo_engine) -> None:
    with Session(demo_engine) as s:
        assert [c.name for c in s.exec(select(Council))] == ["Kingsmere Borough Council"]
        pairings = s.exec(select(Pairing)).all()
        assert sorted(p.kind for p in pairings) == ["cabinet–director"] * 4 + [
            "leader–chief executive"
        ]
        cycles = s.exec(select(Cycle).order_by(Cycle.opens_on)).all()
        assert len(cycles) == 2
        assert (cycles[1].opens_on - cycles[0].opens_on).days in range(360, 371)
        for cycle in cycles:
            for pairing in pairings:
                invitations = s.exec(
                    select(Invitation).where(
                        Invitation.cycle_id == cycle.id, Invitation.pairing_id == pairing.id
                    )
                ).all()
                raters = [i for i in invitations if i.rater_group != "principal"]
                assert 10 <= len(raters) <= 15
                assert {i.rater_group for i in raters} == {"members", "officers", "partners"}
        plans = s.exec(select(DevelopmentPlan).order_by(DevelopmentPlan.id)).all()
        assert [p.status for p in plans] == ["agreed", "draft"]
        assert plans[1].carried_from_plan_id == plans[0].id
        assert s.exec(select(PlanAction).where(PlanAction.status == "done")).all()


def test_demo_story_is_in_the_numbers(demo_engine) -> None:
    df = _ratings(demo_engine)
    y1, y2 = "Annual review 2025", "Annual review 2026"
    # Blind spot: the leader rates her own listening and advice well above everyone else.
    self_ = _mean(df, y2, "Leadership of the council", "advice", "member", "member_principal")
    others = _mean(df, y2, "Leadership of the council", "advice", "member", "others")
    assert self_ - others >= 1.0
    # Hidden strength: the adult social care director rates her neutrality well below others.
    self_ = _mean(
        df, y2, "Adult Social Care and Health", "neutrality", "officer", "officer_principal"
    )
    others = _mean(df, y2, "Adult Social Care and Health", "neutrality", "officer", "others")
    assert others - self_ >= 1.0
    # Mirror: member and officer disagree about how the partnership handles disagreement.
    member_view = _mean(
        df, y2, "Finance and Resources", "disagreement", "partnership", "member_principal"
    )
    officer_view = _mean(
        df, y2, "Finance and Resources", "disagreement", "partnership", "officer_principal"
    )
    assert member_view - officer_view >= 1.5
    # Improvement: clear priorities rose between the cycles for the leader and chief executive.
    before = df[
        (df.cycle == y1)
        & (df.pairing == "Leadership of the council")
        & (df.dimension == "priorities")
    ].value.mean()
    after = df[
        (df.cycle == y2)
        & (df.pairing == "Leadership of the council")
        & (df.dimension == "priorities")
    ].value.mean()
    assert after - before >= 1.0


@pytest.mark.slow
def test_demo_twice_changes_nothing_and_reset_rebuilds(demo_engine) -> None:
    with Session(demo_engine) as s:
        before = s.execute(text("SELECT COUNT(*) FROM rating")).scalar()
        message = build_demo(s)
        s.commit()
        assert "already here" in message
        assert s.execute(text("SELECT COUNT(*) FROM rating")).scalar() == before
        message = build_demo(s, reset=True)
        s.commit()
        assert "Built the demo council" in message
        assert s.execute(text("SELECT COUNT(*) FROM rating")).scalar() == before
        assert s.execute(text("SELECT COUNT(*) FROM council")).scalar() == 1
