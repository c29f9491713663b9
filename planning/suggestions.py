"""Suggested goals for a pairing's plan, and carrying a plan forward to the next cycle.

Suggestions come from the pairing's perception gaps, read only through the publication gate
(`feedback.results.publication.read_pairing_report`: a principal reads the latest published edition;
staff read that edition, or the live engine with the republication hold-back once the cycle
is closed; nobody reads an open cycle): the dimensions where a principal rates themself
clearly higher than everyone else does (blind spots — the gaps that count against the
pairing) and where everyone else's scores are lowest. First of all come working agreements
for the dimensions where the member and the officer see their partnership differently (the
mirror): what each can expect of the other, signed with the plan. Each proposed goal brings its
actions from `data/action_library.yaml`. The principals accept (then edit), or dismiss each
one; both are recorded in the plan's history. The ranking is pure pandas over the gaps
table, so it can be tested on a DataFrame without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlmodel import Session, select

from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from core.models import stored_id
from core.roles import SYSTEM, Actor, is_principal
from feedback.access import require_pairing_reader, require_plan_editor
from feedback.models import Cycle, Pairing
from feedback.results.publication import read_pairing_report
from feedback.results.tables import PairingReport
from feedback.setup.cycles import get_cycle
from planning.calendar import AFTER_ANNUAL_COUNCIL, Calendar, calendar_of, suggested_due
from planning.library import load_action_library
from planning.models import ActionStatus, DevelopmentPlan, PlanGoal, PlanRevision
from planning.plans import (
    add_action,
    add_goal,
    create_plan,
    dimension_names,
    find_plan,
    get_plan,
    open_for_edit,
    person_name,
    plan_actions,
    plan_goals,
    touch,
)

REFERENCE_SCORE = 4.0  # "agree": scores below it add to a dimension's need
MOVE_THRESHOLD = 0.25  # a change in the score smaller than this is "no clear change"
SUGGESTION = "suggestion"  # PlanRevision snapshot kind for accepted/dismissed suggestions
UNFINISHED = (ActionStatus.not_started.value, ActionStatus.in_progress.value)


@dataclass
class SuggestedAction:
    description: str
    owner: str
    success_measure: str
    due_in_days: int
    challenge: str | None = None
    publicity: bool = False  # the library's field (planning.calendar.is_publicity)
    timing: str | None = None  # "after annual council" for a relationship review
    # When it would fall due if accepted today, around the council's calendar, and why it
    # moved from the library's default ("" when it did not); set by `suggest`.
    due_on: date | None = None
    due_why: str = ""


@dataclass
class Suggestion:
    dimension_code: str
    dimension_name: str
    title: str
    why: str
    reason: str  # the evidence, in plain words
    need: float  # how strongly the numbers point here (for ordering)
    challenge: str | None = None
    actions: list[SuggestedAction] = field(default_factory=list)


# --- pure ranking -----------------------------------------------------------------------


def dimension_scores(gaps: pd.DataFrame) -> pd.DataFrame:
    """One row per dimension: the lowest score anyone else gave a target (falling back to
    the principals' own views where everyone else's is not shown), the mean score, and the
    largest blind spot (self above others)."""
    cols = ["dimension_code", "dimension_name", "score", "lowest", "blind_gap", "worst_target"]
    if gaps is None or gaps.empty:
        return pd.DataFrame(columns=cols)
    g = gaps.copy()
    own = g[["self_mean", "partner_mean"]].mean(axis=1)
    g["view"] = g["others_mean"].fillna(own)
    # Only a gap the report itself flags as a blind spot counts (one rule: the engine's).
    flagged = g["flag"].eq("blind spot") if "flag" in g.columns else pd.Series(False, index=g.index)
    g["blind"] = g["gap"].where(flagged, 0.0).clip(lower=0).fillna(0.0)
    order = g.sort_values(["dimension_code", "blind"], ascending=[True, False])
    worst = order.drop_duplicates("dimension_code").set_index("dimension_code")["target"]
    out = (
        g.groupby(["dimension_code", "dimension_name"], sort=False)
        .agg(score=("view", "mean"), lowest=("view", "min"), blind_gap=("blind", "max"))
        .reset_index()
    )
    out["worst_target"] = out["dimension_code"].map(worst)
    return out[cols]


TARGET_WORDS = {"member": "the member", "officer": "the officer", "partnership": "the partnership"}


def _reason(row: pd.Series) -> str:
    parts = []
    if row["blind_gap"] > 0:
        parts.append(
            f"{TARGET_WORDS.get(row['worst_target'], 'a principal').capitalize()} is rated "
            f"{row['blind_gap']:.1f} points lower by others than in their own view (a blind spot)"
        )
    if pd.notna(row["lowest"]) and row["lowest"] < REFERENCE_SCORE:
        parts.append(f"the lowest score here is {row['lowest']:.1f} out of 5")
    if not parts:
        return "One of the pairing's lower-scoring dimensions."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def suggest_from_gaps(
    gaps: pd.DataFrame,
    library: dict[str, Any] | None = None,
    member: str = "the member",
    officer: str = "the officer",
    exclude: set[str] | frozenset[str] = frozenset(),
    limit: int = 3,
) -> list[Suggestion]:
    """Proposed goals for the dimensions with the greatest need: the largest blind spot
    plus how far the lowest score falls below 4 ("agree")."""
    library = library or load_action_library()
    dims = library.get("dimensions", {})
    scores = dimension_scores(gaps)
    if scores.empty:
        return []
    scores["need"] = scores["blind_gap"] + (REFERENCE_SCORE - scores["lowest"]).clip(lower=0)
    scores = scores[
        scores["dimension_code"].isin(list(dims))
        & ~scores["dimension_code"].isin(list(exclude))
        & (scores["need"] > 0)
    ].sort_values(["need", "dimension_code"], ascending=[False, True])
    out = []
    for row in scores.head(limit).to_dict("records"):
        entry = dims[row["dimension_code"]]
        actions = [
            SuggestedAction(
                description=_fill(a["text"], member, officer),
                owner=a["owner"],
                success_measure=_fill(a.get("success_measure", ""), member, officer),
                due_in_days=int(a.get("due_in_days", 90)),
                challenge=a.get("challenge"),
                publicity=bool(a.get("publicity", False)),
                timing=a.get("timing"),
            )
            for a in entry.get("actions", [])
        ]
        challenges = [a.challenge for a in actions if a.challenge]
        out.append(
            Suggestion(
                dimension_code=row["dimension_code"],
                dimension_name=row["dimension_name"],
                title=entry["goal"],
                why=entry.get("why", ""),
                reason=_reason(pd.Series(row)),
                need=round(float(row["need"]), 3),
                challenge=max(set(challenges), key=challenges.count) if challenges else None,
                actions=actions,
            )
        )
    return out


def agreement_from_mirror(
    mirror: pd.DataFrame,
    library: dict[str, Any] | None = None,
    member: str = "the member",
    officer: str = "the officer",
    exclude: set[str] | frozenset[str] = frozenset(),
) -> list[Suggestion]:
    """A working agreement for each dimension where the member and the officer see their
    partnership differently (the mirror finding, widest first): what each can expect of the
    other, drafted from the action library's `agreement` texts. Accepted, it becomes a goal
    of the plan, so both sign it when they sign the plan."""
    library = library or load_action_library()
    dims = library.get("dimensions", {})
    if mirror is None or mirror.empty or "flag" not in mirror.columns:
        return []
    rows = mirror[(mirror["flag"] == "mirror") & mirror["dimension_code"].isin(list(dims))]
    rows = rows[~rows["dimension_code"].isin(list(exclude))]
    rows = rows.assign(size=rows["gap"].astype(float).abs()).sort_values(
        ["size", "dimension_code"], ascending=[False, True]
    )
    out = []
    for row in rows.to_dict("records"):
        words = dims[row["dimension_code"]].get("agreement") or {}
        from_member = _fill(words.get("member", ""), member, officer)
        from_officer = _fill(words.get("officer", ""), member, officer)
        views = (
            f"{member} rates your partnership {float(row['member_view']):.1f} on "
            f"{row['dimension_name']} and {officer} rates it {float(row['officer_view']):.1f}"
        )
        agreement = (
            f"Working agreement on {row['dimension_name']}. {officer} can expect {member} to "
            f"{from_member}. {member} can expect {officer} to {from_officer}. We review this "
            "agreement together at each check-in."
        )
        out.append(
            Suggestion(
                dimension_code=row["dimension_code"],
                dimension_name=row["dimension_name"],
                title=f"Working agreement: {row['dimension_name']}",
                why=agreement,
                reason=f"You see this differently: {views} (the mirror).",
                need=round(float(row["size"]) + 10, 3),  # the mirror leads the suggestions
                actions=[
                    SuggestedAction(
                        f"{member}: {from_member}",
                        "member",
                        "Both agree at the next check-in that this has held",
                        90,
                    ),  # fmt: skip
                    SuggestedAction(
                        f"{officer}: {from_officer}",
                        "officer",
                        "Both agree at the next check-in that this has held",
                        90,
                    ),  # fmt: skip
                    SuggestedAction(
                        f"Review the working agreement on {row['dimension_name']} together",
                        "joint",
                        "Reviewed at each check-in; both rate the partnership "
                        "closer together next cycle",
                        90,
                        timing=AFTER_ANNUAL_COUNCIL,  # roles change at annual council
                    ),  # fmt: skip
                ],
            )
        )
    return out


def _fill(text: str, member: str, officer: str) -> str:
    return (text or "").replace("{member}", member).replace("{officer}", officer)


# --- with the database ------------------------------------------------------------------


def _gaps(session: Session, cycle_id: int, pairing_id: int, actor: Actor | None) -> pd.DataFrame:
    """The gaps this actor may see, only ever through the publication gate (no actor: the
    command line). Raises Invalid, PermissionDenied or NotFound where the results are not
    readable for this actor (an open cycle; not yet published, for a principal)."""
    gaps: pd.DataFrame = read_pairing_report(session, actor or SYSTEM, cycle_id, pairing_id).gaps
    return gaps


def _report(session: Session, cycle_id: int, pairing_id: int, actor: Actor | None) -> PairingReport:
    return read_pairing_report(session, actor or SYSTEM, cycle_id, pairing_id)


NOT_READABLE = (Invalid, PermissionDenied, NotFound)


def not_published(cycle_name: str) -> str:
    return f"results for {cycle_name} are not published"


def readable_gaps(
    session: Session, actor: Actor | None, cycle_id: int, pairing_id: int
) -> pd.DataFrame | None:
    """The gaps this actor may see, or None where results are not readable for them yet.
    Never falls back to the live engine."""
    try:
        return _gaps(session, cycle_id, pairing_id, actor)
    except NOT_READABLE:
        return None


def _names(session: Session, pairing: Pairing) -> tuple[str, str]:
    return person_name(session, pairing.member_id), person_name(session, pairing.officer_id)


def _handled(session: Session, plan: DevelopmentPlan | None) -> set[str]:
    """Dimensions already in the plan or whose suggestion was dismissed."""
    if plan is None:
        return set()
    done = {g.dimension_code for g in plan_goals(session, stored_id(plan.id))}
    for snap in session.exec(
        select(PlanRevision.snapshot).where(PlanRevision.plan_id == plan.id)
    ).all():
        if (snap or {}).get("kind") == SUGGESTION and snap.get("dismissed"):
            done.add(snap["dismissed"])
    return done


def suggest(
    session: Session,
    cycle_id: int,
    pairing_id: int,
    actor: Actor | None = None,
    limit: int = 3,
) -> list[Suggestion]:
    """Proposed goals for this pairing's plan in this cycle, leaving out dimensions the
    plan already has a goal for and suggestions dismissed earlier. Access is checked (no
    actor: the command line). The suggestions come from the results this actor may read: a
    principal's only once their report is published, and nobody's while the cycle is open;
    until then the refusal says so (Invalid or PermissionDenied), nothing is computed."""
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound("That pairing does not exist (it may have been deleted).")
    require_pairing_reader(session, actor or SYSTEM, pairing_id, cycle_id)
    cycle = get_cycle(session, cycle_id)
    try:
        report = _report(session, cycle_id, pairing_id, actor)
    except NOT_READABLE as exc:
        raise type(exc)(
            f"No suggestions yet: they come from the feedback, and {not_published(cycle.name)} "
            f"yet. {exc}"
        ) from exc
    member, officer = _names(session, pairing)
    plan = find_plan(session, pairing_id, cycle_id)
    handled = _handled(session, plan)
    agreements = agreement_from_mirror(
        report.mirror, member=member, officer=officer, exclude=handled
    )
    others = suggest_from_gaps(
        report.gaps,
        member=member,
        officer=officer,
        exclude=handled | {a.dimension_code for a in agreements},
        limit=max(limit - len(agreements), 0),
    )
    offered = (agreements + others)[: max(limit, len(agreements))]
    timed(calendar_of(session, pairing.council_id), offered, date.today())
    return offered


def timed(calendar: Calendar, offered: list[Suggestion], start: date) -> None:
    """Each suggested action's due date if accepted on `start`, around the council's
    calendar (planning.calendar.suggested_due)."""
    for s in offered:
        for a in s.actions:
            due = suggested_due(
                calendar, start, a.due_in_days, publicity=a.publicity, timing=a.timing
            )
            a.due_on, a.due_why = due.on, due.why


def _find_suggestion(
    session: Session, actor: Actor, plan: DevelopmentPlan, dimension_code: str
) -> Suggestion:
    for s in suggest(session, plan.cycle_id, plan.pairing_id, actor, limit=100):
        if s.dimension_code == dimension_code:
            return s
    raise NotFound(
        "That suggestion is no longer offered: the plan may already have a goal for it, "
        "or it was dismissed."
    )


def accept_suggestion(
    session: Session,
    actor: Actor,
    plan_id: int,
    dimension_code: str,
    expected_revision: int | None = None,
    start: date | None = None,
) -> PlanGoal:
    """Add the suggested goal and its actions to the plan, where they can be edited or
    removed like any other."""
    plan = open_for_edit(session, actor, plan_id, expected_revision)
    s = _find_suggestion(session, actor, plan, dimension_code)
    start = start or date.today()
    pairing = session.get(Pairing, plan.pairing_id)
    if pairing is not None:
        timed(calendar_of(session, pairing.council_id), [s], start)
    goal = add_goal(
        session,
        actor,
        stored_id(plan.id),
        s.dimension_code,
        s.title,
        description=s.why,
        challenge=s.challenge,
        source="suggested",
    )
    for a in s.actions:
        add_action(
            session,
            actor,
            stored_id(goal.id),
            a.description,
            a.owner,
            due_on=a.due_on or start + timedelta(days=a.due_in_days),
            success_measure=a.success_measure,
        )
    return goal


def dismiss_suggestion(
    session: Session,
    actor: Actor,
    plan_id: int,
    dimension_code: str,
    expected_revision: int | None = None,
) -> None:
    """Drop a suggestion: it is not offered again for this plan, and the history says so."""
    plan = open_for_edit(session, actor, plan_id, expected_revision)
    s = _find_suggestion(session, actor, plan, dimension_code)
    touch(session, actor, plan, f"Suggestion dismissed: {s.title}", kind=SUGGESTION)
    latest = session.exec(
        select(PlanRevision).where(
            PlanRevision.plan_id == plan.id, PlanRevision.revision == plan.revision
        )
    ).one()
    latest.snapshot = {**latest.snapshot, "dismissed": dimension_code}
    session.add(latest)
    session.flush()


# --- the next cycle ---------------------------------------------------------------------


NOT_MEASURED = "not measured"


@dataclass
class CarriedGoal:
    title: str
    dimension_code: str
    dimension_name: str
    actions_total: int
    actions_done: int
    actions_carried: int
    score_before: float | None
    score_after: float | None
    change: float | None
    # "improved" | "fell" | "no clear change" | "not measured" (in one of the cycles), or
    # "not measured yet — results for <cycle> are not published" (not readable yet)
    movement: str
    carried_goal_id: int | None


@dataclass
class CarryForward:
    plan: DevelopmentPlan
    goals: list[CarriedGoal]

    def sentences(self) -> list[str]:
        out = []
        for g in self.goals:
            text = f"{g.title}: {g.actions_done} of {g.actions_total} actions done"
            text += _moved(g.dimension_name, g.movement, g.score_before, g.score_after)
            if g.actions_carried:
                text += f"; {g.actions_carried} unfinished carried forward"
            out.append(text + ".")
        return out


def _moved(name: str, movement: str, before: float | None, after: float | None) -> str:
    if before is not None and after is not None and movement != NOT_MEASURED:
        return f"; {name} {movement} ({before:.1f} → {after:.1f})"
    if movement == NOT_MEASURED:
        return f"; {name} not measured in both cycles"
    return f"; {name} {movement}"


def movement_between(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: score in each cycle, the change, and whether it moved."""
    a = dimension_scores(before)[["dimension_code", "dimension_name", "score"]]
    b = dimension_scores(after)[["dimension_code", "score"]]
    m = a.merge(b, on="dimension_code", how="outer", suffixes=("_before", "_after"))
    m["change"] = m["score_after"] - m["score_before"]
    m["movement"] = "no clear change"
    m.loc[m["change"] >= MOVE_THRESHOLD, "movement"] = "improved"
    m.loc[m["change"] <= -MOVE_THRESHOLD, "movement"] = "fell"
    m.loc[m["change"].isna(), "movement"] = NOT_MEASURED
    return m


