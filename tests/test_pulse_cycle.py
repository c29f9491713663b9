"""The 90-day pulse (issue 19, item 5): a short cycle after a published full cycle, asking each
pairing only its plan's focus dimensions and the mirror (partnership) items, of the same
raters, under the same anonymity rules; its report shows change since the full cycle for
those dimensions only, and the plan's check-ins show it beside each focus goal.

End to end on both databases, the refusals, the attacker's tries, the command line and the
Cycles page's action."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import streamlit as st
from cycle_builder import Built, build_cycle
from shown import alerts, html_texts
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import cli.common
from cli.main import app
from core.db import make_engine, session_scope
from core.errors import Conflict, Invalid, PermissionDenied
from core.roles import SYSTEM, Actor, Role
from feedback.collection.responses import (
    items_for_invitation,
    questionnaire_view,
    save_answers,
    submit_response,
)
from feedback.models import Cycle, CyclePairing, Dimension, Invitation, Person
from feedback.results.loading import previous_cycle
from feedback.results.publication import read_pairing_report
from feedback.setup.cycles import (
    create_cycle,
    nominate_rater,
    pairings_in_cycle,
    set_cycle_status,
)
from planning.plans import add_goal, create_plan
from planning.pulse import pulse_lines, pulse_result, start_pulse

ALICE = Actor(username="alice", role=Role.admin)
FOCUS = "advice"  # Listening and advice
FULL = "Adolygiad 2027"
# What each group answers in the full cycle and in the pulse (every item; all scales
# reach 4): the change is +2 for everyone else and -1 for the pair.
FULL_VALUES = {"principal": 4, "members": 2, "officers": 2, "partners": 2}
PULSE_VALUES = {"principal": 3, "members": 4, "officers": 4, "partners": 4}


def principal(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    assert person is not None
    return Actor(username=person.email, role=Role.principal, person_id=person_id)


def answer(
    s: Session,
    cycle_id: int,
    pairing_id: int,
    values: dict[str, int],
    *,
    skip: frozenset[int] = frozenset(),
    only: frozenset[int] | None = None,
    comment: dict[str, str] | None = None,
) -> None:
    """Every invited rater of the pairing answers every question put to them with their
    group's value (and, for a group in `comment`, a comment on each dimension asked)."""
    invitations = s.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id, Invitation.pairing_id == pairing_id
        )
    ).all()
    for inv in invitations:
        if inv.rater_id in skip or (only is not None and inv.rater_id not in only):
            continue
        items = items_for_invitation(s, inv)
        words = (comment or {}).get(inv.rater_group)
        comments = {i.dimension_id: words for i in items if i.dimension_id} if words else None
        save_answers(s, inv.id, {i.id: values[inv.rater_group] for i in items}, comments)
        submit_response(s, inv.id)


def full_cycle_with_plan(engine: Engine, *, plan: bool = True, per_group: int = 3) -> Built:
    """The full cycle answered by everyone, closed and published, with (or without) a plan
    for the leader and chief executive whose one goal is about listening and advice."""
    built = build_cycle(engine, raters_per_group=per_group)
    with session_scope(engine) as s:
        for pid in built.pairing_ids:
            answer(s, built.cycle_id, pid, FULL_VALUES)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "published")
    if plan:
        with session_scope(engine) as s:
            leader = principal(s, built.people["leader"])
            made = create_plan(s, leader, built.pairing_ids[0], built.cycle_id)
            add_goal(s, leader, made.id, FOCUS, "Ask for advice before key decisions")
            built.people["plan"] = made.id
    return built


def dimension_codes(s: Session, cycle_id: int) -> dict[int, str]:
    cycle = s.get(Cycle, cycle_id)
    assert cycle is not None
    rows = s.exec(
        select(Dimension.id, Dimension.code).where(
            Dimension.framework_version_id == cycle.framework_version_id
        )
    ).all()
    return {i: c for i, c in rows}


