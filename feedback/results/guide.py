"""The facilitator's guide to one pairing's feedback conversation, as a PDF to print: what to
open with, questions for each large gap and for the mirror, what the seeds say about each
dimension in the findings (data/facilitator_guide.yaml), and how to move to the plan.

Staff only (the cycle's facilitator or an administrator): it is the facilitator's crib
sheet, not the pair's report. It is built from the pairing's report as
`feedback.results.publication` serves it — the published edition, or before publication the
staff preview with its hold-back — so it holds no more than the report does, and it quotes
no comments.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pandas as pd
import yaml
from sqlmodel import Session

from core.db import DATA_DIR
from core.roles import Actor, require_staff
from core.text import file_stem
from core.vocabulary import kind_label, role_words
from feedback.access import require_cycle_manager
from feedback.results.publication import read_pairing_report
from feedback.results.report_pdf import LIVE_MARK, PdfDocument
from feedback.results.tables import PairingReport, finding_rule, replies_text

GUIDE_FILE = DATA_DIR / "facilitator_guide.yaml"
GAP_KINDS = ("blind spot", "hidden strength")


@dataclass(frozen=True)
class DimensionGuide:
    seeds: list[tuple[str, str]]  # (text, source title)
    questions: list[str]
    plan: str


@dataclass(frozen=True)
class GuideText:
    open_with: list[str]
    gap_questions: dict[str, list[str]]
    mirror_questions: list[str]
    to_the_plan: list[str]
    dimensions: dict[str, DimensionGuide]


@functools.cache
def guide_text() -> GuideText:
    """The guide's words, read once per process from data/facilitator_guide.yaml."""
    data: dict[str, Any] = yaml.safe_load(GUIDE_FILE.read_text(encoding="utf-8"))
    sources: dict[str, str] = data["sources"]
    general = data["general"]
    return GuideText(
        open_with=list(general["open_with"]),
        gap_questions={k: list(v) for k, v in general["gap_questions"].items()},
        mirror_questions=list(general["mirror_questions"]),
        to_the_plan=list(general["to_the_plan"]),
        dimensions={
            code: DimensionGuide(
                seeds=[(s["text"], sources[s["source"]]) for s in d.get("seeds", [])],
                questions=list(d.get("questions", [])),
                plan=str(d.get("plan", "")),
            )
            for code, d in data["dimensions"].items()
        },
    )


def _number(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.1f}"


