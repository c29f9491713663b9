"""Hostile text in Chromium (issue 13, point 2): web addresses, email addresses, Markdown and
HTML typed into every field a page shows — council, cycle, person and portfolio names,
comments published on a report, plan goals, actions, measures and notes, and an import
error quoting a formula — reach every page as text: no link to the address, no element made
from the user's markup, and the text reads as typed.

Streamlit's browser renderer links addresses after undoing Markdown escapes, so only the
browser can judge this; the server runs on its own database, built here."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from browser_kit import SCREENSHOTS, goto, wait_for_app
from conftest import BIN, _free_port, _stop, _streamlit, _wait_healthy
from cycle_builder import build_cycle
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from core.db import make_engine, session_scope
from core.models import Council
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.collection.responses import (
    dimensions_for_cycle,
    items_for_invitation,
    save_answers,
    submit_response,
)
from feedback.models import Cycle, Invitation, Pairing, Person
from feedback.results.publication import publish_cycle
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from planning.plans import add_action, add_check_in, add_goal, create_plan

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Each marker word sits right after a piece of markup, so an element whose text *starts*
# with a marker was made from the user's markup (shown as text, the markup comes first).
MARKERS = ("boldmark", "tagmark", "headmark", "emmark", "strikemark", "codemark", "listmark")
COMMENT = (
    "Please sign in again at https://evil.example/sso or www.evil.example, "
    "or email it@evil.example\n"
    "**boldmark** <b>tagmark</b> ![pixel](https://evil.example/t.png) "
    "[click](https://evil.example/c)\n"
    "# headmark and `codemark`"
)
COUNCIL = "**boldmark** Council of www.evil.example"
CYCLE = '=HYPERLINK("http://evil.example","x") review'
OPEN_CYCLE = "Check-in at https://evil.example/cycle _emmark_"
LEADER = "Cllr [Re-enter your password](https://evil.example/p) **boldmark**"
LEADER_TITLE = "Leader <b>tagmark</b> it@evil.example"
CEO = "# headmark Rhodri www.evil.example"
PORTFOLIO = "`codemark` ~~strikemark~~ https://evil.example/port"
GOAL = "Goal at https://evil.example/goal **boldmark**"
GOAL_WHY = "- listmark see www.evil.example"
ACTION = "Write to it@evil.example about _emmark_ and mailto:boss@evil.example"
MEASURE = "Measure <b>tagmark</b> at https://evil.example/m"
NOTE = "Note: # headmark, mail it@evil.example"
FORMULA = '=HYPERLINK("http://evil.example/people","x")'

# Everything on the page that a user's text could have become: links to the hostile
# addresses, remote images, and elements whose text begins with a marker.
FINDINGS_JS = """(markers) => {
    const found = [];
    for (const a of document.querySelectorAll('a')) {
        const href = a.getAttribute('href') || '';
        if (/evil\\.example/i.test(href) || /^mailto:/i.test(href)) {
            found.push(`link ${href} "${a.textContent}"`);
        }
    }
    for (const img of document.querySelectorAll('img')) {
        if (/evil\\.example/i.test(img.getAttribute('src') || '')) found.push(`image ${img.src}`);
    }
    const made = 'a,b,strong,em,i,s,del,code,pre,h1,h2,h3,h4,h5,h6,li,blockquote,table,img';
    for (const el of document.querySelectorAll(made)) {
        const text = el.textContent.trim();
        if (markers.some(m => text.startsWith(m))) found.push(`<${el.tagName}> ${text}`);
    }
    return found;
}"""


@dataclass
class Hostile:
    url: str
    token: str
    log: Path


def _seed(db_url: str) -> str:
    """A council whose every shown text is hostile, with a published cycle (comments, a
    plan) and an open one; returns a rater's link token for the open cycle."""
    engine = make_engine(db_url)
    try:
        built = build_cycle(engine)
        leader_pairing, cabinet_pairing = built.pairing_ids
        with session_scope(engine) as s:
            # Stored as if typed: set on the rows, so the test does not depend on what
            # the entry points accept today.
            s.get(Council, built.council_id).name = COUNCIL
            s.get(Cycle, built.cycle_id).name = CYCLE
            leader = s.get(Person, built.people["leader"])
            leader.full_name, leader.title = LEADER, LEADER_TITLE
            s.get(Person, built.people["ceo"]).full_name = CEO
            s.get(Pairing, cabinet_pairing).portfolio = PORTFOLIO
            s.get(Person, built.people["m0"]).title = MEASURE
        with session_scope(engine) as s:
            dims = dimensions_for_cycle(s, s.get(Cycle, built.cycle_id))
            for inv in s.exec(select(Invitation).where(Invitation.cycle_id == built.cycle_id)):
                items = items_for_invitation(s, inv)
                save_answers(s, inv.id, {i.id: 4 for i in items}, {d.id: COMMENT for d in dims})
                submit_response(s, inv.id)
            set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
            publish_cycle(s, SYSTEM, built.cycle_id)
        with session_scope(engine) as s:
            plan = create_plan(s, SYSTEM, leader_pairing, built.cycle_id)
            goal = add_goal(s, SYSTEM, plan.id, "advice", GOAL, GOAL_WHY)
            action = add_action(
                s, SYSTEM, goal.id, ACTION, "joint", date(2027, 6, 1), success_measure=MEASURE
            )
            add_check_in(s, SYSTEM, plan.id, date(2027, 3, 1), NOTE, action.id)
        with session_scope(engine) as s:
            today = date.today()
            later = create_cycle(
                s, SYSTEM, built.council_id, "Check-in", today, date(today.year + 1, 1, 1)
            )
            later.name = OPEN_CYCLE
            for pid in (leader_pairing, cabinet_pairing):
                add_pairing_to_cycle(s, SYSTEM, later.id, pid)
                nominate_rater(s, SYSTEM, later.id, pid, built.people["o0"], "officers")
            set_cycle_status(s, SYSTEM, later.id, "open")
            inv = s.exec(
                select(Invitation).where(
                    Invitation.cycle_id == later.id, Invitation.rater_id == built.people["o0"]
                )
            ).first()
            return issue_token(s, SYSTEM, inv.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    folder = tmp_path_factory.mktemp("hostile")
    db_url = f"sqlite:///{folder / 'hostile.db'}"
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": db_url,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    subprocess.run([str(BIN / "tandem"), "db", "upgrade"], env=env, check=True, capture_output=True)
    token = _seed(db_url)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env["TANDEM_BASE_URL"] = url
    log_path = folder / "streamlit.log"
    with log_path.open("w") as log:
        proc = _streamlit(port, env, log)
        try:
            _wait_healthy(url, proc, log_path)
            yield Hostile(url, token, log_path)
        finally:
            _stop(proc)
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]


