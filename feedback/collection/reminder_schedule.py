"""The built-in reminder schedule: each cycle names the days before closing on which raters
who have not submitted are reminded (default 7 and 2), and Tandem sends those reminders by
itself — from a thread in each app process (`start_scheduler`, every
TANDEM_REMINDER_CHECK_SECONDS) or from cron (`tandem reminders run-due`), or both.

Nothing is sent twice. Before sending, a runner claims the reminder by inserting a
`ReminderRun` row (cycle, days before, due date) in a transaction of its own; the unique
constraint lets exactly one of any number of racing processes succeed, and only that one
sends (through `invitations.send_reminders`, the same code as "Send reminders" and
`tandem remind`). A claim whose sending could not start (no server, a refused connection)
is given back, so a later check tries again; a claim whose sending started is kept even if
the process then dies — a missed reminder is better than a second one.

Which reminder is due: the latest date of the schedule that has come (today, in the
council's local time) while the cycle is open, after its opening day and not past its
closing day. An earlier date that was missed (the app was down) is not sent late on top
of a later one; moving the closing date makes new dates.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from core import audit
from core.db import session_scope
from core.errors import Invalid
from core.formats import local_time, uk_date, uk_datetime
from core.mail import SendReport, SmtpSettings
from core.models import stored_id, utcnow
from core.roles import Actor, Role, require_council_manager
from core.settings import load_settings
from core.vocabulary import CycleStatus
from feedback.collection.invitations import send_reminders
from feedback.models import Cycle, ReminderRun
from feedback.setup.cycles import get_cycle

log = logging.getLogger("tandem.reminders")

DEFAULT_DAYS = (7, 2)
MAX_DAYS_BEFORE = 90
# Who sends a scheduled reminder, as the audit log names it.
SCHEDULE = Actor(username="system (reminder schedule)", role=Role.system)


# --- the schedule ------------------------------------------------------------------------


def parse_days(text: str | Iterable[int]) -> tuple[int, ...]:
    """ "7, 2" → (7, 2): whole days before closing, largest first, each once; "" or "off"
    → () (no scheduled reminders)."""
    if isinstance(text, str):
        cleaned = text.strip().lower()
        if cleaned in ("", "off", "none", "no"):
            return ()
        parts = [p.strip() for p in cleaned.replace(";", ",").replace(" ", ",").split(",")]
        try:
            days = [int(p) for p in parts if p]
        except ValueError:
            raise Invalid(
                f"'{text}' is not a list of days: give whole numbers of days before closing, "
                "separated by commas (e.g. 7, 2), or leave it empty for no reminders."
            ) from None
    else:
        days = list(text)
    wrong = [d for d in days if not 0 <= d <= MAX_DAYS_BEFORE]
    if wrong:
        raise Invalid(
            f"Reminders go between 0 and {MAX_DAYS_BEFORE} days before closing; "
            f"{', '.join(map(str, wrong))} is outside that."
        )
    return tuple(sorted(set(days), reverse=True))


def days_text(days: Iterable[int]) -> str:
    return ",".join(str(d) for d in days)


def schedule_of(cycle: Cycle) -> tuple[int, ...]:
    """The cycle's schedule as stored (a value that no longer parses counts as none)."""
    try:
        return parse_days(cycle.reminder_days or "")
    except Invalid:
        return ()


def set_schedule(
    session: Session, actor: Actor, cycle_id: int, days: str | Iterable[int]
) -> tuple[int, ...]:
    """Change a cycle's reminder days (before closing); empty means no scheduled
    reminders. Audited."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    if cycle.status == CycleStatus.published:
        raise Invalid("The cycle is published: it sends no more reminders.")
    chosen = parse_days(days)
    cycle.reminder_days = days_text(chosen)
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        actor,
        "set reminder schedule",
        "cycle",
        cycle.id,
        cycle.council_id,
        days=cycle.reminder_days or "none",
    )
    return chosen


def today_here() -> date:
    """Today in the council's local time (a reminder is due on a local day)."""
    return local_time(utcnow()).date()


