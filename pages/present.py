"""Presentation mode for a peer-challenge session: full width, large type, one slide at a
time — the council's key findings first, then each pairing. Only group scores are shown:
no comments and nothing else that could point to one anonymous rater."""

import streamlit as st

from core.errors import TandemError
from core.roles import is_staff
from core.vocabulary import kind_label
from feedback.results import charts
from feedback.results.deck import council_deck, deck_filename
from feedback.results.pack import council_pack, pack_filename
from feedback.results.publication import read_council_overview, read_pairing_report
from feedback.results.report_index import readable_cycles, readable_reports
from feedback.results.tables import GAP_THRESHOLD, national_source
from ui.errors import show_error
from ui.pickers import cycle_names, pick
from ui.report_views import show_chart
from ui.state import current_actor, unit_of_work
from ui.text import bullets, show, show_html

# Large type for a projector. A fixed stylesheet: nothing from the data goes into it.
LARGE_TYPE = """<style>
[data-testid="stMainBlockContainer"] [data-testid="stMarkdown"] p,
[data-testid="stMainBlockContainer"] [data-testid="stMarkdown"] li {
  font-size: 1.6rem; line-height: 1.5;
}
[data-testid="stMainBlockContainer"] h1 { font-size: 3.2rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 2.4rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMetricValue"] { font-size: 3.5rem; }
[data-testid="stMainBlockContainer"] [data-testid="stMetricLabel"] p { font-size: 1.3rem; }
</style>"""

actor = current_actor()
st.html(LARGE_TYPE)

with unit_of_work() as session:
    cycles = readable_cycles(session, actor)
    reports = readable_reports(session, actor)
if cycles.empty:
    st.title("Presentation")
    st.info(
        "No closed cycle yet: close the cycle on the Cycles page (or publish it), then "
        "present its results here.",
        icon=":material/info:",
    )
    st.stop()

cycle_id = pick("Cycle to present", cycle_names(cycles), "present_cycle", where=st.sidebar)


def deck_bytes() -> bytes:
    """The deck, built when the button is pressed (charts take a few seconds)."""
    with unit_of_work() as session:
        return council_deck(session, actor, int(cycle_id))


if is_staff(actor):
    chosen = cycles[cycles["cycle_id"] == cycle_id].iloc[0]
    st.sidebar.download_button(
        "Download the deck (PowerPoint)",
        data=deck_bytes,
        file_name=deck_filename(str(chosen["council"]), str(chosen["cycle"])),
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        on_click="ignore",
        icon=":material/slideshow:",
        help="The council's results as slides with speaker notes, to edit and take away: "
        "the same figures as these slides, no comments.",
        key="present_deck",
    )

    def pack_bytes() -> bytes:
        with unit_of_work() as session:
            return council_pack(session, actor, int(cycle_id))

    st.sidebar.download_button(
        "Download the results pack (PDF)",
        data=pack_bytes,
        file_name=pack_filename(str(chosen["council"]), str(chosen["cycle"])),
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        help="The council overview and every pairing's report in one PDF, to print or "
        "send to the council.",
        key="present_pack",
    )
pairings = reports[reports["cycle_id"] == cycle_id]
INTRO = ["title", "findings", "national", "scores"]
slides = INTRO + [f"pairing:{pid}" for pid in pairings["pairing_id"]]

position = st.session_state.setdefault("present_slide", {})
index = min(position.get(cycle_id, 0), len(slides) - 1)


def go(step: int) -> None:
    position[cycle_id] = max(0, min(len(slides) - 1, index + step))


back, where, forward = st.columns([1, 4, 1], vertical_alignment="center")
back.button(
    "Previous",
    icon=":material/arrow_back:",
    on_click=go,
    args=(-1,),
    disabled=index == 0,
    width="stretch",
    key="present_prev",
)
forward.button(
    "Next",
    icon=":material/arrow_forward:",
    on_click=go,
    args=(1,),
    disabled=index == len(slides) - 1,
    width="stretch",
    key="present_next",
)
where.caption(f"Slide {index + 1} of {len(slides)}")

try:
    with unit_of_work() as session:
        overview = read_council_overview(session, actor, int(cycle_id))
        slide = slides[index]
        report = (
            read_pairing_report(session, actor, int(cycle_id), int(slide.split(":")[1]))
            if slide.startswith("pairing:")
            else None
        )
except TandemError as exc:
    show_error(exc, refusals="warning")
    st.stop()

meta = overview.meta
if slide == "title":
    show(meta["council_name"], kind="title")
    show(meta["cycle_name"], kind="header")
    st.markdown(
        f"Feedback on **{len(pairings)}** leadership pairings: how each councillor and officer "
        "see themselves, each other and their partnership, beside how the people around "
        "them see it."
    )
    rates = overview.response_rates
    if not rates.empty:
        invited, responded = int(rates["invited"].sum()), int(rates["responded"].sum())
        st.markdown(f"**{responded} of {invited}** invited people responded.")
elif slide == "findings":
    st.title("Key findings")
    if overview.findings:
        show_html(bullets(overview.findings))
    else:
        st.markdown("Nothing stands out across the council in this cycle.")
elif slide == "national":
    st.title("Beside the national picture")
    st.markdown(
        "Solace: **70%** of chief executives say their leader asks for their advice mostly "
        "or always; **17%** say the relationship is still developing or unsatisfactory. "
        "Here: the chief executive's answers about the leader, beside the leader's own."
    )
    if not overview.solace.empty:
        st.caption(national_source(overview.solace))  # written by Tandem
    columns = st.columns(max(len(overview.solace), 1))
    for column, row in zip(columns, overview.solace.itertuples(index=False), strict=False):
        shown = row.council_pct == row.council_pct and row.council_pct is not None
        column.metric(
            str(row.label),  # the national question, from the framework
            f"{float(row.council_pct):.0f}%" if shown else "Not shown",
            delta=(
                f"{float(row.council_pct) - float(row.national_pct):+.0f} points against "
                f"{float(row.national_pct):.0f}% nationally"
                if shown
                else None
            ),
            delta_color="normal" if row.measure == "advice" else "inverse",
        )
elif slide == "scores":
    st.title("Partnership scores")
    if overview.heatmap.empty:
        st.markdown("No partnership scores can be shown for this cycle.")
    else:
        show_chart(charts.council_heatmap(overview.heatmap), "heatmap", "present_heatmap", False)
elif report is not None:
    rm = report.meta
    show("{} and {}", rm["member_name"], rm["officer_name"], kind="title")
    show(
        " · ".join(p for p in (kind_label(rm.get("kind", "")), rm.get("portfolio")) if p)
        or "Leadership pairing"
    )
    # The findings, the mirror first: where the two see their partnership differently.
    if not report.findings.empty:
        show_html(bullets(report.findings["text"]))
    else:
        st.markdown(
            f"No finding passes the rule here (a gap of {GAP_THRESHOLD:.2f} points or more, "
            "enough raters, every item the same way)."
        )
    if not report.mirror.empty:
        show_chart(charts.mirror(report.mirror), "mirror", "present_mirror", False)
    left, right = st.columns(2)
    if not report.top_items.empty:
        left.subheader("Rated highest by others")
        show_html(bullets(report.top_items["item_text"][:3]), into=left)
    if not report.bottom_items.empty:
        right.subheader("Rated lowest by others")
        show_html(bullets(report.bottom_items["item_text"][:3]), into=right)
    for notice in report.notices:
        show(notice, kind="caption")
