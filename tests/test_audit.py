"""The audit log: administrative actions recorded, filtered, for administrators only, never
holding answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cycle_builder import build_cycle
from sqlmodel import Session, select

from core import audit
from core.errors import PermissionDenied
from core.models import utcnow
from core.roles import SYSTEM, Actor
from governance.retention import set_retention


def test_actions_are_logged_and_filtered(engine, session) -> None:
    built = build_cycle(engine)
    set_retention(session, SYSTEM, built.council_id, 24)
    session.commit()
    log = audit.read_log(session, SYSTEM)
    assert {"create council", "nominate rater", "set retention"} <= set(log["action"])
    newest = log.iloc[0]
    assert newest["action"] == "set retention"
    assert newest["council"] == "Llanfair County Council"
    assert "before: 36" in newest["detail"] and "after: 24" in newest["detail"]
    only = audit.read_log(session, SYSTEM, action="set retention")
    assert list(only["action"]) == ["set retention"]
    assert audit.read_log(session, SYSTEM, council_id=built.council_id + 99).empty
    assert audit.read_log(session, SYSTEM, username="someone else").empty
    assert audit.read_log(session, SYSTEM, since=utcnow() + timedelta(days=1)).empty
    assert "set retention" in audit.actions(session, SYSTEM)


def test_only_administrators_read_it(session) -> None:
    for actor in (
        Actor("fac", "facilitator", council_ids=frozenset({1})),
        Actor("p", "principal", person_id=1),
    ):
        with pytest.raises(PermissionDenied):
            audit.read_log(session, actor)
        with pytest.raises(PermissionDenied):
            audit.actions(session, actor)


@pytest.mark.parametrize("key", ["answers", "Comment", "ratings", "rating"])
def test_answers_can_never_be_recorded(session, key) -> None:
    with pytest.raises(ValueError, match="never records answers"):
        audit.record(session, SYSTEM, "oops", "response", 1, **{key: "x"})


def test_audit_page_filters_and_never_shows_answers(demo_url, demo_engine, monkeypatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    with Session(demo_engine) as s:
        set_retention(s, SYSTEM, 1, 48)
        s.commit()
    at = AppTest.from_file("../app.py", default_timeout=30).run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception and at.title[0].value == "Audit log"
    log = at.dataframe[0].value
    assert "set retention" in set(log["action"])
    at.selectbox(key="audit_a").set_value("set retention").run()
    log = at.dataframe[0].value
    assert list(log["action"]) == ["set retention"] and "after: 48" in log["detail"].iloc[0]
    at.text_input(key="audit_u").input("nobody at all").run()
    assert at.dataframe[0].value.empty
    # The demo's answers and comments are in the database, never in the log.
    from feedback.models import Comment

    with Session(demo_engine) as s:
        comments = [c.text for c in s.exec(select(Comment)).all()]
    full = audit.read_log(Session(demo_engine), SYSTEM, limit=100000)
    everything = full.to_csv()
    assert comments and not any(c in everything for c in comments)
