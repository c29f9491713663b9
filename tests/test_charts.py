"""The Altair charts: encodings, titles, tooltips, shapes, alt text, PNG/SVG export, and
that a chart's spec carries no data beyond the rows it was given.

Built from small hand-made DataFrames shaped like the analysis engine's results, so the
charts are tested on exactly what they are handed."""

from __future__ import annotations

import json
import math

import altair as alt
import pandas as pd
import pytest

from feedback.results import charts

DIMS = [("roles", "Clear roles"), ("advice", "Listening and advice"), ("credit", "Shared credit")]


@pytest.fixture
def dimensions() -> pd.DataFrame:
    rows = []
    means = {"self": [4.5, 4.0, 3.0], "partner": [4.0, 3.5, 3.5], "others": [3.5, 2.9, 3.8]}
    for target in ("member", "partnership"):
        for source, values in means.items():
            for (code, name), mean in zip(DIMS, values, strict=True):
                n = 1 if source in ("self", "partner") else 7
                rows.append(
                    {
                        "dimension_code": code,
                        "dimension_name": name,
                        "target": target,
                        "source": source,
                        "mean": mean,
                        "n": n,
                        "sd": 0.5,
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture
def items() -> pd.DataFrame:
    rows = []
    for i, text in enumerate(["Asks for advice early", "Weighs advice before deciding"]):
        for source, mean in (("self", 4.0 + i * 0.5), ("partner", 3.0), ("others", 2.5 + i)):
            rows.append(
                {
                    "item_code": f"advice.m{i}",
                    "item_text": text,
                    "dimension_code": "advice",
                    "dimension_name": "Listening and advice",
                    "target": "member",
                    "source": source,
                    "mean": mean,
                    "n": 5 if source == "others" else 1,
                    "sd": 0.4,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def gaps() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension_code": ["roles", "advice", "credit"],
            "dimension_name": [n for _, n in DIMS],
            "target": ["member"] * 3,
            "self_mean": [4.5, 4.0, 3.0],
            "partner_mean": [4.0, 3.5, 3.5],
            "others_mean": [4.2, 2.9, 3.8],
            "others_n": pd.array([7, 7, 7], dtype="Int64"),
            "gap": [0.3, 1.1, -0.8],
            "flag": ["", "blind spot", "hidden strength"],
            "quadrant": ["open strength", "blind spot", "hidden strength"],
        }
    )


@pytest.fixture
def mirror_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension_code": ["roles", "advice"],
            "dimension_name": ["Clear roles", "Listening and advice"],
            "member_view": [4.5, 4.0],
            "officer_view": [3.0, 3.5],
            "others_view": [3.6, 3.1],
            "others_n": [9, 9],
        }
    )


@pytest.fixture
def heatmap() -> pd.DataFrame:
    rows = []
    for pid, label in ((1, "Leader and chief executive"), (2, "Children and Education")):
        for j, (code, name) in enumerate(DIMS):
            rows.append(
                {
                    "pairing_id": pid,
                    "pairing_label": label,
                    "dimension_code": code,
                    "dimension_name": name,
                    "score": 2.0 + pid * 0.7 + j * 0.3,
                    "n": 8,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def change() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dimension_code": ["roles", "advice", "credit", "roles"],
            "dimension_name": [
                "Clear roles",
                "Listening and advice",
                "Shared credit",
                "Clear roles",
            ],
            "target": ["member", "member", "member", "member"],
            "source": ["others", "others", "others", "self"],
            "previous": [3.0, 3.4, 3.8, 4.0],
            "current": [3.6, 2.9, 3.8, 4.5],
            "change": [0.6, -0.5, 0.0, 0.5],
        }
    )


@pytest.fixture
def rates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pairing_id": [1, 1, 1, 2, 2],
            "pairing_label": ["Leader and CEO"] * 3 + ["Children and Education"] * 2,
            "group": ["principal", "members", "partners", "members", "partners"],
            "invited": [2, 5, 4, 4, 2],
            "responded": [2, 5, 3, 4, 2],
            "rate": [1.0, 1.0, 0.75, 1.0, 1.0],
        }
    )


@pytest.fixture
def distribution() -> pd.DataFrame:
    counts = {"roles": [0, 1, 3, 6, 2], "advice": [2, 4, 4, 1, 1]}
    return pd.DataFrame(
        [
            {
                "dimension_code": code,
                "dimension_name": dict(DIMS)[code],
                "rating": rating,
                "count": count,
            }
            for code, row in counts.items()
            for rating, count in enumerate(row, start=1)
        ]
    )


