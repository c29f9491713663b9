"""Pairing report: how the councillor, the officer and the people around them see each
dimension, where they differ, the mirror, the change since last cycle and the comments.
Everything shown comes from feedback.results.publication, after suppression."""

from functools import partial

import pandas as pd
import streamlit as st

from core.errors import TandemError
from core.formats import uk_datetime
from core.roles import is_principal, is_staff
from core.text import file_stem
from core.vocabulary import kind_label, role_words
from feedback.results import charts
from feedback.results.moderation import (
    comments_to_moderate,
    hide_comment,
    redact_comment,
    restore_comment,
)
from feedback.results.publication import read_pairing_report
from feedback.results.report_index import readable_cycles, readable_reports
from feedback.results.report_pdf import pairing_report_pdf
from feedback.results.tables import (
    GAP_THRESHOLD,
    HIGH_SCORE,
    PairingReport,
    finding_rule,
    replies_text,
)
from planning.development_guide import development_guide
from ui.development_guide import show_guide
from ui.errors import show_error
from ui.links import follow_link
from ui.notices import flash
from ui.pickers import cycle_names, pick
from ui.report_views import edition_identity, show_chart
from ui.state import current_actor, unit_of_work
from ui.text import alert, bullets, show, show_html

actor = current_actor()
st.title("Pairing report")

# Staff of a national body read thousands of pairings: the cycles are listed, then the
# chosen cycle's pairings. A principal's few reports are listed at once.
with unit_of_work() as session:
    choices = (
        readable_cycles(session, actor) if is_staff(actor) else readable_reports(session, actor)
    )
if choices.empty:
    if is_principal(actor):
        st.info(
            "Your report is not published yet. Your facilitator will tell you when it is.",
            icon=":material/schedule:",
        )
    else:
        st.info(
            "No closed cycle yet: close the cycle on the Cycles page (or publish it) and its "
            "pairing reports appear here.",
            icon=":material/info:",
        )
    st.stop()

follow_link("report_cycle", "cycle")
follow_link("report_pairing", "pairing")
left, right = st.columns(2)
cycle_id = pick("Cycle", cycle_names(choices), "report_cycle", where=left)
if is_staff(actor):
    with unit_of_work() as session:
        in_cycle = readable_reports(session, actor, cycle_id=int(cycle_id))
else:
    in_cycle = choices[choices["cycle_id"] == cycle_id]
pairing_names = {
    int(k): v for k, v in zip(in_cycle["pairing_id"], in_cycle["pairing"], strict=True)
}
pairing_id = pick("Pairing", pairing_names, "report_pairing", where=right)

try:
    with unit_of_work() as session:
        report = read_pairing_report(session, actor, int(cycle_id), int(pairing_id))
except TandemError as exc:
    show_error(exc, refusals="warning")
    st.stop()

meta = report.meta
member, officer = meta["member_name"], meta["officer_name"]
roles_of = role_words(meta.get("kind", ""))
TARGETS = {
    "member": f"{member} ({roles_of['member']})",
    "officer": f"{officer} ({roles_of['officer']})",
    "partnership": "The partnership",
}
file_stem = file_stem(meta.get("cycle_name"), member, officer)
# A published edition never changes: its charts are built once (None: live, built each run).
published = edition_identity(meta)
# Downloaded charts are titled with whose they are.
heading = charts.export_heading(
    f"{member} and {officer}", meta.get("council_name"), meta.get("cycle_name")
)
# Who "self" and "partner" are in each chart, for its note on missing dots.
NAMES = {
    "member": {"self": member, "partner": officer},
    "officer": {"self": officer, "partner": member},
}


def moderate(fn, success: str, *args: object) -> None:
    """One moderation action in its own unit of work; the page is then read again."""
    try:
        with unit_of_work() as session:
            fn(session, actor, *args)
    except TandemError as exc:
        show_error(exc)
        return
    flash("success", success)
    st.rerun()


