"""Who is acting, and what they may do. Checked in the domain functions themselves, so a
hidden menu item is never the only guard."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from feedback.errors import NotFound, PermissionDenied
from feedback.models import Cycle, CyclePairing, Pairing, Person


@dataclass(frozen=True)
class Actor:
    username: str
    role: str  # admin | facilitator | principal | system
    person_id: int | None = None
    council_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def label(self) -> str:
        return self.username


# The command line run by someone with access to the server and the database file.
SYSTEM = Actor(username="system (command line)", role="system")


def can_manage_council(actor: Actor, council_id: int) -> bool:
    if actor.role in ("admin", "system"):
        return True
    return actor.role == "facilitator" and council_id in actor.council_ids


def require_council_manager(actor: Actor, council_id: int) -> None:
    if not can_manage_council(actor, council_id):
        raise PermissionDenied("You do not have access to manage this council.")


def is_admin(actor: Actor) -> bool:
    """Administrators (and the command line): the whole installation, accounts included."""
    return actor.role in ("admin", "system")


def require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied("Only an administrator can do this.")


# --- helpers the pages, the CLI and the domain functions call -------------------------
# Each raises PermissionDenied with a sentence a user can act on; none trusts the menu.

STAFF_ROLES = ("admin", "facilitator", "system")


def require_staff(actor: Actor) -> None:
    """Administrators and facilitators: the set-up, tracking and analysis screens."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("Only facilitators and administrators can open this.")


def visible_council_ids(actor: Actor) -> frozenset[int] | None:
    """Councils whose set-up this actor sees; None means every council (administrators)."""
    if actor.role in ("admin", "system"):
        return None
    if actor.role == "facilitator":
        return actor.council_ids
    return frozenset()


def require_cycle_manager(session: Session, actor: Actor, cycle_id: int) -> Cycle:
    """The cycle, if this actor may run it (its council's facilitator or an administrator)."""
    cycle = session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound("That feedback cycle does not exist (it may have been deleted).")
    require_council_manager(actor, cycle.council_id)
    return cycle


def is_principal_of(session: Session, actor: Actor, pairing_id: int) -> bool:
    if actor.role != "principal" or actor.person_id is None:
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
    if actor.role == "principal":
        if not is_principal_of(session, actor, pairing_id):
            raise PermissionDenied("You can only read your own pairing's report.")
        if cycle_row.status != "published" and cycle_row.published_at is None:
            raise PermissionDenied(
                "Your report is not published yet. Your facilitator will tell you when it is."
            )
        return pairing
    require_council_manager(actor, pairing.council_id)
    return pairing


def require_plan_editor(session: Session, actor: Actor, pairing_id: int) -> Pairing:
    """A pairing's plan is written by its two principals and by the council's staff."""
    pairing = _pairing(session, pairing_id)
    if actor.role == "principal":
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
