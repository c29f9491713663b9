"""The council's results pack (feedback.results.pack): one PDF with the overview and every
pairing's report, read back with pdftotext and opened by LibreOffice; staff of the council
only; a suppressed group's comments never in it (a shown group's are, as in its report)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from analysis_builder import small_cycle
from sqlmodel import Session
from test_deck import SECRET, SHOWN, _cycle, _soffice
from test_guide import pdf_text

from core.errors import PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle
from feedback.results.pack import council_pack
from feedback.results.publication import publish_cycle, read_all_pairing_reports


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_the_pack_holds_the_overview_then_each_report(session: Session, tmp_path: Path) -> None:
    a = _cycle(session)
    publish_cycle(session, SYSTEM, a.cycle_id)
    session.commit()
    data = council_pack(session, SYSTEM, a.cycle_id)
    text = pdf_text(data, tmp_path, "pack.pdf")
    cycle = session.get(Cycle, a.cycle_id)
    report = read_all_pairing_reports(session, SYSTEM, a.cycle_id)[a.pairing_id]
    member, officer = report.meta["member_name"], report.meta["officer_name"]
    assert text.index("Key findings") < text.index("Beside the national picture")
    assert text.index("In this pack") < text.index(f"{member} and {officer}")
    assert f"Results pack · {cycle.name} · published edition 1" in text
    assert "not shown (fewer than 3 answers)" in text  # one pairing: no Solace percentage
    # the report as its own PDF has it: a shown group's comment is there, a suppressed
    # group's is not, and the footer names the pairing on its pages
    assert SHOWN in text and SECRET not in text
    assert f"{member} and {officer} · {cycle.name}" in text
    assert "council overview" in text
    path = tmp_path / "pack.pdf"
    path.write_bytes(data)
    assert pages(path) >= 4
    # LibreOffice opens it
    done = subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless",
         "--convert-to", "png", "--outdir", str(tmp_path / "lo-out"), str(path)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "lo-out" / "pack.png").exists()

    other = small_cycle(session)
    session.commit()
    for who in (
        Actor("p", "principal", person_id=a.member_id),
        Actor("fac2", "facilitator", council_ids=frozenset({other.council_id})),
    ):
        with pytest.raises(PermissionDenied):
            council_pack(session, who, a.cycle_id)


def test_tandem_pack_writes_the_demo_pack(demo_url: str, tmp_path: Path) -> None:
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": demo_url}
    out = tmp_path / "kingsmere.pdf"
    done = subprocess.run(
        [tandem, "pack", "Annual review 2026", "-o", str(out)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = pdf_text(out.read_bytes(), tmp_path, "demo.pdf")
    assert "Kingsmere Borough Council" in text and "Key findings" in text
    for pair in (
        "Cllr Margaret Oduya and David Ashworth",
        "Cllr Owen Fletcher and Joanne Whitfield",
    ):
        assert f"{pair} · Annual review 2026" in text, pair
    assert pages(out) > 20
    refused = subprocess.run(
        [tandem, "pack", "Annual review 2026", "-o", str(tmp_path / "pack.pptx")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and ".pdf" in refused.stderr
