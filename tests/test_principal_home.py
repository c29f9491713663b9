"""A principal's home through AppTest: their pairing, their report (or when it comes) and
their plan, with links that open that pairing's report — never the administrator's
"run `tandem demo`"."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, headings, html_texts, shown
from signing_in import sign_in
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.db import make_engine, session_scope
from core.roles import SYSTEM
from feedback.models import Cycle, Pairing, Person
from feedback.setup.people import create_council

APP = "../app.py"
LEADER = "Margaret Oduya"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def _links(at: AppTest) -> list[tuple[str, str, dict[str, str]]]:
    """The page links drawn: (label, page, query)."""
    found = []
    for element in at.get("page_link"):
        proto = element.proto
        query = dict(parse_qsl(proto.query_string))
        found.append((proto.label, proto.page, query))
    return found


def _principal_app(url: str, words: str, monkeypatch) -> tuple[AppTest, int, int]:
    monkeypatch.setenv("TANDEM_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    engine = make_engine(url)
    with session_scope(engine) as s:
        person = s.exec(select(Person).where(Person.full_name.contains(words))).first()
        pairing = s.exec(
            select(Pairing).where(
                (Pairing.member_id == person.id) | (Pairing.officer_id == person.id)
            )
        ).first()
        sign_in(at, s, "principal", person_id=person.id)
        ids = person.id, pairing.id
    engine.dispose()
    return at, *ids


def test_a_principal_sees_their_pairing_report_and_plan(demo_url, monkeypatch) -> None:
    at, _person, pairing_id = _principal_app(demo_url, LEADER, monkeypatch)
    at.run()
    assert not at.exception, at.exception
    page = shown(at) + " ".join(html_texts(at))
    assert "tandem demo" not in page and "No councils" not in page
    assert any(LEADER in h for h in headings(at, 3))  # the pairing's card
    assert "Kingsmere Borough Council" in page
    assert "Your report is ready (published" in page
    assert "Annual review 2026" in page and "Annual review 2025" in page
    links = _links(at)
    reports = [q for label, _page, q in links if label == "Read your report"]
    assert len(reports) == 2 and all(q["pairing"] == str(pairing_id) for q in reports)
    assert any(label == "Open your development plan" for label, *_ in links)
    assert not at.dataframe  # none of the staff tables of councils and response counts

    # Following the link for last year's report opens that pairing and that cycle.
    engine = make_engine(demo_url)
    with session_scope(engine) as s:
        old = s.exec(select(Cycle).where(Cycle.name == "Annual review 2025")).one()
        old_id = old.id
    engine.dispose()
    at.query_params["cycle"] = str(old_id)
    at.query_params["pairing"] = str(pairing_id)
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="report_cycle").value == old_id
    assert at.selectbox(key="report_pairing").value == pairing_id


def test_before_publication_the_home_says_when_the_report_comes(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    build_cycle(sqlite_engine)  # open, closing on 1 February 2027
    at, _person, _pairing = _principal_app(sqlite_url, "Rhodri ap Dafydd", monkeypatch)
    at.run()
    assert not at.exception, at.exception
    page = " ".join(html_texts(at)) + shown(at)
    assert "Adolygiad 2027" in page
    assert "closes on 1 February 2027" in page
    assert "you will get an email" in page
    assert "Your development plan starts once your report is ready." in page
    assert not [label for label, *_ in _links(at) if label == "Read your report"]


def test_an_unlinked_principal_is_told_in_words(sqlite_engine, sqlite_url, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    with session_scope(sqlite_engine) as s:
        council = create_council(s, SYSTEM, "Empty Borough Council")
        from feedback.setup.people import add_person

        person = add_person(s, SYSTEM, council.id, "Alex Lone", "alex@e.example.org", "member")
        at = AppTest.from_file(APP, default_timeout=60)
        sign_in(at, s, "principal", person_id=person.id)
    at.run()
    assert not at.exception
    assert "not linked to a pairing yet" in " ".join(alerts(at, "info"))
    assert "tandem demo" not in shown(at)


def test_a_facilitator_without_cycles_is_not_told_to_run_the_demo(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    with session_scope(sqlite_engine) as s:
        council = create_council(s, SYSTEM, "Quiet District Council")
        at = AppTest.from_file(APP, default_timeout=60)
        sign_in(at, s, "facilitator", council_ids=[council.id])
    at.run()
    assert not at.exception
    info = " ".join(alerts(at, "info"))
    assert "tandem demo" not in info and "Cycles page" in info
