"""The analysis engine against small cycles computed by hand (both backends), and the demo
council's story."""

from __future__ import annotations

import json
import math
from datetime import date

import pandas as pd
import pytest
from analysis_builder import add_rater, codes, small_cycle
from sqlmodel import Session, select

from core.roles import SYSTEM
from feedback.models import Cycle, Pairing, Person
from feedback.results.publication import publish_cycle
from feedback.results.report import (
    council_overview,
    dimension_gaps,
    national_comparison,
    pairing_report,
)
from feedback.results.tables import COLUMNS, GAP_THRESHOLD, CouncilOverview, PairingReport


def _one(frame, **where):
    rows = frame
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, f"expected one row for {where}, found {len(rows)}"
    return rows.iloc[0]


def _none(frame, **where) -> bool:
    rows = frame
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows.empty


@pytest.fixture
def scenario_a(session: Session):
    """Principals 5 (member) and 4 (officer) everywhere; councillors 2, 3, 4; officers 3, 4,
    5; only two external partners (1 everywhere) — below the threshold of 3."""
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", {"solace.advice": 4, "solace.relationship": 2}, default=5)
    add_rater(session, s, "officer", {"solace.advice": 2, "solace.relationship": 3}, default=4)
    for v, text in zip((2, 3, 4), ("b comment", "A comment", None), strict=True):
        add_rater(session, s, "members", v, comments={"advice": text} if text else None)
    for v in (3, 4, 5):
        add_rater(session, s, "officers", v)
    for _ in range(2):
        add_rater(session, s, "partners", 1, comments={"advice": "secret partner remark"})
    add_rater(session, s, "members", 1, submit=False)  # a draft never counts
    session.commit()
    return s


def test_hand_computed_items_dimensions_gaps_and_mirror(session: Session, scenario_a) -> None:
    s = scenario_a
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    item = codes(s, "advice", "member")[0]
    items = report.items
    assert _one(items, item_code=item, source="self")["mean"] == 5
    assert _one(items, item_code=item, source="partner")["mean"] == 4
    members = _one(items, item_code=item, source="members")
    assert (members["mean"], members["n"]) == (3, 3)
    assert "sd" not in items.columns  # shown nowhere, so never served (issue 12)
    others = _one(items, item_code=item, source="others")
    assert others["mean"] == pytest.approx(21 / 6) and others["n"] == 6
    assert _none(items, source="partners")
    officer_item = codes(s, "advice", "officer")[0]
    assert _one(items, item_code=officer_item, source="self")["mean"] == 4
    assert _one(items, item_code=officer_item, source="partner")["mean"] == 5
    part_item = codes(s, "advice", "partnership")[0]
    own = _one(items, item_code=part_item, source="self")
    assert own["mean"] == 4.5 and own["n"] == 2
    assert _none(items, item_code=part_item, source="partner")
    # Names are filled in.
    assert "Cllr Lead" in _one(items, item_code=item, source="self")["item_text"]

    dims = report.dimensions
    assert _one(dims, dimension_code="advice", target="member", source="others")["mean"] == (
        pytest.approx(3.5)
    )
    gap = _one(report.gaps, dimension_code="advice", target="member")
    assert (gap["self_mean"], gap["partner_mean"], gap["others_n"]) == (5, 4, 6)
    assert gap["gap"] == pytest.approx(1.5)
    assert gap["flag"] == "blind spot" and gap["quadrant"] == "blind spot"
    officer_gap = _one(report.gaps, dimension_code="advice", target="officer")
    # 0.5 is well under a third of the scale (1.33): no flag, only a quadrant.
    assert officer_gap["gap"] == pytest.approx(0.5) and officer_gap["flag"] == ""
    assert officer_gap["quadrant"] == "open strength"
    mirror = _one(report.mirror, dimension_code="advice")
    assert (mirror["member_view"], mirror["officer_view"], mirror["others_n"]) == (5, 4, 6)
    assert mirror["gap"] == 1 and mirror["flag"] == ""  # 1 point apart: under 1.33
    assert mirror["others_view"] == pytest.approx(3.5)
    assert list(report.gaps.columns) == COLUMNS["gaps"]
    assert len(report.top_items) == 5 and len(report.bottom_items) == 5
    assert report.change.empty and report.meta["previous_cycle_name"] is None


