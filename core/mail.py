"""Sending email: the server settings, the connection (TLS as configured), plain-text
messages from the council, and a report of what was sent. Invitations, reminders and plan
reminders all send through here; what they say is theirs.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from core.errors import Invalid
from core.settings import SMTP_TLS_MODES, load_settings

DEFAULT_PORTS = {"ssl": 465, "none": 25}  # starttls: 587
# A failure to send one message: the server refused it, the connection dropped, or a name
# the email headers refuse (ValueError: names stored before they were checked for line
# separators). The others are still sent.
SEND_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, smtplib.SMTPException)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    user: str = ""
    password: str = ""
    tls: str = "starttls"  # starttls | ssl | none
    sender: str = ""

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """None when no SMTP server is configured (then the mail merge is the way)."""
        env = load_settings().smtp
        if not env.host:
            return None
        try:
            port = int(env.port) if env.port else DEFAULT_PORTS.get(env.tls, 587)
        except ValueError as exc:
            raise Invalid(f"TANDEM_SMTP_PORT={env.port!r} is not a port number.") from exc
        configured = cls(
            host=env.host,
            port=port,
            user=env.user,
            password=env.password,
            tls=env.tls,
            sender=env.sender,
        )
        configured.check()
        return configured

    def check(self) -> None:
        problems = []
        if self.tls not in SMTP_TLS_MODES:
            problems.append("TANDEM_SMTP_TLS must be starttls, ssl or none.")
        if not self.sender or "@" not in self.sender:
            problems.append("TANDEM_SMTP_SENDER must be the address emails come from.")
        if problems:
            raise Invalid("Email sending is not set up correctly.", problems)

    def connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=30)
            if self.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
        if self.user:
            client.login(self.user, self.password)
        return client


def configured(settings: SmtpSettings | None, no_server: str) -> SmtpSettings:
    """The settings given, else those of the environment, checked; `no_server` is the
    message when no server is configured at all."""
    chosen = settings or SmtpSettings.from_env()
    if chosen is None:
        raise Invalid(no_server)
    chosen.check()
    return chosen


def open_smtp(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection to the email server, or a plain message saying nothing was sent."""
    try:
        return settings.connect()
    except (OSError, smtplib.SMTPException) as exc:
        raise Invalid(
            f"Tandem could not connect to the email server {settings.host}:{settings.port} "
            f"({exc}). Nothing was sent. Check the TANDEM_SMTP_ settings."
        ) from exc


def email_message(
    settings: SmtpSettings, from_name: str, to: tuple[str, str], subject: str, body: str
) -> EmailMessage:
    """A plain-text email from the council (by name) at the configured sender address."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((from_name, settings.sender))
    message["To"] = formataddr(to)
    message["Message-ID"] = make_msgid(domain=settings.sender.split("@")[-1])
    message.set_content(body)
    return message


class Outbox:
    """An open connection: `send` posts one message and says what went wrong, if anything."""

    def __init__(self, settings: SmtpSettings, client: smtplib.SMTP) -> None:
        self.settings = settings
        self._client = client

    def send(self, from_name: str, to: tuple[str, str], subject: str, body: str) -> str | None:
        """None once sent; otherwise why not (the connection stays usable for the rest)."""
        try:
            self._client.send_message(email_message(self.settings, from_name, to, subject, body))
        except SEND_ERRORS as exc:
            return str(exc)
        return None


@contextmanager
def outbox(settings: SmtpSettings) -> Iterator[Outbox]:
    """Connect (or fail with a plain message and nothing sent), and always say goodbye."""
    client = open_smtp(settings)
    try:
        yield Outbox(settings, client)
    finally:
        with suppress(OSError, smtplib.SMTPException):
            client.quit()


@dataclass
class SendReport:
    sent: int = 0
    failed: list[str] = field(default_factory=list)  # "name <email>: reason"
    skipped: int = 0

    def summary(self, kind: str) -> str:
        text = f"{self.sent} {kind}{'s' if self.sent != 1 else ''} sent."
        if self.skipped:
            text += f" {self.skipped} skipped (already sent; tick 'send again' to resend)."
        if self.failed:
            text += f" {len(self.failed)} could not be sent."
        return text
