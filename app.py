"""Tandem's router: page set-up, the rater's link, the sign-in gate and the navigation."""

from pathlib import Path

import streamlit as st

import ui.reminder_scheduler  # noqa: F401 - starts the reminder schedule's thread, once per process
from ui.auth import gate, sign_in_page
from ui.errors import friendly_errors
from ui.menu import pages_for

# The browser tab's icon is a file served by this server: a ":material/…:" page icon makes
# the browser fetch it from fonts.gstatic.com, which a council network may block.
ICON = Path(__file__).parent / "data" / "brand" / "tandem-icon.png"
st.set_page_config(page_title="Tandem", page_icon=str(ICON), layout="wide")

# A rater's personal link (?t=…) opens that rater's questionnaire and nothing else, and
# needs no account.
if "t" in st.query_params:
    with friendly_errors():
        st.navigation(pages_for(None, rater_link=True), position="hidden").run()
    st.stop()

with friendly_errors():
    actor = gate()
    if actor is None:
        # Whatever page was asked for, a visitor who has not signed in gets this one only.
        st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")]).run()
        st.stop()
    st.navigation(pages_for(actor)).run()
