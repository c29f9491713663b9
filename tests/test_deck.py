"""The council's results as a PowerPoint deck (feedback.results.deck): read back with
python-pptx, opened by LibreOffice, staff of the council only, and the attacker: a
suppressed group's answers and comments reach no part of the file."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from analysis_builder import Small, add_rater, small_cycle
from pptx import Presentation
from sqlmodel import Session, select

from core.errors import PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Cycle
from feedback.results.deck import council_deck
from feedback.results.publication import publish_cycle

SECRET = "Zanzibar-partner-remark"
SHOWN = "Quillfeather-officer-remark"


def _soffice() -> str:
    for _ in range(60):  # scripts/test-setup.sh may still be installing LibreOffice
        found = shutil.which("soffice") or shutil.which("libreoffice")
        if found and Path("/usr/lib/libreoffice/program/libsdlo.so").exists():
            return found
        time.sleep(10)
    pytest.fail("LibreOffice Impress is not installed: run scripts/test-setup.sh")


def to_pdf(data: bytes, tmp_path: Path, name: str = "deck.pptx") -> Path:
    src = tmp_path / name
    src.write_bytes(data)
    done = subprocess.run(
        [
            _soffice(),
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / "pdf" / src.with_suffix(".pdf").name
    assert pdf.exists(), done.stdout + done.stderr
    return pdf


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def slide_texts(data: bytes) -> list[tuple[str, str]]:
    """(everything on the slide, its speaker notes) for each slide."""
    out = []
    for slide in Presentation(BytesIO(data)).slides:
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [c.text for row in shape.table.rows for c in row.cells]
        notes = slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""
        out.append(("\n".join(texts), notes))
    return out


def test_the_demo_deck_reads_back_and_opens_in_libreoffice(demo_engine, tmp_path: Path) -> None:
    with Session(demo_engine) as s:
        cycle = s.exec(select(Cycle).where(Cycle.name == "Annual review 2026")).one()
        data = council_deck(s, SYSTEM, cycle.id)
    prs = Presentation(BytesIO(data))
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # 16:9
    slides = slide_texts(data)
    assert len(slides) == len(prs.slides) >= 20
    everything = "\n".join(t for t, _ in slides)
    assert slides[0][0].startswith("Kingsmere Borough Council")
    assert re.search(r"\d+ of \d+ invited people responded", slides[0][0])
    for title in (
        "Key findings",
        "Who responded",
        "Beside the national picture",
        "Partnership scores across the council",
        "The mirror: how Cllr Margaret Oduya and David Ashworth see their partnership",
        "Gaps: Cllr Margaret Oduya (leader)",
        "From findings to the plan",
    ):
        assert title in everything, title
    # every slide has speaker notes; every headline figure its n
    assert all(notes.strip() for _, notes in slides)
    national = next(t for t, _ in slides if t.startswith("Beside the national picture"))
    assert "Not shown (fewer than 3 answers)" in national or re.search(
        r"\d+% \(n = \d+\)", national
    )
    items = [t for t, _ in slides if "highest and lowest rated" in t]
    assert items and all(re.search(r"\d\.\d, n = \d+", t) for t in items)
    # charts are pictures from the chart code, and editable text stays text
    pictures = [sh for sl in prs.slides for sh in sl.shapes if sh.shape_type == 13]
    assert len(pictures) >= 10
    assert all(p.image.content_type == "image/png" for p in pictures)

    pdf = to_pdf(data, tmp_path)
    assert pdf_pages(pdf) == len(slides)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    for words in ("Kingsmere Borough Council", "Key findings", "The mirror", "Beside the national"):
        assert words in text, words


# --- staff only ---------------------------------------------------------------------------


def _cycle(
    session: Session,
    partners: int = 1,
    officers: tuple[int, ...] = (3, 4, 4),
    partner_text: str = SECRET,
    same_as: Small | None = None,
) -> Small:
    """A closed cycle: the pair, three councillors and three officers (shown at threshold
    3) and two external partners (suppressed), each group with its own comment. With
    `same_as`: the same council and pairing, a new cycle."""
    keep = {}
    if same_as is not None:
        keep = dict(
            council_id=same_as.council_id,
            member_id=same_as.member_id,
            officer_id=same_as.officer_id,
            pairing_id=same_as.pairing_id,
        )
    s = small_cycle(session, threshold=3, **keep)
    add_rater(session, s, "member", 5)
    add_rater(session, s, "officer", 2)
    for v in (4, 4, 3):
        add_rater(session, s, "members", v, comments={"advice": f"Members say {v}"})
    for v in officers:
        add_rater(session, s, "officers", v, comments={"advice": f"{SHOWN} {v}"})
    for _ in range(2):
        add_rater(
            session,
            s,
            "partners",
            partners,
            comments={"advice": partner_text, "roles": f"{partner_text} again"},
        )
    session.commit()
    return s


def test_only_the_councils_staff_get_the_deck(session: Session) -> None:
    s = _cycle(session)
    other = small_cycle(session)
    session.commit()
    facilitator = Actor("fac", "facilitator", council_ids=frozenset({s.council_id}))
    assert council_deck(session, facilitator, s.cycle_id)
    for who in (
        Actor("p", "principal", person_id=s.member_id),
        Actor("p", "principal", person_id=s.officer_id),
        Actor("fac2", "facilitator", council_ids=frozenset({other.council_id})),
    ):
        with pytest.raises(PermissionDenied):
            council_deck(session, who, s.cycle_id)
    publish_cycle(session, SYSTEM, s.cycle_id)
    session.commit()
    with pytest.raises(PermissionDenied):  # published: the principals still do not get it
        council_deck(session, Actor("p", "principal", person_id=s.member_id), s.cycle_id)


# --- the attacker -------------------------------------------------------------------------


def _parts(data: bytes, session: Session, s: Small) -> dict[str, bytes]:
    """Every part of the file but the one that records when it was made, with the cycle's
    name taken out (the cycles compared differ in their names only)."""
    name = session.get(Cycle, s.cycle_id).name.encode()
    with zipfile.ZipFile(BytesIO(data)) as z:
        return {
            n: z.read(n).replace(name, b"CYCLE") for n in z.namelist() if n != "docProps/core.xml"
        }


def test_no_suppressed_groups_figure_or_comment_reaches_the_deck(session: Session) -> None:
    """Two external partners (below the threshold of 3) rate every item 1 and leave a
    comment. Nothing of theirs is in the deck: no comment, and the same cycle with every
    answer of theirs 5 and other comments gives the same deck, byte for byte, in every
    slide, picture and note. The control: a change in a shown group (officers) does change
    the deck."""
    a = _cycle(session, partners=1)
    first = council_deck(session, SYSTEM, a.cycle_id)  # the staff preview, closed cycle
    xml = b"".join(_parts(first, session, a).values())
    assert SECRET.encode() not in xml
    assert SHOWN.encode() not in xml  # no comment at all: a deck is projected and passed on
    texts = "\n".join(t + "\n" + n for t, n in slide_texts(first))
    assert "External partners fewer than 3 (2 invited) (not shown)" in texts

    b = _cycle(session, partners=5, partner_text=f"{SECRET} changed", same_as=a)
    second = council_deck(session, SYSTEM, b.cycle_id)
    assert _parts(second, session, b) == _parts(first, session, a)

    c = _cycle(session, partners=1, officers=(1, 1, 2), same_as=a)
    third = council_deck(session, SYSTEM, c.cycle_id)
    before, after = _parts(first, session, a), _parts(third, session, c)
    assert before != after, "a shown group's answers must show in the deck (the control)"

    # published: the edition holds the same rule
    publish_cycle(session, SYSTEM, a.cycle_id)
    session.commit()
    published = council_deck(session, SYSTEM, a.cycle_id)
    xml = b"".join(_parts(published, session, a).values())
    assert SECRET.encode() not in xml and SHOWN.encode() not in xml
    assert "edition 1" in "\n".join(t for t, _ in slide_texts(published))


# --- the command and the page ---------------------------------------------------------------


def test_tandem_deck_writes_the_same_deck(demo_url: str, tmp_path: Path) -> None:
    import os
    import sys

    tandem = str(Path(sys.executable).with_name("tandem"))
    env = {**os.environ, "TANDEM_DATABASE_URL": demo_url}
    out = tmp_path / "kingsmere.pptx"
    done = subprocess.run(
        [tandem, "deck", "Annual review 2026", "-o", str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Wrote the deck of 'Annual review 2026'" in done.stdout
    slides = slide_texts(out.read_bytes())
    assert slides[0][0].startswith("Kingsmere Borough Council") and len(slides) >= 20
    refused = subprocess.run(
        [tandem, "deck", "Annual review 2026", "-o", str(tmp_path / "deck.ppt")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and ".pptx" in refused.stderr


def test_the_presentation_page_offers_the_deck_and_pack_to_staff(
    demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    at.switch_page("pages/present.py").run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download the deck (PowerPoint)" in labels
    assert "Download the results pack (PDF)" in labels
    st.cache_resource.clear()
    st.cache_data.clear()