def run_pulse(engine: Engine, built: Built, values: dict[str, int], **kw: object) -> int:
    with session_scope(engine) as s:
        pulse_id = start_pulse(s, ALICE, built.cycle_id).id
        set_cycle_status(s, SYSTEM, pulse_id, "open")
    with session_scope(engine) as s:
        answer(s, pulse_id, built.pairing_ids[0], values, **kw)  # type: ignore[arg-type]
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "published")
    return pulse_id


# --- end to end, both databases -------------------------------------------------------------


def test_a_pulse_end_to_end(engine) -> None:
    built = full_cycle_with_plan(engine)
    pid = built.pairing_ids[0]
    with session_scope(engine) as s:
        full = s.get(Cycle, built.cycle_id)
        published_on = full.published_at.date()
        pulse = start_pulse(s, ALICE, built.cycle_id)
        pulse_id = pulse.id
        # A draft following the full cycle, with its framework and threshold, ~90 days on.
        assert (pulse.kind, pulse.follows_cycle_id, pulse.status) == (
            "pulse",
            built.cycle_id,
            "draft",
        )
        assert pulse.framework_version_id == full.framework_version_id
        assert pulse.anonymity_threshold == full.anonymity_threshold
        assert pulse.opens_on == published_on + timedelta(days=90)
        assert pulse.closes_on == pulse.opens_on + timedelta(days=14)
        assert pulse.name == f"90-day pulse after {FULL}"
        # Only the pairing with a plan; the same raters, in the same groups.
        assert [p.id for p in pairings_in_cycle(s, pulse_id)] == [pid]
        assert s.get(CyclePairing, (pulse_id, pid)).focus_dimensions == [FOCUS]

        def raters(cycle_id: int) -> set[tuple[int, str]]:
            rows = s.exec(
                select(Invitation.rater_id, Invitation.rater_group).where(
                    Invitation.cycle_id == cycle_id, Invitation.pairing_id == pid
                )
            ).all()
            return set(rows)

        assert raters(pulse_id) == raters(built.cycle_id) and len(raters(pulse_id)) == 11

        # The questionnaire: the focus dimension in full and the partnership items of every
        # dimension; no national comparison, no open questions, no "matters most".
        codes = dimension_codes(s, pulse_id)
        for inv in s.exec(select(Invitation).where(Invitation.cycle_id == pulse_id)).all():
            before = s.exec(
                select(Invitation).where(
                    Invitation.cycle_id == built.cycle_id,
                    Invitation.pairing_id == pid,
                    Invitation.rater_id == inv.rater_id,
                )
            ).one()
            asked = items_for_invitation(s, inv)
            in_full = items_for_invitation(s, before)
            assert asked and len(asked) < len(in_full)
            for item in asked:
                assert item.dimension_id is not None
                assert codes[item.dimension_id] == FOCUS or item.target == "partnership"
            focus_in_full = {i.id for i in in_full if codes.get(i.dimension_id or 0) == FOCUS}
            assert focus_in_full <= {i.id for i in asked}
            if inv.rater_group == "principal":
                mirror = {codes[i.dimension_id] for i in asked if i.target == "partnership"}
                assert len(mirror) == 9  # every dimension's partnership items
            view = questionnaire_view(s, inv.id)
            assert view.matters_most is None and view.open_questions == []
            assert view.total == len(asked)

    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, pulse_id, "open")
    with session_scope(engine) as s:
        # A question the pulse does not ask cannot be answered in it.
        inv = s.exec(
            select(Invitation).where(
                Invitation.cycle_id == pulse_id, Invitation.rater_group == "members"
            )
        ).first()
        before = s.exec(
            select(Invitation).where(
                Invitation.cycle_id == built.cycle_id,
                Invitation.pairing_id == pid,
                Invitation.rater_id == inv.rater_id,
            )
        ).one()
        unasked = next(
            i
            for i in items_for_invitation(s, before)
            if dimension_codes(s, pulse_id)[i.dimension_id or 0] != FOCUS
            and i.target != "partnership"
            and i.dimension_id is not None
        )
        with pytest.raises(Invalid, match="could not be saved"):
            save_answers(s, inv.id, {unasked.id: 4})
    with session_scope(engine) as s:
        answer(s, pulse_id, pid, PULSE_VALUES)
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "published")

    with session_scope(engine) as s:
        leader = principal(s, built.people["leader"])
        report = read_pairing_report(s, leader, pulse_id, pid)
        change = report.change
        assert report.meta["previous_cycle_name"] == FULL
        assert not change.empty
        # Like with like: the focus dimension about each of them and the partnership,
        # every other dimension about the partnership only.
        assert set(change.loc[change["target"] != "partnership", "dimension_code"]) == {FOCUS}
        assert set(change["dimension_code"]) == set(codes.values())
        others = change[change["source"] == "others"]
        assert sorted(others["change"].round(6).unique()) == [2.0]
        pair = change[change["source"].isin(["self", "partner"])]
        assert sorted(pair["change"].round(6).unique()) == [-1.0]
        # The report holds no figure for a question it did not ask.
        items = report.items
        assert set(items.loc[items["target"] != "partnership", "dimension_code"]) == {FOCUS}
        notice = report.notices[0]
        assert "90-day pulse" in notice and "Listening and advice" in notice
        assert f"against '{FULL}'" in notice and "like with like" in notice

        # The plan's check-ins: the pulse beside the focus goal, read as published.
        result = pulse_result(s, leader, built.people["plan"])
        assert result is not None and result.cycle_id == pulse_id
        lines = pulse_lines(result, FOCUS, "Cllr Siân Llewelyn", "Rhodri ap Dafydd")
        assert any("everyone else 2.0 → 4.0 (+2.0 since Adolygiad 2027)" in x for x in lines)
        assert any("own view 4.0 → 3.0 (-1.0" in x for x in lines)
        assert pulse_lines(result, "roles", "a", "b")[0].startswith("Not asked in")

        # A later full cycle compares with the full cycle, never with the pulse.
        later = create_cycle(
            s, SYSTEM, built.council_id, "Adolygiad 2028", date(2028, 1, 3), date(2028, 2, 1)
        )
        s.flush()
        assert previous_cycle(s, later, pid).id == built.cycle_id
        assert previous_cycle(s, s.get(Cycle, pulse_id), pid).id == built.cycle_id


