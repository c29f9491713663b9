"""The 90-day pulse: a short cycle after a published full cycle, asking each pairing only its
development plan's focus dimensions (the dimensions its goals are about) and the mirror
items, of the same raters, under the same anonymity rules (it is a cycle like any other:
the same threshold, suppression, publication gate and hold-back).

It lives in planning because its questions come from the plans; what a pulse asks is
`feedback.setup.framework.StoredFramework.in_pulse`, what its report compares with is
`feedback.results.loading.previous_cycle` (the full cycle it follows, like with like).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core import audit
from core.errors import Invalid, NotFound, PermissionDenied
from core.formats import uk_date
from core.models import stored_id
from core.roles import Actor, require_council_manager
from core.vocabulary import CycleKind, CycleStatus, InvitationStatus, RaterGroup
from feedback.access import require_plan_reader
from feedback.models import Cycle, CyclePairing, Invitation
from feedback.results.publication import read_pairing_report
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    get_cycle,
    nominate_rater,
    pairings_in_cycle,
    require_status,
)
from feedback.setup.people import pairing_label
from planning.models import PlanGoal
from planning.plans import dimension_names, find_plan, get_plan

# The pulse opens about 90 days after the full cycle's results were published and stays
# open two weeks; the facilitator may change both before it opens.
OPENS_AFTER_DAYS = 90
OPEN_FOR_DAYS = 14

NO_PLAN = (
    "{label}: this pairing has no development plan with focus dimensions yet, so a pulse "
    "would have nothing to ask about. Agree a plan for '{cycle}' with at least one goal "
    "tied to a dimension, then start the pulse."
)


def focus_dimensions(session: Session, pairing_id: int, cycle_id: int) -> list[str]:
    """The dimension codes the pairing's plan for the cycle has goals about, in the
    framework's order (none without a plan)."""
    plan = find_plan(session, pairing_id, cycle_id)
    if plan is None:
        return []
    codes = set(session.exec(select(PlanGoal.dimension_code).where(PlanGoal.plan_id == plan.id)))
    order = list(dimension_names(session, cycle_id))
    return [c for c in order if c in codes] + sorted(codes - set(order))


@dataclass(frozen=True)
class PulseDraft:
    """What starting a pulse would do, for the confirmation and the command line."""

    name: str
    opens_on: date
    closes_on: date
    pairings: tuple[tuple[int, str, tuple[str, ...]], ...]  # (pairing id, label, focus codes)
    skipped: tuple[str, ...]  # pairings left out: why, in a sentence each


def default_dates(full: Cycle) -> tuple[date, date]:
    """Opens ~90 days after publication (or after closing, if never stamped), two weeks."""
    published = full.published_at.date() if full.published_at else full.closes_on
    opens = published + timedelta(days=OPENS_AFTER_DAYS)
    return opens, opens + timedelta(days=OPEN_FOR_DAYS)


def plan_pulse(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int | None = None
) -> PulseDraft:
    """The pulse that would follow `cycle_id` (for one pairing, or every pairing of the
    cycle with a plan), or Invalid saying why there can be none."""
    full = get_cycle(session, cycle_id)
    require_council_manager(actor, full.council_id)
    if full.kind != CycleKind.full:
        raise Invalid(
            f"'{full.name}' is itself a 90-day pulse; a pulse follows a full cycle. Start it "
            "from the full cycle it follows."
        )
    if full.status != CycleStatus.published:
        raise Invalid(
            f"'{full.name}' is {full.status}, not published: a pulse shows change since the "
            "full cycle's published results, so publish them first."
        )
    pairings = pairings_in_cycle(session, cycle_id)
    if pairing_id is not None:
        pairings = [p for p in pairings if p.id == pairing_id]
        if not pairings:
            raise Invalid(f"That pairing did not take part in '{full.name}'.")
    chosen: list[tuple[int, str, tuple[str, ...]]] = []
    skipped: list[str] = []
    for pairing in pairings:
        label = pairing_label(session, pairing)
        focus = focus_dimensions(session, stored_id(pairing.id), cycle_id)
        if not pairing.active:
            skipped.append(f"{label}: the pairing has ended.")
        elif not focus:
            skipped.append(NO_PLAN.format(label=label, cycle=full.name))
        else:
            chosen.append((stored_id(pairing.id), label, tuple(focus)))
    if not chosen:
        if pairing_id is not None:
            raise Invalid(skipped[0])
        raise Invalid(
            f"No pairing in '{full.name}' has a development plan with focus dimensions yet, "
            "so a pulse would have nothing to ask. Agree a plan with at least one goal tied "
            "to a dimension, then start the pulse.",
            skipped,
        )
    opens, closes = default_dates(full)
    name = f"90-day pulse after {full.name}"
    if pairing_id is not None:
        name = f"{name}: {chosen[0][1]}"
    return PulseDraft(name[:120].rstrip(), opens, closes, tuple(chosen), tuple(skipped))


