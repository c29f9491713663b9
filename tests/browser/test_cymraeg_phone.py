"""Cymraeg in Chromium on a 390 × 844 phone: a bilingual cycle's questionnaire opens in
Welsh (the page says lang="cy"), the six-point scale still sits in one row with the Welsh
words, the rater switches to English and back, an answer saves in the language it was
given in, and screenshots of both go to the README (docs/screenshots via `make
screenshots`: questionnaire-phone-cymraeg.png, questionnaire-phone-english.png)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from browser_kit import goto, screenshot, wait_for_app
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from core.db import make_engine, session_scope
from core.models import Council
from core.roles import SYSTEM
from feedback.collection.invitations import issue_token
from feedback.models import Invitation, Person, Response
from feedback.setup.cycles import (
    add_pairing_to_cycle,
    create_cycle,
    nominate_rater,
    set_cycle_status,
)
from feedback.setup.people import list_pairings

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"width": 390, "height": 844}
RATER = "ffion.rhys-jones@kingsmere.gov.uk"  # a ward councillor, in no other open cycle


def _bilingual_link(db_url: str) -> tuple[str, int]:
    """A cycle of its own (so no other browser test meets Welsh), run in both languages,
    for a cabinet pairing, with one councillor's link."""
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            council = s.exec(
                select(Council).where(Council.name == "Kingsmere Borough Council")
            ).one()
            pairing = next(
                p for p in list_pairings(s, council.id) if not p.kind.startswith("leader")
            )
            today = date.today()
            cycle = create_cycle(
                s,
                SYSTEM,
                council.id,
                "Adolygiad dwyieithog",
                today,
                today + timedelta(days=28),
                language="both",
            )
            add_pairing_to_cycle(s, SYSTEM, cycle.id, pairing.id)
            rater = s.exec(select(Person).where(Person.email == RATER)).one()
            nominate_rater(s, SYSTEM, cycle.id, pairing.id, rater.id, "members")
            set_cycle_status(s, SYSTEM, cycle.id, "open")
            invitation = s.exec(
                select(Invitation).where(
                    Invitation.cycle_id == cycle.id, Invitation.rater_id == rater.id
                )
            ).one()
            return issue_token(s, SYSTEM, invitation.id), invitation.id
    finally:
        engine.dispose()


def _saved_language(db_url: str, invitation_id: int) -> str | None:
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            response = s.exec(
                select(Response).where(Response.invitation_id == invitation_id)
            ).first()
            return response.language if response is not None else None
    finally:
        engine.dispose()


def _scale_in_one_row(page: Page) -> list[str]:
    options = page.get_by_test_id("stRadio").first.get_by_test_id("stRadioOption")
    assert options.count() == 6
    boxes = [options.nth(i).bounding_box() for i in range(6)]
    tops = {round(b["y"]) for b in boxes if b}
    assert max(tops) - min(tops) <= 2, f"the options wrap: {boxes}"
    assert all(b and b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    return options.all_inner_texts()


def test_a_bilingual_questionnaire_on_a_phone_in_welsh_then_english(
    served, browser: Browser
) -> None:
    token, invitation_id = _bilingual_link(served.db_url)
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    goto(page, f"{served.url}/?t={token}")

    # Welsh first, said to the browser, with a switch naming each language in itself.
    expect(page.get_by_role("heading", name="Adborth Tandem", level=1)).to_be_visible()
    page.wait_for_function("document.documentElement.lang === 'cy'")
    switch = page.get_by_role("radiogroup", name="Iaith / Language")
    expect(switch.get_by_role("radio", name="Cymraeg")).to_be_checked()
    expect(switch.get_by_role("radio", name="English")).to_be_visible()
    expect(page.get_by_text("Helo Cllr Ffion Rhys-Jones")).to_be_visible()
    words = _scale_in_one_row(page)
    assert words[0].startswith("Anghytuno") and words[-1].startswith("Methu dweud")
    expect(page.get_by_text("cwestiwn wedi'u hateb").first).to_be_visible()
    screenshot(page, "questionnaire-phone-cymraeg", max_height=2600)

    page.get_by_test_id("stRadio").first.get_by_test_id("stRadioOption").nth(3).tap()
    expect(page.get_by_text(re.compile(r"^1 o \d+ cwestiwn wedi'u hateb"))).to_be_visible()
    wait_for_app(page)
    assert _saved_language(served.db_url, invitation_id) == "cy"

    # The rater switches to English: the same form, the answer kept, the page says "en".
    switch.get_by_role("radio", name="English").click()
    expect(page.get_by_role("heading", name="Tandem feedback", level=1)).to_be_visible()
    wait_for_app(page)
    page.wait_for_function("document.documentElement.lang === 'en'")
    expect(page.get_by_text("Hello Cllr Ffion Rhys-Jones")).to_be_visible()
    words = _scale_in_one_row(page)
    assert words[0].startswith("Strongly disagree") and words[-1].startswith("Can")
    expect(page.get_by_text(re.compile(r"^1 of \d+ questions answered"))).to_be_visible()
    screenshot(page, "questionnaire-phone-english", max_height=2600)

    # Kept for this link in this browser: a reload stays in English.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Tandem feedback", level=1)).to_be_visible()
    page.get_by_test_id("stRadio").nth(1).get_by_test_id("stRadioOption").nth(4).tap()
    expect(page.get_by_text(re.compile(r"^2 of \d+ questions answered"))).to_be_visible()
    wait_for_app(page)
    assert _saved_language(served.db_url, invitation_id) == "en"

    # And back to Welsh.
    switch.get_by_role("radio", name="Cymraeg").click()
    expect(page.get_by_role("heading", name="Adborth Tandem", level=1)).to_be_visible()
    context.close()
