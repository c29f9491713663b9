"""Staff reads before publication are held like editions (both backends): the attack of
issue 12 by hand — close, read, reopen, one named rater submits, close, read — plus an
erased reply, a swap, the council-wide Solace figures and what principals are told."""

from __future__ import annotations

from dataclasses import replace

import pytest
from analysis_builder import add_rater, small_cycle
from sqlalchemy import delete
from sqlmodel import Session, select

from core.audit import read_log
from core.errors import PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import CyclePairing, Pairing, Person, Response, StaffPreview
from feedback.results.publication import (
    read_all_pairing_reports,
    read_council_overview,
    read_pairing_report,
)
from feedback.setup.cycles import set_cycle_status

FIGURES = ("groups", "items", "dimensions", "gaps", "top_items", "bottom_items", "mirror")
HELD = "stay as they were"


def _principal(person_id: int) -> Actor:
    return Actor(username=f"p{person_id}", role="principal", person_id=person_id)


def _three_officers(session: Session):
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 3)
    for v in (2, 4, 4):
        add_rater(session, s, "officers", v, comments={"advice": f"officer said {v}"})
    session.commit()
    return s


def _read(session: Session, s) -> tuple[dict, dict, dict]:
    report = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict()
    every = read_all_pairing_reports(session, SYSTEM, s.cycle_id)[s.pairing_id].to_dict()
    overview = read_council_overview(session, SYSTEM, s.cycle_id).to_dict()
    session.commit()
    return report, every, overview


def _late(session: Session, s, value: int, text: str | None = None) -> int:
    set_cycle_status(session, SYSTEM, s.cycle_id, "open")
    inv = add_rater(session, s, "officers", value, comments={"advice": text} if text else None)
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    session.commit()
    return inv


def _same(a: dict, b: dict) -> None:
    for name in FIGURES:
        assert a[name] == b[name], name
    assert a["comments"] == b["comments"]


def test_reading_again_after_one_late_reply_gives_nothing_back(session: Session) -> None:
    s = _three_officers(session)
    report1, every1, overview1 = _read(session, s)
    cell = next(r for r in report1["items"] if r["source"] == "officers")
    assert cell["n"] == 3 and not any(HELD in n for n in report1["notices"])

    _late(session, s, 1, "the late one")
    report2, every2, overview2 = _read(session, s)
    # 4·mean₂ − 3·mean₁ would be the late officer's answer: nothing moved.
    for later in (report2, every2):
        _same(report1, later)
        assert any(HELD in n for n in later["notices"])
    assert "the late one" not in str((report2, every2, overview2))
    for name in ("heatmap", "distribution", "solace", "response_rates", "findings"):
        assert overview1[name] == overview2[name], name

    # Two more, with comments too: three new replies and comments, so the figures may move
    # on (and do). (Without their comments, the one late comment would still hold it.)
    _late(session, s, 1, "second late")
    _late(session, s, 1, "third late")
    report3, _every3, overview3 = _read(session, s)
    cell = next(r for r in report3["items"] if r["source"] == "officers")
    assert cell["n"] == 6 and not any(HELD in n for n in report3["notices"])
    assert "the late one" in report3["comments"]["advice"]
    assert overview3["heatmap"] != overview1["heatmap"]


def test_a_late_reply_is_held_against_every_earlier_read_not_only_the_last(
    session: Session,
) -> None:
    """Read at 3, three more arrive and are read (6), then one more: 7 against 6 is one
    reply; and after two more (9), 9 against 6 is three but 9 against … every read counts."""
    s = _three_officers(session)
    _read(session, s)
    for _ in range(3):
        _late(session, s, 5)
    six, _e, _o = _read(session, s)
    _late(session, s, 1)
    seven, _e, _o = _read(session, s)
    _same(six, seven)
    previews = session.exec(select(StaffPreview).where(StaffPreview.cycle_id == s.cycle_id))
    assert len(previews.all()) == 2  # a read that shows nothing new keeps nothing


