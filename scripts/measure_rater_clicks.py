"""How long a rater waits after clicking an answer, measured in Chromium (issue 18, item 1).

Builds the demo council in a fresh SQLite file (`tandem demo`), opens a cycle for
Kingsmere's leader pairing, serves the app with `streamlit run` and answers the leader's
own questionnaire (every item: 54 questions) in Chromium at 390 x 844 (a phone), one click
per question.

What is timed, per click: from the click (a capture listener on the document notes
`performance.now()` as the pointer goes down) until the app is idle again — the progress
text shows the new count of answers (the server has saved the answer and sent the page
back), Streamlit's script state is `notRunning`, and its "Running…" status widget is gone.
Timestamps are taken in the page on animation frames, so the browser's own clock measures
what the rater sees. Moving between steps (a questionnaire in steps) is not timed.

    .venv/bin/python scripts/measure_rater_clicks.py                  # this checkout
    .venv/bin/python scripts/measure_rater_clicks.py --code /tmp/main # another checkout's
                                                                      # pages (e.g. main)

Prints every click and then the median, p90 and maximum in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROGRESS = r"(\d+) of (\d+) questions answered"

# Notes the time of every pointer-down (and click, for keyboards) before the page sees it.
MARK_CLICKS = """() => {
    window.__clickAt = null;
    const note = () => { window.__clickAt = performance.now(); };
    document.addEventListener('pointerdown', note, true);
    document.addEventListener('keydown', e => { if (e.key === ' ') note(); }, true);
}"""

# True (and the moment noted) once the page shows `expected` answers and Streamlit is idle.
IDLE_WITH = """(expected) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const text = [...document.querySelectorAll('[data-testid="stProgress"]')]
        .map(e => e.innerText).join(' ');
    const m = text.match(/(\\d+) of (\\d+) questions answered/);
    const idle = app
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && !document.querySelector('[data-testid="stStatusWidget"]');
    if (idle && m && Number(m[1]) >= expected) {
        window.__idleAt = performance.now();
        return true;
    }
    return false;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_with_link(db_url: str, env: dict[str, str]) -> str:
    """The demo council, an open cycle of Kingsmere's leader pairing and one officer's link."""
    subprocess.run([str(BIN / "tandem"), "demo"], env=env, check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from sqlmodel import select

    from core.db import make_engine, session_scope
    from core.models import Council
    from core.roles import SYSTEM
    from feedback.collection.invitations import issue_token
    from feedback.models import Invitation
    from feedback.setup.cycles import (
        add_pairing_to_cycle,
        create_cycle,
        set_cycle_status,
    )
    from feedback.setup.people import list_pairings

    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            council = s.exec(
                select(Council).where(Council.name == "Kingsmere Borough Council")
            ).one()
            assert council.id is not None
            pairing = next(p for p in list_pairings(s, council.id) if p.kind.startswith("leader"))
            today = date.today()
            cycle = create_cycle(
                s, SYSTEM, council.id, "Click timing", today, today + timedelta(days=28)
            )
            assert cycle.id is not None
            add_pairing_to_cycle(s, SYSTEM, cycle.id, pairing.id)
            set_cycle_status(s, SYSTEM, cycle.id, "open")
            # The leader's own review: every item of the framework (the longest form).
            invitation = s.exec(
                select(Invitation).where(
                    Invitation.cycle_id == cycle.id, Invitation.rater_id == pairing.member_id
                )
            ).one()
            assert invitation.id is not None
            return issue_token(s, SYSTEM, invitation.id)
    finally:
        engine.dispose()


def _serve(code: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
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
        cwd=code,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise SystemExit("streamlit did not start within 60 s")


def _wait_idle(page, quiet_ms: int = 400) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        """(quietMs) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app
                && app.getAttribute('data-test-script-state') === 'notRunning'
                && !document.querySelector('[data-testid="stStatusWidget"]');
            const shape = idle ? document.querySelectorAll('[data-testid]').length : -1;
            const now = performance.now();
            if (!idle || window.__shape !== shape) {
                window.__shape = shape; window.__since = now; return false;
            }
            return now - window.__since >= quietMs;
        }""",
        arg=quiet_ms,
        timeout=30_000,
        polling=50,
    )


def _answered(page) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    import re

    text = page.get_by_test_id("stProgress").first.inner_text()
    found = re.search(PROGRESS, text)
    if not found:
        raise SystemExit(f"no progress text on the page: {text!r}")
    return int(found.group(1)), int(found.group(2))


def measure(url: str, clicks: int, width: int, height: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("TANDEM_CHROMIUM") or shutil.which("chromium") or ""
    times: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium or None)
        context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
        page = context.new_page()
        page.goto(url)
        _wait_idle(page)
        page.evaluate(MARK_CLICKS)
        done, total = _answered(page)
        option, wanted = 0, min(clicks, total - done)
        while len(times) < wanted:
            # The first question on screen not yet answered; else the next step.
            radios = page.get_by_test_id("stRadio")
            target = None
            for i in range(radios.count()):
                radio = radios.nth(i)
                if radio.is_visible() and not radio.locator("input:checked").count():
                    target = radio
                    break
            if target is None:
                page.get_by_role("button", name="Next").first.click()
                _wait_idle(page)
                continue
            choice = target.get_by_test_id("stRadioOption").nth(option % 5)
            choice.scroll_into_view_if_needed()
            _wait_idle(page, quiet_ms=150)
            option += 1
            choice.click()
            page.wait_for_function(IDLE_WITH, arg=done + 1, timeout=30_000, polling="raf")
            took = page.evaluate("window.__idleAt - window.__clickAt")
            times.append(float(took))
            done += 1
            print(f"click {len(times):3d}: {took:7.1f} ms", flush=True)
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose app to serve")
    parser.add_argument("--clicks", type=int, default=36)
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--height", type=int, default=844)
    parser.add_argument("--keep", action="store_true", help="keep the database and server log")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="tandem-clicks-"))
    db_url = f"sqlite:///{folder / 'demo.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": db_url,
        "TANDEM_BASE_URL": url,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    token = _demo_with_link(db_url, env)
    proc = _serve(args.code.resolve(), port, env, folder / "streamlit.log")
    try:
        times = measure(f"{url}/?t={token}", args.clicks, args.width, args.height)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if len(times) < 2:
        raise SystemExit("too few clicks measured")
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    print(
        f"\n{len(times)} answer clicks at {args.width} px, {args.code.resolve()}: "
        f"median {statistics.median(times):.0f} ms, p90 {p90:.0f} ms, "
        f"max {max(times):.0f} ms"
    )
    if args.keep:
        print(f"database and server log kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
