"""A pairing report as a PDF to keep, print or send: the same content as the report page,
built only from a PairingReport (so only from what its reader may read, after suppression:
the groups shown, the cells shown, comments of shown groups, unattributed and in
alphabetical order). Charts are the page's own Altair charts, drawn by vl-convert; text is
set in DejaVu Sans (shipped in data/fonts) so Welsh names keep their accents everywhere."""

from __future__ import annotations

import math
from io import BytesIO
from typing import Any

import pandas as pd
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from PIL import Image

from core.db import DATA_DIR
from core.vocabulary import kind_label, role_words
from feedback.results import charts
from feedback.results.figure_words import figure_words
from feedback.results.pdf_tags import TaggedPdf, TaggedTable
from feedback.results.tables import (
    GAP_THRESHOLD,
    HIGH_SCORE,
    PairingReport,
    finding_rule,
    replies_text,
)

FONTS = DATA_DIR / "fonts"
FONT = "DejaVu"
INK = (11, 22, 32)
MUTED = (84, 96, 104)
ACCENT = (15, 94, 107)
TARGET_ORDER = ("member", "officer", "partnership")
PAGES_ALIAS = "{tandem:pages}"
LIVE_MARK = "DRAFT: live results, not published — not for circulation"


class PdfDocument(TaggedPdf):
    """An A4 page in DejaVu Sans with a two-line footer (what it is about; the mark and the
    page count): the pairing report and the facilitator's guide (feedback.results.guide).
    Tagged for screen readers (feedback.results.pdf_tags): headings H1–H4 (one level deeper
    from `level_offset`, as in the council pack), paragraphs, lists, tables and figures."""

    def __init__(self, about: str, mark: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.about, self.mark = about, mark
        # fpdf2 swaps this text for the page count everywhere; an alias nobody types.
        self.alias_nb_pages(PAGES_ALIAS)
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=20)
        self.set_text_color(*INK)
        self.level_offset = 0
        self.threshold: int | None = None  # the anonymity threshold, for a chart's words

    def footer(self) -> None:
        with self.artifact("Pagination"):
            self._footer_lines()

    def _footer_lines(self) -> None:
        # Two short lines: long Welsh names and the draft mark would not fit on one.
        self.set_y(-14)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        about = self.fit(self.about, self.epw)
        self.cell(0, 3.6, about, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        # The page count is put in after the last page: leave room for its digits.
        end = f" · page {self.page_no()} of {PAGES_ALIAS}"
        room = self.epw - self.get_string_width(end.replace(PAGES_ALIAS, "9999"))
        self.cell(0, 3.6, self.fit(self.mark, room) + end, align="C")
        self.set_text_color(*INK)

    def fit(self, text: str, width: float) -> str:
        """`text` shortened with an ellipsis to fit `width` in the current font (the full
        names are on the first page; the footer only reminds the reader whose report it is)."""
        if self.get_string_width(text) <= width:
            return text
        kept = text
        while kept and self.get_string_width(kept.rstrip() + "…") > width:
            kept = kept[:-1]
        return kept.rstrip() + "…"

    # --- building blocks ---------------------------------------------------------------

    def heading(self, text: str, size: float = 14, space: float = 4) -> None:
        if self.get_y() > self.h - 60:  # a heading never sits alone at a page's foot
            self.add_page()
        self.ln(space)
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT if size < 18 else INK)
        # The size says the level: the title, a section, a part of a section.
        level = (1 if size >= 18 else 2 if size >= 12 else 3) + self.level_offset
        with self.tagged(f"H{level}"):
            self.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1.5)

    def para(self, text: str, size: float = 9.5, muted: bool = False) -> None:
        with self.tagged("P"):
            self._lines(text, size, muted)

    def bullet(self, text: str, size: float = 9.5) -> None:
        """A "•" line, an item of one list with the bullets right before it."""
        with self.list_item():
            self._lines(f"• {text}", size, False)

    def _lines(self, text: str, size: float, muted: bool) -> None:
        self.set_font(FONT, "", size)
        if muted:
            self.set_text_color(*MUTED)
        self.multi_cell(0, size * 0.48, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(1)

    def chart(self, chart: Any, *titles: tuple[str, float]) -> None:
        """The chart full width, after its headings (text, size); the headings move to the
        next page with the chart when it does not fit below them."""
        png = charts.to_png(chart, scale=2)
        width = self.epw
        with Image.open(BytesIO(png)) as img:  # the PNG's own proportions decide the height
            height = width * img.height / img.width
        if height > self.h - 40:
            width, height = width * (self.h - 40) / height, self.h - 40
        above = sum(size * 0.5 + 7 for _text, size in titles)
        if self.get_y() + above + height > self.page_break_trigger:
            self.add_page()
        for text, size in titles:
            self.heading(text, size=size, space=1 if size < 12 else 4)
        box = self.figure_box(self.l_margin, self.get_y(), width, height)
        with self.tagged("Figure", alt=figure_words(chart, self.threshold), attributes=box):
            self.image(BytesIO(png), x=self.l_margin, w=width, h=height)
        self.ln(2)

    def grid(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        self.set_font(FONT, "", 8.5)
        table = TaggedTable(
            self,
            col_widths=widths,
            text_align="LEFT",
            line_height=4.4,
            headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=(237, 241, 242)),
            borders_layout="HORIZONTAL_LINES",
        )
        for values in [header, *rows]:
            row = table.row()
            for text in values:
                row.cell(text)
        table.render()
        self.ln(2)


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.2f}"


