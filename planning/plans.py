"""Joint development plans: one per pairing per cycle, changed only through these functions.

Every change bumps the plan's revision and stores a snapshot of the whole plan, so history
is kept. Callers pass the revision they started from (`expected_revision`) so concurrent
edits are refused with an explanation naming who changed the plan, rather than silently
overwriting each other.

Agreement: each principal signs a revision. The plan is *agreed* when both have signed
since the last change to what the plan says (goals and actions). A change to what it says
after that marks it "changed since agreed" until both sign again. Progress — an action's
status and check-ins — is recorded in the history too but is not a change to what was
agreed, so it never undoes the agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select, update

from core import audit
from core.db import select_row
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.formats import uk_date
from core.models import Council, stored_id, utcnow
from core.roles import Actor, is_principal, visible_council_ids
from core.text import column_limit, one_line, paragraphs
from core.vocabulary import CycleKind, pairing_label
from feedback.access import require_plan_editor, require_plan_reader, staff_name
from feedback.models import Cycle, CyclePairing, Dimension, Pairing, Person
from planning.models import (
    CHALLENGE_LABELS,
    ActionOwner,
    ActionStatus,
    Challenge,
    CheckIn,
    DevelopmentPlan,
    PlanAction,
    PlanGoal,
    PlanRevision,
    PlanStatus,
    SignOff,
)

UK = ZoneInfo("Europe/London")
STATUSES = [s.value for s in ActionStatus]
OWNERS = [o.value for o in ActionOwner]
CONTENT = "content"  # a change to what the plan says: needs agreement again
PROGRESS = "progress"  # status changes and check-ins: tracked, agreement kept
_UNSET: Any = object()


# --- reading ----------------------------------------------------------------------------


def get_plan(session: Session, plan_id: int) -> DevelopmentPlan:
    plan = session.get(DevelopmentPlan, plan_id)
    if plan is None:
        raise NotFound(f"There is no development plan with id {plan_id}.")
    return plan


def find_plan(session: Session, pairing_id: int, cycle_id: int) -> DevelopmentPlan | None:
    return session.exec(
        select(DevelopmentPlan).where(
            DevelopmentPlan.pairing_id == pairing_id, DevelopmentPlan.cycle_id == cycle_id
        )
    ).first()


def plan_goals(session: Session, plan_id: int) -> list[PlanGoal]:
    return list(
        session.exec(
            select(PlanGoal)
            .where(PlanGoal.plan_id == plan_id)
            .order_by(col(PlanGoal.position), col(PlanGoal.id))
        )
    )


def plan_actions(session: Session, goal_ids: list[int]) -> list[PlanAction]:
    if not goal_ids:
        return []
    return list(
        session.exec(
            select(PlanAction)
            .where(col(PlanAction.goal_id).in_(goal_ids))
            .order_by(col(PlanAction.position), col(PlanAction.id))
        )
    )


@dataclass(frozen=True)
class ActionView:
    id: int
    description: str
    owner: str
    due_on: date | None
    success_measure: str
    status: str


@dataclass(frozen=True)
class GoalView:
    id: int
    dimension: str
    challenge: str | None
    title: str
    description: str
    source: str
    actions: tuple[ActionView, ...]
    dimension_name: str = ""  # the dimension's name in the cycle's framework
    challenge_label: str = ""
    # the corporate peer challenge recommendation the goal answers ("" when none)
    peer_challenge_ref: str = ""
    peer_challenge_text: str = ""

    @property
    def citation(self) -> str:
        """The cited recommendation in words: "CPC 2025 rec. 3: Agree …" ("" when none)."""
        return cited(self.peer_challenge_ref, self.peer_challenge_text)


def cited(reference: str, text: str) -> str:
    """THE words for a cited peer challenge recommendation (page, workbook, command line)."""
    if reference and text:
        return f"{reference}: {text}"
    return reference or text


@dataclass(frozen=True)
class Signature:
    """A principal's latest agreement to the plan, and whether it covers it as it now reads."""

    side: str  # member | officer
    person_id: int
    name: str
    signed_revision: int | None
    signed_at: datetime | None
    current: bool
    # Staff who recorded the agreement on the principal's behalf, and their note of how it
    # was given ("" when the principal agreed themselves).
    recorded_by: str = ""
    note: str = ""


def agreement_words(s: Signature) -> str:
    """THE words for a principal's agreement, on the plan page, in the workbook and on the
    command line: an agreement staff recorded for them never reads like their own."""
    if s.signed_revision is None:
        return f"{s.name} has not agreed yet."
    earlier = f"agreed an earlier version (revision {s.signed_revision})"
    what = "has agreed" if s.current else earlier
    when = uk_date(s.signed_at) if s.signed_at else ""
    if not s.recorded_by:
        return f"{s.name} {what}" + (f" on {when}." if when else ".")
    return (
        f"{s.name} {what}: recorded by {s.recorded_by} on behalf of {s.name}"
        + (f" on {when}" if when else "")
        + f", with the note “{s.note}”."
    )


