"""User accounts: Argon2id passwords, a growing lock after failed sign-ins, roles and links.

Facilitators are linked to the councils they run (FacilitatorCouncil); principals to their
Person record, which is how they reach their own pairing's report and plan. Accounts with
no password sign in only through the organisation's identity provider (OIDC).

Nothing here sleeps: `authenticate` returns how long to wait, so the caller decides how to
say so, and a lock stored in the database holds across every browser tab and app process,
which a sleep in one session would not.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import overload

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from core import audit
from core.errors import Conflict, Invalid, NotFound, PermissionDenied, TandemError
from core.models import (
    Council,
    FacilitatorCouncil,
    PasswordReset,
    SignInFailure,
    SignInSession,
    UserAccount,
    stored_id,
    utcnow,
)
from core.roles import ACCOUNT_ROLES, Actor, Role, require_admin
from core.text import column_limit, one_line
from feedback.models import Person

ROLES = ACCOUNT_ROLES  # the roles an account can be given
MIN_PASSWORD_LENGTH = 12
# Attempts allowed before the lock starts; then 30 s, doubling each time, at most 15 min.
FREE_ATTEMPTS = 3
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60

# RFC 9106's second recommended profile: Argon2id, t=3, m=64 MiB, p=4.
HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
assert HASHER.type is Type.ID
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = HASHER.hash("tandem: no such account")

_COMMON = {
    "password1234",
    "password12345",
    "123456789012",
    "qwertyuiop12",
    "letmein12345",
    "welcome12345",
    "changeme1234",
}


class SignInRefused(TandemError):
    """An identity-provider sign-in that matches no active account."""


@dataclass(frozen=True)
class HashParameters:
    type: str
    version: int
    time_cost: int
    memory_cost_kib: int
    parallelism: int


def hash_parameters(password_hash: str) -> HashParameters:
    """Read the parameters recorded in an encoded Argon2 hash ($argon2id$v=19$m=…,t=…,p=…$)."""
    parts = password_hash.split("$")
    if len(parts) < 6 or not parts[1].startswith("argon2"):
        raise Invalid("This is not an Argon2 password hash.")
    params = dict(kv.split("=", 1) for kv in parts[3].split(","))
    return HashParameters(
        type=parts[1],
        version=int(parts[2].removeprefix("v=")),
        time_cost=int(params["t"]),
        memory_cost_kib=int(params["m"]),
        parallelism=int(params["p"]),
    )


def check_password_rules(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters (three random words work).")
    if password.lower() in _COMMON or len(set(password)) < 4:
        problems.append("This password is too easy to guess; choose another.")
    if username and username.lower() in password.lower():
        problems.append("The password must not contain the username.")
    return problems


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _normalise_username(raw: str) -> str:
    return raw.strip().lower()


def lock_seconds(failed_attempts: int) -> int:
    """How long an account is locked after this many consecutive failures (0 = not locked)."""
    if failed_attempts < FREE_ATTEMPTS:
        return 0
    return int(min(FIRST_LOCK_SECONDS * 2 ** (failed_attempts - FREE_ATTEMPTS), MAX_LOCK_SECONDS))


@overload
def _aware(value: datetime) -> datetime: ...
@overload
def _aware(value: datetime | None) -> datetime | None: ...
def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def find_user(session: Session, username: str) -> UserAccount | None:
    return session.exec(
        select(UserAccount).where(UserAccount.username == _normalise_username(username))
    ).first()


def get_user(session: Session, user_id: int) -> UserAccount:
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFound("That user account no longer exists.")
    return user


def count_users(session: Session) -> int:
    return session.exec(select(func.count()).select_from(UserAccount)).one()


def list_users(session: Session, actor: Actor) -> list[UserAccount]:
    require_admin(actor)
    return list(session.exec(select(UserAccount).order_by(UserAccount.username)).all())


def council_ids_for(session: Session, user_id: int) -> frozenset[int]:
    rows = session.exec(
        select(FacilitatorCouncil.council_id).where(FacilitatorCouncil.user_id == user_id)
    ).all()
    return frozenset(rows)


def actor_for(session: Session, user: UserAccount) -> Actor:
    """The Actor every domain function checks: role, councils run, and Person (principals)."""
    councils = (
        council_ids_for(session, stored_id(user.id))
        if user.role == Role.facilitator
        else frozenset()
    )
    return Actor(
        username=user.username,
        role=user.role,
        person_id=user.person_id if user.role == Role.principal else None,
        council_ids=councils,
        user_id=user.id,
    )


def _validate(
    session: Session,
    username: str,
    role: str,
    password: str | None,
    council_ids: list[int],
    person_id: int | None,
    problems: list[str],
) -> None:
    if not username or len(username) > 200 or any(c.isspace() for c in username):
        problems.append("Give a username without spaces (an email address works well).")
    if role not in ROLES:
        problems.append(f"Role must be one of {', '.join(ROLES)}, not '{role}'.")
    if password is not None:
        problems.extend(check_password_rules(password, username))
    for council_id in council_ids:
        if session.get(Council, council_id) is None:
            problems.append(f"There is no council with id {council_id}.")
    if role == Role.facilitator and not council_ids:
        problems.append("A facilitator needs at least one council to look after.")
    if role != Role.facilitator and council_ids:
        problems.append("Only facilitators are linked to councils.")
    if role == Role.principal:
        if person_id is None:
            problems.append("A principal must be linked to their person record (by email).")
        elif session.get(Person, person_id) is None:
            problems.append("The person this principal is linked to does not exist.")
    elif person_id is not None:
        problems.append("Only principals are linked to a person record.")


def _display_name(value: str | None, problems: list[str]) -> str:
    """An account's name as stored (the one rule for text, core.text)."""
    try:
        return one_line(value, "the name", limit=column_limit(UserAccount, "display_name"))
    except Invalid as exc:
        problems.append(str(exc))
        return ""


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    role: str,
    password: str | None = None,
    *,
    display_name: str = "",
    email: str = "",
    council_ids: list[int] | None = None,
    person_id: int | None = None,
    first_admin: bool = False,
) -> UserAccount:
    """Create an account. `first_admin` lets the very first account be made without one
    (the app's first run); it is refused as soon as any account exists."""
    if first_admin:
        if count_users(session) > 0:
            raise PermissionDenied("An administrator already exists; ask them for an account.")
        if role != Role.admin:
            raise Invalid("The first account must be an administrator.")
    else:
        require_admin(actor)
    username = _normalise_username(username)
    council_ids = sorted(set(council_ids or []))
    problems: list[str] = []
    _validate(session, username, role, password, council_ids, person_id, problems)
    display_name = _display_name(display_name, problems)
    if problems:
        raise Invalid("The account was not created.", problems)
    if find_user(session, username) is not None:
        raise Conflict(f"There is already an account called '{username}'.")
    user = UserAccount(
        username=username,
        display_name=display_name,
        email=email.strip().lower(),
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        person_id=person_id,
    )
    session.add(user)
    session.flush()
    for council_id in council_ids:
        session.add(FacilitatorCouncil(user_id=stored_id(user.id), council_id=council_id))
    who = Actor(username=username, role=Role.admin) if first_admin else actor
    audit.record(
        session, who, "create user", "useraccount", user.id, None, role=role, councils=council_ids
    )
    return user


