"""Tables for councils, people, pairings, cycles, the framework, invitations and responses.

Integrity lives in the database: unique constraints, check constraints and foreign keys
(enforced on SQLite through PRAGMA foreign_keys). Deletes cascade only from a parent that
owns its children outright (a response owns its ratings); people and pairings that are
referenced elsewhere are protected with RESTRICT so nothing vanishes by accident.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC: SQLModel stores UTC and hands back aware values on both databases."""
    return datetime.now(UTC)


def _in(column: str, values: type[StrEnum], blank: bool = False) -> str:
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted}" + (", ''" if blank else "") + ")"


class PersonKind(StrEnum):
    member = "member"  # elected councillor
    officer = "officer"  # paid staff
    external = "external"  # external partner (police, health, voluntary sector...)


class PairingKind(StrEnum):
    """Stored values; what each is called on screen is in feedback.vocabulary. The values
    sort (descending) with the top pairings first, which the lists rely on: see
    vocabulary.TOP_KINDS and its test."""

    leader_chief_executive = "leader–chief executive"
    mayor_chief_executive = "mayor–chief executive"  # directly elected mayor
    convener_chief_executive = "convener–chief executive"  # Scottish usage
    cabinet_director = "cabinet–director"
    committee_chair_director = "committee chair–director"  # committee-system councils


class GovernanceModel(StrEnum):
    """How a council takes decisions (Local Government Act 2000 and the Localism Act 2011 in
    England; Scottish and Northern Irish councils work through committees)."""

    leader_cabinet = "leader and cabinet"
    mayor_cabinet = "mayor and cabinet"
    committee_system = "committee system"


class PoliticalSide(StrEnum):
    """A councillor's group in relation to the council's ruling group or coalition."""

    administration = "administration"
    opposition = "opposition"


class SpecialRole(StrEnum):
    """Statutory or special roles that matter for who should rate the top pairing."""

    monitoring_officer = "monitoring officer"
    chief_finance_officer = "chief finance officer"  # s151 (s95 in Scotland)
    head_of_paid_service = "head of paid service"
    scrutiny_chair = "scrutiny chair"


class CycleStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    published = "published"


class Target(StrEnum):
    member = "member"
    officer = "officer"
    partnership = "partnership"


class RaterGroup(StrEnum):
    """How a rater stands to a pairing. The two principals share `principal`: for an item
    about the member, the member's own answer is *self* and the officer's is *partner*
    (and the other way round), so self/partner are worked out per target."""

    principal = "principal"
    members = "members"
    officers = "officers"
    partners = "partners"


class InvitationStatus(StrEnum):
    not_started = "not started"
    in_progress = "in progress"
    submitted = "submitted"
    revoked = "revoked"


class ResponseStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class Council(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("retention_months >= 1", name="ck_council_retention"),
        CheckConstraint(
            "nation IN ('England', 'Scotland', 'Wales', 'Northern Ireland')",
            name="ck_council_nation",
        ),
        CheckConstraint(_in("governance", GovernanceModel), name="ck_council_governance"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    nation: str = Field(default="England", max_length=20)
    # The server default lets bulk loads (tandem bench) and older rows leave it out.
    governance: str = Field(
        default=GovernanceModel.leader_cabinet.value,
        max_length=30,
        sa_column_kwargs={"server_default": GovernanceModel.leader_cabinet.value},
    )
    retention_months: int = Field(default=36)
    created_at: datetime = Field(default_factory=utcnow)


_BLANK = {"server_default": ""}  # so bulk loads (tandem bench) may leave the column out


class Person(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("council_id", "email", name="uq_person_council_email"),
        CheckConstraint(_in("kind", PersonKind), name="ck_person_kind"),
        CheckConstraint(
            _in("political_side", PoliticalSide, blank=True), name="ck_person_political_side"
        ),
        CheckConstraint(
            _in("special_role", SpecialRole, blank=True), name="ck_person_special_role"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    full_name: str = Field(max_length=200)
    email: str = Field(max_length=320)  # stored lower-cased; the key for duplicates
    kind: str = Field(max_length=20)
    title: str = Field(default="", max_length=200)  # e.g. "Leader of the Council"
    portfolio: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)  # for external partners
    # Councillors only, for rater balance: the group's name ("Labour", "Independent") and
    # whether it is in the administration or the opposition; "" when not recorded.
    political_group: str = Field(default="", max_length=100, sa_column_kwargs=_BLANK)
    political_side: str = Field(default="", max_length=20, sa_column_kwargs=_BLANK)
    # A statutory or special role (SpecialRole), "" for none.
    special_role: str = Field(default="", max_length=30, sa_column_kwargs=_BLANK)
    created_at: datetime = Field(default_factory=utcnow)


class Pairing(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("council_id", "member_id", "officer_id", name="uq_pairing_people"),
        CheckConstraint(_in("kind", PairingKind), name="ck_pairing_kind"),
        CheckConstraint("member_id <> officer_id", name="ck_pairing_two_people"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=40)
    member_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    officer_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    portfolio: str = Field(default="", max_length=200)
    # When the two began working together (None: not recorded, counted as established);
    # a pairing under 12 months old is reported apart in the Solace comparison.
    started_on: date | None = None
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)


class FrameworkVersion(SQLModel, table=True):
    """A framework exactly as a cycle ran it; the file may change later, this row does not."""

    __table_args__ = (UniqueConstraint("key", "version", name="uq_framework_key_version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80)
    version: str = Field(max_length=40)
    title: str = Field(max_length=200)
    checksum: str = Field(max_length=64)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    loaded_at: datetime = Field(default_factory=utcnow)


class Dimension(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("framework_version_id", "code", name="uq_dimension_code"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_version_id: int = Field(
        foreign_key="frameworkversion.id", ondelete="CASCADE", index=True
    )
    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    description: str = Field(default="")
    position: int


class Item(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("framework_version_id", "code", name="uq_item_code"),
        CheckConstraint(_in("target", Target), name="ck_item_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    framework_version_id: int = Field(
        foreign_key="frameworkversion.id", ondelete="CASCADE", index=True
    )
    # Solace-comparable questions belong to no dimension.
    dimension_id: int | None = Field(default=None, foreign_key="dimension.id", ondelete="CASCADE")
    code: str = Field(max_length=60)
    target: str = Field(max_length=20)
    scale: str = Field(max_length=40)
    text: str
    audience: str = Field(default="everyone", max_length=20)  # everyone | principals
    position: int


class Cycle(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("council_id", "name", name="uq_cycle_council_name"),
        CheckConstraint("anonymity_threshold >= 2", name="ck_cycle_threshold_min"),
        CheckConstraint(_in("status", CycleStatus), name="ck_cycle_status"),
        CheckConstraint("closes_on >= opens_on", name="ck_cycle_dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=120)
    opens_on: date
    closes_on: date
    status: str = Field(default=CycleStatus.draft.value, max_length=20)
    framework_version_id: int = Field(foreign_key="frameworkversion.id", ondelete="RESTRICT")
    anonymity_threshold: int = Field(default=3)
    invitation_subject: str = Field(default="")
    invitation_body: str = Field(default="")
    reminder_subject: str = Field(default="")
    reminder_body: str = Field(default="")
    # Each publication is frozen as a snapshot; republishing adds one, never rewrites one.
    published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class CyclePairing(SQLModel, table=True):
    """Which pairings take part in a cycle."""

    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", primary_key=True)
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE", primary_key=True)


class Invitation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cycle_id", "pairing_id", "rater_id", name="uq_invitation_rater"),
        CheckConstraint(_in("rater_group", RaterGroup), name="ck_invitation_group"),
        CheckConstraint(_in("status", InvitationStatus), name="ck_invitation_status"),
        Index("ix_invitation_cycle_pairing", "cycle_id", "pairing_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE")
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE")
    rater_id: int = Field(foreign_key="person.id", ondelete="RESTRICT", index=True)
    rater_group: str = Field(max_length=20)
    status: str = Field(default=InvitationStatus.not_started.value, max_length=20)
    # SHA-256 of the link's token; the token itself is never stored.
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    token_issued_at: datetime | None = None
    revoked_at: datetime | None = None
    sent_at: datetime | None = None
    last_reminded_at: datetime | None = None
    reminder_count: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class Response(SQLModel, table=True):
    """One per invitation (the unique constraint), draft until submitted once."""

    __table_args__ = (CheckConstraint(_in("status", ResponseStatus), name="ck_response_status"),)

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE", unique=True)
    status: str = Field(default=ResponseStatus.draft.value, max_length=20)
    # SHA-256 of the resume key of the browser that began this draft (issue 12): a draft
    # opens only for that key, never for whoever merely holds the link (a facilitator
    # holding the mail-merge file holds every link). NULL: written by Tandem itself (demo,
    # bench) or begun before keys existed; no browser's key opens it.
    resume_hash: str | None = Field(default=None, max_length=64)
    started_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class Rating(SQLModel, table=True):
    """One answer; value NULL means "can't say"."""

    __table_args__ = (CheckConstraint("value BETWEEN 1 AND 5", name="ck_rating_value"),)

    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", primary_key=True)
    item_id: int = Field(foreign_key="item.id", ondelete="RESTRICT", primary_key=True, index=True)
    value: int | None = None


class Comment(SQLModel, table=True):
    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", primary_key=True)
    dimension_id: int = Field(foreign_key="dimension.id", ondelete="RESTRICT", primary_key=True)
    text: str


class OpenAnswer(SQLModel, table=True):
    """An answer in words to one of the framework's open questions ("keep doing", "focus
    on", the partnership); reported like a comment (framework 2026.2)."""

    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", primary_key=True)
    question: str = Field(primary_key=True, max_length=60)  # the open question's code
    text: str


class DimensionPick(SQLModel, table=True):
    """One of the (up to three) dimensions a rater says matter most for the pairing."""

    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE", primary_key=True)
    dimension_id: int = Field(foreign_key="dimension.id", ondelete="RESTRICT", primary_key=True)


class MessageLog(SQLModel, table=True):
    """Invitations and reminders sent (or exported for mail merge)."""

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # invitation | reminder
    channel: str = Field(max_length=20)  # email | mail-merge
    ok: bool = True
    error: str = ""
    sent_at: datetime = Field(default_factory=utcnow)


class PublishedReport(SQLModel, table=True):
    """A frozen, already-suppressed edition of a cycle's results: `content` holds the
    council overview and the per-pairing cut-offs; each pairing's report is a
    PublishedPairingReport. Readers only ever see these, so a late response changes nothing
    they can compare unless the cycle is deliberately republished, and republishing is
    checked against the earlier snapshot."""

    __table_args__ = (UniqueConstraint("cycle_id", "edition", name="uq_published_report_edition"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", index=True)
    edition: int
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = Field(default="", max_length=200)


class PublishedPairingReport(SQLModel, table=True):
    """One pairing's part of an edition, stored on its own so that opening a report reads
    and parses that pairing's results only, not the whole council's."""

    __table_args__ = (
        UniqueConstraint("report_id", "pairing_id", name="uq_published_pairing_report"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="publishedreport.id", ondelete="CASCADE", index=True)
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE", index=True)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Server-side only, never served (see feedback/publication.py): which responses stand
    # behind each anonymous cell, the pairing's part of the council overview, and whether
    # it was held back. NULL in editions published before it existed.
    private: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class StaffPreview(SQLModel, table=True):
    """One pairing's results as staff read them before publication (a closed cycle), kept so
    that a later read, preview or edition is held against it: comparing two reads of live
    results must never give back one rater's answers. Principals never read these."""

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", index=True)
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE", index=True)
    taken_at: datetime = Field(default_factory=utcnow)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    private: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class UserAccount(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'facilitator', 'principal')", name="ck_user_role"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=200, unique=True)
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)
    password_hash: str | None = None  # None for accounts that only sign in through OIDC
    role: str = Field(max_length=20)
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    active: bool = True
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_failed_at: datetime | None = None  # failures are forgotten a day after the last one
    last_sign_in_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class SignInFailure(SQLModel, table=True):
    """Failed sign-ins with a username that has no password account. They grow the same lock
    an account's failures do, so the sign-in page answers an unknown username exactly as it
    answers a real one: nobody can find out which usernames exist by guessing."""

    username: str = Field(primary_key=True, max_length=200)
    failed_attempts: int = 0
    locked_until: datetime | None = None
    last_failed_at: datetime = Field(default_factory=utcnow, index=True)


class FacilitatorCouncil(SQLModel, table=True):
    user_id: int = Field(foreign_key="useraccount.id", ondelete="CASCADE", primary_key=True)
    council_id: int = Field(foreign_key="council.id", ondelete="CASCADE", primary_key=True)


class AuditEvent(SQLModel, table=True):
    """Administrative actions. Never holds answers or comments."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=80)
    entity: str = Field(max_length=40)
    entity_id: int | None = None
    council_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
