"""The council calendar (planning.calendar): its rules on hand-built dates (both ends of a
pre-election period, no election recorded, two elections), the set/remove actions and who
may use them, suggested due dates around the calendar, reminders held back during a
period, and `tandem calendar list|set|remove`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select
from test_cli_actions import demo as demo
from test_cli_actions import ok, refused

from core.errors import Invalid, PermissionDenied
from core.models import Council
from core.roles import SYSTEM, Actor, Role
from feedback.models import Cycle, Pairing, Person
from planning.calendar import (
    Calendar,
    KeyDate,
    default_period,
    is_publicity,
    publicity_flags,
    remove_council_date,
    set_council_date,
    suggested_due,
)
from planning.models import CouncilDate, PlanAction
from planning.nudges import plan_reminders
from planning.plans import add_action, add_goal, find_plan

POLL = date(2027, 5, 6)  # a Thursday
BUDGET = date(2027, 2, 24)  # a Wednesday: its week runs 22 to 28 February
ANNUAL = date(2027, 5, 18)
PUBLICITY = (
    "Name the officers and teams behind each success in public statements and at council meetings"
)
QUIET = "Arrive at briefings on time, having read the papers"


def election(n: int, poll: date, start: date | None = None, end: date | None = None) -> KeyDate:
    first, last = default_period(poll)
    return KeyDate(n, 1, "election", poll, "", start or first, end or last, start is not None)


def other(n: int, kind: str, day: date) -> KeyDate:
    return KeyDate(n, 1, kind, day, "", None, None, False)


CAL = Calendar(
    (
        other(1, "budget council", BUDGET),
        election(2, POLL),
        other(3, "annual council", ANNUAL),
    )
)


def test_the_default_period_is_six_weeks_to_polling_day() -> None:
    assert default_period(POLL) == (date(2027, 3, 25), POLL)


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2027, 3, 24), False),  # the day before the period
        (date(2027, 3, 25), True),  # its first day
        (date(2027, 4, 20), True),
        (POLL, True),  # its last day: polling day
        (POLL + timedelta(days=1), False),  # the day after
    ],
)
def test_both_ends_of_the_period_are_in_it(day: date, inside: bool) -> None:
    assert (CAL.period_on(day) is not None) is inside


def test_no_election_recorded_means_no_period() -> None:
    cal = Calendar((other(1, "budget council", BUDGET),))
    assert cal.periods_containing([POLL, date(2027, 4, 1), None]) == [None, None, None]
    assert publicity_flags(cal, [(1, PUBLICITY, date(2027, 4, 1), "not started")]) == {}
    assert suggested_due(cal, date(2027, 3, 1), 31, publicity=True).on == date(2027, 4, 1)


def test_two_elections_each_have_their_own_period() -> None:
    by_election = date(2027, 10, 14)
    cal = Calendar((election(1, POLL), election(2, by_election, start=date(2027, 9, 30))))
    found = cal.periods_containing(
        [date(2027, 4, 1), date(2027, 6, 1), date(2027, 9, 29), date(2027, 9, 30), by_election]
    )
    assert [p.id if p else None for p in found] == [1, None, None, 2, 2]


def test_publicity_is_the_library_field_then_keywords() -> None:
    # the library says so (names filled in)
    assert is_publicity(
        "Acknowledge the political leadership of Cllr Ann Lee when reporting results to staff "
        "and partners"
    )
    # the library says no, although its words mention the press and social media
    assert not is_publicity(
        "Raise criticism of officers in private, never in public meetings, on social media or "
        "in the press"
    )
    # not in the library: keywords decide
    assert is_publicity("Issue a joint press release on the new leisure centre")
    assert not is_publicity("Review the scheme of delegation")


def test_flags_only_publicity_actions_due_in_the_period_and_unfinished() -> None:
    flags = publicity_flags(
        CAL,
        [
            (1, PUBLICITY, date(2027, 3, 25), "not started"),  # first day: flagged
            (2, PUBLICITY, POLL, "in progress"),  # last day: flagged
            (3, PUBLICITY, POLL + timedelta(days=1), "not started"),  # after: not
            (4, QUIET, date(2027, 4, 1), "not started"),  # not publicity
            (5, PUBLICITY, date(2027, 4, 1), "done"),  # done already
            (6, PUBLICITY, None, "not started"),  # no date
        ],
    )
    assert set(flags) == {1, 2}
    assert "pre-election period (25 March 2027 to 6 May 2027" in flags[1]
    assert "polling day on 6 May 2027" in flags[1]


def test_suggested_dates_avoid_the_budget_week_and_the_period() -> None:
    start = date(2027, 1, 1)
    # 54 days → 24 February, budget council's week: the Monday after
    due = suggested_due(CAL, start, 54)
    assert due.on == date(2027, 3, 1) and "budget council" in due.why
    # the week's Sunday is in it too; the Monday after is not
    assert suggested_due(CAL, start, (date(2027, 2, 28) - start).days).on == date(2027, 3, 1)
    assert suggested_due(CAL, start, (date(2027, 3, 1) - start).days).why == ""
    # a publicity action due in the period moves before it (more than two weeks away)
    due = suggested_due(CAL, start, (date(2027, 4, 10) - start).days, publicity=True)
    assert due.on == date(2027, 3, 24) and "pre-election period" in due.why
    # ... or after polling day when the day before the period is under two weeks away
    late = date(2027, 3, 15)
    due = suggested_due(CAL, late, 20, publicity=True)
    assert due.on == POLL + timedelta(days=1)
    # an action that is not publicity keeps its date in the period
    assert suggested_due(CAL, start, (date(2027, 4, 10) - start).days).why == ""


def test_a_relationship_review_falls_after_annual_council() -> None:
    start = date(2027, 3, 1)
    due = suggested_due(CAL, start, 90, timing="after annual council")
    assert due.on == ANNUAL + timedelta(days=28) and "annual council" in due.why
    # no annual council within a year: the library's default
    assert suggested_due(Calendar(()), start, 90, timing="after annual council").on == date(
        2027, 5, 30
    )


def _demo(session: Session) -> tuple[int, int, int]:
    leader = session.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
    pairing = session.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
    cycle = session.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
    return pairing.council_id, pairing.id, cycle.id


def test_set_and_remove_dates_staff_of_that_council_only(demo_engine) -> None:
    with Session(demo_engine) as s:
        council_id, *_ = _demo(s)
        saved = set_council_date(s, SYSTEM, council_id, "election", POLL, label="Borough")
        assert (saved.period_starts_on, saved.period_ends_on) == default_period(POLL)
        assert not saved.period_set
        # setting the same date again changes it (one row), here with its own period
        again = set_council_date(
            s, SYSTEM, council_id, "election", POLL, period_starts_on=date(2027, 3, 30)
        )
        assert again.id == saved.id and again.period_set
        assert again.period_starts_on == date(2027, 3, 30) and again.period_ends_on == POLL
        with pytest.raises(Invalid, match="Only an election"):
            set_council_date(s, SYSTEM, council_id, "budget council", BUDGET, period_ends_on=BUDGET)
        with pytest.raises(Invalid, match="not a council date"):
            set_council_date(s, SYSTEM, council_id, "mayor making", ANNUAL)
        elsewhere = Council(name="Elsewhere Council")
        s.add(elsewhere)
        s.flush()
        stranger = Actor("fac", Role.facilitator, council_ids=frozenset({elsewhere.id}))
        with pytest.raises(PermissionDenied):
            set_council_date(s, stranger, council_id, "budget council", BUDGET)
        with pytest.raises(PermissionDenied):
            remove_council_date(s, stranger, saved.id)
        remove_council_date(s, SYSTEM, saved.id)
        assert s.exec(select(CouncilDate)).all() == []


def test_reminders_hold_back_publicity_during_the_period(demo_engine) -> None:
    with Session(demo_engine) as s:
        council_id, pairing_id, cycle_id = _demo(s)
        plan = find_plan(s, pairing_id, cycle_id)
        # only our two actions are due: every other action of the cycle is done
        for a in s.exec(select(PlanAction)).all():
            a.status = "done"
            s.add(a)
        s.flush()
        goal = add_goal(s, SYSTEM, plan.id, "credit", "Share the credit")
        add_action(s, SYSTEM, goal.id, PUBLICITY, "joint", due_on=date(2027, 4, 20))
        add_action(s, SYSTEM, goal.id, QUIET, "member", due_on=date(2027, 4, 21))
        today = date(2027, 4, 14)
        [before] = plan_reminders(s, SYSTEM, cycle_id, today)
        assert len(before.due_soon) == 2 and before.held == []  # no election recorded
        set_council_date(s, SYSTEM, council_id, "election", POLL)
        [during] = plan_reminders(s, SYSTEM, cycle_id, today)
        assert [a.description for a in during.due_soon] == [QUIET]
        assert [a.description for a in during.held] == [PUBLICITY]
        # after polling day it is reminded again (overdue by then)
        [after] = plan_reminders(s, SYSTEM, cycle_id, POLL + timedelta(days=1))
        assert after.held == [] and len(after.overdue) == 2
        s.rollback()


def test_tandem_calendar_list_set_remove(demo) -> None:
    tandem, engine = demo
    council = "Kingsmere Borough Council"
    assert "No key dates" in ok(tandem("calendar", "list", council))
    out = ok(tandem("calendar", "set", council, "election", "2027-05-06", "--label", "Borough"))
    assert "Polling day: Borough, 6 May 2027" in out
    assert "25 March 2027 to 6 May 2027, the default" in out
    ok(tandem("calendar", "set", council, "budget council", "2027-02-24"))
    listed = ok(tandem("calendar", "list", council))
    assert listed.index("Budget council, 24 February 2027") < listed.index("Polling day")
    with Session(engine) as s:
        ids = [d.id for d in s.exec(select(CouncilDate).order_by(CouncilDate.falls_on))]
    changed = ok(
        tandem("calendar", "set", council, "election", "2027-05-06", "--period-from",
               "2027-04-01", "--id", str(ids[1]))
    )  # fmt: skip
    assert "1 April 2027 to 6 May 2027, as set" in changed
    assert "not a date" in refused(tandem("calendar", "set", council, "election", "6/5/27"), 2)
    assert "not a council date" in refused(tandem("calendar", "set", council, "fete", "2027-07-01"))
    assert "Removed: Budget council" in ok(tandem("calendar", "remove", str(ids[0])))
    assert "no longer exists" in refused(tandem("calendar", "remove", str(ids[0])))
    with Session(engine) as s:
        assert len(s.exec(select(CouncilDate)).all()) == 1


def test_plan_show_flags_a_publicity_action_in_the_period(demo) -> None:
    tandem, engine = demo
    with Session(engine) as s:
        council_id, pairing_id, cycle_id = _demo(s)
        plan = find_plan(s, pairing_id, cycle_id)
        goal = add_goal(s, SYSTEM, plan.id, "credit", "Share the credit")
        action = add_action(s, SYSTEM, goal.id, PUBLICITY, "joint", due_on=date(2027, 4, 20))
        set_council_date(s, SYSTEM, council_id, "election", POLL)
        s.commit()
        action_id = action.id
    out = ok(tandem("plan", "show", str(cycle_id), "--pairing", str(pairing_id)))
    line = out.split(f"Action {action_id} ")[1]
    assert line.split("\n  Action")[0].count("Pre-election period: Due in the pre-election") == 1
    assert out.count("Pre-election period:") == 1  # nothing else of the plan is flagged
