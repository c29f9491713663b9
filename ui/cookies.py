"""Setting a cookie from a page. Streamlit reads cookies (`st.context.cookies`, as sent when
the page loaded) but sets none, so a tiny inline component (CCv2: it runs in the page,
not in an iframe) writes it with `document.cookie`. The value travels as data, never as
code."""

from __future__ import annotations

import streamlit as st

_SET_COOKIE = st.components.v2.component(
    "tandem_set_cookie",
    html="<span></span>",
    js="""
export default function ({ data }) {
  if (!data || !data.name) return
  const secure = location.protocol === "https:" ? "; Secure" : ""
  document.cookie = `${data.name}=${encodeURIComponent(data.value)}; path=/; ` +
    `max-age=${data.seconds}; SameSite=Strict${secure}`
}
""",
)


def keep_cookie(name: str, value: str, days: int, *, key: str) -> None:
    """Ask the browser to keep `name=value` for `days` days (first-party, SameSite=Strict)."""
    _SET_COOKIE(data={"name": name, "value": value, "seconds": days * 86400}, key=key, height=0)
