"""The tables the core needs: councils, user accounts and the audit log, and the helpers
every table uses. The domain tables (feedback.models, planning.models) refer to these by
foreign key; the core never refers to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column
from sqlmodel import Field, SQLModel

from core.roles import ACCOUNT_ROLES
from core.vocabulary import GovernanceModel


def utcnow() -> datetime:
    """Aware UTC: SQLModel stores UTC and hands back aware values on both databases."""
    return datetime.now(UTC)


def stored_id(value: int | None) -> int:
    """The id of a row read from or flushed to the database (never None then); for the type
    checker, and a plain error if it ever is None."""
    if value is None:
        raise ValueError("This row has not been stored yet, so it has no id.")
    return value


def allowed_values(column: str, values: Iterable[StrEnum], blank: bool = False) -> str:
    """A check constraint's SQL: `column` holds one of `values` (an enum, or some of its
    members), or '' too when `blank`."""
    quoted = ", ".join(f"'{v.value}'" for v in values)
    return f"{column} IN ({quoted}" + (", ''" if blank else "") + ")"


class Council(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("retention_months >= 1", name="ck_council_retention"),
        CheckConstraint(
            "nation IN ('England', 'Scotland', 'Wales', 'Northern Ireland')",
            name="ck_council_nation",
        ),
        CheckConstraint(
            allowed_values("governance", GovernanceModel), name="ck_council_governance"
        ),
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


class UserAccount(SQLModel, table=True):
    __table_args__ = (CheckConstraint(allowed_values("role", ACCOUNT_ROLES), name="ck_user_role"),)

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


class SignInSession(SQLModel, table=True):
    """One browser's sign-in, kept by a cookie (ui.auth). Only a hash of the cookie's random
    token is stored, so a copy of the database signs nobody in. A session ends at
    `expires_at`, after a spell without use (governance.sign_in.IDLE_LIMIT), or when
    `ended_at` is set: sign-out, the account switched off, a new password."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="useraccount.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    ended_at: datetime | None = None
    ended_because: str = Field(default="", max_length=40)


class PasswordReset(SQLModel, table=True):
    """A one-time link to set a new password, emailed on request. Only a hash of its token
    is stored; it works once, and only until `expires_at`."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="useraccount.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime
    used_at: datetime | None = None


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
