"""Presentation mode for a peer-challenge session, made for a projector: one message per
slide at 16:9 (the council's key findings first, then each pairing's findings, its mirror
and its gaps), large type, the chart in view beside the words, and a full-screen mode with
no sidebar or Streamlit chrome, driven by the keyboard or a clicker (→ ← space, PageUp /
PageDown, Home / End; Esc leaves). Only group scores are shown — no comments — and every
figure is the one publication serves (the same suppression as every other screen); a
headline percentage carries its n. Speaker notes stay closed in an expander until the
presenter opens them."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import streamlit as st

from core.errors import TandemError
from core.vocabulary import kind_label, role_words
from feedback.results import charts
from feedback.results.deck import council_deck, deck_filename
from feedback.results.pack import council_pack, pack_filename
from feedback.results.publication import read_all_pairing_reports, read_council_overview
from feedback.results.report_index import readable_cycles
from feedback.results.tables import GAP_THRESHOLD, finding_rule, national_source, replies_text
from ui.errors import show_error
from ui.pickers import cycle_names, pick
from ui.report_views import edition_identity, with_arrow_data
from ui.state import current_actor, unit_of_work
from ui.text import bullets, fill, show, show_html

FULL_KEY = "present_full"  # presenting full screen (no sidebar, no chrome)
PER_SLIDE = 3  # findings on one slide: one message each, nothing below the fold

# Large type that scales with the screen (the same proportions at 1280 × 720 and
# 1920 × 1080: body 1.45vw is 28 px at 1080p). A fixed stylesheet: nothing from the data.
LARGE_TYPE = """<style>
.st-key-slide p, .st-key-slide li, .st-key-slide [data-testid="stMarkdown"] p {
  font-size: max(17px, 1.45vw) !important; line-height: 1.4 !important;
}
.st-key-slide li { margin-bottom: 0.35em; }
.st-key-slide h1 {
  font-size: max(28px, 2.5vw) !important; padding: 0 0 0.3em !important; line-height: 1.15;
}
.st-key-slide h2 { font-size: max(22px, 1.9vw) !important; padding: 0 0 0.3em !important; }
.st-key-slide h3 { font-size: max(19px, 1.6vw) !important; padding: 0.2em 0 0.3em !important; }
.st-key-slide [data-testid="stMetricValue"], .st-key-slide [data-testid="stMetricValue"] * {
  font-size: max(36px, 3.4vw) !important; line-height: 1.2 !important;
}
.st-key-slide [data-testid="stMetricLabel"] p { font-size: max(17px, 1.45vw) !important; }
.st-key-slide .slide-small, .st-key-slide .slide-small p {
  font-size: max(14px, 1.05vw) !important; opacity: 0.75;
}
.st-key-slide_chart [data-testid="stVegaLiteChart"], .st-key-slide_chart .vega-embed {
  height: 58vh !important; width: 100% !important;
}
.st-key-slide_chart_wide [data-testid="stVegaLiteChart"], .st-key-slide_chart_wide .vega-embed {
  height: 60vh !important; width: 100% !important;
}
.st-key-present_keys { display: none; }
[data-testid="stMain"]:focus, [data-testid="stMain"]:focus-visible { outline: none !important; }
/* Streamlit rings the scrolling area once the keyboard is used: no frame around a slide. */
[data-testid="stMain"]::before { box-shadow: none !important; }
.st-key-present_bar p { font-size: max(14px, 1vw); margin: 0; }
</style>"""

# While presenting: the slide fills the screen, nothing of Streamlit or Tandem around it.
FULL_SCREEN = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"], footer {
  display: none !important;
}
[data-testid="stMainBlockContainer"] {
  padding: 1.2vw 3.5vw 0.5vw !important; max-width: 100% !important;
}
[data-testid="stMain"] { margin-left: 0 !important; }
</style>"""


@dataclass
class Slide:
    """One slide: its title, what it says, its chart (a Vega-Lite spec) and its notes."""

    key: str
    title: str
    subtitle: str = ""
    lines: list[str] = field(default_factory=list)  # user text allowed (shown escaped)
    columns: list[tuple[str, list[str]]] = field(default_factory=list)
    chart: Callable[[], dict[str, Any]] | None = None  # built only when the slide is shown
    wide: bool = False  # the chart below the words, the full width of the slide
    small: str = ""  # one line of small print (the rule, the source)
    notes: list[str] = field(default_factory=list)
    solace: list[dict[str, Any]] = field(default_factory=list)
    threshold: int = 3


