"""No request leaves the server (issue 17): a council network may block outside hosts, and
nothing about who uses Tandem should reach them. Every request Chromium makes — fonts,
icons, the tab's icon, scripts, images, charts — while an administrator visits every screen
and a rater opens their link goes to the Tandem server itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from browser_kit import assert_no_raw_errors, goto, sign_in, wait_for_app
from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SCREENS = [
    "People",
    "Pairings",
    "Cycles",
    "Pairing report",
    "Council overview",
    "Presentation",
    "Development plan",
    "Users",
    "Audit log",
    "Data protection",
]


def _record(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def _outside(urls: list[str], server: str) -> list[str]:
    home = urlsplit(server).netloc
    return [
        u
        for u in urls
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != home
    ]


def test_every_screen_is_served_without_an_outside_request(served, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = _record(page)
    try:
        sign_in(page, served, "admin")
        for title in SCREENS:
            menu = page.get_by_test_id("stSidebarNav")
            menu.get_by_role("link", name=title, exact=True).click()
            wait_for_app(page)
            assert_no_raw_errors(page)
            page.wait_for_timeout(500)  # charts and icons load a moment after the script ends
        goto(page, served.link("offline"))
        wait_for_app(page)
        page.wait_for_timeout(500)
    finally:
        context.close()
    assert len(seen) > 20, "the browser made too few requests for this test to mean anything"
    assert _outside(seen, served.url) == []


def test_the_checker_would_see_an_outside_request(served, browser: Browser) -> None:
    """The listener does see requests to another host (so an empty list above means
    something): a page that asks for an outside font is caught."""
    context = browser.new_context()
    page = context.new_page()
    seen = _record(page)
    page.route("https://fonts.gstatic.com/**", lambda route: route.abort())
    try:
        page.set_content('<link rel="stylesheet" href="https://fonts.gstatic.com/s/x.css"><p>x</p>')
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert _outside(seen, served.url) == ["https://fonts.gstatic.com/s/x.css"]
