"""Set-up in Chromium (issue 17): the People list is fresh after an import, without a
reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_kit import open_page, sign_in, wait_for_app
from playwright.sync_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HEADER = "full_name,email,kind,title,portfolio,organisation\n"


def test_the_people_list_shows_an_import_at_once(served, browser: Browser, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, served, "facilitator")
        open_page(page, "People")
        caption = page.get_by_text(re.compile(r"^\d+ people\.$"))
        before = int(caption.inner_text().split()[0])
        grid = page.get_by_test_id("stDataFrame")
        expect(grid).to_be_visible()
        rows = "".join(
            f"Imported Person {i},imported{i}@x.example.org,member,,,\n" for i in range(11)
        )
        upload = tmp_path / "people.csv"
        upload.write_text(HEADER + rows, encoding="utf-8")
        page.get_by_role("tab", name="Import from a spreadsheet").click()
        page.locator("input[type=file]").set_input_files(str(upload))
        wait_for_app(page)
        page.get_by_role("button", name="Import 11 people").click()
        wait_for_app(page)
        expect(page.get_by_text("11 people added.", exact=False).first).to_be_visible()
        page.get_by_role("tab", name="People", exact=True).click()
        wait_for_app(page)
        expect(page.get_by_text(f"{before + 11} people.", exact=True)).to_be_visible()
        # The grid itself shows the new rows (Glide's grid names its row count).
        expect(
            page.get_by_test_id("stDataFrame").locator("[aria-rowcount]").first
        ).to_have_attribute("aria-rowcount", str(before + 11 + 1))
    finally:
        context.close()
