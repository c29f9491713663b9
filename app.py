"""Tandem's router: page set-up, the rater's link, the sign-in gate and the navigation."""

from pathlib import Path

import streamlit as st

import ui.reminder_scheduler  # noqa: F401 - starts the reminder schedule's thread, once per process
from ui.accessibility import page_styles
from ui.auth import follow_deep_link, gate, reset_page, sign_in_pages
from ui.errors import friendly_errors
from ui.long_lived import settle_after_first_run
from ui.menu import pages_for

# The browser tab's icon is a file served by this server: a ":material/…:" page icon makes
# the browser fetch it from fonts.gstatic.com, which a council network may block.
ICON = Path(__file__).parent / "data" / "brand" / "tandem-icon.png"
st.set_page_config(page_title="Tandem", page_icon=str(ICON), layout="wide")
page_styles()


def _route() -> None:
    # A rater's personal link (?t=…) opens that rater's questionnaire and nothing else, and
    # needs no account.
    if "t" in st.query_params:
        with friendly_errors():
            st.navigation(pages_for(None, rater_link=True), position="hidden").run()
        return

    # An emailed one-time link to set a new password (?reset=…): that form and nothing else.
    if "reset" in st.query_params:
        with friendly_errors():
            st.navigation(
                [st.Page(reset_page, title="Set a new password", icon=":material/key:")],
                position="hidden",
            ).run()
        return

    with friendly_errors():
        actor = gate()
        if actor is None:
            # Whatever page was asked for, a visitor who has not signed in gets the sign-in
            # form, at that page's address: after sign-in the page asked for opens, with its
            # query.
            st.navigation(sign_in_pages(), position="hidden").run()
            return
        pages = pages_for(actor)
        navigation = st.navigation(pages)
        follow_deep_link(pages)  # a deep link opened before the router ran
        navigation.run()


try:
    _route()
finally:
    settle_after_first_run()  # once per process, however the first run ended
