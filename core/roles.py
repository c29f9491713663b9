"""Who is acting, and what they may do across councils: the roles and their council scopes.
Checked in the domain functions themselves, so a hidden menu item is never the only guard.
Pairing-level rules (a principal reads their own pairing) are in feedback.access."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.errors import PermissionDenied


class Role(StrEnum):
    """The stored roles of user accounts, and `system` for the command line."""

    admin = "admin"
    facilitator = "facilitator"
    principal = "principal"
    system = "system"


# Roles an account can be given (the command line's `system` is not an account).
ACCOUNT_ROLES = (Role.admin, Role.facilitator, Role.principal)


@dataclass(frozen=True)
class Actor:
    username: str
    role: str  # a Role: admin | facilitator | principal | system
    person_id: int | None = None
    council_ids: frozenset[int] = field(default_factory=frozenset)
    user_id: int | None = None

    @property
    def label(self) -> str:
        return self.username


# The command line run by someone with access to the server and the database file.
SYSTEM = Actor(username="system (command line)", role=Role.system)

# Administrators and the command line: the whole installation, accounts included.
ADMIN_ROLES = (Role.admin, Role.system)


def can_manage_council(actor: Actor, council_id: int) -> bool:
    if is_admin(actor):
        return True
    return actor.role == Role.facilitator and council_id in actor.council_ids


def require_council_manager(actor: Actor, council_id: int) -> None:
    if not can_manage_council(actor, council_id):
        raise PermissionDenied("You do not have access to manage this council.")


def is_admin(actor: Actor) -> bool:
    """Administrators (and the command line): the whole installation, accounts included."""
    return actor.role in ADMIN_ROLES


def require_admin(actor: Actor) -> None:
    if not is_admin(actor):
        raise PermissionDenied("Only an administrator can do this.")


# --- helpers the pages, the CLI and the domain functions call -------------------------
# Each raises PermissionDenied with a sentence a user can act on; none trusts the menu.

STAFF_ROLES = (Role.admin, Role.facilitator, Role.system)


def is_staff(actor: Actor) -> bool:
    """Administrators and facilitators (and the command line): the set-up, tracking and
    analysis screens, every pairing of the councils they see."""
    return actor.role in STAFF_ROLES


def is_principal(actor: Actor) -> bool:
    """One of a pairing's two people: their own pairing's published report and plan."""
    return actor.role == Role.principal


def require_staff(actor: Actor) -> None:
    """Administrators and facilitators: the set-up, tracking and analysis screens."""
    if not is_staff(actor):
        raise PermissionDenied("Only facilitators and administrators can open this.")


def visible_council_ids(actor: Actor) -> frozenset[int] | None:
    """Councils whose set-up this actor sees; None means every council (administrators)."""
    if is_admin(actor):
        return None
    if actor.role == Role.facilitator:
        return actor.council_ids
    return frozenset()