@dataclass(frozen=True)
class CheckInView:
    id: int
    action_id: int | None
    held_on: date
    note: str
    status_from: str | None
    status_to: str | None
    recorded_by: str


@dataclass(frozen=True)
class PlanView:
    """Everything a screen or an export shows about one plan."""

    plan_id: int
    revision: int
    status: str
    goals: tuple[GoalView, ...]
    pairing_id: int
    cycle_id: int
    cycle_name: str
    member_name: str
    officer_name: str
    portfolio: str | None
    updated_at: datetime
    updated_by: str
    carried_from_plan_id: int | None
    signoffs: tuple[Signature, ...]
    check_ins: tuple[CheckInView, ...]
    council_id: int = 0


@dataclass(frozen=True)
class RevisionView:
    """One entry of a plan's history; `snapshot` is the stored plan as it then stood."""

    revision: int
    summary: str
    changed_by: str
    changed_at: datetime
    kind: str
    signed_by: list[str]
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class PlanChoice:
    """A (cycle, pairing) whose plan an actor may open, labelled for a chooser."""

    cycle_id: int
    cycle: str
    cycle_status: str
    pairing_id: int
    pairing: str


def goal_views(
    session: Session, plan: DevelopmentPlan, names: dict[str, str] | None = None
) -> list[GoalView]:
    """The plan's goals with their actions, in order; `names` (dimension code → name) fills
    each goal's dimension name and its challenge's label."""
    return goal_views_of(session, [stored_id(plan.id)], names)[stored_id(plan.id)]


def goal_views_of(
    session: Session, plan_ids: list[int], names: dict[str, str] | None = None
) -> dict[int, list[GoalView]]:
    """`goal_views` for several plans, in two queries (a council's export reads them all)."""
    goals = session.exec(
        select(PlanGoal)
        .where(col(PlanGoal.plan_id).in_(plan_ids))
        .order_by(col(PlanGoal.position), col(PlanGoal.id))
    ).all()
    actions: dict[int, list[PlanAction]] = {}
    for a in plan_actions(session, [stored_id(g.id) for g in goals]):
        actions.setdefault(a.goal_id, []).append(a)
    out: dict[int, list[GoalView]] = {pid: [] for pid in plan_ids}
    for g in goals:
        out[g.plan_id].append(
            GoalView(
                id=stored_id(g.id),
                dimension=g.dimension_code,
                challenge=g.challenge,
                title=g.title,
                description=g.description,
                source=g.source,
                actions=tuple(
                    ActionView(
                        id=stored_id(a.id),
                        description=a.description,
                        owner=a.owner,
                        due_on=a.due_on,
                        success_measure=a.success_measure,
                        status=a.status,
                    )
                    for a in actions.get(stored_id(g.id), [])
                ),
                dimension_name=""
                if names is None
                else names.get(g.dimension_code, g.dimension_code),
                challenge_label=""
                if names is None
                else CHALLENGE_LABELS.get(g.challenge or "", ""),
                peer_challenge_ref=g.peer_challenge_ref,
                peer_challenge_text=g.peer_challenge_text,
            )
        )
    return out


def plan_snapshot(session: Session, plan: DevelopmentPlan, kind: str = CONTENT) -> dict[str, Any]:
    """The plan as stored in its history (JSON): what the plan says, dates as ISO text."""
    return {
        "plan_id": plan.id,
        "revision": plan.revision,
        "status": plan.status,
        "kind": kind,
        "goals": [
            {
                "id": g.id,
                "dimension": g.dimension,
                "challenge": g.challenge,
                "title": g.title,
                "description": g.description,
                "source": g.source,
                "peer_challenge_ref": g.peer_challenge_ref,
                "peer_challenge_text": g.peer_challenge_text,
                "actions": [
                    {
                        "id": a.id,
                        "description": a.description,
                        "owner": a.owner,
                        "due_on": a.due_on.isoformat() if a.due_on else None,
                        "success_measure": a.success_measure,
                        "status": a.status,
                    }
                    for a in g.actions
                ],
            }
            for g in goal_views(session, plan)
        ],
    }


def dimension_names(session: Session, cycle_id: int) -> dict[str, str]:
    """Dimension code → name in the framework the cycle ran."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        return {}
    rows = session.exec(
        select(Dimension.code, Dimension.name)
        .where(Dimension.framework_version_id == cycle.framework_version_id)
        .order_by(col(Dimension.position))
    ).all()
    return dict(rows)


def person_name(session: Session, person_id: int) -> str:
    """A person's full name (empty if the record is gone)."""
    person = session.get(Person, person_id)
    return person.full_name if person is not None else ""


