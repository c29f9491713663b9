"""Changing a cycle's name, dates and anonymity threshold: what may change when, what the
editor is told, and that an edit based on stale settings never overwrites a newer one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Conflict, Invalid, PermissionDenied
from core.models import AuditEvent
from core.roles import SYSTEM, Actor
from feedback.models import Cycle
from feedback.setup.cycles import cycle_settings, set_cycle_status, update_cycle

APP = "../app.py"


def _settings(engine, cycle_id: int) -> dict:
    with Session(engine) as s:
        return cycle_settings(s.get(Cycle, cycle_id))


def _update(engine, cycle_id: int, actor: Actor = SYSTEM, **changes) -> None:
    with session_scope(engine) as s:
        now = cycle_settings(s.get(Cycle, cycle_id))
        wanted = {**now, **changes}
        update_cycle(
            s,
            actor,
            cycle_id,
            wanted["name"],
            wanted["opens_on"],
            wanted["closes_on"],
            wanted["anonymity_threshold"],
            as_seen=changes.pop("as_seen", now),
        )


def test_a_draft_cycle_can_change_everything_and_the_audit_says_what(engine) -> None:
    built = build_cycle(engine, open_it=False)
    _update(
        engine,
        built.cycle_id,
        name="Adolygiad 2027 (spring)",
        opens_on=date(2027, 2, 1),
        closes_on=date(2027, 3, 1),
        anonymity_threshold=2,
    )
    assert _settings(engine, built.cycle_id) == {
        "name": "Adolygiad 2027 (spring)",
        "opens_on": date(2027, 2, 1),
        "closes_on": date(2027, 3, 1),
        "anonymity_threshold": 2,
    }
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "change cycle")).one()
    assert event.detail["anonymity_threshold"] == {"from": "3", "to": "2"}
    assert event.detail["closes_on"] == {"from": "2027-02-01", "to": "2027-03-01"}


def test_an_open_cycle_can_be_extended_and_its_threshold_only_raised(engine) -> None:
    built = build_cycle(engine)
    _update(engine, built.cycle_id, closes_on=date(2027, 2, 15), anonymity_threshold=4)
    assert _settings(engine, built.cycle_id)["closes_on"] == date(2027, 2, 15)
    assert _settings(engine, built.cycle_id)["anonymity_threshold"] == 4
    with pytest.raises(Invalid) as lowered:
        _update(engine, built.cycle_id, anonymity_threshold=3)
    assert "cannot be lowered" in " ".join(lowered.value.problems)
    with pytest.raises(Invalid) as moved:
        _update(engine, built.cycle_id, opens_on=date(2027, 1, 11))
    assert "opening date cannot change" in " ".join(moved.value.problems)
    with pytest.raises(Invalid) as backwards:
        _update(engine, built.cycle_id, closes_on=date(2026, 12, 1))
    assert "cannot close before it opens" in " ".join(backwards.value.problems)
    # Nothing of the refused edits was kept.
    assert _settings(engine, built.cycle_id)["anonymity_threshold"] == 4
    assert _settings(engine, built.cycle_id)["opens_on"] == date(2027, 1, 4)


def test_published_results_keep_their_dates_and_threshold(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        set_cycle_status(s, SYSTEM, built.cycle_id, "published")
    with pytest.raises(Invalid) as refused:
        _update(engine, built.cycle_id, closes_on=date(2027, 3, 1), anonymity_threshold=5)
    said = " ".join(refused.value.problems)
    assert "closing date cannot change once results are published" in said
    assert "threshold cannot change once results are published" in said
    _update(engine, built.cycle_id, name="Adolygiad 2027 (final)")  # a name may still change
    assert _settings(engine, built.cycle_id)["name"] == "Adolygiad 2027 (final)"


def test_an_edit_made_on_stale_settings_is_refused_and_says_what_moved(engine) -> None:
    built = build_cycle(engine)
    stale = _settings(engine, built.cycle_id)
    _update(engine, built.cycle_id, closes_on=date(2027, 2, 20))  # someone else, first
    with pytest.raises(Conflict, match="the closing date"):
        _update(engine, built.cycle_id, name="Mine", as_seen=stale)
    assert _settings(engine, built.cycle_id)["closes_on"] == date(2027, 2, 20)
    assert _settings(engine, built.cycle_id)["name"] == "Adolygiad 2027"


def test_names_stay_unique_and_other_councils_cannot_edit(engine) -> None:
    first = build_cycle(engine)
    with Session(engine) as s:
        taken = s.get(Cycle, first.cycle_id).name
    with session_scope(engine) as s:
        other = Cycle(
            council_id=first.council_id,
            name="Another round",
            opens_on=date(2027, 5, 1),
            closes_on=date(2027, 6, 1),
            framework_version_id=s.get(Cycle, first.cycle_id).framework_version_id,
        )
        s.add(other)
        s.flush()
        other_id = other.id
    with pytest.raises(Invalid, match="not changed") as clash:
        _update(engine, other_id, name=taken)
    assert "already has a cycle called" in clash.value.problems[0]
    stranger = Actor("f", "facilitator", council_ids=frozenset({first.council_id + 1}))
    with pytest.raises(PermissionDenied):
        _update(engine, first.cycle_id, actor=stranger, name="Taken over")


@pytest.fixture
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_the_cycles_page_extends_a_cycle_and_explains_a_refusal(
    sqlite_engine, sqlite_url, monkeypatch, _fresh_cache
) -> None:
    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:  # the round's closing date has passed
        cycle = s.get(Cycle, built.cycle_id)
        cycle.opens_on, cycle.closes_on = date.today() - timedelta(days=30), date.today()
        cycle.closes_on -= timedelta(days=1)
        s.add(cycle)
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/cycles.py").run()
    assert not at.exception
    assert any("closing date" in w and "has passed" in w for w in alerts(at, "warning"))

    later = date.today() + timedelta(days=14)
    yesterday = date.today() - timedelta(days=1)
    closes = next(d for d in at.date_input if d.label == "Closes on" and d.value == yesterday)
    closes.set_value(later)
    threshold = next(n for n in at.number_input if n.form_id == f"edit_cycle_{built.cycle_id}")
    assert threshold.min == 3  # an open cycle's threshold can only go up
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception and not alerts(at, "error")
    assert _settings(sqlite_engine, built.cycle_id)["closes_on"] == later
    assert any("Cycle changed." in s for s in alerts(at, "success"))
    assert not any("has passed" in w for w in alerts(at, "warning"))

    # A name another cycle of the council already has: told why, nothing saved.
    with session_scope(sqlite_engine) as s:
        s.add(
            Cycle(
                council_id=built.council_id,
                name="Spring round",
                opens_on=date(2027, 5, 1),
                closes_on=date(2027, 6, 1),
                framework_version_id=s.get(Cycle, built.cycle_id).framework_version_id,
            )
        )
    at.run()
    name = next(t for t in at.text_input if t.label == "Name" and t.value == "Adolygiad 2027")
    name.set_value("Spring round")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert any("not changed" in e for e in alerts(at, "error"))
    assert any("already has a cycle called" in e for e in alerts(at, "error"))
    assert _settings(sqlite_engine, built.cycle_id)["name"] == "Adolygiad 2027"


def test_the_page_refuses_an_edit_on_settings_someone_changed_meanwhile(
    sqlite_engine, sqlite_url, monkeypatch, _fresh_cache
) -> None:
    """Two facilitators: A opens the form; B extends the cycle; A then saves a different
    closing date. A is told, B's date stands, and A's form now shows B's settings."""
    built = build_cycle(sqlite_engine)
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/cycles.py").run()
    form = f"edit_cycle_{built.cycle_id}"
    a_closes = next(d for d in at.date_input if d.form_id == form and d.label == "Closes on")
    assert a_closes.value == date(2027, 2, 1)

    _update(sqlite_engine, built.cycle_id, closes_on=date(2027, 3, 1))  # B, meanwhile

    a_closes.set_value(date(2027, 2, 14))
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception
    clash = alerts(at, "error")
    assert any("Someone else changed this cycle" in e and "the closing date" in e for e in clash)
    assert _settings(sqlite_engine, built.cycle_id)["closes_on"] == date(2027, 3, 1)
    shown = next(d for d in at.date_input if d.form_id == form and d.label == "Closes on")
    assert shown.value == date(2027, 3, 1)  # B's date, to start again from

    # A saves again, now on what is stored: accepted.
    shown.set_value(date(2027, 2, 14))
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert any("Cycle changed." in s for s in alerts(at, "success"))
    assert _settings(sqlite_engine, built.cycle_id)["closes_on"] == date(2027, 2, 14)