def _targets(frame: pd.DataFrame) -> list[str]:
    present = set(frame["target"]) if "target" in frame.columns and not frame.empty else set()
    return [t for t in TARGET_ORDER if t in present]


def pairing_report_pdf(report: PairingReport) -> bytes:
    """The report as an A4 PDF."""
    meta = report.meta
    member, officer = str(meta.get("member_name", "")), str(meta.get("officer_name", ""))
    doc = PdfDocument("", "")
    doc.set_title(f"Pairing report: {member} and {officer}")
    doc.set_author("Tandem")
    doc.threshold = int(meta.get("threshold", 3))
    write_pairing_report(doc, report)
    return bytes(doc.output())


def write_pairing_report(doc: PdfDocument, report: PairingReport) -> None:
    """The report from a new page of `doc` on: alone (pairing_report_pdf) or one of a
    council's pack (feedback.results.pack). The footer names this pairing from here on."""
    meta = report.meta
    member, officer = str(meta.get("member_name", "")), str(meta.get("officer_name", ""))
    roles_of = role_words(str(meta.get("kind", "")))
    targets = {
        "member": f"{member} ({roles_of['member']})",
        "officer": f"{officer} ({roles_of['officer']})",
        "partnership": "The partnership",
    }
    edition = meta.get("edition")
    status = f"published edition {edition}" if edition else "live results, not yet published"
    threshold = meta.get("threshold", 3)
    # Live results (a closed cycle not yet published) are marked on every page: a copy passed
    # on early could be set against the published edition, which may hold replies back.
    mark = f"edition {edition} · confidential" if edition else LIVE_MARK
    doc.add_page()  # the previous page's footer is drawn first, with its own words
    doc.about, doc.mark = f"{member} and {officer} · {meta.get('cycle_name', '')}", mark

    doc.heading(f"{member} and {officer}", size=20, space=0)
    doc.para(f"{meta.get('council_name', '')} · {meta.get('cycle_name', '')} · {status}")
    roles = " · ".join(
        str(p)
        for p in (
            kind_label(str(meta.get("kind", ""))),
            meta.get("member_title"),
            meta.get("officer_title"),
            meta.get("portfolio"),
        )
        if p
    )
    if roles:
        doc.para(roles, muted=True)
    doc.para(
        f"Groups other than the pair themselves are shown only with at least {threshold} "
        "replies, for scores and comments alike; a question fewer than that answered is left "
        "out for that group. Comments are shown without names, in alphabetical order. Scores "
        "run from 1 (low) to 5 (high).",
        size=8.5,
        muted=True,
    )

    # The findings lead: the mirror first, then blind spots and hidden strengths.
    doc.heading("Findings")
    if report.findings.empty:
        doc.para(
            "Nothing here passes the rule for a finding: no dimension where the two see their "
            "partnership differently, and no blind spot or hidden strength."
        )
    for text in report.findings["text"]:
        doc.bullet(text)
    doc.para(finding_rule(meta), size=8.5, muted=True)
    gap_threshold = float(meta.get("finding_gap") or GAP_THRESHOLD)

    doc.heading("Who responded")
    doc.grid(
        ["Group", "Replies", "Shown"],
        [
            [
                str(g.label),
                replies_text(g.responded, g.invited),
                "yes" if g.shown else "no — too few to show without identifying anyone",
            ]  # fmt: skip
            for g in report.groups.itertuples(index=False)
        ],
        [70, 30, 74],
    )
    for notice in report.notices:
        doc.para(notice, size=8.5, muted=True)

    scores_title = ("How each source rates each dimension", 14)
    if report.dimensions.empty:
        doc.heading(scores_title[0])
        doc.para("No scores to show: nobody in a shown group answered enough items.")
    for n, target in enumerate(_targets(report.dimensions)):
        titles = [scores_title] if n == 0 else []
        doc.chart(
            charts.self_partner_others(report.dimensions, target), *titles, (targets[target], 11)
        )

    doc.heading("Gaps: blind spots and hidden strengths")
    doc.para(
        f"A gap of {gap_threshold:.2f} or more (a third of the 1–5 scale) between someone's own "
        "rating and everyone else's is a blind spot (they rate themselves higher) or a hidden "
        "strength (lower), when enough people rated it and every item points the same way.",
        size=8.5,
        muted=True,
    )
    flagged = report.gaps[report.gaps["flag"].notna() & (report.gaps["flag"] != "")]
    if flagged.empty:
        doc.para("No dimension has a gap that large.")
    else:
        doc.grid(
            ["About", "Dimension", "Self", "Everyone else", "Gap", "Reading"],
            [
                [
                    targets.get(r.target, r.target),
                    str(r.dimension_name),
                    _number(r.self_mean),
                    _number(r.others_mean),
                    _number(r.gap),
                    str(r.flag),
                ]  # fmt: skip
                for r in flagged.itertuples(index=False)
            ],
            [40, 42, 16, 26, 16, 34],
        )
    for target in _targets(report.gaps):
        rows = report.gaps[report.gaps["target"] == target]
        if rows["gap"].notna().sum() == 0:
            continue
        doc.chart(
            charts.gap_bars(report.gaps, target, threshold=gap_threshold), (targets[target], 11)
        )
        doc.chart(
            charts.johari_quadrant(report.gaps, target, threshold=gap_threshold, high=HIGH_SCORE)
        )

    if not report.mirror.empty:
        doc.chart(charts.mirror(report.mirror), ("The mirror: how each sees the partnership", 14))
        mirrors = report.findings[report.findings["kind"] == "mirror"]
        for text in mirrors["text"]:
            doc.bullet(f"{text} A working agreement is suggested for the plan.")

    bands = report.dimensions
    if "agreement" in bands.columns and bands["agreement"].notna().any():
        doc.heading("How far the others agree")
        doc.para(
            "Whether a group's answers sit together (raters agree), spread (mixed views) or "
            "fall on both sides of the middle of the scale (split); left blank where it "
            "could reveal what anyone answered.",
            size=8.5,
            muted=True,
        )
        rows = bands[bands["agreement"].notna()]
        names = {"members": "Other councillors", "officers": "Other officers",
                 "partners": "External partners", "others": "Everyone else"}  # fmt: skip
        doc.grid(
            ["Dimension", "About", "Who", "Agreement"],
            [
                [
                    str(r.dimension_name),
                    targets.get(r.target, r.target),
                    names.get(r.source, r.source),
                    str(r.agreement),
                ]  # fmt: skip
                for r in rows.itertuples(index=False)
            ],
            [56, 46, 40, 32],
        )

    for title, frame in (
        ("Highest rated by others", report.top_items),
        ("Lowest rated by others", report.bottom_items),
    ):
        if frame.empty:
            continue
        doc.heading(title)
        doc.grid(
            ["Item", "About", "Average", "Raters"],
            [
                [str(r.item_text), targets.get(r.target, r.target), _number(r.mean), str(r.n)]
                for r in frame.itertuples(index=False)
            ],
            [104, 38, 16, 16],
        )

    summary = report.matters_most_summary()
    if not summary.empty:
        doc.heading("What matters most")
        doc.para(
            f"Each rater chose up to three dimensions that matter most for this pairing; "
            f"everyone else's choices count only from groups with at least {threshold} raters "
            "who chose. Beside them, everyone else's score for each.",
            size=8.5,
            muted=True,
        )
        doc.grid(
            ["Dimension", "Rank", "Chosen", f"{member} chose", f"{officer} chose", "Rated"],
            [
                [
                    str(r["dimension_name"]),
                    "" if pd.isna(r["rank"]) else str(int(r["rank"])),
                    str(r["chosen"]),
                    "yes" if r["member_view"] else "",
                    "yes" if r["officer_view"] else "",
                    " / ".join(
                        _number(v)
                        for v in (r["others_member"], r["others_officer"], r["others_partnership"])
                    ),
                ]  # fmt: skip
                for r in summary.to_dict("records")
            ],
            [40, 14, 20, 28, 28, 44],
        )
        doc.para(
            "Rated: everyone else's score for the councillor / the officer / the partnership.",
            size=8,
            muted=True,
        )

    previous = meta.get("previous_cycle_name")
    if previous and not report.change.empty:
        change_title: list[tuple[str, float]] = [(f"Change since {previous}", 14)]
        if note := report.framework_note():
            doc.heading(change_title.pop()[0])
            doc.para(note, size=8.5, muted=True)
        for target in _targets(report.change):
            rows = report.change[
                (report.change["target"] == target) & (report.change["source"] == "others")
            ]
            if rows.empty:
                continue
            doc.chart(
                charts.trend(
                    report.change,
                    target,
                    source="others",
                    previous_name=previous,
                    current_name=str(meta.get("cycle_name", "")),
                ),
                *change_title,
                (targets[target], 11),
            )
            change_title = []

    doc.heading("Comments")
    sections = report.comment_sections()
    if not sections:
        doc.para("No comments to show for this pairing.")
    for name, texts in sections:
        doc.heading(name, size=10.5, space=1)
        for text in texts:
            doc.para(f"“{text}”", size=9)
    answered = [q for q in report.open_answers if q["answers"]]
    if answered:
        doc.heading("In their own words")
    for q in answered:
        doc.heading(str(q["question"]), size=10.5, space=1)
        for text in q["answers"]:
            doc.para(f"“{text}”", size=9)
