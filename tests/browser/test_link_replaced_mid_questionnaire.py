"""An answer clicked in the browser is saved without reading the link again first (one write
per answer, issue 16), so the save checks the page's link itself. In Chromium, on a real
server: a rater is answering when staff issue a new link (the old one stops working). The
next click saves nothing, and the page says the link is no longer recognised instead of the
questionnaire; the new link, in the same browser, opens the draft with every answer saved
before and none after."""

from __future__ import annotations

import re

import pytest
from browser_kit import goto, wait_for_app
from playwright.sync_api import Browser, expect
from sqlmodel import select

from core.db import make_engine, session_scope
from core.models import Council
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.models import Cycle, Person, Rating, Response
from feedback.setup.cycles import nominate_rater
from feedback.setup.people import list_pairings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PROGRESS = re.compile(r"(\d+) of (\d+) questions answered")
OPEN_CYCLE_NAME = "Interim check-in"  # tests/browser/conftest.py opens it (no import: see README)
RATER_EMAIL = "tomasz.wisniewski@kingsmere.gov.uk"  # an officer no other browser test uses


def _nominate(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            council = s.exec(
                select(Council).where(Council.name == "Kingsmere Borough Council")
            ).one()
            cycle = s.exec(
                select(Cycle).where(Cycle.council_id == council.id, Cycle.name == OPEN_CYCLE_NAME)
            ).one()
            pairing = next(p for p in list_pairings(s, council.id) if p.kind.startswith("leader"))
            person = s.exec(
                select(Person).where(Person.council_id == council.id, Person.email == RATER_EMAIL)
            ).one()
            return nominate_rater(s, SYSTEM, cycle.id, pairing.id, person.id, "officers").id
    finally:
        engine.dispose()


def _new_link(db_url: str, invitation_id: int) -> str:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return issue_token(s, SYSTEM, invitation_id)
    finally:
        engine.dispose()


def _stored(db_url: str, invitation_id: int) -> int:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            return len(
                s.exec(
                    select(Rating.item_id)
                    .join(Response, Response.id == Rating.response_id)
                    .where(Response.invitation_id == invitation_id)
                ).all()
            )
    finally:
        engine.dispose()


def test_an_answer_after_the_link_was_replaced_is_not_saved_and_the_page_says_why(
    served, browser: Browser
) -> None:
    invitation_id = _nominate(served.db_url)
    first = _new_link(served.db_url, invitation_id)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    goto(page, f"{served.url}/?t={first}")
    radios = page.get_by_test_id("stRadio")
    expect(radios.first).to_be_visible()
    total = int(PROGRESS.search(page.get_by_test_id("stProgress").first.inner_text())[2])
    for q in range(2):
        radios.nth(q).get_by_test_id("stRadioOption").nth(3).click()
        expect(page.get_by_text(f"{q + 1} of {total} questions answered")).to_be_visible()
    assert _stored(served.db_url, invitation_id) == 2

    second = _new_link(served.db_url, invitation_id)  # staff issue a new link
    radios.nth(2).get_by_test_id("stRadioOption").nth(1).click()
    expect(page.get_by_text("This link is not recognised", exact=False)).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_test_id("stRadio")).to_have_count(0)
    assert _stored(served.db_url, invitation_id) == 2  # the third answer was not saved

    # The new link in the same browser: the draft, with the two answers saved before.
    goto(page, f"{served.url}/?t={second}")
    expect(page.get_by_text(f"2 of {total} questions answered")).to_be_visible()
    context.close()
