"""A 90-day pulse against the full cycle it follows, compared by PERSON (issue 19 item 5):
with 4 officers behind a full-cycle figure and 3 of the same 4 behind the pulse's,
4 × the one − 3 × the other is the fourth officer's full-cycle answer. So a pulse figure
whose people differ from the full cycle's by more than none but fewer than the threshold
is not shown, nor its change, on any route (feedback/results/publication.py,
`_apart_from_related`); the same people, or at least the threshold's number of different
ones, are shown.

Hand-built on both databases; the attacker tries the subtraction on everything served."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

import pytest
from cycle_builder import Built, build_cycle
from pptx import Presentation
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

import cli.common
from cli.main import app
from core.db import session_scope
from core.roles import SYSTEM, Actor, Role
from core.vocabulary import PULSE_WITHHELD
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Invitation, Person
from feedback.results.deck import council_deck
from feedback.results.pack import council_pack
from feedback.results.publication import (
    read_all_pairing_reports,
    read_council_overview,
    read_pairing_report,
)
from feedback.results.report_pdf import pairing_report_pdf
from feedback.setup.cycles import nominate_rater, set_cycle_status
from feedback.setup.people import add_person
from planning.plans import add_goal, create_plan
from planning.pulse import start_pulse

ALICE = Actor(username="alice", role=Role.admin)
FOCUS = "advice"
# The full cycle: three officers answer 3 to everything and the fourth (o3) 5, a value
# nobody else gives; everyone else 2, the pair 4.
FULL_VALUES = {"principal": 4, "members": 2, "officers": 3, "partners": 2}
FOURTH = 5
# The pulse: the three officers answer as before (so the subtraction would be exact).
PULSE_VALUES = {"principal": 4, "members": 4, "officers": 3, "partners": 4}
WHY = "people differ between those who answered the full review and this pulse"


def answer(
    s: Session,
    cycle_id: int,
    pairing_id: int,
    values: dict[str, int],
    person: dict[int, int] | None = None,
    skip: frozenset[int] = frozenset(),
    only: frozenset[int] | None = None,
) -> None:
    """Every invited rater answers every question put to them with their group's value
    (or their own, in `person`), but those in `skip` (or not in `only`)."""
    for inv in s.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id, Invitation.pairing_id == pairing_id
        )
    ).all():
        if inv.rater_id in skip or (only is not None and inv.rater_id not in only):
            continue
        value = (person or {}).get(inv.rater_id, values[inv.rater_group])
        save_answers(s, inv.id, {i.id: value for i in items_for_invitation(s, inv)})
        submit_response(s, inv.id)


def full_cycle(engine: Engine) -> Built:
    """Four raters a group, everyone answers, published; the leader's plan has one goal."""
    built = build_cycle(engine, raters_per_group=4)
    with session_scope(engine) as s:
        for pid in built.pairing_ids:
            answer(s, built.cycle_id, pid, FULL_VALUES, {built.people["o3"]: FOURTH})
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "published")
    with session_scope(engine) as s:
        person = s.get(Person, built.people["leader"])
        assert person is not None
        leader = Actor(username=person.email, role=Role.principal, person_id=person.id)
        plan = create_plan(s, leader, built.pairing_ids[0], built.cycle_id)
        add_goal(s, leader, plan.id, FOCUS, "Ask for advice before key decisions")
    return built


def leader_of(s: Session, built: Built) -> Actor:
    person = s.get(Person, built.people["leader"])
    assert person is not None
    return Actor(username=person.email, role=Role.principal, person_id=person.id)


def pulse(
    engine: Engine,
    built: Built,
    *,
    person: dict[int, int] | None = None,
    skip: frozenset[int] = frozenset(),
    new_officers: int = 0,
) -> int:
    """A published pulse for the leader's pairing: the same raters (and `new_officers`
    more, built.people["n0"]…), all answering but those in `skip`."""
    pid = built.pairing_ids[0]
    with session_scope(engine) as s:
        pulse_id = start_pulse(s, ALICE, built.cycle_id).id
        for i in range(new_officers):
            built.people[f"n{i}"] = newcomer = add_person(
                s,
                SYSTEM,
                built.council_id,
                f"New Officer {i}",
                f"new{i}@llanfair.example.gov.uk",
                "officer",
            ).id
            nominate_rater(s, ALICE, pulse_id, pid, newcomer, "officers")
        set_cycle_status(s, SYSTEM, pulse_id, "open")
    with session_scope(engine) as s:
        answer(s, pulse_id, pid, PULSE_VALUES, person, skip)
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "published")
    return pulse_id


# --- the attacker -----------------------------------------------------------------------------


