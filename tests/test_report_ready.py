"""“Your report is ready”: on publication, one email to each principal of each pairing, sent
after the publication committed, with nothing from the report in it; a failure to send
never undoes the publication and is told to the staff member (page and command line)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from cycle_builder import build_cycle
from mail_server import BASE_URL, body, free_port, running_inbox
from shown import alerts
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.models import AuditEvent
from core.roles import SYSTEM
from feedback.models import Cycle, PublishedReport
from feedback.results.report_ready import SUBJECT, notify_report_ready
from feedback.setup.cycles import set_cycle_status

APP = "../app.py"
TANDEM = str(Path(sys.executable).parent / "tandem")
PRINCIPALS = {
    "leader@llanfair.example.gov.uk",
    "ceo@llanfair.example.gov.uk",
    "cab@llanfair.example.gov.uk",
    "dir@llanfair.example.gov.uk",
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def _closed(engine) -> int:
    built = build_cycle(engine)
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    return built.cycle_id


def _publish(engine, cycle_id: int) -> None:
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, cycle_id, "published")


def test_each_principal_is_emailed_once_with_a_link_and_nothing_confidential(
    sqlite_engine, monkeypatch
) -> None:
    cycle_id = _closed(sqlite_engine)
    with running_inbox(monkeypatch) as inbox:
        with session_scope(sqlite_engine) as s:  # not yet published: nobody is told
            assert notify_report_ready(s, SYSTEM, cycle_id).principals == 0
        _publish(sqlite_engine, cycle_id)
        with session_scope(sqlite_engine) as s:
            emailed = notify_report_ready(s, SYSTEM, cycle_id)
        assert emailed.ok and emailed.sent == 4
        assert "4 principals emailed" in emailed.summary()
        to = {m["To"].addresses[0].addr_spec for m in inbox.messages}
        assert to == PRINCIPALS and len(inbox.messages) == 4
        ceo = inbox.to("ceo@llanfair.example.gov.uk")[0]
        assert ceo["Subject"] == SUBJECT
        text = body(ceo)
        link = re.search(rf"{re.escape(BASE_URL)}/report\?cycle=(\d+)&pairing=(\d+)", text)
        assert link and int(link.group(1)) == cycle_id
        assert "Adolygiad 2027" in text and "Llanfair County Council" in text
        # Nothing from the report: no rater, no partner's name, no figure.
        for private in ("Member 0", "Officer", "Partner", "Siân", "Gwilym"):
            assert private not in text
        assert not re.search(r"\d\.\d", text)
    with Session(sqlite_engine) as s:
        logged = s.exec(select(AuditEvent).where(AuditEvent.action == "report ready emails"))
        assert [e.detail["sent"] for e in logged] == [4]


def test_a_failure_to_send_leaves_the_publication_and_says_so(sqlite_engine, monkeypatch) -> None:
    cycle_id = _closed(sqlite_engine)
    _publish(sqlite_engine, cycle_id)
    for key, value in {
        "TANDEM_SMTP_HOST": "127.0.0.1",
        "TANDEM_SMTP_PORT": str(free_port()),  # nothing listens there
        "TANDEM_SMTP_TLS": "none",
        "TANDEM_SMTP_SENDER": "feedback@llanfair.example.gov.uk",
    }.items():
        monkeypatch.setenv(key, value)
    with session_scope(sqlite_engine) as s:
        emailed = notify_report_ready(s, SYSTEM, cycle_id)
    assert not emailed.ok and emailed.sent == 0
    assert "could not connect" in emailed.summary()
    assert "Tell them their report is ready yourself" in emailed.summary()
    with Session(sqlite_engine) as s:
        assert s.get(Cycle, cycle_id).status == "published"
        assert len(s.exec(select(PublishedReport)).all()) == 1


def test_the_cycles_page_publishes_then_tells_the_staff_member(
    sqlite_engine, sqlite_url, monkeypatch
) -> None:
    cycle_id = _closed(sqlite_engine)
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    with running_inbox(monkeypatch) as inbox:
        at = AppTest.from_file(APP, default_timeout=60).run()
        at.switch_page("pages/cycles.py").run()
        at.button(key="status_published").click().run()
        at.button(key="confirm_status_yes").click().run()  # the page asks once
        assert not at.exception
        assert any("4 principals emailed" in a for a in alerts(at, "success"))
        assert len(inbox.messages) == 4
    with Session(sqlite_engine) as s:
        assert s.get(Cycle, cycle_id).status == "published"

    # Without an email server the publication stands and the page says who to tell.
    for key in ("TANDEM_SMTP_HOST", "TANDEM_SMTP_PORT"):
        monkeypatch.delenv(key, raising=False)
    at.button(key="status_closed").click().run()
    at.button(key="confirm_status_yes").click().run()  # the page asks once
    at.button(key="status_published").click().run()
    at.button(key="confirm_status_yes").click().run()
    assert not at.exception
    warned = " ".join(alerts(at, "warning"))
    assert "were not emailed" in warned and "no email server" in warned
    with Session(sqlite_engine) as s:
        assert s.get(Cycle, cycle_id).status == "published"


def test_tandem_cycle_publish_emails_the_principals(sqlite_engine, sqlite_url, monkeypatch) -> None:
    cycle_id = _closed(sqlite_engine)
    with running_inbox(monkeypatch) as inbox:
        env = {**os.environ, "TANDEM_DATABASE_URL": sqlite_url}
        done = subprocess.run(
            [TANDEM, "cycle", "publish", str(cycle_id), "--yes"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "4 principals emailed that their report is ready." in done.stdout
        assert {m["To"].addresses[0].addr_spec for m in inbox.messages} == PRINCIPALS
