"""Progress reminders for development plans: plans are kept up to date when the two people
who own them are told, at the right moment, what is overdue and what is coming up.

For one cycle, each pairing whose plan has an unfinished action that is overdue or due
within DUE_SOON_DAYS gets one email to each of its two principals (never to raters: a plan
belongs to the pair), listing those actions with their owner and date and how to record
progress. Nothing about anyone's ratings is in it. Pairings with nothing due get nothing.

While the council is in a pre-election period (planning.calendar), publicity-type actions
are held back: no email nudges anyone about them, and a pairing with nothing else due gets
no email. They are listed as held on the plan page's reminders panel and by
`tandem remind-plans`, and come back in the first reminders after polling day (overdue by
then, if their date has passed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core import audit, mail
from core.db import select_row
from core.mail import SendReport, SmtpSettings
from core.models import AuditEvent, Council
from core.roles import Actor, require_council_manager
from feedback.collection.invitations import base_url
from feedback.models import Pairing, Person
from feedback.setup.cycles import get_cycle
from planning.calendar import calendar_of, in_pre_election_period, is_publicity
from planning.library import load_action_library
from planning.models import ActionStatus, DevelopmentPlan, PlanAction, PlanGoal

DUE_SOON_DAYS = 14
UNFINISHED = (ActionStatus.not_started.value, ActionStatus.in_progress.value)
SENT_ACTION = "send plan reminders"


@dataclass
class DueAction:
    goal: str
    description: str
    owner: str  # member | officer | joint
    due_on: date
    status: str


@dataclass
class PlanReminder:
    """What one pairing's principals are told."""

    plan_id: int
    pairing_id: int
    member: tuple[str, str]  # (name, email)
    officer: tuple[str, str]
    overdue: list[DueAction] = field(default_factory=list)
    due_soon: list[DueAction] = field(default_factory=list)
    # publicity-type actions held back during a pre-election period (never in the email)
    held: list[DueAction] = field(default_factory=list)

    @property
    def to_send(self) -> bool:
        return bool(self.overdue or self.due_soon)

    def owner_name(self, owner: str, reader: str) -> str:
        """Who does an action, as the reader would say it."""
        if owner == "joint":
            return "both of you"
        name = self.member[0] if owner == "member" else self.officer[0]
        return "you" if name == reader else name


