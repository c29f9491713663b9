"""Governance of a cycle's moves (issue 17): the domain functions take the status the user
saw and refuse, in words, when it moved meanwhile; a cycle with no raters cannot open; the
groups under the anonymity threshold come as one table. Then the Cycles page: every move
asks once, naming the cycle and its council; a stale question is refused; opening with no
raters is refused before anything is asked; the groups under the threshold are one table
in the question, not a yellow box each."""

from __future__ import annotations

from datetime import date

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, html_texts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Conflict, Invalid
from core.models import AuditEvent
from core.roles import SYSTEM, Actor, Role
from feedback.collection.invitations import issue_links, revoke_invitation
from feedback.models import Cycle, Invitation
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nomination_checks,
    set_cycle_status,
)

APP = "../app.py"
ALICE = Actor(username="alice", role=Role.admin)


def _status(engine, cycle_id: int) -> str:
    with Session(engine) as s:
        return s.get(Cycle, cycle_id).status


# --- the domain ----------------------------------------------------------------------------


def test_a_move_on_a_stale_status_is_refused_saying_who_and_when(engine) -> None:
    built = build_cycle(engine)  # open
    with session_scope(engine) as s:  # someone else closes it
        set_cycle_status(s, ALICE, built.cycle_id, "closed", expected_status="open")
    with session_scope(engine) as s, pytest.raises(Conflict) as stale:
        # I saw it open and ask to close it: refused, nothing changed.
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed", expected_status="open")
    message = str(stale.value)
    assert "'Adolygiad 2027' was closed by alice at " in message
    assert "nothing was changed" in message and "you saw it open" in message
    # A move the stale status would allow now (published → closed is "withdraw") is refused
    # too: a click on what was shown never becomes another action.
    with session_scope(engine) as s:
        set_cycle_status(s, ALICE, built.cycle_id, "published", expected_status="closed")
    with session_scope(engine) as s, pytest.raises(Conflict, match="was published by alice"):
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed", expected_status="closed")
    assert _status(engine, built.cycle_id) == "published"
    with Session(engine) as s:  # refused moves leave no audit entry
        moves = s.exec(select(AuditEvent.action).where(AuditEvent.entity == "cycle")).all()
    assert moves.count("cycle closed") == 1 and moves.count("cycle published") == 1


def test_without_an_expected_status_the_command_line_moves_as_before(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    assert _status(engine, built.cycle_id) == "closed"


def test_a_cycle_with_no_raters_cannot_open(engine) -> None:
    built = build_cycle(engine, open_it=False)
    with session_scope(engine) as s:
        empty = create_cycle(
            s, SYSTEM, built.council_id, "Empty round", date(2027, 3, 1), date(2027, 4, 1)
        ).id
    with session_scope(engine) as s, pytest.raises(Invalid) as refused:
        set_cycle_status(s, SYSTEM, empty, "open")
    assert "'Empty round' has no raters" in str(refused.value)
    assert "Add pairings" in str(refused.value)
    assert _status(engine, empty) == "draft"
    with session_scope(engine) as s:  # with a pairing (its two principals), it opens
        add_pairing_to_cycle(s, SYSTEM, empty, built.pairing_ids[0])
        set_cycle_status(s, SYSTEM, empty, "open", expected_status="draft")
    assert _status(engine, empty) == "open"


def test_groups_under_the_threshold_are_rows_of_one_table(engine) -> None:
    built = build_cycle(engine, raters_per_group=2, open_it=False)  # threshold 3
    with Session(engine) as s:
        rows = nomination_checks(s, built.cycle_id)
    short = [(r.pairing_id, r.group, r.nominated, r.needed) for r in rows if r.group]
    leader, cabinet = built.pairing_ids
    assert short == [
        (leader, "Other councillors", 2, 3),
        (leader, "Other officers", 2, 3),
        (leader, "External partners", 2, 3),
        (cabinet, "Other councillors", 0, 3),
        (cabinet, "Other officers", 1, 3),
        (cabinet, "External partners", 0, 3),
    ], short
    notes = {(r.pairing_id, r.group): r.note for r in rows}
    assert "will not appear in the report" in notes[(cabinet, "External partners")]
    assert "unless 1 more are nominated" in notes[(leader, "Other officers")]
    # Balance checks follow, one row each, without the pairing's name repeated.
    balance = [r for r in rows if not r.group]
    assert balance and all(r.nominated is None for r in balance)
    assert all(not r.note.startswith("Cllr") for r in balance)


def test_withdrawing_and_new_links_refuse_a_stale_status(engine) -> None:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        inv = s.exec(
            select(Invitation).where(
                Invitation.cycle_id == built.cycle_id,
                Invitation.rater_id == built.people["m0"],
            )
        ).one()
        inv_id = inv.id
        revoke_invitation(s, ALICE, inv_id)  # someone else withdrew them
    with session_scope(engine) as s, pytest.raises(Conflict, match="now revoked"):
        revoke_invitation(s, SYSTEM, inv_id, expected_status="not started")
    with session_scope(engine) as s:
        set_cycle_status(s, ALICE, built.cycle_id, "closed")
    with session_scope(engine) as s, pytest.raises(Conflict, match="was closed by alice"):
        issue_links(s, SYSTEM, built.cycle_id, reissue=True, expected_status="open")


# --- the page --------------------------------------------------------------------------------


@pytest.fixture
def page(sqlite_url, monkeypatch):
    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)

    def open_cycles() -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/cycles.py").run()
        assert not at.exception
        return at

    yield open_cycles
    st.cache_resource.clear()


