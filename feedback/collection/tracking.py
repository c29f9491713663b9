"""Response tracking for the facilitator: who has responded and how far each rater has got,
never what anyone answered (nothing here reads ratings or comments). Counted in SQL.

The stages (core.vocabulary.TrackingStage): emailed by Tandem, or exported for a mail merge
(Tandem sent nothing: the council's own mail did, so it is never called "delivered"), the
link opened, a draft saved ("started"), submitted. Opening and starting are statuses staff
already see to chase replies; the dates shown are days, never times, and nothing says what
anyone answered. Headings and dates are in words (core.formats), so the page, `tandem
tracking` and any download read the same."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from sqlalchemy import case, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from core.cells import active_sheet, csv_text, write_rows
from core.db import select_row
from core.formats import share_of, uk_date, uk_datetime
from core.models import stored_id
from core.roles import Actor, require_council_manager
from core.vocabulary import (
    GROUP_LABELS,
    MESSAGE_CHANNELS,
    InvitationStatus,
    RaterGroup,
    TrackingStage,
    pairing_label,
)
from feedback.models import Invitation, MessageLog, Pairing, Person, Response
from feedback.setup.cycles import get_cycle

GROUP_ORDER = [RaterGroup.principal, RaterGroup.members, RaterGroup.officers, RaterGroup.partners]
LIVE = (InvitationStatus.not_started, InvitationStatus.in_progress, InvitationStatus.submitted)
STARTED = (InvitationStatus.in_progress, InvitationStatus.submitted)

# The headings of the tables below, in words (the page, the CLI and downloads use these).
RATE_HEADINGS = {
    "pairing": "Pairing",
    "group": "Group",
    "invited": "Invited",
    "emailed": "Emailed",
    "exported": "Exported for mail merge",
    "opened": "Opened the link",
    "started": "Started",
    "submitted": "Submitted",
    "rate": "Response rate",
    "note": "Note",
}


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


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _opened() -> Any:
    # A draft or a submission means the link was opened, even before opening was recorded.
    return or_(col(Invitation.opened_at).is_not(None), col(Invitation.status).in_(STARTED))


def response_rates(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """One row per pairing and rater group: invited, emailed, exported for mail merge,
    opened, started (a draft saved, or submitted), submitted, and the response rate."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    rows = session.exec(
        select_row(
            Invitation.pairing_id,
            Invitation.rater_group,
            func.count(),
            _count(col(Invitation.sent_at).is_not(None)),
            _count(col(Invitation.exported_at).is_not(None)),
            _count(_opened()),
            _count(col(Invitation.status).in_(STARTED)),
            _count(col(Invitation.status) == InvitationStatus.submitted),
        )
        .where(Invitation.cycle_id == cycle_id, Invitation.status != InvitationStatus.revoked)
        .group_by(col(Invitation.pairing_id), col(Invitation.rater_group))
    ).all()
    counts = ["invited", "emailed", "exported", "opened", "started", "submitted"]
    frame = pd.DataFrame(rows, columns=["pairing_id", "rater_group", *counts])
    if frame.empty:
        for name, dtype in (("pairing", str), ("group", str), ("response_rate", float)):
            frame[name] = pd.Series(dtype=dtype)
        frame["below_threshold"] = pd.Series(dtype=bool)
        return frame
    frame[counts] = frame[counts].astype(int)
    frame["pairing"] = frame["pairing_id"].map(_pairing_names(session, cycle_id))
    frame["group"] = frame["rater_group"].map(_label)
    frame["order"] = frame["rater_group"].map({g.value: i for i, g in enumerate(GROUP_ORDER)})
    frame["response_rate"] = frame["submitted"] / frame["invited"]
    # An anonymous group is only reported with enough responses: flag it early.
    frame["below_threshold"] = (frame["rater_group"] != RaterGroup.principal) & (
        frame["submitted"] < cycle.anonymity_threshold
    )
    return frame.sort_values(["pairing_id", "order"]).drop(columns="order").reset_index(drop=True)


