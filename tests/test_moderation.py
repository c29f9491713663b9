"""Comment moderation before publication (issue 17): hide, redact, restore; refused after
publication and without a reason; audited without the comment; only comments a staff read
shows; the rater's words kept untouched; editions hold only the moderated text."""

from __future__ import annotations

import json

import pytest
from analysis_builder import add_rater, small_cycle
from sqlmodel import Session, select

from core.audit import read_log
from core.errors import Invalid, NotFound, PermissionDenied
from core.roles import SYSTEM, Actor
from feedback.models import Comment, OpenAnswer, PublishedPairingReport, PublishedReport
from feedback.results.moderated import MARKER, NOTICE
from feedback.results.moderation import (
    comments_to_moderate,
    hide_comment,
    redact_comment,
    restore_comment,
)
from feedback.results.publication import read_pairing_report
from feedback.setup.cycles import set_cycle_status
from feedback.setup.framework import DEFAULT_FRAMEWORK_FILE as FRAMEWORK_2026_2

NAMING = "Dave Smith in finance shouts at officers"
SUPPRESSED = "Partner remark the facilitator must never see"


def _facilitator(council_id: int) -> Actor:
    return Actor(
        username="fran@example.org", role="facilitator", council_ids=frozenset({council_id})
    )


def _cycle(session: Session, framework=None):
    s = small_cycle(session, threshold=3, **({"framework": framework} if framework else {}))
    add_rater(session, s, "member", 4, comments={"advice": "Member says listen more"})
    add_rater(session, s, "officer", 4)
    for text in (NAMING, "Clear and fair", "always prepared"):
        add_rater(session, s, "officers", 4, comments={"advice": text})
    for text in (SUPPRESSED, "Another partner"):  # two partners: below the threshold
        add_rater(session, s, "partners", 4, comments={"advice": text})
    session.commit()
    return s


def _ref(session: Session, actor: Actor, s, text: str) -> str:
    listed = comments_to_moderate(session, actor, s.cycle_id, s.pairing_id)
    return next(c.ref for c in listed if c.text == text)


def _comments(session: Session, actor: Actor, s) -> list[str]:
    report = read_pairing_report(session, actor, s.cycle_id, s.pairing_id)
    return [t for texts in report.comments.values() for t in texts]


def test_hide_keeps_the_words_and_restore_brings_them_back(session: Session) -> None:
    s = _cycle(session)
    fran = _facilitator(s.council_id)
    ref = _ref(session, fran, s, NAMING)
    hidden = hide_comment(session, fran, s.cycle_id, s.pairing_id, ref, "names a member of staff")
    session.commit()
    assert hidden.state == "hidden" and hidden.shown is None
    report = read_pairing_report(session, fran, s.cycle_id, s.pairing_id)
    assert NAMING not in json.dumps(report.to_dict())
    assert "Clear and fair" in report.comments["advice"] and NOTICE in report.notices
    # What the rater wrote is untouched.
    assert NAMING in session.exec(select(Comment.text)).all()
    restored = restore_comment(session, fran, s.cycle_id, s.pairing_id, ref, "read again")
    session.commit()
    assert restored.state == "shown"
    report = read_pairing_report(session, fran, s.cycle_id, s.pairing_id)
    assert NAMING in report.comments["advice"] and NOTICE not in report.notices


def test_redact_marks_the_words_removed_and_sorts_by_what_is_left(session: Session) -> None:
    s = _cycle(session)
    ref = _ref(session, SYSTEM, s, NAMING)
    done = redact_comment(
        session, SYSTEM, s.cycle_id, s.pairing_id, ref, "dave smith", "names a member of staff"
    )
    session.commit()
    expected = f"{MARKER} in finance shouts at officers"
    assert done.state == "redacted" and done.shown == expected and done.text == NAMING
    shown = _comments(session, SYSTEM, s)
    assert expected in shown and not any("Dave" in t for t in shown)
    # Alphabetical by what readers see: its old place ("D…") would hint at the name.
    assert shown == sorted(shown, key=lambda t: (t.casefold(), t))
    assert shown.index(expected) == 0
    # A second redaction adds to the first; the whole comment can't be redacted away.
    redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "finance", "names a team")
    assert f"{MARKER} in {MARKER} shouts" in " ".join(_comments(session, SYSTEM, s))
    with pytest.raises(Invalid, match="not in the comment"):
        redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "Bob", "a name")
    with pytest.raises(Invalid, match="withhold it instead"):
        redact_comment(
            session, SYSTEM, s.cycle_id, s.pairing_id, ref, "in finance shouts at officers", "x y"
        )
    # Whole words only: "Dave" is not taken out of "Davey".
    with pytest.raises(Invalid, match="not in the comment"):
        redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "Smit", "a name")


def test_a_reason_is_required_and_never_quotes_the_words(session: Session) -> None:
    s = _cycle(session)
    ref = _ref(session, SYSTEM, s, NAMING)
    for reason in ("", "   "):
        with pytest.raises(Invalid, match="Give a reason"):
            hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, reason)
        with pytest.raises(Invalid, match="Give a reason"):
            redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "Dave", reason)
    with pytest.raises(Invalid, match="quotes the words"):
        redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "Dave", "it names dave")
    with pytest.raises(Invalid, match="quotes the words"):
        hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, f"abusive: {NAMING}")
    assert read_log(session, SYSTEM, action="hide comment").empty


