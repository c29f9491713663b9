"""Undoing set-up mistakes in a pairing: change it, end it, remove it — never losing an
answer, an edition or a plan.

What holds a pairing is read once (`holdings`): the answers its cycles hold for it (a
draft or submitted response of any of its invitations), its published editions, the staff
previews of its results, and its development plans. Its kind and its two people are what
raters were asked about, so they are fixed once anything holds answers or results for it;
its portfolio and start date are records that may be corrected at any time. A pairing that
holds nothing may be removed outright; one that does is ended instead (it stays in its
cycles and reports and is offered for no new cycle).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text
from sqlmodel import Session, col, delete, func, select

from core import audit
from core.errors import Conflict, Invalid, NotFound
from core.models import stored_id
from core.roles import Actor, require_council_manager
from core.text import column_limit, one_line
from core.vocabulary import CycleStatus, InvitationStatus, RaterGroup, is_top_pairing
from feedback.models import (
    Cycle,
    CyclePairing,
    Invitation,
    Pairing,
    PublishedPairingReport,
    PublishedReport,
    Response,
    StaffPreview,
)
from feedback.setup.people import (
    check_pairing_kind,
    check_pairing_people,
    check_top_pairing,
    get_council,
    get_person,
    pairing_label,
    start_date,
    top_exception_text,
)

CLOSED = (CycleStatus.closed, CycleStatus.published)


def get_pairing(session: Session, pairing_id: int) -> Pairing:
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound(f"There is no pairing with id {pairing_id}.")
    return pairing


@dataclass(frozen=True)
class CycleHold:
    """One cycle a pairing is in, and what that cycle holds for it."""

    cycle_id: int
    name: str
    status: str
    answers: int  # responses (drafts and submitted) to its invitations
    editions: int  # published editions that include it
    previews: int  # staff previews of its results
    plans: int  # its development plans for this cycle

    @property
    def results(self) -> bool:
        """Answers, or results read from them, or a plan made from them."""
        return bool(self.answers or self.editions or self.previews or self.plans)

    def held(self) -> str:
        """What this cycle holds for the pairing, in words ("3 answers and its published
        report")."""
        parts = []
        if self.answers:
            parts.append(f"{self.answers} answer{'s' if self.answers != 1 else ''}")
        if self.editions:
            parts.append("its published report")
        elif self.previews:
            parts.append("its results as staff have read them")
        if self.plans:
            parts.append("its development plan")
        return " and ".join(parts)

    def why(self) -> str:
        return f"'{self.name}' ({self.status}) holds {self.held()}"


@dataclass(frozen=True)
class Holdings:
    """Everything that refers to a pairing, cycle by cycle."""

    cycles: list[CycleHold] = field(default_factory=list)

    @property
    def results(self) -> list[CycleHold]:
        return [c for c in self.cycles if c.results]

    @property
    def empty_cycles(self) -> list[CycleHold]:
        return [c for c in self.cycles if not c.results]


def _plans(session: Session, pairing_id: int) -> dict[int, int]:
    """Development plans per cycle. Plans belong to `planning`, a layer above this one,
    so their table is read by its name: what matters is that no plan is ever lost."""
    rows = session.execute(
        text(
            "SELECT cycle_id, count(*) FROM developmentplan WHERE pairing_id = :p GROUP BY cycle_id"
        ),
        {"p": pairing_id},
    ).all()
    return {int(c): int(n) for c, n in rows}


def holdings(session: Session, pairing_id: int) -> Holdings:
    """What the pairing's cycles hold for it (answers, editions, previews, plans)."""
    answers = dict(
        session.exec(
            select(Invitation.cycle_id, func.count())
            .join(Response, col(Response.invitation_id) == col(Invitation.id))
            .where(Invitation.pairing_id == pairing_id)
            .group_by(col(Invitation.cycle_id))
        ).all()
    )
    editions = dict(
        session.exec(
            select(PublishedReport.cycle_id, func.count())
            .join(
                PublishedPairingReport,
                col(PublishedPairingReport.report_id) == col(PublishedReport.id),
            )
            .where(PublishedPairingReport.pairing_id == pairing_id)
            .group_by(col(PublishedReport.cycle_id))
        ).all()
    )
    previews = dict(
        session.exec(
            select(StaffPreview.cycle_id, func.count())
            .where(StaffPreview.pairing_id == pairing_id)
            .group_by(col(StaffPreview.cycle_id))
        ).all()
    )
    plans = _plans(session, pairing_id)
    in_cycles = {
        stored_id(c.id): c
        for c in session.exec(
            select(Cycle)
            .join(CyclePairing, col(CyclePairing.cycle_id) == col(Cycle.id))
            .where(CyclePairing.pairing_id == pairing_id)
            .order_by(col(Cycle.opens_on))
        )
    }
    # A cycle that refers to the pairing without listing it (never expected) still counts.
    for cycle_id in {*answers, *editions, *previews, *plans} - set(in_cycles):
        in_cycles[cycle_id] = session.get_one(Cycle, cycle_id)
    return Holdings(
        [
            CycleHold(
                cycle_id,
                cycle.name,
                cycle.status,
                answers.get(cycle_id, 0),
                editions.get(cycle_id, 0),
                previews.get(cycle_id, 0),
                plans.get(cycle_id, 0),
            )
            for cycle_id, cycle in in_cycles.items()
        ]
    )


def _listed(holds: Sequence[CycleHold]) -> str:
    return "; ".join(h.why() for h in holds)


def edit_pairing(
    session: Session,
    actor: Actor,
    pairing_id: int,
    *,
    kind: str,
    member_id: int,
    officer_id: int,
    portfolio: str,
    started_on: date | None,
    top_exception: str | None = None,
) -> Pairing:
    """Correct a pairing: its kind, its councillor or officer, its portfolio, when the two
    began working together, and (a second top pairing) the reason for the exception
    (`top_exception` None: kept as it is).

    The kind and the two people are what raters were asked about: once any cycle holds
    answers, results or a plan for the pairing they are fixed (end it and form a new one
    instead). Before that, changing a person moves their place as a principal in each
    cycle the pairing is in (drafts and open cycles; nobody has answered yet). The
    portfolio and start date may be corrected at any time."""
    pairing = get_pairing(session, pairing_id)
    require_council_manager(actor, pairing.council_id)
    council = get_council(session, pairing.council_id)
    label = pairing_label(session, pairing)
    before = {
        "kind": pairing.kind,
        "member": get_person(session, pairing.member_id).full_name,
        "officer": get_person(session, pairing.officer_id).full_name,
        "portfolio": pairing.portfolio,
        "started_on": str(pairing.started_on or ""),
        "top_exception": pairing.top_exception,
    }
    check_pairing_kind(council, kind)
    portfolio = one_line(
        portfolio, "the pairing's portfolio", limit=column_limit(Pairing, "portfolio")
    )
    started = start_date(started_on)
    member, officer = check_pairing_people(
        session, council.id or 0, member_id, officer_id, pairing_id
    )
    people_change = (member_id, officer_id) != (pairing.member_id, pairing.officer_id)
    if people_change or kind != pairing.kind:
        held = holdings(session, pairing_id)
        if held.results:
            what = "its kind and its two people" if people_change else "its kind"
            raise Conflict(
                f"{label}: {what} cannot change, because {_listed(held.results)}, given about "
                "this pairing as it is. If the pairing has changed (a new councillor or "
                "officer), end this one and form a new pairing; its portfolio and start date "
                "can still be corrected."
            )
        if people_change:
            shut = [h for h in held.cycles if h.status in CLOSED]
            if shut:
                raise Conflict(
                    f"{label}: its people cannot change while it is in "
                    + ", ".join(f"'{h.name}' ({h.status})" for h in shut)
                    + ". End this pairing and form a new one instead."
                )
    reason = pairing.top_exception if top_exception is None else top_exception
    if not pairing.active:  # an ended pairing is nobody's top pairing any more
        exception = top_exception_text(reason) if is_top_pairing(kind) else ""
    elif kind != pairing.kind or reason != pairing.top_exception:
        exception = check_top_pairing(session, council, kind, reason, pairing_id)
    else:
        exception = pairing.top_exception
    if people_change:
        for cycle_id in session.exec(
            select(CyclePairing.cycle_id).where(CyclePairing.pairing_id == pairing_id)
        ).all():
            _move_principal(session, cycle_id, pairing_id, pairing.member_id, member_id)
            _move_principal(session, cycle_id, pairing_id, pairing.officer_id, officer_id)
    pairing.kind, pairing.member_id, pairing.officer_id = kind, member_id, officer_id
    pairing.portfolio, pairing.started_on, pairing.top_exception = portfolio, started, exception
    after = {
        "kind": kind,
        "member": member.full_name,
        "officer": officer.full_name,
        "portfolio": portfolio,
        "started_on": str(started or ""),
        "top_exception": exception,
    }
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if not changed:
        return pairing
    session.add(pairing)
    session.flush()
    audit.record(
        session, actor, "edit pairing", "pairing", pairing.id, pairing.council_id, **changed
    )
    return pairing


def _move_principal(
    session: Session, cycle_id: int, pairing_id: int, old_id: int, new_id: int
) -> None:
    """The principal's invitation in one cycle passes from `old_id` to `new_id` (nobody has
    answered: holdings() said so). A nomination the new person already had for this
    pairing becomes their invitation as a principal."""
    if old_id == new_id:
        return
    session.exec(
        delete(Invitation).where(
            col(Invitation.cycle_id) == cycle_id,
            col(Invitation.pairing_id) == pairing_id,
            col(Invitation.rater_id) == old_id,
        )
    )
    existing = session.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id,
            Invitation.pairing_id == pairing_id,
            Invitation.rater_id == new_id,
        )
    ).first()
    invitation = existing or Invitation(
        cycle_id=cycle_id, pairing_id=pairing_id, rater_id=new_id, rater_group=RaterGroup.principal
    )
    invitation.rater_group = RaterGroup.principal
    invitation.status = InvitationStatus.not_started
    invitation.revoked_at = None
    session.add(invitation)
    session.flush()