def test_a_group_below_threshold_is_dropped_everywhere(session: Session, scenario_a) -> None:
    s = scenario_a
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    groups = report.groups.set_index("group")
    # A hidden group says "fewer than N", never how many replied.
    assert groups.loc["partners", "responded"] == "fewer than 3"
    assert not groups.loc["partners", "shown"]
    assert groups.loc["members", "invited"] == 4 and groups.loc["members", "responded"] == 3
    assert not (report.items["source"] == "partners").any()
    assert not (report.dimensions["source"] == "partners").any()
    # Partners rated 1 everywhere: had they been folded in, some "others" would be < 3.
    others = report.items[report.items["source"] == "others"]
    assert (others["n"] == 6).all() and (others["mean"] == 3.5).all()
    assert any("External partners" in n and "not shown" in n for n in report.notices)
    # Comments: only shown groups, alphabetical whatever the case.
    assert report.comments == {"advice": ["A comment", "b comment"]}
    assert "secret partner" not in json.dumps(report.to_dict())


def test_threshold_two_shows_a_pair_of_partners(session: Session) -> None:
    s = small_cycle(session, threshold=2)
    add_rater(session, s, "member", 3)
    for v in (1, 2):
        add_rater(session, s, "partners", v)
    session.commit()
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    item = codes(s, "roles", "member")[0]
    assert _one(report.items, item_code=item, source="partners")["mean"] == 1.5
    assert _one(report.items, item_code=item, source="others")["n"] == 2


def test_half_items_rule_and_per_item_suppression(session: Session) -> None:
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 4)
    first, second = codes(s, "advice", "member")
    r1, r2 = codes(s, "respect", "member")
    add_rater(session, s, "members", 4)
    add_rater(session, s, "members", 4)
    # Answers one of two advice items (counts: half), can't say to both respect items.
    add_rater(session, s, "members", {first: 1, second: None, r1: None, r2: None}, default=4)
    for _ in range(3):
        add_rater(session, s, "officers", 2)
    session.commit()
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    items, dims = report.items, report.dimensions
    assert _one(items, item_code=first, source="members")["mean"] == 3
    assert _one(items, item_code=first, source="others")["mean"] == pytest.approx(15 / 6)
    # Only two councillors answered the second item: their figure goes, and "others" is
    # the officers alone (not folded in).
    assert _none(items, item_code=second, source="members")
    second_others = _one(items, item_code=second, source="others")
    assert (second_others["mean"], second_others["n"]) == (2, 3)
    advice = _one(dims, dimension_code="advice", target="member", source="members")
    assert (advice["mean"], advice["n"]) == (3, 3)
    # Respect: the third councillor answered none, so counts for nothing; two left → hidden.
    assert _none(dims, dimension_code="respect", target="member", source="members")
    respect_others = _one(dims, dimension_code="respect", target="member", source="others")
    assert (respect_others["mean"], respect_others["n"]) == (2, 3)
    assert any(n.startswith("Other councillors: some questions") for n in report.notices)
    gaps = dimension_gaps(session, s.cycle_id, s.pairing_id)
    respect = _one(gaps, dimension_code="respect", target="member")
    # A gap of 2, but "everyone else" is three officers: fewer than the five a flag needs.
    assert respect["gap"] == 2 and respect["others_n"] == 3
    assert respect["flag"] == "" and respect["quadrant"] == "development area"


def test_change_since_the_previous_cycle(session: Session) -> None:
    before = small_cycle(session, threshold=2, opens_on=date(2026, 1, 5))
    add_rater(session, before, "member", 3)
    for v in (2, 2):
        add_rater(session, before, "officers", v)
    # The change is always against the previous cycle as published (never computed live).
    publish_cycle(session, SYSTEM, before.cycle_id)
    after = small_cycle(session, threshold=2, opens_on=date(2027, 1, 4),
                        council_id=before.council_id, member_id=before.member_id,
                        officer_id=before.officer_id, pairing_id=before.pairing_id)  # fmt: skip
    add_rater(session, after, "member", 4)
    for v in (3, 4):
        add_rater(session, after, "officers", v)
    session.commit()
    report = pairing_report(session, after.cycle_id, after.pairing_id)
    assert report.meta["previous_cycle_name"] == session.get(Cycle, before.cycle_id).name
    row = _one(report.change, dimension_code="roles", target="member", source="others")
    assert (row["previous"], row["current"], row["change"]) == (2, 3.5, 1.5)
    own = _one(report.change, dimension_code="roles", target="member", source="self")
    assert own["change"] == 1


