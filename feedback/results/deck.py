"""A council's results as a PowerPoint deck for the facilitator to take away and edit: the
overview, the response rates, the national comparison, the partnership scores, then each
pairing's findings, mirror, gaps and highest- and lowest-rated items, and a slide on moving
to the plan. Every slide has speaker notes.

Built only from what `feedback.results.publication` serves staff (the published edition, or
before publication the staff preview with its hold-back): the groups shown, the cells shown,
the gated council figures — so nothing here can recover a suppressed group. Comments and open
answers are left out, as in presentation mode: a deck is projected and passed on, and a
comment's wording can point to its writer. Headline figures carry their n.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import Any

import pandas as pd
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Emu, Inches, Pt
from sqlmodel import Session

from core.roles import Actor, require_staff
from core.text import file_stem
from core.vocabulary import kind_label, role_words
from feedback.access import require_cycle_manager
from feedback.results import charts
from feedback.results.publication import read_all_pairing_reports, read_council_overview
from feedback.results.tables import (
    GAP_THRESHOLD,
    CouncilOverview,
    PairingReport,
    finding_rule,
    national_source,
    replies_text,
)

WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 16:9, 13.333 × 7.5 inches
MARGIN = Inches(0.6)
INK = RGBColor.from_string("0B1620")  # type: ignore[no-untyped-call]
MUTED = RGBColor.from_string("546068")  # type: ignore[no-untyped-call]
ACCENT = RGBColor.from_string("0F5E6B")  # type: ignore[no-untyped-call]
BODY = 24  # points: readable from the back of a council chamber
SMALL = 16
PER_SLIDE = 5  # bullets on one slide; more continue on the next
TITLE_SLIDE, TITLE_ONLY = 0, 5  # layouts of python-pptx's default template
TARGET_ORDER = ("member", "officer", "partnership")
LIVE_MARK = "DRAFT: live results, not published — not for circulation"


class _Deck:
    def __init__(self, footer: str) -> None:
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.footer = footer

    # --- slides ---------------------------------------------------------------------------

    def slide(self, title: str, notes: Iterable[str]) -> Any:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[TITLE_ONLY])
        heading = slide.shapes.title
        heading.left, heading.top = MARGIN, Inches(0.35)
        heading.width, heading.height = WIDTH - 2 * MARGIN, Inches(1.0)
        heading.text = title
        frame = heading.text_frame
        frame.word_wrap = True
        for p in frame.paragraphs:
            p.alignment = 1  # left
            for run in p.runs:
                run.font.size = Pt(36 if len(title) < 60 else 28)
                run.font.bold = True
                run.font.color.rgb = INK
        self._text(
            slide,
            self.footer,
            MARGIN,
            HEIGHT - Inches(0.5),
            WIDTH - 2 * MARGIN,
            Inches(0.35),
            size=11,
            color=MUTED,
        )
        slide.notes_slide.notes_text_frame.text = "\n\n".join(n for n in notes if n)
        return slide

    def title_slide(self, title: str, subtitle: str, notes: Iterable[str]) -> None:
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[TITLE_SLIDE])
        heading, sub = slide.placeholders[0], slide.placeholders[1]
        heading.left, heading.top = MARGIN, Inches(2.0)
        heading.width, heading.height = WIDTH - 2 * MARGIN, Inches(1.6)
        sub.left, sub.top = MARGIN, Inches(3.8)
        sub.width, sub.height = WIDTH - 2 * MARGIN, Inches(2.2)
        heading.text, sub.text = title, subtitle
        for p in heading.text_frame.paragraphs:
            for run in p.runs:
                run.font.size, run.font.bold, run.font.color.rgb = Pt(44), True, INK
        for p in sub.text_frame.paragraphs:
            for run in p.runs:
                run.font.size, run.font.color.rgb = Pt(BODY), MUTED
        slide.notes_slide.notes_text_frame.text = "\n\n".join(n for n in notes if n)

    def _text(
        self,
        slide: Any,
        text: str,
        left: int,
        top: int,
        width: int,
        height: int,
        size: float = BODY,
        color: RGBColor = INK,
        bold: bool = False,
    ) -> Any:
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        frame.text = text
        for p in frame.paragraphs:
            for run in p.runs:
                run.font.size, run.font.color.rgb, run.font.bold = Pt(size), color, bold
        return box

    def heading(self, slide: Any, text: str, left: int, width: int) -> None:
        self._text(slide, text, left, Inches(1.5), width, Inches(0.6), 24, ACCENT, bold=True)

    def bullets(
        self,
        slide: Any,
        lines: Sequence[str],
        top: int = Inches(1.5),
        left: int = MARGIN,
        width: int | None = None,
        size: float = BODY,
    ) -> None:
        width = width if width is not None else WIDTH - 2 * MARGIN
        box = slide.shapes.add_textbox(left, top, width, HEIGHT - top - Inches(0.7))
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run = p.add_run()
            run.text = f"• {line}"
            run.font.size, run.font.color.rgb = Pt(size), INK
            p.space_after = Pt(size * 0.5)

    def bullet_slides(
        self, title: str, lines: Sequence[str], notes: Iterable[str], intro: str = ""
    ) -> None:
        """`lines` over as many slides as they need, PER_SLIDE to a slide."""
        notes = list(notes)
        pages = [lines[i : i + PER_SLIDE] for i in range(0, len(lines), PER_SLIDE)] or [[]]
        for n, page in enumerate(pages):
            name = title if n == 0 else f"{title} (continued)"
            slide = self.slide(name, notes)
            top = Inches(1.5)
            if intro and n == 0:
                self._text(slide, intro, MARGIN, top, WIDTH - 2 * MARGIN, Inches(0.8), SMALL, MUTED)
                top = Inches(2.3)
            size = BODY if sum(len(x) for x in page) < 600 else 20
            self.bullets(slide, page, top=top, size=size)

    def chart_slide(self, title: str, chart: Any, notes: Iterable[str], caption: str = "") -> None:
        slide = self.slide(title, notes)
        png = charts.to_png(chart, scale=2)
        top = Inches(1.45)
        bottom = HEIGHT - Inches(0.6) - (Inches(0.6) if caption else 0)
        room_w, room_h = WIDTH - 2 * MARGIN, bottom - top
        with Image.open(BytesIO(png)) as img:
            ratio = img.width / img.height
        width, height = room_w, int(room_w / ratio)
        if height > room_h:
            width, height = int(room_h * ratio), room_h
        left = int((WIDTH - width) / 2)
        slide.shapes.add_picture(BytesIO(png), Emu(left), Emu(top), Emu(width), Emu(height))
        if caption:
            self._text(
                slide, caption, MARGIN, bottom, WIDTH - 2 * MARGIN, Inches(0.5), SMALL, MUTED
            )

    def table_slide(
        self,
        title: str,
        header: list[str],
        rows: list[list[str]],
        widths: list[float],
        notes: Iterable[str],
        caption: str = "",
    ) -> None:
        slide = self.slide(title, notes)
        top = Inches(1.6)
        shape = slide.shapes.add_table(
            len(rows) + 1,
            len(header),
            MARGIN,
            top,
            WIDTH - 2 * MARGIN,
            Inches(0.6) * (len(rows) + 1),
        )
        table = shape.table
        total = sum(widths)
        for c, w in enumerate(widths):
            table.columns[c].width = int((WIDTH - 2 * MARGIN) * w / total)
        for r, values in enumerate([header, *rows]):
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.text = value
                for p in cell.text_frame.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(20 if r else 18)
                        run.font.bold = r == 0
        if caption:
            self._text(
                slide,
                caption,
                MARGIN,
                HEIGHT - Inches(1.5),
                WIDTH - 2 * MARGIN,
                Inches(0.9),
                14,
                MUTED,
            )

    def save(self) -> bytes:
        out = BytesIO()
        self.prs.save(out)
        return out.getvalue()


def _pct(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> str:
    return f"{float(value):.1f}" if _pct(value) else "—"


def _overview_slides(deck: _Deck, overview: CouncilOverview, pairings: int) -> None:
    m = overview.meta
    threshold = int(m.get("threshold", 3))
    rates = overview.response_rates
    invited = int(rates["invited"].sum()) if not rates.empty else 0
    responded = int(rates["responded"].sum()) if not rates.empty else 0
    edition = m.get("edition")
    status = f"Published edition {edition}" if edition else LIVE_MARK
    replies = (
        f"{responded} of {invited} invited people responded"
        if invited
        else "No invitations in this cycle"
    )
    deck.title_slide(
        str(m.get("council_name", "")),
        f"{m.get('cycle_name', '')}: feedback on {pairings} leadership pairing"
        f"{'s' * (pairings != 1)}\n{replies}\n{status}",
        [
            "Open by saying what this is: how each councillor and officer see themselves, each "
            "other and their partnership, beside how the people around them see it.",
            f"Confidentiality: the pair themselves are named by design. Every other group is "
            f"shown only with at least {threshold} replies, scores and comments alike; nothing "
            "in this deck can be traced to one person.",
        ],
    )
    deck.bullet_slides(
        "Key findings",
        overview.findings or ["Nothing stands out across the council in this cycle."],
        [
            "The mirror findings come first: where a councillor and an officer see their own "
            "partnership differently. Then blind spots and hidden strengths, then the council "
            "picture.",
            f"A finding needs a gap of at least {GAP_THRESHOLD:.2f} points on the 1–5 scale and "
            "enough raters behind it; a report that flags everything tells nobody anything.",
        ],
    )
    if not rates.empty:
        per = rates.groupby("pairing_label", sort=False)[["invited", "responded"]].sum()
        lines = [f"{label}: {int(r.responded)} of {int(r.invited)}" for label, r in per.iterrows()]
        deck.chart_slide(
            "Who responded",
            charts.response_rates(rates),
            ["Replies per pairing (responded of invited):", *lines],
            caption=f"{responded} of {invited} invited people responded. Groups with fewer "
            f"than {threshold} replies are not shown in any pairing's results.",
        )
    solace = overview.solace
    if not solace.empty:
        rows = []
        for row in solace.to_dict("records"):
            here = (
                f"{float(row['council_pct']):.0f}% (n = {int(row['n'])})"
                if _pct(row["council_pct"])
                else f"Not shown (fewer than {threshold} answers)"
            )
            leaders = (
                f"{float(row['members_pct']):.0f}% (n = {int(row['members_n'])})"
                if _pct(row["members_pct"])
                else "Not shown"
            )
            rows.append(
                [
                    str(row["label"]).capitalize(),
                    here,
                    f"{float(row['national_pct']):.0f}%",
                    leaders,
                ]
            )
        deck.table_slide(
            "Beside the national picture",
            ["Question", "Chief executives here", "Nationally (Solace)", "Leaders here"],
            rows,
            [4, 3, 2.2, 2.6],
            [
                "Like for like: Solace asked chief executives about their leaders, so the "
                "figure here is the chief executives' answers about their leaders, from "
                "leader–chief executive pairings of twelve months or more.",
                f"A percentage is shown only with at least {threshold} answers behind it; with "
                "one or two councils' pairings it usually is not — say so rather than read "
                "anything into one person's answer.",
                national_source(solace),
            ],
            caption=national_source(solace),
        )
    if not overview.heatmap.empty:
        by_dim = overview.heatmap.groupby("dimension_name")["score"].mean().sort_values()
        deck.chart_slide(
            "Partnership scores across the council",
            charts.council_heatmap(overview.heatmap),
            [
                "Everyone else's score for each partnership, by dimension (1 low to 5 high).",
                f"Lowest across the council: {by_dim.index[0]} ({by_dim.iloc[0]:.1f}); highest: "
                f"{by_dim.index[-1]} ({by_dim.iloc[-1]:.1f}).",
            ],
        )


def _targets(frame: pd.DataFrame) -> list[str]:
    present = set(frame["target"]) if "target" in frame.columns and not frame.empty else set()
    return [t for t in TARGET_ORDER if t in present]


def _pairing_slides(deck: _Deck, report: PairingReport) -> None:
    m = report.meta
    member, officer = str(m.get("member_name", "")), str(m.get("officer_name", ""))
    roles = role_words(str(m.get("kind", "")))
    about = {
        "member": f"{member} ({roles['member']})",
        "officer": f"{officer} ({roles['officer']})",
        "partnership": "the partnership",
    }
    name = f"{member} and {officer}"
    where = " · ".join(p for p in (kind_label(str(m.get("kind", ""))), m.get("portfolio")) if p)
    replies = "Replies: " + "; ".join(
        f"{g.label} {replies_text(g.responded, g.invited)}" + ("" if g.shown else " (not shown)")
        for g in report.groups.itertuples(index=False)
    )
    findings = list(report.findings["text"]) if not report.findings.empty else []
    deck.bullet_slides(
        name,
        findings
        or [
            f"No finding passes the rule here (a gap of {GAP_THRESHOLD:.2f} points or more, "
            "enough raters, every item the same way)."
        ],
        [
            f"{where}.",
            replies,
            finding_rule(m),
            *report.notices,
            "Open with what the two of them recognise before the differences.",
        ],
        intro=f"{where}. {replies}.",
    )
    if not report.mirror.empty:
        mirrors = report.findings[report.findings["kind"] == "mirror"]
        deck.chart_slide(
            f"The mirror: how {member} and {officer} see their partnership",
            charts.mirror(report.mirror),
            [
                "The mirror sets the councillor's view of the partnership beside the "
                "officer's and everyone else's.",
                *(f"{t} A working agreement is suggested for the plan." for t in mirrors["text"]),
                "Ask each of them what they had in mind when they answered, before anyone "
                "explains the other's score.",
            ],
        )
    threshold = float(m.get("finding_gap") or GAP_THRESHOLD)
    for target in _targets(report.gaps):
        rows = report.gaps[report.gaps["target"] == target]
        if rows["gap"].notna().sum() == 0:
            continue
        flagged = rows[rows["flag"].notna() & (rows["flag"] != "")]
        deck.chart_slide(
            f"Gaps: {about[target]}",
            charts.gap_bars(report.gaps, target, threshold=threshold),
            [
                f"Own rating minus everyone else's, per dimension, for {about[target]}. A blind "
                f"spot is {threshold:.2f} or more above, a hidden strength as far below.",
                *(
                    f"{r.dimension_name}: {r.flag} — own {_number(r.self_mean)}, everyone else "
                    f"{_number(r.others_mean)} (n = {int(r.others_n)})."
                    for r in flagged.itertuples(index=False)
                    if _pct(r.others_n)
                ),
            ],
        )
    columns = []
    for heading, frame in (
        ("Rated highest by others", report.top_items),
        ("Rated lowest by others", report.bottom_items),
    ):
        lines = [
            f"{r.item_text} ({about.get(r.target, r.target)}): {_number(r.mean)}, n = {int(r.n)}"
            for r in frame.head(3).itertuples(index=False)
        ]
        if lines:
            columns.append((heading, lines))
    if columns:
        slide = deck.slide(
            f"{name}: highest and lowest rated",
            [
                "The items everyone else rated highest and lowest, with the number of raters "
                "behind each average (n). Start with the strengths."
            ],
        )
        half = (WIDTH - 2 * MARGIN - Inches(0.4)) // 2
        for i, (heading, lines) in enumerate(columns):
            left = MARGIN + i * (half + Inches(0.4))
            deck.heading(slide, heading, left, half)
            deck.bullets(slide, lines, top=Inches(2.2), left=left, width=half, size=20)


def _closing(deck: _Deck) -> None:
    deck.bullet_slides(
        "From findings to the plan",
        [
            "Each pairing agrees two or three goals, each tied to a dimension above.",
            "Where the mirror shows the two see their partnership differently: a working "
            "agreement first.",
            "Actions with an owner (the member, the officer or both), a due date and a success "
            "measure; both sign the plan.",
            "Check-ins through the year; the next cycle shows what changed.",
        ],
        [
            "Move from the findings to the plan in the same session while the conversation is "
            "fresh. Tandem suggests goals from the findings; the pair choose."
        ],
    )


def council_deck(session: Session, actor: Actor, cycle_id: int) -> bytes:
    """The cycle's results as an editable .pptx (staff of the cycle's council only): what
    `read_council_overview` and `read_all_pairing_reports` serve, nothing else."""
    require_staff(actor)
    require_cycle_manager(session, actor, cycle_id)
    overview = read_council_overview(session, actor, cycle_id)
    reports = read_all_pairing_reports(session, actor, cycle_id)
    m = overview.meta
    edition = m.get("edition")
    mark = f"edition {edition} · confidential" if edition else LIVE_MARK
    deck = _Deck(f"{m.get('council_name', '')} · {m.get('cycle_name', '')} · {mark}")
    deck.prs.core_properties.title = f"{m.get('council_name', '')}: {m.get('cycle_name', '')}"
    deck.prs.core_properties.author = "Tandem"
    _overview_slides(deck, overview, len(reports))
    order = {label: i for i, label in enumerate(overview.response_rates.get("pairing_label", []))}
    for report in sorted(
        reports.values(), key=lambda r: order.get(str(r.meta.get("pairing_label")), 0)
    ):
        _pairing_slides(deck, report)
    _closing(deck)
    return deck.save()


def deck_filename(council: str | None, cycle: str | None) -> str:
    return f"{file_stem(council, cycle)}-results.pptx"