@dataclass(frozen=True)
class SignInAttempt:
    """The outcome of one sign-in. Returned, not raised: a refusal must still be committed
    (the failure count and lock), and raising inside a unit of work would roll it back."""

    user: UserAccount | None
    message: str = ""
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.user is not None


NO_MATCH = "That username and password do not match an account."


def authenticate(
    session: Session, username: str, password: str, now: datetime | None = None
) -> SignInAttempt:
    """Check a username and password. A failure counts towards a lock that grows with each
    further failure; success clears it and upgrades a hash made with older parameters."""
    now = now or utcnow()
    user = find_user(session, username)
    if user is None or user.password_hash is None:
        return _no_such_account(session, username, password, now)
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        # Not even checked: a guess during the lock teaches nothing.
        wait = int((locked_until - now).total_seconds()) + 1
        return SignInAttempt(None, _locked_message(wait), wait)
    try:
        HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        # Written only after the (slow) check, so a stream of guesses never holds SQLite's
        # write lock while hashing.
        _forget_old_failures(session, username, now)
        last = _aware(user.last_failed_at)
        if last is not None and last < now - FORGET_FAILURES_AFTER:
            user.failed_attempts = 0  # a day without failures starts afresh (as unknown names)
        user.failed_attempts += 1
        user.last_failed_at = now
        wait = lock_seconds(user.failed_attempts)
        user.locked_until = now + timedelta(seconds=wait) if wait else None
        session.add(user)
        if not wait:
            return SignInAttempt(None, NO_MATCH)
        audit.record(
            session,
            Actor(username=user.username, role=user.role),
            "account locked",
            "useraccount",
            user.id,
            failed_attempts=user.failed_attempts,
            seconds=wait,
        )
        return SignInAttempt(None, _locked_message(wait), wait)
    if not user.active:
        return SignInAttempt(None, "This account has been switched off. Ask an administrator.")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_sign_in_at = now
    session.add(user)
    audit.record(session, actor_for(session, user), "sign in", "useraccount", user.id)
    return SignInAttempt(user)


