"""A subject access request: everything Tandem holds about one person, as JSON or a workbook.

What it includes
- the person record, and the council whose list they are on;
- pairings they are a principal in (the partner is named: the pairing itself names both);
- every invitation to give feedback: cycle, pairing, rater group, status and dates sent,
  exported for mail merge, first opened and reminded (the invitation's *status only*) and
  the messages sent to them;
- as a principal, their own answers and comments about their pairing: self and partner are
  identified by design, so this reveals nothing the published report does not;
- the published report editions for their pairings (already anonymised and suppressed
  below the cycle's threshold, exactly what the principals themselves may read);
- their pairings' development plans, goals, actions, check-ins and their own sign-offs;
- for an administrator only: their user account (never the password hash, only whether
  one is set), its sign-in and lock-out data and councils run, and audit events about them
  (their person record, account or invitations) or done by them.

Scope (issue 12): a facilitator's export holds only what their own councils hold about the
person. Accounts and the audit trail belong to the whole installation, not to a council:
otherwise a facilitator could add a "person" with another council's facilitator's or an
administrator's email and read that account and everything it did. The export says so.

What it leaves out, and why
- The answers and comments they gave as a member, officer or external partner about
  someone else's pairing. Those responses are pseudonymous: no view, export or log shows
  which rater gave which answer, the raters were promised that, and the answers are also
  the rated principals' personal data (UK GDPR Art. 15(4) / DPA 2018 Sch. 2 para. 16). A
  data protection officer who decides otherwise must extract them by hand, deliberately.
- Individual answers other people gave about them (same reason); the published report
  carries what may be known.
- Link tokens (only a hash is stored) and password hashes: security data, not about them.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from core import audit
from core.cells import put_text, write_rows
from core.db import select_row
from core.errors import NotFound
from core.models import AuditEvent, Council, FacilitatorCouncil, UserAccount, stored_id, utcnow
from core.roles import Actor, is_admin, require_council_manager
from core.vocabulary import pairing_label
from feedback.access import require_person_manager
from feedback.models import (
    Comment,
    Cycle,
    Dimension,
    DimensionPick,
    Invitation,
    Item,
    MessageLog,
    OpenAnswer,
    Pairing,
    Person,
    PublishedReport,
    Rating,
    Response,
)
from feedback.results.publication import edition_content
from planning.models import CheckIn, DevelopmentPlan, PlanAction, PlanGoal, SignOff

LEFT_OUT = (
    "Answers and comments this person gave about other people's pairings are not included: "
    "those responses are pseudonymous and no part of Tandem shows which rater gave which "
    "answer. Individual answers others gave about this person are not included either; the "
    "published report holds what may be shared. Link tokens and password hashes are "
    "security data and are never exported."
)

FOR_ADMINISTRATORS = (
    "Sign-in accounts (with their sign-in and lock-out data) and the audit trail are held "
    "for the whole installation, not by one council, so only an administrator's export "
    "includes them; ask an administrator if the request needs them."
)


def find_subject(session: Session, actor: Actor, email: str, council: str | int) -> Person:
    """The person with this email on this council's list (council by id or name)."""
    if isinstance(council, int) or str(council).isdigit():
        council_row = session.get(Council, int(council))
    else:
        council_row = session.exec(select(Council).where(Council.name == council)).first()
    if council_row is None:
        raise NotFound(f"There is no council called '{council}'.")
    # Checked before looking the person up: otherwise the answer would tell a facilitator
    # of another council whether an email is on this council's list.
    council_id = stored_id(council_row.id)
    require_council_manager(actor, council_id)
    person = session.exec(
        select(Person).where(Person.council_id == council_id, Person.email == email.strip().lower())
    ).first()
    if person is None:
        raise NotFound(f"Nobody with the email {email} is on {council_row.name}'s list.")
    return require_person_manager(session, actor, stored_id(person.id))


