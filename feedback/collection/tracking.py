"""Response tracking for the facilitator: who has responded and how many, never what
anyone answered (nothing here reads ratings or comments). Counted in SQL."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from core.db import select_row
from core.models import stored_id
from core.roles import Actor, require_council_manager
from core.vocabulary import GROUP_LABELS, InvitationStatus, RaterGroup, pairing_label
from feedback.models import Invitation, MessageLog, Pairing, Person
from feedback.setup.cycles import get_cycle

GROUP_ORDER = [RaterGroup.principal, RaterGroup.members, RaterGroup.officers, RaterGroup.partners]


def _label(group: str) -> str:
    return "Principals" if group == RaterGroup.principal else GROUP_LABELS[group]


def _pairing_names(session: Session, cycle_id: int) -> dict[int, str]:
    member, officer = aliased(Person), aliased(Person)
    rows = session.exec(
        select(Pairing.id, member.full_name, officer.full_name, Pairing.portfolio)
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .where(
            col(Pairing.id).in_(
                select(Invitation.pairing_id).where(col(Invitation.cycle_id) == cycle_id)
            )
        )
    ).all()
    return {stored_id(pid): pairing_label(m, o, p) for pid, m, o, p in rows}


def response_rates(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """One row per pairing and rater group: invited, started, submitted, rate."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    submitted = func.sum(case((col(Invitation.status) == InvitationStatus.submitted, 1), else_=0))
    started = func.sum(case((col(Invitation.status) == InvitationStatus.in_progress, 1), else_=0))
    rows = session.exec(
        select_row(
            Invitation.pairing_id,
            Invitation.rater_group,
            func.count(),
            started,
            submitted,
        )
        .where(Invitation.cycle_id == cycle_id, Invitation.status != InvitationStatus.revoked)
        .group_by(col(Invitation.pairing_id), col(Invitation.rater_group))
    ).all()
    frame = pd.DataFrame(
        rows, columns=["pairing_id", "rater_group", "invited", "in_progress", "submitted"]
    )
    if frame.empty:
        frame["pairing"] = pd.Series(dtype=str)
        frame["group"] = pd.Series(dtype=str)
        frame["response_rate"] = pd.Series(dtype=float)
        frame["below_threshold"] = pd.Series(dtype=bool)
        return frame
    names = _pairing_names(session, cycle_id)
    frame["pairing"] = frame["pairing_id"].map(names)
    frame["group"] = frame["rater_group"].map(_label)
    frame["order"] = frame["rater_group"].map({g.value: i for i, g in enumerate(GROUP_ORDER)})
    frame[["in_progress", "submitted"]] = frame[["in_progress", "submitted"]].astype(int)
    frame["response_rate"] = frame["submitted"] / frame["invited"]
    # An anonymous group is only reported with enough responses: flag it early.
    frame["below_threshold"] = (frame["rater_group"] != RaterGroup.principal) & (
        frame["submitted"] < cycle.anonymity_threshold
    )
    return frame.sort_values(["pairing_id", "order"]).drop(columns="order").reset_index(drop=True)


def cycle_totals(session: Session, actor: Actor, cycle_id: int) -> dict[str, int | float]:
    rates = response_rates(session, actor, cycle_id)
    invited = int(rates["invited"].sum()) if not rates.empty else 0
    submitted = int(rates["submitted"].sum()) if not rates.empty else 0
    return {
        "invited": invited,
        "submitted": submitted,
        "in_progress": int(rates["in_progress"].sum()) if not rates.empty else 0,
        "response_rate": submitted / invited if invited else 0.0,
    }


def not_responded(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """Raters who have not submitted, with when they were emailed and reminded."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    rows = session.exec(
        select_row(
            Person.full_name,
            Person.email,
            Invitation.pairing_id,
            Invitation.rater_group,
            Invitation.status,
            Invitation.sent_at,
            Invitation.reminder_count,
            Invitation.last_reminded_at,
        )
        .join(Person, col(Person.id) == col(Invitation.rater_id))
        .where(
            Invitation.cycle_id == cycle_id,
            col(Invitation.status).in_(
                [InvitationStatus.not_started, InvitationStatus.in_progress]
            ),
        )
        .order_by(col(Invitation.pairing_id), col(Invitation.rater_group), col(Person.full_name))
    ).all()
    frame = pd.DataFrame(
        rows,
        columns=[
            "name",
            "email",
            "pairing_id",
            "rater_group",
            "status",
            "emailed_at",
            "reminders",
            "last_reminded_at",
        ],
    )
    frame.insert(2, "pairing", frame["pairing_id"].map(_pairing_names(session, cycle_id)))
    frame.insert(3, "group", frame["rater_group"].map(_label))
    return frame.drop(columns=["pairing_id", "rater_group"])


def message_history(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """Every invitation and reminder sent or exported, newest first."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    rows = session.exec(
        select_row(
            MessageLog.sent_at,
            MessageLog.kind,
            MessageLog.channel,
            Person.full_name,
            Person.email,
            MessageLog.ok,
            MessageLog.error,
        )
        .join(Invitation, col(Invitation.id) == col(MessageLog.invitation_id))
        .join(Person, col(Person.id) == col(Invitation.rater_id))
        .where(Invitation.cycle_id == cycle_id)
        .order_by(col(MessageLog.sent_at).desc(), col(MessageLog.id).desc())
    ).all()
    return pd.DataFrame(
        rows, columns=["when", "kind", "channel", "name", "email", "delivered", "error"]
    )
