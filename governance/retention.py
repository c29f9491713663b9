"""Retention: each council keeps a cycle's personal data for `retention_months` after the
cycle closes, then Tandem deletes it.

Purging a cycle deletes it outright with everything that hangs off it: invitations and
their links, responses, ratings, comments, messages sent, published reports, and the
pairings' development plans for that cycle (goals, actions, check-ins, sign-offs, history).
Deleting rather than anonymising is deliberate: an "anonymised" answer set for a named
pairing still describes two named people. What stays is the audit entry saying the
purge happened (cycle name, dates and counts; never an answer), and the council, its
pairings and people still in use. People past retention that nothing refers to any more
(a rater who was only ever in purged cycles) are deleted too.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import pandas as pd
from sqlalchemy import column, delete, exists, func, or_, table
from sqlmodel import Session, select

from core import audit
from core.errors import Invalid, NotFound
from core.models import Council, UserAccount, utcnow
from core.roles import Actor, require_council_manager, visible_council_ids
from feedback.models import (
    Comment,
    Cycle,
    CyclePairing,
    Invitation,
    MessageLog,
    Pairing,
    Person,
    PublishedReport,
    Rating,
    Response,
)

MAX_RETENTION_MONTHS = 120


def months_before(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_after(day: date, months: int) -> date:
    return months_before(day, -months)


def set_retention(session: Session, actor: Actor, council_id: int, months: int) -> Council:
    require_council_manager(actor, council_id)
    council = session.get(Council, council_id)
    if council is None:
        raise NotFound("That council does not exist.")
    if not 1 <= months <= MAX_RETENTION_MONTHS:
        raise Invalid(
            f"Keep data for between 1 and {MAX_RETENTION_MONTHS} months after a cycle closes "
            f"(you asked for {months})."
        )
    before = council.retention_months
    council.retention_months = months
    session.add(council)
    audit.record(
        session,
        actor,
        "set retention",
        "council",
        council.id,
        council.id,
        before=before,
        after=months,
    )
    return council


def _councils_in_scope(session: Session, actor: Actor, council_id: int | None) -> list[Council]:
    if council_id is not None:
        require_council_manager(actor, council_id)
        council = session.get(Council, council_id)
        return [council] if council else []
    query = select(Council).order_by(Council.name)
    allowed = visible_council_ids(actor)
    if allowed is not None:
        query = query.where(Council.id.in_(allowed or {-1}))
    return list(session.exec(query).all())


@dataclass
class PurgeReport:
    today: date
    dry_run: bool
    cycles: pd.DataFrame
    people: list[str] = field(default_factory=list)  # "Name (Council)" deleted or to delete

    def summary(self) -> str:
        verb = "Would delete" if self.dry_run else "Deleted"
        if self.cycles.empty and not self.people:
            return f"Nothing is past its retention period on {self.today:%d %b %Y}."
        totals = self.cycles[["invitations", "responses", "ratings", "comments"]].sum()
        return (
            f"{verb} {len(self.cycles)} cycle(s) past retention: {int(totals['invitations'])} "
            f"invitations, {int(totals['responses'])} responses, {int(totals['ratings'])} "
            f"ratings, {int(totals['comments'])} comments, their messages, published reports "
            f"and plans; and {len(self.people)} person record(s) nothing refers to any more."
        )


def expired_cycles(
    session: Session, actor: Actor, today: date | None = None, council_id: int | None = None
) -> pd.DataFrame:
    """Cycles whose council's retention period has run out, with what purging would delete."""
    today = today or utcnow().date()
    rows = []
    for council in _councils_in_scope(session, actor, council_id):
        cutoff = months_before(today, council.retention_months)
        for cycle in session.exec(
            select(Cycle).where(Cycle.council_id == council.id, Cycle.closes_on < cutoff)
        ).all():
            rows.append(
                {
                    "council_id": council.id,
                    "council": council.name,
                    "cycle_id": cycle.id,
                    "cycle": cycle.name,
                    "status": cycle.status,
                    "closes_on": cycle.closes_on,
                    "expired_on": months_after(cycle.closes_on, council.retention_months),
                }
            )
    frame = pd.DataFrame(
        rows,
        columns=["council_id", "council", "cycle_id", "cycle", "status", "closes_on", "expired_on"],
    )
    return _with_counts(session, frame)


def _count_by_cycle(session: Session, query) -> dict[int, int]:
    return dict(session.exec(query).all())


