"""Publishing: frozen editions, the republish hold-back against differencing, and who may
read what (both backends)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from alembic import command
from analysis_builder import add_rater, codes, small_cycle
from sqlalchemy import text as sa_text
from sqlmodel import Session, select

from core.db import alembic_config, make_engine, schema_state, upgrade
from core.errors import Invalid, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle, PublishedReport
from feedback.results.publication import (
    edition_content,
    list_editions,
    publish_cycle,
    read_all_pairing_reports,
    read_council_overview,
    read_pairing_report,
)
from feedback.results.tables import PairingReport
from feedback.setup.cycles import set_cycle_status

FIGURES = ("groups", "items", "dimensions", "gaps", "top_items", "bottom_items", "mirror")


def _built(session: Session, threshold: int = 3):
    s = small_cycle(session, threshold=threshold)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 3)
    for v in (2, 3, 4):
        add_rater(session, s, "members", v, comments={"advice": f"councillor {v}"})
    for v in (3, 3, 5):
        add_rater(session, s, "officers", v)
    session.commit()
    return s


def _principal(person_id: int) -> Actor:
    return Actor(username=f"p{person_id}", role="principal", person_id=person_id)


def _editions(session: Session, cycle_id: int) -> list[PublishedReport]:
    return list(
        session.exec(
            select(PublishedReport)
            .where(PublishedReport.cycle_id == cycle_id)
            .order_by(PublishedReport.edition)
        )
    )


def _reopen(session: Session, cycle_id: int) -> None:
    set_cycle_status(session, SYSTEM, cycle_id, "closed")
    set_cycle_status(session, SYSTEM, cycle_id, "open")


def _republish(session: Session, cycle_id: int) -> None:
    set_cycle_status(session, SYSTEM, cycle_id, "closed")
    set_cycle_status(session, SYSTEM, cycle_id, "published")
    session.commit()


def test_a_published_report_reads_back_the_tables_it_was_published_with(
    session: Session,
) -> None:
    """The edition is stored per pairing and its tables are made into DataFrames only when
    read: every table read back equals the one computed before publishing, and the stored
    dict is unchanged whether or not the tables were built."""
    s = _built(session)
    live = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)  # closed: computed
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    (edition,) = _editions(session, s.cycle_id)
    stored = edition_content(session, edition)["pairings"][str(s.pairing_id)]
    opened = read_pairing_report(session, _principal(s.member_id), s.cycle_id, s.pairing_id)
    assert opened.to_dict() == stored  # no table built yet: the stored records as they are
    for name in PairingReport.TABLES:
        assert name not in opened.__dict__
        pd.testing.assert_frame_equal(
            getattr(opened, name).reset_index(drop=True),
            getattr(live, name).reset_index(drop=True),
            check_dtype=False,
            obj=name,
        )
    assert not live.items.empty and not live.gaps.empty
    assert opened.to_dict() == stored  # every table built: still exactly what was stored


def test_publishing_freezes_an_edition_principals_read(session: Session) -> None:
    s = _built(session)
    member = _principal(s.member_id)
    with pytest.raises(PermissionDenied, match="not published yet"):
        read_pairing_report(session, member, s.cycle_id, s.pairing_id)
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    (edition,) = _editions(session, s.cycle_id)
    assert (
        edition.edition == 1 and str(s.pairing_id) in edition_content(session, edition)["pairings"]
    )
    assert edition_content(session, edition)["overview"]["meta"]["edition"] == 1
    report = read_pairing_report(session, member, s.cycle_id, s.pairing_id)
    assert report.meta["edition"] == 1
    assert report.comments == {"advice": ["councillor 2", "councillor 3", "councillor 4"]}
    assert report.to_dict() == edition_content(session, edition)["pairings"][str(s.pairing_id)]
    assert [e.edition for e in list_editions(session, SYSTEM, s.cycle_id)] == [1]

    other = _built(session)
    with pytest.raises(PermissionDenied, match="your own pairing"):
        read_pairing_report(session, _principal(other.member_id), s.cycle_id, s.pairing_id)
    with pytest.raises(PermissionDenied):
        read_council_overview(session, member, s.cycle_id)
    stranger = Actor(username="f", role="facilitator", council_ids=frozenset({other.council_id}))
    with pytest.raises(PermissionDenied):
        read_council_overview(session, stranger, s.cycle_id)
    own = Actor(username="g", role="facilitator", council_ids=frozenset({s.council_id}))
    assert read_council_overview(session, own, s.cycle_id).meta["cycle_id"] == s.cycle_id


def test_staff_read_live_only_once_closed(session: Session) -> None:
    s = small_cycle(session, status="open")
    add_rater(session, s, "member", 4)
    session.commit()
    with pytest.raises(Invalid, match="once the cycle is closed"):
        read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    with pytest.raises(Invalid, match="close it first"):
        publish_cycle(session, SYSTEM, s.cycle_id)
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    live = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert live.meta["edition"] is None and not live.groups.empty


def test_one_late_reply_changes_nothing_until_enough_join_it(session: Session) -> None:
    s = _built(session)
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    _reopen(session, s.cycle_id)
    add_rater(session, s, "members", 1, comments={"advice": "late and identifiable"})
    _republish(session, s.cycle_id)
    first, second = _editions(session, s.cycle_id)
    key = str(s.pairing_id)
    a, b = (
        edition_content(session, first)["pairings"][key],
        edition_content(session, second)["pairings"][key],
    )
    for name in FIGURES:
        assert a[name] == b[name], name
    assert a["comments"] == b["comments"]
    assert "late and identifiable" not in str(edition_content(session, second))
    # Principals are told nothing of the late reply: the edition is simply the edition.
    assert b["notices"] == a["notices"]
    leader = read_pairing_report(session, _principal(s.member_id), s.cycle_id, s.pairing_id)
    assert not any("repl" in n and "since" in n for n in leader.notices), leader.notices
    # Staff are told it is held back.
    staff = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert any("stay as they were" in n for n in staff.notices)
    for name in ("heatmap", "distribution", "solace"):
        assert (
            edition_content(session, first)["overview"][name]
            == edition_content(session, second)["overview"][name]
        ), name
    # Staff see the same hold-back live, so comparing live with published reveals nothing.
    live = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict()
    assert live["items"] == a["items"]

    # Two more councillors: three new replies (and comments) in the group, so the figures
    # may move on.
    _reopen(session, s.cycle_id)
    add_rater(session, s, "members", 1, comments={"advice": "second late"})
    add_rater(session, s, "members", 1, comments={"advice": "third late"})
    _republish(session, s.cycle_id)
    third = edition_content(session, _editions(session, s.cycle_id)[-1])["pairings"][key]
    responded = {g["group"]: g["responded"] for g in third["groups"]}
    assert responded["members"] == 6
    assert third["items"] != a["items"]
    assert "late and identifiable" in third["comments"]["advice"]
    assert not any("stay as they were" in n for n in third["notices"])


def test_one_late_answer_to_an_item_is_held_back(session: Session) -> None:
    """The audit's case: three officers answered A; three late officers replied but only one
    answered A. Showing A at n = 4 would give that one answer back (4×mean₂ − 3×mean₁)."""
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 3)
    roles = codes(s, "roles", "member")
    a = roles[0]
    for v in (4, 4, 5):
        add_rater(session, s, "officers", v)
    session.commit()
    publish_cycle(session, SYSTEM, s.cycle_id)
    session.commit()
    for v in (1, 2, 2):
        answers = {c: v for c in roles}
        if v != 1:
            answers[a] = None  # can't say: only the first late officer answers A
        add_rater(session, s, "officers", answers, default=v)
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    session.commit()
    live = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert any("stay as they were" in n for n in live.notices)
    assert set(read_all_pairing_reports(session, SYSTEM, s.cycle_id)) == {s.pairing_id}
    overview = read_council_overview(session, SYSTEM, s.cycle_id).to_dict()
    publish_cycle(session, SYSTEM, s.cycle_id)
    session.commit()
    first, second = _editions(session, s.cycle_id)
    key = str(s.pairing_id)
    x, y = (
        edition_content(session, first)["pairings"][key],
        edition_content(session, second)["pairings"][key],
    )
    for name in FIGURES:
        assert x[name] == y[name], name
    assert live.to_dict()["items"] == x["items"]
    for name in ("heatmap", "distribution"):
        assert (
            overview[name]
            == edition_content(session, first)["overview"][name]
            == edition_content(session, second)["overview"][name]
        )
    cell = next(r for r in y["items"] if r["item_code"] == a and r["source"] == "officers")
    assert cell["n"] == 3


def test_change_comes_only_from_a_published_previous_cycle(session: Session) -> None:
    before = small_cycle(session, threshold=2, opens_on=date(2026, 1, 5))
    add_rater(session, before, "member", 3)
    for v in (2, 2):
        add_rater(session, before, "officers", v)
    after = small_cycle(session, threshold=2, council_id=before.council_id,
                        member_id=before.member_id, officer_id=before.officer_id,
                        pairing_id=before.pairing_id)  # fmt: skip
    add_rater(session, after, "member", 4)
    for v in (3, 4):
        add_rater(session, after, "officers", v)
    session.commit()
    # The earlier cycle is closed but was never published: no change table anywhere.
    live = read_pairing_report(session, SYSTEM, after.cycle_id, after.pairing_id)
    assert live.change.empty and live.meta["previous_cycle_name"] is None
    edition = publish_cycle(session, SYSTEM, after.cycle_id)
    session.commit()
    assert edition_content(session, edition)["pairings"][str(after.pairing_id)]["change"] == []

    # Published, then a late officer held back there: the change uses what was published.
    publish_cycle(session, SYSTEM, before.cycle_id)
    add_rater(session, before, "officers", 5)
    publish_cycle(session, SYSTEM, before.cycle_id)
    edition = publish_cycle(session, SYSTEM, after.cycle_id)
    session.commit()
    section = edition_content(session, edition)["pairings"][str(after.pairing_id)]
    assert section["meta"]["previous_cycle_name"] == session.get(Cycle, before.cycle_id).name
    rows = {(r["dimension_code"], r["target"], r["source"]): r for r in section["change"]}
    row = rows[("roles", "member", "others")]
    assert (row["previous"], row["current"], row["change"]) == (2, 3.5, 1.5)


@pytest.mark.parametrize("empty_db_url", ["sqlite", "postgresql"], indirect=True)
def test_editions_published_before_the_split_move_over_and_back_unchanged(
    empty_db_url: str,
) -> None:
    """Migration 0003 moves each pairing's part of an existing edition into its own row,
    and its downgrade puts it back: the edition reads the same before and after."""
    engine = make_engine(empty_db_url)
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        s = _built(session)
        set_cycle_status(session, SYSTEM, s.cycle_id, "published")
        session.commit()
        (edition,) = _editions(session, s.cycle_id)
        whole = edition_content(session, edition)
        read_before = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict()
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0002")
    with engine.connect() as conn:
        (raw,) = conn.execute(
            sa_text("SELECT content FROM publishedreport WHERE id = :id"), {"id": edition.id}
        ).one()
    old_shape = json.loads(raw) if isinstance(raw, str) else raw
    assert old_shape == whole  # the pairings are back inside the edition, unchanged
    assert schema_state(engine) == "older"
    upgrade(engine)
    with Session(engine) as session:
        (edition,) = _editions(session, s.cycle_id)
        assert "pairings" not in edition.content
        assert edition_content(session, edition) == whole
        read_after = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict()
    assert read_after == read_before and read_after["items"]
    engine.dispose()
