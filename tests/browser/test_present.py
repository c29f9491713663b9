"""The presentation on a projector, in Chromium: full screen without the sidebar or
Streamlit's bar, driven by the keys a keyboard and a clicker send, every slide's title, words
and chart inside a 1280 × 720 screen, and type large enough at 1920 × 1080 (issue 19)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_kit import assert_no_raw_errors, drawn_charts, screenshot, sign_in, wait_for_app
from playwright.sync_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SLOW = 90_000  # the machine running the tests may be heavily loaded

# Boxes of what a slide shows (title, words, charts) and of the screen.
BOXES_JS = """() => {
    const box = e => { const b = e.getBoundingClientRect();
        return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; };
    const slide = document.querySelector('.st-key-slide');
    return {
        title: [...slide.querySelectorAll('h1')].map(box),
        words: [...slide.querySelectorAll('li, [data-testid="stMetric"], .slide-small')].map(box),
        charts: [...slide.querySelectorAll('.vega-embed svg, .vega-embed canvas')].map(box),
        width: window.innerWidth, height: window.innerHeight,
    };
}"""


def open_presentation(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Presentation", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Slide 1 of \d+$"))).to_be_visible(timeout=SLOW)
    wait_for_app(page, timeout=SLOW)


def present(page: Page) -> None:
    page.get_by_role("button", name="Present full screen").click()
    expect(page.get_by_role("button", name=re.compile("Leave presentation"))).to_be_visible(
        timeout=SLOW
    )
    wait_for_app(page, timeout=SLOW)
    page.locator(".st-key-slide h1").first.click()  # the keyboard's focus on the slide


def where(page: Page) -> tuple[int, int]:
    text = page.get_by_text(re.compile(r"^Slide \d+ of \d+$")).inner_text()
    found = re.search(r"Slide (\d+) of (\d+)", text)
    assert found, text
    return int(found[1]), int(found[2])


def press(page: Page, key: str, expected: int) -> None:
    page.keyboard.press(key)
    expect(page.get_by_text(re.compile(rf"^Slide {expected} of \d+$"))).to_be_visible(timeout=SLOW)
    wait_for_app(page, timeout=SLOW)


@pytest.fixture
def projector(served, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    sign_in(page, served, "facilitator")
    yield page
    context.close()


def test_keys_and_a_clicker_move_the_slides_and_esc_leaves(projector: Page) -> None:
    page = projector
    open_presentation(page)
    expect(page.get_by_test_id("stSidebar")).to_be_visible()  # not yet presenting
    present(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    for chrome in ("stHeader", "stToolbar", "stDecoration", "stSidebarCollapsedControl"):
        found = page.get_by_test_id(chrome)
        assert not any(found.nth(i).is_visible() for i in range(found.count())), chrome
    _, total = where(page)
    assert total > 10
    press(page, "ArrowRight", 2)
    press(page, "Space", 3)
    press(page, "ArrowLeft", 2)
    press(page, "PageDown", 3)  # what a presentation clicker sends
    press(page, "PageUp", 2)
    press(page, "End", total)
    press(page, "Home", 1)
    assert_no_raw_errors(page)
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Present full screen")).to_be_visible(timeout=SLOW)
    expect(page.get_by_test_id("stSidebar")).to_be_visible()


def test_every_slide_fits_a_1280_by_720_screen(projector: Page) -> None:
    """Title, words and chart of every slide inside the screen: nothing below the fold."""
    page = projector
    open_presentation(page)
    present(page)
    _, total = where(page)
    with_charts = 0
    for number in range(1, total + 1):
        if number > 1:
            press(page, "ArrowRight", number)
        if page.locator(".st-key-slide .vega-embed").count():
            drawn_charts(page, 1, timeout=SLOW)
            with_charts += 1
        boxes = page.evaluate(BOXES_JS)
        title = page.locator(".st-key-slide h1").first.inner_text()
        assert boxes["title"] and boxes["words"], f"slide {number} ({title}) is empty"
        for kind in ("title", "words", "charts"):
            for box in boxes[kind]:
                assert box["top"] >= 0 and box["left"] >= 0, (number, title, kind, box)
                assert box["bottom"] <= boxes["height"], (number, title, kind, box)
                assert box["right"] <= boxes["width"], (number, title, kind, box)
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    assert with_charts >= 5  # the scores, and each pairing's mirror and gaps


def test_large_type_at_1080p_and_a_screenshot(served, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(SLOW)
    try:
        sign_in(page, served, "facilitator")
        open_presentation(page)
        present(page)
        press(page, "ArrowRight", 2)
        size = page.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('.st-key-slide li'))"
            ".fontSize)"
        )
        assert size >= 24, f"body text {size} px at 1080p"
        # The scores: the number in each cell readable from the back of the room.
        while not page.locator(".st-key-slide h1", has_text="Partnership scores").count():
            press(page, "ArrowRight", where(page)[0] + 1)
        drawn_charts(page, 1, timeout=SLOW)
        cells = page.evaluate(
            "() => [...document.querySelectorAll("
            "'.st-key-slide .vega-embed g.mark-text.role-mark text')]"
            ".map(t => parseFloat(getComputedStyle(t).fontSize))"
        )
        assert len(cells) >= 9 and min(cells) >= 16, cells
        # A pairing's mirror, the slide the README shows.
        while not page.locator(".st-key-slide h1", has_text="The mirror: Cllr Tom").count():
            press(page, "ArrowRight", where(page)[0] + 1)
        drawn_charts(page, 1, timeout=SLOW)
        screenshot(page, "presentation-slide", full_page=False)
    finally:
        context.close()
