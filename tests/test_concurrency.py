"""Many raters at once, each in its own thread and Session, on SQLite and PostgreSQL:
every answer stored exactly once. Also two tabs of the same link."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from cycle_builder import build_cycle
from sqlmodel import Session, func, select

from core.db import session_scope
from core.errors import Conflict
from core.vocabulary import ResponseStatus
from feedback.collection.responses import (
    dimensions_for_cycle,
    items_for_invitation,
    save_answers,
    submit_response,
)
from feedback.models import Comment, Cycle, Invitation, Rating, Response


def _plan(engine):
    with Session(engine) as s:
        invitations = s.exec(select(Invitation).order_by(Invitation.id)).all()
        cycle = s.get(Cycle, invitations[0].cycle_id)
        dims = [d.id for d in dimensions_for_cycle(s, cycle)]
        return [(inv.id, [i.id for i in items_for_invitation(s, inv)], dims) for inv in invitations]


def test_twenty_raters_submitting_at_once_store_every_answer_once(engine) -> None:
    build_cycle(engine, raters_per_group=7, second_pairing=False)  # 2 + 21 raters
    plan = _plan(engine)
    assert len(plan) >= 20
    start = threading.Barrier(len(plan))

    def rater(inv_id: int, items: list[int], dims: list[int]) -> int:
        start.wait()
        # Three saves as the rater goes, then submit: each a unit of work of its own.
        thirds = [items[k::3] for k in range(3)]
        for part in thirds:
            with session_scope(engine) as s:
                save_answers(
                    s,
                    inv_id,
                    {i: (i + inv_id) % 5 + 1 for i in part},
                    {dims[0]: f"comment from {inv_id}"},
                )
        with session_scope(engine) as s:
            submit_response(s, inv_id)
        return len(items)

    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        expected = sum(pool.map(lambda p: rater(*p), plan))

    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Rating)).one() == expected
        assert s.exec(select(func.count()).select_from(Comment)).one() == len(plan)
        assert s.exec(select(func.count()).select_from(Response)).one() == len(plan)
        statuses = s.exec(select(Response.status)).all()
        assert set(statuses) == {ResponseStatus.submitted}
        # Each stored value is the one that rater gave.
        for inv_id, items, _dims in plan:
            response = s.exec(select(Response).where(Response.invitation_id == inv_id)).one()
            values = dict(
                s.exec(
                    select(Rating.item_id, Rating.value).where(Rating.response_id == response.id)
                ).all()
            )
            assert values == {i: (i + inv_id) % 5 + 1 for i in items}


def test_two_tabs_of_the_same_link_lose_nothing_and_submit_once(engine) -> None:
    build_cycle(engine, raters_per_group=3, second_pairing=False)
    inv_id, items, dims = _plan(engine)[-1]
    half = len(items) // 2
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def tab(part: list[int]) -> None:
        start.wait()
        for item in part:
            with session_scope(engine) as s:
                save_answers(s, inv_id, {item: 3})
        start_submit.wait()
        try:
            with session_scope(engine) as s:
                submit_response(s, inv_id)
            outcomes.append("submitted")
        except Conflict:
            outcomes.append("already")

    start_submit = threading.Barrier(2)
    threads = [
        threading.Thread(target=tab, args=(items[:half],)),
        threading.Thread(target=tab, args=(items[half:],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already", "submitted"]
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.invitation_id == inv_id)).one()
        assert response.status == ResponseStatus.submitted
        count = s.exec(
            select(func.count()).select_from(Rating).where(Rating.response_id == response.id)
        ).one()
        assert count == len(items)
