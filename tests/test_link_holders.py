"""Issue 12, point 2: a link never shows answers to whoever holds it later.

Staff hold every link (the mail-merge file) and can make new ones at will, so holding a
link must not be enough to read or change what a rater typed. Through AppTest from app.py,
as the rater's page runs: a facilitator opening the new link of a rater who already
submitted, or the re-issued link of a rater with a draft, sees no answer and cannot change
the draft; the rater's own browser still resumes it."""

from __future__ import annotations

import pytest
import streamlit as st
from cycle_builder import build_cycle
from sqlmodel import Session, select
from stepping import to_last_step
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Conflict
from core.roles import SYSTEM
from feedback.collection.invitations import issue_links, issue_token
from feedback.collection.responses import (
    new_resume_key,
    questionnaire_view,
    save_answers,
    start_again,
    submit_response,
)
from feedback.models import Comment, Invitation, Rating, Response
from feedback.setup.cycles import nominate_rater

APP = "../app.py"
SECRET = "The leader shouts at officers in cabinet"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def built(sqlite_engine, sqlite_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    return build_cycle(sqlite_engine)


def _invitation(engine, built, key: str, pairing: int = 0) -> int:
    with Session(engine) as s:
        return s.exec(
            select(Invitation.id).where(
                Invitation.rater_id == built.people[key],
                Invitation.pairing_id == built.pairing_ids[pairing],
            )
        ).one()


def _open(link_or_token: str, browser: AppTest | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = link_or_token.split("t=")[-1]
    if browser is not None:  # the same browser: it holds the same resume key
        at.query_params["k"] = browser.query_params["k"]
    return at.run()


def _shown(at: AppTest) -> str:
    """Everything on the page as text, widget values included."""
    return repr(at._tree) + " ".join(
        str(w.value) for kind in ("radio", "text_area") for w in at.get(kind)
    )


def _stored(engine, inv_id: int) -> tuple[dict, list[str]]:
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).one()
        ratings = dict(
            s.exec(
                select(Rating.item_id, Rating.value).where(Rating.response_id == response.id)
            ).all()
        )
        comments = list(
            s.exec(select(Comment.text).where(Comment.response_id == response.id)).all()
        )
        return ratings, comments


def _answer(at: AppTest, inv_id: int, values: list[int], comment: str) -> None:
    radios = [r for r in at.radio if r.key and r.key.startswith(f"q_{inv_id}_")]
    for radio, value in zip(radios, values, strict=False):
        radio.set_value(value).run()
    at.text_area(key=at.text_area[0].key).input(comment).run()
    assert not at.exception


def _mail_merge_link(engine, built, inv_id: int) -> str:
    """What a facilitator holds after downloading the mail merge again."""
    with session_scope(engine) as s:
        fresh, _skipped = issue_links(s, SYSTEM, built.cycle_id, reissue=True)
    return next(r.link for r in fresh if r.invitation_id == inv_id)


def test_a_new_link_of_a_rater_who_submitted_shows_no_answer(sqlite_engine, built) -> None:
    first = _invitation(sqlite_engine, built, "m1")
    with session_scope(sqlite_engine) as s:
        token = issue_token(s, SYSTEM, first)
    rater = _open(token)
    _answer(rater, first, [5, 1, 4, 2], SECRET)
    to_last_step(rater, first).button(key=f"q_submit_{first}").click().run()
    rater.button(key=f"q_yes_{first}").click().run()
    assert "not shown again" in rater.success[-1].value
    assert SECRET not in _shown(rater) and not rater.text_area

    # The facilitator nominates the same rater onto the second pairing and downloads the
    # mail merge: they now hold a live link of this rater.
    with session_scope(sqlite_engine) as s:
        second = nominate_rater(
            s, SYSTEM, built.cycle_id, built.pairing_ids[1], built.people["m1"], "members"
        ).id
    staff = _open(_mail_merge_link(sqlite_engine, built, second))
    assert not staff.exception
    choice = staff.selectbox(key="q_choice")
    assert len(choice.options) == 2
    choice.set_value(first).run()  # the pairing already answered
    assert "Submitted on" in staff.success[0].value
    assert not staff.radio and not staff.text_area
    assert SECRET not in _shown(staff)
    assert "5/" not in choice.format_func(first)  # not even how many were answered


def test_a_reissued_link_of_a_rater_with_a_draft_shows_and_changes_nothing(
    sqlite_engine, built
) -> None:
    inv_id = _invitation(sqlite_engine, built, "o2")
    with session_scope(sqlite_engine) as s:
        token = issue_token(s, SYSTEM, inv_id)
    rater = _open(token)
    _answer(rater, inv_id, [5, 1, 4], SECRET)
    draft = _stored(sqlite_engine, inv_id)
    assert SECRET in draft[1] and len(draft[0]) == 3

    # The facilitator re-downloads the mail merge (every unsubmitted link is replaced) and
    # opens the rater's link in their own browser.
    link = _mail_merge_link(sqlite_engine, built, inv_id)
    staff = _open(link)
    assert not staff.exception
    assert "begun in another browser" in staff.info[0].value
    assert not staff.radio and not staff.text_area
    assert SECRET not in _shown(staff)
    assert not [b for b in staff.button if b.key == f"q_submit_{inv_id}"]
    # Nor can they write into the draft or submit it with their browser's key.
    staff_key = staff.query_params["k"]
    with session_scope(sqlite_engine) as s, pytest.raises(Conflict):
        save_answers(s, inv_id, {}, {}, resume_key=staff_key)
    with session_scope(sqlite_engine) as s, pytest.raises(Conflict):
        submit_response(s, inv_id, resume_key=staff_key)
    with Session(sqlite_engine) as s:
        view = questionnaire_view(s, inv_id, staff_key)
        assert view.ratings == {} and view.comments == {} and view.draft_elsewhere
    assert _stored(sqlite_engine, inv_id) == draft

    # The rater, in their own browser, opens the new link from the next email: all there.
    again = _open(link, rater)
    assert not again.exception
    shown = [r.value for r in again.radio if r.key and r.key.startswith(f"q_{inv_id}_")][:3]
    assert shown == [5, 1, 4]
    assert again.text_area[0].value == SECRET
    to_last_step(again, inv_id).button(key=f"q_submit_{inv_id}").click().run()
    again.button(key=f"q_yes_{inv_id}").click().run()
    assert not again.exception and "not shown again" in again.success[-1].value


def test_a_rater_on_a_new_device_may_start_again_without_seeing_the_draft(
    sqlite_engine, built
) -> None:
    inv_id = _invitation(sqlite_engine, built, "p0")
    with session_scope(sqlite_engine) as s:
        token = issue_token(s, SYSTEM, inv_id)
    _answer(_open(token), inv_id, [3, 3], SECRET)
    phone = _open(token)
    phone.button(key=f"q_again_{inv_id}").click().run()
    assert "cannot be recovered" in phone.warning[0].value
    phone.button(key=f"q_again_yes_{inv_id}").click().run()
    assert not phone.exception
    assert _stored(sqlite_engine, inv_id) == ({}, [])  # deleted unread
    assert SECRET not in _shown(phone)
    _answer(phone, inv_id, [2], "From the phone")
    assert _stored(sqlite_engine, inv_id)[1] == ["From the phone"]


def test_a_draft_written_without_a_browser_key_opens_for_no_browser(sqlite_engine, built) -> None:
    """Drafts begun before resume keys existed (and Tandem's own writers) have no key: no
    link opens them."""
    inv_id = _invitation(sqlite_engine, built, "m0")
    with session_scope(sqlite_engine) as s:
        save_answers(s, inv_id, {}, {})
        key = new_resume_key()
        assert questionnaire_view(s, inv_id, key).draft_elsewhere
        with pytest.raises(Conflict):
            submit_response(s, inv_id, resume_key=key)
        start_again(s, inv_id, resume_key=key)
        assert not questionnaire_view(s, inv_id, key).draft_elsewhere


def test_the_resume_key_rule_on_both_databases(engine, session) -> None:
    """The domain rule itself, on SQLite and PostgreSQL: one key reads, writes and submits
    a draft; another key sees nothing, changes nothing, and may only start again (which
    deletes the draft unread); once submitted no key sees the answers."""
    built = build_cycle(engine)
    inv_id = _invitation(engine, built, "m2")
    rater, staff = new_resume_key(), new_resume_key()
    with session_scope(engine) as s:
        view = questionnaire_view(s, inv_id, rater)
        first = view.sections[0]
        item, dimension = first.questions[0].item_id, first.dimension_id
        save_answers(s, inv_id, {item: 4}, {dimension: SECRET}, resume_key=rater)
    with session_scope(engine) as s:
        assert questionnaire_view(s, inv_id, rater).comments == {dimension: SECRET}
        other = questionnaire_view(s, inv_id, staff)
        assert other.draft_elsewhere and other.ratings == {} and other.comments == {}
        for attempt in (
            lambda: save_answers(s, inv_id, {item: 1}, resume_key=staff),
            lambda: submit_response(s, inv_id, resume_key=staff),
            lambda: save_answers(s, inv_id, {item: 1}),  # no key is not a master key
        ):
            with pytest.raises(Conflict):
                attempt()
    assert _stored(engine, inv_id) == ({item: 4}, [SECRET])
    with session_scope(engine) as s:
        start_again(s, inv_id, resume_key=staff)
        save_answers(s, inv_id, {item: 2}, resume_key=staff)
        start_again(s, inv_id, resume_key=staff)  # a second click deletes nothing
    assert _stored(engine, inv_id) == ({item: 2}, [])
    with session_scope(engine) as s:
        assert questionnaire_view(s, inv_id, rater).draft_elsewhere
        submit_response(s, inv_id, resume_key=staff)
    with Session(engine) as s:
        for key in (rater, staff, None):
            view = questionnaire_view(s, inv_id, key)
            assert view.submitted and view.ratings == {} and view.comments == {}
            assert not view.draft_elsewhere
