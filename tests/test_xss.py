"""User-written text (names, titles, council and cycle names, comments) with HTML and script
payloads renders as text: it reaches the page literally and never through st.html or
markdown that allows HTML."""

from __future__ import annotations

import html

import pytest
import streamlit as st
from cycle_builder import build_cycle
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.models import Council
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.collection.responses import (
    dimensions_for_cycle,
    items_for_invitation,
    save_answers,
    submit_response,
)
from feedback.models import Cycle, Invitation
from feedback.setup.cycles import get_cycle, set_cycle_status
from feedback.setup.people_import import update_person

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


def leaves(node):
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from leaves(child)
    else:
        yield node


def text_of(el) -> str:
    proto = getattr(el, "proto", None)
    parts = []
    for attr in ("value", "label", "body", "help", "placeholder"):
        try:
            value = getattr(el, attr, None)
        except Exception:  # some elements compute values lazily
            value = None
        if value is not None and not callable(value):
            # A component's state answers any attribute with None, so check it is callable.
            to_csv = getattr(value, "to_csv", None)
            parts.append(to_csv() if callable(to_csv) else str(value))
    if proto is not None:
        parts.append(str(proto))
    options = getattr(el, "options", None)
    if options:
        parts.append(str(list(options)))
    return " ".join(parts)


def check_page(at: AppTest, expected: list[str]) -> None:
    """No element that renders HTML or Markdown holds a payload as markup (st.html bodies
    hold it escaped), and each expected payload is on the page as text."""
    assert not at.exception
    seen = []
    for root in (at.main, at.sidebar):
        for el in leaves(root):
            text = text_of(el)
            if el.type == "html":
                tags = ("<script", "<iframe", "<img", "<svg")
                assert not any(t in el.value for t in tags), f"raw payload: {el.value[:120]}"
                seen.append(html.unescape(el.value))
                continue
            if not any(m in text for m in MARKERS):
                continue
            seen.append(text)
            proto = getattr(el, "proto", None)
            if proto is not None and hasattr(proto, "allow_html"):
                assert not proto.allow_html, f"payload in unsafe markdown: {text[:120]}"
    everything = " ".join(seen)
    for payload in expected:
        assert payload in everything, f"{payload!r} not shown as text"


@pytest.fixture
def world(sqlite_engine, sqlite_url, monkeypatch):
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
    comment_and_close(world, sqlite_engine, COMMENT)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/report.py").run()
    check_page(at, [COMMENT, NAME])


# --- Markdown and web addresses in user-written text (issue 13) ----------------------------
# Streamlit's browser renderer links web and email addresses even after Markdown escapes, so
# user text never goes into a Markdown string at all: ui.text draws it with st.html,
# HTML-escaped. tests/browser/test_hostile_text.py checks the result in Chromium; these
# checks say, page by page, that no Markdown-rendering string holds user text.

from feedback.setup.people import add_person, create_council, create_pairing  # noqa: E402
from ui.text import fill  # noqa: E402

LINK = "Cllr [Re-enter your password](https://evil.example)"
IMAGE = "![x](https://evil.example/t.png)"
STYLED = ":red[**URGENT**] Council"
BOLD = "**Bold** review at www.evil.example"
HEADING = "# Chief Executive"
MD_COMMENT = "[click](https://evil.example)\n![t](https://evil.example/t.png)\nit@evil.example\n# x"