def _rows(session: Session, query: Select[*tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Each row as a dict keyed by its column labels (the sections of the export)."""
    keys = list(query.selected_columns.keys())
    return [dict(zip(keys, row, strict=True)) for row in session.exec(query).all()]


def _as_principal(
    person_id: int,
    pairing_ids: list[int],
    answers: type[Rating | Comment | OpenAnswer | DimensionPick],
    *columns: Any,
) -> Select[*tuple[Any, ...]]:
    """`columns` of the `answers` (ratings, comments, …: rows with a response_id) this
    person gave as a principal about their own pairing, which names them by design; with
    the response, invitation and cycle joined."""
    return (
        select_row(*columns)
        .select_from(answers)
        .join(Response, col(Response.id) == col(answers.response_id))
        .join(Invitation, col(Invitation.id) == col(Response.invitation_id))
        .join(Cycle, col(Cycle.id) == col(Invitation.cycle_id))
        .where(
            col(Invitation.rater_id) == person_id,
            col(Invitation.rater_group) == "principal",
            col(Invitation.pairing_id).in_(pairing_ids or [-1]),
        )
    )


def subject_access(session: Session, actor: Actor, person_id: int) -> dict[str, Any]:
    """Everything held about one person, as plain JSON-ready data; the export is audited."""
    person = require_person_manager(session, actor, person_id)
    me = stored_id(person.id)
    council = session.get(Council, person.council_id)
    names = {
        p.id: p.full_name
        for p in session.exec(select(Person).where(Person.council_id == person.council_id))
    }

    pairings = session.exec(
        select(Pairing).where(or_(col(Pairing.member_id) == me, col(Pairing.officer_id) == me))
    ).all()
    pairing_ids = [stored_id(p.id) for p in pairings]
    all_pairings = {
        p.id: p
        for p in session.exec(select(Pairing).where(Pairing.council_id == person.council_id))
    }

    def label(pairing_id: int) -> str:
        p = all_pairings.get(pairing_id)
        if p is None:
            return ""
        return pairing_label(names.get(p.member_id, "?"), names.get(p.officer_id, "?"), p.portfolio)

    invitations = _rows(
        session,
        select_row(
            col(Invitation.id).label("invitation_id"),
            col(Cycle.name).label("cycle"),
            col(Invitation.pairing_id),
            col(Invitation.rater_group),
            col(Invitation.status),
            col(Invitation.created_at).label("nominated_at"),
            col(Invitation.sent_at),
            col(Invitation.last_reminded_at),
            col(Invitation.reminder_count),
            col(Invitation.exported_at),  # put in a mail-merge file
            col(Invitation.opened_at),  # the link first opened
            col(Invitation.revoked_at),
        )
        .join(Cycle, col(Cycle.id) == col(Invitation.cycle_id))
        .where(col(Invitation.rater_id) == me)
        .order_by(col(Cycle.opens_on), col(Invitation.id)),
    )
    for row in invitations:
        row["pairing"] = label(row.pop("pairing_id"))
    invitation_ids = [r["invitation_id"] for r in invitations]

    messages = _rows(
        session,
        select_row(
            col(MessageLog.invitation_id),
            col(MessageLog.kind),
            col(MessageLog.channel),
            col(MessageLog.ok),
            col(MessageLog.error),
            col(MessageLog.sent_at),
        )
        .where(col(MessageLog.invitation_id).in_(invitation_ids or [-1]))
        .order_by(col(MessageLog.sent_at)),
    )

    # Only answers given as a principal about their own pairing (named by design).
    own_answers = _rows(
        session,
        _as_principal(
            me,
            pairing_ids,
            Rating,
            col(Cycle.name).label("cycle"),
            col(Item.code).label("item"),
            col(Item.target),
            col(Item.text).label("question"),
            col(Rating.value),
            col(Response.status),
        )
        .join(Item, col(Item.id) == col(Rating.item_id))
        .order_by(col(Cycle.opens_on), col(Item.position)),
    )
    own_comments = _rows(
        session,
        _as_principal(
            me,
            pairing_ids,
            Comment,
            col(Cycle.name).label("cycle"),
            col(Dimension.name).label("dimension"),
            col(Comment.text),
        )
        .join(Dimension, col(Dimension.id) == col(Comment.dimension_id))
        .order_by(col(Cycle.opens_on), col(Dimension.position)),
    )

    # Framework 2026.2: their own open answers and the dimensions they chose, as principal.
    own_open_answers = _rows(
        session,
        _as_principal(
            me,
            pairing_ids,
            OpenAnswer,
            col(Cycle.name).label("cycle"),
            col(OpenAnswer.question),
            col(OpenAnswer.text),
        ).order_by(col(Cycle.opens_on), col(OpenAnswer.question)),
    )
    own_picks = _rows(
        session,
        _as_principal(
            me,
            pairing_ids,
            DimensionPick,
            col(Cycle.name).label("cycle"),
            col(Dimension.name).label("dimension"),
        )
        .join(Dimension, col(Dimension.id) == col(DimensionPick.dimension_id))
        .order_by(col(Cycle.opens_on), col(Dimension.position)),
    )

    reports = []
    for report in session.exec(
        select(PublishedReport)
        .join(Cycle, col(Cycle.id) == col(PublishedReport.cycle_id))
        .where(Cycle.council_id == person.council_id)
        .order_by(col(PublishedReport.published_at))
    ):
        content = edition_content(session, report)
        for pairing_id in pairing_ids:
            part = _report_part(content, pairing_id)
            if part is not None:
                reports.append(
                    {
                        "cycle_id": report.cycle_id,
                        "edition": report.edition,
                        "published_at": report.published_at,
                        "pairing": label(pairing_id),
                        "report": part,
                    }
                )

    plans = _rows(
        session,
        select_row(
            col(DevelopmentPlan.id).label("plan_id"),
            col(DevelopmentPlan.pairing_id),
            col(Cycle.name).label("cycle"),
            col(DevelopmentPlan.status),
            col(DevelopmentPlan.revision),
            col(DevelopmentPlan.updated_at),
        )
        .join(Cycle, col(Cycle.id) == col(DevelopmentPlan.cycle_id))
        .where(col(DevelopmentPlan.pairing_id).in_(pairing_ids or [-1]))
        .order_by(col(Cycle.opens_on)),
    )
    for row in plans:
        row["pairing"] = label(row.pop("pairing_id"))
    plan_ids = [r["plan_id"] for r in plans] or [-1]
    goals = _rows(
        session,
        select_row(
            col(PlanGoal.plan_id),
            col(PlanGoal.id).label("goal_id"),
            col(PlanGoal.dimension_code),
            col(PlanGoal.challenge),
            col(PlanGoal.title),
            col(PlanGoal.description),
        ).where(col(PlanGoal.plan_id).in_(plan_ids)),
    )
    goal_ids = [g["goal_id"] for g in goals] or [-1]
    actions = _rows(
        session,
        select_row(
            col(PlanAction.goal_id),
            col(PlanAction.description),
            col(PlanAction.owner),
            col(PlanAction.due_on),
            col(PlanAction.success_measure),
            col(PlanAction.status),
        ).where(col(PlanAction.goal_id).in_(goal_ids)),
    )
    checkins = _rows(
        session,
        select_row(
            col(CheckIn.plan_id),
            col(CheckIn.held_on),
            col(CheckIn.note),
            col(CheckIn.status_from),
            col(CheckIn.status_to),
            col(CheckIn.recorded_by),
        ).where(col(CheckIn.plan_id).in_(plan_ids)),
    )
    signoffs = _rows(
        session,
        select_row(col(SignOff.plan_id), col(SignOff.plan_revision), col(SignOff.signed_at)).where(
            col(SignOff.plan_id).in_(plan_ids), col(SignOff.person_id) == me
        ),
    )

    full = is_admin(actor)
    users = (
        session.exec(
            select(UserAccount).where(
                or_(
                    col(UserAccount.person_id) == me,
                    col(UserAccount.email) == person.email,
                    col(UserAccount.username) == person.email,
                )
            )
        ).all()
        if full
        else []
    )
    accounts = []
    for u in users:
        run = session.exec(
            select(Council.name)
            .join(FacilitatorCouncil, col(FacilitatorCouncil.council_id) == col(Council.id))
            .where(FacilitatorCouncil.user_id == u.id)
        ).all()
        accounts.append(
            {
                "username": u.username,
                "display_name": u.display_name,
                "email": u.email,
                "role": u.role,
                "active": u.active,
                "password_set": u.password_hash is not None,
                "failed_attempts": u.failed_attempts,
                "locked_until": u.locked_until,
                "last_sign_in_at": u.last_sign_in_at,
                "created_at": u.created_at,
                "councils_facilitated": ", ".join(run),
            }
        )
    # About them (their person record, accounts, invitations) or done by them.
    about: list[ColumnElement[bool]] = [
        (col(AuditEvent.entity) == "person") & (col(AuditEvent.entity_id) == me)
    ]
    if users:
        about.append(
            (col(AuditEvent.entity) == "useraccount")
            & col(AuditEvent.entity_id).in_([stored_id(u.id) for u in users])
        )
        about.append(col(AuditEvent.actor).in_([u.username for u in users]))
    if invitation_ids:
        about.append(
            (col(AuditEvent.entity) == "invitation") & col(AuditEvent.entity_id).in_(invitation_ids)
        )
    events = (
        _rows(
            session,
            select_row(
                col(AuditEvent.at),
                col(AuditEvent.actor),
                col(AuditEvent.action),
                col(AuditEvent.entity),
                col(AuditEvent.entity_id),
                col(AuditEvent.detail),
            )
            .where(or_(*about))
            .order_by(col(AuditEvent.at), col(AuditEvent.id)),
        )
        if full
        else []
    )

    audit.record(session, actor, "subject access export", "person", me, person.council_id)
    return {
        "about": {
            "generated_at": utcnow(),
            "generated_by": actor.label,
            "council": council.name if council else "",
            "left_out": LEFT_OUT,
            # Why a facilitator's export is trimmed, in a sentence; empty when it is not.
            "not_included": "" if full else FOR_ADMINISTRATORS,
        },
        "person": {
            "name": person.full_name,
            "email": person.email,
            "kind": person.kind,
            "title": person.title,
            "portfolio": person.portfolio,
            "organisation": person.organisation,
            "added_at": person.created_at,
        },
        "pairings": [
            {
                "pairing": label(stored_id(p.id)),
                "kind": p.kind,
                "portfolio": p.portfolio,
                "their_role": "member" if p.member_id == me else "officer",
                "partner": names.get(p.officer_id if p.member_id == me else p.member_id),
                "active": p.active,
                "second_top_pairing_because": p.top_exception,
            }
            for p in pairings
        ],
        "invitations": invitations,
        "messages": messages,
        "own_answers_as_principal": own_answers,
        "own_comments_as_principal": own_comments,
        "own_open_answers_as_principal": own_open_answers,
        "own_picks_as_principal": own_picks,
        "published_reports": reports,
        "plans": plans,
        "plan_goals": goals,
        "plan_actions": actions,
        "plan_check_ins": checkins,
        "own_sign_offs": signoffs,
        "user_accounts": accounts,
        "audit_events": events,
    }


def _report_part(content: Any, pairing_id: int) -> Any | None:
    """This pairing's part of a published report, whichever of the usual shapes it has:
    {"pairings": {"<id>": …}} or {"pairings": [{"pairing_id": <id>, …}]}."""
    if not isinstance(content, dict):
        return None
    part = content.get("pairings")
    if isinstance(part, dict):
        return part.get(str(pairing_id), part.get(pairing_id))
    if isinstance(part, list):
        for entry in part:
            if isinstance(entry, dict) and entry.get("pairing_id") == pairing_id:
                return entry
    if content.get("pairing_id") == pairing_id:
        return content
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain).encode("utf-8")


def to_xlsx(data: dict[str, Any]) -> bytes:
    """One sheet per section; every cell plain text or a number, never a formula."""
    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])
    for section, content in data.items():
        sheet = workbook.create_sheet(section[:31])
        rows = content if isinstance(content, list) else [content]
        if not rows:
            put_text(sheet.cell(1, 1), "(nothing held)")
            continue
        header = list(dict.fromkeys(k for row in rows for k in row))
        write_rows(sheet, [header, *([_plain(row.get(k)) for k in header] for row in rows)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