def moderate_comments(cycle: int, pairing: int) -> None:
    """Staff reading a closed cycle before publication: each comment as readers will see
    it, with what was moderated and why, and the controls to withhold a comment, take
    words out of it, or restore it (feedback.results.moderation)."""
    st.caption(
        "Before publication you may withhold a comment that names someone or is abusive, or "
        "take some words out of it (readers then see “[removed by the facilitator]”). A "
        "reason is required and kept in the audit log, never the comment. What the rater "
        "wrote is kept, so you can restore it until the cycle is published."
    )
    try:
        with unit_of_work() as session:
            listed = comments_to_moderate(session, actor, cycle, pairing)
    except TandemError as exc:
        show_error(exc, refusals="warning")
        return
    if not listed:
        st.info("No comments to show for this pairing.")
        return
    heading, seen = None, set()
    for number, c in enumerate(listed, start=1):
        if c.heading != heading:
            heading = c.heading
            show(heading, kind="strong")
        when = uk_datetime(c.moderated_at)
        if c.state == "shown":
            show(c.text, kind="quote")
        elif c.state == "redacted":
            show(c.shown or "", kind="quote")
            show(
                "Words removed by {} on {} (reason: {}).",
                c.moderated_by, when, c.reason, kind="caption",
            )  # fmt: skip
        else:  # its words are in no report, not even this one
            show(
                "A comment withheld from the report by {} on {} (reason: {}).",
                c.moderated_by, when, c.reason, kind="caption", icon="visibility_off",
            )  # fmt: skip
        if c.ref in seen:  # the same words twice under one heading: moderated together
            continue
        seen.add(c.ref)
        # Numbered, so each control names its comment (a label never holds user text).
        with st.expander(f"Moderate comment {number}"):
            with st.form(f"moderate_{c.ref}", clear_on_submit=True, border=False):
                words = st.text_input(
                    "Words to remove (whole words, wherever they appear)",
                    key=f"moderate_words_{c.ref}",
                )
                reason = st.text_input(
                    "Reason (required; kept in the audit log, never the comment)",
                    key=f"moderate_reason_{c.ref}",
                )
                left, middle, right = st.columns(3)
                hide = left.form_submit_button(
                    "Withhold this comment", key=f"moderate_hide_{c.ref}"
                )
                cut = middle.form_submit_button("Remove these words", key=f"moderate_cut_{c.ref}")
                back = right.form_submit_button(
                    "Restore as written", key=f"moderate_restore_{c.ref}",
                    disabled=c.state == "shown",
                )  # fmt: skip
            if hide:
                moderate(
                    hide_comment, "Withheld: it is in no report, PDF or export.",
                    cycle, pairing, c.ref, reason,
                )  # fmt: skip
            if cut:
                moderate(
                    redact_comment, "Words removed: readers see “[removed by the facilitator]”.",
                    cycle, pairing, c.ref, words, reason,
                )  # fmt: skip
            if back:
                moderate(restore_comment, "Restored as written.", cycle, pairing, c.ref, reason)


# --- headline ------------------------------------------------------------------------------
show("{} and {}", member, officer, kind="header")
roles = " · ".join(
    part
    for part in (
        kind_label(meta.get("kind", "")),
        meta.get("member_title"),
        meta.get("officer_title"),
        meta.get("portfolio"),
    )
    if part
)
edition = meta.get("edition")
status = f"published edition {edition}" if edition else "live results, not yet published"
show(
    "{} · {} · {}" + ("\n{}" if roles else ""),
    meta.get("council_name", ""),
    meta.get("cycle_name", ""),
    status,
    *([roles] if roles else []),
    kind="caption",
)

st.download_button(
    "Download this report (PDF)",
    data=lambda: pairing_report_pdf(report),
    file_name=f"{file_stem}-{f'edition-{edition}' if edition else 'draft'}.pdf",
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
    help="The whole report to keep, print or send on: the same figures as this page.",
)

groups: pd.DataFrame = report.groups
if not groups.empty:
    columns = st.columns(len(groups))
    for column, row in zip(columns, groups.itertuples(index=False), strict=True):
        column.metric(
            str(row.label),
            replies_text(row.responded, row.invited),
            help="Responses received of those invited"
            + ("" if row.shown else " — too few to show without identifying anyone"),
        )
        if not row.shown:
            column.caption("Not shown")
