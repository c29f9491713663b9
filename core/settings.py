"""The one place Tandem reads its settings from the environment.

`load_settings()` reads them afresh on every call (nothing is cached at import), so a test or
a command that changes the environment is seen at once. Everything else asks here rather
than reading `os.environ` itself.

- TANDEM_DATABASE_URL: any SQLAlchemy URL (SQLite or PostgreSQL); empty means the SQLite
  file beside the app.
- TANDEM_BASE_URL: the address raters' links start with.
- TANDEM_SMTP_HOST, _PORT, _USER, _PASSWORD, _TLS (starttls | ssl | none), _SENDER: the
  email server; no host means no email (the mail merge is the way then).
- TANDEM_REMINDER_CHECK_SECONDS: how often each app process checks the cycles' reminder
  schedules (default 600); "off" leaves it to cron (`tandem reminders run-due`).
- TANDEM_ORGANISATION, TANDEM_ACCESSIBILITY_CONTACT: who publishes the accessibility
  statement and the email address it gives for another format or a problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BASE_URL = "http://localhost:8501"
DEFAULT_REMINDER_CHECK_SECONDS = 600
SMTP_TLS_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpEnv:
    """The TANDEM_SMTP_* settings as written (checked by core.mail.SmtpSettings)."""

    host: str = ""
    port: str = ""  # as written; core.mail turns it into a number
    user: str = ""
    password: str = ""
    tls: str = "starttls"
    sender: str = ""


@dataclass(frozen=True)
class Settings:
    database_url: str = ""  # "" : the default SQLite file (core.db)
    base_url: str = DEFAULT_BASE_URL  # without a trailing slash
    smtp: SmtpEnv = SmtpEnv()
    reminder_check: str = str(DEFAULT_REMINDER_CHECK_SECONDS)  # as written: seconds or "off"
    organisation: str = ""  # "" : the only council in the database, if there is one
    accessibility_contact: str = ""  # "" : the email sender

    @property
    def reminder_check_seconds(self) -> int | None:
        """Seconds between the app's checks of the reminder schedules; None when "off".
        ValueError for anything else, which the caller names."""
        if self.reminder_check.lower() in ("off", "0", "no", "false", "none"):
            return None
        seconds = int(self.reminder_check)
        if seconds < 1:
            raise ValueError(self.reminder_check)
        return seconds


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Tandem's settings as the environment (or `environ`) has them now."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return env.get(name, default).strip()

    return Settings(
        database_url=get("TANDEM_DATABASE_URL"),
        base_url=(get("TANDEM_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        smtp=SmtpEnv(
            host=get("TANDEM_SMTP_HOST"),
            port=get("TANDEM_SMTP_PORT"),
            # A password or user name may begin or end with a space: kept as written.
            user=env.get("TANDEM_SMTP_USER", ""),
            password=env.get("TANDEM_SMTP_PASSWORD", ""),
            tls=get("TANDEM_SMTP_TLS", "starttls").lower() or "starttls",
            sender=get("TANDEM_SMTP_SENDER"),
        ),
        reminder_check=get("TANDEM_REMINDER_CHECK_SECONDS") or str(DEFAULT_REMINDER_CHECK_SECONDS),
        organisation=get("TANDEM_ORGANISATION"),
        accessibility_contact=get("TANDEM_ACCESSIBILITY_CONTACT"),
    )
