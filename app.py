"""Tandem's router: page set-up, the rater's link, the sign-in gate and the navigation."""

import streamlit as st

from ui.auth import gate, sign_in_page
from ui.errors import friendly_errors
from ui.menu import pages_for

st.set_page_config(page_title="Tandem", page_icon=":material/handshake:", layout="wide")

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
