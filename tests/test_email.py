"""Real email: an aiosmtpd server started by the test receives the invitations and the
reminders, and the link in a received email opens that rater's form."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from cycle_builder import build_cycle
from mail_server import body, free_port, running_inbox
from shown import headings, shown
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.errors import Invalid
from core.mail import SmtpSettings
from core.roles import SYSTEM
from feedback.collection.invitations import (
    resolve_token,
    send_invitations,
    send_reminders,
)
from feedback.collection.responses import save_answers, submit_response
from feedback.models import Invitation, MessageLog

LINK = re.compile(r"https?://\S+/\?t=([A-Za-z0-9_\-]+)")
TANDEM = str(Path(sys.executable).with_name("tandem"))


@pytest.fixture
def smtp(monkeypatch):
    with running_inbox(monkeypatch) as inbox:
        yield inbox


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.slow
def test_invitations_and_reminders_arrive_and_the_link_opens_the_right_form(
    smtp, sqlite_engine, sqlite_url, monkeypatch
) -> None:
    built = build_cycle(sqlite_engine, second_pairing=False)
    seen: list[tuple[int, int]] = []
    with session_scope(sqlite_engine) as s:
        report = send_invitations(
            s, SYSTEM, built.cycle_id, progress=lambda d, t, _x: seen.append((d, t))
        )
    assert report.sent == 11 and not report.failed
    assert seen[0] == (0, 11) and seen[-1] == (11, 11)
    assert len(smtp.messages) == 11
    by_address = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    siân = by_address["m0@llanfair.example.gov.uk"]
    assert "Cllr Siân Llewelyn & Rhodri ap Dafydd" in siân["Subject"]
    assert siân["From"].addresses[0].addr_spec == "feedback@llanfair.example.gov.uk"
    token = LINK.search(body(siân)).group(1)

    with session_scope(sqlite_engine) as s:
        link = resolve_token(s, token)
        inv = s.get(Invitation, link.invitation_id)
        assert inv.rater_id == built.people["m0"] and inv.sent_at is not None
        logged = s.exec(select(MessageLog).where(MessageLog.channel == "email")).all()
        assert len(logged) == 11 and all(m.ok for m in logged)

    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    at = AppTest.from_file("../app.py", default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    assert headings(at, 3)[0] == "Cllr Siân Llewelyn & Rhodri ap Dafydd"
    assert "Hello Cllr Member 0" in shown(at)

    # Sending again sends nothing new: everyone already has their invitation.
    with session_scope(sqlite_engine) as s:
        assert send_invitations(s, SYSTEM, built.cycle_id).sent == 0
    assert len(smtp.messages) == 11

    # Two raters respond; the reminder goes to the other nine only.
    with session_scope(sqlite_engine) as s:
        for key in ("m0", "o1"):
            inv = s.exec(select(Invitation).where(Invitation.rater_id == built.people[key])).one()
            item_id = next(iter(_first_item(s, inv)))
            save_answers(s, inv.id, {item_id: 4})
            submit_response(s, inv.id)
    smtp.messages.clear()
    out = subprocess.run(
        [TANDEM, "remind", str(built.cycle_id)],
        capture_output=True,
        text=True,
        env={**os.environ, "TANDEM_DATABASE_URL": sqlite_url},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "9 reminders sent" in out.stdout
    reminded = {m["To"].addresses[0].addr_spec for m in smtp.messages}
    assert len(reminded) == 9
    assert not reminded & {"m0@llanfair.example.gov.uk", "o1@llanfair.example.gov.uk"}
    reminder = next(m for m in smtp.messages if m["To"].addresses[0].addr_spec.startswith("p2"))
    assert reminder["Subject"].startswith("Reminder:")
    new_token = LINK.search(body(reminder)).group(1)
    with session_scope(sqlite_engine) as s:
        link = resolve_token(s, new_token)
        assert s.get(Invitation, link.invitation_id).rater_id == built.people["p2"]
        assert s.get(Invitation, link.invitation_id).reminder_count == 1
        kinds = s.exec(select(MessageLog.kind)).all()
        assert kinds.count("reminder") == 9 and kinds.count("invitation") == 11


def _first_item(session, invitation):
    from feedback.collection.responses import items_for_invitation

    return [i.id for i in items_for_invitation(session, invitation)]


def test_edited_wording_is_what_the_rater_receives(smtp, sqlite_engine) -> None:
    from feedback.collection.invitations import update_wording

    built = build_cycle(sqlite_engine, raters_per_group=2, second_pairing=False)
    with session_scope(sqlite_engine) as s:
        update_wording(
            s,
            SYSTEM,
            built.cycle_id,
            "Adborth: {pairing}",
            "Annwyl {name},\n\nDolen: {link}\n\nCloses {closes_on}.",
            "Nodyn atgoffa",
            "{name}: {link}",
        )
        send_invitations(s, SYSTEM, built.cycle_id)
    message = smtp.messages[0]
    assert message["Subject"].startswith("Adborth: Cllr Siân Llewelyn")
    assert body(message).startswith("Annwyl ")
    assert "Closes 1 February 2027." in body(message)


def test_no_server_is_a_message_and_nothing_changes(sqlite_engine, monkeypatch) -> None:
    built = build_cycle(sqlite_engine, raters_per_group=2, second_pairing=False)
    monkeypatch.delenv("TANDEM_SMTP_HOST", raising=False)
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid, match="mail-merge"):
        send_invitations(s, SYSTEM, built.cycle_id)
    dead = SmtpSettings(host="127.0.0.1", port=free_port(), tls="none", sender="a@b.example")
    with session_scope(sqlite_engine) as s, pytest.raises(Invalid, match="Nothing was sent"):
        send_reminders(s, SYSTEM, built.cycle_id, settings=dead)
    with session_scope(sqlite_engine) as s:
        assert s.exec(select(MessageLog)).all() == []
        assert all(i.token_hash is None for i in s.exec(select(Invitation)))
