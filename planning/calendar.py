"""The council calendar: the key dates a development plan works around.

Staff of a council record its budget council, annual council and elections (polling day).
Each election brings a pre-election period ("purdah"), when publicity about councillors is
restricted (the Code of Recommended Practice on Local Authority Publicity): by default from
six weeks before polling day (about when the notice of election is published) to polling
day itself, both days included; staff may set either end.

The rules that use it, each in one place here:
- `is_publicity`: whether an action is of a publicity type. THE rule is the action library's
  `publicity` field: an action whose wording matches a library action's text (its names
  filled in) is what that field says. Keywords (`PUBLICITY_WORDS`) decide only for an
  action the library does not have (written by the pair, or reworded).
- `suggested_due`: when a suggested action falls due. Not in the week (Monday to Sunday) of
  budget council or of annual council (moved to the Monday after); a publicity-type action
  not in a pre-election period (moved to the day before it starts, or if that is less than
  two weeks away, to the day after polling day); a relationship review (`timing: after
  annual council` in the library) four weeks after the next annual council within a year.
- `publicity_flags`: the publicity-type actions of a plan due in a pre-election period
  (the plan page, the workbook and `tandem plan show` flag them).
- `in_pre_election_period`: reminders (planning.nudges) leave publicity-type actions out
  while a period is running.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from core import audit
from core.errors import Conflict, Invalid, NotFound
from core.formats import uk_date
from core.models import Council, stored_id, utcnow
from core.roles import Actor, require_council_manager
from core.text import column_limit, one_line
from core.vocabulary import PRE_ELECTION_PERIOD, CouncilDateKind, council_date_label
from planning.library import load_action_library
from planning.models import CouncilDate

PERIOD_WEEKS = 6  # the default pre-election period: six weeks before polling day
BUSY_KINDS = (CouncilDateKind.budget_council.value, CouncilDateKind.annual_council.value)
AFTER_ANNUAL_COUNCIL = "after annual council"  # the library's `timing` for a review
AFTER_ANNUAL_DAYS = 28  # a review four weeks after annual council: the new cabinet is in place
LOOK_AHEAD_DAYS = 365  # an annual council further away than this does not move a review
MIN_LEAD_DAYS = 14  # moving a publicity action before the period needs at least two weeks
KINDS = [k.value for k in CouncilDateKind]
# Only for actions the library does not have (see is_publicity).
PUBLICITY_WORDS = re.compile(
    r"\b(press|media|publicity|publici[sz]e|publicly|public statements?|newsletters?|"
    r"announce\w*|launch\w*|photo\w*|celebrat\w*|campaign\w*|news release)\b",
    re.IGNORECASE,
)


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyDate:
    """A council date as people read it; for an election, its pre-election period."""

    id: int
    council_id: int
    kind: str
    falls_on: date
    label: str
    period_starts_on: date | None  # elections only: the period as it applies
    period_ends_on: date | None
    period_set: bool  # staff set an end of the period (not the default)

    @property
    def title(self) -> str:
        word = council_date_label(self.kind)
        return f"{word}: {self.label}" if self.label else word

    def describe(self) -> str:
        text = f"{self.title}, {uk_date(self.falls_on)}"
        if self.period_starts_on is not None and self.period_ends_on is not None:
            how = "as set" if self.period_set else "the default"
            text += (
                f" (pre-election period {uk_date(self.period_starts_on)} to "
                f"{uk_date(self.period_ends_on)}, {how})"
            )
        return text


def default_period(polling_day: date) -> tuple[date, date]:
    """The pre-election period unless staff set it: six weeks before polling day to polling
    day, both included."""
    return polling_day - timedelta(weeks=PERIOD_WEEKS), polling_day


def key_date(row: CouncilDate) -> KeyDate:
    start = end = None
    if row.kind == CouncilDateKind.election:
        first, last = default_period(row.falls_on)
        start, end = row.period_starts_on or first, row.period_ends_on or last
    return KeyDate(
        id=stored_id(row.id),
        council_id=row.council_id,
        kind=row.kind,
        falls_on=row.falls_on,
        label=row.label,
        period_starts_on=start,
        period_ends_on=end,
        period_set=row.period_starts_on is not None or row.period_ends_on is not None,
    )


def council_dates(session: Session, council_id: int) -> list[KeyDate]:
    """The council's key dates in date order. No access check: for callers that have
    checked the actor may see the plan or the council (plan pages, exports, reminders)."""
    rows = session.exec(
        select(CouncilDate)
        .where(CouncilDate.council_id == council_id)
        .order_by(col(CouncilDate.falls_on), col(CouncilDate.id))
    ).all()
    return [key_date(r) for r in rows]


def list_council_dates(session: Session, actor: Actor, council_id: int) -> list[KeyDate]:
    """The council's calendar, for staff of that council."""
    require_council_manager(actor, council_id)
    if session.get(Council, council_id) is None:
        raise NotFound("That council does not exist (it may have been deleted).")
    return council_dates(session, council_id)