def rates_in_words(rates: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """`response_rates` as people read it: headings in words, the rate as "67% (2 of 3)",
    and a note on anonymous groups still below the threshold."""
    shown = rates.assign(
        rate=[
            share_of(int(s), int(i))
            for s, i in zip(rates["submitted"], rates["invited"], strict=True)
        ],
        note=[
            f"fewer than {threshold} so far: left out of the report" if below else ""
            for below in rates["below_threshold"]
        ],
    )
    return shown[list(RATE_HEADINGS)].rename(columns=RATE_HEADINGS)


def cycle_totals(session: Session, actor: Actor, cycle_id: int) -> dict[str, int | float]:
    """The cycle's counts at each stage (and the response rate as a fraction)."""
    return totals_of(response_rates(session, actor, cycle_id))


def totals_of(rates: pd.DataFrame) -> dict[str, int | float]:
    """`cycle_totals` from the cycle's `response_rates` already read."""
    names = ["invited", "emailed", "exported", "opened", "started", "submitted"]
    totals: dict[str, int | float] = {
        n: int(rates[n].sum()) if not rates.empty else 0 for n in names
    }
    totals["in_progress"] = int(totals["started"]) - int(totals["submitted"])
    invited = int(totals["invited"])
    totals["response_rate"] = int(totals["submitted"]) / invited if invited else 0.0
    return totals


def totals_in_words(totals: dict[str, int | float]) -> list[tuple[str, str]]:
    """Each stage with its share of those invited: [("Submitted", "67% (2 of 3)"), …]."""
    invited = int(totals["invited"])
    return [
        ("Invited", str(invited)),
        ("Emailed", share_of(int(totals["emailed"]), invited)),
        ("Exported for mail merge", share_of(int(totals["exported"]), invited)),
        ("Opened the link", share_of(int(totals["opened"]), invited)),
        ("Started", share_of(int(totals["started"]), invited)),
        ("Submitted", share_of(int(totals["submitted"]), invited)),
    ]


def stage_of(
    status: str, sent_at: datetime | None, exported_at: datetime | None, opened: bool
) -> TrackingStage:
    """The furthest stage a rater has reached (an email beats a mail-merge export: Tandem
    knows it sent that one)."""
    if status == InvitationStatus.submitted:
        return TrackingStage.submitted
    if status == InvitationStatus.in_progress:
        return TrackingStage.started
    if opened:
        return TrackingStage.opened
    if sent_at is not None:
        return TrackingStage.emailed
    if exported_at is not None:
        return TrackingStage.exported
    return TrackingStage.not_contacted


RATER_HEADINGS = [
    "Name",
    "Email",
    "Pairing",
    "Group",
    "Stage",
    "Emailed",
    "Exported for mail merge",
    "Opened the link",
    "Started",
    "Submitted",
    "Reminders",
    "Last reminded",
]


def rater_stages(
    session: Session, actor: Actor, cycle_id: int, *, waiting_only: bool = False
) -> pd.DataFrame:
    """One row per rater invited (withdrawn ones left out): how far they have got, with the
    day of each stage in words. Never what they answered. `waiting_only`: those who have
    not submitted."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    statuses = [InvitationStatus.not_started, InvitationStatus.in_progress]
    if not waiting_only:
        statuses.append(InvitationStatus.submitted)
    rows = session.exec(
        select_row(
            Person.full_name,
            Person.email,
            Invitation.pairing_id,
            Invitation.rater_group,
            Invitation.status,
            Invitation.sent_at,
            Invitation.exported_at,
            Invitation.opened_at,
            Response.started_at,
            Response.submitted_at,
            Invitation.reminder_count,
            Invitation.last_reminded_at,
        )
        .join(Person, col(Person.id) == col(Invitation.rater_id))
        .outerjoin(Response, col(Response.invitation_id) == col(Invitation.id))
        .where(Invitation.cycle_id == cycle_id, col(Invitation.status).in_(statuses))
        .order_by(col(Invitation.pairing_id), col(Invitation.rater_group), col(Person.full_name))
    ).all()
    names = _pairing_names(session, cycle_id)
    out = []
    for (
        name,
        email,
        pairing_id,
        group,
        status,
        sent_at,
        exported_at,
        opened_at,
        started_at,
        submitted_at,
        reminders,
        last_reminded,
    ) in rows:
        started = started_at if status in STARTED else None
        opened = opened_at is not None or started is not None
        out.append(
            [
                name,
                email,
                names.get(pairing_id, ""),
                _label(group),
                str(stage_of(status, sent_at, exported_at, opened)),
                uk_date(sent_at),
                uk_date(exported_at),
                uk_date(opened_at or started),
                uk_date(started),
                uk_date(submitted_at if status == InvitationStatus.submitted else None),
                int(reminders),
                uk_date(last_reminded),
            ]
        )
    return pd.DataFrame(out, columns=RATER_HEADINGS)


def not_responded(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """Raters who have not submitted, with how far they have got and when they were
    emailed and reminded."""
    return rater_stages(session, actor, cycle_id, waiting_only=True).drop(columns="Submitted")


HISTORY_HEADINGS = ["When", "Message", "How", "Name", "Email", "Outcome"]


def message_history(session: Session, actor: Actor, cycle_id: int) -> pd.DataFrame:
    """Every invitation and reminder emailed or exported, newest first, each with what
    happened to it: an email Tandem sent, one the server refused, or a row of a mail-merge
    file (which the council's own mail sends: Tandem cannot say it was delivered)."""
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
    out = []
    for when, kind, channel, name, email, ok, error in rows:
        if channel != "email":
            outcome = "exported: sent by your own mail, not by Tandem"
        elif ok:
            outcome = "sent by Tandem"
        else:
            outcome = f"not sent: {error}"
        out.append(
            [uk_datetime(when), kind, MESSAGE_CHANNELS.get(channel, channel), name, email, outcome]
        )
    return pd.DataFrame(out, columns=HISTORY_HEADINGS)


# --- downloads: the same tables, headings in words, every cell text (core.cells) ----------


def tracking_csv(frame: pd.DataFrame) -> bytes:
    """A tracking table as CSV (UTF-8 with a byte-order mark, so Excel shows Welsh names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(list(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([csv_text(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def tracking_xlsx(frame: pd.DataFrame) -> bytes:
    """A tracking table as a workbook; names and dates written as text, never a formula."""
    workbook = Workbook()
    sheet = active_sheet(workbook)
    sheet.title = "Tracking"
    rows = [
        [v if isinstance(v, int) else str(v) for v in row] for row in frame.itertuples(index=False)
    ]
    write_rows(sheet, [list(frame.columns), *rows])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
