"""A rater in Chromium: open the personal link, answer step by step (one dimension a step),
type a comment and close the page without leaving the box, come back with the same link
to the first unanswered question's step, finish, submit with confirmation and see the
thank-you; another browser on the same link sees no answer; and the form on a 390-pixel
phone: the scale in one row, the progress in view while scrolling."""

from __future__ import annotations

import re
import time

import pytest
from browser_kit import goto, screenshot, wait_for_app
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from core.db import make_engine
from feedback.models import Comment

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PROGRESS = re.compile(r"(\d+) of (\d+) questions answered")
STEP = re.compile(r"Step (\d+) of (\d+)")
PHONE = {"width": 390, "height": 844}


def _answered(page: Page) -> tuple[int, int]:
    text = page.get_by_test_id("stProgress").first.inner_text()
    done, total = PROGRESS.search(text).groups()
    return int(done), int(total)


def _step(page: Page) -> tuple[int, int]:
    text = page.get_by_text(STEP).first.inner_text()
    number, steps = STEP.search(text).groups()
    return int(number), int(steps)


def _questions(page: Page):
    return page.get_by_test_id("stRadio")


def _choose(page: Page, question: int, option: int, expect_answered: int, total: int) -> None:
    """Click one option and wait until the server has saved it (the progress bar moves)."""
    _questions(page).nth(question).get_by_test_id("stRadioOption").nth(option).click()
    expect(page.get_by_text(f"{expect_answered} of {total} questions answered")).to_be_visible()


def _checked(page: Page, question: int) -> int | None:
    """Which option of a question on this step is chosen in the browser (None if none)."""
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


def _next(page: Page) -> None:
    number = _step(page)[0]
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text(re.compile(rf"Step {number + 1} of "))).to_be_visible()
    wait_for_app(page)