# --- the pure rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """A council's key dates as arrays, for the rules (pure: built by `calendar_of`, or by
    hand in the tests)."""

    dates: tuple[KeyDate, ...]

    def _periods(self) -> list[KeyDate]:
        return [
            d for d in self.dates if d.period_starts_on is not None and d.period_ends_on is not None
        ]

    def periods_containing(self, days: Sequence[date | None]) -> list[KeyDate | None]:
        """For each day, the (first) election whose pre-election period holds it, or None.
        Both ends of a period are in it."""
        periods = self._periods()
        if not periods or not days:
            return [None] * len(days)
        day = np.array([d or date.min for d in days], dtype="datetime64[D]")
        start = np.array([p.period_starts_on for p in periods], dtype="datetime64[D]")
        end = np.array([p.period_ends_on for p in periods], dtype="datetime64[D]")
        inside = (day[:, None] >= start[None, :]) & (day[:, None] <= end[None, :])
        inside &= np.array([d is not None for d in days])[:, None]
        first = inside.argmax(axis=1)
        return [periods[i] if inside[n, i] else None for n, i in enumerate(first)]

    def period_on(self, day: date) -> KeyDate | None:
        return self.periods_containing([day])[0]

    def busy_week(self, day: date) -> KeyDate | None:
        """The budget or annual council whose week (Monday to Sunday) holds `day`."""
        monday = day - timedelta(days=day.weekday())
        for d in self.dates:
            if d.kind in BUSY_KINDS and monday <= d.falls_on <= monday + timedelta(days=6):
                return d
        return None

    def next_annual_council(self, after: date) -> KeyDate | None:
        for d in self.dates:
            if d.kind == CouncilDateKind.annual_council and after <= d.falls_on:
                return d if d.falls_on <= after + timedelta(days=LOOK_AHEAD_DAYS) else None
        return None


def calendar_of(session: Session, council_id: int) -> Calendar:
    return Calendar(tuple(council_dates(session, council_id)))


def in_pre_election_period(calendar: Calendar, day: date) -> KeyDate | None:
    """The election whose pre-election period `day` is in (None outside every period)."""
    return calendar.period_on(day)


def _template(text: str) -> re.Pattern[str]:
    """A library action's text as a pattern: its {member} and {officer} stand for any name."""
    parts = re.split(r"\{(?:member|officer)\}", " ".join(text.split()))
    return re.compile(".+?".join(re.escape(p) for p in parts), re.IGNORECASE)


def _library_rules(library: dict[str, Any]) -> list[tuple[re.Pattern[str], bool]]:
    return [
        (_template(a["text"]), bool(a.get("publicity", False)))
        for entry in (library.get("dimensions") or {}).values()
        for a in entry.get("actions") or []
    ]


def is_publicity(description: str, library: dict[str, Any] | None = None) -> bool:
    """Whether an action is of a publicity type: the action library's `publicity` field for
    an action it has (its wording with the names filled in), keywords only otherwise."""
    text = " ".join((description or "").split())
    for pattern, publicity in _library_rules(library or load_action_library()):
        if pattern.fullmatch(text):
            return publicity
    return bool(PUBLICITY_WORDS.search(text))


@dataclass(frozen=True)
class Due:
    on: date
    why: str  # "" when the library's default stands; otherwise why it moved


def suggested_due(
    calendar: Calendar,
    start: date,
    due_in_days: int,
    *,
    publicity: bool = False,
    timing: str | None = None,
) -> Due:
    """When a suggested action falls due, around the council's calendar (see the module's
    rules). Moves are applied until none applies (at most a few: the rules never move a
    date back into a busy week and a period at once)."""
    due = start + timedelta(days=due_in_days)
    reasons: list[str] = []
    if timing == AFTER_ANNUAL_COUNCIL:
        annual = calendar.next_annual_council(start)
        if annual is not None:
            due = annual.falls_on + timedelta(days=AFTER_ANNUAL_DAYS)
            reasons.append(f"four weeks after annual council on {uk_date(annual.falls_on)}")
    for _ in range(6):
        period = calendar.period_on(due) if publicity else None
        if period is not None and period.period_starts_on and period.period_ends_on:
            before = period.period_starts_on - timedelta(days=1)
            due = (
                before
                if before >= start + timedelta(days=MIN_LEAD_DAYS)
                else period.period_ends_on + timedelta(days=1)
            )
            reasons.append(
                f"publicity kept out of the {PRE_ELECTION_PERIOD} before polling day on "
                f"{uk_date(period.falls_on)}"
            )
            continue
        busy = calendar.busy_week(due)
        if busy is not None:
            due = due + timedelta(days=7 - due.weekday())
            reasons.append(f"not in the week of {council_date_label(busy.kind).lower()}")
            continue
        break
    return Due(due, "; ".join(reasons))


