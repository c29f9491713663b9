"""A principal's home: their pairing(s), each cycle's report (or when it will come) and
their development plan, in words. One read, for the Home page and `tandem home USER`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.formats import uk_date
from core.models import Council
from core.roles import Actor, is_principal
from core.vocabulary import CycleStatus, kind_label, pairing_label
from feedback.access import published_to_principals
from feedback.models import Cycle, CyclePairing, Pairing, Person
from planning.models import DevelopmentPlan, PlanStatus

PLAN_WORDS = {
    PlanStatus.draft.value: "in draft",
    PlanStatus.agreed.value: "agreed by you both",
    PlanStatus.changed_since_agreed.value: "changed since you both agreed it; agree it again",
}


@dataclass(frozen=True)
class CycleHome:
    cycle_id: int
    name: str
    status: str
    opens_on: date
    closes_on: date
    report_ready: bool
    report: str  # the report, or when it will come, in words
    plan: str  # the plan's state in words
    plan_exists: bool


@dataclass(frozen=True)
class PairingHome:
    pairing_id: int
    council: str
    pairing: str  # "Cllr … & …"
    kind: str  # in words
    portfolio: str
    cycles: list[CycleHome]


def report_words(cycle: Cycle, today: date | None = None) -> str:
    """Where a cycle's report stands for its principals, with the dates that matter."""
    today = today or date.today()
    if published_to_principals(cycle):
        return f"Your report is ready (published {uk_date(cycle.published_at)})."
    if cycle.status == CycleStatus.draft:
        return (
            f"Feedback opens on {uk_date(cycle.opens_on)} and closes on "
            f"{uk_date(cycle.closes_on)}; your report follows once your facilitator "
            "publishes it."
        )
    if cycle.status == CycleStatus.open:
        closing = "closes" if cycle.closes_on >= today else "was due to close"
        return (
            f"Feedback is being collected: it {closing} on {uk_date(cycle.closes_on)}. Your "
            "report follows once your facilitator closes the cycle and publishes it; you "
            "will get an email."
        )
    return (
        f"Feedback closed on {uk_date(cycle.closes_on)}. Your facilitator is preparing your "
        "report; you will get an email when it is ready."
    )


def principal_home(session: Session, actor: Actor) -> list[PairingHome]:
    """The pairings this principal is one of, each with its cycles (newest first), the
    report's state and the plan's. Empty for anyone else, or a principal not yet linked
    to their person record."""
    if not is_principal(actor) or actor.person_id is None:
        return []
    member, officer = aliased(Person), aliased(Person)
    pairings = session.exec(
        select(Pairing, Council.name, member.full_name, officer.full_name)
        .join(Council, col(Council.id) == col(Pairing.council_id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .where(
            (col(Pairing.member_id) == actor.person_id)
            | (col(Pairing.officer_id) == actor.person_id)
        )
        .order_by(col(Pairing.active).desc(), col(Pairing.id))
    ).all()
    ids = [p.id for p, *_ in pairings]
    cycles = session.exec(
        select(CyclePairing.pairing_id, Cycle)
        .join(Cycle, col(Cycle.id) == col(CyclePairing.cycle_id))
        .where(col(CyclePairing.pairing_id).in_(ids or [-1]))
        .order_by(col(Cycle.opens_on).desc(), col(Cycle.id).desc())
    ).all()
    plans: dict[tuple[int, int], DevelopmentPlan] = {
        (p.pairing_id, p.cycle_id): p
        for p in session.exec(
            select(DevelopmentPlan).where(col(DevelopmentPlan.pairing_id).in_(ids or [-1]))
        ).all()
    }
    homes = []
    for pairing, council, member_name, officer_name in pairings:
        rows = []
        for pairing_id, cycle in cycles:
            if pairing_id != pairing.id:
                continue
            plan = plans.get((pairing_id, int(cycle.id or 0)))
            ready = published_to_principals(cycle)
            if plan is not None:
                plan_text = f"Your development plan is {PLAN_WORDS.get(plan.status, plan.status)}."
            elif ready:
                plan_text = "No development plan yet: start one together from your report."
            else:
                plan_text = "Your development plan starts once your report is ready."
            rows.append(
                CycleHome(
                    cycle_id=int(cycle.id or 0),
                    name=cycle.name,
                    status=cycle.status,
                    opens_on=cycle.opens_on,
                    closes_on=cycle.closes_on,
                    report_ready=ready,
                    report=report_words(cycle),
                    plan=plan_text,
                    plan_exists=plan is not None,
                )
            )
        homes.append(
            PairingHome(
                pairing_id=int(pairing.id or 0),
                council=council,
                pairing=pairing_label(member_name, officer_name),
                kind=kind_label(pairing.kind),
                portfolio=pairing.portfolio,
                cycles=rows,
            )
        )
    return homes
