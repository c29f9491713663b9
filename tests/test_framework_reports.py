"""Framework 2026.2 in the engine and the report (issue 14 point 5), hand-computed on small
cycles: items not asked of a group are not applicable (never missing), open answers follow
the comments' rules, what matters most is counted only from groups at the threshold, and a
2026.2 cycle compares with a 2026.1 one dimension by dimension."""

from __future__ import annotations

from datetime import date

import pytest
from analysis_builder import add_rater, small_cycle
from sqlmodel import Session

from core.roles import SYSTEM
from feedback.results.publication import publish_cycle
from feedback.results.report import pairing_report
from feedback.results.report_pdf import pairing_report_pdf
from feedback.results.tables import PairingReport
from feedback.setup.framework import DEFAULT_FRAMEWORK_FILE, FRAMEWORK_2026_1, load_framework_file

NEW = DEFAULT_FRAMEWORK_FILE  # 2026.2


def _rows(frame, **where):
    for k, v in where.items():
        frame = frame[frame[k] == v]
    return frame


def _partners_items() -> list[str]:
    spec = load_framework_file(NEW)
    return [i.code for d in spec.dimensions for i in d.items if i.asks("partners")]


def test_an_item_not_asked_of_a_group_is_not_applicable_not_missing(session: Session) -> None:
    small = small_cycle(session, framework=NEW)
    add_rater(session, small, "member", 4)
    add_rater(session, small, "officer", 4)
    asked = set(_partners_items())
    for _ in range(3):
        # Each partner answers every item they were asked, 5; an answer to an item they
        # were not asked (written straight into the table, as no form allows it) is 1.
        add_rater(session, small, "partners", {c: (5 if c in asked else 1) for c in small.items})
    report = pairing_report(session, small.cycle_id, small.pairing_id)
    dims = report.dimensions
    # Respect, about the member: partners are asked 1 of its 3 items. Half of the items
    # THEY are asked is that one, so they count (with all 3 as the total they would not).
    cell = _rows(dims, dimension_code="respect", target="member", source="partners")
    assert len(cell) == 1 and cell["mean"].iloc[0] == 5.0 and cell["n"].iloc[0] == 3
    # Habits: partners are asked nothing, and the 1s they could not have given count nowhere.
    assert _rows(dims, dimension_code="habits", source="partners").empty
    assert _rows(report.items, item_code="habits.member.1", source="partners").empty
    assert (report.items.loc[report.items["source"] == "partners", "mean"] == 5.0).all()
    # No "too few answered" notice for the items they were not asked; a note says why.
    assert not any("some questions were answered" in n for n in report.notices)
    notes = report.not_asked_notes()
    spec = load_framework_file(NEW)
    total = sum(len(d.items) for d in spec.dimensions)
    assert f"External partners were not asked {total - len(asked)} of the items" in notes[-1]
    assert report.meta["framework_version"] == "2026.2"


def test_2026_1_cycles_report_as_before(session: Session) -> None:
    small = small_cycle(session)  # 2026.1: everyone is asked everything
    add_rater(session, small, "member", 4)
    add_rater(session, small, "officer", 4)
    for _ in range(3):
        add_rater(session, small, "partners", 2)
    report = pairing_report(session, small.cycle_id, small.pairing_id)
    habits = _rows(report.dimensions, dimension_code="habits", source="partners")
    assert set(habits["target"]) == {"member", "officer", "partnership"}
    assert report.not_asked_notes() == [] and report.open_answers == []
    assert report.matters_most.empty and report.meta["framework_version"] == "2026.1"


@pytest.mark.slow
def test_open_answers_follow_the_comments_rules(session: Session) -> None:
    small = small_cycle(session, framework=NEW)
    add_rater(session, small, "member", 4, open_answers={"open.partnership": "Meet weekly."})
    add_rater(session, small, "officer", 4)
    for text in ("zeal for delivery", "Candid advice", "budget grip"):
        add_rater(session, small, "officers", 4, open_answers={"open.officer.keep": text})
    for text in ("Partner one", "Partner two"):  # two partners: below the threshold of 3
        add_rater(session, small, "partners", 4, open_answers={"open.officer.keep": text})
    report = pairing_report(session, small.cycle_id, small.pairing_id)
    by_code = {q["code"]: q for q in report.open_answers}
    assert list(by_code) == [
        "open.member.keep",
        "open.member.focus",
        "open.officer.keep",
        "open.officer.focus",
        "open.partnership",
    ]
    keep = by_code["open.officer.keep"]
    assert keep["question"].endswith("keep doing?") and "{officer}" not in keep["question"]
    # Unattributed, alphabetical whatever the case, and nothing from the suppressed group.
    assert keep["answers"] == ["budget grip", "Candid advice", "zeal for delivery"]
    assert by_code["open.partnership"]["answers"] == ["Meet weekly."]
    again = PairingReport.from_dict(report.to_dict())  # as a published edition stores it
    assert again.open_answers == report.open_answers
    text = _pdf_text(pairing_report_pdf(report))
    assert "In their own words" in text and "Candid advice" in text
    assert "Partner one" not in text