def start_pulse(
    session: Session,
    actor: Actor,
    cycle_id: int,
    pairing_id: int | None = None,
    *,
    name: str | None = None,
    opens_on: date | None = None,
    closes_on: date | None = None,
    expected_status: str | None = None,
) -> Cycle:
    """Start a 90-day pulse after the published full cycle `cycle_id`, for one pairing or
    every pairing with a plan: a draft cycle with the same framework version and anonymity
    threshold, each pairing asked its plan's focus dimensions and the mirror items, and the
    same raters nominated (change them before opening, as for any cycle). `expected_status`
    is the status the user saw (ui.confirm); one transaction, the caller's."""
    full = get_cycle(session, cycle_id)
    require_council_manager(actor, full.council_id)
    require_status(session, full, expected_status)
    draft = plan_pulse(session, actor, cycle_id, pairing_id)
    opens = opens_on or draft.opens_on
    closes = closes_on or (opens + timedelta(days=OPEN_FOR_DAYS))
    pulse = create_cycle(
        session,
        actor,
        full.council_id,
        name or draft.name,
        opens,
        closes,
        anonymity_threshold=full.anonymity_threshold,
        framework_version_id=full.framework_version_id,
    )
    pulse.kind = CycleKind.pulse.value
    pulse.follows_cycle_id = full.id
    pulse.reminder_days = full.reminder_days
    session.add(pulse)
    pulse_id = stored_id(pulse.id)
    for pid, _label, focus in draft.pairings:
        add_pairing_to_cycle(session, actor, pulse_id, pid)
        place = session.get(CyclePairing, (pulse_id, pid))
        if place is None:  # add_pairing_to_cycle has just written it
            raise NotFound("The pairing could not be added to the pulse.")
        place.focus_dimensions = list(focus)
        session.add(place)
        raters = session.exec(
            select(Invitation)
            .where(
                Invitation.cycle_id == cycle_id,
                Invitation.pairing_id == pid,
                Invitation.rater_group != RaterGroup.principal,
                Invitation.status != InvitationStatus.revoked,
            )
            .order_by(col(Invitation.id))
        ).all()
        for inv in raters:
            nominate_rater(session, actor, pulse_id, pid, inv.rater_id, inv.rater_group)
    session.flush()
    audit.record(
        session,
        actor,
        "start pulse",
        "cycle",
        pulse_id,
        full.council_id,
        follows=full.name,
        pairings=[pid for pid, _l, _f in draft.pairings],
    )
    return pulse


# --- the pulse beside the plan ------------------------------------------------------------


@dataclass(frozen=True)
class PulseChange:
    """One published figure of the pulse against the full cycle it follows."""

    target: str  # member | officer | partnership
    source: str  # self | partner | others
    previous: float
    current: float
    change: float


@dataclass(frozen=True)
class PulseResult:
    """The latest published pulse after a plan's cycle, for the plan's check-ins: its
    change since the full cycle per asked focus dimension (as published, nothing else)."""

    cycle_id: int
    cycle_name: str
    follows_name: str
    published_on: date | None
    focus: tuple[str, ...]
    changes: dict[str, tuple[PulseChange, ...]]  # dimension code → its published changes


def pulse_result(session: Session, actor: Actor, plan_id: int) -> PulseResult | None:
    """The latest published pulse for this plan's pairing after the plan's cycle, read
    through the publication gate (`read_pairing_report`: the edition principals read), or
    None when there is none yet."""
    plan = get_plan(session, plan_id)
    require_plan_reader(session, actor, plan.pairing_id)
    full = session.get(Cycle, plan.cycle_id)
    rows = session.exec(
        select(Cycle, CyclePairing.focus_dimensions)
        .join(CyclePairing, col(CyclePairing.cycle_id) == col(Cycle.id))
        .where(
            Cycle.follows_cycle_id == plan.cycle_id,
            Cycle.kind == CycleKind.pulse,
            Cycle.status == CycleStatus.published,
            CyclePairing.pairing_id == plan.pairing_id,
        )
        .order_by(col(Cycle.opens_on).desc(), col(Cycle.id).desc())
    ).all()
    for pulse, focus in rows:
        try:
            report = read_pairing_report(session, actor, stored_id(pulse.id), plan.pairing_id)
        except (NotFound, PermissionDenied):
            continue
        changes: dict[str, list[PulseChange]] = {}
        for row in report.change.to_dict("records"):
            changes.setdefault(str(row["dimension_code"]), []).append(
                PulseChange(
                    str(row["target"]),
                    str(row["source"]),
                    float(row["previous"]),
                    float(row["current"]),
                    float(row["change"]),
                )
            )
        return PulseResult(
            cycle_id=stored_id(pulse.id),
            cycle_name=pulse.name,
            follows_name=full.name if full is not None else "",
            published_on=pulse.published_at.date() if pulse.published_at else None,
            focus=tuple(focus or ()),
            changes={k: tuple(v) for k, v in changes.items()},
        )
    return None


SOURCE_WORDS = {"self": "own view", "partner": "partner's view", "others": "everyone else"}


def pulse_lines(result: PulseResult, dimension: str, member: str, officer: str) -> list[str]:
    """THE words for a pulse beside a goal (the plan page and `tandem plan show`): each
    published change of the goal's dimension, or why there is none."""
    if dimension not in result.focus:
        return [f"Not asked in {result.cycle_name} (not one of the plan's focus dimensions)."]
    rows = result.changes.get(dimension, ())
    if not rows:
        return [
            f"{result.cycle_name}: no change can be shown for this dimension (too few "
            "replies to show a figure, in the pulse or in the full cycle)."
        ]
    about = {"member": member, "officer": officer, "partnership": "the partnership"}
    return [
        f"{result.cycle_name}: about {about.get(r.target, r.target)}, "
        f"{SOURCE_WORDS.get(r.source, r.source)} {r.previous:.1f} → {r.current:.1f} "
        f"({r.change:+.1f} since {result.follows_name})"
        for r in rows
    ]


def pulse_heading(result: PulseResult) -> str:
    when = f", published {uk_date(result.published_on)}" if result.published_on else ""
    return (
        f"90-day pulse: {result.cycle_name}{when}. Change since {result.follows_name}, for the "
        "same dimensions and questions only (like with like)."
    )