def _findings(report: PairingReport, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    f = report.findings
    if f.empty:
        return []
    return [r for r in f.to_dict("records") if r["kind"] in kinds]


def guide_pdf(report: PairingReport) -> bytes:
    """The guide for one pairing's report (as its staff reader may read it) as an A4 PDF."""
    words = guide_text()
    meta = report.meta
    member, officer = str(meta.get("member_name", "")), str(meta.get("officer_name", ""))
    roles = role_words(str(meta.get("kind", "")))
    about = {
        "member": f"{member} ({roles['member']})",
        "officer": f"{officer} ({roles['officer']})",
        "partnership": "the partnership",
    }
    edition = meta.get("edition")
    mark = f"edition {edition} · for the facilitator only" if edition else LIVE_MARK
    doc = PdfDocument(f"Facilitator's guide · {member} and {officer}", mark)
    doc.set_title(f"Facilitator's guide: {member} and {officer}")
    doc.set_author("Tandem")
    doc.add_page()
    doc.heading(f"Facilitator's guide: {member} and {officer}", size=18, space=0)
    status = f"published edition {edition}" if edition else "live results, not yet published"
    where = " · ".join(
        str(p)
        for p in (
            meta.get("council_name"),
            meta.get("cycle_name"),
            status,
            kind_label(str(meta.get("kind", ""))),
            meta.get("portfolio"),
        )
        if p
    )
    doc.para(where)
    doc.para(
        "For the facilitator, not for circulation: questions and prompts for the feedback "
        "conversation, drawn from this pairing's findings. It holds no more than the pair's "
        "own report and quotes no comments.",
        size=8.5,
        muted=True,
    )

    doc.heading("Before the session")
    for g in report.groups.itertuples(index=False):
        shown = "" if g.shown else " — not shown: too few to stay anonymous"
        doc.bullet(f"{g.label}: {replies_text(g.responded, g.invited)}{shown}")
    for notice in report.notices:
        doc.para(notice, size=8.5, muted=True)
    doc.para(finding_rule(meta), size=8.5, muted=True)

    doc.heading("What to open with")
    for line in words.open_with:
        doc.bullet(f"{line}")
    if not report.top_items.empty:
        doc.para("Rated highest by the people around them:")
        for r in report.top_items.head(3).itertuples(index=False):
            doc.bullet(
                f"{r.item_text} ({about.get(r.target, r.target)}): {_number(r.mean)}, "
                f"n = {int(r.n)}"
            )
    mirror = report.mirror
    if not mirror.empty and mirror["gap"].notna().any():
        alike = mirror[mirror["gap"].notna()].copy()
        alike = alike.reindex(alike["gap"].abs().sort_values().index).head(2)
        for r in alike.itertuples(index=False):
            doc.bullet(
                f"Both see {r.dimension_name} alike: {member} {_number(r.member_view)}, "
                f"{officer} {_number(r.officer_view)}. Common ground to start from."
            )

    doc.heading("The mirror: how each sees the partnership")
    mirrors = _findings(report, ("mirror",))
    if not mirrors:
        doc.para(
            "No dimension where the two see their partnership differently by enough to be a "
            "finding. Ask them whether that matches their experience:"
        )
        for q in words.mirror_questions[1:2]:
            doc.bullet(f"{q}")
    for f in mirrors:
        doc.heading(str(f["dimension_name"]), size=11, space=1)
        doc.para(str(f["text"]))
        questions = words.mirror_questions + _dimension(words, f).questions[:1]
        for q in questions:
            doc.bullet(f"{q}")

    doc.heading("Large gaps: blind spots and hidden strengths")
    gaps = _findings(report, GAP_KINDS)
    if not gaps:
        doc.para(
            "No blind spot or hidden strength passes the rule here. Ask where each of them "
            "expected the people around them to see things differently, and why they did not."
        )
    for f in gaps:
        who = about.get(str(f["target"]), str(f["target"]))
        doc.heading(f"{f['dimension_name']}: {f['kind']} — {who}", size=11, space=1)
        doc.para(str(f["text"]))
        for q in words.gap_questions.get(str(f["kind"]), []) + _dimension(words, f).questions:
            doc.bullet(f"{q}")

    codes: list[tuple[str, str]] = []
    for f in mirrors + gaps:
        if f["dimension_code"] not in [c for c, _ in codes]:
            codes.append((f["dimension_code"], str(f["dimension_name"])))
    if codes:
        doc.heading("What the seeds say")
        for code, name in codes:
            guide = words.dimensions.get(str(code))
            if guide is None or not guide.seeds:
                continue
            doc.heading(name, size=11, space=1)
            for text, source in guide.seeds:
                doc.para(text)
                doc.para(f"Source: {source}", size=8, muted=True)

    doc.heading("Moving to the plan")
    for line in words.to_the_plan:
        doc.bullet(f"{line}")
    for code, name in codes:
        guide = words.dimensions.get(str(code))
        if guide is not None and guide.plan:
            doc.bullet(f"A goal for {name}: {guide.plan}")
    return bytes(doc.output())


def _dimension(words: GuideText, finding: dict[str, Any]) -> DimensionGuide:
    return words.dimensions.get(str(finding["dimension_code"]), DimensionGuide([], [], ""))


def facilitator_guide(session: Session, actor: Actor, cycle_id: int, pairing_id: int) -> bytes:
    """The facilitator's guide to one pairing as a PDF: staff of the cycle's council only
    (never the pair themselves), from what `read_pairing_report` serves them."""
    require_staff(actor)
    require_cycle_manager(session, actor, cycle_id)
    return guide_pdf(read_pairing_report(session, actor, cycle_id, pairing_id))


def guide_filename(report_meta: dict[str, Any] | Any) -> str:
    return (
        file_stem(
            "guide",
            report_meta.get("member_name"),
            report_meta.get("officer_name"),
            report_meta.get("cycle_name"),
        )
        + ".pdf"
    )