def test_what_matters_most_is_counted_only_from_groups_at_the_threshold(
    session: Session,
) -> None:
    small = small_cycle(session, framework=NEW)
    add_rater(session, small, "member", 4, picks=["advice", "roles", "credit"])
    add_rater(session, small, "officer", 4, picks=["advice"])
    officers = [["advice", "habits"], ["advice", "roles", "habits"], ["habits"]]
    for picks in officers:
        add_rater(session, small, "officers", 4, picks=picks)
    # Three councillors replied (their group is shown) but only two chose: not counted.
    add_rater(session, small, "members", 4, picks=["culture"])
    add_rater(session, small, "members", 4, picks=["culture", "roles"])
    add_rater(session, small, "members", 4)
    report = pairing_report(session, small.cycle_id, small.pairing_id)
    mm = report.matters_most
    assert set(mm["source"]) == {"member_view", "officer_view", "officers", "others"}
    others = _rows(mm, source="others").set_index("dimension_code")
    assert others.loc["habits", "picked"] == 3 and others.loc["advice", "picked"] == 2
    assert others.loc["roles", "picked"] == 1 and others.loc["culture", "picked"] == 0
    assert (others["raters"] == 3).all()
    assert others.loc["habits", "rank"] == 1 and others.loc["advice", "rank"] == 2
    assert others.loc["roles", "rank"] == 3
    assert others["rank"].isna().sum() == 6  # chosen by nobody: no rank
    summary = report.matters_most_summary()
    first = summary.iloc[0]
    assert (first["dimension_name"], first["chosen"], first["rank"]) == (
        "Everyday habits",
        "3 of 3",
        1,
    )
    advice = summary[summary["dimension_name"] == "Listening and advice"].iloc[0]
    assert advice["member_view"] and advice["officer_view"]
    assert advice["others_member"] == 4.0  # rated beside it
    # A stored edition carries no pick from the suppressed councillors anywhere.
    stored = str(report.to_dict())
    assert "'members'" not in str(report.to_dict()["matters_most"])
    assert "culture" in stored  # the dimension is listed, with no count from them
    assert others.loc["culture", "picked"] == 0
    text = _pdf_text(pairing_report_pdf(report))
    assert "What matters most" in text and "3 of 3" in text


def _pdf_text(data: bytes) -> str:
    from io import BytesIO

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_a_2026_2_cycle_compares_with_a_2026_1_cycle_by_dimension(session: Session) -> None:
    before = small_cycle(session, opens_on=date(2026, 1, 5), framework=FRAMEWORK_2026_1)
    for who in ("member", "officer"):
        add_rater(session, before, who, 3)
    for _ in range(3):
        add_rater(session, before, "officers", 3)
    # The change is always against the previous cycle as published (never computed live).
    publish_cycle(session, SYSTEM, before.cycle_id)
    after = small_cycle(
        session,
        opens_on=date(2027, 1, 4),
        council_id=before.council_id,
        pairing_id=before.pairing_id,
        member_id=before.member_id,
        officer_id=before.officer_id,
        framework=NEW,
    )
    for who in ("member", "officer"):
        add_rater(session, after, who, 4)
    for _ in range(3):
        add_rater(session, after, "officers", 4)
    report = pairing_report(session, after.cycle_id, after.pairing_id)
    assert report.meta["previous_framework_version"] == "2026.1"
    change = _rows(report.change, source="others", target="partnership")
    assert len(change) == 9 and (change["change"] == 1.0).all()
    assert "framework 2026.1, then 2026.2" in report.framework_note()


def test_a_late_open_answer_or_choice_is_held_back_like_a_comment(session: Session) -> None:
    from sqlmodel import select

    from core.roles import SYSTEM
    from feedback.models import PublishedReport
    from feedback.results.publication import edition_content
    from feedback.setup.cycles import set_cycle_status

    s = small_cycle(session, framework=NEW)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 3)
    for v in (2, 3, 4):
        add_rater(session, s, "members", v, picks=["roles"])
    session.commit()
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    # Three late councillors: every figure moves by three, which is safe, but only one of
    # them writes an open answer and only one chooses "habits": those would be theirs.
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    set_cycle_status(session, SYSTEM, s.cycle_id, "open")
    add_rater(session, s, "members", 1, open_answers={"open.partnership": "LATE-ONE"})
    add_rater(session, s, "members", 1, picks=["roles", "habits"])
    add_rater(session, s, "members", 1, picks=["roles"])
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    editions = session.exec(
        select(PublishedReport)
        .where(PublishedReport.cycle_id == s.cycle_id)
        .order_by(PublishedReport.edition)
    ).all()
    first, second = (edition_content(session, e)["pairings"][str(s.pairing_id)] for e in editions)
    assert "LATE-ONE" not in str(second)
    assert second["matters_most"] == first["matters_most"]
    # Held whole, as it was first shown (principals are told nothing of late replies).
    assert second["items"] == first["items"] and second["open_answers"] == first["open_answers"]
