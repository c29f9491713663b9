"""What the home page and `tandem cycles` show: councils, cycles, pairings, response counts.
Aggregated in SQL; never loads answers."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Select, case, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func

from core.models import Council
from core.roles import Actor, is_admin
from core.vocabulary import InvitationStatus
from feedback.models import Cycle, CyclePairing, Invitation, Pairing, Person

_submitted = func.sum(case((col(Invitation.status) == InvitationStatus.submitted, 1), else_=0))


def council_overview(session: Session, actor: Actor) -> pd.DataFrame:
    """One row per cycle: council, cycle, status, dates, pairings, invited and submitted."""
    pairings = (
        select(col(CyclePairing.cycle_id), func.count().label("pairings"))
        .group_by(col(CyclePairing.cycle_id))
        .subquery()
    )
    counts = (
        select(
            col(Invitation.cycle_id),
            func.count().label("invited"),
            _submitted.label("submitted"),
        )
        .where(col(Invitation.status) != InvitationStatus.revoked)
        .group_by(col(Invitation.cycle_id))
        .subquery()
    )
    query: Select[*tuple[Any, ...]] = (
        select(
            col(Council.id).label("council_id"),
            col(Council.name).label("council"),
            col(Cycle.id).label("cycle_id"),
            col(Cycle.name).label("cycle"),
            col(Cycle.status),
            col(Cycle.opens_on),
            col(Cycle.closes_on),
            func.coalesce(pairings.c.pairings, 0).label("pairings"),
            func.coalesce(counts.c.invited, 0).label("invited"),
            func.coalesce(counts.c.submitted, 0).label("submitted"),
        )
        .join(Cycle, col(Cycle.council_id) == col(Council.id))
        .outerjoin(pairings, pairings.c.cycle_id == col(Cycle.id))
        .outerjoin(counts, counts.c.cycle_id == col(Cycle.id))
        .order_by(col(Council.name), col(Cycle.opens_on).desc())
    )
    if not is_admin(actor):
        query = query.where(col(Council.id).in_(actor.council_ids or {-1}))
    rows = session.execute(query).all()
    columns = [
        "council_id",
        "council",
        "cycle_id",
        "cycle",
        "status",
        "opens_on",
        "closes_on",
        "pairings",
        "invited",
        "submitted",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["response_rate"] = frame["submitted"] / frame["invited"].where(frame["invited"] > 0)
    return frame


def pairing_overview(session: Session, cycle_id: int) -> pd.DataFrame:
    """One row per pairing in a cycle, with names and response counts."""
    member, officer = aliased(Person), aliased(Person)
    query: Select[*tuple[Any, ...]] = (
        select(
            col(Pairing.id).label("pairing_id"),
            col(Pairing.kind),
            col(Pairing.portfolio),
            col(member.full_name).label("member"),
            col(member.title).label("member_title"),
            col(officer.full_name).label("officer"),
            col(officer.title).label("officer_title"),
            func.count(col(Invitation.id)).label("invited"),
            _submitted.label("submitted"),
        )
        .join(CyclePairing, col(CyclePairing.pairing_id) == col(Pairing.id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .outerjoin(
            Invitation,
            (col(Invitation.pairing_id) == col(Pairing.id))
            & (col(Invitation.cycle_id) == cycle_id)
            & (col(Invitation.status) != InvitationStatus.revoked),
        )
        .where(col(CyclePairing.cycle_id) == cycle_id)
        .group_by(
            col(Pairing.id),
            col(Pairing.kind),
            col(Pairing.portfolio),
            col(member.full_name),
            col(member.title),
            col(officer.full_name),
            col(officer.title),
        )
        .order_by(col(Pairing.kind).desc(), col(Pairing.id))
    )
    rows = session.execute(query).all()
    columns = [
        "pairing_id",
        "kind",
        "portfolio",
        "member",
        "member_title",
        "officer",
        "officer_title",
        "invited",
        "submitted",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["submitted"] = frame["submitted"].fillna(0).astype(int)
    return frame
