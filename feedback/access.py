"""Pairing-level access: who may read a pairing's report, work on its plan or see a person's
data. Council-level roles and scopes are in core.roles."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col

from core.errors import NotFound, PermissionDenied
from core.models import UserAccount
from core.roles import Actor, is_principal, require_council_manager
from core.vocabulary import CycleStatus
from feedback.models import Cycle, CyclePairing, Pairing, Person

NOT_PUBLISHED_YET = "Your report is not published yet. Your facilitator will tell you when it is."


# THE rule for when a principal may read a cycle's results: once they have been published
# (the cycle is published now, or was and has been taken back to closed since: what was
# published stays readable). Written twice side by side, as a test of a loaded cycle and as
# the same test in SQL; everything else (feedback.results) uses one of these.
def published_to_principals(cycle: Cycle) -> bool:
    """Whether this cycle's results have been published to its principals."""
    return cycle.status == CycleStatus.published.value or cycle.published_at is not None


def published_to_principals_sql() -> ColumnElement[bool]:
    """`published_to_principals` as a SQL condition on Cycle (for listing reports)."""
    return or_(
        col(Cycle.status) == CycleStatus.published.value, col(Cycle.published_at).is_not(None)
    )


def require_published_to_principals(cycle: Cycle) -> None:
    """A principal's read of this cycle's results: refused until it is published."""
    if not published_to_principals(cycle):
        raise PermissionDenied(NOT_PUBLISHED_YET)


def require_cycle_manager(session: Session, actor: Actor, cycle_id: int) -> Cycle:
    """The cycle, if this actor may run it (its council's facilitator or an administrator)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    require_council_manager(actor, cycle.council_id)
    return cycle


def is_principal_of(session: Session, actor: Actor, pairing_id: int) -> bool:
    if not is_principal(actor) or actor.person_id is None:
        return False
    pairing = session.get(Pairing, pairing_id)
    return pairing is not None and actor.person_id in (pairing.member_id, pairing.officer_id)


def _pairing(session: Session, pairing_id: int) -> Pairing:
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise NotFound("That pairing does not exist (it may have been deleted).")
    return pairing


def require_pairing_reader(
    session: Session, actor: Actor, pairing_id: int, cycle: Cycle | int
) -> Pairing:
    """May this actor read this pairing's report for this cycle? Staff of the council: yes,
    at any stage. A principal: only their own pairing, and only once it is published."""
    pairing = _pairing(session, pairing_id)
    cycle_row = session.get(Cycle, cycle) if isinstance(cycle, int) else cycle
    if cycle_row is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    in_cycle = session.get(CyclePairing, (cycle_row.id, pairing.id)) is not None
    if cycle_row.council_id != pairing.council_id or not in_cycle:
        raise NotFound("That pairing did not take part in this cycle.")
    if is_principal(actor):
        if not is_principal_of(session, actor, pairing_id):
            raise PermissionDenied("You can only read your own pairing's report.")
        require_published_to_principals(cycle_row)
        return pairing
    require_council_manager(actor, pairing.council_id)
    return pairing


def require_plan_editor(session: Session, actor: Actor, pairing_id: int) -> Pairing:
    """A pairing's plan is written by its two principals and by the council's staff."""
    pairing = _pairing(session, pairing_id)
    if is_principal(actor):
        if not is_principal_of(session, actor, pairing_id):
            raise PermissionDenied("You can only work on your own pairing's plan.")
        return pairing
    require_council_manager(actor, pairing.council_id)
    return pairing


# Reading a plan needs the same standing as editing it.
require_plan_reader = require_plan_editor


def require_person_manager(session: Session, actor: Actor, person_id: int) -> Person:
    """Personal data about one person (a subject access export): their council's staff."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not on any council's list.")
    require_council_manager(actor, person.council_id)
    return person


def staff_name(session: Session, actor: Actor) -> str:
    """How staff acting on something a principal reads are named there ("recorded by …",
    "withheld by …"): their account's display name, else their username (the command
    line: "system (command line)")."""
    account = session.get(UserAccount, actor.user_id) if actor.user_id is not None else None
    return (account.display_name if account is not None else "") or actor.label
