"""The facilitator's guide per pairing (feedback.results.guide): its text read back from the
PDF (pdftotext) and opened by LibreOffice, drawn from the findings and the seeds' guide per
dimension (data/facilitator_guide.yaml); staff of the council only, on the command line and
on the report page; nothing of a suppressed group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
import yaml
from analysis_builder import small_cycle
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest
from test_deck import SECRET, SHOWN, _cycle, _soffice
from test_report_pages import principal_of

from core.db import DATA_DIR
from core.errors import PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle, Pairing, Person
from feedback.results.guide import GUIDE_FILE, facilitator_guide, guide_text
from feedback.results.publication import publish_cycle, read_all_pairing_reports


def pdf_text(data: bytes, tmp_path: Path, name: str = "guide.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(out.split())  # one line: wrapped sentences read whole


def test_every_dimension_of_both_frameworks_has_a_guide_from_the_seeds() -> None:
    words = guide_text()
    data = yaml.safe_load(GUIDE_FILE.read_text(encoding="utf-8"))
    for framework in sorted((DATA_DIR / "framework").glob("tandem-core-*.yaml")):
        spec = yaml.safe_load(framework.read_text(encoding="utf-8"))
        dims = [d["code"] for d in spec["dimensions"] if "." not in d["code"]]
        assert len(dims) == 9, framework
        for code in dims:
            guide = words.dimensions[code]
            assert guide.seeds and guide.questions and guide.plan, code
    assert set(data["sources"]) == {"blog", "iese"}
    assert "“Councillors set the destination. Officers chart the course" in " ".join(
        t for t, _ in words.dimensions["roles"].seeds
    )


def test_the_demo_guides_follow_each_pairings_findings(demo_engine, tmp_path: Path) -> None:
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        reports = read_all_pairing_reports(s, SYSTEM, cycle.id)
        kinds = {
            pid: set(r.findings["kind"]) if not r.findings.empty else set()
            for pid, r in reports.items()
        }
        blind = next(pid for pid, k in kinds.items() if "blind spot" in k)
        mirror = next(pid for pid, k in kinds.items() if "mirror" in k)
        quiet = next(pid for pid, k in kinds.items() if not k)
        guides = {
            pid: facilitator_guide(s, SYSTEM, cycle.id, pid) for pid in (blind, mirror, quiet)
        }
    words = guide_text()

    text = pdf_text(guides[blind], tmp_path)
    report = reports[blind]
    member, officer = report.meta["member_name"], report.meta["officer_name"]
    assert f"Facilitator's guide: {member} and {officer}" in text
    for heading in (
        "Before the session",
        "What to open with",
        "The mirror: how each sees the partnership",
        "Large gaps: blind spots and hidden strengths",
        "What the seeds say",
        "Moving to the plan",
    ):
        assert heading in text, heading
    [finding] = report.findings[report.findings["kind"] == "blind spot"].to_dict("records")
    assert f"{finding['dimension_name']}: blind spot" in text
    assert " ".join(finding["text"].split()) in text
    dim = words.dimensions[finding["dimension_code"]]
    for question in words.gap_questions["blind spot"] + dim.questions:
        assert question in text, question
    assert " ".join(dim.seeds[0][0].split()) in text  # what the seeds say about it
    assert f"A goal for {finding['dimension_name']}: {dim.plan}" in text
    top = report.top_items.iloc[0]
    assert f"{top['item_text']}" in text and f"n = {int(top['n'])}" in text
    assert "edition 1 · for the facilitator only" in text

    text = pdf_text(guides[mirror], tmp_path, "mirror.pdf")
    [finding] = reports[mirror].findings.query("kind == 'mirror'").to_dict("records")
    assert " ".join(finding["text"].split()) in text
    for question in words.mirror_questions:
        assert question in text, question
    assert "No blind spot or hidden strength passes the rule here" in text

    text = pdf_text(guides[quiet], tmp_path, "quiet.pdf")
    assert "No dimension where the two see their partnership differently" in text
    assert "What the seeds say" not in text  # nothing in the findings to say it about

    # LibreOffice opens it (Draw's PDF import) and prints it again
    src = tmp_path / "blind.pdf"
    src.write_bytes(guides[blind])
    done = subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless",
         "--convert-to", "png", "--outdir", str(tmp_path / "lo-out"), str(src)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    png = tmp_path / "lo-out" / "blind.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_only_the_councils_staff_get_the_guide(session: Session, tmp_path: Path) -> None:
    s = _cycle(session)
    other = small_cycle(session)
    session.commit()
    facilitator = Actor("fac", "facilitator", council_ids=frozenset({s.council_id}))
    text = pdf_text(facilitator_guide(session, facilitator, s.cycle_id, s.pairing_id), tmp_path)
    assert "DRAFT: live results" in text  # closed, not yet published: marked as such
    assert SECRET not in text and SHOWN not in text  # no comment at all
    assert "External partners: fewer than 3 (2 invited) — not shown" in text
    publish_cycle(session, SYSTEM, s.cycle_id)
    session.commit()
    for who in (
        Actor("p", "principal", person_id=s.member_id),
        Actor("p", "principal", person_id=s.officer_id),
        Actor("fac2", "facilitator", council_ids=frozenset({other.council_id})),
    ):
        with pytest.raises(PermissionDenied):
            facilitator_guide(session, who, s.cycle_id, s.pairing_id)


def test_no_suppressed_groups_figure_reaches_the_guide(session: Session, tmp_path: Path) -> None:
    """Two external partners (too few to show) rate the councillor 1 or 5 throughout: the
    guide reads the same either way. The control: officers' answers change it."""
    a = _cycle(session, partners=1)
    b = _cycle(session, partners=5, partner_text=f"{SECRET} changed", same_as=a)
    c = _cycle(session, partners=1, officers=(1, 1, 2), same_as=a)

    def text_of(small) -> str:
        name = session.get(Cycle, small.cycle_id).name
        data = facilitator_guide(session, SYSTEM, small.cycle_id, small.pairing_id)
        return pdf_text(data, tmp_path, f"{small.cycle_id}.pdf").replace(name, "CYCLE")

    assert text_of(a) == text_of(b)
    assert text_of(a) != text_of(c)


