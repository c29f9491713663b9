"""Streamlit pieces shared by the report, council overview and presentation pages: a chart
with its alt text and PNG/SVG downloads, text shown exactly as written, and errors."""

from __future__ import annotations

import re

import altair as alt
import streamlit as st

from feedback import charts
from feedback.errors import Invalid, NotFound, PermissionDenied, TandemError
from ui.text import plain

__all__ = ["display_height", "plain", "show_chart", "show_error", "slug"]


def show_error(exc: TandemError) -> None:
    if isinstance(exc, PermissionDenied):
        st.warning(plain(exc), icon=":material/lock:")
    elif isinstance(exc, NotFound):
        st.warning(plain(exc), icon=":material/search_off:")
    else:
        st.error(plain(exc), icon=":material/error:")
    if isinstance(exc, Invalid) and exc.problems:
        for problem in exc.problems:
            st.text(f"• {problem}")


def show_chart(chart: alt.TopLevelMixin, name: str, key: str, downloads: bool = True) -> None:
    """The chart full width, its description in an expander, and PNG/SVG downloads made only
    when clicked."""
    description = charts.description_of(chart)
    # The spec's description is the accessible name (alt= would override it with the same).
    # Streamlit fits a stretched chart into the height it is given, so give it the plot's
    # height plus room for the title, the axis and its labels.
    st.altair_chart(chart, width="stretch", height=display_height(chart), key=f"chart_{key}")
    with st.expander("Chart description", icon=":material/description:"):
        st.markdown(plain(description))
    if not downloads:
        return
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "PNG",
        lambda: charts.to_png(chart),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"png_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as an image",
    )
    right.download_button(
        "SVG",
        lambda: charts.to_svg(chart),
        file_name=f"{name}.svg",
        mime="image/svg+xml",
        key=f"svg_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as a scalable drawing",
    )


def display_height(chart: alt.TopLevelMixin) -> int:
    spec = chart.to_dict()
    plot = spec.get("height")
    plot = plot if isinstance(plot, int | float) else 300
    angled = any(
        layer.get("encoding", {}).get("x", {}).get("axis", {}).get("labelAngle")
        for layer in spec.get("layer", [spec])
    )
    return int(plot) + 120 + (90 if angled else 0)


def slug(*parts: object) -> str:
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"
