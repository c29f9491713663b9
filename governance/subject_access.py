"""A subject access request: everything Tandem holds about one person, as JSON or a workbook.

What it includes
- the person record, and the council whose list they are on;
- pairings they are a principal in (the partner is named: the pairing itself names both);
- every invitation to give feedback: cycle, pairing, rater group, status and dates sent and
  reminded (the invitation's *status only*) and the messages sent to them;
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
from sqlalchemy import column, or_, select, table
from sqlmodel import Session

from core import audit
from core.cells import put_text
from core.errors import NotFound
from core.models import AuditEvent, Council, FacilitatorCouncil, UserAccount, utcnow
from core.roles import Actor, is_admin, require_council_manager
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

# Plans live in planning/, which feedback never imports: name the columns read here.
_plan = table(
    "developmentplan",
    column("id"),
    column("pairing_id"),
    column("cycle_id"),
    column("status"),
    column("revision"),
    column("updated_at"),
    column("updated_by"),
)
_goal = table(
    "plangoal",
    column("id"),
    column("plan_id"),
    column("dimension_code"),
    column("challenge"),
    column("title"),
    column("description"),
)
_action = table(
    "planaction",
    column("goal_id"),
    column("description"),
    column("owner"),
    column("due_on"),
    column("success_measure"),
    column("status"),
)
_checkin = table(
    "checkin",
    column("plan_id"),
    column("held_on"),
    column("note"),
    column("status_from"),
    column("status_to"),
    column("recorded_by"),
)
_signoff = table(
    "signoff", column("plan_id"), column("person_id"), column("plan_revision"), column("signed_at")
)

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
        council_row = session.exec(select(Council).where(Council.name == council)).scalars().first()
    if council_row is None:
        raise NotFound(f"There is no council called '{council}'.")
    # Checked before looking the person up: otherwise the answer would tell a facilitator
    # of another council whether an email is on this council's list.
    require_council_manager(actor, council_row.id)
    person = (
        session.exec(
            select(Person).where(
                Person.council_id == council_row.id, Person.email == email.strip().lower()
            )
        )
        .scalars()
        .first()
    )
    if person is None:
        raise NotFound(f"Nobody with the email {email} is on {council_row.name}'s list.")
    require_person_manager(session, actor, person.id)
    return person


def _rows(session: Session, query) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.exec(query).all()]


def subject_access(session: Session, actor: Actor, person_id: int) -> dict[str, Any]:
    """Everything held about one person, as plain JSON-ready data; the export is audited."""
    person = require_person_manager(session, actor, person_id)
    council = session.get(Council, person.council_id)
    names = {
        p.id: p.full_name
        for p in session.exec(select(Person).where(Person.council_id == person.council_id))
        .scalars()
        .all()
    }

    pairings = (
        session.exec(
            select(Pairing).where(
                or_(Pairing.member_id == person.id, Pairing.officer_id == person.id)
            )
        )
        .scalars()
        .all()
    )
    pairing_ids = [p.id for p in pairings]
    all_pairings = {
        p.id: p
        for p in session.exec(select(Pairing).where(Pairing.council_id == person.council_id))
        .scalars()
        .all()
    }

    def label(pairing_id: int) -> str:
        p = all_pairings.get(pairing_id)
        if p is None:
            return ""
        return f"{names.get(p.member_id, '?')} & {names.get(p.officer_id, '?')}" + (
            f" ({p.portfolio})" if p.portfolio else ""
        )

    invitations = _rows(
        session,
        select(
            Invitation.id.label("invitation_id"),
            Cycle.name.label("cycle"),
            Invitation.pairing_id,
            Invitation.rater_group,
            Invitation.status,
            Invitation.created_at.label("nominated_at"),
            Invitation.sent_at,
            Invitation.last_reminded_at,
            Invitation.reminder_count,
            Invitation.revoked_at,
        )
        .join(Cycle, Cycle.id == Invitation.cycle_id)
        .where(Invitation.rater_id == person.id)
        .order_by(Cycle.opens_on, Invitation.id),
    )
    for row in invitations:
        row["pairing"] = label(row.pop("pairing_id"))
    invitation_ids = [r["invitation_id"] for r in invitations]

    messages = _rows(
        session,
        select(
            MessageLog.invitation_id,
            MessageLog.kind,
            MessageLog.channel,
            MessageLog.ok,
            MessageLog.error,
            MessageLog.sent_at,
        )
        .where(MessageLog.invitation_id.in_(invitation_ids or [-1]))
        .order_by(MessageLog.sent_at),
    )

    # Only answers given as a principal about their own pairing (named by design).
    own = (
        Invitation.rater_id == person.id,
        Invitation.rater_group == "principal",
        Invitation.pairing_id.in_(pairing_ids or [-1]),
    )
    own_answers = _rows(
        session,
        select(
            Cycle.name.label("cycle"),
            Item.code.label("item"),
            Item.target,
            Item.text.label("question"),
            Rating.value,
            Response.status,
        )
        .join(Response, Response.id == Rating.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Cycle, Cycle.id == Invitation.cycle_id)
        .join(Item, Item.id == Rating.item_id)
        .where(*own)
        .order_by(Cycle.opens_on, Item.position),
    )
    own_comments = _rows(
        session,
        select(Cycle.name.label("cycle"), Dimension.name.label("dimension"), Comment.text)
        .join(Response, Response.id == Comment.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Cycle, Cycle.id == Invitation.cycle_id)
        .join(Dimension, Dimension.id == Comment.dimension_id)
        .where(*own)
        .order_by(Cycle.opens_on, Dimension.position),
    )

    # Framework 2026.2: their own open answers and the dimensions they chose, as principal.
    own_open_answers = _rows(
        session,
        select(Cycle.name.label("cycle"), OpenAnswer.question, OpenAnswer.text)
        .select_from(OpenAnswer)
        .join(Response, Response.id == OpenAnswer.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Cycle, Cycle.id == Invitation.cycle_id)
        .where(*own)
        .order_by(Cycle.opens_on, OpenAnswer.question),
    )
    own_picks = _rows(
        session,
        select(Cycle.name.label("cycle"), Dimension.name.label("dimension"))
        .select_from(DimensionPick)
        .join(Response, Response.id == DimensionPick.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .join(Cycle, Cycle.id == Invitation.cycle_id)
        .join(Dimension, Dimension.id == DimensionPick.dimension_id)
        .where(*own)
        .order_by(Cycle.opens_on, Dimension.position),
    )

    reports = []
    for report in (
        session.exec(
            select(PublishedReport)
            .join(Cycle, Cycle.id == PublishedReport.cycle_id)
            .where(Cycle.council_id == person.council_id)
            .order_by(PublishedReport.published_at)
        )
        .scalars()
        .all()
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
        select(
            _plan.c.id.label("plan_id"),
            _plan.c.pairing_id,
            Cycle.name.label("cycle"),
            _plan.c.status,
            _plan.c.revision,
            _plan.c.updated_at,
        )
        .join(Cycle, Cycle.id == _plan.c.cycle_id)
        .where(_plan.c.pairing_id.in_(pairing_ids or [-1]))
        .order_by(Cycle.opens_on),
    )
    for row in plans:
        row["pairing"] = label(row.pop("pairing_id"))
    plan_ids = [r["plan_id"] for r in plans] or [-1]
    goals = _rows(
        session,
        select(
            _goal.c.plan_id,
            _goal.c.id.label("goal_id"),
            _goal.c.dimension_code,
            _goal.c.challenge,
            _goal.c.title,
            _goal.c.description,
        ).where(_goal.c.plan_id.in_(plan_ids)),
    )
    goal_ids = [g["goal_id"] for g in goals] or [-1]
    actions = _rows(session, select(_action).where(_action.c.goal_id.in_(goal_ids)))
    checkins = _rows(session, select(_checkin).where(_checkin.c.plan_id.in_(plan_ids)))
    signoffs = _rows(
        session,
        select(_signoff.c.plan_id, _signoff.c.plan_revision, _signoff.c.signed_at).where(
            _signoff.c.plan_id.in_(plan_ids), _signoff.c.person_id == person.id
        ),
    )

    full = is_admin(actor)
    users = (
        session.exec(
            select(UserAccount).where(
                or_(
                    UserAccount.person_id == person.id,
                    UserAccount.email == person.email,
                    UserAccount.username == person.email,
                )
            )
        )
        .scalars()
        .all()
        if full
        else []
    )
    accounts = []
    for u in users:
        run = session.exec(
            select(Council.name)
            .join(FacilitatorCouncil, FacilitatorCouncil.council_id == Council.id)
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
                "councils_facilitated": ", ".join(r[0] for r in run),
            }
        )
    # About them (their person record, accounts, invitations) or done by them.
    about = [(AuditEvent.entity == "person") & (AuditEvent.entity_id == person.id)]
    if users:
        about.append(
            (AuditEvent.entity == "useraccount") & AuditEvent.entity_id.in_([u.id for u in users])
        )
        about.append(AuditEvent.actor.in_([u.username for u in users]))
    if invitation_ids:
        about.append((AuditEvent.entity == "invitation") & AuditEvent.entity_id.in_(invitation_ids))
    events = (
        _rows(
            session,
            select(
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.entity,
                AuditEvent.entity_id,
                AuditEvent.detail,
            )
            .where(or_(*about))
            .order_by(AuditEvent.at, AuditEvent.id),
        )
        if full
        else []
    )

    audit.record(session, actor, "subject access export", "person", person.id, person.council_id)
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
                "pairing": label(p.id),
                "kind": p.kind,
                "portfolio": p.portfolio,
                "their_role": "member" if p.member_id == person.id else "officer",
                "partner": names.get(p.officer_id if p.member_id == person.id else p.member_id),
                "active": p.active,
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
    workbook.remove(workbook.active)
    for section, content in data.items():
        sheet = workbook.create_sheet(section[:31])
        rows = content if isinstance(content, list) else [content]
        if not rows:
            put_text(sheet.cell(1, 1), "(nothing held)")
            continue
        header = list(dict.fromkeys(k for row in rows for k in row))
        lines = [header, *([_plain(row.get(k)) for k in header] for row in rows)]
        for r, line in enumerate(lines, start=1):
            for c, value in enumerate(line, start=1):
                if isinstance(value, str):
                    put_text(sheet.cell(r, c), value)  # text, never a formula
                else:
                    sheet.cell(r, c).value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
