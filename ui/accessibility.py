"""Styles every page carries for WCAG 2.2 AA where Streamlit's own widgets fall short
(tests/browser/test_accessibility_axe.py runs axe-core on every page)."""

from __future__ import annotations

import streamlit as st

# WCAG 2.5.8 (target size, minimum): the day, month and year of a date box are each a
# separate target 18 px wide and 20 px tall in Streamlit's date input; 24 × 24 at least.
# The accessibility statement's own text: paragraphs and lists spaced as Streamlit's Markdown.
PAGE_CSS = """<style>
[data-testid="stDateInput"] [role="spinbutton"] {
  display: inline-block; min-width: 24px; min-height: 24px; line-height: 24px;
  text-align: center;
}
.tandem-statement p, .tandem-statement ul { margin: 0 0 0.75rem 0; }
.tandem-statement li { margin: 0.15rem 0; }
</style>"""


def page_styles() -> None:
    """Draw the styles (no space on the page); app.py calls it before any page runs."""
    st.html(PAGE_CSS)