def read_plan(session: Session, actor: Actor, plan_id: int) -> PlanView:
    """Everything a screen or an export shows about one plan (access-checked)."""
    plan = get_plan(session, plan_id)
    pairing = require_plan_reader(session, actor, plan.pairing_id)
    cycle = session.get(Cycle, plan.cycle_id)
    check_ins = session.exec(
        select(CheckIn)
        .where(CheckIn.plan_id == plan.id)
        .order_by(col(CheckIn.held_on), col(CheckIn.id))
    )
    return PlanView(
        plan_id=stored_id(plan.id),
        revision=plan.revision,
        status=plan.status,
        goals=tuple(goal_views(session, plan, dimension_names(session, plan.cycle_id))),
        pairing_id=stored_id(pairing.id),
        cycle_id=plan.cycle_id,
        cycle_name=cycle.name if cycle is not None else "",
        member_name=person_name(session, pairing.member_id),
        officer_name=person_name(session, pairing.officer_id),
        portfolio=pairing.portfolio,
        updated_at=plan.updated_at,
        updated_by=plan.updated_by,
        carried_from_plan_id=plan.carried_from_plan_id,
        signoffs=tuple(agreement(session, plan, pairing)),
        check_ins=tuple(
            CheckInView(
                id=stored_id(c.id),
                action_id=c.action_id,
                held_on=c.held_on,
                note=c.note,
                status_from=c.status_from,
                status_to=c.status_to,
                recorded_by=c.recorded_by,
            )
            for c in check_ins
        ),
        council_id=pairing.council_id,
    )


def agreement(
    session: Session, plan: DevelopmentPlan, pairing: Pairing | None = None
) -> list[Signature]:
    """Each principal's latest signature and whether it covers the plan as it now reads."""
    pairing = pairing or session.get(Pairing, plan.pairing_id)
    if pairing is None:
        raise NotFound(f"There is no pairing with id {plan.pairing_id}.")
    return agreements_of(session, [(plan, pairing)])[stored_id(plan.id)]


def agreements_of(
    session: Session,
    plans: list[tuple[DevelopmentPlan, Pairing]],
    names: dict[int, str] | None = None,
) -> dict[int, list[Signature]]:
    """`agreement` for several plans (each with its pairing), in at most three queries;
    `names` (person id → full name) where the caller has read them already."""
    plan_ids = [stored_id(plan.id) for plan, _pairing in plans]
    since = last_content_revisions(session, plan_ids)
    latest: dict[tuple[int, int], SignOff] = {}
    for signed in session.exec(
        select(SignOff)
        .where(col(SignOff.plan_id).in_(plan_ids))
        .order_by(col(SignOff.plan_revision).desc(), col(SignOff.id).desc())
    ):
        latest.setdefault((signed.plan_id, signed.person_id), signed)
    people = {p.member_id for _plan, p in plans} | {p.officer_id for _plan, p in plans}
    if names is None or not people <= names.keys():
        names = person_names(session, people)
    out: dict[int, list[Signature]] = {}
    for plan_id, (_plan, pairing) in zip(plan_ids, plans, strict=True):
        out[plan_id] = []
        for side, person_id in (("member", pairing.member_id), ("officer", pairing.officer_id)):
            last = latest.get((plan_id, person_id))
            out[plan_id].append(
                Signature(
                    side=side,
                    person_id=person_id,
                    name=names.get(person_id, ""),
                    signed_revision=last.plan_revision if last else None,
                    signed_at=last.signed_at if last else None,
                    current=bool(last and last.plan_revision >= since[plan_id]),
                    recorded_by=last.recorded_by if last else "",
                    note=last.note if last else "",
                )
            )
    return out


def person_names(session: Session, person_ids: set[int]) -> dict[int, str]:
    """Full names by person id (a record that is gone is simply missing: `person_name`)."""
    if not person_ids:
        return {}
    return {
        pid: name
        for pid, name in session.exec(
            select(Person.id, Person.full_name).where(col(Person.id).in_(person_ids))
        ).all()
        if pid is not None
    }


def last_content_revision(session: Session, plan_id: int) -> int:
    """The latest revision that changed what the plan says (not just its progress)."""
    return last_content_revisions(session, [plan_id])[plan_id]


def last_content_revisions(session: Session, plan_ids: list[int]) -> dict[int, int]:
    """`last_content_revision` for several plans in one query."""
    rows = session.exec(
        select(PlanRevision.plan_id, PlanRevision.revision, PlanRevision.snapshot).where(
            col(PlanRevision.plan_id).in_(plan_ids)
        )
    ).all()
    content: dict[int, list[int]] = {pid: [] for pid in plan_ids}
    for plan_id, revision, snap in rows:
        if (snap or {}).get("kind", CONTENT) == CONTENT:
            content[plan_id].append(revision)
    return {pid: max(revisions, default=1) for pid, revisions in content.items()}