def test_publishing_after_staff_reads_is_held_against_them_and_principals_see_the_edition(
    session: Session,
) -> None:
    s = _three_officers(session)
    first, _e, _o = _read(session, s)
    _late(session, s, 1, "late and identifiable")
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    leader = read_pairing_report(session, _principal(s.member_id), s.cycle_id, s.pairing_id)
    edition = leader.to_dict()
    _same(first, edition)
    assert edition["meta"]["edition"] == 1
    # Principals are told only that this is the published edition: nothing of late replies.
    assert not any(HELD in n or "since" in n for n in leader.notices), leader.notices
    assert "late and identifiable" not in str(edition)
    staff = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    assert any(HELD in n for n in staff.notices)
    # Which pairings were held is in the audit log, which only administrators read.
    log = read_log(session, SYSTEM)
    assert any("held_pairings" in d for d in log["detail"])
    with pytest.raises(PermissionDenied):
        read_log(session, _principal(s.member_id))


def test_an_erased_reply_or_a_swap_is_held_too(session: Session) -> None:
    """Recomputing at an old cut-off would change when a reply is erased; the held read is
    a copy of what was shown. A swap (one in, one out) keeps n and is held as well."""
    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 3)
    invitations = [add_rater(session, s, "officers", v) for v in (2, 3, 4, 5)]
    session.commit()
    before, _e, _o = _read(session, s)
    gone = session.exec(select(Response.id).where(Response.invitation_id == invitations[0])).one()
    session.exec(delete(Response).where(Response.id == gone))
    session.commit()
    after_erasure, _e, _o = _read(session, s)
    _same(before, after_erasure)
    _late(session, s, 1)  # and one in: four officers again, a different four
    after_swap, _e, _o = _read(session, s)
    _same(before, after_swap)


def _pairings(session: Session, s, count: int) -> list:
    """`count` pairings in the same cycle (the first is s's own)."""
    out = [s]
    for i in range(count - 1):
        member = Person(council_id=s.council_id, full_name=f"Cllr Cab {i}",
                        email=f"cab{i}-{s.cycle_id}@t.gov.uk", kind="member")  # fmt: skip
        officer = Person(council_id=s.council_id, full_name=f"Director {i}",
                         email=f"dir{i}-{s.cycle_id}@t.gov.uk", kind="officer")  # fmt: skip
        session.add_all([member, officer])
        session.flush()
        pairing = Pairing(council_id=s.council_id, kind="cabinet–director", portfolio=f"P{i}",
                          member_id=member.id, officer_id=officer.id)  # fmt: skip
        session.add(pairing)
        session.flush()
        session.add(CyclePairing(cycle_id=s.cycle_id, pairing_id=pairing.id))
        session.flush()
        out.append(replace(s, pairing_id=pairing.id, member_id=member.id,
                           officer_id=officer.id, raters=[]))  # fmt: skip
    return out


@pytest.mark.parametrize("answered", [1, 2, 3])
def test_the_solace_figures_need_the_thresholds_number_of_answers(
    session: Session, answered: int
) -> None:
    s = small_cycle(session, threshold=3)
    pairings = _pairings(session, s, 3)
    for p in pairings:  # like for like with Solace: leader–chief executive pairings only
        session.get(Pairing, p.pairing_id).kind = "leader–chief executive"
    session.flush()
    for i, p in enumerate(pairings):
        add_rater(session, p, "member", {"solace.advice": 4}, 4)
        solace = {"solace.advice": 5, "solace.relationship": 3}
        if i >= answered:  # this officer skipped the two national questions
            solace = dict.fromkeys(solace)
        add_rater(session, p, "officer", solace, 4)
    session.commit()
    overview = read_council_overview(session, SYSTEM, s.cycle_id)
    advice = overview.solace.set_index("measure").loc["advice"]
    said = [f for f in overview.findings if "chief executives' answers about their leaders" in f]
    if answered < 3:  # one or two chief executives' own answers
        assert advice["council_pct"] != advice["council_pct"]  # NaN: not given
        assert advice["n"] == answered and not said
    else:
        assert advice["council_pct"] == 100 and advice["n"] == 3
        assert len(said) == 2 and all("(3 answers)" in f for f in said)
    # The councillors' figure beside it: three answers, shown.
    assert advice["members_pct"] == 100 and advice["members_n"] == 3


def test_an_edition_published_before_the_record_existed_is_still_held_against(
    session: Session,
) -> None:
    """Editions published before migration 0006 have no server-side record of who stood
    behind each figure: it is worked out from their cut-off, as the hold-back did before."""
    from sqlalchemy import update

    from feedback.models import PublishedPairingReport

    s = _three_officers(session)
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    session.exec(update(PublishedPairingReport).values(private=None))
    session.commit()
    edition = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id).to_dict()
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    _late(session, s, 1)
    live, _e, _o = _read(session, s)
    _same(edition, live)