def test_round_trip_through_json(session: Session, scenario_a) -> None:
    s = scenario_a
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    data = json.loads(json.dumps(report.to_dict()))
    again = PairingReport.from_dict(data)
    assert again.meta == report.meta and again.comments == report.comments
    assert list(again.items.columns) == COLUMNS["items"]
    assert again.items["mean"].tolist() == pytest.approx(report.items["mean"].tolist())
    overview = council_overview(session, s.cycle_id)
    back = CouncilOverview.from_dict(json.loads(json.dumps(overview.to_dict())))
    pd.testing.assert_series_equal(
        back.solace["council_pct"].astype("float64"), overview.solace["council_pct"]
    )
    assert back.findings == overview.findings


def test_council_overview_by_hand(session: Session, scenario_a) -> None:
    s = scenario_a
    overview = council_overview(session, s.cycle_id)
    solace = overview.solace.set_index("measure")
    # Like for like with Solace (chief executives): the officers' answers. With one pairing
    # that is one answer (the chief executive's own), below the threshold: no percentage,
    # only the national figure beside "fewer than 3 answers".
    assert pd.isna(solace.loc["advice", "council_pct"]) and solace.loc["advice", "n"] == 1
    assert solace.loc["advice", "national_pct"] == 70
    assert pd.isna(solace.loc["advice", "members_pct"]) and solace.loc["advice", "members_n"] == 1
    assert pd.isna(solace.loc["relationship", "council_pct"])
    assert solace.loc["relationship", "national_pct"] == 17
    assert not any("officers here" in f for f in overview.findings)
    # Heatmap: partnership score = principals (5, 4) and shown others (2,3,4,3,4,5).
    cell = _one(overview.heatmap, dimension_code="advice")
    assert cell["score"] == pytest.approx(30 / 8) and cell["n"] == 8
    # Distribution: partners' 1s never counted.
    dist = overview.distribution
    assert _one(dist, dimension_code="advice", rating=1)["count"] == 0
    advice_items = sum(1 for c in s.items.values() if c.dimension_id == s.dims["advice"])
    assert _one(dist, dimension_code="advice", rating=3)["count"] == 2 * advice_items
    rates = overview.response_rates.set_index("group")
    assert rates.loc["members", "rate"] == pytest.approx(0.75)
    assert overview.findings and all(isinstance(f, str) for f in overview.findings)


def test_national_comparison_by_hand(session: Session, scenario_a) -> None:
    s = scenario_a
    other = small_cycle(session, threshold=3)
    add_rater(session, other, "member", {"solace.advice": 5, "solace.relationship": 4}, 4)
    add_rater(session, other, "officer", {"solace.advice": 5, "solace.relationship": 1}, 4)
    session.commit()
    table = national_comparison(session).set_index("council_name")
    here = session.get(Pairing, s.pairing_id).council_id
    row = table[table["council_id"] == here].iloc[0]
    # the officers' answers only: here one answer, fewer than the threshold: no percentage
    assert pd.isna(row["advice_pct"]) and pd.isna(row["relationship_pct"]) and row["n"] == 1
    # "All councils" pools only the councils shown (none here), so it cannot be set against
    # the councils shown to give a hidden one back.
    total = table.loc["All councils"]
    assert pd.isna(total["advice_pct"]) and total["n"] == 0


# --- the demo council's story -------------------------------------------------------------


