"""The home page through AppTest, on the demo data and on an empty database."""

from __future__ import annotations

import pytest
import streamlit as st
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
    assert "Kingsmere Borough Council" in [s.value for s in at.subheader]
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
    assert "tandem demo" in at.info[0].value
