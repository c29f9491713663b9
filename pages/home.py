"""Home: every council you can see, its cycles and pairings, with response counts."""

import streamlit as st

from feedback.overview import council_overview, pairing_overview
from ui.state import current_actor, unit_of_work

st.title("Tandem")
st.caption(
    "360-degree feedback for council leadership pairings — the leader and chief executive, "
    "each cabinet member and their director — and the joint plans that follow."
)

with unit_of_work() as session:
    cycles = council_overview(session, current_actor())
cycles["response_rate"] = cycles["response_rate"] * 100

if cycles.empty:
    st.info(
        "No councils yet. To explore Tandem with a fictional council, run `tandem demo` in "
        "a terminal and reload this page.",
        icon=":material/info:",
    )
    st.stop()

for council_id, council_cycles in cycles.groupby("council_id", sort=False):
    with st.container(border=True):
        st.subheader(council_cycles["council"].iloc[0])
        st.dataframe(
            council_cycles[
                [
                    "cycle",
                    "status",
                    "opens_on",
                    "closes_on",
                    "pairings",
                    "submitted",
                    "invited",
                    "response_rate",
                ]
            ],
            hide_index=True,
            width="stretch",
            column_config={
                "cycle": "Cycle",
                "status": "Status",
                "opens_on": st.column_config.DateColumn("Opens", format="D MMM YYYY"),
                "closes_on": st.column_config.DateColumn("Closes", format="D MMM YYYY"),
                "pairings": "Pairings",
                "submitted": "Responses",
                "invited": "Invited",
                "response_rate": st.column_config.ProgressColumn(
                    "Response rate", format="%.0f%%", min_value=0, max_value=100
                ),
            },
        )
        labels = dict(zip(council_cycles["cycle_id"], council_cycles["cycle"], strict=True))
        chosen = st.selectbox(
            "Pairings in cycle",
            options=list(labels),
            format_func=labels.get,
            key=f"home_cycle_{council_id}",
        )
        with unit_of_work() as session:
            pairings = pairing_overview(session, chosen)
        pairings["pair"] = pairings["member"] + " & " + pairings["officer"]
        st.dataframe(
            pairings[["pair", "kind", "portfolio", "submitted", "invited"]],
            hide_index=True,
            width="stretch",
            column_config={
                "pair": "Pairing",
                "kind": "Kind",
                "portfolio": "Portfolio",
                "submitted": "Responses",
                "invited": "Invited",
            },
        )
