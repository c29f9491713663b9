"""Council overview: every pairing's partnership score per dimension, how the ratings are
spread, the two Solace-comparable measures beside the national figures, and response rates."""

from typing import Any

import pandas as pd
import streamlit as st

from core.errors import TandemError
from core.text import file_stem
from feedback.results import charts
from feedback.results.publication import read_council_overview
from feedback.results.report_index import readable_cycles
from feedback.results.tables import national_source
from ui.errors import show_error
from ui.pickers import cycle_names, pick
from ui.report_views import show_chart
from ui.state import current_actor, unit_of_work
from ui.text import bullets, show, show_html


@st.cache_data(max_entries=500, show_spinner=False)
def council_chart(builder: str, table: pd.DataFrame) -> dict[str, Any]:
    """A chart's spec kept by the figures it draws (already read through publication for
    this actor): the same figures give the same chart, so a rerun does not build it again.
    Nothing here is keyed by who reads it, and nothing is in it but those figures."""
    return getattr(charts, builder)(table).to_dict(validate=False)


actor = current_actor()
st.title("Council overview")

with unit_of_work() as session:
    cycles = readable_cycles(session, actor)
if cycles.empty:
    st.info(
        "No closed cycle yet: close the cycle on the Cycles page (or publish it) and its "
        "council overview appears here.",
        icon=":material/info:",
    )
    st.stop()

cycle_id = pick("Cycle", cycle_names(cycles), "council_cycle")

try:
    with unit_of_work() as session:
        overview = read_council_overview(session, actor, int(cycle_id))
except TandemError as exc:
    show_error(exc, refusals="warning")
    st.stop()

meta = overview.meta
stem = file_stem(meta.get("council_name"), meta.get("cycle_name"))
heading = charts.export_heading(meta.get("council_name"), meta.get("cycle_name"))  # downloads
show("{}: {}", meta["council_name"], meta["cycle_name"], kind="header")
edition = meta.get("edition")
st.caption(
    (f"Published edition {edition}" if edition else "Live results, not yet published")
    + f" · groups are shown only with at least {meta['threshold']} replies"
)

if overview.findings:
    st.subheader("Key findings")
    show_html(bullets(overview.findings))

st.subheader("Beside the national picture")
st.caption(
    "Solace asked chief executives about their leaders: 70% say their leader asks for their "
    "advice mostly or always; 17% say the relationship is still developing or "
    "unsatisfactory. Like for like, the council's figure is the chief executive's answers "
    "about the leader (leader–chief executive pairings only — never directors about cabinet "
    "members), from pairings of 12 months or more; newer pairings are counted apart, and "
    f"no percentage is given from fewer than {meta['threshold']} answers."
)
if overview.solace.empty:
    st.info("Nobody in this cycle answered the two national questions yet.")
else:
    st.caption(national_source(overview.solace))  # written by Tandem, not typed by a user
    columns = st.columns(len(overview.solace))
    for column, row in zip(columns, overview.solace.itertuples(index=False), strict=True):
        column.markdown(f"**{str(row.label).capitalize()}**")  # the framework's question
        column.markdown(f"Nationally (Solace): **{float(row.national_pct):.0f}%**")
        shown = row.council_pct is not None and row.council_pct == row.council_pct  # not NaN
        if shown:
            column.metric(
                "Chief executives about their leaders, here",
                f"{float(row.council_pct):.0f}%",
                delta=f"{float(row.council_pct) - float(row.national_pct):+.0f} points",
                # More advice asked is good; more relationships "still developing" is not.
                delta_color="normal" if row.measure == "advice" else "inverse",
                help=f"From {int(row.n)} answers.",
            )
        else:
            column.markdown(
                f"Chief executives about their leaders, here: not shown — {int(row.n)} "
                f"answer{'s' if int(row.n) != 1 else ''}, fewer than {meta['threshold']} "
                "(a percentage would be one person's answer)."
            )
        leaders = row.members_pct is not None and row.members_pct == row.members_pct
        column.caption(
            "The leaders' own answers: "
            + (
                f"{float(row.members_pct):.0f}% ({int(row.members_n)} answers)."
                if leaders
                else f"not shown ({int(row.members_n)} answers)."
            )
        )
        if int(row.new_n or 0):
            new = row.new_pct is not None and row.new_pct == row.new_pct
            column.caption(
                "Pairings under 12 months old, counted apart: "
                + (
                    f"{float(row.new_pct):.0f}% ({int(row.new_n)} answers)."
                    if new
                    else f"not shown ({int(row.new_n)} answers)."
                )
            )

st.subheader("Partnership scores")
if overview.heatmap.empty:
    st.info("No partnership scores can be shown for this cycle.")
else:
    show_chart(
        council_chart("council_heatmap", overview.heatmap),
        f"{stem}-heatmap",
        "heatmap",
        heading=heading,
    )

st.subheader("How the ratings are spread")
if overview.distribution.empty:
    st.info("No ratings can be shown for this cycle.")
else:
    show_chart(
        council_chart("rating_distribution", overview.distribution),
        f"{stem}-distribution",
        "distribution",
        heading=heading,
    )

st.subheader("Response rates")
if overview.response_rates.empty:
    st.info("Nobody has been invited in this cycle.")
else:
    show_chart(
        council_chart("response_rates", overview.response_rates),
        f"{stem}-responses",
        "responses",
        heading=heading,
    )