# Failed sign-ins are forgotten after a day without one, for accounts and unknown names
# alike (the same rule for both, so the answers cannot tell them apart); this also keeps
# the table of unknown names small.
FORGET_FAILURES_AFTER = timedelta(days=1)


def _forget_old_failures(session: Session, username: str, now: datetime) -> None:
    """Unknown usernames that last failed more than a day ago are forgotten at the next
    failed sign-in (the one being tried is reset in place instead, see _no_such_account)."""
    session.exec(
        delete(SignInFailure).where(
            col(SignInFailure.last_failed_at) < now - FORGET_FAILURES_AFTER,
            col(SignInFailure.username) != _normalise_username(username)[:200],
        )
    )


def _no_such_account(
    session: Session, username: str, password: str, now: datetime
) -> SignInAttempt:
    """An unknown username (or an account without a password) gets exactly what a real
    account gets: the same message, the same lock after the same number of tries, and the
    same time spent checking (a locked one is not checked; otherwise a dummy hash is)."""
    key = _normalise_username(username)[:200]
    failure = session.get(SignInFailure, key)
    locked_until = _aware(failure.locked_until) if failure else None
    if locked_until is not None and locked_until > now:
        wait = int((locked_until - now).total_seconds()) + 1
        return SignInAttempt(None, _locked_message(wait), wait)
    with contextlib.suppress(VerificationError):
        HASHER.verify(_DUMMY_HASH, password)
    _forget_old_failures(session, username, now)
    forget_before = now - FORGET_FAILURES_AFTER
    if failure is None:
        failure = SignInFailure(username=key)
    elif _aware(failure.last_failed_at) < forget_before:
        failure.failed_attempts = 0  # a day without failures starts afresh
    failure.failed_attempts += 1
    failure.last_failed_at = now
    wait = lock_seconds(failure.failed_attempts)
    failure.locked_until = now + timedelta(seconds=wait) if wait else None
    try:
        with session.begin_nested():  # two tabs failing with the same new name at once
            session.add(failure)
    except IntegrityError:
        pass  # the other one was counted; this one is answered all the same
    if not wait:
        return SignInAttempt(None, NO_MATCH)
    return SignInAttempt(None, _locked_message(wait), wait)


def _locked_message(wait: int) -> str:
    span = f"{(wait + 59) // 60} minutes" if wait >= 60 else f"{wait} seconds"
    return (
        f"Too many wrong passwords. This account is locked for {span}; try again then, "
        "or ask an administrator to unlock it."
    )


