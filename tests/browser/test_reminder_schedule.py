"""The app's own reminder scheduler (issue 17), in real processes: two `streamlit run app.py`
servers on one database, each opened in Chromium (which runs app.py and so starts that
process's scheduler thread), checking every second. A due reminder reaches each rater once
— first from the app alone, then with cron (`tandem reminders run-due`) racing both
servers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from browser_kit import goto
from cycle_builder import build_cycle
from mail_server import free_port, running_inbox
from playwright.sync_api import Browser
from sqlmodel import select

from core.db import session_scope
from feedback.collection.reminder_schedule import today_here
from feedback.models import Cycle, ReminderRun

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RATERS = 11  # build_cycle's first pairing: two principals and nine raters


@contextmanager
def app_server(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "streamlit"), "run", "app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.25)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for(inbox, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.2)


def _recipients(inbox) -> list[str]:
    return [m["To"].addresses[0].addr_spec for m in inbox.messages]


def test_the_app_s_scheduler_sends_a_due_reminder_once_even_racing_cron(
    browser: Browser, sqlite_engine, sqlite_url, monkeypatch, tmp_path
) -> None:
    built = build_cycle(sqlite_engine, second_pairing=False)
    today = today_here()
    with session_scope(sqlite_engine) as s:
        cycle = s.get(Cycle, built.cycle_id)
        cycle.opens_on, cycle.closes_on = today - timedelta(days=10), today + timedelta(days=2)
        cycle.reminder_days = "7,2"  # "2 days before closing" is due today
        s.add(cycle)
    with running_inbox(monkeypatch) as inbox, ExitStack() as stack:
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": sqlite_url,
            "TANDEM_REMINDER_CHECK_SECONDS": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        urls = [stack.enter_context(app_server(env, tmp_path / f"app{n}.log")) for n in (1, 2)]
        for url in urls:  # a visit runs app.py, which starts that process's scheduler
            context = browser.new_context()
            stack.callback(context.close)
            goto(context.new_page(), url)

        # 1. The app alone: one of the two processes claims the reminder and sends it.
        _wait_for(inbox, RATERS)
        time.sleep(4)  # several more checks by both processes: nothing more goes
        sent = _recipients(inbox)
        assert len(sent) == RATERS and len(set(sent)) == RATERS, sent
        with session_scope(sqlite_engine) as s:
            [run] = s.exec(select(ReminderRun)).all()
            assert run.claimed_by.startswith("the app's scheduler") and run.sent == RATERS

        # 2. A new date falls due (the round is extended) while cron races both servers.
        with session_scope(sqlite_engine) as s:
            cycle = s.get(Cycle, built.cycle_id)
            cycle.closes_on, cycle.reminder_days = today + timedelta(days=3), "3"
            s.add(cycle)
        crons = [
            subprocess.Popen(
                [str(BIN / "tandem"), "reminders", "run-due"],
                env={**env, "TANDEM_REMINDER_CHECK_SECONDS": "off"},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for cron in crons:
            _out, err = cron.communicate(timeout=120)
            assert cron.returncode == 0, err
        _wait_for(inbox, 2 * RATERS)
        time.sleep(4)
        second = _recipients(inbox)[RATERS:]
        assert len(second) == RATERS and len(set(second)) == RATERS, second
        with session_scope(sqlite_engine) as s:
            runs = s.exec(select(ReminderRun).order_by(ReminderRun.id)).all()
            assert [(r.days_before, r.due_on) for r in runs] == [(2, today), (3, today)]
    for n in (1, 2):
        assert "Traceback" not in (tmp_path / f"app{n}.log").read_text()
