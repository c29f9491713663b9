"""Which reports an actor can open: the choices the report, council and presentation pages
offer. A convenience for menus only — `feedback.results.publication` checks access again on every
read, so a choice missing here hides nothing that would otherwise be allowed."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from core.models import Council
from core.roles import STAFF_ROLES, Actor, visible_council_ids
from core.vocabulary import CycleStatus
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


def readable_reports(session: Session, actor: Actor) -> pd.DataFrame:
    """One row per (cycle, pairing) report this actor may read, newest cycle first.
    Staff: every pairing of closed or published cycles in their councils. A principal: their
    own pairings in cycles published to them."""
    member, officer = aliased(Person), aliased(Person)
    query = (
        select(
            Council.id,
            Council.name,
            Cycle.id,
            Cycle.name,
            Cycle.status,
            Cycle.opens_on,
            Cycle.published_at,
            Pairing.id,
            Pairing.kind,
            Pairing.portfolio,
            member.full_name,
            officer.full_name,
        )
        .join(Cycle, Cycle.council_id == Council.id)
        .join(CyclePairing, CyclePairing.cycle_id == Cycle.id)
        .join(Pairing, Pairing.id == CyclePairing.pairing_id)
        .join(member, member.id == Pairing.member_id)
        .join(officer, officer.id == Pairing.officer_id)
        .order_by(
            Council.name, Cycle.opens_on.desc(), Cycle.id.desc(), Pairing.kind.desc(), Pairing.id
        )
    )
    if actor.role in STAFF_ROLES:
        query = query.where(Cycle.status.in_(STAFF_READABLE))
        councils = visible_council_ids(actor)
        if councils is not None:
            query = query.where(Council.id.in_(councils or {-1}))
    elif actor.role == "principal" and actor.person_id is not None:
        query = query.where(
            or_(Pairing.member_id == actor.person_id, Pairing.officer_id == actor.person_id),
            published_to_principals_sql(),
        )
    else:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(session.exec(query).all(), columns=COLUMNS[:-1])
    portfolio = frame["portfolio"].where(frame["portfolio"] == "", " (" + frame["portfolio"] + ")")
    frame["pairing"] = frame["member"] + " & " + frame["officer"] + portfolio.fillna("")
    return frame


def readable_cycles(session: Session, actor: Actor) -> pd.DataFrame:
    """Cycles whose council overview this actor may read (staff; closed or published)."""
    if actor.role not in STAFF_ROLES:
        return pd.DataFrame(columns=COLUMNS[:7])
    frame = readable_reports(session, actor)
    return frame[COLUMNS[:7]].drop_duplicates("cycle_id").reset_index(drop=True)
