"""What the home page and `tandem cycles` show: councils, cycles, pairings, response counts.
Aggregated in SQL; never loads answers."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from core.models import Council
from core.roles import Actor
from core.vocabulary import InvitationStatus
from feedback.models import Cycle, CyclePairing, Invitation, Pairing, Person

_submitted = func.sum(case((Invitation.status == InvitationStatus.submitted, 1), else_=0))


def council_overview(session: Session, actor: Actor) -> pd.DataFrame:
    """One row per cycle: council, cycle, status, dates, pairings, invited and submitted."""
    pairings = (
        select(CyclePairing.cycle_id, func.count().label("pairings"))
        .group_by(CyclePairing.cycle_id)
        .subquery()
    )
    counts = (
        select(
            Invitation.cycle_id,
            func.count().label("invited"),
            _submitted.label("submitted"),
        )
        .where(Invitation.status != InvitationStatus.revoked)
        .group_by(Invitation.cycle_id)
        .subquery()
    )
    query = (
        select(
            Council.id.label("council_id"),
            Council.name.label("council"),
            Cycle.id.label("cycle_id"),
            Cycle.name.label("cycle"),
            Cycle.status,
            Cycle.opens_on,
            Cycle.closes_on,
            func.coalesce(pairings.c.pairings, 0).label("pairings"),
            func.coalesce(counts.c.invited, 0).label("invited"),
            func.coalesce(counts.c.submitted, 0).label("submitted"),
        )
        .join(Cycle, Cycle.council_id == Council.id)
        .outerjoin(pairings, pairings.c.cycle_id == Cycle.id)
        .outerjoin(counts, counts.c.cycle_id == Cycle.id)
        .order_by(Council.name, Cycle.opens_on.desc())
    )
    if actor.role not in ("admin", "system"):
        query = query.where(Council.id.in_(actor.council_ids or {-1}))
    rows = session.exec(query).all()
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
    query = (
        select(
            Pairing.id.label("pairing_id"),
            Pairing.kind,
            Pairing.portfolio,
            member.full_name.label("member"),
            member.title.label("member_title"),
            officer.full_name.label("officer"),
            officer.title.label("officer_title"),
            func.count(Invitation.id).label("invited"),
            _submitted.label("submitted"),
        )
        .join(CyclePairing, CyclePairing.pairing_id == Pairing.id)
        .join(member, member.id == Pairing.member_id)
        .join(officer, officer.id == Pairing.officer_id)
        .outerjoin(
            Invitation,
            (Invitation.pairing_id == Pairing.id)
            & (Invitation.cycle_id == cycle_id)
            & (Invitation.status != InvitationStatus.revoked),
        )
        .where(CyclePairing.cycle_id == cycle_id)
        .group_by(
            Pairing.id,
            Pairing.kind,
            Pairing.portfolio,
            member.full_name,
            member.title,
            officer.full_name,
            officer.title,
        )
        .order_by(Pairing.kind.desc(), Pairing.id)
    )
    rows = session.exec(query).all()
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