def _demo_ids(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    cycles = {c.name[-4:]: c.id for c in session.exec(select(Cycle))}
    pairings = {}
    for p in session.exec(select(Pairing)):
        member = session.get(Person, p.member_id).full_name
        pairings[member] = p.id
    return cycles, pairings


def test_the_demo_story_is_in_the_numbers(demo_engine) -> None:
    with Session(demo_engine) as session:
        cycles, pairings = _demo_ids(session)
        leader = pairing_report(session, cycles["2026"], pairings["Cllr Margaret Oduya"])
        gap = _one(leader.gaps, dimension_code="advice", target="member")
        assert gap["flag"] == "blind spot" and gap["gap"] > 1.0

        asc = pairing_report(session, cycles["2026"], pairings["Cllr Siân Llewelyn"])
        gap = _one(asc.gaps, dimension_code="neutrality", target="officer")
        assert gap["flag"] == "hidden strength" and gap["gap"] < -1.0

        fin = pairing_report(session, cycles["2026"], pairings["Cllr Tom Hargreaves"])
        mirror = _one(fin.mirror, dimension_code="disagreement")
        assert (mirror["member_view"], mirror["officer_view"]) == (4, 2)
        assert mirror["flag"] == "mirror" and mirror["gap"] >= GAP_THRESHOLD

        change = leader.change
        improved = _one(change, dimension_code="priorities", target="partnership", source="others")
        assert improved["change"] > 1.0
        assert leader.meta["previous_cycle_name"] == "Annual review 2025"

        children = pairing_report(session, cycles["2026"], pairings["Cllr Owen Fletcher"])
        assert not children.groups.set_index("group").loc["partners", "shown"]
        assert not (children.items["source"] == "partners").any()

        overview = council_overview(session, cycles["2026"])
        assert len(overview.heatmap) == 5 * 9
        solace = overview.solace.set_index("measure")
        # Like for like: only the chief executive's answer about the leader counts (not the
        # four directors'): one answer, below the threshold, so no percentage.
        assert solace.loc["advice", "n"] == 1 and pd.isna(solace.loc["advice", "council_pct"])
        assert solace.loc["advice", "members_n"] == 1  # the leader's own answer, beside
        assert pd.isna(solace.loc["advice", "members_pct"])
        assert "could not be confirmed" in solace.loc["advice", "source"]
        assert overview.findings[0].startswith("The pair see their partnership differently")
        national = national_comparison(session)
        assert national.iloc[-1]["council_name"] == "All councils"
        # one council's chief executive: one answer, never a percentage, nor pooled alone
        assert national.iloc[0]["n"] == 1 and math.isnan(national.iloc[0]["advice_pct"])
        assert math.isnan(national.iloc[-1]["advice_pct"])


def test_a_dimension_reveals_nothing_its_shown_items_do_not(session: Session) -> None:
    """The attack: three officers answer item A (4, 4, 5: shown), a fourth answers only item
    B (1: suppressed, n=1). If the dimension counted the fourth officer, n × dimension −
    n × item A would give back their 1. Every dimension, "others" and heatmap figure must be
    the pooled answers of the shown item cells, nothing more."""
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 4)
    a, b = codes(s, "roles", "officer")[:2]
    for value in (4, 4, 5):
        add_rater(session, s, "officers", {a: value}, default=None)
    add_rater(session, s, "officers", {b: 1}, default=None)
    for _ in range(3):
        add_rater(session, s, "members", 3)
    session.commit()
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    items, dims = report.items, report.dimensions
    assert _none(items, item_code=b, source="officers")
    roles = _one(dims, dimension_code="roles", target="officer", source="officers")
    assert (roles["mean"], roles["n"]) == (pytest.approx(13 / 3), 3)

    # In general: every anonymous or "others" dimension figure is the n-weighted mean of
    # the shown item cells of the same source, so subtracting one from the other yields 0.
    for row in dims[dims["source"].isin(["members", "officers", "partners", "others"])].to_dict(
        "records"
    ):
        shown = items[
            (items["dimension_code"] == row["dimension_code"])
            & (items["target"] == row["target"])
            & (items["source"] == row["source"])
        ]
        pooled = (shown["mean"] * shown["n"]).sum() / shown["n"].sum()
        assert row["mean"] == pytest.approx(pooled), row

    # The council heatmap's partnership scores follow the same rule (all shown sources).
    overview = council_overview(session, s.cycle_id)
    part_items = items[(items["target"] == "partnership") & (items["source"] != "others")]
    for row in overview.heatmap.to_dict("records"):
        shown = part_items[part_items["dimension_name"] == row["dimension_name"]]
        principals = shown[shown["source"] == "self"]
        anonymous = shown[shown["source"] != "self"]
        # "self" for the partnership pools the two principals' views: 2 answers per item
        total = (principals["mean"] * 2).sum() + (anonymous["mean"] * anonymous["n"]).sum()
        count = 2 * len(principals) + anonymous["n"].sum()
        assert row["score"] == pytest.approx(total / count), row
