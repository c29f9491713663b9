"""Sign-in that lasts like a website's, and passwords reset by an emailed one-time link.

**Sessions.** A successful sign-in begins a `SignInSession`: a random token the browser
keeps in a cookie (ui.auth), of which the server stores only a SHA-256 hash. The cookie is
worth nothing without its row, so the server can end it at any moment: sign-out ends this
browser's session (every tab of it), a new password or a switched-off account ends every
session of the account (governance.accounts.end_user_sessions), and `tandem user sessions
USER --end` does so from the command line. A session lasts `SESSION_LIFETIME` at most and
ends sooner after `IDLE_LIMIT` without use.

**Password reset.** "Forgot your password?" takes an address and always gives the same
answer, whether or not an account has it. When one does (active, with a password), a
one-time link valid for `RESET_LIFETIME` is emailed — at most `RESETS_PER_HOUR` an hour
for an account, so the form cannot be used to flood someone's inbox. The link sets a new
password under the usual rules (governance.accounts.store_new_password), which ends every
session and every other outstanding link.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, func, or_, select

from core import audit, mail
from core.errors import Invalid, PermissionDenied
from core.models import PasswordReset, SignInSession, UserAccount, stored_id, utcnow
from core.roles import Actor, is_admin, require_admin
from core.settings import load_settings
from governance.accounts import (
    actor_for,
    end_user_sessions,
    find_user,
    get_user,
    store_new_password,
)

SESSION_LIFETIME = timedelta(days=14)
IDLE_LIMIT = timedelta(days=3)
# Last use is written at most this often, so reading pages does not write on every click.
TOUCH_EVERY = timedelta(minutes=5)
# Sessions are kept this long after they expire (`tandem user sessions` lists them).
KEEP_ENDED = timedelta(days=30)
RESET_LIFETIME = timedelta(hours=1)
RESETS_PER_HOUR = 3
HOW_LONG = (
    "A sign-in lasts 14 days in the browser it was made in (every tab of it, and through a "
    "refresh), and ends sooner after 3 days without use, at sign-out, or when the password "
    "changes."
)
RESET_ANSWER = (
    "If an account has that address, a link to set a new password is on its way to it. The "
    "link works once, for one hour. Nothing arrived? Check the address and your junk mail, "
    "or ask your facilitator."
)
RESET_LINK_REFUSED = (
    "This link to set a new password has expired or has already been used. Ask for a new "
    "one with “Forgot your password?” on the sign-in page."
)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _token_shape(token: object) -> str | None:
    """A token as the browser or the link sent it, or None when it cannot be one."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return token


# --- sessions -------------------------------------------------------------------------------


