"""Comment moderation through the report page (AppTest), and the attacker's view: once a
comment is withheld (or words taken out of it), its words reach no reader — the report page
(staff before publication, a principal after), its PDF, `tandem report --json`, the
published edition as stored, the presentation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import html_texts
from signing_in import sign_in
from sqlalchemy import select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from core.audit import read_log
from core.db import make_engine, session_scope
from core.roles import SYSTEM
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Comment, Invitation, Person, PublishedPairingReport, PublishedReport
from feedback.results.moderated import MARKER
from feedback.results.moderation import comments_to_moderate
from feedback.results.publication import read_pairing_report
from feedback.results.report_pdf import pairing_report_pdf
from feedback.setup.cycles import set_cycle_status
from governance.accounts import actor_for, create_user

APP = "../app.py"
TANDEM = str(Path(sys.executable).with_name("tandem"))
HIDE = "Officer remark: Gary Nolan in HR is a bully"
REDACT = "Officer remark: ask Petra Quayle about the budget"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def closed(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A closed cycle of one pairing: 3 councillors, 3 officers (two of them write the
    comments to moderate) and 2 of 3 partners (suppressed) each leave a comment."""
    engine = make_engine(db_url)
    built = build_cycle(engine, raters_per_group=3, second_pairing=False)
    written: dict[str, list[str]] = {}
    with session_scope(engine) as s:
        invitations = s.execute(
            select(Invitation).where(Invitation.cycle_id == built.cycle_id).order_by(Invitation.id)
        ).scalars()
        for inv in invitations:
            if inv.rater_id == built.people["p2"]:
                continue
            items = items_for_invitation(s, inv)
            dimension_id = next(i.dimension_id for i in items if i.dimension_id is not None)
            mine = written.setdefault(inv.rater_group, [])
            text = {
                ("officers", 0): HIDE,
                ("officers", 1): REDACT,
            }.get(
                (inv.rater_group, len(mine)), f"Remark {len(mine) + 1} from the {inv.rater_group}"
            )
            mine.append(text)
            save_answers(s, inv.id, {i.id: 3 for i in items}, {dimension_id: text})
            submit_response(s, inv.id)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
        leader = s.execute(select(Person).where(Person.id == built.people["leader"])).scalar_one()
        principal = create_user(
            s, SYSTEM, "leader@example.org", "principal", None, person_id=leader.id
        )
        principal_actor = actor_for(s, principal)
    engine.dispose()
    monkeypatch.setenv("TANDEM_DATABASE_URL", db_url)
    return {
        "url": db_url,
        "cycle": built.cycle_id,
        "pairing": built.pairing_ids[0],
        "council": built.council_id,
        "written": written,
        "principal": principal_actor,
    }


def _texts(at: AppTest) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.get("text")]
    return "\n".join(parts + html_texts(at))