def _due(cycle: Cycle, today: date) -> tuple[int, date] | None:
    """(days before, due date) of the reminder due now, or None."""
    if cycle.status != CycleStatus.open or today > cycle.closes_on:
        return None
    dates = [
        (cycle.closes_on - timedelta(days=d), d)
        for d in schedule_of(cycle)
        if cycle.opens_on < cycle.closes_on - timedelta(days=d) <= today
    ]
    if not dates:
        return None
    due_on, days = max(dates)
    return days, due_on


@dataclass(frozen=True)
class PlannedReminder:
    days_before: int
    due_on: date
    state: str  # in words, for the page and the command line

    @property
    def line(self) -> str:
        return f"{self.days_before} days before closing, {uk_date(self.due_on)}: {self.state}"


def planned_reminders(
    session: Session, actor: Actor, cycle_id: int, today: date | None = None
) -> list[PlannedReminder]:
    """Each reminder of the cycle's schedule with its date and what became of it."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    today = today or today_here()
    runs = {
        (r.days_before, r.due_on): r
        for r in session.exec(select(ReminderRun).where(ReminderRun.cycle_id == cycle_id))
    }
    due = _due(cycle, today)
    out = []
    for days in schedule_of(cycle):
        due_on = cycle.closes_on - timedelta(days=days)
        run = runs.get((days, due_on))
        if run is not None and run.finished_at is not None:
            state = f"sent {uk_datetime(run.claimed_at)} ({run.sent} sent" + (
                f", {run.failed} could not be sent)" if run.failed else ")"
            )
        elif run is not None:
            state = f"sending began {uk_datetime(run.claimed_at)} and did not finish"
        elif due == (days, due_on):
            state = "due now: sent at the next check"
        elif due_on > today:
            state = "planned"
        elif due_on <= cycle.opens_on:
            state = "not sent: before the cycle opened"
        elif cycle.status != CycleStatus.open:
            state = f"not sent: the cycle was {cycle.status}"
        else:
            state = "not sent: a later reminder was due by the time it was checked"
        out.append(PlannedReminder(days, due_on, state))
    return out


# --- running what is due -------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    cycle_id: int
    cycle: str
    days_before: int
    due_on: date


@dataclass
class RunOutcome:
    due: Due
    claimed: bool
    report: SendReport | None = None
    problem: str = ""

    @property
    def line(self) -> str:
        what = (
            f"'{self.due.cycle}', {self.due.days_before} days before closing "
            f"({uk_date(self.due.due_on)})"
        )
        if self.problem:
            return f"{what}: not sent — {self.problem}"
        if not self.claimed:
            return f"{what}: already sent (or being sent) by another runner."
        assert self.report is not None
        return f"{what}: {self.report.summary('reminder')}"


def due_reminders(session: Session, today: date | None = None) -> list[Due]:
    """Every open cycle's reminder due now that nobody has claimed yet."""
    today = today or today_here()
    cycles = session.exec(
        select(Cycle).where(Cycle.status == CycleStatus.open, col(Cycle.reminder_days) != "")
    ).all()
    found = []
    for cycle in cycles:
        due = _due(cycle, today)
        if due is None:
            continue
        days, due_on = due
        taken = session.exec(
            select(ReminderRun.id).where(
                ReminderRun.cycle_id == cycle.id,
                ReminderRun.days_before == days,
                ReminderRun.due_on == due_on,
            )
        ).first()
        if taken is None:
            found.append(Due(stored_id(cycle.id), cycle.name, days, due_on))
    return found


def claim(engine: Engine, due: Due, runner: str) -> int | None:
    """Claim one reminder in a transaction of its own: the run's id, or None when another
    runner has it (the unique constraint refused a second row)."""
    try:
        with session_scope(engine) as session:
            run = ReminderRun(
                cycle_id=due.cycle_id,
                days_before=due.days_before,
                due_on=due.due_on,
                claimed_by=runner[:200],
            )
            session.add(run)
            session.flush()
            return stored_id(run.id)
    except (IntegrityError, OperationalError):
        # OperationalError: SQLite stayed busy past its timeout; nothing was written, and
        # the next check tries again.
        return None


def _release(engine: Engine, run_id: int) -> None:
    with session_scope(engine) as session:
        session.exec(delete(ReminderRun).where(col(ReminderRun.id) == run_id))


def _finish(engine: Engine, run_id: int, report: SendReport) -> None:
    with session_scope(engine) as session:
        run = session.get(ReminderRun, run_id)
        if run is not None:
            run.finished_at = utcnow()
            run.sent, run.failed = report.sent, len(report.failed)
            session.add(run)


