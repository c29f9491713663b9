"""Tandem in a real browser: the demo council served by `streamlit run` and driven with
Playwright through Debian's Chromium (browser downloads are not possible here).

One server and one browser per test run. Every browser test is in the xdist group
"browser", so `pytest -n 2 --dist loadgroup` runs them all in one worker, one after the other.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlmodel import select

from core.db import make_engine, session_scope
from core.models import Council
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.models import Invitation, Person
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.people import list_pairings

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
OPEN_CYCLE = "Interim check-in"
# Raters of the open cycle: each browser test takes its own, so tests never share a form.
RATERS = {
    "rater": "yusuf.ali@cvs.example.org",
    "phone": "eleanor.shaw@chamber.example.org",
    "screenshot": "miriam.cole@icb.example.org",
    "offline": "alan.barker@police.example.org",
    "keyboard": "marcus.webb@housing.example.org",
}
STAFF_PASSWORD = "Kingsmere-browser-test-2026"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep `--dist loadgroup` working. pytest-xdist 3.8 groups tests by suffixing each
    item's id with "@group", but it writes `item._nodeid`, which pytest 9 no longer reads
    (ids live in `item._id`), so the browser tests were spread over both workers, each
    starting its own server. Tag them here, the same way, unless xdist already did."""
    if not config.getoption("loadgroup", default=False):
        return
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        if not names or "@" in item.nodeid.rsplit("::", 1)[-1]:
            continue
        tagged = f"{item.nodeid}@{'_'.join(sorted(names))}"
        if hasattr(item, "_id"):  # pytest >= 9
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(tagged)
        else:
            item._nodeid = tagged


def chromium_path() -> str:
    found = os.environ.get("TANDEM_CHROMIUM") or shutil.which("chromium") or ""
    if not found:
        pytest.fail("Chromium is not installed: run `make test` (scripts/test-setup.sh adds it).")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    db_url: str
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # role -> username
    password: str = STAFF_PASSWORD
    log: Path | None = None

    def link(self, who: str) -> str:
        return f"{self.url}/?t={self.tokens[who]}"


def _open_cycle_with_links(db_url: str) -> dict[str, str]:
    """A Kingsmere cycle that is open (the demo's are published), with one link per rater."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            council = s.exec(
                select(Council).where(Council.name == "Kingsmere Borough Council")
            ).one()
            pairing = next(p for p in list_pairings(s, council.id) if p.kind.startswith("leader"))
            today = date.today()
            cycle = create_cycle(
                s, SYSTEM, council.id, OPEN_CYCLE, today, today + timedelta(days=28)
            )
            add_pairing_to_cycle(s, SYSTEM, cycle.id, pairing.id)
            tokens = {}
            for email in RATERS.values():
                person = s.exec(
                    select(Person).where(Person.council_id == council.id, Person.email == email)
                ).one()
                nominate_rater(s, SYSTEM, cycle.id, pairing.id, person.id, "partners")
            set_cycle_status(s, SYSTEM, cycle.id, "open")
            for who, email in RATERS.items():
                invitation = s.exec(
                    select(Invitation)
                    .join(Person, Person.id == Invitation.rater_id)
                    .where(Invitation.cycle_id == cycle.id, Person.email == email)
                ).one()
                tokens[who] = issue_token(s, SYSTEM, invitation.id)
            return tokens
    finally:
        engine.dispose()


def _staff_accounts(db_url: str) -> dict[str, str]:
    """An administrator and a Kingsmere facilitator. Once an account exists the app asks
    everyone to sign in (issue 6), so the browser tests sign in like a person would."""
    from governance.accounts import create_user

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            council = s.exec(
                select(Council).where(Council.name == "Kingsmere Borough Council")
            ).one()
            create_user(s, SYSTEM, "browser-admin", "admin", STAFF_PASSWORD)
            create_user(
                s,
                SYSTEM,
                "browser-facilitator",
                "facilitator",
                STAFF_PASSWORD,
                display_name="Kingsmere facilitator",
                council_ids=[council.id],
            )
    finally:
        engine.dispose()
    return {"admin": "browser-admin", "facilitator": "browser-facilitator"}


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited early ({proc.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit did not answer {url}/_stcore/health within {timeout} s")


def _streamlit(port: int, env: dict[str, str], log) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:`port`, its output in `log`."""
    return subprocess.Popen(
        [
            str(BIN / "streamlit"),
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


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The demo council plus an open cycle, served by `streamlit run app.py` on a free port."""
    folder = tmp_path_factory.mktemp("browser")
    db_url = f"sqlite:///{folder / 'demo.db'}"
    log_path = folder / "streamlit.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": db_url,
        "TANDEM_BASE_URL": url,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    subprocess.run([str(BIN / "tandem"), "demo"], env=env, check=True, capture_output=True)
    tokens = _open_cycle_with_links(db_url)
    accounts = _staff_accounts(db_url)
    log = log_path.open("w")
    proc = _streamlit(port, env, log)
    try:
        _wait_healthy(url, proc, log_path)
        yield Served(url, db_url, tokens, accounts, log=log_path)
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def fresh_server(served: Served, tmp_path: Path) -> Iterator[str]:
    """A second `streamlit run` on the same database that nobody has opened yet, so the
    test's own request is the first this server process answers."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TANDEM_DATABASE_URL": served.db_url, "TANDEM_BASE_URL": url}
    log_path = tmp_path / "fresh.log"
    with log_path.open("w") as log:
        proc = _streamlit(port, env, log)
        try:
            _wait_healthy(url, proc, log_path)
            yield url
        finally:
            _stop(proc)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]


@pytest.fixture(autouse=True)
def _server_logged_no_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a browser test when the app logged a traceback while it ran: users only ever see
    a plain sentence, so the log is the one place a hidden error shows."""
    if "served" not in request.fixturenames:
        yield
        return
    served: Served = request.getfixturevalue("served")
    start = served.log.stat().st_size
    yield
    with served.log.open(encoding="utf-8", errors="replace") as f:
        f.seek(start)
        logged = f.read()
    if "Traceback" in logged:
        pytest.fail(f"the app logged an error during this test:\n{logged[-4000:]}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    yield p
    context.close()