def remove_pairing(session: Session, actor: Actor, pairing_id: int) -> str:
    """Remove a pairing formed by mistake. Refused in words while any cycle holds answers,
    results or a plan for it (end it instead: nothing given about it is ever deleted), and
    while it is in a cycle at all (remove it from that cycle first). Returns its label."""
    pairing = get_pairing(session, pairing_id)
    require_council_manager(actor, pairing.council_id)
    label = pairing_label(session, pairing)
    held = holdings(session, pairing_id)
    if held.results:
        raise Conflict(
            f"{label} cannot be removed: {_listed(held.results)}, and what was given about a "
            "pairing is never deleted. End it instead: it stays in the cycles and reports it "
            "took part in, and is offered for no new cycle."
        )
    if held.cycles:
        raise Conflict(
            f"{label} is in "
            + ", ".join(f"'{h.name}' ({h.status})" for h in held.cycles)
            + ", which holds no answers for it yet: remove it from "
            + ("that cycle" if len(held.cycles) == 1 else "those cycles")
            + " first (Cycles page, Pairings and raters; or `tandem cycle remove-pairing`), "
            "then remove the pairing."
        )
    session.delete(pairing)
    session.flush()
    audit.record(
        session,
        actor,
        "remove pairing",
        "pairing",
        pairing_id,
        pairing.council_id,
        pairing=label,
        kind=pairing.kind,
    )
    return label


