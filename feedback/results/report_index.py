"""Which reports an actor can open: the choices the report, council and presentation pages
offer. A convenience for menus only — `feedback.results.publication` checks access again on every
read, so a choice missing here hides nothing that would otherwise be allowed."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core.models import Council
from core.roles import Actor, is_principal, is_staff, visible_council_ids
from core.vocabulary import CycleStatus, pairing_label
from feedback.access import published_to_principals_sql
from feedback.models import Cycle, CyclePairing, Pairing, Person

# Staff read the live engine once responses have stopped; principals read the edition
# published to them.
STAFF_READABLE = (CycleStatus.closed.value, CycleStatus.published.value)

COLUMNS = [
    "council_id",
    "council",
    "cycle_id",
    "cycle",
    "status",
    "opens_on",
    "published_at",
    "pairing_id",
    "kind",
    "portfolio",
    "member",
    "officer",
    "pairing",
]


def readable_reports(session: Session, actor: Actor, cycle_id: int | None = None) -> pd.DataFrame:
    """One row per (cycle, pairing) report this actor may read, newest cycle first.
    Staff: every pairing of closed or published cycles in their councils. A principal: their
    own pairings in cycles published to them. With `cycle_id`, only that cycle's (a page
    offering a national body's cycles lists them with `readable_cycles`, then one cycle's
    pairings from here: never all the country's pairings on each run)."""
    member, officer = aliased(Person), aliased(Person)
    query = (
        select(
            col(Council.id),
            col(Council.name),
            col(Cycle.id),
            col(Cycle.name),
            col(Cycle.status),
            col(Cycle.opens_on),
            col(Cycle.published_at),
            col(Pairing.id),
            col(Pairing.kind),
            col(Pairing.portfolio),
            col(member.full_name),
            col(officer.full_name),
        )
        .join(Cycle, col(Cycle.council_id) == col(Council.id))
        .join(CyclePairing, col(CyclePairing.cycle_id) == col(Cycle.id))
        .join(Pairing, col(Pairing.id) == col(CyclePairing.pairing_id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .order_by(
            col(Council.name),
            col(Cycle.opens_on).desc(),
            col(Cycle.id).desc(),
            col(Pairing.kind).desc(),
            col(Pairing.id),
        )
    )
    if cycle_id is not None:
        query = query.where(col(Cycle.id) == cycle_id)
    if is_staff(actor):
        query = query.where(col(Cycle.status).in_(STAFF_READABLE))
        councils = visible_council_ids(actor)
        if councils is not None:
            query = query.where(col(Council.id).in_(councils or {-1}))
    elif is_principal(actor) and actor.person_id is not None:
        query = query.where(
            or_(
                col(Pairing.member_id) == actor.person_id,
                col(Pairing.officer_id) == actor.person_id,
            ),
            published_to_principals_sql(),
        )
    else:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(session.execute(query).all(), columns=COLUMNS[:-1])
    frame["pairing"] = [
        pairing_label(m, o, p)
        for m, o, p in zip(frame["member"], frame["officer"], frame["portfolio"], strict=True)
    ]
    return frame


def readable_cycles(session: Session, actor: Actor) -> pd.DataFrame:
    """Cycles whose council overview this actor may read (staff; closed or published, with
    at least one pairing), in the order readable_reports lists them. One row per cycle
    from the database: a national body's list is hundreds of cycles, never every pairing."""
    if not is_staff(actor):
        return pd.DataFrame(columns=COLUMNS[:7])
    has_pairing = (
        select(col(CyclePairing.cycle_id)).where(col(CyclePairing.cycle_id) == col(Cycle.id))
    ).exists()
    query = (
        select(
            col(Council.id),
            col(Council.name),
            col(Cycle.id),
            col(Cycle.name),
            col(Cycle.status),
            col(Cycle.opens_on),
            col(Cycle.published_at),
        )
        .join(Cycle, col(Cycle.council_id) == col(Council.id))
        .where(col(Cycle.status).in_(STAFF_READABLE), has_pairing)
        .order_by(col(Council.name), col(Cycle.opens_on).desc(), col(Cycle.id).desc())
    )
    councils = visible_council_ids(actor)
    if councils is not None:
        query = query.where(col(Council.id).in_(councils or {-1}))
    return pd.DataFrame(session.execute(query).all(), columns=COLUMNS[:7])