def runner_name(kind: str) -> str:
    return f"{kind} on {socket.gethostname()} (process {os.getpid()})"


def run_due_reminders(
    engine: Engine,
    *,
    runner: str = "",
    today: date | None = None,
    settings: SmtpSettings | None = None,
    before_send: Callable[[Due], None] | None = None,
) -> list[RunOutcome]:
    """Send every reminder due now, each claimed first so that it goes once. Without an
    email server nothing is claimed (the reminders go once one is configured)."""
    runner = runner or runner_name("tandem reminders run-due")
    with session_scope(engine) as session:
        due = due_reminders(session, today)
    if not due:
        return []
    try:
        settings = settings or SmtpSettings.from_env()
    except Invalid as exc:
        return [RunOutcome(d, False, problem=str(exc)) for d in due]
    if settings is None:
        problem = "no email server is configured (TANDEM_SMTP_HOST)."
        return [RunOutcome(d, False, problem=problem) for d in due]
    outcomes = []
    for d in due:
        run_id = claim(engine, d, runner)
        if run_id is None:
            outcomes.append(RunOutcome(d, False))
            continue
        if before_send is not None:
            before_send(d)
        try:
            with session_scope(engine) as session:
                report = send_reminders(session, SCHEDULE, d.cycle_id, settings=settings)
        except Invalid as exc:
            # Refused before anything was sent (the cycle closed meanwhile, the server
            # would not connect): give the claim back for a later check.
            _release(engine, run_id)
            outcomes.append(RunOutcome(d, True, problem=str(exc)))
            continue
        _finish(engine, run_id, report)
        outcomes.append(RunOutcome(d, True, report))
    return outcomes


# --- the app's own scheduler ----------------------------------------------------------------

_started: threading.Thread | None = None
_start_lock = threading.Lock()


def _loop(make: Callable[[], Engine], seconds: int, stop: threading.Event) -> None:
    engine: Engine | None = None
    runner = runner_name("the app's scheduler")
    while not stop.is_set():
        try:
            engine = engine or make()
            for outcome in run_due_reminders(engine, runner=runner):
                log.info("Scheduled reminder: %s", outcome.line)
        except Exception:  # the thread must outlive any one failed check
            log.exception("The reminder schedule could not be checked; trying again later.")
        stop.wait(seconds)


def start_scheduler(
    make_engine: Callable[[], Engine], stop: threading.Event | None = None
) -> threading.Thread | None:
    """Start the reminder thread once per process (later calls return the same one); None
    when TANDEM_REMINDER_CHECK_SECONDS is "off" (cron runs `tandem reminders run-due`)."""
    global _started
    with _start_lock:
        if _started is not None and _started.is_alive():
            return _started
        raw = load_settings().reminder_check
        try:
            seconds = load_settings().reminder_check_seconds
        except ValueError:
            log.error(
                "TANDEM_REMINDER_CHECK_SECONDS=%r is not a number of seconds or 'off': the app "
                "does not check the reminder schedules.",
                raw,
            )
            return None
        if seconds is None:
            return None
        thread = threading.Thread(
            target=_loop,
            args=(make_engine, seconds, stop or threading.Event()),
            name="tandem-reminders",
            daemon=True,
        )
        thread.start()
        _started = thread
        return thread


def check_interval_words() -> str:
    """How the app checks the schedules, in a sentence for the page."""
    raw = load_settings().reminder_check
    try:
        seconds = load_settings().reminder_check_seconds
    except ValueError:
        return (
            f"TANDEM_REMINDER_CHECK_SECONDS={raw!r} is not understood, so the app does not "
            "check the schedule: only cron (`tandem reminders run-due`) sends these."
        )
    if seconds is None:
        return (
            "The app's own check is off (TANDEM_REMINDER_CHECK_SECONDS=off): scheduled "
            "reminders go when cron runs `tandem reminders run-due`."
        )
    if seconds % 60 == 0:
        every = "minute" if seconds == 60 else f"{seconds // 60} minutes"
    else:
        every = f"{seconds} seconds"
    return f"The app checks the schedule every {every} (and cron may run it too: never twice)."