def _staff_page(url: str, council_id: int, username: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    engine = make_engine(url)
    with Session(engine) as s:
        sign_in(at, s, role="facilitator", council_ids=[council_id], username=username)
    engine.dispose()
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    return at


def _refs(url: str, closed: dict) -> dict[str, str]:
    engine = make_engine(url)
    with session_scope(engine) as s:
        listed = comments_to_moderate(s, SYSTEM, closed["cycle"], closed["pairing"])
    engine.dispose()
    return {c.text: c.ref for c in listed}


def _pdf_text(url: str, closed: dict, actor=SYSTEM) -> str:
    from pypdf import PdfReader

    engine = make_engine(url)
    with session_scope(engine) as s:
        report = read_pairing_report(s, actor, closed["cycle"], closed["pairing"])
    engine.dispose()
    reader = PdfReader(BytesIO(pairing_report_pdf(report)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _report_json(url: str, closed: dict) -> str:
    env = {**os.environ, "TANDEM_DATABASE_URL": url}
    args = ["report", str(closed["cycle"]), "--pairing", str(closed["pairing"]), "--json"]
    out = subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)
    return out.stdout


def _words(text: str) -> list[str]:
    """The distinctive words of a comment, each of which must be nowhere."""
    return [text, *(w for w in text.split() if w[:1].isupper() and w not in ("Officer",))]


def test_moderation_on_the_page_reaches_no_reader(closed: dict) -> None:
    url = closed["url"]
    at = _staff_page(url, closed["council"], "fran@example.org")
    before = _texts(at)
    assert HIDE in before and REDACT in before  # so the checks below can fail
    assert [e for e in at.expander if e.label.startswith("Moderate comment")]
    for comment in closed["written"]["partners"]:  # a suppressed group stays out of sight
        assert comment not in before
    refs = _refs(url, closed)

    # Withhold one: a reason is required first.
    at.button(key=f"moderate_hide_{refs[HIDE]}").click().run()
    assert not at.exception and "Give a reason" in _texts(at)
    at.text_input(key=f"moderate_reason_{refs[HIDE]}").input("names a member of staff")
    at.button(key=f"moderate_hide_{refs[HIDE]}").click().run()
    assert not at.exception, at.exception
    assert "Withheld: it is in no report" in _texts(at)
    # Take two words out of the other.
    at.text_input(key=f"moderate_words_{refs[REDACT]}").input("Petra Quayle")
    at.text_input(key=f"moderate_reason_{refs[REDACT]}").input("names an officer")
    at.button(key=f"moderate_cut_{refs[REDACT]}").click().run()
    assert not at.exception, at.exception

    shown = _texts(at)
    assert "Words removed: readers see" in shown
    assert f"Officer remark: ask {MARKER} about the budget" in shown
    assert "withheld from the report by fran@example.org" in shown
    assert "names a member of staff" in shown and "Remark 3 from the officers" in shown
    gone = _words(HIDE) + ["Petra", "Quayle"]

    def nowhere(text: str, where: str) -> None:
        for words in gone:
            assert words not in text, f"{words!r} in {where}"

    nowhere(shown, "the staff report page")
    staff_pdf = _pdf_text(url, closed)
    assert "Remark 3 from the officers" in staff_pdf and MARKER in staff_pdf
    nowhere(staff_pdf, "the staff PDF")
    live_json = _report_json(url, closed)
    assert "Remark 3 from the officers" in live_json
    nowhere(live_json, "tandem report --json")

    # The rater's words are kept, and the audit log holds the reasons without them.
    engine = make_engine(url)
    with Session(engine) as s:
        assert {HIDE, REDACT} <= set(s.execute(select(Comment.text)).scalars())
        log = read_log(s, SYSTEM, council_id=closed["council"]).to_json()
    engine.dispose()
    assert "names a member of staff" in log and "names an officer" in log
    nowhere(log, "the audit log")
    assert REDACT not in log

    # Publish; every reader reads the edition.
    engine = make_engine(url)
    with session_scope(engine) as s:
        set_cycle_status(s, SYSTEM, closed["cycle"], "published")
    with Session(engine) as s:
        stored = json.dumps(
            [r.content for r in s.execute(select(PublishedReport)).scalars()]
            + [[r.content, r.private] for r in s.execute(select(PublishedPairingReport)).scalars()]
        )
    engine.dispose()
    assert "Remark 3 from the officers" in stored
    nowhere(stored, "the published edition")
    nowhere(_report_json(url, closed), "tandem report --json, published")
    nowhere(_pdf_text(url, closed, closed["principal"]), "the principal's PDF")

    mine = AppTest.from_file(APP, default_timeout=60)
    mine.session_state["actor"] = closed["principal"]
    mine.session_state["user_id"] = closed["principal"].user_id
    mine.run()
    mine.switch_page("pages/report.py").run()
    assert not mine.exception, mine.exception
    principal_sees = _texts(mine)
    assert "Remark 3 from the officers" in principal_sees and MARKER in principal_sees
    assert not [e for e in mine.expander if e.label.startswith("Moderate comment")]
    nowhere(principal_sees, "the principal's report page")

    slides = _staff_page(url, closed["council"])
    slides.switch_page("pages/present.py").run()
    assert not slides.exception
    seen = 0
    while True:
        nowhere(_texts(slides), "the presentation")
        seen += 1
        if slides.button(key="present_next").disabled:
            break
        slides.button(key="present_next").click().run()
    assert seen >= 5  # the four opening slides and the pairing's
    # After publication the page offers no moderation and says what to do.
    at = _staff_page(url, closed["council"])
    assert not [e for e in at.expander if e.label.startswith("Moderate comment")]


def test_the_cli_moderates_and_refuses_after_publication(closed: dict) -> None:
    url = closed["url"]
    env = {**os.environ, "TANDEM_DATABASE_URL": url}

    def tandem(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TANDEM, *args], capture_output=True, text=True, env=env, timeout=300)

    cycle, pairing = str(closed["cycle"]), str(closed["pairing"])
    listed = tandem("comments", "list", cycle, "--pairing", pairing)
    assert listed.returncode == 0, listed.stderr
    assert HIDE in listed.stdout and "Remark 1 from the partners" not in listed.stdout
    ref = _refs(url, closed)[REDACT]
    assert f"[{ref}] shown: {REDACT}" in listed.stdout
    no_reason = tandem("comments", "hide", cycle, ref, "--pairing", pairing, "--reason", " ")
    assert no_reason.returncode == 1 and "Give a reason" in no_reason.stderr
    cut = tandem(
        "comments", "redact", cycle, ref, "--pairing", pairing,
        "--words", "petra quayle", "--reason", "names an officer",
    )  # fmt: skip
    assert cut.returncode == 0, cut.stderr
    assert f"Readers will see: Officer remark: ask {MARKER} about the budget" in cut.stdout
    listed = tandem("comments", "list", cycle, "--pairing", pairing).stdout
    assert "WORDS REMOVED" in listed and "reason: names an officer" in listed
    assert tandem("comments", "restore", cycle, ref, "--pairing", pairing).returncode == 0
    assert (
        tandem("comments", "hide", cycle, ref, "--pairing", pairing, "--reason", "r s").returncode
        == 0
    )
    assert tandem("cycle", "publish", cycle, "--yes").returncode == 0
    late = tandem("comments", "restore", cycle, ref, "--pairing", pairing)
    assert late.returncode == 1 and "tandem cycle unpublish" in late.stderr
    assert "Traceback" not in late.stderr
