"""The demo council, built from data/demo.yaml through the same functions the app uses.

It lives in `planning` because it also makes development plans; everything it does to
feedback data goes through `feedback`'s own functions.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlmodel import Session, col, select

from core.db import DATA_DIR
from core.models import stored_id
from core.roles import SYSTEM, Actor, Role
from core.vocabulary import CycleStatus
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Cycle, Dimension, Invitation, Item, Pairing, Person
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.framework import FRAMEWORK_2026_1, ensure_framework_file
from feedback.setup.people import (
    add_person,
    create_council,
    create_pairing,
    delete_council,
    find_council,
)
from planning.models import DevelopmentPlan
from planning.plans import add_action, add_goal, create_plan, sign_plan

DEMO_FILE = DATA_DIR / "demo.yaml"


def load_demo_definition(path: Path = DEMO_FILE) -> dict[str, Any]:
    definition: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return definition


def build_demo(
    session: Session, reset: bool = False, actor: Actor = SYSTEM, path: Path = DEMO_FILE
) -> str:
    """Create the demo council. Returns a sentence saying what happened."""
    spec = load_demo_definition(path)
    name = spec["council"]["name"]
    existing = find_council(session, name)
    if existing is not None:
        if not reset:
            return (
                f"The demo council '{name}' is already here; nothing was changed. "
                "Use `tandem demo --reset` to rebuild it from scratch."
            )
        delete_council(session, actor, stored_id(existing.id))
    council = create_council(
        session, actor, name, spec["council"]["nation"], spec["council"]["retention_months"]
    )
    people: dict[str, Person] = {}
    for group, kind in (("members", "member"), ("officers", "officer"), ("externals", "external")):
        for p in spec["people"][group]:
            people[p["key"]] = add_person(
                session,
                actor,
                stored_id(council.id),
                p["name"],
                p["email"],
                kind,
                title=p.get("title", ""),
                portfolio=p.get("portfolio", ""),
                organisation=p.get("organisation", ""),
            )
    pairings: dict[str, Pairing] = {}
    for pr in spec["pairings"]:
        pairings[pr["key"]] = create_pairing(
            session,
            actor,
            stored_id(council.id),
            pr["kind"],
            stored_id(people[pr["member"]].id),
            stored_id(people[pr["officer"]].id),
            pr.get("portfolio", ""),
            started_on=pr.get("started_on"),
        )
    rng = np.random.default_rng(spec["ratings"]["seed"])
    cycles: dict[str, Cycle] = {}
    # The demo's cycles ran with framework 2026.1 (its story is told in that framework's
    # items); a cycle the user creates next uses the current framework.
    framework_id = ensure_framework_file(session, FRAMEWORK_2026_1).id
    for cy in spec["cycles"]:
        cycle = create_cycle(
            session,
            actor,
            stored_id(council.id),
            cy["name"],
            cy["opens_on"],
            cy["closes_on"],
            cy["anonymity_threshold"],
            framework_version_id=framework_id,
        )
        cycles[cy["key"]] = cycle
        for pr in spec["pairings"]:
            pairing = pairings[pr["key"]]
            add_pairing_to_cycle(session, actor, stored_id(cycle.id), stored_id(pairing.id))
            for group, keys in pr["raters"].items():
                for key in keys:
                    nominate_rater(
                        session,
                        actor,
                        stored_id(cycle.id),
                        stored_id(pairing.id),
                        stored_id(people[key].id),
                        group,
                    )
        set_cycle_status(session, actor, stored_id(cycle.id), CycleStatus.open)
        _answer_cycle(session, spec, cy, cycle, pairings, people, rng)
        set_cycle_status(session, actor, stored_id(cycle.id), CycleStatus.closed)
        if cy.get("end_status") == CycleStatus.published:
            set_cycle_status(session, actor, stored_id(cycle.id), CycleStatus.published)
    _make_plans(session, actor, spec, cycles, pairings)
    count = session.exec(select(Invitation).join(Cycle).where(Cycle.council_id == council.id)).all()
    return (
        f"Built the demo council '{name}': {len(people)} people, {len(pairings)} pairings, "
        f"{len(cycles)} cycles, {len(count)} invitations."
    )


def _answer_cycle(
    session: Session,
    spec: dict[str, Any],
    cy: dict[str, Any],
    cycle: Cycle,
    pairings: dict[str, Pairing],
    people: dict[str, Person],
    rng: np.random.Generator,
) -> None:
    settings = spec["ratings"]
    dims = {
        stored_id(d.id): d.code
        for d in session.exec(
            select(Dimension).where(Dimension.framework_version_id == cycle.framework_version_id)
        )
    }
    dim_ids = {code: i for i, code in dims.items()}
    key_of = {p.id: k for k, p in people.items()}
    comment_turn: dict[str, int] = {}
    for pr in spec["pairings"]:
        pairing = pairings[pr["key"]]
        skip = set(cy.get("no_response", {}).get(pr["key"], []))
        invitations = session.exec(
            select(Invitation)
            .where(Invitation.cycle_id == cycle.id, Invitation.pairing_id == pairing.id)
            .order_by(col(Invitation.id))
        ).all()
        for inv in invitations:
            if key_of[inv.rater_id] in skip:
                continue
            role = _rater_role(inv, pairing)
            items = items_for_invitation(session, inv)
            ratings: dict[int, int | None] = {}
            for item in items:
                if item.dimension_id is None:
                    side = "member" if inv.rater_id == pairing.member_id else "officer"
                    answers = spec["solace"][cy["key"]][pr["key"]][side]
                    ratings[stored_id(item.id)] = answers[item.code.removeprefix("solace.")]
                    continue
                if rng.random() < settings["cant_say_rate"]:
                    ratings[stored_id(item.id)] = None
                    continue
                score = settings["base"]
                is_self = (item.target == "member" and role == "member_principal") or (
                    item.target == "officer" and role == "officer_principal"
                )
                if is_self:
                    score += settings["self_lift"]
                exact = None
                for shift in spec["story"]:
                    if _applies(
                        shift, pr["key"], cy["key"], dims[item.dimension_id], item.target, role
                    ):
                        score += shift.get("shift", 0)
                        exact = shift.get("value", exact)
                # One person's answers vary less than a crowd's: principals get less noise,
                # so the story's findings are the ones the numbers show (tests/test_demo.py).
                principal = role in ("member_principal", "officer_principal")
                noise = settings.get("principal_noise", settings["noise"]) if principal else None
                score += rng.normal(0, noise if noise is not None else settings["noise"])
                ratings[stored_id(item.id)] = (
                    exact if exact is not None else int(np.clip(round(score), 1, 5))
                )
            comments: dict[int, str] = {}
            if role in ("members", "officers", "partners"):
                for code, pool in spec["comments"].items():
                    if rng.random() < 0.35:
                        turn = comment_turn.get(code, 0)
                        comments[dim_ids[code]] = pool[turn % len(pool)]
                        comment_turn[code] = turn + 1
            save_answers(session, stored_id(inv.id), ratings, comments)
            submit_response(session, stored_id(inv.id))


def _rater_role(inv: Invitation, pairing: Pairing) -> str:
    if inv.rater_id == pairing.member_id:
        return "member_principal"
    if inv.rater_id == pairing.officer_id:
        return "officer_principal"
    return inv.rater_group


def _applies(
    shift: dict[str, Any], pairing_key: str, cycle_key: str, dimension: str, target: str, role: str
) -> bool:
    if shift["pairing"] != pairing_key or cycle_key not in shift["cycles"]:
        return False
    if shift["dimension"] not in ("all", dimension) or shift["target"] not in ("all", target):
        return False
    raters = shift["raters"]
    principal = role in ("member_principal", "officer_principal")
    return (
        raters == "all"
        or raters == role
        or (raters == "principals" and principal)
        or (raters == "others" and not principal)
    )


def _make_plans(
    session: Session,
    actor: Actor,
    spec: dict[str, Any],
    cycles: dict[str, Cycle],
    pairings: dict[str, Pairing],
) -> None:
    previous: dict[str, DevelopmentPlan] = {}
    for pl in spec["plans"]:
        cycle, pairing = cycles[pl["cycle"]], pairings[pl["pairing"]]
        plan = create_plan(session, actor, stored_id(pairing.id), stored_id(cycle.id))
        if pl["pairing"] in previous:
            plan.carried_from_plan_id = previous[pl["pairing"]].id
            session.add(plan)
        for g in pl["goals"]:
            goal = add_goal(
                session,
                actor,
                stored_id(plan.id),
                g["dimension"],
                g["title"],
                challenge=g.get("challenge"),
            )
            for a in g["actions"]:
                add_action(
                    session,
                    actor,
                    stored_id(goal.id),
                    a["description"],
                    a["owner"],
                    due_on=cycle.closes_on + timedelta(days=a["due_in_days"]),
                    success_measure=a.get("success_measure", ""),
                    status=a.get("status", "not started"),
                )
        session.refresh(plan)
        for side in pl.get("sign", []):
            person_id = pairing.member_id if side == "member" else pairing.officer_id
            # The demo's principals agree for themselves (staff recording it need a note).
            principal = Actor(username=f"demo principal {person_id}", role=Role.principal,
                              person_id=person_id)  # fmt: skip
            sign_plan(session, principal, stored_id(plan.id), person_id, plan.revision)
        previous[pl["pairing"]] = plan


def story_items(session: Session, cycle: Cycle) -> dict[str, list[int]]:
    """Item ids per dimension code, for tests that check the story is in the numbers."""
    rows = session.exec(
        select(Dimension.code, Item.id)
        .join(Item, col(Item.dimension_id) == col(Dimension.id))
        .where(Dimension.framework_version_id == cycle.framework_version_id)
    ).all()
    out: dict[str, list[int]] = {}
    for code, item_id in rows:
        out.setdefault(code, []).append(stored_id(item_id))
    return out