def oidc_user(session: Session, email: str, email_verified: bool | None = None) -> UserAccount:
    """The account for someone the identity provider vouched for, matched by email. A
    provider that says the address is NOT verified is not trusted with it."""
    email = email.strip().lower()
    if not email:
        raise SignInRefused("Your identity provider did not share an email address.")
    if email_verified is False:
        raise SignInRefused(
            f"Your identity provider has not verified the address {email}, so Tandem cannot "
            "match it to an account. Verify it with the provider, or ask an administrator."
        )
    user = session.exec(
        select(UserAccount).where((UserAccount.email == email) | (UserAccount.username == email))
    ).first()
    if user is None:
        raise SignInRefused(
            f"You signed in as {email}, but Tandem has no account for that address. "
            "Ask an administrator to add one."
        )
    if not user.active:
        raise SignInRefused("This account has been switched off. Ask an administrator.")
    user.last_sign_in_at = utcnow()
    session.add(user)
    audit.record(session, actor_for(session, user), "sign in (OIDC)", "useraccount", user.id)
    return user


def signed_in_actor(session: Session, user_id: int) -> Actor | None:
    """Re-read on every page run, so a switched-off account or changed role applies at once."""
    user = session.get(UserAccount, user_id)
    if user is None or not user.active:
        return None
    return actor_for(session, user)


def end_user_sessions(
    session: Session, user_id: int, because: str, now: datetime | None = None
) -> int:
    """End every sign-in session of an account at once, in every browser and tab (the next
    page any of them runs asks for a sign-in again). Returns how many were ended."""
    result = session.exec(
        update(SignInSession)
        .where(col(SignInSession.user_id) == user_id, col(SignInSession.ended_at).is_(None))
        .values(ended_at=now or utcnow(), ended_because=because[:40])
    )
    return int(result.rowcount or 0)


def store_new_password(session: Session, user: UserAccount, password: str) -> None:
    """The one way a password changes (set by an administrator, by its owner, or through a
    reset link): the same rules, the lock cleared, every sign-in session and every
    outstanding reset link ended."""
    problems = check_password_rules(password, user.username)
    if problems:
        raise Invalid("The password was not changed.", problems)
    now = utcnow()
    user.password_hash = hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    end_user_sessions(session, stored_id(user.id), "new password", now)
    session.exec(
        update(PasswordReset)
        .where(col(PasswordReset.user_id) == user.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )


def set_password(session: Session, actor: Actor, user_id: int, password: str) -> None:
    """An administrator sets anyone's password; anyone may set their own. Every sign-in
    session of the account ends (the person signs in again with the new one)."""
    if actor.user_id != user_id:
        require_admin(actor)
    user = get_user(session, user_id)
    store_new_password(session, user, password)
    audit.record(session, actor, "set password", "useraccount", user.id)


def change_own_password(
    session: Session, actor: Actor, current_password: str, new_password: str
) -> None:
    if actor.user_id is None:
        raise PermissionDenied("Only a signed-in user can change their password.")
    user = get_user(session, actor.user_id)
    try:
        HASHER.verify(user.password_hash or _DUMMY_HASH, current_password)
    except (VerificationError, InvalidHashError):
        raise Invalid("Your current password is not right; nothing was changed.") from None
    set_password(session, actor, stored_id(user.id), new_password)


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    council_ids: list[int] | None = None,
    person_id: int | None = None,
    display_name: str | None = None,
    email: str | None = None,
) -> UserAccount:
    """Change role, councils, person link or switch an account on/off. The last active
    administrator cannot be switched off or demoted, so nobody is locked out for good."""
    require_admin(actor)
    user = get_user(session, user_id)
    new_role = role if role is not None else user.role
    new_active = active if active is not None else user.active
    if council_ids is None:
        council_ids = (
            sorted(council_ids_for(session, stored_id(user.id)))
            if new_role == Role.facilitator
            else []
        )
    new_person = person_id if person_id is not None else user.person_id
    if new_role != Role.principal:
        new_person = None
    problems: list[str] = []
    council_ids = sorted(set(council_ids))
    _validate(session, user.username, new_role, None, council_ids, new_person, problems)
    if display_name is not None:
        display_name = _display_name(display_name, problems)
    if user.role == Role.admin and user.active and (new_role != Role.admin or not new_active):
        others = session.exec(
            select(func.count())
            .select_from(UserAccount)
            .where(UserAccount.role == Role.admin, UserAccount.active, UserAccount.id != user.id)
        ).one()
        if others == 0:
            problems.append("This is the only active administrator; add another one first.")
    if problems:
        raise Invalid("The account was not changed.", problems)
    before = {"role": user.role, "active": user.active}
    user.role = new_role
    user.active = new_active
    user.person_id = new_person
    if display_name is not None:
        user.display_name = display_name
    if email is not None:
        user.email = email.strip().lower()
    session.add(user)
    if before["active"] and not new_active:
        end_user_sessions(session, stored_id(user.id), "account switched off")
    existing = council_ids_for(session, stored_id(user.id))
    wanted = set(council_ids) if new_role == Role.facilitator else set()
    for council_id in existing - wanted:
        link = session.get(FacilitatorCouncil, (user.id, council_id))
        session.delete(link)
    for council_id in wanted - existing:
        session.add(FacilitatorCouncil(user_id=stored_id(user.id), council_id=council_id))
    audit.record(
        session,
        actor,
        "update user",
        "useraccount",
        user.id,
        before=before,
        after={"role": new_role, "active": new_active},
        councils=sorted(wanted),
    )
    return user


