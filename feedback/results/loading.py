"""The results' SQL: each query gives the engine one kind of data as a DataFrame.

`load` reads everything the engine needs for one cycle (or one pairing of it) in one query
per kind of data; only submitted responses count, and `cutoffs` (pairing id → time) keep a
pairing to the responses submitted by then (how a held-back edition is worked out again).
The previous cycle's published figures, for the change since then, are read here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core.errors import NotFound
from core.models import Council
from core.vocabulary import CycleKind, InvitationStatus, ResponseStatus, pairing_label
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Dimension,
    DimensionPick,
    FrameworkVersion,
    Invitation,
    Item,
    OpenAnswer,
    Pairing,
    Person,
    PublishedPairingReport,
    PublishedReport,
    Rating,
    Response,
)
from feedback.results.engine import Inputs
from feedback.results.tables import FINISHED, SRC, TARGET_CODE, solace_source
from feedback.setup.framework import framework_spec

SOLACE_MEASURES = {"solace.advice": "advice", "solace.relationship": "relationship"}


def _frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    """Query rows as a DataFrame, column by column (pandas reading the rows one by one
    inspects each row object, several times slower), with the dtypes it would infer."""
    if not rows:
        return pd.DataFrame(rows, columns=columns)
    values = list(zip(*rows, strict=True))
    return pd.DataFrame({name: pd.Series(list(v)) for name, v in zip(columns, values, strict=True)})


def load_cycle(session: Session, cycle_id: int) -> Cycle:
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    return cycle


def _pairings(session: Session, cycle_id: int, pairing_id: int | None) -> pd.DataFrame:
    member, officer = aliased(Person), aliased(Person)
    query = (
        select(
            col(Pairing.id),
            col(Pairing.kind),
            col(Pairing.portfolio),
            col(Pairing.member_id),
            col(Pairing.officer_id),
            col(member.full_name),
            col(member.title),
            col(officer.full_name),
            col(officer.title),
            col(Pairing.started_on),
        )
        .join(CyclePairing, col(CyclePairing.pairing_id) == col(Pairing.id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .where(col(CyclePairing.cycle_id) == cycle_id)
        .order_by(col(Pairing.kind).desc(), col(Pairing.id))
    )
    if pairing_id is not None:
        query = query.where(col(Pairing.id) == pairing_id)
    columns = [
        "pairing_id",
        "kind",
        "portfolio",
        "member_id",
        "officer_id",
        "member_name",
        "member_title",
        "officer_name",
        "officer_title",
        "started_on",
    ]
    frame = _frame(session.execute(query).all(), columns)
    frame["pairing_label"] = [
        pairing_label(m, o, p)
        for m, o, p in zip(
            frame["member_name"], frame["officer_name"], frame["portfolio"], strict=True
        )
    ]
    return frame


def _items(session: Session, framework_version_id: int) -> pd.DataFrame:
    target_code = case(
        *((col(Item.target) == name, code) for name, code in TARGET_CODE.items()), else_=-1
    )
    query = (
        select(
            col(Item.id),
            col(Item.code),
            col(Item.text),
            col(Item.target),
            col(Item.position),
            col(Dimension.code),
            col(Dimension.name),
            func.coalesce(col(Dimension.position), -1),
            target_code,
            col(Item.audience),
        )
        .outerjoin(Dimension, col(Dimension.id) == col(Item.dimension_id))
        .where(col(Item.framework_version_id) == framework_version_id)
        .order_by(col(Item.position))
    )
    columns = [
        "item_id",
        "item_code",
        "item_text",
        "target",
        "item_position",
        "dimension_code",
        "dimension_name",
        "dimension_position",
        "t",
        "audience",
    ]
    return _frame(session.execute(query).all(), columns)


def _submitted_by(cutoffs: dict[int, datetime] | None, column: Any = None) -> Any:
    """SQL condition: the response (or with `column`, the invitation) counts at this
    edition's cut-off (None: no condition)."""
    if not cutoffs:
        return None
    column = col(Response.submitted_at) if column is None else column
    limited = [
        and_(col(Invitation.pairing_id) == int(pid), column <= at) for pid, at in cutoffs.items()
    ]
    return or_(col(Invitation.pairing_id).not_in([int(p) for p in cutoffs]), *limited)


