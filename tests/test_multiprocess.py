"""Two app processes on one database, as when several Tandem servers sit behind a proxy:
real operating-system processes, each with its own engine and connection pool, writing at
the same moment. Nothing may be lost or stored twice, on SQLite and on PostgreSQL.

Each worker (a) adds its own 40 people to the council — disjoint writes that must all
land — and (b) answers and submits every invitation of the cycle, one worker in id order
and the other in reverse, so the two race for the same responses: each answer must be
stored once and each response submitted by exactly one of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cycle_builder import build_cycle
from sqlmodel import Session, func, select

from core.db import PROJECT_ROOT
from core.vocabulary import ResponseStatus
from feedback.models import Invitation, Person, Rating, Response

WORKER = r"""
import json, os, sys, time
from pathlib import Path
from sqlmodel import Session, select

from core.roles import SYSTEM
from core.db import make_engine, session_scope
from core.errors import Conflict
from feedback.models import Invitation
from feedback.setup.people import add_person
from feedback.collection.responses import items_for_invitation, save_answers, submit_response

name, council_id, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
engine = make_engine()  # TANDEM_DATABASE_URL, exactly as an app process finds it
with Session(engine) as s:
    plan = [(inv.id, [i.id for i in items_for_invitation(s, inv)])
            for inv in s.exec(select(Invitation).order_by(Invitation.id))]
if name == "b":
    plan.reverse()
while not go.exists():  # both start together
    time.sleep(0.005)
added, won, lost = 0, 0, 0
for k in range(40):
    with session_scope(engine) as s:
        add_person(s, SYSTEM, council_id, f"Worker {name} {k}", f"{name}{k}@proc.example",
                   "officer")
    added += 1
    if k < len(plan):
        inv_id, items = plan[k]
        # Both workers give the same answers, so a double write would show as a duplicate
        # row (refused by the key) or a wrong count, never as a difference in values.
        try:
            with session_scope(engine) as s:
                save_answers(s, inv_id, {i: (i + inv_id) % 5 + 1 for i in items})
            with session_scope(engine) as s:
                submit_response(s, inv_id)
            won += 1
        except Conflict:
            lost += 1
for inv_id, items in plan[40:]:
    try:
        with session_scope(engine) as s:
            save_answers(s, inv_id, {i: (i + inv_id) % 5 + 1 for i in items})
        with session_scope(engine) as s:
            submit_response(s, inv_id)
        won += 1
    except Conflict:
        lost += 1
print(json.dumps({"added": added, "won": won, "lost": lost, "pid": os.getpid()}))
"""


def _run_two_workers(db_url: str, council_id: int, tmp_path: Path) -> list[dict[str, int]]:
    go = tmp_path / "go"
    env = {**os.environ, "TANDEM_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, name, str(council_id), str(go)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    time.sleep(1.5)  # let both import and connect, then release them at once
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_and_duplicate_nothing(engine, db_url, tmp_path):
    built = build_cycle(engine, raters_per_group=8, second_pairing=True)
    with Session(engine) as s:
        invitations = s.exec(select(Invitation)).all()
        people_before = s.exec(select(func.count()).select_from(Person)).one()
    assert len(invitations) >= 25

    results = _run_two_workers(db_url, built.council_id, tmp_path)

    assert results[0]["pid"] != results[1]["pid"]
    # Every invitation answered by exactly one of the two processes.
    assert results[0]["won"] + results[1]["won"] == len(invitations)
    assert results[0]["lost"] + results[1]["lost"] == len(invitations)
    from feedback.collection.responses import items_for_invitation

    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Person)).one() == people_before + 80
        responses = s.exec(select(Response)).all()
        assert len(responses) == len(invitations)
        assert {r.status for r in responses} == {ResponseStatus.submitted}
        assert len({r.invitation_id for r in responses}) == len(invitations)
        expected = 0
        for inv in invitations:
            items = items_for_invitation(s, inv)
            expected += len(items)
            response = next(r for r in responses if r.invitation_id == inv.id)
            stored = dict(
                s.exec(
                    select(Rating.item_id, Rating.value).where(Rating.response_id == response.id)
                ).all()
            )
            assert stored == {i.id: (i.id + inv.id) % 5 + 1 for i in items}
        assert s.exec(select(func.count()).select_from(Rating)).one() == expected
        assert s.exec(select(func.count()).select_from(Invitation)).one() == len(invitations)
        statuses = set(s.exec(select(Invitation.status)).all())
        assert statuses == {"submitted"}
