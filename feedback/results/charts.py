"""Altair charts of a pairing report and a council overview.

Every function takes a DataFrame the analysis engine produced (suppression has already
happened there) and returns its Vega-Lite spec (a `vega.Spec`, a dict; built with
feedback.results.vega, which writes what Altair would, without Altair's cost) from those
rows only: a
chart never adds, merges or reshapes rows in Python — reshaping is done by Vega-Lite
transforms on the rows it was given, so the data inside a saved spec is exactly the input.

Each chart has a title, plain-word axis titles, tooltips, the Okabe–Ito colour-blind-safe
palette with a shape as well as a colour for every source, and a `description` (alt text)
which `alt_text()` also returns for a page to print under the chart. `to_png`/`to_svg`
render any chart with vl-convert. No Streamlit here.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import pandas as pd
import vl_convert

from core.vocabulary import GROUP_LABELS
from feedback.results import vega as vl

# Okabe & Ito (2008), "Color Universal Design" — distinguishable with every common
# colour-vision deficiency.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "grey": "#7F7F7F",
    "black": "#000000",
}

SOURCE_LABELS = {
    "self": "Self",
    "partner": "Partner",
    "others": "Everyone else",
    "members": "Other councillors",
    "officers": "Other officers",
    "partners": "External partners",
}
SOURCE_STYLE = {  # source -> (colour, shape)
    "self": (OKABE_ITO["blue"], "circle"),
    "partner": (OKABE_ITO["vermillion"], "square"),
    "others": (OKABE_ITO["bluish green"], "triangle-up"),
    "members": (OKABE_ITO["reddish purple"], "diamond"),
    "officers": (OKABE_ITO["orange"], "cross"),
    "partners": (OKABE_ITO["sky blue"], "triangle-down"),
}
TARGET_LABELS = {"member": "the councillor", "officer": "the officer", "partnership": "the pair"}
GROUP_STYLE = {
    "principal": (OKABE_ITO["blue"], "circle"),
    "members": (OKABE_ITO["reddish purple"], "diamond"),
    "officers": (OKABE_ITO["orange"], "cross"),
    "partners": (OKABE_ITO["sky blue"], "triangle-down"),
}
FLAG_STYLE = {  # gap flag -> (label, colour, shape)
    "blind spot": ("Blind spot", OKABE_ITO["vermillion"], "triangle-right"),
    "hidden strength": ("Hidden strength", OKABE_ITO["blue"], "triangle-left"),
    "": ("Within range", OKABE_ITO["grey"], "circle"),
}
QUADRANT_STYLE = {  # Johari quadrant -> (colour, shape, corner as (others high?, self high?))
    "open strength": (OKABE_ITO["bluish green"], "circle", (True, True)),
    "blind spot": (OKABE_ITO["vermillion"], "triangle-up", (False, True)),
    "hidden strength": (OKABE_ITO["blue"], "square", (True, False)),
    "development area": (OKABE_ITO["orange"], "diamond", (False, False)),
}
MIRROR_VIEWS = {
    "member_view": ("The councillor's view", OKABE_ITO["reddish purple"], "diamond"),
    "officer_view": ("The officer's view", OKABE_ITO["orange"], "square"),
    "others_view": ("Everyone else's view", OKABE_ITO["bluish green"], "triangle-up"),
}
TREND_STYLE = {
    "previous": ("Previous cycle", OKABE_ITO["grey"], "circle"),
    "current": ("This cycle", OKABE_ITO["blue"], "triangle-right"),
}

# Chart text takes the app's theme (.streamlit/config.toml, [theme]: textColor on
# backgroundColor), set here once for every chart (`_finish`) so that the page, the PNG/SVG
# downloads, the PDF and the deck draw the same: Streamlit's own chart theme draws labels in
# #808495, 3.5:1 on the page, below WCAG's 4.5:1. tests/test_charts.py checks every text
# colour of every chart against BACKGROUND and that these match the theme file.
TEXT_COLOUR = "#0B1620"
MUTED_TEXT_COLOUR = "#39464F"  # subtitles and notes: still above 4.5:1 on BACKGROUND
BACKGROUND = "#FAF9F6"
FONT_SIZE = 12
CHART_CONFIG: dict[str, Any] = {
    "background": BACKGROUND,
    "axis": {
        "labelColor": TEXT_COLOUR,
        "titleColor": TEXT_COLOUR,
        "labelFontSize": FONT_SIZE,
        "titleFontSize": FONT_SIZE,
        "labelLimit": 0,
        "titleLimit": 0,
    },
    "legend": {
        "labelColor": TEXT_COLOUR,
        "titleColor": TEXT_COLOUR,
        "labelFontSize": FONT_SIZE,
        "titleFontSize": FONT_SIZE,
        "labelLimit": 0,
        "titleLimit": 0,
        "orient": "bottom",
        "direction": "vertical",
        # Two legends under a chart one above the other, not side by side: side by side
        # the second ran off a phone's screen (the Change chart's "Cycle"). Vega-Lite's
        # schema takes this Vega setting only as an expression.
        "layout": {"expr": "{bottom: {anchor: 'start', direction: 'vertical'}}"},
    },
    "title": {
        "color": TEXT_COLOUR,
        "subtitleColor": MUTED_TEXT_COLOUR,
        "fontSize": 15,
        "subtitleFontSize": FONT_SIZE,
        "limit": 0,
    },
    "text": {"color": TEXT_COLOUR},
    "header": {"labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR},
}
# Labels are wrapped onto lines of about this many characters (never cut short).
LABEL_CHARS = 24
ITEM_CHARS = 34
NOTE_CHARS = 60
LINE_HEIGHT = 15  # px per line of a wrapped label

SCALE = vl.Scale(domain=[1, 5], nice=False)
# Ticks at the scale's points and halfway between them (Vega-Lite's own choice, every 0.2,
# crowded the axis with 21 labels).
SCALE_POINTS = [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]
# Across a plot narrower than 300 px (a phone) only the whole points are numbered, so the
# numbers stay apart; the halfway ticks and grid lines stay. `width` is the plot's width.
SCALE_AXIS = vl.Axis(
    values=SCALE_POINTS,
    format="~g",
    labelExpr="width < 300 && datum.value % 1 ? '' : datum.label",
)
# Up the Johari scatter (always about 400 px tall): every tick numbered.
UPRIGHT_SCALE_AXIS = vl.Axis(values=SCALE_POINTS, format="~g")
WIDTH = 560
ROW_HEIGHT = 36  # px per row: room for the sources set a little apart on it
# Labels are never cut short (0: no limit); long ones are wrapped onto lines (`_wrapped_axis`).
LABEL_LIMIT = 0
# A pairing is named by its two people on an axis; the portfolio is in the tooltip.
PAIRING_AXIS = vl.Axis(labelLimit=LABEL_LIMIT, labelExpr="split(datum.label, ' (')[0]")

CHARTS = (
    "self_partner_others",
    "gap_bars",
    "johari_quadrant",
    "mirror",
    "council_heatmap",
    "trend",
    "response_rates",
    "rating_distribution",
)


# --- helpers ---------------------------------------------------------------------------


def _fmt(value: object) -> str:
    try:
        return f"{float(value):.1f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "not shown"


def _list(words: list[str]) -> str:
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _layer(*charts: vl.Chart) -> vl.LayerChart:
    """Charts drawn one over another in one panel."""
    return vl.layer(*charts)


def _height(n: int) -> int:
    return max(80, ROW_HEIGHT * max(n, 1))


def wrap(text: str, chars: int = LABEL_CHARS) -> list[str]:
    """A label as lines of about `chars` characters, every word kept (none cut short)."""
    return textwrap.wrap(str(text), chars, break_long_words=False, break_on_hyphens=False) or [
        str(text)
    ]


def _wrapped_axis(
    labels: Iterable[str],
    chars: int = LABEL_CHARS,
    extra: dict[str, str] | None = None,
    **kw: Any,
) -> vl.Axis:
    """An axis drawing each label in full, wrapped onto lines: a lookup from each label to
    its lines (Vega draws an array as lines), and no length limit. `extra` adds a last line
    under a label (a gap's reading)."""
    extra = extra or {}
    lines = {
        str(label): wrap(label, chars) + ([extra[str(label)]] if extra.get(str(label)) else [])
        for label in dict.fromkeys(labels)
    }
    lookup = json.dumps(lines, ensure_ascii=False)
    return vl.Axis(
        labelLimit=0,
        labelExpr=f"{lookup}[datum.label] || datum.label",
        labelPadding=6,
        labelOverlap=False,  # never hide a label (Vega hides labels it thinks overlap)
        **kw,
    )


def _rows_height(labels: Iterable[str], chars: int = LABEL_CHARS) -> int:
    """Height for rows of wrapped labels: a row is at least ROW_HEIGHT, taller for more lines."""
    rows = [max(ROW_HEIGHT, LINE_HEIGHT * (len(wrap(label, chars)) + 1) + 6) for label in labels]
    return max(80, sum(rows))


# A value beside its mark: right of it when it is 0 or more, left of it when below.
BESIDE: tuple[tuple[str, Literal["left", "right"], int], ...] = (
    (">=", "left", 10),
    ("<", "right", -10),
)


def _finish(chart: vl.Chart | vl.LayerChart) -> vl.Spec:
    """The chart's spec, with the theme's text colours, sizes and no label limits
    (CHART_CONFIG)."""
    return chart.configure(**CHART_CONFIG)


def _haloed(text_layer: vl.Chart) -> list[vl.Chart]:
    """A text layer drawn twice: first as a halo of the background's colour (so a line under
    a value does not strike through it), then the text itself in the theme's colour."""
    halo = text_layer.mark_text(
        **{**_mark_props(text_layer), "stroke": BACKGROUND, "strokeWidth": 4, "fill": BACKGROUND}
    )
    return [halo, text_layer]


def _mark_props(chart: vl.Chart) -> dict[str, Any]:
    return chart.mark_props()


def _notes_lines(notes: Sequence[str]) -> list[str]:
    return [line for note in notes for line in wrap(note, NOTE_CHARS)]


def _source_encodings(
    field: str,
    labels: dict[str, str],
    style: dict[str, tuple[str, str]],
    present: list[str],
    title: str,
) -> tuple[vl.Color, vl.Shape]:
    domain = [labels[k] for k in present]
    colours = [style[k][0] for k in present]
    shapes = [style[k][1] for k in present]
    color = vl.Color(
        f"{field}:N", title=title, scale=vl.Scale(domain=domain, range=colours), sort=domain
    )
    shape = vl.Shape(
        f"{field}:N", title=title, scale=vl.Scale(domain=domain, range=shapes), sort=domain
    )
    return color, shape


def _frame(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Only the named columns of the given rows: nothing else reaches the spec."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"The chart needs the columns {missing}.")
    return data.loc[:, columns].reset_index(drop=True)


def _with_target(data: pd.DataFrame, target: str | None) -> pd.DataFrame:
    if target is None or "target" not in data.columns:
        return data
    return data[data["target"] == target]


def _title(text: str, subtitle: str | None = None, notes: Sequence[str] = ()) -> vl.TitleParams:
    """The chart's title; its subtitle, then any notes (what is missing and why) as lines."""
    # Lines short enough for a phone's width (a title is never cut short: limit 0).
    lines = (wrap(subtitle, NOTE_CHARS) if subtitle else []) + _notes_lines(notes)
    if not lines:
        return vl.TitleParams(text=text, anchor="start")
    shown: str | list[str] = lines[0] if len(lines) == 1 and not notes else lines
    return vl.TitleParams(text=text, subtitle=shown, anchor="start")


# --- charts ----------------------------------------------------------------------------


def self_partner_others(
    data: pd.DataFrame,
    target: str | None = None,
    *,
    dimension_code: str | None = None,
    sources: tuple[str, ...] = ("self", "partner", "others"),
    threshold: int | None = None,
    names: dict[str, str] | None = None,
) -> vl.Spec:
    """Dot and line: each source's mean per dimension (report.dimensions), or per item of one
    dimension (report.items with dimension_code). A line joins the lowest and highest dot;
    each dot has its score beside it; the subtitle says which dots are missing and why
    (`missing_notes`: `names` maps "self"/"partner" to the person, `threshold` is the
    anonymity threshold)."""
    per_item = dimension_code is not None
    asked = _with_target(data, target)
    if per_item:
        asked = asked[asked["dimension_code"] == dimension_code]
    rows = asked[asked["source"].isin(sources) & asked["mean"].notna()]
    label = "item_text" if per_item else "dimension_name"
    cols = [label, "dimension_name", "target", "source", "mean", "n"]
    if per_item:
        cols = ["item_code", *cols]
    df = _frame(rows, list(dict.fromkeys(cols)))
    present = [s for s in sources if s in set(df["source"])]
    what = "item" if per_item else "dimension"
    about = TARGET_LABELS.get(target or "", "")
    name = df["dimension_name"].iloc[0] if per_item and len(df) else ""
    chars = ITEM_CHARS if per_item else LABEL_CHARS
    row_labels = list(dict.fromkeys(df[label]))
    notes = (
        missing_notes(
            asked, label, sources, row_labels, threshold=threshold, names=names, per_item=per_item
        )
        if row_labels
        else []
    )
    title = _title(
        f"{name}: ratings per item" if per_item else "How each source rates each dimension",
        f"Average rating of {about} on a 1–5 scale" if about else "Average rating on a 1–5 scale",
        notes,
    )
    base = vl.Chart(df).transform_calculate(
        source_label=_label_expr("source", {s: SOURCE_LABELS[s] for s in present})
    )
    y = vl.Y(
        f"{label}:N",
        title="Item" if per_item else "Dimension",
        sort=row_labels,
        axis=_wrapped_axis(row_labels, chars),
    )
    line = base.mark_rule(color=OKABE_ITO["grey"], strokeWidth=2).encode(
        y=y,
        x=vl.X(
            "min(mean):Q", scale=SCALE, axis=SCALE_AXIS, title="Average rating (1 = low, 5 = high)"
        ),
        x2="max(mean):Q",
    )
    color, shape = _source_encodings(
        "source_label", SOURCE_LABELS, SOURCE_STYLE, present, "Who rated"
    )
    # Each source a little apart on its row, so that equal means do not hide each other.
    offset = vl.YOffset(
        "source_label:N",
        sort=[SOURCE_LABELS[s] for s in present],
        scale=vl.Scale(paddingInner=0.4),
    )
    x = vl.X("mean:Q", scale=SCALE, axis=SCALE_AXIS, title="Average rating (1 = low, 5 = high)")
    dots = base.mark_point(filled=True, size=110, opacity=0.95).encode(
        y=y,
        yOffset=offset,
        x=x,
        color=color,
        shape=shape,
        tooltip=[
            vl.Tooltip(f"{label}:N", title="Item" if per_item else "Dimension"),
            vl.Tooltip("source_label:N", title="Who rated"),
            vl.Tooltip("mean:Q", title="Average rating", format=".2f"),
            vl.Tooltip("n:Q", title="Number of raters"),
        ],
    )
    values = base.mark_text(align="left", baseline="middle", dx=8, fontSize=11).encode(
        y=y, yOffset=offset, x=x, text=vl.Text("mean:Q", format=".1f")
    )
    chart = _layer(line, dots, *_haloed(values)).properties(
        title=title,
        width=WIDTH,
        height=_rows_height(row_labels, chars),
        description=alt_text(
            "self_partner_others", df, what=what, target=target, dimension_name=name
        )
        + "".join(f" {note}" for note in notes),
    )
    return _finish(chart)


GROUP_SOURCES = ("others", "members", "officers", "partners")
DEFAULT_WHO = {"self": "the person rated", "partner": "their partner"}


def missing_notes(
    asked: pd.DataFrame,
    label: str,
    sources: Sequence[str],
    row_labels: Sequence[str],
    *,
    threshold: int | None = None,
    names: dict[str, str] | None = None,
    per_item: bool = False,
) -> list[str]:
    """Plain sentences saying which dots a dot chart lacks and why: a source asked for but
    absent from every row (a group with too few replies is never given to the chart; self or
    partner answered "can't say" throughout or did not reply), or absent from some rows (that
    person answered "can't say" to every question of the dimension, or to the question)."""
    who = {**DEFAULT_WHO, **(names or {})}
    # Which rows each source has a shown mean on (a few dozen rows: plain Python is quicker
    # than a table operation per source).
    rated: dict[Any, set[Any]] = {}
    if "source" in asked.columns:
        means = asked["mean"].tolist() if "mean" in asked.columns else [0.0] * len(asked)
        for source, row, mean in zip(
            asked["source"].tolist(), asked[label].tolist(), means, strict=True
        ):
            if not _missing(mean):
                rated.setdefault(source, set()).add(row)
    notes: list[str] = []
    for source in sources:
        word = SOURCE_LABELS.get(source, source)
        mine = rated.get(source, set())
        if not mine:
            if source in GROUP_SOURCES:
                few = f"fewer than {threshold} replies" if threshold else "too few replies"
                notes.append(f"{word} not shown: {few}, so no one can be identified.")
            else:
                notes.append(f"No {word} dots: no rating from {who[source]} can be shown.")
            continue
        lacking = [r for r in row_labels if r not in mine]
        if not lacking:
            continue
        where = "this question" if per_item else "this dimension"
        if len(lacking) > 1:
            where = "these questions" if per_item else "each of these dimensions"
        if source in GROUP_SOURCES:
            why = f"too few {word.lower()} rated {where} to show"
        else:
            why = f"{who[source]} answered \u201ccan't say\u201d to every question in {where}"
            if per_item:
                why = f"{who[source]} answered \u201ccan't say\u201d to {where}"
        notes.append(f"No {word} dot for {_list(list(lacking))}: {why}.")
    return notes


def gap_bars(gaps: pd.DataFrame, target: str | None = None, *, threshold: float = 0.5) -> vl.Spec:
    """Diverging bars of self − others per dimension, centred on 0; blind spots (self
    clearly higher) and hidden strengths (self clearly lower) labelled and marked."""
    rows = _with_target(gaps, target)
    rows = rows[rows["gap"].notna()]
    df = _frame(
        rows,
        ["dimension_code", "dimension_name", "target", "self_mean", "others_mean", "gap", "flag"],
    )
    df["flag"] = df["flag"].fillna("")
    multi = df["target"].nunique() > 1
    base = vl.Chart(df).transform_calculate(
        flag_label=_label_expr("flag", {k: v[0] for k, v in FLAG_STYLE.items()}),
        row_label=(
            "datum.dimension_name + ' (' + " + _label_expr("target", TARGET_LABELS) + " + ')'"
            if multi
            else "datum.dimension_name"
        ),
    )
    # Room beyond the longest bar for its value.
    extent = max(1.5, float(df["gap"].abs().max()) * 1.2 + 0.3) if len(df) else 1.5
    x = vl.X(
        "gap:Q",
        title=["Self rating minus everyone else's", "(0 = they agree)"],
        scale=vl.Scale(domain=[-extent, extent]),
    )
    row_labels = [
        f"{d} ({TARGET_LABELS.get(t, t)})" if multi else str(d)
        for d, t in zip(df["dimension_name"], df["target"], strict=True)
    ]
    # A flagged row says its reading under its name (in words, beside the bar's colour).
    readings = {
        label: f"({FLAG_STYLE[flag][0].lower()})"
        for label, flag in zip(row_labels, df["flag"], strict=True)
        if flag
    }
    y = vl.Y(
        "row_label:N", title="Dimension", sort=None, axis=_wrapped_axis(row_labels, extra=readings)
    )
    flags = [k for k in FLAG_STYLE if k in set(df["flag"])] or [""]
    domain = [FLAG_STYLE[k][0] for k in flags]
    color = vl.Color(
        "flag_label:N",
        title="Reading",
        scale=vl.Scale(domain=domain, range=[FLAG_STYLE[k][1] for k in flags]),
    )
    shape = vl.Shape(
        "flag_label:N",
        title="Reading",
        scale=vl.Scale(domain=domain, range=[FLAG_STYLE[k][2] for k in flags]),
    )
    tooltip = [
        vl.Tooltip("dimension_name:N", title="Dimension"),
        vl.Tooltip("self_mean:Q", title="Self", format=".2f"),
        vl.Tooltip("others_mean:Q", title="Everyone else", format=".2f"),
        vl.Tooltip("gap:Q", title="Gap (self − others)", format="+.2f"),
        vl.Tooltip("flag_label:N", title="Reading"),
    ]
    bars = base.mark_bar(height=14).encode(x=x, y=y, color=color, tooltip=tooltip)
    ends = base.mark_point(filled=True, size=90).encode(
        x=x, y=y, color=color, shape=shape, tooltip=tooltip
    )
    # The gap beside each bar's end (and its reading, if flagged), in the theme's text colour.
    words = [
        base.transform_filter(f"datum.gap {sign} 0")
        .transform_calculate(value_text="format(datum.gap, '+.1f')")
        .mark_text(align=align, baseline="middle", dx=dx, fontSize=11, fontWeight="bold")
        .encode(x=x, y=y, text="value_text:N")
        for sign, align, dx in BESIDE
    ]
    # Zero and the ±threshold lines; aggregated to one row so no extra data is needed.
    zero = (
        base.transform_aggregate(rows="count()")
        .mark_rule(color=OKABE_ITO["black"])
        .encode(x=vl.datum(0))
    )
    limits = [
        base.transform_aggregate(rows="count()")
        .mark_rule(color=OKABE_ITO["grey"], strokeDash=[4, 4])
        .encode(x=vl.datum(v))
        for v in (-threshold, threshold)
    ]
    chart = _layer(bars, ends, *[h for w in words for h in _haloed(w)], zero, *limits).properties(
        title=_title(
            "Perception gaps: self against everyone else",
            f"Dashed lines at ±{threshold:.2f} (a third of the scale): beyond them a gap is "
            "a blind spot (right) or hidden strength (left) if enough people rated it and "
            "every item agrees",
        ),
        width=WIDTH,
        height=_rows_height(row_labels),
        description=alt_text("gap_bars", df, threshold=threshold),
    )
    return _finish(chart)


def johari_quadrant(
    gaps: pd.DataFrame,
    target: str | None = None,
    *,
    threshold: float = 0.5,
    high: float = 3.5,
) -> vl.Spec:
    """Self rating (up) against everyone else's (across), one point per dimension. The
    engine's quadrants are drawn as it defines them: above the line self = others + threshold
    a blind spot, below self = others − threshold a hidden strength, and between the two an
    open strength where others rate at least `high`, otherwise a development area."""
    rows = _with_target(gaps, target)
    rows = rows[rows["self_mean"].notna() & rows["others_mean"].notna()]
    df = _frame(rows, ["dimension_name", "target", "self_mean", "others_mean", "gap", "quadrant"])
    present = [q for q in QUADRANT_STYLE if q in set(df["quadrant"])] or list(QUADRANT_STYLE)
    base = vl.Chart(df)
    x = vl.X(
        "others_mean:Q", scale=SCALE, axis=SCALE_AXIS, title="How everyone else rates them (1–5)"
    )
    y = vl.Y(
        "self_mean:Q",
        scale=SCALE,
        axis=UPRIGHT_SCALE_AXIS,
        title="How they rate themselves (1–5)",
    )
    quadrant_colours = vl.Scale(domain=present, range=[QUADRANT_STYLE[q][0] for q in present])
    color = vl.Color("quadrant:N", title="Quadrant", scale=quadrant_colours)
    shape = vl.Shape(
        "quadrant:N",
        title="Quadrant",
        scale=vl.Scale(domain=present, range=[QUADRANT_STYLE[q][1] for q in present]),
    )
    points = base.mark_point(filled=True, size=140).encode(
        x=x,
        y=y,
        color=color,
        shape=shape,
        tooltip=[
            vl.Tooltip("dimension_name:N", title="Dimension"),
            vl.Tooltip("self_mean:Q", title="Self", format=".2f"),
            vl.Tooltip("others_mean:Q", title="Everyone else", format=".2f"),
            vl.Tooltip("gap:Q", title="Gap (self − others)", format="+.2f"),
            vl.Tooltip("quadrant:N", title="Quadrant"),
        ],
    )
    # Each name on a line of its own height, beside its point's x, joined to its point by
    # a thin line when set apart from it: names cannot print over each other at any width.
    labels = vl.Chart(_johari_labels(df))
    leaders = labels.mark_rule(color=OKABE_ITO["grey"], strokeWidth=1).encode(
        x=x, y=y, x2=vl.X2("label_x:Q"), y2=vl.Y2("label_y:Q")
    )
    label_x = vl.X("label_x:Q", scale=SCALE, axis=SCALE_AXIS)
    label_y = vl.Y("label_y:Q", scale=SCALE, axis=UPRIGHT_SCALE_AXIS)
    names = [
        layer
        for side, dx in (("left", -6), ("right", 6))
        for layer in _haloed(
            labels.transform_filter(f"datum.side == '{side}'")
            .mark_text(
                align="right" if side == "left" else "left",
                baseline="middle",
                dx=dx,
                fontSize=JOHARI_FONT_SIZE,
                lineBreak="\n",
                lineHeight=JOHARI_LINE,
            )
            .encode(x=label_x, y=label_y, text="label:N")
        )
    ]
    one = base.transform_aggregate(rows="count()")  # one row: each line drawn once
    t, lo, hi = threshold, 1.0, 5.0

    def segment(x1: float, y1: float, x2: float, y2: float, dash: list[int]) -> vl.Chart:
        rule: vl.Chart = one.mark_rule(color=OKABE_ITO["grey"], strokeDash=dash).encode(
            x=vl.XDatum(x1, scale=SCALE),
            y=vl.YDatum(y1, scale=SCALE),
            x2=vl.X2Datum(x2),
            y2=vl.Y2Datum(y2),
        )
        return rule

    lines = [
        segment(lo, lo, hi, hi, [1, 3]),  # where self and others agree
        segment(lo, lo + t, hi - t, hi, [5, 4]),  # above: blind spot
        segment(lo + t, lo, hi, hi - t, [5, 4]),  # below: hidden strength
        segment(high, high - t, high, high + t, [5, 4]),  # open strength | development area
    ]
    # Quadrant names: one per quadrant present, placed by Vega-Lite from the rows given.
    corners = (
        base.transform_aggregate(groupby=["quadrant"], rows="count()")
        .transform_calculate(
            cx="{'blind spot': 1.7, 'hidden strength': 4.3, 'open strength': 4.55,"
            " 'development area': 1.75}[datum.quadrant]",
            cy="{'blind spot': 4.85, 'hidden strength': 1.15, 'open strength': 4.95,"
            " 'development area': 1.25}[datum.quadrant]",
        )
        .mark_text(fontSize=12, fontWeight="bold", baseline="middle")
        .encode(
            x=vl.X("cx:Q", scale=SCALE),
            y=vl.Y("cy:Q", scale=SCALE),
            text=vl.Text("quadrant:N"),
        )
    )
    chart = _layer(*lines, corners, leaders, points, *names).properties(
        title=_title(
            "Johari window: self against everyone else",
            f"Dashed lines: self {threshold:.2f} above or below everyone else; between them, "
            f"everyone else at {high:g} or more is an open strength",
        ),
        width=440,
        height=440,
        description=alt_text("johari_quadrant", df),
    )
    return _finish(chart)


# The Johari window in words, in the 2×2's reading order (top left, top right, bottom
# left, bottom right): quadrant -> (heading, what it means).
QUADRANT_WORDS = {
    "open strength": ("Open strengths", "They and everyone else both rate it highly."),
    "blind spot": ("Blind spots", "They rate themselves clearly higher than everyone else does."),
    "hidden strength": (
        "Hidden strengths",
        "Everyone else rates them clearly higher than they rate themselves.",
    ),
    "development area": (
        "Development areas",
        "They and everyone else agree, and rate it below the high mark.",
    ),
}


def quadrant_words(
    gaps: pd.DataFrame, target: str | None = None
) -> list[tuple[str, str, list[str]]]:
    """The Johari window as a 2×2 in words, a plainer reading than the scatter: for each
    quadrant (in QUADRANT_WORDS order) its heading, what it means and its dimensions, each
    with its two scores ("Clear roles: self 4.5, everyone else 3.5"), as the engine placed
    them. Dimensions without both scores are in none."""
    # A handful of rows: read once as lists, each quadrant picked out in plain Python.
    targets = gaps["target"].tolist() if target is not None and "target" in gaps.columns else None
    rows = [
        (quadrant, name, own, others)
        for i, (quadrant, name, own, others) in enumerate(
            zip(
                gaps["quadrant"].tolist(),
                gaps["dimension_name"].tolist(),
                gaps["self_mean"].tolist(),
                gaps["others_mean"].tolist(),
                strict=True,
            )
        )
        if (targets is None or targets[i] == target) and not _missing(own) and not _missing(others)
    ]
    return [
        (
            heading,
            meaning,
            [
                f"{name}: self {_fmt(own)}, everyone else {_fmt(others)}"
                for placed, name, own, others in rows
                if placed == quadrant
            ],
        )
        for quadrant, (heading, meaning) in QUADRANT_WORDS.items()
    ]


# The Johari scatter's names: their size, the height of one line, and the characters a
# line holds (about 100 px, so that a name fits beside any point at a phone's width).
JOHARI_FONT_SIZE = 11
JOHARI_LINE = 13
JOHARI_CHARS = 16
# The plot is drawn about 400 px tall (440 asked, fitted to the page) for 4 points of the
# scale: 0.16 of a point (about 16 px) holds one line of a name with a little space, and
# names keep between 1.45 and 4.72, clear of the quadrants' names in the corners.
JOHARI_ROW = 0.16
JOHARI_GAP = 0.03
JOHARI_NAMES_BAND = (1.45, 4.72)


def _johari_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Names that cannot print over each other: each dimension's name is wrapped onto lines
    (JOHARI_CHARS) and given a height of its own on the chart (label_y), as close to its
    point's height as the names above and below allow — crowded names are spread evenly
    around their points' mean height, inside JOHARI_NAMES_BAND. A name goes on the left of
    its point in the right half of the chart (others_mean of 3 or more), else on the right,
    so it always has room at a phone's width. A handful of dimensions, so a plain loop.
    Returns others_mean, self_mean, label (lines joined by newlines), side and label_y."""
    ordered = df.sort_values(["self_mean", "others_mean"], ascending=[False, True])
    names = [wrap(str(name), JOHARI_CHARS) for name in ordered["dimension_name"]]
    heights = [JOHARI_ROW * len(lines) for lines in names]
    lo, hi = JOHARI_NAMES_BAND
    # Blocks of names that touch, top to bottom: (members, top). A name that would overlap
    # the block above joins it; a block is centred on its members' points, inside the band.
    blocks: list[tuple[list[int], float]] = []
    wanted_y = [float(v) for v in ordered["self_mean"]]
    for i, wanted in enumerate(wanted_y):
        members, top = [i], min(hi, max(lo + heights[i], float(wanted) + heights[i] / 2))
        while blocks:
            above, above_top = blocks[-1]
            above_bottom = above_top - sum(heights[j] for j in above) - JOHARI_GAP * len(above)
            if above_bottom >= top:
                break
            blocks.pop()
            members = above + members
            tall = sum(heights[j] for j in members) + JOHARI_GAP * (len(members) - 1)
            centre = sum(wanted_y[j] for j in members) / len(members)
            top = min(hi, max(lo + tall, centre + tall / 2))
        blocks.append((members, top))
    xs = [float(v) for v in ordered["others_mean"]]
    ys = [float(v) for v in ordered["self_mean"]]
    label_x, label_y, sides = list(xs), [0.0] * len(names), [""] * len(names)
    for members, top in blocks:
        order = list(members)
        # Runs of names side by side in the block: those of points right of the middle (3)
        # on their left, the others on their right; a run's names in one column beside its
        # points when it has room (left of points all right of 2.6, right of points all left
        # of 3.4), each joined to its point by a line, no two lines crossing.
        runs: list[list[int]] = []
        for j in order:
            if runs and (xs[runs[-1][0]] >= 3) == (xs[j] >= 3):
                runs[-1].append(j)
            else:
                runs.append([j])
        start = 0
        for run in runs:
            side = "left" if xs[run[0]] >= 3 else "right"
            anchor = min(xs[j] for j in run) if side == "left" else max(xs[j] for j in run)
            shared = anchor >= 2.6 if side == "left" else anchor <= 3.4
            for j in run:
                sides[j], label_x[j] = side, anchor if shared else xs[j]
            span = range(start, start + len(run))
            for _ in range(len(run) ** 2 if shared else 0):  # untangle crossing lines
                _stack(order, top, heights, label_y)
                crossing = next(
                    (
                        (a, b)
                        for a in span
                        for b in span
                        if a < b
                        and _crosses(
                            (xs[order[a]], ys[order[a]], anchor, label_y[order[a]]),
                            (xs[order[b]], ys[order[b]], anchor, label_y[order[b]]),
                        )
                    ),
                    None,
                )
                if crossing is None:
                    break
                a, b = crossing
                order[a], order[b] = order[b], order[a]
            start += len(run)
        _stack(order, top, heights, label_y)
    return pd.DataFrame(
        {
            "others_mean": xs,
            "self_mean": ys,
            "label": ["\n".join(lines) for lines in names],
            "side": sides,
            "label_x": label_x,
            "label_y": [round(v, 3) for v in label_y],
        }
    )


def _stack(order: list[int], top: float, heights: list[float], label_y: list[float]) -> None:
    """Each name's height (label_y) when the names in `order` are stacked down from `top`."""
    for j in order:
        label_y[j] = top - heights[j] / 2
        top -= heights[j] + JOHARI_GAP


def _crosses(
    one: tuple[float, float, float, float], other: tuple[float, float, float, float]
) -> bool:
    """Whether two line segments (x1, y1, x2, y2) cross (touching ends do not count)."""

    def turn(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> float:
        return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)

    p1, p2, q1, q2 = one[:2], one[2:], other[:2], other[2:]
    return (
        turn(*p1, *p2, *q1) * turn(*p1, *p2, *q2) < 0
        and turn(*q1, *q2, *p1) * turn(*q1, *q2, *p2) < 0
    )


def mirror(data: pd.DataFrame, *, names: dict[str, str] | None = None) -> vl.Spec:
    """The councillor's view of the partnership against the officer's and everyone else's,
    per partnership dimension (report.mirror); the subtitle says which dots are missing and
    why (`names` maps "member_view"/"officer_view" to the person)."""
    rows = data
    df = _frame(
        rows,
        [
            "dimension_code",
            "dimension_name",
            "member_view",
            "officer_view",
            "others_view",
            "others_n",
        ],
    )
    views = [v for v in MIRROR_VIEWS if df[v].notna().any()] or list(MIRROR_VIEWS)
    labels = {v: MIRROR_VIEWS[v][0] for v in views}
    fold: list[str] = list(views)
    base = (
        vl.Chart(df)
        .transform_fold(fold, as_=["view", "score"])
        .transform_filter("isValid(datum.score)")
        .transform_calculate(view_label=_label_expr("view", labels))
    )
    row_labels = list(dict.fromkeys(df["dimension_name"]))
    y = vl.Y(
        "dimension_name:N",
        title="Partnership dimension",
        sort=list(df["dimension_name"]),
        axis=_wrapped_axis(row_labels),
    )
    x_title = "Average rating of the partnership (1–5)"
    x = vl.X("score:Q", scale=SCALE, axis=SCALE_AXIS, title=x_title)
    line = base.mark_rule(color=OKABE_ITO["grey"], strokeWidth=2).encode(
        y=y, x=vl.X("min(score):Q", scale=SCALE, axis=SCALE_AXIS, title=x_title), x2="max(score):Q"
    )
    domain = [labels[v] for v in views]
    # Each view a little apart on its row, so that equal scores do not hide each other.
    offset = vl.YOffset("view_label:N", sort=domain, scale=vl.Scale(paddingInner=0.4))
    dots = base.mark_point(filled=True, size=120).encode(
        y=y,
        yOffset=offset,
        x=x,
        color=vl.Color(
            "view_label:N",
            title="Whose view",
            sort=domain,
            scale=vl.Scale(domain=domain, range=[MIRROR_VIEWS[v][1] for v in views]),
        ),
        shape=vl.Shape(
            "view_label:N",
            title="Whose view",
            sort=domain,
            scale=vl.Scale(domain=domain, range=[MIRROR_VIEWS[v][2] for v in views]),
        ),
        tooltip=[
            vl.Tooltip("dimension_name:N", title="Dimension"),
            vl.Tooltip("view_label:N", title="Whose view"),
            vl.Tooltip("score:Q", title="Average rating", format=".2f"),
            vl.Tooltip("others_n:Q", title="Others who rated"),
        ],
    )
    values = base.mark_text(align="left", baseline="middle", dx=8, fontSize=11).encode(
        y=y, yOffset=offset, x=x, text=vl.Text("score:Q", format=".1f")
    )
    notes = [
        f"No dot for the {MIRROR_VIEWS[v][0][4:]} on "
        f"{_list([str(n) for n in df.loc[df[v].isna(), 'dimension_name']])}: "
        + (
            "too few others rated it to show."
            if v == "others_view"
            else f"{(names or {}).get(v, 'they')} answered \u201ccan't say\u201d to every "
            "question in it."
        )
        for v in views
        if df[v].isna().any()
    ]
    notes += [
        f"{MIRROR_VIEWS[v][0][4:].capitalize()} not shown: "
        + ("too few replies to show." if v == "others_view" else "no rating that can be shown.")
        for v in MIRROR_VIEWS
        if v not in views
    ]
    chart = _layer(line, dots, *_haloed(values)).properties(
        title=_title(
            "The mirror: how each side sees the partnership",
            "The councillor's view against the officer's view against everyone else's",
            notes,
        ),
        width=WIDTH,
        height=_rows_height(row_labels),
        description=alt_text("mirror", df) + "".join(f" {n}" for n in notes),
    )
    return _finish(chart)


def council_heatmap(heatmap: pd.DataFrame) -> vl.Spec:
    """Partnership score of every pairing (rows) on every dimension (columns)."""
    df = _frame(
        heatmap[heatmap["score"].notna()],
        ["pairing_id", "pairing_label", "dimension_code", "dimension_name", "score", "n"],
    )
    base = vl.Chart(df)
    x = vl.X(
        "dimension_name:N",
        title="Dimension",
        sort=list(dict.fromkeys(df["dimension_name"])),
        axis=vl.Axis(labelAngle=-40, labelLimit=LABEL_LIMIT, labelOverlap=False),
    )
    y = vl.Y(
        "pairing_label:N",
        title="Pairing",
        sort=list(dict.fromkeys(df["pairing_label"])),
        axis=PAIRING_AXIS,
    )
    tooltip = [
        vl.Tooltip("pairing_label:N", title="Pairing"),
        vl.Tooltip("dimension_name:N", title="Dimension"),
        vl.Tooltip("score:Q", title="Partnership score", format=".2f"),
        vl.Tooltip("n:Q", title="Number of raters"),
    ]
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        x=x,
        y=y,
        color=vl.Color(
            "score:Q",
            title="Score (1–5)",
            # Viridis: perceptually even and readable with colour-vision deficiency.
            scale=vl.Scale(scheme="viridis", domain=[1, 5]),
        ),
        tooltip=tooltip,
    )
    text = base.mark_text(fontSize=11).encode(
        x=x,
        y=y,
        text=vl.Text("score:Q", format=".1f"),
        color=vl.condition("datum.score > 3.6", vl.value("black"), vl.value("white")),
        tooltip=tooltip,
    )
    chart = _layer(cells, text).properties(
        title=_title(
            "Partnership score by pairing and dimension",
            "Average rating of each partnership on a 1–5 scale; the number is in each cell",
        ),
        width=max(WIDTH, 60 * max(df["dimension_name"].nunique(), 1)),
        height=_height(df["pairing_label"].nunique()) + 20,
        description=alt_text("council_heatmap", df),
    )
    return _finish(chart)


def trend(
    change: pd.DataFrame,
    target: str | None = None,
    *,
    source: str | None = "others",
    previous_name: str = "Previous cycle",
    current_name: str = "This cycle",
) -> vl.Spec:
    """Previous against current score per dimension: a line from the earlier cycle's dot to
    this cycle's arrow head, coloured by the direction of change."""
    rows = _with_target(change, target)
    if source is not None and "source" in rows.columns:
        rows = rows[rows["source"] == source]
    df = _frame(
        rows,
        ["dimension_code", "dimension_name", "target", "source", "previous", "current", "change"],
    )
    labels = {"previous": previous_name, "current": current_name}
    base = vl.Chart(df).transform_calculate(
        direction="datum.change >= 0.05 ? 'Up' "
        ": (datum.change <= -0.05 ? 'Down' : 'About the same')"
    )
    row_labels = list(dict.fromkeys(df["dimension_name"]))
    y = vl.Y("dimension_name:N", title="Dimension", sort=row_labels, axis=_wrapped_axis(row_labels))
    x_title = "Average rating (1–5)"
    direction_domain = ["Up", "Down", "About the same"]
    line = base.mark_rule(strokeWidth=3).encode(
        y=y,
        x=vl.X("previous:Q", scale=SCALE, axis=SCALE_AXIS, title=x_title),
        x2="current:Q",
        color=vl.Color(
            "direction:N",
            title="Change",
            scale=vl.Scale(
                domain=direction_domain,
                range=[OKABE_ITO["bluish green"], OKABE_ITO["vermillion"], OKABE_ITO["grey"]],
            ),
        ),
        tooltip=[
            vl.Tooltip("dimension_name:N", title="Dimension"),
            vl.Tooltip("previous:Q", title=previous_name, format=".2f"),
            vl.Tooltip("current:Q", title=current_name, format=".2f"),
            vl.Tooltip("change:Q", title="Change", format="+.2f"),
        ],
    )
    domain = [labels["previous"], labels["current"]]
    points = (
        base.transform_fold(["previous", "current"], as_=["cycle", "score"])
        .transform_calculate(
            cycle_label=_label_expr("cycle", labels),
            # The arrow head points the way the score moved.
            arrow="datum.cycle == 'current' ? (datum.change < 0 ? 'Left' : 'Right') : 'None'",
        )
        .mark_point(filled=True, size=120)
        .encode(
            y=y,
            x=vl.X("score:Q", scale=SCALE, axis=SCALE_AXIS, title=x_title),
            color=vl.Color(
                "cycle_label:N",
                title="Cycle",
                sort=domain,
                scale=vl.Scale(
                    domain=domain, range=[TREND_STYLE["previous"][1], TREND_STYLE["current"][1]]
                ),
            ),
            shape=vl.Shape(
                "arrow:N",
                title="Direction",
                scale=vl.Scale(
                    domain=["None", "Right", "Left"],
                    range=["circle", "triangle-right", "triangle-left"],
                ),
                legend=None,
            ),
            tooltip=[
                vl.Tooltip("dimension_name:N", title="Dimension"),
                vl.Tooltip("cycle_label:N", title="Cycle"),
                vl.Tooltip("score:Q", title="Average rating", format=".2f"),
            ],
        )
    )
    # This cycle's score beside its arrow head, on the side the score moved to.
    values = [
        base.transform_filter(f"datum.change {sign} 0")
        .mark_text(align=align, baseline="middle", dx=dx, fontSize=11)
        .encode(
            y=y,
            x=vl.X("current:Q", scale=SCALE, axis=SCALE_AXIS, title=x_title),
            text=vl.Text("current:Q", format=".1f"),
        )
        for sign, align, dx in BESIDE
    ]
    who = SOURCE_LABELS.get(source or "", "")
    chart: vl.LayerChart = (
        _layer(line, points, *[h for v in values for h in _haloed(v)])
        .resolve_scale(color="independent")
        .properties(
            title=_title(
                f"Change since {previous_name}",
                f"{who}'s average rating: a dot for {previous_name}, an arrow head for "
                f"{current_name}"
                if who
                else None,
            ),
            width=WIDTH,
            height=_rows_height(row_labels),
            description=alt_text(
                "trend", df, previous_name=previous_name, current_name=current_name
            ),
        )
    )
    return _finish(chart)


def response_rates(rates: pd.DataFrame) -> vl.Spec:
    """Response rate of each rater group in each pairing (bars grouped by pairing)."""
    df = _frame(rates, ["pairing_id", "pairing_label", "group", "invited", "responded", "rate"])
    present = [g for g in GROUP_STYLE if g in set(df["group"])]
    domain = [GROUP_LABELS[g] for g in present]
    base = vl.Chart(df).transform_calculate(
        group_label=_label_expr("group", {g: GROUP_LABELS[g] for g in present})
    )
    y = vl.Y(
        "pairing_label:N",
        title="Pairing",
        sort=list(dict.fromkeys(df["pairing_label"])),
        axis=PAIRING_AXIS,
    )
    x = vl.X(
        "rate:Q",
        title="Share of invited raters who responded",
        scale=vl.Scale(domain=[0, 1]),
        axis=vl.Axis(format="%"),
    )
    color = vl.Color(
        "group_label:N",
        title="Group",
        sort=domain,
        scale=vl.Scale(domain=domain, range=[GROUP_STYLE[g][0] for g in present]),
    )
    shape = vl.Shape(
        "group_label:N",
        title="Group",
        sort=domain,
        scale=vl.Scale(domain=domain, range=[GROUP_STYLE[g][1] for g in present]),
    )
    offset = vl.YOffset("group_label:N", sort=domain)
    tooltip = [
        vl.Tooltip("pairing_label:N", title="Pairing"),
        vl.Tooltip("group_label:N", title="Group"),
        vl.Tooltip("invited:Q", title="Invited"),
        vl.Tooltip("responded:Q", title="Responded"),
        vl.Tooltip("rate:Q", title="Response rate", format=".0%"),
    ]
    bars = base.mark_bar(opacity=0.85).encode(
        x=x, y=y, yOffset=offset, color=color, tooltip=tooltip
    )
    ends = base.mark_point(filled=True, size=60, stroke="black", strokeWidth=0.5).encode(
        x=x, y=y, yOffset=offset, color=color, shape=shape, tooltip=tooltip
    )
    pairings = max(df["pairing_label"].nunique(), 1)
    chart = _layer(bars, ends).properties(
        title=_title("Response rates", "Share of each group's invited raters who submitted"),
        width=WIDTH,
        height=max(120, pairings * max(len(present), 1) * 14 + pairings * 8),
        description=alt_text("response_rates", df),
    )
    return _finish(chart)


RATING_COLOURS = [  # 1..5: a diverging Okabe–Ito ramp, low warm to high cool
    OKABE_ITO["vermillion"],
    OKABE_ITO["orange"],
    OKABE_ITO["grey"],
    OKABE_ITO["sky blue"],
    OKABE_ITO["blue"],
]


def rating_distribution(distribution: pd.DataFrame) -> vl.Spec:
    """How the ratings (1–5) of each dimension are spread, as stacked shares of all ratings."""
    df = _frame(
        distribution[distribution["count"] > 0],
        ["dimension_code", "dimension_name", "rating", "count"],
    )
    ratings = [1, 2, 3, 4, 5]
    chart: vl.Chart = (
        vl.Chart(df)
        .transform_joinaggregate(total="sum(count)", groupby=["dimension_name"])
        .transform_calculate(share="datum.count / datum.total")
        .mark_bar()
        .encode(
            y=vl.Y(
                "dimension_name:N",
                title="Dimension",
                sort=list(dict.fromkeys(df["dimension_name"])),
                axis=_wrapped_axis(df["dimension_name"]),
            ),
            x=vl.X(
                "sum(share):Q",
                title="Share of ratings",
                stack="normalize",
                axis=vl.Axis(format="%"),
            ),
            color=vl.Color(
                "rating:O",
                title="Rating (1 = low, 5 = high)",
                scale=vl.Scale(domain=ratings, range=RATING_COLOURS),
            ),
            order=vl.Order("rating:O", sort="ascending"),
            tooltip=[
                vl.Tooltip("dimension_name:N", title="Dimension"),
                vl.Tooltip("rating:O", title="Rating"),
                vl.Tooltip("count:Q", title="Number of ratings"),
                vl.Tooltip("share:Q", title="Share", format=".0%"),
            ],
        )
        .properties(
            title=_title(
                "How the ratings are spread",
                "Share of all shown ratings of the partnership at each point of the 1–5 scale",
            ),
            width=WIDTH,
            height=_rows_height(dict.fromkeys(df["dimension_name"])),
            description=alt_text("rating_distribution", df),
        )
    )
    return _finish(chart)


def description_of(chart: dict[str, Any]) -> str:
    """The alt text a chart carries (its Vega-Lite `description`)."""
    text = chart.get("description")
    return text if isinstance(text, str) else ""


# --- alt text ----------------------------------------------------------------------------


def alt_text(chart_name: str, data: pd.DataFrame, **context: object) -> str:
    """A plain-English description of a chart's content for screen readers and for a page
    to show under the chart. `data` is what the chart was given (or its filtered rows)."""
    if chart_name not in CHARTS:
        raise ValueError(f"There is no chart called {chart_name!r}.")
    if data is None or len(data) == 0:
        return "No results to show in this chart."
    return _ALT_TEXT[chart_name](data, **context)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _first_max(values: dict[Any, float], key: Any = None) -> Any:
    """The first key with the largest value (of `key(value)`), as pandas' idxmax."""
    best, found = None, None
    for k, v in values.items():
        v = key(v) if key else v
        if best is None or v > best:
            best, found = v, k
    return found


def _alt_self_partner_others(data: pd.DataFrame, **ctx: object) -> str:
    per_item = ctx.get("what") == "item"
    label = "item_text" if per_item and "item_text" in data.columns else "dimension_name"
    # Each row's mean per source, rows and sources in the order they first appear (as a
    # pivot table of the rows would give; a few dozen rows, so plain Python).
    cells: dict[Any, dict[Any, list[float]]] = {}
    columns: dict[Any, None] = {}
    for row, source, mean in zip(
        data[label].tolist(), data["source"].tolist(), data["mean"].tolist(), strict=True
    ):
        columns.setdefault(source, None)
        if not _missing(mean):
            cells.setdefault(row, {}).setdefault(source, []).append(float(mean))
    shown = {s for by_source in cells.values() for s in by_source}
    wide = {
        row: {s: sum(v) / len(v) for s, v in by_source.items()} for row, by_source in cells.items()
    }
    sources = [SOURCE_LABELS.get(s, s) for s in columns if s in shown]
    about = TARGET_LABELS.get(str(ctx.get("target") or ""), "")
    head = (
        f"Dot chart of average ratings (1 to 5) {'of ' + about + ' ' if about else ''}"
        f"for {len(wide)} {'items' if per_item else 'dimensions'}"
        + (f" of {ctx['dimension_name']}" if per_item and ctx.get("dimension_name") else "")
        + f", comparing {_list(sources)}."
    )
    if {"self", "others"} <= shown:
        diff = {
            row: means["self"] - means["others"]
            for row, means in wide.items()
            if "self" in means and "others" in means
        }
        if diff:
            name = _first_max(diff, abs)
            head += (
                f" The widest difference between self and everyone else is on {name}: "
                f"self {_fmt(wide[name]['self'])}, "
                f"everyone else {_fmt(wide[name]['others'])}."
            )
    best = {row: sum(means.values()) / len(means) for row, means in wide.items()}
    if len(best) > 1:
        lowest = _first_max(best, lambda v: -v)
        head += f" Highest overall: {_first_max(best)}; lowest: {lowest}."
    return head


def _alt_gap_bars(data: pd.DataFrame, **ctx: object) -> str:
    blind = data.loc[data["flag"] == "blind spot", "dimension_name"].tolist()
    hidden = data.loc[data["flag"] == "hidden strength", "dimension_name"].tolist()
    text = (
        f"Bar chart of the gap between self rating and everyone else's for {len(data)} "
        f"dimensions; bars to the right mean self rated higher. "
    )
    text += (f"Blind spots: {_list(blind)}. " if blind else "No blind spots. ") + (
        f"Hidden strengths: {_list(hidden)}." if hidden else "No hidden strengths."
    )
    return text


def _alt_johari(data: pd.DataFrame, **ctx: object) -> str:
    parts = []
    placed = list(zip(data["quadrant"].tolist(), data["dimension_name"].tolist(), strict=True))
    for quadrant in QUADRANT_STYLE:
        names = [name for q, name in placed if q == quadrant]
        if names:
            parts.append(f"{quadrant}: {_list(names)}")
    return (
        f"Scatter chart of self rating against everyone else's for {len(data)} dimensions, "
        f"in four quadrants. " + "; ".join(parts) + "."
    )


def _alt_mirror(data: pd.DataFrame, **ctx: object) -> str:
    text = (
        f"Dot chart comparing the councillor's, the officer's and everyone else's view of the "
        f"partnership on {len(data)} dimensions."
    )
    gap = (data["member_view"] - data["officer_view"]).abs().dropna()
    if len(gap):
        i = gap.idxmax()
        text += (
            f" The two principals differ most on {str(data.at[i, 'dimension_name'])}: councillor "
            f"{_fmt(data.at[i, 'member_view'])}, officer {_fmt(data.at[i, 'officer_view'])}, "
            f"everyone else {_fmt(data.at[i, 'others_view'])}."
        )
    return text


def _alt_heatmap(data: pd.DataFrame, **ctx: object) -> str:
    text = (
        f"Heat map of partnership scores for {data['pairing_label'].nunique()} pairings on "
        f"{data['dimension_name'].nunique()} dimensions."
    )
    hi = data.iloc[data["score"].argmax()]
    lo = data.iloc[data["score"].argmin()]
    text += (
        f" Highest: {hi['pairing_label']} on {hi['dimension_name']} ({_fmt(hi['score'])}). "
        f"Lowest: {lo['pairing_label']} on {lo['dimension_name']} ({_fmt(lo['score'])})."
    )
    return text


def _alt_trend(data: pd.DataFrame, **ctx: object) -> str:
    prev = ctx.get("previous_name", "the previous cycle")
    cur = ctx.get("current_name", "this cycle")
    up = data.loc[data["change"] >= 0.05, "dimension_name"].tolist()
    down = data.loc[data["change"] <= -0.05, "dimension_name"].tolist()
    text = f"Chart of the change in average rating from {prev} to {cur} on {len(data)} dimensions."
    text += f" Up: {_list(up)}." if up else " None went up."
    text += f" Down: {_list(down)}." if down else " None went down."
    return text


def _alt_rates(data: pd.DataFrame, **ctx: object) -> str:
    invited = int(data["invited"].sum())
    responded = int(data["responded"].sum())
    low = data.iloc[data["rate"].argmin()]
    return (
        f"Bar chart of response rates for {data['pairing_label'].nunique()} pairings by rater "
        f"group: {responded} of {invited} invited raters responded overall. Lowest: "
        f"{GROUP_LABELS.get(low['group'], low['group'])} for {low['pairing_label']} "
        f"({float(low['rate']):.0%})."
    )


def _alt_distribution(data: pd.DataFrame, **ctx: object) -> str:
    totals = data.groupby("dimension_name", sort=False)["count"].sum()
    high = data[data["rating"] >= 4].groupby("dimension_name", sort=False)["count"].sum()
    share = (high.reindex(totals.index).fillna(0) / totals).sort_values()
    return (
        f"Stacked bar chart of how {int(totals.sum())} ratings spread over the 1–5 scale on "
        f"{len(totals)} dimensions. Most 4s and 5s: {share.index[-1]} ({share.iloc[-1]:.0%}); "
        f"fewest: {share.index[0]} ({share.iloc[0]:.0%})."
    )


_ALT_TEXT = {
    "self_partner_others": _alt_self_partner_others,
    "gap_bars": _alt_gap_bars,
    "johari_quadrant": _alt_johari,
    "mirror": _alt_mirror,
    "council_heatmap": _alt_heatmap,
    "trend": _alt_trend,
    "response_rates": _alt_rates,
    "rating_distribution": _alt_distribution,
}


def _label_expr(field: str, labels: dict[str, str]) -> str:
    """A Vega expression mapping a field's codes to plain words (unknown codes unchanged)."""
    expr = f"datum.{field}"
    for code, label in reversed(list(labels.items())):
        code_s = code.replace("'", "\\'")
        label_s = label.replace("'", "\\'")
        expr = f"datum.{field} == '{code_s}' ? '{label_s}' : ({expr})"
    return expr


# --- export ------------------------------------------------------------------------------


def _spec(chart: dict[str, Any]) -> dict[str, Any]:
    return chart


def export_heading(*parts: object) -> str:
    """What an exported chart is about, as its first title line: the pairing, the council
    and the cycle (or the council and the cycle), joined by " · ", blanks left out."""
    return " · ".join(str(p) for p in parts if p is not None and str(p).strip())


def titled(chart: dict[str, Any], heading: str | None) -> dict[str, Any]:
    """The chart's spec with `heading` (`export_heading`) as its title's first line, so that
    a downloaded image says whose chart it is. The chart's own spec is left unchanged."""
    spec = dict(_spec(chart))
    if not heading:
        return spec
    title = spec.get("title")
    title = dict(title) if isinstance(title, dict) else {"text": title or ""}
    text = title.get("text") or []
    lines = text if isinstance(text, list) else [text]
    title["text"] = [heading, *[line for line in lines if line]]
    title.setdefault("anchor", "start")
    spec["title"] = title
    return spec


def to_png(chart: dict[str, Any], scale: float = 2.0, *, heading: str | None = None) -> bytes:
    """The chart (or its Vega-Lite spec) as a PNG image (vl-convert, no browser needed),
    titled with `heading` first when given."""
    return vl_convert.vegalite_to_png(titled(chart, heading), scale=scale)


def to_svg(chart: dict[str, Any], *, heading: str | None = None) -> str:
    """The chart (or its Vega-Lite spec) as an SVG document, titled with `heading` first."""
    return vl_convert.vegalite_to_svg(titled(chart, heading))
