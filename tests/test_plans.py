"""Development plans: editing with access checks, sign-off by both principals, history and
two people editing at once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from cycle_builder import build_cycle
from sqlmodel import Session, select

from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Person
from planning.models import CheckIn, PlanAction, PlanGoal, PlanRevision
from planning.plans import (
    add_action,
    add_check_in,
    add_goal,
    create_plan,
    get_or_create_plan,
    plan_history,
    read_plan,
    remove_action,
    remove_goal,
    set_action_status,
    sign_plan,
    update_action,
    update_goal,
)


def principal(session: Session, person_id: int) -> Actor:
    person = session.get(Person, person_id)
    return Actor(username=person.email, role="principal", person_id=person_id)


@pytest.fixture
def setup(engine):
    built = build_cycle(engine, raters_per_group=1)
    with Session(engine, expire_on_commit=False) as s:
        leader = principal(s, built.people["leader"])
        ceo = principal(s, built.people["ceo"])
        cab = principal(s, built.people["cab"])
        plan = create_plan(s, leader, built.pairing_ids[0], built.cycle_id)
        goal = add_goal(s, leader, plan.id, "advice", "Seek advice before big decisions")
        action = add_action(s, ceo, goal.id, "Write an options note", "officer", date(2027, 3, 1))
        s.commit()
        return built, plan.id, goal.id, action.id, leader, ceo, cab


def revision(engine, plan_id: int) -> int:
    with Session(engine) as s:
        return read_plan(s, SYSTEM, plan_id).revision


def test_edit_goal_and_action_bumps_revision_and_keeps_history(engine, setup) -> None:
    built, plan_id, goal_id, action_id, leader, ceo, _ = setup
    with Session(engine, expire_on_commit=False) as s:
        rev = read_plan(s, leader, plan_id).revision
        assert rev == 3
        assert update_goal(s, leader, goal_id, title="Ask for advice first", expected_revision=3)
        # the same value again is not a change: no new revision
        assert not update_goal(s, leader, goal_id, title="Ask for advice first")
        assert update_action(
            s, ceo, action_id, due_on=date(2027, 4, 1), owner="joint", expected_revision=4
        )
        second = add_action(s, ceo, goal_id, "Brief the leader weekly", "officer")
        remove_action(s, ceo, second.id)
        s.commit()
        view = read_plan(s, ceo, plan_id)
    assert view.revision == 7
    [goal] = view.goals
    assert goal.title == "Ask for advice first"
    assert goal.dimension_name == "Listening and advice"
    [action] = goal.actions
    assert action.owner == "joint" and action.due_on == date(2027, 4, 1)
    with Session(engine) as s:
        history = plan_history(s, leader, plan_id)
    assert [h.revision for h in history] == [7, 6, 5, 4, 3, 2, 1]
    assert history[-1].summary == "Plan started"
    assert history[3].summary == "Goal changed: Ask for advice first"
    # the snapshot of revision 4 still has the old due date
    old = history[3].snapshot["goals"][0]["actions"][0]
    assert old["due_on"] == "2027-03-01" and old["owner"] == "officer"
    assert history[0].changed_by == "Rhodri ap Dafydd"  # the person's name, not a login


def test_remove_goal_removes_its_actions_but_history_keeps_them(engine, setup) -> None:
    _, plan_id, goal_id, action_id, leader, _, _ = setup
    with Session(engine) as s:
        add_check_in(s, leader, plan_id, date(2027, 2, 1), "Talked it over", action_id=action_id)
        remove_goal(s, leader, goal_id)
        s.commit()
        assert s.get(PlanGoal, goal_id) is None and s.get(PlanAction, action_id) is None
        check_in = s.exec(select(CheckIn).where(CheckIn.plan_id == plan_id)).one()
        assert check_in.action_id is None and check_in.note == "Talked it over"
        history = plan_history(s, leader, plan_id)
        assert history[0].summary.startswith("Goal removed")
        assert history[1].snapshot["goals"][0]["actions"][0]["id"] == action_id


def test_stale_revision_is_refused_naming_who_changed_it(engine, setup) -> None:
    _, plan_id, goal_id, action_id, leader, ceo, _ = setup
    opened = revision(engine, plan_id)
    with Session(engine) as s:  # the chief executive saves first
        update_action(s, ceo, action_id, description="Options note", expected_revision=opened)
        s.commit()
    with Session(engine) as s:  # the leader's form was opened before that
        with pytest.raises(Conflict) as err:
            update_goal(s, leader, goal_id, title="Mine", expected_revision=opened)
        s.rollback()
    message = str(err.value)
    assert message.startswith("Rhodri ap Dafydd changed this plan at ")
    assert "your change was not saved — reload to see theirs" in message
    with Session(engine) as s:
        view = read_plan(s, SYSTEM, plan_id)
    assert view.goals[0].title == "Seek advice before big decisions"
    assert view.goals[0].actions[0].description == "Options note"


def test_two_sessions_at_once_neither_edit_is_lost_silently(engine, setup) -> None:
    _, plan_id, goal_id, action_id, leader, ceo, _ = setup
    a, b = Session(engine), Session(engine)
    try:
        # both read the plan, then both write without saying which revision they had
        a_rev, b_rev = read_plan(a, leader, plan_id).revision, read_plan(b, ceo, plan_id)
        assert a_rev == b_rev.revision
        a.commit()  # end the read transactions (SQLite would otherwise hold a snapshot)
        b.commit()
        update_goal(b, ceo, goal_id, description="From the chief executive")
        b.commit()
        with pytest.raises(Conflict, match="Rhodri ap Dafydd changed this plan"):
            update_goal(a, leader, goal_id, description="From the leader", expected_revision=a_rev)
        a.rollback()
    finally:
        a.close()
        b.close()
    with Session(engine) as s:
        assert s.get(PlanGoal, goal_id).description == "From the chief executive"
        assert len(s.exec(select(PlanRevision).where(PlanRevision.plan_id == plan_id)).all()) == 4


def test_sign_off_by_both_then_edit_needs_agreement_again(engine, setup) -> None:
    built, plan_id, goal_id, action_id, leader, ceo, _ = setup
    with Session(engine) as s:
        rev = read_plan(s, leader, plan_id).revision
        plan = sign_plan(s, leader, plan_id, built.people["leader"], rev)
        assert plan.status == "draft"
        plan = sign_plan(s, ceo, plan_id, built.people["ceo"], rev)
        assert plan.status == "agreed"
        s.commit()
        # progress does not undo the agreement
        set_action_status(s, ceo, action_id, "in progress", expected_revision=rev)
        s.commit()
        view = read_plan(s, leader, plan_id)
        assert view.status == "agreed"
        assert all(x.current for x in view.signoffs)
        # changing what the plan says does
        update_goal(s, leader, goal_id, title="A new wording")
        s.commit()
        view = read_plan(s, leader, plan_id)
        assert view.status == "changed since agreed"
        assert [x.current for x in view.signoffs] == [False, False]
        assert view.signoffs[0].signed_revision == rev
        sign_plan(s, leader, plan_id, built.people["leader"], view.revision)
        s.commit()
        assert read_plan(s, leader, plan_id).status == "changed since agreed"
        sign_plan(s, ceo, plan_id, built.people["ceo"], view.revision)
        s.commit()
        assert read_plan(s, leader, plan_id).status == "agreed"
        history = plan_history(s, leader, plan_id)
        signed = {h.revision: h.signed_by for h in history}
        assert signed[rev] == ["Cllr Siân Llewelyn", "Rhodri ap Dafydd"]
        # signing an old revision is refused
        with pytest.raises(Conflict, match="agreement was not recorded"):
            sign_plan(s, leader, plan_id, built.people["leader"], rev)


def test_access_checks_in_the_domain_functions(engine, setup) -> None:
    built, plan_id, goal_id, action_id, leader, ceo, cab = setup
    with Session(engine) as s:
        for call in (
            lambda: read_plan(s, cab, plan_id),
            lambda: update_goal(s, cab, goal_id, title="Not mine"),
            lambda: set_action_status(s, cab, action_id, "done"),
            lambda: add_check_in(s, cab, plan_id, date(2027, 1, 1), "x"),
            lambda: remove_goal(s, cab, goal_id),
            lambda: sign_plan(s, cab, plan_id, built.people["cab"], 3),
        ):
            with pytest.raises(PermissionDenied):
                call()
        with pytest.raises(PermissionDenied, match="only sign for yourself"):
            sign_plan(s, leader, plan_id, built.people["ceo"], 3)
        facilitator = Actor("fac", "facilitator", council_ids=frozenset({built.council_id + 99}))
        with pytest.raises(PermissionDenied):
            update_goal(s, facilitator, goal_id, title="x")
        # the other pairing's principal starts their own plan, not this one
        own = get_or_create_plan(s, cab, built.pairing_ids[1], built.cycle_id)
        assert own.id != plan_id


def test_check_in_records_status_change_and_bad_input_is_refused(engine, setup) -> None:
    _, plan_id, goal_id, action_id, leader, ceo, _ = setup
    with Session(engine) as s:
        add_check_in(
            s, leader, plan_id, date(2027, 2, 14), "First draft done", action_id, "in progress"
        )
        add_check_in(s, ceo, plan_id, date(2027, 3, 14), "", action_id, "done")
        s.commit()
        view = read_plan(s, leader, plan_id)
        assert view.goals[0].actions[0].status == "done"
        c1, c2 = view.check_ins
        assert (c1.status_from, c1.status_to, c1.note) == (
            "not started",
            "in progress",
            "First draft done",
        )
        assert (c2.status_from, c2.status_to, c2.recorded_by) == (
            "in progress",
            "done",
            "Rhodri ap Dafydd",
        )
        with pytest.raises(Invalid, match="not one of: not started, in progress, done, dropped"):
            set_action_status(s, leader, action_id, "Finished")
        with pytest.raises(Invalid, match="needs a note"):
            add_check_in(s, leader, plan_id, date(2027, 3, 1), "   ")
        with pytest.raises(Invalid, match="owner"):
            add_action(s, leader, goal_id, "Something", "mayor")
        with pytest.raises(Invalid, match="council challenges"):
            add_goal(s, leader, plan_id, "advice", "Goal", challenge="weather")
        with pytest.raises(Invalid, match="title"):
            add_goal(s, leader, plan_id, "advice", "  ")
        with pytest.raises(NotFound):
            remove_action(s, leader, 999_999)
        with pytest.raises(Conflict, match="already has a plan"):
            create_plan(s, leader, view.pairing_id, view.cycle_id)
