"""Council overview: every pairing's partnership score per dimension, how the ratings are
spread, the two Solace-comparable measures beside the national figures, and response rates."""

import streamlit as st

from feedback import charts
from feedback.errors import TandemError
from feedback.publication import read_council_overview
from feedback.report_index import readable_cycles
from ui.report_views import show_chart, show_error, slug
from ui.state import current_actor, unit_of_work
from ui.text import bullets, show, show_html

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

names = {
    int(row.cycle_id): f"{row.council} · {row.cycle} ({row.status})"
    for row in cycles.itertuples(index=False)
}
if st.session_state.get("council_cycle") not in names:
    st.session_state["council_cycle"] = next(iter(names))
cycle_id = st.selectbox("Cycle", list(names), format_func=names.get, key="council_cycle")

try:
    with unit_of_work() as session:
        overview = read_council_overview(session, actor, int(cycle_id))
except TandemError as exc:
    show_error(exc)
    st.stop()

meta = overview.meta
stem = slug(meta.get("council_name"), meta.get("cycle_name"))
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
    "Solace asked chief executives the same two questions: 70% say their leader asks for "
    "their advice mostly or always; 17% say the relationship is still developing or "
    "unsatisfactory."
)
if overview.solace.empty:
    st.info("Nobody in this cycle answered the two national questions yet.")
else:
    columns = st.columns(len(overview.solace))
    for column, row in zip(columns, overview.solace.itertuples(index=False), strict=True):
        if row.council_pct is None or row.council_pct != row.council_pct:  # NaN
            column.metric(
                str(row.label),  # the label: a national question
                "Not shown",
                help=f"Fewer than {overview.meta['threshold']} answers by the officers of the "
                "pairs: a percentage would show what one or two people said.",
            )
            continue
        difference = float(row.council_pct) - float(row.national_pct)
        column.metric(
            str(row.label),  # the national question, from the framework
            f"{float(row.council_pct):.0f}%",
            delta=f"{difference:+.0f} points against {float(row.national_pct):.0f}% nationally",
            # More advice asked is good; more relationships "still developing" is not.
            delta_color="normal" if row.measure == "advice" else "inverse",
            help=(
                f"From {int(row.n)} answers by the officers of the pairs (the chief executive "
                "and the directors), like for like with Solace, which asked chief executives."
                + (
                    f" The councillors of the pairs answer {float(row.members_pct):.0f}% "
                    f"({int(row.members_n)} answers)."
                    if row.members_n and row.members_pct == row.members_pct
                    else ""
                )
            ),
        )

st.subheader("Partnership scores")
if overview.heatmap.empty:
    st.info("No partnership scores can be shown for this cycle.")
else:
    show_chart(charts.council_heatmap(overview.heatmap), f"{stem}-heatmap", "heatmap")

st.subheader("How the ratings are spread")
if overview.distribution.empty:
    st.info("No ratings can be shown for this cycle.")
else:
    show_chart(
        charts.rating_distribution(overview.distribution), f"{stem}-distribution", "distribution"
    )

st.subheader("Response rates")
if overview.response_rates.empty:
    st.info("Nobody has been invited in this cycle.")
else:
    show_chart(charts.response_rates(overview.response_rates), f"{stem}-responses", "responses")