for notice in report.notices:
    alert("info", notice, icon="visibility_off")
st.caption(
    f"Groups other than the pair themselves are shown only with at least {meta['threshold']} "
    "replies. Scores run from 1 (low) to 5 (high)."
)

# --- findings: the mirror first, then blind spots and hidden strengths ---------------------
st.subheader("Findings")
findings = report.findings
if findings.empty:
    st.markdown(
        "Nothing here passes the rule for a finding: no dimension where the two of you see "
        "your partnership differently, and no blind spot or hidden strength."
    )
else:
    show_html(bullets(findings["text"]))
show(finding_rule(meta), kind="caption")
gap_threshold = float(meta.get("finding_gap") or GAP_THRESHOLD)

scores_tab, gaps_tab, items_tab, mirror_tab, change_tab, matters_tab, comments_tab = st.tabs(
    ["Scores", "Gaps", "Items", "Mirror", "Change", "What matters most", "Comments"]
)


def targets_in(frame: pd.DataFrame) -> list[str]:
    present = set(frame["target"]) if "target" in frame.columns else set()
    return [t for t in TARGETS if t in present]


# --- scores per dimension ---------------------------------------------------------------------
# Fragments: the toggle and the item pickers redraw only their own part of the page.
@st.fragment
def scores(report: PairingReport) -> None:
    separate = st.toggle(
        "Show each group separately",
        key="report_separate",
        help="Councillors, officers and external partners apart, instead of everyone else "
        "together. Groups with too few replies are never shown.",
    )
    sources = (
        ("self", "partner", "members", "officers", "partners")
        if separate
        else ("self", "partner", "others")
    )
    if report.dimensions.empty:
        st.info("No scores to show: nobody in a shown group answered enough items.")
    for target in targets_in(report.dimensions):
        show(TARGETS[target], kind="subheader")
        show_chart(
            partial(
                charts.self_partner_others,
                report.dimensions,
                target,
                sources=sources,
                threshold=meta["threshold"],
                names=NAMES.get(target),
            ),
            f"{file_stem}-{target}-scores",
            f"scores_{target}",
            edition=published,
            heading=heading,
        )


with scores_tab:
    scores(report)
    bands = report.dimensions
    if "agreement" in bands.columns and bands["agreement"].notna().any():
        st.subheader("How far the others agree")
        st.caption(
            "Whether a group's answers on a dimension sit together (raters agree), spread "
            "(mixed views) or fall on both sides of the middle of the scale (split). Shown "
            "only where it cannot reveal what anyone answered; otherwise left blank."
        )
        shown = bands[bands["source"].isin(["members", "officers", "partners", "others"])]
        table = shown.pivot_table(
            index=["dimension_name", "target"],
            columns="source",
            values="agreement",
            aggfunc="first",
            sort=False,
        ).reset_index()
        table["target"] = table["target"].map(TARGETS).fillna(table["target"])
        table = table.rename(
            columns={
                "dimension_name": "Dimension",
                "target": "About",
                "members": "Other councillors",
                "officers": "Other officers",
                "partners": "External partners",
                "others": "Everyone else",
            }
        )
        st.dataframe(table.fillna(""), hide_index=True, width="stretch")


# --- gaps and Johari -------------------------------------------------------------------------
def quadrant_grid(gaps: pd.DataFrame, target: str) -> None:
    """The Johari window in words (issue 18): a 2×2 of the dimensions, one under another on
    a phone. The scatter follows as a detail."""
    cells = charts.quadrant_words(gaps, target)
    for row in (cells[:2], cells[2:]):
        for column, (name, meaning, names) in zip(st.columns(2), row, strict=True):
            with column.container(border=True):
                show(name, kind="strong")
                show(meaning, kind="caption")
                if names:
                    show_html(bullets(names))
                else:
                    show("None.", kind="caption")


