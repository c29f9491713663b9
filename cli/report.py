"""`tandem report CYCLE`: the same results the pages show, after suppression."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from cli.common import echo, fail, friendly, unit_of_work
from core.roles import SYSTEM
from core.vocabulary import kind_label

TARGETS = {"member": "councillor", "officer": "officer", "partnership": "the pair"}


def _check_output(output: Path, suffix: str, kind: str, what: str) -> None:
    """The file an export is written to: the right suffix (exit 2) in a folder that exists."""
    if output.suffix.lower() != suffix:
        fail(f"{kind}: give a name ending in {suffix} (-o).", code=2)
    if not output.parent.is_dir():
        fail(f"There is no folder {output.parent} to write {what} in (-o).")


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:.{digits}f}"


def _pairing_text(report: Any) -> list[str]:
    from feedback.results.tables import replies_text  # pandas only when a report is printed

    m = report.meta
    edition = f", edition {m['edition']}" if m.get("edition") else " (live)"
    lines = [
        "",
        f"== {m['pairing_label']} — {kind_label(m['kind'])}",
        f"   {m['cycle_name']}, {m['council_name']}{edition}; anonymity threshold {m['threshold']}",
        "   Replies: "
        + ", ".join(
            f"{g.label} {replies_text(g.responded, g.invited)}"
            + ("" if g.shown else " (not shown)")
            for g in report.groups.itertuples()
        ),
    ]
    lines += [f"   Note: {n}" for n in report.notices]
    findings = report.findings
    lines += ["", "   Findings:"] + (
        [f"   - {t}" for t in findings["text"]] if not findings.empty else ["   - none"]
    )
    lines.append("")
    head = f"   {'Dimension':<26} {'About':<10} {'Self':>5} {'Partner':>7} {'Others':>6} {'n':>3}"
    lines += [head + "    Gap  Flag", "   " + "-" * (len(head) + 20)]
    for g in report.gaps.itertuples():
        n = "—" if g.others_n is None or g.others_n != g.others_n else str(int(g.others_n))
        lines.append(
            f"   {g.dimension_name:<26} {TARGETS[g.target]:<10} {_num(g.self_mean):>5} "
            f"{_num(g.partner_mean):>7} {_num(g.others_mean):>6} {n:>3} {_num(g.gap):>6}  "
            f"{g.flag}"
        )
    if not report.mirror.empty:
        lines += ["", "   Mirror (the partnership):  councillor / officer / everyone else"]
        for r in report.mirror.itertuples():
            lines.append(
                f"   {r.dimension_name:<26} {_num(r.member_view):>5} {_num(r.officer_view):>7} "
                f"{_num(r.others_view):>6}" + ("  mirror" if getattr(r, "flag", "") else "")
            )
    if not report.change.empty:
        others = report.change[report.change["source"] == "others"]
        lines += ["", f"   Change since {m['previous_cycle_name']} (everyone else):"]
        for r in others.itertuples():
            lines.append(
                f"   {r.dimension_name:<26} {TARGETS[r.target]:<10} {_num(r.previous):>5} → "
                f"{_num(r.current)} ({r.change:+.2f})"
            )
    if report.comments:
        lines += ["", "   Comments (unattributed, in alphabetical order):"]
        names = dict(
            zip(report.gaps["dimension_code"], report.gaps["dimension_name"], strict=False)
        )
        for code, texts in report.comments.items():
            lines.append(f"   {names.get(code, code)}:")
            lines += [f"     - {t}" for t in texts]
    return lines


def _overview_text(overview: Any) -> list[str]:
    m = overview.meta
    lines = [f"{m['council_name']} — {m['cycle_name']}: council overview", ""]
    lines += [f"* {f}" for f in overview.findings]
    if not overview.solace.empty:  # as the council page shows it
        from feedback.results.tables import national_source

        lines += [
            "",
            "Beside the national picture (the chief executive's answers about the leader)",
        ]
        for row in overview.solace.itertuples(index=False):
            here = (
                f"{float(row.council_pct):.0f}% ({int(row.n)} answers)"
                if row.council_pct == row.council_pct and row.council_pct is not None
                else f"not shown ({int(row.n)} answer{'' if int(row.n) == 1 else 's'}, "
                f"fewer than {m['threshold']})"
            )
            lines.append(
                f"  {str(row.label).capitalize()}: here {here}; nationally (Solace) "
                f"{float(row.national_pct):.0f}%."
            )
        lines.append(f"  {national_source(overview.solace)}")
    return lines


def register(app: typer.Typer) -> None:
    @app.command()
    @friendly
    def report(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int | None = typer.Option(
            None, "--pairing", help="Only this pairing (its id; `tandem cycles` lists cycles)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
        pdf: Path | None = typer.Option(
            None,
            "--pdf",
            help="Write the pairing's report as a PDF to this file (needs --pairing).",
        ),
    ) -> None:
        """Print a closed cycle's results after suppression (text, or JSON with --json), or
        write one pairing's report as a PDF (--pairing ID --pdf FILE.pdf)."""
        if pdf is not None:
            if pairing is None or as_json or pdf.suffix.lower() != ".pdf":
                fail("--pdf needs --pairing, no --json, and a file name ending in .pdf.")
            if not pdf.parent.is_dir():
                fail(f"There is no folder {pdf.parent} to write the PDF in (--pdf).")
        from feedback.results.publication import (
            read_all_pairing_reports,
            read_council_overview,
            read_pairing_report,
        )
        from feedback.setup.cycles import find_cycle

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None  # a stored cycle has an id
            if pairing is not None:
                reports = {pairing: read_pairing_report(session, SYSTEM, found.id, pairing)}
                overview = None
            else:
                reports = read_all_pairing_reports(session, SYSTEM, found.id)
                overview = read_council_overview(session, SYSTEM, found.id)
        if pdf is not None and pairing is not None:  # --pdf needs --pairing (checked above)
            from feedback.results.report_pdf import pairing_report_pdf

            pdf.write_bytes(pairing_report_pdf(reports[pairing]))
            echo(f"Wrote the report of {reports[pairing].meta['pairing_label']} to {pdf}.")
            return
        if as_json:
            data: dict[str, Any] = {
                "cycle_id": found.id,
                "cycle_name": found.name,
                "pairings": {str(pid): r.to_dict() for pid, r in reports.items()},
            }
            if overview is not None:
                data["overview"] = overview.to_dict()
            echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        lines: list[str] = _overview_text(overview) if overview is not None else []
        for r in reports.values():
            lines += _pairing_text(r)
        echo("\n".join(lines))

    @app.command()
    @friendly
    def charts(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        output: Path = typer.Option(
            ..., "--output", "-o", help="The folder to write the charts in."
        ),
        svg: bool = typer.Option(False, "--svg", help="Scalable drawings (.svg) instead of .png."),
    ) -> None:
        """Write a closed cycle's council overview charts (partnership scores, how the
        ratings are spread, response rates) as the council page's PNG/SVG downloads. A
        pairing's charts are in its PDF (`tandem report --pairing ID --pdf FILE`)."""
        from core.text import file_stem
        from feedback.results import charts as chart_kit
        from feedback.results.publication import read_council_overview
        from feedback.setup.cycles import find_cycle

        if not output.is_dir():
            fail(f"There is no folder {output} to write the charts in.")
        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            overview = read_council_overview(session, SYSTEM, found.id)
        m = overview.meta
        stem = file_stem(m.get("council_name"), m.get("cycle_name"))
        heading = chart_kit.export_heading(m.get("council_name"), m.get("cycle_name"))
        made = []
        for name, frame, build in (
            ("heatmap", overview.heatmap, chart_kit.council_heatmap),
            ("distribution", overview.distribution, chart_kit.rating_distribution),
            ("responses", overview.response_rates, chart_kit.response_rates),
        ):
            if frame.empty:
                echo(f"No {name} chart: nothing in this cycle can be shown in it.")
                continue
            chart = build(frame)
            path = output / f"{stem}-{name}.{'svg' if svg else 'png'}"
            if svg:
                path.write_text(chart_kit.to_svg(chart, heading=heading), encoding="utf-8")
            else:
                path.write_bytes(chart_kit.to_png(chart, heading=heading))
            made.append(path.name)
        echo(f"Wrote {len(made)} chart(s) to {output}: {', '.join(made) or 'none'}.")

    @app.command()
    @friendly
    def deck(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        output: Path = typer.Option(
            ..., "--output", "-o", help="The PowerPoint file to write (.pptx)."
        ),
    ) -> None:
        """Write a closed cycle's results as an editable PowerPoint deck with speaker notes:
        the council overview, then each pairing's findings, mirror and gaps (the
        presentation page's "Download the deck")."""
        _check_output(output, ".pptx", "The deck is a PowerPoint file", "the deck")
        from feedback.results.deck import council_deck
        from feedback.setup.cycles import find_cycle

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            data = council_deck(session, SYSTEM, found.id)
        output.write_bytes(data)
        echo(f"Wrote the deck of '{found.name}' to {output} ({len(data) // 1024} KB).")

    @app.command()
    @friendly
    def guide(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        pairing: int = typer.Option(..., "--pairing", help="The pairing's id."),
        output: Path = typer.Option(..., "--output", "-o", help="The PDF file to write (.pdf)."),
    ) -> None:
        """Write the facilitator's guide to one pairing's feedback conversation as a PDF: what
        to open with, questions for the mirror and each large gap, what the seeds say, how to
        move to the plan (the report page's "Download the facilitator's guide")."""
        _check_output(output, ".pdf", "The guide is a PDF", "the guide")
        from feedback.results.guide import facilitator_guide
        from feedback.setup.cycles import find_cycle

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            data = facilitator_guide(session, SYSTEM, found.id, pairing)
        output.write_bytes(data)
        echo(f"Wrote the facilitator's guide for pairing {pairing} to {output}.")

    @app.command()
    @friendly
    def pack(
        cycle: str = typer.Argument(..., help="The cycle's id or name."),
        output: Path = typer.Option(..., "--output", "-o", help="The PDF file to write (.pdf)."),
    ) -> None:
        """Write a closed cycle's results pack as one PDF: the council overview, then every
        pairing's report (the presentation page's "Download the results pack")."""
        _check_output(output, ".pdf", "The pack is a PDF", "the pack")
        from feedback.results.pack import council_pack
        from feedback.setup.cycles import find_cycle

        with unit_of_work() as session:
            found = find_cycle(session, cycle)
            assert found.id is not None
            data = council_pack(session, SYSTEM, found.id)
        output.write_bytes(data)
        echo(f"Wrote the results pack of '{found.name}' to {output} ({len(data) // 1024} KB).")