def test_tandem_guide_and_the_report_pages_button(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": demo_url}
    from core.db import make_engine

    engine = make_engine(demo_url)
    with Session(engine) as s:
        leader = s.exec(select(Person).where(Person.full_name == "Cllr Margaret Oduya")).one()
        pairing = s.exec(select(Pairing).where(Pairing.member_id == leader.id)).one()
        pairing_id = pairing.id
    engine.dispose()
    out = tmp_path / "guide.pdf"
    done = subprocess.run(
        [tandem, "guide", "Annual review 2026", "--pairing", str(pairing_id), "-o", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Facilitator's guide: Cllr Margaret Oduya and David Ashworth" in pdf_text(
        out.read_bytes(), tmp_path, "cli.pdf"
    )
    refused = subprocess.run(
        [tandem, "guide", "Annual review 2026", "--pairing", str(pairing_id), "-o", "g.docx"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and ".pdf" in refused.stderr

    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)

    def report_page(actor: Actor | None) -> AppTest:
        st.cache_resource.clear()
        st.cache_data.clear()
        at = AppTest.from_file("../app.py", default_timeout=60)
        if actor is not None:
            at.session_state["actor"] = actor
            at.session_state["user_id"] = actor.user_id
        at.run()
        at.switch_page("pages/report.py").run()
        assert not at.exception, at.exception
        return at

    staff = report_page(None)  # the demo signs staff in as an administrator
    labels = [b.proto.label for b in staff.get("download_button")]
    assert "Download the facilitator's guide" in labels
    principal = report_page(principal_of(demo_url, "Margaret Oduya"))
    labels = [b.proto.label for b in principal.get("download_button")]
    assert "Download this report (PDF)" in labels  # the pair's own report …
    assert not any("guide" in label for label in labels)  # … but never the guide
    st.cache_resource.clear()
    st.cache_data.clear()
