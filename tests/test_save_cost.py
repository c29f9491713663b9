"""What one click of the rater costs the database: saving one answer on the questionnaire
is one read transaction (the link and the invitation on screen) and one write transaction
(the answer), counted with SQLAlchemy's events on a real SQLite engine; a rerun with
nothing changed is one read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import streamlit as st
from cycle_builder import build_cycle
from sqlalchemy import Engine, event
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.models import Invitation

APP = "../app.py"
WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Transaction:
    statements: list[str] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return any(s.lstrip().upper().startswith(WRITES) for s in self.statements)


@dataclass
class Counter:
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def statements(self) -> int:
        return sum(len(t.statements) for t in self.transactions)

    @property
    def reads(self) -> int:
        return sum(not t.writes for t in self.transactions)

    @property
    def writes(self) -> int:
        return sum(t.writes for t in self.transactions)

    def __str__(self) -> str:
        return (
            f"{self.statements} statements in {len(self.transactions)} transactions "
            f"({self.reads} read, {self.writes} write)"
        )


@contextmanager
def counting(engine: Engine) -> Iterator[Counter]:
    """Every transaction begun on `engine` while inside, with its statements."""
    counter = Counter()

    def begin(_conn: object) -> None:
        counter.transactions.append(Transaction())

    def statement(_conn: object, _cur: object, sql: str, *_args: object) -> None:
        if not counter.transactions:  # a statement outside any transaction: count it apart
            counter.transactions.append(Transaction())
        counter.transactions[-1].statements.append(sql)

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield counter
    finally:
        event.remove(engine, "begin", begin)
        event.remove(engine, "before_cursor_execute", statement)


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("rater", ["m1", "o0"])  # one invitation; two (a list to choose from)
def test_saving_one_answer_is_one_read_and_one_write(
    sqlite_engine, sqlite_url, monkeypatch, rater
) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", sqlite_url)
    built = build_cycle(sqlite_engine)
    with session_scope(sqlite_engine) as s:
        inv = s.exec(
            select(Invitation).where(
                Invitation.rater_id == built.people[rater],
                Invitation.pairing_id == built.pairing_ids[0],
            )
        ).first()
        assert inv is not None and inv.id is not None
        token = issue_token(s, SYSTEM, inv.id)
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["t"] = token
    at.run()
    assert not at.exception
    from ui.state import get_engine  # the page's own engine (cached by Streamlit)

    engine = get_engine()
    radios = [r for r in at.radio if r.key and r.key.startswith("q_")]

    results: dict[str, Counter] = {}
    for label, click in (
        ("idle rerun", None),
        ("first answer (makes the draft)", (radios[0].key, 3)),
        ("another answer", (radios[1].key, 2)),
        ("a changed answer", (radios[1].key, 4)),
        ("idle rerun with a draft", None),
    ):
        with counting(engine) as counter:
            if click is None:
                at.run()
            else:
                at.radio(key=click[0]).set_value(click[1]).run()
            assert not at.exception
            results[label] = counter
    print(f"\n{rater}: " + "; ".join(f"{k}: {v}" for k, v in results.items()))

    for label in ("idle rerun", "idle rerun with a draft"):
        assert (results[label].reads, results[label].writes) == (1, 0), results[label]
        assert results[label].statements <= 5, results[label]
    for label in ("first answer (makes the draft)", "another answer", "a changed answer"):
        assert results[label].reads <= 1 and results[label].writes <= 1, results[label]
        assert len(results[label].transactions) <= 2, results[label]
        assert results[label].statements <= 15, results[label]
    # Framework versions are parsed once per process: no save reads the definition again.
    for counter in results.values():
        for transaction in counter.transactions:
            assert not any("frameworkversion.definition" in s for s in transaction.statements)


def test_the_list_of_invitations_and_the_form_read_the_same_on_both_databases(engine) -> None:
    """The choosing list (one statement) and the form (answers in one compound statement)
    on SQLite and PostgreSQL: counts only for the browser's own draft, none once submitted."""
    from feedback.collection.responses import (
        invitation_choices,
        items_for_invitation,
        new_resume_key,
        questionnaire_view,
        record_answers,
        submit_response,
    )

    built = build_cycle(engine)
    with session_scope(engine) as s:
        mine = s.exec(
            select(Invitation)
            .where(Invitation.rater_id == built.people["o0"])
            .order_by(Invitation.pairing_id)
        ).all()
        ids = [i.id for i in mine if i.id is not None]
        items = [[i.id for i in items_for_invitation(s, inv)] for inv in mine]
    key, other = new_resume_key(), new_resume_key()
    saved = record_answers(engine, ids[0], {items[0][0]: 4, items[0][1]: None}, resume_key=key)
    assert saved.ratings == {items[0][0]: 4, items[0][1]: None}
    record_answers(engine, ids[1], {items[1][0]: 2}, resume_key=key)
    with session_scope(engine) as s:
        submit_response(s, ids[1], resume_key=key)
    with session_scope(engine) as s:
        choices = {c.invitation_id: c for c in invitation_choices(s, ids, key)}
        assert choices[ids[0]].status == f"2/{len(items[0])}"
        assert choices[ids[1]].status == "submitted"
        assert invitation_choices(s, ids, other)[0].status == "begun elsewhere"
        view = questionnaire_view(s, ids[0], key)
        assert view.ratings == {items[0][0]: 4, items[0][1]: None} and view.answered == 2
        assert questionnaire_view(s, ids[0], other).ratings == {}