# --- refusals --------------------------------------------------------------------------------


def test_what_a_pulse_refuses_and_says(sqlite_engine) -> None:
    built = build_cycle(sqlite_engine)  # open, not published
    pid = built.pairing_ids[0]

    def cycles() -> int:
        with Session(sqlite_engine) as s:
            return s.exec(select(func.count()).select_from(Cycle)).one()

    with session_scope(sqlite_engine) as s, pytest.raises(Invalid) as refused:
        start_pulse(s, ALICE, built.cycle_id)
    assert f"'{FULL}' is open, not published" in str(refused.value)
    assert "publish them first" in str(refused.value)
    with session_scope(sqlite_engine) as s:
        answer(s, built.cycle_id, pid, FULL_VALUES)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "published")
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid) as refused:
        start_pulse(s, ALICE, built.cycle_id, pid)
    assert "this pairing has no development plan with focus dimensions yet" in str(refused.value)
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid) as refused:
        start_pulse(s, ALICE, built.cycle_id)
    assert f"No pairing in '{FULL}' has a development plan with focus dimensions" in str(
        refused.value
    )
    assert len(refused.value.problems) == 2  # each pairing, and why
    assert cycles() == 1

    with session_scope(sqlite_engine) as s:
        leader = principal(s, built.people["leader"])
        plan = create_plan(s, leader, pid, built.cycle_id)
        add_goal(s, leader, plan.id, "roles", "Agree who decides what")
    outsider = Actor("fac", Role.facilitator, council_ids=frozenset({built.council_id + 99}))
    with session_scope(sqlite_engine) as s, pytest.raises(PermissionDenied):
        start_pulse(s, outsider, built.cycle_id)
    with session_scope(sqlite_engine) as s, pytest.raises(Conflict, match="after you looked"):
        start_pulse(s, ALICE, built.cycle_id, expected_status="closed")
    assert cycles() == 1
    with session_scope(sqlite_engine) as s:
        pulse_id = start_pulse(s, ALICE, built.cycle_id, opens_on=date(2027, 6, 1)).id
        made = s.get(Cycle, pulse_id)
        assert (made.opens_on, made.closes_on) == (date(2027, 6, 1), date(2027, 6, 15))
    with session_scope(sqlite_engine) as s, pytest.raises(Conflict, match="already has a cycle"):
        start_pulse(s, ALICE, built.cycle_id)
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid, match="itself a 90-day pulse"):
        start_pulse(s, ALICE, pulse_id)
    assert cycles() == 2