def markdown_strings(at: AppTest) -> list[str]:
    """Every string on the page that Streamlit renders as Markdown: bodies of markdown,
    captions, headings and alerts; labels and help of widgets, expanders, tabs and metrics;
    radio options. (Selectbox and multiselect options, dataframes, st.text and st.html are
    not Markdown.)"""
    found: list[str] = []

    def walk(node) -> None:
        kind = getattr(node, "type", "")
        if kind in (
            "markdown",
            "caption",
            "title",
            "header",
            "subheader",
            "error",
            "info",
            "success",
            "warning",
        ):
            found.append(str(node.value))
        for attr in ("label", "help"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                found.append(value)
        if kind == "radio":
            found.extend(str(o) for o in node.options)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return found


def check_markdown(at: AppTest, expected: list[str]) -> None:
    """No user text in any Markdown string; each expected text shown (escaped) by st.html."""
    assert not at.exception, at.exception
    for s in markdown_strings(at):
        assert "evil.example" not in s, f"user text in Markdown: {s[:160]!r}"
        for payload in (LINK, IMAGE, STYLED, BOLD, HEADING):
            assert payload not in s, f"{payload!r} in Markdown: {s[:160]!r}"
    bodies = "\n".join(h.value for h in at.html)
    for payload in expected:
        for line in payload.splitlines():
            assert html.escape(line) in bodies, f"{line!r} not on the page"


def test_show_and_alert_escape_user_text_and_keep_the_template() -> None:
    assert fill("<b>{}</b> has agreed.", '<img src=x onerror=alert(1)> & "q"') == (
        "<b>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</b> has agreed."
    )

    def script() -> None:
        from ui.text import alert, show

        show("Added {}.", "<b>x</b> https://evil.example")
        alert("error", "<script>", details=["a <i>b</i>"])

    at = AppTest.from_function(script).run()
    first, second = (h.value for h in at.html)
    assert "Added &lt;b&gt;x&lt;/b&gt; https://evil.example." in first
    assert "<b>x" not in first and "<script" not in second and "<i>b" not in second
    assert 'data-alert="error"' in second and "&lt;i&gt;b&lt;/i&gt;" in second
    assert not markdown_strings(at)


@pytest.fixture
def markdown_world(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        update_person(
            s, SYSTEM, built.people["leader"], LINK, "leader@llanfair.example.gov.uk", IMAGE
        )
        update_person(s, SYSTEM, built.people["ceo"], HEADING, "ceo@llanfair.example.gov.uk", "")
        s.get(Council, built.council_id).name = STYLED
        s.get(Cycle, built.cycle_id).name = BOLD
    return built


def comment_and_close(built, sqlite_engine, comment: str | None = None) -> None:
    """Every rater of the first pairing answers, comments `comment` (the Markdown payload by
    default) on every dimension and submits; then the cycle closes."""
    comment = MD_COMMENT if comment is None else comment
    with session_scope(sqlite_engine) as s:
        invitations = s.exec(
            select(Invitation).where(Invitation.pairing_id == built.pairing_ids[0])
        ).all()
        dims = dimensions_for_cycle(s, get_cycle(s, built.cycle_id))
        for inv in invitations:
            items = items_for_invitation(s, inv)
            save_answers(s, inv.id, {i.id: 4 for i in items}, {d.id: comment for d in dims})
            submit_response(s, inv.id)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")


def test_set_up_pages_show_markdown_in_names_as_text(markdown_world) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    check_markdown(at, [STYLED])  # home: the council's card
    for page, expected in (
        ("pages/people.py", []),
        ("pages/pairings.py", []),
        ("pages/cycles.py", [LINK]),  # names of the invited
        ("pages/users.py", []),
        ("pages/audit.py", []),
        ("pages/data_protection.py", []),
    ):
        at.switch_page(page).run()
        check_markdown(at, expected)


def test_a_new_council_and_person_are_announced_as_text(markdown_world) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/people.py").run()
    add = at.tabs[1]
    add.text_input[0].set_value(IMAGE)
    add.text_input[1].set_value("new@llanfair.example.gov.uk")
    add.button[0].click().run()
    check_markdown(at, [f"Added {IMAGE}."])


def test_the_questionnaire_shows_markdown_in_names_as_text(markdown_world, sqlite_engine) -> None:
    with session_scope(sqlite_engine) as s:
        inv = s.exec(
            select(Invitation).where(Invitation.rater_id == markdown_world.people["o0"])
        ).first()
        token = issue_token(s, SYSTEM, inv.id)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    check_markdown(at, [LINK, BOLD, STYLED])


@pytest.mark.slow
def test_results_pages_show_markdown_in_names_and_comments_as_text(
    markdown_world, sqlite_engine
) -> None:
    comment_and_close(markdown_world, sqlite_engine)
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/report.py").run()
    check_markdown(at, [MD_COMMENT, LINK, HEADING, STYLED, BOLD])
    at.switch_page("pages/council.py").run()
    check_markdown(at, [STYLED, BOLD])
    at.switch_page("pages/present.py").run()
    check_markdown(at, [STYLED])
    seen = []
    while not at.button(key="present_next").disabled:
        at.button(key="present_next").click().run()
        check_markdown(at, [])
        seen.append("\n".join(h.value for h in at.html))
    assert html.escape(LINK) in "\n".join(seen)  # the pairing's slide


def test_a_council_and_pairing_made_through_the_domain_render_as_text(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    with session_scope(sqlite_engine) as s:
        council = create_council(s, SYSTEM, STYLED, "Wales")
        member = add_person(s, SYSTEM, council.id, LINK, "a@x.example.gov.uk", "member", IMAGE)
        officer = add_person(s, SYSTEM, council.id, HEADING, "b@x.example.gov.uk", "officer")
        create_pairing(s, SYSTEM, council.id, "leader–chief executive", member.id, officer.id)
    at = AppTest.from_file(APP, default_timeout=30).run()
    check_markdown(at, [])
    for page in ("pages/people.py", "pages/pairings.py", "pages/cycles.py"):
        at.switch_page(page).run()
        check_markdown(at, [])


def test_the_plan_page_shows_markdown_in_goals_as_text(demo_url, demo_engine, monkeypatch) -> None:
    """A principal writes a goal whose title is a link and whose description holds a
    tracking image and a fake password link: the partner and the facilitator see the
    characters, not a link or an image."""
    from planning.plans import add_goal, find_plan

    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    title = "Goal [link](https://evil.example)"
    description = f"{IMAGE} {LINK} {STYLED}"
    with session_scope(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        plan = next(
            p
            for pid in s.exec(select(Invitation.pairing_id).where(Invitation.cycle_id == cycle.id))
            if (p := find_plan(s, pid, cycle.id)) is not None
        )
        add_goal(s, SYSTEM, plan.id, "advice", title, description)
        pairing_id, cycle_id = plan.pairing_id, cycle.id
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/plan.py").run()
    at.selectbox(key="plan_cycle").select(cycle_id).run()
    at.selectbox(key="plan_pairing").select(pairing_id).run()
    check_markdown(at, [description, title])