def _group_code() -> Any:
    """The rater's group as a small integer, principals split into member and officer."""
    return case(
        (col(Invitation.rater_group) == "members", SRC["members"]),
        (col(Invitation.rater_group) == "officers", SRC["officers"]),
        (col(Invitation.rater_group) == "partners", SRC["partners"]),
        (col(Invitation.rater_id) == col(Pairing.member_id), SRC["member_view"]),
        else_=SRC["officer_view"],
    )


def _ratings(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """THE ratings query: every submitted answer of the cycle (or of one pairing)."""
    query = (
        select(
            col(Invitation.pairing_id),
            col(Response.id),
            _group_code(),
            col(Rating.item_id),
            col(Rating.value),
        )
        .join(Pairing, col(Pairing.id) == col(Invitation.pairing_id))
        .join(Response, col(Response.invitation_id) == col(Invitation.id))
        .join(Rating, col(Rating.response_id) == col(Response.id))
        .where(
            col(Invitation.cycle_id) == cycle_id, col(Response.status) == ResponseStatus.submitted
        )
    )
    if pairing_id is not None:
        query = query.where(col(Invitation.pairing_id) == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    rows = session.execute(query).all()
    frame = _frame(rows, ["pairing_id", "response_id", "g", "item_id", "value"])
    frame["value"] = frame["value"].astype("float64")
    for column in ("pairing_id", "response_id", "g", "item_id"):
        frame[column] = frame[column].astype("int64")
    return frame


def _invitations(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    submitted = col(Response.status) == ResponseStatus.submitted
    invited = col(Invitation.status) != InvitationStatus.revoked
    condition = _submitted_by(cutoffs)
    if condition is not None:
        submitted = and_(submitted, condition)
        invited = and_(invited, _submitted_by(cutoffs, col(Invitation.created_at)))
    query = (
        select(
            col(Invitation.pairing_id),
            col(Invitation.rater_group),
            func.sum(case((invited, 1), else_=0)),
            func.sum(case((submitted, 1), else_=0)),
        )
        .outerjoin(Response, col(Response.invitation_id) == col(Invitation.id))
        .where(col(Invitation.cycle_id) == cycle_id)
        .group_by(col(Invitation.pairing_id), col(Invitation.rater_group))
    )
    if pairing_id is not None:
        query = query.where(col(Invitation.pairing_id) == pairing_id)
    columns = ["pairing_id", "group", "invited", "responded"]
    return _frame(session.execute(query).all(), columns)


def _submitted_frame(
    session: Session,
    query: Any,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
    columns: list[str],
) -> pd.DataFrame:
    """`query` (joined to Invitation and Response) kept to the cycle's submitted responses —
    of one pairing if given, and by each pairing's cut-off — as a frame of `columns`."""
    query = query.where(
        col(Invitation.cycle_id) == cycle_id, col(Response.status) == ResponseStatus.submitted
    )
    if pairing_id is not None:
        query = query.where(col(Invitation.pairing_id) == pairing_id)
    condition = _submitted_by(cutoffs)
    if condition is not None:
        query = query.where(condition)
    return _frame(session.execute(query).all(), columns)


def _comments(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(
            col(Invitation.pairing_id),
            col(Invitation.rater_group),
            col(Dimension.code),
            col(Comment.text),
            col(Response.id),
            col(Response.language),
        )
        .join(Response, col(Response.invitation_id) == col(Invitation.id))
        .join(Comment, col(Comment.response_id) == col(Response.id))
        .join(Dimension, col(Dimension.id) == col(Comment.dimension_id))
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "rater_group", "dimension_code", "text", "response_id", "language"],
    )


def _responses(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """Every submitted response (by the cut-off): pairing_id, group, response_id."""
    query = select(col(Invitation.pairing_id), col(Invitation.rater_group), col(Response.id)).join(
        Response, col(Response.invitation_id) == col(Invitation.id)
    )
    return _submitted_frame(
        session, query, cycle_id, pairing_id, cutoffs, ["pairing_id", "group", "response_id"]
    )


def _open_answers(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    query = (
        select(
            col(Invitation.pairing_id),
            col(Invitation.rater_group),
            col(OpenAnswer.question),
            col(OpenAnswer.text),
            col(Response.id),
        )
        .join(Response, col(Response.invitation_id) == col(Invitation.id))
        .join(OpenAnswer, col(OpenAnswer.response_id) == col(Response.id))
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "rater_group", "question", "text", "response_id"],
    )


def _picks(
    session: Session,
    cycle_id: int,
    pairing_id: int | None,
    cutoffs: dict[int, datetime] | None,
) -> pd.DataFrame:
    """Every submitted pick of a dimension that matters most: pairing, response, the
    rater's group code (principals as member_view / officer_view) and the dimension."""
    query = (
        select(col(Invitation.pairing_id), col(Response.id), _group_code(), col(Dimension.code))
        .join(Pairing, col(Pairing.id) == col(Invitation.pairing_id))
        .join(Response, col(Response.invitation_id) == col(Invitation.id))
        .join(DimensionPick, col(DimensionPick.response_id) == col(Response.id))
        .join(Dimension, col(Dimension.id) == col(DimensionPick.dimension_id))
    )
    return _submitted_frame(
        session,
        query,
        cycle_id,
        pairing_id,
        cutoffs,
        ["pairing_id", "response_id", "g", "dimension_code"],
    )


def solace_benchmarks(
    session: Session, framework_version_ids: list[int] | None = None
) -> pd.DataFrame:
    """The Solace-comparable questions' benchmarks, from the stored framework definitions:
    item_code, measure, values (answers that count), national_pct, label."""
    query = select(col(FrameworkVersion.definition)).order_by(col(FrameworkVersion.id))
    if framework_version_ids is not None:
        query = query.where(col(FrameworkVersion.id).in_(framework_version_ids))
    rows: dict[str, dict[str, Any]] = {}
    for definition in session.execute(query).scalars():
        for q in (definition or {}).get("solace", []):
            bench = q.get("benchmark") or {}
            rows[q["code"]] = {
                "item_code": q["code"],
                "measure": SOLACE_MEASURES.get(q["code"], q["code"].removeprefix("solace.")),
                "values": list(bench.get("values", [])),
                "national_pct": round(100 * float(bench.get("share", 0)), 1),
                "label": bench.get("label", ""),
                "source": solace_source(bench.get("year"), bench.get("sample")),
            }
    return pd.DataFrame(
        list(rows.values()),
        columns=["item_code", "measure", "values", "national_pct", "label", "source"],
    )


def previous_cycle(session: Session, cycle: Cycle, pairing_id: int) -> Cycle | None:
    """The cycle a report's change is taken against: for a 90-day pulse, the full cycle it
    follows; for a full cycle, the latest earlier closed or published FULL cycle of the
    same council with this pairing (a pulse asked too little to compare a full cycle with)."""
    return previous_cycles(session, cycle, [pairing_id])[pairing_id]


def previous_published_dimensions(
    session: Session, previous: Cycle, pairing_id: int
) -> list[dict[str, Any]] | None:
    """This pairing's dimension table in the previous cycle's latest edition that has it
    (None if that cycle was never published, or no edition has a part for the pairing)."""
    return previous_published_dimensions_of(session, {pairing_id: previous})[pairing_id]


def previous_cycles(session: Session, cycle: Cycle, ids: list[int]) -> dict[int, Cycle | None]:
    """`previous_cycle` for several pairings of a cycle in one query."""
    if cycle.kind == CycleKind.pulse:
        follows = session.get(Cycle, cycle.follows_cycle_id) if cycle.follows_cycle_id else None
        return {pid: follows for pid in ids}
    out: dict[int, Cycle | None] = {pid: None for pid in ids}
    if not ids:
        return out
    query = (
        select(col(CyclePairing.pairing_id), Cycle)
        .join(CyclePairing, col(CyclePairing.cycle_id) == col(Cycle.id))
        .where(
            col(CyclePairing.pairing_id).in_(sorted(set(ids))),
            col(Cycle.council_id) == cycle.council_id,
            col(Cycle.id) != cycle.id,
            col(Cycle.opens_on) < cycle.opens_on,
            col(Cycle.status).in_(FINISHED),
            col(Cycle.kind) == CycleKind.full,
        )
        .order_by(col(Cycle.opens_on).desc(), col(Cycle.id).desc())
    )
    for pid, found in session.execute(query).all():
        if out.get(int(pid)) is None:
            out[int(pid)] = found
    return out


def previous_published_dimensions_of(
    session: Session, previous: dict[int, Cycle | None]
) -> dict[int, list[dict[str, Any]] | None]:
    """`previous_published_dimensions` for several pairings (pairing → its previous cycle)
    in one query."""
    out: dict[int, list[dict[str, Any]] | None] = {pid: None for pid in previous}
    wanted = {(stored_id(c), pid) for pid, c in previous.items() if c is not None}
    if not wanted:
        return out
    rows = session.execute(
        select(
            col(PublishedReport.cycle_id),
            col(PublishedPairingReport.pairing_id),
            col(PublishedPairingReport.content)["dimensions"],
        )
        .join(PublishedReport, col(PublishedReport.id) == col(PublishedPairingReport.report_id))
        .where(
            col(PublishedReport.cycle_id).in_(sorted({c for c, _p in wanted})),
            col(PublishedPairingReport.pairing_id).in_(sorted({p for _c, p in wanted})),
        )
        .order_by(col(PublishedReport.edition).desc())
    ).all()
    seen: set[tuple[int, int]] = set()
    for cycle_id, pid, dims in rows:
        key = (int(cycle_id), int(pid))
        if key not in wanted or key in seen:
            continue
        seen.add(key)
        out[int(pid)] = dims if isinstance(dims, list) else None
    return out


def load(
    session: Session,
    cycle: Cycle,
    pairing_id: int | None = None,
    cutoffs: dict[int, datetime] | None = None,
) -> Inputs:
    """Everything the engine needs for this cycle (or one pairing of it), by the cut-offs."""
    cycle_id = stored_id(cycle)
    council = session.get(Council, cycle.council_id)
    version = session.get(FrameworkVersion, cycle.framework_version_id)
    if version is None:
        raise NotFound("That cycle's framework does not exist.")
    return Inputs(
        cycle=cycle,
        council_name=council.name if council else "",
        pairings=_pairings(session, cycle_id, pairing_id),
        items=_items(session, cycle.framework_version_id),
        ratings=_ratings(session, cycle_id, pairing_id, cutoffs),
        invitations=_invitations(session, cycle_id, pairing_id, cutoffs),
        comments=_comments(session, cycle_id, pairing_id, cutoffs),
        responses=_responses(session, cycle_id, pairing_id, cutoffs),
        open_answers=_open_answers(session, cycle_id, pairing_id, cutoffs),
        picks=_picks(session, cycle_id, pairing_id, cutoffs),
        spec=framework_spec(version),
        framework_version=version.version,
        solace_benchmarks=solace_benchmarks(session, [cycle.framework_version_id]),
    )


class Stored(Protocol):
    id: int | None


def stored_id(row: Stored) -> int:
    """A stored row's id (a row read from the database, or flushed, always has one)."""
    if row.id is None:
        raise NotFound("That record has not been saved.")
    return row.id
