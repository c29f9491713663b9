"""The audit log of administrative actions. It never records answers or comments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import insert
from sqlmodel import Session, col, select

from core.db import select_row
from core.models import AuditEvent, Council, utcnow
from core.roles import Actor, require_admin

# Detail keys that would carry what a rater said. Refused outright, so no caller can put an
# answer or a comment into the log by accident.
ANSWER_KEYS = frozenset({"answer", "answers", "rating", "ratings", "comment", "comments"})


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None = None,
    council_id: int | None = None,
    **detail: Any,
) -> None:
    leaked = ANSWER_KEYS & {k.lower() for k in detail}
    if leaked:
        raise ValueError(f"The audit log never records answers or comments: {sorted(leaked)}")
    session.add(
        AuditEvent(
            actor=actor.label,
            action=action,
            entity=entity,
            entity_id=entity_id,
            council_id=council_id,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_ids: list[int],
    council_id: int | None = None,
) -> None:
    """One entry per record for an action done to many at once (a bulk import), written in
    one statement: the same entries `record` would write one by one."""
    if not entity_ids:
        return
    at = utcnow()
    session.execute(
        insert(AuditEvent),
        [
            {"at": at, "actor": actor.label, "action": action, "entity": entity,
             "entity_id": entity_id, "council_id": council_id, "detail": {}}
            for entity_id in entity_ids
        ],
    )  # fmt: skip


def read_log(
    session: Session,
    actor: Actor,
    *,
    council_id: int | None = None,
    action: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """The newest events first, for administrators. Filtering happens in SQL."""
    require_admin(actor)
    query = select_row(
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.entity,
        AuditEvent.entity_id,
        AuditEvent.council_id,
        col(Council.name).label("council"),
        AuditEvent.detail,
    ).outerjoin(Council, col(Council.id) == AuditEvent.council_id)
    if council_id is not None:
        query = query.where(AuditEvent.council_id == council_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.actor == username)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at <= until)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    rows = session.exec(query).all()
    columns = ["id", "at", "actor", "action", "entity", "entity_id", "council_id", "council"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=[*columns, "detail"])
    frame["detail"] = frame["detail"].map(_describe)
    frame["council"] = frame["council"].fillna("")
    return frame


def actions(session: Session, actor: Actor) -> list[str]:
    require_admin(actor)
    return sorted(session.exec(select(AuditEvent.action).distinct()).all())


def _describe(detail: dict[str, Any] | None) -> str:
    # Shown as text in a table cell, never as HTML.
    return "; ".join(f"{k}: {v}" for k, v in (detail or {}).items())