def differences(full: dict[str, Any], now: dict[str, Any], threshold: int) -> list[float]:
    """Every number the attacker gets from two reports as served (their dicts): for each
    anonymous figure in both, with fewer than the threshold more raters in the full cycle,
    n_full × mean_full − n_pulse × mean_pulse (the missing raters' answers, summed)."""
    got = []
    for table, keys in (
        ("items", ("item_code", "source")),
        ("dimensions", ("dimension_code", "target", "source")),
    ):
        before = {tuple(r[k] for k in keys): r for r in full[table]}
        for row in now[table]:
            old = before.get(tuple(row[k] for k in keys))
            if old is None or row["source"] in ("self", "partner") or row["mean"] is None:
                continue
            missing = int(old["n"]) - int(row["n"])
            if 0 < missing < threshold:
                got.append(float(old["n"]) * float(old["mean"]) - row["n"] * float(row["mean"]))
    return got


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)


def deck_text(data: bytes) -> str:
    texts = []
    for slide in Presentation(BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
    return " ".join(texts)


def test_three_of_the_same_four_officers_show_no_officer_figure_on_any_route(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = full_cycle(engine)
    pid = built.pairing_ids[0]
    pulse_id = pulse(engine, built, skip=frozenset({built.people["o3"]}))
    with session_scope(engine) as s:
        leader = leader_of(s, built)
        full = read_pairing_report(s, leader, built.cycle_id, pid)
        report = read_pairing_report(s, leader, pulse_id, pid)
        staff = read_all_pairing_reports(s, ALICE, pulse_id)[pid]
        overview = read_council_overview(s, ALICE, pulse_id).to_dict()
        pdf = pdf_text(pairing_report_pdf(report))
        pack = pdf_text(council_pack(s, ALICE, pulse_id))
        deck = deck_text(council_deck(s, ALICE, pulse_id))
    threshold = int(report.meta["threshold"])
    assert threshold == 3
    # The full cycle showed the four officers (3.5 = (3 + 3 + 3 + 5) / 4); the pulse has
    # three of them, enough to show as a group, and the same three.
    full_officers = full.dimensions[full.dimensions["source"] == "officers"]
    assert set(full_officers["mean"].round(6)) == {3.5} and set(full_officers["n"]) == {4}
    groups = report.groups.set_index("group")
    assert bool(groups.loc["officers", "shown"]) and int(groups.loc["officers", "responded"]) == 3

    for served in (report, staff):
        for table in (served.items, served.dimensions):
            assert "officers" not in set(table["source"])  # not one officers' figure
        # The reason, in the council's words.
        reason = "Other officers: " + PULSE_WITHHELD.format(threshold=threshold)
        assert reason in served.notices
    # The other groups are the same four people: shown, and so is everyone else (now the
    # councillors and partners alone: at least the threshold fewer people than in the full
    # cycle) and its change. Hand-computed for Listening and advice about the officer
    # (councillors and officers answer as many of its items each): full (4×2 + 3+3+3+5) / 8
    # = 2.75; pulse: the four councillors' 4.0; change +1.25.
    others = report.dimensions[report.dimensions["source"] == "others"]
    assert not others.empty and set(others["mean"].round(6)) == {4.0}
    assert {"members", "partners"} <= set(report.dimensions["source"])
    change = report.change.set_index(["dimension_code", "target", "source"])
    row = change.loc[(FOCUS, "officer", "others")]
    assert (row["previous"], row["current"], row["change"]) == pytest.approx((2.75, 4.0, 1.25))

    # The attacker, on every route: the report object, the staff read, the command line's
    # JSON, the overview, the PDF, the results pack and the presentation.
    monkeypatch.setattr(cli.common, "_engine", engine)
    run = CliRunner().invoke(app, ["report", str(pulse_id), "--json"])
    assert run.exit_code == 0, run.output
    served_json = json.loads(run.output)["pairings"][str(pid)]
    run_full = CliRunner().invoke(app, ["report", str(built.cycle_id), "--json"])
    full_json = json.loads(run_full.output)["pairings"][str(pid)]
    for before, now in (
        (full.to_dict(), report.to_dict()),
        (full.to_dict(), staff.to_dict()),
        (full_json, served_json),
    ):
        assert differences(before, now, threshold) == []
    assert WHY in " ".join(served_json["notices"])
    # No officers' answer reaches the overview: its spread of ratings (built from the same
    # withheld cells) has none of their 3s, which nobody else gave in the pulse.
    assert (
        overview["distribution"]
        and sum(int(r["count"]) for r in overview["distribution"] if float(r["rating"]) == 3) == 0
    )
    # The files: the officers' pulse figure would be 3.0 (3.00), a value nothing else in
    # the pulse has; the reason is given instead.
    for text in (pdf, pack, deck):
        assert "3.0" not in text.replace("\n", " "), text[:2000]
    assert "fewer than 3 people differ" in " ".join(pdf.split())


def test_the_same_four_officers_are_shown_with_their_change(engine: Engine) -> None:
    built = full_cycle(engine)
    pid = built.pairing_ids[0]
    # The same four answer the pulse; the fourth now gives 4: (3 + 3 + 3 + 4) / 4 = 3.25.
    pulse_id = pulse(engine, built, person={built.people["o3"]: 4})
    with session_scope(engine) as s:
        report = read_pairing_report(s, leader_of(s, built), pulse_id, pid)
    assert not any(WHY in n for n in report.notices)
    dims = report.dimensions
    officers = dims[(dims["source"] == "officers") & (dims["dimension_code"] == FOCUS)]
    assert len(officers) == 3  # about the member, the officer and the partnership
    assert set(officers["n"]) == {4} and set(officers["mean"].round(6)) == {3.25}
    # Listening and advice about the officer, everyone else (councillors and officers,
    # as many of its items each): full (4×2 + 3+3+3+5) / 8 = 2.75; pulse (4×4 + 3+3+3+4) / 8
    # = 3.625; the change +0.875. The pair: 4 → 4, no change.
    change = report.change
    row = change.set_index(["dimension_code", "target", "source"]).loc[(FOCUS, "officer", "others")]
    assert (row["previous"], row["current"], row["change"]) == pytest.approx((2.75, 3.625, 0.875))
    pair = change[change["source"].isin(["self", "partner"])]
    assert not pair.empty and set(pair["change"].round(6)) == {0.0}


@pytest.mark.parametrize(("newcomers", "shown"), [(1, False), (3, True)])
def test_new_raters_in_the_pulse_count_as_people_who_differ(
    sqlite_engine: Engine, newcomers: int, shown: bool
) -> None:
    """One new officer beside the same four: 5 × pulse − 4 × full is the newcomer's
    answer, so withheld; three new ones are at least the threshold apart, so shown."""
    built = full_cycle(sqlite_engine)
    pid = built.pairing_ids[0]
    pulse_id = pulse(sqlite_engine, built, new_officers=newcomers)
    with session_scope(sqlite_engine) as s:
        report = read_pairing_report(s, leader_of(s, built), pulse_id, pid)
    officers = report.dimensions[report.dimensions["source"] == "officers"]
    assert (not officers.empty) is shown
    assert any(n.startswith("Other officers: Not shown") for n in report.notices) is not shown
    if shown:
        assert set(officers["n"]) == {4 + newcomers}


def test_a_full_cycle_republished_after_its_pulse_is_held_to_the_same_rule(
    sqlite_engine: Engine,
) -> None:
    """The pulse had the four officers and three newcomers (shown: three apart). Two of the
    newcomers and somebody else then answer the full cycle late: three more than its first
    edition (so its own hold-back lets them in), but only two people apart from the
    pulse's officers: the republished full cycle must not show that officers' figure."""
    built = full_cycle(sqlite_engine)
    pid = built.pairing_ids[0]
    pulse_id = pulse(sqlite_engine, built, new_officers=3)
    with session_scope(sqlite_engine) as s:
        shown = read_pairing_report(s, ALICE, pulse_id, pid).dimensions
        assert set(shown.loc[shown["source"] == "officers", "n"]) == {7}
        other = add_person(
            s, SYSTEM, built.council_id, "Late Officer", "late@llanfair.example.gov.uk", "officer"
        ).id
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        late = frozenset({built.people["n0"], built.people["n1"], other})
        for person in late:
            nominate_rater(s, ALICE, built.cycle_id, pid, person, "officers")
    with session_scope(sqlite_engine) as s:
        answer(s, built.cycle_id, pid, FULL_VALUES, only=late)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "published")
    with session_scope(sqlite_engine) as s:
        report = read_pairing_report(s, leader_of(s, built), built.cycle_id, pid)
    assert report.meta["edition"] == 2
    officers = report.dimensions[report.dimensions["source"] == "officers"]
    # What the pulse asked the officers (the focus dimension) is withheld; what it did not
    # ask has nothing to be set against and shows all seven.
    assert FOCUS not in set(officers["dimension_code"])
    assert not officers.empty and set(officers["n"]) == {7}
    assert any(
        n.startswith("Other officers: Not shown") and "its 90-day pulse" in n
        for n in report.notices
    )
