"""The page kit (ui/): a notice survives the rerun that follows an action, and a chosen
cycle stays chosen after an action changes how it is listed."""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.roles import SYSTEM
from feedback.models import Cycle, Person
from feedback.setup.cycles import add_pairing_to_cycle, create_cycle

APP = "../app.py"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_a_person_added_on_the_people_page_is_announced_after_the_rerun(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    built = build_cycle(sqlite_engine, open_it=False)
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/people.py").run()
    assert not at.exception
    form = [w for w in at.text_input if w.form_id == "add_person"]
    next(w for w in form if w.label == "Full name").input("Cllr Bethan Morgan")
    next(w for w in form if w.label == "Email").input("bethan@llanfair.example.gov.uk")
    next(b for b in at.button if b.label == "Add person").click().run()
    assert not at.exception and not alerts(at, "error")
    with Session(sqlite_engine) as s:
        added = s.exec(select(Person).where(Person.full_name == "Cllr Bethan Morgan")).one()
        assert added.council_id == built.council_id
    assert any("Added Cllr Bethan Morgan." in a for a in alerts(at, "success"))
    # The list, read before the form, shows the new person: the page ran again.
    assert "Cllr Bethan Morgan" in at.dataframe[0].value["Name"].tolist()
    at.run()  # shown once only
    assert not any("Cllr Bethan Morgan" in a for a in alerts(at, "success"))


def test_the_chosen_cycle_stays_chosen_after_an_action_on_the_cycles_page(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    built = build_cycle(sqlite_engine)  # "Adolygiad 2027", open
    with session_scope(sqlite_engine) as s:
        earlier = create_cycle(
            s, SYSTEM, built.council_id, "Earlier round", date(2026, 1, 5), date(2026, 2, 1)
        ).id
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/cycles.py").run()
    assert not at.exception
    picker = at.selectbox(key="cycle_id")
    assert picker.value == built.cycle_id  # the newest first
    picker.set_value(earlier).run()
    assert at.selectbox(key="cycle_id").value == earlier
    # Opening it changes how it is listed ("(draft)" → "(open)"); it stays the one chosen.
    with session_scope(sqlite_engine) as s:
        add_pairing_to_cycle(s, SYSTEM, earlier, built.pairing_ids[0])
    at.run()
    at.button(key="status_open").click().run()
    at.button(key="confirm_status_yes").click().run()
    assert not at.exception and not alerts(at, "error")
    with Session(sqlite_engine) as s:
        assert s.get(Cycle, earlier).status == "open"
    assert at.selectbox(key="cycle_id").value == earlier
    assert any("'Earlier round' is open for responses." in a for a in alerts(at, "success"))
    at.run()  # and on the next run, and after another action
    assert at.selectbox(key="cycle_id").value == earlier
    at.button(key="status_closed").click().run()
    at.button(key="confirm_status_yes").click().run()
    assert at.selectbox(key="cycle_id").value == earlier
    assert any("'Earlier round' is closed to responses." in a for a in alerts(at, "success"))


def test_a_published_chart_is_kept_by_its_edition_and_every_input_of_its_builder() -> None:
    from functools import partial

    import pandas as pd

    from feedback.results import charts
    from ui.report_views import chart_key

    gaps = pd.DataFrame({"target": ["member"], "gap": [0.5]})
    edition = ("sqlite:///x.db", 1, 2, 1, "2027-03-01T10:00:00")

    def key(frame: pd.DataFrame = gaps, threshold: float = 0.75, ed: tuple = edition) -> tuple:
        return chart_key(ed, partial(charts.gap_bars, frame, "member", threshold=threshold))

    assert key() == key() == key(gaps.copy())  # the same edition and inputs: one chart
    assert key(threshold=1.0) != key()  # every argument counts, not only those named
    assert key(pd.DataFrame({"target": ["member"], "gap": [0.6]})) != key()  # and the data
    assert key(ed=(*edition[:3], 2, "2027-04-01T10:00:00")) != key()  # and the edition
    assert chart_key(None, partial(charts.gap_bars, gaps, "member")) is None  # live: built
    other = chart_key(edition, partial(charts.johari_quadrant, gaps, "member", threshold=0.75))
    assert other != key()  # and the builder