def projector_spec(chart: Any) -> dict[str, Any]:
    """A report chart's spec made readable from the back of a room: it fills the box the
    slide gives it (a share of the screen), larger axis and legend type, the numbers in
    the cells ≥ 16 px."""
    spec: dict[str, Any] = chart.to_dict(validate=False)
    spec["height"] = spec["width"] = "container"
    spec["autosize"] = {"type": "fit", "contains": "padding"}
    config = spec.setdefault("config", {})
    config["axis"] = {**config.get("axis", {}), "labelFontSize": 16, "titleFontSize": 16}
    config["legend"] = {**config.get("legend", {}), "labelFontSize": 16, "titleFontSize": 16}
    config["title"] = {**config.get("title", {}), "fontSize": 18, "subtitleFontSize": 14}
    config["text"] = {**config.get("text", {}), "fontSize": 18}
    for layer in [spec, *spec.get("layer", [])]:
        encoding = layer.get("encoding", {})
        if isinstance(encoding.get("y"), dict) and encoding["y"].get("axis", {}) is not None:
            # The rows' names (dimensions, pairings) in full; they need no axis title.
            encoding["y"]["axis"] = {**encoding["y"].get("axis", {}), "labelLimit": 380}
            encoding["y"]["title"] = None
        mark = layer.get("mark")
        if isinstance(mark, dict) and mark.get("type") == "text":
            mark["fontSize"] = max(18, int(mark.get("fontSize") or 0))
        elif mark == "text":
            layer["mark"] = {"type": "text", "fontSize": 18}
    return spec


