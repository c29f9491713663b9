"""The PDF report's footer stays on the page whatever the names (issue 13, point 8): a
58-letter Welsh place name and a 120-character cycle name are shortened with an ellipsis,
and every piece of footer text, read back from the PDF with pypdf, lies inside the page."""

from __future__ import annotations

from io import BytesIO

import pytest
from fpdf import FPDF
from pypdf import PdfReader
from sqlmodel import select

from core.db import session_scope
from core.roles import SYSTEM
from feedback.models import Cycle, Invitation
from feedback.results.publication import read_pairing_report
from feedback.results.report_pdf import FONT, FONTS, pairing_report_pdf

PLACE = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"  # 58 letters
CYCLE = ("Adolygiad blynyddol arweinyddiaeth " * 4)[:120]
FOOTER_SIZE = 7.5


def _widths() -> FPDF:
    pdf = FPDF(unit="pt")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.set_font(FONT, "", FOOTER_SIZE)
    return pdf


@pytest.mark.slow
def test_a_long_place_and_cycle_name_stay_inside_the_footer(demo_engine) -> None:
    assert len(PLACE) == 58 and len(CYCLE) == 120
    with session_scope(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        pairing_id = s.exec(
            select(Invitation.pairing_id).where(Invitation.cycle_id == cycle.id)
        ).first()
        report = read_pairing_report(s, SYSTEM, cycle.id, pairing_id)
    report.meta.update(
        member_name=f"Cllr Siân ap {PLACE}",
        officer_name=f"Rhodri Llewelyn-{PLACE}",
        cycle_name=CYCLE,
        council_name=f"Cyngor Sir {PLACE}",
    )
    reader = PdfReader(BytesIO(pairing_report_pdf(report)))
    measure = _widths()
    for number, page in enumerate(reader.pages, 1):
        left, right = float(page.mediabox.left), float(page.mediabox.right)
        height = float(page.mediabox.top)
        pieces: list[tuple[float, str]] = []

        def visit(text, cm, tm, font, size, pieces=pieces, height=height) -> None:
            y = tm[5] * cm[3] + cm[5]
            if text.strip() and y < 14 / 25.4 * 72 and abs(size * tm[0] * cm[0]) > 0:
                pieces.append(((tm[4] * cm[0] + cm[4]), text))

        page.extract_text(visitor_text=visit)
        footer = [(x, t) for x, t in pieces if t.strip()]
        assert len(footer) >= 2, f"page {number}: footer not found: {footer}"
        for x, text in footer:
            width = measure.get_string_width(text.strip())
            assert left <= x and x + width <= right, (
                f"page {number}: footer text runs off the page ({x:.0f}–{x + width:.0f} pt "
                f"of {right:.0f}): {text!r}"
            )
        joined = " ".join(t for _, t in footer)
        assert "…" in joined and f"of {len(reader.pages)}" in joined
        assert "Cllr Siân ap Llanfair" in joined  # shortened, not dropped
