"""Undoing set-up mistakes (issue 17): a pairing changed, ended, removed or taken out of a
cycle, a person removed or their kind changed — each refused in words while something
depends on it, never losing an answer, an edition or a plan; one top pairing per council
unless a named exception is given."""

from __future__ import annotations

from datetime import date

import pytest
from cycle_builder import build_cycle
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from core.db import session_scope
from core.errors import Conflict, Invalid
from core.models import AuditEvent, UserAccount
from core.roles import SYSTEM, Actor, Role
from feedback.collection.responses import items_for_invitation, save_answers
from feedback.models import CyclePairing, Invitation, Pairing, Person, Rating, Response
from feedback.setup.cycles import add_pairing_to_cycle, set_cycle_status
from feedback.setup.pairings import (
    edit_pairing,
    end_pairing,
    holdings,
    remove_pairing,
    remove_pairing_from_cycle,
)
from feedback.setup.people import (
    add_person,
    create_pairing,
    list_pairings,
    remove_person,
    set_person_kind,
)

TOP = "leader–chief executive"


def audited(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def answer(session: Session, cycle_id: int, pairing_id: int, rater_id: int) -> None:
    """One rater saves answers (a draft) for a pairing."""
    inv = session.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id,
            Invitation.pairing_id == pairing_id,
            Invitation.rater_id == rater_id,
        )
    ).one()
    save_answers(session, inv.id, {i.id: 4 for i in items_for_invitation(session, inv)})


@pytest.fixture
def built(engine: Engine):
    return build_cycle(engine, open_it=False)


def count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- one top pairing per council ---------------------------------------------------------------


def test_a_second_top_pairing_is_refused_in_words_unless_a_named_exception(engine, built) -> None:
    with session_scope(engine) as s:
        new_leader = add_person(
            s, SYSTEM, built.council_id, "Cllr Bryn", "b@x.example.org", "member"
        )
        with pytest.raises(Conflict) as refused:
            create_pairing(s, SYSTEM, built.council_id, TOP, new_leader.id, built.people["ceo"])
        assert str(refused.value).startswith(
            "Llanfair County Council already has a top pairing (Cllr Siân Llewelyn & Rhodri "
            "ap Dafydd). A council has one leader, mayor or convener with the chief executive."
        )
        assert "end it first" in str(refused.value) and "give the reason" in str(refused.value)
    with session_scope(engine) as s:
        assert len(list_pairings(s, built.council_id)) == 2  # nothing was added
        pairing = create_pairing(
            s,
            SYSTEM,
            built.council_id,
            TOP,
            s.exec(select(Person.id).where(Person.email == "b@x.example.org")).one(),
            built.people["ceo"],
            top_exception="Joint chief executive shared with Powys",
        )
        assert pairing.top_exception == "Joint chief executive shared with Powys"
        assert audited(s, "create pairing")[-1].detail == {
            "top_exception": "Joint chief executive shared with Powys"
        }


def test_an_ended_top_pairing_makes_way_and_taking_it_up_again_is_checked(engine, built) -> None:
    leader_ceo = built.pairing_ids[0]
    with session_scope(engine) as s:
        end_pairing(s, SYSTEM, leader_ceo)
        new = add_person(s, SYSTEM, built.council_id, "Cllr Bryn", "b@x.example.org", "member")
        create_pairing(s, SYSTEM, built.council_id, TOP, new.id, built.people["ceo"])
    with session_scope(engine) as s, pytest.raises(Conflict, match="already has a top pairing"):
        end_pairing(s, SYSTEM, leader_ceo, ended=False)
    with session_scope(engine) as s:
        assert s.get(Pairing, leader_ceo).active is False
        # An ended pairing stays in its cycle, but joins no new one.
        assert s.get(CyclePairing, (built.cycle_id, leader_ceo)) is not None
        assert [e.action for e in audited(s, "end pairing")] == ["end pairing"]


def test_the_kind_cannot_become_a_second_top_pairing_without_a_reason(engine, built) -> None:
    cabinet = built.pairing_ids[1]
    values = dict(
        member_id=built.people["cab"],
        officer_id=built.people["dir"],
        portfolio="Place",
        started_on=None,
    )
    with session_scope(engine) as s, pytest.raises(Conflict, match="already has a top pairing"):
        edit_pairing(s, SYSTEM, cabinet, kind=TOP, **values)
    with session_scope(engine) as s:
        edit_pairing(s, SYSTEM, cabinet, kind=TOP, top_exception="Deputy leader", **values)
        assert s.get(Pairing, cabinet).top_exception == "Deputy leader"
        # Clearing the reason of a second top pairing is refused like its absence.
    with session_scope(engine) as s, pytest.raises(Conflict, match="already has a top pairing"):
        edit_pairing(s, SYSTEM, cabinet, kind=TOP, top_exception="", **values)