@pytest.fixture
def admin(hostile: Hostile, browser: Browser) -> Iterator[Page]:
    """No account exists, so a browser on the server itself is the administrator."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    goto(page, hostile.url)
    yield page
    context.close()


def assert_inert(page: Page, where: str, shown: tuple[str, ...] = ()) -> None:
    """No link, image or markup made from user text on the page; each of `shown` is on the
    page as typed (one line of it at least)."""
    wait_for_app(page)
    # Streamlit draws a skeleton while an element's code is still loading.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')")
    found = page.evaluate(FINDINGS_JS, list(MARKERS))
    assert not found, f"{where}: user text became markup: {found}"
    text = page.inner_text("body")
    for typed in shown:
        line = typed.splitlines()[0]
        assert line in text, f"{where}: {line!r} is not shown as typed"


def visit(page: Page, title: str, heading: str | None = None) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=heading or title, level=1)).to_be_visible()
    wait_for_app(page)


def test_the_set_up_pages_show_hostile_names_as_text(admin: Page) -> None:
    assert_inert(admin, "home", (COUNCIL,))
    visit(admin, "People")
    assert_inert(admin, "people")
    # An upload whose name is a formula: the error quotes it, as text.
    admin.get_by_role("tab", name="Import").click()
    admin.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[
            {
                "name": "people.csv",
                "mimeType": "text/csv",
                "buffer": (
                    "full_name,email,kind,title,portfolio,organisation\n"
                    f'"{FORMULA.replace(chr(34), chr(34) * 2)}",x@evil.example,member,,,\n'
                ).encode(),
            }
        ]
    )
    wait_for_app(admin)  # checked as soon as it is chosen: the problems show at once
    expect(admin.get_by_text("http://evil.example/people", exact=False).first).to_be_visible()
    assert_inert(admin, "people import error", (FORMULA,))
    visit(admin, "Pairings")
    assert_inert(admin, "pairings")
    visit(admin, "Cycles")
    assert_inert(admin, "cycles", (LEADER,))
    visit(admin, "Data protection")
    assert_inert(admin, "data protection")
    visit(admin, "Audit log")
    assert_inert(admin, "audit")


def test_the_results_pages_show_hostile_names_and_comments_as_text(admin: Page) -> None:
    visit(admin, "Pairing report")
    assert_inert(admin, "report", (LEADER, CEO, COUNCIL, CYCLE, LEADER_TITLE))
    admin.get_by_role("tab", name="Comments").click()
    wait_for_app(admin)
    assert_inert(admin, "report comments", tuple(COMMENT.splitlines()))
    # For the eye: the comment as a council leader reads it.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin.get_by_text("Please sign in again").first.scroll_into_view_if_needed()
    admin.screenshot(path=str(SCREENSHOTS / "report-hostile-comment.png"))
    visit(admin, "Council overview")
    assert_inert(admin, "council", (COUNCIL, CYCLE))
    visit(admin, "Presentation", heading=COUNCIL)  # the title slide
    assert_inert(admin, "presentation title", (COUNCIL, CYCLE))
    slides = 0
    while admin.get_by_role("button", name="Next").is_enabled():
        admin.get_by_role("button", name="Next").click()
        # The next slide's number, not only an idle app: a quick click's rerun can start
        # after the app first reads idle, and the old slide's Next still looks enabled.
        expect(admin.get_by_text(re.compile(rf"^Slide {slides + 2} of \d+$"))).to_be_visible()
        wait_for_app(admin)
        slides += 1
        assert_inert(admin, f"presentation slide {slides + 1}")
    assert slides >= 4
    visit(admin, "Development plan")
    assert_inert(admin, "plan", (GOAL, GOAL_WHY, LEADER))
    admin.get_by_role("button", name="Edit action 1").click()
    wait_for_app(admin)
    assert_inert(admin, "plan action", (ACTION,))


def test_the_questionnaire_shows_hostile_names_as_text(hostile: Hostile, page: Page) -> None:
    goto(page, f"{hostile.url}/?t={hostile.token}")
    assert_inert(page, "questionnaire", (LEADER, CEO, COUNCIL, OPEN_CYCLE))