def plan_reminders(
    session: Session, actor: Actor, cycle_id: int, today: date
) -> list[PlanReminder]:
    """The pairings of a cycle with unfinished actions overdue or due soon, in one query."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    member, officer = aliased(Person), aliased(Person)
    later = aliased(DevelopmentPlan)
    rows = session.exec(
        select_row(
            col(DevelopmentPlan.id),
            col(Pairing.id),
            col(member.full_name),
            col(member.email),
            col(officer.full_name),
            col(officer.email),
            col(PlanGoal.title),
            col(PlanAction.description),
            col(PlanAction.owner),
            col(PlanAction.due_on),
            col(PlanAction.status),
        )
        .join(Pairing, col(Pairing.id) == col(DevelopmentPlan.pairing_id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .join(PlanGoal, col(PlanGoal.plan_id) == col(DevelopmentPlan.id))
        .join(PlanAction, col(PlanAction.goal_id) == col(PlanGoal.id))
        .where(
            col(DevelopmentPlan.cycle_id) == cycle_id,
            # A plan carried forward to a later cycle lives on there: remind about that one.
            ~select(col(later.id))
            .where(col(later.carried_from_plan_id) == col(DevelopmentPlan.id))
            .exists(),
            col(PlanAction.status).in_(UNFINISHED),
            col(PlanAction.due_on).is_not(None),
            col(PlanAction.due_on) <= today + timedelta(days=DUE_SOON_DAYS),
        )
        .order_by(
            col(Pairing.kind).desc(), col(Pairing.id), col(PlanAction.due_on), col(PlanAction.id)
        )
    ).all()
    reminders: dict[int, PlanReminder] = {}
    period = in_pre_election_period(calendar_of(session, cycle.council_id), today)
    library = load_action_library()
    for plan_id, pairing_id, m_name, m_email, o_name, o_email, *action in rows:
        reminder = reminders.setdefault(
            plan_id, PlanReminder(plan_id, pairing_id, (m_name, m_email), (o_name, o_email))
        )
        due = DueAction(*action)
        if period is not None and is_publicity(due.description, library):
            reminder.held.append(due)
        else:
            (reminder.overdue if due.due_on < today else reminder.due_soon).append(due)
    return list(reminders.values())


def _when(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def last_sent(session: Session, actor: Actor, cycle_id: int) -> tuple[datetime, str] | None:
    """When reminders were last emailed for this cycle, and by whom (from the audit log)."""
    cycle = get_cycle(session, cycle_id)
    require_council_manager(actor, cycle.council_id)
    row = session.exec(
        select(AuditEvent.at, AuditEvent.actor)
        .where(
            AuditEvent.action == SENT_ACTION,
            AuditEvent.entity == "cycle",
            AuditEvent.entity_id == cycle_id,
        )
        .order_by(col(AuditEvent.at).desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def reminder_text(
    reminder: PlanReminder, reader: tuple[str, str], cycle_name: str, council: str
) -> tuple[str, str]:
    """(subject, body) of the email to one of the pair."""
    name = reader[0]
    partner = reminder.officer[0] if name == reminder.member[0] else reminder.member[0]
    counts = []
    if reminder.overdue:
        n = len(reminder.overdue)
        counts.append(f"{n} action{'s' * (n != 1)} overdue")
    if reminder.due_soon:
        n = len(reminder.due_soon)
        counts.append(f"{n} due soon")
    subject = f"Your development plan with {partner}: {' and '.join(counts)}"
    lines = [
        f"Dear {name},",
        "",
        f"This is a reminder about the joint development plan you and {partner} are working "
        f'on after the feedback round "{cycle_name}" at {council}.',
    ]
    for heading, actions in (
        ("Overdue", reminder.overdue),
        (f"Due in the next {DUE_SOON_DAYS} days", reminder.due_soon),
    ):
        if not actions:
            continue
        lines += ["", f"{heading}:"]
        for a in actions:
            lines.append(
                f"- {a.description} ({a.goal}) — {reminder.owner_name(a.owner, name)}, "
                f"due {_when(a.due_on)}, {a.status}"
            )
    lines += [
        "",
        "When you have moved any of these on, please record it in Tandem (Development plan: "
        "change the action's status or add a check-in), or in the plans workbook your "
        f"facilitator sends round: {base_url()}",
        "",
        "If a date no longer makes sense, agree a new one together and change it in the plan.",
    ]
    return subject, "\n".join(lines)


def send_plan_reminders(
    session: Session,
    actor: Actor,
    cycle_id: int,
    today: date | None = None,
    settings: SmtpSettings | None = None,
) -> SendReport:
    """Email each principal of every pairing with actions overdue or due soon."""
    today = today or date.today()
    cycle = get_cycle(session, cycle_id)
    reminders = plan_reminders(session, actor, cycle_id, today)
    settings = mail.configured(
        settings,
        "No email server is configured (TANDEM_SMTP_HOST is not set), so reminders "
        "cannot be sent. The plans workbook shows overdue actions in red.",
    )
    report = SendReport()
    reminders = [r for r in reminders if r.to_send]  # held back only: no email
    if not reminders:
        return report
    council = session.get(Council, cycle.council_id)
    council_name = council.name if council is not None else ""
    with mail.outbox(settings) as out:
        for reminder in reminders:
            for reader in (reminder.member, reminder.officer):
                subject, body = reminder_text(reminder, reader, cycle.name, council_name)
                error = out.send(council_name, reader, subject, body)
                if error is not None:
                    report.failed.append(f"{reader[0]} <{reader[1]}>: {error}")
                else:
                    report.sent += 1
    audit.record(
        session,
        actor,
        SENT_ACTION,
        "cycle",
        cycle.id,
        cycle.council_id,
        pairings=len(reminders),
        sent=report.sent,
        failed=len(report.failed),
    )
    return report
