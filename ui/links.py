"""Links that open a page on a chosen item: `/report?cycle=3&pairing=7` (the principal's
home, the "your report is ready" email, a deep link kept through sign-in)."""

from __future__ import annotations

import streamlit as st

from ui.pickers import choose


def follow_link(key: str, param: str) -> None:
    """Let the address's `?param=ID` choose that item in the picker `key`, once per address
    (a choice made on the page afterwards stands). An id the picker does not offer is
    ignored there, as any stale choice is."""
    raw = st.query_params.get(param)
    seen = f"{key}__linked"
    if raw is None or st.session_state.get(seen) == raw:
        return
    st.session_state[seen] = raw
    try:
        value = int(raw)
    except ValueError:
        return
    choose(key, value)
