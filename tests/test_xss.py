"""User-written text (names, titles, council and cycle names, comments) with HTML and script
payloads renders as text: it reaches the page literally and never through st.html or
markdown that allows HTML."""

from __future__ import annotations

import pytest
import streamlit as st
from cycle_builder import build_cycle
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from feedback.access import SYSTEM
from feedback.cycles import get_cycle, set_cycle_status
from feedback.db import session_scope
from feedback.invitations import issue_token
from feedback.models import Council, Cycle, Invitation
from feedback.people_import import update_person
from feedback.responses import (
    dimensions_for_cycle,
    items_for_invitation,
    save_answers,
    submit_response,
)

APP = "../app.py"
NAME = '<script>alert("name")</script>'
TITLE = '<img src=x onerror=alert("title")>'
COUNCIL = '<iframe src="javascript:alert(1)"></iframe> Council'
CYCLE = '<svg onload=alert("cycle")> review'
COMMENT = '<script>alert("comment")</script> and <img src=x onerror=alert(2)>'
MARKERS = ("<script", "onerror", "onload", "<iframe")


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def leaves(node):  # noqa: ANN001, ANN201
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from leaves(child)
    else:
        yield node


def text_of(el) -> str:  # noqa: ANN001
    proto = getattr(el, "proto", None)
    parts = []
    for attr in ("value", "label", "body", "help", "placeholder"):
        try:
            value = getattr(el, attr, None)
        except Exception:  # some elements compute values lazily
            value = None
        if value is not None and not callable(value):
            parts.append(value.to_csv() if hasattr(value, "to_csv") else str(value))
    if proto is not None:
        parts.append(str(proto))
    options = getattr(el, "options", None)
    if options:
        parts.append(str(list(options)))
    return " ".join(parts)


def check_page(at: AppTest, expected: list[str]) -> None:
    """No element that can render HTML holds a payload, and each expected payload is on the
    page as text (markdown escapes aside)."""
    assert not at.exception
    seen = []
    for root in (at.main, at.sidebar):
        for el in leaves(root):
            text = text_of(el)
            if not any(m in text for m in MARKERS):
                continue
            seen.append(text)
            assert el.type != "html", f"payload inside st.html: {text[:120]}"
            proto = getattr(el, "proto", None)
            if proto is not None and hasattr(proto, "allow_html"):
                assert not proto.allow_html, f"payload in unsafe markdown: {text[:120]}"
    everything = " ".join(seen).replace("\\", "")
    for payload in expected:
        assert payload in everything, f"{payload!r} not shown as text"


@pytest.fixture
def world(sqlite_engine, sqlite_url, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        leader = built.people["leader"]
        update_person(s, SYSTEM, leader, NAME, "leader@llanfair.example.gov.uk", TITLE)
        s.get(Council, built.council_id).name = COUNCIL
        s.get(Cycle, built.cycle_id).name = CYCLE
    return built


def test_names_titles_council_and_cycle_render_as_text(world) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    check_page(at, [COUNCIL, CYCLE])
    for page, expected in (
        ("pages/people.py", [NAME, TITLE, COUNCIL]),
        ("pages/pairings.py", [NAME]),
        ("pages/cycles.py", [CYCLE, NAME]),
    ):
        at.switch_page(page).run()
        check_page(at, expected)


def test_the_questionnaire_shows_names_as_text(world, sqlite_engine) -> None:
    with session_scope(sqlite_engine) as s:
        inv = s.exec(select(Invitation).where(Invitation.rater_id == world.people["m0"])).one()
        token = issue_token(s, SYSTEM, inv.id)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    check_page(at, [NAME])


def test_comments_render_as_text_in_the_report(world, sqlite_engine) -> None:
    with session_scope(sqlite_engine) as s:
        invitations = s.exec(
            select(Invitation).where(Invitation.pairing_id == world.pairing_ids[0])
        ).all()
        dims = dimensions_for_cycle(s, get_cycle(s, world.cycle_id))
        for inv in invitations:
            items = items_for_invitation(s, inv)
            save_answers(s, inv.id, {i.id: 4 for i in items}, {d.id: COMMENT for d in dims})
            submit_response(s, inv.id)
        set_cycle_status(s, SYSTEM, world.cycle_id, "closed")
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/report.py").run()
    check_page(at, [COMMENT, NAME])