def plan_history(session: Session, actor: Actor, plan_id: int) -> list[RevisionView]:
    """Every revision, newest first: who changed what and when, with the snapshot."""
    plan = get_plan(session, plan_id)
    require_plan_reader(session, actor, plan.pairing_id)
    revisions = session.exec(
        select(PlanRevision)
        .where(PlanRevision.plan_id == plan_id)
        .order_by(col(PlanRevision.revision).desc())
    ).all()
    signed = session.exec(select(SignOff).where(SignOff.plan_id == plan_id)).all()
    names = {s.person_id: person_name(session, s.person_id) for s in signed}
    return [
        RevisionView(
            revision=r.revision,
            summary=r.summary,
            changed_by=r.changed_by,
            changed_at=r.changed_at,
            kind=(r.snapshot or {}).get("kind", CONTENT),
            signed_by=sorted(
                names[s.person_id]
                + (f" (recorded by {s.recorded_by} on their behalf)" if s.recorded_by else "")
                for s in signed
                if s.plan_revision == r.revision
            ),
            snapshot=r.snapshot,
        )
        for r in revisions
    ]


def plans_for_cycle(session: Session, actor: Actor, cycle_id: int) -> list[DevelopmentPlan]:
    """The plans of a cycle this actor may read: staff see all, a principal their own."""
    plans = session.exec(
        select(DevelopmentPlan)
        .where(DevelopmentPlan.cycle_id == cycle_id)
        .order_by(col(DevelopmentPlan.pairing_id))
    ).all()
    out = []
    for plan in plans:
        try:
            require_plan_reader(session, actor, plan.pairing_id)
        except PermissionDenied:
            continue
        out.append(plan)
    return out


# --- the change machinery ---------------------------------------------------------------


def actor_name(session: Session, actor: Actor) -> str:
    """The name shown in history and conflict messages: the person's name when known."""
    if actor.person_id is not None:
        person = session.get(Person, actor.person_id)
        if person is not None:
            return person.full_name
    return actor.label


def when_label(moment: datetime) -> str:
    """When something happened, as the plan's history shows it (UK time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(UK)
    if local.date() == utcnow().astimezone(UK).date():
        return f"at {local:%H:%M}"
    return f"on {local.day} {local:%B %Y} at {local:%H:%M}"


def conflict_message(plan: DevelopmentPlan) -> str:
    who = plan.updated_by or "Someone else"
    return (
        f"{who} changed this plan {when_label(plan.updated_at)}; your change was not saved — "
        "reload to see theirs."
    )


def _check_revision(plan: DevelopmentPlan, expected_revision: int | None) -> None:
    if expected_revision is not None and expected_revision != plan.revision:
        raise Conflict(conflict_message(plan))


def open_for_edit(
    session: Session, actor: Actor, plan_id: int, expected_revision: int | None
) -> DevelopmentPlan:
    """The plan, if this actor may edit it and nobody changed it since `expected_revision`."""
    plan = get_plan(session, plan_id)
    require_plan_editor(session, actor, plan.pairing_id)
    _check_revision(plan, expected_revision)
    return plan


def touch(
    session: Session,
    actor: Actor,
    plan: DevelopmentPlan,
    summary: str,
    expected_revision: int | None = None,
    kind: str = CONTENT,
) -> DevelopmentPlan:
    """Record a change: bump the revision (refusing a stale one), keep a snapshot."""
    _check_revision(plan, expected_revision)
    current = plan.revision
    new_status = plan.status
    if kind == CONTENT and plan.status == PlanStatus.agreed:
        new_status = PlanStatus.changed_since_agreed.value
    who = actor_name(session, actor)
    result = session.exec(
        update(DevelopmentPlan)
        .where(col(DevelopmentPlan.id) == plan.id, col(DevelopmentPlan.revision) == current)
        .values(revision=current + 1, status=new_status, updated_at=utcnow(), updated_by=who)
    )
    if result.rowcount != 1:
        session.refresh(plan)
        raise Conflict(conflict_message(plan))
    session.refresh(plan)
    session.add(
        PlanRevision(
            plan_id=stored_id(plan.id),
            revision=plan.revision,
            summary=summary[:500],
            snapshot=plan_snapshot(session, plan, kind),
            changed_by=who,
        )
    )
    session.flush()
    return plan


def _goal(session: Session, goal_id: int) -> PlanGoal:
    goal = session.get(PlanGoal, goal_id)
    if goal is None:
        raise NotFound(f"There is no goal with id {goal_id} (it may have been removed).")
    return goal


def _action(session: Session, action_id: int) -> PlanAction:
    action = session.get(PlanAction, action_id)
    if action is None:
        raise NotFound(f"There is no action with id {action_id} (it may have been removed).")
    return action


# --- validation -------------------------------------------------------------------------


# Text follows the one rule of core.text: a goal's title is one line; what it is for,
# an action, its success measure and a check-in note may run over several lines.


def _clean_title(title: str | None) -> str:
    return one_line(
        title,
        "the goal's title",
        limit=column_limit(PlanGoal, "title"),
        required="A goal needs a title.",
    )


def _clean_goal_description(description: str | None) -> str:
    return paragraphs(description, "the goal's “why it matters”")


def clean_measure(measure: str | None) -> str:
    """A success measure under the text rule (the page and the workbook import alike)."""
    return paragraphs(measure, "the success measure")


def clean_note(note: str | None) -> str:
    """A check-in note under the text rule."""
    return paragraphs(note, "the check-in note")


def _check_challenge(challenge: str | None) -> str | None:
    if challenge and challenge not in {c.value for c in Challenge}:
        raise Invalid(
            f"'{challenge}' is not one of the six council challenges: "
            + ", ".join(CHALLENGE_LABELS)
            + "."
        )
    return challenge or None


def clean_reference(reference: str | None) -> str:
    """A peer challenge recommendation's reference ("CPC 2025 rec. 3"): one line."""
    return one_line(
        reference,
        "the recommendation's reference",
        limit=column_limit(PlanGoal, "peer_challenge_ref"),
    )


