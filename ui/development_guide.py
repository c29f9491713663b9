"""The development guide drawn as one expander per dimension (the report and plan pages)."""

from __future__ import annotations

import re

import streamlit as st

from planning.development_guide import GuideEntry
from ui.text import bullets, show, show_html

# A label is Markdown in the browser: a framework's dimension name goes into one only if it
# holds nothing but letters, digits, spaces and plain punctuation (no link can form).
_PLAIN = re.compile(r"(?:[^\W_]|[ ,'’–&()-])+")


def safe_label(name: str, fallback: str) -> str:
    return name if name and _PLAIN.fullmatch(name) else fallback


def show_guide(entries: list[GuideEntry], member: str, officer: str) -> None:
    """What good looks like for each of the two and for the pair, and practical actions."""
    for n, e in enumerate(entries, start=1):
        with st.expander(safe_label(e.name, f"Dimension {n}"), icon=":material/school:"):
            show("What good looks like", kind="strong")
            show_html(
                bullets(
                    [
                        f"{member} (the member): {e.member}",
                        f"{officer} (the officer): {e.officer}",
                        f"Together: {e.pair}",
                    ]
                )
            )
            show("Practical actions", kind="strong")
            show_html(bullets(e.actions))
            if e.elements:
                show("Speaks to: {}", "; ".join(e.elements), kind="caption")
