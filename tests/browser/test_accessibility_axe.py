"""WCAG 2.2 AA in Chromium (issue 18).

- axe-core (npm, pinned in tests/browser/axe, installed by scripts/test-setup.sh) finds no
  serious or critical violation on any page — signed out, a rater's link, and every staff
  page — at 1440 × 900 and 390 × 844. The few excusals are Streamlit's own markup, each
  named below with why, and each listed in the accessibility statement as not yet meeting
  the standard.
- A rater answers every question of every step and submits with the keyboard alone, the
  focus always drawn and never hidden behind the sticky progress bar.
- The accessibility statement opens signed out, from the sign-in page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_kit import goto, screenshot, sign_in, wait_for_app
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.db import make_engine
from feedback.models import Invitation, Person, Response
from governance.accessibility import accessibility_statement

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SLOW = 60_000
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# Address → the page's title, for every staff page (the administrator sees them all).
STAFF_PAGES: dict[str, str | re.Pattern] = {
    "": "Tandem",  # Home
    "people": "People",
    "pairings": "Pairings",
    "cycles": "Cycles",
    "report": "Pairing report",
    "council": "Council overview",
    "present": re.compile(r"^Slide 1 of \d+$"),  # its heading is the slide's
    "plan": "Development plan",
    "users": "Users",
    "audit": "Audit log",
    "data_protection": "Data protection",
    "accessibility": "Accessibility statement for Tandem",
}

# Streamlit's own markup that Tandem cannot change, excused node by node (a predicate run on
# each failing element in the page), never a whole rule or a whole page. Each rule named here
# must be listed under "not_yet" in data/accessibility_statement.yaml (checked below).
# - list / listitem: st.navigation with sections draws each section as
#   <ul stSidebarNavItems> <div> <header>Set-up</header> <li>…</li> </div> …, a <div>
#   straight inside the <ul> and <li>s outside any list (Streamlit 1.67's SidebarNavSection).
#   Excused only for that menu list and the links of its sections.
EXCUSED: dict[str, str] = {
    "list": "el => el.matches('ul[data-testid=\"stSidebarNavItems\"]')",
    "listitem": (
        "el => el.matches('li') && el.parentElement.matches('div')"
        " && el.parentElement.parentElement.matches('ul[data-testid=\"stSidebarNavItems\"]')"
        " && !!el.parentElement.querySelector(':scope > [data-testid=\"stNavSectionHeader\"]')"
    ),
}

RUN_AXE = """async ([tags, excused]) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    const excuse = Object.fromEntries(
        Object.entries(excused).map(([rule, js]) => [rule, (0, eval)(js)]));
    return result.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes
                .filter(n => {
                    const el = document.querySelector(n.target[n.target.length - 1]);
                    return !(excuse[v.id] && el && excuse[v.id](el));
                })
                .map(n => n.target.join(' ') + ' ' + n.html.slice(0, 160))}))
        .filter(v => v.nodes.length);
}"""


def serious_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now, less the
    excused nodes above."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `bash scripts/test-setup.sh` (it installs axe-core).")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, [TAGS, EXCUSED])


def _say(found: dict[str, list[dict]]) -> str:
    return "\n".join(
        f"{where}: {v['id']} ({v['impact']}) {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
        for where, violations in found.items()
        for v in violations
    )


@pytest.mark.parametrize("size", list(SIZES))
def test_axe_finds_nothing_serious_on_any_page(served, browser: Browser, size: str) -> None:
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    goto(page, served.url)
    expect(page.get_by_role("heading", name="Sign in to Tandem")).to_be_visible()
    found["sign-in"] = serious_violations(page)
    goto(page, f"{served.url}/accessibility")
    expect(page.get_by_role("heading", name="Accessibility statement for Tandem")).to_be_visible()
    found["statement, signed out"] = serious_violations(page)
    goto(page, served.link("rater"))
    expect(page.get_by_test_id("stRadio").first).to_be_visible()
    found["questionnaire"] = serious_violations(page)
    sign_in(page, served)
    for address, title in STAFF_PAGES.items():
        page.goto(f"{served.url}/{address}")
        wait_for_app(page, timeout=SLOW)  # the report and the slides draw charts
        shown = (
            page.get_by_text(title)
            if isinstance(title, re.Pattern)
            else page.get_by_role("heading", name=title, level=1)
        )
        expect(shown.first, f"the page at /{address}").to_be_visible()
        found[address or "home"] = serious_violations(page)
        if address == "present":  # and the slides as shown full screen
            page.get_by_role("button", name="Present full screen").click()
            expect(page.get_by_role("button", name=re.compile("Leave presentation"))).to_be_visible(
                timeout=SLOW
            )
            wait_for_app(page, timeout=SLOW)
            found["presenting"] = serious_violations(page)
            page.get_by_role("button", name=re.compile("Leave presentation")).click()
            wait_for_app(page, timeout=SLOW)
    context.close()
    assert not any(found.values()), _say(found)


def test_every_excusal_is_in_the_accessibility_statement() -> None:
    listed = {item.rule for item in accessibility_statement().not_yet}
    assert set(EXCUSED) <= listed, f"not in the statement's not_yet: {set(EXCUSED) - listed}"


def test_the_excusals_match_only_streamlits_sectioned_menu(served, page: Page) -> None:
    """The excusals can fail: a list Tandem draws itself with the same fault is reported."""
    sign_in(page, served)
    page.evaluate(
        """() => { const ul = document.createElement('ul');
            ul.innerHTML = '<div><li>ours</li></div>';
            document.querySelector('[data-testid=stMain]').appendChild(ul); }"""
    )
    ids = {v["id"] for v in serious_violations(page)}
    assert {"list", "listitem"} <= ids


# ---- the keyboard alone -------------------------------------------------------------------

FOCUS_JS = """() => {
    const e = document.activeElement;
    const option = e.closest('[data-testid="stRadioOption"]');
    const group = e.closest('[data-testid="stRadio"]');
    const shown = option || e;
    const s = getComputedStyle(shown);
    const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
        || (s.boxShadow && s.boxShadow !== 'none');
    const b = shown.getBoundingClientRect();
    const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
    return {
        tag: e.tagName, type: e.type || '', checked: !!e.checked,
        label: (e.getAttribute('aria-label') || e.innerText || '').trim().split('\\n').pop(),
        radio: e.type === 'radio',
        answered: group ? [...group.querySelectorAll('input')].some(i => i.checked) : false,
        multiselect: !!e.closest('[data-testid="stMultiSelect"]'),
        ring: !!ring,
        hidden: !(hit && (shown.contains(hit) || hit.contains(shown))),
    };
}"""
PROGRESS = re.compile(r"(\d+) of (\d+) questions answered")
STEP = re.compile(r"Step (\d+) of (\d+)")


def _focus(page: Page) -> dict:
    return page.evaluate(FOCUS_JS)


def _tab_to(page: Page, wanted: Callable[[dict], bool], what: str, limit: int = 60) -> dict:
    """Press Tab until the focus is on what is wanted; every control passed on the way must
    show its focus and be in view (WCAG 2.4.7 and 2.4.11)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = _focus(page)
        if now["radio"] or now["tag"] == "BUTTON":
            assert now["ring"], f"no focus indicator drawn on {now}"
        if now["tag"] in ("BUTTON", "TEXTAREA", "INPUT"):
            # The page may still be settling when Tab lands (the answer before it is saved
            # by a fragment that redraws its step; seen once in CI under load): a focus
            # still hidden after a second fails.
            for _settle in range(10):
                if not now["hidden"]:
                    break
                page.wait_for_timeout(100)
                now = _focus(page)
            assert not now["hidden"], f"the focus is hidden behind something: {now}"
        if wanted(now):
            return now
    pytest.fail(f"Tab never reached {what}")


