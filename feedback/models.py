"""Tables for councils, people, pairings, cycles, the framework, invitations and responses.

Integrity lives in the database: unique constraints, check constraints and foreign keys
(enforced on SQLite through PRAGMA foreign_keys). Deletes cascade only from a parent that
owns its children outright (a response owns its ratings); people and pairings that are
referenced elsewhere are protected with RESTRICT so nothing vanishes by accident.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import allowed_values, utcnow
from core.vocabulary import (
    CycleKind,
    CycleStatus,
    InvitationStatus,
    Language,
    PairingKind,
    PersonKind,
    PoliticalSide,
    RaterGroup,
    ResponseStatus,
    SpecialRole,
    Target,
)

_BLANK = {"server_default": ""}  # so bulk loads (tandem bench) may leave the column out


class Person(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("council_id", "email", name="uq_person_council_email"),
        CheckConstraint(allowed_values("kind", PersonKind), name="ck_person_kind"),
        CheckConstraint(
            allowed_values("political_side", PoliticalSide, blank=True),
            name="ck_person_political_side",
        ),
        CheckConstraint(
            allowed_values("special_role", SpecialRole, blank=True), name="ck_person_special_role"
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
        CheckConstraint(allowed_values("kind", PairingKind), name="ck_pairing_kind"),
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
    # False once the pairing has ended (`feedback.setup.pairings.end_pairing`): it stays in
    # the cycles and reports it took part in, but is offered for no new cycle.
    active: bool = Field(default=True)
    # Why this is a council's second top pairing (migration 0011), e.g. "joint chief
    # executive shared with …"; "" for every other pairing.
    top_exception: str = Field(default="", max_length=300, sa_column_kwargs=_BLANK)
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
        CheckConstraint(allowed_values("target", Target), name="ck_item_target"),
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
        CheckConstraint(allowed_values("status", CycleStatus), name="ck_cycle_status"),
        CheckConstraint("closes_on >= opens_on", name="ck_cycle_dates"),
        CheckConstraint(allowed_values("kind", CycleKind), name="ck_cycle_kind"),
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
    # The built-in reminder schedule: days before closing, e.g. "7,2" ("" : none). Cycles
    # made before it existed have none (server default), so an upgrade emails nobody.
    reminder_days: str = Field(
        default="7,2", max_length=60, sa_column_kwargs={"server_default": ""}
    )
    # What raters read and are emailed in (core.vocabulary.Language): en, cy or both.
    language: str = Field(
        default=Language.en.value, max_length=4, sa_column_kwargs={"server_default": "en"}
    )
    # Each publication is frozen as a snapshot; republishing adds one, never rewrites one.
    published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # A 90-day pulse (migration 0016) follows one published full cycle: its report shows
    # change against that cycle only. Full cycles follow nothing.
    kind: str = Field(
        default=CycleKind.full.value, max_length=10, sa_column_kwargs={"server_default": "full"}
    )
    # No ON DELETE (NO ACTION): a full cycle a pulse follows cannot be deleted from under it
    # (an ON DELETE added by ALTER TABLE is not read back on SQLite).
    follows_cycle_id: int | None = Field(default=None, foreign_key="cycle.id")


class CyclePairing(SQLModel, table=True):
    """Which pairings take part in a cycle."""

    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", primary_key=True)
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE", primary_key=True)
    # A pulse only (migration 0016): the dimension codes of the pairing's plan goals, asked
    # in full beside the mirror items. NULL in a full cycle: the whole framework is asked.
    focus_dimensions: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Invitation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("cycle_id", "pairing_id", "rater_id", name="uq_invitation_rater"),
        CheckConstraint(allowed_values("rater_group", RaterGroup), name="ck_invitation_group"),
        CheckConstraint(allowed_values("status", InvitationStatus), name="ck_invitation_status"),
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
    # Last put in a mail-merge file (Tandem sent nothing: the council's own mail did).
    exported_at: datetime | None = None
    # When the rater first opened a live link (a status for chasing replies, like
    # "in progress"; never anything about answers).
    opened_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Response(SQLModel, table=True):
    """One per invitation (the unique constraint), draft until submitted once."""

    __table_args__ = (
        CheckConstraint(allowed_values("status", ResponseStatus), name="ck_response_status"),
        # An id is never handed out twice (migration 0010): the hold-back tells replies apart
        # by id, so an erased reply's id must not come back as a late reply's.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE", unique=True)
    status: str = Field(default=ResponseStatus.draft.value, max_length=20)
    # SHA-256 of the resume key of the browser that began this draft (issue 12): a draft
    # opens only for that key, never for whoever merely holds the link (a facilitator
    # holding the mail-merge file holds every link). NULL: written by Tandem itself (demo,
    # bench) or begun before keys existed; no browser's key opens it.
    resume_hash: str | None = Field(default=None, max_length=64)
    # The language the rater last saved answers in (en / cy): a report may say which
    # language a comment was written in, under the rule of feedback.results.engine.
    language: str = Field(
        default=Language.en.value, max_length=4, sa_column_kwargs={"server_default": "en"}
    )
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


class CommentModeration(SQLModel, table=True):
    """Staff hid a comment (or an open answer) of a closed cycle, or removed words from it,
    before publication (feedback.results.moderation). What the rater wrote stays untouched in
    Comment / OpenAnswer, so this can be undone until the cycle is published; readers are
    served the moderated text only (feedback.results.moderated). Holds no comment text."""

    __table_args__ = (
        UniqueConstraint("response_id", "part", name="uq_comment_moderation"),
        Index("ix_commentmoderation_cycle_pairing", "cycle_id", "pairing_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE")
    pairing_id: int = Field(foreign_key="pairing.id", ondelete="CASCADE")
    response_id: int = Field(foreign_key="response.id", ondelete="CASCADE")
    # Which words: a dimension's code (its comment) or "open:<question code>" (an open answer).
    part: str = Field(max_length=80)
    hidden: bool = Field(default=False)
    # Character ranges [start, end) of the words removed, each shown as the marker.
    spans: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=500)
    moderated_by: str = Field(default="", max_length=200)
    moderated_at: datetime = Field(default_factory=utcnow)


class MessageLog(SQLModel, table=True):
    """Invitations and reminders sent (or exported for mail merge)."""

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # invitation | reminder
    channel: str = Field(max_length=20)  # email | mail-merge
    ok: bool = True
    error: str = ""
    sent_at: datetime = Field(default_factory=utcnow)


class ReminderRun(SQLModel, table=True):
    """One scheduled reminder of a cycle, claimed before anything is sent: the unique
    constraint lets exactly one of several app processes and cron claim it, so nobody is
    reminded twice for the same date."""

    __table_args__ = (
        UniqueConstraint("cycle_id", "days_before", "due_on", name="uq_reminder_run"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id", ondelete="CASCADE", index=True)
    days_before: int
    due_on: date
    claimed_by: str = Field(default="", max_length=200)
    claimed_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    sent: int = Field(default=0)
    failed: int = Field(default=0)


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
