"""A council's results pack as one PDF: the council overview (key findings, the national
comparison with its n, partnership scores, response rates), then every pairing's report as
its own PDF has it (feedback.results.report_pdf). Staff of the council only; built only from
what `feedback.results.publication` serves them, so it holds no more than the overview and
the pairings' reports do."""

from __future__ import annotations

import math
from typing import Any

from sqlmodel import Session

from core.roles import Actor, require_staff
from core.text import file_stem
from feedback.access import require_cycle_manager
from feedback.results import charts
from feedback.results.bridges import evidence_sentence, evidence_summary, sources_line
from feedback.results.publication import read_all_pairing_reports, read_council_overview
from feedback.results.report_pdf import LIVE_MARK, PdfDocument, write_pairing_report
from feedback.results.tables import national_source


def _shown(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def council_pack(session: Session, actor: Actor, cycle_id: int) -> bytes:
    """The overview and every pairing's report of a closed cycle in one A4 PDF."""
    require_staff(actor)
    require_cycle_manager(session, actor, cycle_id)
    overview = read_council_overview(session, actor, cycle_id)
    reports = read_all_pairing_reports(session, actor, cycle_id)
    m = overview.meta
    council, cycle = str(m.get("council_name", "")), str(m.get("cycle_name", ""))
    edition = m.get("edition")
    threshold = int(m.get("threshold", 3))
    mark = f"edition {edition} · confidential" if edition else LIVE_MARK
    doc = PdfDocument(f"{council} · {cycle} · council overview", mark)
    doc.set_title(f"{council}: results pack, {cycle}")
    doc.set_author("Tandem")
    doc.threshold = threshold
    doc.add_page()
    doc.heading(council, size=20, space=0)
    status = f"published edition {edition}" if edition else "live results, not yet published"
    doc.para(f"Results pack · {cycle} · {status}")
    doc.para(
        f"The council overview, then each pairing's report. Groups other than the pair "
        f"themselves are shown only with at least {threshold} replies, for scores and "
        "comments alike.",
        size=8.5,
        muted=True,
    )
    doc.heading("In this pack")
    labels = [str(r.meta.get("pairing_label", "")) for r in reports.values()]
    for label in labels:
        doc.bullet(label)

    doc.heading("Key findings")
    for text in overview.findings or ["Nothing stands out across the council in this cycle."]:
        doc.bullet(text)

    solace = overview.solace
    if not solace.empty:
        doc.heading("Beside the national picture")
        rows = []
        for row in solace.to_dict("records"):
            here = (
                f"{float(row['council_pct']):.0f}% (n = {int(row['n'])})"
                if _shown(row["council_pct"])
                else f"not shown (fewer than {threshold} answers)"
            )
            rows.append(
                [str(row["label"]).capitalize(), here, f"{float(row['national_pct']):.0f}%"]
            )
        doc.grid(["Question", "Chief executives here", "Nationally (Solace)"], rows, [80, 54, 40])
        doc.para(national_source(solace), size=8, muted=True)
    if not overview.heatmap.empty:
        doc.chart(charts.council_heatmap(overview.heatmap), ("Partnership scores", 14))
    if not overview.response_rates.empty:
        doc.chart(charts.response_rates(overview.response_rates), ("Who responded", 14))
    evidence_for_peer_team(doc, list(reports.values()), threshold)
    # Each pairing's report is a part of the pack: its title one level below the council's.
    doc.level_offset = 1
    for report in reports.values():
        with doc.grouped("Sect"):
            write_pairing_report(doc, report)
    return bytes(doc.output())


def evidence_for_peer_team(doc: PdfDocument, reports: list[Any], threshold: int) -> None:
    """The anonymised evidence summary for a corporate peer challenge team: per dimension,
    the council's pattern across its pairings, mapped to the peer challenge's elements —
    from the reports' shown groups only, with no comment and no name."""
    summary = evidence_summary(reports)
    doc.add_page()
    doc.heading("Evidence for the peer team", size=16, space=0)
    doc.para(
        "For a corporate peer challenge: how the people around the council's leadership "
        "pairings see each partnership, dimension by dimension, across all its pairings, "
        f"and where that speaks to the peer challenge's elements. Only groups with at least "
        f"{threshold} replies count; no pairing, rater or comment is named.",
        size=8.5,
        muted=True,
    )
    if summary.empty:
        doc.para("No partnership scores can be shown for this cycle.")
        return
    rows = [
        [str(r["dimension_name"]), evidence_sentence(r), "; ".join(r["elements"])]
        for r in summary.to_dict("records")
    ]
    doc.grid(
        ["Dimension", "Pattern across pairings", "Peer challenge elements"], rows, [32, 92, 50]
    )
    doc.para(
        f"Mapping: {sources_line()}. Tandem's reading, not the sources' words.", size=8, muted=True
    )


def pack_filename(council: str | None, cycle: str | None) -> str:
    return f"{file_stem(council, cycle)}-results-pack.pdf"