def test_the_audit_log_holds_the_reason_never_the_comment(session: Session) -> None:
    s = _cycle(session)
    fran = _facilitator(s.council_id)
    ref = _ref(session, fran, s, NAMING)
    redact_comment(session, fran, s.cycle_id, s.pairing_id, ref, "Dave Smith", "names staff")
    hide_comment(session, fran, s.cycle_id, s.pairing_id, ref, "abusive on reflection")
    restore_comment(session, fran, s.cycle_id, s.pairing_id, ref)
    session.commit()
    log = read_log(session, SYSTEM, council_id=s.council_id)
    mine = log[log["action"].isin(["hide comment", "redact comment", "restore comment"])]
    assert sorted(mine["action"]) == ["hide comment", "redact comment", "restore comment"]
    assert set(mine["actor"]) == {"fran@example.org"}
    everything = mine.to_json()
    assert "names staff" in everything and "abusive on reflection" in everything
    for words in ("Dave", "Smith", "finance", "shouts", ref):
        assert words not in everything


def test_refused_after_publication_until_withdrawn(session: Session) -> None:
    s = _cycle(session)
    ref = _ref(session, SYSTEM, s, NAMING)
    hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "names staff")
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    for act in (
        lambda: comments_to_moderate(session, SYSTEM, s.cycle_id, s.pairing_id),
        lambda: hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "x y"),
        lambda: redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "Dave", "x y"),
        lambda: restore_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref),
    ):
        with pytest.raises(Invalid, match="withdraw the publication first"):
            act()
    # The edition holds the moderated text only, nowhere the words taken out.
    stored = json.dumps(
        [r.content for r in session.exec(select(PublishedReport)).all()]
        + [[r.content, r.private] for r in session.exec(select(PublishedPairingReport)).all()]
    )
    assert NAMING not in stored and "Clear and fair" in stored
    # Withdraw, restore, publish again: the new edition has it back.
    set_cycle_status(session, SYSTEM, s.cycle_id, "closed")
    restore_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "agreed to keep it")
    set_cycle_status(session, SYSTEM, s.cycle_id, "published")
    session.commit()
    principal = Actor(username="leader", role="principal", person_id=s.member_id)
    assert NAMING in _comments(session, principal, s)


def test_only_comments_a_staff_read_shows_can_be_moderated(session: Session) -> None:
    s = _cycle(session)
    fran = _facilitator(s.council_id)
    listed = comments_to_moderate(session, fran, s.cycle_id, s.pairing_id)
    texts = [c.text for c in listed]
    assert NAMING in texts and "Member says listen more" in texts
    assert SUPPRESSED not in texts and "Another partner" not in texts
    with pytest.raises(NotFound, match="No comment shown"):
        hide_comment(session, fran, s.cycle_id, s.pairing_id, "0123456789", "a reason")
    # A principal, or a facilitator of another council, may not moderate.
    for outsider in (
        Actor(username="leader", role="principal", person_id=s.member_id),
        Actor(username="other", role="facilitator", council_ids=frozenset({s.council_id + 99})),
    ):
        with pytest.raises(PermissionDenied):
            comments_to_moderate(session, outsider, s.cycle_id, s.pairing_id)
        with pytest.raises(PermissionDenied):
            hide_comment(session, outsider, s.cycle_id, s.pairing_id, listed[0].ref, "a reason")


def test_identical_words_in_a_suppressed_group_are_left_alone(session: Session) -> None:
    """The same words from a shown and a suppressed group: moderation touches only the
    shown group's response (the suppressed one is out of sight, and stays out of reach)."""
    from feedback.models import CommentModeration

    s = small_cycle(session, threshold=3)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 4)
    for text in ("Same words", "b", "c"):
        add_rater(session, s, "officers", 4, comments={"advice": text})
    add_rater(session, s, "partners", 4, comments={"advice": "Same words"})
    session.commit()
    ref = _ref(session, SYSTEM, s, "Same words")
    hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "a test reason")
    session.commit()
    rows = session.exec(select(CommentModeration)).all()
    assert len(rows) == 1


def test_the_pairs_own_comments_can_be_moderated_too(session: Session) -> None:
    s = _cycle(session)
    ref = _ref(session, SYSTEM, s, "Member says listen more")
    hide_comment(session, SYSTEM, s.cycle_id, s.pairing_id, ref, "off topic")
    session.commit()
    assert "Member says listen more" not in _comments(session, SYSTEM, s)


def test_a_cycle_still_open_is_refused(session: Session) -> None:
    s = _cycle(session)
    set_cycle_status(session, SYSTEM, s.cycle_id, "open")
    with pytest.raises(Invalid, match="close it"):
        comments_to_moderate(session, SYSTEM, s.cycle_id, s.pairing_id)


def test_open_answers_are_moderated_like_comments(session: Session) -> None:
    s = small_cycle(session, threshold=3, framework=FRAMEWORK_2026_2)
    add_rater(session, s, "member", 4)
    add_rater(session, s, "officer", 4)
    for text in ("Keep naming Jo Bloggs", "Candid advice", "budget grip"):
        add_rater(session, s, "officers", 4, open_answers={"open.officer.keep": text})
    session.commit()
    listed = comments_to_moderate(session, SYSTEM, s.cycle_id, s.pairing_id)
    one = next(c for c in listed if c.text == "Keep naming Jo Bloggs")
    assert one.part == "open:open.officer.keep" and one.heading.endswith("keep doing?")
    redact_comment(session, SYSTEM, s.cycle_id, s.pairing_id, one.ref, "Jo Bloggs", "a name")
    session.commit()
    report = read_pairing_report(session, SYSTEM, s.cycle_id, s.pairing_id)
    keep = next(q for q in report.open_answers if q["code"] == "open.officer.keep")
    assert keep["answers"] == ["budget grip", "Candid advice", f"Keep naming {MARKER}"]
    assert "Keep naming Jo Bloggs" in session.exec(select(OpenAnswer.text)).all()
