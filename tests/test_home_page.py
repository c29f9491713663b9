"""The home page through AppTest, on the demo data and on an empty database."""

from __future__ import annotations

import pytest
import streamlit as st
from shown import alerts, headings
from streamlit.testing.v1 import AppTest

APP = "../app.py"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def test_home_shows_the_demo_council_cycles_and_pairings(demo_url, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "Kingsmere Borough Council" in headings(at, 3)
    cycles = at.dataframe[0].value
    assert list(cycles["cycle"]) == ["Annual review 2026", "Annual review 2025"]
    assert (cycles["submitted"] > 0).all()
    pairings = at.dataframe[1].value
    assert len(pairings) == 5
    assert any("Margaret Oduya" in p for p in pairings["pair"])


def test_home_on_an_empty_database_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "tandem demo" in alerts(at, "info")[0]


def test_home_with_many_councils_is_one_searchable_table(tmp_path, monkeypatch) -> None:
    """A council group or national body: one table of every cycle, a search, and one
    council opened at a time — not a card per council."""
    from core.db import make_engine
    from tools.bench import build_national, prepare_database

    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = make_engine(url)
    prepare_database(engine)
    build = build_national(engine, scale=0.03)
    engine.dispose()
    assert build.councils > 6
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert not headings(at, 3)  # no card per council
    assert at.metric[0].value == str(build.councils)
    table = at.dataframe[0].value
    assert table["council"].nunique() == build.councils
    assert at.selectbox(key="home_council").value is None

    at.text_input(key="home_find").input("Wales").run()
    table = at.dataframe[0].value
    assert len(table) >= 1 and table["council"].str.contains("Wales").all()
    at.selectbox(key="home_council").select_index(0).run()
    assert not at.exception
    assert len(headings(at, 3)) == 1 and "Wales" in headings(at, 3)[0]
    assert len(at.dataframe[-1].value) >= 1  # that council's pairings

    at.text_input(key="home_find").input("No such council anywhere").run()
    assert "No council's name contains" in alerts(at, "info")[0]