with gaps_tab:
    st.caption(
        f"A gap of {gap_threshold:.2f} or more (a third of the 1–5 scale) between someone's "
        "own rating and everyone else's is a blind spot (they rate themselves higher) or a "
        "hidden strength (lower) — when enough people rated it and every item of the "
        "dimension points the same way."
    )
    if report.gaps.empty:
        st.info("No gaps to show: there are no ratings from others that can be shown.")
    for target in targets_in(report.gaps):
        rows = report.gaps[report.gaps["target"] == target]
        if rows["gap"].notna().sum() == 0:
            continue
        show(TARGETS[target], kind="subheader")
        quadrant_grid(report.gaps, target)
        show_chart(
            partial(charts.gap_bars, report.gaps, target, threshold=gap_threshold),
            f"{file_stem}-{target}-gaps",
            f"gaps_{target}",
            edition=published,
            heading=heading,
        )
        with st.expander("The same as a Johari window (a scatter of the two scores)"):
            show_chart(
                partial(
                    charts.johari_quadrant,
                    report.gaps,
                    target,
                    threshold=gap_threshold,
                    high=HIGH_SCORE,
                ),
                f"{file_stem}-{target}-johari",
                f"johari_{target}",
                edition=published,
                heading=heading,
            )

# --- items -----------------------------------------------------------------------------------
ITEM_COLUMNS = {
    "item_text": "Item",
    "dimension_name": "Dimension",
    "target": "About",
    "mean": st.column_config.NumberColumn("Average", format="%.2f"),
    "n": "Raters",
}


def item_table(frame: pd.DataFrame) -> None:
    shown = frame[[c for c in ITEM_COLUMNS if c in frame.columns]].copy()
    if "target" in shown.columns:
        shown["target"] = shown["target"].map(TARGETS).fillna(shown["target"])
    st.dataframe(shown, hide_index=True, width="stretch", column_config=ITEM_COLUMNS)


@st.fragment
def item_by_item(report: PairingReport) -> None:
    st.subheader("Item by item")
    dims = report.items.drop_duplicates("dimension_code")
    dim_names = dict(zip(dims["dimension_code"], dims["dimension_name"], strict=True))
    a, b = st.columns(2)
    code = a.selectbox(
        "Dimension", list(dim_names), format_func=dim_names.get, key="report_item_dim"
    )
    options = targets_in(report.items[report.items["dimension_code"] == code])
    target = b.selectbox(
        "About", options, format_func=TARGETS.get, key=f"report_item_target_{code}"
    )
    if target:
        show_chart(
            partial(
                charts.self_partner_others,
                report.items,
                target,
                dimension_code=code,
                threshold=meta["threshold"],
                names=NAMES.get(target),
            ),
            f"{file_stem}-{code}-{target}-items",
            "items",
            edition=published,
            heading=heading,
        )


with items_tab:
    for note in report.not_asked_notes():
        show(note, kind="caption")
    st.subheader("Highest rated by others")
    item_table(report.top_items)
    st.subheader("Lowest rated by others")
    item_table(report.bottom_items)
    if not report.items.empty:
        item_by_item(report)

# --- mirror ----------------------------------------------------------------------------------
with mirror_tab:
    if report.mirror.empty:
        st.info("No partnership ratings to compare.")
    else:
        show(
            "How {} and {} each rate their partnership, beside how everyone else rates it. "
            "Where the two are {} or more apart, that is a finding: a working agreement is "
            "suggested for the plan.",
            member,
            officer,
            f"{gap_threshold:.2f}",
            kind="caption",
        )
        mirrors = findings[findings["kind"] == "mirror"] if not findings.empty else findings
        for text in mirrors["text"] if not mirrors.empty else []:
            alert("warning", text, icon="compare_arrows")
        show_chart(
            partial(
                charts.mirror,
                report.mirror,
                names={"member_view": member, "officer_view": officer},
            ),
            f"{file_stem}-mirror",
            "mirror",
            edition=published,
            heading=heading,
        )