def clean_recommendation(text: str | None) -> str:
    """A peer challenge recommendation's words, under the text rule."""
    return paragraphs(
        text,
        "the recommendation",
        limit=column_limit(PlanGoal, "peer_challenge_text"),
    )


def clean_description(description: str | None, required: bool = True) -> str:
    needed = "An action needs a description of what will be done." if required else None
    return paragraphs(description, "the action", required=needed)


def _check_owner(owner: str) -> str:
    if owner not in OWNERS:
        raise Invalid("The owner of an action is the member, the officer or both (joint).")
    return owner


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise Invalid(f"Status '{status}' is not one of: {', '.join(STATUSES)}.")
    return status


# --- user actions -----------------------------------------------------------------------


def create_plan(session: Session, actor: Actor, pairing_id: int, cycle_id: int) -> DevelopmentPlan:
    pairing, cycle = session.get(Pairing, pairing_id), session.get(Cycle, cycle_id)
    if pairing is None or cycle is None or pairing.council_id != cycle.council_id:
        raise Invalid("A plan belongs to a pairing and a cycle of the same council.")
    require_plan_editor(session, actor, pairing_id)
    if cycle.kind == CycleKind.pulse:
        raise Invalid(
            f"'{cycle.name}' is a 90-day pulse: it is shown beside the plan of the full cycle "
            "it follows, and has no plan of its own."
        )
    if session.get(CyclePairing, (cycle_id, pairing_id)) is None:
        raise Invalid("That pairing did not take part in this cycle, so it has no plan for it.")
    if find_plan(session, pairing_id, cycle_id) is not None:
        raise Conflict("This pairing already has a plan for this cycle.")
    who = actor_name(session, actor)
    plan = DevelopmentPlan(pairing_id=pairing_id, cycle_id=cycle_id, updated_by=who)
    session.add(plan)
    session.flush()
    session.add(
        PlanRevision(
            plan_id=stored_id(plan.id),
            revision=plan.revision,
            summary="Plan started",
            snapshot=plan_snapshot(session, plan),
            changed_by=who,
        )
    )
    session.flush()
    return plan


def get_or_create_plan(
    session: Session, actor: Actor, pairing_id: int, cycle_id: int
) -> DevelopmentPlan:
    plan = find_plan(session, pairing_id, cycle_id)
    if plan is not None:
        require_plan_reader(session, actor, plan.pairing_id)
        return plan
    return create_plan(session, actor, pairing_id, cycle_id)


def add_goal(
    session: Session,
    actor: Actor,
    plan_id: int,
    dimension_code: str,
    title: str,
    description: str = "",
    challenge: str | None = None,
    source: str = "written",
    expected_revision: int | None = None,
) -> PlanGoal:
    plan = open_for_edit(session, actor, plan_id, expected_revision)
    title = _clean_title(title)
    description = _clean_goal_description(description)
    dimension_code = (dimension_code or "").strip()
    if not dimension_code:
        raise Invalid("A goal is tied to one of the framework's dimensions; choose one.")
    challenge = _check_challenge(challenge)
    position = len(session.exec(select(PlanGoal.id).where(PlanGoal.plan_id == plan_id)).all())
    goal = PlanGoal(
        plan_id=plan_id,
        dimension_code=dimension_code,
        challenge=challenge,
        title=title,
        description=description,
        source=source,
        position=position,
    )
    session.add(goal)
    session.flush()
    touch(session, actor, plan, f"Goal added: {title}")
    return goal