def _answered(page: Page) -> int:
    found = PROGRESS.search(page.get_by_test_id("stProgress").first.inner_text())
    assert found
    return int(found[1])


def _submitted(served, email: str) -> bool:
    engine = make_engine(served.db_url)
    try:
        with Session(engine) as s:
            response = s.exec(
                select(Response)
                .join(Invitation, Invitation.id == Response.invitation_id)
                .join(Person, Person.id == Invitation.rater_id)
                .where(Person.email == email)
            ).first()
            return bool(response and response.status == "submitted" and response.submitted_at)
    finally:
        engine.dispose()


@pytest.mark.parametrize("size", ["phone"])
def test_a_rater_answers_everything_and_submits_with_the_keyboard_alone(
    served, browser: Browser, size: str
) -> None:
    from conftest import RATERS

    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    goto(page, served.link("keyboard"))
    total = int(PROGRESS.search(page.get_by_test_id("stProgress").first.inner_text())[2])
    answered = 0
    steps_seen = 0
    while True:
        found = STEP.search(page.get_by_text(STEP).first.inner_text())
        assert found
        number, steps = int(found[1]), int(found[2])
        steps_seen += 1
        if number == steps:
            break
        for question in range(page.get_by_test_id("stRadio").count()):
            _tab_to(page, lambda f: f["radio"] and not f["answered"], "an unanswered question")
            # Space chooses the option the focus is on; an arrow key moves to the next one
            # and chooses it (a radio group's own keys).
            page.keyboard.press("Space")
            answered += 1
            expect(page.get_by_text(f"{answered} of {total} questions answered")).to_be_visible()
            wait_for_app(page)
            if question % 2:
                page.keyboard.press("ArrowRight")
                wait_for_app(page)
                assert _focus(page)["checked"], "the arrow key did not choose the next option"
        _tab_to(page, lambda f: f["tag"] == "BUTTON" and f["label"] == "Next", "Next")
        page.keyboard.press("Enter")
        expect(page.get_by_text(re.compile(rf"Step {number + 1} of "))).to_be_visible()
        wait_for_app(page)
    assert steps_seen == steps and _answered(page) == total == answered

    # The last step: what matters most (a list opened and chosen from with the arrow keys
    # and Enter), then submit and confirm.
    if page.get_by_test_id("stMultiSelect").count():
        _tab_to(page, lambda f: f["multiselect"], "what matters most")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("stMultiSelect").get_by_role("button")).not_to_have_count(0)
    _tab_to(page, lambda f: f["label"] == "Submit my answers", "Submit my answers")
    page.keyboard.press("Enter")
    expect(page.get_by_text("After submitting you cannot change your answers")).to_be_visible()
    wait_for_app(page)
    _tab_to(page, lambda f: f["label"] == "Yes, submit my answers", "Yes, submit my answers")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"^Submitted on "))).to_be_visible()
    context.close()
    assert _submitted(served, RATERS["keyboard"])