@st.cache_data(max_entries=500, show_spinner=False)
def projected(builder: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A slide's chart: the report chart `builder` (in feedback.results.charts) drawn from
    figures the page has already read through publication, untitled (the slide has the
    title) and made for the projector. Kept by the figures themselves: the same figures give
    the same picture, so a click to the next slide builds one chart, once."""
    return projector_spec(getattr(charts, builder)(*args, **kwargs).properties(title=""))


def _shown(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _paged(title: str, part: int, parts: int) -> str:
    return f"{title} ({part} of {parts})" if parts > 1 else title


def overview_slides(overview: Any, pairings: int) -> list[Slide]:
    m = overview.meta
    threshold = int(m.get("threshold", 3))
    rates = overview.response_rates
    invited = int(rates["invited"].sum()) if not rates.empty else 0
    responded = int(rates["responded"].sum()) if not rates.empty else 0
    slides = [
        Slide(
            "title",
            str(m.get("council_name", "")),
            str(m.get("cycle_name", "")),
            [
                f"Feedback on {pairings} leadership pairing{'s' * (pairings != 1)}: how each "
                "councillor and officer see themselves, each other and their partnership, "
                "beside how the people around them see it.",
                *([f"{responded} of {invited} invited people responded."] if invited else []),
            ],
            notes=[
                "Open by saying what this is: how each councillor and officer see themselves, "
                "each other and their partnership, beside how the people around them see it.",
                f"Confidentiality: the pair themselves are named by design. Every other group "
                f"is shown only with at least {threshold} replies; nothing on these slides can "
                "be traced to one person, and no comment is shown.",
            ],
        )
    ]
    findings = list(overview.findings) or ["Nothing stands out across the council in this cycle."]
    parts = _chunks(findings, PER_SLIDE)
    for i, part in enumerate(parts):
        slides.append(
            Slide(
                f"findings:{i}",
                _paged("Key findings", i + 1, len(parts)),
                lines=part,
                notes=[
                    "The mirror findings come first: where a councillor and an officer see "
                    "their own partnership differently. Then blind spots and hidden strengths, "
                    "then the council picture.",
                    f"A finding needs a gap of at least {GAP_THRESHOLD:.2f} points on the 1–5 "
                    "scale and enough raters behind it.",
                ],
            )
        )
    solace = overview.solace
    if not solace.empty:
        slides.append(
            Slide(
                "national",
                "Beside the national picture",
                lines=[
                    "Solace asked chief executives about their leaders. Here: the chief "
                    "executives' answers about their leaders, from leader–chief executive "
                    "pairings of twelve months or more."
                ],
                small=national_source(solace),
                solace=list(solace.to_dict("records")),
                threshold=threshold,
                notes=[
                    f"A percentage is shown only with at least {threshold} answers behind it; "
                    "with one or two pairings it usually is not — say so rather than read "
                    "anything into one person's answer.",
                    national_source(solace),
                ],
            )
        )
    if not overview.heatmap.empty:
        by_dim = overview.heatmap.groupby("dimension_name")["score"].mean().sort_values()
        slides.append(
            Slide(
                "scores",
                "Partnership scores across the council",
                lines=[
                    f"Lowest across the council: {by_dim.index[0]} ({by_dim.iloc[0]:.1f}); "
                    f"highest: {by_dim.index[-1]} ({by_dim.iloc[-1]:.1f}). 1 is low, 5 high."
                ],
                chart=partial(projected, "council_heatmap", overview.heatmap),
                wide=True,
                notes=[
                    "Everyone else's score for each partnership, by dimension (1 low to 5 "
                    "high). Read across a row for one pairing, down a column for the council."
                ],
            )
        )
    return slides


def _targets(frame: Any) -> list[str]:
    present = set(frame["target"]) if "target" in frame.columns and not frame.empty else set()
    return [t for t in ("member", "officer", "partnership") if t in present]


def pairing_slides(pid: int, report: Any) -> list[Slide]:
    m = report.meta
    member, officer = str(m.get("member_name", "")), str(m.get("officer_name", ""))
    name = f"{member} and {officer}"
    roles = role_words(str(m.get("kind", "")))
    about = {
        "member": f"{member} ({roles['member']})",
        "officer": f"{officer} ({roles['officer']})",
        "partnership": "the partnership",
    }
    where = (
        " · ".join(p for p in (kind_label(str(m.get("kind", ""))), m.get("portfolio")) if p)
        or "Leadership pairing"
    )
    replies = "Replies: " + "; ".join(
        f"{g.label} {replies_text(g.responded, g.invited)}" + ("" if g.shown else " (not shown)")
        for g in report.groups.itertuples(index=False)
    )
    findings = report.findings
    texts = list(findings["text"]) if not findings.empty else []
    slides = []
    parts = _chunks(
        texts
        or [
            f"No finding passes the rule here (a gap of {GAP_THRESHOLD:.2f} points or more, "
            "enough raters, every item the same way)."
        ],
        PER_SLIDE,
    )
    for i, part in enumerate(parts):
        slides.append(
            Slide(
                f"pairing:{pid}:findings:{i}",
                _paged(name, i + 1, len(parts)),
                where,
                part,
                small=replies,
                notes=[
                    finding_rule(m),
                    *report.notices,
                    "Open with what the two of them recognise before the differences.",
                ],
            )
        )
    if not report.mirror.empty:
        mirrors = list(findings[findings["kind"] == "mirror"]["text"]) if texts else []
        slides.append(
            Slide(
                f"pairing:{pid}:mirror",
                f"The mirror: {name}",
                "How each of them sees their partnership, beside everyone else",
                mirrors[:2]
                or [
                    "The two of them see their partnership alike: no dimension differs by "
                    f"{GAP_THRESHOLD:.2f} points or more."
                ],
                chart=partial(projected, "mirror", report.mirror),
                notes=[
                    "The mirror sets the councillor's view of the partnership beside the "
                    "officer's and everyone else's.",
                    "Ask each of them what they had in mind when they answered, before anyone "
                    "explains the other's score.",
                ],
            )
        )
    gap = float(m.get("finding_gap") or GAP_THRESHOLD)
    targets = [
        t
        for t in _targets(report.gaps)
        if report.gaps[report.gaps["target"] == t]["gap"].notna().any()
    ]
    flagged_targets = [
        t
        for t in targets
        if (
            (rows := report.gaps[report.gaps["target"] == t])["flag"].notna() & (rows["flag"] != "")
        ).any()
    ]
    for target in flagged_targets or targets[-1:]:
        rows = report.gaps[report.gaps["target"] == target]
        flagged = rows[rows["flag"].notna() & (rows["flag"] != "")]
        lines = [
            f"{r.dimension_name}: {r.flag} — own {float(r.self_mean):.1f}, everyone else "
            f"{float(r.others_mean):.1f} (n = {int(r.others_n)})"
            for r in flagged.itertuples(index=False)
            if _shown(r.others_n) and _shown(r.self_mean) and _shown(r.others_mean)
        ]
        slides.append(
            Slide(
                f"pairing:{pid}:gaps:{target}",
                f"Gaps: {about[target]}"
                if target != "partnership"
                else f"Gaps: the partnership of {name}",
                name,
                lines[:PER_SLIDE]
                or [
                    f"Own ratings are within {gap:.2f} points of everyone else's on every "
                    "dimension: no blind spot, no hidden strength."
                ],
                chart=partial(projected, "gap_bars", report.gaps, target, threshold=gap),
                notes=[
                    f"Own rating minus everyone else's, per dimension, for {about[target]}. A "
                    f"blind spot is {gap:.2f} or more above, a hidden strength as far below.",
                ],
            )
        )
    columns = []
    for heading, frame in (
        ("Rated highest by others", report.top_items),
        ("Rated lowest by others", report.bottom_items),
    ):
        lines = [
            f"{r.item_text} ({about.get(r.target, r.target)}): {float(r.mean):.1f}, n = {int(r.n)}"
            for r in frame.head(3).itertuples(index=False)
            if _shown(r.mean) and _shown(r.n)
        ]
        if lines:
            columns.append((heading, lines))
    if columns:
        slides.append(
            Slide(
                f"pairing:{pid}:items",
                f"{name}: highest and lowest rated",
                columns=columns,
                notes=[
                    "The items everyone else rated highest and lowest, with the number of "
                    "raters behind each average (n). Start with the strengths."
                ],
            )
        )
    return slides


def closing_slide() -> Slide:
    return Slide(
        "plan",
        "From findings to the plan",
        lines=[
            "Each pairing agrees two or three goals, each tied to a dimension above.",
            "Where the mirror shows the two see their partnership differently: a working "
            "agreement first.",
            "Actions with an owner, a due date and a success measure; both sign the plan.",
        ],
        notes=[
            "Move from the findings to the plan in the same session while the conversation "
            "is fresh. Tandem suggests goals from the findings; the pair choose."
        ],
    )


def solace_cell(row: dict[str, Any], threshold: int, into: Any) -> None:
    """One national question: the council's figure with its n, or why it is not shown."""
    label = str(row["label"]).capitalize()  # the national question, from the framework
    national = f"{float(row['national_pct']):.0f}% nationally (Solace)"
    if _shown(row["council_pct"]) and int(row["n"] or 0) >= threshold:
        into.metric(label, f"{float(row['council_pct']):.0f}%")
        into.markdown(f"of {int(row['n'])} chief executives' answers here · {national}")
    else:
        into.metric(label, "Not shown")
        into.markdown(f"not shown (fewer than {threshold} answers) · {national}")


def slide_chart(slide: Slide, into: Any) -> None:
    """The chart fills a box sized to the screen (a share of its height, in the stylesheet
    above), so it grows with the projector's resolution as the type does."""
    with into:
        st.vega_lite_chart(with_arrow_data(slide.chart()), key=f"present_chart_{slide.key}")


def draw(slide: Slide) -> None:
    """The slide on the page: title, words, then the chart beside them (or below)."""
    show(slide.title, kind="title")
    if slide.subtitle:
        show(slide.subtitle, kind="subheader")
    if slide.chart is not None and slide.wide:
        show_html(bullets(slide.lines))
        slide_chart(slide, st.container(key="slide_chart_wide"))
    elif slide.chart is not None:
        words, picture = st.columns([2, 3], gap="large")
        show_html(bullets(slide.lines), into=words)
        slide_chart(slide, picture.container(key="slide_chart"))
    elif slide.lines:
        show_html(bullets(slide.lines))
    for column, (heading, lines) in zip(
        st.columns(len(slide.columns)) if slide.columns else [], slide.columns, strict=False
    ):
        show(heading, kind="subheader", into=column)
        show_html(bullets(lines), into=column)
    if slide.solace:
        for column, row in zip(st.columns(len(slide.solace)), slide.solace, strict=False):
            solace_cell(row, slide.threshold, column)
    if slide.small:
        show_html(fill('<span class="slide-small">{}</span>', slide.small))


def notes_for(slide: Slide) -> Iterable[str]:
    return [n for n in slide.notes if n]


actor = current_actor()
presenting = bool(st.session_state.get(FULL_KEY))
st.html(LARGE_TYPE + (FULL_SCREEN if presenting else ""))

with unit_of_work() as session:
    cycles = readable_cycles(session, actor)
if cycles.empty:
    st.title("Presentation")
    st.info(
        "No closed cycle yet: close the cycle on the Cycles page (or publish it), then "
        "present its results here.",
        icon=":material/info:",
    )
    st.stop()

cycle_id = pick("Cycle to present", cycle_names(cycles), "present_cycle", where=st.sidebar)
chosen = cycles[cycles["cycle_id"] == cycle_id].iloc[0]


def deck_bytes() -> bytes:
    """The deck, built when the button is pressed (charts take a few seconds)."""
    with unit_of_work() as session:
        return council_deck(session, actor, int(cycle_id))


def pack_bytes() -> bytes:
    with unit_of_work() as session:
        return council_pack(session, actor, int(cycle_id))


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

try:
    with unit_of_work() as session:
        overview = read_council_overview(session, actor, int(cycle_id))
        reports = read_all_pairing_reports(session, actor, int(cycle_id))
except TandemError as exc:
    show_error(exc, refusals="warning")
    st.stop()


def all_slides(overview: Any, reports: dict[int, Any]) -> list[Slide]:
    order = {label: i for i, label in enumerate(overview.response_rates.get("pairing_label", []))}
    slides = overview_slides(overview, len(reports))
    for pid, report in sorted(
        reports.items(), key=lambda kv: order.get(str(kv[1].meta.get("pairing_label")), 0)
    ):
        slides += pairing_slides(pid, report)
    slides.append(closing_slide())
    return slides


identities = [edition_identity(r.meta) for r in reports.values()]
# Live results (a closed cycle not yet published) change: no key, built on every run.
editions = tuple(sorted(identities)) if reports and None not in identities else None
kept = st.session_state.get("present_kept")
if editions is not None and kept is not None and kept[0] == editions:
    # A published edition never changes: a click to the next slide reuses this session's
    # slides instead of building every pairing's again (a republication is other editions).
    slides = kept[1]
else:
    slides = all_slides(overview, reports)
    st.session_state["present_kept"] = (editions, slides)

position = st.session_state.setdefault("present_slide", {})
index = min(position.get(cycle_id, 0), len(slides) - 1)
last = len(slides) - 1


def go_to(target: int) -> None:
    position[cycle_id] = max(0, min(last, target))


def step(by: int) -> None:
    """Relative to where the slides are when the key arrives: presses sent faster than the
    page redraws (a clicker held down) each move one slide."""
    go_to(position.get(cycle_id, 0) + by)


def set_presenting(on: bool) -> None:
    st.session_state[FULL_KEY] = on


# Keys a clicker or keyboard sends, as hidden buttons (Streamlit's own shortcuts).
with st.container(key="present_keys"):
    for key, shortcut, move, by in (
        ("present_space", "Space", step, 1),
        ("present_pagedown", "PageDown", step, 1),
        ("present_pageup", "PageUp", step, -1),
        ("present_home", "Home", go_to, 0),
        ("present_end", "End", go_to, last),
    ):
        st.button(key, key=key, shortcut=shortcut, on_click=move, args=(by,))

with st.container(key="present_bar", horizontal=True, vertical_alignment="center"):
    st.button(
        "Previous",
        icon=":material/arrow_back:",
        on_click=step,
        args=(-1,),
        disabled=index == 0,
        shortcut="Left",
        key="present_prev",
    )
    st.button(
        "Next",
        icon=":material/arrow_forward:",
        on_click=step,
        args=(1,),
        disabled=index == last,
        shortcut="Right",
        key="present_next",
    )
    st.markdown(f"Slide {index + 1} of {len(slides)}")
    st.space("stretch")
    if presenting:
        st.button(
            "Leave presentation",
            icon=":material/close_fullscreen:",
            on_click=set_presenting,
            args=(False,),
            shortcut="Esc",
            key="present_leave",
        )
    else:
        st.button(
            "Present full screen",
            icon=":material/open_in_full:",
            on_click=set_presenting,
            args=(True,),
            type="primary",
            key="present_start",
            help="Hides the menu and Streamlit's bar. Keys: → or space next, ← back, "
            "PageUp/PageDown (a clicker), Home/End, Esc to leave.",
        )

slide = slides[index]
with st.container(key="slide"):
    draw(slide)
with st.expander("Speaker notes", icon=":material/speaker_notes:"):
    show_html(bullets(notes_for(slide)))