def unlock_user(session: Session, actor: Actor, user_id: int) -> None:
    require_admin(actor)
    user = get_user(session, user_id)
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    audit.record(session, actor, "unlock user", "useraccount", user.id)


def person_for_email(session: Session, email: str, council_id: int | None = None) -> Person:
    """The Person a principal account links to; the council is needed when the same email
    is on more than one council's list."""
    query = select(Person).where(Person.email == email.strip().lower())
    if council_id is not None:
        query = query.where(Person.council_id == council_id)
    people = session.exec(query).all()
    if not people:
        raise NotFound(f"Nobody with the email {email} is on a council's list of people.")
    if len(people) > 1:
        raise Invalid(f"{email} is on more than one council's list; say which council.")
    return people[0]


def users_table(session: Session, actor: Actor) -> list[dict[str, object]]:
    """Accounts as rows for the users page and `tandem user list` (never the hash)."""
    users = list_users(session, actor)
    councils = {c.id: c.name for c in session.exec(select(Council)).all()}
    links = session.exec(select(FacilitatorCouncil)).all()
    people = {
        p.id: p.full_name
        for p in session.exec(
            select(Person).where(col(Person.id).in_([u.person_id for u in users if u.person_id]))
        ).all()
    }
    now = utcnow()
    rows: list[dict[str, object]] = []
    for u in users:
        locked = _aware(u.locked_until)
        rows.append(
            {
                "id": u.id,
                "username": u.username,
                "name": u.display_name,
                "role": u.role,
                "councils": ", ".join(
                    sorted(councils[link.council_id] for link in links if link.user_id == u.id)
                ),
                "person": people.get(u.person_id, "") if u.person_id else "",
                "active": u.active,
                "locked": bool(locked and locked > now),
                "password": u.password_hash is not None,
                "last_sign_in_at": u.last_sign_in_at,
            }
        )
    return rows


def add_account(
    session: Session,
    actor: Actor,
    username: str,
    role: str,
    password: str | None = None,
    *,
    display_name: str = "",
    email: str = "",
    council_ids: list[int] | None = None,
    person_email: str = "",
    person_council_id: int | None = None,
    first_admin: bool = False,
) -> UserAccount:
    """`create_user` for the users page and `tandem user add`: a principal is named by the
    email on their council's list of people rather than by an id."""
    person_id = None
    if person_email.strip():
        if not first_admin:
            require_admin(actor)
        person_id = person_for_email(session, person_email, person_council_id).id
    return create_user(
        session,
        actor,
        username,
        role,
        password,
        display_name=display_name,
        email=email,
        council_ids=council_ids,
        person_id=person_id,
        first_admin=first_admin,
    )


def link_person(
    session: Session, actor: Actor, user_id: int, person_email: str, council_id: int | None = None
) -> UserAccount:
    """Link a principal's account to their person record, found by email."""
    require_admin(actor)
    person = person_for_email(session, person_email, council_id)
    return update_user(session, actor, user_id, person_id=person.id)
