"""Sign-in that behaves like a website's, in Chromium: a refresh and a new tab stay signed
in, sign-out ends the sign-in in every tab (and the server refuses the old cookie), a deep
link opened while signed out returns to that page after sign-in, and a forgotten password
is reset through an emailed one-time link (a real SMTP server, a real Streamlit server)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_kit import goto, screenshot, wait_for_app
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from core.db import make_engine, session_scope
from core.roles import SYSTEM
from feedback.models import Cycle, Pairing, Person

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "Kingsmere-principal-2026"
NEW_PASSWORD = "lighthouse marmalade kestrel"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Principal:
    username: str
    name: str
    pairing_id: int


def _principal(db_url: str, email: str) -> Principal:
    """A principal's account (created once per test run) for the demo person with `email`."""
    from governance.accounts import create_user, find_user

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            person = s.exec(select(Person).where(Person.email == email)).one()
            pairing = s.exec(
                select(Pairing).where(
                    (Pairing.member_id == person.id) | (Pairing.officer_id == person.id)
                )
            ).first()
            if find_user(s, email) is None:
                create_user(
                    s,
                    SYSTEM,
                    email,
                    "principal",
                    PASSWORD,
                    email=email,
                    display_name=person.full_name,
                    person_id=person.id,
                )
            return Principal(email, person.full_name, pairing.id)
    finally:
        engine.dispose()


def _sign_in_form(page: Page, username: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)


def _main(page: Page) -> str:
    return page.inner_text('[data-testid="stMain"]')


def _signed_in_home(page: Page, who: Principal) -> None:
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_have_count(0)
    expect(page.get_by_text(who.name).first).to_be_visible()
    expect(page.get_by_text("Your report is ready").first).to_be_visible()


