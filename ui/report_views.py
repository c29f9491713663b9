"""Streamlit pieces shared by the report, council overview and presentation pages: a chart
with its alt text and PNG/SVG downloads (a published edition's charts built once and kept),
and file names."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.dataframe_util import convert_arrow_table_to_arrow_bytes

from feedback.results import charts
from ui.state import get_engine
from ui.text import show

__all__ = ["chart_key", "display_height", "edition_identity", "show_chart", "with_arrow_data"]


Chart = Callable[[], dict[str, Any]] | dict[str, Any]


def _built(chart: Chart) -> dict[str, Any]:
    # The chart builders (feedback.results.charts) give plain Vega-Lite specs, checked
    # against the schema by the tests (test_charts, test_vega), not on every page run.
    return chart() if callable(chart) else chart


@st.cache_data(max_entries=2000, show_spinner=False)
def _kept_spec(key: tuple[Any, ...], _chart: Chart) -> dict[str, Any]:
    """A chart of a published edition, kept under `key` (see `chart_key`): an edition never
    changes, so its charts are built once per server process. Only reached after the page
    has read the edition through feedback.results.publication, so the cache never shows a
    chart to someone who could not read it."""
    return _built(_chart)


def edition_identity(meta: dict[str, Any]) -> tuple[Any, ...] | None:
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


# Tables already fingerprinted, each kept with the table itself (so an id is never reused
# while it is here): a page passes the same report table to several charts. A report's
# tables are read-only (pages filter them into new tables, never change one in place).
_DIGESTS: dict[int, tuple[pd.DataFrame, object]] = {}
_DIGESTS_KEPT = 64


def _fingerprint(value: object) -> object:
    """An argument of a chart builder as part of a cache key: a table by its columns and a
    digest of its content, anything else as it is."""
    if isinstance(value, pd.DataFrame):
        known = _DIGESTS.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        found = _table_digest(value)
        if len(_DIGESTS) >= _DIGESTS_KEPT:
            _DIGESTS.pop(next(iter(_DIGESTS)))
        _DIGESTS[id(value)] = (value, found)
        return found
    if isinstance(value, list | tuple):
        return tuple(_fingerprint(v) for v in value)
    return value


def _table_digest(value: pd.DataFrame) -> object:
    try:
        digest = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
    except TypeError:  # cells holding lists or dicts
        digest = value.to_json(orient="split", default_handler=str).encode()
    return ("table", tuple(map(str, value.columns)), hashlib.sha256(digest).hexdigest())


def chart_key(edition: tuple[Any, ...] | None, chart: Chart) -> tuple[Any, ...] | None:
    """The key a published edition's chart is kept by: the edition's identity and the
    chart's own inputs — its builder and every argument the builder is given (tables by
    content). None (build it each time) for live results, or a chart already built."""
    if edition is None or not isinstance(chart, partial):
        return None
    builder = f"{chart.func.__module__}.{chart.func.__qualname__}"
    return (
        *edition,
        builder,
        tuple(_fingerprint(a) for a in chart.args),
        tuple(sorted((k, _fingerprint(v)) for k, v in chart.keywords.items())),
    )


def show_chart(
    chart: Chart,
    name: str,
    key: str,
    downloads: bool = True,
    edition: tuple[Any, ...] | None = None,
    heading: str | None = None,
) -> None:
    """The chart full width, its description in an expander, and PNG/SVG downloads made only
    when clicked. `chart` may be a builder with its arguments (functools.partial); with
    `edition` (a published edition's `edition_identity`) it is built once and kept, keyed
    by the edition and the builder's arguments (`chart_key`). `heading` (the pairing,
    council and cycle: `charts.export_heading`) titles the downloaded PNG and SVG."""
    kept = chart_key(edition, chart)
    spec = _kept_spec(kept, chart) if kept is not None else _built(chart)
    description = spec.get("description")
    # The spec's description is the accessible name (alt= would override it with the same).
    # Streamlit fits a stretched chart into the height it is given, so give it the plot's
    # height plus room for the title, the axis and its labels.
    st.vega_lite_chart(
        with_arrow_data(spec), width="stretch", height=display_height(spec), key=f"chart_{key}"
    )
    with st.expander("Chart description", icon=":material/description:"):
        show(description if isinstance(description, str) else "")
    if not downloads:
        return
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "PNG",
        lambda: charts.to_png(spec, heading=heading),
        file_name=f"{name}.png",
        mime="image/png",
        key=f"png_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as an image",
    )
    right.download_button(
        "SVG",
        lambda: charts.to_svg(spec, heading=heading),
        file_name=f"{name}.svg",
        mime="image/svg+xml",
        key=f"svg_{key}",
        on_click="ignore",
        icon=":material/download:",
        help="Save this chart as a scalable drawing",
    )


def with_arrow_data(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the page sends it: each dataset's rows as Arrow bytes, made straight from
    the rows. Streamlit would otherwise make a pandas table of each dataset to convert it
    (most of the time it takes to send a chart). The spec itself is left unchanged."""
    datasets = spec.get("datasets")
    if not isinstance(datasets, dict) or not datasets:
        return spec
    return {
        **spec,
        "datasets": {
            name: _arrow_bytes(rows)
            if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows)
            else rows
            for name, rows in datasets.items()
        },
    }


def _arrow_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Rows as the Arrow table Streamlit's own conversion (through pandas) gives: text as
    large strings, numbers as float64 and int64, a missing value as null."""
    table = pa.Table.from_pylist(rows)
    schema = pa.schema(
        [
            pa.field(f.name, pa.large_string()) if pa.types.is_string(f.type) else f
            for f in table.schema
        ]
    )
    return cast(bytes, convert_arrow_table_to_arrow_bytes(table.cast(schema)))


def display_height(spec: dict[str, Any]) -> int:
    """The height to give a chart (its Vega-Lite spec) on the page: Streamlit fits a chart
    into it, so it must hold the plot, the title and every subtitle line (the notes on what
    is missing), the x-axis and the legend below the plot (one line per entry)."""
    plot = spec.get("height")
    plot = plot if isinstance(plot, int | float) else 300
    layers = spec.get("layer", [spec])
    angled = any(
        layer.get("encoding", {}).get("x", {}).get("axis", {}).get("labelAngle") for layer in layers
    )
    title = spec.get("title")
    title = title if isinstance(title, dict) else {"text": title}
    lines = {
        key: len(value) if isinstance(value, list) else (1 if value else 0)
        for key, value in ((k, title.get(k)) for k in ("text", "subtitle"))
    }
    legends = {  # one legend per field coloured or shaped by: its entries
        channel.get("field"): len(channel.get("scale", {}).get("domain") or [])
        for layer in layers
        for name, channel in layer.get("encoding", {}).items()
        if name in ("color", "shape")
        and isinstance(channel, dict)
        and channel.get("field")
        and channel.get("legend", {}) is not None
    }
    legend = sum(30 + 20 * n for n in legends.values() if n)
    return (
        int(plot)
        + 70
        + 22 * lines["text"]
        + 17 * lines["subtitle"]
        + legend
        + (90 if angled else 0)
    )
