"""An answer clicked is saved without reading the link first (issue 16: one write, no
read, per answer), so the save itself must refuse what the link check would have refused.

`record_answers(..., link_token=…)` checks, in the statement that reads the invitation,
that the page's link still opens it: a live link of the same rater, not withdrawn, in an
open round. Otherwise `LinkGone` and nothing is stored. As an attacker would try it: a
replaced link, a withdrawn invitation, another rater's link, a closed round."""

from __future__ import annotations

import pytest
from cycle_builder import build_cycle
from sqlmodel import Session, select

from core.db import session_scope
from core.errors import Invalid
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token, revoke_invitation
from feedback.collection.responses import LinkGone, new_resume_key, record_answers
from feedback.models import Cycle, FrameworkVersion, Invitation, Rating, Response
from feedback.setup.cycles import set_cycle_status
from feedback.setup.framework import stored_framework


def _invitation(engine, built, key: str, pairing: int = 0) -> int:
    with Session(engine) as s:
        return s.exec(
            select(Invitation.id).where(
                Invitation.rater_id == built.people[key],
                Invitation.pairing_id == built.pairing_ids[pairing],
            )
        ).one()


def _an_item(engine, inv_id: int) -> int:
    with Session(engine) as s:
        invitation = s.get(Invitation, inv_id)
        cycle = s.get(Cycle, invitation.cycle_id)
        version = s.get(FrameworkVersion, cycle.framework_version_id)
        framework = stored_framework(s, version.id, version.checksum)
        return framework.items_for(invitation.rater_group, None)[0].id


def _stored(engine, inv_id: int) -> dict[int, int | None]:
    with Session(engine) as s:
        return dict(
            s.exec(
                select(Rating.item_id, Rating.value)
                .join(Response, Response.id == Rating.response_id)
                .where(Response.invitation_id == inv_id)
            ).all()
        )


def _token(engine, inv_id: int) -> str:
    with session_scope(engine) as s:
        return issue_token(s, SYSTEM, inv_id)


@pytest.fixture
def built(engine):
    return build_cycle(engine)


def test_a_live_link_saves_and_a_replaced_one_saves_nothing(engine, built) -> None:
    inv = _invitation(engine, built, "m0")
    item, key = _an_item(engine, inv), new_resume_key()
    old = _token(engine, inv)
    record_answers(engine, inv, {item: 4}, resume_key=key, link_token=old)
    assert _stored(engine, inv) == {item: 4}
    new = _token(engine, inv)  # staff issue a new link: the old one stops working
    with pytest.raises(LinkGone):
        record_answers(engine, inv, {item: 1}, resume_key=key, link_token=old)
    assert _stored(engine, inv) == {item: 4}  # nothing changed
    record_answers(engine, inv, {item: 2}, resume_key=key, link_token=new)
    assert _stored(engine, inv) == {item: 2}


def test_a_withdrawn_invitation_and_another_raters_link_save_nothing(engine, built) -> None:
    mine, theirs = _invitation(engine, built, "m1"), _invitation(engine, built, "o1")
    item, key = _an_item(engine, mine), new_resume_key()
    my_link, their_link = _token(engine, mine), _token(engine, theirs)
    # Someone else's live link, with my invitation's number: refused.
    with pytest.raises(LinkGone):
        record_answers(engine, mine, {item: 5}, resume_key=key, link_token=their_link)
    # A well-formed token nobody was given: refused.
    with pytest.raises(LinkGone):
        record_answers(engine, mine, {item: 5}, resume_key=key, link_token="x" * len(my_link))
    assert _stored(engine, mine) == {}
    with session_scope(engine) as s:
        revoke_invitation(s, SYSTEM, mine)
    with pytest.raises(Invalid):  # withdrawn: refused whichever way it is asked
        record_answers(engine, mine, {item: 5}, resume_key=key, link_token=my_link)
    assert _stored(engine, mine) == {}


def test_one_link_saves_for_the_same_raters_other_invitation(engine, built) -> None:
    # Officer 0 rates both pairings: the link of one opens the other too (resolve_token).
    first, second = _invitation(engine, built, "o0", 0), _invitation(engine, built, "o0", 1)
    item, key = _an_item(engine, second), new_resume_key()
    record_answers(engine, second, {item: 3}, resume_key=key, link_token=_token(engine, first))
    assert _stored(engine, second) == {item: 3}


def test_a_closed_round_saves_nothing(engine, built) -> None:
    inv = _invitation(engine, built, "p0")
    item, key, link = _an_item(engine, inv), new_resume_key(), _token(engine, inv)
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    with pytest.raises(Invalid):
        record_answers(engine, inv, {item: 5}, resume_key=key, link_token=link)
    assert _stored(engine, inv) == {}
