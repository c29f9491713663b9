"""WCAG 2.2 AA in Chromium (issue 18): axe-core finds no serious or critical violation on
any page, at 1440 × 900 and 390 × 844."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_kit import goto, sign_in, wait_for_app
from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
STAFF_PAGES = [
    "",
    "people",
    "pairings",
    "cycles",
    "report",
    "council",
    "present",
    "plan",
    "users",
    "audit",
    "data_protection",
]

RUN_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                 summary: n.failureSummary}))}));
}"""


def violations(page: Page) -> list[dict]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `bash scripts/test-setup.sh` (it installs axe-core).")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, TAGS)


@pytest.mark.parametrize("size", list(SIZES))
def test_explore(served, browser: Browser, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    found = {}
    goto(page, served.url)
    found["sign-in"] = violations(page)
    goto(page, served.link("rater"))
    found["questionnaire"] = violations(page)
    sign_in(page, served)
    for name in STAFF_PAGES:
        goto(page, f"{served.url}/{name}")
        wait_for_app(page)
        found[name or "home"] = violations(page)
    context.close()
    Path(f"/tmp/axe-{size}.json").write_text(json.dumps(found, indent=1))
