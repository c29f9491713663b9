"""Messages to raters (issue 17): tracking in stages and in words, the email preview and a
test send to oneself, and the built-in reminder schedule that sends each reminder once —
on a real database, with a real SMTP server (tests/mail_server.py)."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from cycle_builder import Built, build_cycle
from mail_server import body, free_port, running_inbox
from sqlalchemy import Engine
from sqlmodel import Session, select

from core.db import make_engine, session_scope
from core.errors import Invalid, PermissionDenied
from core.mail import SmtpSettings
from core.models import AuditEvent
from core.roles import SYSTEM
from feedback.collection.invitations import (
    SAMPLE_TOKEN,
    issue_links,
    message_preview,
    resolve_token,
    revoke_invitation,
    send_invitations,
    send_test_message,
)
from feedback.collection.reminder_schedule import (
    claim,
    due_reminders,
    parse_days,
    planned_reminders,
    run_due_reminders,
    set_schedule,
    today_here,
)
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.collection.tracking import (
    RATER_HEADINGS,
    message_history,
    rater_stages,
    rates_in_words,
    response_rates,
    totals_in_words,
    tracking_csv,
)
from feedback.models import Cycle, Invitation, MessageLog, ReminderRun

LINK = re.compile(r"https?://\S+/\?t=([A-Za-z0-9_\-]+)")
UK_DATE = re.compile(r"^\d{1,2} (January|February|March|April|May|June|July|August|September|"
                     r"October|November|December) \d{4}$")  # fmt: skip
SHARE = re.compile(r"^\d+% \(\d+ of \d+\)$")


@pytest.fixture
def smtp(monkeypatch):
    with running_inbox(monkeypatch) as inbox:
        yield inbox


def _invitation(s: Session, built: Built, key: str) -> Invitation:
    return s.exec(
        select(Invitation).where(
            Invitation.rater_id == built.people[key],
            Invitation.pairing_id == built.pairing_ids[0],
        )
    ).one()


def closing_in(engine: Engine, days: int, schedule: str = "7,2") -> Built:
    """An open cycle that opened ten days ago and closes in `days` days."""
    built = build_cycle(engine, second_pairing=False)
    today = today_here()
    with session_scope(engine) as s:
        cycle = s.get(Cycle, built.cycle_id)
        cycle.opens_on, cycle.closes_on = today - timedelta(days=10), today + timedelta(days=days)
        cycle.reminder_days = schedule
        s.add(cycle)
    return built


# --- tracking -----------------------------------------------------------------------------


def test_tracking_tells_each_stage_apart_in_words(smtp, engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s:
        # A mail-merge export: Tandem sent nothing, and never says it was delivered.
        fresh, _ = issue_links(s, SYSTEM, built.cycle_id)
        assert len(fresh) == 11
    with session_scope(engine) as s:
        stages = rater_stages(s, SYSTEM, built.cycle_id)
        assert set(stages["Stage"]) == {"exported for mail merge (not sent by Tandem)"}
        history = message_history(s, SYSTEM, built.cycle_id)
        assert set(history["Outcome"]) == {"exported: sent by your own mail, not by Tandem"}
        assert set(history["How"]) == {"in a mail-merge file"}
        assert "delivered" not in " ".join(history.columns).lower()
        send_invitations(s, SYSTEM, built.cycle_id)
    tokens = {m["To"].addresses[0].addr_spec.split("@")[0]: LINK.search(body(m)).group(1)
              for m in smtp.messages}  # fmt: skip
    with session_scope(engine) as s:
        assert resolve_token(s, tokens["m0"]).ok  # opened
    with session_scope(engine) as s:
        first_open = _invitation(s, built, "m0").opened_at
        assert first_open is not None
        assert resolve_token(s, tokens["m0"]).ok  # opened again: the first time is kept
    with session_scope(engine) as s:
        assert _invitation(s, built, "m0").opened_at == first_open
        for key, submit in (("o0", False), ("p0", True)):
            inv = _invitation(s, built, key)
            save_answers(s, inv.id, {items_for_invitation(s, inv)[0].id: 4})
            if submit:
                submit_response(s, inv.id)
        revoke_invitation(s, SYSTEM, _invitation(s, built, "p2").id)

    with session_scope(engine) as s:
        table = rater_stages(s, SYSTEM, built.cycle_id)
        stages = table.set_index("Email")
        rates = response_rates(s, SYSTEM, built.cycle_id)
        from feedback.collection.tracking import cycle_totals

        totals = dict(totals_in_words(cycle_totals(s, SYSTEM, built.cycle_id)))
        words = rates_in_words(rates, 3)
    assert list(table.columns) == RATER_HEADINGS
    assert all("_" not in h for h in [*RATER_HEADINGS, *words.columns])
    at = "@llanfair.example.gov.uk"
    assert stages.loc[f"m0{at}", "Stage"] == "opened the link"
    assert stages.loc[f"o0{at}", "Stage"] == "started (draft saved)"
    assert stages.loc[f"p0{at}", "Stage"] == "submitted"
    assert stages.loc[f"m1{at}", "Stage"] == "emailed"
    assert f"p2{at}" not in stages.index  # withdrawn: not counted, not listed
    for column in ("Emailed", "Exported for mail merge", "Opened the link"):
        assert UK_DATE.match(stages.loc[f"m0{at}", column]), stages.loc[f"m0{at}", column]
    assert stages.loc[f"m1{at}", "Opened the link"] == "—"
    assert UK_DATE.match(stages.loc[f"p0{at}", "Submitted"])
    assert (
        UK_DATE.match(stages.loc[f"o0{at}", "Started"])
        and stages.loc[f"o0{at}", "Submitted"] == "—"
    )
    # 10 invited (one withdrawn); opened counts those who went further too.
    assert totals == {
        "Invited": "10",
        "Emailed": "100% (10 of 10)",
        "Exported for mail merge": "100% (10 of 10)",
        "Opened the link": "30% (3 of 10)",
        "Started": "20% (2 of 10)",
        "Submitted": "10% (1 of 10)",
    }
    assert all(SHARE.match(v) for v in words["Response rate"])
    partners = words[words["Group"] == "External partners"].iloc[0]
    assert partners["Response rate"] == "50% (1 of 2)"
    assert partners["Note"] == "fewer than 3 so far: left out of the report"
    # The download: headings in words, a name that looks like a formula stays text.
    assert tracking_csv(table).decode("utf-8-sig").startswith('"Name","Email","Pairing"')


def test_tracking_shows_no_answers_and_is_staff_only(engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s:
        inv = _invitation(s, built, "o0")
        item = items_for_invitation(s, inv)[0]
        save_answers(s, inv.id, {item.id: 5}, {})
        submit_response(s, inv.id)
        frame = rater_stages(s, SYSTEM, built.cycle_id)
    cells = {str(v) for v in frame.to_numpy().ravel()}
    assert "5" not in cells and item.text not in cells
    from core.roles import Actor, Role

    stranger = Actor("facilitator-elsewhere", Role.facilitator, council_ids=frozenset({999}))
    with session_scope(engine) as s, pytest.raises(PermissionDenied):
        rater_stages(s, stranger, built.cycle_id)


# --- preview and test send --------------------------------------------------------------


def _facilitator(s: Session, built: Built, email: str = "me@llanfair.example.gov.uk"):
    from governance.accounts import actor_for, create_user

    user = create_user(
        s, SYSTEM, f"fac-{len(email)}", "facilitator", "correct horse battery staple",
        council_ids=[built.council_id],
    )  # fmt: skip
    user.email = email
    s.add(user)
    s.flush()
    return actor_for(s, user)


def test_the_preview_is_the_rater_s_message_with_a_sample_link(engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s:
        hashes = {i.id: i.token_hash for i in s.exec(select(Invitation))}
        invitation = message_preview(s, SYSTEM, built.cycle_id, "invitation")
        reminder = message_preview(s, SYSTEM, built.cycle_id, "reminder")
        with pytest.raises(Invalid):
            message_preview(s, SYSTEM, built.cycle_id, "letter")
    assert (
        invitation.subject
        == "Your feedback for Cllr Siân Llewelyn & Rhodri ap Dafydd — Adolygiad 2027"
    )
    assert invitation.body.startswith(f"Dear {invitation.sample_name},")
    assert "1 February 2027" in invitation.body and "{" not in invitation.body
    assert reminder.subject.startswith("Reminder:")
    assert LINK.search(invitation.body).group(1) == SAMPLE_TOKEN
    with session_scope(engine) as s:
        assert not resolve_token(s, SAMPLE_TOKEN).ok  # the sample opens nothing
        # and making the preview changed nobody's link
        assert {i.id: i.token_hash for i in s.exec(select(Invitation))} == hashes


def test_a_test_goes_only_to_the_signed_in_person_and_is_audited(smtp, engine) -> None:
    built = build_cycle(engine, second_pairing=False)
    with session_scope(engine) as s:
        me = _facilitator(s, built)
        with pytest.raises(PermissionDenied, match="only to your own address"):
            send_test_message(s, me, built.cycle_id, to="m0@llanfair.example.gov.uk")
    assert smtp.messages == []
    with session_scope(engine) as s:
        assert send_test_message(s, me, built.cycle_id, "reminder") == "me@llanfair.example.gov.uk"
    [sent] = smtp.messages
    assert sent["To"].addresses[0].addr_spec == "me@llanfair.example.gov.uk"
    assert sent["Subject"].startswith("[Test] Reminder:")
    assert LINK.search(body(sent)).group(1) == SAMPLE_TOKEN
    with session_scope(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "send test email")).one()
        assert event.actor == me.username and event.detail["to"] == "me@llanfair.example.gov.uk"
        assert event.detail["kind"] == "reminder"
        # no rater's message log or link moved
        assert s.exec(select(MessageLog)).all() == []
        nobody = _facilitator(s, built, email="")
        with pytest.raises(Invalid, match="no email address"):
            send_test_message(s, nobody, built.cycle_id)
        with pytest.raises(Invalid, match="--to"):
            send_test_message(s, SYSTEM, built.cycle_id)


# --- the reminder schedule ------------------------------------------------------------------


def test_the_schedule_is_days_before_closing() -> None:
    assert parse_days("7, 2") == (7, 2)
    assert parse_days("2 7 7") == (7, 2)
    assert parse_days("off") == parse_days("") == ()
    with pytest.raises(Invalid, match="not a list of days"):
        parse_days("a week")
    with pytest.raises(Invalid, match="between 0 and 90"):
        parse_days("120")


def test_a_due_reminder_goes_once_to_those_who_have_not_submitted(smtp, engine) -> None:
    built = closing_in(engine, 2)
    with session_scope(engine) as s:
        inv = _invitation(s, built, "p0")
        save_answers(s, inv.id, {items_for_invitation(s, inv)[0].id: 4})
        submit_response(s, inv.id)
        states = {p.days_before: p.state for p in planned_reminders(s, SYSTEM, built.cycle_id)}
    assert states == {
        7: "not sent: a later reminder was due by the time it was checked",
        2: "due now: sent at the next check",
    }
    outcomes = run_due_reminders(engine, runner="test")
    assert [o.report.sent for o in outcomes] == [10]
    assert len(smtp.messages) == 10 and all(
        m["Subject"].startswith("Reminder:") for m in smtp.messages
    )
    assert "p0@llanfair.example.gov.uk" not in {
        m["To"].addresses[0].addr_spec for m in smtp.messages
    }
    assert run_due_reminders(engine, runner="test") == []  # nothing twice
    assert len(smtp.messages) == 10
    with session_scope(engine) as s:
        [run] = s.exec(select(ReminderRun)).all()
        assert (run.days_before, run.due_on, run.sent, run.failed) == (2, today_here(), 10, 0)
        assert run.finished_at is not None
        assert planned_reminders(s, SYSTEM, built.cycle_id)[1].state.startswith("sent ")
        assert s.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "send reminders")
        ).all() == ["system (reminder schedule)"]


def test_racing_runners_send_each_reminder_once(smtp, engine, db_url) -> None:
    """Six runners at the same instant, each with its own engine (as separate processes
    and cron would have): one claims, the others find it claimed."""
    closing_in(engine, 7)
    start = threading.Barrier(6)
    outcomes: list = []

    def runner(n: int) -> None:
        own = make_engine(db_url)
        try:
            start.wait()
            outcomes.extend(run_due_reminders(own, runner=f"runner {n}"))
        finally:
            own.dispose()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    sent_to = [m["To"].addresses[0].addr_spec for m in smtp.messages]
    assert len(sent_to) == 11 and len(set(sent_to)) == 11, sent_to
    assert sum(o.claimed for o in outcomes) == 1
    with session_scope(engine) as s:
        assert len(s.exec(select(ReminderRun)).all()) == 1


def test_nothing_is_claimed_without_a_server_and_a_refused_connection_gives_it_back(
    engine, monkeypatch, smtp
) -> None:
    built = closing_in(engine, 2)
    monkeypatch.delenv("TANDEM_SMTP_HOST")
    [outcome] = run_due_reminders(engine, runner="test")
    assert not outcome.claimed and "no email server" in outcome.line
    closed = SmtpSettings("127.0.0.1", free_port(), tls="none", sender="x@example.gov.uk")
    [outcome] = run_due_reminders(engine, runner="test", settings=closed)
    assert outcome.claimed and "could not connect" in outcome.problem
    with session_scope(engine) as s:
        assert s.exec(select(ReminderRun)).all() == []  # given back
        assert len(due_reminders(s)) == 1
    monkeypatch.setenv("TANDEM_SMTP_HOST", "127.0.0.1")
    [outcome] = run_due_reminders(engine, runner="test")
    assert outcome.report.sent == 11 and len(smtp.messages) == 11
    # A claim already taken is refused by the database itself.
    with session_scope(engine) as s:
        run = s.exec(select(ReminderRun)).one()
    from feedback.collection.reminder_schedule import Due

    assert claim(engine, Due(built.cycle_id, "x", run.days_before, run.due_on), "late") is None


def test_what_is_not_due_is_not_sent(smtp, engine) -> None:
    built = closing_in(engine, 3)  # 7 days before has passed; 2 days before is tomorrow
    with session_scope(engine) as s:
        cycle = s.get(Cycle, built.cycle_id)
        cycle.opens_on = today_here() - timedelta(days=1)  # opened after "7 days before"
        s.add(cycle)
    assert run_due_reminders(engine, runner="test") == []
    with session_scope(engine) as s:
        states = [p.state for p in planned_reminders(s, SYSTEM, built.cycle_id)]
        assert states == ["not sent: before the cycle opened", "planned"]
        set_schedule(s, SYSTEM, built.cycle_id, "3")  # today
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "set reminder schedule")).one()
        assert event.detail == {"days": "3"}
    with session_scope(engine) as s:
        set_schedule(s, SYSTEM, built.cycle_id, "off")
    assert run_due_reminders(engine, runner="test") == []
    assert smtp.messages == []


# --- the commands --------------------------------------------------------------------------


def test_the_commands_preview_test_schedule_run_and_track(
    smtp, sqlite_engine, monkeypatch, tmp_path
) -> None:
    import openpyxl
    from typer.testing import CliRunner

    import cli.common
    from cli.main import app

    closing_in(sqlite_engine, 2)
    monkeypatch.setattr(cli.common, "_engine", sqlite_engine)

    def tandem(*args: str):
        return CliRunner().invoke(app, list(args))

    cycle = "Adolygiad 2027"
    out = tandem("invite", "preview", cycle)
    assert out.exit_code == 0, out.output
    assert "Subject: Your feedback for Cllr Siân Llewelyn & Rhodri ap Dafydd" in out.stdout
    assert SAMPLE_TOKEN in out.stdout and "(the link is a sample and opens nothing)" in out.stdout
    assert "Subject: Reminder:" in tandem("invite", "preview", cycle, "--reminder").stdout
    assert smtp.messages == []

    assert tandem("invite", "test", cycle).exit_code == 2  # where to? --to is required
    out = tandem("invite", "test", cycle, "--to", "ops@llanfair.example.gov.uk")
    assert out.exit_code == 0, out.output
    assert "A test invitation was sent to ops@llanfair.example.gov.uk." in out.stdout
    [test] = smtp.messages
    assert test["Subject"].startswith("[Test] Your feedback")
    with session_scope(sqlite_engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "send test email")).one()
        assert event.actor == "system (command line)"

    out = tandem("reminders", "schedule", cycle)
    assert "2 days before closing" in out.stdout and "due now" in out.stdout
    out = tandem("reminders", "schedule", cycle, "--days", "7,x")
    assert out.exit_code == 1 and "not a list of days" in out.stderr
    out = tandem("reminders", "schedule", cycle, "--days", "9, 2")
    assert "Schedule saved: 9, 2 days before closing." in out.stdout

    smtp.messages.clear()
    out = tandem("reminders", "run-due")
    assert out.exit_code == 0, out.output
    assert "11 reminders sent." in out.stdout and len(smtp.messages) == 11
    out = tandem("reminders", "run-due")
    assert "No scheduled reminders are due." in out.stdout and len(smtp.messages) == 11

    # `tandem invite CYCLE` still sends, as before the group existed.
    out = tandem("invite", "--resend", cycle)
    assert out.exit_code == 0, out.output
    assert "11 invitations sent." in out.stdout

    file = tmp_path / "tracking.xlsx"
    out = tandem("tracking", cycle, "--raters", "--sent", "-o", str(file))
    assert out.exit_code == 0, out.output
    assert "Emailed: 100% (11 of 11)" in out.stdout and "Submitted: 0% (0 of 11)" in out.stdout
    assert "Response rate" in out.stdout and "_" not in out.stdout.split("\n")[8]
    assert "Raters (11):" in out.stdout and "Cllr Member 0" in out.stdout
    assert "reminder by email to" in out.stdout and "sent by Tandem" in out.stdout
    sheet = openpyxl.load_workbook(file).active
    assert [c.value for c in sheet[1]] == RATER_HEADINGS
    assert sheet.max_row == 12 and sheet.cell(2, 5).value == "emailed"


# --- the page ----------------------------------------------------------------------------


def test_the_cycles_page_previews_sends_a_test_to_me_and_tracks_in_words(
    smtp, sqlite_engine, sqlite_url, monkeypatch
) -> None:
    import streamlit as st
    from shown import alerts, shown
    from signing_in import sign_in
    from streamlit.testing.v1 import AppTest

    from core.models import UserAccount

    st.cache_resource.clear()
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = closing_in(sqlite_engine, 2)
    with session_scope(sqlite_engine) as s:
        send_invitations(s, SYSTEM, built.cycle_id)
    smtp.messages.clear()
    at = AppTest.from_file("../app.py", default_timeout=60)
    with Session(sqlite_engine) as s:
        me = sign_in(at, s, "facilitator", council_ids=[built.council_id])
        user = s.get(UserAccount, me.user_id)
        user.email = "facilitator@llanfair.example.gov.uk"
        s.add(user)
        s.commit()
    at.run()
    at.switch_page("pages/cycles.py").run()
    assert not at.exception
    text = shown(at)
    assert (
        "Subject: Your feedback for Cllr Siân Llewelyn & Rhodri ap Dafydd — Adolygiad 2027" in text
    )
    assert SAMPLE_TOKEN in text
    assert "A test goes only to your own address (facilitator@llanfair.example.gov.uk)." in text
    assert "2 days before closing" in text and "due now: sent at the next check" in text

    at.button(key=f"test_send_{built.cycle_id}").click().run()
    assert not at.exception
    assert any("facilitator@llanfair.example.gov.uk" in a for a in alerts(at, "success"))
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == [
        "facilitator@llanfair.example.gov.uk"
    ]

    # The reminder schedule is edited on the page.
    days = next(t for t in at.text_input if t.label == "Days before closing")
    assert days.value == "7,2"
    days.set_value("5, 1")
    next(b for b in at.button if b.label == "Save schedule").click().run()
    assert not at.exception
    with session_scope(sqlite_engine) as s:
        assert s.get(Cycle, built.cycle_id).reminder_days == "5,1"

    # Tracking: stages in words with their n, headings in words, dates in words.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Emailed"] == "100% (11 of 11)" and metrics["Submitted"] == "0% (0 of 11)"
    assert metrics["Exported for mail merge"] == "0% (0 of 11)"
    for frame in at.dataframe:
        assert all("_" not in str(c) for c in frame.value.columns), list(frame.value.columns)
    raters = next(f.value for f in at.dataframe if "Stage" in f.value.columns)
    assert set(raters["Stage"]) == {"emailed"}
    assert all(UK_DATE.match(d) for d in raters["Emailed"])
    history = next(f.value for f in at.dataframe if "Outcome" in f.value.columns)
    assert set(history["Outcome"]) == {"sent by Tandem"}
    assert "emailed_at" not in shown(at)
    st.cache_resource.clear()


def test_the_check_interval_setting() -> None:
    from core.settings import load_settings

    assert load_settings({}).reminder_check_seconds == 600
    assert load_settings({"TANDEM_REMINDER_CHECK_SECONDS": "off"}).reminder_check_seconds is None
    assert load_settings({"TANDEM_REMINDER_CHECK_SECONDS": " 90 "}).reminder_check_seconds == 90
    with pytest.raises(ValueError):
        _ = load_settings({"TANDEM_REMINDER_CHECK_SECONDS": "soon"}).reminder_check_seconds


def test_the_scheduler_starts_once_per_process_and_not_when_off(monkeypatch) -> None:
    from feedback.collection import reminder_schedule

    assert reminder_schedule.start_scheduler(lambda: None) is None  # tests run with "off"
    monkeypatch.setenv("TANDEM_REMINDER_CHECK_SECONDS", "3600")
    monkeypatch.setattr(reminder_schedule, "_started", None)
    stop = threading.Event()
    made: list[int] = []

    def make() -> Engine:
        made.append(1)
        raise RuntimeError("no database here")  # logged; the thread keeps going

    try:
        first = reminder_schedule.start_scheduler(make, stop)
        assert first is not None and first.daemon and first.is_alive()
        assert reminder_schedule.start_scheduler(make, stop) is first
        deadline = time.monotonic() + 10
        while not made and time.monotonic() < deadline:
            time.sleep(0.05)
        assert made and first.is_alive()
    finally:
        stop.set()
        first.join(5)
        monkeypatch.setattr(reminder_schedule, "_started", None)
