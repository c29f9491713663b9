"""Findings people can trust, each rule against figures worked out by hand: the flag rule
(a third of the scale, enough raters, every item the same way), the mirror, the Solace
comparison (leader–chief executive pairings only, new pairings apart, the threshold), the
agreement band, the working agreement, and the demo's designed findings — exactly those."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
import yaml
from analysis_builder import add_rater, codes, small_cycle
from sqlmodel import Session, select

from core.db import session_scope
from core.roles import SYSTEM
from feedback.models import Cycle, CyclePairing, Pairing, Person
from feedback.results.engine import agreement_band, is_new_pairing, safe_sums
from feedback.results.publication import read_all_pairing_reports, read_council_overview
from feedback.results.report import council_overview, pairing_report
from feedback.results.tables import FINDING_GAP
from planning.plans import create_plan, find_plan, sign_plan
from planning.suggestions import accept_suggestion, suggest
from tools.demo import DEMO_FILE, build_demo


def _one(frame: pd.DataFrame, **where: object) -> pd.Series:
    rows = frame
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return rows.iloc[0]


def test_the_threshold_is_a_third_of_the_scale() -> None:
    assert pytest.approx(4 / 3) == FINDING_GAP


def _flag_case(session: Session, self_answers: tuple[int, int], item2: list[int],
               officers: int = 3) -> pd.Series:  # fmt: skip
    """Advice (member): the member rates its two items `self_answers`; three councillors and
    `officers` officers rate item 1 at 1 and item 2 as `item2` says, in turn."""
    s = small_cycle(session, threshold=3)
    first, second = codes(s, "advice", "member")
    add_rater(session, s, "member", {first: self_answers[0], second: self_answers[1]}, 3)
    add_rater(session, s, "officer", 3)
    raters = ["members"] * 3 + ["officers"] * officers
    for i, group in enumerate(raters):
        add_rater(session, s, group, {first: 1, second: item2[i % len(item2)]}, 3)
    session.commit()
    return _one(pairing_report(session, s.cycle_id, s.pairing_id).gaps,
                dimension_code="advice", target="member")  # fmt: skip


def test_flag_rule_by_hand(session: Session) -> None:
    # self 5, 5; others item 1: six 1s; item 2: 4, 5, 4, 5, 4, 5 (4.5); pooled (6 + 27)/12
    # = 2.75; gap 2.25, every item self above: a blind spot.
    row = _flag_case(session, (5, 5), [4, 5])
    assert row["others_mean"] == pytest.approx(2.75) and row["gap"] == pytest.approx(2.25)
    assert row["flag"] == "blind spot" and row["quadrant"] == "blind spot"
    # self 5, 4: gap 1.75 — but on item 2 self (4) is BELOW others (4.5): not consistent.
    row = _flag_case(session, (5, 4), [4, 5])
    assert row["gap"] == pytest.approx(1.75) and row["flag"] == ""
    # Only three councillors behind "everyone else" (item 2: 4, 5, 4; pooled (3 + 13)/6):
    # gap 7/3, every item the same way, but fewer than five raters: no flag.
    row = _flag_case(session, (5, 5), [4, 5], officers=0)
    assert row["others_n"] == 3 and row["gap"] == pytest.approx(7 / 3) and row["flag"] == ""
    # At the threshold exactly: self 3, 3; others item 1 all 1s... pooled 1 + item 2 of
    # 3,3,3,2,2,2 (2.5): (6 + 15)/12 = 1.75, gap 1.25 — under 4/3: nothing.
    row = _flag_case(session, (3, 3), [3, 3, 3, 2, 2, 2])
    assert row["gap"] == pytest.approx(1.25) and row["flag"] == ""
    # Hidden strength: self 1, 1 against item 2 at 4.5 and item 1 at 1 — item 1 is level
    # (1 = 1), so not every item points down: no flag, however large the dimension gap.
    row = _flag_case(session, (1, 1), [4, 5])
    assert row["gap"] == pytest.approx(-1.75) and row["flag"] == ""


def test_mirror_by_hand(session: Session) -> None:
    s = small_cycle(session, threshold=3)
    [dis] = codes(s, "disagreement", "partnership")
    [hab] = codes(s, "habits", "partnership")
    add_rater(session, s, "member", {dis: 4, hab: 4}, 4)
    add_rater(session, s, "officer", {dis: 2, hab: 3}, 4)
    for _ in range(3):
        add_rater(session, s, "officers", 4)
    session.commit()
    report = pairing_report(session, s.cycle_id, s.pairing_id)
    row = _one(report.mirror, dimension_code="disagreement")
    assert (row["member_view"], row["officer_view"], row["gap"]) == (4, 2, 2)
    assert row["flag"] == "mirror"
    assert _one(report.mirror, dimension_code="habits")["flag"] == ""  # 1 apart: under 4/3
    # The pair's average (3) against everyone else (4) is not a "hidden strength".
    gap = _one(report.gaps, dimension_code="disagreement", target="partnership")
    assert gap["flag"] == ""
    first = report.findings.iloc[0]
    assert first["kind"] == "mirror" and first["dimension_code"] == "disagreement"
    assert "4.0" in first["text"] and "2.0" in first["text"]
    overview = council_overview(session, s.cycle_id)
    assert overview.findings[0].startswith("The pair see their partnership differently")


def test_new_pairings_are_those_under_twelve_months() -> None:
    started = pd.Series([date(2026, 1, 5), date(2026, 1, 4), None, date(2020, 3, 1)])
    assert is_new_pairing(started, date(2027, 1, 4)).tolist() == [True, False, False, False]


_people = itertools.count(1)


def _pairing(session: Session, s, kind: str, started_on: date | None):
    n = next(_people)
    member = Person(council_id=s.council_id, full_name=f"Cllr M{n}",
                    email=f"m{n}@x.gov.uk", kind="member")  # fmt: skip
    officer = Person(council_id=s.council_id, full_name=f"Officer O{n}",
                     email=f"o{n}@x.gov.uk", kind="officer")  # fmt: skip
    session.add_all([member, officer])
    session.flush()
    pairing = Pairing(council_id=s.council_id, kind=kind, member_id=member.id,
                      officer_id=officer.id, started_on=started_on)  # fmt: skip
    session.add(pairing)
    session.flush()
    session.add(CyclePairing(cycle_id=s.cycle_id, pairing_id=pairing.id))
    session.flush()
    return replace(s, pairing_id=pairing.id, member_id=member.id, officer_id=officer.id)


def test_solace_counts_only_chief_executives_about_leaders(session: Session) -> None:
    s = small_cycle(session, threshold=2, opens_on=date(2027, 1, 4))  # a leader–CE pairing
    yes, no = (
        {"solace.advice": 5, "solace.relationship": 3},
        {"solace.advice": 2, "solace.relationship": 2},
    )
    add_rater(session, s, "officer", yes, default=None)
    add_rater(session, s, "member", yes, default=None)
    second = _pairing(session, s, "leader–chief executive", date(2020, 5, 1))
    add_rater(session, second, "officer", no, default=None)
    add_rater(session, second, "member", yes, default=None)
    # Directors about cabinet members: never in the like-for-like figure.
    for _ in range(3):
        director = _pairing(session, s, "cabinet–director", None)
        add_rater(session, director, "officer", no, default=None)
    # A leader–CE pairing of six months: reported apart.
    new = _pairing(session, s, "leader–chief executive", date(2026, 7, 1))
    add_rater(session, new, "officer", no, default=None)
    session.commit()
    solace = council_overview(session, s.cycle_id).solace.set_index("measure")
    advice = solace.loc["advice"]
    # two chief executives (established): one says always (5), one rarely (2): 50%
    assert (advice["n"], advice["council_pct"]) == (2, 50)
    assert (advice["members_n"], advice["members_pct"]) == (2, 100)  # the leaders, beside
    assert advice["new_n"] == 1 and pd.isna(advice["new_pct"])  # one answer: not shown
    relationship = solace.loc["relationship"]
    assert (relationship["n"], relationship["council_pct"]) == (2, 50)
    assert "Solace" in advice["source"]


def test_no_solace_figure_from_fewer_answers_than_the_threshold(session: Session) -> None:
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "officer", {"solace.advice": 5}, default=None)
    second = _pairing(session, s, "leader–chief executive", None)
    add_rater(session, second, "officer", {"solace.advice": 5}, default=None)
    session.commit()
    advice = council_overview(session, s.cycle_id).solace.set_index("measure").loc["advice"]
    assert advice["n"] == 2 and pd.isna(advice["council_pct"])  # 2 < 3


def test_agreement_band_by_hand(session: Session) -> None:
    assert agreement_band([2, 2, 4, 4, 5, 5]) == "split"
    assert agreement_band([4, 4, 4, 5, 5]) == "raters agree"
    assert agreement_band([3, 4, 4, 2, 5]) == "mixed views"
    # {3,3,4}: the only three answers summing to 10 that "agree" — never shown
    assert 10 not in safe_sums(3)
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 4)
    for v in (2, 4, 5):  # advice (member): 2,2,4,4,5,5 — sum 22 of 6 answers: safe
        add_rater(session, s, "members", v)
    for v in (3, 4, 5):  # 3,3,4,4,5,5 — sum 24 of 6: another band has one multiset
        add_rater(session, s, "officers", v)
    session.commit()
    dims = pairing_report(session, s.cycle_id, s.pairing_id).dimensions
    assert (
        _one(dims, dimension_code="advice", target="member", source="members")["agreement"]
        == "split"
    )
    assert (
        _one(dims, dimension_code="advice", target="member", source="officers")["agreement"] is None
    )
    assert dims.loc[dims["source"].isin(["self", "partner"]), "agreement"].isna().all()


def _designed(engine) -> tuple[dict[str, set], dict[str, set]]:
    spec = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    by_portfolio = {p["portfolio"]: p["key"] for p in spec["pairings"]}
    designed = {(f["pairing"], f["kind"], f["dimension"], f["target"]) for f in spec["findings"]}
    surfaced: dict[str, set] = {}
    with Session(engine) as s:
        for cycle in s.exec(select(Cycle)):
            reports = read_all_pairing_reports(s, SYSTEM, cycle.id)
            surfaced[cycle.name] = {
                (by_portfolio[r.meta["portfolio"]], f.kind, f.dimension_code, f.target)
                for r in reports.values()
                for f in r.findings.itertuples(index=False)
            }
    return designed, surfaced


def test_the_demo_surfaces_exactly_its_designed_findings(demo_engine) -> None:
    designed, surfaced = _designed(demo_engine)
    assert len(surfaced) == 2
    for name, found in surfaced.items():
        assert found == designed, name
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).order_by(Cycle.opens_on.desc())).first()
        reports = read_all_pairing_reports(s, SYSTEM, cycle.id)
        overview = read_council_overview(s, SYSTEM, cycle.id)
        cells = sum(len(r.gaps) for r in reports.values())
        flagged = sum(int((r.gaps["flag"] != "").sum()) for r in reports.values())
        assert flagged * 10 <= cells  # no more than one cell in ten
        fin = next(r for r in reports.values() if r.meta["portfolio"] == "Finance and Resources")
        mirror = _one(fin.mirror, dimension_code="disagreement")
        assert (mirror["member_view"], mirror["officer_view"]) == (4, 2)
        assert overview.findings[0].startswith("The pair see their partnership differently")


def test_the_mirror_drafts_a_working_agreement_signed_with_the_plan(engine) -> None:
    with session_scope(engine) as s:
        build_demo(s)
    with Session(engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        pairing = s.exec(select(Pairing).where(Pairing.portfolio == "Finance and Resources")).one()
        offered = suggest(s, cycle.id, pairing.id, SYSTEM)
        first = offered[0]
        assert first.dimension_code == "disagreement"
        assert first.title == "Working agreement: Handling disagreement"
        assert "Gareth Pryce can expect Cllr Tom Hargreaves to" in first.why
        assert "Cllr Tom Hargreaves can expect Gareth Pryce to" in first.why
        assert {a.owner for a in first.actions} == {"member", "officer", "joint"}
        plan = find_plan(s, pairing.id, cycle.id) or create_plan(s, SYSTEM, pairing.id, cycle.id)
        goal = accept_suggestion(s, SYSTEM, plan.id, "disagreement", plan.revision)
        assert "can expect" in goal.description
        s.refresh(plan)
        sign_plan(s, SYSTEM, plan.id, pairing.member_id, plan.revision, "by email")
        plan = sign_plan(s, SYSTEM, plan.id, pairing.officer_id, plan.revision, "by email")
        assert plan.status == "agreed"  # the agreement is signed with the plan


def test_a_pairing_records_when_it_started_and_refuses_a_bad_date(session: Session) -> None:
    from core.errors import Invalid
    from feedback.setup.people import create_pairing

    s = small_cycle(session)
    n = next(_people)
    people = [
        Person(council_id=s.council_id, full_name=f"Cllr S{n}", email=f"s{n}@x.gov.uk",
               kind="member"),
        Person(council_id=s.council_id, full_name=f"Director S{n}", email=f"d{n}@x.gov.uk",
               kind="officer"),
    ]  # fmt: skip
    session.add_all(people)
    session.flush()
    member, officer = people
    for bad, words in (("next Tuesday", "is not a date"), (date(2999, 1, 1), "future")):
        with pytest.raises(Invalid, match=words):
            create_pairing(session, SYSTEM, s.council_id, "cabinet–director", member.id,
                           officer.id, "Finance", started_on=bad)  # fmt: skip
    pairing = create_pairing(session, SYSTEM, s.council_id, "cabinet–director", member.id,
                             officer.id, "Finance", started_on="2026-04-13")  # fmt: skip
    session.commit()
    assert session.get(Pairing, pairing.id).started_on == date(2026, 4, 13)
