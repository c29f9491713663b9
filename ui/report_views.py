"""Streamlit pieces shared by the report, council overview and presentation pages: a chart
with its alt text and PNG/SVG downloads (a published edition's charts built once and kept),
and file names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import altair as alt
import streamlit as st

from feedback.results import charts
from ui.state import get_engine
from ui.text import show

__all__ = ["display_height", "edition_identity", "show_chart", "slug"]


Chart = alt.TopLevelMixin | Callable[[], alt.TopLevelMixin]


def _unchecked_spec(chart: Chart) -> dict[str, Any]:
    # Altair checks a spec against the whole Vega-Lite schema each time it is converted
    # (0.1–0.3 s a chart, most of a report page's time). The chart builders' specs are
    # validated by the tests (test_charts), so the page converts each chart once, unchecked.
    built = chart() if callable(chart) else chart
    return built.to_dict(validate=False)


@st.cache_data(max_entries=2000, show_spinner=False)
def _kept_spec(identity: tuple, _chart: Chart) -> dict[str, Any]:
    """A chart of a published edition: an edition never changes, so its charts are built
    once per server process. Only reached after the page has read the edition through
    feedback.results.publication, so the cache never shows a chart to someone who could not
    read it."""
    return _unchecked_spec(_chart)


def edition_identity(meta: dict[str, Any]) -> tuple | None:
    """What identifies a published report for good (None for live results, which change):
    the database, the cycle, the pairing, the edition and when it was published."""
    if not meta.get("edition") or not meta.get("published_at"):
        return None
    return (
        get_engine().url.render_as_string(hide_password=True),
        meta.get("cycle_id"),
        meta.get("pairing_id"),
        meta["edition"],
        meta["published_at"],
    )


def show_chart(
    chart: Chart, name: str, key: str, downloads: bool = True, keep_as: tuple | None = None
) -> None:
    """The chart full width, its description in an expander, and PNG/SVG downloads made only
    when clicked. `chart` may be a function that builds it; with `keep_as` (a published
    edition's identity plus the chart's own arguments) it is built once and kept."""
    spec = _kept_spec(keep_as, chart) if keep_as is not None else _unchecked_spec(chart)
    description = spec.get("description")
    # The spec's description is the accessible name (alt= would override it with the same).
    # Streamlit fits a stretched chart into the height it is given, so give it the plot's
    # height plus room for the title, the axis and its labels.
    st.vega_lite_chart(spec, width="stretch", height=display_height(spec), key=f"chart_{key}")
    with st.expander("Chart description", icon=":material/description:"):
        show(description if isinstance(description, str) else "")
    if not downloads:
        return
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "PNG",
        lambda: charts.to_png(spec),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"png_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as an image",
    )
    right.download_button(
        "SVG",
        lambda: charts.to_svg(spec),
        file_name=f"{name}.svg",
        mime="image/svg+xml",
        key=f"svg_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as a scalable drawing",
    )


def display_height(spec: dict) -> int:
    """The height to give a chart (its Vega-Lite spec) on the page."""
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