def end_pairing(session: Session, actor: Actor, pairing_id: int, ended: bool = True) -> Pairing:
    """End a pairing (`ended=False`: take it up again). An ended pairing keeps everything
    given about it — its cycles, answers, reports and plans — but is offered for no new
    cycle and no longer counts as the council's top pairing, so a new leader or chief
    executive can form theirs. Taking it up again checks the one-top-pairing rule."""
    pairing = get_pairing(session, pairing_id)
    require_council_manager(actor, pairing.council_id)
    if pairing.active == (not ended):
        return pairing
    if not ended:
        pairing.top_exception = check_top_pairing(
            session,
            get_council(session, pairing.council_id),
            pairing.kind,
            pairing.top_exception,
            pairing_id,
        )
    pairing.active = not ended
    session.add(pairing)
    session.flush()
    audit.record(
        session,
        actor,
        "end pairing" if ended else "resume pairing",
        "pairing",
        pairing.id,
        pairing.council_id,
        pairing=pairing_label(session, pairing),
    )
    return pairing


def remove_pairing_from_cycle(
    session: Session, actor: Actor, cycle_id: int, pairing_id: int
) -> str:
    """Take a pairing out of a cycle it was put in by mistake: its invitations there (the
    two principals and any raters nominated) go with it, and their links stop working.
    Refused in words once the cycle holds answers, results or a plan for it, and once the
    cycle is closed or published. Returns the pairing's label."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"There is no cycle with id {cycle_id}.")
    require_council_manager(actor, cycle.council_id)
    pairing = get_pairing(session, pairing_id)
    label = pairing_label(session, pairing)
    if session.get(CyclePairing, (cycle_id, pairing_id)) is None:
        raise NotFound(f"{label} is not in '{cycle.name}'.")
    held = next((h for h in holdings(session, pairing_id).cycles if h.cycle_id == cycle_id), None)
    if held is not None and held.results:
        advice = (
            " To stop further answers, withdraw the raters who have not answered; what was "
            "given is reported with the cycle."
            if cycle.status in (CycleStatus.draft, CycleStatus.open)
            else " If the pairing has ended since, end it on the Pairings page."
        )
        raise Conflict(
            f"{label} cannot be removed from '{cycle.name}': the cycle holds {held.held()} "
            "for it, and what was given about a pairing is never deleted." + advice
        )
    if cycle.status in CLOSED:
        raise Invalid(
            f"'{cycle.name}' is {cycle.status}: the pairings it ran with stay in it. If "
            f"{label} has ended since, end it on the Pairings page."
        )
    invitations = session.exec(
        select(Invitation).where(
            Invitation.cycle_id == cycle_id, Invitation.pairing_id == pairing_id
        )
    ).all()
    sent = sum(1 for i in invitations if i.token_hash is not None)
    session.exec(
        delete(Invitation).where(
            col(Invitation.cycle_id) == cycle_id, col(Invitation.pairing_id) == pairing_id
        )
    )
    session.exec(
        delete(CyclePairing).where(
            col(CyclePairing.cycle_id) == cycle_id, col(CyclePairing.pairing_id) == pairing_id
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        "remove pairing from cycle",
        "cycle",
        cycle_id,
        cycle.council_id,
        pairing_id=pairing_id,
        pairing=label,
        invitations=len(invitations),
        links_issued=sent,
    )
    return label