# --- editing a pairing ---------------------------------------------------------------------------


def test_a_pairing_without_answers_changes_its_people_and_they_move_in_its_cycle(
    engine, built
) -> None:
    cabinet = built.pairing_ids[1]
    with session_scope(engine) as s:
        # Officer 0 is nominated to rate this pairing; made its officer, that invitation
        # becomes their invitation as a principal.
        edit_pairing(
            s,
            SYSTEM,
            cabinet,
            kind="cabinet–director",
            member_id=built.people["m1"],
            officer_id=built.people["o0"],
            portfolio="Place and Climate",
            started_on=date(2025, 5, 1),
        )
    with session_scope(engine) as s:
        pairing = s.get(Pairing, cabinet)
        assert (pairing.member_id, pairing.officer_id) == (built.people["m1"], built.people["o0"])
        assert (pairing.portfolio, pairing.started_on) == ("Place and Climate", date(2025, 5, 1))
        invited = {
            i.rater_id: i.rater_group
            for i in s.exec(select(Invitation).where(Invitation.pairing_id == cabinet))
        }
        assert invited == {built.people["m1"]: "principal", built.people["o0"]: "principal"}
        [event] = audited(s, "edit pairing")
        assert event.detail["member"] == {"from": "Cllr Gwilym Ŵyn", "to": "Cllr Member 1"}
        assert event.detail["portfolio"] == {"from": "Place", "to": "Place and Climate"}


def test_once_answers_are_held_the_people_and_kind_are_fixed_but_records_can_be_corrected(
    engine, built
) -> None:
    leader_ceo = built.pairing_ids[0]
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        answer(s, built.cycle_id, leader_ceo, built.people["m0"])
    values = dict(kind=TOP, officer_id=built.people["ceo"], portfolio="", started_on=None)
    with session_scope(engine) as s, pytest.raises(Conflict) as refused:
        edit_pairing(s, SYSTEM, leader_ceo, member_id=built.people["m1"], **values)
    assert str(refused.value) == (
        "Cllr Siân Llewelyn & Rhodri ap Dafydd: its kind and its two people cannot change, "
        "because 'Adolygiad 2027' (open) holds 1 answer, given about this pairing as it is. "
        "If the pairing has changed (a new councillor or officer), end this one and form a "
        "new pairing; its portfolio and start date can still be corrected."
    )
    with session_scope(engine) as s:
        edit_pairing(
            s,
            SYSTEM,
            leader_ceo,
            member_id=built.people["leader"],
            **{**values, "portfolio": "All"},
        )
        assert s.get(Pairing, leader_ceo).portfolio == "All"
        assert count(s, Response) == 1 and count(s, Rating) > 0


# --- removing a pairing, or taking it out of a cycle ---------------------------------------------


def test_a_pairing_in_a_cycle_is_taken_out_first_then_removed(engine, built) -> None:
    cabinet = built.pairing_ids[1]
    with session_scope(engine) as s, pytest.raises(Conflict) as refused:
        remove_pairing(s, SYSTEM, cabinet)
    assert str(refused.value) == (
        "Cllr Gwilym Ŵyn & Ffion Rhys-Jones (Place) is in 'Adolygiad 2027' (draft), which "
        "holds no answers for it yet: remove it from that cycle first (Cycles page, Pairings "
        "and raters; or `tandem cycle remove-pairing`), then remove the pairing."
    )
    with session_scope(engine) as s:
        before = count(s, Invitation)
        assert remove_pairing_from_cycle(s, SYSTEM, built.cycle_id, cabinet).startswith("Cllr")
        # The two principals and Officer 0's nomination went with it.
        assert count(s, Invitation) == before - 3
        [event] = audited(s, "remove pairing from cycle")
        assert event.detail["invitations"] == 3
    with session_scope(engine) as s:
        remove_pairing(s, SYSTEM, cabinet)
        assert s.get(Pairing, cabinet) is None
        assert audited(s, "remove pairing")[0].detail["kind"] == "cabinet–director"


def test_answers_keep_a_pairing_in_its_cycle_and_on_the_list(engine, built) -> None:
    leader_ceo = built.pairing_ids[0]
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        answer(s, built.cycle_id, leader_ceo, built.people["o1"])
        answers = count(s, Rating)
    with session_scope(engine) as s, pytest.raises(Conflict) as refused:
        remove_pairing_from_cycle(s, SYSTEM, built.cycle_id, leader_ceo)
    assert str(refused.value) == (
        "Cllr Siân Llewelyn & Rhodri ap Dafydd cannot be removed from 'Adolygiad 2027': the "
        "cycle holds 1 answer for it, and what was given about a pairing is never deleted. "
        "To stop further answers, withdraw the raters who have not answered; what was given "
        "is reported with the cycle."
    )
    with session_scope(engine) as s, pytest.raises(Conflict) as refused:
        remove_pairing(s, SYSTEM, leader_ceo)
    assert "End it instead" in str(refused.value)
    assert "'Adolygiad 2027' (open) holds 1 answer" in str(refused.value)
    with session_scope(engine) as s:
        assert count(s, Rating) == answers and s.get(Pairing, leader_ceo) is not None
        assert s.get(CyclePairing, (built.cycle_id, leader_ceo)) is not None
        assert [h.answers for h in holdings(s, leader_ceo).cycles] == [1]