def update_goal(
    session: Session,
    actor: Actor,
    goal_id: int,
    *,
    title: str = _UNSET,
    description: str = _UNSET,
    dimension_code: str = _UNSET,
    challenge: str | None = _UNSET,
    peer_challenge_ref: str = _UNSET,
    peer_challenge_text: str = _UNSET,
    expected_revision: int | None = None,
) -> bool:
    """Change a goal's wording, dimension, challenge or the peer challenge recommendation it
    cites. Returns False if nothing changed (and then the plan's revision and agreement are
    left alone)."""
    goal = _goal(session, goal_id)
    plan = open_for_edit(session, actor, goal.plan_id, expected_revision)
    changes: dict[str, Any] = {}
    if title is not _UNSET:
        changes["title"] = _clean_title(title)
    if description is not _UNSET:
        changes["description"] = _clean_goal_description(description)
    if dimension_code is not _UNSET:
        if not (dimension_code or "").strip():
            raise Invalid("A goal is tied to one of the framework's dimensions; choose one.")
        changes["dimension_code"] = dimension_code.strip()
    if challenge is not _UNSET:
        changes["challenge"] = _check_challenge(challenge)
    if peer_challenge_ref is not _UNSET:
        changes["peer_challenge_ref"] = clean_reference(peer_challenge_ref)
    if peer_challenge_text is not _UNSET:
        changes["peer_challenge_text"] = clean_recommendation(peer_challenge_text)
    after = {**{k: getattr(goal, k) for k in ("peer_challenge_ref", "peer_challenge_text")}}
    after.update({k: v for k, v in changes.items() if k in after})
    if after["peer_challenge_text"] and not after["peer_challenge_ref"]:
        raise Invalid(
            "Give the recommendation's reference as well (for example “CPC 2025 rec. 3”), so "
            "the peer team can find it in their report."
        )
    changed = {k: v for k, v in changes.items() if getattr(goal, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(goal, key, value)
    session.add(goal)
    session.flush()
    touch(session, actor, plan, f"Goal changed: {goal.title}")
    return True


def cite_peer_challenge(
    session: Session,
    actor: Actor,
    goal_id: int,
    reference: str,
    text: str = "",
    expected_revision: int | None = None,
) -> bool:
    """Tie a goal to a corporate peer challenge recommendation: its reference as the peer
    team's report numbers it ("CPC 2025 rec. 3") and its words. Both empty removes the
    citation. A change to what the plan says: both agree again. Returns False if unchanged."""
    return update_goal(
        session,
        actor,
        goal_id,
        peer_challenge_ref=reference,
        peer_challenge_text=text,
        expected_revision=expected_revision,
    )


def remove_goal(
    session: Session, actor: Actor, goal_id: int, expected_revision: int | None = None
) -> None:
    """Remove a goal and its actions (they remain in the plan's history)."""
    goal = _goal(session, goal_id)
    plan = open_for_edit(session, actor, goal.plan_id, expected_revision)
    title = goal.title
    action_ids = session.exec(select(PlanAction.id).where(PlanAction.goal_id == goal_id)).all()
    if action_ids:
        session.exec(
            update(CheckIn).where(col(CheckIn.action_id).in_(action_ids)).values(action_id=None)
        )
        session.exec(delete(PlanAction).where(col(PlanAction.goal_id) == goal_id))
    session.delete(goal)
    session.flush()
    session.expire_all()
    plan = get_plan(session, stored_id(plan.id))
    touch(session, actor, plan, f"Goal removed: {title}")


def add_action(
    session: Session,
    actor: Actor,
    goal_id: int,
    description: str,
    owner: str,
    due_on: date | None = None,
    success_measure: str = "",
    status: str = ActionStatus.not_started,
    expected_revision: int | None = None,
) -> PlanAction:
    goal = _goal(session, goal_id)
    plan = open_for_edit(session, actor, goal.plan_id, expected_revision)
    description = clean_description(description)
    success_measure = clean_measure(success_measure)
    _check_owner(owner)
    _check_status(status)
    position = len(session.exec(select(PlanAction.id).where(PlanAction.goal_id == goal_id)).all())
    action = PlanAction(
        goal_id=goal_id,
        description=description,
        owner=owner,
        due_on=due_on,
        success_measure=success_measure,
        status=str(status),
        position=position,
    )
    session.add(action)
    session.flush()
    touch(session, actor, plan, f"Action added: {description[:80]}")
    return action


def update_action(
    session: Session,
    actor: Actor,
    action_id: int,
    *,
    description: str = _UNSET,
    owner: str = _UNSET,
    due_on: date | None = _UNSET,
    success_measure: str = _UNSET,
    expected_revision: int | None = None,
) -> bool:
    """Change what an action says (not its status: see set_action_status). Returns False
    if nothing changed."""
    action = _action(session, action_id)
    plan = open_for_edit(session, actor, _goal(session, action.goal_id).plan_id, expected_revision)
    changes: dict[str, Any] = {}
    if description is not _UNSET:
        changes["description"] = clean_description(description)
    if owner is not _UNSET:
        changes["owner"] = _check_owner(owner)
    if due_on is not _UNSET:
        changes["due_on"] = due_on
    if success_measure is not _UNSET:
        changes["success_measure"] = clean_measure(success_measure)
    changed = {k: v for k, v in changes.items() if getattr(action, k) != v}
    if not changed:
        return False
    for key, value in changed.items():
        setattr(action, key, value)
    action.updated_at = utcnow()
    session.add(action)
    session.flush()
    touch(session, actor, plan, f"Action changed: {action.description[:80]}")
    return True


def remove_action(
    session: Session, actor: Actor, action_id: int, expected_revision: int | None = None
) -> None:
    action = _action(session, action_id)
    plan = open_for_edit(session, actor, _goal(session, action.goal_id).plan_id, expected_revision)
    text = action.description
    session.exec(update(CheckIn).where(col(CheckIn.action_id) == action_id).values(action_id=None))
    session.delete(action)
    session.flush()
    touch(session, actor, plan, f"Action removed: {text[:80]}")


def set_action_status(
    session: Session,
    actor: Actor,
    action_id: int,
    status: str,
    expected_revision: int | None = None,
) -> bool:
    """Progress: move an action to another status. Returns False if it already had it."""
    action = _action(session, action_id)
    plan = open_for_edit(session, actor, _goal(session, action.goal_id).plan_id, expected_revision)
    _check_status(status)
    if action.status == status:
        return False
    old = action.status
    action.status = str(status)
    action.updated_at = utcnow()
    session.add(action)
    session.flush()
    touch(
        session,
        actor,
        plan,
        f"Status {old} → {status}: {action.description[:80]}",
        kind=PROGRESS,
    )
    return True


def add_check_in(
    session: Session,
    actor: Actor,
    plan_id: int,
    held_on: date,
    note: str = "",
    action_id: int | None = None,
    status_to: str | None = None,
    expected_revision: int | None = None,
) -> CheckIn:
    """A check-in: when the pair met, what they noted and, for one action, a status change."""
    plan = open_for_edit(session, actor, plan_id, expected_revision)
    if not isinstance(held_on, date):
        raise Invalid("A check-in needs the date it was held.")
    note = clean_note(note)
    action = None
    if action_id is not None:
        action = _action(session, action_id)
        if _goal(session, action.goal_id).plan_id != plan_id:
            raise Invalid("That action belongs to another plan.")
    if status_to:
        _check_status(status_to)
        if action is None:
            raise Invalid("Say which action a status change at a check-in is for.")
    if not note and not (status_to and action is not None and status_to != action.status):
        raise Invalid("A check-in needs a note or a change of an action's status.")
    status_from = action.status if action is not None else None
    check_in = CheckIn(
        plan_id=plan_id,
        action_id=action_id,
        held_on=held_on,
        note=note,
        status_from=status_from if status_to else None,
        status_to=status_to or None,
        recorded_by=actor_name(session, actor),
    )
    session.add(check_in)
    if action is not None and status_to and status_to != action.status:
        action.status = status_to
        action.updated_at = utcnow()
        session.add(action)
    session.flush()
    what = f"Check-in {held_on:%d %b %Y}"
    if status_to and action is not None:
        what += f": {status_from} → {status_to}"
    if note:
        what += f" — {note[:80]}"
    touch(session, actor, plan, what, kind=PROGRESS)
    return check_in


NOTE_REQUIRED = (
    "Say how {name} agreed (for example “agreed by email on 3 December” or “signed at the "
    "board meeting”): a note is required when you record someone's agreement for them."
)


def sign_plan(
    session: Session,
    actor: Actor,
    plan_id: int,
    person_id: int,
    revision: int,
    note: str = "",
) -> DevelopmentPlan:
    """A principal agrees to the plan as it stands at `revision`. When both have agreed
    since the last change to what it says, the plan is agreed. Staff may record a
    principal's agreement given elsewhere (on paper, by email, in a meeting), with a `note`
    of how it was given; it then reads "recorded by … on behalf of …", never like the
    principal's own (`agreement_words`)."""
    plan = get_plan(session, plan_id)
    pairing = require_plan_editor(session, actor, plan.pairing_id)
    if person_id not in (pairing.member_id, pairing.officer_id):
        raise Invalid("Only the two people of the pairing can sign its plan.")
    if is_principal(actor) and actor.person_id != person_id:
        raise PermissionDenied("You can only sign for yourself.")
    on_behalf = not (is_principal(actor) and actor.person_id == person_id)
    why = ""
    if on_behalf:
        why = one_line(
            note,
            "The note",
            limit=column_limit(SignOff, "note"),
            required=NOTE_REQUIRED.format(name=person_name(session, person_id)),
        )
    if revision != plan.revision:
        raise Conflict(
            conflict_message(plan).replace(
                "your change was not saved", "your agreement was not recorded"
            )
            + " Read the current version before agreeing to it."
        )
    if not plan_goals(session, plan_id):
        raise Invalid("There is nothing to agree yet: add at least one goal first.")
    exists = session.exec(
        select(SignOff).where(
            SignOff.plan_id == plan_id,
            SignOff.person_id == person_id,
            SignOff.plan_revision == revision,
        )
    ).first()
    if exists is None:
        session.add(
            SignOff(
                plan_id=plan_id,
                person_id=person_id,
                plan_revision=revision,
                recorded_by=staff_name(session, actor) if on_behalf else "",
                note=why,
            )
        )
        session.flush()
        if on_behalf:
            audit.record(
                session,
                actor,
                "record agreement for a principal",
                "plan",
                plan_id,
                pairing.council_id,
                principal=person_name(session, person_id),
                revision=revision,
                note=why,
            )
    elif not on_behalf and exists.recorded_by:
        # The principal confirms in person what staff recorded for them: now their own.
        exists.recorded_by, exists.note = "", ""
        session.add(exists)
        session.flush()
    both = all(s.current for s in agreement(session, plan, pairing))
    if both and plan.status != PlanStatus.agreed:
        plan.status = PlanStatus.agreed.value
        session.add(plan)
        session.flush()
    return plan


def is_agreed(session: Session, plan: DevelopmentPlan) -> bool:
    return plan.status == PlanStatus.agreed


# --- what a screen offers ---------------------------------------------------------------


def plan_cycles(session: Session, actor: Actor) -> dict[int, str]:
    """The cycles of `plan_choices`, newest first, labelled as it labels them. For staff one
    query over cycles: a national body's screen lists its cycles, then one cycle's pairings
    (`plan_choices` with `cycle_id`), never every pairing in the country on each run."""
    if is_principal(actor):
        return {c.cycle_id: c.cycle for c in plan_choices(session, actor)}
    has_pairing = (
        select(col(CyclePairing.cycle_id)).where(col(CyclePairing.cycle_id) == col(Cycle.id))
    ).exists()
    query = (
        select_row(col(Cycle.id), col(Cycle.name), col(Council.name))
        .join(Council, col(Council.id) == col(Cycle.council_id))
        .where(col(Cycle.kind) == CycleKind.full, has_pairing)
    )
    councils = visible_council_ids(actor)
    if councils is not None:
        query = query.where(col(Cycle.council_id).in_(list(councils) or [-1]))
    rows = session.exec(query.order_by(col(Cycle.opens_on).desc(), col(Cycle.id).desc())).all()
    several = len({council for _c, _n, council in rows}) > 1
    return {
        cycle_id: f"{council} · {name}" if several else name for cycle_id, name, council in rows
    }


def plan_choices(session: Session, actor: Actor, cycle_id: int | None = None) -> list[PlanChoice]:
    """The (cycle, pairing) pairs whose plan this actor may open, newest cycle first: a
    principal's own pairing(s); staff, every pairing of their councils' cycles; with
    `cycle_id`, that cycle's only. One query (a national body sees thousands of pairings)."""
    member, officer = aliased(Person), aliased(Person)
    query = (
        select_row(
            col(Cycle.id),
            col(Cycle.name),
            col(Cycle.status),
            col(Council.name),
            col(Pairing.id),
            col(Pairing.portfolio),
            col(member.full_name),
            col(officer.full_name),
        )
        .join(Council, col(Council.id) == col(Cycle.council_id))
        .join(CyclePairing, col(CyclePairing.cycle_id) == col(Cycle.id))
        .join(Pairing, col(Pairing.id) == col(CyclePairing.pairing_id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        # A plan belongs to a full cycle; a 90-day pulse is shown beside that plan.
        .where(col(Cycle.kind) == CycleKind.full)
    )
    if cycle_id is not None:
        query = query.where(col(Cycle.id) == cycle_id)
    if is_principal(actor):
        if actor.person_id is None:
            return []
        query = query.where(
            (col(Pairing.member_id) == actor.person_id)
            | (col(Pairing.officer_id) == actor.person_id)
        )
    else:
        councils = visible_council_ids(actor)
        if councils is not None:
            query = query.where(col(Cycle.council_id).in_(list(councils) or [-1]))
    rows = session.exec(
        query.order_by(
            col(Cycle.opens_on).desc(),
            col(Cycle.id).desc(),
            col(Pairing.kind).desc(),
            col(Pairing.id),
        )
    ).all()
    # Name the council only when more than one is listed (a council group, a national body).
    several = len({council for _c, _n, _s, council, *_rest in rows}) > 1
    return [
        PlanChoice(
            cycle_id=cycle_id,
            cycle=f"{council} · {name}" if several else name,
            cycle_status=status,
            pairing_id=pairing_id,
            pairing=pairing_label(member_name, officer_name, portfolio),
        )
        for (
            cycle_id,
            name,
            status,
            council,
            pairing_id,
            portfolio,
            member_name,
            officer_name,
        ) in rows
    ]


def previous_plan(
    session: Session, actor: Actor, pairing_id: int, cycle_id: int
) -> DevelopmentPlan | None:
    """The pairing's plan from its latest earlier cycle, if any (to carry forward)."""
    require_plan_reader(session, actor, pairing_id)
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        return None
    return session.exec(
        select(DevelopmentPlan)
        .join(Cycle, col(Cycle.id) == col(DevelopmentPlan.cycle_id))
        .where(
            DevelopmentPlan.pairing_id == pairing_id,
            DevelopmentPlan.cycle_id != cycle_id,
            Cycle.opens_on <= cycle.opens_on,
        )
        .order_by(col(Cycle.opens_on).desc())
    ).first()
