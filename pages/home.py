"""Home. A principal sees their own pairing(s): each cycle's report (or when it will come)
and their development plan, with links. Staff see every council they can, its cycles and
pairings, with response counts.

A few councils (a single council, the demo) are shown as a card each. A council group or a
national body sees one searchable table of every cycle and opens one council at a time, so
the page stays quick with hundreds of councils (one query for the table, one for the
chosen council's pairings)."""

import pandas as pd
import streamlit as st

from core.formats import DATE_COLUMN
from core.roles import Actor, is_admin, is_principal
from core.vocabulary import kind_label, pairing_label
from feedback.results.overview import council_overview, pairing_overview
from planning.home import principal_home
from ui.state import current_actor, unit_of_work
from ui.text import alert, show

CARDS_UP_TO = 6  # councils; beyond this, one table and a chosen council

CYCLE_COLUMNS = {
    "cycle": "Cycle",
    "status": "Status",
    "opens_on": st.column_config.DateColumn("Opens", format=DATE_COLUMN),
    "closes_on": st.column_config.DateColumn("Closes", format=DATE_COLUMN),
    "pairings": "Pairings",
    "submitted": "Responses",
    "invited": "Invited",
    "response_rate": st.column_config.ProgressColumn(
        "Response rate", format="%.0f%%", min_value=0, max_value=100
    ),
}


def council_card(council_id: int, council_cycles: pd.DataFrame) -> None:
    """One council: its cycles, and the pairings of the cycle chosen."""
    with st.container(border=True):
        show(council_cycles["council"].iloc[0], kind="subheader")
        st.dataframe(
            council_cycles[list(CYCLE_COLUMNS)],
            hide_index=True,
            width="stretch",
            column_config=CYCLE_COLUMNS,
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
        pairings["pair"] = [
            pairing_label(member, officer)
            for member, officer in zip(pairings["member"], pairings["officer"], strict=True)
        ]
        pairings["kind"] = pairings["kind"].map(kind_label)
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


def principal_page(actor: Actor) -> None:
    """A principal's home: their pairing(s), each cycle's report or when it will come, and
    their plan, with a link to each."""
    with unit_of_work() as session:
        homes = principal_home(session, actor)
    if not homes:
        st.info(
            "Your account is not linked to a pairing yet, so there is nothing to show you. "
            "Ask your facilitator to link it to your record on the council's list.",
            icon=":material/link_off:",
        )
        return
    for home in homes:
        with st.container(border=True):
            show("{}", home.pairing, kind="subheader")
            show(
                "{} · {}" + (" · {}" if home.portfolio else ""),
                home.council,
                home.kind,
                *([home.portfolio] if home.portfolio else []),
                kind="caption",
            )
            if not home.cycles:
                show("Your pairing has not taken part in a feedback cycle yet.")
            for cycle in home.cycles:
                show("<b>{}</b>", cycle.name)
                show("{}", cycle.report)
                show("{}", cycle.plan)
                link = {"cycle": str(cycle.cycle_id), "pairing": str(home.pairing_id)}
                left, right = st.columns(2)
                if cycle.report_ready:
                    left.page_link(
                        "pages/report.py",
                        label="Read your report",
                        icon=":material/compare_arrows:",
                        query_params=link,
                    )
                if cycle.report_ready or cycle.plan_exists:
                    right.page_link(
                        "pages/plan.py",
                        label="Open your development plan",
                        icon=":material/flag:",
                        query_params=link,
                    )


actor = current_actor()
st.title("Tandem")
if is_principal(actor):
    st.caption("Your leadership pairing's 360-degree feedback and your joint plan.")
    principal_page(actor)
    st.stop()
st.caption(
    "360-degree feedback for council leadership pairings — the leader, elected mayor or "
    "convener and the chief executive, each cabinet member or committee chair and their "
    "director — and the joint plans that follow."
)

with unit_of_work() as session:
    cycles = council_overview(session, actor)
cycles["response_rate"] = cycles["response_rate"] * 100

if cycles.empty:
    if is_admin(actor):
        st.info(
            "No councils yet. Add one on the People page; or, to explore Tandem with a "
            "fictional council, run `tandem demo` in a terminal on the server and reload "
            "this page.",
            icon=":material/info:",
        )
    else:
        st.info(
            "None of your councils has a feedback cycle yet. Start one on the Cycles page; "
            "if a council is missing, ask an administrator to assign it to you.",
            icon=":material/info:",
        )
    st.stop()

councils = cycles.drop_duplicates("council_id").set_index("council_id")["council"]
if len(councils) <= CARDS_UP_TO:
    for council_id, council_cycles in cycles.groupby("council_id", sort=False):
        council_card(int(council_id), council_cycles)
    st.stop()

invited, submitted = int(cycles["invited"].sum()), int(cycles["submitted"].sum())
left, middle, right = st.columns(3)
left.metric("Councils", f"{len(councils):,}")
middle.metric("Cycles", f"{len(cycles):,}")
right.metric(
    "Responses", f"{submitted:,} of {invited:,}", help="Submitted of invited, every cycle."
)
wanted = st.text_input("Find a council", placeholder="Part of its name", key="home_find")
shown = (
    cycles[cycles["council"].str.contains(wanted.strip(), case=False, regex=False)]
    if wanted.strip()
    else cycles
)
if shown.empty:
    alert("info", "No council's name contains “{}”.", wanted.strip(), icon="search_off")
    st.stop()
st.dataframe(
    shown[["council", *CYCLE_COLUMNS]],
    hide_index=True,
    width="stretch",
    height=420,
    column_config={"council": "Council", **CYCLE_COLUMNS},
)
# A plain dict: the picker formats every option on every run (a pandas lookup each was a
# good part of this page's time with hundreds of councils).
matching = councils[councils.index.isin(shown["council_id"])].to_dict()
picked = st.selectbox(
    "Open a council to see its pairings",
    options=list(matching),
    format_func=matching.__getitem__,
    index=0 if len(matching) == 1 else None,
    placeholder=f"Choose one of {len(matching):,} councils",
    key="home_council",
)
if picked is not None:
    council_card(int(picked), cycles[cycles["council_id"] == picked])