# --- helpers -------------------------------------------------------------------------------


def layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def datasets(spec: dict) -> list[list[dict]]:
    """Every block of inline data anywhere in the spec."""
    found = list(spec.get("datasets", {}).values())

    def walk(node: object) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "values" in data:
                found.append(data["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k != "datasets"})
    return found


def same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
        return math.isclose(float(a), float(b))
    return a == b


def assert_only_input_rows(chart: alt.TopLevelMixin, given: pd.DataFrame) -> None:
    """Each row inside the spec equals (on its columns) a row of the given DataFrame, and no
    row appears more often than it was given."""
    spec = chart.to_dict()
    blocks = datasets(spec)
    assert blocks, "the chart carries no inline data"
    records = given.to_dict("records")
    for block in blocks:
        if block and set(block[0]) == {
            "others_mean",
            "self_mean",
            "label",
            "side",
            "label_x",
            "label_y",
        }:
            # the Johari chart's names: only dimension names, their points and where each
            # name is written (label_x is a point's score; label_y a height on the chart)
            names = [row["label"].replace("\n", " ") for row in block]
            assert sorted(names) == sorted(r["dimension_name"] for r in records)
            for row in block:
                assert any(same(row["others_mean"], r["others_mean"]) for r in records)
                assert any(same(row["self_mean"], r["self_mean"]) for r in records)
                assert any(same(row["label_x"], r["others_mean"]) for r in records)
            continue
        assert len(block) <= len(records)
        unused = list(records)
        for row in block:
            match = next(
                (r for r in unused if all(k in r and same(v, r[k]) for k, v in row.items())),
                None,
            )
            assert match is not None, f"row not in the input: {row}"
            unused.remove(match)


def encodings(spec: dict) -> list[dict]:
    return [layer.get("encoding", {}) for layer in layers(spec)]


def channel(spec: dict, name: str) -> list[dict]:
    return [e[name] for e in encodings(spec) if name in e]


def tooltips(spec: dict) -> list[str]:
    titles = []
    for tips in channel(spec, "tooltip"):
        titles += [t.get("title", t.get("field")) for t in tips]
    return titles


def assert_common(spec: dict, title_words: str) -> None:
    assert title_words in spec["title"]["text"]
    assert spec["description"] and spec["description"] != "No results to show in this chart."
    assert tooltips(spec)


# --- each chart --------------------------------------------------------------------------


def test_self_partner_others_per_dimension(dimensions: pd.DataFrame) -> None:
    chart = charts.self_partner_others(dimensions, "member")
    spec = chart.to_dict()
    assert_common(spec, "How each source rates each dimension")
    assert spec["title"]["subtitle"] == "Average rating of the councillor on a 1–5 scale"
    dots = layers(spec)[1]
    assert dots["mark"]["type"] == "point"
    enc = dots["encoding"]
    assert enc["x"]["field"] == "mean" and enc["x"]["scale"]["domain"] == [1, 5]
    assert enc["x"]["title"] == "Average rating (1 = low, 5 = high)"
    assert enc["y"]["field"] == "dimension_name" and enc["y"]["title"] == "Dimension"
    # Colour and shape both carry the source, with the same plain-word domain.
    assert enc["color"]["field"] == enc["shape"]["field"] == "source_label"
    assert enc["color"]["scale"]["domain"] == ["Self", "Partner", "Everyone else"]
    assert enc["color"]["scale"]["range"] == ["#0072B2", "#D55E00", "#009E73"]
    assert enc["shape"]["scale"]["range"] == ["circle", "square", "triangle-up"]
    assert {"Dimension", "Who rated", "Average rating", "Number of raters"} <= set(tooltips(spec))
    line = layers(spec)[0]
    assert line["mark"]["type"] == "rule"
    assert line["encoding"]["x"]["aggregate"] == "min"
    assert line["encoding"]["x2"]["aggregate"] == "max"
    assert "3 dimensions" in spec["description"]
    assert "Listening and advice" in spec["description"]  # the widest self–others gap
    assert_only_input_rows(chart, dimensions)


def test_self_partner_others_per_item(items: pd.DataFrame) -> None:
    chart = charts.self_partner_others(items, "member", dimension_code="advice")
    spec = chart.to_dict()
    assert_common(spec, "Listening and advice: ratings per item")
    enc = layers(spec)[1]["encoding"]
    assert enc["y"]["field"] == "item_text" and enc["y"]["title"] == "Item"
    assert "Item" in tooltips(spec)
    assert "2 items of Listening and advice" in spec["description"]
    assert_only_input_rows(chart, items)


def test_self_partner_others_shows_an_anonymous_group_only_if_given(
    dimensions: pd.DataFrame,
) -> None:
    extra = dimensions[dimensions["source"] == "others"].assign(source="members")
    chart = charts.self_partner_others(
        pd.concat([dimensions, extra]), "member", sources=("self", "members", "officers")
    )
    enc = layers(chart.to_dict())[1]["encoding"]
    # Officers were asked for but not given (suppressed): no legend entry, no rows.
    assert enc["color"]["scale"]["domain"] == ["Self", "Other councillors"]
    assert enc["shape"]["scale"]["range"] == ["circle", "diamond"]


def test_gap_bars_diverge_from_zero_and_label_flags(gaps: pd.DataFrame) -> None:
    chart = charts.gap_bars(gaps, "member", threshold=0.5)
    spec = chart.to_dict()
    assert_common(spec, "Perception gaps")
    bars = layers(spec)[0]
    assert bars["mark"]["type"] == "bar"
    x = bars["encoding"]["x"]
    assert x["field"] == "gap"
    lo, hi = x["scale"]["domain"]
    assert lo == -hi and hi >= 1.1  # symmetric about zero, wide enough for every bar
    assert x["title"] == ["Self rating minus everyone else's", "(0 = they agree)"]
    color = bars["encoding"]["color"]
    assert color["scale"]["domain"] == ["Blind spot", "Hidden strength", "Within range"]
    ends = layers(spec)[1]
    assert ends["encoding"]["shape"]["scale"]["range"] == [
        "triangle-right",
        "triangle-left",
        "circle",
    ]
    # The gap and its reading beside each bar: right of bars going right, left of the others.
    words = [w for w in layers(spec)[2:6] if w["mark"].get("fill") != charts.BACKGROUND]
    assert [w["mark"]["type"] for w in words] == ["text", "text"]
    assert [w["mark"]["align"] for w in words] == ["left", "right"]
    assert all(w["encoding"]["text"]["field"] == "value_text" for w in words)
    assert "format(datum.gap, '+.1f')" in json.dumps(words)
    # the reading in words under a flagged dimension's name
    assert '"Listening and advice": ["Listening and advice", "(blind spot)"]' in json.dumps(
        layers(spec)[0]["encoding"]["y"]["axis"]["labelExpr"], ensure_ascii=False
    ).replace('\\"', '"')
    rules = [layer["encoding"]["x"]["datum"] for layer in layers(spec)[6:]]
    assert rules == [0, -0.5, 0.5]
    assert {"Self", "Everyone else", "Gap (self − others)", "Reading"} <= set(tooltips(spec))
    assert "Blind spots: Listening and advice." in spec["description"]
    assert "Hidden strengths: Shared credit" in spec["description"]
    assert_only_input_rows(chart, gaps)


def test_johari_quadrant_draws_the_engines_boundaries(gaps: pd.DataFrame) -> None:
    chart = charts.johari_quadrant(gaps, "member", threshold=0.5, high=3.5)
    spec = chart.to_dict()
    assert_common(spec, "Johari window")
    *segments, corners, leaders, points, _, left_names, _, right_names = layers(spec)
    ends = [tuple(s["encoding"][c]["datum"] for c in ("x", "y", "x2", "y2")) for s in segments]
    assert ends == [
        (1.0, 1.0, 5.0, 5.0),  # agreement
        (1.0, 1.5, 4.5, 5.0),  # self 0.5 above others: blind spot beyond
        (1.5, 1.0, 5.0, 4.5),  # self 0.5 below others: hidden strength beyond
        (3.5, 3.0, 3.5, 4.0),  # open strength to the right, development area to the left
    ]
    enc = points["encoding"]
    assert enc["x"]["field"] == "others_mean" and enc["y"]["field"] == "self_mean"
    assert enc["x"]["title"] == "How everyone else rates them (1–5)"
    assert enc["y"]["title"] == "How they rate themselves (1–5)"
    assert enc["color"]["field"] == enc["shape"]["field"] == "quadrant"
    assert enc["shape"]["scale"]["domain"] == ["open strength", "blind spot", "hidden strength"]
    assert enc["shape"]["scale"]["range"] == ["circle", "triangle-up", "square"]
    assert corners["mark"]["type"] == "text" and corners["encoding"]["text"]["field"] == "quadrant"
    for names in (left_names, right_names):
        assert names["mark"]["type"] == "text" and names["encoding"]["text"]["field"] == "label"
    assert left_names["mark"]["align"] == "right" and right_names["mark"]["align"] == "left"
    # each name joined to its point by a line from the point to where the name is written
    assert leaders["mark"]["type"] == "rule"
    ends = {c: leaders["encoding"][c]["field"] for c in ("x", "y", "x2", "y2")}
    assert ends == {"x": "others_mean", "y": "self_mean", "x2": "label_x", "y2": "label_y"}
    assert "blind spot: Listening and advice" in spec["description"]
    assert "open strength: Clear roles" in spec["description"]
    assert_only_input_rows(chart, gaps)


def test_mirror(mirror_df: pd.DataFrame) -> None:
    chart = charts.mirror(mirror_df)
    spec = chart.to_dict()
    assert_common(spec, "The mirror")
    dots = layers(spec)[1]
    assert {"fold": ["member_view", "officer_view", "others_view"], "as": ["view", "score"]} in (
        spec["transform"] if "transform" in spec else dots.get("transform", [])
    ) or any("fold" in t for t in layers(spec)[0].get("transform", []))
    enc = dots["encoding"]
    assert enc["color"]["scale"]["domain"] == [
        "The councillor's view",
        "The officer's view",
        "Everyone else's view",
    ]
    assert enc["shape"]["scale"]["range"] == ["diamond", "square", "triangle-up"]
    assert enc["y"]["title"] == "Partnership dimension"
    assert "Clear roles: councillor 4.5, officer 3.0" in spec["description"]
    assert_only_input_rows(chart, mirror_df)


def test_council_heatmap(heatmap: pd.DataFrame) -> None:
    chart = charts.council_heatmap(heatmap)
    spec = chart.to_dict()
    assert_common(spec, "Partnership score by pairing and dimension")
    cells, text = layers(spec)
    assert cells["mark"]["type"] == "rect"
    assert cells["encoding"]["x"]["field"] == "dimension_name"
    assert cells["encoding"]["y"]["field"] == "pairing_label"
    assert cells["encoding"]["color"]["field"] == "score"
    assert cells["encoding"]["color"]["scale"]["scheme"] == "viridis"
    assert text["encoding"]["text"]["field"] == "score"
    assert {"Pairing", "Dimension", "Partnership score", "Number of raters"} <= set(tooltips(spec))
    assert "2 pairings on 3 dimensions" in spec["description"]
    assert "Lowest: Leader and chief executive on Clear roles (2.7)" in spec["description"]
    assert_only_input_rows(chart, heatmap)


def test_trend(change: pd.DataFrame) -> None:
    chart = charts.trend(
        change, "member", previous_name="Annual review 2025", current_name="Annual review 2026"
    )
    spec = chart.to_dict()
    assert_common(spec, "Change since Annual review 2025")
    line, points, *drawn = layers(spec)
    values = [v for v in drawn if v["mark"].get("fill") != charts.BACKGROUND]
    # This cycle's score, to one decimal, beside its arrow head on the side it moved to.
    assert [v["mark"]["align"] for v in values] == ["left", "right"]
    assert all(
        v["encoding"]["text"] == {"field": "current", "format": ".1f", "type": "quantitative"}
        for v in values
    )
    assert line["encoding"]["x"]["field"] == "previous" and line["encoding"]["x2"]["field"] == (
        "current"
    )
    assert line["encoding"]["color"]["scale"]["domain"] == ["Up", "Down", "About the same"]
    assert points["encoding"]["color"]["scale"]["domain"] == [
        "Annual review 2025",
        "Annual review 2026",
    ]
    assert points["encoding"]["shape"]["scale"]["range"] == [
        "circle",
        "triangle-right",
        "triangle-left",
    ]
    assert "Up: Clear roles. Down: Listening and advice." in spec["description"]
    # Only the rows for everyone else were drawn (the self row was filtered out in Python).
    assert_only_input_rows(chart, change[change["source"] == "others"])
    block = datasets(spec)[0]
    assert len(block) == 3


def test_response_rates(rates: pd.DataFrame) -> None:
    chart = charts.response_rates(rates)
    spec = chart.to_dict()
    assert_common(spec, "Response rates")
    bars, ends = layers(spec)
    assert bars["encoding"]["x"]["field"] == "rate"
    assert bars["encoding"]["x"]["axis"]["format"] == "%"
    assert bars["encoding"]["yOffset"]["field"] == "group_label"
    assert ends["encoding"]["shape"]["scale"]["domain"] == [
        "The pair (self and partner)",
        "Other councillors",
        "External partners",
    ]
    assert {"Invited", "Responded", "Response rate"} <= set(tooltips(spec))
    assert "16 of 17 invited raters responded" in spec["description"]
    assert_only_input_rows(chart, rates)


def test_rating_distribution(distribution: pd.DataFrame) -> None:
    chart = charts.rating_distribution(distribution)
    spec = chart.to_dict()
    assert_common(spec, "How the ratings are spread")
    enc = spec["encoding"]
    assert enc["x"]["stack"] == "normalize" and enc["x"]["axis"]["format"] == "%"
    assert enc["color"]["field"] == "rating" and enc["color"]["scale"]["domain"] == [1, 2, 3, 4, 5]
    assert len(enc["color"]["scale"]["range"]) == 5
    assert "24 ratings" in spec["description"]
    assert "Most 4s and 5s: Clear roles (67%)" in spec["description"]
    # Zero counts are not drawn, and nothing else is added.
    assert_only_input_rows(chart, distribution[distribution["count"] > 0])
    assert charts.description_of(chart) == spec["description"]


def test_the_chart_data_is_only_what_was_given_when_a_group_is_dropped(
    dimensions: pd.DataFrame,
) -> None:
    """The engine drops a suppressed group; the chart must not bring anything back."""
    given = dimensions[dimensions["source"] != "partner"]
    chart = charts.self_partner_others(given, "member")
    spec = chart.to_dict()
    text = json.dumps({k: v for k, v in spec.items() if k not in ("title", "description")})
    assert '"partner"' not in text and "Partner" not in text
    assert_only_input_rows(chart, given)
    # The title says the partner's dots are missing, and nothing more.
    assert spec["title"]["subtitle"][1:] == [
        "No Partner dots: no rating from their partner can be shown."
    ]


def test_empty_input_gives_a_chart_saying_there_is_nothing(dimensions: pd.DataFrame) -> None:
    chart = charts.self_partner_others(dimensions.iloc[0:0], "member")
    assert chart.to_dict()["description"] == "No results to show in this chart."
    assert charts.alt_text("gap_bars", pd.DataFrame()) == "No results to show in this chart."
    with pytest.raises(ValueError):
        charts.alt_text("pie", dimensions)


# --- export ------------------------------------------------------------------------------


ALL = [
    lambda f: charts.self_partner_others(f["dimensions"], "member"),
    lambda f: charts.self_partner_others(f["items"], "member", dimension_code="advice"),
    lambda f: charts.gap_bars(f["gaps"]),
    lambda f: charts.johari_quadrant(f["gaps"]),
    lambda f: charts.mirror(f["mirror_df"]),
    lambda f: charts.council_heatmap(f["heatmap"]),
    lambda f: charts.trend(f["change"], "member"),
    lambda f: charts.response_rates(f["rates"]),
    lambda f: charts.rating_distribution(f["distribution"]),
]


@pytest.mark.parametrize("make", ALL)
def test_every_chart_renders_to_png_and_svg(
    make, dimensions, items, gaps, mirror_df, heatmap, change, rates, distribution
) -> None:
    chart = make(locals())
    png = charts.to_png(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    svg = charts.to_svg(chart)
    assert "<svg" in svg
    assert chart.to_dict()["title"]["text"] in svg  # the title is drawn


def test_png_of_an_empty_chart_still_renders(dimensions: pd.DataFrame) -> None:
    assert charts.to_png(charts.self_partner_others(dimensions.iloc[0:0])).startswith(b"\x89PNG")


def test_johari_names_every_dimension_once_without_printing_over_each_other() -> None:
    """Six dimensions at one point's height, one alone above: every name written once, each
    at a height of its own (no two names share a line, whatever the chart's width), inside
    the band clear of the corners' names, in a column beside its points with no two lines
    to the points crossing."""
    points = pd.DataFrame(
        {
            "dimension_name": ["A", "B", "Neutrality and boundaries", "D", "E", "F", "G"],
            "others_mean": [3.65, 3.85, 4.05, 2.5, 3.5, 3.85, 1.0],
            "self_mean": [3.5, 3.5, 3.5, 4.0, 3.5, 3.5, 1.0],
        }
    )
    labels = charts._johari_labels(points)
    assert sorted(labels["label"].str.replace("\n", " ")) == sorted(points["dimension_name"])
    assert labels.loc[labels["label"] == "Neutrality and\nboundaries"].shape[0] == 1
    lines = labels["label"].str.count("\n") + 1
    tops = labels["label_y"] + lines * charts.JOHARI_ROW / 2
    bottoms = labels["label_y"] - lines * charts.JOHARI_ROW / 2
    order = labels["label_y"].sort_values(ascending=False).index
    assert (bottoms[order].to_numpy()[:-1] >= tops[order].to_numpy()[1:] - 1e-9).all()
    low, high = charts.JOHARI_NAMES_BAND
    assert (bottoms >= low - 1e-9).all() and (tops <= high + 1e-9).all()
    # the crowded points (right of the middle): names in one column on their left
    crowded = labels[labels["self_mean"] == 3.5]
    assert set(crowded["side"]) == {"left"} and set(crowded["label_x"]) == {3.5}
    lone = labels[labels["label"] == "G"].iloc[0]  # far left: named on its right
    assert lone["side"] == "right" and lone["label_x"] == 1.0
    segments = list(
        zip(
            crowded["others_mean"],
            crowded["self_mean"],
            crowded["label_x"],
            crowded["label_y"],
            strict=True,
        )
    )
    assert not any(charts._crosses(a, b) for i, a in enumerate(segments) for b in segments[i + 1 :])
    # a sharper test of the crossing rule itself
    assert charts._crosses((0, 0, 1, 1), (0, 1, 1, 0))
    assert not charts._crosses((0, 0, 1, 0), (0, 1, 1, 1))


def test_equal_scores_are_set_apart_not_hidden(dimensions, mirror_df) -> None:
    """Self and partner both at 3.5 must be two visible marks: each source (each view in
    the mirror) is offset on its row, in the legend's order."""
    for chart, field in (
        (charts.self_partner_others(dimensions, "member"), "source_label"),
        (charts.mirror(mirror_df), "view_label"),
    ):
        dots = [layer for layer in layers(chart.to_dict()) if layer["mark"]["type"] == "point"]
        [dot] = dots
        offset = dot["encoding"]["yOffset"]
        assert offset["field"] == field
        assert offset["sort"] == dot["encoding"]["color"]["scale"]["domain"]


# --- readable without help (issue 18) ----------------------------------------------------

LONG = "Respect and empathy in difficult conversations with residents and partners"


def luminance(hex_colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour (#RRGGBB)."""
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_wcag() -> None:
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#808495", "#FAF9F6") == pytest.approx(3.6, abs=0.1)  # Streamlit's grey


def test_chart_colours_are_the_themes() -> None:
    import tomllib
    from pathlib import Path

    theme = tomllib.loads(Path(".streamlit/config.toml").read_text())["theme"]
    assert theme["textColor"] == charts.TEXT_COLOUR
    assert theme["backgroundColor"] == charts.BACKGROUND


def text_colours(spec: dict) -> list[tuple[str, str]]:
    """(where, colour) of every text the spec draws: the config's axis, legend and title
    text, and each text mark's own colour (a text mark coloured by data is reported too)."""
    config = spec["config"]
    found = [
        (f"{part}.{key}", config[part][key])
        for part, keys in (
            ("axis", ("labelColor", "titleColor")),
            ("legend", ("labelColor", "titleColor")),
            ("title", ("color", "subtitleColor")),
            ("text", ("color",)),
        )
        for key in keys
    ]
    for i, layer in enumerate(layers(spec)):
        mark = layer.get("mark", {})
        if mark.get("type") != "text" or mark.get("fill") == config["background"]:
            continue  # a halo: drawn in the background's colour under its text
        for key in ("color", "fill"):
            if key in mark:
                found.append((f"layer {i} mark.{key}", mark[key]))
        colour = layer.get("encoding", {}).get("color")
        if colour is not None:
            found.append((f"layer {i} encoding.color", json.dumps(colour)))
    return found


FIXTURES = [
    "dimensions",
    "items",
    "gaps",
    "mirror_df",
    "heatmap",
    "change",
    "rates",
    "distribution",
]


@pytest.mark.parametrize("make", ALL)
def test_every_chart_text_reaches_4_5_to_1(make, request) -> None:
    f = {name: request.getfixturevalue(name) for name in FIXTURES}
    spec = make(f).to_dict()
    background = spec["config"]["background"]
    assert background == charts.BACKGROUND
    colours = text_colours(spec)
    assert len(colours) >= 7
    for where, colour in colours:
        if spec["title"]["text"].startswith("Partnership score") and "encoding" in where:
            # the heat map's numbers sit on their cell, black on light and white on dark
            assert '"black"' in colour and '"white"' in colour
            continue
        assert colour.startswith("#"), f"{where}: text coloured by data ({colour})"
        assert contrast(colour, background) >= 4.5, f"{where}: {colour} on {background}"
        assert contrast(colour, "#FFFFFF") >= 4.5  # and on a white page (PDF, deck)


def test_heatmap_numbers_reach_4_5_to_1_on_their_cells() -> None:
    # viridis at the switch (score 3.6 of 1–5, t = 0.65) and at both ends
    dark_end, switch, light_end = "#440154", "#26AD81", "#FDE725"
    assert contrast("#FFFFFF", dark_end) >= 4.5
    assert contrast("#000000", switch) >= 4.5 and contrast("#000000", light_end) >= 4.5


def axis_labels(spec: dict) -> list[dict]:
    axes = []
    for enc in encodings(spec):
        for name in ("x", "y"):
            axis = enc.get(name, {}).get("axis")
            if isinstance(axis, dict) and enc[name].get("type") == "nominal":
                axes.append(axis)
    return axes


@pytest.mark.parametrize("make", ALL)
def test_every_label_is_drawn_in_full(make, request) -> None:
    """No label limit anywhere, and every wrapped label's lines join back to its full text."""
    f = {name: request.getfixturevalue(name) for name in FIXTURES}
    for frame in f.values():
        for column in ("dimension_name", "item_text"):
            if column in frame.columns:
                frame[column] = frame[column].map(lambda t: f"{t}: {LONG}")
    spec = make(f).to_dict()
    assert spec["config"]["axis"]["labelLimit"] == 0 and spec["config"]["legend"]["labelLimit"] == 0
    assert spec["config"]["title"]["limit"] == 0
    # every chart names its rows on an axis, but the Johari window (names beside its points)
    assert axis_labels(spec) or spec["title"]["text"].startswith("Johari")
    for axis in axis_labels(spec):
        assert axis.get("labelLimit", 0) == 0
        expr = axis.get("labelExpr", "")
        if expr.startswith("{"):
            lookup = json.loads(expr[: expr.rindex("}") + 1])
            for label, lines in lookup.items():
                assert " ".join(lines).startswith(label) and "…" not in label
                assert max(map(len, lines)) <= max(
                    charts.ITEM_CHARS, len(max(label.split(), key=len))
                )
    svg = charts.to_svg(spec)
    assert "…" not in svg and "&#8230;" not in svg
    if "dimension_name" in f["dimensions"]:
        # the long name's last words are drawn, on a line of their own
        assert "partners" in svg


def test_a_long_dimension_name_wraps_and_its_row_grows(dimensions: pd.DataFrame) -> None:
    longer = dimensions.assign(
        dimension_name=dimensions["dimension_name"].where(
            dimensions["dimension_code"] != "roles", LONG
        )
    )
    short = charts.self_partner_others(dimensions, "member").to_dict()
    spec = charts.self_partner_others(longer, "member").to_dict()
    assert spec["height"] > short["height"]
    svg = charts.to_svg(spec)
    assert "<tspan>Respect and empathy in</tspan>" in svg
    assert "Respect and emp…" not in svg


def test_values_beside_the_dots(dimensions: pd.DataFrame, mirror_df: pd.DataFrame) -> None:
    for chart, field in (
        (charts.self_partner_others(dimensions, "member"), "mean"),
        (charts.mirror(mirror_df), "score"),
    ):
        spec = chart.to_dict()
        texts = [layer for layer in layers(spec) if layer["mark"]["type"] == "text"]
        halo, value = texts
        assert halo["mark"]["stroke"] == charts.BACKGROUND  # a line under it does not strike it
        assert value["encoding"]["text"] == {
            "field": field,
            "format": ".1f",
            "type": "quantitative",
        }
        assert value["encoding"]["yOffset"] == layers(spec)[1]["encoding"]["yOffset"]
    svg = charts.to_svg(charts.self_partner_others(dimensions, "member"))
    for score in ("4.5", "2.9", "3.8"):
        assert f">{score}</text>" in svg


def test_the_subtitle_says_what_is_missing_and_why(dimensions: pd.DataFrame) -> None:
    # Cllr Lee answered "can't say" to every question of Shared credit; officers too few.
    rows = dimensions.copy()
    rows.loc[(rows["source"] == "self") & (rows["dimension_code"] == "credit"), "mean"] = None
    members = rows[rows["source"] == "others"].assign(source="members")
    members = members[members["dimension_code"] != "advice"]
    chart = charts.self_partner_others(
        pd.concat([rows, members]),
        "member",
        sources=("self", "partner", "members", "officers"),
        threshold=3,
        names={"self": "Cllr Lee", "partner": "Sam Ward"},
    )
    spec = chart.to_dict()
    subtitle = " ".join(spec["title"]["subtitle"])
    assert subtitle.startswith("Average rating of the councillor on a 1–5 scale ")
    assert (
        "No Self dot for Shared credit: Cllr Lee answered “can't say” to every question in "
        "this dimension." in subtitle
    )
    assert (
        "No Other councillors dot for Listening and advice: too few other councillors" in subtitle
    )
    assert (
        "Other officers not shown: fewer than 3 replies, so no one can be identified." in subtitle
    )
    assert all(len(line) <= charts.NOTE_CHARS for line in spec["title"]["subtitle"])
    assert "Cllr Lee answered" in spec["description"]  # alt text says it too
    # Nothing missing: no notes.
    plain = charts.self_partner_others(dimensions, "member", threshold=3).to_dict()
    assert plain["title"]["subtitle"] == "Average rating of the councillor on a 1–5 scale"


def test_the_mirror_says_whose_view_is_missing(mirror_df: pd.DataFrame) -> None:
    rows = mirror_df.copy()
    rows.loc[0, "officer_view"] = None
    spec = charts.mirror(rows).to_dict()
    subtitle = " ".join(spec["title"]["subtitle"])
    assert f"No dot for the officer's view on {rows.loc[0, 'dimension_name']}" in subtitle
    assert "they answered “can't say” to every question in it." in subtitle
    named = charts.mirror(rows, names={"officer_view": "Sam Ward"}).to_dict()
    assert "Sam Ward answered “can't say” to every question in it." in " ".join(
        named["title"]["subtitle"]
    )


@pytest.mark.parametrize("make", ALL)
def test_an_export_is_titled_with_the_pairing_council_and_cycle(make, request) -> None:
    f = {name: request.getfixturevalue(name) for name in FIXTURES}
    chart = make(f)
    before = chart.to_dict()
    heading = charts.export_heading("Cllr Lee and Sam Ward", "Kingsmere", "Annual review 2026")
    assert heading == "Cllr Lee and Sam Ward · Kingsmere · Annual review 2026"
    svg = charts.to_svg(chart, heading=heading)
    assert f"<tspan>{heading}</tspan>" in svg
    assert before["title"]["text"] in svg
    assert chart.to_dict() == before  # the chart itself is unchanged
    png = charts.to_png(chart, heading=heading)
    assert png.startswith(b"\x89PNG")


def test_the_johari_window_in_words(gaps: pd.DataFrame) -> None:
    words = charts.quadrant_words(gaps, "member")
    assert [heading for heading, _, _ in words] == [
        "Open strengths",
        "Blind spots",
        "Hidden strengths",
        "Development areas",
    ]
    by_heading = {heading: names for heading, _, names in words}
    assert by_heading["Open strengths"] == ["Clear roles: self 4.5, everyone else 4.2"]
    assert by_heading["Blind spots"] == ["Listening and advice: self 4.0, everyone else 2.9"]
    assert by_heading["Hidden strengths"] == ["Shared credit: self 3.0, everyone else 3.8"]
    assert by_heading["Development areas"] == []
    assert all(meaning.endswith(".") for _, meaning, _ in words)
    assert all(not names for _, _, names in charts.quadrant_words(gaps, "officer"))


def test_the_page_gives_a_chart_room_for_its_notes_and_legend(dimensions: pd.DataFrame) -> None:
    """Streamlit fits a chart into the height it is given: notes in the subtitle and the
    legend below the plot must add height, or the plot is squeezed and labels collide."""
    from ui.report_views import display_height

    plain = charts.self_partner_others(dimensions, "member").to_dict()
    noted = charts.self_partner_others(
        dimensions[dimensions["source"] != "partner"], "member", threshold=3
    ).to_dict()
    assert plain["height"] == noted["height"]
    lines = len(noted["title"]["subtitle"])
    assert display_height(noted) - display_height(plain) >= 17 * (lines - 1) - 20 * 1
    # room for the plot, the title, the subtitle and the three legend entries
    assert display_height(plain) >= plain["height"] + 22 + 17 + 30 + 3 * 20