def test_the_chosen_answer_shows_where_the_keyboard_is(served, browser: Browser) -> None:
    """A focus ring drawn on the option the keyboard is on — not only a change of shade."""
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    goto(page, served.link("screenshot"))
    option = page.get_by_test_id("stRadio").first.get_by_test_id("stRadioOption").first
    assert option.evaluate("el => getComputedStyle(el).outlineStyle") == "none"
    _tab_to(page, lambda f: f["radio"], "a question")
    style = option.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth,"
        " s.outlineColor]; }"
    )
    assert style[0] == "solid" and float(style[1].removesuffix("px")) >= 2, style
    assert style[2] == "rgb(15, 94, 107)", style  # the theme's teal, 7:1 on the page
    context.close()


def test_the_statement_opens_signed_out_from_the_sign_in_page(served, page: Page) -> None:
    page.set_viewport_size(SIZES["desktop"])
    goto(page, served.url)
    page.get_by_role("link", name="Accessibility statement").click()
    expect(page.get_by_role("heading", name="Accessibility statement for Tandem")).to_be_visible()
    wait_for_app(page)
    for heading in (
        "How accessible this service is",
        "Feedback and contact information",
        "Enforcement procedure",
        "Non-compliance with the accessibility regulations",
        "How we tested this service",
    ):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text("Equality Commission for Northern Ireland")).to_be_visible()
    screenshot(page, "accessibility-statement")