def test_the_raters_can_be_changed_before_the_pulse_opens(sqlite_engine) -> None:
    built = full_cycle_with_plan(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        pulse_id = start_pulse(s, ALICE, built.cycle_id).id
        extra = s.exec(select(Person).where(Person.full_name == "Officer 0")).one()
        # Already there (same raters by default): the existing nomination functions say so.
        with pytest.raises(Conflict, match="already nominated"):
            nominate_rater(s, ALICE, pulse_id, built.pairing_ids[0], extra.id, "officers")


# --- the attacker ------------------------------------------------------------------------------


def test_a_group_too_small_in_the_pulse_shows_nothing_though_the_full_cycle_showed_it(
    engine,
) -> None:
    built = full_cycle_with_plan(engine)
    pid = built.pairing_ids[0]
    with session_scope(engine) as s:
        o2 = built.people["o2"]
        full_report = read_pairing_report(s, ALICE, built.cycle_id, pid)
        groups = full_report.groups.set_index("group")
        assert bool(groups.loc["officers", "shown"])  # shown in the full cycle
    # Only two of the three officers answer the pulse, with a value nobody else gives and
    # words nobody else writes.
    values = {**PULSE_VALUES, "officers": 1}
    pulse_id = run_pulse(
        engine,
        built,
        values,
        skip=frozenset({o2}),
        comment={"officers": "Only the two of us said this", "members": "A councillor's view"},
    )
    with session_scope(engine) as s:
        leader = principal(s, built.people["leader"])
        report = read_pairing_report(s, leader, pulse_id, pid)
        groups = report.groups.set_index("group")
        assert not bool(groups.loc["officers", "shown"])
        for table in (report.items, report.dimensions):
            assert "officers" not in set(table["source"])
        # Dropped, not folded in: everyone else is the councillors and partners alone, so
        # nothing subtracted from it leaves the officers' answers.
        others = report.items[report.items["source"] == "others"]
        assert not others.empty and set(others["mean"].round(6)) == {4.0}
        change = report.change[report.change["source"] == "others"]
        assert set(change["change"].round(6)) == {2.0}
        everything = json.dumps(report.to_dict(), default=str)
        assert "Only the two of us said this" not in everything
        assert "A councillor's view" in everything  # comments do reach the report
        # The plan shows the same published figures and nothing more.
        result = pulse_result(s, leader, built.people["plan"])
        text = " ".join(pulse_lines(result, FOCUS, "m", "o"))
        assert "1.0" not in text.replace("-1.0", "")


def test_differencing_the_pulse_against_itself_or_the_full_cycle_isolates_nobody(engine) -> None:
    """The attacker's tries: (1) a late reply to the pulse, then a republished pulse to
    subtract from the first edition; (2) the pulse's change against the full cycle to work
    back to a figure the full cycle did not show; (3) a question the pulse did not ask, to
    set against the full cycle's dimension figure."""
    built = full_cycle_with_plan(engine, per_group=4)
    pid = built.pairing_ids[0]
    late = built.people["o3"]
    pulse_id = run_pulse(engine, built, PULSE_VALUES, skip=frozenset({late}))
    with session_scope(engine) as s:
        first = read_pairing_report(s, ALICE, pulse_id, pid).to_dict()
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "open")
    with session_scope(engine) as s:  # the one late officer answers something else entirely
        answer(s, pulse_id, pid, {**PULSE_VALUES, "officers": 1}, only=frozenset({late}))
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "published")
    with session_scope(engine) as s:
        leader = principal(s, built.people["leader"])
        second = read_pairing_report(s, leader, pulse_id, pid).to_dict()
    # (1) One reply is fewer than the threshold: the republished pulse is held back, so the
    # two editions give the same figures and their difference is nothing.
    for part in ("items", "dimensions", "groups", "change", "mirror"):
        assert first[part] == second[part], part

    with session_scope(engine) as s:
        full = read_pairing_report(s, leader, built.cycle_id, pid)
        pulse = read_pairing_report(s, leader, pulse_id, pid)
        # (2) Every change is the difference of two figures both reports publish: it tells
        # nothing that the full cycle's report did not already show.
        keys = ["dimension_code", "target", "source"]
        shown_before = full.dimensions.set_index(keys)["mean"]
        for row in pulse.change.to_dict("records"):
            key = (row["dimension_code"], row["target"], row["source"])
            assert key in shown_before.index
            assert row["previous"] == pytest.approx(shown_before.loc[key])
        # (3) No figure for a question the pulse did not ask, in any table.
        asked = set(pulse.items["item_code"])
        assert all(code.startswith(f"{FOCUS}.") or ".partnership." in code for code in asked)
        dims = pulse.dimensions
        assert set(dims.loc[dims["target"] != "partnership", "dimension_code"]) == {FOCUS}
        gaps = pulse.gaps
        assert set(gaps["dimension_code"]) <= {FOCUS} | set(
            gaps.loc[gaps["target"] == "partnership", "dimension_code"]
        )


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def tandem(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[object, Engine]]:
    engine = make_engine(sqlite_url)
    monkeypatch.setattr(cli.common, "_engine", engine)

    def run(*args: str) -> object:
        return CliRunner().invoke(app, list(args))

    yield run, engine
    engine.dispose()