def _question(at: AppTest) -> list[str]:
    return [t for t in html_texts(at) if t.endswith("?") or "?" in t]


def test_closing_asks_once_naming_the_cycle_and_its_council(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine)  # open
    at = page()
    at.button(key="status_closed").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "open"  # nothing yet
    assert any(
        "Close Adolygiad 2027 (Llanfair County Council) to responses?" in q
        for q in alerts(at, "warning")
    ), alerts(at, "warning")
    at.button(key="confirm_status_cancel").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "open"
    assert not any("to responses?" in q for q in alerts(at, "warning"))

    at.button(key="status_closed").click().run()
    at.button(key="confirm_status_yes").click().run()
    assert not at.exception and not alerts(at, "error")
    assert _status(sqlite_engine, built.cycle_id) == "closed"
    assert any("'Adolygiad 2027' is closed to responses." in a for a in alerts(at, "success"))
    assert at.selectbox(key="cycle_id").value == built.cycle_id
    # The buttons are read after the move: the closed cycle's own.
    labels = {b.label for b in at.button if b.key and b.key.startswith("status_")}
    assert labels == {"Reopen for late responses", "Publish results"}


def test_a_question_answered_after_someone_else_acted_is_refused(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine)
    at = page()
    at.button(key="status_closed").click().run()  # asked: close it?
    with session_scope(sqlite_engine) as s:  # meanwhile, another facilitator closes it
        set_cycle_status(s, ALICE, built.cycle_id, "closed")
        set_cycle_status(s, ALICE, built.cycle_id, "published")
    at.button(key="confirm_status_yes").click().run()
    assert not at.exception
    errors = alerts(at, "error")
    assert any("was published by alice at" in e and "nothing was changed" in e for e in errors)
    assert _status(sqlite_engine, built.cycle_id) == "published"
    with Session(sqlite_engine) as s:
        assert not s.exec(
            select(AuditEvent).where(
                AuditEvent.action == "cycle closed", AuditEvent.actor != "alice"
            )
        ).first()