def flag_words(period: KeyDate) -> str:
    """THE words for a publicity-type action due in a pre-election period (the plan page,
    the workbook and `tandem plan show`)."""
    return (
        f"Due in the {PRE_ELECTION_PERIOD} ({uk_date(period.period_starts_on)} to "
        f"{uk_date(period.period_ends_on)}, before polling day on {uk_date(period.falls_on)}): "
        "publicity about councillors is restricted then. Agree another date, or keep "
        "councillors out of it."
    )


def publicity_flags(
    calendar: Calendar, actions: Iterable[tuple[int, str, date | None, str]]
) -> dict[int, str]:
    """action id → flag, for each unfinished publicity-type action due in a pre-election
    period. `actions` are (id, description, due date, status)."""
    rows = [a for a in actions if a[3] not in ("done", "dropped") and a[2] is not None]
    if not rows:
        return {}
    library = load_action_library()
    periods = calendar.periods_containing([a[2] for a in rows])
    return {
        a[0]: flag_words(p)
        for a, p in zip(rows, periods, strict=True)
        if p is not None and is_publicity(a[1], library)
    }


def plan_flags(session: Session, council_id: int, goals: Iterable[Any]) -> dict[int, str]:
    """The flags of a plan's actions (`goals`: planning.plans.GoalView, already read with
    the reader's access checked)."""
    return flags_on(calendar_of(session, council_id), goals)


def flags_on(calendar: Calendar, goals: Iterable[Any]) -> dict[int, str]:
    """`plan_flags` against a council calendar already read (an export reads it once)."""
    actions = [(a.id, a.description, a.due_on, a.status) for g in goals for a in g.actions]
    if not actions:
        return {}
    return publicity_flags(calendar, actions)


# --- user actions -----------------------------------------------------------------------


def _kind(kind: str) -> str:
    value = (kind or "").strip().lower()
    if value not in KINDS:
        raise Invalid(
            f"'{kind}' is not a council date Tandem knows: choose one of " + ", ".join(KINDS) + "."
        )
    return value


def set_council_date(
    session: Session,
    actor: Actor,
    council_id: int,
    kind: str,
    falls_on: date,
    *,
    label: str = "",
    period_starts_on: date | None = None,
    period_ends_on: date | None = None,
    date_id: int | None = None,
) -> KeyDate:
    """Record a key date of the council's year, or change one (`date_id`). An election's
    pre-election period is the default unless an end is given."""
    require_council_manager(actor, council_id)
    if session.get(Council, council_id) is None:
        raise NotFound("That council does not exist (it may have been deleted).")
    kind = _kind(kind)
    if not isinstance(falls_on, date):
        raise Invalid("Give the date it falls on.")
    label = one_line(label, "The date's description", limit=column_limit(CouncilDate, "label"))
    if kind != CouncilDateKind.election and (period_starts_on or period_ends_on):
        raise Invalid("Only an election has a pre-election period.")
    first, last = default_period(falls_on)
    start, end = period_starts_on or first, period_ends_on or last
    if kind == CouncilDateKind.election:
        if start > end:
            raise Invalid("The pre-election period must start before it ends.")
        if end < falls_on - timedelta(days=1) or start > falls_on:
            raise Invalid(
                "The pre-election period runs up to polling day: it cannot end before the "
                "day before polling day, nor start after it."
            )
    row: CouncilDate | None
    if date_id is not None:
        row = session.get(CouncilDate, date_id)
        if row is None or row.council_id != council_id:
            raise NotFound("That council date no longer exists (it may have been removed).")
    else:
        row = None
    clash = session.exec(
        select(CouncilDate).where(
            CouncilDate.council_id == council_id,
            CouncilDate.kind == kind,
            CouncilDate.falls_on == falls_on,
        )
    ).first()
    if clash is not None and (row is None or clash.id != row.id):
        if row is not None:
            raise Conflict(
                f"The council already has {council_date_label(kind).lower()} on "
                f"{uk_date(falls_on)}."
            )
        row = clash  # setting the same date again changes its details
    who = actor.label
    if row is None:
        row = CouncilDate(council_id=council_id, kind=kind, falls_on=falls_on)
    row.kind, row.falls_on, row.label = kind, falls_on, label
    # Stored only where it differs from the default, so a moved polling day moves it.
    row.period_starts_on = period_starts_on if period_starts_on not in (None, first) else None
    row.period_ends_on = period_ends_on if period_ends_on not in (None, last) else None
    row.updated_by, row.updated_at = who, utcnow()
    session.add(row)
    session.flush()
    result = key_date(row)
    audit.record(
        session,
        actor,
        "set council date",
        "council",
        council_id,
        council_id,
        date=result.describe(),
    )
    return result


def remove_council_date(session: Session, actor: Actor, date_id: int) -> KeyDate:
    """Remove a key date from the council's calendar."""
    row = session.get(CouncilDate, date_id)
    if row is None:
        raise NotFound("That council date no longer exists (it may have been removed).")
    require_council_manager(actor, row.council_id)
    gone = key_date(row)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "remove council date",
        "council",
        row.council_id,
        row.council_id,
        date=gone.describe(),
    )
    return gone