def _with_counts(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    ids = [int(i) for i in frame["cycle_id"]] or [-1]
    inv = Invitation.cycle_id
    counts = {
        "invitations": select(inv, func.count()).where(inv.in_(ids)).group_by(inv),
        "responses": select(inv, func.count(Response.id))
        .join(Response, Response.invitation_id == Invitation.id)
        .where(inv.in_(ids))
        .group_by(inv),
        "ratings": select(inv, func.count())
        .select_from(Rating)
        .join(Response, Response.id == Rating.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(inv.in_(ids))
        .group_by(inv),
        "comments": select(inv, func.count())
        .select_from(Comment)
        .join(Response, Response.id == Comment.response_id)
        .join(Invitation, Invitation.id == Response.invitation_id)
        .where(inv.in_(ids))
        .group_by(inv),
        "messages": select(inv, func.count(MessageLog.id))
        .join(MessageLog, MessageLog.invitation_id == Invitation.id)
        .where(inv.in_(ids))
        .group_by(inv),
        "reports": select(PublishedReport.cycle_id, func.count())
        .where(PublishedReport.cycle_id.in_(ids))
        .group_by(PublishedReport.cycle_id),
    }
    for name, query in counts.items():
        found = _count_by_cycle(session, query)
        frame[name] = [found.get(int(i), 0) for i in frame["cycle_id"]]
    return frame


# Plans live in planning/, which feedback never imports; name just the two columns needed
# to see whether a person still signed a plan that survives.
_signoff = table("signoff", column("plan_id"), column("person_id"))
_plan = table("developmentplan", column("id"), column("cycle_id"))


def _orphaned_people(
    session: Session, council_ids: list[int], today: date, leaving: list[int]
) -> list[Person]:
    """People past retention whom nothing refers to once the `leaving` cycles are gone:
    no pairing, no invitation, no sign-off and no user account."""
    leaving = leaving or [-1]
    people = []
    for council in session.exec(select(Council).where(Council.id.in_(council_ids or [-1]))):
        cutoff = datetime.combine(months_before(today, council.retention_months), time(), UTC)
        query = select(Person).where(
            Person.council_id == council.id,
            Person.created_at < cutoff,
            ~exists().where(or_(Pairing.member_id == Person.id, Pairing.officer_id == Person.id)),
            ~exists().where(Invitation.rater_id == Person.id, Invitation.cycle_id.not_in(leaving)),
            ~exists()
            .select_from(_signoff.join(_plan, _plan.c.id == _signoff.c.plan_id))
            .where(_signoff.c.person_id == Person.id, _plan.c.cycle_id.not_in(leaving)),
            ~exists().where(UserAccount.person_id == Person.id),
        )
        people.extend(session.exec(query).all())
    return people


def purge(
    session: Session,
    actor: Actor,
    today: date | None = None,
    *,
    council_id: int | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete every cycle past its council's retention period (or say what would go)."""
    today = today or utcnow().date()
    frame = expired_cycles(session, actor, today, council_id)
    council_ids = [c.id for c in _councils_in_scope(session, actor, council_id)]
    cycle_ids = [int(i) for i in frame["cycle_id"]]
    people = _orphaned_people(session, council_ids, today, cycle_ids)
    labels = [_person_label(session, p) for p in people]
    if dry_run:
        return PurgeReport(today, True, frame, labels)
    if cycle_ids:
        invitations = select(Invitation.id).where(Invitation.cycle_id.in_(cycle_ids))
        # Explicit deletes, children first. Ratings and comments go by ON DELETE CASCADE
        # with their response (the database refuses deleting a submitted response's answers
        # one by one, but allows the whole response to go); the cycle's development plans
        # (goals, actions, check-ins, sign-offs, history) go by cascade from the cycle.
        session.exec(delete(Response).where(Response.invitation_id.in_(invitations)))
        session.exec(delete(MessageLog).where(MessageLog.invitation_id.in_(invitations)))
        session.exec(delete(Invitation).where(Invitation.cycle_id.in_(cycle_ids)))
        session.exec(delete(PublishedReport).where(PublishedReport.cycle_id.in_(cycle_ids)))
        session.exec(delete(CyclePairing).where(CyclePairing.cycle_id.in_(cycle_ids)))
        session.exec(delete(Cycle).where(Cycle.id.in_(cycle_ids)))
        for row in frame.itertuples():
            audit.record(
                session,
                actor,
                "purge cycle",
                "cycle",
                row.cycle_id,
                row.council_id,
                name=row.cycle,
                closed=row.closes_on.isoformat(),
                invitations_deleted=int(row.invitations),
                responses_deleted=int(row.responses),
                rating_rows_deleted=int(row.ratings),
                reason=f"retention period ended {row.expired_on:%d %b %Y}",
            )
    for person in people:
        audit.record(
            session,
            actor,
            "purge person",
            "person",
            person.id,
            person.council_id,
            reason="past retention and no longer in any cycle, pairing or account",
        )
    if people:
        session.exec(delete(Person).where(Person.id.in_([p.id for p in people])))
    session.expire_all()
    return PurgeReport(today, False, frame, labels)


def _person_label(session: Session, person: Person) -> str:
    council = session.get(Council, person.council_id)
    return f"{person.full_name} ({council.name if council else 'unknown council'})"