def test_tandem_cycle_pulse_and_plan_show(tandem) -> None:
    run, engine = tandem
    built = full_cycle_with_plan(engine, plan=False)
    refused = run("cycle", "pulse", FULL, "--pairing", str(built.pairing_ids[0]), "--yes")
    assert refused.exit_code != 0
    assert "this pairing has no development plan with focus dimensions yet" in refused.output
    with session_scope(engine) as s:
        leader = principal(s, built.people["leader"])
        plan = create_plan(s, leader, built.pairing_ids[0], built.cycle_id)
        add_goal(s, leader, plan.id, FOCUS, "Ask for advice before key decisions")
    made = run("cycle", "pulse", FULL, "--opens", "2027-07-01", "--yes")
    assert made.exit_code == 0, made.output
    assert "Created pulse" in made.output and f"following '{FULL}'" in made.output
    assert "1 July 2027 to 15 July 2027" in made.output
    assert f"asks {FOCUS} and the partnership questions" in made.output
    assert "Left out: " in made.output and "Ffion Rhys-Jones" in made.output
    with Session(engine) as s:
        pulse = s.exec(select(Cycle).where(Cycle.kind == "pulse")).one()
        pulse_id = pulse.id
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, pulse_id, "open")
    with session_scope(engine) as s:
        answer(s, pulse_id, built.pairing_ids[0], PULSE_VALUES)
        set_cycle_status(s, SYSTEM, pulse_id, "closed")
        set_cycle_status(s, SYSTEM, pulse_id, "published")
    shown = run("plan", "show", FULL, "--pairing", str(built.pairing_ids[0]))
    assert shown.exit_code == 0, shown.output
    assert f"90-day pulse: 90-day pulse after {FULL}" in shown.output
    assert "like with like" in shown.output
    assert "everyone else 2.0 → 4.0 (+2.0 since Adolygiad 2027)" in shown.output