def _in_view(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(box and size and box["y"] >= 0 and box["y"] + box["height"] <= size["height"])


def test_rater_answers_step_by_step_comes_back_finishes_and_submits(
    served, browser: Browser
) -> None:
    link = served.link("rater")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    goto(page, link)
    expect(page.get_by_text("Hello Yusuf Ali")).to_be_visible()
    done, total = _answered(page)
    assert done == 0 and total >= 10
    assert _step(page)[0] == 1
    first_step = _questions(page).count()
    assert 0 < first_step < total  # one dimension, not the whole questionnaire

    # The first step in full, then the first question of the second.
    chosen: dict[tuple[int, int], int] = {}
    for q in range(first_step):
        _choose(page, q, q % 4, q + 1, total)
        chosen[(1, q)] = q % 4
    _next(page)
    _choose(page, 0, 3, first_step + 1, total)
    chosen[(2, 0)] = 3
    answered = first_step + 1
    # A comment typed and the page closed at once, without leaving the box: the words are
    # sent after a pause in typing, or as the page goes.
    comment = "Clear about who decides what; briefings arrive in good time."
    box = page.get_by_test_id("stTextArea").locator("textarea")
    box.click()
    box.press_sequentially(comment, delay=5)
    expect(box).to_be_focused()
    page.wait_for_timeout(1500)  # a pause, as a rater reads what they wrote
    page.close()

    # Whoever else holds the link (staff hold the mail-merge file) sees none of the draft:
    # the draft opens only in the browser whose cookie began it.
    stranger = browser.new_context(viewport={"width": 1280, "height": 900})
    other = stranger.new_page()
    goto(other, link)
    expect(other.get_by_text("begun in another browser")).to_be_visible()
    expect(_questions(other)).to_have_count(0)
    expect(other.get_by_test_id("stTextArea")).to_have_count(0)
    stranger.close()

    # The same browser comes back: on the second step, whose second question is the first
    # without an answer, with the comment as it was typed.
    again = context.new_page()
    goto(again, link)
    assert _answered(again) == (answered, total)
    assert _step(again)[0] == 2
    assert _checked(again, 0) == chosen[(2, 0)]
    expect(again.get_by_test_id("stTextArea").locator("textarea")).to_have_value(comment)
    assert _stored_comment(served, comment)
    again.get_by_role("button", name="Back").click()
    expect(again.get_by_text(re.compile(r"Step 1 of "))).to_be_visible()
    wait_for_app(again)
    for q in range(first_step):
        assert _checked(again, q) == chosen[(1, q)], f"question {q + 1} lost its answer"
    _next(again)

    # The rest, step by step, at a brisk pace: no waiting for each save.
    number, steps = _step(again)
    while number < steps:
        for q in range(_questions(again).count()):
            option = _questions(again).nth(q).get_by_test_id("stRadioOption").nth(1)
            if _checked(again, q) is None:
                option.click()
                expect(option.locator("input")).to_be_checked()
        wait_for_app(again)
        _next(again)
        number = _step(again)[0]
    expect(again.get_by_text(f"{total} of {total} questions answered")).to_be_visible(
        timeout=30_000
    )
    again.get_by_role("button", name="Submit my answers").click()
    wait_for_app(again)
    expect(again.get_by_text("After submitting you cannot change your answers")).to_be_visible()
    again.get_by_role("button", name="Yes, submit my answers").click()
    thanks = again.get_by_text("Thank you — your answers have been submitted.")
    expect(thanks).to_be_visible()
    wait_for_app(again)
    done_note = again.get_by_text(re.compile(r"^Submitted on .* not shown again"))
    expect(done_note).to_be_visible()
    # The confirmation is on screen, not above it where the submit button was.
    again.wait_for_function(
        """() => { const t = [...document.querySelectorAll('[data-testid="stMain"] *')]
            .find(e => /^Submitted on/.test(e.innerText || '') && e.children.length === 0);
            if (!t) return false; const b = t.getBoundingClientRect();
            return b.top >= 0 && b.bottom <= window.innerHeight; }""",
        timeout=10_000,
    )
    assert _in_view(again, thanks.first) and _in_view(again, done_note.first)
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


def test_on_a_phone_the_scale_is_one_row_and_the_progress_stays_in_view(
    served, browser: Browser
) -> None:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    goto(page, served.link("phone"))
    expect(page.get_by_text("Hello Eleanor Shaw")).to_be_visible()
    _, total = _answered(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the questionnaire scrolls sideways on a phone ({width} px wide)"
    # Every question's six options sit in one row, in the scale's order, inside the
    # screen, each big enough to tap.
    for q in range(_questions(page).count()):
        options = _questions(page).nth(q).get_by_test_id("stRadioOption")
        assert options.count() == 6
        boxes = [options.nth(i).bounding_box() for i in range(6)]
        assert all(boxes)
        tops = {round(b["y"]) for b in boxes}
        assert max(tops) - min(tops) <= 2, f"question {q + 1}'s options wrap: {boxes}"
        lefts = [b["x"] for b in boxes]
        assert lefts == sorted(lefts), "the options are out of the scale's order"
        assert boxes[0]["x"] >= 0 and boxes[-1]["x"] + boxes[-1]["width"] <= 390
        assert all(b["width"] >= 44 and b["height"] >= 24 for b in boxes), boxes
    words = _questions(page).first.get_by_test_id("stRadioOption").all_inner_texts()
    assert words[0].startswith("Strongly disagree") and words[-1].startswith("Can")

    options = _questions(page).first.get_by_test_id("stRadioOption")
    options.nth(2).tap()
    expect(page.get_by_text(f"1 of {total} questions answered")).to_be_visible()
    wait_for_app(page)
    assert _checked(page, 0) == 2

    # Scrolled to the foot of the step, the progress is still on screen.
    page.get_by_role("button", name="Next").scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    assert not _in_view(page, page.get_by_text("Hello Eleanor Shaw")), "nothing was scrolled"
    assert _in_view(page, page.get_by_test_id("stProgress").first)
    progress = page.get_by_test_id("stProgress").first.bounding_box()
    assert progress and progress["y"] >= 40, "the progress hides under the page's header"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Words typed and the page reloaded straight away, focus still in the box: they are
    # sent as the page goes, and are there when it opens again.
    box = page.get_by_test_id("stTextArea").locator("textarea")
    box.click()
    box.press_sequentially("Reloaded mid-sentence", delay=5)
    expect(box).to_be_focused()
    page.reload()
    wait_for_app(page)
    if _step(page)[0] > 1:  # its one question answered, the page opens on the next step
        page.get_by_role("button", name="Back").click()
        expect(page.get_by_text(re.compile(r"Step 1 of "))).to_be_visible()
        wait_for_app(page)
    expect(page.get_by_test_id("stTextArea").locator("textarea")).to_have_value(
        "Reloaded mid-sentence"
    )
    assert _stored_comment(served, "Reloaded mid-sentence"), "the comment was not saved"
    context.close()


def _stored_comment(served, text: str, seconds: float = 10) -> bool:
    """Whether the app has saved a comment with `text` (waiting up to `seconds`)."""
    engine = make_engine(served.db_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with Session(engine) as s:
                if s.exec(select(Comment).where(Comment.text == text)).first():
                    return True
            time.sleep(0.2)
        return False
    finally:
        engine.dispose()


def test_questionnaire_on_a_phone_screenshot(served, browser: Browser) -> None:
    """What a rater sees on a phone once past the introduction: the first step."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    goto(page, served.link("screenshot"))
    expect(page.get_by_text("Hello Dr Miriam Cole")).to_be_visible()
    page.get_by_test_id("stProgress").evaluate("el => el.scrollIntoView({block: 'start'})")
    wait_for_app(page)
    screenshot(page, "questionnaire-phone", full_page=False)
    context.close()
