"""Notices that survive a rerun: a page that acts and then calls st.rerun() (so everything
on it is read again) says what it did with `flash`; the next run shows it once, at the top
of the page (ui.state.current_actor, which every signed-in page calls first, shows it).
An st.success before st.rerun() is never seen: the rerun throws that run's page away."""

from __future__ import annotations

import streamlit as st

from ui.text import AlertKind, alert

KEY = "ui_notices"
ICONS: dict[str, str] = {"success": "check_circle"}


def flash(kind: AlertKind, text: str, /, *args: object, icon: str | None = None) -> None:
    """Show `text` (a template as for ui.text.alert: `args` are user text, escaped) at the
    top of the next run of the page."""
    pending: list[tuple[AlertKind, str, tuple[str, ...], str | None]] = st.session_state.setdefault(
        KEY, []
    )
    pending.append((kind, text, tuple(str(a) for a in args), icon or ICONS.get(kind)))


def show_notices() -> None:
    """Every notice flashed since the last run, once, in order."""
    for kind, text, args, icon in st.session_state.pop(KEY, []):
        alert(kind, text, *args, icon=icon)
