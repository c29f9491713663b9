"""feedback.results.vega writes the spec Altair would write for the same calls (the charts
were drawn with Altair before; the page, PDF, deck and downloads must draw the same), and
checks a spec against the Vega-Lite schema when asked."""

from __future__ import annotations

import altair as alt
import jsonschema
import numpy as np
import pandas as pd
import pytest

from feedback.results import charts
from feedback.results import vega as vl

ROWS = pd.DataFrame(
    {
        "dimension_name": ["Clear roles", "Trust", "Clear roles", "Trust"],
        "source": ["self", "self", "others", "others"],
        "mean": [4.25, np.nan, 3.5, 2.0],
        "n": [1, 1, 6, 7],
        "flag": pd.array(["", None, "blind spot", ""], dtype="string"),
    }
)
AXIS = {"values": [1, 3, 5], "format": "~g", "labelExpr": "datum.label"}
CONFIG = {"background": "#FAF9F6", "axis": {"labelColor": "#000000"}}


def both(build):
    """The same chart built with Altair and with vega: their specs."""
    ours = build(vl)
    theirs = build(alt)
    return theirs.to_dict(), ours.to_dict()


def test_a_layered_chart_is_written_as_altair_writes_it():
    def build(m):
        base = m.Chart(ROWS).transform_calculate(label="datum.source + '!'")
        y = m.Y("dimension_name:N", title="Dimension", sort=["Trust", "Clear roles"],
                axis=m.Axis(**AXIS))  # fmt: skip
        x = m.X("mean:Q", scale=m.Scale(domain=[1, 5], nice=False), title="Mean")
        line = base.mark_rule(color="#7F7F7F", strokeWidth=2).encode(
            y=y, x=m.X("min(mean):Q", scale=m.Scale(domain=[1, 5])), x2="max(mean):Q"
        )
        dots = base.mark_point(filled=True, size=110).encode(
            y=y,
            yOffset=m.YOffset("label:N", sort=["self!"], scale=m.Scale(paddingInner=0.4)),
            x=x,
            color=m.Color("label:N", title="Who", scale=m.Scale(domain=["a"], range=["#000"])),
            shape=m.Shape("label:N", title="Who", legend=None),
            tooltip=[m.Tooltip("mean:Q", title="Mean", format=".2f"), m.Tooltip("n:Q")],
        )
        words = (
            base.transform_filter("datum.mean >= 0")
            .mark_text(align="left", dx=8)
            .encode(y=y, x=x, text=m.Text("mean:Q", format=".1f"))
        )
        zero = base.transform_aggregate(rows="count()").mark_rule().encode(x=m.datum(0))
        return (
            m.layer(line, dots, words, zero)
            .resolve_scale(color="independent")
            .properties(
                title=m.TitleParams(text="T", subtitle=["a", "b"], anchor="start"),
                width=560,
                height=120,
                description="A chart.",
            )
            .configure(**CONFIG)
        )

    theirs, ours = both(build)
    assert ours == theirs


def test_layers_of_different_tables_keep_each_its_own():
    other = pd.DataFrame({"x": [1.5, 2.0], "label": ["a\nb", "c"]})

    def build(m):
        points = m.Chart(ROWS).mark_point().encode(x="mean:Q", y="n:Q")
        names = (
            m.Chart(other)
            .mark_text(lineBreak="\n")
            .encode(x=m.X("x:Q"), y=m.XDatum(2.0, scale=m.Scale(domain=[1, 5])), text="label:N")
        )
        corners = (
            m.Chart(other)
            .transform_aggregate(groupby=["label"], rows="count()")
            .transform_fold(["x"], as_=["k", "v"])
            .mark_text()
            .encode(
                x=m.XDatum(1.0),
                y=m.YDatum(1.0),
                x2=m.X2Datum(5.0),
                y2=m.Y2Datum(5.0),
                color=m.condition("datum.v > 3", m.value("black"), m.value("white")),
            )  # fmt: skip
        )
        return m.layer(points, names, corners).properties(width=440).configure(**CONFIG)

    theirs, ours = both(build)
    assert ours == theirs


def test_a_single_chart_with_a_joined_aggregate():
    def build(m):
        return (
            m.Chart(ROWS)
            .transform_joinaggregate(total="sum(n)", groupby=["dimension_name"])
            .mark_bar()
            .encode(
                y=m.Y("dimension_name:N"),
                x=m.X("sum(n):Q", stack="normalize"),
                order=m.Order("n:O", sort="ascending"),
            )
            .properties(title=m.TitleParams(text="T", anchor="start"))
            .configure(**CONFIG)
        )

    theirs, ours = both(build)
    assert ours == theirs


def test_a_spec_that_breaks_the_schema_is_refused_when_checked():
    spec = vl.Chart(ROWS).mark_point(size=3).encode(x="mean:Q").configure()
    assert spec.to_dict()["mark"] == {"type": "point", "size": 3}
    spec["mark"]["sizee"] = 4
    spec.to_dict(validate=False)  # unchecked: as given
    with pytest.raises(jsonschema.ValidationError):
        spec.to_dict()


def test_the_report_charts_are_plain_dicts_that_pass_the_schema():
    dims = pd.DataFrame(
        {
            "dimension_name": ["Clear roles", "Trust"] * 2,
            "target": ["member"] * 4,
            "source": ["self", "self", "others", "others"],
            "mean": [4.0, 2.5, 3.0, 3.5],
            "n": [1, 1, 5, 5],
        }
    )
    spec = charts.self_partner_others(dims, "member", threshold=3)
    assert isinstance(spec, dict)
    checked = spec.to_dict()  # the schema check
    assert checked == spec and checked is not spec
    assert [r["mean"] for r in next(iter(spec["datasets"].values()))] == [4.0, 2.5, 3.0, 3.5]


def test_a_finished_spec_takes_new_top_level_settings_as_altair_does():
    def build(m):
        return (
            m.Chart(ROWS).mark_point().encode(x="mean:Q").properties(title=m.TitleParams(text="T"))
        )

    theirs = build(alt).properties(title="").to_dict()
    spec = build(vl).configure()
    ours = spec.properties(title="").to_dict()
    # Altair's chart has no config until configured; ours is finished: compare the rest.
    assert {k: v for k, v in ours.items() if k != "config"} == {
        k: v for k, v in theirs.items() if k != "config"
    }
    assert spec["title"] == {"text": "T"}  # the spec itself is unchanged