def test_publish_and_withdraw_ask_first(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    at = page()
    at.button(key="status_published").click().run()
    assert any(
        "Publish the results of Adolygiad 2027 (Llanfair County Council)?" in q
        for q in alerts(at, "warning")
    )
    assert _status(sqlite_engine, built.cycle_id) == "closed"
    at.button(key="confirm_status_yes").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "published"
    at.button(key="status_closed").click().run()
    assert any("Withdraw the publication of Adolygiad 2027" in q for q in alerts(at, "warning"))
    at.button(key="confirm_status_yes").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "closed"


def test_opening_with_no_raters_is_refused_before_anything_is_asked(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine, open_it=False)
    with session_scope(sqlite_engine) as s:
        empty = create_cycle(
            s, SYSTEM, built.council_id, "Empty round", date(2027, 3, 1), date(2027, 4, 1)
        ).id
    at = page()
    at.selectbox(key="cycle_id").set_value(empty).run()
    at.button(key="status_open").click().run()
    assert not at.exception
    assert any("'Empty round' has no raters" in e for e in alerts(at, "error"))
    assert not [b for b in at.button if b.key == "confirm_status_yes"]  # nothing asked
    assert _status(sqlite_engine, empty) == "draft"


def test_opening_shows_the_groups_under_the_threshold_in_one_table(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine, raters_per_group=2, open_it=False)
    at = page()
    at.button(key="status_open").click().run()
    assert any(
        "Open Adolygiad 2027 (Llanfair County Council) for responses?" in q
        for q in alerts(at, "warning")
    )
    # One table, no yellow box per group.
    assert not [w for w in alerts(at, "warning") if "nominated" in w]
    tables = [d.value for d in at.dataframe if "note" in d.value.columns]
    assert len(tables) == 2  # the raters tab's and the question's: the same table
    shown = tables[0]
    under = shown[shown["group"] != ""]
    assert len(under) == 6
    assert list(under["nominated"]) == ["2 of 3", "2 of 3", "2 of 3", "0 of 3", "1 of 3", "0 of 3"]
    at.button(key="confirm_status_yes").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "open"


def test_withdrawing_a_rater_names_them_and_asks(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine)
    at = page()
    leader = built.pairing_ids[0]
    slot = f"withdraw_{built.cycle_id}_{leader}_members"
    picker = at.selectbox(key=f"{slot}_pick")
    with Session(sqlite_engine) as s:
        inv = s.exec(
            select(Invitation).where(
                Invitation.cycle_id == built.cycle_id,
                Invitation.rater_id == built.people["m1"],
            )
        ).one()
    picker.set_value(inv.id).run()
    at.button(key=f"{slot}_button").click().run()
    assert any(
        "Withdraw Cllr Member 1 from rating" in q and "Adolygiad 2027" in q
        for q in alerts(at, "warning")
    ), alerts(at, "warning")
    with Session(sqlite_engine) as s:
        assert s.get(Invitation, inv.id).status == "not started"
    at.button(key=f"confirm_{slot}_yes").click().run()
    assert not at.exception and not alerts(at, "error")
    with Session(sqlite_engine) as s:
        assert s.get(Invitation, inv.id).status == "revoked"
    assert any("Cllr Member 1 withdrawn" in a for a in alerts(at, "success"))
    assert at.selectbox(key=f"{slot}_pick").value is None


def test_nominating_empties_the_picker_and_a_new_cycle_is_chosen(sqlite_engine, page) -> None:
    built = build_cycle(sqlite_engine, raters_per_group=3, open_it=False)
    with session_scope(sqlite_engine) as s:
        from feedback.setup.people import add_person

        extra = add_person(
            s, SYSTEM, built.council_id, "Cllr Extra", "extra@llanfair.example.gov.uk", "member"
        ).id
    at = page()
    leader = built.pairing_ids[0]
    key = f"nominate_{leader}_members"
    at.multiselect(key=key).set_value([extra])
    next(b for b in at.button if b.label == "Nominate" and b.form_id == f"{key}_form").click()
    at.run()
    assert not at.exception and not alerts(at, "error")
    assert at.multiselect(key=key).value == []  # no stale chips
    assert any("Nominated 1 other councillors." in a for a in alerts(at, "success"))

    # A new cycle is the one shown, and its Add pairings form is its own.
    next(t for t in at.text_input if t.key == "new_cycle_name").input("Mid-year pulse 2027")
    next(b for b in at.button if b.label == "Create cycle").click()
    at.run()
    assert not at.exception and not alerts(at, "error")
    with Session(sqlite_engine) as s:
        new = s.exec(select(Cycle).where(Cycle.name == "Mid-year pulse 2027")).one()
    assert at.selectbox(key="cycle_id").value == new.id
    assert [m.key for m in at.multiselect if m.key.startswith("add_pairings_pick_")] == [
        f"add_pairings_pick_{new.id}"
    ]
    assert any("Cycle 'Mid-year pulse 2027' created." in a for a in alerts(at, "success"))


def test_the_page_says_which_address_links_use(sqlite_engine, page, monkeypatch) -> None:
    build_cycle(sqlite_engine)
    monkeypatch.delenv("TANDEM_BASE_URL", raising=False)
    at = page()
    assert any("links start with http://localhost:8501" in t for t in html_texts(at))
    assert any("Links point at this computer" in w for w in alerts(at, "warning"))
    monkeypatch.setenv("TANDEM_BASE_URL", "https://tandem.llanfair.gov.uk/")
    at.run()
    assert any("links start with https://tandem.llanfair.gov.uk " in t for t in html_texts(at))
    assert not any("Links point at this computer" in w for w in alerts(at, "warning"))


def test_an_answer_given_after_the_account_was_switched_off_changes_nothing(
    sqlite_engine, page
) -> None:
    """The question was asked while signed in; "Yes" comes after an administrator switched
    the account off. The action is checked against the account as it is then."""
    from signing_in import sign_in

    from governance.accounts import update_user

    built = build_cycle(sqlite_engine)
    at = AppTest.from_file(APP, default_timeout=60)
    with Session(sqlite_engine) as s:
        sign_in(at, s, "admin", username="first-admin@example.org")
        me = sign_in(at, s, "facilitator", council_ids=[built.council_id])
    at.run()
    at.switch_page("pages/cycles.py").run()
    assert not at.exception
    at.button(key="status_closed").click().run()
    with session_scope(sqlite_engine) as s:
        from core.models import UserAccount

        account = s.exec(select(UserAccount).where(UserAccount.username == me.username)).one()
        update_user(s, SYSTEM, account.id, active=False)
    at.button(key="confirm_status_yes").click().run()
    assert _status(sqlite_engine, built.cycle_id) == "open"


def test_sending_again_with_new_links_asks_first_naming_the_cycle(
    sqlite_engine, page, monkeypatch
) -> None:
    from mail_server import running_inbox

    slot = f"confirm_resend_{build_cycle(sqlite_engine, second_pairing=False).cycle_id}"
    with running_inbox(monkeypatch) as inbox:
        at = page()
        at.button(key="send_invitations").click().run()
        first = len(inbox.messages)
        assert first == 11 and not at.exception
        with Session(sqlite_engine) as s:
            hashes = {i.id: i.token_hash for i in s.exec(select(Invitation)).all()}

        at.checkbox(key="resend").check().run()
        at.button(key="send_invitations").click().run()
        assert len(inbox.messages) == first  # nothing sent yet: a question
        question = " ".join(alerts(at, "warning"))
        assert "Adolygiad 2027 (Llanfair County Council)" in question
        assert "stop working at once" in question
        at.button(key=f"{slot}_cancel").click().run()
        assert len(inbox.messages) == first
        assert not any("stop working at once" in t for t in alerts(at, "warning"))

        at.button(key="send_invitations").click().run()
        at.button(key=f"{slot}_yes").click().run()
        assert not at.exception
        assert len(inbox.messages) == 2 * first
        with Session(sqlite_engine) as s:
            again = {i.id: i.token_hash for i in s.exec(select(Invitation)).all()}
        assert all(again[k] != v for k, v in hashes.items())  # every link replaced, once asked