# --- change ----------------------------------------------------------------------------------
with change_tab:
    previous = meta.get("previous_cycle_name")
    if report.change.empty or not previous:
        st.info(
            "No earlier cycle for this pairing, so there is no change to show yet. Change "
            "appears after the pairing's second cycle."
        )
    else:
        if note := report.framework_note():
            alert("info", note, icon="swap_horiz")
        for target in targets_in(report.change):
            rows = report.change[
                (report.change["target"] == target) & (report.change["source"] == "others")
            ]
            if rows.empty:
                continue
            show(TARGETS[target], kind="subheader")
            show_chart(
                partial(
                    charts.trend,
                    report.change,
                    target,
                    source="others",
                    previous_name=previous,
                    current_name=meta["cycle_name"],
                ),
                f"{file_stem}-{target}-change",
                f"change_{target}",
                edition=published,
                heading=heading,
            )

# --- what matters most (framework 2026.2) ---------------------------------------------------
with matters_tab:
    summary = report.matters_most_summary()
    if summary.empty:
        st.info(
            "Nothing to show: this cycle did not ask which dimensions matter most, or too few "
            "raters answered it to show without identifying anyone."
        )
    else:
        show(
            "Each rater chose up to three dimensions that matter most for this pairing. "
            "Everyone else's choices are counted only from groups with at least {} raters "
            "who chose; {} and {} are named. Beside them, how everyone else rates each "
            "dimension.",
            meta["threshold"],
            member,
            officer,
            kind="caption",
        )
        shown = summary.rename(
            columns={
                "dimension_name": "Dimension",
                "rank": "Rank",
                "chosen": "Chosen by everyone else",
                "member_view": f"{member} chose",
                "officer_view": f"{officer} chose",
                "others_member": f"{member}: rated",
                "others_officer": f"{officer}: rated",
                "others_partnership": "Partnership: rated",
            }
        )
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(c, format="%.2f")
                for c in shown.columns
                if c.endswith(": rated")
            },
        )

# --- comments --------------------------------------------------------------------------------
with comments_tab:
    st.caption(
        "Comments are shown without names, in alphabetical order, and only from groups with "
        "enough replies to keep them anonymous."
    )
    sections = report.comment_sections_with_languages()
    answered = [q for q in report.open_answers if q["answers"]]
    if not is_principal(actor) and not edition:
        moderate_comments(int(cycle_id), int(pairing_id))  # staff, before publication
    elif not sections and not answered:
        st.info("No comments to show for this pairing.")
    else:
        for name, texts in sections:
            show(name, kind="strong")
            for text, language in texts:
                # The language only where enough wrote in each (engine.comment_languages).
                if language:
                    show(language, kind="caption")
                show(text, kind="quote")
        if answered:
            st.subheader("In their own words")
        for q in answered:
            show(q["question"], kind="strong")
            for text in q["answers"]:
                show(text, kind="quote")

# --- the development guide: what good looks like, dimension by dimension --------------------
st.subheader("Development guide")
st.caption(
    "For each dimension: what good looks like for the member, the officer and the pair, and "
    "practical actions (the plan page suggests them from these findings)."
)
_dims = report.dimensions.drop_duplicates("dimension_code") if not report.dimensions.empty else None
_names = (
    {}
    if _dims is None
    else dict(zip(_dims["dimension_code"], _dims["dimension_name"], strict=True))
)
_member, _officer = str(meta.get("member_name", "")), str(meta.get("officer_name", ""))
show_guide(development_guide(_names, _member, _officer), _member, _officer)

# --- the facilitator's guide (staff only) ----------------------------------------------------
if is_staff(actor):
    from feedback.results.guide import facilitator_guide, guide_filename

    def _guide_bytes() -> bytes:
        with unit_of_work() as session:
            return facilitator_guide(session, actor, int(cycle_id), int(pairing_id))

    st.divider()
    st.download_button(
        "Download the facilitator's guide",
        data=_guide_bytes,
        file_name=guide_filename(meta),
        mime="application/pdf",
        on_click="ignore",
        icon=":material/record_voice_over:",
        help="A PDF for the facilitator only: what to open with, questions for the mirror and each "
        "large gap, what the seeds say about each dimension in the findings, and how to move "
        "to the plan. Not for the pair.",
        key="report_guide",
    )