def test_a_closed_cycle_keeps_its_pairings_and_an_ended_pairing_joins_no_new_cycle(
    engine, built
) -> None:
    cabinet = built.pairing_ids[1]
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "open")
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    with session_scope(engine) as s, pytest.raises(Invalid, match="is closed: the pairings"):
        remove_pairing_from_cycle(s, SYSTEM, built.cycle_id, cabinet)
    from feedback.setup.cycles import create_cycle

    with session_scope(engine) as s:
        end_pairing(s, SYSTEM, cabinet)
        later = create_cycle(
            s, SYSTEM, built.council_id, "Later", date(2027, 6, 1), date(2027, 7, 1)
        )
        later_id = later.id
    with session_scope(engine) as s, pytest.raises(Invalid, match="has ended, so it takes part"):
        add_pairing_to_cycle(s, SYSTEM, later_id, cabinet)


# --- people ----------------------------------------------------------------------------------


def test_a_person_who_holds_nothing_is_removed_and_others_are_refused_in_words(
    engine, built
) -> None:
    with session_scope(engine) as s:
        spare = add_person(
            s, SYSTEM, built.council_id, "Spare Officer", "s@x.example.org", "officer"
        )
        spare_id = spare.id
        with pytest.raises(Conflict) as refused:
            remove_person(s, SYSTEM, built.people["leader"])
        assert str(refused.value).startswith(
            "Cllr Siân Llewelyn cannot be removed: they hold the pairing Cllr Siân Llewelyn & "
            "Rhodri ap Dafydd; and invitations in 'Adolygiad 2027'."
        )
        with pytest.raises(Conflict, match="Officer 1 cannot be removed: they hold invitations"):
            remove_person(s, SYSTEM, built.people["o1"])
        s.add(UserAccount(username="spare", role="principal", person_id=spare_id))
        s.flush()
        with pytest.raises(Conflict, match="they hold the user account 'spare'"):
            remove_person(s, SYSTEM, spare_id)
        s.exec(select(UserAccount).where(UserAccount.username == "spare")).one().person_id = None
        s.flush()
        assert remove_person(s, SYSTEM, spare_id) == "Spare Officer"
    with session_scope(engine) as s:
        assert s.get(Person, spare_id) is None
        assert s.get(Person, built.people["leader"]) is not None
        assert audited(s, "remove person")[0].detail == {"name": "Spare Officer"}


def test_a_persons_kind_changes_while_nothing_depends_on_it(engine, built) -> None:
    with session_scope(engine) as s:
        wrong = add_person(
            s,
            SYSTEM,
            built.council_id,
            "Dana Director",
            "d@x.example.org",
            "member",
            political_group="Labour",
            political_side="administration",
            special_role="scrutiny chair",
        )
        wrong_id = wrong.id
        cleared = set_person_kind(s, SYSTEM, wrong_id, "officer")
        assert cleared == [
            "their political group and side",
            "the special role (chair of scrutiny (overview and scrutiny))",
        ]
    with session_scope(engine) as s:
        person = s.get(Person, wrong_id)
        assert (person.kind, person.political_group, person.special_role) == ("officer", "", "")
        with pytest.raises(Conflict) as refused:
            set_person_kind(s, SYSTEM, built.people["ceo"], "member")
        assert str(refused.value).startswith(
            "Rhodri ap Dafydd stays an officer: they hold the pairing"
        )
        with pytest.raises(Invalid, match="Kind must be"):
            set_person_kind(s, SYSTEM, wrong_id, "mayor")
        assert audited(s, "change person kind")[0].detail["after"] == "officer"


def test_a_facilitator_of_another_council_may_undo_nothing_here(engine, built) -> None:
    from core.errors import PermissionDenied

    other = Actor(
        username="f", role=Role.facilitator, council_ids=frozenset({built.council_id + 99})
    )
    with session_scope(engine) as s:
        for action in (
            lambda: remove_pairing(s, other, built.pairing_ids[1]),
            lambda: end_pairing(s, other, built.pairing_ids[1]),
            lambda: remove_pairing_from_cycle(s, other, built.cycle_id, built.pairing_ids[1]),
            lambda: remove_person(s, other, built.people["p0"]),
            lambda: set_person_kind(s, other, built.people["p0"], "officer"),
        ):
            with pytest.raises(PermissionDenied):
                action()
