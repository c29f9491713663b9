"""Tables for joint development plans: goals, actions, check-ins, sign-offs and history.

Every change to a plan bumps `DevelopmentPlan.revision`; writers say which revision they
started from, so two principals editing at once cannot silently overwrite each other.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import allowed_values, utcnow
from core.vocabulary import CouncilDateKind


class PlanStatus(StrEnum):
    draft = "draft"
    agreed = "agreed"  # both principals signed the current revision
    changed_since_agreed = "changed since agreed"  # edited after sign-off; needs agreement again


class ActionOwner(StrEnum):
    member = "member"
    officer = "officer"
    joint = "joint"


class ActionStatus(StrEnum):
    not_started = "not started"
    in_progress = "in progress"
    done = "done"
    dropped = "dropped"


class Challenge(StrEnum):
    """The six public-sector challenges of the IESE seed, as optional goal tags."""

    financial_resilience = "financial-resilience"
    digital_transformation = "digital-transformation"
    social_care = "social-care"
    strategy = "strategy"
    demand_management = "demand-management"
    capacity_and_change = "capacity-and-change"


CHALLENGE_LABELS: dict[str, str] = {
    "financial-resilience": "Financial resilience",
    "digital-transformation": "Digital transformation",
    "social-care": "Social care",
    "strategy": "Strategy",
    "demand-management": "Demand management",
    "capacity-and-change": "Capacity and change",
}


class DevelopmentPlan(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("pairing_id", "cycle_id", name="uq_plan_pairing_cycle"),
        CheckConstraint(allowed_values("status", PlanStatus), name="ck_plan_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE", index=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", index=True)
    status: str = Field(default=PlanStatus.draft.value, max_length=30)
    revision: int = Field(default=1)
    carried_from_plan_id: int | None = Field(
        default=None, foreign_key="developmentplan.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=200)


class PlanGoal(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(
            "challenge IS NULL OR " + allowed_values("challenge", Challenge),
            name="ck_goal_challenge",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="developmentplan.id", ondelete="CASCADE", index=True)
    dimension_code: str = Field(max_length=40)
    challenge: str | None = Field(default=None, max_length=40)
    title: str = Field(max_length=300)
    description: str = Field(default="")
    source: str = Field(default="written", max_length=20)  # written | suggested | carried
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    # A corporate peer challenge recommendation the goal answers: its reference as the
    # council numbers it ("CPC 2025 rec. 3") and its words; both "" when none is cited.
    peer_challenge_ref: str = Field(
        default="", max_length=60, sa_column_kwargs={"server_default": ""}
    )
    peer_challenge_text: str = Field(
        default="", max_length=1000, sa_column_kwargs={"server_default": ""}
    )


class PlanAction(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint(allowed_values("owner", ActionOwner), name="ck_action_owner"),
        CheckConstraint(allowed_values("status", ActionStatus), name="ck_action_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="plangoal.id", ondelete="CASCADE", index=True)
    description: str
    owner: str = Field(max_length=20)
    due_on: date | None = None
    success_measure: str = Field(default="")
    status: str = Field(default=ActionStatus.not_started.value, max_length=20)
    position: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="developmentplan.id", ondelete="CASCADE", index=True)
    action_id: int | None = Field(default=None, foreign_key="planaction.id", ondelete="SET NULL")
    held_on: date
    note: str = Field(default="")
    status_from: str | None = Field(default=None, max_length=20)
    status_to: str | None = Field(default=None, max_length=20)
    recorded_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class SignOff(SQLModel, table=True):
    """A principal's agreement to one revision of the plan."""

    __table_args__ = (UniqueConstraint("plan_id", "person_id", "plan_revision", name="uq_signoff"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="developmentplan.id", ondelete="CASCADE", index=True)
    person_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    plan_revision: int
    signed_at: datetime = Field(default_factory=utcnow)
    # Staff recording the agreement for the principal (given on paper, by email, in a
    # meeting): who recorded it and their note of how it was given. "" when the principal
    # agreed themselves.
    recorded_by: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    note: str = Field(default="", max_length=500, sa_column_kwargs={"server_default": ""})


class PlanRevision(SQLModel, table=True):
    """History: the whole plan as it stood after each change."""

    __table_args__ = (UniqueConstraint("plan_id", "revision", name="uq_plan_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="developmentplan.id", ondelete="CASCADE", index=True)
    revision: int
    summary: str = Field(default="", max_length=500)
    snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changed_by: str = Field(default="", max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)


class CouncilDate(SQLModel, table=True):
    """A key date of the council's year (budget council, annual council, polling day). For
    an election, the pre-election period runs from `period_starts_on` to `period_ends_on`;
    either left empty is computed from polling day (planning.calendar)."""

    __table_args__ = (
        UniqueConstraint("council_id", "kind", "falls_on", name="uq_council_date"),
        CheckConstraint(allowed_values("kind", CouncilDateKind), name="ck_council_date_kind"),
        CheckConstraint(
            "period_starts_on IS NULL OR period_ends_on IS NULL "
            "OR period_starts_on <= period_ends_on",
            name="ck_council_date_period",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=30)
    falls_on: date
    label: str = Field(default="", max_length=200)  # e.g. "County council elections"
    period_starts_on: date | None = None
    period_ends_on: date | None = None
    updated_by: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow)
