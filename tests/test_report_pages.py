"""The pairing report, council overview and presentation pages through AppTest on the demo
council: they render, name the right people, and show nothing of a suppressed group —
not its comments on screen, not its rows inside a chart's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from cycle_builder import build_cycle
from shown import alerts, headings, html_texts
from sqlalchemy import select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from core.db import make_engine, session_scope
from core.roles import SYSTEM, Actor
from feedback.collection.responses import items_for_invitation, save_answers, submit_response
from feedback.models import Comment, Cycle, Invitation, Pairing, Person
from feedback.results.publication import read_council_overview, read_pairing_report
from feedback.setup.cycles import set_cycle_status
from governance.accounts import actor_for, create_user

APP = "../app.py"
CHILDREN = "Owen Fletcher"  # the demo's children pairing: only two external partners
LEADER = "Margaret Oduya"
FINANCE = "Tom Hargreaves"


@pytest.fixture(autouse=True)
def _fresh_cache():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def demo(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TANDEM_DATABASE_URL", demo_url)
    return demo_url


def open_page(page: str, actor: Actor | None = None) -> AppTest:
    at = signed_in(actor) if actor is not None else AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Every piece of text the page put on screen."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.get("text")]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts + html_texts(at))


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_rows(at: AppTest) -> list[dict]:
    """The rows inside every chart: inline data and the datasets Streamlit sends apart."""
    rows: list[dict] = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        for values in spec.get("datasets", {}).values():
            rows += values
        for dataset in chart.proto.datasets:
            from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

            rows += convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records")
        if chart.proto.data.data:
            from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

            rows += convert_arrow_bytes_to_pandas_df(chart.proto.data.data).to_dict("records")
    return rows


def choose(at: AppTest, key: str, value: int) -> AppTest:
    at.selectbox(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def pairing_id(url: str, member_words: str) -> int:
    engine = make_engine(url)
    with Session(engine) as s:
        found = s.execute(
            select(Pairing.id)
            .join(Person, Person.id == Pairing.member_id)
            .where(Person.full_name.contains(member_words))
        ).scalar_one()
    engine.dispose()
    return found


def cycle_id(url: str, name: str) -> int:
    engine = make_engine(url)
    with Session(engine) as s:
        found = s.execute(select(Cycle.id).where(Cycle.name == name)).scalar_one()
    engine.dispose()
    return found


@pytest.fixture
def closed_cycle(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """A closed cycle of one pairing: 3 councillors and 3 officers answered, but only 2 of
    the 3 external partners — so partners are suppressed. Every rater leaves a comment that
    nobody else wrote. Returns the comments by group."""
    engine = make_engine(db_url)
    built = build_cycle(engine, raters_per_group=3, second_pairing=False)
    written: dict[str, list[str]] = {}
    with session_scope(engine) as s:
        invitations = s.execute(
            select(Invitation).where(Invitation.cycle_id == built.cycle_id).order_by(Invitation.id)
        ).scalars()
        for inv in invitations:
            if inv.rater_id == built.people["p2"]:
                continue  # the third partner never replies
            items = items_for_invitation(s, inv)
            dimension_id = next(i.dimension_id for i in items if i.dimension_id is not None)
            text = f"Remark {len(written.get(inv.rater_group, [])) + 1} from the {inv.rater_group}"
            written.setdefault(inv.rater_group, []).append(text)
            save_answers(s, inv.id, {i.id: 3 for i in items}, {dimension_id: text})
            submit_response(s, inv.id)
        set_cycle_status(s, SYSTEM, built.cycle_id, "closed")
    engine.dispose()
    monkeypatch.setenv("TANDEM_DATABASE_URL", db_url)
    written["url"] = [db_url]
    return written


def principal_of(url: str, words: str) -> Actor:
    """An account for the named principal; returns the Actor the app will act as."""
    engine = make_engine(url)
    with session_scope(engine) as s:
        person = s.execute(select(Person).where(Person.full_name.contains(words))).scalar_one()
        user = create_user(
            s, SYSTEM, f"principal{person.id}", "principal", None, person_id=person.id
        )
        actor = actor_for(s, user)
    engine.dispose()
    return actor


def signed_in(actor: Actor) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["actor"] = actor
    at.session_state["user_id"] = actor.user_id
    return at


# --- the pairing report --------------------------------------------------------------------


def test_report_page_shows_the_first_pairing_with_its_charts(demo: str) -> None:
    at = open_page("pages/report.py")
    assert [t.value for t in at.title] == ["Pairing report"]
    assert any(LEADER in h for h in headings(at, 2))
    shown = texts(at)
    assert "Annual review 2026" in shown  # the newest cycle comes first
    assert {"Scores", "Gaps", "Items", "Mirror", "Change", "Comments"} <= {t.label for t in at.tabs}
    specs = chart_specs(at)
    titles = [s["title"]["text"] for s in specs]
    assert "How each source rates each dimension" in titles
    assert "Perception gaps: self against everyone else" in titles
    assert "Johari window: self against everyone else" in titles
    assert "The mirror: how each side sees the partnership" in titles
    assert "Change since Annual review 2025" in titles
    assert all(s.get("description") for s in specs)
    # Each chart's alt text is on the page, and each has its two downloads.
    assert sum(1 for e in at.expander if e.label == "Chart description") == len(specs)
    downloads = [b.label for b in at.get("download_button")]
    assert downloads.count("PNG") == len(specs) and downloads.count("SVG") == len(specs)
    assert "Highest rated by others" in shown and "Lowest rated by others" in shown


@pytest.mark.slow
def test_a_suppressed_groups_comments_and_scores_never_reach_the_page(
    closed_cycle: dict[str, list[str]],
) -> None:
    at = open_page("pages/report.py")
    assert "live results, not yet published" in texts(at)  # staff read a closed cycle live
    shown = texts(at)
    assert len(closed_cycle["partners"]) == 2
    for comment in closed_cycle["partners"]:
        assert comment not in shown
    for comment in closed_cycle["members"] + closed_cycle["officers"]:
        assert comment in shown  # comments of shown groups are there, so the check can fail
    assert "Not shown" in shown  # the partners' box says so
    at.toggle(key="report_separate").set_value(True).run()
    assert not at.exception
    rows = chart_rows(at)
    assert not [r for r in rows if r.get("source") == "partners"]
    assert {r.get("source") for r in rows} >= {"members", "officers"}
    specs = chart_specs(at)
    drawn = [{k: v for k, v in spec.items() if k not in ("title", "description")} for spec in specs]
    assert "External partners" not in json.dumps(drawn)  # no legend entry, no dot
    # the chart says why they are missing (issue 18), as the page's box does
    assert any(
        "External partners not shown: fewer than" in " ".join(spec["title"]["subtitle"])
        for spec in specs
        if isinstance(spec.get("title", {}).get("subtitle"), list)
    )


@pytest.mark.slow
def test_the_mirror_leads_the_report_the_pdf_and_the_presentation(demo: str) -> None:
    """The demo's designed mirror (the finance portfolio: the member says 4, the officer 2
    about handling disagreement) is a finding on the page, in its PDF and on its slide."""
    from feedback.results.report_pdf import pairing_report_pdf

    mirror = "Cllr Tom Hargreaves rates the partnership 4.0 and Gareth Pryce rates it 2.0"
    at = open_page("pages/report.py")
    choose(at, "report_pairing", pairing_id(demo, FINANCE))
    assert not at.exception
    subheaders = [h.value for h in at.subheader]
    assert subheaders[0] == "Findings"
    shown = texts(at)
    assert mirror in shown and "a third of the 1–5 scale" in shown
    assert any(mirror in w for w in alerts(at, "warning"))  # the mirror tab too
    engine = make_engine(demo)
    with Session(engine) as s:
        cycle = s.execute(select(Cycle.id).where(Cycle.name == "Annual review 2026")).scalar()
        report = read_pairing_report(s, SYSTEM, cycle, pairing_id(demo, FINANCE))
    engine.dispose()
    text, _pages, _images = _pdf_text(pairing_report_pdf(report))
    flat = " ".join(text.split())
    assert flat.index("Findings") < flat.index("Who responded") and mirror in flat
    slides = open_page("pages/present.py")
    slides.button(key="present_next").click().run()
    assert texts(slides).index(mirror) < texts(slides).index("Blind spot")
    for _ in range(30):
        slides.button(key="present_next").click().run()
        if FINANCE in " ".join(headings(slides, 1)):
            break
    assert FINANCE in " ".join(headings(slides, 1)) and mirror in texts(slides)


def test_a_principal_waits_for_publication(closed_cycle: dict[str, list[str]]) -> None:
    at = open_page("pages/report.py", principal_of(closed_cycle["url"][0], "Siân Llewelyn"))
    assert "Your report is not published yet" in alerts(at, "info")[0]
    assert not at.header  # nothing of the live results


def test_errors_are_shown_as_their_message_never_a_traceback() -> None:
    def page() -> None:
        from core.errors import Invalid, NotFound, PermissionDenied
        from ui.errors import show_error

        show_error(
            PermissionDenied("You can only read your own pairing's report."), refusals="warning"
        )
        show_error(NotFound("That pairing did not take part in this cycle."), refusals="warning")
        show_error(
            Invalid("Not ready.", ["The cycle is still open: close it first."]), refusals="warning"
        )
        show_error(PermissionDenied("Only facilitators and administrators can open this."))

    at = AppTest.from_function(page).run()
    assert not at.exception
    assert alerts(at, "warning") == [
        "You can only read your own pairing's report.",
        "That pairing did not take part in this cycle.",
    ]
    assert alerts(at, "error") == [
        "Not ready. The cycle is still open: close it first.",
        "Only facilitators and administrators can open this.",  # set-up pages: an error
    ]


@pytest.mark.slow
def test_the_demo_children_pairing_shows_no_partner_scores(demo: str) -> None:
    at = open_page("pages/report.py")
    choose(at, "report_pairing", pairing_id(demo, CHILDREN))
    assert any(CHILDREN in h for h in headings(at, 2))
    shown = texts(at)
    # two of two partners replied, but a hidden group says only "fewer than 3"
    assert "External partners fewer than 3 (2 invited)" in shown and "Not shown" in shown
    at.toggle(key="report_separate").set_value(True).run()
    assert not at.exception
    rows = chart_rows(at)
    assert rows and not [r for r in rows if r.get("source") == "partners"]
    assert any(r.get("source") == "members" for r in rows)


def test_a_principal_sees_only_their_own_pairing(demo: str) -> None:
    actor = principal_of(demo, CHILDREN)
    at = open_page("pages/report.py", actor)
    pairings = at.selectbox(key="report_pairing").options
    assert len(pairings) == 1 and CHILDREN in pairings[0]
    assert any(CHILDREN in h for h in headings(at, 2))
    assert LEADER not in texts(at)
    assert "published edition" in texts(at)


def test_report_page_on_an_empty_database_says_what_to_do(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = open_page("pages/report.py")
    assert "close the cycle on the Cycles page" in alerts(at, "info")[0]


# --- the council overview ------------------------------------------------------------------


def test_council_overview_page(demo: str) -> None:
    at = open_page("pages/council.py")
    assert [t.value for t in at.title] == ["Council overview"]
    assert headings(at, 2)[0] == "Kingsmere Borough Council: Annual review 2026"
    shown = texts(at)
    assert "70%" in shown and "17%" in shown
    # Like for like: the chief executive's one answer about the leader is not a percentage;
    # the national figures' source is stated, saying what could not be confirmed.
    assert "Chief executives about their leaders, here: not shown — 1 answer" in shown
    assert "could not be confirmed" in shown
    assert shown.index("The pair see their partnership differently") < shown.index(
        "invited people responded"
    )
    titles = [s["title"]["text"] for s in chart_specs(at)]
    assert titles == [
        "Partnership score by pairing and dimension",
        "How the ratings are spread",
        "Response rates",
    ]
    heatmap_rows = chart_rows(at)
    assert any(LEADER in str(r.get("pairing_label", "")) for r in heatmap_rows)
    choose(at, "council_cycle", cycle_id(demo, "Annual review 2025"))
    assert headings(at, 2)[0] == "Kingsmere Borough Council: Annual review 2025"


def test_a_principal_cannot_open_the_council_overview(demo: str) -> None:
    at = signed_in(principal_of(demo, CHILDREN)).run()
    with pytest.raises(ValueError):  # not in a principal's menu at all
        at.switch_page("pages/council.py").run()


# --- presentation mode -------------------------------------------------------------------


def test_presentation_steps_through_findings_then_each_pairing_without_comments(
    demo: str,
) -> None:
    """One message per slide: the council's findings (three to a slide), the national
    picture, the scores, then each pairing's findings, its mirror and its gaps, and the
    plan. No comment on any slide; every slide has speaker notes, closed until opened."""
    engine = make_engine(demo)
    with Session(engine) as s:
        every_comment = set(s.execute(select(Comment.text)).scalars())
    engine.dispose()
    at = open_page("pages/present.py")
    assert headings(at, 1)[0] == "Kingsmere Borough Council"
    seen_titles = [headings(at, 1)[0]]
    assert at.button(key="present_prev").disabled
    for _ in range(60):
        assert not any(c in texts(at) for c in every_comment)
        notes = at.expander[-1]
        assert notes.label == "Speaker notes" and not notes.proto.expanded
        assert html_texts(notes), "a slide without speaker notes"
        if at.button(key="present_next").disabled:
            break
        at.button(key="present_next").click().run()
        assert not at.exception, at.exception
        seen_titles.append(headings(at, 1)[0])
    assert seen_titles[1:5] == [
        "Key findings (1 of 2)",
        "Key findings (2 of 2)",
        "Beside the national picture",
        "Partnership scores across the council",
    ]
    assert seen_titles[-1] == "From findings to the plan"
    pairing_titles = seen_titles[5:-1]
    assert LEADER in pairing_titles[0]
    for who in (LEADER, FINANCE, CHILDREN):
        about = [t for t in pairing_titles if who in t]
        assert about[0].startswith("Cllr " + who)  # the pairing's findings first
        assert any(t.startswith("The mirror:") for t in about)
        assert any(t.startswith("Gaps:") for t in about)
    total = len(seen_titles)
    assert f"Slide {total} of {total}" in texts(at)
    at.button(key="present_prev").click().run()
    assert f"Slide {total - 1} of {total}" in texts(at)
    at.button(key="present_home").click().run()
    assert f"Slide 1 of {total}" in texts(at)
    at.button(key="present_end").click().run()
    assert f"Slide {total} of {total}" in texts(at)


def test_the_national_slide_never_headlines_a_figure_from_fewer_answers_than_the_threshold(
    demo: str,
) -> None:
    """The demo has one leader–chief executive pairing: one chief executive's answer, under
    the threshold of 3. The Solace slide says so instead of a percentage and a red delta
    (issue 19: "0% … −70 points" from two answers)."""
    engine = make_engine(demo)
    with Session(engine) as s:
        cycle = s.execute(select(Cycle.id).where(Cycle.name == "Annual review 2026")).scalar()
        solace = read_council_overview(s, SYSTEM, cycle).solace
    engine.dispose()
    assert (solace["n"] > 0).all() and (solace["n"] < 3).all()  # answers exist, too few
    at = open_page("pages/present.py")
    for _ in range(6):
        if headings(at, 1)[0] == "Beside the national picture":
            break
        at.button(key="present_next").click().run()
    assert headings(at, 1)[0] == "Beside the national picture"
    values = [str(m.value) for m in at.metric]
    assert values == ["Not shown", "Not shown"]
    assert not any(m.proto.delta for m in at.metric)  # no "−70 points" in red
    shown = texts(at)
    assert shown.count("not shown (fewer than 3 answers)") == 2
    assert "70% nationally (Solace)" in shown and "points" not in shown


def _pdf_text(data: bytes) -> tuple[str, int, int]:
    """(all the text, pages, images) of a PDF, read back with pypdf."""
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    images = sum(len(page.images) for page in reader.pages)
    return text, len(reader.pages), images


@pytest.mark.slow
def test_the_pdf_report_holds_what_the_page_shows_and_nothing_suppressed(
    closed_cycle: dict[str, list[str]], tmp_path
) -> None:
    """The PDF is built from the same suppressed report: the partners (2 of 3 replied) are
    named as not shown, their comments are nowhere in it; the shown groups' comments, the
    charts and the Welsh names are. Through the command line, as a user would get it."""
    url = closed_cycle["url"][0]
    engine = make_engine(url)
    with Session(engine) as s:
        pid = s.execute(select(Invitation.pairing_id)).scalars().first()
        cid = s.execute(select(Invitation.cycle_id)).scalars().first()
    engine.dispose()
    out = tmp_path / "report.pdf"
    done = subprocess.run(
        [str(Path(sys.executable).with_name("tandem")), "report", str(cid), "--pairing",
         str(pid), "--pdf", str(out)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TANDEM_DATABASE_URL": url},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:5] == b"%PDF-"
    text, pages, images = _pdf_text(data)
    flat = " ".join(text.split())
    assert "Cllr Siân Llewelyn and Rhodri ap Dafydd" in flat
    assert "External partners fewer than 3 (3 invited) no — too few to show" in flat
    for comment in closed_cycle["members"] + closed_cycle["officers"]:
        assert comment in flat  # shown groups' comments are there, so the check can fail
    for comment in closed_cycle["partners"]:
        assert comment not in flat
    assert "Remark" in flat and "from the partners" not in flat
    assert pages >= 3 and images >= 4  # the scores, gaps, Johari and mirror charts
    # Live results (closed, not published) say so on every page.
    assert flat.count("DRAFT: live results, not published — not for circulation") == pages

    # A folder that does not exist, or --json beside --pdf: told, no traceback.
    for args in (["--pdf", str(tmp_path / "nowhere" / "r.pdf")], ["--pdf", str(out), "--json"]):
        refused = subprocess.run(
            [str(Path(sys.executable).with_name("tandem")), "report", str(cid), "--pairing",
             str(pid), *args],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "TANDEM_DATABASE_URL": url},
        )  # fmt: skip
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "--pdf" in refused.stderr


def test_the_report_page_offers_the_pdf(demo: str) -> None:
    at = open_page("pages/report.py")
    [button] = [b for b in at.get("download_button") if "PDF" in b.proto.label]
    assert button.proto.label == "Download this report (PDF)"


def test_the_presentation_keeps_an_editions_slides_and_shows_a_republication_at_once(
    demo: str,
) -> None:
    """A published edition's slides are built once and kept (a click to the next slide
    does not build every pairing's again); a republication is another edition, presented
    from its own figures on the next run, never from the slides kept for the first."""
    from feedback.results.publication import publish_cycle, read_all_pairing_reports
    from feedback.results.tables import replies_text
    from feedback.setup.cycles import cycle_settings, update_cycle

    def replies_lines(at: AppTest) -> list[str]:
        return [t for t in texts(at).split("\n") if t.startswith("Replies: ")]

    def expected(cycle_id: int) -> str:
        with Session(engine) as s:
            reports = read_all_pairing_reports(s, SYSTEM, cycle_id)
        leader = next(r for r in reports.values() if LEADER in str(r.meta["member_name"]))
        return "Replies: " + "; ".join(
            f"{g.label} {replies_text(g.responded, g.invited)}"
            + ("" if g.shown else " (not shown)")
            for g in leader.groups.itertuples(index=False)
        )

    engine = make_engine(demo)
    with Session(engine) as s:
        cycle_id = s.execute(select(Cycle.id).where(Cycle.name == "Annual review 2026")).scalar()
    at = open_page("pages/present.py")
    for _ in range(10):  # to the leader's first slide
        if LEADER in headings(at, 1)[0]:
            break
        at.button(key="present_next").click().run()
    before = replies_lines(at)
    assert before == [expected(cycle_id)]
    with session_scope(engine) as s:  # more replies needed: the partners' group is hidden
        set_cycle_status(s, SYSTEM, cycle_id, "closed")
        now = cycle_settings(s.get(Cycle, cycle_id))
        update_cycle(s, SYSTEM, cycle_id, now["name"], now["opens_on"], now["closes_on"], 4)
        publish_cycle(s, SYSTEM, cycle_id)
    at.run()
    after = replies_lines(at)
    engine.dispose()
    assert after == [expected(cycle_id)]
    assert after != before  # the second edition shows other figures