@dataclass
class Moves:
    """How each dimension moved between two cycles, as one actor may read them."""

    table: pd.DataFrame  # movement_between's, indexed by dimension_code (empty if pending)
    pending: str | None  # "not measured yet — …" where either cycle is not readable yet

    def of(self, code: str, fallback_name: str) -> dict[str, Any]:
        if self.pending is not None:
            return {"name": fallback_name, "before": None, "after": None, "change": None,
                    "movement": self.pending}  # fmt: skip
        if code not in self.table.index:
            return {"name": fallback_name, "before": None, "after": None, "change": None,
                    "movement": NOT_MEASURED}  # fmt: skip
        mv = self.table.loc[code]
        name = mv["dimension_name"]
        return {
            "name": name if isinstance(name, str) else fallback_name,
            "before": _num(mv["score_before"]),
            "after": _num(mv["score_after"]),
            "change": _num(mv["change"]),
            "movement": mv["movement"],
        }


def moves_between(
    session: Session, actor: Actor, pairing_id: int, before: Cycle, after: Cycle
) -> Moves:
    """Both cycles are read as this actor may read them (the publication gate); where
    either is not readable yet, nothing is computed and the reason is given instead."""
    earlier = readable_gaps(session, actor, stored_id(before.id), pairing_id)
    later = readable_gaps(session, actor, stored_id(after.id), pairing_id)
    if earlier is None or later is None:
        missing = [c.name for c, g in ((before, earlier), (after, later)) if g is None]
        return Moves(pd.DataFrame(), "not measured yet — " + not_published(" and ".join(missing)))
    return Moves(movement_between(earlier, later).set_index("dimension_code"), None)


