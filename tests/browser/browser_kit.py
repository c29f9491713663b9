"""Helpers the browser tests share: wait for Streamlit, open a page, save a screenshot."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
# Written to an ignored folder on every run; `make screenshots` refreshes docs/screenshots/.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def wait_for_app(page: Page, timeout: float = 20_000, quiet_ms: int = 400) -> None:
    """Wait until Streamlit has finished running the script and drawing its result: the app
    is connected and not running, the status widget ("Running…") is gone, nothing is
    stale, and the page has not changed for `quiet_ms` (elements arrive a moment after the
    script itself stops)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """(quietMs) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const idle = app
                && app.getAttribute('data-test-script-state') === 'notRunning'
                && app.getAttribute('data-test-connection-state') === 'CONNECTED'
                && !document.querySelector('[data-testid="stStatusWidget"]')
                && !document.querySelector('[data-stale="true"]');
            const shape = idle ? document.querySelectorAll('[data-testid]').length : -1;
            const now = performance.now();
            if (!idle || window.__tandemShape !== shape) {
                window.__tandemShape = shape;
                window.__tandemSince = now;
                return false;
            }
            return now - window.__tandemSince >= quietMs;
        }""",
        arg=quiet_ms,
        timeout=timeout,
        polling=100,
    )


def goto(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def screenshot(page: Page, name: str, full_page: bool = True, max_height: int = 4000) -> Path:
    """Save test-artifacts/screenshots/NAME.png (`make screenshots` copies them to docs/).

    Streamlit scrolls inside its main container, not the document, so a "full page" shot
    first grows the viewport to the content's height (capped at `max_height`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    if full_page and size:
        height = page.evaluate(
            """() => Math.max(...['[data-testid="stMain"]', '[data-testid="stAppViewContainer"]']
                .map(s => document.querySelector(s)?.scrollHeight || 0),
                document.documentElement.scrollHeight)"""
        )
        page.set_viewport_size(
            {"width": size["width"], "height": min(max(height, size["height"]), max_height)}
        )
        wait_for_app(page)
    page.screenshot(path=str(path), animations="disabled")
    if full_page and size:
        page.set_viewport_size(size)
    return path


def assert_no_raw_errors(page: Page) -> None:
    """No traceback or exception box: errors reach users as plain sentences."""
    assert page.get_by_test_id("stException").count() == 0, "a raw exception is shown"
    body = page.inner_text('[data-testid="stMain"]')
    for raw in ("Traceback (most recent call last)", "sqlalchemy.", "Error:", "KeyError"):
        assert raw not in body, f"raw error text on the page: {raw!r}"


def sign_in(page: Page, served, role: str = "admin") -> None:
    """Open the app and, when accounts exist (issue 6), sign in as the test account for
    `role`; without accounts the app is used as its local administrator."""
    goto(page, served.url)
    if not served.accounts:
        return
    page.get_by_label("Username").fill(served.accounts[role])
    page.get_by_label("Password", exact=True).fill(served.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_have_count(0)
    wait_for_app(page)


def open_page(page: Page, title: str) -> None:
    """Follow a link in the sidebar menu, as a user would (keeps the signed-in session)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    wait_for_app(page)


# Every visible Vega chart: drawn as SVG (marks with a size) or as canvas (pixels that are
# not background). Returns one {kind, width, height, ink} per chart.
CHARTS_JS = """() => {
    const MARKS = ['rect', 'symbol', 'line', 'area', 'rule', 'text', 'arc']
        .map(m => `g.mark-${m} > *`).join(', ');
    const sized = el => {
        const b = el.getBoundingClientRect();
        return b.width > 0 || b.height > 0;
    };
    const ink = canvas => {
        const ctx = canvas.getContext('2d');
        const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
            const dark = data[i] < 230 || data[i + 1] < 230 || data[i + 2] < 230;
            if (data[i + 3] > 0 && dark) n++;
        }
        return n;
    };
    return [...document.querySelectorAll('.vega-embed')]
        .filter(e => e.offsetParent !== null)
        .map(e => {
            const canvas = e.querySelector('canvas');
            if (canvas) {
                return {kind: 'canvas', width: canvas.width, height: canvas.height,
                        ink: ink(canvas)};
            }
            const svg = e.querySelector('svg');
            if (svg) {
                const box = svg.getBoundingClientRect();
                const marks = [...svg.querySelectorAll(MARKS)].filter(sized);
                return {kind: 'svg', width: box.width, height: box.height, ink: marks.length};
            }
            return {kind: 'none', width: 0, height: 0, ink: 0};
        });
}"""


def drawn_charts(page: Page, at_least: int, timeout: float = 20_000) -> list[dict]:
    """Wait until at least `at_least` visible charts are drawn with marks, and return them."""
    page.wait_for_function(
        f"() => ({CHARTS_JS})().filter(c => c.width > 50 && c.height > 50 && c.ink > 0).length"
        f" >= {at_least}",
        timeout=timeout,
    )
    return page.evaluate(CHARTS_JS)


def choose(page: Page, label: str, option: str | re.Pattern) -> None:
    """Pick an option of a Streamlit selectbox by its label, as a user would."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.first.click()
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)
