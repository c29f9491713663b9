"""A real SMTP server for the email tests (aiosmtpd on a free local port), and the
settings that point Tandem at it. Not in conftest.py, for the reason given in
tests/signing_in.py."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.policy import default as default_policy

from aiosmtpd.controller import Controller

BASE_URL = "https://tandem.example.gov.uk"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body(message: email.message.EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


@contextmanager
def running_inbox(monkeypatch) -> Iterator[Inbox]:
    """Start the server and set TANDEM_SMTP_* (and the base URL) for the test."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {
        "TANDEM_SMTP_HOST": "127.0.0.1",
        "TANDEM_SMTP_PORT": str(port),
        "TANDEM_SMTP_TLS": "none",
        "TANDEM_SMTP_SENDER": "feedback@llanfair.example.gov.uk",
        "TANDEM_BASE_URL": BASE_URL,
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield inbox
    finally:
        controller.stop()
