"""Telling principals their report is ready: one email to each principal of each pairing of
a cycle, sent once the publication has committed (so an email never announces a report that
was rolled back, and a failure to send never undoes the publication).

The email holds nothing from the report — no score, no comment, not even the pairing's
name: only that a report is ready, for which cycle, and a link to sign in (which opens the
report after sign-in). A staff member who publishes is told how many were sent and which
could not be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from core import audit, mail
from core.db import select_row
from core.errors import TandemError
from core.models import Council
from core.roles import Actor
from core.settings import load_settings
from feedback.access import published_to_principals, require_cycle_manager
from feedback.models import CyclePairing, Pairing, Person

SUBJECT = "Your Tandem feedback report is ready"


@dataclass(frozen=True)
class ReadyLetter:
    name: str
    email: str
    link: str


@dataclass
class ReadyMail:
    """What became of the emails: sent, failed (who and why), or none sent and why not."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)
    not_sent: str = ""  # why nothing was sent (no email server, no connection)
    principals: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_sent

    def summary(self) -> str:
        if self.not_sent:
            return (
                f"The results are published, but the {self.principals} principals were not "
                f"emailed: {self.not_sent} Tell them their report is ready yourself."
            )
        plural = "s" if self.sent != 1 else ""
        text = f"{self.sent} principal{plural} emailed that their report is ready."
        if self.failed:
            text += (
                f" {len(self.failed)} could not be emailed ({'; '.join(self.failed)}); "
                "tell them yourself. The results are published all the same."
            )
        return text


def report_link(cycle_id: int, pairing_id: int) -> str:
    query = urlencode({"cycle": cycle_id, "pairing": pairing_id})
    return f"{load_settings().base_url}/report?{query}"


def ready_letters(session: Session, actor: Actor, cycle_id: int) -> list[ReadyLetter]:
    """One letter per principal of the cycle's pairings (once each, even in two pairings)."""
    cycle = require_cycle_manager(session, actor, cycle_id)
    if not published_to_principals(cycle):
        return []
    member, officer = aliased(Person), aliased(Person)
    rows = session.exec(
        select_row(
            col(Pairing.id),
            col(member.full_name),
            col(member.email),
            col(officer.full_name),
            col(officer.email),
        )
        .join(CyclePairing, col(CyclePairing.pairing_id) == col(Pairing.id))
        .join(member, col(member.id) == col(Pairing.member_id))
        .join(officer, col(officer.id) == col(Pairing.officer_id))
        .where(CyclePairing.cycle_id == cycle_id)
        .order_by(col(Pairing.id))
    ).all()
    letters: dict[str, ReadyLetter] = {}
    for pairing_id, m_name, m_email, o_name, o_email in rows:
        for name, email in ((m_name, m_email), (o_name, o_email)):
            if email and email not in letters:
                letters[email] = ReadyLetter(name, email, report_link(cycle_id, int(pairing_id)))
    return list(letters.values())


def ready_body(letter: ReadyLetter, cycle_name: str, council: str) -> str:
    return (
        f"Dear {letter.name},\n\n"
        f"Your leadership pairing's feedback report from {council}'s {cycle_name} is ready "
        "to read in Tandem.\n\n"
        f"Sign in to read it:\n{letter.link}\n\n"
        "The report is only in Tandem: this email holds none of it. If you have forgotten "
        "your password, choose “Forgot your password?” on the sign-in page.\n"
    )


def notify_report_ready(
    session: Session, actor: Actor, cycle_id: int, settings: mail.SmtpSettings | None = None
) -> ReadyMail:
    """Email every principal of a published cycle that their report is ready. Run after
    the publication has committed; never raises for a failure to send (the result says)."""
    cycle = require_cycle_manager(session, actor, cycle_id)
    letters = ready_letters(session, actor, cycle_id)
    result = ReadyMail(principals=len(letters))
    if not letters:
        return result
    council = session.get(Council, cycle.council_id)
    council_name = council.name if council else "your council"
    try:
        chosen = settings or mail.SmtpSettings.from_env()
        if chosen is None:
            result.not_sent = "no email server is set up (TANDEM_SMTP_HOST)."
        else:
            with mail.outbox(chosen) as out:
                for letter in letters:
                    body = ready_body(letter, cycle.name, council_name)
                    problem = out.send(council_name, (letter.name, letter.email), SUBJECT, body)
                    if problem:
                        result.failed.append(f"{letter.name} <{letter.email}>: {problem}")
                    else:
                        result.sent += 1
    except TandemError as exc:  # settings wrong, or no connection to the server
        result.not_sent = str(exc)
    audit.record(
        session,
        actor,
        "report ready emails",
        "cycle",
        cycle.id,
        cycle.council_id,
        sent=result.sent,
        failed=len(result.failed),
        not_sent=bool(result.not_sent),
    )
    return result