def _principals_view(pairing: Pairing) -> Actor:
    """Reads as the pairing's principals would: only their latest published editions."""
    return Actor(username="the pairing's principals", role="principal", person_id=pairing.member_id)


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def carry_forward(
    session: Session, actor: Actor, from_plan_id: int, to_cycle_id: int
) -> CarryForward:
    """Start the pairing's plan for the next cycle from the last one: each goal with
    unfinished actions is carried (with those actions, their status kept), and for every
    goal the result says what was done and whether its dimension moved between the cycles —
    from the results this actor may read in both cycles, never from unpublished answers.
    The note stored in a carried goal (which the principals read, and which stays in the
    plan's history) gives the movement only from both cycles' published editions."""
    old = get_plan(session, from_plan_id)
    pairing = require_plan_editor(session, actor, old.pairing_id)
    to_cycle = session.get(Cycle, to_cycle_id)
    if to_cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    if to_cycle_id == old.cycle_id:
        raise Invalid("Carry a plan forward to a later cycle, not the one it belongs to.")
    if find_plan(session, old.pairing_id, to_cycle_id) is not None:
        raise Conflict(
            "This pairing already has a plan for that cycle; carry forward only starts a new one."
        )
    from_cycle = get_cycle(session, old.cycle_id)
    moves = moves_between(session, actor, old.pairing_id, from_cycle, to_cycle)
    published = (
        moves
        if is_principal(actor)
        else moves_between(session, _principals_view(pairing), old.pairing_id, from_cycle, to_cycle)
    )
    names = dimension_names(session, old.cycle_id)
    new = create_plan(session, actor, old.pairing_id, to_cycle_id)
    new.carried_from_plan_id = old.id
    session.add(new)
    session.flush()
    goals = plan_goals(session, stored_id(old.id))
    actions = plan_actions(session, [stored_id(g.id) for g in goals])
    result = []
    for g in goals:
        mine = [a for a in actions if a.goal_id == g.id]
        unfinished = [a for a in mine if a.status in UNFINISHED]
        done = sum(a.status == ActionStatus.done for a in mine)
        mv = moves.of(g.dimension_code, names.get(g.dimension_code, g.dimension_code))
        carried_id = None
        if unfinished:
            note = f"Carried from {from_cycle.name}: {done} of {len(mine)} actions done"
            shown = published.of(g.dimension_code, mv["name"])
            if shown["change"] is not None:
                note += _moved(shown["name"], shown["movement"], shown["before"], shown["after"])
            goal = add_goal(
                session,
                actor,
                stored_id(new.id),
                g.dimension_code,
                g.title,
                description=(g.description + "\n\n" if g.description else "") + note + ".",
                challenge=g.challenge,
                source="carried",
            )
            carried_id = goal.id
            for a in unfinished:
                add_action(
                    session,
                    actor,
                    stored_id(goal.id),
                    a.description,
                    a.owner,
                    due_on=a.due_on,
                    success_measure=a.success_measure,
                    status=a.status,
                )
        result.append(
            CarriedGoal(
                title=g.title,
                dimension_code=g.dimension_code,
                dimension_name=mv["name"],
                actions_total=len(mine),
                actions_done=done,
                actions_carried=len(unfinished),
                score_before=mv["before"],
                score_after=mv["after"],
                change=mv["change"],
                movement=mv["movement"],
                carried_goal_id=carried_id,
            )
        )
    session.refresh(new)
    return CarryForward(plan=new, goals=result)