def test_a_refresh_and_a_new_tab_stay_signed_in_and_sign_out_ends_every_tab(
    served, browser: Browser
) -> None:
    who = _principal(served.db_url, "margaret.oduya@kingsmere.gov.uk")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    goto(first, served.url)
    _sign_in_form(first, who.username, PASSWORD)
    _signed_in_home(first, who)
    assert "tandem demo" not in _main(first)
    link = first.get_by_role("link", name="Read your report").first
    expect(link).to_be_visible()
    screenshot(first, "principal-home")

    cookie = next(c for c in context.cookies() if c["name"] == "tandem_session")
    assert cookie["sameSite"] == "Strict" and len(cookie["value"]) >= 40
    assert cookie["expires"] > time.time() + 13 * 86400  # lasts 14 days

    first.reload()
    wait_for_app(first)
    _signed_in_home(first, who)  # a refresh keeps the sign-in

    second = context.new_page()
    goto(second, served.url)
    _signed_in_home(second, who)  # so does a new tab

    first.get_by_role("button", name="Sign out").click()
    wait_for_app(first)
    expect(first.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    expect(first.get_by_text("You have signed out.")).to_be_visible()
    assert not [c for c in context.cookies() if c["name"] == "tandem_session"]

    # The other tab is signed out at its next click, and says why.
    second.get_by_test_id("stSidebarNav").get_by_role("link", name="Pairing report").click()
    wait_for_app(second)
    expect(second.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    expect(second.get_by_text("You signed out, in this tab or another one.")).to_be_visible()
    assert who.name not in _main(second)

    # A copy of the old cookie signs nobody in: the server ended the session.
    thief = browser.new_context()
    thief.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    stolen = thief.new_page()
    goto(stolen, served.url)
    expect(stolen.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    assert who.name not in _main(stolen)
    thief.close()
    context.close()


def test_a_deep_link_returns_to_its_page_after_sign_in(served, page: Page) -> None:
    who = _principal(served.db_url, "david.ashworth@kingsmere.gov.uk")
    engine = make_engine(served.db_url)
    with session_scope(engine) as s:
        older = s.exec(select(Cycle).where(Cycle.name == "Annual review 2025")).one().id
    engine.dispose()
    goto(page, f"{served.url}/report?cycle={older}&pairing={who.pairing_id}")
    assert "Page not found" not in page.inner_text("body")
    expect(page.get_by_role("heading", name="Pairing report")).to_have_count(0)
    _sign_in_form(page, who.username, PASSWORD)
    expect(page.get_by_role("heading", name="Pairing report", level=1)).to_be_visible()
    wait_for_app(page)
    assert re.search(rf"/report\?cycle={older}&pairing={who.pairing_id}$", page.url), page.url
    # The cycle and the pairing the link named are the ones shown.
    expect(page.get_by_role("combobox", name="Cycle")).to_have_value(
        re.compile("Annual review 2025")
    )
    expect(page.get_by_role("combobox", name="Pairing")).to_have_value(re.compile(who.name))
    assert "Page not found" not in page.inner_text("body")


# --- password reset with a real SMTP server -------------------------------------------------


@dataclass
class MailedServer:
    url: str
    inbox: object


@pytest.fixture
def mailed_server(served, tmp_path: Path) -> Iterator[MailedServer]:
    """A second `streamlit run` on the demo database whose email goes to a real local SMTP
    server (tests/mail_server.py) in this process."""
    from aiosmtpd.controller import Controller
    from mail_server import Inbox, free_port

    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": served.db_url,
        "TANDEM_BASE_URL": url,
        "TANDEM_SMTP_HOST": "127.0.0.1",
        "TANDEM_SMTP_PORT": str(smtp_port),
        "TANDEM_SMTP_TLS": "none",
        "TANDEM_SMTP_SENDER": "feedback@kingsmere.example.gov.uk",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    log_path = tmp_path / "mailed.log"
    streamlit = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "streamlit"
    if not streamlit.exists():
        import sys

        streamlit = Path(sys.executable).parent / "streamlit"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                str(streamlit),
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            import urllib.request

            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        pytest.fail(f"streamlit did not start:\n{log_path.read_text()}")
                    time.sleep(0.25)
            yield MailedServer(url, inbox)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            controller.stop()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]


def _ask_for_link(page: Page, address: str) -> str:
    page.get_by_text("Forgot your password?").click()
    page.get_by_label("Your email address").fill(address)
    page.get_by_role("button", name="Email me a link").click()
    wait_for_app(page)
    answer = page.get_by_text("If an account has that address")
    expect(answer).to_be_visible()
    return answer.inner_text()


def _wait_for_mail(inbox, address: str, count: int = 1, timeout: float = 15) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = inbox.to(address)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    pytest.fail(f"no email reached {address} within {timeout} s")


def test_a_forgotten_password_is_reset_by_an_emailed_one_time_link(
    mailed_server: MailedServer, served, browser: Browser
) -> None:
    from mail_server import body

    who = _principal(served.db_url, "gareth.pryce@kingsmere.gov.uk")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    goto(page, mailed_server.url)

    # Enumeration-safe: an address nobody has gets the very same answer, and no email.
    unknown = _ask_for_link(page, "nobody.here@kingsmere.gov.uk")
    goto(page, mailed_server.url)
    known = _ask_for_link(page, who.username.upper())
    assert unknown == known
    letter = _wait_for_mail(mailed_server.inbox, who.username)[0]
    assert not mailed_server.inbox.to("nobody.here@kingsmere.gov.uk")
    found = re.search(r"(http://127\.0\.0\.1:\d+/\?reset=[\w-]+)", body(letter))
    assert found, body(letter)
    link = found.group(1)

    goto(page, link)
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    page.get_by_label("New password (at least 12 characters)").fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    wait_for_app(page)
    expect(page.get_by_text("The password was not changed.")).to_be_visible()
    page.get_by_label("New password (at least 12 characters)").fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    assert "reset=" not in page.url

    _sign_in_form(page, who.username, PASSWORD)  # the old password no longer works
    expect(page.get_by_text("do not match an account")).to_be_visible()
    _sign_in_form(page, who.username, NEW_PASSWORD)
    _signed_in_home(page, who)

    # The link worked once.
    other = context.new_page()
    goto(other, link)
    expect(other.get_by_text("has expired or has already been used")).to_be_visible()
    context.close()