def begin_session(session: Session, user_id: int, now: datetime | None = None) -> str:
    """A new sign-in session for an account just signed in; returns the token for the
    browser's cookie (it is never stored)."""
    now = now or utcnow()
    # The account's sessions that ended or expired long ago are of no further use.
    session.exec(
        delete(SignInSession).where(
            col(SignInSession.user_id) == user_id,
            col(SignInSession.expires_at) < now - KEEP_ENDED,
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        SignInSession(
            user_id=user_id,
            token_hash=_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return token


@dataclass(frozen=True)
class SessionCheck:
    """Who a browser's token signs in, or why it no longer does (`ended`: words for the
    person; empty when the token was never a session at all)."""

    actor: Actor | None
    ended: str = ""


ENDED_WORDS = {
    "sign out": "You signed out, in this tab or another one.",
    "new password": "Your password was changed, so you have been signed out.",
    "account switched off": (
        "Your account has been switched off, so you have been signed out. Ask an "
        "administrator if you need access."
    ),
    "ended by an administrator": "An administrator ended your sign-in; please sign in again.",
}


def check_session(session: Session, token: object, now: datetime | None = None) -> SessionCheck:
    """The account a browser's session token signs in, re-read on every page run (so a
    switched-off account or a changed role applies at once). Notes the use, at most every
    `TOUCH_EVERY`; an expired, idle or ended session signs nobody in."""
    now = now or utcnow()
    shaped = _token_shape(token)
    if shaped is None:
        return SessionCheck(None)
    row = session.exec(
        select(SignInSession).where(SignInSession.token_hash == _hash(shaped))
    ).first()
    if row is None:
        return SessionCheck(None)
    if row.ended_at is not None:
        return SessionCheck(None, ENDED_WORDS.get(row.ended_because, "You have been signed out."))
    if _aware(row.expires_at) <= now or _aware(row.last_seen_at) + IDLE_LIMIT <= now:
        return SessionCheck(None, "Your sign-in has expired; please sign in again.")
    user = session.get(UserAccount, row.user_id)
    if user is None or not user.active:
        end_user_sessions(session, row.user_id, "account switched off", now)
        return SessionCheck(None, ENDED_WORDS["account switched off"])
    if _aware(row.last_seen_at) + TOUCH_EVERY <= now:
        row.last_seen_at = now
        session.add(row)
    return SessionCheck(actor_for(session, user))


def end_session(session: Session, actor: Actor, token: object) -> None:
    """Sign out: end this browser's session (every tab that shares its cookie)."""
    shaped = _token_shape(token)
    if shaped is not None:
        row = session.exec(
            select(SignInSession).where(SignInSession.token_hash == _hash(shaped))
        ).first()
        if row is not None and row.user_id == actor.user_id and row.ended_at is None:
            row.ended_at = utcnow()
            row.ended_because = "sign out"
            session.add(row)
    if actor.user_id is not None:
        audit.record(session, actor, "sign out", "useraccount", actor.user_id)


@dataclass(frozen=True)
class SessionRow:
    started: datetime
    last_seen: datetime
    expires: datetime
    ended: datetime | None
    ended_because: str


def list_sessions(session: Session, actor: Actor, username: str) -> list[SessionRow]:
    """An account's sign-in sessions, newest first (administrators, or the account itself)."""
    user = _account(session, actor, username)
    rows = session.exec(
        select(SignInSession)
        .where(SignInSession.user_id == user.id)
        .order_by(col(SignInSession.created_at).desc())
    ).all()
    return [
        SessionRow(
            _aware(r.created_at),
            _aware(r.last_seen_at),
            _aware(r.expires_at),
            _aware(r.ended_at) if r.ended_at else None,
            r.ended_because,
        )
        for r in rows
    ]


def end_all_sessions(session: Session, actor: Actor, username: str) -> int:
    """End every sign-in session of an account (administrators, or the account itself):
    every browser signed in as it asks for a sign-in again at its next page."""
    user = _account(session, actor, username)
    because = "sign out" if actor.user_id == user.id else "ended by an administrator"
    ended = end_user_sessions(session, stored_id(user.id), because)
    audit.record(session, actor, "end sessions", "useraccount", user.id, sessions=ended)
    return ended


def _account(session: Session, actor: Actor, username: str) -> UserAccount:
    """The account named, for an administrator or the account itself (only administrators
    learn whether another name exists)."""
    user = find_user(session, username)
    if user is not None and actor.user_id is not None and actor.user_id == user.id:
        return user
    if not is_admin(actor):
        raise PermissionDenied("You can only see and end your own sign-ins.")
    if user is None:
        raise Invalid(f"There is no account called '{username}'.")
    return user


# --- password reset -------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetLetter:
    """A reset link to email once the request's transaction has committed."""

    name: str
    email: str
    link: str


def reset_link(token: str) -> str:
    return f"{load_settings().base_url}/?reset={token}"


def _new_reset(session: Session, user: UserAccount, now: datetime) -> str:
    session.exec(  # spent and expired links of the account are of no further use
        delete(PasswordReset).where(
            col(PasswordReset.user_id) == user.id,
            col(PasswordReset.expires_at) < now - timedelta(days=1),
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            user_id=stored_id(user.id),
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + RESET_LIFETIME,
        )
    )
    session.flush()
    return token


def _address_of(user: UserAccount) -> str:
    return user.email or (user.username if "@" in user.username else "")


def request_password_reset(
    session: Session, address: str, now: datetime | None = None
) -> list[ResetLetter]:
    """ "Forgot your password?": the letters to send for this address (none when no active
    password account has it, or its hourly allowance is used up). The person is always
    told the same thing (`RESET_ANSWER`), whatever this returns."""
    now = now or utcnow()
    wanted = address.strip().lower()
    if not wanted or "@" not in wanted or len(wanted) > 320:
        return []
    users = session.exec(
        select(UserAccount).where(
            or_(UserAccount.email == wanted, UserAccount.username == wanted),
            col(UserAccount.active),
            col(UserAccount.password_hash).is_not(None),
        )
    ).all()
    letters = []
    for user in users:
        recent = session.exec(
            select(func.count())
            .select_from(PasswordReset)
            .where(
                PasswordReset.user_id == user.id,
                col(PasswordReset.created_at) > now - timedelta(hours=1),
            )
        ).one()
        to = _address_of(user)
        if recent >= RESETS_PER_HOUR or not to:
            continue
        token = _new_reset(session, user, now)
        audit.record(
            session,
            Actor(username=user.username, role=user.role),
            "password reset requested",
            "useraccount",
            user.id,
        )
        letters.append(ResetLetter(user.display_name or user.username, to, reset_link(token)))
    return letters


def issue_reset_link(session: Session, actor: Actor, username: str) -> str:
    """An administrator's one-time reset link for an account (to pass on by hand when
    Tandem sends no email). Works once, for `RESET_LIFETIME`."""
    require_admin(actor)
    user = find_user(session, username)
    if user is None:
        raise Invalid(f"There is no account called '{username}'.")
    if not user.active:
        raise Invalid("This account is switched off; switch it on first.")
    token = _new_reset(session, user, utcnow())
    audit.record(session, actor, "password reset link issued", "useraccount", user.id)
    return reset_link(token)


def _valid_reset(session: Session, token: object, now: datetime) -> PasswordReset:
    shaped = _token_shape(token)
    row = (
        session.exec(select(PasswordReset).where(PasswordReset.token_hash == _hash(shaped))).first()
        if shaped
        else None
    )
    if row is None or row.used_at is not None or _aware(row.expires_at) <= now:
        raise Invalid(RESET_LINK_REFUSED)
    user = get_user(session, row.user_id)
    if not user.active:
        raise Invalid(RESET_LINK_REFUSED)
    return row


def reset_account_name(session: Session, token: object, now: datetime | None = None) -> str:
    """The username a reset link is for (shown above the form), or Invalid in words when
    the link has expired or been used."""
    row = _valid_reset(session, token, now or utcnow())
    return get_user(session, row.user_id).username


def reset_password(
    session: Session, token: object, new_password: str, now: datetime | None = None
) -> UserAccount:
    """Set a new password through a reset link: once only, before it expires, under the
    same rules as any password. Every sign-in session of the account ends."""
    row = _valid_reset(session, token, now or utcnow())
    user = get_user(session, row.user_id)
    store_new_password(session, user, new_password)  # marks this link (and others) used
    audit.record(session, actor_for(session, user), "password reset", "useraccount", user.id)
    return user


RESET_SUBJECT = "Set a new password for Tandem"


def reset_body(letter: ResetLetter) -> str:
    minutes = int(RESET_LIFETIME.total_seconds() // 60)
    return (
        f"Dear {letter.name},\n\n"
        "Someone (we hope you) asked to set a new password for your Tandem account. To "
        f"choose one, open this link within {minutes} minutes:\n\n{letter.link}\n\n"
        "The link works once. If you did not ask, ignore this email: your password stays "
        "as it is.\n"
    )


def send_reset_letters(
    letters: list[ResetLetter], settings: mail.SmtpSettings | None = None
) -> mail.SendReport:
    """Email reset links (after the request has committed). Without an email server
    nothing is sent; the person is told the same thing either way."""
    report = mail.SendReport()
    if not letters:
        return report
    chosen = settings or mail.SmtpSettings.from_env()
    if chosen is None:
        report.skipped = len(letters)
        return report
    with mail.outbox(chosen) as out:
        for letter in letters:
            problem = out.send(
                "Tandem", (letter.name, letter.email), RESET_SUBJECT, reset_body(letter)
            )
            if problem:
                report.failed.append(f"{letter.email}: {problem}")
            else:
                report.sent += 1
    return report