def carried_summary(session: Session, actor: Actor, plan_id: int) -> list[str]:
    """For a plan carried from an earlier one: what was done and whether it moved, from the
    results this actor may read in both cycles ("not measured yet — results for … are not
    published" until then)."""
    plan = get_plan(session, plan_id)
    require_plan_editor(session, actor, plan.pairing_id)
    if plan.carried_from_plan_id is None:
        return []
    old = session.get(DevelopmentPlan, plan.carried_from_plan_id)
    if old is None:
        return []
    before, after = get_cycle(session, old.cycle_id), get_cycle(session, plan.cycle_id)
    moves = moves_between(session, actor, plan.pairing_id, before, after)
    names = dimension_names(session, old.cycle_id)
    goals = plan_goals(session, stored_id(old.id))
    actions = plan_actions(session, [stored_id(g.id) for g in goals])
    out = []
    for g in goals:
        mine = [a for a in actions if a.goal_id == g.id]
        done = sum(a.status == ActionStatus.done for a in mine)
        text = f"{g.title}: {done} of {len(mine)} actions done"
        mv = moves.of(g.dimension_code, names.get(g.dimension_code, g.dimension_code))
        if mv["movement"] != NOT_MEASURED:  # measured in both, or not readable yet
            text += _moved(mv["name"], mv["movement"], mv["before"], mv["after"])
        out.append(text + ".")
    return out
