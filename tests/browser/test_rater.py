"""A rater in Chromium: open the personal link, answer half, close the page, come back with
the same link, finish, submit with confirmation; another browser on the same link sees no
answer; and the form on a 390-pixel phone."""

from __future__ import annotations

import re

import pytest
from browser_kit import goto, screenshot, wait_for_app
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PROGRESS = re.compile(r"(\d+) of (\d+) questions answered")


def _answered(page: Page) -> tuple[int, int]:
    text = page.get_by_text(PROGRESS).first.inner_text()
    done, total = PROGRESS.search(text).groups()
    return int(done), int(total)


def _questions(page: Page):
    return page.get_by_test_id("stRadio")


def _choose(page: Page, question: int, option: int, expect_answered: int, total: int) -> None:
    """Click one option and wait until the server has saved it (the progress bar moves)."""
    _questions(page).nth(question).locator('[data-testid="stRadioOption"]').nth(option).click()
    expect(page.get_by_text(f"{expect_answered} of {total} questions answered")).to_be_visible()


def _checked(page: Page, question: int) -> int | None:
    """Which option of a question is chosen in the browser (None if none)."""
    return (
        _questions(page)
        .nth(question)
        .evaluate(
            """el => {
            const inputs = [...el.querySelectorAll('input[type=radio]')];
            const i = inputs.findIndex(x => x.checked);
            return i < 0 ? null : i;
        }"""
        )
    )


def test_rater_answers_half_comes_back_finishes_and_submits(served, browser: Browser) -> None:
    link = served.link("rater")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    goto(page, link)
    expect(page.get_by_text("Hello Yusuf Ali")).to_be_visible()
    done, total = _answered(page)
    assert done == 0 and total >= 10
    expect(_questions(page)).to_have_count(total)

    half = total // 2
    chosen = {}
    for q in range(half):
        option = q % 4  # a spread of answers, not the same one every time
        _choose(page, q, option, q + 1, total)
        chosen[q] = option
    page.get_by_test_id("stTextArea").first.locator("textarea").fill(
        "Clear about who decides what; briefings arrive in good time."
    )
    page.get_by_test_id("stTextArea").first.locator("textarea").blur()
    wait_for_app(page)
    page.close()  # the rater closes the tab half-way through

    # Whoever else holds the link (staff hold the mail-merge file) sees none of the draft:
    # the draft opens only in the browser whose cookie began it.
    stranger = browser.new_context(viewport={"width": 1280, "height": 900})
    other = stranger.new_page()
    goto(other, link)
    expect(other.get_by_text("begun in another browser")).to_be_visible()
    expect(_questions(other)).to_have_count(0)
    expect(other.get_by_test_id("stTextArea")).to_have_count(0)
    stranger.close()

    again = context.new_page()  # the same browser: its cookie opens the draft
    goto(again, link)
    expect(_questions(again)).to_have_count(total)
    assert _answered(again) == (half, total)
    for q, option in chosen.items():
        assert _checked(again, q) == option, f"question {q + 1} lost its answer"
    assert _checked(again, half) is None
    expect(again.get_by_test_id("stTextArea").first.locator("textarea")).to_have_value(
        "Clear about who decides what; briefings arrive in good time."
    )

    # The rest at a brisk pace, as a rater who knows their mind: no waiting for each save.
    for q in range(half, total):
        option = _questions(again).nth(q).get_by_test_id("stRadioOption").nth(1)
        option.click()
        expect(option.locator("input")).to_be_checked()
    expect(again.get_by_text(f"{total} of {total} questions answered")).to_be_visible(
        timeout=30_000
    )
    wait_for_app(again)
    again.get_by_role("button", name="Submit my answers").click()
    wait_for_app(again)
    expect(again.get_by_text("After submitting you cannot change your answers")).to_be_visible()
    again.get_by_role("button", name="Yes, submit my answers").click()
    expect(again.get_by_text("Thank you — your answers have been submitted.")).to_be_visible()
    wait_for_app(again)
    expect(again.get_by_text(re.compile(r"^Submitted on .* not shown again"))).to_be_visible()
    # Once submitted the answers are never shown again, not even to the rater's browser.
    expect(_questions(again)).to_have_count(0)
    expect(again.get_by_role("button", name="Submit my answers")).to_have_count(0)
    context.close()

    # A fresh visit with the same link shows the same thank-you and nothing else.
    later = browser.new_page()
    goto(later, link)
    expect(later.get_by_text(re.compile(r"^Submitted on "))).to_be_visible()
    expect(_questions(later)).to_have_count(0)
    expect(later.get_by_test_id("stTextArea")).to_have_count(0)
    later.close()


def test_questionnaire_fits_a_phone_and_its_options_can_be_tapped(served, browser: Browser) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    goto(page, served.link("phone"))
    expect(page.get_by_text("Hello Eleanor Shaw")).to_be_visible()
    _, total = _answered(page)
    expect(_questions(page)).to_have_count(total)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questionnaire scrolls sideways on a phone ({width} px wide)"
    # Every option of the first question is inside the screen and can be tapped.
    options = _questions(page).first.locator('[data-testid="stRadioOption"]')
    for i in range(options.count()):
        box = options.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 20, "an option is too small to tap"
    options.nth(2).tap()
    expect(page.get_by_text(f"1 of {total} questions answered")).to_be_visible()
    wait_for_app(page)
    assert _checked(page, 0) == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_questionnaire_on_a_phone_screenshot(served, browser: Browser) -> None:
    """What a rater sees on a phone once past the introduction: the first questions."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    goto(page, served.link("screenshot"))
    expect(page.get_by_text("Hello Dr Miriam Cole")).to_be_visible()
    expect(_questions(page)).to_have_count(_answered(page)[1])
    page.get_by_test_id("stProgress").scroll_into_view_if_needed()
    page.get_by_test_id("stProgress").evaluate("el => el.scrollIntoView({block: 'start'})")
    wait_for_app(page)
    screenshot(page, "questionnaire-phone", full_page=False)
    context.close()