# --- the Cycles page -----------------------------------------------------------------------------


@pytest.fixture
def cycles_page(sqlite_url, monkeypatch):
    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)

    def open_cycles() -> AppTest:
        at = AppTest.from_file("../app.py", default_timeout=60).run()
        at.switch_page("pages/cycles.py").run()
        assert not at.exception
        return at

    yield open_cycles
    st.cache_resource.clear()


def test_the_cycles_page_starts_a_pulse_after_asking_once(sqlite_engine, cycles_page) -> None:
    built = full_cycle_with_plan(sqlite_engine)
    at = cycles_page()
    at.button(key="start_pulse").click().run()
    assert not at.exception
    with Session(sqlite_engine) as s:  # asked first: nothing made yet
        assert s.exec(select(func.count()).select_from(Cycle)).one() == 1
    question = [q for q in alerts(at, "warning") if "Start a 90-day pulse" in q]
    assert question and f"after {FULL} (Llanfair County Council)?" in question[0]
    at.button(key="confirm_pulse_cancel").click().run()
    assert not any("Start a 90-day pulse" in q for q in alerts(at, "warning"))

    at.button(key="start_pulse").click().run()
    at.button(key="confirm_pulse_yes").click().run()
    assert not at.exception and not alerts(at, "error")
    with Session(sqlite_engine) as s:
        pulse = s.exec(select(Cycle).where(col(Cycle.kind) == "pulse")).one()
    assert pulse.follows_cycle_id == built.cycle_id
    assert any(f"'{pulse.name}' created as a draft" in a for a in alerts(at, "success"))
    assert at.selectbox(key="cycle_id").value == pulse.id  # the new pulse is shown
    assert not [b for b in at.button if b.key == "start_pulse"]  # a pulse has no pulse


def test_the_cycles_page_says_why_there_can_be_no_pulse(sqlite_engine, cycles_page) -> None:
    full_cycle_with_plan(sqlite_engine, plan=False)
    at = cycles_page()
    at.button(key="start_pulse").click().run()
    assert not at.exception
    errors = alerts(at, "error")
    assert any("has a development plan with focus dimensions" in e for e in errors), errors
    assert not [b for b in at.button if b.key == "confirm_pulse_yes"]
    with Session(sqlite_engine) as s:
        assert s.exec(select(func.count()).select_from(Cycle)).one() == 1


# --- the plan page -------------------------------------------------------------------------------


def test_the_plan_page_shows_the_pulse_beside_each_goal(sqlite_url, monkeypatch) -> None:
    engine = make_engine(sqlite_url)
    built = full_cycle_with_plan(engine)
    pulse_id = run_pulse(engine, built, PULSE_VALUES)
    with session_scope(engine) as s, pytest.raises(Invalid, match="has no plan of its own"):
        create_plan(s, ALICE, built.pairing_ids[0], pulse_id)
    engine.dispose()
    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    at.switch_page("pages/plan.py").run()
    assert not at.exception
    # A pulse has no plan of its own: only the full cycle is offered.
    options = at.selectbox(key="plan_cycle").options
    assert options and not any("pulse" in o for o in options), options
    page = " ".join(html_texts(at))
    assert f"90-day pulse: 90-day pulse after {FULL}" in page
    assert "Ask for advice before key decisions" in page
    assert "everyone else 2.0 → 4.0 (+2.0 since Adolygiad 2027)" in page
    st.cache_resource.clear()
